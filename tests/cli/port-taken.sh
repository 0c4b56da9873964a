#!/bin/bash
# A profile whose port is taken still runs: `sotto-cli run` says so,
# names a free port, reports that it listens nowhere, and keeps running.
# Usage: port-taken.sh  (SOTTO_CLI names sotto-cli; GSETTINGS_SCHEMA_DIR
# points at the build's schemas)
set -euo pipefail

work=$(mktemp -d)
holder=
cleanup() {
  [ -n "$holder" ] && kill "$holder" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export HOME="$work/home" XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config"
export XDG_CACHE_HOME="$work/cache" XDG_STATE_HOME="$work/state" XDG_RUNTIME_DIR="$work/runtime"
export GSETTINGS_BACKEND=memory
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"
mkdir -m 0700 "$XDG_RUNTIME_DIR"

fail() { echo "FAIL: $*" >&2; exit 1; }

# Another program holds a port below the ephemeral range, on every address.
/usr/bin/python3 - "$work/port" <<'PY' &
import random, socket, sys, time
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
for _ in range(1000):
    p = random.randrange(10000, max(low, 10001))
    try:
        s.bind(("::", p))
        break
    except OSError:
        continue
s.listen()
open(sys.argv[1] + ".tmp", "w").write(str(p))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)
PY
holder=$!
for _ in $(seq 100); do [ -f "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")

printf 'secret passphrase\n' >"$work/pass"
chmod 600 "$work/pass"
"$SOTTO_CLI" --passphrase-file "$work/pass" init --name Taken >/dev/null

out=$( (sleep 2; echo quit) | timeout 30 "$SOTTO_CLI" --passphrase-file "$work/pass" run --json \
         --port "$port") || fail "run stopped when its port was taken: $out"
echo "$out" | grep '"event":"warning"' | grep -q "\"free_port\":\"[0-9]" \
  || fail "no warning naming a free port: $out"
echo "$out" | grep -q '"event":"listening","port":"0"' \
  || fail "run does not say it listens nowhere: $out"
echo "$out" | grep -q '"event":"stopped"' || fail "run did not keep running until quit: $out"
echo "port $port taken: run warned, named a free port, kept running"
