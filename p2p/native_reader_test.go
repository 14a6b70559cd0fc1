package p2p

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// recordReader reads like a TLS connection: at most what is left of the
// current record per read, records of recordSize bytes.
type recordReader struct {
	recordSize, left int
}

func (r *recordReader) Read(b []byte) (int, error) {
	if r.left == 0 {
		r.left = r.recordSize
	}
	k := min(len(b), r.left)
	r.left -= k
	return k, nil
}

// readerBufferSizes fills a native reader from src reads times, parsing
// the 72-byte frames of 64 B messages as the reader does: the whole ones
// read, whose messages alias the buffer, and the rest of the last one
// waits for the next read. It returns the size of the buffer each read
// went into.
func readerBufferSizes(src *recordReader, reads int) []int {
	const frame = 72
	r := &nativeReader{conn: src}
	sizes := make([]int, 0, reads)
	for range reads {
		if err := r.fill(frame); err != nil {
			panic(err)
		}
		sizes = append(sizes, len(r.buf))
		if whole := (r.w - r.start) / frame * frame; whole > 0 {
			r.start += whole
			r.aliased = true
		}
	}
	return sizes
}

func TestNativeReaderBusyStreamGetsBigBuffers(t *testing.T) {
	// Full 16 KiB records: a read fills what room a buffer has, less the
	// part of a frame moved into it from the last one. After the first,
	// small buffer every read goes into a big one (a reader that sized
	// buffers by its last read alone stayed in small ones: no read into a
	// 4 KiB buffer that starts with part of a frame returns 4 KiB).
	sizes := readerBufferSizes(&recordReader{recordSize: 16 << 10}, 500)
	require.Equal(t, readBufferMin, sizes[0], "a reader starts with a small buffer")
	for i, size := range sizes[1:] {
		require.Equal(t, readBufferMax, size, "read %d of a busy stream", i+1)
	}
}

func TestNativeReaderQuietStreamKeepsSmallBuffers(t *testing.T) {
	// Records of 100 bytes, each read whole into room to spare: the
	// stream is quiet, and its buffers stay small.
	for i, size := range readerBufferSizes(&recordReader{recordSize: 100}, 500) {
		require.Equal(t, readBufferMin, size, "read %d of a quiet stream", i)
	}
}
