package native

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
)

// SealedCapability, offered by both hellos, moves the connection from TLS
// records to sealed records once the hellos are through (see "Sealed
// records" in doc.go).
const SealedCapability = "sealed/1"

// Sealed records: a 4-byte big-endian length of what follows, then that
// many bytes: the AES-128-GCM sealing of up to MaxRecordPlain bytes of the
// frame stream, with its 16-byte tag. The length is the additional data, so
// that it is authenticated too. A record with nothing sealed in it (the
// tag alone) ends the direction, as TLS close_notify does.
const (
	RecordHeaderSize = 4
	RecordTagSize    = 16
	// MaxRecordPlain is TLS's record size: what a reader holds of a record
	// it waits for the rest of is as bounded as it was under TLS.
	MaxRecordPlain = 16 << 10
	// MaxRecordSize is the largest record on the wire, header included.
	MaxRecordSize = RecordHeaderSize + MaxRecordPlain + RecordTagSize
)

// Exporter labels: a key and a nonce mask per direction, from TLS 1.3's
// exporter (RFC 8446, section 7.5) of the handshake that authenticated both
// peers, so that the records are bound to it.
const (
	labelDialerToListener = "EXPORTER-p2pnode sealed/1 dialer to listener"
	labelListenerToDialer = "EXPORTER-p2pnode sealed/1 listener to dialer"
	keySize               = 16
	nonceSize             = 12
)

// ErrRecord is what a record that fails to open, or announces an
// impossible length, is reported as: the connection ends.
var ErrRecord = errors.New("native: bad sealed record")

// RecordCipher seals or opens one direction's records, in order: the
// record's sequence number, XORed into the nonce mask, is its nonce, so a
// record replayed, dropped or moved fails to open. Not for concurrent use.
type RecordCipher struct {
	aead  cipher.AEAD
	mask  [nonceSize]byte
	nonce [nonceSize]byte // the current record's (a field: a local escapes)
	seq   uint64
}

// Exporter is tls.ConnectionState.ExportKeyingMaterial.
type Exporter func(label string, context []byte, length int) ([]byte, error)

// NewRecordCiphers derives the ciphers of a connection: seal for what this
// side writes, open for what it reads; dialer tells which side it is.
func NewRecordCiphers(export Exporter, dialer bool) (seal, open *RecordCipher, err error) {
	out, in := labelDialerToListener, labelListenerToDialer
	if !dialer {
		out, in = in, out
	}
	if seal, err = newRecordCipher(export, out); err != nil {
		return nil, nil, err
	}
	if open, err = newRecordCipher(export, in); err != nil {
		return nil, nil, err
	}
	return seal, open, nil
}

func newRecordCipher(export Exporter, label string) (*RecordCipher, error) {
	secret, err := export(label, nil, keySize+nonceSize)
	if err != nil {
		return nil, fmt.Errorf("export record keys: %w", err)
	}
	block, err := aes.NewCipher(secret[:keySize])
	if err != nil {
		return nil, fmt.Errorf("record cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("record cipher: %w", err)
	}
	c := &RecordCipher{aead: aead}
	copy(c.mask[:], secret[keySize:])
	return c, nil
}

// next makes the nonce of the next record.
func (c *RecordCipher) next() error {
	if c.seq == ^uint64(0) {
		// Never reached in practice (2^64 records); a nonce is never reused.
		return fmt.Errorf("%w: sequence numbers used up", ErrRecord)
	}
	c.nonce = c.mask
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], c.seq)
	for i, b := range seq {
		c.nonce[nonceSize-8+i] ^= b
	}
	c.seq++
	return nil
}

// Seal appends to dst the record of plain (at most MaxRecordPlain bytes;
// none for the closing record).
func (c *RecordCipher) Seal(dst, plain []byte) ([]byte, error) {
	if len(plain) > MaxRecordPlain {
		return dst, fmt.Errorf("%w: %d bytes in one record, at most %d", ErrRecord, len(plain), MaxRecordPlain)
	}
	if err := c.next(); err != nil {
		return dst, err
	}
	at := len(dst)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(plain)+RecordTagSize))
	return c.aead.Seal(dst, c.nonce[:], plain, dst[at:at+RecordHeaderSize]), nil
}

// RecordLength reads a record's header: the bytes that follow it, checked
// against the limits.
func RecordLength(hdr []byte) (int, error) {
	n := int(binary.BigEndian.Uint32(hdr))
	if n < RecordTagSize || n > MaxRecordPlain+RecordTagSize {
		return 0, fmt.Errorf("%w: a record of %d bytes", ErrRecord, n)
	}
	return n, nil
}

// Open appends to dst what record (header and body, as RecordLength read
// it) seals. A record that was altered, replayed or moved fails with
// ErrRecord; the connection cannot go on after that.
func (c *RecordCipher) Open(dst, record []byte) ([]byte, error) {
	if err := c.next(); err != nil {
		return dst, err
	}
	out, err := c.aead.Open(dst, c.nonce[:], record[RecordHeaderSize:], record[:RecordHeaderSize])
	if err != nil {
		return dst, fmt.Errorf("%w: record %d does not open (altered, replayed or out of order)", ErrRecord, c.seq-1)
	}
	return out, nil
}
