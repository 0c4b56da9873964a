#!/usr/bin/python3
# flood.py — a flood against a running `sotto-cli run` over real TCP on
# loopback, as app/core/PROTOCOL.md ("Connections", "Trust") bounds it:
# 2,000 complete handshakes from unknown keys, 500 garbage connections and
# 200 that never send a byte, all within 10 s, while a contact and the
# target exchange a message every 100 ms each way. Every contact message
# arrives exactly once, the contact gets back in, the strangers' requests
# stay capped at 32 (the oldest dropped), every stalled and garbage
# connection is closed by the target, and a new stranger still gets a
# request through afterwards. The target's memory and CPU are measured
# from /proc and printed as figures, never asserted (speed and memory
# targets belong to benchmarks).
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: flood.py            the test; prints TAP
#        flood.py --bench    the same flood next to a baseline measured in the
#                            same run (the same exchange, as long, without the
#                            flood); prints a table of figures
# SOTTO_CLI names the sotto-cli binary.
#
# The attackers are written with tests/interop/sotto_peer.py's Noise (an
# implementation of the protocol written from PROTOCOL.md alone) and run
# in a process of their own (`flood.py --attack PORT KEY`, internal), so
# that their Python does not hold back the threads that read the peers'
# events and sample /proc. They call from many loopback addresses
# (127.0.1.x handshakes, 127.0.2.x garbage, 127.0.3.x stalled: all of
# 127/8 is loopback on Linux) so that the per-address limits (8 unfinished,
# 120 a minute) let the flood through to the global ones; the contact calls
# from 127.0.0.1, which the flood never uses. Each kind is paced evenly over
# the window: 200 handshakes a second. On two cores the attackers keep to
# that with about 3 s of CPU in the 10 s, so all 2,000 are made in the
# window; the number reached is printed either way.
#
# The figures: RSS growth is the peak of VmRSS sampled every 50 ms, from
# the flood's start to 25 s on, minus VmRSS at its start (VmHWM counts from
# the process's start, and opening the profile (Argon2id) already took it
# far higher). "CPU back to baseline" runs from the end of the flood to the
# end of the first 0.5 s in which A's CPU use is no higher than in the
# busiest 0.5 s of the exchange alone, measured just before.

import asyncio
import json
import os
import queue
import random
import resource
import struct
import subprocess
import sys
import threading
import time

# peers.py's runner and sotto_peer.py's Noise; no bytecode left in the source tree.
sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'interop'))
import peers  # noqa: E402

from peers import Failure, Peer, Skip  # noqa: E402

TIMEOUT = peers.TIMEOUT
MiB = 1024 * 1024

# The flood, as the issue states it.
HANDSHAKES = 2000
GARBAGE = 500
STALLED = 200
WINDOW = 10.0
# What is measured of a flood: its window, then as long as a stalled
# connection opened at its end may live (the handshake timer, 10 s, plus
# the second Sotto rounds its timers to), then a few seconds of calm. The
# bench's baseline is measured over as long.
SPAN = WINDOW + 15.0
# The contact exchange: one message each way per tick.
TICK = 0.1
# Before the baseline: the pair connected and messages flowing.
WARMUP = 2.0
# The baseline of A's CPU use: this long, cut into windows of CPU_WINDOW.
BASELINE = 3.0
CPU_WINDOW = 0.5
SAMPLE_EVERY = 0.05
RSS_TARGET_MIB = 8
CPU_TARGET_S = 2.0

# PROTOCOL.md and sotto-peer-service.h.
HANDSHAKE_TIMER = 10.0
MAX_REQUESTS = 32
MAX_HANDSHAKING = 64

# The attackers' source addresses: the handshakes share 64 addresses
# (about 31 each, far below 120 a minute, one at a time each), the garbage
# 50 and the stalled connections 50 (4 each, below 8 unfinished).
HANDSHAKE_SOURCES = ['127.0.1.%d' % i for i in range(1, 65)]
GARBAGE_SOURCES = ['127.0.2.%d' % i for i in range(1, 51)]
STALLED_SOURCES = ['127.0.3.%d' % i for i in range(1, 51)]
# Handshakes in flight at once. More would make the target's cap of 64
# unfinished handshakes drop the attackers' own, which proves nothing more.
IN_FLIGHT = 32
# How long an attacker waits for the target's next message.
ANSWER_WAIT = 10.0
# How much longer than the handshake timer a stalled or garbage
# connection may stay open before it counts as never closed. The timer
# starts when the target accepts the connection, which under the flood
# (and in the sanitizer build, several times slower) can be seconds after
# the kernel completed it: what is checked is that it is closed, not when
# (the slowest is printed).
CLOSE_GRACE = 30.0
INTRO = 'Hello from a stranger in the flood'


def import_sotto_peer():
    """tests/interop/sotto_peer.py, or Skip when PyNaCl is missing."""
    try:
        import sotto_peer
    except ImportError as e:
        raise Skip(f'the attackers need PyNaCl (python3-nacl): {e}')
    return sotto_peer


# ---------------------------------------------------------------------------
# The attackers (flood.py --attack PORT KEY): one process, asyncio.
# Prints JSON lines: {"phase": "start"}, "active-done" when the last
# handshake and garbage connection is over, "report" at the end.
# ---------------------------------------------------------------------------

class Attack:
    """The three kinds of attacker against the target's port, on one event loop."""

    def __init__(self, sp, port, key):
        self.sp = sp
        self.port = port
        self.key = key
        self.outcomes = {}         # what happened to each handshake
        self.finished = []         # key hex of each handshake that sent message 3
        self.pending = []          # (monotonic time, key hex) of each request seen pending
        self.held = {}             # key hex → the writer of a request session still open
        self.dropped = 0           # request sessions A ended (their request dropped)
        self.garbage_closed = []   # seconds from the garbage to A's close
        self.garbage_open = 0
        self.garbage_failed = {}
        self.stalled_closed = []   # seconds from the connection to A's close
        self.stalled_open = 0
        self.stalled_failed = {}
        self.releasing = False
        self.last_handshake = 0.0

    def say(self, **fields):
        print(json.dumps(fields), flush=True)

    def count(self, table, what):
        table[what] = table.get(what, 0) + 1

    async def at(self, offset):
        delay = self.t0 + offset - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    async def connect(self, source):
        return await asyncio.wait_for(
            asyncio.open_connection('127.0.0.1', self.port, local_addr=(source, 0)), 5)

    async def wait_closed(self, reader, limit):
        """Seconds until the target closed the connection (EOF or reset), or
        None if it is still open after @limit seconds. Whatever it sends on
        the way is read and thrown away."""
        start = time.monotonic()
        try:
            while True:
                left = limit - (time.monotonic() - start)
                if left <= 0:
                    return None
                data = await asyncio.wait_for(reader.read(65536), left)
                if not data:
                    return time.monotonic() - start
        except asyncio.TimeoutError:
            return None
        except ConnectionError:
            return time.monotonic() - start

    async def handshake(self, i, slots):
        """A complete XX handshake from a fresh key with a valid hello: it
        must become a contact request (A's first payload: REQUEST_STATE
        pending). The session is then held open, to see A end it when the
        request is dropped."""
        sp = self.sp
        await self.at(i * WINDOW / HANDSHAKES)
        async with slots:
            if time.monotonic() > self.t0 + WINDOW:
                self.count(self.outcomes, 'not started within the window')
                return
            sk, pk = sp.generate_keypair()
            stage = 'connect'
            writer = None
            try:
                reader, writer = await self.connect(HANDSHAKE_SOURCES[i % len(HANDSHAKE_SOURCES)])
                hs = sp.HandshakeState('XX', True, sp.PROLOGUE, s=(sk, pk))
                writer.write(sp.frame(hs.write_message(b'')))
                stage = 'message 2'
                m2 = await asyncio.wait_for(sp.read_frame(reader, sp.HS_FRAME_LIMIT), ANSWER_WAIT)
                hs.read_message(m2)
                if hs.rs != self.key:
                    raise sp.HandshakeError('the responder is not the target')
                hello = sp.encode_hello(2, f'Stranger {i:04d}', 0, 0, INTRO)
                writer.write(sp.frame(hs.write_message(hello)))
                self.finished.append(pk.hex())
                _, receive, _ = hs.split()
                stage = 'request state'
                first = await asyncio.wait_for(sp.read_frame(reader, sp.MAX_MSG), ANSWER_WAIT)
                kind, value = sp.decode_payload(receive.decrypt_with_ad(b'', first))
                if (kind, value) != (sp.REQUEST_STATE, 1):
                    raise sp.HandshakeError(f'first payload {kind} {value}, not REQUEST_STATE pending')
            except sp.Closed as e:
                what = 'closed' if 'closed by peer' in str(e) else 'bad frame'
                self.count(self.outcomes, f'{what} by the target before {stage}')
            except ConnectionError:
                self.count(self.outcomes, f'reset by the target before {stage}')
            except asyncio.TimeoutError:
                self.count(self.outcomes, f'no answer within {ANSWER_WAIT:.0f} s before {stage}')
            except (sp.HandshakeError, sp.Malformed, OSError) as e:
                self.count(self.outcomes, f'{stage}: {e}')
            else:
                now = time.monotonic()
                self.last_handshake = now
                self.count(self.outcomes, 'request pending')
                self.pending.append((now, pk.hex()))
                asyncio.ensure_future(self.hold(reader, writer, pk.hex()))
                return
            if writer is not None:
                writer.close()

    async def hold(self, reader, writer, key):
        """A request session, open until A ends it (or the attack ends)."""
        self.held[key] = writer
        await self.wait_closed(reader, 3600)
        if not self.releasing:
            self.dropped += 1
            del self.held[key]
            writer.close()

    async def garbage(self, j):
        """Bytes that are no handshake, in four kinds, then a wait for the
        target to close the connection (then ours is closed too)."""
        sp = self.sp
        await self.at(j * WINDOW / GARBAGE)
        kind = j % 4
        try:
            reader, writer = await self.connect(GARBAGE_SOURCES[j % len(GARBAGE_SOURCES)])
        except (OSError, asyncio.TimeoutError) as e:
            self.count(self.garbage_failed, f'connect: {e.__class__.__name__}')
            return
        start = time.monotonic()
        try:
            if kind == 0:     # a frame of length 0
                writer.write(b'\0\0' + os.urandom(30))
            elif kind == 1:   # a length above the limit while waiting for message 1 (32)
                writer.write(struct.pack('>H', random.randint(33, 65535)) + os.urandom(64))
            elif kind == 2:   # a message 1 of the wrong length
                n = random.randint(1, 31)
                writer.write(struct.pack('>H', n) + os.urandom(n))
            else:             # random bytes as message 1 (an ephemeral key: A answers), then as message 3
                writer.write(sp.frame(os.urandom(32)))
                await asyncio.wait_for(sp.read_frame(reader, sp.HS_FRAME_LIMIT), ANSWER_WAIT)
                writer.write(sp.frame(os.urandom(random.randint(64, 200))))
            closed = await self.wait_closed(reader, HANDSHAKE_TIMER + CLOSE_GRACE)
        except (sp.Closed, ConnectionError):
            closed = time.monotonic() - start
        except asyncio.TimeoutError:
            closed = None
        if closed is None:
            self.garbage_open += 1
        else:
            self.garbage_closed.append(closed)
        writer.close()

    async def stalled(self, k):
        """Connects and never sends a byte; the target must close it."""
        await self.at(k * WINDOW / STALLED)
        try:
            reader, writer = await self.connect(STALLED_SOURCES[k % len(STALLED_SOURCES)])
        except (OSError, asyncio.TimeoutError) as e:
            self.count(self.stalled_failed, f'connect: {e.__class__.__name__}')
            return
        closed = await self.wait_closed(reader, HANDSHAKE_TIMER + CLOSE_GRACE)
        if closed is None:
            self.stalled_open += 1
        else:
            self.stalled_closed.append(closed)
        writer.close()

    async def run(self):
        slots = asyncio.Semaphore(IN_FLIGHT)
        self.t0 = time.monotonic()
        self.say(phase='start', t=self.t0)
        busy = [asyncio.ensure_future(self.handshake(i, slots)) for i in range(HANDSHAKES)]
        busy += [asyncio.ensure_future(self.garbage(j)) for j in range(GARBAGE)]
        stalled = [asyncio.ensure_future(self.stalled(k)) for k in range(STALLED)]
        cpu = time.process_time()
        await asyncio.gather(*busy)
        end = time.monotonic()
        self.say(phase='active-done', t=end, pending=len(self.pending),
                 last_handshake=self.last_handshake, cpu=time.process_time() - cpu)
        await asyncio.gather(*stalled)
        # What is left open now: the request sessions A still holds.
        await asyncio.sleep(0.5)
        held = sorted(self.held)
        self.releasing = True
        for writer in self.held.values():
            writer.close()
        await asyncio.sleep(0.1)
        self.say(phase='report', t=time.monotonic(), t0=self.t0, end=end,
                 outcomes=self.outcomes, pending=[k for _, k in self.pending],
                 finished=self.finished,
                 held=held, dropped=self.dropped,
                 garbage_closed=len(self.garbage_closed), garbage_open=self.garbage_open,
                 garbage_slowest=max(self.garbage_closed, default=None),
                 garbage_failed=self.garbage_failed,
                 stalled_closed=len(self.stalled_closed), stalled_open=self.stalled_open,
                 stalled_early=sum(1 for s in self.stalled_closed if s < HANDSHAKE_TIMER - 1),
                 stalled_slowest=max(self.stalled_closed, default=None),
                 stalled_failed=self.stalled_failed, cpu=time.process_time())


def attack_main(port, key_hex):
    sp = import_sotto_peer()
    # Every connection is a file descriptor: up to the hard limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(Attack(sp, port, bytes.fromhex(key_hex)).run())
    return 0


class Attacker:
    """The attackers' process, seen from the test: its JSON lines, in order."""

    def __init__(self, port, key):
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE='1')
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), '--attack',
                                      str(port), key.hex()],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env)
        self.lines = queue.Queue()
        self.stderr = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.lines.put(json.loads(line))
            except ValueError:
                self.lines.put({'phase': 'unparsable', 'line': line})
        self.lines.put({'phase': 'eof'})

    def next(self, phase, world_peers, timeout):
        """Its next line, which must be @phase; the peers' events are
        taken in meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise Failure(f'the attackers said no “{phase}” within {timeout:.0f} s')
                pump(world_peers, time.monotonic() + 0.05)
                continue
            if line.get('phase') != phase:
                raise Failure(f'the attackers: {line} instead of “{phase}”; '
                              f'stderr: {"".join(self.stderr[-20:])}')
            return line

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


# ---------------------------------------------------------------------------
# The test's side: the peers' events, the exchange, /proc
# ---------------------------------------------------------------------------

def pump(peer_list, until):
    """Takes every event the peers print into their logs until @until
    (monotonic); a peer that ends or prints garbage fails the test. The
    checks read the logs: they hold the events of every run of a peer."""
    while True:
        for peer in peer_list:
            if peer.proc is None:
                continue
            while True:
                try:
                    event = peer.events.get_nowait()
                except queue.Empty:
                    break
                peer.log.append(event)
                if event['event'] in ('eof', 'unparsable'):
                    raise Failure(f'{peer.name}: {event}; stderr: {"".join(peer.stderr[-20:])}')
        left = until - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.02))


def wait_for(peer_list, peer, since, what, timeout=TIMEOUT, **fields):
    """The first event @what with @fields in @peer's log from index @since on."""
    deadline = time.monotonic() + timeout
    while True:
        for event in peer.log[since:]:
            if event['event'] == what and all(event.get(k) == v for k, v in fields.items()):
                return event
        if time.monotonic() > deadline:
            raise Failure(f'{peer.name}: no “{what}” {fields} within {timeout:.0f} s; '
                          f'last events: {peer.log[-5:]}')
        pump(peer_list, time.monotonic() + 0.05)


class Exchange:
    """A message every TICK each way between A and B, from a thread of its
    own. Every line to a peer's stdin goes through say(), so that the
    thread and the test never write into each other's lines; a peer in
    `paused` (being restarted) is skipped."""

    def __init__(self, alice, bob):
        self.pairs = ((bob, alice, 'b-to-a'), (alice, bob, 'a-to-b'))
        self.lock = threading.Lock()
        self.paused = set()
        self.sent = {alice.name: [], bob.name: []}
        self.error = None
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopped.set()
        self.thread.join()
        if self.error is not None:
            raise Failure(f'the exchange: {self.error}')

    def say(self, peer, line):
        with self.lock:
            peer.say(line)

    def pause(self, peer):
        with self.lock:
            self.paused.add(peer.name)

    def resume(self, peer):
        with self.lock:
            self.paused.discard(peer.name)

    def _run(self):
        n = 0
        next_tick = time.monotonic()
        while not self.stopped.is_set():
            for sender, receiver, tag in self.pairs:
                with self.lock:
                    if sender.name in self.paused or sender.proc is None:
                        continue
                    body = f'{tag} {n:05d}'
                    try:
                        sender.say(f'send {receiver.name} {body}')
                    except OSError as e:
                        self.error = self.error or f'{sender.name}: {e}'
                        continue
                    self.sent[sender.name].append(body)
            n += 1
            next_tick += TICK
            self.stopped.wait(max(0.0, next_tick - time.monotonic()))


def read_proc(pid):
    """(VmRSS KiB, VmHWM KiB, CPU clock ticks: utime + stime) of @pid."""
    rss = hwm = 0
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                rss = int(line.split()[1])
            elif line.startswith('VmHWM:'):
                hwm = int(line.split()[1])
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return rss, hwm, int(fields[11]) + int(fields[12])


def open_fds(pid):
    return len(os.listdir(f'/proc/{pid}/fd'))


class Sampler:
    """A's /proc/PID/status and stat every SAMPLE_EVERY, from a thread:
    (monotonic time, VmRSS KiB, VmHWM KiB, CPU ticks)."""

    TICKS = os.sysconf('SC_CLK_TCK')

    def __init__(self, pid):
        self.pid = pid
        self.samples = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopped.is_set():
            try:
                self.samples.append((time.monotonic(), *read_proc(self.pid)))
            except OSError:
                return
            self.stopped.wait(SAMPLE_EVERY)

    def stop(self):
        self.stopped.set()
        self.thread.join()

    def between(self, start, end):
        return [s for s in list(self.samples) if start <= s[0] <= end]

    def cpu_rate(self, start, end):
        """A's CPU use from @start to @end (CPU seconds per second), from the
        samples nearest inside; None without two samples."""
        inside = self.between(start, end)
        if len(inside) < 2 or inside[-1][0] - inside[0][0] <= 0:
            return None
        return (inside[-1][3] - inside[0][3]) / self.TICKS / (inside[-1][0] - inside[0][0])

    def windows(self, start, end):
        """A's CPU use in each CPU_WINDOW from @start to @end, one after the other."""
        rates = []
        t = start
        while t + CPU_WINDOW <= end + 1e-9:
            rate = self.cpu_rate(t, t + CPU_WINDOW)
            if rate is not None:
                rates.append(rate)
            t += CPU_WINDOW
        return rates

    def back_to(self, level, start, end):
        """Seconds from @start to the end of the first CPU_WINDOW (starting at a
        sample) in which A's CPU use is at most @level; None if none until @end."""
        for s in self.between(start, end):
            rate = self.cpu_rate(s[0], s[0] + CPU_WINDOW)
            if rate is not None and rate <= level:
                return s[0] + CPU_WINDOW - start
        return None

    def cpu_seconds(self, start, end):
        inside = self.between(start, end)
        return (inside[-1][3] - inside[0][3]) / self.TICKS

    def memory(self, start, end):
        """(VmRSS at @start, peak VmRSS, VmRSS at @end, VmHWM at @start and
        at @end), in KiB."""
        inside = self.between(start, end)
        return (inside[0][1], max(s[1] for s in inside), inside[-1][1],
                inside[0][2], inside[-1][2])


# ---------------------------------------------------------------------------
# The scenario
# ---------------------------------------------------------------------------

def received(peer, sender):
    """The bodies of @peer's message events from @sender, and any uid seen twice."""
    bodies, uids, twice = [], set(), []
    for event in peer.log:
        if event['event'] == 'message' and event.get('contact') == sender:
            if event['uid'] in uids:
                twice.append(event)
            uids.add(event['uid'])
            bodies.append(event['body'])
    return bodies, twice


def check_exchange(peer_list, exchange, alice, bob, timeout=TIMEOUT):
    """Every message of the exchange has arrived, once: Alice has each of
    Bob's and Bob each of Alice's, none twice and nothing that was not sent."""
    deadline = time.monotonic() + timeout
    while True:
        pump(peer_list, time.monotonic() + 0.1)
        missing = {}
        reordered = []
        for receiver, sender in ((alice, bob), (bob, alice)):
            bodies, twice = received(receiver, sender.name)
            if twice:
                raise Failure(f'{receiver.name} got messages twice: {twice[:3]}')
            sent = exchange.sent[sender.name]
            extra = set(bodies) - set(sent)
            if extra or len(bodies) > len(sent):
                raise Failure(f'{receiver.name} got what {sender.name} never sent: '
                              f'{sorted(extra)[:5]}')
            got = set(bodies)
            lost = [b for b in sent if b not in got]
            if lost:
                missing[receiver.name] = lost
            elif bodies != sent:
                reordered.append(f'{receiver.name} got {sender.name}’s messages out of order')
        if not missing:
            # Not what the issue asks for, but worth saying.
            for line in reordered:
                print(f'# {line}')
            return
        if time.monotonic() > deadline:
            raise Failure('messages never arrived: ' + '; '.join(
                f'{name}: {len(lost)}, e.g. {lost[:3]}' for name, lost in missing.items()))


def errors_of(peer):
    return [e for e in peer.log if e['event'] == 'error']


def pending_requests(peer_list, exchange, alice):
    """The keys of A's pending requests, oldest first, from `requests`."""
    since = len(alice.log)
    exchange.say(alice, 'requests')
    told = wait_for(peer_list, alice, since, 'requests')
    end = alice.log.index(told, since)
    keys = [e['key'] for e in alice.log[since:end] if e['event'] == 'request']
    if int(told['count']) != len(keys):
        raise Failure(f'`requests` counts {told["count"]} and lists {len(keys)}')
    return keys


def restart(peer_list, exchange, peer, alice):
    """@peer quits and starts again: (when it started again, when A said it
    is connected), monotonic."""
    since = len(alice.log)
    exchange.pause(peer)
    try:
        peer.stop()
        started = time.monotonic()
        peer.start()
    finally:
        exchange.resume(peer)
    connected = wait_for(peer_list, alice, since, 'connected', contact=peer.name)
    return started, connected['_t']


def mib(kib):
    return kib / 1024


def quiet_phase(peer_list, sampler):
    """The bench's baseline: the exchange alone, for SPAN seconds."""
    start = time.monotonic()
    pump(peer_list, start + SPAN)
    end = time.monotonic()
    rss0, peak, rss1, hwm0, hwm1 = sampler.memory(start, end)
    return {'rss_start': rss0, 'rss_growth': peak - rss0, 'rss_end': rss1 - rss0,
            'hwm': (hwm0, hwm1), 'cpu': sampler.cpu_seconds(start, end),
            'cpu_window': sampler.cpu_seconds(start, start + WINDOW)}


def check_requests(alice, report):
    """A's request events, in order. Every handshake that A answered with
    "pending" is one of them, each stranger has one, and each is of a
    stranger that finished its handshake (A may drop a request before its
    caller reads "pending": only then is it not in report['pending'])."""
    requested = [e['key'] for e in alice.log if e['event'] == 'request']
    if not set(report['pending']) <= set(requested):
        raise Failure(f'{len(set(report["pending"]) - set(requested))} handshakes got “pending” '
                      'without a request event')
    if len(set(requested)) != len(requested):
        raise Failure(f'{len(requested) - len(set(requested))} strangers made two requests')
    if not set(requested) <= set(report['finished']):
        raise Failure(f'{len(set(requested) - set(report["finished"]))} requests from keys '
                      'that never finished a handshake')
    # A ended the session of every request it dropped (the attackers
    # kept every one open): what it still holds is at most the cap.
    if len(report['held']) > MAX_REQUESTS:
        raise Failure(f'A still holds {len(report["held"])} request sessions (cap {MAX_REQUESTS})')
    return requested


def check_closed(report):
    """A closed every garbage and stalled connection itself."""
    if report['garbage_open'] or report['stalled_open']:
        raise Failure(f'open {HANDSHAKE_TIMER + CLOSE_GRACE:.0f} s on: '
                      f'{report["garbage_open"]} garbage and {report["stalled_open"]} stalled '
                      'connections')
    if report['garbage_failed'] or report['stalled_failed']:
        raise Failure(f'connections that could not be made: garbage {report["garbage_failed"]}, '
                      f'stalled {report["stalled_failed"]}')


def check_files(peer_list, alice, before):
    """A's open files come back to what they were once the attackers are
    gone: no connection leaked. Returns (before, after)."""
    deadline = time.monotonic() + HANDSHAKE_TIMER
    while open_fds(alice.proc.pid) > before + 2 and time.monotonic() < deadline:
        pump(peer_list, time.monotonic() + 0.2)
    after = open_fds(alice.proc.pid)
    if after > before + 2:
        raise Failure(f'Alice has {after} open files after the flood, {before} before it')
    return before, after


def check_capped(peer_list, exchange, alice, requested, report):
    """A's pending requests are the newest 32 of all it made, in order (the
    oldest dropped), and the request sessions it still held are theirs.
    Returns them."""
    keys = pending_requests(peer_list, exchange, alice)
    newest = requested[-MAX_REQUESTS:]
    if keys != newest:
        raise Failure(f'pending requests: {len(keys)}, not the newest {len(newest)} of '
                      f'{len(requested)} (cap {MAX_REQUESTS}, the oldest dropped)')
    if not set(report['held']) <= set(keys):
        raise Failure(f'A holds {len(set(report["held"]) - set(keys))} sessions of requests '
                      'it dropped')
    return keys


def new_stranger(peer_list, exchange, alice, carol, newest):
    """After the flood a new stranger still gets a request through (the
    oldest pending one makes room), and once accepted, a message in."""
    since = len(alice.log)
    carol.start('--intro', 'Carol, after the flood')
    exchange.say(carol, 'send Alice made it through')
    request = wait_for(peer_list, alice, since, 'request', name='Carol')
    wait_for(peer_list, carol, 0, 'request-pending', contact='Alice')
    keys = pending_requests(peer_list, exchange, alice)
    if keys != (newest + [request['key']])[-MAX_REQUESTS:]:
        raise Failure(f'after Carol’s request: {len(keys)} pending, not the newest '
                      f'{MAX_REQUESTS - 1} strangers and Carol')
    exchange.say(alice, f'accept {request["key"][:16]}')
    wait_for(peer_list, alice, since, 'added', contact='Carol')
    wait_for(peer_list, alice, since, 'message', contact='Carol', body='made it through')
    wait_for(peer_list, carol, 0, 'delivered', contact='Alice')


def check_on_disk(exchange, alice, bob):
    """Each side's history has every message of the other once, and every
    one of its own delivered. Only while neither runs."""
    for peer, other, theirs, mine in ((alice, bob, 'b-to-a', 'a-to-b'),
                                      (bob, alice, 'a-to-b', 'b-to-a')):
        def found(tag):
            return json.loads(peer.cli('search', tag, '--contact', other.name, '--json').stdout)
        incoming = [m['body'] for m in found(theirs) if m['direction'] == 'in']
        if sorted(incoming) != sorted(exchange.sent[other.name]):
            raise Failure(f'{peer.name}’s history: {len(incoming)} messages from {other.name}, '
                          f'{len(set(incoming))} different, {len(exchange.sent[other.name])} sent')
        outgoing = found(mine)
        undelivered = [m for m in outgoing if m['direction'] != 'out' or m['state'] != 'delivered']
        if len(outgoing) != len(exchange.sent[peer.name]) or undelivered:
            raise Failure(f'{peer.name}’s history: {len(outgoing)} messages to {other.name} of '
                          f'{len(exchange.sent[peer.name])}, {len(undelivered)} not delivered, '
                          f'e.g. {undelivered[:2]}')


def check_log(alice):
    """A's security log (`sotto-cli log --json`, handed to the runner) counts
    every garbage and stalled connection, summarised per source address and
    reason: a few entries, not a row per connection. Returns the number of
    connection-refused entries."""
    entries = json.loads(alice.cli('log', '--limit', '2000', '--json').stdout)
    refused = [e for e in entries if e['event'] == 'connection-refused']

    def counted(sources, reasons):
        return sum(e['count'] for e in refused
                   if e['subject'] in sources and e['detail'] in reasons)

    garbage = counted(GARBAGE_SOURCES, ('failed',))
    if garbage != GARBAGE:
        raise Failure(f'the security log counts {garbage} failed handshakes from the garbage '
                      f'sources, not {GARBAGE}')
    stalled = counted(STALLED_SOURCES, ('failed', 'too-many'))
    if stalled != STALLED:
        raise Failure(f'the security log counts {stalled} stalled connections, not {STALLED}')
    # Per source, reason and hour: two hours at most, if the flood met a turn.
    sources = len(HANDSHAKE_SOURCES) + len(GARBAGE_SOURCES) + len(STALLED_SOURCES) + 1
    if len(refused) > sources * 2 * 2:
        raise Failure(f'{len(refused)} connection-refused entries for {sources} sources: '
                      'not summarised')
    return len(refused)


def flood_scenario(world, bench=False):
    """The scenario; returns the figures. Raises Failure on a failed check."""
    sp = import_sotto_peer()
    alice, bob = peers.pair(world)
    carol = Peer(world, 'Carol').init()
    carol.add(alice)   # a stranger to Alice, for after the flood
    all_peers = [alice, bob, carol]
    key = sp.read_invite(alice.invite)['key']
    figures = {}

    alice.start()
    bob.start()
    wait_for(all_peers, alice, 0, 'connected', contact='Bob')
    wait_for(all_peers, bob, 0, 'connected', contact='Alice')
    exchange = Exchange(alice, bob)
    sampler = Sampler(alice.proc.pid)
    attacker = None
    try:
        exchange.start()
        pump(all_peers, time.monotonic() + WARMUP)
        if bench:
            figures['quiet'] = quiet_phase(all_peers, sampler)

        # The baseline the CPU must come back to: the exchange alone.
        base_start = time.monotonic()
        pump(all_peers, base_start + BASELINE)
        base_end = time.monotonic()
        rates = sampler.windows(base_start, base_end)
        figures['cpu_base_mean'] = sum(rates) / len(rates)
        figures['cpu_base_max'] = max(rates)
        fds_before = open_fds(alice.proc.pid)

        attacker = Attacker(alice.port, key)
        start = attacker.next('start', all_peers, TIMEOUT)['t']

        if not bench:
            # A contact's new connection gets in while the flood goes on: Bob
            # quits and starts again halfway through (his messages wait in his
            # outbox meanwhile, Alice's in hers).
            pump(all_peers, start + WINDOW / 2 - 1)
            bob_during = restart(all_peers, exchange, bob, alice)

        done = attacker.next('active-done', all_peers, WINDOW + 4 * ANSWER_WAIT)
        flood_end = done['t']
        if not bench:
            figures['bob_during'] = tuple(t - start for t in bob_during)
        report = attacker.next('report', all_peers,
                                 WINDOW + HANDSHAKE_TIMER + CLOSE_GRACE + ANSWER_WAIT)
        pump(all_peers, max(start + SPAN, time.monotonic()))
        end = time.monotonic()
        attacker.stop()
        if alice.proc.poll() is not None:
            raise Failure(f'Alice died in the flood: exit {alice.proc.returncode}; '
                          f'stderr: {"".join(alice.stderr[-20:])}')

        rss0, peak, rss1, hwm0, hwm1 = sampler.memory(start, end)
        figures.update(rss_start=rss0, rss_growth=peak - rss0, rss_end=rss1 - rss0,
                       hwm=(hwm0, hwm1), cpu=sampler.cpu_seconds(start, end),
                       cpu_window=sampler.cpu_seconds(start, start + WINDOW),
                       back=sampler.back_to(figures['cpu_base_max'], flood_end, end),
                       after=[sampler.cpu_rate(flood_end + s, flood_end + s + 1) for s in range(5)],
                       report=report, flood_seconds=flood_end - start,
                       attacker_cpu=done['cpu'])

        requested = check_requests(alice, report)
        figures['requested'] = len(requested)
        check_closed(report)
        figures['fds'] = check_files(all_peers, alice, fds_before)
        newest = check_capped(all_peers, exchange, alice, requested, report)
        figures['pending'] = len(newest)
        figures['log_entries'] = check_log(alice)

        # The contact gets back in after the flood.
        started, connected = restart(all_peers, exchange, bob, alice)
        figures['bob_after'] = connected - started

        # Every message of the exchange, both ways, exactly once.
        exchange.stop()
        check_exchange(all_peers, exchange, alice, bob)
        figures['messages'] = {name: len(sent) for name, sent in exchange.sent.items()}

        new_stranger(all_peers, exchange, alice, carol, newest)

        # Nothing any peer was asked to do failed.
        for peer in all_peers:
            if errors_of(peer):
                raise Failure(f'{peer.name}: {errors_of(peer)[:3]}')
    finally:
        exchange.stopped.set()
        sampler.stop()
        if attacker is not None:
            attacker.stop()

    for peer in all_peers:
        peer.stop()

    check_on_disk(exchange, alice, bob)
    return figures


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------

def missed(ok):
    return '' if ok else '  — TARGET MISSED'


def print_figures(figures, prefix='# '):
    """The measured figures, one per line, each target said met or missed."""
    report = figures['report']
    pending = len(report['pending'])
    seconds = report['end'] - report['t0']
    lines = [
        f'handshakes: {pending} of {HANDSHAKES} from unknown keys became requests in '
        f'{seconds:.1f} s ({pending / seconds:.0f} per second; window {WINDOW:.0f} s); '
        f'outcomes: {report["outcomes"]}',
        f'A made {figures["requested"]} request events; the attackers used '
        f'{figures["attacker_cpu"]:.1f} s of CPU',
        f'garbage: {GARBAGE} connections, {report["garbage_closed"]} closed by A '
        f'(slowest {report["garbage_slowest"]:.2f} s)',
        f'stalled: {STALLED} connections, {report["stalled_closed"]} closed by A: '
        f'{report["stalled_early"]} early (the oldest dropped for newer handshakes), '
        f'slowest {report["stalled_slowest"]:.1f} s',
        f'request sessions A still held after the flood: {len(report["held"])} '
        f'(it ended {report["dropped"]})',
        f'requests pending at the end: {figures["pending"]} (cap {MAX_REQUESTS})',
        f'security log: {figures["log_entries"]} connection-refused entries summarise the '
        f'{GARBAGE} garbage and {STALLED} stalled connections',
        f'A\'s open files: {figures["fds"][0]} before, {figures["fds"][1]} after',
        f'peak RSS growth: {mib(figures["rss_growth"]):.1f} MiB (target ≤ {RSS_TARGET_MIB} MiB)'
        + missed(figures['rss_growth'] <= RSS_TARGET_MIB * 1024),
        f'VmHWM growth: {mib(figures["hwm"][1] - figures["hwm"][0]):.1f} MiB '
        f'({mib(figures["hwm"][0]):.1f} MiB before: the peak so far, opening the profile '
        f'included); RSS {mib(figures["rss_start"]):.1f} MiB before, '
        f'{mib(figures["rss_end"]):+.1f} MiB after',
        f'CPU of A: {figures["cpu_window"]:.2f} s in the {WINDOW:.0f} s window, {figures["cpu"]:.2f} s '
        f'in {SPAN:.0f} s; exchange alone: {100 * figures["cpu_base_mean"]:.1f} % mean, '
        f'{100 * figures["cpu_base_max"]:.1f} % in its busiest {CPU_WINDOW} s',
    ]
    back = figures['back']
    if back is None:
        lines.append(f'CPU back to baseline after: never in {SPAN - figures["flood_seconds"]:.0f} s '
                     f'(target ≤ {CPU_TARGET_S:.0f} s) — TARGET MISSED')
    else:
        lines.append(f'CPU back to baseline after: {back:.2f} s (target ≤ {CPU_TARGET_S:.0f} s; '
                     f'{CPU_WINDOW} s, one window, is the least it can say)'
                     + missed(back <= CPU_TARGET_S))
    lines.append('CPU of A each second after the flood: '
                 + ', '.join(f'{100 * r:.0f} %' for r in figures['after'] if r is not None))
    if 'bob_during' in figures:
        started, connected = figures['bob_during']
        lines.append(f'Bob restarted {started:.1f} s into the flood: connected again after '
                     f'{connected - started:.2f} s'
                     + (' (during the flood)' if connected <= figures['flood_seconds']
                        else ' (only after the flood)'))
    lines.append(f'Bob restarted after the flood: connected again after {figures["bob_after"]:.2f} s')
    lines.append('contact messages: ' + ', '.join(f'{n} from {name}'
                                                  for name, n in figures['messages'].items())
                 + ', each arrived once')
    for line in lines:
        print(prefix + line)


def print_table(figures):
    quiet = figures['quiet']
    rows = [
        ('RSS at the start (MiB)', mib(quiet['rss_start']), mib(figures['rss_start'])),
        ('peak RSS growth (MiB)', mib(quiet['rss_growth']), mib(figures['rss_growth'])),
        ('RSS growth at the end (MiB)', mib(quiet['rss_end']), mib(figures['rss_end'])),
        ('VmHWM growth (MiB)', mib(quiet['hwm'][1] - quiet['hwm'][0]),
         mib(figures['hwm'][1] - figures['hwm'][0])),
        (f'CPU of A in the first {WINDOW:.0f} s (s)', quiet['cpu_window'], figures['cpu_window']),
        (f'CPU of A in {SPAN:.0f} s (s)', quiet['cpu'], figures['cpu']),
    ]
    print(f'A (sotto-cli run) with a contact exchanging a message every {TICK * 1000:.0f} ms '
          f'each way, for {SPAN:.0f} s:')
    print(f'  {"":36} {"no flood":>10} {"flood":>10}')
    for name, a, b in rows:
        print(f'  {name:36} {a:10.2f} {b:10.2f}')
    print(f'the flood: {HANDSHAKES} handshakes, {GARBAGE} garbage and {STALLED} stalled connections '
          f'in {WINDOW:.0f} s:')
    print_figures(figures, prefix='  ')


def main():
    if sys.argv[1:2] == ['--attack']:
        return attack_main(int(sys.argv[2]), sys.argv[3])
    bench = sys.argv[1:] == ['--bench']
    if sys.argv[1:] and not bench:
        print('Usage: flood.py [--bench]', file=sys.stderr)
        return 2
    if not bench:
        print('1..1')
    world = peers.World()
    start = time.monotonic()
    try:
        figures = flood_scenario(world, bench)
    except Skip as e:
        print(f'ok 1 /flood/flood # SKIP {e}' if not bench else f'skipped: {e}')
        return 0 if not bench else 77
    except Failure as e:
        print('not ok 1 /flood/flood' if not bench else 'the flood failed:')
        for line in str(e).splitlines():
            print(f'# {line}')
        return 1
    finally:
        world.cleanup()
    if bench:
        print_table(figures)
    else:
        print_figures(figures)
        print(f'ok 1 /flood/flood # {time.monotonic() - start:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
