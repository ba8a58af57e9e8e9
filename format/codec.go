package format

import (
	"bytes"
	"encoding/binary"
	"errors"

	"github.com/vmihailenco/msgpack/v5"
)

// codec encodes records in their canonical form and decodes record bodies
// strictly: a body must be exactly what the codec would write for the value
// it decodes to, so that decode then encode gives back the same bytes. It
// goes through msgpack's reflection: streams use it for their one header and
// trailer, while entries, changes and copies, a million in the index of a big
// tree, take the hand-written encode.go and decode.go, which the tests hold
// to this codec byte for byte.
type codec struct {
	buf bytes.Buffer
	enc *msgpack.Encoder
	dec *msgpack.Decoder
	rd  bytes.Reader
}

func newCodec() *codec {
	c := &codec{}
	c.enc = msgpack.NewEncoder(&c.buf)
	c.enc.UseCompactInts(true)
	c.dec = msgpack.NewDecoder(&c.rd)
	return c
}

// encode returns the canonical msgpack encoding of v, valid until the next
// call.
func (c *codec) encode(v any) ([]byte, error) {
	c.buf.Reset()
	if err := c.enc.Encode(v); err != nil {
		return nil, err
	}
	return c.buf.Bytes(), nil
}

// decode decodes body into v (a pointer to a zero record) and checks that
// body is v's canonical encoding.
func (c *codec) decode(body []byte, v any) error {
	if err := c.unmarshal(body, v); err != nil {
		return err
	}
	again, err := c.encode(v)
	if err != nil {
		return err
	}
	if !bytes.Equal(again, body) {
		return errors.New("not in canonical form (unknown, repeated, misordered or zero-valued keys, or non-minimal numbers)")
	}
	return nil
}

// unmarshal decodes body into v once CheckMsgpack has bounded its lengths.
func (c *codec) unmarshal(body []byte, v any) error {
	if err := CheckMsgpack(body, RecordLimits); err != nil {
		return err
	}
	c.rd.Reset(body)
	c.dec.Reset(&c.rd)
	return c.dec.Decode(v)
}

// appendBinHeader appends the msgpack header of a bin value of n bytes, in
// the shortest form.
func appendBinHeader(b []byte, n int) []byte {
	switch {
	case n < 1<<8:
		return append(b, 0xc4, byte(n))
	case n < 1<<16:
		return binary.BigEndian.AppendUint16(append(b, 0xc5), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xc6), uint32(n))
}

// literalPrefix is the start of a Literal's body: a map of one key, "d".
const literalPrefix = "\x81\xa1d"

// appendLiteralHeader appends the body of a Literal of n bytes up to its data.
func appendLiteralHeader(b []byte, n int) []byte {
	return appendBinHeader(append(b, literalPrefix...), n)
}

// parseLiteral returns the data of a Literal body without copying it.
func parseLiteral(body []byte) ([]byte, error) {
	var hdr [16]byte
	if len(body) < len(literalPrefix)+2 || string(body[:len(literalPrefix)]) != literalPrefix {
		return nil, errors.New(`literal is not a msgpack map of one key "d"`)
	}
	var size int
	switch body[len(literalPrefix)] {
	case 0xc4:
		size = 2
	case 0xc5:
		size = 3
	case 0xc6:
		size = 5
	}
	n := len(body) - len(literalPrefix) - size
	if size == 0 || n < 0 || !bytes.HasPrefix(body, appendLiteralHeader(hdr[:0], n)) {
		return nil, errors.New("literal data is not a msgpack bin value filling its record, in canonical form")
	}
	return body[len(body)-n:], nil
}

// appendTrailer appends the body of a trailer up to, not including, its
// checksum's 8 bytes, which come last in the stream so that the checksum
// covers every byte before it, the trailer's other fields included.
func appendTrailer(b []byte, t *Trailer) []byte {
	n := byte(2)
	if len(t.TreeHash) > 0 {
		n++
	}
	b = append(b, 0x80|n, 0xa5)
	b = append(b, "count"...)
	b = appendUint(b, t.Count)
	if len(t.TreeHash) > 0 {
		b = append(b, 0xa9)
		b = append(b, "tree_hash"...)
		b = appendBinHeader(b, len(t.TreeHash))
		b = append(b, t.TreeHash...)
	}
	b = append(b, 0xa8)
	b = append(b, "checksum"...)
	return append(b, 0xcf) // uint64, always 8 bytes
}

// trailerBodyLen is the length of a trailer's body.
func trailerBodyLen(t *Trailer) int {
	var buf [64]byte
	return len(appendTrailer(buf[:0], t)) + 8
}

// appendUint appends v as a msgpack unsigned integer in the shortest form, as
// msgpack's compact ints do.
func appendUint(b []byte, v uint64) []byte {
	switch {
	case v <= 0x7f:
		return append(b, byte(v))
	case v < 1<<8:
		return append(b, 0xcc, byte(v))
	case v < 1<<16:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(v))
	case v < 1<<32:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcf), v)
}
