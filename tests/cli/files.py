#!/usr/bin/python3
# files.py — file transfer between two `sotto-cli run` processes over real
# TCP on loopback, as app/core/PROTOCOL.md ("Files") and README ("Files",
# the sotto-cli commands) say: sizes around the chunk and window edges, offers that wait
# for the user, a 200 MiB file with chat passing it, runners killed with
# SIGKILL in the middle, cancel and decline from either side, the policy
# keys, a queued offer, hostile names and programs.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: files.py [TEST...]   (SOTTO_CLI names the sotto-cli binary;
# SOTTO_FILES_TIMEOUT the seconds to wait for an event, SOTTO_FILES_LONG
# those for a 200 MiB transfer to end). Prints TAP.
#
# Each peer has a home, XDG folders and GSettings key file of its own
# (GSETTINGS_BACKEND=keyfile under its own XDG_CONFIG_HOME), so that one
# peer can run with settings the other does not have. Every peer's virus
# scanner is `true` (clean, at once): ClamAV loading its signatures would
# take longer than the transfers; /files/infected uses the real clamscan.

import hashlib
import json
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import unicodedata

# peers.py's runner and helpers; no bytecode left in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

from peers import CLI, Failure, Skip, free_port  # noqa: E402,F401

TIMEOUT = float(os.environ.get('SOTTO_FILES_TIMEOUT', '60'))
LONG = float(os.environ.get('SOTTO_FILES_LONG', '300'))

KiB = 1 << 10
MiB = 1 << 20
BIG_SIZE = 200 * MiB
# What the cancel tests stop: large, but not another 200 MiB to make.
LARGE_SIZE = 64 * MiB
# SOTTO_FILE_CHUNK_MAX and SOTTO_FILE_WINDOW.
CHUNK_MAX = 61440
WINDOW = 4 * MiB
# Where a runner is killed in a 200 MiB transfer: this far in, at least.
KILL_AFTER = 16 * MiB

HEX32 = re.compile(r'[0-9a-f]{32}')
# What ends a transfer other than as hoped, while a test waits for file-done.
ENDED_BADLY = ('file-cancelled', 'file-infected')
# The members of a transfer object (`files --json`, `send-file --json`).
TRANSFER_KEYS = ('id', 'contact', 'direction', 'state', 'reason', 'by', 'name', 'safe_name',
                 'size', 'progress', 'declared_type', 'sniffed_type', 'hash', 'offered', 'path',
                 'scan', 'verdict', 'findings')
# Characters that reverse or isolate text (Unicode bidi controls).
BIDI = set('\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069')


def gvariant_text(value):
    """@value as GVariant text, for `gsettings set`."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace('\\', '\\\\').replace("'", "\\'") + "'"


def as_int(event, key, who='event'):
    """A number of an event or object; `run --json` prints every member as a string."""
    value = event.get(key)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Failure(f'{who}: “{key}” is not a number: {event}')


def about(event, tid):
    return str(event.get('id', '')).lower() == tid


def same(a, b):
    return a == b or (a is not None and b is not None and str(a) == str(b))


def both(*calls):
    """Runs the calls at once (each in a thread of its own); the first failure is raised."""
    errors = []

    def run(call):
        try:
            call()
        except BaseException as e:  # noqa: B902 — handed to the caller
            errors.append(e)

    threads = [threading.Thread(target=run, args=(call,), daemon=True) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


# ---------------------------------------------------------------------------

class World:
    """The throw-away folders of one test; every peer has its own below."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix='sotto-files-')
        self.src = os.path.join(self.root, 'src')
        os.makedirs(self.src)
        self.peers = []

    def cleanup(self):
        # Never leave a peer running.
        for peer in self.peers:
            if peer.proc is not None:
                peer.proc.kill()
                peer.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


class Peer(peers.Peer):
    """peers.py's runner, with folders and settings of its own, and the
    transfers it knows."""

    def __init__(self, world, name, settings=None):
        root = os.path.join(world.root, name.lower())
        env = dict(os.environ)
        for kind in ('DATA', 'CONFIG', 'CACHE', 'STATE'):
            path = os.path.join(root, kind.lower())
            os.makedirs(path)
            env[f'XDG_{kind}_HOME'] = path
        runtime = os.path.join(root, 'runtime')
        os.makedirs(runtime, mode=0o700)
        env['XDG_RUNTIME_DIR'] = runtime
        self.home = os.path.join(root, 'home')
        os.makedirs(self.home)
        env['HOME'] = self.home
        # Settings of this peer alone.
        env['GSETTINGS_BACKEND'] = 'keyfile'
        super().__init__(world, name, env=env)
        self.root = root
        self.pending = []
        self.stderr = []
        # The XDG Download folder (xdg-user-dirs), not ~/Downloads, so that
        # the test sees which one is used; Sotto saves into "Sotto" in it.
        self.xdg_download = os.path.join(self.home, 'Incoming')
        os.makedirs(self.xdg_download)
        with open(os.path.join(env['XDG_CONFIG_HOME'], 'user-dirs.dirs'), 'w') as f:
            f.write(f'XDG_DOWNLOAD_DIR="{self.xdg_download}"\n')
        self.downloads = os.path.join(self.xdg_download, 'Sotto')

        self.set('scan-command', f'{shutil.which("true")} %f')
        for key, value in (settings or {}).items():
            self.set(key, value)

    def set(self, key, value):
        """One setting of this peer (before its processes start)."""
        if key == 'download-folder':
            self.downloads = value
        result = subprocess.run(['gsettings', 'set', 'im.sotto.Sotto', key, gvariant_text(value)],
                                env=self.env, capture_output=True, text=True)
        if result.returncode != 0:
            raise Failure(f'{self.name}: gsettings set {key} {value!r}: {result.stderr.strip()}')

    def cli(self, *args, check=True):
        """A one-shot command (handed to the runner when it runs), with a
        deadline: a hung hand-over fails the test instead of stalling it."""
        cmd = [CLI, '--profile', self.profile, '--passphrase-file', self.passfile, *args]
        try:
            result = subprocess.run(cmd, env=self.env, capture_output=True, text=True,
                                    timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Failure(f'{self.name}: {" ".join(map(repr, args))}: no answer within {TIMEOUT} s')
        if check and result.returncode != 0:
            raise Failure(f'{self.name}: {" ".join(map(repr, args))}: exit {result.returncode}: '
                          f'{result.stderr.strip()} {result.stdout.strip()}')
        return result

    def expect(self, kind, timeout=TIMEOUT, tid=None, fail_on=(), **fields):
        """The first event of this kind (about transfer @tid, with these
        fields), seen or still to come; other events stay pending. An
        event of a kind in @fail_on about @tid fails at once."""
        def ours(event):
            return tid is None or about(event, tid)

        def matches(event):
            return (event['event'] == kind and ours(event) and
                    all(same(event.get(k), v) for k, v in fields.items()))

        def fatal(event):
            if event['event'] in fail_on and ours(event):
                raise Failure(f'{self.name}: waiting for “{kind}” {fields} of {tid}, got {event}')

        for i, event in enumerate(self.pending):
            if matches(event):
                return self.pending.pop(i)
            fatal(event)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure(f'{self.name}: no “{kind}” {fields} of {tid} within {timeout} s; '
                              f'last events: {self.log[-5:]}')
            event = self._receive(left)
            if matches(event):
                return event
            fatal(event)
            self.pending.append(event)

    # -- transfers -------------------------------------------------------

    def transfers(self):
        out = self.cli('files', '--json').stdout
        try:
            data = json.loads(out)
        except ValueError:
            raise Failure(f'{self.name}: files --json printed {out!r}')
        if not isinstance(data, list):
            raise Failure(f'{self.name}: files --json is not an array: {out!r}')
        return data

    def transfer(self, tid):
        found = [t for t in self.transfers() if about(t, tid)]
        if len(found) != 1:
            raise Failure(f'{self.name}: files --json has {len(found)} transfers {tid}: '
                          f'{self.transfers()}')
        return found[0]

    def wait_transfer(self, tid, timeout=TIMEOUT, **fields):
        """Polls `files --json` until transfer @tid has these fields."""
        deadline = time.monotonic() + timeout
        while True:
            t = self.transfer(tid)
            if all(same(t.get(k), v) for k, v in fields.items()):
                return t
            if time.monotonic() > deadline:
                raise Failure(f'{self.name}: transfer {tid} did not get {fields} within '
                              f'{timeout} s: {t}')
            time.sleep(0.2)

    def progress_events(self, tid, since=0):
        return [e for e in self.log[since:] if e['event'] == 'file-progress' and about(e, tid)]

    def folder_entries(self):
        """What is in the download folder (nothing when it does not exist)."""
        try:
            return sorted(os.listdir(self.downloads))
        except FileNotFoundError:
            return []


def pair(world, alice_settings=None, bob_settings=None):
    """Alice and Bob, each the other's contact; made side by side (Argon2id is slow)."""
    alice = Peer(world, 'Alice', alice_settings)
    bob = Peer(world, 'Bob', bob_settings)
    both(alice.init, bob.init)
    both(lambda: alice.add(bob), lambda: bob.add(alice))
    return alice, bob


def start_pair(alice, bob):
    both(alice.start, bob.start)
    alice.expect('connected', contact='Bob')
    bob.expect('connected', contact='Alice')


# ---------------------------------------------------------------------------

class Source:
    """A file to send, and its hashes."""

    def __init__(self, path, data=None):
        self.path = path
        self.name = os.path.basename(path)
        sha, b2, size = hashlib.sha256(), hashlib.blake2b(), 0
        if data is None:
            with open(path, 'rb') as f:
                for block in iter(lambda: f.read(MiB), b''):
                    sha.update(block)
                    b2.update(block)
                    size += len(block)
        else:
            sha.update(data)
            b2.update(data)
            size = len(data)
        self.size = size
        self.sha256 = sha.hexdigest()
        # The offer's hash: BLAKE2b-512, unkeyed.
        self.blake2b = b2.hexdigest()


def random_content(size):
    """Random bytes that no magic number matches: never judged a program
    (a random "MZ" or "#!" at the start would be)."""
    if size == 0:
        return b''
    data = bytearray(os.urandom(size))
    if size == 1:
        data[0] = random.randrange(0x21, 0x7f)
    else:
        data[0] = 0
    return bytes(data)


def make_source(world, name, data, mode=0o644, subdir=None):
    folder = world.src if subdir is None else os.path.join(world.src, subdir)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    with open(path, 'wb') as f:
        f.write(data)
    os.chmod(path, mode)
    return Source(path, data)


SHARED = None      # a folder of this run, for the large files
_made = {}


def shared_source(size):
    """A file of @size bytes, made once and sent by several tests (never
    changed): random 1 MiB blocks, a plain header."""
    if size not in _made:
        path = os.path.join(SHARED, f'large-{size // MiB}MiB.bin')
        with open(path, 'wb') as f:
            for i in range(size // MiB):
                block = bytearray(os.urandom(MiB))
                if i == 0:
                    block[:16] = b'\0sotto files.py\0'
                f.write(block)
        _made[size] = Source(path)
    return _made[size]


def big_source():
    return shared_source(BIG_SIZE)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(MiB), b''):
            h.update(block)
    return h.hexdigest()


def send_file(peer, contact, source, *extra):
    """`send-file --json` (handed to the peer's runner when it runs): the transfer object."""
    result = peer.cli('send-file', contact, source.path, '--json', *extra)
    try:
        obj = json.loads(result.stdout)
    except ValueError:
        raise Failure(f'{peer.name}: send-file --json printed {result.stdout!r}')
    if not isinstance(obj, dict) or not HEX32.fullmatch(str(obj.get('id', '')).lower()):
        raise Failure(f'{peer.name}: send-file --json: no transfer object with an id: {obj}')
    obj['id'] = obj['id'].lower()
    check_fields(obj, f'{peer.name}: send-file --json', direction='out', size=source.size)
    return obj


def accept(peer, tid, given=None):
    result = peer.cli('accept-file', given or tid)
    if result.stdout != f'accepted: {tid}\n':
        raise Failure(f'{peer.name}: accept-file {given or tid} printed {result.stdout!r}')


def check_fields(obj, who, **expected):
    wrong = {k: obj.get(k) for k, v in expected.items() if not same(obj.get(k), v)}
    if wrong:
        raise Failure(f'{who}: {wrong} where {expected} was expected: {obj}')


def check_transfer_keys(obj, who):
    missing = [k for k in TRANSFER_KEYS if k not in obj]
    if missing:
        raise Failure(f'{who}: the transfer object lacks {missing}: {obj}')


def check_saved(peer, path, source, folder=None):
    """@path is @source, saved directly in the peer's download folder, mode 0600."""
    folder = folder or peer.downloads
    if not path or not os.path.isabs(path):
        raise Failure(f'{peer.name}: {source.name!r} saved at {path!r}: not an absolute path')
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise Failure(f'{peer.name}: {source.name!r}: {path!r} does not exist')
    if not stat.S_ISREG(st.st_mode):
        raise Failure(f'{peer.name}: {path!r} is not a regular file (mode {st.st_mode:o})')
    if os.path.realpath(os.path.dirname(path)) != os.path.realpath(folder):
        raise Failure(f'{peer.name}: {source.name!r} saved as {path!r}, not directly in the '
                      f'download folder {folder!r}')
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o111 or mode != 0o600:
        raise Failure(f'{peer.name}: {path!r} has mode {mode:04o}, not 0600')
    if st.st_size != source.size:
        raise Failure(f'{peer.name}: {path!r} has {st.st_size} bytes, {source.name!r} {source.size}')
    if sha256_file(path) != source.sha256:
        raise Failure(f'{peer.name}: {path!r} is not {source.name!r}: the contents differ')


def no_part_files(peer):
    parts = [n for n in peer.folder_entries() if n.endswith('.part')]
    if parts:
        raise Failure(f'{peer.name}: .part files left in {peer.downloads}: {parts}')


def wait_part(bob, tid, at_least):
    """Until Bob's .part of @tid holds at least @at_least bytes, looking
    every millisecond: a loopback transfer is far faster than the one
    file-progress a second that `run` prints. Returns that size."""
    suffix = f'.{tid[:8]}.part'
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        for name in bob.folder_entries():
            if name.endswith(suffix):
                try:
                    size = os.stat(os.path.join(bob.downloads, name)).st_size
                except FileNotFoundError:
                    continue
                if size >= at_least:
                    return size
        event = bob.poll(0.001)
        if event is not None and about(event, tid) and \
                event['event'] in ('file-done', 'file-cancelled', 'file-infected'):
            raise Failure(f'{bob.name}: the transfer was over before the test could act: {event}')
    raise Failure(f'{bob.name}: its .part of {tid} never held {at_least} bytes')


def monotonic_bytes(events, who):
    seen = [as_int(e, 'bytes') for e in events]
    if seen != sorted(seen):
        raise Failure(f'{who}: progress went backwards: {seen}')
    return seen


def offer_and_accept(alice, bob, source):
    """Alice offers @source, Bob sees the offer and accepts: (transfer id, offer, accept time)."""
    tid = send_file(alice, 'Bob', source)['id']
    offer = bob.expect('file-offer', tid=tid)
    check_fields(offer, 'Bob: file-offer', contact='Alice', name=source.name, size=source.size)
    accepted_at = time.monotonic()
    accept(bob, tid)
    return tid, offer, accepted_at


def finish(alice, bob, tid, source, timeout=LONG):
    """Both see file-done; Bob's copy is @source; both say done. Returns Bob's file-done."""
    done = bob.expect('file-done', tid=tid, timeout=timeout, fail_on=ENDED_BADLY)
    check_fields(done, 'Bob: file-done', contact='Alice', direction='in')
    sent = alice.expect('file-done', tid=tid, timeout=TIMEOUT, fail_on=ENDED_BADLY)
    check_fields(sent, 'Alice: file-done', contact='Bob', direction='out')
    check_saved(bob, done.get('path'), source)
    check_fields(bob.transfer(tid), 'Bob: files --json', state='done', progress=source.size,
                 path=done.get('path'))
    check_fields(alice.transfer(tid), 'Alice: files --json', state='done', progress=source.size)
    return done


# ---------------------------------------------------------------------------

def test_sizes(world):
    """Empty, one byte, around a chunk (61440 B), 64 KiB and the window: all
    arrive whole, mode 0600, in Bob's download folder."""
    alice, bob = pair(world)
    start_pair(alice, bob)
    sizes = (0, 1, CHUNK_MAX, CHUNK_MAX + 1, 65535, 65536, 65537, WINDOW + 1)
    sources = {}
    for size in sizes:
        source = make_source(world, f'size-{size}.bin', random_content(size))
        obj = send_file(alice, 'Bob', source)
        check_fields(obj, 'Alice: send-file --json', name=source.name, contact='Bob')
        sources[obj['id']] = source

    for tid, source in sources.items():
        offer = bob.expect('file-offer', tid=tid)
        check_fields(offer, 'Bob: file-offer', contact='Alice', name=source.name, size=source.size,
                     safe_name=source.name)
    for tid in sources:
        accept(bob, tid)
    saved = {}
    for tid, source in sources.items():
        done = bob.expect('file-done', tid=tid, fail_on=ENDED_BADLY)
        check_fields(done, 'Bob: file-done', contact='Alice', direction='in', scan='clean')
        saved[tid] = done.get('path')
        check_fields(alice.expect('file-done', tid=tid, fail_on=ENDED_BADLY), 'Alice: file-done',
                     contact='Bob', direction='out')
        check_saved(bob, done.get('path'), source)
        if source.size > 0:
            alice_accepted = [e for e in alice.log
                              if e['event'] == 'file-accepted' and about(e, tid)]
            if not alice_accepted:
                raise Failure(f'Alice: no file-accepted for {source.name} ({tid})')

    for tid, source in sources.items():
        out = alice.transfer(tid)
        check_transfer_keys(out, 'Alice: files --json')
        check_fields(out, f'Alice: files --json, {source.name}', direction='out', state='done',
                     contact='Bob', name=source.name, size=source.size, progress=source.size,
                     hash=source.blake2b, reason=None, by=None)
        if os.path.realpath(out.get('path') or '') != os.path.realpath(source.path):
            raise Failure(f'Alice: the path of an outgoing transfer is its source: {out}')
        inn = bob.transfer(tid)
        check_transfer_keys(inn, 'Bob: files --json')
        check_fields(inn, f'Bob: files --json, {source.name}', direction='in', state='done',
                     contact='Alice', name=source.name, safe_name=source.name, size=source.size,
                     progress=source.size, hash=source.blake2b, path=saved[tid], scan='clean',
                     reason=None, by=None)

    empty = [tid for tid, s in sources.items() if s.size == 0][0]
    for peer in (alice, bob):
        if peer.progress_events(empty):
            raise Failure(f'{peer.name}: file-progress for an empty file: '
                          f'{peer.progress_events(empty)}')
    mode = stat.S_IMODE(os.stat(bob.downloads).st_mode)
    if mode != 0o700:
        raise Failure(f'Bob: the download folder has mode {mode:04o}, not 0700')
    names = bob.folder_entries()
    if names != sorted(s.name for s in sources.values()):
        raise Failure(f'Bob: the download folder holds {names}')
    alice.stop()
    bob.stop()


def test_never_auto_accepted(world):
    """An offer waits for the user: nothing flows, nothing is written."""
    alice, bob = pair(world)
    start_pair(alice, bob)
    source = make_source(world, 'waiting.bin', random_content(200 * KiB))
    tid = send_file(alice, 'Bob', source)['id']
    offer = bob.expect('file-offer', tid=tid)
    check_fields(offer, 'Bob: file-offer', contact='Alice', name=source.name, size=source.size)
    alice.wait_transfer(tid, state='offered')

    busy = ('file-accepted', 'file-progress', 'file-done', 'file-cancelled')
    alice.quiet_for(3.0, busy)
    bob.quiet_for(0.2, busy)   # its events of those 3 s are queued: looked at now
    check_fields(bob.transfer(tid), 'Bob: files --json', direction='in', state='offered',
                 progress=0, path=None)
    check_fields(alice.transfer(tid), 'Alice: files --json', direction='out', state='offered',
                 progress=0)
    if bob.folder_entries():
        raise Failure(f'Bob: written before he accepted: {bob.folder_entries()}')
    alice.stop()
    bob.stop()


def test_large_and_chat(world):
    """200 MiB; a message sent meanwhile arrives within a second."""
    big = big_source()
    alice, bob = pair(world)
    start_pair(alice, bob)
    tid, offer, accepted_at = offer_and_accept(alice, bob, big)
    alice.expect('file-accepted', tid=tid, contact='Bob')
    wait_part(bob, tid, 1)

    # On loopback the file takes about a second: one message while it
    # flows, then two more 0.2 s apart, whichever still meet it.
    latencies = []
    for i in range(3):
        body = f'while the file flows {i}'
        sent_at = time.monotonic()
        alice.say(f'send Bob {body}')
        message = bob.expect('message', contact='Alice', body=body, timeout=TIMEOUT)
        latencies.append((message['_t'] - sent_at, message['_t']))
        time.sleep(0.2)

    done = finish(alice, bob, tid, big)
    elapsed = done['_t'] - accepted_at
    print(f'# 200 MiB in {elapsed:.1f} s (accept to file-done at the receiver): '
          f'{BIG_SIZE / elapsed / 1e6:.1f} MB/s')
    during = [lat for lat, at in latencies if at < done['_t']]
    after = [lat for lat, at in latencies if at >= done['_t']]
    print('# message latency while the file flows: '
          + (', '.join(f'{lat * 1000:.0f} ms' for lat in during) or 'none measured')
          + (f'; after it ended: {", ".join(f"{lat * 1000:.0f} ms" for lat in after)}'
             if after else ''))
    if not during:
        print('# (the transfer ended before the first message arrived: the latency was not '
              'measured under load)')
    slow = [lat for lat, _ in latencies if lat >= 1.0]
    if slow:
        raise Failure(f'a message took {max(slow):.2f} s to pass the file (must be < 1 s)')

    # Progress: both directions told, in order, at most about once a second.
    for peer, direction in ((bob, 'in'), (alice, 'out')):
        events = peer.progress_events(tid)
        if not events:
            raise Failure(f'{peer.name}: no file-progress for a 200 MiB transfer')
        for e in events:
            check_fields(e, f'{peer.name}: file-progress', direction=direction, size=BIG_SIZE)
        seen = monotonic_bytes(events, peer.name)
        if seen[0] < 0 or seen[-1] > BIG_SIZE:
            raise Failure(f'{peer.name}: progress out of range: {seen}')
        span = events[-1]['_t'] - events[0]['_t']
        if len(events) - 1 > span + 1.5:
            raise Failure(f'{peer.name}: {len(events)} file-progress events in {span:.1f} s '
                          f'(at most one a second)')
    no_part_files(bob)
    alice.stop()
    bob.stop()


class PartWatch:
    """Samples the size of a transfer's .part file every few milliseconds."""

    def __init__(self, folder, tid):
        self.folder = folder
        self.suffix = f'.{tid[:8]}.part'
        self.smallest = None
        self.samples = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping.is_set():
            try:
                names = os.listdir(self.folder)
            except OSError:
                names = []
            for name in names:
                if name.endswith(self.suffix):
                    try:
                        size = os.stat(os.path.join(self.folder, name)).st_size
                    except OSError:
                        continue
                    self.samples += 1
                    self.smallest = size if self.smallest is None else min(self.smallest, size)
            self.stopping.wait(0.003)

    def stop(self):
        self.stopping.set()
        self.thread.join()


def test_killed_receiver(world):
    """Bob's runner killed with SIGKILL in a 200 MiB transfer: started
    again, it goes on from its .part, and the file arrives whole."""
    big = big_source()
    alice, bob = pair(world)
    start_pair(alice, bob)
    tid, offer, _ = offer_and_accept(alice, bob, big)
    at_kill = wait_part(bob, tid, KILL_AFTER)
    bob.kill()

    parts = [n for n in bob.folder_entries() if n.endswith('.part')]
    expected = f'{offer.get("safe_name")}.{tid[:8]}.part'
    if parts != [expected]:
        raise Failure(f'Bob, killed: the download folder holds {bob.folder_entries()}, '
                      f'not {expected!r}')
    st = os.lstat(os.path.join(bob.downloads, expected))
    if stat.S_IMODE(st.st_mode) != 0o600 or not stat.S_ISREG(st.st_mode):
        raise Failure(f'Bob: {expected} has mode {st.st_mode:o}, not a regular file of mode 0600')
    held = st.st_size
    # It resumes from what its .part holds (less a last chunk or a window
    # it may not trust): never from 0.
    floor = max(1, min(held, at_kill) - WINDOW)

    watch = PartWatch(bob.downloads, tid)
    mark = len(bob.log)
    try:
        bob.start()
        finish(alice, bob, tid, big)
    finally:
        watch.stop()
    resumed = monotonic_bytes(bob.progress_events(tid, mark), 'Bob after the restart')
    print(f'# Bob killed after {at_kill / MiB:.1f} MiB, .part {held / MiB:.1f} MiB; after the '
          f'restart, progress from '
          + (f'{resumed[0] / MiB:.1f} MiB' if resumed else '(no file-progress before done)')
          + (f', .part never below {watch.smallest / MiB:.1f} MiB ({watch.samples} looks)'
             if watch.smallest is not None else ''))
    if resumed and resumed[0] < floor:
        raise Failure(f'Bob started again from {resumed[0]} bytes, not from about {held}: '
                      f'restarted, not resumed')
    if watch.smallest is not None and watch.smallest < floor:
        raise Failure(f'Bob’s .part shrank to {watch.smallest} bytes after the restart '
                      f'(it held {held}): restarted, not resumed')
    if not resumed and watch.smallest is None:
        raise Failure('neither a file-progress nor the .part was seen after the restart: '
                      'can’t tell that it resumed')
    no_part_files(bob)
    alice.stop()
    bob.stop()


def test_killed_sender(world):
    """Alice's runner killed with SIGKILL in a 200 MiB transfer: started
    again, it sends from where Bob is, and the file arrives whole."""
    big = big_source()
    alice, bob = pair(world)
    start_pair(alice, bob)
    tid, offer, _ = offer_and_accept(alice, bob, big)
    at_kill = wait_part(bob, tid, KILL_AFTER)
    alice.kill()
    mark = len(alice.log)
    alice.start()
    finish(alice, bob, tid, big)

    # Bob ran throughout: what he held never went back.
    held = monotonic_bytes(bob.progress_events(tid), 'Bob')
    resumed = monotonic_bytes(alice.progress_events(tid, mark), 'Alice after the restart')
    print(f'# Alice killed when Bob held {at_kill / MiB:.1f} MiB; after her restart, '
          f'progress from ' + (f'{resumed[0] / MiB:.1f} MiB' if resumed
                               else '(no file-progress before done)'))
    if resumed and resumed[0] < at_kill:
        raise Failure(f'Alice started again from {resumed[0]} bytes, Bob held {at_kill}: '
                      f'restarted, not resumed')
    if held[-1] > BIG_SIZE:
        raise Failure(f'Bob: progress beyond the size: {held}')
    no_part_files(bob)
    alice.stop()
    bob.stop()


def wait_flowing(bob, tid):
    """Until Bob's .part of @tid holds bytes, or he tells of progress; the
    transfer not over. Returns the .part's name, or None."""
    suffix = f'.{tid[:8]}.part'
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        for name in bob.folder_entries():
            if name.endswith(suffix):
                try:
                    if os.stat(os.path.join(bob.downloads, name)).st_size > 0:
                        return name
                except FileNotFoundError:
                    pass
        event = bob.poll(0.005)
        if event is None or not about(event, tid):
            continue
        if event['event'] in ('file-done', 'file-cancelled', 'file-infected'):
            raise Failure(f'Bob: the transfer was over before the test could act: {event}')
        if event['event'] == 'file-progress' and as_int(event, 'bytes') < as_int(event, 'size'):
            return None
    raise Failure(f'Bob: no bytes of {tid} within {TIMEOUT} s; in the folder: '
                  f'{bob.folder_entries()}; last events: {bob.log[-5:]}')


def cancel_test(world, by_sender):
    large = shared_source(LARGE_SIZE)
    alice, bob = pair(world)
    start_pair(alice, bob)
    tid, offer, _ = offer_and_accept(alice, bob, large)
    part = wait_flowing(bob, tid)
    print('# cancelled once Bob ' + (f'had bytes in {part!r}' if part else 'told of progress'))
    canceller, other = (alice, bob) if by_sender else (bob, alice)

    result = canceller.cli('cancel-file', tid)
    if result.stdout != f'cancelled: {tid}\n':
        raise Failure(f'{canceller.name}: cancel-file printed {result.stdout!r}')
    told = other.expect('file-cancelled', tid=tid, fail_on=('file-done',))
    check_fields(told, f'{other.name}: file-cancelled', reason='cancelled', by='contact',
                 contact=canceller.name, direction='in' if other is bob else 'out')
    check_fields(other.wait_transfer(tid, state='cancelled'), f'{other.name}: files --json',
                 reason='cancelled', by='contact')
    check_fields(canceller.wait_transfer(tid, state='cancelled'), f'{canceller.name}: files --json',
                 reason='cancelled', by='you')
    # Its own file-cancelled, if it tells of it, says "you".
    canceller.quiet_for(0.5, ('file-done',))
    for e in canceller.log:
        if e['event'] == 'file-cancelled' and about(e, tid):
            check_fields(e, f'{canceller.name}: file-cancelled', reason='cancelled', by='you')

    # The receiver's .part goes; nothing of the file is left.
    deadline = time.monotonic() + TIMEOUT
    while bob.folder_entries():
        if time.monotonic() > deadline:
            raise Failure(f'Bob: left in the download folder after the cancel: '
                          f'{bob.folder_entries()}')
        time.sleep(0.1)

    again = canceller.cli('cancel-file', tid, check=False)
    if again.returncode != 1 or 'already ended' not in again.stderr:
        raise Failure(f'{canceller.name}: a second cancel-file: exit {again.returncode} '
                      f'{again.stderr!r}')
    alice.stop()
    bob.stop()


def test_cancel_by_sender(world):
    """Alice stops a transfer under way: both say cancelled, Bob's .part goes."""
    cancel_test(world, by_sender=True)


def test_cancel_by_receiver(world):
    """Bob stops a transfer under way: both say cancelled, his .part goes."""
    cancel_test(world, by_sender=False)


EICAR = (r'X5O!P%@AP[4\PZX54(P^)7CC)7}$' + r'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*').encode()


def eicar_scanner(world, eicar_path):
    """scan-command for the real clamscan with a database of one signature,
    EICAR's, made by sigtool (nothing downloaded)."""
    clamscan = shutil.which('clamscan')
    if clamscan is None or shutil.which('sigtool') is None:
        raise Failure('clamscan or sigtool is not installed (build-aux/sotto-dev installs clamav)')
    db = os.path.join(world.root, 'clamdb')
    os.makedirs(db, exist_ok=True)
    signature = subprocess.run(['sigtool', '--md5', os.path.basename(eicar_path)],
                               capture_output=True, text=True, check=True,
                               cwd=os.path.dirname(eicar_path)).stdout
    md5, size = signature.strip().split(':')[:2]
    with open(os.path.join(db, 'test.hdb'), 'w') as f:
        f.write(f'{md5}:{size}:Eicar-Test-Signature\n')
    return f'{clamscan} --no-summary --stdout --database={db} %f'


def test_infected(world):
    """EICAR, sent as "invoice.pdf": Bob's real scanner catches it once it
    is complete; it never leaves quarantine, and Alice is told."""
    source = make_source(world, 'invoice.pdf', EICAR)
    alice, bob = pair(world, bob_settings={'scan-command': eicar_scanner(world, source.path)})
    start_pair(alice, bob)
    tid = send_file(alice, 'Bob', source)['id']
    bob.expect('file-offer', tid=tid)
    accept(bob, tid)
    bob.expect('file-infected', tid=tid, timeout=LONG, fail_on=('file-done', 'file-cancelled'))
    told = alice.expect('file-infected', tid=tid, timeout=TIMEOUT,
                        fail_on=('file-done', 'file-cancelled'))
    check_fields(told, 'Alice: file-infected', direction='out', contact='Bob')
    check_fields(bob.transfer(tid), 'Bob: files --json', state='infected', path=None)
    check_fields(alice.wait_transfer(tid, state='infected'), 'Alice: files --json')
    if bob.folder_entries():
        raise Failure(f'Bob: the infected file is still in the folder: {bob.folder_entries()}')
    # A clean file through the same scanner arrives, scanned clean.
    clean = make_source(world, 'notes.txt', b'Minutes of Monday\'s meeting.\n')
    tid = send_file(alice, 'Bob', clean)['id']
    bob.expect('file-offer', tid=tid)
    accept(bob, tid)
    done = bob.expect('file-done', tid=tid, timeout=LONG, fail_on=ENDED_BADLY)
    check_fields(done, 'Bob: file-done', scan='clean')
    alice.stop()
    bob.stop()


def test_decline(world):
    """Bob says no: Alice is told "declined"."""
    alice, bob = pair(world)
    start_pair(alice, bob)
    source = make_source(world, 'unwanted.bin', random_content(10 * KiB))
    tid = send_file(alice, 'Bob', source)['id']
    bob.expect('file-offer', tid=tid)
    result = bob.cli('decline-file', tid)
    if result.stdout != f'declined: {tid}\n':
        raise Failure(f'Bob: decline-file printed {result.stdout!r}')
    told = alice.expect('file-cancelled', tid=tid, fail_on=('file-accepted', 'file-done'))
    check_fields(told, 'Alice: file-cancelled', reason='declined', by='contact', contact='Bob',
                 direction='out')
    check_fields(alice.wait_transfer(tid, state='cancelled'), 'Alice: files --json',
                 reason='declined', by='contact')
    check_fields(bob.transfer(tid), 'Bob: files --json', state='cancelled', reason='declined',
                 by='you')
    late = bob.cli('accept-file', tid, check=False)
    if late.returncode != 1 or 'already ended' not in late.stderr:
        raise Failure(f'Bob: accept-file after declining: exit {late.returncode} {late.stderr!r}')
    if bob.folder_entries():
        raise Failure(f'Bob: written though declined: {bob.folder_entries()}')
    alice.stop()
    bob.stop()


def test_policy_receiver(world):
    """Bob's administrator turned file transfer off: Alice's offer is refused, "not-allowed"."""
    alice, bob = pair(world, bob_settings={'file-transfer-enabled': False})
    start_pair(alice, bob)
    source = make_source(world, 'forbidden.bin', random_content(10 * KiB))
    tid = send_file(alice, 'Bob', source)['id']
    told = alice.expect('file-cancelled', tid=tid, fail_on=('file-accepted', 'file-done'))
    check_fields(told, 'Alice: file-cancelled', reason='not-allowed', by='contact', contact='Bob')
    check_fields(alice.wait_transfer(tid, state='cancelled'), 'Alice: files --json',
                 reason='not-allowed', by='contact')
    bob.quiet_for(0.5, ('file-progress', 'file-done'))
    if bob.folder_entries():
        raise Failure(f'Bob: written though forbidden: {bob.folder_entries()}')
    alice.stop()
    bob.stop()


def test_policy_sender(world):
    """Alice's administrator turned file transfer off: send-file refuses, nothing queued."""
    alice, bob = pair(world, alice_settings={'file-transfer-enabled': False})
    start_pair(alice, bob)
    source = make_source(world, 'forbidden.bin', random_content(10 * KiB))
    result = alice.cli('send-file', 'Bob', source.path, check=False)
    if result.returncode != 1 or not result.stderr.strip():
        raise Failure(f'Alice: send-file with file transfer off: exit {result.returncode}, '
                      f'stdout {result.stdout!r}, stderr {result.stderr!r}')
    print(f'# send-file with file transfer off: {result.stderr.strip()!r}')
    if alice.transfers():
        raise Failure(f'Alice: queued though refused: {alice.transfers()}')
    bob.quiet_for(1.5, ('file-offer',))
    alice.stop()
    bob.stop()


def test_too_large(world):
    """file-max-size on either side: 1001 bytes refused, 1000 pass."""
    alice, bob = pair(world, bob_settings={'file-max-size': 1000})
    start_pair(alice, bob)
    over = make_source(world, 'over.bin', random_content(1001))
    at = make_source(world, 'at-limit.bin', random_content(1000))

    # Bob's limit: Alice may offer, Bob refuses.
    tid = send_file(alice, 'Bob', over)['id']
    told = alice.expect('file-cancelled', tid=tid, fail_on=('file-accepted', 'file-done'))
    check_fields(told, 'Alice: file-cancelled', reason='too-large', by='contact', contact='Bob')
    check_fields(alice.wait_transfer(tid, state='cancelled'), 'Alice: files --json',
                 reason='too-large', by='contact')
    tid, _, _ = offer_and_accept(alice, bob, at)
    finish(alice, bob, tid, at, timeout=TIMEOUT)
    alice.stop()

    # Alice's limit: send-file refuses at once.
    alice.set('file-max-size', 1000)
    alice.start()
    alice.expect('connected', contact='Bob')
    before = len(alice.transfers())
    result = alice.cli('send-file', 'Bob', over.path, check=False)
    if result.returncode != 1 or not result.stderr.strip():
        raise Failure(f'Alice: send-file above file-max-size: exit {result.returncode}, '
                      f'stdout {result.stdout!r}, stderr {result.stderr!r}')
    if len(alice.transfers()) != before:
        raise Failure(f'Alice: queued though above her limit: {alice.transfers()}')
    again = make_source(world, 'at-limit-again.bin', random_content(1000))
    tid = send_file(alice, 'Bob', again)['id']
    bob.expect('file-offer', tid=tid)
    alice.stop()
    bob.stop()


def test_offline_offer(world):
    """Offered while Bob is not running: queued, and offered once he is;
    saved in the download-folder he set."""
    custom = os.path.join(world.root, 'bob-chose-this')
    alice, bob = pair(world, bob_settings={'download-folder': custom})
    alice.start()
    source = make_source(world, 'for-later.bin', random_content(300 * KiB))
    result = alice.cli('send-file', 'Bob', source.path)
    match = re.fullmatch(r'queued: ([0-9a-f]{32})\n', result.stdout)
    if match is None:
        raise Failure(f'Alice: send-file printed {result.stdout!r}')
    tid = match.group(1)
    alice.quiet_for(1.0, ('file-accepted',))
    check_fields(alice.transfer(tid), 'Alice: files --json', state='queued', direction='out')

    bob.start()
    offer = bob.expect('file-offer', tid=tid)
    check_fields(offer, 'Bob: file-offer', contact='Alice', name=source.name, size=source.size)
    alice.wait_transfer(tid, state='offered')
    accept(bob, tid, tid[:6])
    done = finish(alice, bob, tid, source, timeout=TIMEOUT)
    if os.path.realpath(os.path.dirname(done['path'])) != os.path.realpath(custom):
        raise Failure(f'Bob: saved at {done["path"]}, not in his download-folder {custom}')
    alice.stop()
    bob.stop()


# Names a sender may give a file; those with "/" can't be files here and
# are left out ("..", "../../etc/passwd").
HOSTILE = [
    '.bashrc',
    '...',
    '..\\..\\etc\\passwd',
    'invoice\u202efdp.exe',
    'photo\u2067gnp.\u2069.txt',
    'tab\there.txt',
    'line\nbreak.txt',
    'bell\x07\x1b[2J.txt',
    'del\x7f and c1\x85.txt',
    '\u200bzero-width.txt',
    ' .space dot.txt',
    'dots at the end...',
    'con',
]


def saved_name_problems(name):
    problems = []
    if name in ('', '.', '..') or '/' in name:
        problems.append('not a file name of its own')
    if name.startswith('.'):
        problems.append('a leading dot')
    if any(unicodedata.category(c) == 'Cc' for c in name):
        problems.append('control characters')
    if any(c in BIDI for c in name):
        problems.append('bidi controls')
    return problems


def test_names(world):
    """Hostile names: every file saved directly in the download folder,
    under a name that hides nothing; names taken get " (2)", never overwritten."""
    alice, bob = pair(world)
    os.makedirs(bob.downloads, mode=0o700)
    mine = os.path.join(bob.downloads, 'exists.txt')
    with open(mine, 'w') as f:
        f.write('Bob’s own file: not to be overwritten\n')
    os.chmod(mine, 0o600)
    start_pair(alice, bob)
    print('# left out, a file can’t be called so: "..", "../../etc/passwd", "a/b.txt"')

    sources = {}
    entries = [(name, f'n{i:02d}') for i, name in enumerate(HOSTILE)]
    entries += [('same.txt', 'same-1'), ('same.txt', 'same-2'), ('exists.txt', 'exists')]
    for name, subdir in entries:
        data = f'{name!r} {subdir} {os.urandom(8).hex()}\n'.encode()
        source = make_source(world, name, data, subdir=subdir)
        result = alice.cli('send-file', 'Bob', source.path, '--json', check=False)
        if result.returncode == 1 and '--yes' in result.stderr:
            # A program by its name (".exe"): sent anyway, on purpose.
            result = alice.cli('send-file', 'Bob', source.path, '--json', '--yes', check=False)
        if result.returncode != 0:
            raise Failure(f'Alice: send-file {name!r}: exit {result.returncode} {result.stderr!r}')
        tid = json.loads(result.stdout)['id'].lower()
        sources[tid] = source

    for tid, source in sources.items():
        offer = bob.expect('file-offer', tid=tid)
        problems = saved_name_problems(offer.get('safe_name') or '')
        if problems:
            raise Failure(f'Bob: offer of {source.name!r}: safe_name {offer.get("safe_name")!r} '
                          f'has {", ".join(problems)}')
    for tid in sources:
        accept(bob, tid)
    saved = {}
    for tid, source in sources.items():
        done = bob.expect('file-done', tid=tid, fail_on=ENDED_BADLY)
        check_saved(bob, done.get('path'), source)
        saved[tid] = os.path.basename(done['path'])
        problems = saved_name_problems(saved[tid])
        if problems:
            raise Failure(f'Bob: {source.name!r} saved as {saved[tid]!r}: {", ".join(problems)}')
        check_fields(bob.transfer(tid), f'Bob: files --json, {source.name!r}',
                     safe_name=saved[tid], path=done['path'])
        print(f'# {source.name!r} saved as {saved[tid]!r}')

    same = sorted(saved[tid] for tid, s in sources.items() if s.name == 'same.txt')
    if same != ['same (2).txt', 'same.txt']:
        raise Failure(f'Bob: two files called same.txt saved as {same}')
    exists = [saved[tid] for tid, s in sources.items() if s.name == 'exists.txt'][0]
    if exists == 'exists.txt':
        raise Failure('Bob: the received exists.txt took the name of his own file')
    with open(mine) as f:
        if f.read() != 'Bob’s own file: not to be overwritten\n':
            raise Failure('Bob: his own exists.txt was overwritten')
    entries = bob.folder_entries()
    if sorted(entries) != sorted(list(saved.values()) + ['exists.txt']):
        raise Failure(f'Bob: the download folder holds {entries}, not the {len(saved)} files '
                      f'and his own')
    for path in (os.path.join(bob.home, '.bashrc'), os.path.join(bob.xdg_download, 'passwd')):
        if os.path.lexists(path):
            raise Failure(f'Bob: {path} was written')
    alice.stop()
    bob.stop()


def test_program_needs_yes(world):
    """A shell script is sent only with --yes; Bob may only be shown it, and it can't run."""
    alice, bob = pair(world)
    start_pair(alice, bob)
    script = make_source(world, 'setup.sh', b'#!/bin/sh\necho "run me"\n', mode=0o755)

    result = alice.cli('send-file', 'Bob', script.path, check=False)
    if result.returncode != 1 or '--yes' not in result.stderr:
        raise Failure(f'Alice: send-file of a script without --yes: exit {result.returncode}, '
                      f'stdout {result.stdout!r}, stderr {result.stderr!r}')
    print(f'# without --yes: {result.stderr.strip()!r}')
    if alice.transfers():
        raise Failure(f'Alice: queued without --yes: {alice.transfers()}')

    tid = send_file(alice, 'Bob', script, '--yes')['id']
    offer = bob.expect('file-offer', tid=tid)
    check_fields(offer, 'Bob: file-offer', name='setup.sh', verdict='show-only')
    check_fields(bob.transfer(tid), 'Bob: files --json', verdict='show-only')
    accept(bob, tid)
    finish(alice, bob, tid, script, timeout=TIMEOUT)   # mode 0600: no exec bit
    alice.stop()
    bob.stop()


TESTS = {
    'sizes': test_sizes,
    'never-auto-accepted': test_never_auto_accepted,
    'large-and-chat': test_large_and_chat,
    'killed-receiver': test_killed_receiver,
    'killed-sender': test_killed_sender,
    'cancel-by-sender': test_cancel_by_sender,
    'cancel-by-receiver': test_cancel_by_receiver,
    'decline': test_decline,
    'policy-receiver': test_policy_receiver,
    'policy-sender': test_policy_sender,
    'too-large': test_too_large,
    'offline-offer': test_offline_offer,
    'names': test_names,
    'program-needs-yes': test_program_needs_yes,
    'infected': test_infected,
}


def main():
    global SHARED
    names = sys.argv[1:] or list(TESTS)
    unknown = [name for name in names if name not in TESTS]
    if unknown:
        print(f'unknown tests: {unknown}; there are {list(TESTS)}', file=sys.stderr)
        return 2
    print(f'1..{len(names)}')
    SHARED = tempfile.mkdtemp(prefix='sotto-files-shared-')
    failed = 0
    try:
        for number, name in enumerate(names, 1):
            world = World()
            try:
                start = time.monotonic()
                TESTS[name](world)
                print(f'ok {number} /files/{name} # {time.monotonic() - start:.1f} s')
            except Skip as e:
                print(f'ok {number} /files/{name} # SKIP {e}')
            except Exception as e:
                failed += 1
                print(f'not ok {number} /files/{name}')
                text = str(e) if isinstance(e, Failure) else traceback.format_exc()
                for line in text.splitlines():
                    print(f'# {line}')
                for peer in world.peers:
                    print(f'# {peer.name}: last events: {peer.log[-8:]}')
                    for line in peer.stderr[-20:]:
                        print(f'# {peer.name}: stderr: {line.rstrip()}')
            finally:
                world.cleanup()
            sys.stdout.flush()
    finally:
        shutil.rmtree(SHARED, ignore_errors=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
