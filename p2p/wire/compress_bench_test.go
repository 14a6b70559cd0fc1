package wire_test

import (
	"testing"

	"github.com/p2pnode/p2pnode/p2p/wire"
)

var benchText = wire.BenchText

func BenchmarkCompress(b *testing.B) {
	text := benchText(64 << 10)
	for _, c := range codecs[1:] {
		b.Run(c.String(), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := wire.Compress(text, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecompress(b *testing.B) {
	text := benchText(64 << 10)
	for _, c := range codecs[1:] {
		body, err := wire.Compress(text, c)
		if err != nil {
			b.Fatal(err)
		}
		body = body[:len(body)-len(c.String())]
		b.Run(c.String(), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := wire.Decompress(body, c, 1<<20); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestBenchTextSizes(t *testing.T) {
	text := benchText(64 << 10)
	for _, c := range codecs[1:] {
		b, _ := wire.Compress(text, c)
		t.Logf("%v: %d bytes", c, len(b)-len(c.String()))
	}
}
