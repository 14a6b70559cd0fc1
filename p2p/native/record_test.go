package native

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// testExporter stands in for a TLS exporter: a distinct secret per label.
func testExporter(salt byte) Exporter {
	return func(label string, _ []byte, length int) ([]byte, error) {
		out := make([]byte, length)
		for i := range out {
			out[i] = salt ^ byte(len(label)*31+i) ^ label[i%len(label)]
		}
		return out, nil
	}
}

// pair is a dialer's and a listener's ciphers over the same secrets.
func pair(t *testing.T) (dialSeal, dialOpen, listenSeal, listenOpen *RecordCipher) {
	t.Helper()
	var err error
	dialSeal, dialOpen, err = NewRecordCiphers(testExporter(7), true)
	require.NoError(t, err)
	listenSeal, listenOpen, err = NewRecordCiphers(testExporter(7), false)
	require.NoError(t, err)
	return
}

func openAll(t *testing.T, c *RecordCipher, stream []byte) ([]byte, error) {
	t.Helper()
	var out []byte
	for len(stream) > 0 {
		n, err := RecordLength(stream)
		if err != nil {
			return out, err
		}
		rec := stream[:RecordHeaderSize+n]
		stream = stream[len(rec):]
		if out, err = c.Open(out, rec); err != nil {
			return out, err
		}
	}
	return out, nil
}

func TestRecordsRoundTripBothWays(t *testing.T) {
	dialSeal, dialOpen, listenSeal, listenOpen := pair(t)
	msg := bytes.Repeat([]byte("frame bytes "), 5000) // several records
	var stream []byte
	for len(msg) > 0 {
		k := min(len(msg), MaxRecordPlain)
		var err error
		stream, err = dialSeal.Seal(stream, msg[:k])
		require.NoError(t, err)
		msg = msg[k:]
	}
	got, err := openAll(t, listenOpen, stream)
	require.NoError(t, err)
	require.Equal(t, bytes.Repeat([]byte("frame bytes "), 5000), got)

	back, err := listenSeal.Seal(nil, []byte("and back"))
	require.NoError(t, err)
	got, err = openAll(t, dialOpen, back)
	require.NoError(t, err)
	require.Equal(t, "and back", string(got))
	require.NotContains(t, string(stream), "frame bytes", "records are encrypted")
}

func TestRecordsRefuseWhatWasAltered(t *testing.T) {
	dialSeal, _, _, _ := pair(t)
	rec, err := dialSeal.Seal(nil, []byte("the message"))
	require.NoError(t, err)
	for i := range rec {
		_, _, _, listenOpen := pair(t)
		bad := bytes.Clone(rec)
		bad[i] ^= 0x01
		n, err := RecordLength(bad)
		if err == nil && RecordHeaderSize+n == len(bad) {
			_, err = listenOpen.Open(nil, bad)
		} else if err == nil {
			err = ErrRecord // the length changed: the record is cut elsewhere
		}
		require.ErrorIs(t, err, ErrRecord, "byte %d flipped", i)
	}
}

func TestRecordsRefuseReplayReorderAndTheWrongDirection(t *testing.T) {
	dialSeal, dialOpen, _, listenOpen := pair(t)
	first, err := dialSeal.Seal(nil, []byte("first"))
	require.NoError(t, err)
	second, err := dialSeal.Seal(nil, []byte("second"))
	require.NoError(t, err)

	_, err = listenOpen.Open(nil, second)
	require.ErrorIs(t, err, ErrRecord, "a record out of order")

	_, _, _, listenOpen = pair(t)
	_, err = listenOpen.Open(nil, first)
	require.NoError(t, err)
	_, err = listenOpen.Open(nil, first)
	require.ErrorIs(t, err, ErrRecord, "a record replayed")

	_, err = dialOpen.Open(nil, first)
	require.ErrorIs(t, err, ErrRecord, "a record sent back to its sender")

	other, _, err := NewRecordCiphers(testExporter(8), true)
	require.NoError(t, err)
	forged, err := other.Seal(nil, []byte("first"))
	require.NoError(t, err)
	_, _, _, listenOpen = pair(t)
	_, err = listenOpen.Open(nil, forged)
	require.ErrorIs(t, err, ErrRecord, "a record of other keys")
}

func TestRecordLimitsAndTheClosingRecord(t *testing.T) {
	dialSeal, _, _, listenOpen := pair(t)
	_, err := dialSeal.Seal(nil, make([]byte, MaxRecordPlain+1))
	require.ErrorIs(t, err, ErrRecord)
	for _, n := range []uint32{0, RecordTagSize - 1, MaxRecordPlain + RecordTagSize + 1, 1 << 31} {
		_, err := RecordLength([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
		require.ErrorIs(t, err, ErrRecord, "length %d", n)
	}
	closing, err := dialSeal.Seal(nil, nil)
	require.NoError(t, err)
	require.Len(t, closing, RecordHeaderSize+RecordTagSize)
	out, err := listenOpen.Open(nil, closing)
	require.NoError(t, err)
	require.Empty(t, out)
}

func TestRecordKeysDependOnTheExporter(t *testing.T) {
	// Other secrets (another connection's exporter) give other keys: a
	// record of one connection does not open on another; and an exporter
	// that fails fails the connection.
	a, _, err := NewRecordCiphers(testExporter(1), true)
	require.NoError(t, err)
	rec, err := a.Seal(nil, []byte("x"))
	require.NoError(t, err)
	_, _, _, open := pair(t)
	_, err = open.Open(nil, rec)
	require.ErrorIs(t, err, ErrRecord)
	_, _, err = NewRecordCiphers(func(string, []byte, int) ([]byte, error) { return nil, errors.New("no exporter") }, true)
	require.Error(t, err)
}
