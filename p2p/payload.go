package p2p

import (
	"bytes"
	"io"
	"strings"
	"unsafe"

	"github.com/p2pnode/p2pnode/p2p/wire"
)

// Text is the payload of a str message: its UTF-8 bytes.
func Text(s string) []byte { return []byte(s) }

// JSON is the payload of a dict message, encoded as the reference's
// json.dumps does (separators ", " and ": ", ASCII-only).
func JSON(v any) ([]byte, error) {
	b, err := wire.MarshalPython(v)
	if err != nil {
		return nil, errorf(ErrUnsupportedValue, "%v", err)
	}
	return b, nil
}

// ParseCompression maps "none", "zlib", "bzip2" or "lzma" to a Compression.
func ParseCompression(name string) (Compression, error) { return wire.ParseCompression(name) }

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// makeNoZero returns a buffer of n bytes that starts with a copy of prefix
// (len(prefix) <= n, n > 0) and whose other bytes are not zeroed first, as
// make's would be: for a 16 MiB frame that is read into next, a whole pass
// over its memory saved. The caller writes every byte past prefix before
// anything reads it. (A strings.Builder grows without zeroing; its buffer,
// past the string it holds, is ours once the Builder is dropped.)
func makeNoZero(prefix []byte, n int) []byte {
	var b strings.Builder
	b.Grow(n)
	b.Write(prefix)
	if len(prefix) == 0 {
		b.WriteByte(0) // a string to take the buffer's address from
	}
	s := b.String()
	return unsafe.Slice(unsafe.StringData(s), n)
}
