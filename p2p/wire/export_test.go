package wire

// Bzip2Decode decodes src with the package's bzip2 decoder, to at most max
// bytes (0: no limit), and reports whether a Huffman table of it was
// degenerate (not a complete code), which compress/bzip2 reads otherwise.
func Bzip2Decode(src []byte, max int) (out []byte, degenerate bool, err error) {
	var d bzip2Decoder
	out, err = d.decode(nil, src, max)
	return out, d.degenerate, err
}

// ErrBzip2Limit is the decoder's error for output past the limit.
var ErrBzip2Limit = errBzip2Limit
