#!/usr/bin/env bash
# Proves that ibt composes with a real object store: starts a local SeaweedFS server with its
# S3 gateway on loopback, then runs a full and an incremental backup with
# `ibt-pack | rclone rcat` under a temporary name moved once the pipeline succeeded (the
# README's recipe), checks that a torn upload never reaches its final name, restores both into an empty directory with
# `rclone cat | ibt-patch`, and compares the restored tree with the original (contents,
# modes, mtimes, symlinks). Run on demand, never in CI:
#
#   bench/s3.sh
#
# Needs Go and Debian's rclone (installed with apt-get when missing). weed is built once from
# the Go module proxy into BENCH_DATA/s3/bin (git-ignored); the first build takes a few
# minutes, later runs reuse the binary. Everything listens on 127.0.0.1 only, on free ports;
# no other address is contacted (telemetry is switched off). The server and every temporary
# file are removed on exit, however the script ends.
#
# Environment (defaults in brackets):
#   BENCH_DATA [<repo>/bench-data]   where the weed binary is cached
#   WEED_WAIT [120]                  seconds to wait for the S3 gateway to answer
#   KEEP [0]                         1 keeps the temporary directory (data, logs) for a look
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
DATA=${BENCH_DATA:-$REPO/bench-data}
WEED_WAIT=${WEED_WAIT:-120}
KEEP=${KEEP:-0}

# weed is pinned to one commit. SeaweedFS tags its releases "4.47" and the like, which are not
# Go module versions, so the module proxy serves it only under pseudo-versions; this one is
# what @latest resolved to on 2026-11-25 and builds with Go 1.26.
WEED_MODULE=github.com/seaweedfs/seaweedfs
WEED_VERSION=v0.0.0-20261109003541-7506e5f91cd6
WEED_BIN=$DATA/s3/bin/weed-$WEED_VERSION

# Loopback needs no proxy, and a proxy set in the caller's environment must never see this
# traffic (Go skips proxies for loopback anyway; this makes it explicit for every tool).
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
# The AWS SDK inside rclone reads these on its own: a CA bundle makes Debian's rclone 1.60
# fail ("LoadCustomCABundleError ... unsupported transport"), and a profile or shared config
# could point it elsewhere. Plain http on loopback needs none of them.
unset AWS_CA_BUNDLE AWS_PROFILE AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_ENDPOINT_URL \
  AWS_ENDPOINT_URL_S3 AWS_REGION AWS_DEFAULT_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
  AWS_SESSION_TOKEN

STEP_START=0
SUMMARY=()
say() { printf '\n== %s\n' "$*"; }
die() { printf 'bench/s3.sh: FAIL: %s\n' "$*" >&2; exit 1; }
size() { stat -c %s "$1"; }
begin() { say "$1"; STEP_START=$(date +%s.%N); }
# done_step LABEL DETAIL: records how long the step begun last took.
done_step() {
  local secs
  secs=$(awk -v a="$STEP_START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  SUMMARY+=("$(printf '%-34s %7ss  %s' "$1" "$secs" "$2")")
}

T=$(mktemp -d "${TMPDIR:-/tmp}/ibt-s3.XXXXXX")
WEED_PID=""
SOCKETS=()
cleanup() {
  local rc=$?
  if [ -n "$WEED_PID" ] && kill -0 "$WEED_PID" 2>/dev/null; then
    kill -TERM "$WEED_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$WEED_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$WEED_PID" 2>/dev/null || true
    wait "$WEED_PID" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -f "$T/weed.log" ]; then
    echo "--- last lines of the weed log ($T/weed.log):" >&2
    tail -n 30 "$T/weed.log" >&2
  fi
  # weed puts its gRPC unix sockets in /tmp whatever TMPDIR says; remove exactly ours.
  if [ "${#SOCKETS[@]}" -gt 0 ]; then rm -f "${SOCKETS[@]}"; fi
  if [ "$KEEP" = 1 ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools -------------------------------------------------------------------------------
begin "tools: rclone, weed $WEED_VERSION, ibt"
if ! command -v rclone >/dev/null; then
  echo "installing rclone with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rclone >/dev/null
fi
if [ ! -x "$WEED_BIN" ]; then
  # Plain `go install $WEED_MODULE/weed@$WEED_VERSION` is refused: the module's go.mod has a
  # replace directive (go-bip39, deleted upstream). Building inside the downloaded module
  # makes it the main module, so its replace and go.sum apply; the source still comes from
  # the Go module proxy and is checked against the checksum database as usual.
  echo "building weed (once; several minutes): $WEED_MODULE@$WEED_VERSION"
  t0=$(date +%s)
  src=$(go mod download -json "$WEED_MODULE@$WEED_VERSION" | grep '"Dir":' | cut -d'"' -f4)
  [ -d "$src/weed" ] || die "go mod download $WEED_MODULE@$WEED_VERSION gave no source directory"
  mkdir -p "$(dirname "$WEED_BIN")"
  (cd "$src" && GOWORK=off GOFLAGS= go build -trimpath -o "$WEED_BIN.tmp" ./weed)
  mv "$WEED_BIN.tmp" "$WEED_BIN"
  echo "weed built in $(($(date +%s) - t0)) s: $WEED_BIN"
fi
(cd "$REPO" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$T/bin/" ./cmd/...)
export PATH=$T/bin:$PATH
echo "rclone: $(rclone version | head -n 1)"
echo "weed:   $("$WEED_BIN" version 2>&1 | head -n 1)"
done_step "tools ready" "weed $WEED_VERSION"

# --- server ------------------------------------------------------------------------------
# free_port: a random unprivileged TCP port that nothing listens on and that this script has
# not handed out already.
TAKEN=" "
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 30000))
    case "$TAKEN" in *" $p "*) continue ;; esac
    if [ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ]; then
      TAKEN+="$p "
      echo "$p"
      return 0
    fi
  done
  die "no free TCP port found"
}

begin "start SeaweedFS (master, volume, filer, S3) on 127.0.0.1"
MASTER_PORT=$(free_port); MASTER_GRPC=$(free_port)
VOLUME_PORT=$(free_port); VOLUME_GRPC=$(free_port)
FILER_PORT=$(free_port); FILER_GRPC=$(free_port)
S3_PORT=$(free_port); S3_GRPC=$(free_port)
SOCKETS=(/tmp/seaweedfs-master-grpc-"$MASTER_GRPC".sock /tmp/seaweedfs-volume-grpc-"$VOLUME_GRPC".sock
  /tmp/seaweedfs-filer-grpc-"$FILER_GRPC".sock /tmp/seaweedfs-s3-grpc-"$S3_GRPC".sock)

ACCESS_KEY=ibt$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
SECRET_KEY=$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')
BUCKET=ibt-backups
cat > "$T/s3.json" <<EOF
{
  "identities": [
    {
      "name": "ibt",
      "credentials": [{ "accessKey": "$ACCESS_KEY", "secretKey": "$SECRET_KEY" }],
      "actions": ["Admin", "Read", "List", "Tagging", "Write"]
    }
  ]
}
EOF
mkdir -p "$T/weed/data" "$T/weed/log" "$T/weed/tmp"
# TMPDIR keeps weed's own temporary files inside $T; the ports of every optional listener
# (Iceberg, Lance, metrics, debug, public ports) stay off.
TMPDIR=$T/weed/tmp "$WEED_BIN" -logdir="$T/weed/log" server \
  -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$T/weed/data" \
  -master.port="$MASTER_PORT" -master.port.grpc="$MASTER_GRPC" \
  -master.telemetry=false -master.telemetry.url=http://127.0.0.1:1/ \
  -master.volumeSizeLimitMB=64 -volume.max=8 -volume.preStopSeconds=0 \
  -volume.port="$VOLUME_PORT" -volume.port.grpc="$VOLUME_GRPC" \
  -filer -filer.port="$FILER_PORT" -filer.port.grpc="$FILER_GRPC" \
  -filer.localSocket="$T/weed/filer.sock" \
  -s3 -s3.port="$S3_PORT" -s3.port.grpc="$S3_GRPC" -s3.config="$T/s3.json" \
  -s3.port.iceberg=0 -s3.port.lance=0 -s3.localSocket="$T/weed/s3.sock" \
  > "$T/weed.log" 2>&1 &
WEED_PID=$!
echo "weed server pid $WEED_PID: master :$MASTER_PORT, volume :$VOLUME_PORT, filer :$FILER_PORT, S3 :$S3_PORT"

# rclone is configured by environment variables alone; the empty config file keeps it from
# reading (or writing) one in $HOME.
: > "$T/rclone.conf"
export RCLONE_CONFIG=$T/rclone.conf
export RCLONE_CONFIG_IBT_TYPE=s3
export RCLONE_CONFIG_IBT_PROVIDER=SeaweedFS
export RCLONE_CONFIG_IBT_ENDPOINT=http://127.0.0.1:$S3_PORT
export RCLONE_CONFIG_IBT_ACCESS_KEY_ID=$ACCESS_KEY
export RCLONE_CONFIG_IBT_SECRET_ACCESS_KEY=$SECRET_KEY
export RCLONE_CONFIG_IBT_ENV_AUTH=false
export RCLONE_CONFIG_IBT_REGION=us-east-1
export RCLONE_CONFIG_IBT_FORCE_PATH_STYLE=true

# Ready means the S3 gateway answers an authenticated request and the bucket can be made,
# which needs the filer, and through it the master, up as well.
deadline=$(($(date +%s) + WEED_WAIT))
until rclone lsd ibt: --retries 1 --low-level-retries 1 --contimeout 2s --timeout 5s \
  >"$T/wait.log" 2>&1; do
  kill -0 "$WEED_PID" 2>/dev/null || die "weed server exited during start-up"
  if [ "$(date +%s)" -ge "$deadline" ]; then
    tail -n 5 "$T/wait.log" >&2
    die "the S3 gateway did not answer within ${WEED_WAIT} s (last rclone attempt above)"
  fi
  sleep 0.5
done
rclone mkdir "ibt:$BUCKET"
# Every listener of the server must be on loopback.
listeners=$(ss -Htlnp | grep "pid=$WEED_PID," | awk '{print $4}' | sort -u)
[ -n "$listeners" ] || die "no listening socket found for weed pid $WEED_PID"
if grep -v '^127\.0\.0\.1:' <<<"$listeners"; then die "weed listens beyond 127.0.0.1 (above)"; fi
echo "listening on: $(tr '\n' ' ' <<<"$listeners")"
done_step "server up, bucket made" "S3 on 127.0.0.1:$S3_PORT"

# --- the data ----------------------------------------------------------------------------
D=$T/data; R=$T/restore
# same A B: the trees are identical in contents, types, modes, mtimes and symlink targets.
listing() { (cd "$1" && find . -mindepth 1 -printf '%P %y %m %T@ %l\n' | LC_ALL=C sort); }
same() {
  if ! diff -r --no-dereference "$1" "$2"; then die "restored contents differ (above)"; fi
  if ! diff <(listing "$1") <(listing "$2"); then
    die "restored modes, mtimes or symlinks differ (above: < original, > restored)"
  fi
  echo "restored tree is identical to the original: $(listing "$1" | wc -l) entries (contents, modes, mtimes, symlinks)"
}

begin "a sample tree"
mkdir -p "$D/src/deep/er" "$D/docs" "$D/empty"
for i in $(seq 1 40); do seq 1 $((i * 150)) | sed "s/^/line $i: /" > "$D/src/file$i.txt"; done
head -c 8000000 /dev/urandom > "$D/blob.bin" # over rclone's 5 MiB chunk: a multipart upload
echo "read me" > "$D/docs/README"
printf '#!/bin/sh\necho hi\n' > "$D/src/deep/er/run.sh"; chmod 0755 "$D/src/deep/er/run.sh"
ln -s ../docs/README "$D/src/README"
ln -s nowhere "$D/dangling"
chmod 0700 "$D/docs"; chmod 0600 "$D/src/file5.txt"
touch -d '2001-02-03 04:05:06' "$D/src/file9.txt"
echo "$(listing "$D" | wc -l) entries, $(du -sb "$D" | cut -f1) bytes"
done_step "sample tree" "$(listing "$D" | wc -l) entries"

begin "full backup: ibt-sign; ibt-diff --full | ibt-delta | ibt-pack | rclone rcat"
ibt-sign -o "$T/v1.idx" "$D"
# as the README's recipe: under a temporary name, moved once the pipeline (pipefail) succeeded
ibt-diff --full "$T/v1.idx" | ibt-delta | ibt-pack | rclone rcat "ibt:$BUCKET/full.tar.gz.part" &&
  rclone moveto "ibt:$BUCKET/full.tar.gz.part" "ibt:$BUCKET/full.tar.gz"
full_size=$(rclone size --json "ibt:$BUCKET/full.tar.gz" | sed 's/.*"bytes":\([0-9]*\).*/\1/')
echo "index $(size "$T/v1.idx") bytes; ibt:$BUCKET/full.tar.gz $full_size bytes"
done_step "full backup to S3" "$full_size bytes"

begin "change the tree: edit, append, overwrite a block, create, delete, chmod, rename, relink"
sed -i 's/^line 7: 100$/line 7: one hundred/' "$D/src/file7.txt"
echo "appended" >> "$D/src/file30.txt"
dd if=/dev/urandom of="$D/blob.bin" bs=4096 seek=100 count=2 conv=notrunc 2>/dev/null
echo "new file" > "$D/docs/NEW"; mkdir "$D/newdir"; echo x > "$D/newdir/x"
rm "$D/src/file1.txt"; rmdir "$D/empty"
chmod 0644 "$D/src/file5.txt"
mv "$D/src/file3.txt" "$D/src/renamed3.txt"
ln -sfn ../docs/NEW "$D/src/README"
touch -d '2002-03-04 05:06:07' "$D/src/file9.txt"
done_step "tree changed" ""

begin "incremental backup: ibt-sign; ibt-diff OLD NEW | ibt-delta | ibt-pack | rclone rcat"
ibt-sign -o "$T/v2.idx" "$D"
ibt-diff "$T/v1.idx" "$T/v2.idx" | ibt-delta | ibt-pack | rclone rcat "ibt:$BUCKET/inc-1.tar.gz.part" &&
  rclone moveto "ibt:$BUCKET/inc-1.tar.gz.part" "ibt:$BUCKET/inc-1.tar.gz"
inc_size=$(rclone size --json "ibt:$BUCKET/inc-1.tar.gz" | sed 's/.*"bytes":\([0-9]*\).*/\1/')
echo "ibt:$BUCKET/inc-1.tar.gz $inc_size bytes (the tree is $(du -sb "$D" | cut -f1) bytes)"
done_step "incremental backup to S3" "$inc_size bytes"

begin "torn uploads: ibt-pack cut short by head -c, and killed; neither reaches its final name"
ibt-diff --full "$T/v1.idx" | ibt-delta -o "$T/full.delta"
if ibt-pack < "$T/full.delta" | head -c 3000000 | rclone rcat "ibt:$BUCKET/torn.tar.gz.part" &&
  rclone moveto "ibt:$BUCKET/torn.tar.gz.part" "ibt:$BUCKET/torn.tar.gz"; then
  die "a pipeline cut short by head succeeded"
fi
if (ibt-pack < "$T/full.delta" & p=$!; sleep 0.05; kill -9 $p; wait $p) | rclone rcat "ibt:$BUCKET/killed.tar.gz.part" &&
  rclone moveto "ibt:$BUCKET/killed.tar.gz.part" "ibt:$BUCKET/killed.tar.gz"; then
  die "a pipeline whose ibt-pack was killed succeeded"
fi
for o in torn killed; do
  if rclone lsf "ibt:$BUCKET/$o.tar.gz" 2>/dev/null | grep -q .; then die "$o.tar.gz is in the bucket"; fi
  rclone deletefile "ibt:$BUCKET/$o.tar.gz.part" 2>/dev/null || true
done
echo "neither torn upload is under its final name"
done_step "torn uploads refused" "2 of 2"

begin "the bucket: rclone lsl ibt:$BUCKET"
rclone lsl "ibt:$BUCKET" | tee "$T/lsl"
[ "$(wc -l < "$T/lsl")" -eq 2 ] || die "expected 2 objects in the bucket"
done_step "bucket listed" "$(wc -l < "$T/lsl") objects"

begin "restore: rclone cat full.tar.gz | ibt-patch RESTORE, then inc-1.tar.gz"
mkdir "$R"
rclone cat "ibt:$BUCKET/full.tar.gz" | ibt-patch "$R"
echo "full applied"
rclone cat "ibt:$BUCKET/inc-1.tar.gz" | ibt-patch "$R"
echo "incremental applied"
done_step "restore from S3" "full + 1 incremental"

begin "verify: diff -r and a listing of types, modes, mtimes, symlink targets"
same "$D" "$R"
done_step "verified" "identical"

# Connections the server holds now must all be loopback too.
if ss -Htnp | grep "pid=$WEED_PID," | awk '{print $4; print $5}' | grep -v '^127\.0\.0\.1:'; then
  die "weed holds a connection beyond 127.0.0.1 (above)"
fi

say "summary"
printf '%s\n' "${SUMMARY[@]}"
echo "PASS: full and incremental backups through SeaweedFS S3 restored and verified"
