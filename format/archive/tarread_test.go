package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// tarEntry is a member as a tar reader returns it.
type tarEntry struct {
	name     string
	typeflag byte
	data     string
}

// readMembers reads every member with next, which returns a member's
// header, and r, its content, up to the first that is not a regular file,
// where the archive's reader stops.
func readMembers(next func() (tarHeader, error), r io.Reader) ([]tarEntry, error) {
	var out []tarEntry
	for {
		h, err := next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if h.Typeflag != '0' {
			return append(out, tarEntry{h.Name, h.Typeflag, ""}), nil
		}
		data, err := io.ReadAll(r)
		if err != nil {
			return out, err
		}
		if int64(len(data)) != h.Size {
			return out, errors.New("content shorter than the size")
		}
		out = append(out, tarEntry{h.Name, h.Typeflag, string(data)})
	}
}

// readOurs reads every member of b with tarReader.
func readOurs(b []byte) ([]tarEntry, error) {
	t := newTarReader(bytes.NewReader(b))
	return readMembers(func() (tarHeader, error) {
		h, err := t.Next()
		if err != nil {
			return tarHeader{}, err
		}
		return *h, nil
	}, t)
}

// readStd reads every member of b with archive/tar.
func readStd(b []byte) ([]tarEntry, error) {
	t := tar.NewReader(bytes.NewReader(b))
	return readMembers(func() (tarHeader, error) {
		h, err := t.Next()
		if err != nil {
			return tarHeader{}, err
		}
		return tarHeader{Name: h.Name, Typeflag: h.Typeflag, Size: h.Size}, nil
	}, t)
}

type stdMember struct {
	hdr  tar.Header
	data string
}

func writeStd(t testing.TB, members []stdMember, end bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		h := m.hdr
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(m.data))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, m.data); err != nil {
			t.Fatal(err)
		}
	}
	if !end {
		if err := tw.Flush(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestTarReaderReadsWhatArchiveTarReads: the members ibt-pack writes, and
// the PAX and prefix forms a ustar member may take, read as archive/tar
// reads them.
func TestTarReaderReadsWhatArchiveTarReads(t *testing.T) {
	long := strings.Repeat("d/", 60) + "file" // over 100 bytes: a ustar prefix
	cases := map[string][]stdMember{
		"ibt members": {
			{hdr: tar.Header{Name: headerName, ModTime: memberTime}, data: "header"},
			{hdr: tar.Header{Name: "created/" + strings.Repeat("ab", 32), ModTime: memberTime}, data: strings.Repeat("x", 1000)},
			{hdr: tar.Header{Name: "updated/" + strings.Repeat("cd", 32), ModTime: memberTime}, data: strings.Repeat("y", 512)},
			{hdr: tar.Header{Name: "empty", ModTime: memberTime}},
			{hdr: tar.Header{Name: trailerName, ModTime: memberTime}, data: "trailer"},
		},
		"a long name in the prefix": {{hdr: tar.Header{Name: long, Format: tar.FormatUSTAR}, data: "p"}},
		"PAX records":               {{hdr: tar.Header{Name: "pax", Format: tar.FormatPAX, PAXRecords: map[string]string{"comment": "x", "path": "renamed"}}, data: "pax content"}},
		"a directory":               {{hdr: tar.Header{Name: "dir/", Typeflag: tar.TypeDir, Mode: 0o755}}},
	}
	for name, members := range cases {
		t.Run(name, func(t *testing.T) {
			for _, end := range []bool{true, false} {
				b := writeStd(t, members, end)
				want, werr := readStd(b)
				got, err := readOurs(b)
				if err != nil || werr != nil {
					t.Fatalf("end marker %v: tarReader: %v; archive/tar: %v", end, err, werr)
				}
				if !equalEntries(got, want) {
					t.Fatalf("end marker %v: tarReader read %q, archive/tar %q", end, got, want)
				}
			}
		})
	}
}

func equalEntries(a, b []tarEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestTarReaderPAXSize: a member of 8 GiB or more has its size in a PAX
// record, the only PAX header an archive holds.
func TestTarReaderPAXSize(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	// a size that ustar can hold, written as PAX the way a large one is
	if err := tw.WriteHeader(&tar.Header{Name: "big", Typeflag: tar.TypeReg, Size: 3, Mode: 0o644, ModTime: time.Unix(0, 0),
		Format: tar.FormatPAX, PAXRecords: map[string]string{"size": "3"}}); err != nil {
		t.Fatal(err)
	}
	io.WriteString(tw, "abc")
	tw.Close()
	got, err := readOurs(buf.Bytes())
	if err != nil || len(got) != 1 || got[0].data != "abc" || got[0].name != "big" {
		t.Fatalf("read %q, %v", got, err)
	}
}

// TestTarReaderRefuses: what an archive never holds is refused with an
// error naming it, where archive/tar would read on.
func TestTarReaderRefuses(t *testing.T) {
	gnu := writeStd(t, []stdMember{{hdr: tar.Header{Name: "gnu", Format: tar.FormatGNU}, data: "g"}}, true)
	ustar := writeStd(t, []stdMember{{hdr: tar.Header{Name: "a"}, data: "content"}}, true)
	badSum := bytes.Clone(ustar)
	badSum[0] = 'b'
	zeroThenHeader := append(make([]byte, blockSize), ustar...)
	twoPAX := writeStd(t, []stdMember{{hdr: tar.Header{Name: "p", Format: tar.FormatPAX, PAXRecords: map[string]string{"comment": "1"}}, data: "x"}}, true)
	// the PAX header's block, twice, before the member
	twoPAX = append(append(bytes.Clone(twoPAX[:2*blockSize]), twoPAX[:2*blockSize]...), twoPAX[2*blockSize:]...)
	// archive/tar writes no sparse records: one of the same length, replaced
	sparse := writeStd(t, []stdMember{{hdr: tar.Header{Name: "s", Format: tar.FormatPAX, PAXRecords: map[string]string{"comment": "0123456789"}}, data: "x"}}, true)
	sparse = bytes.Replace(sparse, []byte("comment=0123456789"), []byte("GNU.sparse.major=1"), 1)
	// a size whose padding would not fit an int64, in place of a record of
	// the same length
	huge := writeStd(t, []stdMember{{hdr: tar.Header{Name: "h", Format: tar.FormatPAX, PAXRecords: map[string]string{"comment": "0123456789abcdef"}}, data: "x"}}, true)
	huge = bytes.Replace(huge, []byte("comment=0123456789abcdef"), []byte("size=9223372036854775807"), 1)
	for name, c := range map[string]struct {
		b    []byte
		want string
	}{
		"a GNU header":             {gnu, "not a POSIX ustar header"},
		"a damaged header":         {badSum, "checksum"},
		"a zero block, then more":  {zeroThenHeader, "a zero block, then a header"},
		"two PAX headers in a row": {twoPAX, "two PAX extended headers"},
		"a GNU sparse PAX record":  {sparse, "sparse"},
		"a PAX header at the end":  {twoPAX[:2*blockSize], "unexpected EOF"},
		"a size of 2^63-1":         {huge, "PAX extended header: size"},
		"a header cut short":       {ustar[:300], "unexpected EOF"},
		"content cut short":        {ustar[:blockSize+3], "unexpected EOF"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := readOurs(c.b)
			if err == nil {
				t.Fatalf("read without an error, want one saying %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want one saying %q", err, c.want)
			}
		})
	}
}

// FuzzTarReader: on any input, each member that both tarReader and
// archive/tar read is read the same by both; tarReader reads more only
// where archive/tar stops at a header field an archive does not use
// (owner, mode, times, device numbers), and stops only at a truncation or
// a header it does not take.
func FuzzTarReader(f *testing.F) {
	f.Add(writeStd(f, []stdMember{
		{hdr: tar.Header{Name: headerName}, data: "h"},
		{hdr: tar.Header{Name: "created/x"}, data: strings.Repeat("c", 600)},
	}, true))
	f.Add(writeStd(f, []stdMember{{hdr: tar.Header{Name: "p", Format: tar.FormatPAX, PAXRecords: map[string]string{"size": "1", "path": "q"}}, data: "x"}}, true))
	f.Add(writeStd(f, []stdMember{{hdr: tar.Header{Name: strings.Repeat("d/", 60) + "f", Format: tar.FormatUSTAR}, data: "p"}}, false))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := readOurs(b)
		want, werr := readStd(b)
		if len(want) < len(got) && !errors.Is(werr, tar.ErrHeader) {
			t.Fatalf("tarReader read %d members, archive/tar %d and %v", len(got), len(want), werr)
		}
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("member %d: tarReader read %q, archive/tar %q", i, got[i], want[i])
			}
		}
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, errTarHeader) {
			t.Fatalf("error %v is neither a truncation nor a header", err)
		}
	})
}
