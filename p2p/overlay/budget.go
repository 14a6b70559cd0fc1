package overlay

import "time"

// budget counts one peer's frames in fixed windows, so that a flooding peer
// is noticed and closed (it costs only its own link).
type budget struct {
	start time.Time
	count int
}

// spend records one frame at now and reports whether the peer is still
// within max frames per window.
func (b *budget) spend(now time.Time, window time.Duration, max int) bool {
	if now.Sub(b.start) >= window {
		b.start, b.count = now, 0
	}
	b.count++
	return b.count <= max
}
