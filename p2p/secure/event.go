package secure

import "github.com/p2pnode/p2pnode/p2p"

// The events a secure node raises beyond the core's eight (p2p.Event*),
// numbered after them. They are the secure package's: the C ABI maps them
// onto its P2P_EVENT_SECURE_MESSAGE, _MESSAGE_REJECTED and
// _DISCOVERY_ANSWER in one table, like every core enum.
const (
	// EventSecureMessage: a message that passed every check (NodeSecureMessage).
	EventSecureMessage p2p.EventType = p2p.EventReconnectionError + 1 + iota
	// EventMessageRejected: a message that failed a check (NodeMessageRejected).
	EventMessageRejected
	// EventDiscoveryAnswer: an answer to SendDiscovery (NodeDiscoveryAnswer).
	EventDiscoveryAnswer
)

// EventName is the name of a secure event ("secure_message",
// "message_rejected", "discovery_answer"), or the core's name of any other.
func EventName(t p2p.EventType) string {
	switch t {
	case EventSecureMessage:
		return "secure_message"
	case EventMessageRejected:
		return "message_rejected"
	case EventDiscoveryAnswer:
		return "discovery_answer"
	}
	return t.String()
}
