#!/usr/bin/env bash
# The durable patch of the db corpus on disk, ibt-patch against rdiff's durable replace, in
# alternating order: each round makes a fresh `cp -a` of the old tree for each command, syncs,
# and runs the commands one after the other, the first of a round paying what the disk still
# has to do after the copies; the order turns round by round, so each command runs first as
# often as second. Prints each run and the medians per command and per position.
#
#   bench/durable.sh                 # 10 rounds, ibt-patch built from this tree, and rdiff
#   ROUNDS=12 OLD_BIN=/tmp/old bench/durable.sh   # also an ibt-patch built elsewhere ("old")
#
# The commands, in DIR (a fresh copy of the old tree):
#   ibt    ibt-patch DIR -i inc.tar.gz
#   rdiff  rdiff -f patch DIR/data.bin rdiff.delta DIR/.new && sync DIR/.new &&
#          mv DIR/.new DIR/data.bin && sync DIR
# Environment: ROUNDS [10], OLD_BIN (a directory holding another ibt-patch), BENCH_DATA
# [<repo>/bench-data] (on the disk to measure: not tmpfs), BIN [<repo>/bin].
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-10}
DATA=${BENCH_DATA:-$REPO/bench-data}
BIN=${BIN:-$REPO/bin}
W=$DATA/work/durable
export XDG_CACHE_HOME=$W/cache

(cd "$REPO" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$BIN/" ./cmd/...)
bash "$REPO/bench/corpus.sh" "$DATA" db >&2
rm -rf "$W"; mkdir -p "$W/old" "$W/new"
cp "$DATA/db/old.bin" "$W/old/data.bin"
cp "$DATA/db/new.bin" "$W/new/data.bin"
"$BIN/ibt-sign" -o "$W/old.idx" "$W/old"
"$BIN/ibt-sign" "$W/new" | "$BIN/ibt-diff" "$W/old.idx" - | "$BIN/ibt-delta" | "$BIN/ibt-pack" -o "$W/inc.tar.gz"
rdiff -f signature "$W/old/data.bin" "$W/rdiff.sig"
rdiff -f delta "$W/rdiff.sig" "$W/new/data.bin" "$W/rdiff.delta"

labels=(ibt rdiff)
cmds=("$BIN/ibt-patch @D@ -i $W/inc.tar.gz"
  "rdiff -f patch @D@/data.bin $W/rdiff.delta @D@/.new && sync @D@/.new && mv @D@/.new @D@/data.bin && sync @D@")
if [ -n "${OLD_BIN:-}" ]; then
  labels+=(old); cmds+=("$OLD_BIN/ibt-patch @D@ -i $W/inc.tar.gz")
fi
n=${#cmds[@]}
times=$W/times.tsv
: > "$times"
echo "$(date -u '+%F %H:%M UTC'), ibt $(cd "$REPO" && git rev-parse --short HEAD), $(findmnt -no FSTYPE -T "$W" 2>/dev/null || stat -f -c %T "$W"), load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 0; r < ROUNDS; r++)); do
  rm -rf "$XDG_CACHE_HOME"
  for ((i = 0; i < n; i++)); do rm -rf "$W/d$i"; cp -a "$W/old" "$W/d$i"; done
  sync
  line="round $r:"
  for ((p = 0; p < n; p++)); do
    i=$(( (p + r) % n ))
    c=${cmds[$i]//@D@/$W/d$i}
    s=$(date +%s%N); bash -c "$c" >/dev/null; e=$(date +%s%N)
    cmp -s "$W/d$i/data.bin" "$W/new/data.bin" || { echo "durable.sh: ${labels[$i]} left a wrong data.bin" >&2; exit 1; }
    t=$(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    printf '%s\t%d\t%s\n' "${labels[$i]}" "$p" "$t" >> "$times"
    line+="  ${labels[$i]} $t s"
  done
  echo "$line"
done
echo "end $(date -u '+%H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$times" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, pos, t = line.split('\t')
    runs[label, 'all'].append(float(t))
    runs[label, 'first' if pos == '0' else 'later'].append(float(t))
for label in sorted({k[0] for k in runs}):
    print(f"{label:6s}" + "".join(
        f"  {where} {statistics.median(runs[label, where]):.3f} s (n={len(runs[label, where])})"
        for where in ('all', 'first', 'later') if runs[label, where]))
PY
rm -rf "$W"/d*
