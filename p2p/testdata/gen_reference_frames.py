#!/usr/bin/env python3
"""Writes reference_frames.json: frames as a p2pnetwork 1.2 peer puts them on
the wire (payload + EOT, or base64(codec(payload) + tag) + 0x02 + EOT), with
the payload and the kind the reference's parse_packet gives them.

The Go wire tests decode these frames without needing Python. Regenerate with
    python3 p2p/testdata/gen_reference_frames.py > p2p/testdata/reference_frames.json
(stdlib only; the output is deterministic).
"""

import base64
import bz2
import json
import lzma
import sys
import zlib


def frame(payload, compression):
    if compression == "none":
        return payload + b"\x04"
    if compression == "zlib":
        body = zlib.compress(payload, 6) + b"zlib"
    elif compression == "bzip2":
        body = bz2.compress(payload) + b"bzip2"
    else:
        body = lzma.compress(payload) + b"lzma"
    return base64.b64encode(body) + b"\x02\x04"


def kind(payload):
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return "bytes"
    try:
        json.loads(text)
        return "json"
    except json.decoder.JSONDecodeError:
        return "text"


def main():
    payloads = [
        ("str", "héllo wörld ✓".encode("utf-8")),
        ("dict", json.dumps({"z": 1, "a": [1, 2.5, "é", None, True], "n": {"k": "NaN"}}).encode("utf-8")),
        ("number text", b"123"),
        ("NaN", b"NaN"),
        ("bytes", bytes([0xFF, 0xFE, 0x00, 0x80, 0x61, 0x02, 0x62, 0xC3])),
        ("empty", b""),
        ("holding EOT", b"one\x04two"),
        ("first 0x02 last", b"abc\x02"),
        ("repetitive 2 KiB", b"p2pnetwork " * 190),
    ]
    out = []
    for name, payload in payloads:
        for compression in ("none", "zlib", "bzip2", "lzma"):
            raw_ok = payload and b"\x04" not in payload and payload.find(b"\x02") != len(payload) - 1
            if compression == "none" and not raw_ok:
                continue  # the reference cannot carry it raw
            out.append({
                "name": "%s/%s" % (name, compression),
                "compression": compression,
                "frame": base64.b64encode(frame(payload, compression)).decode("ascii"),
                "payload": base64.b64encode(payload).decode("ascii"),
                "kind": kind(payload),
            })
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
