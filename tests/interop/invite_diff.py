#!/usr/bin/python3
"""Differential test: invites read by sotto_peer.read_invite vs `sotto-cli add`.

usage: invite_diff.py SOTTO_CLI_COMMAND_PREFIX...   (e.g. sotto-cli --profile-dir D --passphrase-file F)
Every case is an invite text; both readers must agree on accept/refuse.
Prints one line per case and exits 1 if any case disagrees, also on names that depend on the
Unicode version: the rules are fixed lists (PROTOCOL.md, §Display names, "Unicode version"), so
this Python's older unicodedata must agree with Sotto's Unicode 15.0.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sotto_peer as sp  # noqa: E402


def raw_invite(key, name_b, hints_b, check=None):
    """an invite with a correct checksum whatever the name/hints (no validation)"""
    s = "sotto:" + sp.b32_encode(key) + "?v=1&n=" + sp.pct_encode(name_b)
    for h in hints_b:
        s += "&a=" + sp.pct_encode(h)
    s += "&c=" + (check or sp.b32_encode(sp.invite_checksum(key, name_b, hints_b)))
    return s


def cases():
    # a fresh canonical key per case (no "already a contact"): bit 255 clear
    k = lambda: os.urandom(31) + bytes([os.urandom(1)[0] & 0x7f])  # noqa: E731
    C = []
    add = lambda label, text: C.append((label, text))  # noqa: E731
    nm = lambda label, name: add("name " + label, raw_invite(k(), name.encode("utf-8", "surrogatepass"), []))  # noqa
    hint = lambda label, h: add("hint " + label, raw_invite(k(), b"Hint Test", [h.encode()]))  # noqa
    nm("plain", "Zoë Müller")
    nm("NFD (not NFC)", "Zoe\u0308")
    nm("e+U+0301", "Rene\u0301")
    nm("leading space", " Bob")
    nm("trailing space", "Bob ")
    nm("trailing NBSP", "Bob\u00a0")
    nm("only NBSP", "\u00a0")
    nm("ideographic space inside", "Bob\u3000Smith")
    nm("tab inside", "Bob\tSmith")
    nm("U+0085 inside", "Bob\u0085Smith")
    nm("64 chars", "a" * 64)
    nm("65 chars", "a" * 65)
    nm("64 x U+1F600", "\U0001F600" * 64)
    nm("ZWJ emoji", "\U0001F468\u200d\U0001F469")
    nm("ZWNJ", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645")
    nm("U+200B", "zero\u200bwidth")
    nm("U+202E", "evil\u202etxt")
    nm("U+00AD soft hyphen", "soft\u00adhyphen")
    nm("U+FEFF", "\ufeffBOM")
    nm("U+2028 (Zl)", "a\u2028b")
    nm("U+E000 (Co)", "priv\ue000")
    nm("U+0378 (Cn)", "un\u0378assigned")
    nm("U+1FA75 (new in Unicode 15.0)", "heart \U0001FA75")
    nm("U+1F6DC (new in Unicode 15.0)", "wireless \U0001F6DC")
    nm("U+0CF3 (new in Unicode 15.0, Mc)", "kannada \u0cf3")
    nm("U+13439 (format character new in Unicode 15.0)", "hieroglyph \U00013439")
    nm("U+0378 (unassigned in every version so far)", "unassigned \u0378")
    nm("U+FDD0 (a noncharacter)", "non \ufdd0")
    nm("U+10FFFF (a noncharacter)", "end \U0010ffff")
    nm("U+31350 (CJK ext H, 15.0)", "cjk \U00031350")
    key = k()
    add("key with bit 255 set", raw_invite(key[:31] + bytes([key[31] | 0x80]), b"Top Bit", []))
    add("key = 2^255 - 19", raw_invite(sp.P25519.to_bytes(32, "little"), b"P", []))
    add("key = 2^255 - 1", raw_invite((2 ** 255 - 1).to_bytes(32, "little"), b"Top", []))
    add("key = 2^255 - 20", raw_invite((sp.P25519 - 1).to_bytes(32, "little"), b"Below P", []))
    add("name 257 bytes", raw_invite(k(), b"a" * 257, []))
    add("name invalid UTF-8 (%C3%28)", raw_invite(k(), b"\xc3\x28", []))
    add("name overlong (%C0%AF)", raw_invite(k(), b"a\xc0\xaf", []))
    add("name surrogate (%ED%A0%80)", raw_invite(k(), b"a\xed\xa0\x80", []))
    add("name empty", raw_invite(k(), b"", []))
    for h in ["127.0.0.1:1", "127.0.0.1:65535", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:080",
              "01.2.3.4:7", "1.2.3:7", "1.2.3.256:7", "1.2.3.4.5:7", "123:7", "0.0.0.0:7",
              "[::1]:7", "[::]:7", "[::ffff:1.2.3.4]:7", "[::ffff:01.2.3.4]:7", "[1:2:3:4:5:6:7:8]:7",
              "[1:2:3:4:5:6:7:8:9]:7", "[1::2::3]:7", "[12345::1]:7", "[1:2:3:4:5:6:7::]:7",
              "[1::3:4:5:6:7:8]:7", "[FE80::1]:7", "[fe80::1%eth0]:7", "[1.2.3.4]:7", "[::1]",
              "[0000:0000:0000:0000:0000:ffff:255.255.255.255]:7",
              "[0000:0000:0000:0000:0000:ffff:255.255.255.255:1]:7", "::1:7", "host:7", "a-.b:7", "-a.b:7",
              "a..b:7", "a.b.:7", ("a" * 63) + ".example:7", ("a" * 64) + ".example:7",
              ".".join(["a" * 63] * 3) + "." + "a" * 61 + ":65535", ".".join(["a" * 63] * 3) + "." + "a" * 62 + ":7",
              "xn--bcher-kva.example:7", "under_score.example:7", "1.2.3.4a:7", ":7", "host:", "host:+7",
              "host:7:8", "HOST.Example:7"]:
        hint(h, h)
    add("9 hints", raw_invite(k(), b"Nine", [b"h%d:7" % i for i in range(9)]))
    add("8 hints", raw_invite(k(), b"Eight", [b"h%d:7" % i for i in range(8)]))
    class Fresh:
        """each use of `base` is a new invite (fresh key), so no case hits 'already a contact'"""
        def __getattr__(self, a):
            return getattr(raw_invite(k(), b"Alice", [b"127.0.0.1:7"]), a)

        def __add__(self, o):
            return str(raw_invite(k(), b"Alice", [b"127.0.0.1:7"])) + o

        def __radd__(self, o):
            return o + str(raw_invite(k(), b"Alice", [b"127.0.0.1:7"]))

        def __getitem__(self, i):
            raise TypeError("use fresh()")

    def fresh():
        return raw_invite(k(), b"Alice", [b"127.0.0.1:7"])
    base = Fresh()
    q = len("sotto:") + 52
    add("canonical", fresh())
    b = fresh(); add("uppercase KEY", b[:6] + b[6:q].upper() + b[q:])
    b = fresh(); add("uppercase CHECK", b[:-8] + b[-8:].upper())
    b = fresh(); add("SoTtO:", "SoTtO:" + b[6:])
    add("surrounding white space", "\t " + base + "\r\n")
    add("inner space", base.replace("&c=", " &c="))
    add("form feed around", "\x0c" + base + "\x0b")
    add("NBSP around (not ASCII ws)", "\u00a0" + base)
    add("# at end", base + "#")
    b = fresh(); add("sotto://", "sotto://" + b[6:])
    add("v=2", base.replace("v=1", "v=2"))
    add("v=01", base.replace("v=1", "v=01"))
    add("v= (empty)", base.replace("v=1", "v="))
    add("V=1 (uppercase name)", base.replace("v=1", "V=1"))
    add("&& (empty param)", base.replace("&c=", "&&c="))
    add("trailing &", base + "&")
    add("param without =", base.replace("&c=", "&x&c="))
    add("unknown param x=1", base.replace("&c=", "&x=1&c="))
    add("n before v", base.replace("?v=1&n=Alice", "?n=Alice&v=1"))
    b = fresh(); add("c before a", b.replace("&a=127.0.0.1%3A7&c=" + b[-8:], "&c=" + b[-8:] + "&a=127.0.0.1%3A7"))
    add("repeated n", base.replace("&n=Alice", "&n=Alice&n=Alice"))
    b = fresh(); add("no ?", b[:q])
    b = fresh(); add("key 51 chars", b[:6] + b[7:])
    b = fresh(); add("key with '1'", b[:6] + "1" + b[7:])
    b = fresh(); add("key last char not a/q", b[:q - 1] + ("b" if b[q - 1] != "b" else "c") + b[q:])
    add("lowercase %3a", base.replace("%3A", "%3a"))
    add("%zz", base.replace("n=Alice", "n=A%zzlice"))
    add("%4 at end of value", base.replace("n=Alice", "n=Alice%4"))
    add("%00", base.replace("n=Alice", "n=Al%00ice"))
    add("+ in name", raw_invite(k(), b"A", []).replace("n=A", "n=A+"))
    add("raw / in hint", base.replace("127.0.0.1%3A7", "127.0.0.1/7"))
    add("raw : in hint", base.replace("127.0.0.1%3A7", "127.0.0.1:7"))
    b = fresh(); add("checksum wrong", b[:-1] + ("a" if b[-1] != "a" else "b"))
    b = fresh(); add("checksum 7 chars", b[:-1])
    b = fresh(); add("checksum with '8'", b[:-1] + "8")
    long_name = ("\U0001F600" * 64).encode()          # 256 bytes, 768 characters encoded
    for label, total in (("2048 bytes incl. white space", 2048), ("2049 bytes incl. white space", 2049)):
        n = raw_invite(k(), long_name, [b"h%d.example:7" % i for i in range(8)])
        assert len(n) < total
        add(label, n + " " * (total - len(n)))
    b = fresh(); add("%41 for A", b.replace("n=Alice", "n=%41lice"))  # noqa: E702
    return C


def main():
    cli = sys.argv[1:]
    bad = 0
    for label, text in cases():
        try:
            sp.read_invite(text)
            mine, why = "accept", ""
        except sp.InviteError as e:
            mine, why = "refuse", e.kind
        # --new: many cases share a name ("Alice"); what is compared is
        # whether the invite is read, not whether it names a contact again.
        p = subprocess.run(cli + ["add", "--new", text], capture_output=True, text=True)
        theirs = "accept" if p.returncode == 0 else "refuse"
        msg = (p.stdout + p.stderr).strip().replace("\n", " | ")
        ok = mine == theirs
        bad += not ok
        print("%-5s %-58s mine=%-6s %-9s sotto-cli=%-6s rc=%d %s" % (
            "OK" if ok else "DIFF", label[:58], mine, why, theirs, p.returncode, msg[:110]), flush=True)
    print("%d disagreements" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
