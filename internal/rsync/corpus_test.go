package rsync

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

// The corpora of bench/corpus.sh, when built into the module's bench-data.
const corpusDir = "../../bench-data"

// BenchmarkCorpusDB signs the db corpus's old file and takes the delta of
// the new one, reporting sizes. Skipped unless the corpus exists.
func BenchmarkCorpusDB(b *testing.B) {
	old, err1 := os.ReadFile(filepath.Join(corpusDir, "db/old.bin"))
	new, err2 := os.ReadFile(filepath.Join(corpusDir, "db/new.bin"))
	if err1 != nil || err2 != nil {
		b.Skip("no db corpus: run bench/corpus.sh bench-data db")
	}
	bs := format.BlockSize(int64(len(old)))
	b.SetBytes(int64(len(new)))
	var r result
	for b.Loop() {
		r = roundTrip(b, old, new, bs)
	}
	b.ReportMetric(float64(bs), "block-size")
	b.ReportMetric(float64(r.sigBytes), "sig-bytes")
	b.ReportMetric(float64(r.literal), "literal-bytes")
	b.ReportMetric(float64(len(r.ops)), "ops")
}

// BenchmarkCorpusSrc reports the signature bytes of the src corpus's new
// tree (the part of the index BlockSize decides) and the literal bytes of
// the deltas of its changed files. Skipped unless the corpus exists.
func BenchmarkCorpusSrc(b *testing.B) {
	oldDir, newDir := filepath.Join(corpusDir, "src/old"), filepath.Join(corpusDir, "src/new")
	if _, err := os.Stat(newDir); err != nil {
		b.Skip("no src corpus: run bench/corpus.sh bench-data src")
	}
	var files, data, sig, literal, changed, changedBytes int64
	for b.Loop() {
		files, data, sig, literal, changed, changedBytes = 0, 0, 0, 0, 0, 0
		err := filepath.WalkDir(newDir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			new, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			data += int64(len(new))
			if format.Signed(int64(len(new))) {
				sig += format.SigLen(int64(len(new)), format.BlockSize(int64(len(new))))
			}
			rel, _ := filepath.Rel(newDir, path)
			old, err := os.ReadFile(filepath.Join(oldDir, rel))
			if err != nil || bytes.Equal(old, new) {
				return nil
			}
			changed++
			changedBytes += int64(len(new))
			if !format.Signed(int64(len(old))) {
				literal += int64(len(new))
				return nil
			}
			literal += roundTrip(b, old, new, format.BlockSize(int64(len(old)))).literal
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(files), "files")
	b.ReportMetric(float64(data), "data-bytes")
	b.ReportMetric(float64(sig), "sig-bytes")
	b.ReportMetric(float64(changed), "changed-files")
	b.ReportMetric(float64(changedBytes), "changed-bytes")
	b.ReportMetric(float64(literal), "literal-bytes")
}
