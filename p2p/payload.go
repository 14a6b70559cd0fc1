package p2p

import (
	"bytes"
	"io"

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
