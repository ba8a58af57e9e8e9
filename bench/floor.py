#!/usr/bin/env python3
"""The floor of a durable, atomic in-place update of a big file on a filesystem that shares
extents: clone the old file into a temporary one (FICLONE), write the pages that differ, fsync,
rename it over the old one, fsync the directory. What no tool can beat on that filesystem.

  floor.py pages OLD NEW PAGES   list the 4 KiB pages of NEW that differ from OLD (same size)
  floor.py apply FILE PAGES      update FILE to NEW that way (the part bench/compare.sh times)
"""
import fcntl, os, struct, sys

PAGE = 4096
FICLONE = 0x40049409

def pages(old, new, out):
    with open(old, "rb") as a, open(new, "rb") as b, open(out, "wb") as o:
        if os.fstat(a.fileno()).st_size != os.fstat(b.fileno()).st_size:
            sys.exit("floor.py: OLD and NEW differ in size; the floor is for page rewrites")
        off = 0
        while True:
            x, y = a.read(1 << 20), b.read(1 << 20)
            if not y:
                break
            for i in range(0, len(y), PAGE):
                if x[i:i + PAGE] != y[i:i + PAGE]:
                    o.write(struct.pack("<QI", off + i, len(y[i:i + PAGE])) + y[i:i + PAGE])
            off += len(y)

def apply(path, plist):
    tmp = os.path.join(os.path.dirname(path) or ".", ".floor.tmp")
    src = os.open(path, os.O_RDONLY)
    dst = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    fcntl.ioctl(dst, FICLONE, src)
    with open(plist, "rb") as p:
        while head := p.read(12):
            off, n = struct.unpack("<QI", head)
            os.pwrite(dst, p.read(n), off)
    os.fsync(dst)
    os.close(dst)
    os.close(src)
    os.rename(tmp, path)
    d = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
    os.fsync(d)
    os.close(d)

if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "pages":
        pages(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "apply":
        apply(*sys.argv[2:])
    else:
        sys.exit(__doc__)
