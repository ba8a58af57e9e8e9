#!/usr/bin/env bash
# Builds the corpora of bench/compare.sh from real material, idempotently, under OUT (default
# <repo>/bench-data, which .gitignore keeps out of the repository):
#   OUT/src/{old,new}      golang.org/x/tools, two releases (a real source tree that evolved)
#   OUT/db/{old,new}.bin   256 MiB database-like file: 4 KiB pages, half random and half rows;
#                          1,000 random page rewrites and 8 insertions of 1..5000 bytes
#   OUT/big-<MiB>[-ins]/{old,new}.bin   BIG_MIB [1024] of random bytes, 1,000 of its 4 KiB
#                          pages rewritten; with INSERTS=8, also 8 insertions of 1..5000 bytes
#                          (written in pieces, so that 16 GiB needs no memory to speak of)
# Needs Go (module download), python3 and unzip. Usage: corpus.sh [OUT] [src|db|big ...]
set -euo pipefail
OUT=${1:-$(cd "$(dirname "$0")/.." && pwd)/bench-data}; shift || true
WHAT=${*:-src db}
TOOLS_OLD=${TOOLS_OLD:-v0.30.0}
TOOLS_NEW=${TOOLS_NEW:-v0.31.0}
DB_MIB=${DB_MIB:-256}
BIG_MIB=${BIG_MIB:-1024}
INSERTS=${INSERTS:-0}
mkdir -p "$OUT"

fetch_tools() { # version dest
  local v=$1 dest=$2
  [ -f "$dest.done" ] && return 0
  rm -rf "$dest"; mkdir -p "$dest"
  local gp tmp zip
  gp=$(mktemp -d); tmp=$(mktemp -d)
  zip=$(GOFLAGS=-mod=mod GOPATH=$gp go mod download -json "golang.org/x/tools@$v" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["Zip"])')
  unzip -q "$zip" -d "$tmp"
  cp -a "$tmp/golang.org/x/tools@$v/." "$dest/"
  chmod -R u+w "$dest" "$gp" "$tmp"; rm -rf "$gp" "$tmp"
  touch "$dest.done"
}

make_db() { # dir
  local dir=$1
  [ -f "$dir/.done" ] && return 0
  mkdir -p "$dir"
  python3 - "$dir" "$DB_MIB" <<'PY'
import os, random, sys
out, mib = sys.argv[1], int(sys.argv[2])
rng = random.Random(20240601)
PAGE = 4096
NPAGES = mib * 1024 * 1024 // PAGE
words = [b"alpha", b"beta", b"gamma", b"delta", b"user", b"order", b"item", b"NULL",
         b"2024-06-01", b"status=ok"]
def page(i, r):
    rows = bytearray()
    while len(rows) < PAGE // 2:
        rows += b"%08d|%s|%s|%d;" % (i, r.choice(words), r.choice(words), r.randrange(1 << 20))
    return r.randbytes(PAGE // 2) + bytes(rows[:PAGE // 2])
buf = bytearray()
for i in range(NPAGES):
    buf += page(i, rng)
with open(os.path.join(out, "old.bin"), "wb") as f:
    f.write(buf)
for p in rng.sample(range(NPAGES), min(1000, NPAGES)):
    buf[p * PAGE:(p + 1) * PAGE] = page(p, rng)
for _ in range(8):
    off = rng.randrange(len(buf))
    buf[off:off] = rng.randbytes(rng.randrange(1, 5001))
with open(os.path.join(out, "new.bin"), "wb") as f:
    f.write(buf)
PY
  touch "$dir/.done"
}

make_big() { # dir
  local dir=$1
  [ -f "$dir/.done" ] && return 0
  mkdir -p "$dir"
  python3 - "$dir" "$BIG_MIB" "$INSERTS" <<'PY'
import os, random, sys
out, mib, inserts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(20261207)
PAGE, PIECE = 4096, 64 << 20
size = mib << 20
with open(os.path.join(out, "old.bin"), "wb") as f:
    for off in range(0, size, PIECE):
        f.write(rng.randbytes(min(PIECE, size - off)))
pages = {p: rng.randbytes(PAGE) for p in rng.sample(range(size // PAGE), min(1000, size // PAGE))}
ins = sorted((rng.randrange(size), rng.randbytes(rng.randrange(1, 5001))) for _ in range(inserts))
with open(os.path.join(out, "old.bin"), "rb") as f, open(os.path.join(out, "new.bin"), "wb") as g:
    for off in range(0, size, PIECE):
        buf = bytearray(f.read(PIECE))
        for p in range(off // PAGE, (off + len(buf)) // PAGE):
            if p in pages:
                buf[p * PAGE - off:(p + 1) * PAGE - off] = pages[p]
        at = 0
        for o, data in ins:
            if off <= o < off + len(buf):
                g.write(buf[at:o - off]); g.write(data); at = o - off
        g.write(buf[at:])
PY
  touch "$dir/.done"
}

for w in $WHAT; do
  case $w in
    src) fetch_tools "$TOOLS_OLD" "$OUT/src/old"; fetch_tools "$TOOLS_NEW" "$OUT/src/new" ;;
    db)  make_db "$OUT/db" ;;
    big) make_big "$OUT/big-$BIG_MIB$([ "$INSERTS" = 0 ] || echo "-ins$INSERTS")" ;;
    *)   echo "corpus.sh: unknown corpus $w (src, db, big)" >&2; exit 2 ;;
  esac
done
for c in src/old src/new; do
  [ -d "$OUT/$c" ] && printf '%-8s files=%6d bytes=%11d\n' "$c" "$(find "$OUT/$c" -type f | wc -l)" \
    "$(find "$OUT/$c" -type f -printf '%s\n' | awk '{s+=$1} END{print s+0}')"
done
for f in db/old.bin db/new.bin $(cd "$OUT" && ls -d big-*/*.bin 2>/dev/null); do
  [ -f "$OUT/$f" ] && printf '%-22s bytes=%11d\n' "$f" "$(stat -c %s "$OUT/$f")"
done
exit 0
