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
// handler may call any method of the node. Limits the reference lacks (frame
// size, decompressed size, queued bytes, handshake time) are in Config.
package p2p
