// Package p2p is the engine of p2pnode: a peer-to-peer node that listens on
// TCP, dials other nodes, exchanges messages with them and raises events,
// speaking the wire format of the Python package p2pnetwork so that it joins
// networks of unmodified p2pnetwork nodes.
//
// A node is created with New (events to a Handler, usually a struct that
// embeds BaseHandler) or NewWithCallback (every event to one function), then
// started:
//
//	n, err := p2p.New(p2p.Config{Host: "127.0.0.1", Port: 0}, myHandler)
//	n.Start()
//	peer, err := n.Connect("127.0.0.1", 8002, false)
//	n.SendToNodes(p2p.Text("hello"), nil, p2p.None)
//	n.Stop()
//
// Events of one node arrive in order, one at a time, on one goroutine; a
// handler may call any method of the node. A handler that also implements
// BatchHandler (or a node given SetBatchFunc) takes its messages a batch at
// a time instead: one call with the slice of message events a peer's
// reader had ready, where NodeMessage would be called once each. Limits
// the reference lacks (frame size, decompressed size, queued bytes,
// handshake time) are in Config.
//
// # Delivery guarantee
//
// At most once per link, in order. A send returns once its message is
// queued for the peer (accepted), or with an error when it was not. An
// accepted message is written to that peer's connection once, after the
// messages accepted for it before, or it is dropped: because the peer did
// not keep up (the overflow policy, or a peer that stays full with nothing
// written for SendTimeout), because the connection broke, or because Stop or
// Disconnect could not write it within StopTimeout. Nothing is resent on a
// new connection. Counters (Node.Counters, Peer.Counters, and the Counters
// of each disconnected event) account for every accepted message:
// Accepted = Written + Dropped + Queued, each drop with its reason, and Stop
// returns ErrUndelivered when it had to drop any. "Written" means handed to
// the operating system: TCP does not tell whether the other side read it, so
// messages written shortly before a link breaks can be lost without any
// counter knowing; only an acknowledgement at the application level can
// close that gap.
//
// # One peer cannot hold up the others
//
// Every peer has its own queue and writer. A send to many peers
// (SendToNodes) never waits on a full queue: that peer goes without the
// message (the error names it, Counters.Refused counts it) and the others
// get it. A send to one peer may wait up to SendTimeout for room in that
// peer's queue (OverflowWait, the default), and returns at once when the
// node stops or the peer closes; Limits.OverflowPolicy can make it drop the
// new message, drop the oldest ones, or disconnect the peer instead. Queued
// bytes are capped per peer, per address and node-wide.
//
// # Admission and memory
//
// An inbound connection takes a MaxConnections slot only once its
// handshake is complete. Handshakes under way are bounded node-wide and per
// source address; a new connection that finds a bound reached closes the
// oldest handshake of its address (or of the address with the most), so
// sockets that never say hello cannot keep anyone out. When every slot is
// taken, a new peer takes the slot of the inbound peer silent for longest
// (at least IdleEviction, a fifth of it for a peer that never sent a
// message), from the address with the most inbound peers;
// so idle peers, even ones that sent a valid one-byte hello, hold slots
// only until someone else needs them. There is no exemption for loopback:
// all limits are shares and bounds, none is a small per-address quota, so
// many legitimate peers may share one address. The bytes of frames
// received in part are capped per address and node-wide; the connection
// that goes over is closed and its memory released. See Config and Limits
// for the figures.
//
// # Discovery and gossip
//
// Between native peers the node carries the engines of package overlay
// (overlay_node.go): every native node announces "pex/1" and "gossip/1" in
// its hello and relays gossip; Discover starts peer exchange and connection
// management, Subscribe/Publish topic gossip, delivered as
// EventTopicMessage on the one event queue. Their frames travel as native
// extension frames, only to peers that announced the capability, through a
// per-peer queue of their own (overlay_sendq.go) that drops rather than
// waits and never touches the application's queue. A Discovery that
// redirects or prunes a link closes it after flushing that queue.
package p2p
