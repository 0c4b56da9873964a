#!/usr/bin/python3
# scan.py — `sotto-cli check-file` with the real ClamAV scanner: the EICAR
# test file is caught by a signature database this test makes with
# sigtool (nothing is downloaded), a clean file passes, and a scanner that
# fails or is missing leaves a file "not scanned" or "scan failed", never
# clean.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: scan.py   (SOTTO_CLI names the sotto-cli binary). Prints TAP.

import json
import os
import shutil
import subprocess
import sys
import tempfile

CLI = os.environ.get('SOTTO_CLI', 'sotto-cli')

# The anti-virus industry's harmless test file (eicar.org), in two halves
# so that this script itself is not flagged.
EICAR = (r'X5O!P%@AP[4\PZX54(P^)7CC)7}$' + r'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*').encode()


class Failure(Exception):
    pass


def check_file(env, path, *args):
    result = subprocess.run([CLI, 'check-file', '--json', *args, path], env=env,
                            capture_output=True, encoding='utf-8', errors='replace')
    if result.returncode != 0:
        raise Failure(f'check-file {path}: exit {result.returncode}: {result.stderr}')
    return json.loads(result.stdout)


def ids(verdict):
    return [f['id'] for f in verdict['findings']]


def main():
    root = tempfile.mkdtemp(prefix='sotto-scan-')
    failures = []
    tests = []
    try:
        env = dict(os.environ)
        for name in ('DATA', 'CONFIG', 'CACHE', 'STATE'):
            path = os.path.join(root, name.lower())
            os.makedirs(path)
            env[f'XDG_{name}_HOME'] = path
        env['HOME'] = root
        env['GSETTINGS_BACKEND'] = 'keyfile'
        keyfile_dir = os.path.join(root, 'config', 'glib-2.0', 'settings')
        os.makedirs(keyfile_dir)

        def set_scan_command(command):
            with open(os.path.join(keyfile_dir, 'keyfile'), 'w') as f:
                f.write(f'[im/sotto/Sotto]\nscan-command={json.dumps(command)}\n')

        files = os.path.join(root, 'files')
        os.makedirs(files)
        eicar = os.path.join(files, 'invoice.pdf')
        with open(eicar, 'wb') as f:
            f.write(EICAR)
        clean = os.path.join(files, 'notes.txt')
        with open(clean, 'w') as f:
            f.write('Minutes of Monday’s meeting.\n')

        # A database of one signature: the MD5 of the test file (sigtool
        # --md5 prints "md5:size:name").
        db = os.path.join(root, 'db')
        os.makedirs(db)
        signature = subprocess.run(['sigtool', '--md5', eicar], capture_output=True, text=True,
                                   check=True, cwd=files).stdout
        md5, size = signature.strip().split(':')[:2]
        with open(os.path.join(db, 'test.hdb'), 'w') as f:
            f.write(f'{md5}:{size}:Eicar-Test-Signature\n')
        clamscan = shutil.which('clamscan')
        if clamscan is None:
            raise Failure('clamscan is not installed (build-aux/sotto-dev installs clamav)')
        set_scan_command(f'{clamscan} --no-summary --stdout --database={db} %f')

        def caught():
            v = check_file(env, eicar)
            if v['scan'] != 'infected' or v['verdict'] != 'block' or 'infected' not in ids(v):
                raise Failure(f'EICAR: {v}')
            if 'Eicar-Test-Signature' not in (v['scan_detail'] or ''):
                raise Failure(f'EICAR: the signature is not named: {v}')
        tests.append(('eicar-caught', caught))

        def odd_name():
            # The scanner prints the path, here not valid UTF-8: its answer
            # still counts.
            odd = os.path.join(os.fsencode(files), b'odd\xff name.pdf')
            with open(odd, 'wb') as f:
                f.write(EICAR)
            v = check_file(env, odd)
            if v['scan'] != 'infected' or v['verdict'] != 'block':
                raise Failure(f'EICAR with an odd name: {v}')
        tests.append(('odd-name', odd_name))

        def passes():
            v = check_file(env, clean)
            if v['scan'] != 'clean' or v['verdict'] != 'ask' or ids(v):
                raise Failure(f'clean file: {v}')
        tests.append(('clean-passes', passes))

        def fails():
            # A database that is not there: clamscan exits 2.
            set_scan_command(f'{clamscan} --no-summary --database={root}/nothing %f')
            v = check_file(env, clean)
            if v['scan'] != 'failed' or v['verdict'] != 'warn' or 'scan-failed' not in ids(v):
                raise Failure(f'failing scanner: {v}')
            # A scanner that can't be started at all.
            set_scan_command(f'{root}/no-such-scanner --check %f')
            v = check_file(env, eicar)
            if v['scan'] != 'failed' or 'scan-failed' not in ids(v):
                raise Failure(f'missing scanner: {v}')
        tests.append(('failing-scanner', fails))

        def none():
            # The default (ClamAV) with no ClamAV on the PATH: not scanned.
            set_scan_command('')
            bare = dict(env)
            bin_dir = os.path.join(root, 'bin')
            os.makedirs(bin_dir, exist_ok=True)
            bare['PATH'] = bin_dir
            v = check_file(bare, clean)
            if v['scan'] != 'not-scanned' or 'not-scanned' not in ids(v):
                raise Failure(f'no scanner: {v}')
            # --no-scan says the same, on purpose.
            v = check_file(env, clean, '--no-scan')
            if v['scan'] != 'not-scanned':
                raise Failure(f'--no-scan: {v}')
        tests.append(('no-scanner', none))

        print(f'1..{len(tests)}')
        for number, (name, test) in enumerate(tests, 1):
            try:
                test()
                print(f'ok {number} /scan/{name}')
            except (Failure, subprocess.CalledProcessError, ValueError) as e:
                failures.append(name)
                print(f'not ok {number} /scan/{name}')
                for line in str(e).splitlines():
                    print(f'# {line}')
            sys.stdout.flush()
    except Failure as e:
        print('1..0')
        print(f'# {e}')
        return 1
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
