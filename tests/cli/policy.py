#!/usr/bin/python3
# policy.py — what an administrator sets through dconf holds for
# `sotto-cli`, because the core enforces it: the example of data/admin/
# compiled with `dconf compile` exactly as README tells administrators,
# read back by `sotto-cli policy --json`, and each key the core governs
# refused with the administrator named; the same keys set by the user are
# refused naming the preferences.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: policy.py [TEST …]  (SOTTO_CLI names sotto-cli; GSETTINGS_SCHEMA_DIR
# points at the build's schemas). Prints TAP.

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

from gi.repository import GLib

# peers.py's runner; no bytecode left in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, '..', '..', 'data', 'admin', 'dconf', 'db', 'sotto.d')
CLI = os.environ.get('SOTTO_CLI', 'sotto-cli')
# Long enough for the example's passphrase-min-length (12).
PASSPHRASE = 'correct horse battery staple'


class Failure(Exception):
    pass


class Desk:
    """A user's home with a dconf profile whose system database is one
    this test compiles: the example, or a few keys of its own."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix='sotto-policy-')
        self.env = dict(os.environ)
        for name in ('DATA', 'CONFIG', 'CACHE', 'STATE'):
            path = os.path.join(self.root, name.lower())
            os.makedirs(path)
            self.env[f'XDG_{name}_HOME'] = path
        self.env['HOME'] = self.root
        runtime = os.path.join(self.root, 'runtime')
        os.makedirs(runtime, mode=0o700)
        self.env['XDG_RUNTIME_DIR'] = runtime
        self.peers = []   # peers.Peer runners started on this desk
        # dconf, as on a desktop: the backend that has administrators.
        self.env.pop('GSETTINGS_BACKEND', None)
        self.env['DCONF_PROFILE'] = os.path.join(self.root, 'dconf-profile')
        with open(self.env['DCONF_PROFILE'], 'w') as f:
            f.write(f'user-db:user\nfile-db:{self.root}/db\n')
        self.passphrase = self.secret('pass', PASSPHRASE)
        self.user_values = {}

    def secret(self, name, text):
        path = os.path.join(self.root, name)
        with open(path, 'w') as f:
            f.write(text + '\n')
        os.chmod(path, 0o600)
        return path

    def compile(self, source):
        subprocess.run(['dconf', 'compile', os.path.join(self.root, 'db'), source], check=True)

    def administer(self, values, locked=()):
        """A system database of @values ({key: GVariant text}), @locked keys."""
        source = os.path.join(self.root, 'db.d')
        shutil.rmtree(source, ignore_errors=True)
        os.makedirs(os.path.join(source, 'locks'))
        with open(os.path.join(source, '00-test'), 'w') as f:
            f.write('[im/sotto/Sotto]\n')
            for key, value in values.items():
                f.write(f'{key}={value}\n')
        with open(os.path.join(source, 'locks', '00-test'), 'w') as f:
            for key in locked:
                f.write(f'/im/sotto/Sotto/{key}\n')
        self.compile(source)

    def user_sets(self, key, value):
        """The user's own value, written into their dconf database. (Not
        with `gsettings set`: that goes through dconf-service, which the
        bus starts with the bus's home, not this test's.)"""
        self.user_values[key] = value
        source = os.path.join(self.root, 'user.d')
        os.makedirs(source, exist_ok=True)
        with open(os.path.join(source, '00-user'), 'w') as f:
            f.write('[im/sotto/Sotto]\n')
            for k, v in self.user_values.items():
                f.write(f'{k}={v}\n')
        user_db = os.path.join(self.env['XDG_CONFIG_HOME'], 'dconf', 'user')
        os.makedirs(os.path.dirname(user_db), exist_ok=True)
        subprocess.run(['dconf', 'compile', user_db, source], check=True)

    def cli(self, *args, profile='alice', passphrase=True, check=True):
        command = [CLI, '--profile', profile]
        if passphrase:
            command += ['--passphrase-file', self.passphrase]
        result = subprocess.run(command + list(args), env=self.env, capture_output=True,
                                encoding='utf-8', errors='replace', timeout=60)
        if check and result.returncode != 0:
            raise Failure(f'{" ".join(args)}: exit {result.returncode}: {result.stderr.strip()}')
        return result

    def refused(self, why, *args, **kwargs):
        """The command exits 1 and its message contains @why."""
        result = self.cli(*args, check=False, **kwargs)
        if result.returncode != 1 or why not in result.stderr:
            raise Failure(f'{" ".join(args)}: expected exit 1 saying “{why}”, got exit '
                          f'{result.returncode}: {result.stderr.strip()!r}')
        print(f'# {" ".join(args)}: {result.stderr.strip()}')

    def policy(self):
        return {e['key']: e for e in json.loads(self.cli('policy', '--json').stdout)}

    def pair(self):
        """Alice and Bob, Bob a contact of Alice's (not verified)."""
        self.cli('init', '--name', 'Alice')
        self.cli('init', '--name', 'Bob', profile='bob')
        invite = self.cli('invite', profile='bob').stdout.strip()
        self.cli('add', invite)

    def cleanup(self):
        for peer in self.peers:
            if peer.proc is not None:
                peer.proc.kill()
                peer.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def read_example():
    """The example's keys and values, and its locks, as administrators write them."""
    values = {}
    with open(os.path.join(EXAMPLE, '00-sotto')) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(('#', '[')):
                key, value = line.split('=', 1)
                values[key] = GLib.Variant.parse(None, value, None, None).unpack()
    locks = set()
    with open(os.path.join(EXAMPLE, 'locks', '00-sotto')) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('#'):
                locks.add(line.rsplit('/', 1)[1])
    return values, locks


def test_admin_example(desk):
    """The example, compiled as README says, is what `policy` reports, and
    what it locks the core enforces."""
    values, locks = read_example()
    desk.compile(EXAMPLE)
    policy = desk.policy()
    for key, value in values.items():
        entry = policy.get(key)
        if entry is None:
            raise Failure(f'the example sets {key}, which `policy` does not list')
        if entry['value'] != value:
            raise Failure(f'{key}: policy says {entry["value"]!r}, the example {value!r}')
    for key, entry in policy.items():
        if entry['locked'] != (key in locks):
            raise Failure(f'{key}: locked {entry["locked"]}, the example says {key in locks}')
        if key in locks and entry['source'] != 'administrator':
            raise Failure(f'{key}: locked but its source is {entry["source"]}')
        if key not in values and entry['source'] != 'default':
            raise Failure(f'{key}: not in the example, yet its source is {entry["source"]}')
    print(f'# {len(policy)} keys, {len(locks)} locked, {len(values)} set by the example')

    # A user's own value does not win over a lock.
    desk.user_sets('history-user-delete', 'true')
    if desk.policy()['history-user-delete']['value'] is not False:
        raise Failure("the user’s value won over the administrator’s lock")

    # What the example locks, the core enforces.
    short = desk.secret('short', 'eleven char')
    result = desk.cli('--passphrase-file', short, 'init', '--name', 'Alice', passphrase=False,
                      check=False)
    if result.returncode != 1 or 'administrator' not in result.stderr:
        raise Failure(f'init with an 11-character passphrase: {result.returncode} '
                      f'{result.stderr.strip()!r}')
    desk.pair()
    desk.refused('only to verified contacts', 'send', 'Bob', 'hello')
    source = os.path.join(desk.root, 'minutes.txt')
    with open(source, 'w') as f:
        f.write('minutes\n')
    desk.refused('only to verified contacts', 'send-file', 'Bob', source)
    fingerprint = desk.cli('fingerprint', profile='bob').stdout.strip()
    desk.cli('verify', 'Bob', '--key', fingerprint)
    desk.cli('send', 'Bob', 'hello, verified')
    with open(source, 'r+b') as f:
        f.truncate(1024 * 1024 * 1024 + 1)
    desk.refused('larger than the 1.1', 'send-file', 'Bob', source)
    desk.refused('Your administrator does not allow deleting history', 'purge', '--all')
    history = desk.cli('history', 'Bob').stdout
    if 'hello, verified' not in history:
        raise Failure(f'the history is not what was sent: {history!r}')


def test_adding_contacts(desk):
    """allow-adding-contacts: no contact from an invite, by whoever set it."""
    desk.cli('init', '--name', 'Alice')
    desk.cli('init', '--name', 'Bob', profile='bob')
    invite = desk.cli('invite', profile='bob').stdout.strip()
    desk.administer({'allow-adding-contacts': 'false'}, locked=['allow-adding-contacts'])
    desk.refused('Your administrator does not allow adding contacts', 'add', invite)
    if desk.cli('contacts').stdout.strip():
        raise Failure('a contact was added')
    desk.administer({})
    desk.user_sets('allow-adding-contacts', 'false')
    desk.refused('Adding contacts is turned off in the preferences', 'add', invite)
    desk.user_sets('allow-adding-contacts', 'true')
    desk.cli('add', invite)


def test_verified_contacts(desk):
    """require-verified-contacts: nothing to a contact until verified."""
    desk.pair()
    desk.administer({'require-verified-contacts': 'true'}, locked=['require-verified-contacts'])
    desk.refused('Your administrator allows messages and files only to verified contacts',
                 'send', 'Bob', 'hello')
    if 'hello' in desk.cli('history', 'Bob').stdout:
        raise Failure('the refused message was stored')
    desk.administer({})
    desk.user_sets('require-verified-contacts', 'true')
    desk.refused('Your preferences allow messages and files only to verified contacts',
                 'send', 'Bob', 'hello')
    fingerprint = desk.cli('fingerprint', profile='bob').stdout.strip()
    desk.cli('verify', 'Bob', '--key', fingerprint)
    desk.cli('send', 'Bob', 'hello')


def test_user_delete(desk):
    """history-user-delete: purge refused; nothing deleted."""
    desk.pair()
    desk.cli('send', 'Bob', 'keep me')
    desk.administer({'history-user-delete': 'false'}, locked=['history-user-delete'])
    desk.refused('Your administrator does not allow deleting history', 'purge', '--all')
    desk.refused('Your administrator does not allow deleting history', 'purge',
                 '--older-than', '0', '--include-queued')
    if 'keep me' not in desk.cli('history', 'Bob').stdout:
        raise Failure('the message is gone')
    desk.administer({})
    desk.user_sets('history-user-delete', 'false')
    desk.refused('Deleting history is turned off in the preferences', 'purge', '--all')
    desk.user_sets('history-user-delete', 'true')
    desk.cli('purge', '--all', '--include-queued')


def test_key_protection(desk):
    """key-protection and passphrase-min-length, at init and at protect;
    the limit itself passes, one character less does not."""
    desk.administer({'key-protection': "'passphrase'", 'passphrase-min-length': 'uint32 16'},
                    locked=['key-protection', 'passphrase-min-length'])
    at_limit = desk.secret('sixteen', 'sixteen chars ok')
    below = desk.secret('fifteen', 'fifteen chars!!')
    desk.refused('Your administrator requires a passphrase of at least 16 characters',
                 '--passphrase-file', below, 'init', '--name', 'Alice', passphrase=False)
    desk.cli('--passphrase-file', at_limit, 'init', '--name', 'Alice', passphrase=False)
    desk.refused('Your administrator requires a passphrase for the history key',
                 '--passphrase-file', at_limit, 'protect', '--keyring', passphrase=False)
    desk.refused('Your administrator requires a passphrase of at least 16 characters',
                 '--passphrase-file', at_limit, 'protect', '--new-passphrase-file', below,
                 passphrase=False)

    desk.administer({'key-protection': "'keyring'"}, locked=['key-protection'])
    desk.refused('Your administrator requires the history key to be kept in the login keyring',
                 'init', '--name', 'Bob', profile='bob')


def check_link(desk, url):
    return json.loads(desk.cli('check-link', '--json', url, passphrase=False).stdout)


def test_link_keys(desk):
    """link-open, link-schemes and link-trusted-domains, locked: what
    `check-link` (the same core call as the app's dialog) says follows."""
    url = 'https://wiki.intranet.example.com/'
    if check_link(desk, url)['verdict'] != 'ask':
        raise Failure(f'without a policy: {check_link(desk, url)}')

    desk.administer({'link-trusted-domains': "['intranet.example.com']"},
                    locked=['link-trusted-domains'])
    if check_link(desk, url)['verdict'] != 'open':
        raise Failure(f'a trusted domain still asks: {check_link(desk, url)}')
    # Only that domain and names under it.
    if check_link(desk, 'https://intranet.example.com.evil.example/')['verdict'] == 'open':
        raise Failure('a look-alike of the trusted domain opens without asking')

    desk.administer({'link-schemes': "['https']"}, locked=['link-schemes'])
    verdict = check_link(desk, 'http://intranet.example.com/')
    if verdict['verdict'] != 'block' or 'scheme-blocked' not in [f['id'] for f in verdict['findings']]:
        raise Failure(f'http with only https allowed: {verdict}')

    desk.administer({'link-open': "'never'"}, locked=['link-open'])
    verdict = check_link(desk, url)
    if verdict['verdict'] != 'block' or 'links-off' not in [f['id'] for f in verdict['findings']]:
        raise Failure(f'links turned off: {verdict}')


def test_file_keys(desk):
    """file-transfer-enabled and file-max-size, locked: send-file refused,
    naming the administrator; the limit itself passes, a byte more not."""
    desk.pair()
    source = os.path.join(desk.root, 'notes.txt')
    with open(source, 'wb') as f:
        f.write(b'x' * 1000)
    desk.administer({'file-transfer-enabled': 'false'}, locked=['file-transfer-enabled'])
    desk.refused('Your administrator turned off sending files', 'send-file', 'Bob', source)

    desk.administer({'file-max-size': 'uint64 1000'}, locked=['file-max-size'])
    result = desk.cli('send-file', 'Bob', source, '--json')
    if json.loads(result.stdout)['size'] != 1000:
        raise Failure(f'the file at the limit: {result.stdout}')
    with open(source, 'ab') as f:
        f.write(b'x')
    desk.refused('larger than the 1.0', 'send-file', 'Bob', source)


def invite_addresses(invite):
    """The a= hints of an invite URI."""
    query = urllib.parse.urlsplit(invite).query
    return [v for k, v in urllib.parse.parse_qsl(query) if k == 'a']


def test_listen_address(desk):
    """listen-address, locked: invites name that address only (loopback
    included, which they otherwise never name); an interface that is not
    there is said, not papered over with other addresses."""
    desk.cli('init', '--name', 'Alice')
    port = desk.policy()['listen-port']['value']
    default = invite_addresses(desk.cli('invite').stdout.strip())
    if any(a.startswith('127.') for a in default):
        raise Failure(f'an invite names loopback: {default}')

    desk.administer({'listen-address': "'127.0.0.1'"}, locked=['listen-address'])
    named = invite_addresses(desk.cli('invite').stdout.strip())
    if named != [f'127.0.0.1:{port}']:
        raise Failure(f'with listen-address 127.0.0.1 the invite names {named}')

    desk.administer({'listen-address': "'nosuchif0'"}, locked=['listen-address'])
    desk.refused('The network interface “nosuchif0” named in listen-address is not up',
                 'invite')


def test_scan_command(desk):
    """scan-command, locked: the scanner the administrator chose decides,
    whatever the user set (here one that finds every file infected)."""
    scanner = desk.secret('scanner', '#!/bin/sh\nexit 1\n')
    os.chmod(scanner, 0o700)
    path = desk.secret('report.txt', 'quarterly figures')
    desk.user_sets('scan-command', "'true %f'")
    if json.loads(desk.cli('check-file', path, '--json').stdout)['scan'] != 'clean':
        raise Failure('the user\'s scanner was not used')
    desk.administer({'scan-command': f"'{scanner} %f'"}, locked=['scan-command'])
    verdict = json.loads(desk.cli('check-file', path, '--json').stdout)
    if verdict['scan'] != 'infected' or verdict['verdict'] != 'block':
        raise Failure(f'the locked scanner was not used: {verdict}')


def wait_for_log(peer, event, detail, timeout=peers.TIMEOUT):
    """An entry of @peer's security log (asked of its runner)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entries = json.loads(peer.cli('log', '--json').stdout)
        found = [e for e in entries if e['event'] == event and e['detail'] == detail]
        if found:
            return found[0]
        time.sleep(0.2)
    raise Failure(f'{peer.name}: no “{event}” ({detail}) in the security log: {entries}')


def test_running_keys(desk):
    """Keys a running profile obeys, locked, between two `sotto-cli run`:
    allow-contact-requests (a stranger's calls refused, no request, in the
    log), then history-enabled (a message delivered, and kept by neither)
    and send-typing (Bob types, Alice is not told; unlocked, she is)."""
    alice = peers.Peer(desk, 'Alice').init()
    bob = peers.Peer(desk, 'Bob').init()
    bob.add(alice)     # Alice does not know Bob: a stranger to her

    desk.administer({'allow-contact-requests': 'false'}, locked=['allow-contact-requests'])
    alice.start()
    bob.start()
    bob.cli('send', 'Alice', 'may I?')
    refused = wait_for_log(alice, 'connection-refused', 'requests-off')
    if refused['subject'] != '127.0.0.1':
        raise Failure(f'refused from where? {refused}')
    alice.quiet_for(1, ['request'])
    bob.stop()
    alice.stop()

    alice.add(bob)
    desk.administer({'history-enabled': 'false', 'send-typing': 'false'},
                    locked=['history-enabled', 'send-typing'])
    alice.start()
    bob.start()
    alice.expect('message', contact='Bob')
    bob.expect('delivered', contact='Alice')
    for peer, other in ((alice, 'Bob'), (bob, 'Alice')):
        kept = json.loads(peer.cli('history', other, '--json').stdout)
        if kept:
            raise Failure(f'{peer.name} kept {kept} with history off')
    bob.say('typing Alice on')
    alice.quiet_for(2, ['typing'])
    bob.stop()
    alice.stop()

    desk.administer({})
    alice.start()
    bob.start()
    alice.expect('connected', contact='Bob')
    bob.expect('connected', contact='Alice')
    bob.say('typing Alice on')
    alice.expect('typing', contact='Bob', typing='on')
    bob.stop()
    alice.stop()


def test_discovery(desk):
    """discovery-enabled: on by default, and without an Avahi service Sotto
    says so and works on; locked off, nothing is looked for or published,
    and Sotto says who decided, in `nearby` and in `run`."""
    alice = peers.Peer(desk, 'Alice').init()
    # No Avahi service here, whatever the machine has: a bus that is not.
    alice.env = dict(alice.env, DBUS_SYSTEM_BUS_ADDRESS=f'unix:path={desk.root}/no-system-bus')
    nearby = alice.cli('nearby', '--json')
    if json.loads(nearby.stdout) != [] or 'the Avahi service is not running' not in nearby.stderr:
        raise Failure(f'nearby without Avahi: {nearby.stdout!r} {nearby.stderr!r}')
    alice.start()
    state = alice.expect('discovery')
    if state['state'] != 'unavailable' or 'not running' not in (state['reason'] or ''):
        raise Failure(f'run without Avahi: {state}')
    alice.stop()

    desk.administer({'discovery-enabled': 'false'}, locked=['discovery-enabled'])
    desk.user_sets('discovery-enabled', 'true')
    nearby = alice.cli('nearby', '--json')
    if json.loads(nearby.stdout) != [] or 'turned off by your administrator' not in nearby.stderr:
        raise Failure(f'nearby, locked off: {nearby.stdout!r} {nearby.stderr!r}')
    alice.start()
    state = alice.expect('discovery')
    if state['state'] != 'off' or 'administrator' not in (state['reason'] or ''):
        raise Failure(f'run, locked off: {state}')
    alice.stop()


TESTS = [test_admin_example, test_link_keys, test_file_keys, test_listen_address,
         test_scan_command, test_running_keys, test_adding_contacts, test_verified_contacts, test_user_delete,
         test_key_protection, test_discovery]


def main():
    wanted = sys.argv[1:]
    tests = [t for t in TESTS if not wanted or t.__name__ in wanted]
    print(f'1..{len(tests)}')
    failed = 0
    for n, test in enumerate(tests, 1):
        desk = Desk()
        try:
            test(desk)
            print(f'ok {n} {test.__name__}')
        except Exception as e:  # noqa: BLE001 — any error fails the test, with its reason
            failed += 1
            print(f'not ok {n} {test.__name__}')
            for line in str(e).splitlines():
                print(f'# {line}')
        finally:
            desk.cleanup()
        sys.stdout.flush()
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
