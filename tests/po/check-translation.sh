#!/bin/bash
# A catalogue is complete: every string the sources hold today is translated
# and none is fuzzy. Usage: check-translation.sh SRCDIR LANG
set -euo pipefail

srcdir=$1
lang=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The same extraction as the glib preset of meson's i18n module.
xgettext --directory="$srcdir" --files-from="$srcdir/po/POTFILES.in" \
  --from-code=UTF-8 --add-comments=Translators \
  --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
  --keyword=g_dcgettext:2 --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 \
  --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format --flag=NC_:2:pass-c-format \
  --flag=g_dngettext:2:pass-c-format --flag=g_strdup_printf:1:c-format \
  --flag=g_string_printf:2:c-format --flag=g_string_append_printf:2:c-format \
  --flag=g_error_new:3:c-format --flag=g_set_error:4:c-format \
  --flag=g_printerr:1:c-format --flag=g_print:1:c-format \
  --output="$tmp/sotto.pot"

total=$(grep -c '^msgid ' "$tmp/sotto.pot")
# msgcmp counts untranslated and fuzzy entries as missing.
if ! msgcmp "$srcdir/po/$lang.po" "$tmp/sotto.pot" 2>"$tmp/err"; then
  echo "FAIL: po/$lang.po is incomplete against the sources:" >&2
  cat "$tmp/err" >&2
  exit 1
fi
echo "po/$lang.po translates all $((total - 1)) strings"
msgfmt --check --statistics -o /dev/null "$srcdir/po/$lang.po"
