#!/bin/bash
# Sotto started with LANGUAGE=de speaks German: on the command line and in
# its window. Usage: german.sh SOTTO SOTTO-CLI
set -euo pipefail

sotto=$1
cli=$2
[ -n "${DISPLAY:-}" ] || { echo "No display: run through build-aux/sotto-dev test (Xvfb)" >&2; exit 1; }

unset LC_ALL LC_MESSAGES
export LANG=C.UTF-8 LANGUAGE=de

expect() { # WHAT OUTPUT TEXT
  if ! grep -qF -- "$3" <<<"$2"; then
    echo "FAIL: $1 is not German: no “$3” in:" >&2
    echo "$2" >&2
    exit 1
  fi
  echo "$1: found “$3”"
}

expect "sotto --help" "$("$sotto" --help)" "Das Profil NAME verwenden"
expect "sotto-cli --help" "$("$cli" --help)" "Befehle:"
expect "sotto-cli error" "$("$cli" frobnicate 2>&1 || true)" "Unbekannter Befehl"

"$sotto" --profile german &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
if ! window=$(timeout 30 xdotool search --sync --onlyvisible --name '^Willkommen bei Sotto$' | head -n 1) \
   || [ -z "$window" ]; then
  echo "FAIL: no window titled “Willkommen bei Sotto” (the first-run assistant) appeared; windows:" >&2
  for w in $(xdotool search --onlyvisible --name '.' 2>/dev/null); do xdotool getwindowname "$w" >&2; done
  exit 1
fi
echo "window title: $(xdotool getwindowname "$window")"
