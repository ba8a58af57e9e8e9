package rsync

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ibt-tools/ibt/format"
)

// LeafRunSize is the length of the runs LeafPipe.ReadAll reads: large
// enough that a run's overhead vanishes, small enough that the runs of a
// file of a few of them keep several cores busy. It is a multiple of every
// block size (format.MaxBlockSize divides it).
const LeafRunSize = 4 << 20

// readPool recycles the signChunk buffers runs read into, a piece of the
// run at a time: hashed while still in the cache.
var readPool = sync.Pool{New: func() any { b := make([]byte, signChunk); return &b }}

// LeafPipe is the one producer of the leaves of a "sha256-blocks" file hash
// (format.FileHasher) and, when it signs, of the signature entries of the
// same blocks (see Sign), each block hashed once for both. The content comes
// in runs of whole blocks, in order: given here and now (Hash), handed to
// another goroutine (Go), read from an io.ReaderAt on another goroutine
// (ReadAt, ReadAll), or as leaves already known (Ready). Runs on other
// goroutines are hashed several at once; their leaves go into the hash in
// order, on the caller's goroutine. A LeafPipe is used by one goroutine.
type LeafPipe struct {
	size      int64
	bs        int
	fh        *format.FileHasher
	opt       LeafOptions
	strongLen int
	ss        *format.StrongSummer // the caller's, for Hash
	sig       []byte
	scratch   []byte // the leaves of a run hashed by Hash
	next      int64  // the offset of the next run
	queue     []*leafRun
	inWork    int   // runs in queue on other goroutines
	bytes     int64 // the bytes they hold
	err       error
	zero      struct {
		once  sync.Once
		leaf  [sha256.Size]byte
		entry []byte
	}
}

// LeafOptions are the choices of a LeafPipe.
type LeafOptions struct {
	// Key, if not nil, has every block signed as well: Sum returns the
	// signature (see Sign). Ready may not be used then.
	Key *format.StrongKey
	// Runs is how many runs may be in work on other goroutines at once;
	// 0 does all the work on the caller's goroutine. Bytes, if not 0, also
	// bounds the bytes of the runs in work (one run is always allowed).
	Runs  int
	Bytes int64
	// OnLeaves, if not nil, takes the leaves of each run in order, with
	// the offset of the run's first block, as they go into the hash. They
	// are only valid during the call.
	OnLeaves func(off int64, leaves []byte)
}

// leafRun is a run of blocks on its way into the hash: being hashed on
// another goroutine (done not nil), or with its leaves ready.
type leafRun struct {
	off    int64
	n      int64  // bytes of content
	data   []byte // kept for Go until collected
	leaves []byte
	sig    []byte
	err    error
	done   chan struct{} // closed once hashed; nil for leaves given ready
	after  func() error  // called once collected, if not nil
}

// NewLeafPipe starts the hash of a file of size bytes in blocks of
// blockSize bytes (format.BlockSize(size) in every stream).
func NewLeafPipe(size int64, blockSize int, opt LeafOptions) *LeafPipe {
	p := &LeafPipe{size: size, bs: blockSize, fh: format.NewFileHasher(size, blockSize), opt: opt}
	if opt.Key != nil {
		p.strongLen = format.StrongLen(size, blockSize)
		p.ss = opt.Key.Summer()
		// Capped: size is only a claim until the content is read.
		p.sig = make([]byte, 0, min(format.SigLen(size, blockSize), signChunk))
	}
	return p
}

// Hash hashes data, the next whole blocks of the file (the last one may be
// short if it ends the file), on the caller's goroutine. data is not kept.
func (p *LeafPipe) Hash(data []byte) {
	off := p.next
	p.next += int64(len(data))
	if len(p.queue) == 0 {
		p.scratch, p.sig = p.hashBlocks(data, p.scratch[:0], p.sig, p.ss)
		p.add(off, p.scratch, nil)
		return
	}
	r := &leafRun{off: off, n: int64(len(data))}
	r.leaves, r.sig = p.hashBlocks(data, nil, nil, p.ss)
	p.queue = append(p.queue, r)
}

// Go has data, the next whole blocks of the file, hashed on another
// goroutine (on this one if Runs is 0). The pipe keeps data until the run
// is collected; after, if not nil, is then called on the caller's
// goroutine, and an error from it is the pipe's. Go returns the pipe's
// first error so far.
func (p *LeafPipe) Go(data []byte, after func() error) error {
	r := &leafRun{off: p.next, n: int64(len(data)), data: data, after: after}
	p.next += r.n
	p.start(r, func(r *leafRun, ss *format.StrongSummer) {
		r.leaves, r.sig = p.hashBlocks(r.data, nil, nil, ss)
	})
	return p.err
}

// ReadAt has the next n bytes of the file read from src, at the same
// offset, and hashed on another goroutine (on this one if Runs is 0).
// Content that ends early fails with an error wrapping ErrSizeChanged.
// ReadAt returns the pipe's first error so far.
func (p *LeafPipe) ReadAt(src io.ReaderAt, n int64) error {
	r := &leafRun{off: p.next, n: n}
	p.next += n
	p.start(r, func(r *leafRun, ss *format.StrongSummer) { p.read(r, src, ss) })
	return p.err
}

// ReadAll reads the rest of the file, up to its size, from src with
// ReadAt, in runs of LeafRunSize bytes, and stops at the first error.
func (p *LeafPipe) ReadAll(src io.ReaderAt) error {
	run := int64(max(LeafRunSize/p.bs*p.bs, p.bs))
	for p.next < p.size && p.err == nil {
		p.ReadAt(src, min(run, p.size-p.next))
	}
	return p.err
}

// Ready adds leaves already known, those of the next blocks of the file,
// after the runs under way. Ready copies them if it must keep them.
func (p *LeafPipe) Ready(leaves []byte) {
	off := p.next
	p.next = min(p.size, p.next+int64(len(leaves)/sha256.Size)*int64(p.bs))
	if len(p.queue) == 0 {
		p.add(off, leaves, nil)
		return
	}
	if last := p.queue[len(p.queue)-1]; last.done == nil && last.after == nil {
		last.leaves = append(last.leaves, leaves...)
		return
	}
	p.queue = append(p.queue, &leafRun{off: off, leaves: append([]byte(nil), leaves...)})
}

// Sum waits for every run and returns the file hash and, when signing,
// the signature; or the first error of a run. It is the hash of the file
// only when the runs covered exactly size bytes.
func (p *LeafPipe) Sum() (hash, sig []byte, err error) {
	p.Close()
	if p.err != nil {
		return nil, nil, p.err
	}
	return p.fh.Sum(), p.sig, nil
}

// sumWith returns the file hash of the leaves added and then that of
// block, a short last block; the pipe may go on.
func (p *LeafPipe) sumWith(block []byte) []byte {
	p.Close()
	leaf := sha256.Sum256(block)
	return p.fh.SumWith(leaf[:])
}

// Close waits for every run under way, as Sum does, and collects it.
func (p *LeafPipe) Close() {
	for len(p.queue) > 0 {
		p.collect()
	}
}

// start queues r and has work do it on another goroutine, then waits
// for the oldest runs while too many are in work.
func (p *LeafPipe) start(r *leafRun, work func(*leafRun, *format.StrongSummer)) {
	if p.opt.Runs <= 0 {
		work(r, p.ss)
		p.queue = append(p.queue, r)
		p.Close()
		return
	}
	r.done = make(chan struct{})
	p.queue = append(p.queue, r)
	p.inWork++
	p.bytes += r.n
	go func() {
		defer close(r.done)
		var ss *format.StrongSummer
		if p.opt.Key != nil {
			ss = p.opt.Key.Summer()
		}
		work(r, ss)
	}()
	for p.inWork >= p.opt.Runs || (p.opt.Bytes > 0 && p.bytes > p.opt.Bytes && p.inWork > 1) {
		p.collect()
	}
}

// collect adds the oldest run's leaves to the hash, waiting for them.
func (p *LeafPipe) collect() {
	r := p.queue[0]
	p.queue[0] = nil
	p.queue = p.queue[1:]
	if r.done != nil {
		<-r.done
		p.inWork--
		p.bytes -= r.n
	}
	if r.err != nil && p.err == nil {
		p.err = r.err
	}
	p.add(r.off, r.leaves, r.sig)
	r.data = nil
	if r.after != nil {
		if err := r.after(); err != nil && p.err == nil {
			p.err = err
		}
	}
}

// add puts leaves, and their signature entries, into the hash, in order.
func (p *LeafPipe) add(off int64, leaves, sig []byte) {
	if p.err != nil {
		return
	}
	p.fh.AddLeaves(leaves)
	if p.opt.Key != nil && sig != nil {
		p.sig = append(p.sig, sig...)
	}
	if p.opt.OnLeaves != nil {
		p.opt.OnLeaves(off, leaves)
	}
}

// hashBlocks appends the leaves of data's blocks to leaves and, if ss is
// not nil, their signature entries to sig. This is the one loop that
// hashes blocks.
func (p *LeafPipe) hashBlocks(data, leaves, sig []byte, ss *format.StrongSummer) ([]byte, []byte) {
	if leaves == nil {
		leaves = make([]byte, 0, (len(data)+p.bs-1)/p.bs*sha256.Size)
	}
	if ss != nil && sig == nil {
		sig = make([]byte, 0, (len(data)+p.bs-1)/p.bs*(4+p.strongLen))
	}
	for len(data) > 0 {
		block := data[:min(p.bs, len(data))]
		data = data[len(block):]
		leaf := sha256.Sum256(block)
		leaves = append(leaves, leaf[:]...)
		if ss != nil {
			sig = binary.BigEndian.AppendUint32(sig, WeakSum(block))
			sig = append(sig, ss.Sum(&leaf)[:p.strongLen]...)
		}
	}
	return leaves, sig
}

// read reads run r from src and hashes it, a piece of about signChunk
// bytes at a time. The whole blocks of a hole of a DataFinder, the file's
// last (maybe short) block excepted, are hashed without being read: a hole
// reads as zeros.
func (p *LeafPipe) read(r *leafRun, src io.ReaderAt, ss *format.StrongSummer) {
	bs := int64(p.bs)
	var buf []byte
	if piece := max(signChunk/bs*bs, bs); piece == signChunk && r.n >= signChunk/2 {
		b := readPool.Get().(*[]byte)
		defer readPool.Put(b)
		buf = *b
	} else {
		buf = make([]byte, min(piece, r.n))
	}
	nblocks := (r.n + bs - 1) / bs
	r.leaves = make([]byte, 0, nblocks*sha256.Size)
	if ss != nil {
		r.sig = make([]byte, 0, nblocks*int64(4+p.strongLen))
	}
	df, sparse := src.(DataFinder)
	end := r.off + r.n
	for pos := r.off; pos < end; {
		if sparse {
			data, err := df.NextData(pos)
			if err != nil {
				r.err = &findDataError{err}
				return
			}
			holeEnd := min(data, end, p.size-p.size%bs)
			if blocks := (holeEnd - pos) / bs; blocks > 0 {
				leaf, entry := p.zeroBlock()
				for ; blocks > 0; blocks-- {
					r.leaves = append(r.leaves, leaf[:]...)
					if ss != nil {
						r.sig = append(r.sig, entry...)
					}
					pos += bs
				}
				continue
			}
		}
		piece := buf[:min(int64(len(buf)), end-pos)]
		k, err := src.ReadAt(piece, pos)
		if k < len(piece) {
			if err == nil || errors.Is(err, io.EOF) {
				err = fmt.Errorf("got %d of %d bytes: %w", pos+int64(k), p.size, ErrSizeChanged)
			}
			r.err = err
			return
		}
		r.leaves, r.sig = p.hashBlocks(piece, r.leaves, r.sig, ss)
		pos += int64(k)
	}
}

// zeroBlock returns the leaf and signature entry of a block of zeros.
func (p *LeafPipe) zeroBlock() ([sha256.Size]byte, []byte) {
	p.zero.once.Do(func() {
		var zs *format.StrongSummer
		if p.opt.Key != nil {
			zs = p.opt.Key.Summer()
		}
		p.zero.leaf, p.zero.entry = zeroBlock(p.bs, p.strongLen, zs)
	})
	return p.zero.leaf, p.zero.entry
}

// findDataError is a DataFinder's failure to find the data.
type findDataError struct{ err error }

func (e *findDataError) Error() string { return "find data: " + e.err.Error() }
func (e *findDataError) Unwrap() error { return e.err }
