#!/usr/bin/env bash
# Times a full restore of many small files by ibt-patch against `tar xzf` of the same tree,
# into an empty directory on tmpfs (/dev/shm) and on disk, and prints medians and ratios.
# Run on demand, never in CI:
#
#   bench/restore.sh                 # 40,000 files, 5 runs each
#   FILES=10000 RUNS=3 bench/restore.sh
#
# Environment (defaults in brackets):
#   FILES [40000]        file count of the tree (200-3,000 bytes each, 100 a directory)
#   RUNS [5]             timed runs per command, after one warm-up run; the median is shown
#   NOSYNC [1]           also time ibt-patch --no-sync (0 to skip)
#   TMPFS [/dev/shm]     where the tmpfs restores go ("" to skip)
#   BENCH_DATA [<repo>/bench-data]   tree, archives and the on-disk restores (git-ignored)
#   BIN [<repo>/bin]     where ibt is built
#   BASE_BIN [none]      an ibt-patch built from another commit, timed in the same run for a
#                        before/after (e.g. git archive REV | tar -x -C /tmp/base; go build there)
#
# Each ibt restore is checked by ibt-patch's own verification; the first of each is also
# compared with the source tree by `diff -r`.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
FILES=${FILES:-40000}
RUNS=${RUNS:-5}
NOSYNC=${NOSYNC:-1}
TMPFS=${TMPFS-/dev/shm}
DATA=${BENCH_DATA:-$REPO/bench-data}
BIN=${BIN:-$REPO/bin}
M=$DATA/restore-$FILES

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'restore.sh: FAIL: %s\n' "$*" >&2; exit 1; }

(cd "$REPO" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$BIN/" ./cmd/...) || die "go build ./cmd/... failed"
REV="$(cd "$REPO" && git rev-parse --short HEAD)"
[ -z "$(cd "$REPO" && git status --porcelain -- . ':!bench-data' ':!bin')" ] || REV+=" + uncommitted changes"
# ibt-patch keeps its known files in the cache directory: one of the bench's own (set after
# the build, which would take it for its own cache too)
export XDG_CACHE_HOME=$DATA/restore-cache

# gen DIR COUNT: COUNT files of 200-3,000 bytes of text, 100 a directory, seeded (the tree
# of bench/compare.sh's many case).
gen() { python3 "$(dirname "${BASH_SOURCE[0]}")/many.py" "$1" "$2"; }

if [ ! -f "$M/.done" ]; then
  say "generating $FILES files under $M/tree"
  rm -rf "$M"; mkdir -p "$M/tree"
  gen "$M/tree" "$FILES"
  "$BIN/ibt-sign" "$M/tree" | "$BIN/ibt-diff" --full - | "$BIN/ibt-delta" | "$BIN/ibt-pack" > "$M/full.tar.gz"
  tar czf "$M/tree.tar.gz" -C "$M/tree" .
  touch "$M/.done"
fi

# median_of CMD...: runs CMD (a shell string, with $OUT the empty target) once to warm up and
# RUNS times timed, removing $OUT before each; prints the median in seconds.
median_of() {
  local out=$1 cmd=$2 i t0 t1 times=()
  rm -rf "$out"; mkdir -p "$out"; (cd "$out" && eval "$cmd") >/dev/null
  for ((i = 0; i < RUNS; i++)); do
    rm -rf "$out"; mkdir -p "$out"; sync
    t0=$(date +%s.%N); (cd "$out" && eval "$cmd") >/dev/null; t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc)")
  done
  rm -rf "$out"
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}

# check OUT CMD: one restore, compared with the tree.
check() {
  rm -rf "$1"; mkdir -p "$1"; (cd "$1" && eval "$2") >/dev/null
  diff -r "$M/tree" "$1" >/dev/null || die "restore by '$2' differs from the tree"
  rm -rf "$1"
}

bytes=$(du -sb "$M/tree" | cut -f1)
printf '\n%s files, %s bytes, ibt %s, %s runs, median seconds\n\n' "$FILES" "$bytes" "$REV" "$RUNS"
printf '| where |%s ibt-patch | --no-sync | tar xzf | ratio | --no-sync ratio |\n|---|%s---:|---:|---:|---:|---:|\n' \
  "${BASE_BIN:+ ibt-patch (BASE_BIN) |}" "${BASE_BIN:+---:|}"
for where in ${TMPFS:+tmpfs} disk; do
  if [ "$where" = tmpfs ]; then base=$TMPFS/ibt-restore-bench; else base=$DATA/restore-out; fi
  mkdir -p "$base"
  ibt="$BIN/ibt-patch $base/ibt < $M/full.tar.gz"
  ibtns="$BIN/ibt-patch --no-sync $base/ibt < $M/full.tar.gz"
  tarx="tar xzf $M/tree.tar.gz -C $base/ibt"
  check "$base/ibt" "$ibt"
  ti=$(median_of "$base/ibt" "$ibt")
  tn=-
  [ "$NOSYNC" = 1 ] && tn=$(median_of "$base/ibt" "$ibtns")
  tt=$(median_of "$base/ibt" "$tarx")
  tb=
  [ -n "${BASE_BIN:-}" ] && tb=$(printf ' %.2f s |' "$(median_of "$base/ibt" "$BASE_BIN/ibt-patch $base/ibt < $M/full.tar.gz")")
  ri=$(echo "scale=2; $ti / $tt" | bc)
  rn=-
  [ "$tn" != - ] && rn=$(echo "scale=2; $tn / $tt" | bc)
  printf '| %s |%s %.2f s | %s | %.2f s | %sx | %sx |\n' "$where" "$tb" "$ti" "$([ "$tn" = - ] && echo - || printf '%.2f s' "$tn")" "$tt" "$ri" "$rn"
  rmdir "$base" 2>/dev/null || true
done
