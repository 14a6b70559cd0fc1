package p2p

import (
	"net"
	"sync/atomic"
	"time"
)

// addrShare is what the connections from one IP address hold together:
// handshakes under way and inbound peers (n.mu), bytes queued to them and
// bytes of partial frames read from them (atomics).
type addrShare struct {
	addr       string
	refs       int // handshakes and peers that point here (n.mu)
	inbound    int // established inbound peers (n.mu)
	handshakes []*handshake
	queued     atomic.Int64
	pending    atomic.Int64
}

// handshake is an inbound connection whose handshake is under way.
type handshake struct {
	conn    net.Conn
	share   *addrShare
	evicted bool // n.mu
	// reserved: the handshake was greeted (native protocol) and counts
	// against MaxConnections until it ends or takes its slot (n.mu).
	reserved bool
}

// reserveLocked counts h against MaxConnections when there is room for it,
// and reports whether there was. n.mu is held.
func (n *Node) reserveLocked(h *handshake) bool {
	if !n.slotPossibleLocked() {
		return false
	}
	h.reserved = true
	n.reservedHS++
	return true
}

// releaseLocked ends h's reservation, if it has one. n.mu is held.
func (n *Node) releaseLocked(h *handshake) {
	if h.reserved {
		h.reserved = false
		n.reservedHS--
	}
}

// shareLocked returns the share of addr, taking a reference. n.mu is held.
func (n *Node) shareLocked(addr string) *addrShare {
	s := n.shares[addr]
	if s == nil {
		s = &addrShare{addr: addr}
		n.shares[addr] = s
	}
	s.refs++
	return s
}

// unshareLocked drops a reference to s. n.mu is held.
func (n *Node) unshareLocked(s *addrShare) {
	if s.refs--; s.refs == 0 {
		delete(n.shares, s.addr)
	}
}

// admitLocked registers a new inbound connection as a handshake under way,
// first closing the oldest handshake of its address, or of the address with
// the most handshakes, when a bound is reached. n.mu is held.
func (n *Node) admitLocked(conn net.Conn) *handshake {
	s := n.shareLocked(hostOf(conn.RemoteAddr()))
	if len(s.handshakes) >= n.cfg.MaxPendingHandshakesPerAddress {
		n.evictHandshakeLocked(s.handshakes[0], "of its address")
	} else if len(n.pendingHS) >= n.cfg.MaxPendingHandshakes {
		most := s
		for _, h := range n.pendingHS {
			if len(h.share.handshakes) > len(most.handshakes) {
				most = h.share
			}
		}
		if len(most.handshakes) > 0 {
			n.evictHandshakeLocked(most.handshakes[0], "of the node")
		}
	}
	h := &handshake{conn: conn, share: s}
	s.handshakes = append(s.handshakes, h)
	n.pendingHS = append(n.pendingHS, h)
	return h
}

// evictHandshakeLocked closes a handshake under way to make room; its
// goroutine sees the connection fail and ends. n.mu is held.
func (n *Node) evictHandshakeLocked(h *handshake, bound string) {
	n.debugf("closing the handshake of %v: the handshakes under way %s are at their limit", h.conn.RemoteAddr(), bound)
	n.stats.handshakesEvicted.Add(1)
	h.evicted = true
	n.unlistHandshakeLocked(h)
	_ = h.conn.Close()
}

// unlistHandshakeLocked takes h off the lists of handshakes under way
// (its share reference stays). n.mu is held.
func (n *Node) unlistHandshakeLocked(h *handshake) {
	h.share.handshakes = removeHandshake(h.share.handshakes, h)
	n.pendingHS = removeHandshake(n.pendingHS, h)
}

func removeHandshake(list []*handshake, h *handshake) []*handshake {
	for i, q := range list {
		if q == h {
			copy(list[i:], list[i+1:])
			list[len(list)-1] = nil
			return list[:len(list)-1]
		}
	}
	return list
}

// slotPossibleLocked reports whether slotLocked could make room now,
// evicting nobody. n.mu is held.
func (n *Node) slotPossibleLocked() bool {
	max := int(n.maxIn.Load())
	if max <= 0 || len(n.inbound)+n.reservedHS < max {
		return true
	}
	now := time.Now().UnixNano()
	idle := 0
	for _, p := range n.inbound {
		need := int64(n.cfg.IdleEviction)
		if p.stats.received.Load() == 0 {
			need /= 5
		}
		if now-p.lastFrame.Load() >= need {
			idle++
		}
	}
	return len(n.inbound)+n.reservedHS < max+idle
}

// slotLocked makes room for one more established inbound peer: it reports
// true when MaxConnections allows one, evicting the idlest peer when needed
// (see Config.MaxConnections). n.mu is held.
func (n *Node) slotLocked() bool {
	max := int(n.maxIn.Load())
	if max <= 0 || len(n.inbound) < max {
		return true
	}
	now := time.Now().UnixNano()
	minIdle := int64(n.cfg.IdleEviction)
	var victim *Peer
	var vIdle int64
	for _, p := range n.inbound {
		idle := now - p.lastFrame.Load()
		need := minIdle
		if p.stats.received.Load() == 0 {
			// It never sent a message: a squatter, or a peer that only
			// listens; it holds its slot for a fifth of the time.
			need /= 5
		}
		if idle < need {
			continue
		}
		if victim == nil || p.share.inbound > victim.share.inbound ||
			p.share.inbound == victim.share.inbound && idle > vIdle {
			victim, vIdle = p, idle
		}
	}
	if victim == nil {
		return false
	}
	n.debugf("evicting %s (%s): idle for %v, its slot goes to a new peer (%d inbound connections is the maximum)",
		victim.id, victim.host, time.Duration(vIdle).Round(time.Millisecond), max)
	victim.stats.evicted.Store(1)
	n.stats.evicted.Add(1)
	// Off the list now, so that the slot is free; its reader raises the
	// disconnected event as for any closed connection.
	n.inbound = removePeer(n.inbound, victim)
	victim.share.inbound--
	victim.teardown()
	return true
}

// chargePending updates what a reader holds of partial frames to now
// bytes and reports the bound it goes over, if any.
func (p *Peer) chargePending(charged *int64, now int64) string {
	d := now - *charged
	if d == 0 {
		return ""
	}
	*charged = now
	n := p.node
	total := n.pendingTotal.Add(d)
	mine := p.share.pending.Add(d)
	if d < 0 {
		return ""
	}
	if mine > int64(n.cfg.MaxPendingBytesPerAddress) {
		return "the bytes pending from its address (MaxPendingBytesPerAddress)"
	}
	if total > int64(n.cfg.MaxPendingBytes) {
		return "the bytes pending from all peers (MaxPendingBytes)"
	}
	return ""
}
