package tree

import (
	"runtime"
	"sync"
)

// The lstat, readlink and extended-attribute calls of a walk cost more
// than everything else it does, and a single goroutine making them leaves
// the other cores idle on a tree of small files. So the walk reads the
// entries of a directory in runs of up to runLen: their calls are spread
// over a few goroutines, and the run is then emitted in order on the
// walk's own goroutine, where every callback stays. A run is short enough
// to keep memory bounded and long enough to pay for the hand-offs.
const (
	runLen = 128
	// minShare is the fewest entries worth handing to another goroutine.
	minShare = 16
	// maxReaders bounds the goroutines reading a run: one directory's
	// entries share its locks in the kernel, so more stop paying.
	maxReaders = 4
)

// readers is how many goroutines read a run.
func readers() int { return max(1, min(runtime.GOMAXPROCS(0), maxReaders)) }

// pending is an entry of a run between its preparation and its emission.
type pending struct {
	it     item
	n      *Node
	r      result
	xattrs bool // its extended attributes are to be read
}

// entryReader is what a goroutine reading entries needs of its own.
type entryReader struct {
	buf    []byte       // symlink targets
	xattrs *xattrReader // nil unless Options.Xattrs
}

// readRun reads and emits run, consecutive items of l none of which is a
// descent.
func (w *walker) readRun(d dirHandle, l *listing, run []item, depth, plen int) error {
	w.run = w.run[:0]
	for _, it := range run {
		if n := w.prepare(l, it, depth, plen); n != nil {
			w.run = append(w.run, pending{it: it, n: n})
		}
	}
	w.spread(func(er *entryReader, p *pending) { p.r = read(d, p.n, plen, &er.buf) })
	if w.opt.Xattrs {
		some := false
		for i := range w.run {
			p := &w.run[i]
			if p.r.err != nil || p.r.kind == kindOther {
				continue
			}
			if w.opt.KnownXattrs != nil {
				if x, ok := w.opt.KnownXattrs(p.n); ok {
					p.n.Xattrs = x
					continue
				}
			}
			p.xattrs, some = true, true
		}
		if some {
			w.spread(func(er *entryReader, p *pending) {
				if !p.xattrs {
					return
				}
				if p.n.Xattrs, p.r.err = er.xattrs.read(d, p.n.Path[plen:], w.root, p.n.Path); p.r.err != nil {
					p.r.op = "read extended attributes of"
				}
			})
		}
	}
	for i := range w.run {
		p := &w.run[i]
		if err := w.finish(l, p.it, p.n, p.r); err != nil {
			return err
		}
	}
	return nil
}

// spread calls f on every pending entry of the run, sharing them out in
// contiguous parts between the readers.
func (w *walker) spread(f func(*entryReader, *pending)) {
	parts := min(len(w.readers), len(w.run)/minShare)
	if parts <= 1 {
		for i := range w.run {
			f(w.readers[0], &w.run[i])
		}
		return
	}
	var wg sync.WaitGroup
	for k := 1; k < parts; k++ {
		part := w.run[k*len(w.run)/parts : (k+1)*len(w.run)/parts]
		er := w.readers[k]
		wg.Go(func() {
			for i := range part {
				f(er, &part[i])
			}
		})
	}
	for i := range w.run[:len(w.run)/parts] {
		f(w.readers[0], &w.run[i])
	}
	wg.Wait()
}
