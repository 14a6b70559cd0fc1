package wire

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/klauspost/compress/zlib"
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

// The codecs are pure Go, chosen for speed on the bench's 64 KiB text
// against CPython's C modules (issue 20): zlib is klauspost/compress (its
// level 6 compresses about 6x faster than compress/zlib, bodies ~10%
// larger than CPython's, which decodes them); bzip2 is this package's own
// encoder (bzip2_encode.go; dsnet/compress's, the only other pure-Go one,
// is slower than libbz2) and decoder (bzip2_decode.go: about twice as fast
// as dsnet/compress's and three times compress/bzip2's, and it allocates
// only its output); lzma is ulikunitz/xz.
//
// Codec state is large (zlib's is hundreds of KiB) and costs more to make
// than to use on a small message, so writers and readers are reused.
var (
	zlibWriters   = sync.Pool{New: func() any { w, _ := zlib.NewWriterLevel(nil, 6); return w }}
	bzip2Encoders = sync.Pool{New: func() any { return new(bzip2Encoder) }}
	zlibReaders   sync.Pool
	bzip2Decoders = sync.Pool{New: func() any { return new(bzip2Decoder) }}
)

// Compress compresses data with c and appends c's tag, as the reference
// does before base64: zlib at level 6, bzip2 at level 9, lzma as the .xz
// container with a CRC64 check (Python's lzma.compress defaults).
func Compress(data []byte, c Compression) ([]byte, error) {
	var b bytes.Buffer
	// Text shrinks to a fifth or less: one allocation for most bodies
	// instead of the buffer's doublings from 64 bytes.
	b.Grow(len(data)/4 + 64)
	var w io.WriteCloser
	switch c {
	case CompressionZlib:
		zw := zlibWriters.Get().(*zlib.Writer)
		defer zlibWriters.Put(zw)
		zw.Reset(&b)
		w = zw
	case CompressionBzip2:
		enc := bzip2Encoders.Get().(*bzip2Encoder)
		defer bzip2Encoders.Put(enc)
		out := enc.encode(b.Bytes(), data)
		return append(out, c.String()...), nil
	case CompressionLzma:
		xw, err := xz.WriterConfig{CheckSum: xz.CRC64, DictCap: xzDictCap(len(data))}.NewWriter(&b)
		if err != nil {
			return nil, fmt.Errorf("wire: lzma writer: %w", err)
		}
		w = xw
	default:
		return nil, fmt.Errorf("%w: %v", ErrUnknownCodec, c)
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
	drained := false // the decoder returned io.EOF: all of its output was read
	switch c {
	case CompressionZlib:
		var zr io.ReadCloser
		var err error
		if pooled, ok := zlibReaders.Get().(io.ReadCloser); ok {
			zr, err = pooled, pooled.(zlib.Resetter).Reset(bytes.NewReader(data), nil)
		} else {
			zr, err = zlib.NewReader(bytes.NewReader(data))
		}
		if err != nil {
			return nil, fmt.Errorf("%w: zlib: %v", ErrCorrupt, err)
		}
		defer zlibReaders.Put(zr)
		r = zr
	case CompressionBzip2:
		d := bzip2Decoders.Get().(*bzip2Decoder)
		out, err := d.decode([]byte{}, data, max) // no payload is empty, not nil, as the other codecs
		bzip2Decoders.Put(d)
		if errors.Is(err, errBzip2Limit) {
			return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, max)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		return out, nil
	case CompressionLzma:
		if err := checkXZ(data); err != nil {
			if errors.Is(err, ErrTooLarge) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		xr, err := xz.ReaderConfig{SingleStream: true}.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%w: lzma: %v", ErrCorrupt, err)
		}
		r = xr
	default:
		return nil, fmt.Errorf("%w: %v", ErrUnknownCodec, c)
	}
	out, drained, err := readAll(r, len(data), max)
	if err != nil {
		return nil, fmt.Errorf("%w: %v: %v", ErrCorrupt, c, err)
	}
	if !drained {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, max)
	}
	return out, nil
}

// readAll reads r to its end into one buffer, sized at first for text that
// shrank fivefold (n compressed bytes), and stops with drained false when
// r has more than max bytes (max 0: no limit).
func readAll(r io.Reader, n, max int) (out []byte, drained bool, err error) {
	size := min(5*n+512, 16<<20)
	if max > 0 {
		size = min(size, max+1)
	}
	out = make([]byte, 0, size)
	for {
		if len(out) == cap(out) {
			if max > 0 && len(out) > max {
				return nil, false, nil
			}
			out = append(out, 0)[:len(out)]
		}
		k, err := r.Read(out[len(out):cap(out)])
		out = out[:len(out)+k]
		if max > 0 && len(out) > max {
			return nil, false, nil
		}
		if err == io.EOF {
			return out, true, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
}

// xzDictCap is the LZMA2 dictionary for compressing n bytes: Python's
// default (8 MiB), or less when the data is smaller. A dictionary larger
// than the data finds no more matches, but the writer allocates and clears
// tables of its size for every message (50 MB and most of the time for a
// 64 KiB one), and a receiver allocates what the header declares.
func xzDictCap(n int) int {
	const min, max = 4 << 10, 8 << 20
	c := min
	for c < n && c < max {
		c *= 2
	}
	return c
}
