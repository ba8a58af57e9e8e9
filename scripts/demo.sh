#!/usr/bin/env bash
# A full and an incremental backup of a sample tree, each restored and
# compared with the original. Needs only Go; builds the tools into a
# temporary directory and leaves nothing behind. Uses only POSIX tools (and
# seq), so it runs on BSD and macOS as on Linux.
set -euo pipefail
cd "$(dirname "$0")/.."
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
echo "building the tools..."
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$T/bin/" ./cmd/...
export PATH=$T/bin:$PATH
export XDG_CACHE_HOME=$T/cache # where ibt-patch keeps what it verified, outside the restored tree

say() { printf '\n== %s\n' "$*"; }
size() { wc -c < "$1" | tr -d ' '; }
entries() { # DIR: every entry's path, type, mode, mtime, size, hash and target, as ibt-cat shows them
  ibt-sign --no-lz4 "$1" | ibt-cat | grep '"record":"entry"'
}
same() { # tree-a tree-b: compare contents (diff -r), and modes, mtimes and symlinks
  if diff -r "$1" "$2" >/dev/null && [ "$(entries "$1")" = "$(entries "$2")" ]; then
    echo "restored tree is identical to $(basename "$1") (contents, modes, mtimes, symlinks)"
  else
    echo "RESTORED TREE DIFFERS"; exit 1
  fi
}

D=$T/data; R=$T/restore
say "a sample tree: $D"
mkdir -p "$D/src" "$D/docs" "$D/empty"
for i in $(seq 1 50); do seq 1 $((i * 200)) | sed "s/^/line $i: /" > "$D/src/file$i.txt"; done
head -c 4000000 /dev/urandom > "$D/blob.bin"
echo "read me" > "$D/docs/README"; ln -s ../docs/README "$D/src/README"; chmod 0700 "$D/docs"
echo "$(find "$D" | wc -l) entries, $(du -sh "$D" | cut -f1)"

say "full backup: ibt-sign DIR, ibt-diff --full, ibt-delta, ibt-pack"
ibt-sign -o "$T/v1.idx" "$D"
ibt-diff --full "$T/v1.idx" | ibt-delta | ibt-pack > "$T/full.tar.gz"
echo "index $(size "$T/v1.idx") bytes, archive $(size "$T/full.tar.gz") bytes"
tar tzf "$T/full.tar.gz" > "$T/list"; head -3 "$T/list"; echo "... ($(wc -l < "$T/list") members)"

say "restore it: ibt-patch RESTORE < full.tar.gz"
ibt-patch "$R" < "$T/full.tar.gz"
same "$D" "$R"

say "change the tree: edit, append, create, delete, chmod, rename"
sed 's/line 7: 100$/line 7: one hundred/' "$D/src/file7.txt" > "$T/edit" && cat "$T/edit" > "$D/src/file7.txt"
echo "appended" >> "$D/src/file30.txt"
dd if=/dev/urandom of="$D/blob.bin" bs=4096 seek=100 count=2 conv=notrunc 2>/dev/null
echo "new file" > "$D/docs/NEW"; rm "$D/src/file1.txt"; chmod 0644 "$D/src/file2.txt"
mv "$D/src/file3.txt" "$D/src/renamed3.txt"

say "incremental backup: ibt-sign, ibt-diff OLD NEW, ibt-delta, ibt-pack"
ibt-sign -o "$T/v2.idx" "$D"
ibt-diff "$T/v1.idx" "$T/v2.idx" | ibt-delta | ibt-pack > "$T/inc.tar.gz"
echo "incremental archive $(size "$T/inc.tar.gz") bytes (the tree's files are $(find "$D" -type f -exec cat {} + | wc -c | tr -d ' ') bytes)"
ibt-cat --summary "$T/inc.tar.gz"

say "apply it: ibt-patch RESTORE < inc.tar.gz"
ibt-patch "$R" < "$T/inc.tar.gz"
same "$D" "$R"

say "apply it again: a no-op that succeeds"
ibt-patch "$R" < "$T/inc.tar.gz" && echo "ok"
say "done"
