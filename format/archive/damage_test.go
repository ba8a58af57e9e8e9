package archive

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

// damageFiles is a small archive's worth of every kind of member.
func damageFiles() []testFile {
	return []testFile{
		created("a", []byte("content of a")),
		created("b/big", bytes.Repeat([]byte("streamed content "), bigFile/16+100)),
		change(format.OpDelete, entry("c", format.TypeFile, 1), nil),
		updated("d", []byte("the old file"), []DeltaOp{cp(4, 3), lit([]byte("new")), cp(0, 4)}),
		created("e", nil),
	}
}

// TestTruncated cuts archives at every member boundary and at many other
// offsets: each must fail as truncated.
func TestTruncated(t *testing.T) {
	for _, codec := range []Codec{Gzip, LZ4, Zstd, None} {
		t.Run(string(codec), func(t *testing.T) {
			data := writeArchive(t, damageFiles(), WriterOptions{Codec: codec})
			cuts := map[int]bool{}
			for i := 0; i < len(data); i += max(1, len(data)/300) {
				cuts[i] = true
			}
			if codec == None {
				for _, m := range tarMembers(t, data) {
					cuts[m.start], cuts[m.start+512], cuts[m.end] = true, true, true
				}
			}
			for i := 1; i <= 40 && i <= len(data); i++ {
				cuts[len(data)-i] = true
			}
			for cut := range cuts {
				_, _, err := readArchive(data[:cut], nil)
				if err == nil {
					t.Fatalf("cut at %d of %d: read without error", cut, len(data))
				}
				if cut > 0 && !errors.Is(err, ErrTruncated) {
					t.Fatalf("cut at %d of %d: %v, want a truncation", cut, len(data), err)
				}
			}
		})
	}
}

// TestFlipped flips one bit at a time. Compressed archives carry a
// checksum of everything; in a plain tar, the tar headers and the
// ibt/ members are checked, and data members are left to the applier's
// file hashes.
func TestFlipped(t *testing.T) {
	for _, codec := range []Codec{Gzip, LZ4, Zstd, None} {
		t.Run(string(codec), func(t *testing.T) {
			// Without the streamed file: it is covered above, and
			// would only slow this down.
			files := damageFiles()
			files = append(files[:1], files[2:]...)
			data := writeArchive(t, files, WriterOptions{Codec: codec})
			plain := decompressed(t, data)
			for _, i := range checkedRegions(t, data, codec) {
				bad := bytes.Clone(data)
				bad[i] ^= 0x10
				if codec != None && bytes.Equal(decompressed(t, bad), plain) {
					continue // a padding bit, or a match copying equal bytes
				}
				if _, _, err := readArchive(bad, nil); err == nil {
					t.Fatalf("flipped byte %d of %d: read without error", i, len(data))
				}
			}
		})
	}
}

// checkedRegions returns the offsets to flip: for a compressed archive a
// spread over all of it, for a plain one every byte of its tar headers and
// ibt/ members, and of the end marker.
func checkedRegions(t *testing.T, data []byte, codec Codec) []int {
	var out []int
	if codec != None {
		for i := 0; i < len(data); i += max(1, len(data)/400) {
			out = append(out, i)
		}
		return out
	}
	var m tarMember
	for _, m = range tarMembers(t, data) {
		end := m.start + 512
		if m.name[:4] == "ibt/" {
			end += int(m.size)
		}
		for i := m.start; i < end; i++ {
			// The checksum field's digits may be padded with a space or
			// a NUL: a flip between those changes nothing.
			if i-m.start < 148 || i-m.start >= 156 {
				out = append(out, i)
			}
		}
	}
	for i := m.end; i < m.end+1024; i++ {
		out = append(out, i)
	}
	return out
}

type tarMember struct {
	name       string
	size       int64
	start, end int // of its header block, and of its padded content
}

// tarMembers lists the members of a plain tar archive with their offsets.
func tarMembers(t *testing.T, data []byte) []tarMember {
	var out []tarMember
	tr := tar.NewReader(bytes.NewReader(data))
	off := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		end := off + 512 + int(hdr.Size+511)&^511
		out = append(out, tarMember{name: hdr.Name, size: hdr.Size, start: off, end: end})
		off = end
	}
}

// decompressed returns the tar stream of an archive, or nil if the codec
// refuses it.
func decompressed(t *testing.T, data []byte) []byte {
	br := bufio.NewReader(bytes.NewReader(data))
	codec, err := sniff(br)
	if err != nil {
		return nil
	}
	z, err := codec.decompressor(br)
	if err != nil {
		return nil
	}
	out, err := io.ReadAll(z)
	if err != nil {
		return nil
	}
	return out
}
