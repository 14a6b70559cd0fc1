// Package wire is the p2pnetwork wire format: the id handshake, EOT-delimited
// frames, the base64 compressed-frame encoding with its zlib, bzip2 and lzma
// (xz) codecs, the classification of a received payload as JSON, text or
// bytes, and JSON encoding as Python's json.dumps writes it.
//
// It does no I/O of its own beyond the io.Reader/io.Writer it is handed, so
// every piece can be tested and fuzzed in isolation.
package wire
