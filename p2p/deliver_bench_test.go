package p2p

import (
	"bytes"
	"testing"

	"github.com/p2pnode/p2pnode/p2p/wire"
)

// BenchmarkDeliverSmallFrames measures the plaintext reader's work per
// 64 B frame, on one goroutine: finding and classifying the frames of a
// read buffer, handing them over in batches, and the dispatcher taking
// them back, without a socket or a second core in the figures.
func BenchmarkDeliverSmallFrames(b *testing.B) {
	const frames = 4000
	frame := append(bytes.Repeat([]byte("message payload "), 4), wire.EOT)
	data := bytes.Repeat(frame, frames)
	n := &Node{events: newEventQueue(1 << 20)}
	n.cfg.MaxDecompressedSize = DefaultMaxDecompressed
	n.cfg.MaxFrameSize = DefaultMaxFrameSize
	p := newPeer(n, nil, "bench", "127.0.0.1", 1, Inbound)
	var ev Event
	b.SetBytes(int64(len(frame)))
	b.ResetTimer()
	for i := 0; i < b.N; i += frames {
		r := frameReader{p: p, buf: data, w: len(data)}
		if err := r.deliver(); err != nil {
			b.Fatal(err)
		}
		items := n.events.take()
		msgs := 0
		for k := range items {
			if m := items[k].msgs; m != nil {
				for j := range m.recs {
					m.event(&ev, &m.recs[j])
					msgs++
				}
			}
		}
		n.events.done(items, msgs)
	}
}

// BenchmarkSendSmall measures a 64 B Send's work on the sender's side
// alone: the queue is emptied every 1,000 messages, as a writer would,
// on the same goroutine.
func BenchmarkSendSmall(b *testing.B) {
	n := &Node{}
	n.cfg.Limits = Limits{}
	n.cfg.MaxFrameSize = DefaultMaxFrameSize
	n.cfg.MaxQueuedBytes = DefaultMaxQueuedBytes
	n.cfg.MaxQueuedBytesTotal = DefaultMaxQueuedBytesTotal
	n.cfg.MaxQueuedBytesPerAddress = DefaultMaxQueuedBytesPerAddress
	p := newPeer(n, nil, "bench", "127.0.0.1", 1, Inbound)
	p.share = &addrShare{}
	payload := bytes.Repeat([]byte("message payload "), 4)
	for _, sole := range []bool{false, true} {
		name := "shared"
		if sole {
			name = "sole"
		}
		b.Run(name, func(b *testing.B) {
			p.sole = sole
			for i := range b.N {
				if err := p.Send(payload, None); err != nil {
					b.Fatal(err)
				}
				if i%1000 == 999 {
					p.wmu.Lock()
					for _, s := range p.segs {
						putChunk(s)
					}
					p.releaseBudget(p.unpubLocked(p.queued))
					p.segs, p.segMsgs = p.segs[:0], p.segMsgs[:0]
					p.queued, p.queuedMsgs, p.tailOpen = 0, 0, false
					p.wmu.Unlock()
				}
			}
		})
	}
}

// BenchmarkDispatchRecords measures the dispatcher's work per message of a
// reader's batch of records, handed to a HandlerFunc that counts them.
func BenchmarkDispatchRecords(b *testing.B) {
	count := 0
	n := &Node{fn: func(ev *Event) bool { count += len(ev.Message.Data); return true }}
	p := newPeer(n, nil, "bench", "127.0.0.1", 1, Inbound)
	frame := bytes.Repeat([]byte("message payload "), 4)
	buf := bytes.Repeat(frame, batchMax)
	m := &msgBatch{peer: p, buf: buf}
	for i := range batchMax {
		m.add(frame, i*len(frame), true, KindText, None)
	}
	items := []queued{{msgs: m}}
	b.ResetTimer()
	for i := 0; i < b.N; i += batchMax {
		msgs := 0
		n.deliverFrom(items, 0, 0, &msgs)
	}
}
