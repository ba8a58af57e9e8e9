package archive

import (
	"bufio"
	"fmt"
	"io"
	"runtime"

	"github.com/ibt-tools/ibt/format"
	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/pgzip"
	"github.com/pierrec/lz4/v4"
)

// Codec names the compression of the tar stream.
type Codec string

const (
	Gzip Codec = "gzip" // the default
	LZ4  Codec = "lz4"  // LZ4 frames: faster, larger
	None Codec = "none" // the plain tar stream
)

// Gzip is written by pgzip in parallel 1 MiB blocks at klauspost's level 5,
// which keeps a full backup several times faster than tar czf while staying
// within a few percent of its size.
// Measurements: BENCHMARKS.md, "Measurements behind design choices".
const (
	gzipDefaultLevel = 5
	gzipBlockSize    = 1 << 20 // pgzip's block: small enough to keep both cores busy
)

// compressor wraps w in the codec's writer. The returned Close flushes the
// codec but does not close w.
func (c Codec) compressor(w io.Writer, level int) (io.WriteCloser, error) {
	switch c {
	case Gzip:
		if level == 0 {
			level = gzipDefaultLevel
		}
		if level < pgzip.HuffmanOnly || level > pgzip.BestCompression {
			return nil, fmt.Errorf("gzip level %d out of range %d..%d", level, pgzip.HuffmanOnly, pgzip.BestCompression)
		}
		z, err := pgzip.NewWriterLevel(w, level)
		if err != nil {
			return nil, fmt.Errorf("gzip level %d: %w", level, err)
		}
		if err := z.SetConcurrency(gzipBlockSize, 2*runtime.GOMAXPROCS(0)); err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return z, nil
	case LZ4:
		opts := []lz4.Option{lz4.ConcurrencyOption(0), lz4.ChecksumOption(true), lz4.BlockSizeOption(lz4.Block1Mb)}
		switch {
		case level == 0:
			opts = append(opts, lz4.CompressionLevelOption(lz4.Fast))
		case level >= 1 && level <= 9:
			opts = append(opts, lz4.CompressionLevelOption(lz4.Level1<<(level-1)))
		default:
			return nil, fmt.Errorf("lz4 level %d out of range 1..9", level)
		}
		z := lz4.NewWriter(w)
		if err := z.Apply(opts...); err != nil {
			return nil, fmt.Errorf("lz4: %w", err)
		}
		return z, nil
	case None:
		if level != 0 {
			return nil, fmt.Errorf("codec %q takes no level", c)
		}
		return &bufferedWriter{bufio.NewWriterSize(w, 64<<10)}, nil
	}
	return nil, fmt.Errorf("unknown codec %q (want gzip, lz4 or none)", string(c))
}

// bufferedWriter batches tar's 512-byte writes for the plain codec.
type bufferedWriter struct{ *bufio.Writer }

func (b *bufferedWriter) Close() error { return b.Flush() }

// sniff tells the codec from the first bytes of an archive.
func sniff(br *bufio.Reader) (Codec, error) {
	head, err := br.Peek(512)
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("failed to read the archive: %w", err)
	}
	switch format.Sniff(head) {
	case format.InputEmpty:
		return "", notArchive("the input is empty", "")
	case format.InputGzip:
		return Gzip, nil
	case format.InputLZ4:
		return LZ4, nil
	case format.InputTar:
		return None, nil
	}
	return "", notArchiveGuess(head)
}

// decompressor returns the decoded tar stream of an archive in codec c.
func (c Codec) decompressor(br *bufio.Reader) (io.Reader, error) {
	switch c {
	case Gzip:
		// Single-threaded: pgzip's read-ahead goroutine would be left
		// blocked whenever a caller stops reading early, and the Reader
		// has no Close to stop it.
		z, err := kgzip.NewReader(br)
		if err != nil {
			return nil, readErr("the gzip header", err)
		}
		return z, nil
	case LZ4:
		return lz4.NewReader(br), nil
	case None:
		return br, nil
	}
	return nil, fmt.Errorf("unknown codec %q", string(c))
}
