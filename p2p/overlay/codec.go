package overlay

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Version is the first byte of every engine frame; a frame of another
// version is refused (and costs the sender its link).
const Version = 1

// ErrMalformed wraps every decoding failure.
var ErrMalformed = errors.New("overlay: malformed frame")

// writer appends the compact binary encoding: uvarints and length-prefixed
// byte strings.
type writer struct{ b []byte }

func (w *writer) byte1(v byte)     { w.b = append(w.b, v) }
func (w *writer) uvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *writer) bytes(p []byte)   { w.uvarint(uint64(len(p))); w.b = append(w.b, p...) }
func (w *writer) str(s string)     { w.uvarint(uint64(len(s))); w.b = append(w.b, s...) }
func (w *writer) fixed(p []byte)   { w.b = append(w.b, p...) }

// reader decodes what writer wrote; every length is checked against a bound
// before anything is allocated, and the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrMalformed, what)
	}
}

func (r *reader) byte1(what string) byte {
	if r.err != nil || len(r.b) < 1 {
		r.fail(what)
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) uvarint(what string, max uint64) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > max {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(what string, max int) []byte {
	n := int(r.uvarint(what+" length", uint64(max)))
	if r.err != nil || len(r.b) < n {
		r.fail(what)
		return nil
	}
	v := append([]byte(nil), r.b[:n]...)
	r.b = r.b[n:]
	return v
}

func (r *reader) str(what string, max int) string { return string(r.bytes(what, max)) }

func (r *reader) fixed(what string, p []byte) {
	if r.err != nil || len(r.b) < len(p) {
		r.fail(what)
		return
	}
	copy(p, r.b)
	r.b = r.b[len(p):]
}

// header reads the version and the message type.
func (r *reader) header() byte {
	if v := r.byte1("version"); r.err == nil && v != Version {
		r.fail(fmt.Sprintf("version %d", v))
	}
	return r.byte1("type")
}

// done reports the sticky error, or trailing bytes as one.
func (r *reader) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	return r.err
}
