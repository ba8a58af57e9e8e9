package patch

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/format/archive"
)

// hashInBlocks is the sha256-blocks hash of data computed, as format's
// doc.go defines it, in blocks of bs bytes, whatever the rule says of bs.
func hashInBlocks(data string, bs int) []byte {
	outer := sha256.New()
	var head [12]byte
	binary.LittleEndian.PutUint64(head[:8], uint64(len(data)))
	binary.LittleEndian.PutUint32(head[8:], uint32(bs))
	outer.Write(head[:])
	for len(data) > 0 {
		k := min(bs, len(data))
		leaf := sha256.Sum256([]byte(data[:k]))
		outer.Write(leaf[:])
		data = data[k:]
	}
	return outer.Sum(nil)
}

// TestOtherBlockSizeRefused: the spec makes the block size a function of
// the file's size, so an archive whose file records another block size,
// with a hash made in blocks of that size, is refused by name before DIR
// changes, rather than its file taken for damaged or for the wrong base.
func TestOtherBlockSizeRefused(t *testing.T) {
	t.Parallel()
	data := strings.Repeat("ibt block size ", 100) // 1,500 bytes: 576-byte blocks
	for _, tt := range []struct {
		name string
		edit func(cs []*format.Change)
	}{
		{"new entry", func(cs []*format.Change) {
			for _, c := range cs {
				if c.New != nil && c.New.Path == "f" {
					c.New.BlockSize, c.New.Hash, c.New.Sig = 1024, hashInBlocks(data, 1024), nil
				}
			}
		}},
		{"old entry", func(cs []*format.Change) {
			for _, c := range cs {
				if c.Old != nil && c.Old.Path == "a.txt" {
					c.Old.BlockSize, c.Old.Sig = 4096, nil
					c.Old.Hash = hashInBlocks(v1Tree()["a.txt"].data, 4096)
				}
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			old := v1Tree()
			new := v2Tree()
			new["f"] = file(data)
			cs := changes(old, new)
			tt.edit(cs)
			a := writeArchive(t, cs, new, archive.None)
			d := restored(t, old)
			before := listing(t, d)
			_, err := apply(d, a)
			if err == nil || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "block size") {
				t.Fatalf("apply: %v, want a refusal naming the block size", err)
			}
			if after := listing(t, d); after != before {
				t.Errorf("DIR changed:\n%s\nwant\n%s", after, before)
			}
		})
	}
}
