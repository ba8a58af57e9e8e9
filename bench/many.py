#!/usr/bin/env python3
"""many.py DIR COUNT: COUNT files of 200-3,000 bytes of text, 100 a directory,
seeded, so that every run makes the same tree (the many-small-files case of
bench/compare.sh and bench/restore.sh)."""
import os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(20261125)
words = [b"alpha", b"beta", b"gamma", b"delta", b"epsilon", b"user", b"order", b"item",
         b"NULL", b"2026-11-25", b"status=ok", b"func", b"return", b"if", b"else", b"{", b"}"]
pool = b" ".join(rng.choice(words) for _ in range(1 << 16))
for i in range(count):
    d = os.path.join(root, "d%03d" % (i // 10000), "d%02d" % (i // 100 % 100))
    if i % 100 == 0:
        os.makedirs(d, exist_ok=True)
    n = rng.randrange(200, 3001)
    off = rng.randrange(len(pool) - n)
    with open(os.path.join(d, "f%06d.txt" % i), "wb") as f:
        f.write(b"%d\n" % i + pool[off:off + n - len(b"%d\n" % i)])
