package wire_test

// Fuzz targets of the wire format. `go test` runs their seed corpora
// (testdata/fuzz/<FuzzName>/) as ordinary tests; `make fuzz` (.ci/fuzz.sh)
// fuzzes each for a bounded time. The seed files are written by
// TestWriteFuzzSeeds (P2PNODE_WRITE_SEEDS=1 go test -run TestWriteFuzzSeeds).

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p/wire"
)

// fuzzLimit is the decompressed-size limit the decoders get while fuzzing.
const fuzzLimit = 1 << 20

// allocBound is the most one decode of a small input may allocate: the
// limit, a legitimate xz dictionary (Python's default preset uses 8 MiB,
// preset 9 64 MiB) and slack. A decoder that allocates what a hostile header
// declares (4 GiB) goes far beyond.
const allocBound = 256 << 20

func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

var codecs = []wire.Compression{wire.CompressionNone, wire.CompressionZlib, wire.CompressionBzip2, wire.CompressionLzma}

// FuzzDecodeFrame decodes arbitrary frames (the bytes between two EOTs):
// never a panic, a compressed payload never over the limit, a raw frame
// returned as it is, and a decoded compressed frame re-encodes to the same
// payload.
func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte("hello"))
	f.Add([]byte("\x02"))
	f.Add([]byte("eJzLSM3JyQcABiwCFXpsaWI=\x02"))
	f.Fuzz(func(t *testing.T, frame []byte) {
		if bytes.IndexByte(frame, wire.EOT) >= 0 {
			// The splitter never hands over a frame with an EOT in it.
			frame = bytes.ReplaceAll(frame, []byte{wire.EOT}, nil)
		}
		before := totalAlloc()
		payload, c, err := wire.DecodeFrame(frame, fuzzLimit)
		if used := totalAlloc() - before; used > allocBound {
			t.Fatalf("decoding a %d-byte frame allocated %d bytes", len(frame), used)
		}
		if !wire.IsCompressedFrame(frame) {
			require.NoError(t, err)
			require.Equal(t, wire.CompressionNone, c)
			require.Equal(t, frame, payload)
			return
		}
		if err != nil {
			require.True(t, errors.Is(err, wire.ErrBadBase64) || errors.Is(err, wire.ErrUnknownCompression) ||
				errors.Is(err, wire.ErrCorrupt) || errors.Is(err, wire.ErrTooLarge), "unexpected error %v", err)
			return
		}
		require.LessOrEqual(t, len(payload), fuzzLimit)
		require.NotEqual(t, wire.CompressionNone, c)
		again, err := wire.AppendFrame(nil, payload, c)
		require.NoError(t, err)
		back, c2, err := wire.DecodeFrame(again[:len(again)-1], 0)
		require.NoError(t, err)
		require.Equal(t, c, c2)
		require.Equal(t, payload, back)
	})
}

// FuzzFrameRoundTrip sends payloads through AppendFrame, concatenates the
// frames into one stream, splits the stream on EOT as a receiver does and
// decodes every frame: each payload comes back exactly, with no EOT inside
// a frame.
func FuzzFrameRoundTrip(f *testing.F) {
	f.Add([]byte("hello"), []byte{}, uint8(0))
	f.Add([]byte{}, []byte("\x04"), uint8(1))
	f.Add([]byte("a\x02"), []byte("\x02a\x02"), uint8(2))
	f.Add([]byte("{\"a\": 1}"), []byte("x"), uint8(3))
	f.Fuzz(func(t *testing.T, a, b []byte, codec uint8) {
		c := codecs[int(codec)%len(codecs)]
		// bzip2 at level 9 and xz are slow to set up: only the first
		// payload goes through c, the second raw (which may fall back).
		var stream []byte
		var err error
		stream, err = wire.AppendFrame(stream, a, c)
		require.NoError(t, err)
		stream, err = wire.AppendFrame(stream, b, wire.CompressionNone)
		require.NoError(t, err)
		require.Equal(t, byte(wire.EOT), stream[len(stream)-1])

		want := [][]byte{a, b}
		for i := range want {
			j := bytes.IndexByte(stream, wire.EOT)
			require.GreaterOrEqual(t, j, 0, "frame %d is missing", i)
			frame := stream[:j]
			stream = stream[j+1:]
			payload, got, err := wire.DecodeFrame(frame, 0)
			require.NoError(t, err, "frame %d", i)
			assert.Equal(t, want[i], payload, "frame %d", i)
			wantCodec := c
			if i == 1 {
				wantCodec = wire.CompressionNone
			}
			if wantCodec == wire.CompressionNone && wire.NeedsCompressedPath(want[i]) {
				wantCodec = wire.CompressionZlib
			}
			assert.Equal(t, wantCodec, got, "frame %d", i)
		}
		require.Empty(t, stream, "bytes left after the last frame")
	})
}

// FuzzDecompress inflates arbitrary bodies with each codec: never a panic,
// never more than the limit, never an allocation out of proportion, and
// only the package's errors.
func FuzzDecompress(f *testing.F) {
	f.Add([]byte("x\x9c\xcbH\xcd\xc9\xc9\a\x00\x06,\x02\x15"), uint8(1), uint32(100))
	f.Add([]byte("BZh91AY&SY"), uint8(2), uint32(100))
	f.Add([]byte("\xfd7zXZ\x00\x00\x04"), uint8(3), uint32(100))
	f.Fuzz(func(t *testing.T, data []byte, codec uint8, limit uint32) {
		c := codecs[int(codec)%len(codecs)]
		max := int(limit % (fuzzLimit + 1))
		if max == 0 {
			max = fuzzLimit // 0 would mean no limit: not what a node does
		}
		before := totalAlloc()
		out, err := wire.Decompress(data, c, max)
		if used := totalAlloc() - before; used > allocBound {
			t.Fatalf("%v: decompressing %d bytes with limit %d allocated %d bytes", c, len(data), max, used)
		}
		if c == wire.CompressionNone {
			require.ErrorIs(t, err, wire.ErrUnknownCodec)
			return
		}
		if err != nil {
			require.True(t, errors.Is(err, wire.ErrCorrupt) || errors.Is(err, wire.ErrTooLarge), "unexpected error %v", err)
			return
		}
		require.LessOrEqual(t, len(out), max)
	})
}

// FuzzParseHello checks the accepting side's reading of "<id>:<port>": the
// reference's rule, a port always in range, and Hello round trips.
func FuzzParseHello(f *testing.F) {
	f.Add([]byte("abc:8001"), 40000)
	f.Add([]byte("a:b:c"), 1)
	f.Add([]byte(":"), 2)
	f.Add([]byte("id: 99999"), 3)
	f.Add([]byte("id:-1"), 4)
	f.Add([]byte("id:+80"), 5)
	f.Fuzz(func(t *testing.T, hello []byte, sourcePort int) {
		if sourcePort < 0 || sourcePort > 65535 {
			sourcePort = int(uint(sourcePort) % 65536)
		}
		id, port := wire.ParseHello(hello, sourcePort)
		require.GreaterOrEqual(t, port, 0)
		require.LessOrEqual(t, port, 65535)
		text := string(hello)
		if strings.Count(text, ":") != 1 {
			require.Equal(t, text, id)
			require.Equal(t, sourcePort, port)
			return
		}
		before, _, _ := strings.Cut(text, ":")
		require.Equal(t, before, id)
		if !strings.Contains(id, ":") && port != sourcePort {
			id2, port2 := wire.ParseHello(wire.Hello(id, port), sourcePort^1)
			require.Equal(t, id, id2)
			require.Equal(t, port, port2)
		}
	})
}

// FuzzSplitReply checks the connecting side's split of the reply into the
// peer's id and glued bytes: nothing is lost or invented, and a generated
// id followed by more is cut after its 128 characters.
func FuzzSplitReply(f *testing.F) {
	id := strings.Repeat("0123456789abcdef", 8)
	f.Add([]byte(id))
	f.Add([]byte(id + "hello\x04"))
	f.Add([]byte(strings.ToUpper(id) + "x"))
	f.Add([]byte("short-id"))
	f.Fuzz(func(t *testing.T, chunk []byte) {
		id, rest := wire.SplitReply(chunk)
		require.Equal(t, string(chunk), id+string(rest), "the split loses or adds bytes")
		if len(rest) > 0 {
			require.Len(t, id, 128)
		}
		if len(chunk) > 128 && isLowerHexString(string(chunk[:128])) {
			require.Len(t, id, 128)
		}
	})
}

func isLowerHexString(s string) bool {
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// FuzzClassify compares Classify with pyLoads, a reference written from
// CPython's json scanner: what json.loads accepts is JSON, other UTF-8 text
// is text, the rest bytes. Inputs on which json.loads raises something
// other than JSONDecodeError (integers over 4300 digits, nesting past the
// recursion limit) are skipped: the reference peer's connection thread dies
// on them.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{"123", "NaN", "[NaN, -Infinity]", "{\"a\": Infinity}", "-NaN", "[1,]", "\"\\ud800\"",
		"1.", "01", "1e5", "\ufeff1", " [ ] ", "nul", "{\"a\" NaN}", "[Infinity1]", "\"a\x01\"", "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		got := wire.Classify(payload)
		want := wire.KindBytes
		if utf8.Valid(payload) {
			ok, skip := pyLoads(payload)
			if skip {
				t.Skip("json.loads raises ValueError/RecursionError here")
			}
			want = wire.KindText
			if ok {
				want = wire.KindJSON
			}
		}
		require.Equal(t, want, got, "payload %q", payload)
	})
}

// pyLoads reports whether Python's json.loads (strict mode) accepts s, and
// skip when it would raise something else than JSONDecodeError.
func pyLoads(s []byte) (ok, skip bool) {
	p := &pyScanner{s: s}
	p.ws()
	if !p.value(0) {
		return false, p.skip
	}
	p.ws()
	return p.i == len(p.s), p.skip
}

type pyScanner struct {
	s    []byte
	i    int
	skip bool
}

func (p *pyScanner) ws() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *pyScanner) lit(w string) bool {
	if bytes.HasPrefix(p.s[p.i:], []byte(w)) {
		p.i += len(w)
		return true
	}
	return false
}

func (p *pyScanner) value(depth int) bool {
	if depth > 900 {
		p.skip = true
		return false
	}
	if p.i >= len(p.s) {
		return false
	}
	switch p.s[p.i] {
	case '"':
		return p.str()
	case '{':
		return p.object(depth)
	case '[':
		return p.array(depth)
	case 'n':
		if p.lit("null") {
			return true
		}
	case 't':
		if p.lit("true") {
			return true
		}
	case 'f':
		if p.lit("false") {
			return true
		}
	case 'N':
		if p.lit("NaN") {
			return true
		}
	case 'I':
		if p.lit("Infinity") {
			return true
		}
	case '-':
		if p.lit("-Infinity") {
			return true
		}
	}
	return p.number()
}

func (p *pyScanner) digits() int {
	n := 0
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
		n++
	}
	return n
}

func (p *pyScanner) number() bool {
	start := p.i
	if p.i < len(p.s) && p.s[p.i] == '-' {
		p.i++
	}
	var intDigits int
	switch {
	case p.i < len(p.s) && p.s[p.i] == '0':
		p.i++
		intDigits = 1
	case p.i < len(p.s) && p.s[p.i] >= '1' && p.s[p.i] <= '9':
		intDigits = p.digits()
	default:
		p.i = start
		return false
	}
	isFloat := false
	if p.i+1 < len(p.s) && p.s[p.i] == '.' && p.s[p.i+1] >= '0' && p.s[p.i+1] <= '9' {
		p.i++
		p.digits()
		isFloat = true
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		j := p.i + 1
		if j < len(p.s) && (p.s[j] == '+' || p.s[j] == '-') {
			j++
		}
		if j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			p.i = j
			p.digits()
			isFloat = true
		}
	}
	if !isFloat && intDigits > 4300 {
		p.skip = true
		return false
	}
	return true
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func (p *pyScanner) str() bool {
	p.i++
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return false
			}
			switch p.s[p.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i += 2
			case 'u':
				if p.i+6 > len(p.s) {
					return false
				}
				for _, h := range p.s[p.i+2 : p.i+6] {
					if !isHex(h) {
						return false
					}
				}
				p.i += 6
			default:
				return false
			}
		default:
			p.i++
		}
	}
	return false
}

func (p *pyScanner) object(depth int) bool {
	p.i++
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return true
	}
	for {
		if p.i >= len(p.s) || p.s[p.i] != '"' || !p.str() {
			return false
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return false
		}
		p.i++
		p.ws()
		if !p.value(depth + 1) {
			return false
		}
		if done, ok := p.next('}'); done || !ok {
			return ok
		}
	}
}

func (p *pyScanner) array(depth int) bool {
	p.i++
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return true
	}
	for {
		if !p.value(depth + 1) {
			return false
		}
		if done, ok := p.next(']'); done || !ok {
			return ok
		}
	}
}

// next reads what follows a member or element: close ends the container
// (done), a comma goes on to the next one; anything else is an error.
func (p *pyScanner) next(close byte) (done, ok bool) {
	p.ws()
	if p.i >= len(p.s) {
		return false, false
	}
	switch p.s[p.i] {
	case close:
		p.i++
		return true, true
	case ',':
		p.i++
		p.ws()
		return false, true
	}
	return false, false
}

// xzBomb returns an xz stream of a few bytes whose LZMA2 filter declares a
// dictionary of dictCode (40 is 4 GiB - 1, the largest), with the block
// header's CRC32 made right again.
func xzBomb(t testing.TB, dictCode byte) []byte {
	body, err := wire.Compress([]byte("tiny"), wire.CompressionLzma)
	require.NoError(t, err)
	xz := bytes.Clone(body[:len(body)-len("lzma")])
	const streamHeader = 12
	h := xz[streamHeader:]
	size := (int(h[0]) + 1) * 4
	flags := h[1]
	i := 2
	for _, present := range []bool{flags&0x40 != 0, flags&0x80 != 0} {
		if present {
			_, n := binary.Uvarint(h[i:])
			i += n
		}
	}
	require.Equal(t, []byte{0x21, 0x01}, h[i:i+2], "LZMA2 filter with one property byte")
	h[i+2] = dictCode
	binary.LittleEndian.PutUint32(h[size-4:], crc32.ChecksumIEEE(h[:size-4]))
	return xz
}

// TestDecompressXZDictionaryBomb: an lzma frame of about 80 bytes whose xz
// block header declares a 4 GiB dictionary must not make the receiver
// allocate 4 GiB (the decoder allocates the declared dictionary up front,
// before one byte is inflated). Decompress should refuse it, or decode with
// a dictionary bounded by the output limit.
func TestDecompressXZDictionaryBomb(t *testing.T) {
	bomb := xzBomb(t, 40)
	// The bomb is a valid xz stream: it must still be refused or decoded.
	before := totalAlloc()
	out, err := wire.Decompress(bomb, wire.CompressionLzma, 1<<20)
	used := totalAlloc() - before
	if err == nil {
		assert.Equal(t, "tiny", string(out))
	}
	assert.LessOrEqual(t, used, uint64(allocBound),
		"decompressing %d bytes (limit 1 MiB) allocated %d MiB", len(bomb), used>>20)

	// Through the frame decoder, as a peer sends it.
	frame := append([]byte(base64.StdEncoding.EncodeToString(append(bomb, "lzma"...))), wire.CompressedMark)
	before = totalAlloc()
	_, _, _ = wire.DecodeFrame(frame, 1<<20)
	used = totalAlloc() - before
	assert.LessOrEqual(t, used, uint64(allocBound),
		"decoding a %d-byte frame allocated %d MiB", len(frame), used>>20)
}

// xzLyingIndexBombs returns xz streams whose index does not tell the truth
// about their blocks, with a block declaring a 4 GiB dictionary where a
// check that trusts the index does not look: the decoder reads blocks before
// it reaches the index, so it allocates before it finds the lie.
func xzLyingIndexBombs(t testing.TB) map[string][]byte {
	body, err := wire.Compress([]byte("tiny"), wire.CompressionLzma)
	require.NoError(t, err)
	legit := body[:len(body)-len("lzma")]
	bomb := xzBomb(t, 40)
	const headerLen, footerLen = 12, 12
	footer := legit[len(legit)-footerLen:]
	indexLen := (int(binary.LittleEndian.Uint32(footer[4:8])) + 1) * 4
	indexAt := len(legit) - footerLen - indexLen
	header, block, index := legit[:headerLen], legit[headerLen:indexAt], legit[indexAt:len(legit)-footerLen]
	bombBlock := bomb[headerLen:indexAt]

	// An index of no records: indicator, count 0, padding, CRC32.
	empty := []byte{0, 0, 0, 0}
	empty = binary.LittleEndian.AppendUint32(empty, crc32.ChecksumIEEE(empty))
	emptyFooter := binary.LittleEndian.AppendUint32(nil, uint32(len(empty)/4-1))
	emptyFooter = append(emptyFooter, footer[8:10]...)
	emptyFooter = append(binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(emptyFooter)), append(emptyFooter, "YZ"...)...)

	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	return map[string][]byte{
		"index_says_no_block":         cat(header, bombBlock, empty, emptyFooter),
		"index_says_one_block_of_two": cat(header, block, bombBlock, index, footer),
	}
}

// TestDecompressXZLyingIndex: the dictionary check must hold for every
// block the decoder will read, not for the blocks the index claims.
func TestDecompressXZLyingIndex(t *testing.T) {
	for name, data := range xzLyingIndexBombs(t) {
		t.Run(name, func(t *testing.T) {
			before := totalAlloc()
			_, err := wire.Decompress(data, wire.CompressionLzma, 1<<20)
			used := totalAlloc() - before
			assert.Error(t, err, "the index does not match the blocks")
			assert.LessOrEqual(t, used, uint64(allocBound),
				"decompressing %d bytes (limit 1 MiB) allocated %d MiB", len(data), used>>20)
		})
	}
}

// TestDecompressBombs: small bodies that inflate far past the limit stop at
// the limit with ErrTooLarge, for each codec.
func TestDecompressBombs(t *testing.T) {
	zeros := make([]byte, 2<<20)
	for _, c := range codecs[1:] {
		t.Run(c.String(), func(t *testing.T) {
			body, err := wire.Compress(zeros, c)
			require.NoError(t, err)
			data := body[:len(body)-len(c.String())]
			require.Less(t, len(data), 64<<10, "a bomb is small")
			before := totalAlloc()
			_, err = wire.Decompress(data, c, 256<<10)
			require.ErrorIs(t, err, wire.ErrTooLarge)
			assert.LessOrEqual(t, totalAlloc()-before, uint64(allocBound))
			out, err := wire.Decompress(data, c, len(zeros))
			require.NoError(t, err)
			assert.Len(t, out, len(zeros), "exactly at the limit is fine")
		})
	}
}

// TestWriteFuzzSeeds writes the seed corpora into testdata/fuzz. It runs
// only with P2PNODE_WRITE_SEEDS=1; the files are kept in the repository.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("P2PNODE_WRITE_SEEDS") != "1" {
		t.Skip("set P2PNODE_WRITE_SEEDS=1 to rewrite testdata/fuzz")
	}
	frame := func(payload []byte, c wire.Compression) []byte {
		f, err := wire.AppendFrame(nil, payload, c)
		require.NoError(t, err)
		return f[:len(f)-1]
	}
	body := func(payload []byte, c wire.Compression) []byte {
		b, err := wire.Compress(payload, c)
		require.NoError(t, err)
		return b[:len(b)-len(c.String())]
	}
	b64frame := func(body []byte) []byte {
		return append([]byte(base64.StdEncoding.EncodeToString(body)), wire.CompressedMark)
	}
	zeros := make([]byte, 4<<20)
	json := []byte(`{"type": "message", "data": [1, 2.5, "x", null, true]}`)
	bomb := xzBomb(t, 40)
	truncated := func(b []byte) []byte { return b[:len(b)*2/3] }
	// A zlib stream with a preset dictionary, which zlib.NewReader refuses.
	var zd bytes.Buffer
	zw, _ := zlib.NewWriterLevelDict(&zd, 6, []byte("dict"))
	_, _ = zw.Write([]byte("dictionary"))
	_ = zw.Close()
	// bzip2 header declaring block size 9 and a bad block magic.
	badBz := []byte("BZh9\x31\x41\x59\x26\x53\x59\x00\x00\x00\x00\xff\xff")

	seeds := map[string]map[string][]any{
		"FuzzDecodeFrame": {
			"raw":             {[]byte("hello")},
			"raw_json":        {json},
			"zlib":            {frame(json, wire.CompressionZlib)},
			"bzip2":           {frame(json, wire.CompressionBzip2)},
			"lzma":            {frame(json, wire.CompressionLzma)},
			"empty_payload":   {frame(nil, wire.CompressionNone)},
			"zlib_bomb":       {frame(zeros, wire.CompressionZlib)},
			"bzip2_bomb":      {frame(zeros, wire.CompressionBzip2)},
			"lzma_bomb":       {frame(zeros, wire.CompressionLzma)},
			"lzma_dict_bomb":  {b64frame(append(bytes.Clone(bomb), "lzma"...))},
			"bad_base64":      {[]byte("not*base64!\x02")},
			"base64_no_pad":   {[]byte("eJzLSM3JyQcABiwCFXpsaWI\x02")},
			"base64_newline":  {[]byte("eJzLSM3JyQcA\nBiwCFXpsaWI=\x02")},
			"no_tag":          {b64frame([]byte("just some bytes"))},
			"tag_only":        {b64frame([]byte("zlib"))},
			"truncated_zlib":  {b64frame(append(truncated(body(json, wire.CompressionZlib)), "zlib"...))},
			"truncated_bzip2": {b64frame(append(truncated(body(json, wire.CompressionBzip2)), "bzip2"...))},
			"truncated_lzma":  {b64frame(append(truncated(body(json, wire.CompressionLzma)), "lzma"...))},
			"mark_only":       {[]byte{wire.CompressedMark}},
			"mark_inside":     {[]byte("a\x02b")},
			"two_marks":       {[]byte("\x02\x02")},
		},
		"FuzzFrameRoundTrip": {
			"plain":      {[]byte("hello"), []byte("world"), uint8(0)},
			"empty":      {[]byte{}, []byte{}, uint8(0)},
			"eot_inside": {[]byte("a\x04b"), []byte("\x04"), uint8(1)},
			"mark_last":  {[]byte("abc\x02"), []byte("\x02"), uint8(2)},
			"json_lzma":  {json, []byte("x"), uint8(3)},
			"binary":     {[]byte{0xff, 0xfe, 0x00, 0x02, 0x03}, []byte{0}, uint8(1)},
		},
		"FuzzDecompress": {
			"zlib":                  {body(json, wire.CompressionZlib), uint8(1), uint32(1 << 20)},
			"bzip2":                 {body(json, wire.CompressionBzip2), uint8(2), uint32(1 << 20)},
			"lzma":                  {body(json, wire.CompressionLzma), uint8(3), uint32(1 << 20)},
			"zlib_bomb":             {body(zeros, wire.CompressionZlib), uint8(1), uint32(1 << 16)},
			"bzip2_bomb":            {body(zeros, wire.CompressionBzip2), uint8(2), uint32(1 << 16)},
			"lzma_bomb":             {body(zeros, wire.CompressionLzma), uint8(3), uint32(1 << 16)},
			"lzma_dict_bomb":        {bomb, uint8(3), uint32(1 << 20)},
			"lzma_index_no_block":   {xzLyingIndexBombs(t)["index_says_no_block"], uint8(3), uint32(1 << 20)},
			"lzma_index_one_of_two": {xzLyingIndexBombs(t)["index_says_one_block_of_two"], uint8(3), uint32(1 << 20)},
			"zlib_dict":             {zd.Bytes(), uint8(1), uint32(1 << 20)},
			"bzip2_bad_block":       {badBz, uint8(2), uint32(1 << 20)},
			"truncated_zlib":        {truncated(body(json, wire.CompressionZlib)), uint8(1), uint32(1 << 20)},
			"truncated_bzip2":       {truncated(body(json, wire.CompressionBzip2)), uint8(2), uint32(1 << 20)},
			"truncated_lzma":        {truncated(body(json, wire.CompressionLzma)), uint8(3), uint32(1 << 20)},
			"exact_limit":           {body(json, wire.CompressionZlib), uint8(1), uint32(len(json))},
			"one_under_limit":       {body(json, wire.CompressionZlib), uint8(1), uint32(len(json) - 1)},
			"none":                  {[]byte("x"), uint8(0), uint32(1)},
			"empty":                 {[]byte{}, uint8(3), uint32(1)},
		},
		"FuzzParseHello": {
			"generated":  {[]byte(strings.Repeat("ab", 64) + ":8001"), 40000},
			"many_colon": {[]byte(strings.Repeat(":", 1000)), 40001},
			"ipv6_like":  {[]byte("::1:8001"), 40002},
			"no_port":    {[]byte("lonely"), 40003},
			"bad_port":   {[]byte("id:65536"), 40004},
			"long_id":    {[]byte(strings.Repeat("x", 4090) + ":1"), 40005},
			"space_port": {[]byte("id: 8001 "), 40006},
			"huge_port":  {[]byte("id:99999999999999999999999"), 40007},
			"non_utf8":   {[]byte("\xff\xfe:80"), 40008},
		},
		"FuzzSplitReply": {
			"generated":      {[]byte(strings.Repeat("0f", 64))},
			"glued":          {[]byte(strings.Repeat("0f", 64) + "{\"a\": 1}\x04second\x04")},
			"upper_hex":      {[]byte(strings.Repeat("0F", 64) + "x")},
			"long_custom":    {[]byte(strings.Repeat("a", 4096))},
			"closing":        {[]byte(wire.Closing)},
			"one_short_glue": {[]byte(strings.Repeat("a", 127) + "x")},
		},
		"FuzzClassify": {
			"number":        {[]byte("123")},
			"nan_array":     {[]byte("[NaN, Infinity, -Infinity]")},
			"nan_key":       {[]byte("{NaN: 1}")},
			"neg_nan":       {[]byte("-NaN")},
			"nan_in_string": {[]byte("[\"NaN\", NaN]")},
			"trailing":      {[]byte("[1,]")},
			"lone_surr":     {[]byte("\"\\ud800\"")},
			"bom":           {[]byte("\ufeff{}")},
			"control":       {[]byte("\"a\tb\"")},
			"big_int":       {[]byte(strings.Repeat("9", 4300))},
			"bigger_int":    {[]byte(strings.Repeat("9", 4301))},
			"big_float":     {[]byte("1e999999")},
			"deep":          {[]byte(strings.Repeat("[", 500) + strings.Repeat("]", 500))},
			"non_utf8":      {[]byte("\xc3\x28")},
			"surrogate_raw": {[]byte("\"\xed\xa0\x80\"")},
			"text":          {[]byte("hello world")},
			"constant_glue": {[]byte("[NaN1]")},
			"nan_minus":     {[]byte("[NaN-1]")},
			"escape_const":  {[]byte("[\"\\\\\", NaN]")},
		},
	}
	for name, entries := range seeds {
		dir := filepath.Join("testdata", "fuzz", name)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for file, values := range entries {
			var b strings.Builder
			b.WriteString("go test fuzz v1\n")
			for _, v := range values {
				switch x := v.(type) {
				case []byte:
					fmt.Fprintf(&b, "[]byte(%s)\n", strconv.Quote(string(x)))
				case uint8:
					fmt.Fprintf(&b, "uint8(%d)\n", x)
				case uint32:
					fmt.Fprintf(&b, "uint32(%d)\n", x)
				case int:
					fmt.Fprintf(&b, "int(%d)\n", x)
				default:
					t.Fatalf("seed type %T", v)
				}
			}
			require.NoError(t, os.WriteFile(filepath.Join(dir, file), []byte(b.String()), 0o644))
		}
	}
}
