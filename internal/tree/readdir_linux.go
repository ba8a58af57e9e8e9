package tree

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// direntHeader is the size of linux_dirent64 up to d_name: d_ino (8), d_off
// (8), d_reclen (2), d_type (1).
const direntHeader = 19

var errBadDirent = errors.New("malformed directory entry from the kernel")

// list adds d's entries to l, reading them with getdents64 into *buf so that
// nothing is allocated per entry.
func (d dirHandle) list(l *listing, buf *[]byte) error {
	for {
		n, err := unix.Getdents(d.fd, *buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		if err := d.parse(l, (*buf)[:n]); err != nil {
			return err
		}
	}
}

func (d dirHandle) parse(l *listing, b []byte) error {
	for len(b) > 0 {
		if len(b) < direntHeader {
			return errBadDirent
		}
		reclen := int(binary.NativeEndian.Uint16(b[16:18]))
		if reclen < direntHeader || reclen > len(b) {
			return fmt.Errorf("%w: record length %d", errBadDirent, reclen)
		}
		ino := binary.NativeEndian.Uint64(b[0:8])
		typ := b[18]
		name := b[direntHeader:reclen]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		b = b[reclen:]
		if ino == 0 || string(name) == "." || string(name) == ".." || len(name) == 0 {
			continue
		}
		k := kindOfDirent(typ)
		if typ == unix.DT_UNKNOWN {
			k = d.kindAt(string(name))
		}
		add(l, name, k)
	}
	return nil
}

func kindOfDirent(typ uint8) kind {
	switch typ {
	case unix.DT_REG:
		return kindFile
	case unix.DT_DIR:
		return kindDir
	case unix.DT_LNK:
		return kindSymlink
	case unix.DT_FIFO:
		return kindFifo
	case unix.DT_SOCK:
		return kindSocket
	case unix.DT_CHR:
		return kindCharDevice
	case unix.DT_BLK:
		return kindBlockDevice
	}
	return kindOther
}
