#!/usr/bin/env bash
# Compares ibt with the tools people use instead (rdiff, rsync batches, xdelta3, zstd
# --patch-from, tar) on the same data in one run, verifies every restore, and prints a
# markdown table of median times, throughput, peak RSS, output sizes and ratios, followed by
# the targets of issues 5 and 16 met or missed. Run on demand, never in CI:
#
#   bench/compare.sh            # full: 256 MiB db, 200,000 small files, 5 runs (12-18 min)
#   bench/compare.sh --quick    # 32 MiB db, 20,000 files, 3 runs (a few minutes)
#
# Environment (defaults in brackets):
#   RUNS [5]              timed runs per command, after one warm-up run
#   DB_MIB [256]          size of the database-like file of the db case
#   MANY_FILES [200000]   file count of the many-small-files case
#   CASES [db src many]   which cases to run; also big (1 GiB, tmpfs) and xfs (XFS image, root)
#   BIG_MIB [1024]        size of the random file of the big case, with 8 insertions, on tmpfs
#   XFS_GIB [1 4 16]      sizes of the random file of the xfs case, 1,000 pages rewritten
#   XFS_CHAIN [30]        incrementals applied in turn to the 1 GiB file in the xfs case
#   SRC_RDIFF [1]         also run rdiff file by file on the src case (0 to skip)
#   SRC_CHAIN [30]        small incrementals of the src tree merged by ibt-merge, and applied
#   RESTORE_TMPFS [/dev/shm]  where the many case also times full restores on tmpfs ("" to skip)
#   BENCH_DATA [<repo>/bench-data]        corpora and scratch space (git-ignored)
#   CORPUS_SH [<repo>/bench/corpus.sh]   the script that builds the db and src corpora
#   BIN [<repo>/bin]      where ibt is built
#
# Times are medians of hyperfine runs with a warm page cache; peak RSS is /usr/bin/time's %M
# (the largest single process of a pipeline) on one extra run. Every ratio is taken between
# medians measured in this run. The results of a run stay in BENCH_DATA/results/.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
# The command line as the report shows it: the settings given, then the script.
CMDLINE=""
for v in RUNS DB_MIB MANY_FILES CASES SRC_RDIFF SRC_CHAIN BIG_MIB XFS_GIB XFS_CHAIN; do
  if [ -n "${!v:-}" ]; then CMDLINE+="$v='${!v}' "; fi
done
CMDLINE+="bench/compare.sh${1:+ $*}"
if [ "${1:-}" = "--quick" ]; then
  : "${DB_MIB:=32}" "${MANY_FILES:=20000}" "${RUNS:=3}"
  shift
elif [ $# -gt 0 ]; then
  echo "usage: bench/compare.sh [--quick]" >&2
  exit 2
fi
RUNS=${RUNS:-5}
DB_MIB=${DB_MIB:-256}
MANY_FILES=${MANY_FILES:-200000}
CASES=${CASES:-db src many}
SRC_RDIFF=${SRC_RDIFF:-1}
BIG_MIB=${BIG_MIB:-1024}
XFS_GIB=${XFS_GIB:-1 4 16}
XFS_CHAIN=${XFS_CHAIN:-30}
DATA=${BENCH_DATA:-$REPO/bench-data}
CORPUS_SH=${CORPUS_SH:-$REPO/bench/corpus.sh}
BIN=${BIN:-$REPO/bin}
WORK=$DATA/work
# ibt-patch keeps its known files in the cache directory: one of the bench's own
export XDG_CACHE_HOME=$WORK/cache
RES=$DATA/results/$(date +%Y%m%d-%H%M%S)
LOG=$RES/run.log

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'compare.sh: FAIL: %s\n' "$*" >&2; exit 1; }
size() { stat -c %s "$1"; }
gzsize() { gzip -6 -c "$1" | wc -c; }
treebytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }

# --- tools -------------------------------------------------------------------------------
install_tools() {
  local missing=() pair
  for pair in rdiff:rdiff rsync:rsync xdelta3:xdelta3 zstd:zstd hyperfine:hyperfine \
              /usr/bin/time:time gzip:gzip python3:python3 openssl:openssl; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]} with apt-get"
  [ "$(id -u)" = 0 ] || die "missing ${missing[*]}: run as root or install them"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

build_ibt() {
  say "building ibt into $BIN"
  (cd "$REPO" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$BIN/" ./cmd/...) || die "go build ./cmd/... failed"
  # the commit measured: the tree as built, whatever is committed during the run
  IBT_REV="$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?')"
  if [ -n "$(cd "$REPO" && git status --porcelain 2>/dev/null)" ]; then IBT_REV+=" + uncommitted changes"; fi
  local t
  for t in ibt-sign ibt-diff ibt-delta ibt-pack ibt-patch; do
    [ -x "$BIN/$t" ] || die "no $BIN/$t after the build"
  done
}

# --- measuring ---------------------------------------------------------------------------
# measure KEY PREPARE COMMAND [RUNS]: hyperfine's median of COMMAND (bash, pipefail; PREPARE, if
# not empty, runs untimed before each run), then one run under /usr/bin/time for the peak RSS.
# RUNS overrides $RUNS for a command too slow to repeat (1: no warm-up run either).
measure() {
  local key=$1 prep=$2 cmd=$3 runs=${4:-$RUNS} warmup=1
  [ "$runs" = 1 ] && warmup=0
  local args=(--shell=bash --style=basic --warmup "$warmup" --runs "$runs"
              --export-json "$RES/$key.json" --command-name "$key")
  [ -n "$prep" ] && args+=(--prepare "$prep")
  printf '\n### %s\n$ %s\n' "$key" "$cmd" >> "$LOG"
  if ! hyperfine "${args[@]}" "set -o pipefail; $cmd" >> "$LOG" 2>&1; then
    # hyperfine hides the command's own messages: run it once more to show them.
    [ -n "$prep" ] && bash -c "$prep"
    bash -c "set -o pipefail; $cmd" > "$RES/failed.out" 2>&1 || true
    cat "$RES/failed.out" >> "$LOG"
    die "$key: the command failed: $cmd
$(tail -20 "$RES/failed.out")"
  fi
  [ -n "$prep" ] && bash -c "$prep"
  if ! /usr/bin/time -f %M -o "$RES/$key.rss" bash -c "set -o pipefail; $cmd" >> "$LOG" 2>&1; then
    tail -20 "$LOG" >&2
    die "$key: the command failed: $cmd"
  fi
  local med
  med=$(python3 -c 'import json,statistics,sys; print(statistics.median(json.load(open(sys.argv[1]))["results"][0]["times"]))' "$RES/$key.json")
  printf '%s\t%s\t%s\n' "$key" "$med" "$(tail -1 "$RES/$key.rss")" >> "$RES/measures.tsv"
  printf '   %-22s %8.3f s  %7s KiB\n' "$key" "$med" "$(tail -1 "$RES/$key.rss")" >&2
}

# row CASE TOOL OP KEY DATA_BYTES NEW_BYTES OUT_BYTES GZ_BYTES TIME_REF SIZE_REF: a line of
# the table. DATA_BYTES gives MB/s, NEW_BYTES the % columns, TIME_REF and SIZE_REF the keys of
# the rows the time and size ratios are taken to (a row that is its own ref is the reference).
row() { local IFS=$'\t'; printf '%s\n' "$*" >> "$RES/rows.tsv"; }

# same A B: A and B hold the same tree: contents, types, modes, mtimes, symlink targets of
# every entry below the top directory (ibt's index has no entry for the top directory itself).
same() {
  diff -r --no-dereference "$1" "$2" > "$RES/diff.out" 2>&1 ||
    die "restore check: $1 differs from $2 in content: $(head -5 "$RES/diff.out")"
  local la lb
  la=$(cd "$1" && find . -mindepth 1 -printf '%p %y %m %T@ %l\n' | LC_ALL=C sort)
  lb=$(cd "$2" && find . -mindepth 1 -printf '%p %y %m %T@ %l\n' | LC_ALL=C sort)
  [ "$la" = "$lb" ] || die "restore check: $1 differs from $2 in metadata: $(diff <(echo "$la") <(echo "$lb") | head -6)"
}
samefile() { cmp "$1" "$2" >/dev/null || die "restore check: $1 differs from $2"; }
# samecontent A B: A and B hold the same files with the same contents.
samecontent() {
  diff -r --no-dereference "$1" "$2" > "$RES/diff.out" 2>&1 ||
    die "restore check: $1 differs from $2 in content: $(head -5 "$RES/diff.out")"
}
# restore_target W CASE SUFFIX: where a full restore of CASE goes: W/x on the work
# directory's disk for SUFFIX "", below RESTORE_TMPFS for .tmpfs (fails if that is unset).
# Every full restore, ibt's or tar's, starts after a sync: the one before it left its tree's
# writes and its removal dirty, and ibt-patch, which flushes what it wrote (syncfs where it
# wrote many files), would otherwise pay for the other's writeback as well as its own.
restore_target() {
  if [ -z "$3" ]; then echo "$1/x"; return; fi
  local t=${RESTORE_TMPFS-/dev/shm}
  [ -n "$t" ] && [ -d "$t" ] || return 1
  echo "$t/ibt-compare-restore-$2"
}
# restore_where CASE SUFFIX: "disk" or "tmpfs" for the rows of CASE's full restores; fails
# where they were not measured.
restore_where() {
  [ -f "$RES/$1.ibt.restore$2.json" ] || return 1
  if [ -z "$2" ]; then echo disk; else echo tmpfs; fi
}
# restore COMMAND...: a restore that must succeed; its messages go to the log.
restore() {
  "$@" >> "$LOG" 2>&1 || die "restore failed: $*: $(tail -5 "$LOG")"
}

# --- case db: one 256 MiB database-like file ---------------------------------------------
case_db() {
  local src
  if [ "$DB_MIB" = 256 ]; then
    bash "$CORPUS_SH" "$DATA" db >&2; src=$DATA/db
  else
    DB_MIB=$DB_MIB bash "$CORPUS_SH" "$DATA/db-$DB_MIB" db >&2; src=$DATA/db-$DB_MIB/db
  fi
  local W=$WORK/db
  rm -rf "$W"; mkdir -p "$W/old" "$W/new"
  # ibt works on trees: each version in a directory of its own, under the same name.
  cp "$src/old.bin" "$W/old/data.bin"
  cp "$src/new.bin" "$W/new/data.bin"
  local O=$W/old/data.bin N=$W/new/data.bin ob nb
  ob=$(size "$O"); nb=$(size "$N")
  say "db: $ob -> $nb bytes"
  local S="$BIN/ibt-sign" D="$BIN/ibt-diff" DL="$BIN/ibt-delta" P="$BIN/ibt-pack" PA="$BIN/ibt-patch"

  measure db.rdiff.sig "" "rdiff -f signature $O $W/rdiff.sig"
  measure db.rdiff.delta "" "rdiff -f delta $W/rdiff.sig $N $W/rdiff.delta"
  # rdiff -f truncates the output of its previous run, as in ../shared/ANCHORS.md: the
  # reference. The second row gives it a new file, to show what that truncation costs.
  measure db.rdiff.patch "" "rdiff -f patch $O $W/rdiff.delta $W/rdiff.out"
  samefile "$W/rdiff.out" "$N"
  measure db.rdiff.patch.new "rm -f $W/rdiff.out && sync" "rdiff -f patch $O $W/rdiff.delta $W/rdiff.out"
  samefile "$W/rdiff.out" "$N"
  # The floor of replacing the file without ever losing its old version: the new version
  # copied beside it (in the kernel, with copy_file_range) and renamed over it; no delta,
  # no hash, no flush. ibt-patch does this and more.
  measure db.floor "rm -rf $W/f && cp -a $W/old $W/f && sync" "cp $N $W/f/.new && mv $W/f/.new $W/f/data.bin"
  samefile "$W/f/data.bin" "$N"
  rm -rf "$W/f"

  measure db.ibt.sign "" "$S -o $W/old.idx $W/old"
  "$S" -o "$W/new.idx" "$W/new"
  measure db.ibt.diff "" "$D -o $W/inc.diff $W/old.idx $W/new.idx"
  measure db.ibt.delta "" "$DL -o $W/inc.delta $W/inc.diff"
  measure db.ibt.pack "" "$P -o $W/inc.tar.gz $W/inc.delta"
  measure db.ibt.patch "rm -rf $W/r && cp -a $W/old $W/r && sync" "$PA $W/r -i $W/inc.tar.gz"
  samefile "$W/r/data.bin" "$N"
  # rdiff made as durable and atomic as ibt-patch: into a temporary file, flushed, renamed
  # over the old one, the directory flushed.
  measure db.rdiff.durable "rm -rf $W/d && cp -a $W/old $W/d && sync" \
    "rdiff -f patch $W/d/data.bin $W/rdiff.delta $W/d/.new && sync $W/d/.new && mv $W/d/.new $W/d/data.bin && sync $W/d"
  samefile "$W/d/data.bin" "$N"; rm -rf "$W/d"
  measure db.ibt.patch.nosync "rm -rf $W/r && cp -a $W/old $W/r && sync" "$PA --no-sync $W/r -i $W/inc.tar.gz"
  samefile "$W/r/data.bin" "$N"
  # rdiff's own workflow, and rsync's: the receiver signs its tree, the sender makes the
  # delta against that index, the receiver patches the tree it signed. The archive's old
  # entries then vouch for its files, which ibt-patch does not read again (README). The
  # copy is signed 2 s after it is made: like ibt-sign --prev, ibt-patch trusts no ctime
  # from within 2 s of the walk.
  measure db.ibt.patch.signed "rm -rf $W/s && cp -a $W/old $W/s && sync && sleep 2.1 && $S -o $W/s.idx $W/s && $D $W/s.idx $W/new.idx | $DL | $P -o $W/incs.tar.gz" \
    "$PA $W/s -i $W/incs.tar.gz"
  samefile "$W/s/data.bin" "$N"
  rm -rf "$W/s"
  # A restore chain: DIR holds what ibt-patch restored, and the known file it left there.
  "$S" "$W/old" | "$D" --full - | "$DL" | "$P" -o "$W/oldfull.tar.gz"
  measure db.ibt.patch.chain "rm -rf $W/r && $PA $W/r -i $W/oldfull.tar.gz && sync" "$PA $W/r -i $W/inc.tar.gz"
  samefile "$W/r/data.bin" "$N"
  measure db.ibt.inc "" "$S -o $W/new2.idx $W/new && $D $W/old.idx $W/new2.idx | $DL | $P -o $W/inc2.tar.gz"

  measure db.rsync "" "rm -f $W/rsync.batch* && rsync -a --only-write-batch=$W/rsync.batch $W/new/ $W/old/"
  rm -rf "$W/r"; cp -a "$W/old" "$W/r"; restore bash "$W/rsync.batch.sh" "$W/r/"
  samefile "$W/r/data.bin" "$N"
  measure db.xdelta3 "" "xdelta3 -e -f -s $O $N $W/x.vcdiff"
  restore xdelta3 -d -f -s "$O" "$W/x.vcdiff" "$W/x.out"; samefile "$W/x.out" "$N"
  measure db.zstd "" "zstd -q -f -3 --patch-from=$O $N -o $W/p.zst"
  restore zstd -q -d -f --memory=2048MB --patch-from="$O" "$W/p.zst" -o "$W/z.out"; samefile "$W/z.out" "$N"

  measure db.ibt.full "" "$S $W/new | $D --full - | $DL | $P -o $W/full.tar.gz"
  # a synthetic full: the old full and the incremental merged, without the tree
  measure db.ibt.merge "" "$BIN/ibt-merge -o $W/synth.tar.gz $W/oldfull.tar.gz $W/inc.tar.gz"
  rm -rf "$W/r"; restore "$PA" "$W/r" -i "$W/synth.tar.gz"; samefile "$W/r/data.bin" "$N"
  rm -rf "$W/r"; restore "$PA" "$W/r" -i "$W/full.tar.gz"; samefile "$W/r/data.bin" "$N"
  measure db.ibt.full.lz4 "" "$S $W/new | $D --full - | $DL | $P --codec lz4 -o $W/full.tar.lz4"
  rm -rf "$W/r"; restore "$PA" "$W/r" -i "$W/full.tar.lz4"; samefile "$W/r/data.bin" "$N"
  measure db.ibt.full.zstd "" "$S $W/new | $D --full - | $DL | $P --codec zstd -o $W/full-ibt.tar.zst"
  rm -rf "$W/r"; restore "$PA" "$W/r" -i "$W/full-ibt.tar.zst"; samefile "$W/r/data.bin" "$N"
  tar --zstd -tf "$W/full-ibt.tar.zst" | grep -qx ibt/trailer || die "tar --zstd -tf does not list ibt/trailer of $W/full-ibt.tar.zst"
  measure db.tar.gz "" "tar czf $W/full.tgz -C $W/new data.bin"
  measure db.tar.zstd "" "tar cf - -C $W/new data.bin | zstd -q -1 > $W/full.tar.zst"
  measure db.tar.zstd3 "" "tar cf - -C $W/new data.bin | zstd -q -3 -T0 > $W/full3.tar.zst"
  # The full restore of the file into a new directory against tar's of its archives, gzip and
  # zstd (issue 16: a large file at least as fast as tar), on the work directory's disk and on
  # tmpfs; ibt-patch verifies and flushes each one, tar does neither.
  local suffix XR
  for suffix in "" .tmpfs; do
    XR=$(restore_target "$W" db "$suffix") || continue
    measure "db.tar.xzf$suffix" "rm -rf $XR && mkdir $XR && sync" "tar xzf $W/full.tgz -C $XR"
    samefile "$XR/data.bin" "$N"
    measure "db.ibt.restore$suffix" "rm -rf $XR && sync" "$PA $XR -i $W/full.tar.gz"
    same "$XR" "$W/new"
    measure "db.tar.xzstd$suffix" "rm -rf $XR && mkdir $XR && sync" "tar xf $W/full3.tar.zst --zstd -C $XR"
    samefile "$XR/data.bin" "$N"
    measure "db.ibt.restore.zstd$suffix" "rm -rf $XR && sync" "$PA $XR -i $W/full-ibt.tar.zst"
    same "$XR" "$W/new"
    rm -rf "$XR"
  done
  rm -rf "$W/r" "$W"/*.out

  row db rdiff signature db.rdiff.sig "$ob" "$nb" "$(size "$W/rdiff.sig")" "" "db.rdiff.sig" "db.rdiff.sig"
  row db ibt ibt-sign db.ibt.sign "$ob" "$nb" "$(size "$W/old.idx")" "" "db.rdiff.sig" "db.rdiff.sig"
  row db rdiff delta db.rdiff.delta "$nb" "$nb" "$(size "$W/rdiff.delta")" "$(gzsize "$W/rdiff.delta")" "db.rdiff.delta" "db.rdiff.delta"
  row db ibt ibt-diff db.ibt.diff "$nb" "$nb" "$(size "$W/inc.diff")" "" "" ""
  row db ibt ibt-delta db.ibt.delta "$nb" "$nb" "$(size "$W/inc.delta")" "" "db.rdiff.delta" ""
  row db ibt "ibt-pack (the archive)" db.ibt.pack "$nb" "$nb" "$(size "$W/inc.tar.gz")" "" "" "db.rdiff.delta"
  row db rdiff patch db.rdiff.patch "$nb" "$nb" "" "" "db.rdiff.patch" ""
  row db rdiff "patch (into a new file)" db.rdiff.patch.new "$nb" "$nb" "" "" "db.rdiff.patch" ""
  row db "cp + mv" "the new file beside the old, renamed over it (no delta, hash or flush)" db.floor "$nb" "$nb" "" "" "db.rdiff.patch" ""
  row db ibt "ibt-patch (the tree the old index was made of, as rdiff patches its signature's basis)" db.ibt.patch.signed "$nb" "$nb" "" "" "db.rdiff.patch" ""
  row db rdiff "patch + sync + mv + sync (durable, as ibt-patch)" db.rdiff.durable "$nb" "$nb" "" "" "db.rdiff.patch" ""
  row db ibt "ibt-patch (a copy of the old tree: its old version read and hashed)" db.ibt.patch "$nb" "$nb" "" "" "db.rdiff.durable" ""
  row db ibt "ibt-patch --no-sync (no flush, as rdiff)" db.ibt.patch.nosync "$nb" "$nb" "" "" "db.rdiff.patch" ""
  row db ibt "ibt-patch (the old tree as ibt-patch restored it)" db.ibt.patch.chain "$nb" "$nb" "" "" "db.rdiff.patch" ""
  row db rsync "-a --only-write-batch" db.rsync "$nb" "$nb" "$(size "$W/rsync.batch")" "$(gzsize "$W/rsync.batch")" "db.rsync" "db.rsync"
  row db ibt "incremental: sign new + diff + delta + pack" db.ibt.inc "$nb" "$nb" "$(size "$W/inc2.tar.gz")" "" "db.rsync" "db.rsync"
  row db xdelta3 "-e -s old (has the old file)" db.xdelta3 "$nb" "$nb" "$(size "$W/x.vcdiff")" "" "db.rsync" "db.rsync"
  row db zstd "-3 --patch-from=old (has the old file)" db.zstd "$nb" "$nb" "$(size "$W/p.zst")" "" "db.rsync" "db.rsync"
  row db tar "czf (full backup)" db.tar.gz "$nb" "$nb" "$(size "$W/full.tgz")" "" "db.tar.gz" "db.tar.gz"
  row db "tar | zstd -1" "full backup" db.tar.zstd "$nb" "$nb" "$(size "$W/full.tar.zst")" "" "db.tar.gz" "db.tar.gz"
  row db ibt "full: sign + diff --full + delta + pack" db.ibt.full "$nb" "$nb" "$(size "$W/full.tar.gz")" "" "db.tar.gz" "db.tar.gz"
  row db ibt "ibt-merge old full + incremental (a synthetic full, no tree read)" db.ibt.merge "$nb" "$nb" "$(size "$W/synth.tar.gz")" "" "db.ibt.full" "db.ibt.full"
  row db ibt "full, ibt-pack --codec lz4" db.ibt.full.lz4 "$nb" "$nb" "$(size "$W/full.tar.lz4")" "" "db.tar.gz" "db.tar.gz"
  row db "tar | zstd -3 -T0" "full backup, on all cores" db.tar.zstd3 "$nb" "$nb" "$(size "$W/full3.tar.zst")" "" "db.tar.zstd3" "db.tar.zstd3"
  row db ibt "full, ibt-pack --codec zstd" db.ibt.full.zstd "$nb" "$nb" "$(size "$W/full-ibt.tar.zst")" "" "db.tar.zstd3" "db.tar.zstd3"
  local where
  for suffix in "" .tmpfs; do
    where=$(restore_where db "$suffix") || continue
    row db tar "xzf (full restore, $where)" "db.tar.xzf$suffix" "$nb" "$nb" "" "" "db.tar.xzf$suffix" ""
    row db ibt "ibt-patch: full restore, verified ($where)" "db.ibt.restore$suffix" "$nb" "$nb" "" "" "db.tar.xzf$suffix" ""
    row db tar "xf --zstd (full restore, $where)" "db.tar.xzstd$suffix" "$nb" "$nb" "" "" "db.tar.xzstd$suffix" ""
    row db ibt "ibt-patch of the zstd archive: full restore, verified ($where)" "db.ibt.restore.zstd$suffix" "$nb" "$nb" "" "" "db.tar.xzstd$suffix" ""
  done
}

# --- case big: a 1 GiB file of random bytes, pages rewritten and bytes inserted, on tmpfs --
# What the CPU costs: ibt-patch --no-sync against rdiff patch, which verifies nothing, plus
# the one read of its output that a hash of it takes (openssl dgst -sha256).
case_big() {
  local T=/dev/shm
  [ -d "$T" ] || T=$WORK
  INSERTS=8 BIG_MIB=$BIG_MIB bash "$CORPUS_SH" "$T/ibt-bench-corpus" big >&2
  local src=$T/ibt-bench-corpus/big-$BIG_MIB-ins8 W=$T/ibt-bench-big
  rm -rf "$W"; mkdir -p "$W/old" "$W/new"
  cp "$src/old.bin" "$W/old/data.bin"; cp "$src/new.bin" "$W/new/data.bin"
  local O=$W/old/data.bin N=$W/new/data.bin nb; nb=$(size "$N")
  say "big: $(size "$O") -> $nb bytes, on $(stat -f -c %T "$W")"
  local S="$BIN/ibt-sign" D="$BIN/ibt-diff" DL="$BIN/ibt-delta" P="$BIN/ibt-pack" PA="$BIN/ibt-patch"
  "$S" -o "$W/old.idx" "$W/old"
  "$S" "$W/new" | "$D" "$W/old.idx" - | "$DL" | "$P" --codec lz4 -o "$W/inc.tar.lz4"
  rdiff -f signature "$O" "$W/rd.sig"; rdiff -f delta "$W/rd.sig" "$N" "$W/rd.delta"
  measure big.rdiff.patch "rm -f $W/rd.out" "rdiff -f patch $O $W/rd.delta $W/rd.out"
  samefile "$W/rd.out" "$N"
  measure big.rdiff.patch.sha "rm -f $W/rd.out" "rdiff -f patch $O $W/rd.delta $W/rd.out && openssl dgst -sha256 $W/rd.out"
  measure big.ibt.patch.nosync "rm -rf $W/r && cp -a $W/old $W/r" "$PA --no-sync -q $W/r -i $W/inc.tar.lz4"
  samefile "$W/r/data.bin" "$N"
  row big rdiff "patch (verifies nothing)" big.rdiff.patch "$nb" "$nb" "$(size "$W/rd.delta")" "$(gzsize "$W/rd.delta")" "big.rdiff.patch.sha" ""
  row big rdiff "patch + openssl dgst -sha256 of its output" big.rdiff.patch.sha "$nb" "$nb" "" "" "big.rdiff.patch.sha" ""
  row big ibt "ibt-patch --no-sync, lz4 archive (a copy of the old tree: old version hashed, new verified)" big.ibt.patch.nosync "$nb" "$nb" "$(size "$W/inc.tar.lz4")" "" "big.rdiff.patch.sha" "big.rdiff.patch"
  rm -rf "$W"
}

# --- case xfs: random files of 1, 4 and 16 GiB on XFS with reflink, pages rewritten ---------
# The durable, atomic update of a big file: ibt-patch (which clones the old version and
# writes only the change) against rdiff patch into a temporary file + sync + mv + sync, and
# the floor (bench/floor.py: clone, write the changed pages, fsync, rename, fsync the
# directory). An XFS image on a loop device, on disk; the corpora are made inside it.
case_xfs() {
  [ "$(id -u)" = 0 ] || die "the xfs case mounts an image: run as root"
  command -v mkfs.xfs >/dev/null || { apt-get install -y -qq xfsprogs >/dev/null || die "no mkfs.xfs"; }
  local M=$WORK/xfs-mnt IMG=$WORK/xfs.img g max=0
  for g in $XFS_GIB; do [ "$g" -gt "$max" ] && max=$g; done
  if mountpoint -q "$M"; then umount "$M"; fi
  rm -f "$IMG"; mkdir -p "$M"
  truncate -s $((max * 3 + 8))G "$IMG"
  { mkfs.xfs -q -m reflink=1 "$IMG" && mount -o loop,discard "$IMG" "$M"; } || die "cannot mount an XFS image"
  trap 'umount "'"$M"'" 2>/dev/null; rm -f "'"$IMG"'"' EXIT
  local S="$BIN/ibt-sign" D="$BIN/ibt-diff" DL="$BIN/ibt-delta" P="$BIN/ibt-pack" PA="$BIN/ibt-patch" FL="$REPO/bench/floor.py"
  for g in $XFS_GIB; do
    local W=$M/g$g runs=$RUNS
    [ "$g" -ge 16 ] && runs=1
    BIG_MIB=$((g * 1024)) bash "$CORPUS_SH" "$M/corpus" big >&2
    local src=$M/corpus/big-$((g * 1024))
    mkdir -p "$W/old" "$W/new"
    mv "$src/old.bin" "$W/old/data.bin"; mv "$src/new.bin" "$W/new/data.bin"
    local O=$W/old/data.bin N=$W/new/data.bin nb; nb=$(size "$N")
    say "xfs: $g GiB, $nb bytes"
    "$S" -o "$W/old.idx" "$W/old"
    "$S" "$W/new" | "$D" "$W/old.idx" - | "$DL" | "$P" --codec lz4 -o "$W/inc.tar.lz4"
    rdiff -f signature "$O" "$W/rd.sig"; rdiff -f delta "$W/rd.sig" "$N" "$W/rd.delta"
    python3 "$FL" pages "$O" "$N" "$W/pages"
    measure "xfs$g.floor" "rm -rf $W/f && cp -a --reflink=always $W/old $W/f && sync" "python3 $FL apply $W/f/data.bin $W/pages" "$runs"
    samefile "$W/f/data.bin" "$N"; rm -rf "$W/f"
    measure "xfs$g.rdiff" "rm -rf $W/d && cp -a --reflink=always $W/old $W/d && sync" \
      "rdiff -f patch $W/d/data.bin $W/rd.delta $W/d/.new && sync $W/d/.new && mv $W/d/.new $W/d/data.bin && sync $W/d" "$runs"
    samefile "$W/d/data.bin" "$N"; rm -rf "$W/d"
    measure "xfs$g.ibt" "rm -rf $W/r && cp -a --reflink=always $W/old $W/r && sync" "$PA -q $W/r -i $W/inc.tar.lz4" "$runs"
    samefile "$W/r/data.bin" "$N"; rm -rf "$W/r"
    # The old tree as a verified ibt-patch run left it (here: an archive that changes
    # nothing): the known file vouches for the old version, and the leaves of its hash are
    # cached, so the update reads only the blocks it writes.
    "$S" "$W/old" | "$D" "$W/old.idx" - | "$DL" | "$P" --codec lz4 -o "$W/noop.tar.lz4"
    measure "xfs$g.ibt.known" "rm -rf $W/r && cp -a --reflink=always $W/old $W/r && $PA -q $W/r -i $W/noop.tar.lz4 && sync" \
      "$PA -q $W/r -i $W/inc.tar.lz4" "$runs"
    samefile "$W/r/data.bin" "$N"; rm -rf "$W/r"
    # one hashing read of the file from disk: what its verification costs at least
    measure "xfs$g.read" "sync && echo 3 > /proc/sys/vm/drop_caches" "$S -o /dev/null $W/new" "$runs"
    row "xfs $g GiB" floor "clone + write the changed pages + fsync + rename + fsync dir" "xfs$g.floor" "$nb" "$nb" "$(size "$W/pages")" "" "xfs$g.floor" ""
    row "xfs $g GiB" rdiff "patch + sync + mv + sync (durable)" "xfs$g.rdiff" "$nb" "$nb" "$(size "$W/rd.delta")" "$(gzsize "$W/rd.delta")" "xfs$g.floor" ""
    row "xfs $g GiB" ibt "ibt-patch (durable; a reflink copy of the old tree)" "xfs$g.ibt" "$nb" "$nb" "$(size "$W/inc.tar.lz4")" "" "xfs$g.rdiff" "xfs$g.rdiff"
    row "xfs $g GiB" ibt "ibt-patch (durable; the old tree as ibt-patch verified it: known file, cached leaves)" "xfs$g.ibt.known" "$nb" "$nb" "" "" "xfs$g.rdiff" ""
    row "xfs $g GiB" ibt "ibt-sign of the new file, cold cache (one hashing read)" "xfs$g.read" "$nb" "$nb" "" "" "xfs$g.ibt" ""
    if [ "$g" = 1 ] && [ "$XFS_CHAIN" -gt 0 ]; then xfs_chain "$W"; fi
    rm -rf "$W" "$M/corpus"
  done
  umount "$M"; rm -f "$IMG"; trap - EXIT
}

# xfs_chain W: XFS_CHAIN versions of W/old, 100 pages rewritten in each; their incrementals
# applied one after the other to a reflink copy of the old tree, against rdiff's durable
# patches of the same versions.
xfs_chain() {
  local W=$1 i n=$XFS_CHAIN C=$1/chain
  local S="$BIN/ibt-sign" D="$BIN/ibt-diff" DL="$BIN/ibt-delta" P="$BIN/ibt-pack" PA="$BIN/ibt-patch"
  mkdir -p "$C"
  cp -a --reflink=always "$W/old" "$C/v"
  "$S" -o "$C/0.idx" "$C/v"
  rdiff -f signature "$C/v/data.bin" "$C/0.sig"
  for i in $(seq 1 "$n"); do
    python3 -c '
import os, random, sys
f, i = sys.argv[1], int(sys.argv[2])
rng = random.Random(i)
fd = os.open(f, os.O_WRONLY)
for p in rng.sample(range(os.fstat(fd).st_size // 4096), 100):
    os.pwrite(fd, rng.randbytes(4096), p * 4096)
os.close(fd)' "$C/v/data.bin" "$i"
    touch -d "@$((1700000000 + i))" "$C/v/data.bin"
    "$S" -o "$C/$i.idx" "$C/v"
    "$D" "$C/$((i - 1)).idx" "$C/$i.idx" | "$DL" | "$P" --codec lz4 -o "$C/$i.tar.lz4"
    rdiff -f delta "$C/$((i - 1)).sig" "$C/v/data.bin" "$C/$i.rd"
    rdiff -f signature "$C/v/data.bin" "$C/$i.sig"
  done
  printf 'set -e\nfor i in $(seq 1 %d); do "%s" -q "%s/r" -i "%s/$i.tar.lz4"; done\n' "$n" "$PA" "$C" "$C" > "$C/ibt.sh"
  printf 'set -e\nfor i in $(seq 1 %d); do\n  rdiff -f patch "%s/d/data.bin" "%s/$i.rd" "%s/d/.new" && sync "%s/d/.new"\n  mv "%s/d/.new" "%s/d/data.bin" && sync "%s/d"\ndone\n' \
    "$n" "$C" "$C" "$C" "$C" "$C" "$C" "$C" > "$C/rdiff.sh"
  measure xfs.chain.ibt "rm -rf $C/r && cp -a --reflink=always $W/old $C/r && sync" "bash $C/ibt.sh" 1
  samefile "$C/r/data.bin" "$C/v/data.bin"
  measure xfs.chain.rdiff "rm -rf $C/d && cp -a --reflink=always $W/old $C/d && sync" "bash $C/rdiff.sh" 1
  samefile "$C/d/data.bin" "$C/v/data.bin"
  local nb; nb=$(size "$W/old/data.bin")
  row "xfs chain" rdiff "$n durable patches in turn, 100 pages each" xfs.chain.rdiff "$nb" "$nb" "" "" "xfs.chain.rdiff" ""
  row "xfs chain" ibt "$n ibt-patch in turn, 100 pages each" xfs.chain.ibt "$nb" "$nb" "" "" "xfs.chain.rdiff" ""
  rm -rf "$C"
}

# src_chain W BASE: a chain of SRC_CHAIN [30] small incrementals of a copy of BASE (a few files
# edited, one created, deleted or renamed in each), applied by ibt-patch one after the other
# against ibt-merge of them all, then the merged archive applied once.
src_chain() {
  local W=$1 BASE=$2 n=${SRC_CHAIN:-30} i C=$1/chain
  local S="$BIN/ibt-sign" D="$BIN/ibt-diff" DL="$BIN/ibt-delta" P="$BIN/ibt-pack" PA="$BIN/ibt-patch"
  rm -rf "$C"; mkdir -p "$C"
  cp -a "$BASE" "$C/v"; cp -a "$BASE" "$C/v0"
  "$S" -o "$C/0.idx" "$C/v"
  for i in $(seq 1 "$n"); do
    python3 -c '
import os, random, sys
root, i = sys.argv[1], int(sys.argv[2])
rng = random.Random(i)
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
for f in rng.sample(files, 5):
    with open(f, "ab") as h:
        h.write(b"// edit %d\n" % i)
if i % 3 == 0:
    with open(os.path.join(root, "new%02d.txt" % i), "wb") as h:
        h.write(b"created by version %d\n" % i * 40)
if i % 5 == 0:
    os.remove(rng.choice(files))
if i % 7 == 0:
    f = rng.choice(files)
    if os.path.exists(f):
        os.rename(f, f + ".moved")' "$C/v" "$i"
    "$S" --prev "$C/$((i - 1)).idx" -o "$C/$i.idx" "$C/v"
    "$D" "$C/$((i - 1)).idx" "$C/$i.idx" | "$DL" -C "$C/v" | "$P" -o "$C/$i.tar.gz"
  done
  local incs="" applied=""
  for i in $(seq 1 "$n"); do incs+=" $C/$i.tar.gz"; applied+=" && $PA -q $C/r -i $C/$i.tar.gz"; done
  measure src.ibt.chain.apply "rm -rf $C/r && cp -a $C/v0 $C/r && sync" "true$applied"
  same "$C/r" "$C/v"
  measure src.ibt.chain.merge "" "$BIN/ibt-merge -o $C/merged.tar.gz$incs"
  rm -rf "$C/r"; cp -a "$C/v0" "$C/r"; restore "$PA" "$C/r" -i "$C/merged.tar.gz"
  same "$C/r" "$C/v"
  local nb; nb=$(treebytes "$C/v")
  row src ibt "$n small incrementals applied in turn by ibt-patch" src.ibt.chain.apply "$nb" "$nb" "" "" "src.ibt.chain.apply" ""
  row src ibt "ibt-merge of the same $n incrementals" src.ibt.chain.merge "$nb" "$nb" "$(size "$C/merged.tar.gz")" "" "src.ibt.chain.apply" ""
  rm -rf "$C"
}

# --- case src: two releases of a real source tree ----------------------------------------
case_src() {
  bash "$CORPUS_SH" "$DATA" src >&2
  local OLD=$DATA/src/old NEW=$DATA/src/new W=$WORK/src
  rm -rf "$W"; mkdir -p "$W"
  local nb; nb=$(treebytes "$NEW")
  say "src: $(find "$NEW" -type f | wc -l) files, $nb bytes"
  local S="$BIN/ibt-sign" D="$BIN/ibt-diff" DL="$BIN/ibt-delta" P="$BIN/ibt-pack" PA="$BIN/ibt-patch"

  # Release archives unpack with fixed mtimes: rsync's size+mtime quick check would miss
  # changed files of the same size, so rsync gets -c (checksums), as ibt reads every file;
  # --delete makes the batch carry deletions, as an ibt archive does.
  measure src.rsync "" "rm -f $W/rsync.batch* && rsync -a -c --delete --only-write-batch=$W/rsync.batch $NEW/ $OLD/"
  rm -rf "$W/r"; cp -a "$OLD" "$W/r"; restore bash "$W/rsync.batch.sh" "$W/r/"
  same "$W/r" "$NEW"

  "$S" -o "$W/old.idx" "$OLD"
  measure src.ibt.sign "" "$S -o $W/new.idx $NEW"
  measure src.ibt.sign.lz4 "" "$S --no-lz4 -o $W/new.idx.lz4 $NEW"
  measure src.ibt.diff "" "$D -o $W/inc.diff $W/old.idx $W/new.idx"
  measure src.ibt.delta "" "$DL -o $W/inc.delta $W/inc.diff"
  measure src.ibt.pack "" "$P -o $W/inc1.tar.gz $W/inc.delta"
  measure src.ibt.inc "" "$S -o $W/new2.idx $NEW && $D $W/old.idx $W/new2.idx | $DL | $P -o $W/inc.tar.gz"
  measure src.ibt.patch "rm -rf $W/r && cp -a $OLD $W/r && sync" "$PA $W/r -i $W/inc.tar.gz"
  # a synthetic full of the new tree from the old one's full and the incremental
  "$S" "$OLD" | "$D" --full - | "$DL" | "$P" -o "$W/oldfull.tar.gz"
  measure src.ibt.full "" "$S $NEW | $D --full - | $DL | $P -o $W/full.tar.gz"
  measure src.ibt.merge "" "$BIN/ibt-merge -o $W/synth.tar.gz $W/oldfull.tar.gz $W/inc.tar.gz"
  rm -rf "$W/r"; restore "$PA" "$W/r" -i "$W/synth.tar.gz"; same "$W/r" "$NEW"
  # The full restore of the tree into a new directory against tar xzf of tar czf's archive
  # (issue 16), on the work directory's disk and on tmpfs; ibt-patch verifies each one.
  measure src.tar.gz "" "tar czf $W/full.tgz -C $NEW ."
  local suffix XR
  for suffix in "" .tmpfs; do
    XR=$(restore_target "$W" src "$suffix") || continue
    measure "src.tar.xzf$suffix" "rm -rf $XR && mkdir $XR && sync" "tar xzf $W/full.tgz -C $XR"
    samecontent "$XR" "$NEW"
    measure "src.ibt.restore$suffix" "rm -rf $XR && sync" "$PA $XR -i $W/full.tar.gz"
    same "$XR" "$NEW"
    rm -rf "$XR"
  done

  row src rsync "-a -c --delete --only-write-batch" src.rsync "$nb" "$nb" "$(size "$W/rsync.batch")" "$(gzsize "$W/rsync.batch")" "src.rsync" "src.rsync"
  row src ibt "ibt-sign (the index)" src.ibt.sign "$nb" "$nb" "$(size "$W/new.idx")" "" "" "src.rdiff.sigs"
  row src ibt "ibt-sign --no-lz4 (the index, plain)" src.ibt.sign.lz4 "$nb" "$nb" "$(size "$W/new.idx.lz4")" "" "" "src.rdiff.sigs"
  row src ibt ibt-diff src.ibt.diff "$nb" "$nb" "$(size "$W/inc.diff")" "" "" ""
  row src ibt ibt-delta src.ibt.delta "$nb" "$nb" "$(size "$W/inc.delta")" "" "" ""
  row src ibt ibt-pack src.ibt.pack "$nb" "$nb" "$(size "$W/inc1.tar.gz")" "" "" ""
  row src ibt "incremental: sign + diff + delta + pack" src.ibt.inc "$nb" "$nb" "$(size "$W/inc.tar.gz")" "" "src.rsync" "src.rsync"
  row src ibt "ibt-patch (old -> new)" src.ibt.patch "$nb" "$nb" "" "" "" ""
  row src ibt "full: sign + diff --full + delta + pack" src.ibt.full "$nb" "$nb" "$(size "$W/full.tar.gz")" "" "src.tar.gz" "src.tar.gz"
  row src ibt "ibt-merge old full + incremental (a synthetic full, no tree read)" src.ibt.merge "$nb" "$nb" "$(size "$W/synth.tar.gz")" "" "src.ibt.full" "src.ibt.full"
  row src tar "czf (full backup)" src.tar.gz "$nb" "$nb" "$(size "$W/full.tgz")" "" "src.tar.gz" "src.tar.gz"
  local where
  for suffix in "" .tmpfs; do
    where=$(restore_where src "$suffix") || continue
    row src tar "xzf (full restore, $where)" "src.tar.xzf$suffix" "$nb" "$nb" "" "" "src.tar.xzf$suffix" ""
    row src ibt "ibt-patch: full restore, verified ($where)" "src.ibt.restore$suffix" "$nb" "$nb" "" "" "src.tar.xzf$suffix" ""
  done
  src_chain "$W" "$NEW"

  if [ "$SRC_RDIFF" = 1 ]; then
    # rdiff, one process per file: a signature of every old file that is still there, a
    # delta of every new version against it; created files are copied as they are.
    cat > "$W/rdiff.sh" <<EOF
set -euo pipefail
rm -rf "$W/rd"; mkdir -p "$W/rd/sig" "$W/rd/delta"
cd "$NEW"
find . -type d -printf '%p\0' | (cd "$W/rd/sig" && xargs -0 mkdir -p)
find . -type d -printf '%p\0' | (cd "$W/rd/delta" && xargs -0 mkdir -p)
find . -type f -printf '%p\0' | while IFS= read -r -d '' f; do
  if [ -f "$OLD/\$f" ]; then
    rdiff signature "$OLD/\$f" "$W/rd/sig/\$f"
    rdiff delta "$W/rd/sig/\$f" "\$f" "$W/rd/delta/\$f"
  else
    cp "\$f" "$W/rd/delta/\$f"
  fi
done
EOF
    measure src.rdiff "" "bash $W/rdiff.sh"
    local sigb deltab deltagz
    sigb=$(treebytes "$W/rd/sig"); deltab=$(treebytes "$W/rd/delta")
    deltagz=$(tar cf - -C "$W/rd" delta | gzip -6 | wc -c)
    row src rdiff "signature + delta, per file (deltas)" src.rdiff "$nb" "$nb" "$deltab" "$deltagz" "src.rsync" "src.rsync"
    row src rdiff "(its signatures)" src.rdiff.sigs "$nb" "$nb" "$sigb" "" "" src.rdiff.sigs
  fi
  rm -rf "$W/r" "$W/rd"
}

# --- case many: MANY_FILES small files, one changed ---------------------------------------
# gen_many DIR COUNT: COUNT files of 200-3,000 bytes of text, 100 a directory, seeded.
gen_many() { python3 "$(dirname "${BASH_SOURCE[0]}")/many.py" "$1" "$2"; }

case_many() {
  local M=$DATA/many-$MANY_FILES W=$WORK/many
  local T=$M/tree B=$M/backup
  if [ ! -f "$M/.done" ]; then
    say "many: generating $MANY_FILES files under $M"
    rm -rf "$M"; mkdir -p "$T"
    gen_many "$T" "$MANY_FILES"
    # The file that changes, and its original content.
    find "$T" -type f -name 'f*.txt' | LC_ALL=C sort | sed -n "$((MANY_FILES / 2 + 1))p" > "$M/changed"
    cp "$(cat "$M/changed")" "$M/changed.orig"
    cp -a "$T" "$B"          # what rsync brings up to date: the old state of the tree
    touch "$M/.done"
    sleep 3                  # older than ibt-sign --prev's racy window before the old index
  fi
  rm -rf "$W"; mkdir -p "$W"
  local F; F=$(cat "$M/changed")
  # The old state: the file as generated, with a fixed mtime, in the tree and in rsync's copy.
  cat "$M/changed.orig" > "$F"; touch -d '2026-01-01 00:00:00' "$F"
  cp -p "$F" "$B/${F#"$T"/}"
  local S="$BIN/ibt-sign" D="$BIN/ibt-diff" DL="$BIN/ibt-delta" P="$BIN/ibt-pack" PA="$BIN/ibt-patch"
  "$S" -o "$W/old.idx" "$T"
  # One file changes: same size, new content, new mtime.
  tr 'a-z' 'A-Z' < "$M/changed.orig" > "$F"; touch -d '2026-01-02 00:00:00' "$F"
  local nb; nb=$(treebytes "$T")
  say "many: $MANY_FILES files, $nb bytes, changed ${F#"$T"/}"

  local prev="--prev $W/old.idx" signop="ibt-sign --prev"
  measure many.find "" "find $T -printf '%p %s %T@\n' > /dev/null"
  measure many.rsync "" "rm -f $W/rsync.batch* && rsync -a --delete --only-write-batch=$W/rsync.batch $T/ $B/"
  measure many.ibt.signprev "" "$S $prev -o $W/new.idx $T"
  measure many.ibt.diff "" "$D -o $W/inc.diff $W/old.idx $W/new.idx"
  measure many.ibt.delta "" "$DL -o $W/inc.delta $W/inc.diff"
  measure many.ibt.pack "" "$P -o $W/inc1.tar.gz $W/inc.delta"
  measure many.ibt.inc "" "$S $prev -o $W/new2.idx $T && $D $W/old.idx $W/new2.idx | $DL | $P -o $W/inc.tar.gz"
  measure many.ibt.sign "" "$S -o $W/full.idx $T"
  # The full backup of the tree against tar czf of it (issue 16: no slower).
  measure many.tar.gz "" "tar czf $W/full.tgz -C $T ."
  measure many.ibt.full "" "$S $T | $D --full - | $DL | $P -o $W/full.tar.gz"
  # The full restore into a new directory against tar xzf of tar czf's archive (issue 16: at
  # most 1.3x), on the disk of the work directory and on tmpfs; ibt-patch verifies each one.
  local X=$W/x XS=${RESTORE_TMPFS-/dev/shm}/ibt-compare-restore
  measure many.tar.xzf "rm -rf $X && mkdir $X && sync" "tar xzf $W/full.tgz -C $X"
  samecontent "$X" "$T"  # tar's default format keeps mtimes to the second
  measure many.ibt.restore "rm -rf $X && sync" "$PA $X -i $W/full.tar.gz"
  same "$X" "$T"
  rm -rf "$X"
  if [ -n "${RESTORE_TMPFS-/dev/shm}" ] && [ -d "$(dirname "$XS")" ]; then
    measure many.tar.xzf.tmpfs "rm -rf $XS && mkdir $XS && sync" "tar xzf $W/full.tgz -C $XS"
    samecontent "$XS" "$T"
    measure many.ibt.restore.tmpfs "rm -rf $XS && sync" "$PA $XS -i $W/full.tar.gz"
    same "$XS" "$T"
    rm -rf "$XS"
  fi

  say "many: verifying the restores"
  rm -rf "$W/r"; cp -a "$B" "$W/r"; restore "$PA" "$W/r" -i "$W/inc.tar.gz"
  same "$W/r" "$T"

  # A restore chain on the whole tree: the old tree restored by ibt-patch, then the
  # incremental and one back to the old state applied in turn, with the known file ibt-patch
  # keeps in the cache directory and (once, it is slow) without it, when every run reads the
  # whole tree.
  say "many: the restore chain"
  "$S" -o "$W/back.idx" "$B"
  "$D" "$W/new2.idx" "$W/back.idx" | "$DL" | "$P" -o "$W/back.tar.gz"
  "$D" --full "$W/back.idx" | "$DL" | "$P" -o "$W/backfull.tar.gz"
  rm -rf "$W/r"; restore "$PA" "$W/r" -i "$W/backfull.tar.gz"
  measure many.ibt.chain "" "$PA $W/r -i $W/inc.tar.gz && $PA $W/r -i $W/back.tar.gz"
  measure many.ibt.chain.noknown "rm -rf $XDG_CACHE_HOME/ibt" "$PA $W/r -i $W/inc.tar.gz && rm -rf $XDG_CACHE_HOME/ibt && $PA $W/r -i $W/back.tar.gz" 1
  same "$W/r" "$B"
  rm -rf "$W/r"; cp -a "$B" "$W/r"; restore bash "$W/rsync.batch.sh" "$W/r/"
  same "$W/r" "$T"
  rm -rf "$W/r"

  row many find "-printf (the stat walk)" many.find "$nb" "$nb" "" "" "many.rsync" ""
  row many rsync "-a --delete --only-write-batch" many.rsync "$nb" "$nb" "$(size "$W/rsync.batch")" "$(gzsize "$W/rsync.batch")" "many.rsync" "many.rsync"
  row many ibt "$signop" many.ibt.signprev "$nb" "$nb" "$(size "$W/new.idx")" "" "many.rsync" ""
  row many ibt ibt-diff many.ibt.diff "$nb" "$nb" "$(size "$W/inc.diff")" "" "" ""
  row many ibt ibt-delta many.ibt.delta "$nb" "$nb" "$(size "$W/inc.delta")" "" "" ""
  row many ibt ibt-pack many.ibt.pack "$nb" "$nb" "$(size "$W/inc1.tar.gz")" "" "" ""
  row many ibt "incremental: $signop + diff + delta + pack" many.ibt.inc "$nb" "$nb" "$(size "$W/inc.tar.gz")" "" "many.rsync" "many.rsync"
  row many ibt "ibt-sign, every file read" many.ibt.sign "$nb" "$nb" "$(size "$W/full.idx")" "" "many.rsync" ""
  row many tar "czf (full backup)" many.tar.gz "$nb" "$nb" "$(size "$W/full.tgz")" "" "many.tar.gz" "many.tar.gz"
  row many ibt "full: sign + diff --full + delta + pack" many.ibt.full "$nb" "$nb" "$(size "$W/full.tar.gz")" "" "many.tar.gz" "many.tar.gz"
  row many tar "xzf (full restore, disk)" many.tar.xzf "$nb" "$nb" "" "" "many.tar.xzf" ""
  row many ibt "ibt-patch: full restore, verified (disk)" many.ibt.restore "$nb" "$nb" "" "" "many.tar.xzf" ""
  if [ -f "$RES/many.tar.xzf.tmpfs.json" ]; then
    row many tar "xzf (full restore, tmpfs)" many.tar.xzf.tmpfs "$nb" "$nb" "" "" "many.tar.xzf.tmpfs" ""
    row many ibt "ibt-patch: full restore, verified (tmpfs)" many.ibt.restore.tmpfs "$nb" "$nb" "" "" "many.tar.xzf.tmpfs" ""
  fi
  row many ibt "ibt-patch: the incremental and back, on a restored tree" many.ibt.chain "$nb" "$nb" "" "" "many.ibt.chain.noknown" ""
  row many ibt "the same without the known file (1 run)" many.ibt.chain.noknown "$nb" "$nb" "" "" "many.ibt.chain.noknown" ""
}

# --- the report --------------------------------------------------------------------------
report() {
  python3 - "$RES/measures.tsv" "$RES/rows.tsv" <<'PY'
import math, sys
meas = {}
for line in open(sys.argv[1]):
    k, med, rss = line.rstrip("\n").split("\t")
    meas[k] = (float(med), int(rss) if rss.isdigit() else None)
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[2])]
byk = {r[3]: r for r in rows if r[3]}

def num(s): return int(s) if s else None
def eff(r):  # the size that matters: gzipped if the tool's output is not compressed
    return num(r[7]) or num(r[6])
def t(k): return meas[k][0] if k in meas else None
def fmt_t(s): return "" if s is None else ("%.3f s" % s if s < 10 else "%.1f s" % s)
def fmt_b(b, new): return "" if b is None else "{:,} ({:.2f}%)".format(b, 100 * b / new)

def name(r):  # a short name for a reference row: the tool, and its operation if it has a name
    op = r[2].split(" (")[0]
    return r[1] if op.startswith("-") else r[1] + " " + op

print("| case | tool | op | median | MB/s | peak RSS | output, bytes (% of new) | gzipped | time vs ref | size vs ref |")
print("|---|---|---|---:|---:|---:|---:|---:|---|---|")
def floor2(x): return math.floor(x * 100) / 100
def cell(x): return x.replace("|", "\\|")  # a pipe inside a markdown table cell
for case, tool, op, k, data, new, out, gz, tref, sref in rows:
    data, new = int(data), int(new)
    med, rss = meas.get(k, (None, None))
    mbs = "" if not med else "%.0f" % (data / med / 1e6) if data / med >= 10e6 else "%.1f" % (data / med / 1e6)
    rs = "" if rss is None else "%.0f MiB" % (rss / 1024)
    tr = sr = ""
    if tref == k:
        tr = "(ref)"
    elif tref in byk and med and t(tref):
        x = t(tref) / med
        tr = ("%.2f× faster" % floor2(x) if x >= 1 else "%.2f× slower" % floor2(1 / x)) + " than " + cell(name(byk[tref]))
    if sref == k:
        sr = "(ref)"
    elif sref in byk and eff(byk[k]) and eff(byk[sref]):
        sr = "%.2f× %s" % (eff(byk[k]) / eff(byk[sref]), cell(name(byk[sref])))
    print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        case, cell(tool), cell(op), fmt_t(med), mbs, rs, fmt_b(num(out), new), fmt_b(num(gz), new), tr, sr))
print()
print("Sizes compare the gzipped output where a tool writes it uncompressed. MB/s is the data "
      "the operation covers (the old or new file, or the whole tree) over the median time.")
print()
print("Targets of issues 5 and 16 (ratios between medians of this run):")
print()
checks = []
def ratio(a, b):  # how many times faster a is than b
    return t(b) / t(a) if t(a) and t(b) else None
def speed(r):
    return "%.2f× faster" % floor2(r) if r >= 1 else "%.2f× slower" % floor2(1 / r)
def check(target, value, ok, shown):
    if value is None:
        checks.append((target, "not measured", False))
    else:
        checks.append((target, shown(value), ok(value)))
def pct(k):
    return 100 * int(byk[k][6]) / int(byk[k][5])
if "db.ibt.sign" in meas:
    check("db: ibt-sign ≥ 3× faster than rdiff signature", ratio("db.ibt.sign", "db.rdiff.sig"), lambda r: r >= 3, speed)
    check("db: ibt-delta ≥ 3× faster than rdiff delta", ratio("db.ibt.delta", "db.rdiff.delta"), lambda r: r >= 3, speed)
    check("db: ibt-patch ≥ 1.5× faster than rdiff patch", ratio("db.ibt.patch.signed", "db.rdiff.patch"), lambda r: r >= 1.5,
          lambda r: "%s on the tree it signed (%s on a copy, %s restoring a chain; cp + mv, the floor, %s)" % (
              speed(r), speed(ratio("db.ibt.patch", "db.rdiff.patch")), speed(ratio("db.ibt.patch.chain", "db.rdiff.patch")),
              speed(ratio("db.floor", "db.rdiff.patch"))))
    check("db: durable ibt-patch of a copy of the old tree no slower than rdiff's durable replace",
          ratio("db.ibt.patch", "db.rdiff.durable"), lambda r: r >= 1, speed)
    check("db: incremental archive ≤ 1.5% of the new file", pct("db.ibt.pack"), lambda p: p <= 1.5, lambda p: "%.2f%%" % p)
    m = max(meas[k][1] for k in meas if k.startswith("db.ibt."))
    check("db: every ibt command under 64 MiB peak RSS", m, lambda m: m < 64 * 1024, lambda m: "%.0f MiB at most" % (m / 1024))
    check("db full backup: ≤ ½ the time of tar czf", ratio("db.ibt.full", "db.tar.gz"), lambda r: r >= 2, speed)
    if "db.ibt.merge" in meas:
        check("db: merging the old full and the incremental no slower than a fresh full", ratio("db.ibt.merge", "db.ibt.full"),
              lambda r: r >= 1, speed)
        check("db: synthetic full within 5% of a fresh full's size", int(byk["db.ibt.merge"][6]) / int(byk["db.ibt.full"][6]),
              lambda x: abs(x - 1) <= 0.05, lambda x: "%.3f×" % x)
        check("db: ibt-merge under 64 MiB peak RSS", meas["db.ibt.merge"][1], lambda m: m < 64 * 1024,
              lambda m: "%.0f MiB" % (m / 1024))
    check("db full backup: output ≤ 1.05× tar czf's", int(byk["db.ibt.full"][6]) / int(byk["db.tar.gz"][6]),
          lambda x: x <= 1.05, lambda x: "%.3f×" % x)
    check("db full backup, --codec zstd: no slower than tar | zstd -3 -T0", ratio("db.ibt.full.zstd", "db.tar.zstd3"),
          lambda r: r >= 1, speed)
    check("db full backup, --codec zstd: output no larger than tar | zstd -3 -T0's",
          int(byk["db.ibt.full.zstd"][6]) / int(byk["db.tar.zstd3"][6]), lambda x: x <= 1, lambda x: "%.3f×" % x)
    for suffix, where in (("", "disk"), (".tmpfs", "tmpfs")):
        if "db.ibt.restore" + suffix in meas:
            check("db full restore (%s): no slower than tar xzf" % where, ratio("db.ibt.restore" + suffix, "db.tar.xzf" + suffix),
                  lambda r: r >= 1, speed)
            check("db full restore of the zstd archive (%s): no slower than tar xf --zstd" % where,
                  ratio("db.ibt.restore.zstd" + suffix, "db.tar.xzstd" + suffix), lambda r: r >= 1, speed)
if "src.ibt.sign" in meas:
    check("src: index ≤ 3% of the data", pct("src.ibt.sign"), lambda p: p <= 3,
          lambda p: "%.2f%% (%.2f%% with --no-lz4)" % (p, pct("src.ibt.sign.lz4")))
    check("src: archive no larger than rsync's gzipped batch", int(byk["src.ibt.inc"][6]) / int(byk["src.rsync"][7]),
          lambda x: x <= 1, lambda x: "%.2f× its size" % x)
    check("src: sign + diff + delta + pack no slower than rsync writing its batch", ratio("src.ibt.inc", "src.rsync"),
          lambda r: r >= 1, speed)
    check("src: synthetic full within 5% of a fresh full's size", int(byk["src.ibt.merge"][6]) / int(byk["src.ibt.full"][6]),
          lambda x: abs(x - 1) <= 0.05, lambda x: "%.3f×" % x)
    check("src: merging 30 small incrementals no slower than applying them", ratio("src.ibt.chain.merge", "src.ibt.chain.apply"),
          lambda r: r >= 1, speed)
    for suffix, where in (("", "disk"), (".tmpfs", "tmpfs")):
        if "src.ibt.restore" + suffix in meas:
            check("src full restore (%s): at most 1.3× the time of tar xzf" % where,
                  t("src.ibt.restore" + suffix) / t("src.tar.xzf" + suffix), lambda x: x <= 1.3, lambda x: "%.2f× tar's time" % x)
    check("src: ibt-merge under 64 MiB peak RSS", max(meas[k][1] for k in ("src.ibt.merge", "src.ibt.chain.merge")),
          lambda m: m < 64 * 1024, lambda m: "%.0f MiB at most" % (m / 1024))
if "big.ibt.patch.nosync" in meas:
    check("big (tmpfs): ibt-patch --no-sync no slower than rdiff patch + one sha256 of its output",
          ratio("big.ibt.patch.nosync", "big.rdiff.patch.sha"), lambda r: r >= 1, speed)
for g in (1, 4, 16):
    k = "xfs%d" % g
    if k + ".ibt" in meas:
        check("xfs %d GiB: durable ibt-patch at most 4× the floor" % g, t(k + ".ibt") / t(k + ".floor"),
              lambda x: x <= 4, lambda x: "%.2f× the floor (%.2f× on the tree it verified)" % (x, t(k + ".ibt.known") / t(k + ".floor")))
        check("xfs %d GiB: time beyond one hashing read does not grow with the size" % g, t(k + ".ibt") - t(k + ".read"),
              lambda x: x <= 0.5, lambda x: "%+.2f s beyond the read" % x)
        if g >= 16:
            check("xfs %d GiB: ≥ 5× faster than rdiff's durable replace" % g, ratio(k + ".ibt", k + ".rdiff"),
                  lambda r: r >= 5, lambda r: "%s (%s on the tree it verified)" % (speed(r), speed(ratio(k + ".ibt.known", k + ".rdiff"))))
if "xfs.chain.ibt" in meas:
    check("xfs chain: ibt-patch of the chain faster than rdiff's", ratio("xfs.chain.ibt", "xfs.chain.rdiff"),
          lambda r: r >= 1, speed)
if "many.ibt.inc" in meas:
    check("many: %s + diff + delta + pack ≤ ½ the time of rsync's batch" % byk["many.ibt.signprev"][2],
          ratio("many.ibt.inc", "many.rsync"), lambda r: r >= 2, speed)
    check("many full backup: no slower than tar czf", ratio("many.ibt.full", "many.tar.gz"), lambda r: r >= 1, speed)
    for suffix, where in (("", "disk"), (".tmpfs", "tmpfs")):
        if "many.ibt.restore" + suffix in meas:
            check("many full restore (%s): at most 1.3× the time of tar xzf" % where,
                  t("many.ibt.restore" + suffix) / t("many.tar.xzf" + suffix),
                  lambda x: x <= 1.3, lambda x: "%.2f× tar's time" % x)
print("| target | measured | met |")
print("|---|---:|:---:|")
for target, shown, ok in checks:
    print("| %s | %s | %s |" % (cell(target), shown, "yes" if ok else "**no**"))
PY
}

header() {
  echo "## ibt vs rdiff, rsync, xdelta3, zstd, tar"
  echo
  echo "- machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
       "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), Linux $(uname -r)"
  echo "- $(go version | sed 's/^go version //'); ibt $IBT_REV"
  echo "- $(rdiff --version | head -1); rsync $(rsync --version | head -1 | awk '{print $3}'); $(xdelta3 -V 2>&1 | head -1 | awk '{print "xdelta3", $3}' | tr -d ,); zstd $(zstd -V | grep -o 'v[0-9.]*'); $(hyperfine --version)"
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); command: \`$CMDLINE\`; runs: 1 warm-up + $RUNS timed, medians; page cache warm"
  echo "- cases: $CASES; db ${DB_MIB} MiB; many $MANY_FILES files"
  if [ "$DB_MIB" != 256 ]; then
    echo "- the ${DB_MIB} MiB db has the same 1,000 page rewrites as the 256 MiB one, so a far larger share" \
         "of it changed: its sizes, and the targets, are meant for the 256 MiB file"
  fi
  echo "- load average (1, 5, 15 min) at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
}

main() {
  [ -f "$CORPUS_SH" ] || die "no corpus script at $CORPUS_SH (set CORPUS_SH)"
  install_tools
  mkdir -p "$RES" "$WORK"
  : > "$RES/measures.tsv"; : > "$RES/rows.tsv"
  LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
  build_ibt
  local c
  for c in $CASES; do
    case $c in
      db) case_db ;; src) case_src ;; many) case_many ;; big) case_big ;; xfs) case_xfs ;;
      *) die "unknown case $c (db, src, many, big, xfs)" ;;
    esac
  done
  { header; report; } > "$RES/report.md"
  cp "$RES/report.md" "$DATA/results/latest.md"
  say "every restore verified; report in $RES/report.md"
  cat "$RES/report.md"
}
main
