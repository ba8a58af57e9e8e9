package rsync

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	"github.com/ibt-tools/ibt/format"
)

// TestLeafPipeWays feeds the same content through every way a LeafPipe
// takes it, with and without signing, and wants Sign's hash and signature
// from each, and OnLeaves to see every leaf once, in order.
func TestLeafPipeWays(t *testing.T) {
	for _, size := range []int{0, 1, 5000, LeafRunSize + 1, 3*LeafRunSize - 4096 + 77} {
		data := bigData[:size]
		bs := format.BlockSize(int64(size))
		signed := format.Signed(int64(size))
		wantHash, wantSig, err := Sign(bytes.NewReader(data), int64(size), testKey)
		if err != nil {
			t.Fatal(err)
		}
		// runs of whole blocks, of several lengths
		var runs [][]byte
		for p, i := data, 0; len(p) > 0; i++ {
			n := min(len(p), bs*(1+i%3)*100)
			runs = append(runs, p[:n])
			p = p[n:]
		}
		ways := map[string]func(p *LeafPipe){
			"Hash": func(p *LeafPipe) {
				for _, r := range runs {
					p.Hash(r)
				}
			},
			"Go": func(p *LeafPipe) {
				for _, r := range runs {
					p.Go(r, nil)
				}
			},
			"ReadAll": func(p *LeafPipe) { p.ReadAll(bytes.NewReader(data)) },
			"mixed": func(p *LeafPipe) {
				for i, r := range runs {
					switch i % 3 {
					case 0:
						p.Hash(r)
					case 1:
						p.Go(r, nil)
					default:
						p.ReadAt(bytes.NewReader(data), int64(len(r)))
					}
				}
			},
		}
		for name, feed := range ways {
			for _, runsAtOnce := range []int{0, 1, 3} {
				t.Run(fmt.Sprintf("%d/%s/runs=%d", size, name, runsAtOnce), func(t *testing.T) {
					opt := LeafOptions{Runs: runsAtOnce}
					if signed {
						opt.Key = testKey
					}
					var seen []byte
					next := int64(0)
					opt.OnLeaves = func(off int64, leaves []byte) {
						if off != next {
							t.Errorf("leaves of offset %d, want %d", off, next)
						}
						next += int64(len(leaves) / sha256.Size * bs)
						seen = append(seen, leaves...)
					}
					p := NewLeafPipe(int64(size), bs, opt)
					feed(p)
					hash, sig, err := p.Sum()
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(hash, wantHash) || !bytes.Equal(sig, wantSig) {
						t.Errorf("hash or signature differ from Sign's")
					}
					if want := format.BlockCount(int64(size), bs) * sha256.Size; int64(len(seen)) != want {
						t.Errorf("OnLeaves saw %d bytes of leaves, want %d", len(seen), want)
					}
				})
			}
		}
	}
}

// TestLeafPipeReady mixes leaves known already with runs read: the hash of
// a base built from the leaves of a copy of it, as internal/patch does.
func TestLeafPipeReady(t *testing.T) {
	data := bigData[:2*LeafRunSize+100]
	bs := format.BlockSize(int64(len(data)))
	want := NewFileHash(int64(len(data)))
	want.Write(data)
	var leaves []byte
	for p := data; len(p) > 0; p = p[min(bs, len(p)):] {
		l := sha256.Sum256(p[:min(bs, len(p))])
		leaves = append(leaves, l[:]...)
	}
	p := NewLeafPipe(int64(len(data)), bs, LeafOptions{Runs: 2, Bytes: 3 * int64(bs)})
	blocks := len(leaves) / sha256.Size
	for i := 0; i < blocks; i++ {
		if i%7 < 3 {
			p.Ready(leaves[i*sha256.Size : (i+1)*sha256.Size])
		} else {
			p.ReadAt(bytes.NewReader(data), int64(min(bs, len(data)-i*bs)))
		}
	}
	got, _, err := p.Sum()
	if err != nil || !bytes.Equal(got, want.Sum()) {
		t.Errorf("Sum = %x, %v; want %x", got, err, want.Sum())
	}
}

func TestLeafPipeErrors(t *testing.T) {
	data := bigData[:3*LeafRunSize]
	bs := format.BlockSize(int64(len(data)))
	short := NewLeafPipe(int64(len(data)), bs, LeafOptions{Runs: 2})
	short.ReadAll(bytes.NewReader(data[:LeafRunSize+10]))
	if _, _, err := short.Sum(); !errors.Is(err, ErrSizeChanged) {
		t.Errorf("short content: %v, want ErrSizeChanged", err)
	}
	bad := errors.New("disk on fire")
	failed := NewLeafPipe(int64(len(data)), bs, LeafOptions{Runs: 2})
	failed.ReadAll(&errReaderAt{data: data, off: LeafRunSize + 3, err: bad})
	if _, _, err := failed.Sum(); !errors.Is(err, bad) {
		t.Errorf("read error: %v, want %v", err, bad)
	}
	after := NewLeafPipe(int64(len(data)), bs, LeafOptions{Runs: 2})
	calls := 0
	for p := data; len(p) > 0; p = p[LeafRunSize:] {
		after.Go(p[:LeafRunSize], func() error { calls++; return bad })
	}
	if _, _, err := after.Sum(); !errors.Is(err, bad) || calls != 3 {
		t.Errorf("after's error: %v after %d calls, want %v after 3", err, calls, bad)
	}
}

func BenchmarkLeafPipeReadAll(b *testing.B) {
	old := benchData().old
	for _, runs := range []int{0, 3} {
		b.Run(fmt.Sprintf("runs=%d", runs), func(b *testing.B) {
			b.SetBytes(int64(len(old)))
			bs := format.BlockSize(int64(len(old)))
			for b.Loop() {
				p := NewLeafPipe(int64(len(old)), bs, LeafOptions{Runs: runs})
				p.ReadAll(bytes.NewReader(old))
				if _, _, err := p.Sum(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
