package tree

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWalkOrderTrickyNames(t *testing.T) {
	root := t.TempDir()
	build(t, root,
		"a/", "a/b.c", "a/b/c", "a/b-", "a/\xff", "a.b", "a-/x", "a0", "ab", "a!", "a~",
		" space", "new\nline", "-dash", "--", "\x01ctl/z", "\xff\xfe", "é", "z/.hidden", "z/ y",
		"z./q", "empty/", "l -> a", "l.x", "l.y -> nowhere",
	)
	got := walkPaths(t, root, Options{})
	samePaths(t, got, bruteForce(t, root))
	if !slices.Contains(got, "empty") {
		t.Errorf("empty directory not visited: %q", got)
	}
}

// TestWalkOrderRandom checks the order on random trees over an alphabet of
// bytes on both sides of '/'.
func TestWalkOrderRandom(t *testing.T) {
	alphabet := []string{"a", "b", ".", "-", "0", "\xff", " ", "~", "!"}
	for seed := range uint64(6) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 1))
			root := t.TempDir()
			var paths []string
			for range 100 {
				var parts []string
				for range 1 + rng.IntN(3) {
					var name string
					for range 1 + rng.IntN(3) {
						name += alphabet[rng.IntN(len(alphabet))]
					}
					if name == "." || name == ".." {
						name += "x"
					}
					parts = append(parts, name)
				}
				p := strings.Join(parts, "/")
				if rng.IntN(3) == 0 {
					p += "/"
				}
				paths = append(paths, p)
			}
			createLoosely(root, paths)
			samePaths(t, walkPaths(t, root, Options{}), bruteForce(t, root))
		})
	}
}

// createLoosely creates what it can of paths, skipping one that collides
// with an earlier file or directory.
func createLoosely(root string, paths []string) {
	for _, p := range paths {
		full := filepath.Join(root, filepath.FromSlash(p))
		if strings.HasSuffix(p, "/") {
			os.MkdirAll(full, 0o755)
			continue
		}
		if os.MkdirAll(filepath.Dir(full), 0o755) == nil {
			os.WriteFile(full, nil, 0o644)
		}
	}
}

func FuzzWalkOrder(f *testing.F) {
	f.Add("a/\x00a.b\x00a/b\x00a-\x00a0\x00ab")
	f.Add("x/y/z\x00x.y\x00x/y.z\x00x/y-/q\x00x!")
	f.Add("\xff/\xfe\x00 \x00-\x00--/a")
	f.Fuzz(func(t *testing.T, spec string) {
		var paths []string
		for p := range strings.SplitSeq(spec, "\x00") {
			var parts []string
			for c := range strings.SplitSeq(p, "/") {
				if c != "" && c != "." && c != ".." && len(c) < 40 {
					parts = append(parts, c)
				}
			}
			if len(parts) == 0 || len(parts) > 5 || len(paths) == 64 {
				continue
			}
			q := strings.Join(parts, "/")
			if strings.HasSuffix(p, "/") {
				q += "/"
			}
			paths = append(paths, q)
		}
		root := t.TempDir()
		createLoosely(root, paths)
		samePaths(t, walkPaths(t, root, Options{}), bruteForce(t, root))
	})
}

func TestWalkStagingSkipped(t *testing.T) {
	root := t.TempDir()
	build(t, root, ".ibt-patch/x", ".ibt-patch0", "sub/.ibt-patch/y", "z")
	got := walkPaths(t, root, Options{})
	want := []string{".ibt-patch0", "sub", "sub/.ibt-patch", "sub/.ibt-patch/y", "z"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestWalkExclude(t *testing.T) {
	root := t.TempDir()
	build(t, root, "keep/a", "skip/a", "skip/b/c", "skip.txt", "x.tmp", "empty/")
	asked := map[string]bool{}
	got := walkPaths(t, root, Options{Exclude: func(rel string, isDir bool) bool {
		asked[rel] = isDir
		return rel == "skip" || strings.HasSuffix(rel, ".tmp")
	}})
	want := []string{"empty", "keep", "keep/a", "skip.txt"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	wantAsked := map[string]bool{"empty": true, "keep": true, "keep/a": false, "skip": true, "skip.txt": false, "x.tmp": false}
	if fmt.Sprint(asked) != fmt.Sprint(wantAsked) {
		t.Errorf("Exclude asked %v, want %v", asked, wantAsked)
	}
}

func TestWalkRoot(t *testing.T) {
	dir := t.TempDir()
	build(t, dir, "real/a", "real/sub/b", "file", "link -> real")

	got := walkPaths(t, filepath.Join(dir, "link"), Options{})
	if want := []string{"a", "sub", "sub/b"}; !slices.Equal(got, want) {
		t.Errorf("root symlink: got %q, want %q", got, want)
	}

	err := Walk(filepath.Join(dir, "file"), Options{}, func(*Node) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "not a directory") || !strings.Contains(err.Error(), "file") {
		t.Errorf("root a file: err = %v, want not a directory naming it", err)
	}
	err = Walk(filepath.Join(dir, "missing"), Options{}, func(*Node) error { return nil })
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("root missing: err = %v, want not exist", err)
	}
}

func TestWalkSymlinksNotFollowed(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	build(t, outside, "secret")
	build(t, root, "d/f", "todir -> d", "out -> "+outside, "dangling -> no/where", "abs -> /etc/passwd")
	nodes := walkNodes(t, root)
	want := map[string]string{"todir": "d", "out": outside, "dangling": "no/where", "abs": "/etc/passwd"}
	for p, target := range want {
		n := nodes[p]
		if n == nil || n.Type != TypeSymlink || n.Target != target {
			t.Errorf("%q: got %+v, want symlink to %q", p, n, target)
		}
	}
	if len(nodes) != 6 {
		t.Errorf("visited %d entries, want 6 (symlinks not descended): %v", len(nodes), nodes)
	}
}

func TestWalkFnError(t *testing.T) {
	root := t.TempDir()
	build(t, root, "a", "b", "c")
	stop := errors.New("stop")
	var seen []string
	err := Walk(root, Options{}, func(n *Node) error {
		seen = append(seen, n.Path)
		if n.Path == "b" {
			return stop
		}
		return nil
	})
	if err != stop || !slices.Equal(seen, []string{"a", "b"}) {
		t.Errorf("err = %v after %q, want the callback's error after a, b", err, seen)
	}
}

// TestWalkVanished removes an entry after its directory was listed (Exclude
// runs between the listing and the lstat).
func TestWalkVanished(t *testing.T) {
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprint("allow=", allow), func(t *testing.T) {
			root := t.TempDir()
			build(t, root, "a", "b", "c")
			var warned []string
			var got []string
			err := Walk(root, Options{
				AllowVanished: allow,
				Warn:          func(p, why string) { warned = append(warned, p+": "+why) },
				Exclude: func(rel string, _ bool) bool {
					if rel == "a" {
						os.Remove(filepath.Join(root, "b"))
					}
					return false
				},
			}, func(n *Node) error {
				got = append(got, n.Path)
				return nil
			})
			if !allow {
				if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), `"b"`) {
					t.Errorf("err = %v, want not exist naming \"b\"", err)
				}
				return
			}
			if err != nil || !slices.Equal(got, []string{"a", "c"}) ||
				!slices.Equal(warned, []string{"b: vanished during the walk"}) {
				t.Errorf("err = %v, visited %q, warned %q", err, got, warned)
			}
		})
	}
}

func TestWalkVanishedDirectory(t *testing.T) {
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprint("allow=", allow), func(t *testing.T) {
			root := t.TempDir()
			build(t, root, "d/x", "e")
			var warned []string
			var got []string
			err := Walk(root, Options{AllowVanished: allow, Warn: func(p, why string) { warned = append(warned, p) }},
				func(n *Node) error {
					got = append(got, n.Path)
					if n.Path == "d" {
						return os.RemoveAll(filepath.Join(root, "d"))
					}
					return nil
				})
			if !allow {
				if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), `"d"`) {
					t.Errorf("err = %v, want not exist naming \"d\"", err)
				}
				return
			}
			if err != nil || !slices.Equal(got, []string{"d", "e"}) || !slices.Equal(warned, []string{"d"}) {
				t.Errorf("err = %v, visited %q, warned %q", err, got, warned)
			}
		})
	}
}

func TestWalkChanged(t *testing.T) {
	tests := []struct {
		name   string
		change func(root string) // runs while the walk is at "a"
	}{
		{"file became a directory", func(root string) {
			os.Remove(filepath.Join(root, "b"))
			os.Mkdir(filepath.Join(root, "b"), 0o755)
		}},
		{"directory became a file", func(root string) {
			os.RemoveAll(filepath.Join(root, "d"))
			os.WriteFile(filepath.Join(root, "d"), nil, 0o644)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			build(t, root, "a", "b", "d/x")
			err := Walk(root, Options{AllowVanished: true, Exclude: func(rel string, _ bool) bool {
				if rel == "a" {
					tt.change(root)
				}
				return false
			}}, func(*Node) error { return nil })
			if !errors.Is(err, ErrChanged) {
				t.Errorf("err = %v, want ErrChanged", err)
			}
		})
	}
}

// TestWalkDirectoryReplaced replaces a directory after its entry was emitted
// and before the walk descends into it.
func TestWalkDirectoryReplaced(t *testing.T) {
	tests := []struct {
		name    string
		replace func(root string) error
	}{
		{"by another directory", func(root string) error {
			if err := os.Rename(filepath.Join(root, "d"), filepath.Join(root, "old")); err != nil {
				return err
			}
			return os.Mkdir(filepath.Join(root, "d"), 0o755)
		}},
		{"by a symlink", func(root string) error {
			if err := os.Rename(filepath.Join(root, "d"), filepath.Join(root, "old")); err != nil {
				return err
			}
			return os.Symlink("old", filepath.Join(root, "d"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			build(t, root, "d/x")
			err := Walk(root, Options{}, func(n *Node) error {
				if n.Path == "d" {
					return tt.replace(root)
				}
				return nil
			})
			if !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), `"d"`) {
				t.Errorf("err = %v, want ErrChanged naming \"d\"", err)
			}
		})
	}
}

// TestWalkLargeDirectory checks order, symlink targets (read through one
// reused buffer) and the first error in walk order winning.
func TestWalkLargeDirectory(t *testing.T) {
	root := t.TempDir()
	var paths []string
	for i := range 600 {
		switch {
		case i%100 == 0:
			paths = append(paths, fmt.Sprintf("e%03d/", i))
		case i%7 == 1:
			paths = append(paths, fmt.Sprintf("e%03d -> target %d", i, i))
		default:
			paths = append(paths, fmt.Sprintf("e%03d", i))
		}
	}
	build(t, root, paths...)
	var got []string
	err := Walk(root, Options{}, func(n *Node) error {
		got = append(got, n.Path)
		if n.Type == TypeSymlink && n.Target != "target "+strings.TrimLeft(n.Path[1:], "0") {
			t.Errorf("%q: target %q", n.Path, n.Target)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	samePaths(t, got, bruteForce(t, root))

	err = Walk(root, Options{Exclude: func(rel string, _ bool) bool {
		if rel == "e000" {
			os.Remove(filepath.Join(root, "e150"))
			os.Remove(filepath.Join(root, "e170"))
		}
		return false
	}}, func(*Node) error { return nil })
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), `"e150"`) {
		t.Errorf("err = %v, want the first vanished entry, \"e150\"", err)
	}
}
