package overlay

import (
	"sort"
	"time"
)

// knownPeer is one entry of the address book.
type knownPeer struct {
	rec      PeerRecord
	lastSeen time.Time // last time we were linked to it (zero: only heard of)
	failures int
	nextTry  time.Time
}

// knownTable is the bounded address book: when full, the entry with the most
// failed dials (then the one seen longest ago) makes room.
type knownTable struct {
	max    int
	byID   map[PeerID]*knownPeer
	byAddr map[Addr]PeerID
}

func newKnownTable(max int) *knownTable {
	return &knownTable{max: max, byID: make(map[PeerID]*knownPeer), byAddr: make(map[Addr]PeerID)}
}

// add records rec; a node heard of keeps its old address and history, a
// node linked to (seen) takes the new address and a clean slate.
func (t *knownTable) add(rec PeerRecord, seen bool, now time.Time) {
	if k, ok := t.byID[rec.ID]; ok {
		if !seen {
			return
		}
		delete(t.byAddr, k.rec.Addr)
		k.rec, k.lastSeen, k.failures, k.nextTry = rec, now, 0, time.Time{}
		t.byAddr[rec.Addr] = rec.ID
		return
	}
	if old, ok := t.byAddr[rec.Addr]; ok { // the address changed hands
		t.remove(old)
	}
	if len(t.byID) >= t.max {
		t.evictOne()
	}
	k := &knownPeer{rec: rec}
	if seen {
		k.lastSeen = now
	}
	t.byID[rec.ID] = k
	t.byAddr[rec.Addr] = rec.ID
}

func (t *knownTable) remove(id PeerID) {
	if k, ok := t.byID[id]; ok {
		delete(t.byAddr, k.rec.Addr)
		delete(t.byID, id)
	}
}

func (t *knownTable) evictOne() {
	var worst *knownPeer
	for _, k := range t.byID {
		if worst == nil || k.failures > worst.failures ||
			(k.failures == worst.failures && k.lastSeen.Before(worst.lastSeen)) {
			worst = k
		}
	}
	if worst != nil {
		t.remove(worst.rec.ID)
	}
}

// failed backs off the node at addr exponentially.
func (t *knownTable) failed(addr Addr, now time.Time, base, max time.Duration) {
	id, ok := t.byAddr[addr]
	if !ok {
		return
	}
	k := t.byID[id]
	k.failures++
	k.nextTry = now.Add(backoff(k.failures, base, max))
}

func backoff(failures int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < failures && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// list returns every entry, sorted by id so callers see a stable order.
func (t *knownTable) list() []PeerRecord {
	out := make([]PeerRecord, 0, len(t.byID))
	for _, k := range t.byID {
		out = append(out, k.rec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
