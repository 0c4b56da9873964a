#!/usr/bin/python3
# check-version.py METAINFO VERSION: the metainfo's latest release is the
# version meson.build sets (which --version and the About window show).
#
# SPDX-License-Identifier: GPL-3.0-or-later

import sys
import xml.etree.ElementTree as ET

metainfo, version = sys.argv[1], sys.argv[2]
releases = ET.parse(metainfo).getroot().find('releases')
if releases is None or len(releases) == 0:
    sys.exit(f'{metainfo}: no releases')
latest = releases[0].get('version')
# A development build says "0.2.0-devel"; its release is still 0.2.0.
if version.split('-')[0] != latest:
    sys.exit(f'{metainfo}: the latest release is {latest}, meson.build says {version}')
print(f'latest release {latest} = project version {version}')
