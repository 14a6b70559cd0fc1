package wire

import (
	"bytes"
	"compress/bzip2"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strings"

	dbzip2 "github.com/dsnet/compress/bzip2"
	"github.com/ulikunitz/xz"
)

// Compression names a codec of the compressed-frame encoding.
type Compression int

// The codecs of p2pnetwork. Their String values are also the tags that end a
// compressed body on the wire.
const (
	CompressionNone Compression = iota
	CompressionZlib
	CompressionBzip2
	CompressionLzma
)

// ErrUnknownCodec is returned by ParseCompression for a name it does not know.
var ErrUnknownCodec = errors.New("wire: unknown compression")

func (c Compression) String() string {
	switch c {
	case CompressionNone:
		return "none"
	case CompressionZlib:
		return "zlib"
	case CompressionBzip2:
		return "bzip2"
	case CompressionLzma:
		return "lzma"
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}

// ParseCompression maps the reference's names ("none" or "", "zlib",
// "bzip2", "lzma"; case-insensitive) to a Compression.
func ParseCompression(name string) (Compression, error) {
	switch strings.ToLower(name) {
	case "", "none":
		return CompressionNone, nil
	case "zlib":
		return CompressionZlib, nil
	case "bzip2":
		return CompressionBzip2, nil
	case "lzma":
		return CompressionLzma, nil
	}
	return CompressionNone, fmt.Errorf("%w %q (want none, zlib, bzip2 or lzma)", ErrUnknownCodec, name)
}

// Compress compresses data with c and appends c's tag, as the reference
// does before base64: zlib at level 6, bzip2 at level 9, lzma as the .xz
// container with a CRC64 check (Python's lzma.compress defaults).
func Compress(data []byte, c Compression) ([]byte, error) {
	var b bytes.Buffer
	var w io.WriteCloser
	var err error
	switch c {
	case CompressionZlib:
		w, err = zlib.NewWriterLevel(&b, 6)
	case CompressionBzip2:
		w, err = dbzip2.NewWriter(&b, &dbzip2.WriterConfig{Level: 9})
	case CompressionLzma:
		w, err = xz.WriterConfig{CheckSum: xz.CRC64}.NewWriter(&b)
	default:
		return nil, fmt.Errorf("%w: %v", ErrUnknownCodec, c)
	}
	if err != nil {
		return nil, fmt.Errorf("wire: %v writer: %w", c, err)
	}
	if _, err := w.Write(data); err != nil {
		return nil, fmt.Errorf("wire: %v compress: %w", c, err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("wire: %v compress: %w", c, err)
	}
	b.WriteString(c.String())
	return b.Bytes(), nil
}

// Decompress inflates data (without its tag) with c, producing at most max
// bytes (0 means no limit): a compression bomb stops at the limit with
// ErrTooLarge instead of exhausting memory.
func Decompress(data []byte, c Compression, max int) ([]byte, error) {
	var r io.Reader
	switch c {
	case CompressionZlib:
		zr, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%w: zlib: %v", ErrCorrupt, err)
		}
		defer zr.Close()
		r = zr
	case CompressionBzip2:
		r = bzip2.NewReader(bytes.NewReader(data))
	case CompressionLzma:
		xr, err := xz.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%w: lzma: %v", ErrCorrupt, err)
		}
		r = xr
	default:
		return nil, fmt.Errorf("%w: %v", ErrUnknownCodec, c)
	}
	if max > 0 {
		r = io.LimitReader(r, int64(max)+1)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v: %v", ErrCorrupt, c, err)
	}
	if max > 0 && len(out) > max {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, max)
	}
	return out, nil
}
