// Package overlay holds the engines of the network layer (issue 21): peer
// exchange with connection management (Discovery) and topic gossip in the
// PlumTree style (Gossip).
//
// The engines are transport-agnostic state machines. They own no goroutine
// and no socket: their owner tells them about links (LinkUp, LinkDown),
// hands them the frames of their capability (Frame), drives their timers
// (Tick), and gives them a Transport to send frames, dial and close links,
// and a Clock to read the time. The native protocol will carry each
// engine's frames as extension frames tagged with the engine's Capability,
// only to peers that announced it, so p2pnetwork 1.2 peers never see them.
//
// Every method is safe for concurrent use. Transport methods are called
// with the engine's lock held, so they must not block (Send drops or fails
// when the peer's queue is full) and must not call back into the engine
// synchronously; link events they cause are reported later by the owner.
package overlay
