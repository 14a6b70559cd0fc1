package p2p

import (
	"net"
	"strconv"
	"time"
)

// reconnectEntry is a peer that was connected with reconnect.
type reconnectEntry struct {
	host   string
	port   int
	trials int
}

func (n *Node) addReconnect(host string, port int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, e := range n.reconnects {
		if e.host == host && e.port == port {
			return
		}
	}
	n.reconnects = append(n.reconnects, &reconnectEntry{host: host, port: port})
}

func (n *Node) removeReconnect(host string, port int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, e := range n.reconnects {
		if e.host == host && e.port == port {
			n.reconnects = append(n.reconnects[:i], n.reconnects[i+1:]...)
			return
		}
	}
}

// Reconnecting lists the host:port pairs the node keeps reconnecting to.
func (n *Node) Reconnecting() []string {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]string, 0, len(n.reconnects))
	for _, e := range n.reconnects {
		out = append(out, net.JoinHostPort(e.host, strconv.Itoa(e.port)))
	}
	return out
}

func (n *Node) reconnectLoop() {
	defer n.wg.Done()
	t := time.NewTicker(n.cfg.ReconnectInterval)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		n.checkReconnects()
	}
}

// checkReconnects does what the reference's reconnect_nodes does: a peer
// still connected has its trials reset; a lost one counts a trial, and the
// handler decides whether it is dialled again or forgotten.
func (n *Node) checkReconnects() {
	n.mu.Lock()
	entries := append([]*reconnectEntry(nil), n.reconnects...)
	n.mu.Unlock()
	for _, e := range entries {
		if n.ctx.Err() != nil {
			return
		}
		n.mu.Lock()
		found := false
		for _, p := range n.outbound {
			if p.host == e.host && p.port == e.port {
				found = true
			}
		}
		if found {
			e.trials = 0
			n.mu.Unlock()
			continue
		}
		e.trials++
		trials := e.trials
		n.mu.Unlock()
		if !n.raise(Event{Type: EventReconnectionError, Node: n, Host: e.host, Port: e.port, Trials: trials}) {
			n.debugf("reconnect: giving up on %s:%d after %d trials", e.host, e.port, trials)
			n.removeReconnect(e.host, e.port)
			continue
		}
		if n.ctx.Err() != nil {
			return
		}
		if _, err := n.Connect(e.host, e.port, false); err != nil {
			n.debugf("reconnect to %s:%d failed: %v", e.host, e.port, err)
		}
	}
}
