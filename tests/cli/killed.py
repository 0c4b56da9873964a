#!/usr/bin/python3
# killed.py — `sotto-cli run` killed with SIGKILL at random moments, over
# real TCP on loopback: kill -9 loses nothing and duplicates nothing, for
# messages typed into `run` and for one-shot `send` commands handed over
# to it.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: killed.py [TEST...]   (SOTTO_CLI names the sotto-cli binary;
# SOTTO_KILLED_SEED repeats the random choices of an earlier run)
# Prints TAP.

import collections
import os
import queue
import random
import re
import subprocess
import sys
import threading
import time
import traceback

# peers.py's helpers; no bytecode left in the source tree (it may be read-only).
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402  (World, Peer, pair, free_port)

from peers import Failure  # noqa: E402

# What a one-shot command handed to a process that died says (sotto-control.c).
NO_REPLY = 'stopped before it answered'


def drain(peer, handle):
    """Hands every event the running peer printed so far to @handle."""
    while peer.pending:
        handle(peer, peer.pending.pop(0))
    while True:
        try:
            event = peer.events.get_nowait()
        except queue.Empty:
            return
        peer.log.append(event)
        if event['event'] in ('eof', 'unparsable'):
            peer.proc.poll()
            raise Failure(f'{peer.name}: {event} (exit status {peer.proc.returncode}); '
                          f'stderr: {"".join(peer.stderr)}')
        handle(peer, event)


def kill(peer, handle):
    """kill -9 of the peer's runner; what it printed before it died goes to @handle."""
    proc, events = peer.proc, peer.events
    proc.kill()
    proc.wait()
    peer.proc = None
    try:
        proc.stdin.close()
    except OSError:
        pass
    for event in peer.pending:
        handle(peer, event)
    peer.pending = []
    deadline = time.monotonic() + 10
    while True:
        try:
            event = events.get(timeout=max(deadline - time.monotonic(), 0))
        except queue.Empty:
            raise Failure(f'{peer.name}: its output did not end after kill -9')
        peer.log.append(event)
        if event['event'] == 'eof':
            return
        if event['event'] == 'unparsable':
            # The line being written when the process died: never printed.
            if not event['line'].endswith('\n'):
                continue
            raise Failure(f'{peer.name}: {event}')
        handle(peer, event)


# How often `run` found the profile held by a one-shot command.
held = collections.Counter()


def restart(peer):
    """Starts the peer's runner again. A one-shot command that runs on the
    profile itself holds it meanwhile: `run` then exits 3, and is retried."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return peer.start()
        except Failure as e:
            proc = peer.proc
            peer.proc = None
            try:
                status = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise Failure(f'{peer.name}: run after a kill: {e}')
            if status != 3 or time.monotonic() > deadline:
                raise Failure(f'{peer.name}: run after a kill: exit {status}; '
                              f'stderr: {"".join(peer.stderr)}')
            held[peer.name] += 1
            time.sleep(0.05)


def check_event(peer, event):
    """Events that say something went wrong, whatever the test."""
    if event['event'] in ('error', 'store-failed', 'warning', 'key-changed', 'not-sent'):
        raise Failure(f'{peer.name}: {event}')


# ---------------------------------------------------------------------------

class Side:
    """What one peer sends in /killed/exchange, and what it was told."""

    def __init__(self, peer, other, prefix, n):
        self.peer = peer
        self.other = other
        self.prefix = prefix
        self.todo = collections.deque(f'{prefix} {i:04d}' for i in range(n))
        self.typed = []          # typed into the current runner, no `queued` yet
        self.accepted = {}       # uid → body: `queued` printed, or found in the history
        self.recovered = 0       # in doubt after a kill, found stored
        self.retyped = 0         # in doubt after a kill, not stored: typed again
        self.delivered = set()   # uids
        self.shown = {}          # uid → body, `message` events of the other's messages
        self.shown_twice = []

    def type_some(self, count):
        for _ in range(min(count, len(self.todo))):
            body = self.todo.popleft()
            self.typed.append(body)
            self.peer.say(f'send {self.other.name} {body}')

    def handle(self, peer, event):
        check_event(peer, event)
        kind = event['event']
        if kind == 'queued':
            if not self.typed:
                raise Failure(f'{peer.name}: {event} for nothing typed')
            self.accepted[event['uid']] = self.typed.pop(0)
        elif kind == 'delivered':
            self.delivered.add(event['uid'])
        elif kind == 'message':
            if event['uid'] in self.shown:
                self.shown_twice.append(event)
            self.shown[event['uid']] = event['body']

    def resolve_doubt(self, doubt):
        """Bodies typed into a runner killed before it said `queued`: it
        may have stored them. The history says (as README tells a user to
        check); what is not there is typed again."""
        if not doubt:
            return
        out = [m for m in self.peer.history(self.other.name) if m['direction'] == 'out']
        retype = []
        for body in doubt:
            stored = [m for m in out if m['body'] == body]
            if len(stored) > 1:
                raise Failure(f'{self.peer.name}: “{body}” stored {len(stored)} times: '
                              f'{stored}')
            if stored:
                self.accepted[stored[0]['uid']] = body
                self.recovered += 1
            else:
                retype.append(body)
        self.retyped += len(retype)
        self.todo.extendleft(reversed(retype))

    def poll_delivered(self):
        """Delivered while no runner printed it (killed in between): the history knows."""
        for m in self.peer.history(self.other.name):
            if m['direction'] == 'out' and m['state'] == 'delivered':
                self.delivered.add(m['uid'])


def check_histories(sides):
    """Each accepted message exactly once on both sides, by uid and by body;
    nothing that was never accepted. Returns (lost, duplicated, problems)."""
    lost = duplicated = 0
    problems = []
    histories = {side.peer.name: side.peer.history(side.other.name) for side in sides}
    for side in sides:
        mine = histories[side.peer.name]
        theirs = histories[side.other.name]
        accepted_bodies = set(side.accepted.values())
        if len(accepted_bodies) != len(side.accepted):
            problems.append(f'{side.peer.name}: one body accepted under two uids: '
                            f'{sorted(side.accepted.items(), key=lambda kv: kv[1])}')
        for where, history, direction in ((side.peer.name, mine, 'out'),
                                          (side.other.name, theirs, 'in')):
            rows = [m for m in history if m['body'].startswith(side.prefix + ' ')]
            by_uid = collections.defaultdict(list)
            by_body = collections.defaultdict(list)
            for m in rows:
                by_uid[m['uid']].append(m)
                by_body[m['body']].append(m)
            for uid, body in sorted(side.accepted.items(), key=lambda kv: kv[1]):
                found = by_body.get(body, [])
                if not found:
                    lost += 1
                    problems.append(f'{where}: lost “{body}” ({uid})')
                    continue
                if len(found) > 1 or len(by_uid.get(uid, [])) > 1:
                    duplicated += len(found) - 1
                    problems.append(f'{where}: “{body}” {len(found)} times: {found}')
                m = found[0]
                if m['uid'] != uid:
                    problems.append(f'{where}: “{body}” under uid {m["uid"]}, queued as {uid}')
                if m['direction'] != direction:
                    problems.append(f'{where}: “{body}” has direction {m["direction"]}')
                if direction == 'out' and m['state'] != 'delivered':
                    problems.append(f'{where}: “{body}” is {m["state"]}, not delivered')
            for body, found in sorted(by_body.items()):
                if body not in accepted_bodies:
                    duplicated += len(found)
                    problems.append(f'{where}: “{body}” was never accepted, yet is there: '
                                    f'{found}')
    return lost, duplicated, problems


def test_exchange(world, rng):
    """300 messages both ways while the runners are killed and restarted."""
    n = 150
    alice, bob = peers.pair(world)
    alice.start()
    bob.start()
    alice.expect('connected', contact='Bob')
    sides = {alice: Side(alice, bob, 'a-to-b', n), bob: Side(bob, alice, 'b-to-a', n)}

    def handle(peer, event):
        sides[peer].handle(peer, event)

    # The kills: at random points of the typing, each after a random short
    # while, so that some land while a runner stores what it was given,
    # some while it receives or acknowledges, some while it starts.
    kills_wanted = rng.randint(9, 12)
    kill_points = sorted(rng.sample(range(10, 2 * n), kills_wanted))
    victims = [rng.choice((alice, bob)) for _ in kill_points]
    if alice not in victims or bob not in victims:
        victims[0] = bob if victims[0] is alice else alice
    kills = []

    typed = 0
    while kill_points or any(side.todo or side.typed for side in sides.values()):
        for side in sides.values():
            burst = rng.randint(1, 6)
            typed += min(burst, len(side.todo))
            side.type_some(burst)
        for peer in sides:
            drain(peer, handle)
        if kill_points and typed >= kill_points[0]:
            kill_points.pop(0)
            victim = victims[len(kills)]
            # Often at once: the runner is then still storing what it was
            # just given, or taking what the other just sent.
            time.sleep(rng.uniform(0, rng.choice((0.003, 0.02, 0.1))))
            kill(victim, handle)
            kills.append((victim.name, typed))
            side = sides[victim]
            doubt, side.typed = side.typed, []
            restart(victim)
            side.resolve_doubt(doubt)
        time.sleep(rng.uniform(0.005, 0.05))
        for peer in sides:
            drain(peer, handle)
    if len(kills) < 8:
        raise Failure(f'only {len(kills)} kills: the test proves little')

    # Both run again: every accepted message gets delivered, the ones a
    # restarted sender had in its outbox too.
    deadline = time.monotonic() + 60
    last_poll = time.monotonic()
    while True:
        for peer in sides:
            drain(peer, handle)
        missing = {side.peer.name: set(side.accepted) - side.delivered for side in sides.values()}
        if not any(missing.values()):
            break
        if time.monotonic() > deadline:
            raise Failure(f'not delivered within 60 s: '
                          + '; '.join(f'{name}: {sorted(sides_missing)[:10]}'
                                      for name, sides_missing in missing.items()))
        if time.monotonic() - last_poll > 1.0:
            for side in sides.values():
                side.poll_delivered()
            last_poll = time.monotonic()
        time.sleep(0.05)
    bob.quiet_for(0.5, ('error',))
    alice.quiet_for(0.5, ('error',))
    for peer in sides:
        drain(peer, handle)
    alice.stop()
    bob.stop()

    problems = []
    for side in sides.values():
        for event in side.shown_twice:
            problems.append(f'{side.peer.name}: shown twice: {event}')
    lost, duplicated, found = check_histories(list(sides.values()))
    problems += found
    total = sum(len(side.accepted) for side in sides.values())
    recovered = sum(side.recovered for side in sides.values())
    retyped = sum(side.retyped for side in sides.values())
    print(f'# kills (runner, messages typed by then): {kills}')
    print(f'# in doubt after a kill: {recovered} found stored, {retyped} typed again')
    print(f'# {total} messages, {len(kills)} kills: {lost} lost, {duplicated} duplicated')
    if total != 2 * n:
        problems.append(f'{total} messages accepted, not {2 * n}')
    if problems:
        raise Failure('\n'.join(problems[:40]))


# ---------------------------------------------------------------------------

def test_forwarded_send(world, rng):
    """One-shot sends handed to a runner that is killed under them: each is
    carried out once, or said to be in doubt (and then there at most once)."""
    n = 40
    held.clear()
    alice, bob = peers.pair(world)
    alice.start()
    bob.start()
    alice.expect('connected', contact='Bob')

    bob_shown = collections.defaultdict(list)

    def handle(peer, event):
        check_event(peer, event)
        if peer is bob and event['event'] == 'message':
            bob_shown[event['uid']].append(event['body'])

    results = []
    children = []        # every one-shot process, killed and waited for at the end
    lock = threading.Lock()
    stop = threading.Event()

    def one_shot(body, delay):
        time.sleep(delay)
        cmd = [peers.CLI, '--profile', alice.profile, '--passphrase-file', alice.passfile,
               'send', 'Bob', body]
        with lock:
            if stop.is_set():
                return
            proc = subprocess.Popen(cmd, env=world.env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            children.append(proc)
        began = time.monotonic()
        try:
            out, err = proc.communicate(timeout=peers.TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            err += '\n(killed by the test: no answer in time)'
        with lock:
            results.append((body, proc.returncode, out, err, time.monotonic() - began))

    # Rounds of a few one-shot sends, started at random moments within
    # 0.4 s; Alice's runner is killed shortly after one of them started:
    # before that one found the socket, while the runner stores its
    # message, or after it answered. Those that come while the runner is
    # dead run on the profile themselves, or find it held by the runner
    # starting again.
    rounds = rng.randint(6, 8)
    bodies = [f'one-shot {i:04d}' for i in range(n)]
    kills = 0
    threads = []
    try:
        for r in range(rounds):
            batch = bodies[r * n // rounds:(r + 1) * n // rounds]
            delays = [rng.uniform(0, 0.4) for _ in batch]
            round_threads = [threading.Thread(target=one_shot, args=(body, delay), daemon=True)
                             for body, delay in zip(batch, delays)]
            threads += round_threads
            began = time.monotonic()
            for thread in round_threads:
                thread.start()
            kill_at = rng.choice(delays) + rng.uniform(0, 0.05)
            while time.monotonic() - began < kill_at:
                drain(alice, handle)
                drain(bob, handle)
                time.sleep(0.005)
            kill(alice, handle)
            kills += 1
            restart(alice)
            for thread in round_threads:
                thread.join(timeout=peers.TIMEOUT + 10)
            drain(alice, handle)
            drain(bob, handle)
    finally:
        stop.set()
        with lock:
            for proc in children:
                if proc.poll() is None:
                    proc.kill()
        for thread in threads:
            thread.join(timeout=peers.TIMEOUT + 10)
        for proc in children:
            proc.wait()

    if len(results) != n:
        raise Failure(f'{len(results)} of {n} sends ran')

    # Everything Alice stored reaches Bob: wait until her history says delivered.
    deadline = time.monotonic() + 60
    while True:
        drain(alice, handle)
        drain(bob, handle)
        pending = [m for m in alice.history('Bob') if m['state'] != 'delivered']
        if not pending:
            break
        if time.monotonic() > deadline:
            raise Failure(f'not delivered within 60 s: {pending}')
        time.sleep(0.5)
    bob.quiet_for(1.0, ('error',))
    drain(bob, handle)
    alice.stop()
    bob.stop()

    at_alice = collections.defaultdict(list)
    for m in alice.history('Bob'):
        at_alice[m['body']].append(m)
    at_bob = collections.defaultdict(list)
    for m in bob.history('Alice'):
        at_bob[m['body']].append(m)

    problems = []
    lost = duplicated = 0
    outcomes = collections.Counter()
    examples = {}
    sent = set()
    for body, status, out, err, took in sorted(results):
        sent.add(body)
        here, there = at_alice.get(body, []), at_bob.get(body, [])
        what = f'“{body}”: exit {status}, stdout {out!r}, stderr {err!r}'
        if len(here) > 1 or len(there) > 1:
            duplicated += max(len(here), len(there)) - 1
            problems.append(f'{what}: {len(here)} times at Alice, {len(there)} at Bob')
        if status == 0:
            match = re.fullmatch(r'queued: ([0-9a-f]{32})\n', out)
            if match is None:
                problems.append(f'{what}: no “queued: UID”')
                continue
            uid = match.group(1)
            # Handed over, it takes milliseconds; on the profile itself,
            # opening it (Argon2id) takes most of a second.
            outcome = 'queued' if took < 0.4 else 'queued, slowly (run on the profile itself)'
            outcomes[outcome] += 1
            examples.setdefault(outcome, (out + err).strip())
            if not here or not there:
                lost += 1
                problems.append(f'{what}: lost ({len(here)} at Alice, {len(there)} at Bob)')
                continue
            if here[0]['uid'] != uid or there[0]['uid'] != uid:
                problems.append(f'{what}: stored as {here[0]["uid"]}, received as '
                                f'{there[0]["uid"]}')
        elif status == 1 and NO_REPLY in err and 'history' in err:
            outcome = 'in doubt, carried out' if here else 'in doubt, not carried out'
            outcomes[outcome] += 1
            examples.setdefault(outcome, (out + err).strip())
            if here and not there:
                lost += 1
                problems.append(f'{what}: stored by Alice, never reached Bob')
        elif status == 3 and 'in use' in err:
            # It ran on its own while the restarted runner held the profile,
            # or another one-shot did: nothing was written.
            outcome = 'refused, profile in use'
            outcomes[outcome] += 1
            examples.setdefault(outcome, (out + err).strip())
            if here:
                problems.append(f'{what}: refused, yet stored: {here}')
        else:
            outcome = f'exit {status}'
            outcomes[outcome] += 1
            examples.setdefault(outcome, (out + err).strip())
            problems.append(f'{what}: not an outcome a user can act on')
        for m in here:
            if m['direction'] != 'out' or m['state'] != 'delivered':
                problems.append(f'{what}: at Alice: {m}')
        for m in there:
            if m['direction'] != 'in':
                problems.append(f'{what}: at Bob: {m}')
        if here and there and here[0]['uid'] != there[0]['uid']:
            problems.append(f'{what}: Alice’s uid {here[0]["uid"]}, Bob’s {there[0]["uid"]}')
    for body in sorted(set(at_alice) | set(at_bob)):
        if body not in sent:
            problems.append(f'“{body}” was never sent, yet is there')
    for uid, shown in bob_shown.items():
        if len(shown) > 1:
            problems.append(f'Bob was shown {uid} {len(shown)} times: {shown}')
    print(f'# {n} one-shot sends, {kills} kills: '
          + ', '.join(f'{count} {outcome}' for outcome, count in sorted(outcomes.items())))
    for outcome, text in sorted(examples.items()):
        print(f'# {outcome}, for instance: {text!r}')
    print(f'# Alice’s runner found the profile held by a one-shot send {held[alice.name]} times')
    print(f'# {lost} lost, {duplicated} duplicated')
    if problems:
        raise Failure('\n'.join(problems[:40]))


TESTS = {
    'exchange': test_exchange,
    'forwarded-send': test_forwarded_send,
}


def main():
    names = sys.argv[1:] or list(TESTS)
    seed = int(os.environ.get('SOTTO_KILLED_SEED', str(random.randrange(1 << 32))))
    print(f'1..{len(names)}')
    print(f'# SOTTO_KILLED_SEED={seed}')
    failed = 0
    for number, name in enumerate(names, 1):
        world = peers.World()
        # One generator per test, so that a seed repeats each test on its own.
        rng = random.Random(f'{seed}/{name}')
        try:
            start = time.monotonic()
            TESTS[name](world, rng)
            print(f'ok {number} /killed/{name} # {time.monotonic() - start:.1f} s')
        except Exception as e:
            failed += 1
            print(f'not ok {number} /killed/{name}')
            text = str(e) if isinstance(e, Failure) else traceback.format_exc()
            for line in text.splitlines():
                print(f'# {line}')
            for peer in world.peers:
                print(f'# {peer.name}: last events: {peer.log[-8:]}')
                for line in getattr(peer, 'stderr', []):
                    print(f'# {peer.name}: stderr: {line.rstrip()}')
        finally:
            world.cleanup()
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
