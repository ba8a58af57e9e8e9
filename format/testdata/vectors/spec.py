#!/usr/bin/env python3
"""Recompute the hashes of ibt's ok test vectors from format/doc.go alone.

An independent implementation of the spec, in Python's standard library
only, sharing no code with the Go package: it reads each vector whose
expect line is "ok", decodes the stream (framing, msgpack, trailer),
checks the trailer's xxh64 checksum, every file's block size, file hash
(from the vector's file lines, or a delta's literals) and signature weak
sums and lengths, and the tree hash. The strong sums are left out: they
need AES, which Python's standard library does not have. Usage: spec.py DIR
"""

import hashlib
import os
import struct
import sys

M64 = (1 << 64) - 1


# xxh64, seed 0 (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md)
P1, P2, P3, P4, P5 = (11400714785074694791, 14029467366897019727,
                      1609587929392839161, 9650029242287828579,
                      2870177450012600261)


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M64


def xxround(acc, v):
    acc = (acc + v * P2) & M64
    return (rotl(acc, 31) * P1) & M64


def xxh64(data):
    n, i = len(data), 0
    if n >= 32:
        v = [(P1 + P2) & M64, P2, 0, (-P1) & M64]
        while i + 32 <= n:
            for j in range(4):
                v[j] = xxround(v[j], struct.unpack_from("<Q", data, i + 8 * j)[0])
            i += 32
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & M64
        for x in v:
            h = ((h ^ xxround(0, x)) * P1 + P4) & M64
    else:
        h = P5
    h = (h + n) & M64
    while i + 8 <= n:
        h ^= xxround(0, struct.unpack_from("<Q", data, i)[0])
        h = (rotl(h, 27) * P1 + P4) & M64
        i += 8
    if i + 4 <= n:
        h ^= (struct.unpack_from("<I", data, i)[0] * P1) & M64
        h = (rotl(h, 23) * P2 + P3) & M64
        i += 4
    while i < n:
        h ^= (data[i] * P5) & M64
        h = (rotl(h, 11) * P1) & M64
        i += 1
    h ^= h >> 33
    h = (h * P2) & M64
    h ^= h >> 29
    h = (h * P3) & M64
    return h ^ (h >> 32)


# msgpack: the subset doc.go allows (no floats, no ext)
def unpack(b, i):
    t = b[i]
    i += 1

    def n(fmt, size):
        return struct.unpack_from(fmt, b, i)[0], i + size

    if t <= 0x7F:
        return t, i
    if t >= 0xE0:
        return t - 0x100, i
    if 0x80 <= t <= 0x8F:
        return unpack_map(b, i, t & 0x0F)
    if 0x90 <= t <= 0x9F:
        return unpack_array(b, i, t & 0x0F)
    if 0xA0 <= t <= 0xBF:
        return b[i:i + (t & 0x1F)].decode(), i + (t & 0x1F)
    if t == 0xC0:
        return None, i
    if t in (0xC2, 0xC3):
        return t == 0xC3, i
    fixed = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q",
             0xD0: ">b", 0xD1: ">h", 0xD2: ">i", 0xD3: ">q"}
    if t in fixed:
        return n(fixed[t], struct.calcsize(fixed[t]))
    lens = {0xC4: ">B", 0xC5: ">H", 0xC6: ">I", 0xD9: ">B", 0xDA: ">H", 0xDB: ">I",
            0xDC: ">H", 0xDD: ">I", 0xDE: ">H", 0xDF: ">I"}
    if t in lens:
        size, i = n(lens[t], struct.calcsize(lens[t]))
        if t in (0xC4, 0xC5, 0xC6):
            return bytes(b[i:i + size]), i + size
        if t in (0xD9, 0xDA, 0xDB):
            return b[i:i + size].decode(), i + size
        if t in (0xDC, 0xDD):
            return unpack_array(b, i, size)
        return unpack_map(b, i, size)
    raise ValueError("msgpack type %#x not in the spec" % t)


def unpack_map(b, i, size):
    m = {}
    for _ in range(size):
        k, i = unpack(b, i)
        m[k], i = unpack(b, i)
    return m, i


def unpack_array(b, i, size):
    a = []
    for _ in range(size):
        v, i = unpack(b, i)
        a.append(v)
    return a, i


def frames(s):
    """Yields (tag, body) for every frame of stream s after magic and version."""
    assert s[:4] == b"\x89IBT", "magic"
    assert s[4] == 2, "version"
    i = 5
    while i < len(s):
        tag = chr(s[i])
        i += 1
        length, shift = 0, 0
        while True:  # unsigned LEB128
            c = s[i]
            i += 1
            length |= (c & 0x7F) << shift
            shift += 7
            if c < 0x80:
                break
        body, end = unpack(s, i)
        assert end == i + length, "body fills its frame"
        i = end
        yield tag, body


# the algorithms of format/doc.go
def block_size(size):
    if size < 262144:
        return 576
    b = 2048
    while b < 4194304 and (size // 16 >= 4 * b * b or -(-size // b) > 1048576):
        b *= 2
    return b


def file_hash(data, b):
    h = hashlib.sha256(struct.pack("<QI", len(data), b))
    for i in range(0, len(data), b):
        h.update(hashlib.sha256(data[i:i + b]).digest())
    return h.digest()


def weak_sum(block):
    h = 1
    for x in block:
        h = (h * 0x08104225 + x) & 0xFFFFFFFF
    return h


def strong_len(size, b):
    p = 1 if b == 0 or size == 0 else (size * -(-size // b)).bit_length()
    return min(max(-(-(p + 32) // 8), 4), 16)


def tree_hash(entries):
    h = hashlib.sha256(b"ibt tree hash v1\x00")

    def field(v):
        v = v.encode() if isinstance(v, str) else v
        return struct.pack(">Q", len(v)) + v

    for e in entries:
        if e.get("sk"):
            continue
        t = e["t"]
        rec = field(e["p"]) + struct.pack(">BIqq", t, e["m"], e["mt"], e.get("s", 0))
        rec += field(e.get("l", "")) + field(e.get("H", b"")) + field(e.get("h", ""))
        if t in (4, 5):
            rec += struct.pack(">Q", e.get("rd", 0))
        h.update(rec)
    return h.digest()


def check(name, head, s):
    content = {}
    for line in head.get("file", []):
        path, _, hexdata = line.partition(" ")
        content[path] = bytes.fromhex(hexdata)
    entries, last_new = [], None
    fr = list(frames(s))
    assert fr[0][0] == "H" and fr[-1][0] == "T", "header first, trailer last"
    for tag, body in fr[1:-1]:
        if tag == "E":
            entries.append(body)
        elif tag == "C":
            last_new = body.get("new")
            if last_new is not None:
                entries.append(last_new)
                if last_new["t"] == 0 and "h" not in last_new and "f" not in body:
                    content[last_new["p"]] = b""  # its literals follow
        elif tag == "L":
            content[last_new["p"]] = content.get(last_new["p"], b"") + body["d"]
        else:
            raise AssertionError("record %r in an ok vector" % tag)
    trailer = fr[-1][1]
    assert trailer["count"] == len(fr) - 2, "record count"
    assert trailer["checksum"] == xxh64(s[:-8]), "checksum"
    files = 0
    for e in entries:
        if e["t"] != 0 or "H" not in e:
            continue
        size = e.get("s", 0)
        b = block_size(size)
        assert e["b"] == b, "%s: block size %d, want %d" % (e["p"], e["b"], b)
        data = content.get(e["p"])
        if data is None:
            data = content.get(e.get("h"))  # a hard link's content is its target's
        if data is None:
            continue
        assert len(data) == size, "%s: size" % e["p"]
        assert e["H"] == file_hash(data, b), "%s: file hash" % e["p"]
        files += 1
        sig = e.get("S")
        if sig is not None:
            k = strong_len(size, b)
            blocks = [data[i:i + b] for i in range(0, size, b)]
            assert len(sig) == len(blocks) * (4 + k), "%s: signature length" % e["p"]
            for j, blk in enumerate(blocks):
                got = struct.unpack_from(">I", sig, j * (4 + k))[0]
                assert got == weak_sum(blk), "%s: weak sum of block %d" % (e["p"], j)
    assert trailer["tree_hash"] == tree_hash(entries), "tree hash"
    print("%s: ok (%d file hashes, tree hash %s)" % (name, files, trailer["tree_hash"].hex()))


def main(d):
    checked = 0
    for name in sorted(os.listdir(d)):
        if not name.endswith(".vec"):
            continue
        with open(os.path.join(d, name), "rb") as f:
            data = f.read()
        head_text, _, s = data.partition(b"\n\n")
        head = {}
        for line in head_text.decode().split("\n"):
            k, _, v = line.partition(": ")
            head.setdefault(k, []).append(v)
        if head["expect"] != ["ok"]:
            continue
        check(name, head, s)
        checked += 1
    if checked == 0:
        sys.exit("no ok vectors in " + d)


if __name__ == "__main__":
    main(sys.argv[1])
