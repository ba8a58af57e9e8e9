package archive

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/ibt-tools/ibt/format"
	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/klauspost/pgzip"
	"github.com/pierrec/lz4/v4"
)

// Codec names the compression of the tar stream.
type Codec string

const (
	Gzip Codec = "gzip" // the default
	LZ4  Codec = "lz4"  // LZ4 frames: faster, larger
	Zstd Codec = "zstd" // a Zstandard frame: smaller and faster than gzip, read several times faster
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

// Zstd is written by klauspost/compress/zstd as independent frames of
// zstdFrameSize bytes of input, each with a content checksum, encoded on
// GOMAXPROCS goroutines at once (zstdMaxJobs at most) and written in order (zstdFrames), as
// zstd -T0 splits its input. One frame at a time used one core and a half:
// the encoder finds the matches of a block on one goroutine while the one
// before is entropy coded. On the 256 MiB db file, two cores: ibt-pack
// 1.0-1.3 s against 1.4-1.5 s, 175,232,739 bytes against 175,120,108 (zstd
// -3 -T0: 175,266,408); 4 MiB frames made 175,348,529, larger than zstd's.
// The price is memory: a frame being filled and two encoding, and their
// output, 58 MiB RSS against 18. The archive is the same for every
// GOMAXPROCS. (klauspost's own WithConcurrentBlocks took 0.82 s against
// 0.27 s on the 64 MiB file, in 117 MiB RSS against 11 MiB.)
//
// --level takes the zstd command's levels, 1..22, and maps them to the
// four the encoder has: 1-2 fastest (about zstd -1), 3-5 its default
// (about zstd -3, and the default here), 6-9 better (about zstd -7), 10-22
// best (about zstd -11). Up to level 5 the window is 2 MiB, zstd -3's,
// instead of the encoder's 4 or 8 MiB: on the db file it was as fast, the
// archive no larger, in half the memory, and a reader needs no more.
//
// A reader decodes one block at a time (no goroutine is left behind when a
// caller stops reading) and refuses a window above zstdMaxWindow: the
// window is what a frame makes the decoder allocate, and an archive is
// untrusted. ibt-pack's windows are 8 MiB at most, as are those of zstd
// -19; only zstd --long or --ultra go beyond.
const (
	zstdDefaultLevel = 3
	zstdFastWindow   = 2 << 20
	zstdMaxWindow    = 32 << 20
	zstdFrameSize    = 8 << 20
	// zstdMaxJobs bounds the frames encoded at once: each holds some 16 MiB
	// (its input and its output), so memory stays bounded on many cores.
	zstdMaxJobs = 4
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
	case Zstd:
		if level == 0 {
			level = zstdDefaultLevel
		}
		if level < 1 || level > 22 {
			return nil, fmt.Errorf("zstd level %d out of range 1..22", level)
		}
		jobs := min(runtime.GOMAXPROCS(0), zstdMaxJobs)
		opts := []zstd.EOption{
			zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)),
			zstd.WithEncoderConcurrency(jobs),
			zstd.WithEncoderCRC(true),
			zstd.WithZeroFrames(true), // an empty input is still a frame
		}
		if level <= 5 {
			opts = append(opts, zstd.WithWindowSize(zstdFastWindow))
		}
		enc, err := zstd.NewWriter(nil, opts...)
		if err != nil {
			return nil, fmt.Errorf("zstd level %d: %w", level, err)
		}
		return newZstdFrames(w, enc, zstdFrameSize, jobs), nil
	case None:
		if level != 0 {
			return nil, fmt.Errorf("codec %q takes no level", c)
		}
		return &bufferedWriter{bufio.NewWriterSize(w, 64<<10)}, nil
	}
	return nil, fmt.Errorf("unknown codec %q (want gzip, lz4, zstd or none)", string(c))
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
	for _, m := range []struct{ codec, magic string }{{"lz4", "\x04\x22\x4d\x18"}, {"zstd", "\x28\xb5\x2f\xfd"}} {
		// two bytes or three of the four: the start of a cut archive
		if len(head) >= 2 && len(head) < len(m.magic) && string(head) == m.magic[:len(head)] {
			return "", fmt.Errorf("%w: it ends inside the %s magic number", ErrTruncated, m.codec)
		}
	}
	switch format.Sniff(head) {
	case format.InputEmpty:
		return "", notArchive("the input is empty", "")
	case format.InputGzip:
		return Gzip, nil
	case format.InputLZ4:
		return LZ4, nil
	case format.InputZstd:
		return Zstd, nil
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
	case Zstd:
		z, err := zstd.NewReader(br,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(zstdMaxWindow),
			zstd.WithDecoderMaxMemory(zstdMaxWindow))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zstdReader{z}, nil
	case None:
		return br, nil
	}
	return nil, fmt.Errorf("unknown codec %q", string(c))
}

// zstdReader names the codec in the decoder's errors, which gzip's and
// lz4's do themselves.
type zstdReader struct{ d *zstd.Decoder }

func (z zstdReader) Read(p []byte) (int, error) {
	n, err := z.d.Read(p)
	switch {
	case err == nil || err == io.EOF:
	case errors.Is(err, zstd.ErrWindowSizeExceeded), errors.Is(err, zstd.ErrDecoderSizeExceeded):
		err = fmt.Errorf("zstd: a window above %d MiB, the most ibt accepts: %w", zstdMaxWindow>>20, err)
	default:
		err = fmt.Errorf("zstd: %w", err)
	}
	return n, err
}
