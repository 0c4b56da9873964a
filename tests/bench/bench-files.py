#!/usr/bin/env python3
# bench-files.py — a 1 GiB file between two `sotto-cli run` processes over
# loopback, next to baselines measured in the same run:
#
#   - the session's own text throughput (bench-protocol's transport figure:
#     one session, 32 KiB texts, no store);
#   - `ssh -c chacha20-poly1305@openssh.com … 'cat >/dev/null'` to an sshd
#     this script starts on a port of its own;
#
# and the resident memory of either side before and at its peak during the
# transfer. The file lands in a folder on tmpfs (/dev/shm), as the ssh copy
# goes to /dev/null: the figure is about the transfer, not the disk.
#
# Usage: bench-files.py BUILD_DIR [SIZE_MIB]
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if len(sys.argv) > 1:
    os.environ.setdefault('SOTTO_CLI', os.path.join(sys.argv[1], 'app', 'cli', 'sotto-cli'))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, '..', 'cli'))
import files as F  # noqa: E402  (the file-transfer tests' two-peer helpers)

MiB = 1024 * 1024


def rss_kib(pid):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """User + system CPU time of a process, in seconds."""
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def session_text_throughput(build):
    """MB/s of one session carrying 32 KiB texts (bench-protocol)."""
    out = subprocess.run([os.path.join(build, 'tests', 'bench', 'bench-protocol'),
                          '--chunks', '32768', '--handshakes', '10', '--messages', '100',
                          '--sustained', '100', '--idle-sessions', '0'],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r'session:\s+([0-9.]+) MB/s', out)
    if not m:
        raise SystemExit(f'bench-protocol printed no session figure:\n{out}')
    return float(m.group(1))


def receiver_floor(path, size):
    """MB/s of the least a receiver must do with every byte, in one thread,
    with the library Sotto uses (this system's libsodium, through PyNaCl):
    ChaCha20-Poly1305 decryption of the session's frames and the BLAKE2b-512
    of the file. With the sender on the other core, no transfer can be
    faster on this machine without a third core. Also returns the two
    parts' own speeds."""
    from nacl import bindings as sodium
    key = os.urandom(32)
    nonce = bytes(12)
    chunk = 61440
    with open(path, 'rb') as f:
        block = f.read(MiB)
    frames = [sodium.crypto_aead_chacha20poly1305_ietf_encrypt(block[i:i + chunk], b'', nonce, key)
              for i in range(0, len(block), chunk)]
    plain = [block[i:i + chunk] for i in range(0, len(block), chunk)]
    rounds = max(1, size // MiB)

    def timed(work):
        start = time.monotonic()
        work()
        return rounds * MiB / (time.monotonic() - start) / 1e6

    def decrypt():
        for _ in range(rounds):
            for frame in frames:
                sodium.crypto_aead_chacha20poly1305_ietf_decrypt(frame, b'', nonce, key)

    def blake2b():
        state = sodium.crypto_generichash_blake2b_init(digest_size=64)
        for _ in range(rounds):
            for part in plain:
                sodium.crypto_generichash_blake2b_update(state, part)
        sodium.crypto_generichash_blake2b_final(state)

    def both():
        state = sodium.crypto_generichash_blake2b_init(digest_size=64)
        for _ in range(rounds):
            for frame in frames:
                sodium.crypto_generichash_blake2b_update(
                    state, sodium.crypto_aead_chacha20poly1305_ietf_decrypt(frame, b'', nonce, key))
        sodium.crypto_generichash_blake2b_final(state)

    return timed(both), timed(decrypt), timed(blake2b)


def ssh_throughput(path, size):
    """MB/s of ssh -c chacha20-poly1305 into cat >/dev/null, to an sshd of
    our own on loopback; None when there is no sshd."""
    sshd = shutil.which('sshd') or '/usr/sbin/sshd'
    if not os.path.exists(sshd):
        return None
    work = tempfile.mkdtemp(prefix='sotto-bench-ssh-')
    proc = None
    try:
        host_key = os.path.join(work, 'host_key')
        user_key = os.path.join(work, 'user_key')
        for key in (host_key, user_key):
            subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', key], check=True)
        authorized = os.path.join(work, 'authorized_keys')
        shutil.copy(user_key + '.pub', authorized)
        os.chmod(authorized, 0o600)
        port = F.free_port()
        config = os.path.join(work, 'sshd_config')
        with open(config, 'w') as f:
            f.write(f'Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\n'
                    f'AuthorizedKeysFile {authorized}\nPidFile {work}/sshd.pid\n'
                    'PasswordAuthentication no\nUsePAM no\nStrictModes no\n'
                    'Ciphers chacha20-poly1305@openssh.com\n')
        os.makedirs('/run/sshd', exist_ok=True)
        proc = subprocess.Popen([sshd, '-D', '-e', '-f', config], stderr=subprocess.DEVNULL)
        ssh = ['ssh', '-q', '-p', str(port), '-i', user_key, '-c', 'chacha20-poly1305@openssh.com',
               '-o', 'StrictHostKeyChecking=no', '-o', f'UserKnownHostsFile={work}/known',
               '-o', 'BatchMode=yes', f'{os.environ.get("USER", "root")}@127.0.0.1']
        deadline = time.monotonic() + 10
        while subprocess.run(ssh + ['true'], capture_output=True).returncode != 0:
            if time.monotonic() > deadline:
                return None
            time.sleep(0.1)
        with open(path, 'rb') as source:
            start = time.monotonic()
            subprocess.run(ssh + ['cat >/dev/null'], stdin=source, check=True)
            return size / (time.monotonic() - start) / 1e6
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def file_throughput(source):
    """MB/s of a file from Alice's runner to Bob's, accept to Bob's
    file-done, the seconds it took, the runners' memory (KiB) before and at
    the peak, and the CPU seconds each runner spent on it."""
    world = F.World()
    target = tempfile.mkdtemp(prefix='sotto-bench-files-', dir='/dev/shm')
    try:
        alice, bob = F.pair(world)
        F.start_pair(alice, bob)
        before = (rss_kib(alice.proc.pid), rss_kib(bob.proc.pid))
        peak = list(before)
        done = threading.Event()

        def sample():
            while not done.is_set():
                try:
                    peak[0] = max(peak[0], rss_kib(alice.proc.pid))
                    peak[1] = max(peak[1], rss_kib(bob.proc.pid))
                except OSError:
                    pass
                time.sleep(0.02)

        tid = F.send_file(alice, 'Bob', source)['id']
        bob.expect('file-offer', tid=tid)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        cpu = (cpu_seconds(alice.proc.pid), cpu_seconds(bob.proc.pid))
        start = time.monotonic()
        bob.cli('accept-file', tid, '--to', target)
        event = bob.expect('file-done', tid=tid, timeout=600)
        cpu = (cpu_seconds(alice.proc.pid) - cpu[0], cpu_seconds(bob.proc.pid) - cpu[1])
        done.set()
        sampler.join()
        seconds = event['_t'] - start
        alice.stop()
        bob.stop()
        return source.size / seconds / 1e6, seconds, before, peak, cpu
    finally:
        world.cleanup()
        shutil.rmtree(target, ignore_errors=True)


def main():
    build = sys.argv[1]
    size_mib = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
    F.SHARED = tempfile.mkdtemp(prefix='sotto-bench-shared-')
    try:
        source = F.shared_source(size_mib * MiB)
        # The source in the page cache for every contender alike.
        with open(source.path, 'rb') as f:
            while f.read(MiB):
                pass
        files, seconds, before, peak, cpu = file_throughput(source)
        text = session_text_throughput(build)
        floor, decrypt, blake2b = receiver_floor(source.path, source.size)
        ssh = ssh_throughput(source.path, source.size)
    finally:
        shutil.rmtree(F.SHARED, ignore_errors=True)

    print(f'file transfer, {size_mib} MiB over loopback into tmpfs (two sotto-cli runners):')
    print(f'  files:    {files:8.1f} MB/s  ({seconds:.2f} s, accept to the receiver\'s file-done: '
          'hash checked, scanner run, renamed)')
    print(f'  baseline: {text:8.1f} MB/s  one session, 32 KiB texts (bench-protocol)  '
          f'ratio {files / text:.2f} (target >= 0.9)')
    print(f'  floor:    {floor:8.1f} MB/s  what a receiver must do per byte, one thread: '
          f'decrypt + BLAKE2b-512 with libsodium (ratio {files / floor:.2f})')
    print(f'            of which: ChaCha20-Poly1305 decrypt {decrypt:.1f} MB/s, '
          f'BLAKE2b-512 {blake2b:.1f} MB/s')
    if ssh is not None:
        print(f'  baseline: {ssh:8.1f} MB/s  ssh -c chacha20-poly1305@openssh.com, cat >/dev/null  '
              f'ratio {files / ssh:.2f} (target >= 1.5)')
    else:
        print('  baseline: ssh skipped: no sshd (install openssh-server)')
    print(f'  cpu:      sender {cpu[0]:.2f} s, receiver {cpu[1]:.2f} s in {seconds:.2f} s: '
          f'{(cpu[0] + cpu[1]) / seconds:.2f} of the machine\'s {os.cpu_count()} cores busy')
    for name, b, p in (('sender', before[0], peak[0]), ('receiver', before[1], peak[1])):
        print(f'  memory:   {name}: {b / 1024:.1f} MiB before, {p / 1024:.1f} MiB at the peak '
              f'(+{(p - b) / 1024:.1f} MiB; target <= +16 MiB)')


if __name__ == '__main__':
    main()
