// Package show prints any ibt stream (index, diff, delta) or archive as
// JSON lines, one record a line, header and trailer included, or as a
// table of counts and byte totals: what ibt-cat prints.
package show

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/ibt-tools/ibt/format"
	"github.com/ibt-tools/ibt/format/archive"
)

// Options choose what Print prints.
type Options struct {
	Summary bool // counts and byte totals instead of the records
	JSON    bool // the summary as one JSON line instead of a table
	Data    bool // literal data and content (base64) in the records
}

// Print reads the stream or archive in r, whichever it is, and prints it
// to w. An error reading it is returned once what came before is printed.
func Print(w io.Writer, r io.Reader, opt Options) error {
	br := bufio.NewReaderSize(r, 64<<10)
	out := bufio.NewWriter(w)
	defer out.Flush()
	var p printer
	if opt.Summary {
		p = &summaryPrinter{w: out, json: opt.JSON}
	} else {
		p = &jsonPrinter{enc: json.NewEncoder(out), data: opt.Data}
	}
	var err error
	if isArchive(br) {
		err = catArchive(br, p)
	} else {
		err = catStream(br, p)
	}
	if err != nil {
		return err
	}
	p.done()
	return out.Flush()
}

// isArchive tells an archive (gzip, zstd, tar, or an lz4 frame around a
// tar) from a stream (its magic, or an lz4 frame around it) by the first
// bytes.
func isArchive(br *bufio.Reader) bool {
	head, _ := br.Peek(format.SniffLen)
	switch format.Sniff(head) {
	case format.InputGzip, format.InputZstd, format.InputTar:
		return true
	case format.InputLZ4:
		// both streams and archives may be lz4 frames: a stream's begins
		// with the stream magic once decoded, which lz4 keeps in the clear
		// only if compressed poorly; ask the stream reader instead.
		return !bytes.Contains(head, []byte(format.Magic))
	}
	return false
}

type printer interface {
	header(kind string, h any)
	record(r format.Record, content int64, data []byte)
	trailer(t any)
	done()
}

// shownHeader is a stream header as ibt-cat shows it: the signatures' seed
// is a secret (whoever knows it can craft block collisions), and output
// pasted into a bug report must not give it away.
func shownHeader(h format.Header) map[string]any {
	m := snakeJSON(h)
	if len(h.Seed) > 0 {
		m["seed"] = fmt.Sprintf("(secret, %d bytes, not shown)", len(h.Seed))
	}
	return m
}

// snakeJSON is a header or trailer struct as ibt-cat prints it: keyed by the
// snake_case names the stream format gives its fields (their msgpack
// tags), as the records are, with byte strings (hashes) in hex.
func snakeJSON(v any) map[string]any {
	rv := reflect.ValueOf(v)
	rt := rv.Type()
	m := map[string]any{}
	for i := range rt.NumField() {
		f := rt.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("msgpack"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fv := rv.Field(i)
		if strings.Contains(opts, "omitempty") && fv.IsZero() {
			continue
		}
		switch {
		case fv.Kind() == reflect.Struct:
			m[name] = snakeJSON(fv.Interface())
		case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.Uint8:
			m[name] = hex.EncodeToString(fv.Bytes())
		default:
			m[name] = fv.Interface()
		}
	}
	return m
}

func catStream(r io.Reader, p printer) error {
	sr, err := format.NewReader(r)
	if err != nil {
		return err
	}
	p.header(string(sr.Header().Kind), shownHeader(sr.Header()))
	for {
		rec, err := sr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		p.record(rec, 0, nil)
	}
	p.trailer(sr.Trailer())
	return nil
}

func catArchive(r io.Reader, p printer) error {
	ar, err := archive.NewReader(r)
	if err != nil {
		return err
	}
	h := ar.Header()
	shown := snakeJSON(h)
	shown["delta"] = shownHeader(h.Delta)
	p.header("archive", shown)
	for {
		ch, err := ar.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		p.record(ch, 0, nil)
		if !ch.HasData() {
			continue
		}
		if !ch.HasDelta() {
			n, err := io.Copy(io.Discard, ar.Content())
			if err != nil {
				return err
			}
			p.record(&format.Literal{}, n, nil)
			continue
		}
		for {
			op, err := ar.NextOp()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			if op.Copy {
				p.record(&format.Copy{Offset: op.Offset, Length: op.Length}, 0, nil)
			} else {
				p.record(&format.Literal{Data: op.Data}, 0, nil)
			}
		}
	}
	p.trailer(ar.Trailer())
	return nil
}

// jsonPrinter writes one JSON object a line.
type jsonPrinter struct {
	enc  *json.Encoder
	data bool
}

func (j *jsonPrinter) header(kind string, h any) {
	j.enc.Encode(map[string]any{"record": "header", "kind": kind, "header": h})
}

func (j *jsonPrinter) trailer(t any) {
	j.enc.Encode(map[string]any{"record": "trailer", "trailer": snakeJSON(t)})
}
func (j *jsonPrinter) done() {}

func (j *jsonPrinter) record(r format.Record, content int64, _ []byte) {
	var m map[string]any
	switch r := r.(type) {
	case *format.Entry:
		m = entryJSON(r)
		m["record"] = "entry"
	case *format.Change:
		m = map[string]any{"record": "change", "op": r.Op.String()}
		AddString(m, "path", r.Path())
		if r.Old != nil {
			m["old"] = entryJSON(r.Old)
		}
		if r.New != nil {
			m["new"] = entryJSON(r.New)
		}
		if r.From != "" {
			AddString(m, "from", r.From)
			m["from_new"] = r.FromNew
			if r.FromSize > 0 {
				m["from_size"] = r.FromSize
			}
		}
	case *format.Copy:
		m = map[string]any{"record": "copy", "offset": r.Offset, "length": r.Length}
	case *format.Literal:
		n := int64(len(r.Data))
		if content > 0 {
			n = content
		}
		m = map[string]any{"record": "literal", "length": n}
		if j.data {
			m["data"] = base64.StdEncoding.EncodeToString(r.Data)
		}
	}
	j.enc.Encode(m)
}

func entryJSON(e *format.Entry) map[string]any {
	m := map[string]any{"type": e.Type.String(), "mode": fmt.Sprintf("%04o", e.Mode), "mtime": e.MTime}
	AddString(m, "path", e.Path)
	if e.Type == format.TypeFile {
		m["size"] = e.Size
	}
	if e.Target != "" {
		AddString(m, "target", e.Target)
	}
	if e.Type.IsDevice() {
		m["rdev"] = map[string]uint32{"major": format.RdevMajor(e.Rdev), "minor": format.RdevMinor(e.Rdev)}
	}
	if e.LinkTo != "" {
		AddString(m, "link_to", e.LinkTo)
	}
	if e.UID != 0 || e.GID != 0 {
		m["uid"], m["gid"] = e.UID, e.GID
	}
	if len(e.Hash) > 0 {
		m["hash"] = hex.EncodeToString(e.Hash)
	}
	if e.BlockSize > 0 {
		m["block_size"] = e.BlockSize
	}
	if len(e.Sig) > 0 {
		m["blocks"] = len(e.Sig) / format.SigEntryLen(e.Size, int(e.BlockSize))
	}
	if e.Skipped {
		m["skipped"] = true // changed while ibt-sign read it: content unknown
	}
	if len(e.Xattrs) > 0 {
		x := map[string]string{}
		for _, a := range e.Xattrs {
			x[a.Name] = base64.StdEncoding.EncodeToString(a.Value)
		}
		m["xattrs_base64"] = x
	}
	return m
}

// AddString sets key to s, adding key_base64 with the exact bytes when s is
// not valid UTF-8 (JSON strings cannot hold such bytes).
func AddString(m map[string]any, key, s string) {
	m[key] = s
	if !utf8.ValidString(s) {
		m[key+"_base64"] = base64.StdEncoding.EncodeToString([]byte(s))
	}
}

// summaryPrinter counts what a stream or archive holds.
type summaryPrinter struct {
	w                       io.Writer
	json                    bool // one JSON object instead of the table
	kind                    string
	entries                 int64
	ops                     map[format.Op]int64
	renamed, renamedBytes   int64
	copied, literal, sizeNw int64
}

func (s *summaryPrinter) header(kind string, _ any) { s.kind, s.ops = kind, map[format.Op]int64{} }
func (s *summaryPrinter) trailer(any)               {}

func (s *summaryPrinter) record(r format.Record, content int64, _ []byte) {
	switch r := r.(type) {
	case *format.Entry:
		s.entries++
		s.sizeNw += r.Size
	case *format.Change:
		s.ops[r.Op]++
		if r.New != nil {
			s.sizeNw += r.New.Size
		}
		if r.From != "" {
			s.renamed++
			s.renamedBytes += r.New.Size
		}
	case *format.Copy:
		s.copied += r.Length
	case *format.Literal:
		s.literal += int64(len(r.Data)) + content
	}
}

func (s *summaryPrinter) done() {
	if s.json {
		s.doneJSON()
		return
	}
	fmt.Fprintf(s.w, "%-10s %s\n", "kind", s.kind)
	if s.kind == string(format.KindIndex) {
		fmt.Fprintf(s.w, "%-10s %d\n%-10s %d bytes\n", "entries", s.entries, "files", s.sizeNw)
		return
	}
	for _, row := range []struct {
		label string
		op    format.Op
	}{{"created", format.OpCreate}, {"updated", format.OpUpdate}, {"deleted", format.OpDelete},
		{"metadata", format.OpMeta}, {"replaced", format.OpReplace}} {
		fmt.Fprintf(s.w, "%-10s %d\n", row.label, s.ops[row.op])
	}
	fmt.Fprintf(s.w, "%-10s %d (created files taken from files the tree has: %d bytes)\n", "renamed", s.renamed, s.renamedBytes)
	if s.kind != string(format.KindDiff) {
		fmt.Fprintf(s.w, "%-10s %d bytes\n%-10s %d bytes\n", "literal", s.literal, "copied", s.copied+s.renamedBytes)
		if t := s.literal + s.copied + s.renamedBytes; t > 0 {
			fmt.Fprintf(s.w, "%-10s %.1f%% of the changed files' bytes travel\n", "ratio", 100*float64(s.literal)/float64(t))
		}
	}
}

// doneJSON prints the counts of the table as one JSON line, with the same
// names.
func (s *summaryPrinter) doneJSON() {
	m := map[string]any{"kind": s.kind}
	if s.kind == string(format.KindIndex) {
		m["entries"], m["file_bytes"] = s.entries, s.sizeNw
	} else {
		m["created"], m["updated"], m["deleted"] = s.ops[format.OpCreate], s.ops[format.OpUpdate], s.ops[format.OpDelete]
		m["metadata"], m["replaced"] = s.ops[format.OpMeta], s.ops[format.OpReplace]
		m["renamed"], m["renamed_bytes"] = s.renamed, s.renamedBytes
		if s.kind != string(format.KindDiff) {
			m["literal_bytes"], m["copied_bytes"] = s.literal, s.copied+s.renamedBytes
		}
	}
	json.NewEncoder(s.w).Encode(m)
}
