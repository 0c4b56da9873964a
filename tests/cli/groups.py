#!/usr/bin/python3
# groups.py — group conversations (PROTOCOL.md "Groups", revision 3) between
# `sotto-cli run` processes over real TCP on loopback, and against crafted
# members: tests/interop/sotto_peer.py, the second implementation written
# from PROTOCOL.md alone, acting as a member or a contact that forges.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: groups.py [TEST...]   (SOTTO_CLI names the sotto-cli binary;
# SOTTO_GROUPS_TIMEOUT the seconds any one thing may take, default 180;
# SOTTO_GROUPS_SETTLE the seconds /groups/five waits for every copy, default 600)
# Prints TAP.
#
#   five         five runners, one admin whose contacts the four others are
#                (they are not each other's): 20 messages each, one runner
#                stopped for a while, one killed with SIGKILL and restarted;
#                in the end every history holds all 100, each once
#   removal      a removed member gets nothing sent after its removal, and
#                what it sends reaches nobody
#   not-contact  two members who are not each other's contacts talk through
#                the group only: no direct message either way, and a direct
#                TEXT over their member session (from the Python peer) is dropped
#   forged       records signed by a member who is no admin, texts from a
#                non-member and from a removed member, an old record replayed,
#                a malformed record: nothing of it is taken

import collections
import json
import os
import random
import re
import sys
import time
import traceback

# peers.py's helpers and the Python peer; no bytecode left in the source tree.
sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import peers  # noqa: E402  (World, Peer, free_port)

from peers import Failure, Skip  # noqa: E402

INTEROP = os.path.join(HERE, '..', 'interop')
TIMEOUT = float(os.environ.get('SOTTO_GROUPS_TIMEOUT', '180'))
SETTLE = float(os.environ.get('SOTTO_GROUPS_SETTLE', '600'))
GROUP_ID = re.compile(r'^\s*([0-9a-fA-F]{32})\s*$', re.M)
UID = re.compile(r'\b([0-9a-f]{32})\b')


def interop():
    """sotto_peer.py (needs PyNaCl and cryptography, as the interop test does)."""
    if INTEROP not in sys.path:
        sys.path.insert(0, INTEROP)
    try:
        import sotto_peer
    except ImportError as e:
        raise Skip(f'the Python peer can not be loaded: {e}')
    return sotto_peer


# ---------------------------------------------------------------------------
# sotto-cli's group commands

def create_group(admin, name, *members):
    """`group create NAME MEMBER…`: the new group's id (32 hex digits on a line of its own)."""
    result = admin.cli('group', 'create', name, *[m.name for m in members])
    ids = GROUP_ID.findall(result.stdout)
    if len(ids) != 1:
        raise Failure(f'group create printed {result.stdout!r}, not one group id')
    return ids[0].lower()


def groups_of(peer):
    return json.loads(peer.cli('groups', '--json').stdout)


def group_entry(peer, gid):
    found = [g for g in groups_of(peer) if g['id'] == gid]
    if len(found) != 1:
        raise Failure(f'{peer.name}: groups --json lists group {gid} {len(found)} times: {groups_of(peer)}')
    return found[0]


def members_of(peer, gid):
    return json.loads(peer.cli('group', 'members', gid, '--json').stdout)


def member_view(peer, gid):
    """What a member list says, to compare before and after: (fingerprint, name, role) sorted."""
    return sorted((m['fingerprint'], m['name'], m['role']) for m in members_of(peer, gid))


def group_send(peer, gid, body):
    """`send GROUP TEXT`, handed to the runner if one runs: the message's uid."""
    result = peer.cli('send', gid, body)
    match = UID.search(result.stdout)
    if match is None:
        raise Failure(f'{peer.name}: send {gid} {body!r} printed {result.stdout!r}')
    return match.group(1)


def group_history(peer, gid):
    return peer.history(gid, limit=1000)


def fingerprint_of(peer):
    if isinstance(peer, PyPeer):
        return peer.fingerprint
    if not hasattr(peer, '_fingerprint'):
        peer._fingerprint = peer.cli('fingerprint').stdout.strip()
    return peer._fingerprint


def key_of(peer):
    """The X25519 public key of a sotto-cli peer, from its invite."""
    return interop().read_invite(peer.invite)['key']


# ---------------------------------------------------------------------------
# Events

def drain(peer):
    """Every event the running peer printed so far, into its log (and pending)."""
    if getattr(peer, 'proc', None) is None and not isinstance(peer, PyPeer):
        return
    while peer.poll(0) is not None:
        pass


def seen(peer, kind, **fields):
    """Events of this kind and with these fields in everything the peer printed so far."""
    drain(peer)
    return [e for e in peer.log
            if e.get('event') == kind and all(e.get(k) == v for k, v in fields.items())]


def never(peers_, seconds, kind, **fields):
    """Waits @seconds, then fails if any of @peers_ printed such an event (now or before)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for peer in peers_:
            drain(peer)
        time.sleep(0.2)
    for peer in peers_:
        found = seen(peer, kind, **fields)
        if found:
            raise Failure(f'{peer.name}: unexpected {found}')


def wait_until(what, predicate, timeout=TIMEOUT, interval=1.0, peers_=()):
    """Polls @predicate (returning a true value when done) until @timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure(f'{what}: not within {timeout:.0f} s')
        for peer in peers_:
            drain(peer)
        time.sleep(interval)


def bodies_in(peer, gid):
    return collections.Counter(m['body'] for m in group_history(peer, gid))


# ---------------------------------------------------------------------------
# The Python peer as a group member (or a contact that forges)

class PyPeer:
    """sotto_peer.py's Peer, on a thread of its own, with groups: hello version 3
    with the GROUPS bit, its signing key, and the group rules of PROTOCOL.md.
    Its events look like sotto_peer.py's JSON lines (group-joined, group-message,
    group-delivered, receipt with "named" ids, dropped, connected with "kind", …)."""

    def __init__(self, world, name):
        sp = interop()
        self.sp = sp
        self.world = world
        self.name = name
        self.port = peers.free_port()
        self.ident = sp.new_identity(name)
        self.pk = bytes.fromhex(self.ident['public'])
        self.invite = sp.write_invite(self.pk, name, [f'127.0.0.1:{self.port}'])
        self.fingerprint = sp.fingerprint(self.pk)
        self.thread = None
        self.log = []
        self.pending = []
        world.py_peers = getattr(world, 'py_peers', []) + [self]

    def start(self, *contacts):
        """Online, listening on its port, dialling these contacts (sotto-cli peers)."""
        sp = self.sp
        self.thread = sp.PeerThread(self.ident, sp.contacts_from_invites([c.invite for c in contacts]),
                                    listen=self.port, dial=True, groups=True, max_backoff=2.0).start()
        self.peer = self.thread.peer
        return self

    def call(self, method, *args, timeout=60):
        """A method of the Peer (or a function), run on its loop: its result."""
        fn = getattr(self.peer, method) if isinstance(method, str) else method
        return self.thread.call(fn, *args, timeout=timeout)

    def poll(self, timeout):
        try:
            event = self.thread.events.get(timeout=timeout)
        except Exception:
            return None
        self.log.append(event)
        if event['event'] in ('crashed', 'exit'):
            raise Failure(f'{self.name} (Python peer): {event}')
        self.pending.append(event)
        return event

    def expect(self, kind, timeout=TIMEOUT, **fields):
        def matches(event):
            return event['event'] == kind and all(event.get(k) == v for k, v in fields.items())

        for i, event in enumerate(self.pending):
            if matches(event):
                return self.pending.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure(f'{self.name} (Python peer): no “{kind}” {fields} within {timeout:.0f} s; '
                              f'last events: {self.log[-8:]}')
            event = self.poll(min(left, 0.5))
            if event is not None and matches(event):
                self.pending.remove(event)
                return event

    def receipts_naming(self, mid_hex, contact=None):
        drain(self)
        return [e for e in self.log if e['event'] == 'receipt' and mid_hex in e.get('named', [])
                and (contact is None or e.get('contact') == contact)]

    def alive(self, pk):
        """The session with @pk answers a PING: it is up, and read past what we sent before."""
        return self.call('ping', pk, 10.0, timeout=30)

    def stop(self):
        if self.thread is not None:
            self.thread.stop()


def cleanup_py(world):
    for peer in getattr(world, 'py_peers', []):
        try:
            peer.stop()
        except Exception:
            pass


# ---------------------------------------------------------------------------

def test_five(world, rng):
    """Five runners; the admin's contacts are not each other's. 20 messages each while
    one is stopped for a while and one is killed and restarted: all 100 everywhere, once."""
    n = 20
    names = ['Ann', 'Ben', 'Cat', 'Dan', 'Eve']
    ps = [peers.Peer(world, name).init() for name in names]
    hub, others = ps[0], ps[1:]
    for p in others:
        hub.add(p)
        p.add(hub)
    for p in ps:
        p.start()
    for p in others:
        hub.expect('connected', contact=p.name, timeout=TIMEOUT)

    gid = create_group(hub, 'Five', *others)
    for p in others:
        joined = p.expect('group-joined', group=gid, timeout=TIMEOUT)
        if joined.get('name') != 'Five':
            raise Failure(f'{p.name}: {joined}')
    entry = group_entry(hub, gid)
    if entry['members'] != 5 or entry['role'] != 'admin' or entry['state'] != 'member':
        raise Failure(f'{hub.name}: groups --json: {entry}')

    stopped, killed = ps[3], ps[4]
    plan = []
    expected = {}
    for j in range(n):
        order = list(range(5))
        rng.shuffle(order)
        plan.append(order)
    for j, order in enumerate(plan):
        if j == 5:
            stopped.stop()              # cleanly; its next sends run on the profile itself
        if j == 13:
            stopped.start()
        if j == 11:
            killed.start()
        for i in order:
            body = f'p{i} m{j:02d}'
            expected[body] = (ps[i].name, group_send(ps[i], gid, body))
        if j == 8:
            # Right after a round: messages are on their way to it, or being stored.
            time.sleep(rng.uniform(0, 0.3))
            killed.kill()
        for p in ps:
            drain(p)
    print(f'# 100 messages sent; {stopped.name} was stopped for rounds 5–12, '
          f'{killed.name} killed after round 8 and back at round 11')

    # Every history fills up; nothing twice, nothing else.
    def complete():
        problems, missing = [], {}
        for p in ps:
            history = group_history(p, gid)
            counts = collections.Counter(m['body'] for m in history)
            for body, count in counts.items():
                if body not in expected:
                    problems.append(f'{p.name}: “{body}” was never sent')
                elif count > 1:
                    problems.append(f'{p.name}: “{body}” {count} times')
            for m in history:
                if m['body'] not in expected or counts[m['body']] > 1:
                    continue
                sender, uid = expected[m['body']]
                mine = sender == p.name
                if m.get('group') != gid:
                    problems.append(f'{p.name}: “{m["body"]}” has group {m.get("group")!r}')
                if m['uid'] != uid:
                    problems.append(f'{p.name}: “{m["body"]}” has uid {m["uid"]}, sent as {uid}')
                if m['direction'] != ('out' if mine else 'in'):
                    problems.append(f'{p.name}: “{m["body"]}” has direction {m["direction"]}')
                if not mine and m.get('sender') != sender:
                    problems.append(f'{p.name}: “{m["body"]}” has sender {m.get("sender")!r}, not {sender}')
            if problems:
                raise Failure('\n'.join(problems[:40]))
            lacking = sorted(set(expected) - set(counts))
            if lacking:
                missing[p.name] = lacking
        return missing

    start = time.monotonic()
    while True:
        missing = complete()
        if not missing:
            break
        if time.monotonic() - start > SETTLE:
            raise Failure(f'not everywhere within {SETTLE:.0f} s: '
                          + '; '.join(f'{name} lacks {len(m)}: {m[:8]}' for name, m in missing.items()))
        for p in ps:
            drain(p)
        time.sleep(3)
    print(f'# every history complete {time.monotonic() - start:.0f} s after the last send')

    # Shown at most once by each runner, restarts included.
    for p in ps:
        drain(p)
        shown = collections.Counter((e.get('group'), e.get('contact'), e.get('uid'))
                                    for e in p.log if e['event'] == 'message')
        twice = [k for k, c in shown.items() if c > 1]
        if twice:
            raise Failure(f'{p.name}: shown twice: {twice[:10]}')
    for p in ps:
        entry = group_entry(p, gid)
        if entry['members'] != 5 or entry['state'] != 'member' or \
                entry['role'] != ('admin' if p is hub else 'member'):
            raise Failure(f'{p.name}: groups --json: {entry}')
        states = collections.Counter(m['state'] for m in group_history(p, gid) if m['direction'] == 'out')
        print(f'# {p.name}: own messages {dict(states)}')
    for p in ps:
        p.stop()


def test_removal(world, rng):
    """Removed, Carol gets nothing sent after it, and what she sends reaches nobody."""
    alice = peers.Peer(world, 'Alice').init()
    bob = peers.Peer(world, 'Bob').init()
    carol = peers.Peer(world, 'Carol').init()
    for p in (bob, carol):
        alice.add(p)
        p.add(alice)
    everyone = (alice, bob, carol)
    for p in everyone:
        p.start()
    alice.expect('connected', contact='Bob', timeout=TIMEOUT)
    alice.expect('connected', contact='Carol', timeout=TIMEOUT)

    gid = create_group(alice, 'Trio', bob, carol)
    bob.expect('group-joined', group=gid, timeout=TIMEOUT)
    carol.expect('group-joined', group=gid, timeout=TIMEOUT)
    # First everyone reaches everyone (Bob and Carol over their member session).
    for sender in everyone:
        body = f'{sender.name} before'
        group_send(sender, gid, body)
        for other in everyone:
            if other is not sender:
                other.expect('message', group=gid, body=body, contact=sender.name, timeout=TIMEOUT)

    alice.cli('group', 'remove', gid, 'Carol')
    carol.expect('group-removed', group=gid, timeout=TIMEOUT)
    bob.expect('member-removed', group=gid, member='Carol', timeout=TIMEOUT)
    if group_entry(carol, gid)['state'] != 'removed':
        raise Failure(f'Carol: {group_entry(carol, gid)}')
    for p in (alice, bob):
        view = member_view(p, gid)
        if fingerprint_of(carol) in [fp for fp, _, _ in view] or len(view) != 2:
            raise Failure(f'{p.name}: members after the removal: {view}')
        if group_entry(p, gid)['members'] != 2:
            raise Failure(f'{p.name}: {group_entry(p, gid)}')

    # After the removal: Alice's and Bob's messages reach each other, never Carol.
    a_uid = group_send(alice, gid, 'Alice after')
    b_uid = group_send(bob, gid, 'Bob after')
    bob.expect('message', group=gid, body='Alice after', contact='Alice', timeout=TIMEOUT)
    alice.expect('message', group=gid, body='Bob after', contact='Bob', timeout=TIMEOUT)
    alice.expect('delivered', uid=a_uid, contact='Bob', timeout=TIMEOUT)
    bob.expect('delivered', uid=b_uid, contact='Alice', timeout=TIMEOUT)
    never([carol], 3, 'message', body='Alice after')
    never([carol], 0, 'message', body='Bob after')
    for body in ('Alice after', 'Bob after'):
        if bodies_in(carol, gid)[body]:
            raise Failure(f'Carol, removed, has “{body}”')
        for p in (alice, bob):
            if any(e.get('contact') == 'Carol' and e.get('uid') in (a_uid, b_uid)
                   for e in seen(p, 'delivered')):
                raise Failure(f'{p.name}: delivered to Carol after her removal')
    # She keeps what came before.
    kept = bodies_in(carol, gid)
    if any(kept[f'{p.name} before'] != 1 for p in everyone):
        raise Failure(f'Carol lost the group’s history: {kept}')

    # Carol, removed, sends: refused, or sent to nobody.
    result = carol.cli('send', gid, 'Carol after', check=False)
    print(f'# send by the removed member: exit {result.returncode}, '
          f'{(result.stdout + result.stderr).strip()!r}')
    never([alice, bob], 10, 'message', body='Carol after')
    for p in (alice, bob):
        if bodies_in(p, gid)['Carol after']:
            raise Failure(f'{p.name} has what Carol sent after her removal')
    if group_entry(carol, gid)['state'] != 'removed':
        raise Failure(f'Carol is back: {group_entry(carol, gid)}')
    for p in everyone:
        p.stop()


def test_not_contact(world, rng):
    """Bob and Carol are members, not each other's contacts: group messages both ways,
    no direct message; Dan (the Python peer) sends Carol a direct TEXT over their
    member session: dropped, not acknowledged, the session goes on."""
    sp = interop()
    alice = peers.Peer(world, 'Alice').init()
    bob = peers.Peer(world, 'Bob').init()
    carol = peers.Peer(world, 'Carol').init()
    dan = PyPeer(world, 'Dan')
    for p in (bob, carol):
        alice.add(p)
        p.add(alice)
    alice.add(dan)
    for p in (alice, bob, carol):
        p.start()
    dan.start(alice)
    for name in ('Bob', 'Carol', 'Dan'):
        alice.expect('connected', contact=name, timeout=TIMEOUT)

    gid = create_group(alice, 'Pals', bob, carol, dan)
    bob.expect('group-joined', group=gid, timeout=TIMEOUT)
    carol.expect('group-joined', group=gid, timeout=TIMEOUT)
    dan.expect('group-joined', group=gid, timeout=TIMEOUT)

    b_uid = group_send(bob, gid, 'Bob to the group')
    carol.expect('message', group=gid, body='Bob to the group', contact='Bob', timeout=TIMEOUT)
    c_uid = group_send(carol, gid, 'Carol to the group')
    bob.expect('message', group=gid, body='Carol to the group', contact='Carol', timeout=TIMEOUT)
    bob.expect('delivered', uid=b_uid, contact='Carol', timeout=TIMEOUT)
    carol.expect('delivered', uid=c_uid, contact='Bob', timeout=TIMEOUT)
    for p, body, sender in ((carol, 'Bob to the group', 'Bob'), (bob, 'Carol to the group', 'Carol')):
        found = [m for m in group_history(p, gid) if m['body'] == body]
        if len(found) != 1 or found[0]['direction'] != 'in' or found[0].get('sender') != sender:
            raise Failure(f'{p.name}: history: {found}')

    # Members, not contacts: no direct message either way.
    for p, other in ((bob, 'Carol'), (carol, 'Bob')):
        result = p.cli('send', other, f'{p.name}, directly', check=False)
        if result.returncode == 0:
            raise Failure(f'{p.name}: send {other} succeeded: {result.stdout!r}')
        names = [c['name'] for c in json.loads(p.cli('contacts', '--json').stdout)]
        if names != ['Alice']:
            raise Failure(f'{p.name}: contacts: {names}')
    members = {m['fingerprint']: m for m in members_of(bob, gid)}
    want = {fingerprint_of(alice): (True, 'admin', False), fingerprint_of(bob): (None, 'member', True),
            fingerprint_of(carol): (False, 'member', False), fingerprint_of(dan): (False, 'member', False)}
    for fp, (contact, role, you) in want.items():
        m = members.get(fp)
        if m is None or m['role'] != role or m['you'] != you or (contact is not None and m['contact'] != contact):
            raise Failure(f'Bob: group members: {sorted(members.values(), key=lambda m: m["name"])}')

    # Dan, a member-only peer of Carol's: his group message is taken ...
    carol_pk = key_of(carol)
    dan.expect('group-hello', contact='Carol', timeout=TIMEOUT)
    d_id = dan.call('queue_group_text', bytes.fromhex(gid), 'Dan to the group')
    carol.expect('message', group=gid, body='Dan to the group', contact='Dan', timeout=TIMEOUT)
    dan.expect('group-delivered', contact='Carol', id=d_id, timeout=TIMEOUT)
    # ... his direct TEXT over the same member session is not.
    mid = os.urandom(16)
    dan.call('send_raw', carol_pk, sp.encode_payload(sp.TEXT, (mid, sp.now_us(), 'Dan, directly to Carol')))
    if not dan.alive(carol_pk):
        raise Failure('Carol closed the member session on a direct TEXT (it is to be dropped)')
    never([carol], 3, 'message', body='Dan, directly to Carol')
    if dan.receipts_naming(mid.hex()):
        raise Failure(f'Carol acknowledged the direct TEXT: {dan.receipts_naming(mid.hex())}')
    if any(m['body'] == 'Dan, directly to Carol' for m in group_history(carol, gid)):
        raise Failure('the direct TEXT is in Carol’s history of the group')
    # In the member session Carol sent group traffic only. If Dan called
    # before Carol knew him from the group, the session began as a contact
    # request and Carol said "pending", then "accepted" when she joined:
    # REQUEST_STATE, and only in that order.
    allowed = {sp.PRESENCE, sp.PING, sp.PONG, sp.RECEIPT, sp.SIGNING_KEY, sp.GROUP_RECORD, sp.GROUP_TEXT,
               sp.GROUP_LEAVE, sp.GROUP_TYPING, sp.REQUEST_STATE}
    kinds = dan.call(lambda: dict(dan.peer.sessions[carol_pk].kinds_received))
    if kinds.get(sp.REQUEST_STATE, 0) not in (0, 2):
        raise Failure(f'Carol sent {kinds[sp.REQUEST_STATE]} REQUEST_STATE in a member session')
    if set(kinds) - allowed:
        raise Failure(f'Carol sent kinds {sorted(set(kinds) - allowed)} in a member session: {kinds}')
    for p in (alice, bob, carol):
        p.stop()
    dan.stop()


def test_changes(world, rng):
    """A second admin's change reaches a member who was offline for the
    change that named that admin (records caught up in order), a rename,
    a member who leaves, and an admin who deletes the group."""
    alice = peers.Peer(world, 'Alice').init()
    bob = peers.Peer(world, 'Bob').init()
    carol = peers.Peer(world, 'Carol').init()
    dan = peers.Peer(world, 'Dan').init()
    for p in (bob, carol):
        alice.add(p)
        p.add(alice)
    carol.add(dan)
    dan.add(carol)
    for p in (alice, bob, carol, dan):
        p.start()
    alice.expect('connected', contact='Bob', timeout=TIMEOUT)
    alice.expect('connected', contact='Carol', timeout=TIMEOUT)
    carol.expect('connected', contact='Dan', timeout=TIMEOUT)

    gid = create_group(alice, 'Project', bob, carol)
    bob.expect('group-joined', group=gid, timeout=TIMEOUT)
    carol.expect('group-joined', group=gid, timeout=TIMEOUT)

    # Bob is away while Alice names Carol admin and Carol adds Dan.
    bob.stop()
    alice.cli('group', 'admin', gid, 'Carol')
    wait_until('Carol sees herself admin',
               lambda: group_entry(carol, gid)['role'] == 'admin', peers_=(carol,))
    carol.cli('group', 'add', gid, 'Dan')
    dan.expect('group-joined', group=gid, timeout=TIMEOUT)
    alice.expect('member-added', group=gid, member='Dan', timeout=TIMEOUT)
    if group_entry(alice, gid)['version'] != 3:
        raise Failure(f'Alice: {group_entry(alice, gid)}')

    # Back, Bob takes version 3 (signed by Carol, whom his version 1 does
    # not name admin) only through version 2: rules 3 and 4.
    bob.start()
    wait_until('Bob has version 3', lambda: group_entry(bob, gid)['version'] == 3,
               peers_=(bob,))
    if 'Dan' not in [m['name'] for m in members_of(bob, gid)]:
        raise Failure(f'Bob: members {members_of(bob, gid)}')
    # Bob and Dan, no contacts of each other, talk in the group.
    group_send(bob, gid, 'Bob to all')
    dan.expect('message', group=gid, body='Bob to all', contact='Bob', timeout=TIMEOUT)
    group_send(dan, gid, 'Dan to all')
    for p in (alice, bob, carol):
        p.expect('message', group=gid, body='Dan to all', contact='Dan', timeout=TIMEOUT)

    # Carol, admin, renames it: everyone follows.
    carol.cli('group', 'rename', gid, 'Project B')
    for p in (alice, bob, dan):
        wait_until(f'{p.name} sees the new name',
                   lambda p=p: group_entry(p, gid)['name'] == 'Project B', peers_=(p,))

    # Bob leaves: an admin drops him, and he hears it.
    bob.cli('group', 'leave', gid)
    wait_until('Bob has left', lambda: group_entry(bob, gid)['state'] == 'left', peers_=(bob,))
    for p in (alice, carol, dan):
        wait_until(f'{p.name} no longer lists Bob',
                   lambda p=p: 'Bob' not in [m['name'] for m in members_of(p, gid)], peers_=(p,))
    group_send(alice, gid, 'after Bob left')
    dan.expect('message', group=gid, body='after Bob left', timeout=TIMEOUT)
    never([bob], 3, 'message', body='after Bob left')

    # Alice deletes it: she leaves as an admin (Carol stays admin), and it
    # is gone from her list; the others go on without her.
    alice.cli('group', 'delete', gid)
    if [g for g in groups_of(alice) if g['id'] == gid]:
        raise Failure(f'Alice still lists the group: {groups_of(alice)}')
    carol.expect('member-removed', group=gid, member='Alice', timeout=TIMEOUT)
    group_send(carol, gid, 'without Alice')
    dan.expect('message', group=gid, body='without Alice', timeout=TIMEOUT)
    for p in (alice, bob, carol, dan):
        p.stop()


def forge(sp, mallory, rec, **changes):
    """@rec changed as @changes say, signed with Mallory's signing key."""
    forged = rec.changed(**changes)
    return forged, sp.sign_record(mallory.peer.signing_priv, forged.raw)


def test_forged(world, rng):
    """A member who is no admin forges records; a non-member and a removed member
    send group messages; an old record is replayed; a malformed one is sent. Nothing
    of it is taken; only the malformed record ends the session."""
    sp = interop()
    alice = peers.Peer(world, 'Alice').init()
    bob = peers.Peer(world, 'Bob').init()
    mallory = PyPeer(world, 'Mallory')     # Alice's contact and a member
    nina = PyPeer(world, 'Nina')           # Alice's and Bob's contact, no member
    alice.add(bob)
    bob.add(alice)
    alice.add(mallory)
    alice.add(nina)
    bob.add(nina)
    alice.start()
    bob.start()
    mallory.start(alice)
    nina.start(alice, bob)
    for name in ('Bob', 'Mallory', 'Nina'):
        alice.expect('connected', contact=name, timeout=TIMEOUT)
    bob.expect('connected', contact='Nina', timeout=TIMEOUT)
    alice_pk, bob_pk = key_of(alice), key_of(bob)

    gid = create_group(alice, 'Guild', bob, mallory)
    gid_b = bytes.fromhex(gid)
    bob.expect('group-joined', group=gid, timeout=TIMEOUT)
    mallory.expect('group-joined', group=gid, timeout=TIMEOUT)

    # While a member, Mallory's messages arrive (the Python peer's GROUP_TEXT is the real thing).
    mallory.expect('group-hello', contact='Bob', timeout=TIMEOUT)
    m_id = mallory.call('queue_group_text', gid_b, 'Mallory, a member')
    for p in (alice, bob):
        p.expect('message', group=gid, body='Mallory, a member', contact='Mallory', timeout=TIMEOUT)
    mallory.expect('group-delivered', contact='Alice', id=m_id, timeout=TIMEOUT)
    mallory.expect('group-delivered', contact='Bob', id=m_id, timeout=TIMEOUT)
    found = [m for m in group_history(bob, gid) if m['body'] == 'Mallory, a member']
    if len(found) != 1 or found[0].get('sender') != 'Mallory':
        raise Failure(f'Bob: history: {found}')

    def snapshot():
        return {p.name: (member_view(p, gid), group_entry(p, gid)['version']) for p in (alice, bob)}

    before = snapshot()
    rec, _, _ = mallory.call('current_record', gid_b)
    m_pk = mallory.pk
    x_id = sp.new_identity('Xavier')
    x_pk = bytes.fromhex(x_id['public'])
    x_skey = sp.signing_key_from_x25519(bytes.fromhex(x_id['secret']))[1]

    def as_admin(members, key):
        return [sp.Member(m.key, mallory.peer.signing_pub if m.key == key else m.signing_key, m.name,
                          m.addresses, sp.ROLE_ADMIN if m.key == key else m.role) for m in members]

    forgeries = {
        'Mallory names herself admin': forge(sp, mallory, rec, signer=m_pk, members=as_admin(rec.members, m_pk)),
        'Mallory adds a stranger': forge(sp, mallory, rec, signer=m_pk,
                                         members=rec.members + [sp.Member(x_pk, x_skey, 'Xavier', [], 1)]),
        'Mallory removes Bob': forge(sp, mallory, rec, signer=m_pk,
                                     members=[m for m in rec.members if m.key != bob_pk]),
        'Mallory names herself admin, same version': forge(sp, mallory, rec, version=rec.version, signer=m_pk,
                                                           members=as_admin(rec.members, m_pk)),
        'Mallory signs as Alice (the signature does not verify)':
            forge(sp, mallory, rec, members=as_admin(rec.members, m_pk)),
        'Mallory renames the group, version 2^53': forge(sp, mallory, rec, version=2 ** 53, signer=m_pk,
                                                         name='Mallory’s'),
    }
    for what, (forged, sig) in forgeries.items():
        for pk, name in ((alice_pk, 'Alice'), (bob_pk, 'Bob')):
            mallory.call('send_raw', pk, sp.raw_group_record(forged.raw, sig))
            if not mallory.alive(pk):
                raise Failure(f'{what}: {name} ended the session; a well-formed record is ignored, '
                              f'not malformed')
        time.sleep(1)
        after = snapshot()
        if after != before:
            raise Failure(f'{what}: taken: {before} became {after}')
        print(f'# {what}: ignored by Alice and Bob')

    # Nina is no member: her GROUP_TEXT is neither shown nor acknowledged.
    n_mid = os.urandom(16)
    for pk in (alice_pk, bob_pk):
        nina.call('send_raw', pk, sp.raw_group_text(gid_b, n_mid, sp.now_us(), 'Nina, no member'))
        if not nina.alive(pk):
            print('# a GROUP_TEXT from a non-member ended the session')
    never([alice, bob], 3, 'message', body='Nina, no member')
    if nina.receipts_naming(n_mid.hex()):
        raise Failure(f'a non-member’s GROUP_TEXT was acknowledged: {nina.receipts_naming(n_mid.hex())}')
    # Who is in a group is told to members and former members only
    # (PROTOCOL.md, "Spreading records"): not to whoever knows its id.
    answers = [e for e in nina.log if e['event'] == 'group-record']
    if answers:
        raise Failure(f'a non-member’s GROUP_TEXT was answered with {len(answers)} records')

    # Mallory removed: what she sends is not taken either.
    alice.cli('group', 'remove', gid, 'Mallory')
    bob.expect('member-removed', group=gid, member='Mallory', timeout=TIMEOUT)
    mallory.expect('group-removed', group=gid, timeout=TIMEOUT)
    after_removal = snapshot()
    r_mid = os.urandom(16)
    removed_text = sp.raw_group_text(gid_b, r_mid, sp.now_us(), 'Mallory, removed')
    mallory.call('send_raw', alice_pk, removed_text)
    mallory.alive(alice_pk)
    # Bob no longer takes her as a member: she calls him anyway, as a stranger would.
    bob_address = ('127.0.0.1', bob.port)
    try:
        if mallory.call('dial_once', bob_pk, bob_address):
            time.sleep(1)
            mallory.call('send_raw', bob_pk, removed_text)
            mallory.alive(bob_pk)
    except Exception as e:   # refused: all the better
        print(f'# Bob refused the removed member: {e!r}')
    never([alice, bob], 3, 'message', body='Mallory, removed')
    if mallory.receipts_naming(r_mid.hex()):
        raise Failure(f'the removed member’s GROUP_TEXT was acknowledged: {mallory.receipts_naming(r_mid.hex())}')

    # Her old record, which lists her, replayed to Alice: older than Alice's, ignored.
    mallory.call('send_raw', alice_pk, sp.raw_group_record(rec.raw, mallory.call(
        lambda: [s for r, s in mallory.peer.group_states[gid_b].kept if r.raw == rec.raw][0])))
    mallory.alive(alice_pk)
    time.sleep(1)
    if snapshot() != after_removal:
        raise Failure(f'an old record replayed: {after_removal} became {snapshot()}')

    # A malformed record (role 3) ends the session.
    bad = rec.changed(signer=m_pk, members=[sp.Member(m.key, m.signing_key, m.name, m.addresses,
                                                      3 if m.key == m_pk else m.role) for m in rec.members])
    closed_before = len(seen(mallory, 'disconnected', contact='Alice'))
    mallory.call('send_raw', alice_pk, sp.raw_group_record(bad.raw, sp.sign_record(mallory.peer.signing_priv,
                                                                                    bad.raw)))
    wait_until('Alice ends the session on a malformed record',
               lambda: len(seen(mallory, 'disconnected', contact='Alice')) > closed_before, timeout=20,
               interval=0.2)

    for p in (alice, bob):
        for body in ('Nina, no member', 'Mallory, removed'):
            if bodies_in(p, gid)[body]:
                raise Failure(f'{p.name} has “{body}” in the group’s history')
    if snapshot() != after_removal:
        raise Failure(f'in the end: {after_removal} became {snapshot()}')
    alice.stop()
    bob.stop()
    mallory.stop()
    nina.stop()


TESTS = {
    'five': test_five,
    'removal': test_removal,
    'not-contact': test_not_contact,
    'forged': test_forged,
    'changes': test_changes,
}


def main():
    names = sys.argv[1:] or list(TESTS)
    unknown = [name for name in names if name not in TESTS]
    if unknown:
        print(f'unknown tests {unknown}; known: {list(TESTS)}', file=sys.stderr)
        return 2
    seed = int(os.environ.get('SOTTO_GROUPS_SEED', str(random.randrange(1 << 32))))
    print(f'1..{len(names)}')
    print(f'# SOTTO_GROUPS_SEED={seed}')
    failed = 0
    for number, name in enumerate(names, 1):
        world = peers.World()
        rng = random.Random(f'{seed}/{name}')
        try:
            start = time.monotonic()
            TESTS[name](world, rng)
            print(f'ok {number} /groups/{name} # {time.monotonic() - start:.1f} s')
        except Skip as e:
            print(f'ok {number} /groups/{name} # SKIP {e}')
        except Exception as e:
            failed += 1
            print(f'not ok {number} /groups/{name}')
            text = str(e) if isinstance(e, Failure) else traceback.format_exc()
            for line in text.splitlines():
                print(f'# {line}')
            for peer in world.peers + getattr(world, 'py_peers', []):
                try:
                    drain(peer)
                except Exception:
                    pass
                print(f'# {peer.name}: last events: {peer.log[-8:]}')
                for line in getattr(peer, 'stderr', [])[-20:]:
                    print(f'# {peer.name}: stderr: {line.rstrip()}')
        finally:
            cleanup_py(world)
            world.cleanup()
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
