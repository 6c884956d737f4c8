#!/usr/bin/python3
"""Writes the seed corpus of each fuzz target (Fuzz/corpus/TARGET/seed-*).

Run from the package root with /usr/bin/python3 (it uses python3-libtorrent
for real .torrent files). libFuzzer adds what it finds worth keeping to the
same folders when scripts/fuzz runs; those files are committed too.
"""
import hashlib
import os
import re
import struct

import libtorrent as lt

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Fuzz", "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def torrents():
    tmp = "/tmp/matinee-fuzz-seeds"
    os.makedirs(tmp + "/folder/sub", exist_ok=True)
    for name, size in [("one.bin", 40000), ("folder/a.mkv", 300000), ("folder/sub/b.srt", 999)]:
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(hashlib.sha256(name.encode()).digest() * (size // 32 + 1))
    out = {}
    for name, path, flags in [("v1", "one.bin", lt.create_torrent.v1_only), ("hybrid", "folder", 0),
                              ("v2", "folder", lt.create_torrent.v2_only)]:
        fs = lt.file_storage()
        lt.add_files(fs, os.path.join(tmp, path))
        ct = lt.create_torrent(fs, 16384, flags=flags)
        lt.set_piece_hashes(ct, tmp)
        out[name] = lt.bencode(ct.generate())
    return out


def main():
    ts = torrents()
    for k, v in ts.items():
        put("torrent", k, v)
        put("bencode", k, v)
    hostile = b"d4:infod5:filesld6:lengthi10e4:pathl2:..2:..6:escapeee4:name4:evil12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAAee"
    put("torrent", "dotdot", hostile)
    put("bencode", "nested", b"d1:ali1ei-2e3:abce1:bd1:cdeee")
    put("bencode", "deep", b"l" * 70 + b"e" * 70)
    put("bencode", "bad-int", b"i-0e")

    ih = "08ada5a7a6183aae1e09d831df6748d566095a10"
    for name, m in [
        ("hex", "magnet:?xt=urn:btih:%s&dn=Sintel&tr=udp%%3A%%2F%%2Fexample.org%%3A6969&x.pe=127.0.0.1:6881" % ih),
        ("upper", "MAGNET:?XT=URN:BTIH:%s&X.PE=[::1]:6881" % ih.upper()),
        ("base32", "magnet:?xt=urn:btih:BGW2LJ5GDAVK4HQJ3AY67NDVNVDAVH2Q"),
        ("v2", "magnet:?xt=urn:btmh:1220" + hashlib.sha256(b"x").hexdigest()),
        ("junk", "magnet:?xt=urn:btih:&&==&x.pe=::::"),
    ]:
        put("magnet", name, m)

    key = hashlib.sha256(b"channel").hexdigest()
    for name, a in [("magnet", "magnet:?xs=urn:btpk:" + key), ("salted", "magnet:?xs=urn:btpk:%s&s=%s" % (key, "73616c74")),
                    ("short", "matinee:" + "a" * 52), ("bad", "magnet:?xs=urn:btpk:zz")]:
        put("channel", name, a)

    src = open(os.path.join(ROOT, "Sources", "Catalog", "BundledChannel.swift")).read()
    catalog = re.search(r'static let json = #"""\n(.*?)\n\s*"""#', src, re.S).group(1)
    put("catalog", "open-films", catalog)
    put("catalog", "empty", '{"schema":1,"channel":{"key":"","name":"x"},"sequence":1,"issued":"2026-01-01T00:00:00Z","expires":"2027-01-01T00:00:00Z","titles":[]}')
    put("catalog", "hostile", catalog.replace('"title": "', '"title": "\u202e<script>', 1).replace('"poster": "', '"poster": "../../', 1))

    put("subtitles", "srt", "1\r\n00:00:01,000 --> 00:00:02,500\r\n<i>Hello</i> {\\an8}there\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\n<font color=red>two</font>\r\n")
    put("subtitles", "vtt", "WEBVTT\n\n00:01.000 --> 00:02.000 align:start\n<b>bold</b> <c.yellow>c</c>\n\nNOTE x\n\n00:00:03.000 --> 00:00:04.000\n<script>x</script>\n")
    put("subtitles", "bom", b"\xef\xbb\xbf1\n00:00:00,000 --> 99:59:59,999\n\xff\xfe\n")

    for name, size, h in [("simple", 1000, "bytes=0-99"), ("suffix", 1000, "bytes=-10"), ("huge", 1 << 40, "bytes=99999999999999999999-"),
                          ("multi", 50, "bytes=1-2,4-5"), ("junk", 0, "bytes=--")]:
        put("range", name, struct.pack(">q", size) + h.encode())

    put("dht-value", "pointer", b"d2:ih20:" + bytes(range(20)) + b"e")
    put("dht-value", "short-ih", b"d2:ih3:abce")
    put("dht-value", "json", b'{"version":"1.0.0","build":1,"signatures":[]}')


if __name__ == "__main__":
    main()
