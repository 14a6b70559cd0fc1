package p2p

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/p2pnode/p2pnode/p2p/native"
)

// Sealed records (native.SealedCapability): once both hellos offered them,
// each direction goes on in records that this package seals and opens
// itself, with keys exported from the TLS handshake, instead of TLS's. TLS
// copies every byte twice more than the frame stream needs: into its record
// buffer before sealing it and out of its input buffer after opening it,
// and the writer copied its records once more to gather them into one
// system call. Sealed records are sealed straight into the gathered write
// and opened straight from the socket's buffer into the reader's.

// recordBound is what TLS reads the socket through during the handshake:
// it hands TLS at most the rest of the record TLS is reading, so that when
// the peer's hello has been read, TLS holds nothing after it. What follows
// it (sealed records, when both sides offered them) stays buffered below,
// in the socket's reader, for the sealed connection.
type recordBound struct {
	net.Conn
	on   bool // off once TLS stays: nothing follows it then
	hdr  [5]byte
	hdrN int // bytes of the next record's header read
	left int // bytes of the current record's body not read yet
}

func (c *recordBound) Read(b []byte) (int, error) {
	if !c.on {
		return c.Conn.Read(b)
	}
	if c.left > 0 {
		b = b[:min(len(b), c.left)]
	} else {
		b = b[:min(len(b), len(c.hdr)-c.hdrN)]
	}
	k, err := c.Conn.Read(b)
	switch {
	case c.left > 0:
		c.left -= k
	default:
		c.hdrN += copy(c.hdr[c.hdrN:], b[:k])
		if c.hdrN == len(c.hdr) {
			// A TLS record header: type, version, and the body's length.
			c.left, c.hdrN = int(c.hdr[3])<<8|int(c.hdr[4]), 0
		}
	}
	return k, err
}

// sealedConn is a native peer's connection in sealed records. Reads are the
// reader's alone; writes are serialized (the writer, control frames, the
// close).
type sealedConn struct {
	*countingConn // the socket: deadlines, Close, counting, gathering

	recMu   sync.Mutex // serializes records: Write, CloseWrite
	seal    *native.RecordCipher
	wclosed bool // the closing record went out
	werr    error

	open *native.RecordCipher
	// plain: a record opened in place, in the socket's buffer, for a read
	// smaller than it, and not read yet; held: the record's size, consumed
	// from the buffer once plain is read.
	plain []byte
	held  int
	eof   bool // the peer's closing record came
	rerr  error
}

// errWriteClosed is what a write after CloseWrite returns.
var errWriteClosed = errors.New("p2p: write after the closing record")

func newSealedConn(raw *countingConn, export native.Exporter, dialer bool) (*sealedConn, error) {
	seal, open, err := native.NewRecordCiphers(export, dialer)
	if err != nil {
		return nil, err
	}
	return &sealedConn{countingConn: raw, seal: seal, open: open}, nil
}

// Write seals b in records of at most native.MaxRecordPlain bytes.
func (c *sealedConn) Write(b []byte) (int, error) {
	c.recMu.Lock()
	defer c.recMu.Unlock()
	if c.wclosed {
		return 0, errWriteClosed
	}
	done := 0
	for done < len(b) {
		piece := b[done:min(len(b), done+native.MaxRecordPlain)]
		if err := c.writeRecord(piece); err != nil {
			return done, err
		}
		done += len(piece)
	}
	return done, nil
}

// CloseWrite sends the closing record: nothing more comes from us (as TLS
// close_notify says).
func (c *sealedConn) CloseWrite() error {
	c.recMu.Lock()
	defer c.recMu.Unlock()
	if c.wclosed {
		return nil
	}
	c.wclosed = true
	return c.writeRecord(nil)
}

// writeRecord seals plain into the writer's gathered batch, or, outside a
// batch, writes its record at once. c.recMu is held.
func (c *sealedConn) writeRecord(plain []byte) error {
	if c.werr != nil {
		return c.werr
	}
	ok, err := c.sealGathered(c.seal, plain)
	if !ok {
		var rec []byte
		if rec, err = c.seal.Seal(make([]byte, 0, native.RecordHeaderSize+len(plain)+native.RecordTagSize), plain); err == nil {
			var k int
			k, err = c.Conn.Write(rec)
			c.written.Add(int64(k))
		}
	}
	// A record half written, or sealed and not written, leaves the stream
	// broken: every write after it fails too.
	c.werr = err
	return err
}

// Read opens records into b, as many whole ones as fit, from what the
// socket's reader holds. In the reader's noWait mode it returns
// errWouldWait rather than wait for more of the socket.
func (c *sealedConn) Read(b []byte) (int, error) {
	if len(c.plain) > 0 {
		k := copy(b, c.plain)
		c.plain = c.plain[k:]
		if len(c.plain) == 0 {
			c.consume(c.held)
			c.held = 0
		}
		return k, nil
	}
	if len(b) == 0 {
		return 0, nil
	}
	for {
		k, err := c.openBuffered(b)
		if k > 0 || err != nil {
			return k, err
		}
		if err := c.readMore(); err != nil {
			return 0, truncated(err)
		}
	}
}

// openBuffered opens the whole records buffered into b, while they fit. A
// record larger than b, first in line, is opened in place and served from
// there.
func (c *sealedConn) openBuffered(b []byte) (int, error) {
	if c.rerr != nil {
		return 0, c.rerr
	}
	s := &c.sr
	total := 0
	for !c.eof && s.w-s.r >= native.RecordHeaderSize {
		n, err := native.RecordLength(s.buf[s.r:s.w])
		if err != nil {
			c.rerr = err
			break
		}
		size := native.RecordHeaderSize + n
		if s.w-s.r < size {
			break
		}
		rec := s.buf[s.r : s.r+size]
		plain := n - native.RecordTagSize
		if plain > len(b)-total && total > 0 {
			break
		}
		if plain > len(b) {
			out, err := c.open.Open(rec[native.RecordHeaderSize:native.RecordHeaderSize], rec)
			if err != nil {
				c.consume(size)
				c.rerr = err
				break
			}
			total = copy(b, out)
			c.plain, c.held = out[total:], size
			break
		}
		_, err = c.open.Open(b[total:total], rec)
		c.consume(size)
		if err != nil {
			c.rerr = err
			break
		}
		if plain == 0 {
			c.eof = true
			break
		}
		total += plain
	}
	switch {
	case total > 0:
		return total, nil
	case c.rerr != nil:
		return 0, c.rerr
	case c.eof:
		return 0, io.EOF
	}
	return 0, nil
}

// buffered reports whether bytes read from the socket wait to be read.
func (c *sealedConn) buffered() bool { return len(c.plain) > 0 || c.countingConn.buffered() }

// buffered reports whether bytes read from the socket wait in its buffer.
func (c *countingConn) buffered() bool { return c.sr.w > c.sr.r }

// consume drops k bytes read from the socket's buffer, giving it back to
// the pool once drained.
func (c *countingConn) consume(k int) {
	s := &c.sr
	s.r += k
	if s.r == s.w {
		sockPool.Put((*[sockBufSize]byte)(s.buf))
		s.buf, s.r, s.w = nil, 0, 0
	}
}

// readMore reads the socket into its buffer, after what is buffered: with
// nothing buffered, the wait holds no buffer (readSock). It never waits in
// noWait mode (errWouldWait), and a read that got nothing returns its
// error, or io.ErrNoProgress. (TLS reads through it too, Read.)
func (c *countingConn) readMore() error {
	s := &c.sr
	s.once.Do(func() { s.rc = idleReader(c.Conn) })
	if s.noWait {
		return errWouldWait
	}
	if s.r == s.w {
		var buf []byte
		var k int
		var err error
		if s.rc != nil {
			buf, k, err = readSock(s.rc)
		} else {
			b := sockPool.Get().(*[sockBufSize]byte)
			buf = b[:]
			k, err = c.Conn.Read(buf)
		}
		if k == 0 {
			if buf != nil {
				sockPool.Put((*[sockBufSize]byte)(buf))
			}
			return noProgress(err)
		}
		s.buf, s.r, s.w = buf, 0, k
		return nil
	}
	// The rest of a record: the part buffered moves to the front, and the
	// read goes on after it.
	if s.r > 0 {
		s.w = copy(s.buf, s.buf[s.r:s.w])
		s.r = 0
	}
	k, err := c.Conn.Read(s.buf[s.w:])
	s.w += k
	if k == 0 {
		return noProgress(err)
	}
	return nil
}

func noProgress(err error) error {
	if err == nil {
		return io.ErrNoProgress
	}
	return err
}

// truncated is the error of a sealed read that got nothing: the end of
// the socket before the peer's closing record means the stream was cut,
// and the last bytes may be missing.
func truncated(err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: the connection ended without its closing record", io.ErrUnexpectedEOF)
	}
	return err
}

// sealGathered seals plain as a record straight into the batch the writer
// gathers, when it gathers one (ok).
func (c *countingConn) sealGathered(seal *native.RecordCipher, plain []byte) (ok bool, err error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.wbuf == nil {
		return false, nil
	}
	if c.werr != nil {
		return true, c.werr
	}
	// A gathered batch holds chunkSize bytes, four records at least.
	if len(c.wbuf)+native.RecordHeaderSize+len(plain)+native.RecordTagSize > cap(c.wbuf) {
		if err := c.flushLocked(); err != nil {
			return true, err
		}
	}
	c.wbuf, err = seal.Seal(c.wbuf, plain)
	return true, err
}
