package wire_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p/wire"
)

// referenceFrame is one frame as a p2pnetwork 1.2 peer writes it, made by
// p2p/testdata/gen_reference_frames.py with Python's zlib, bz2 and lzma.
type referenceFrame struct {
	Name        string `json:"name"`
	Compression string `json:"compression"`
	Frame       []byte `json:"frame"`
	Payload     []byte `json:"payload"`
	Kind        string `json:"kind"`
}

func loadReferenceFrames(t *testing.T) []referenceFrame {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "reference_frames.json"))
	require.NoError(t, err)
	var frames []referenceFrame
	require.NoError(t, json.Unmarshal(b, &frames))
	require.NotEmpty(t, frames)
	return frames
}

// TestDecodeReferenceFrames decodes frames written by Python's codecs, as
// a p2pnetwork peer sends them, without needing Python.
func TestDecodeReferenceFrames(t *testing.T) {
	for _, f := range loadReferenceFrames(t) {
		t.Run(f.Name, func(t *testing.T) {
			require.NotEmpty(t, f.Frame)
			require.Equal(t, byte(wire.EOT), f.Frame[len(f.Frame)-1])
			body := f.Frame[:len(f.Frame)-1]
			require.Equal(t, -1, bytes.IndexByte(body, wire.EOT), "one frame")
			assert.Equal(t, f.Compression != "none", wire.IsCompressedFrame(body))

			payload, c, err := wire.DecodeFrame(body, 1<<20)
			require.NoError(t, err)
			assert.Equal(t, f.Payload, payload)
			assert.Equal(t, f.Compression, c.String())
			assert.Equal(t, f.Kind, wire.Classify(payload).String())
		})
	}
}

// TestEncodeLikeReference checks that our frames are the reference's where
// the bytes are fixed (raw frames and the base64 envelope), and that for
// compressed frames the tag, the codec and the payload are the same.
func TestEncodeLikeReference(t *testing.T) {
	for _, f := range loadReferenceFrames(t) {
		t.Run(f.Name, func(t *testing.T) {
			c, err := wire.ParseCompression(f.Compression)
			require.NoError(t, err)
			ours, err := wire.AppendFrame(nil, f.Payload, c)
			require.NoError(t, err)
			if c == wire.CompressionNone {
				assert.Equal(t, f.Frame, ours, "a raw frame is payload + EOT")
				return
			}
			require.True(t, bytes.HasSuffix(ours, []byte{wire.CompressedMark, wire.EOT}))
			body, err := base64.StdEncoding.DecodeString(string(ours[:len(ours)-2]))
			require.NoError(t, err, "standard, padded base64 as Python's b64encode")
			assert.True(t, bytes.HasSuffix(body, []byte(f.Compression)), "ends with the tag %q", f.Compression)
			payload, _, err := wire.DecodeFrame(ours[:len(ours)-1], 0)
			require.NoError(t, err)
			assert.Equal(t, f.Payload, payload)
		})
	}
}
