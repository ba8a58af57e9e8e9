package rsync

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"

	"github.com/ibt-tools/ibt/format"
)

// signSegment is the length of the part of a file one SignFile worker hashes
// at a time: large enough that the per-segment overhead vanishes, small
// enough that two workers finish a file of a few segments together. It is a
// multiple of every block size.
const signSegment = 8 << 20

// SignFile is Sign for content that can be read at any offset, such as an
// open file. A file of more than one segment is cut into segments of whole
// blocks hashed by up to workers goroutines at once, each writing its part of
// the signature; the leaves go into the file hash in order. The result is
// byte for byte that of Sign. It holds at most 2*workers segments' leaves and
// one read buffer per worker besides the signature. It returns an error
// wrapping ErrSizeChanged if r holds fewer or more than size bytes.
func SignFile(r io.ReaderAt, size int64, workers int, key *format.StrongKey) (hash, sig []byte, err error) {
	if size < 0 {
		return nil, nil, fmt.Errorf("sign: negative size %d", size)
	}
	if format.Signed(size) && key == nil {
		return nil, nil, errNoKey
	}
	nseg := int((size + signSegment - 1) / signSegment)
	workers = max(1, min(workers, nseg))
	if workers == 1 {
		// One goroutine: the streaming path, which also probes past size.
		return Sign(io.NewSectionReader(r, 0, math.MaxInt64), size, key)
	}
	return signParallel(r, size, nseg, workers, key)
}

// signSeg is one segment of signParallel on its way to the file hash.
type signSeg struct {
	leaves []byte
	err    error
	done   chan struct{}
}

func signParallel(r io.ReaderAt, size int64, nseg, workers int, key *format.StrongKey) (hash, sig []byte, err error) {
	bs := format.BlockSize(size)
	if format.Signed(size) {
		sig = make([]byte, format.SigLen(size, bs))
	}
	fh := newFileHash(size, bs)
	segs := make([]signSeg, nseg)
	for i := range segs {
		segs[i].done = make(chan struct{})
	}
	// A worker takes a token before a segment and the hash gives it back
	// once the segment's leaves are in: memory stays bounded when a worker
	// lags, and segments are taken in order, so the oldest is always in work.
	tokens := make(chan struct{}, 2*workers)
	quit := make(chan struct{})
	var next atomic.Int64
	var wg sync.WaitGroup
	defer func() {
		close(quit)
		wg.Wait()
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, bs*max(1, signChunk/bs))
			var ss *format.StrongSummer
			if sig != nil {
				ss = key.Summer()
			}
			for {
				select {
				case tokens <- struct{}{}:
				case <-quit:
					return
				}
				select {
				case <-quit:
					return
				default:
				}
				i := next.Add(1) - 1
				if i >= int64(nseg) {
					return
				}
				s := &segs[i]
				s.leaves, s.err = signSegmentAt(r, size, i*signSegment, bs, buf, sig, ss)
				close(s.done)
			}
		}()
	}
	for i := range segs {
		s := &segs[i]
		<-s.done
		if s.err != nil {
			return nil, nil, s.err
		}
		fh.leaves.AddLeaves(s.leaves)
		s.leaves = nil
		<-tokens
	}
	var probe [1]byte
	switch n, err := r.ReadAt(probe[:], size); {
	case n > 0:
		return nil, nil, fmt.Errorf("sign: more than %d bytes: %w", size, ErrSizeChanged)
	case err != nil && !errors.Is(err, io.EOF):
		return nil, nil, fmt.Errorf("sign: read: %w", err)
	}
	fh.written = size
	return fh.leaves.Sum(), sig, nil
}

// signSegmentAt hashes the blocks of the segment at off and returns their
// leaves; their signature entries, with strong sums from ss, go in place
// into sig (nil when the file is not signed, and ss then too).
func signSegmentAt(r io.ReaderAt, size, off int64, bs int, buf, sig []byte, ss *format.StrongSummer) ([]byte, error) {
	leaves := make([]byte, 0, (signSegment/bs+1)*sha256.Size)
	end := min(size, off+signSegment)
	df, sparse := r.(DataFinder)
	strongLen := format.StrongLen(size, bs)
	entryLen := int64(4 + strongLen)
	var zeroLeaf [sha256.Size]byte
	var zeroEntry []byte
	haveZero := false
	for pos := off; pos < end; {
		if sparse {
			// whole blocks of a hole, the file's last (maybe short) block
			// excepted, are hashed without being read
			data, err := df.NextData(pos)
			if err != nil {
				return leaves, fmt.Errorf("sign: find data: %w", err)
			}
			holeEnd := min(data, end, size-size%int64(bs))
			if blocks := (holeEnd - pos) / int64(bs); blocks > 0 {
				if !haveZero {
					zeroLeaf, zeroEntry = zeroBlock(bs, strongLen, ss)
					haveZero = true
				}
				for blk := pos / int64(bs); blocks > 0; blk, blocks = blk+1, blocks-1 {
					leaves = append(leaves, zeroLeaf[:]...)
					if sig != nil {
						copy(sig[blk*entryLen:(blk+1)*entryLen], zeroEntry)
					}
					pos += int64(bs)
				}
				continue
			}
		}
		want := int(min(int64(len(buf)), end-pos))
		n, err := r.ReadAt(buf[:want], pos)
		if n < want {
			if err == nil || errors.Is(err, io.EOF) {
				return leaves, fmt.Errorf("sign: got %d of %d bytes: %w", pos+int64(n), size, ErrSizeChanged)
			}
			return leaves, fmt.Errorf("sign: read: %w", err)
		}
		blk := pos / int64(bs)
		for p := buf[:n]; len(p) > 0; blk++ {
			block := p[:min(bs, len(p))]
			p = p[len(block):]
			leaf := sha256.Sum256(block)
			leaves = append(leaves, leaf[:]...)
			if sig != nil {
				e := sig[blk*entryLen : (blk+1)*entryLen]
				binary.BigEndian.PutUint32(e, WeakSum(block))
				copy(e[4:], ss.Sum(&leaf)[:strongLen])
			}
		}
		pos += int64(n)
	}
	return leaves, nil
}
