#!/bin/bash
# What a user sees when Sotto cannot start normally: a clear message, no
# crash, nothing overwritten. Usage: startup-errors.sh SOTTO
set -euo pipefail

sotto=$1
[ -n "${DISPLAY:-}" ] || { echo "No display: run through build-aux/sotto-dev test (Xvfb)" >&2; exit 1; }
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. A bad profile name is refused on the command line, before anything starts.
status=0
"$sotto" --profile '../x' >"$work/out" 2>"$work/err" || status=$?
[ "$status" -eq 2 ] || fail "bad profile name: exit status $status, expected 2"
grep -q 'profile name' "$work/err" || fail "bad profile name: no clear error: $(cat "$work/err")"
echo "bad profile name: exit 2, “$(cat "$work/err")”"

# 2. No settings schema (a broken install): an error, not an abort.
status=0
env GSETTINGS_SCHEMA_DIR="$work" XDG_DATA_DIRS="$work" \
  "$sotto" --profile noschema >"$work/out" 2>"$work/err" || status=$?
[ "$status" -eq 1 ] || fail "missing schema: exit status $status, expected 1: $(cat "$work/err")"
grep -q 'im.sotto.Sotto.*not installed' "$work/err" || fail "missing schema: no clear error: $(cat "$work/err")"
echo "missing schema: exit 1, “$(cat "$work/err")”"

# 3. The profile directory can't be used (a file is in its place): a dialog
#    says so, and the file is left as it was.
data="$work/data"
mkdir -p "$data/sotto"
echo "not a directory" >"$data/sotto/blocked"
XDG_DATA_HOME="$data" "$sotto" --profile blocked >"$work/out" 2>&1 &
pid=$!
window=$(timeout 30 xdotool search --all --sync --onlyvisible --pid "$pid" --name '^Sotto$' | head -n 1) \
  || fail "unusable profile: no error dialog appeared: $(cat "$work/out")"
[ -n "$window" ] || fail "unusable profile: no error dialog appeared"
sleep 1
mkdir -p screenshots
import -window "$window" screenshots/profile-error.png
grep -qi 'not a directory' "$work/out" || fail "unusable profile: reason not logged: $(cat "$work/out")"
[ "$(cat "$data/sotto/blocked")" = "not a directory" ] || fail "unusable profile: the file was changed"
# Closing the dialog ends the program.
xdotool windowfocus "$window"
xdotool key Return
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "unusable profile: still running after the dialog was closed"
pid=
echo "unusable profile: error dialog shown, file untouched, exits when closed"
