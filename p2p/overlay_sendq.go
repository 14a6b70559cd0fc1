package p2p

import (
	"github.com/p2pnode/p2pnode/p2p/overlay"
)

// overlayQueueBytes bounds the overlay frames queued for one peer. It is
// apart from the application's queue and its overflow policy: a slow
// peer's gossip backlog is dropped (and counted) here, the engines repair
// what it lost, and no accepted application message is ever dropped to
// make room for overlay traffic, nor overlay traffic refused because the
// application filled its queue.
const overlayQueueBytes = 2 << 20

// overlayQueue holds the whole extension frames waiting for the writer,
// under the peer's wmu.
type overlayQueue struct {
	frames [][]byte
	bytes  int
}

// enqueueOverlay queues one whole extension frame without ever waiting.
func (p *Peer) enqueueOverlay(frame []byte) error {
	p.wmu.Lock()
	if p.closing {
		p.wmu.Unlock()
		return overlay.ErrNoLink
	}
	if p.ov.bytes > 0 && p.ov.bytes+len(frame) > overlayQueueBytes {
		p.wmu.Unlock()
		p.node.ov.stats.dropped.Add(1)
		return overlay.ErrQueueFull
	}
	p.ov.frames = append(p.ov.frames, frame)
	p.ov.bytes += len(frame)
	if p.writerIdle {
		p.writerIdle = false
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	p.wmu.Unlock()
	return nil
}

// writeOverlay writes the queued overlay frames in one piece, ahead of the
// application's next batch; the writer calls it between batches.
func (p *Peer) writeOverlay() error {
	p.wmu.Lock()
	frames, size := p.ov.frames, p.ov.bytes
	p.ov.frames, p.ov.bytes = nil, 0
	p.wmu.Unlock()
	if len(frames) == 0 {
		return nil
	}
	buf := frames[0]
	if len(frames) > 1 {
		buf = make([]byte, 0, size)
		for _, f := range frames {
			buf = append(buf, f...)
		}
	}
	one := [1][]byte{buf}
	_, err := p.writeBatchNative(one[:])
	if err == nil {
		p.node.ov.stats.sent.Add(uint64(len(frames)))
		p.node.ov.stats.sentBytes.Add(uint64(size))
	}
	return err
}

// overlayQueuedLocked reports whether overlay frames wait. p.wmu is held.
func (p *Peer) overlayQueuedLocked() bool { return len(p.ov.frames) > 0 }
