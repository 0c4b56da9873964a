#!/bin/bash
# `init` killed at any moment leaves either a complete profile or one that
# `init` can make again: never a database that every command refuses.
# Usage: init-killed.sh  (SOTTO_CLI names sotto-cli; GSETTINGS_SCHEMA_DIR
# points at the build's schemas)
set -uo pipefail

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config"
export XDG_CACHE_HOME="$work/cache" XDG_STATE_HOME="$work/state" XDG_RUNTIME_DIR="$work/runtime"
export GSETTINGS_BACKEND=memory
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"
mkdir -m 0700 "$XDG_RUNTIME_DIR"

fail() { echo "FAIL: $*" >&2; exit 1; }

printf 'secret passphrase\n' >"$work/pass"
chmod 600 "$work/pass"

# How long a whole init takes here, to spread the kills over it.
start=$(date +%s%N)
"$SOTTO_CLI" -p timing --passphrase-file "$work/pass" init --name Timing >/dev/null \
  || fail "init failed"
total_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$total_ms" -ge 20 ] || total_ms=20

killed=0
for i in $(seq 0 11); do
  profile="k$i"
  delay_ms=$(( total_ms * i / 10 + 5 ))
  delay=$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))
  # --foreground: only sotto-cli is killed, not timeout with it.
  timeout --foreground -s KILL "$delay" "$SOTTO_CLI" -p "$profile" \
    --passphrase-file "$work/pass" init --name "Killed $i" >/dev/null 2>&1
  status=$?
  [ "$status" -eq 137 ] && killed=$((killed + 1))

  if out=$("$SOTTO_CLI" -p "$profile" --passphrase-file "$work/pass" fingerprint 2>&1); then
    [ "$status" -ne 137 ] || echo "killed after ${delay}s: the profile was complete"
    continue
  fi
  echo "$out" | grep -q "not a Sotto history database\|damaged" \
    && fail "killed after ${delay}s, the profile is unusable: $out"

  out=$("$SOTTO_CLI" -p "$profile" --passphrase-file "$work/pass" init --name "Again $i" 2>&1) \
    || fail "killed after ${delay}s, init cannot be run again: $out"
  out=$("$SOTTO_CLI" -p "$profile" --passphrase-file "$work/pass" fingerprint 2>&1) \
    || fail "killed after ${delay}s, the profile made again does not open: $out"
  echo "killed after ${delay}s: init made the profile again"
done

[ "$killed" -ge 5 ] || fail "only $killed of 12 runs were killed: the test proves little"
echo "$killed of 12 runs of init killed; every profile works"
