package rsync

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"

	"github.com/ibt-tools/ibt/format"
)

// deltaSegment is the length of the part of a new file one DeltaFile worker
// searches and hashes. It is a multiple of every block size, so segments
// split the file hash's blocks cleanly.
const deltaSegment = 16 << 20

// Flow control of DeltaFile: ops leave a worker in batches of at most
// batchData bytes of literal or batchOps ops, and the segments the output
// has not reached yet may hold at most queueBudget bytes of batches between
// them. The segment being written out is never held back, so there is always
// progress.
const (
	batchData   = MaxLiteral
	batchOps    = 4096
	opCost      = 48 // bytes an Op takes in a batch, for the budget
	queueBudget = 8 << 20
	queueDepth  = 4 // batches a segment's channel holds, the one written out included
)

// errStopped ends the workers of a DeltaFile that has already failed.
var errStopped = errors.New("delta stopped")

// DeltaFile is Delta for new content of size bytes that can be read at any
// offset, such as an open file; it also returns the content's file hash (as
// FileHash computes it). A file of more than one segment is cut into
// segments searched and hashed by up to workers goroutines at once. Each
// segment's search starts afresh at its boundary and may run one block into
// the next segment, so a block straddling a boundary still matches; the ops
// are joined in order, trimmed where neighbours overlap. The output depends
// on the content alone, never on workers. Op.Data is only valid during the
// call to emit; an error from emit stops DeltaFile and is returned as is. It
// returns an error wrapping ErrSizeChanged if r holds fewer or more than
// size bytes, possibly after emitting ops. Content that sig does not cover
// (Signature.Covers: a file grown far beyond the signed one) is sent all as
// literal.
func DeltaFile(sig *Signature, r io.ReaderAt, size int64, workers int, emit func(Op) error) (hash []byte, err error) {
	if size < 0 {
		return nil, fmt.Errorf("delta: negative size %d", size)
	}
	if sig != nil && !sig.Covers(size) {
		sig = nil
	}
	if size <= deltaSegment {
		fh := NewFileHash(size)
		sr := &segReader{r: r, ext: size, hashEnd: size, hash: fh}
		if err := Delta(sig, sr, emit); err != nil {
			return nil, err
		}
		if err := sizeCheck(r, sr, size); err != nil {
			return nil, err
		}
		return fh.Sum(), nil
	}
	p := newParallelDelta(sig, r, size, max(1, workers))
	return p.run(emit)
}

// sizeCheck reports a segment read short, or content beyond size.
func sizeCheck(r io.ReaderAt, sr *segReader, size int64) error {
	if sr.err != nil {
		return sr.err
	}
	var probe [1]byte
	switch n, err := r.ReadAt(probe[:], size); {
	case n > 0:
		return fmt.Errorf("delta: more than %d bytes: %w", size, ErrSizeChanged)
	case err != nil && !errors.Is(err, io.EOF):
		return fmt.Errorf("delta: read: %w", err)
	}
	return nil
}

// segReader reads the content from off to ext, hashing the part below
// hashEnd into hash. A read that ends early sets err to ErrSizeChanged and
// looks like the end of the content to Delta.
type segReader struct {
	r        io.ReaderAt
	off, ext int64
	hashEnd  int64
	hash     io.Writer
	err      error
}

func (s *segReader) Read(p []byte) (int, error) {
	if s.off >= s.ext {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), s.ext-s.off)]
	n, err := s.r.ReadAt(p, s.off)
	if h := min(int64(n), s.hashEnd-s.off); h > 0 {
		s.hash.Write(p[:h])
	}
	s.off += int64(n)
	if n < len(p) {
		if err == nil || errors.Is(err, io.EOF) {
			s.err = fmt.Errorf("delta: content ends at %d of %d bytes: %w", s.off, s.ext, ErrSizeChanged)
			return n, io.EOF
		}
		s.err = fmt.Errorf("delta: read: %w", err)
		return n, s.err
	}
	return n, nil
}

// opBatch carries ops from a worker to the output. The Data of its literals
// point into data, which never grows past its capacity, so they stay valid.
type opBatch struct {
	ops  []Op
	data []byte
	cost int
}

// deltaSeg is one segment of a parallel delta on its way to the output.
type deltaSeg struct {
	batches chan *opBatch // closed when the segment is done
	leaves  []byte        // valid once batches is closed
	err     error         // likewise
}

type parallelDelta struct {
	sig     *Signature
	r       io.ReaderAt
	size    int64
	workers int
	bs      int // of the new file
	segs    []deltaSeg
	pool    sync.Pool

	tokens chan struct{} // segments taken and not yet written out
	quit   chan struct{}
	next   atomic.Int64

	mu    sync.Mutex
	cond  *sync.Cond
	head  int // the segment being written out
	used  int // batch bytes queued in segments after head
	stopd bool
}

func newParallelDelta(sig *Signature, r io.ReaderAt, size int64, workers int) *parallelDelta {
	nseg := int((size + deltaSegment - 1) / deltaSegment)
	workers = min(workers, nseg)
	p := &parallelDelta{
		sig: sig, r: r, size: size, workers: workers, bs: format.BlockSize(size),
		segs:   make([]deltaSeg, nseg),
		tokens: make(chan struct{}, 2*workers),
		quit:   make(chan struct{}),
	}
	p.cond = sync.NewCond(&p.mu)
	p.pool.New = func() any {
		return &opBatch{data: make([]byte, 0, batchData)}
	}
	for i := range p.segs {
		p.segs[i].batches = make(chan *opBatch, queueDepth)
	}
	return p
}

// segBounds returns where segment i starts and ends, and how far its search
// reads: one block less a byte past its end, so that every window starting
// in the segment is whole.
func (p *parallelDelta) segBounds(i int) (start, end, ext int64) {
	start = int64(i) * deltaSegment
	end = min(p.size, start+deltaSegment)
	ext = end
	if p.sig != nil && len(p.sig.weak) > 0 {
		ext = min(p.size, end+int64(p.sig.blockSize)-1)
	}
	return start, end, ext
}

func (p *parallelDelta) run(emit func(Op) error) (hash []byte, err error) {
	var wg sync.WaitGroup
	defer func() {
		p.stop()
		wg.Wait()
	}()
	for range p.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.work()
		}()
	}

	leaves := NewLeafPipe(p.size, p.bs, LeafOptions{})
	j := joiner{emit: emit}
	for i := range p.segs {
		p.setHead(i)
		s := &p.segs[i]
		start, end, _ := p.segBounds(i)
		j.startSegment(start, end)
		for b := range s.batches {
			err := j.add(b.ops)
			p.release(b)
			if err != nil {
				return nil, err
			}
		}
		if s.err != nil {
			return nil, s.err
		}
		leaves.Ready(s.leaves)
		s.leaves = nil
		<-p.tokens
	}
	if err := j.flush(); err != nil {
		return nil, err
	}
	var probe [1]byte
	switch n, err := p.r.ReadAt(probe[:], p.size); {
	case n > 0:
		return nil, fmt.Errorf("delta: more than %d bytes: %w", p.size, ErrSizeChanged)
	case err != nil && !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("delta: read: %w", err)
	}
	hash, _, err = leaves.Sum()
	return hash, err
}

// work takes segments in order and searches them until none is left.
func (p *parallelDelta) work() {
	for {
		select {
		case p.tokens <- struct{}{}:
		case <-p.quit:
			return
		}
		i := int(p.next.Add(1) - 1)
		if i >= len(p.segs) {
			return
		}
		s := &p.segs[i]
		s.leaves, s.err = p.segment(i)
		close(s.batches)
		if s.err != nil {
			return
		}
	}
}

// segment searches and hashes segment i, sending its ops in batches.
func (p *parallelDelta) segment(i int) ([]byte, error) {
	start, end, ext := p.segBounds(i)
	lw := &leafWriter{bs: p.bs, leaves: make([]byte, 0, (deltaSegment/p.bs+1)*sha256.Size)}
	sr := &segReader{r: p.r, off: start, ext: ext, hashEnd: end, hash: lw}
	b := p.pool.Get().(*opBatch)
	send := func() error {
		if len(b.ops) == 0 {
			return nil
		}
		b.cost = len(b.data) + opCost*len(b.ops)
		if !p.acquire(i, b.cost) {
			return errStopped
		}
		select {
		case p.segs[i].batches <- b:
		case <-p.quit:
			return errStopped
		}
		b = p.pool.Get().(*opBatch)
		return nil
	}
	err := Delta(p.sig, sr, func(op Op) error {
		if len(b.ops) == batchOps || len(b.data)+len(op.Data) > cap(b.data) {
			if err := send(); err != nil {
				return err
			}
		}
		if op.Kind == OpLiteral {
			at := len(b.data)
			b.data = append(b.data, op.Data...)
			op.Data = b.data[at:len(b.data):len(b.data)]
		}
		b.ops = append(b.ops, op)
		return nil
	})
	if err == nil {
		err = send()
	}
	if sr.err != nil {
		return nil, sr.err
	}
	if err != nil {
		return nil, err
	}
	lw.flush()
	return lw.leaves, nil
}

// acquire waits until segment i may queue a batch of cost bytes; it reports
// false once the delta has stopped.
func (p *parallelDelta) acquire(i, cost int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for !p.stopd && i != p.head && p.used+cost > queueBudget {
		p.cond.Wait()
	}
	p.used += cost
	return !p.stopd
}

// release returns a written batch to the pool and its cost to the budget.
func (p *parallelDelta) release(b *opBatch) {
	p.mu.Lock()
	p.used -= b.cost
	p.mu.Unlock()
	p.cond.Broadcast()
	b.ops, b.data, b.cost = b.ops[:0], b.data[:0], 0
	p.pool.Put(b)
}

func (p *parallelDelta) setHead(i int) {
	p.mu.Lock()
	p.head = i
	p.mu.Unlock()
	p.cond.Broadcast()
}

func (p *parallelDelta) stop() {
	p.mu.Lock()
	if !p.stopd {
		p.stopd = true
		close(p.quit)
	}
	p.mu.Unlock()
	p.cond.Broadcast()
}

// joiner writes the ops of consecutive segments as one delta. A segment's
// ops cover its content from its start to somewhat past its end; the joiner
// drops what the previous segment already covered, cuts a literal at the
// segment's end (the next segment covers what follows), and keeps a copy
// that crosses it whole. Adjacent copies are merged, as Delta does.
type joiner struct {
	emit    func(Op) error
	pos     int64 // content written so far
	p, end  int64 // content position of the segment's next op, and its end
	copyOff int64 // the pending copy, merged with adjacent ones
	copyLen int64
}

func (j *joiner) startSegment(start, end int64) {
	j.p, j.end = start, end
}

func (j *joiner) add(ops []Op) error {
	for _, op := range ops {
		opStart := j.p
		j.p += op.Length
		if opStart >= j.end || j.p <= j.pos {
			continue
		}
		if x := j.pos - opStart; x > 0 {
			op.Length -= x
			if op.Kind == OpCopy {
				op.Offset += x
			} else {
				op.Data = op.Data[x:]
			}
		}
		if over := j.pos + op.Length - j.end; op.Kind == OpLiteral && over > 0 {
			op.Length -= over
			op.Data = op.Data[:op.Length]
		}
		j.pos += op.Length
		if err := j.put(op); err != nil {
			return err
		}
	}
	return nil
}

func (j *joiner) put(op Op) error {
	if op.Kind == OpCopy {
		if j.copyLen > 0 && j.copyOff+j.copyLen == op.Offset && j.copyLen <= math.MaxInt64-op.Length {
			j.copyLen += op.Length
			return nil
		}
		if err := j.flush(); err != nil {
			return err
		}
		j.copyOff, j.copyLen = op.Offset, op.Length
		return nil
	}
	if err := j.flush(); err != nil {
		return err
	}
	return j.emit(op)
}

func (j *joiner) flush() error {
	if j.copyLen == 0 {
		return nil
	}
	op := Op{Kind: OpCopy, Offset: j.copyOff, Length: j.copyLen}
	j.copyLen = 0
	return j.emit(op)
}

// leafWriter collects the SHA-256 leaves of content written in any split,
// starting on a block boundary.
type leafWriter struct {
	bs     int
	block  []byte
	leaves []byte
}

func (l *leafWriter) Write(p []byte) (int, error) {
	n := len(p)
	if len(l.block) > 0 {
		k := min(l.bs-len(l.block), len(p))
		l.block = append(l.block, p[:k]...)
		p = p[k:]
		if len(l.block) < l.bs {
			return n, nil
		}
		l.add(l.block)
		l.block = l.block[:0]
	}
	for len(p) >= l.bs {
		l.add(p[:l.bs])
		p = p[l.bs:]
	}
	if len(p) > 0 {
		if l.block == nil {
			l.block = make([]byte, 0, l.bs)
		}
		l.block = append(l.block, p...)
	}
	return n, nil
}

func (l *leafWriter) add(block []byte) {
	leaf := sha256.Sum256(block)
	l.leaves = append(l.leaves, leaf[:]...)
}

// flush adds the short last block, if any.
func (l *leafWriter) flush() {
	if len(l.block) > 0 {
		l.add(l.block)
		l.block = l.block[:0]
	}
}
