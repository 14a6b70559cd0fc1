package wire

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
)

const (
	// EOT ends every frame on the wire.
	EOT = 0x04
	// CompressedMark is the byte before EOT that marks a compressed frame.
	CompressedMark = 0x02
)

// Errors returned while decoding a frame. They are wrapped with detail; test
// them with errors.Is.
var (
	ErrBadBase64          = errors.New("wire: compressed frame is not valid base64")
	ErrUnknownCompression = errors.New("wire: compressed frame has no known codec tag")
	ErrCorrupt            = errors.New("wire: compressed frame does not decompress")
	ErrTooLarge           = errors.New("wire: decompressed payload exceeds the limit")
)

// NeedsCompressedPath reports whether payload cannot travel as a raw frame
// exactly: an empty payload (the reference never consumes an empty frame), one
// holding EOT, or one whose first CompressedMark is its last byte (it would be
// read as compressed). Such payloads go out on the compressed path instead,
// which every p2pnetwork peer decodes back to the exact bytes.
func NeedsCompressedPath(payload []byte) bool {
	if len(payload) == 0 || bytes.IndexByte(payload, EOT) >= 0 {
		return true
	}
	return IsCompressedFrame(payload)
}

// AppendFrame appends the frame carrying payload with compression c to dst
// and returns the extended slice. With CompressionNone a payload that raw
// framing cannot carry exactly is sent zlib-compressed (see
// NeedsCompressedPath).
func AppendFrame(dst, payload []byte, c Compression) ([]byte, error) {
	if c == CompressionNone {
		if !NeedsCompressedPath(payload) {
			dst = append(dst, payload...)
			return append(dst, EOT), nil
		}
		c = CompressionZlib
	}
	body, err := Compress(payload, c)
	if err != nil {
		return dst, err
	}
	n := base64.StdEncoding.EncodedLen(len(body))
	start := len(dst)
	dst = grow(dst, n+2)
	base64.StdEncoding.Encode(dst[start:start+n], body)
	dst[start+n] = CompressedMark
	dst[start+n+1] = EOT
	return dst, nil
}

// grow extends dst by n bytes, reallocating at most once.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) < n {
		nd := make([]byte, len(dst), 2*cap(dst)+n)
		copy(nd, dst)
		dst = nd
	}
	return dst[:len(dst)+n]
}

// IsCompressedFrame reports whether frame (without its EOT) is a compressed
// frame by the reference's rule: its first CompressedMark is its last byte.
func IsCompressedFrame(frame []byte) bool {
	if len(frame) == 0 || frame[len(frame)-1] != CompressedMark {
		// Its last byte is not a mark: no scan can find it compressed.
		return false
	}
	i := bytes.IndexByte(frame, CompressedMark)
	return i >= 0 && i == len(frame)-1
}

// DecodeFrame turns one frame (without its EOT) into its payload. Raw frames
// are returned as they are (aliasing frame); compressed frames are decoded
// and decompressed, producing at most maxPayload bytes (0 means no limit).
// The codec used is returned too.
func DecodeFrame(frame []byte, maxPayload int) ([]byte, Compression, error) {
	if !IsCompressedFrame(frame) {
		return frame, CompressionNone, nil
	}
	enc := frame[:len(frame)-1]
	body := make([]byte, base64.StdEncoding.DecodedLen(len(enc)))
	n, err := base64.StdEncoding.Decode(body, enc)
	if err != nil {
		return nil, CompressionNone, fmt.Errorf("%w: %v", ErrBadBase64, err)
	}
	body = body[:n]
	c, data := splitTag(body)
	if c == CompressionNone {
		return nil, CompressionNone, ErrUnknownCompression
	}
	out, err := Decompress(data, c, maxPayload)
	return out, c, err
}

// splitTag finds the codec tag that ends body, as the reference checks them.
func splitTag(body []byte) (Compression, []byte) {
	for _, c := range []Compression{CompressionZlib, CompressionBzip2, CompressionLzma} {
		if tag := c.String(); bytes.HasSuffix(body, []byte(tag)) {
			return c, body[:len(body)-len(tag)]
		}
	}
	return CompressionNone, body
}
