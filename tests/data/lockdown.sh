#!/bin/bash
# The README's admin recipe works with the schema: a value set and locked in
# a dconf system database is what Sotto reads, and users can't change it.
# Usage: lockdown.sh  (GSETTINGS_SCHEMA_DIR points at the build's schemas)
set -euo pipefail

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/local.d/locks" "$work/config"

cat >"$work/local.d/00-sotto" <<'DB'
[im/sotto/Sotto]
history-retention-days=uint32 90
history-enabled=false
DB
printf '/im/sotto/Sotto/history-retention-days\n' >"$work/local.d/locks/sotto"
dconf compile "$work/local" "$work/local.d"
printf 'user-db:user\nfile-db:%s/local\n' "$work" >"$work/profile"

export DCONF_PROFILE="$work/profile" XDG_CONFIG_HOME="$work/config"

fail() { echo "FAIL: $*" >&2; exit 1; }

[ "$(gsettings get im.sotto.Sotto history-retention-days)" = "uint32 90" ] \
  || fail "the admin's retention is not what Sotto reads"
[ "$(gsettings writable im.sotto.Sotto history-retention-days)" = "false" ] \
  || fail "a locked key is writable"
if gsettings set im.sotto.Sotto history-retention-days 5 2>/dev/null; then
  [ "$(gsettings get im.sotto.Sotto history-retention-days)" = "uint32 90" ] \
    || fail "a user changed a locked key"
fi
# A default set by the admin but not locked stays the user's to change.
[ "$(gsettings get im.sotto.Sotto history-enabled)" = "false" ] \
  || fail "the admin's default is not what Sotto reads"
[ "$(gsettings writable im.sotto.Sotto history-enabled)" = "true" ] \
  || fail "an unlocked key is not writable"
echo "locked history-retention-days=90 holds; history-enabled default false, writable"
