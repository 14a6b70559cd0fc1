package overlay

import "time"

// seenEntry remembers one message id, and for a while its frame so that a
// GRAFT can be answered.
type seenEntry struct {
	id    MessageID
	at    time.Time
	frame []byte
	hops  int    // hops of the copy we took
	from  PeerID // the link it came on ("" for our own publishes)
}

// seenCache is bounded in entries (max), in age (ttl) and in stored frame
// bytes (maxBytes): a FIFO in arrival order, so the oldest go first.
type seenCache struct {
	max      int
	ttl      time.Duration
	maxBytes int

	byID      map[MessageID]*seenEntry
	queue     []*seenEntry // arrival order; queue[head:] is live
	head      int
	frameHead int // queue[head:frameHead] have had their frames dropped
	bytes     int
}

func newSeenCache(max int, ttl time.Duration, maxBytes int) *seenCache {
	return &seenCache{max: max, ttl: ttl, maxBytes: maxBytes, byID: make(map[MessageID]*seenEntry)}
}

func (c *seenCache) has(id MessageID) bool { _, ok := c.byID[id]; return ok }

func (c *seenCache) frame(id MessageID) []byte {
	if e, ok := c.byID[id]; ok {
		return e.frame
	}
	return nil
}

func (c *seenCache) get(id MessageID) *seenEntry { return c.byID[id] }

func (c *seenCache) add(id MessageID, frame []byte, hops int, from PeerID, now time.Time) {
	e := &seenEntry{id: id, at: now, frame: frame, hops: hops, from: from}
	c.byID[id] = e
	c.queue = append(c.queue, e)
	c.bytes += len(frame)
	c.expire(now)
}

// expire drops entries over the count or age limits, and frames over the
// byte limit (oldest first).
func (c *seenCache) expire(now time.Time) {
	for c.head < len(c.queue) {
		e := c.queue[c.head]
		if len(c.queue)-c.head <= c.max && now.Sub(e.at) <= c.ttl {
			break
		}
		c.bytes -= len(e.frame)
		if c.byID[e.id] == e {
			delete(c.byID, e.id)
		}
		c.queue[c.head] = nil
		c.head++
	}
	c.frameHead = max(c.frameHead, c.head)
	for c.bytes > c.maxBytes && c.frameHead < len(c.queue) {
		e := c.queue[c.frameHead]
		c.bytes -= len(e.frame)
		e.frame = nil
		c.frameHead++
	}
	if c.head > 1024 && c.head > len(c.queue)/2 {
		n := copy(c.queue, c.queue[c.head:])
		clear(c.queue[n:])
		c.queue = c.queue[:n]
		c.frameHead -= c.head
		c.head = 0
	}
}

func (c *seenCache) len() int { return len(c.byID) }
