#!/bin/bash
# An administrator's port holds for `sotto-cli run` too: `--port` can't
# override a locked `listen-port` (exit 2, and why), and without it the
# profile listens where the administrator said.
# Usage: locked-port.sh  (SOTTO_CLI names sotto-cli; GSETTINGS_SCHEMA_DIR
# points at the build's schemas)
set -euo pipefail

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config"
export XDG_CACHE_HOME="$work/cache" XDG_STATE_HOME="$work/state" XDG_RUNTIME_DIR="$work/runtime"
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$work/db.d/locks"
mkdir -m 0700 "$XDG_RUNTIME_DIR"

# A port below the kernel's range of ephemeral ports, free right now.
port=$(/usr/bin/python3 -c '
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(1000):
    p = random.randrange(10000, max(low, 10001))
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            continue
    print(p)
    break
')

printf '[im/sotto/Sotto]\nlisten-port=%s\n' "$port" >"$work/db.d/00-sotto"
printf '/im/sotto/Sotto/listen-port\n' >"$work/db.d/locks/sotto"
dconf compile "$work/db" "$work/db.d"
printf 'user-db:user\nfile-db:%s/db\n' "$work" >"$work/profile"
export DCONF_PROFILE="$work/profile"

fail() { echo "FAIL: $*" >&2; exit 1; }

printf 'secret passphrase\n' >"$work/pass"
chmod 600 "$work/pass"
"$SOTTO_CLI" --passphrase-file "$work/pass" init --name Admin >/dev/null

status=0
err=$("$SOTTO_CLI" --passphrase-file "$work/pass" run --port 0 </dev/null 2>&1 >/dev/null) \
  || status=$?
[ "$status" = 2 ] || fail "run --port over a locked port: exit $status, not 2 ($err)"
case "$err" in
  *administrator*) ;;
  *) fail "run --port over a locked port does not say why: $err" ;;
esac

out=$(echo quit | timeout 30 "$SOTTO_CLI" --passphrase-file "$work/pass" run --json)
echo "$out" | grep -q "\"event\":\"listening\",\"port\":\"$port\"" \
  || fail "run does not listen on the administrator's port $port: $out"
echo "locked listen-port=$port: --port refused with exit 2, run listens on $port"
