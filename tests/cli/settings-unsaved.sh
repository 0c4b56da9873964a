#!/bin/bash
# Settings that can't be saved (no dconf service, a read-only backend) do
# not cost a profile its port: `init`, `invite` and `profile` still work,
# the invite names the port chosen, and nothing is written by a one-shot
# command. Usage: settings-unsaved.sh  (SOTTO_CLI names sotto-cli;
# GSETTINGS_SCHEMA_DIR points at the build's schemas)
set -euo pipefail

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config"
export XDG_CACHE_HOME="$work/cache" XDG_STATE_HOME="$work/state" XDG_RUNTIME_DIR="$work/runtime"
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"
mkdir -m 0700 "$XDG_RUNTIME_DIR"
printf 'a passphrase for the test\n' > "$work/pass"
chmod 600 "$work/pass"

fail() { echo "FAIL: $*" >&2; exit 1; }
cli() { "$SOTTO_CLI" -p unsaved --passphrase-file "$work/pass" "$@"; }

# GLib's "null" backend reads defaults and drops every write.
export GSETTINGS_BACKEND=null
cli init --name "Una Saved" > "$work/init.out" 2> "$work/init.err" \
  || fail "init: $(cat "$work/init.err")"
invite=$(cli invite 2> "$work/invite.err") || fail "invite: $(cat "$work/invite.err")"
case "$invite" in
  *%3A47300\&*) ;;
  *) fail "the invite names no port 47300: $invite" ;;
esac
if grep -q CRITICAL "$work/invite.err" "$work/init.err"; then
  fail "criticals: $(cat "$work/init.err" "$work/invite.err")"
fi

# With a store that keeps what is written: a one-shot command writes
# nothing; `init` keeps the port it chose.
export GSETTINGS_BACKEND=keyfile
rm -rf "$XDG_DATA_HOME/sotto"
cli init --name "Una Saved" > /dev/null
keyfile="$XDG_CONFIG_HOME/glib-2.0/settings/keyfile"
grep -q '^listen-port=47300' "$keyfile" || fail "init kept no port: $(cat "$keyfile")"
before=$(cksum < "$keyfile")
cli invite > /dev/null
cli contacts > /dev/null
[ "$(cksum < "$keyfile")" = "$before" ] || fail "a one-shot command wrote settings"
echo "unsaved settings: invite names port 47300; one-shot commands write nothing"
