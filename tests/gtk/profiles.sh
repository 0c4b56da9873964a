#!/bin/bash
# Two profiles run side by side; starting a running profile again activates
# it instead of opening a second copy. Usage: profiles.sh SOTTO
set -euo pipefail

sotto=$1
[ -n "${DISPLAY:-}" ] || { echo "No display: run through build-aux/sotto-dev test (Xvfb)" >&2; exit 1; }

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# A new profile opens on the first-run assistant.
wait_window() { # PID
  timeout 30 xdotool search --all --sync --onlyvisible --pid "$1" --name '^Welcome to Sotto$' | head -n 1
}

"$sotto" --profile side-a &
pids+=($!)
"$sotto" --profile side-b &
pids+=($!)

a=$(wait_window "${pids[0]}") || { echo "FAIL: no window for profile side-a" >&2; exit 1; }
b=$(wait_window "${pids[1]}") || { echo "FAIL: no window for profile side-b" >&2; exit 1; }
[ -n "$a" ] && [ -n "$b" ] || { echo "FAIL: a profile has no window" >&2; exit 1; }
[ "$a" != "$b" ] || { echo "FAIL: one window for two profiles" >&2; exit 1; }
for p in "${pids[@]}"; do
  kill -0 "$p" || { echo "FAIL: an instance exited" >&2; exit 1; }
done
echo "two profiles side by side: windows $a and $b, processes ${pids[*]}"

# The same profile again: hands over to the running instance and exits.
timeout 20 "$sotto" --profile side-a || { echo "FAIL: a second start of side-a did not return" >&2; exit 1; }
sleep 1
count=$(xdotool search --onlyvisible --name '^Welcome to Sotto$' | wc -l)
[ "$count" -eq 2 ] || { echo "FAIL: $count assistant windows for two profiles" >&2; exit 1; }
echo "second start of side-a activated the running instance"

