#!/usr/bin/python3
"""po/POTFILES.in must list every file under app/ and data/ that holds a
translatable string, sorted, each once, and nothing that does not exist.

Usage: check-potfiles.py SRCDIR     check a source tree
       check-potfiles.py --self-test  prove the checks catch what they should
"""
import pathlib
import re
import sys
import tempfile

C_CALL = re.compile(r'(?<![A-Za-z0-9_])(?:_|N_|C_|NC_|ngettext|g_dngettext|g_dpgettext2?|g_dcgettext)\s*\(')
C_COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
UI_TRANSLATABLE = re.compile(r'translatable\s*=\s*"(?:yes|true|1)"')
DESKTOP_KEY = re.compile(r'^(?:Name|GenericName|Comment|Keywords)\s*=', re.M)
METAINFO_TEXT = re.compile(r'<(?:name|summary|p|li|caption)(?:\s[^>]*)?>', re.S)
SCHEMA_TEXT = re.compile(r'<(?:summary|description)>')


def is_translatable(path: pathlib.Path) -> bool:
    name = path.name
    try:
        text = path.read_text(encoding='utf-8')
    except (UnicodeDecodeError, OSError):
        return False
    if name.endswith(('.c', '.h')):
        return bool(C_CALL.search(C_COMMENT.sub('', text)))
    if name.endswith('.ui'):
        return bool(UI_TRANSLATABLE.search(text))
    if '.desktop.in' in name:
        return bool(DESKTOP_KEY.search(text))
    if '.metainfo.xml.in' in name or '.appdata.xml.in' in name:
        return bool(METAINFO_TEXT.search(text))
    if name.endswith('.gschema.xml'):
        return 'gettext-domain' in text and bool(SCHEMA_TEXT.search(text))
    return False


def check(srcdir: pathlib.Path) -> list[str]:
    problems = []
    potfiles = srcdir / 'po' / 'POTFILES.in'
    listed = [line.strip() for line in potfiles.read_text(encoding='utf-8').splitlines()
              if line.strip() and not line.lstrip().startswith('#')]

    if listed != sorted(listed):
        problems.append('po/POTFILES.in is not sorted')
    seen = set()
    for entry in listed:
        if entry in seen:
            problems.append(f'po/POTFILES.in lists {entry} twice')
        seen.add(entry)
        if not (srcdir / entry).is_file():
            problems.append(f'po/POTFILES.in lists {entry}, which does not exist')

    for top in ('app', 'data'):
        for path in sorted((srcdir / top).rglob('*')):
            if not path.is_file():
                continue
            rel = path.relative_to(srcdir).as_posix()
            if is_translatable(path) and rel not in seen:
                problems.append(f'{rel} has translatable strings but is not in po/POTFILES.in')
    return problems


def self_test() -> int:
    """Each check must fire on a tree that breaks it, and stay quiet on a good one."""
    cases = {
        'good': ({'app/a.c': '_("x")', 'app/b.ui': 'translatable="yes"', 'app/c.c': 'int x;'},
                 'app/a.c\napp/b.ui\n', 0),
        'missing C file': ({'app/a.c': 'g_print (_("x"));'}, '', 1),
        'missing N_ file': ({'app/a.c': 'N_("x")'}, '', 1),
        'missing ngettext file': ({'app/a.c': 'ngettext ("a", "b", n)'}, '', 1),
        'missing ui file': ({'app/w.ui': '<property translatable="yes">x</property>'}, '', 1),
        'missing desktop file': ({'data/x.desktop.in.in': '[Desktop Entry]\nName=X\n'}, '', 1),
        'missing metainfo file': ({'data/x.metainfo.xml.in.in': '<summary>x</summary>'}, '', 1),
        'missing schema': ({'data/x.gschema.xml': '<schemalist gettext-domain="s"><summary>x</summary>'},
                           '', 1),
        'comment only': ({'app/a.c': '/* call _("x") here */ int y;'}, '', 0),
        'identifier ending in _': ({'app/a.c': 'my_(1);'}, '', 0),
        'unsorted': ({'app/a.c': '_("x")', 'app/b.c': '_("y")'}, 'app/b.c\napp/a.c\n', 1),
        'duplicate': ({'app/a.c': '_("x")'}, 'app/a.c\napp/a.c\n', 1),
        'stale entry': ({'app/a.c': '_("x")'}, 'app/a.c\napp/gone.c\n', 1),
    }
    failed = 0
    for label, (files, potfiles, want) in cases.items():
        with tempfile.TemporaryDirectory() as tmp:
            root = pathlib.Path(tmp)
            for d in ('app', 'data', 'po'):
                (root / d).mkdir()
            for rel, text in files.items():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_text(text, encoding='utf-8')
            (root / 'po' / 'POTFILES.in').write_text(potfiles, encoding='utf-8')
            got = len(check(root))
            ok = (got > 0) == bool(want)
            print(f'{"ok" if ok else "FAIL"}: {label}: {got} problem(s) found')
            failed += not ok
    return 1 if failed else 0


def main() -> int:
    if sys.argv[1:] == ['--self-test']:
        return self_test()
    problems = check(pathlib.Path(sys.argv[1]))
    for problem in problems:
        print(problem)
    if not problems:
        print('po/POTFILES.in lists every file with translatable strings')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
