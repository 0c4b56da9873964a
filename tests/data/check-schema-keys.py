#!/usr/bin/python3
"""Every GSettings key that app/ reads or writes must exist in the schema.

g_settings_get_* on a missing key aborts the program, so a typo would only
show up when a user reaches that code path. Keys of other programs' schemas
that app/ reads are listed below with the schema; the code looks those
schemas up first. Usage: check-schema-keys.py SRCDIR
"""
import pathlib
import re
import sys
import xml.etree.ElementTree as ET

srcdir = pathlib.Path(sys.argv[1])
schema = ET.parse(srcdir / 'data' / 'im.sotto.Sotto.gschema.xml')
keys = {k.get('name') for k in schema.iter('key')}

# key → the other schema it belongs to, and the file that reads it
FOREIGN = {
    'color-scheme': ('org.gnome.desktop.interface', 'app/gtk/sotto-application.c'),
}

use = re.compile(r'g_settings_(?:get|set)_\w+\s*\(\s*[^,]+,\s*"([a-z0-9-]+)"'
                 r'|g_settings_bind\w*\s*\(\s*[^,]+,\s*"([a-z0-9-]+)"')
missing = []
used = set()
for path in sorted((srcdir / 'app').rglob('*.c')):
    for match in use.finditer(path.read_text(encoding='utf-8')):
        key = match.group(1) or match.group(2)
        relative = str(path.relative_to(srcdir))
        if key in FOREIGN and FOREIGN[key][1] == relative:
            continue
        used.add(key)
        if key not in keys:
            missing.append(f'{path.relative_to(srcdir)}: key "{key}" is not in the schema')

print(f'{len(used)} keys used by app/, {len(keys)} declared in the schema')
for line in missing:
    print(line)
sys.exit(1 if missing else 0)
