#!/bin/bash
# Starts `sotto` as a user would, waits for its window and saves a PNG of it.
# Fails when no window appears. Usage: screenshot.sh SOTTO OUTPUT.png [ARGS...]
set -euo pipefail

sotto=$1
output=$2
shift 2

[ -n "${DISPLAY:-}" ] || { echo "No display: run through build-aux/sotto-dev test (Xvfb)" >&2; exit 1; }

log=$(mktemp)
"$sotto" "$@" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -f "$log"' EXIT

# xdotool --sync waits forever; the timeout turns "no window" into a failure.
if ! window=$(timeout 30 xdotool search --all --sync --onlyvisible --pid "$pid" --name '.' | head -n 1) \
   || [ -z "$window" ]; then
  echo "FAIL: no window appeared within 30 s; sotto printed:" >&2
  cat "$log" >&2
  exit 1
fi

# Let the first frame settle before taking the picture.
sleep 1
mkdir -p "$(dirname "$output")"
import -window "$window" "$output"

read -r width height < <(identify -format '%w %h\n' "$output")
echo "window $window \"$(xdotool getwindowname "$window")\": ${width}x${height} -> $output"
if [ "$width" -lt 300 ] || [ "$height" -lt 300 ]; then
  echo "FAIL: the screenshot is too small to be the window" >&2
  exit 1
fi

# A window that drew nothing is a single colour.
colours=$(convert "$output" -format '%k' info:)
if [ "$colours" -lt 16 ]; then
  echo "FAIL: the screenshot has $colours colours: nothing was drawn" >&2
  exit 1
fi

if ! kill -0 "$pid" 2>/dev/null; then
  echo "FAIL: sotto exited while its window was up" >&2
  cat "$log" >&2
  exit 1
fi
if grep -E 'CRITICAL|WARNING' "$log" >&2; then
  echo "FAIL: sotto logged warnings" >&2
  exit 1
fi
