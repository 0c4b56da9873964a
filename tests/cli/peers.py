#!/usr/bin/python3
# peers.py — two (or three) `sotto-cli run` processes talking over real TCP
# on loopback: bulk exchange, delivery after restarts, contact requests,
# a key that is not the pinned one.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: peers.py [TEST...]   (SOTTO_CLI names the sotto-cli binary)
# Prints TAP.

import hashlib
import json
import os
import queue
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

CLI = os.environ.get('SOTTO_CLI', 'sotto-cli')
TIMEOUT = float(os.environ.get('SOTTO_PEERS_TIMEOUT', '60'))


class Failure(Exception):
    pass


class Skip(Exception):
    pass


def free_port():
    """A port to listen on later, below the kernel's range of ephemeral
    ports: one from that range may meanwhile become the local end of an
    outgoing connection, and listening on it then fails."""
    with open('/proc/sys/net/ipv4/ip_local_port_range') as f:
        low = int(f.read().split()[0])
    for _ in range(1000):
        port = random.randrange(10000, max(low, 10001))
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(('127.0.0.1', port))
            except OSError:
                continue
        return port
    raise Failure('no free port below the ephemeral range')


class World:
    """Throw-away XDG dirs and settings shared by the peers of one test."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix='sotto-peers-')
        self.env = dict(os.environ)
        for name in ('DATA', 'CONFIG', 'CACHE', 'STATE'):
            path = os.path.join(self.root, name.lower())
            os.makedirs(path)
            self.env[f'XDG_{name}_HOME'] = path
        runtime = os.path.join(self.root, 'runtime')
        os.makedirs(runtime, mode=0o700)
        self.env['XDG_RUNTIME_DIR'] = runtime
        self.env['HOME'] = self.root
        # A key file shared by every process of the test, so that a
        # setting changed here holds in the peers.
        self.env['GSETTINGS_BACKEND'] = 'keyfile'
        self.peers = []

    def cleanup(self):
        # Never leave a peer running.
        for peer in self.peers:
            if peer.proc is not None:
                peer.proc.kill()
                peer.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def gsettings(self, *args):
        subprocess.run(['gsettings', *args], env=self.env, check=True)


class Peer:
    def __init__(self, world, name, env=None):
        """env: the environment of this peer's processes (its own folders
        and settings); by default the world's, shared by its peers."""
        self.world = world
        self.env = env if env is not None else world.env
        self.name = name
        self.profile = name.lower()
        self.port = free_port()
        self.passfile = os.path.join(world.root, f'{self.profile}.pass')
        with open(os.open(self.passfile, os.O_WRONLY | os.O_CREAT, 0o600), 'w') as f:
            f.write(f'passphrase of {name}\n')
        self.proc = None
        self.events = None
        self.log = []
        world.peers.append(self)

    def cli(self, *args, check=True):
        cmd = [CLI, '--profile', self.profile, '--passphrase-file', self.passfile, *args]
        result = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise Failure(f'{" ".join(cmd)}: exit {result.returncode}: {result.stderr}')
        return result

    def init(self):
        self.cli('init', '--name', self.name)
        self.invite = self.cli('invite', '--address', f'127.0.0.1:{self.port}').stdout.strip()
        return self

    def add(self, other):
        self.cli('add', other.invite)

    def start(self, *extra, port=True, wrap=()):
        """port=False: on the profile's own port, as its settings say;
        wrap: a command that runs the CLI's command line (its arguments)."""
        assert self.proc is None
        cmd = [*wrap, CLI, '--profile', self.profile, '--passphrase-file', self.passfile,
               'run', '--json', *(['--port', str(self.port)] if port else []), *extra]
        self.proc = subprocess.Popen(cmd, env=self.env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.events = queue.Queue()
        self.pending = []
        self.stderr = []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.events), daemon=True).start()
        threading.Thread(target=self._read_err, args=(self.proc.stderr,), daemon=True).start()
        self.listening = self.expect('listening')
        return self

    def _read(self, stream, events):
        for line in stream:
            try:
                event = json.loads(line)
                if not isinstance(event, dict) or 'event' not in event:
                    raise ValueError
            except ValueError:
                event = {'event': 'unparsable', 'line': line}
            # When it was read: for latencies, and for "before the kill".
            event['_t'] = time.monotonic()
            events.put(event)
        events.put({'event': 'eof', '_t': time.monotonic()})

    def _read_err(self, stream):
        for line in stream:
            self.stderr.append(line)

    def say(self, line):
        self.proc.stdin.write(line + '\n')
        self.proc.stdin.flush()

    def next_event(self, timeout=TIMEOUT):
        """The next event not consumed yet, in order."""
        if self.pending:
            return self.pending.pop(0)
        return self._receive(timeout)

    def _receive(self, timeout):
        try:
            event = self.events.get(timeout=max(timeout, 0))
        except queue.Empty:
            raise Failure(f'{self.name}: no event within {timeout:.1f} s; last events: {self.log[-5:]}; '
                          f'stderr: {"".join(self.stderr)}')
        self.log.append(event)
        if event['event'] in ('unparsable', 'eof'):
            raise Failure(f'{self.name}: {event}; stderr: {"".join(self.stderr)}')
        return event

    def expect(self, kind, timeout=TIMEOUT, **fields):
        """The first event of this kind with these fields, seen or still to come;
        other events stay pending for later expectations."""
        def matches(event):
            return event['event'] == kind and all(event.get(k) == v for k, v in fields.items())

        for i, event in enumerate(self.pending):
            if matches(event):
                return self.pending.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure(f'{self.name}: no “{kind}” {fields} within {timeout} s; '
                              f'last events: {self.log[-5:]}')
            event = self._receive(left)
            if matches(event):
                return event
            self.pending.append(event)

    def quiet_for(self, seconds, kinds):
        """Fails if an event of one of these kinds is pending or arrives within the time."""
        for event in self.pending:
            if event['event'] in kinds:
                raise Failure(f'{self.name}: unexpected {event}')
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                return
            self.log.append(event)
            self.pending.append(event)
            if event['event'] in kinds or event['event'] in ('eof', 'unparsable'):
                raise Failure(f'{self.name}: unexpected {event}')

    def poll(self, timeout):
        """The next event within @timeout (it stays pending), or None."""
        try:
            event = self.events.get(timeout=timeout)
        except queue.Empty:
            return None
        self.log.append(event)
        if event['event'] in ('unparsable', 'eof'):
            raise Failure(f'{self.name}: {event}; stderr: {"".join(self.stderr[-20:])}')
        self.pending.append(event)
        return event

    def kill(self):
        """kill -9 of the runner; what it printed before it died is logged."""
        proc, events = self.proc, self.events
        proc.kill()
        proc.wait()
        self.proc = None
        try:
            proc.stdin.close()
        except OSError:
            pass
        self.pending = []
        deadline = time.monotonic() + 10
        while True:
            try:
                event = events.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                raise Failure(f'{self.name}: its output did not end after kill -9')
            if event['event'] == 'eof':
                return
            # A line cut short by the kill is no event.
            if event['event'] != 'unparsable':
                self.log.append(event)

    def stop(self):
        if self.proc is None:
            return
        try:
            self.say('quit')
        except BrokenPipeError:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure(f'{self.name}: did not quit')
        # Drain what is left, then check the exit status.
        while True:
            try:
                event = self.events.get(timeout=5)
            except queue.Empty:
                break
            if event['event'] == 'eof':
                break
            self.log.append(event)
        status = self.proc.returncode
        self.proc = None
        if status != 0:
            raise Failure(f'{self.name}: exit status {status}; stderr: {"".join(self.stderr)}')

    def search(self, text):
        return json.loads(self.cli('search', text, '--json').stdout)

    def history(self, contact, limit=1000):
        out = self.cli('history', contact, '--json', '--limit', str(limit)).stdout
        return json.loads(out)


def pair(world):
    alice = Peer(world, 'Alice').init()
    bob = Peer(world, 'Bob').init()
    alice.add(bob)
    bob.add(alice)
    return alice, bob


# ---------------------------------------------------------------------------

def test_exchange(world):
    """1,000 messages each way at once: none lost, none duplicated, order kept."""
    n = 1000
    alice, bob = pair(world)
    alice.start()
    bob.start()
    alice.expect('connected', contact='Bob')
    bob.expect('connected', contact='Alice')

    for i in range(n):
        alice.say(f'send Bob a-to-b {i:04d}')
        bob.say(f'send Alice b-to-a {i:04d}')

    def collect(peer, prefix):
        bodies, uids, delivered, queued = [], set(), set(), set()
        while len(bodies) < n or len(delivered) < n or len(queued) < n:
            event = peer.next_event()
            if event['event'] == 'message':
                if event['uid'] in uids:
                    raise Failure(f'{peer.name}: duplicate message {event}')
                uids.add(event['uid'])
                bodies.append(event['body'])
            elif event['event'] == 'delivered':
                delivered.add(event['uid'])
            elif event['event'] == 'queued':
                queued.add(event['uid'])
            elif event['event'] in ('error', 'disconnected', 'failed'):
                raise Failure(f'{peer.name}: {event}')
        if bodies != [f'{prefix} {i:04d}' for i in range(n)]:
            raise Failure(f'{peer.name}: messages lost or out of order')
        if delivered != queued:
            raise Failure(f'{peer.name}: {len(queued - delivered)} not delivered')

    start = time.monotonic()
    collect(alice, 'b-to-a')
    collect(bob, 'a-to-b')
    elapsed = time.monotonic() - start
    print(f'# {2 * n} messages in {elapsed:.1f} s')

    bob.quiet_for(1.0, ('message',))
    alice.stop()
    bob.stop()

    # On disk too: each side has every message once, in order, delivered.
    incoming = alice.search('b-to-a')
    outgoing = alice.search('a-to-b')
    if [m['body'] for m in reversed(incoming)] != [f'b-to-a {i:04d}' for i in range(n)]:
        raise Failure('Alice’s history has lost, doubled or reordered messages')
    if any(m['direction'] != 'in' for m in incoming):
        raise Failure('Alice’s history has Bob’s messages as her own')
    if len(outgoing) != n or any(m['state'] != 'delivered' for m in outgoing):
        raise Failure('Alice’s own messages are not all delivered')


def test_offline(world):
    """Sent while the peer is offline: delivered once it starts, also after the sender restarted."""
    alice, bob = pair(world)

    # 1. Bob is offline; Alice queues, quits, and comes back.
    alice.start()
    alice.say('send Bob while you were away')
    queued = alice.expect('queued')
    alice.quiet_for(1.0, ('delivered',))
    alice.stop()

    # 2. Bob starts first: nobody to talk to yet.
    bob.start()
    bob.quiet_for(1.0, ('message',))

    # 3. Alice restarts: the message from her previous run goes out.
    alice.start()
    message = bob.expect('message', contact='Alice')
    if message['body'] != 'while you were away' or message['uid'] != queued['uid']:
        raise Failure(f'wrong message: {message}')
    alice.expect('delivered', uid=queued['uid'])

    # 4. Queued by a one-shot `send` while Alice's process is not running.
    bob.say('send Alice and back')
    bob.expect('delivered')
    alice.expect('message', body='and back')
    bob.quiet_for(1.0, ('message',))
    alice.quiet_for(1.0, ('message',))
    alice.stop()
    bob.stop()

    # Exactly once on disk.
    bodies = [m['body'] for m in bob.history('Alice') if m['direction'] == 'in']
    if bodies != ['while you were away']:
        raise Failure(f'Bob’s history: {bodies}')


def test_requests(world):
    """A stranger may only introduce themselves; accepted, their messages flow."""
    alice = Peer(world, 'Alice').init()
    carol = Peer(world, 'Carol').init()
    carol.add(alice)   # Alice does not know Carol

    alice.start()
    carol.start('--intro', 'Hi, Carol from accounting')
    carol.say('send Alice may I?')
    carol.expect('queued')

    request = alice.expect('request', name='Carol')
    if request['intro'] != 'Hi, Carol from accounting':
        raise Failure(f'wrong intro: {request}')
    carol.expect('request-pending', contact='Alice')
    alice.quiet_for(1.0, ('message',))
    carol.quiet_for(0.5, ('delivered',))

    alice.say(f'accept {request["key"][:16]}')
    alice.expect('added', contact='Carol')
    carol.expect('request-accepted', contact='Alice')
    message = alice.expect('message', contact='Carol')
    if message['body'] != 'may I?':
        raise Failure(f'wrong message: {message}')
    carol.expect('delivered')
    carol.stop()

    # A blocked stranger becomes a blocked contact and is refused.
    eve = Peer(world, 'Eve').init()
    eve.add(alice)
    eve.start('--intro', 'buy now')
    request = alice.expect('request', name='Eve')
    alice.say(f'block {request["key"][:16]}')
    alice.expect('blocked')
    eve.expect('disconnected', contact='Alice')
    eve.say('connect Alice')
    failed = alice.expect('failed', contact='Eve')
    if 'not welcome' not in failed['reason']:
        raise Failure(f'Eve refused for the wrong reason: {failed}')
    alice.quiet_for(1.0, ('request', 'message'))
    eve.stop()
    alice.stop()
    contacts = {c['name']: c for c in json.loads(alice.cli('contacts', '--json').stdout)}
    if not contacts.get('Eve', {}).get('blocked'):
        raise Failure(f'Eve is not a blocked contact: {contacts}')

    # With requests turned off, a stranger is refused outright.
    dave = Peer(world, 'Dave').init()
    dave.add(alice)
    world.gsettings('set', 'im.sotto.Sotto', 'allow-contact-requests', 'false')
    alice.start()
    dave.start()
    dave.say('send Alice hello?')
    # Dave learns only that Alice hung up before saying anything: XX lets
    # him finish his side of the handshake before Alice knows who he is.
    dave.expect('failed', contact='Alice')
    dave.quiet_for(0.5, ('connected',))
    failed = alice.expect('failed')
    if 'not welcome' not in failed['reason']:
        raise Failure(f'Alice refused for the wrong reason: {failed}')
    dave.quiet_for(0.5, ('delivered',))
    alice.quiet_for(1.0, ('request', 'message'))
    alice.stop()
    dave.stop()


def test_key_changed(world):
    """Someone else answers at Bob's address: nothing is sent to them, and the user is warned."""
    alice, bob = pair(world)
    mallory = Peer(world, 'Mallory').init()
    mallory.port = bob.port   # squats Bob's address
    mallory.add(alice)

    mallory.start()
    alice.start()
    alice.say('send Bob for Bob only')
    alice.expect('queued')
    changed = alice.expect('key-changed', contact='Bob')
    if not changed.get('fingerprint'):
        raise Failure(f'no new fingerprint: {changed}')
    mallory.quiet_for(1.5, ('message',))
    alice.quiet_for(0.5, ('delivered',))
    alice.stop()
    mallory.stop()

    contacts = json.loads(alice.cli('contacts', '--json').stdout)
    bob_entry = [c for c in contacts if c['name'] == 'Bob'][0]
    if bob_entry['verification'] != 'key-changed':
        raise Failure(f'Bob is not marked: {bob_entry}')


def test_side_by_side(world):
    """Two profiles of one user, default settings and no --port: each gets a
    port of its own, both listen, and they talk both ways."""
    first = free_port()
    world.gsettings('set', 'im.sotto.Sotto', 'listen-port', str(first))
    alice = Peer(world, 'Alice')
    bob = Peer(world, 'Bob')
    for peer in (alice, bob):
        peer.cli('init', '--name', peer.name)
    for peer in (alice, bob):
        peer.invite = peer.cli('invite').stdout.strip()
        if f'%3A{first}&' not in peer.invite and f'%3A{first + 1}&' not in peer.invite:
            raise Failure(f'{peer.name}: the invite names neither {first} nor {first + 1}: {peer.invite}')
    alice.add(bob)
    bob.add(alice)

    alice.start(port=False)
    bob.start(port=False)
    ports = {int(alice.listening['port']), int(bob.listening['port'])}
    if ports != {first, first + 1}:
        raise Failure(f'listening on {ports}, not on {first} and {first + 1}')
    for peer in (alice, bob):
        warnings = [e for e in peer.log if e['event'] == 'warning']
        if warnings:
            raise Failure(f'{peer.name}: {warnings}')

    alice.say('send Bob from the first profile')
    bob.expect('message', contact='Alice', body='from the first profile')
    bob.say('send Alice from the second profile')
    alice.expect('message', contact='Bob', body='from the second profile')
    alice.stop()
    bob.stop()

    # Each kept its port: started again, each listens where its invite says.
    alice.start(port=False)
    bob.start(port=False)
    if {int(alice.listening['port']), int(bob.listening['port'])} != ports:
        raise Failure('a profile changed its port between runs')
    alice.stop()
    bob.stop()


def reinstall(world, peer):
    """The same person with a new profile and a new key, on the same port."""
    again = Peer(world, peer.name)
    again.profile = f'{peer.profile}-again'
    again.port = peer.port
    again.init()
    return again


def test_key_reinstalled(world):
    """Bob set Sotto up again: Alice compares the new key and accepts it in
    place, and what she queued meanwhile reaches him."""
    alice, bob = pair(world)
    carol = Peer(world, 'Carol').init()
    alice.add(carol)
    bob2 = reinstall(world, bob)
    bob2.add(alice)

    bob2.start()
    alice.start()
    queued = alice.cli('send', 'Bob', 'sent while the key was in doubt').stdout.split()[1]
    changed = alice.expect('key-changed', contact='Bob')
    new_fp = bob2.cli('fingerprint').stdout.strip()
    if changed.get('fingerprint') != new_fp:
        raise Failure(f'key-changed names {changed}, Bob’s new fingerprint is {new_fp}')
    bob2.quiet_for(1.0, ('message',))

    # A wrong --key, or something that is not a fingerprint: refused, nothing changed.
    old_fp = bob.cli('fingerprint').stdout.strip()
    for wrong in (old_fp, carol.cli('fingerprint').stdout.strip(), '12345'):
        result = alice.cli('verify', 'Bob', '--key', wrong, check=False)
        if result.returncode != 2 or result.stdout:
            raise Failure(f'verify --key {wrong}: exit {result.returncode} '
                          f'{result.stdout!r} {result.stderr!r}')
    if 'not the one given' not in alice.cli('verify', 'Bob', '--key', old_fp, check=False).stderr:
        raise Failure('a wrong --key is not said')
    contacts = {c['name']: c for c in json.loads(alice.cli('contacts', '--json').stdout)}
    if contacts['Bob']['verification'] != 'key-changed' or contacts['Bob']['fingerprint'] != old_fp:
        raise Failure(f'changed by a refused verify: {contacts["Bob"]}')
    # On a contact whose key did not change, --key is the current key.
    result = alice.cli('verify', 'Carol', '--key', new_fp, check=False)
    if result.returncode != 2:
        raise Failure(f'verify Carol with Bob’s key: exit {result.returncode}')
    alice.cli('verify', 'Carol', '--key', carol.cli('fingerprint').stdout.strip().replace(' ', ''))

    # verify, handed over to the running Alice: says which key, and takes it.
    safety = bob2.cli('fingerprint', 'Alice').stdout.strip()
    if alice.cli('fingerprint', 'Bob').stdout.strip() != safety:
        raise Failure('fingerprint Bob is not the safety number of the new key')
    result = alice.cli('verify', 'Bob', '--key', new_fp.replace(' ', ''))
    if result.stdout != f'new-key: {new_fp}\nsafety-number: {safety}\nverified: Bob\n':
        raise Failure(f'verify printed {result.stdout!r}')
    message = bob2.expect('message', contact='Alice', uid=queued)
    if message['body'] != 'sent while the key was in doubt':
        raise Failure(f'wrong message: {message}')
    alice.expect('delivered', uid=queued)
    bob2.say('send Alice welcome back')
    alice.expect('message', contact='Bob', body='welcome back')
    alice.stop()
    bob2.stop()

    # The same contact: one Bob, with the new key, verified, and the whole conversation.
    contacts = json.loads(alice.cli('contacts', '--json').stdout)
    bobs = [c for c in contacts if c['name'] == 'Bob']
    if len(bobs) != 1 or bobs[0]['fingerprint'] != new_fp or bobs[0]['verification'] != 'verified':
        raise Failure(f'contacts: {contacts}')
    bodies = [m['body'] for m in alice.history('Bob')]
    if bodies != ['sent while the key was in doubt', 'welcome back']:
        raise Failure(f'history: {bodies}')


def test_add_update(world):
    """Bob's new invite updates Bob instead of adding a second one."""
    alice, bob = pair(world)
    alice.cli('send', 'Bob', 'before the reinstall')
    bob2 = reinstall(world, bob)
    bob2.add(alice)
    new_fp = bob2.cli('fingerprint').stdout.strip()

    # The same invite again, and the new one with the same name: refused, saying how.
    for invite in (bob.invite, bob2.invite):
        result = alice.cli('add', invite, check=False)
        if result.returncode != 1 or 'Bob' not in result.stderr or '--update' not in result.stderr:
            raise Failure(f'add of Bob’s invite: exit {result.returncode} {result.stderr!r}')
    if len(json.loads(alice.cli('contacts', '--json').stdout)) != 1:
        raise Failure('a second Bob was added')

    alice.start()
    bob2.start()
    result = alice.cli('add', '--update', bob2.invite)
    if result.stdout != f'updated: Bob\nfingerprint: {new_fp}\nkey: new, unverified\n':
        raise Failure(f'add --update printed {result.stdout!r}')
    # Queued before, delivered to the new key.
    bob2.expect('message', contact='Alice', body='before the reinstall')
    alice.expect('connected', contact='Bob')
    alice.stop()
    bob2.stop()

    contacts = json.loads(alice.cli('contacts', '--json').stdout)
    if len(contacts) != 1 or contacts[0]['fingerprint'] != new_fp:
        raise Failure(f'contacts: {contacts}')
    # Nobody to update: --update says so.
    dave = Peer(world, 'Dave').init()
    result = alice.cli('add', '--update', dave.invite, check=False)
    if result.returncode != 1 or '--update' not in result.stderr:
        raise Failure(f'add --update Dave: exit {result.returncode} {result.stderr!r}')


def control_call(peer, argv):
    """One request on the peer's control socket, made as PROTOCOL.md says
    ("Local control socket"): (status, stdout, stderr)."""
    from gi.repository import GLib
    profile_dir = os.path.join(peer.world.env['XDG_DATA_HOME'], 'sotto', peer.profile)
    digest = hashlib.blake2b(os.path.abspath(profile_dir).encode(), digest_size=8).hexdigest()
    path = os.path.join(peer.world.env['XDG_RUNTIME_DIR'], 'sotto', f'control-{digest}')
    request = GLib.Variant('(aayay)', (argv, os.getcwd().encode())).get_data_as_bytes().get_data()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(TIMEOUT)
        s.connect(path)
        s.sendall(len(request).to_bytes(4, 'big') + request)
        reply = b''
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    length = int.from_bytes(reply[:4], 'big')
    if length != len(reply) - 4:
        raise Failure(f'control reply: {length} bytes announced, {len(reply) - 4} sent')
    value = GLib.Variant.new_from_bytes(GLib.VariantType('(iayay)'), GLib.Bytes(reply[4:]), False)
    status, out, err = value.unpack()
    return status, bytes(out).decode(), bytes(err).decode()


def test_forwarded(world):
    """One-shot commands next to a running profile are run by that process."""
    alice, bob = pair(world)
    carol = Peer(world, 'Carol').init()
    alice.start()
    bob.start()
    alice.expect('connected', contact='Bob')

    # send: leaves at once through the running process.
    result = alice.cli('send', 'Bob', 'from a one-shot command')
    if not result.stdout.startswith('queued: '):
        raise Failure(f'send printed {result.stdout!r}')
    uid = result.stdout.split()[1]
    bob.expect('message', contact='Alice', body='from a one-shot command', uid=uid)
    alice.expect('delivered', uid=uid)

    # add, contacts, history, verify, remove: answered as if run directly.
    alice.cli('add', carol.invite)
    names = [c['name'] for c in json.loads(alice.cli('contacts', '--json').stdout)]
    if sorted(names) != ['Bob', 'Carol']:
        raise Failure(f'contacts: {names}')
    history = alice.history('Bob')
    if [m['state'] for m in history if m['uid'] == uid] != ['delivered']:
        raise Failure(f'history: {history}')
    alice.cli('verify', 'Carol')
    alice.cli('remove', 'Carol')
    names = [c['name'] for c in json.loads(alice.cli('contacts', '--json').stdout)]
    if names != ['Bob']:
        raise Failure(f'contacts after remove: {names}')

    # Errors and exit statuses come back too.
    missing = alice.cli('remove', 'Nobody', check=False)
    if missing.returncode != 1 or 'Nobody' not in missing.stderr:
        raise Failure(f'remove Nobody: {missing.returncode} {missing.stderr!r}')
    usage = alice.cli('history', 'Bob', '--limit', '0', check=False)
    if usage.returncode != 2:
        raise Failure(f'bad --limit: exit {usage.returncode}')
    second = alice.cli('run', check=False)
    if second.returncode != 3:
        raise Failure(f'a second run: exit {second.returncode}')
    prompt = alice.cli('protect', '--ask-passphrase', check=False)
    if prompt.returncode != 2:
        raise Failure(f'protect --ask-passphrase: exit {prompt.returncode}')
    # What sotto-cli refuses before it asks: the same answer from the socket.
    status, _, err = control_call(alice, [b'bogus'])
    direct = alice.cli('bogus', check=False)
    if status != 2 or direct.returncode != 2 or err != direct.stderr:
        raise Failure(f'unknown command: socket {status} {err!r}, '
                      f'directly {direct.returncode} {direct.stderr!r}')
    # Help is printed here; the running process must survive the request.
    helped = alice.cli('contacts', '--help')
    if 'contacts' not in helped.stdout:
        raise Failure(f'help: {helped.stdout!r}')
    alice.cli('contacts')
    alice.stop()
    bob.stop()

    # Nobody running: the same commands open the profile themselves.
    names = [c['name'] for c in json.loads(alice.cli('contacts', '--json').stdout)]
    if names != ['Bob']:
        raise Failure(f'contacts, not running: {names}')


# SOTTO_OUTBOX_EXPIRY_DAYS, in microseconds.
EXPIRY_US = 7 * 24 * 3600 * 1000000


def age_outbox(peer):
    """Everything in the peer's outbox was queued a week and a second ago, as if
    nothing had run since. Only while no process has the profile open."""
    path = os.path.join(peer.world.env['XDG_DATA_HOME'], 'sotto', peer.profile, 'sotto.db')
    db = sqlite3.connect(path)
    with db:
        db.execute('UPDATE outbox SET queued = queued - ?', (EXPIRY_US + 1000000,))
    db.close()


def test_retry(world):
    """Not delivered within a week: given up on when the profile runs, and
    reported; `retry`, handed over to the running process, sends it at once,
    and it arrives exactly once."""
    alice, bob = pair(world)
    uid = alice.cli('send', 'Bob', 'a week too late').stdout.split()[1]
    age_outbox(alice)
    alice.start()
    alice.expect('not-sent', contact='Bob', uid=uid)

    # history, handed over: shown as not sent, for people and scripts.
    text = alice.cli('history', 'Bob').stdout
    if '<me> a week too late\n    (not sent)\n' not in text:
        raise Failure(f'history: {text!r}')
    states = [m['state'] for m in alice.history('Bob') if m['uid'] == uid]
    if states != ['failed']:
        raise Failure(f'history --json: {states}')

    # Bob is back: the outbox goes oldest first, so had the old message
    # still been in it, it would have come before this one.
    bob.start()
    alice.expect('connected', contact='Bob')
    later = alice.cli('send', 'Bob', 'written after').stdout.split()[1]
    bob.expect('message', contact='Alice', uid=later)
    if any(e['event'] == 'message' and e.get('uid') == uid for e in bob.log):
        raise Failure('Bob got the message given up on')

    # retry, handed over: sent at once, on the session that is up.
    result = alice.cli('retry', 'Bob')
    if result.stdout != 'retried: 1\n':
        raise Failure(f'retry printed {result.stdout!r}')
    bob.expect('message', contact='Alice', uid=uid, body='a week too late')
    alice.expect('delivered', uid=uid)
    bob.quiet_for(1.0, ('message',))
    again = alice.cli('retry', 'Bob')
    if again.stdout != 'retried: 0\n':
        raise Failure(f'a second retry printed {again.stdout!r}')
    alice.stop()
    bob.stop()

    received = [m['uid'] for m in bob.history('Alice')]
    if received != [later, uid]:
        raise Failure(f"Bob's history: {received}")
    states = [m['state'] for m in alice.history('Bob') if m['uid'] == uid]
    if states != ['delivered']:
        raise Failure(f"Alice's history: {states}")


# Runs the CLI with the profile's folder on a small filesystem of its own,
# in a mount namespace of its own: the test fills it from outside through
# /proc/PID/root, as a disk fills up, and empties it again.
SMALL_DISK = r"""set -e
dir="$1"; small="$2"; shift 2
mount -t tmpfs -o size=4m,mode=0700 sotto-small-disk "$small"
cp -a "$dir"/. "$small"/
mount --bind "$small" "$dir"
exec "$@"
"""


def fill(path):
    """Writes to @path until the filesystem is full."""
    chunk = b'\0' * 65536
    with open(path, 'wb', buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError:
            pass
        # What a 64 KB write could not take, a smaller one can.
        for size in (4096, 512, 1):
            try:
                while True:
                    f.write(b'\0' * size)
            except OSError:
                pass


def test_disk_full(world):
    """A receiver whose disk fills up says so, takes nothing it can't write, and takes it all once there is space."""
    if os.geteuid() != 0 or shutil.which('unshare') is None:
        raise Skip('mounting a small filesystem for the receiver needs root and unshare '
                   '(CI runs as root)')
    n = 20
    alice, bob = pair(world)
    small = os.path.join(world.root, 'small-disk')
    os.makedirs(small)
    bob_dir = os.path.join(world.env['XDG_DATA_HOME'], 'sotto', bob.profile)
    alice.start()
    bob.start(wrap=['unshare', '--mount', '--propagation', 'private',
                    'sh', '-c', SMALL_DISK, 'sh', bob_dir, small])
    alice.expect('connected', contact='Bob')
    bob.expect('connected', contact='Alice')

    filler = f'/proc/{bob.proc.pid}/root{small}/filler'
    fill(filler)
    body = 'x' * 2000
    for i in range(n):
        alice.say(f'send Bob full {i:02d} {body}')
    failed = bob.expect('store-failed')
    if 'full' not in failed['message']:
        raise Failure(f'Bob: {failed}')

    # While full: told once, and nothing taken twice.
    time.sleep(2)
    bob.quiet_for(0.5, ('store-recovered',))
    if sum(1 for e in bob.pending if e['event'] == 'store-failed') > 0:
        raise Failure('Bob: store-failed told more than once')

    os.unlink(filler)
    bob.expect('store-recovered', timeout=20)

    uids, bodies, delivered = set(), [], set()
    deadline = time.monotonic() + TIMEOUT
    while len(bodies) < n or len(delivered) < n:
        if time.monotonic() > deadline:
            raise Failure(f'{len(bodies)} of {n} arrived, {len(delivered)} delivered')
        for peer in (bob, alice):
            while peer.pending:
                event = peer.pending.pop(0)
                if peer is bob and event['event'] == 'message':
                    if event['uid'] in uids:
                        raise Failure(f'Bob: duplicate {event["body"][:10]}')
                    uids.add(event['uid'])
                    bodies.append(event['body'][:7])
                elif peer is alice and event['event'] == 'delivered':
                    delivered.add(event['uid'])
            try:
                peer.pending.append(peer._receive(0.1))
            except Failure as e:
                if 'no event' not in str(e):
                    raise
    if sorted(bodies) != [f'full {i:02d}' for i in range(n)]:
        raise Failure(f'Bob got {bodies}')
    bob.quiet_for(1.0, ('message', 'store-failed'))
    alice.stop()
    bob.stop()


TESTS = {
    'exchange': test_exchange,
    'offline': test_offline,
    'requests': test_requests,
    'key-changed': test_key_changed,
    'key-reinstalled': test_key_reinstalled,
    'add-update': test_add_update,
    'forwarded': test_forwarded,
    'retry': test_retry,
    'side-by-side': test_side_by_side,
    'disk-full': test_disk_full,
}


def main():
    names = sys.argv[1:] or list(TESTS)
    print(f'1..{len(names)}')
    failed = 0
    for number, name in enumerate(names, 1):
        world = World()
        try:
            start = time.monotonic()
            TESTS[name](world)
            print(f'ok {number} /peers/{name} # {time.monotonic() - start:.1f} s')
        except Skip as e:
            print(f'ok {number} /peers/{name} # SKIP {e}')
        except Failure as e:
            failed += 1
            print(f'not ok {number} /peers/{name}')
            for line in str(e).splitlines():
                print(f'# {line}')
        finally:
            world.cleanup()
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
