//go:build linux

package chaintest

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// withSpecials makes the generator create FIFOs, device nodes and sockets
// (and turn files into them and back).
const withSpecials = true

// gen makes and changes the source tree. Every choice comes from r, and the
// tree is read in sorted order, so a seed replays the same run.
type gen struct {
	r      *rand.Rand
	root   string
	isRoot bool // running as root: owners, devices, every mode
	xattr  bool // the filesystem takes user.* attributes
	acl    bool // setfacl works here
	seq    int  // makes every new name unique
	blocks [][]byte
	log    []string // what the current step did
	// files earlier steps renamed or copied, and edited: editing the one
	// or renaming the other next makes the compositions ibt-merge finds
	// hardest
	moved, edited []string
}

func newGen(seed int64, root string) *gen {
	g := &gen{r: rand.New(rand.NewSource(seed)), root: root, isRoot: os.Geteuid() == 0}
	for range 12 {
		b := make([]byte, 1024+g.r.Intn(3)*1024)
		g.r.Read(b)
		g.blocks = append(g.blocks, b)
	}
	g.xattr = unix.Setxattr(root, "user.chaintest", []byte("probe"), 0) == nil
	if g.xattr {
		unix.Removexattr(root, "user.chaintest")
	}
	if _, err := exec.LookPath("setfacl"); err == nil {
		g.acl = exec.Command("setfacl", "-m", "u:4321:r", root).Run() == nil
		if g.acl {
			exec.Command("setfacl", "-b", root).Run()
		}
	}
	return g
}

func (g *gen) logf(format string, args ...any) {
	g.log = append(g.log, fmt.Sprintf(format, args...))
}

// abs is the source path of a relative slash path.
func (g *gen) abs(rel string) string { return filepath.Join(g.root, filepath.FromSlash(rel)) }

// must stops the run on a generator error: the test's own failure, not ibt's.
func must(err error) {
	if err != nil {
		panic(fmt.Sprintf("generator: %v", err))
	}
}

// ---- names and contents ----

// nameStems are the odd names a tree gets: spaces, newlines, leading
// dashes, bytes that are not UTF-8, dot files, glob and quote characters.
var nameStems = []string{
	"a", "file", "b c", "new\nline", "-dash", "--", "\xff\xfe bad", ".hidden", "..dots",
	"tab\there", "*", "[x]", "'q'", "\"dq\"", "back\\slash", "ünï", "日本", "$HOME", " lead", "trail ",
	"#hash", "~tilde", "a:b", "x.tar.gz",
}

// newName is a fresh name, unique in the run, so that a kind's change is
// the only thing that reuses a path.
func (g *gen) newName() string {
	g.seq++
	if g.r.Intn(30) == 0 { // near NAME_MAX
		return strings.Repeat("L", 240) + strconv.Itoa(g.seq)
	}
	stem := nameStems[g.r.Intn(len(nameStems))]
	if g.r.Intn(4) == 0 {
		return stem + strconv.Itoa(g.seq)
	}
	return strconv.Itoa(g.seq) + stem
}

// content is a random file content: empty, small, or larger ones made of
// shared blocks, so that renames, copies and rsync matches happen.
func (g *gen) content() []byte {
	switch g.r.Intn(10) {
	case 0:
		return nil
	case 1, 2, 3:
		b := make([]byte, 1+g.r.Intn(200))
		g.r.Read(b)
		return b
	case 4:
		return []byte("same small content\n")
	default:
		var b []byte
		for n := 1 + g.r.Intn(40); n > 0; n-- {
			b = append(b, g.blocks[g.r.Intn(len(g.blocks))]...)
		}
		if g.r.Intn(2) == 0 {
			b = b[:len(b)-g.r.Intn(len(b)/2+1)]
		}
		return b
	}
}

// ---- the tree as it is ----

// snapshot is the source tree's paths by type, in sorted order.
type snapshot struct {
	files, dirs, links, specials []string // dirs holds "." too
	multi                        []string // files with another link in the tree
}

func (g *gen) snap() snapshot {
	l, err := walkTree(g.root, false, false)
	must(err)
	var s snapshot
	var paths []string
	for p := range l {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		switch e := l[p]; e.Type {
		case "file":
			s.files = append(s.files, p)
			if e.Links != "" {
				s.multi = append(s.multi, p)
			}
		case "dir":
			s.dirs = append(s.dirs, p)
		case "symlink":
			s.links = append(s.links, p)
		default:
			s.specials = append(s.specials, p)
		}
	}
	return s
}

// appendTo appends content to the file rel, and notes it edited.
func (g *gen) appendTo(rel string) {
	f, err := os.OpenFile(g.abs(rel), os.O_WRONLY|os.O_APPEND, 0)
	must(err)
	_, err = f.Write(g.content())
	must(err)
	must(f.Close())
	g.edited = append(g.edited, rel)
}

// still picks one of noted that is still one of files, or "".
func (g *gen) still(noted, files []string) string {
	var ok []string
	for _, p := range noted {
		i := sort.SearchStrings(files, p)
		if i < len(files) && files[i] == p {
			ok = append(ok, p)
		}
	}
	if len(ok) == 0 {
		return ""
	}
	return g.pick(ok)
}

// pick returns one of paths, or "" for none (callers of an empty list
// return false: nothing to change).
func (g *gen) pick(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	return paths[g.r.Intn(len(paths))]
}

// nonRoot drops "." from dirs.
func nonRoot(dirs []string) []string {
	var out []string
	for _, d := range dirs {
		if d != "." {
			out = append(out, d)
		}
	}
	return out
}

// below reports whether p is d or inside it.
func below(p, d string) bool { return d == "." || p == d || strings.HasPrefix(p, d+"/") }

// ---- making things ----

// fileModes, dirModes: unusual permissions and the special bits.
var (
	fileModes = []uint32{0o644, 0o600, 0o755, 0o400, 0o200, 0, 0o4755, 0o2755, 0o6711, 0o1644, 0o777, 0o640, 0o007, 0o2640}
	dirModes  = []uint32{0o755, 0o700, 0o777, 0o1777, 0o2775, 0o2755, 0o711, 0o500, 0o311, 0, 0o4755, 0o3770}
	owners    = []uint32{0, 1, 100, 1000, 1001, 65534, 123456}
)

func (g *gen) fileMode() uint32 {
	m := fileModes[g.r.Intn(len(fileModes))]
	if !g.isRoot {
		m |= 0o600 // ibt-sign must read it
	}
	return m
}

func (g *gen) dirMode() uint32 {
	m := dirModes[g.r.Intn(len(dirModes))]
	if !g.isRoot {
		m |= 0o700 // the walk must enter it
	}
	return m
}

// chmod sets mode bits with the special ones, which os.Chmod also takes.
func chmod(p string, m uint32) { must(unix.Chmod(p, m)) }

// setMeta gives a new path random metadata: owner, mode, sometimes an mtime
// from the past (or before 1970, or far ahead), attributes.
func (g *gen) setMeta(rel string, dir bool) {
	p := g.abs(rel)
	if g.isRoot && g.r.Intn(3) == 0 {
		must(os.Lchown(p, int(owners[g.r.Intn(len(owners))]), int(owners[g.r.Intn(len(owners))])))
	}
	if dir {
		chmod(p, g.dirMode())
	} else {
		chmod(p, g.fileMode())
	}
	if g.xattr && g.r.Intn(4) == 0 {
		g.setXattr(rel)
	}
	if g.r.Intn(2) == 0 {
		g.setMtime(rel)
	}
}

func (g *gen) randTime() time.Time {
	switch g.r.Intn(8) {
	case 0:
		return time.Unix(-int64(g.r.Intn(1e9)), int64(g.r.Intn(1e9))) // before 1970
	case 1:
		return time.Unix(4e9+int64(g.r.Intn(1e9)), int64(g.r.Intn(1e9))) // after 2100
	case 2:
		return time.Unix(int64(g.r.Intn(2e9)), 0) // whole seconds
	default:
		return time.Unix(1.5e9+int64(g.r.Intn(3e8)), int64(g.r.Intn(1e9)))
	}
}

func (g *gen) setMtime(rel string) {
	t := g.randTime()
	ts := []unix.Timespec{unix.NsecToTimespec(t.UnixNano()), unix.NsecToTimespec(t.UnixNano())}
	must(unix.UtimesNanoAt(unix.AT_FDCWD, g.abs(rel), ts, unix.AT_SYMLINK_NOFOLLOW))
}

func (g *gen) setXattr(rel string) {
	p := g.abs(rel)
	if fi, err := os.Lstat(p); err == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
		return // user.* is for files and directories only
	}
	names := []string{"user.a", "user.comment", "user.mime_type", "user.empty"}
	val := make([]byte, g.r.Intn(40))
	g.r.Read(val)
	name := names[g.r.Intn(len(names))]
	if name == "user.empty" {
		val = nil
	}
	must(unix.Lsetxattr(p, name, val, 0))
	if g.isRoot && g.r.Intn(4) == 0 {
		must(unix.Lsetxattr(p, "trusted.ibt", val, 0))
	}
}

func (g *gen) writeFile(rel string, data []byte) {
	must(os.WriteFile(g.abs(rel), data, 0o644))
}

// makeFile creates a file: a regular one, or now and then a sparse one.
func (g *gen) makeFile(rel string) {
	if g.r.Intn(8) == 0 {
		g.makeSparse(rel)
	} else {
		g.writeFile(rel, g.content())
	}
	g.setMeta(rel, false)
}

// makeSparse writes a file with holes: data at a few 4 KiB-aligned offsets,
// sometimes a hole at the end.
func (g *gen) makeSparse(rel string) {
	f, err := os.Create(g.abs(rel))
	must(err)
	defer f.Close()
	size := int64(64<<10 + g.r.Intn(8)*(64<<10))
	for n := g.r.Intn(4); n > 0; n-- {
		b := g.blocks[g.r.Intn(len(g.blocks))]
		_, err := f.WriteAt(b, int64(g.r.Intn(int(size)/4096))*4096)
		must(err)
	}
	must(f.Truncate(size))
}

func (g *gen) makeSymlink(rel string, s snapshot) {
	var target string
	dir := filepath.Dir(filepath.FromSlash(rel))
	rels := func(p string) string {
		t, err := filepath.Rel(dir, filepath.FromSlash(p))
		must(err)
		return t
	}
	switch g.r.Intn(6) {
	case 0:
		target = "dangling-" + strconv.Itoa(g.seq)
	case 1:
		if len(s.dirs) > 0 {
			target = rels(g.pick(s.dirs))
		}
	case 2:
		target = "/nonexistent/abs\npath"
	case 3:
		target = "../../../../outside"
	default:
		if len(s.files) > 0 {
			target = rels(g.pick(s.files))
		}
	}
	if target == "" {
		target = "."
	}
	must(os.Symlink(target, g.abs(rel)))
	if g.isRoot && g.r.Intn(3) == 0 {
		must(os.Lchown(g.abs(rel), int(owners[g.r.Intn(len(owners))]), int(owners[g.r.Intn(len(owners))])))
	}
	if g.r.Intn(2) == 0 {
		g.setMtime(rel)
	}
}

// makeSpecial creates a FIFO, a device node or a socket.
func (g *gen) makeSpecial(rel string) string {
	p := g.abs(rel)
	kinds := []string{"fifo", "socket"}
	if g.isRoot {
		kinds = append(kinds, "char", "block")
	}
	k := kinds[g.r.Intn(len(kinds))]
	switch k {
	case "fifo":
		must(unix.Mkfifo(p, 0o644))
	case "socket":
		must(unix.Mknod(p, unix.S_IFSOCK|0o644, 0))
	case "char":
		must(unix.Mknod(p, unix.S_IFCHR|0o644, int(unix.Mkdev(1, 3))))
	case "block":
		must(unix.Mknod(p, unix.S_IFBLK|0o644, int(unix.Mkdev(7, uint32(g.r.Intn(8))))))
	}
	g.setMeta(rel, false)
	return k
}

// makeSubtree creates a directory with a few levels of content.
func (g *gen) makeSubtree(rel string, depth int) {
	must(os.Mkdir(g.abs(rel), 0o755))
	n := g.r.Intn(6)
	if depth > 2 {
		n = g.r.Intn(3)
	}
	var files []string
	for range n {
		child := rel + "/" + g.newName()
		switch x := g.r.Intn(10); {
		case x < 5:
			g.makeFile(child)
			files = append(files, child)
		case x < 7 && depth < 4:
			g.makeSubtree(child, depth+1)
		case x < 8:
			g.makeSymlink(child, snapshot{files: files})
		case x < 9 && len(files) > 0:
			must(os.Link(g.abs(files[g.r.Intn(len(files))]), g.abs(child)))
		default:
			must(os.Mkdir(g.abs(child), 0o755))
			g.setMeta(child, true)
		}
	}
	g.setMeta(rel, true)
}

// removeAll deletes a path and everything below it, whatever its modes.
func (g *gen) removeAll(rel string) { must(os.RemoveAll(g.abs(rel))) }

// copyFile is `cp a b`: a new inode with a's content and permissions.
func (g *gen) copyFile(from, to string) {
	data, err := os.ReadFile(g.abs(from))
	must(err)
	fi, err := os.Lstat(g.abs(from))
	must(err)
	must(os.WriteFile(g.abs(to), data, 0o600))
	chmod(g.abs(to), uint32(fi.Mode().Perm()))
}

// ---- the change kinds ----

// kind is one named change. do returns false when the tree offers it
// nothing to change (no file to edit, say), and the runner picks another.
type kind struct {
	name string
	do   func(g *gen, s snapshot) bool
}

var kinds = []kind{
	{"new-file", func(g *gen, s snapshot) bool {
		rel := pathJoin(g.pick(s.dirs), g.newName())
		g.makeFile(rel)
		g.logf("new file %q", rel)
		return true
	}},
	{"new-sparse", func(g *gen, s snapshot) bool {
		rel := pathJoin(g.pick(s.dirs), g.newName())
		g.makeSparse(rel)
		g.logf("new sparse file %q", rel)
		return true
	}},
	{"new-dir", func(g *gen, s snapshot) bool {
		rel := pathJoin(g.pick(s.dirs), g.newName())
		must(os.Mkdir(g.abs(rel), 0o755))
		g.setMeta(rel, true)
		g.logf("new empty dir %q", rel)
		return true
	}},
	{"new-subtree", func(g *gen, s snapshot) bool {
		rel := pathJoin(g.pick(s.dirs), g.newName())
		g.makeSubtree(rel, 0)
		g.logf("new subtree %q", rel)
		return true
	}},
	{"new-symlink", func(g *gen, s snapshot) bool {
		rel := pathJoin(g.pick(s.dirs), g.newName())
		g.makeSymlink(rel, s)
		g.logf("new symlink %q", rel)
		return true
	}},
	{"new-hardlink", func(g *gen, s snapshot) bool {
		if len(s.files) == 0 {
			return false
		}
		from, rel := g.pick(s.files), pathJoin(g.pick(s.dirs), g.newName())
		must(os.Link(g.abs(from), g.abs(rel)))
		g.logf("ln %q %q", from, rel)
		return true
	}},
	{"append", func(g *gen, s snapshot) bool {
		if len(s.files) == 0 {
			return false
		}
		rel := g.pick(s.files)
		g.appendTo(rel)
		g.logf("append to %q", rel)
		return true
	}},
	{"edit-moved", func(g *gen, s snapshot) bool { // a file renamed or copied before
		rel := g.still(g.moved, s.files)
		if rel == "" {
			return false
		}
		g.appendTo(rel)
		g.logf("append to %q, renamed or copied before", rel)
		return true
	}},
	{"move-edited", func(g *gen, s snapshot) bool { // a file edited before
		rel := g.still(g.edited, s.files)
		if rel == "" {
			return false
		}
		to := pathJoin(g.pick(s.dirs), g.newName())
		must(os.Rename(g.abs(rel), g.abs(to)))
		g.moved = append(g.moved, to)
		g.logf("mv %q %q, edited before", rel, to)
		return true
	}},
	{"copy-file", func(g *gen, s snapshot) bool {
		if len(s.files) == 0 {
			return false
		}
		from := g.pick(s.files)
		to := pathJoin(g.pick(s.dirs), g.newName())
		b, err := os.ReadFile(g.abs(from))
		must(err)
		must(os.WriteFile(g.abs(to), b, 0o644))
		g.moved = append(g.moved, to)
		g.logf("cp %q %q", from, to)
		return true
	}},
	{"rewrite", func(g *gen, s snapshot) bool { // a middle part rewritten in place
		if len(s.files) == 0 {
			return false
		}
		rel := g.pick(s.files)
		f, err := os.OpenFile(g.abs(rel), os.O_WRONLY, 0)
		must(err)
		fi, err := f.Stat()
		must(err)
		b := make([]byte, 1+g.r.Intn(3000))
		g.r.Read(b)
		_, err = f.WriteAt(b, g.r.Int63n(fi.Size()+1))
		must(err)
		must(f.Close())
		g.edited = append(g.edited, rel)
		g.logf("rewrite the middle of %q", rel)
		return true
	}},
	{"rewrite-keep-mtime", func(g *gen, s snapshot) bool { // same size, same mtime
		if len(s.files) == 0 {
			return false
		}
		rel := g.pick(s.files)
		fi, err := os.Lstat(g.abs(rel))
		must(err)
		if fi.Size() == 0 {
			return false
		}
		f, err := os.OpenFile(g.abs(rel), os.O_WRONLY, 0)
		must(err)
		b := []byte{byte(g.r.Intn(256))}
		_, err = f.WriteAt(b, g.r.Int63n(fi.Size()))
		must(err)
		must(f.Close())
		must(os.Chtimes(g.abs(rel), fi.ModTime(), fi.ModTime()))
		g.logf("rewrite a byte of %q keeping its size and mtime", rel)
		return true
	}},
	{"truncate", func(g *gen, s snapshot) bool {
		if len(s.files) == 0 {
			return false
		}
		rel := g.pick(s.files)
		fi, err := os.Lstat(g.abs(rel))
		must(err)
		must(os.Truncate(g.abs(rel), g.r.Int63n(fi.Size()+1)))
		g.logf("truncate %q", rel)
		return true
	}},
	{"file-to-dir", func(g *gen, s snapshot) bool {
		if len(s.files) == 0 {
			return false
		}
		rel := g.pick(s.files)
		g.removeAll(rel)
		if g.r.Intn(2) == 0 {
			g.makeSubtree(rel, 1)
		} else {
			must(os.Mkdir(g.abs(rel), 0o755))
			g.setMeta(rel, true)
		}
		g.logf("file %q becomes a dir", rel)
		return true
	}},
	{"dir-to-file", func(g *gen, s snapshot) bool {
		d := nonRoot(s.dirs)
		if len(d) == 0 {
			return false
		}
		rel := g.pick(d)
		g.removeAll(rel)
		g.makeFile(rel)
		g.logf("dir %q becomes a file", rel)
		return true
	}},
	{"file-to-symlink", func(g *gen, s snapshot) bool {
		if len(s.files) == 0 {
			return false
		}
		rel := g.pick(s.files)
		g.removeAll(rel)
		g.makeSymlink(rel, s)
		g.logf("file %q becomes a symlink", rel)
		return true
	}},
	{"symlink-to-file", func(g *gen, s snapshot) bool {
		if len(s.links) == 0 {
			return false
		}
		rel := g.pick(s.links)
		g.removeAll(rel)
		g.makeFile(rel)
		g.logf("symlink %q becomes a file", rel)
		return true
	}},
	{"dir-to-symlink", func(g *gen, s snapshot) bool { // pointing inside the tree
		d := nonRoot(s.dirs)
		if len(d) == 0 {
			return false
		}
		rel := g.pick(d)
		g.removeAll(rel)
		target := "dangling-" + strconv.Itoa(g.seq)
		if g.r.Intn(2) == 0 {
			target = "."
		}
		must(os.Symlink(target, g.abs(rel)))
		g.logf("dir %q becomes a symlink to %q", rel, target)
		return true
	}},
	{"dir-to-symlink-out", func(g *gen, s snapshot) bool { // pointing out of the tree
		d := nonRoot(s.dirs)
		if len(d) == 0 {
			return false
		}
		rel := g.pick(d)
		g.removeAll(rel)
		target := []string{"/", "/nonexistent", "../../../../../.."}[g.r.Intn(3)]
		must(os.Symlink(target, g.abs(rel)))
		g.logf("dir %q becomes a symlink to %q", rel, target)
		return true
	}},
	{"symlink-to-dir", func(g *gen, s snapshot) bool {
		if len(s.links) == 0 {
			return false
		}
		rel := g.pick(s.links)
		g.removeAll(rel)
		g.makeSubtree(rel, 1)
		g.logf("symlink %q becomes a dir", rel)
		return true
	}},
	{"link-make", func(g *gen, s snapshot) bool { // rm b; ln a b
		if len(s.files) < 2 {
			return false
		}
		a, b := g.pick(s.files), g.pick(s.files)
		if a == b {
			return false
		}
		g.removeAll(b)
		must(os.Link(g.abs(a), g.abs(b)))
		g.logf("rm %q; ln %q %q", b, a, b)
		return true
	}},
	{"link-break", func(g *gen, s snapshot) bool { // rm b; cp a b
		if len(s.multi) == 0 {
			return false
		}
		b := g.pick(s.multi)
		l, err := walkTree(g.root, false, false)
		must(err)
		var a string
		for _, p := range s.multi {
			if p != b && l[p].Links == l[b].Links {
				a = p
				break
			}
		}
		if a == "" {
			return false
		}
		g.removeAll(b)
		g.copyFile(a, b)
		g.logf("rm %q; cp %q %q", b, a, b)
		return true
	}},
	{"chown", func(g *gen, s snapshot) bool {
		if !g.isRoot {
			return false
		}
		all := append(append(append([]string{}, s.files...), nonRoot(s.dirs)...), s.links...)
		rel := g.pick(all)
		if rel == "" {
			return false
		}
		uid, gid := int(owners[g.r.Intn(len(owners))]), int(owners[g.r.Intn(len(owners))])
		if g.r.Intn(3) == 0 {
			gid = -1
		}
		must(os.Lchown(g.abs(rel), uid, gid))
		g.logf("chown %d:%d %q", uid, gid, rel)
		return true
	}},
	{"chmod", func(g *gen, s snapshot) bool {
		rel := g.pick(append(append([]string{}, s.files...), s.dirs...))
		fi, err := os.Lstat(g.abs(rel))
		must(err)
		m := g.fileMode()
		if fi.IsDir() {
			m = g.dirMode()
		}
		if rel == "." && m == 0 {
			return false // root-mode-0
		}
		chmod(g.abs(rel), m)
		g.logf("chmod %04o %q", m, rel)
		return true
	}},
	{"mtime", func(g *gen, s snapshot) bool {
		rel := g.pick(append(append(append([]string{}, s.files...), s.dirs...), s.links...))
		g.setMtime(rel)
		g.logf("touch %q", rel)
		return true
	}},
	{"xattr", func(g *gen, s snapshot) bool {
		if !g.xattr {
			return false
		}
		rel := g.pick(append(append([]string{}, s.files...), nonRoot(s.dirs)...))
		if rel == "" {
			return false
		}
		l, err := list(g.root, false)
		must(err)
		if x := l[rel].Xattrs; x != "" && g.r.Intn(2) == 0 {
			name, _, _ := strings.Cut(x, "=")
			must(unix.Lremovexattr(g.abs(rel), name))
			g.logf("remove attribute %s of %q", name, rel)
			return true
		}
		g.setXattr(rel)
		g.logf("set an attribute of %q", rel)
		return true
	}},
	{"acl", func(g *gen, s snapshot) bool {
		if !g.acl {
			return false
		}
		var args []string
		rel := g.pick(append(append([]string{}, s.files...), nonRoot(s.dirs)...))
		if rel == "" {
			return false
		}
		fi, err := os.Lstat(g.abs(rel))
		must(err)
		switch x := g.r.Intn(4); {
		case x == 0:
			args = []string{"-b"}
		case x == 1 && fi.IsDir():
			args = []string{"-k"} // remove the default ACL
		default:
			args = []string{"-m", fmt.Sprintf("u:%d:r-x,g:%d:rw-", owners[g.r.Intn(len(owners))], owners[g.r.Intn(len(owners))])}
		}
		out, err := exec.Command("setfacl", append(args, "--", g.abs(rel))...).CombinedOutput()
		if err != nil {
			must(fmt.Errorf("setfacl %v: %v: %s", args, err, out))
		}
		g.logf("setfacl %s %q", strings.Join(args, " "), rel)
		return true
	}},
	{"root-owner", func(g *gen, s snapshot) bool {
		if !g.isRoot {
			return false
		}
		uid, gid := int(owners[g.r.Intn(len(owners))]), int(owners[g.r.Intn(len(owners))])
		must(os.Lchown(g.root, uid, gid))
		g.logf("chown %d:%d of the root", uid, gid)
		return true
	}},
	{"root-mode-0", func(g *gen, s snapshot) bool { // chmod 0 of the root
		if !g.isRoot {
			return false
		}
		chmod(g.root, 0)
		g.logf("chmod 0000 of the root")
		return true
	}},
	{"root-mtime-0", func(g *gen, s snapshot) bool { // touch -d @0 of the root
		ts := []unix.Timespec{{}, {}}
		must(unix.UtimesNanoAt(unix.AT_FDCWD, g.root, ts, 0))
		g.logf("touch -d @0 of the root")
		return true
	}},
	{"root-xattr", func(g *gen, s snapshot) bool {
		if !g.xattr {
			return false
		}
		if g.acl && g.r.Intn(2) == 0 {
			out, err := exec.Command("setfacl", "-m", "u:1000:r-x", g.root).CombinedOutput()
			if err != nil {
				must(fmt.Errorf("setfacl: %v: %s", err, out))
			}
			g.logf("setfacl -m u:1000:r-x of the root")
			return true
		}
		g.setXattr(".")
		g.logf("set an attribute of the root")
		return true
	}},
	{"acl-default", func(g *gen, s snapshot) bool { // a directory's default ACL
		d := nonRoot(s.dirs)
		if !g.acl || len(d) == 0 {
			return false
		}
		rel := g.pick(d)
		args := []string{"-d", "-m", fmt.Sprintf("u:%d:rwx,g:%d:r-x", owners[g.r.Intn(len(owners))], owners[g.r.Intn(len(owners))])}
		out, err := exec.Command("setfacl", append(args, "--", g.abs(rel))...).CombinedOutput()
		if err != nil {
			must(fmt.Errorf("setfacl %v: %v: %s", args, err, out))
		}
		g.logf("setfacl %s %q", strings.Join(args, " "), rel)
		return true
	}},
	{"rename-file", func(g *gen, s snapshot) bool {
		all := append(append([]string{}, s.files...), s.links...)
		if len(all) == 0 {
			return false
		}
		from := g.pick(all)
		to := pathJoin(g.pick(s.dirs), g.newName())
		must(os.Rename(g.abs(from), g.abs(to)))
		g.moved = append(g.moved, to)
		g.logf("mv %q %q", from, to)
		return true
	}},
	{"rename-dir", func(g *gen, s snapshot) bool {
		d := nonRoot(s.dirs)
		if len(d) == 0 {
			return false
		}
		from := g.pick(d)
		var into []string
		for _, p := range s.dirs {
			if !below(p, from) || p == "." {
				into = append(into, p)
			}
		}
		to := pathJoin(g.pick(into), g.newName())
		must(os.Rename(g.abs(from), g.abs(to)))
		g.logf("mv %q %q", from, to)
		return true
	}},
	{"swap", func(g *gen, s snapshot) bool { // two files trade places
		if len(s.files) < 2 {
			return false
		}
		a, b := g.pick(s.files), g.pick(s.files)
		if a == b {
			return false
		}
		tmp := g.abs(a) + ".swap"
		must(os.Rename(g.abs(a), tmp))
		must(os.Rename(g.abs(b), g.abs(a)))
		must(os.Rename(tmp, g.abs(b)))
		g.logf("swap %q %q", a, b)
		return true
	}},
	{"swap-dirs", func(g *gen, s snapshot) bool { // two directories trade places
		d := nonRoot(s.dirs)
		if len(d) < 2 {
			return false
		}
		a, b := g.pick(d), g.pick(d)
		if below(a, b) || below(b, a) {
			return false
		}
		tmp := g.abs(a) + ".swap"
		must(os.Rename(g.abs(a), tmp))
		must(os.Rename(g.abs(b), g.abs(a)))
		must(os.Rename(tmp, g.abs(b)))
		g.logf("swap dirs %q %q", a, b)
		return true
	}},
	{"move-leave-symlink", func(g *gen, s snapshot) bool { // mv d e; ln -s e d
		all := append(append([]string{}, s.files...), nonRoot(s.dirs)...)
		if len(all) == 0 {
			return false
		}
		from := g.pick(all)
		to := pathJoin(path.Dir(from), g.newName())
		must(os.Rename(g.abs(from), g.abs(to)))
		must(os.Symlink(path.Base(to), g.abs(from)))
		g.logf("mv %q %q; ln -s %q %q", from, to, path.Base(to), from)
		return true
	}},
	{"delete-file", func(g *gen, s snapshot) bool {
		all := append(append(append([]string{}, s.files...), s.links...), s.specials...)
		if len(all) == 0 {
			return false
		}
		rel := g.pick(all)
		g.removeAll(rel)
		g.logf("rm %q", rel)
		return true
	}},
	{"delete-subtree", func(g *gen, s snapshot) bool {
		d := nonRoot(s.dirs)
		if len(d) == 0 {
			return false
		}
		rel := g.pick(d)
		g.removeAll(rel)
		g.logf("rm -r %q", rel)
		return true
	}},
	{"new-special", func(g *gen, s snapshot) bool {
		if !withSpecials {
			return false
		}
		rel := pathJoin(g.pick(s.dirs), g.newName())
		k := g.makeSpecial(rel)
		g.logf("new %s %q", k, rel)
		return true
	}},
	{"file-to-special", func(g *gen, s snapshot) bool {
		if !withSpecials || len(s.files) == 0 {
			return false
		}
		rel := g.pick(s.files)
		g.removeAll(rel)
		k := g.makeSpecial(rel)
		g.logf("file %q becomes a %s", rel, k)
		return true
	}},
	{"special-to-file", func(g *gen, s snapshot) bool {
		if !withSpecials || len(s.specials) == 0 {
			return false
		}
		rel := g.pick(s.specials)
		g.removeAll(rel)
		g.makeFile(rel)
		g.logf("special %q becomes a file", rel)
		return true
	}},
	{"dir-to-special", func(g *gen, s snapshot) bool {
		d := nonRoot(s.dirs)
		if !withSpecials || len(d) == 0 {
			return false
		}
		rel := g.pick(d)
		g.removeAll(rel)
		k := g.makeSpecial(rel)
		g.logf("dir %q becomes a %s", rel, k)
		return true
	}},
}

// maxPaths bounds the tree: past it, a step begins by deleting a subtree.
const maxPaths = 300

func kindIndex(name string) int {
	for i, k := range kinds {
		if k.name == name {
			return i
		}
	}
	panic("no kind " + name)
}

// kindNames lists every kind's name.
func kindNames() []string {
	var n []string
	for _, k := range kinds {
		n = append(n, k.name)
	}
	return n
}

// step applies 1 to 4 changes of the enabled kinds and returns what it did.
func (g *gen) step(enabled map[string]bool) []string {
	g.log = nil
	var on []kind
	for _, k := range kinds {
		if enabled[k.name] {
			on = append(on, k)
		}
	}
	if len(on) == 0 {
		return nil
	}
	big := false
	if s := g.snap(); len(s.files)+len(s.dirs)+len(s.links)+len(s.specials) > maxPaths {
		big = true // a long run's tree stays small enough to check every step
	}
	for n := 1 + g.r.Intn(4); n > 0; n-- {
		for try := 0; try < 20; try++ {
			k := on[g.r.Intn(len(on))]
			if big && enabled["delete-subtree"] {
				k, big = kinds[kindIndex("delete-subtree")], false
			}
			before := len(g.log)
			if k.do(g, g.snap()) {
				g.log[before] = "[" + k.name + "] " + g.log[before]
				break
			}
		}
	}
	return g.log
}

// seedTree makes the first tree.
func (g *gen) seedTree() {
	for range 4 + g.r.Intn(5) {
		s := g.snap()
		rel := pathJoin(g.pick(s.dirs), g.newName())
		switch g.r.Intn(4) {
		case 0:
			g.makeSubtree(rel, 1)
		case 1:
			g.makeSymlink(rel, s)
		default:
			g.makeFile(rel)
		}
	}
	if len(g.snap().files) > 1 && g.r.Intn(2) == 0 {
		s := g.snap()
		must(os.Link(g.abs(s.files[0]), g.abs(pathJoin(g.pick(s.dirs), g.newName()))))
	}
}
