package main

/*
#define P2P_NO_PROTOTYPES
#include "p2pnode.h"
*/
import "C"

import (
	"github.com/p2pnode/p2pnode/p2p"
	"github.com/p2pnode/p2pnode/p2p/secure"
)

// The one place where the core's enums become the ABI's numbers: each by
// an explicit table, never by the order of Go constants (the header's
// numbers are frozen; the core's may be reordered).

// eventCodes maps the core's and the secure package's event types.
var eventCodes = map[p2p.EventType]C.int32_t{
	p2p.EventOutboundConnected:      C.P2P_EVENT_OUTBOUND_CONNECTED,
	p2p.EventInboundConnected:       C.P2P_EVENT_INBOUND_CONNECTED,
	p2p.EventOutboundDisconnected:   C.P2P_EVENT_OUTBOUND_DISCONNECTED,
	p2p.EventInboundDisconnected:    C.P2P_EVENT_INBOUND_DISCONNECTED,
	p2p.EventMessage:                C.P2P_EVENT_MESSAGE,
	p2p.EventDisconnectWithOutbound: C.P2P_EVENT_DISCONNECT_WITH_OUTBOUND,
	p2p.EventRequestToStop:          C.P2P_EVENT_REQUEST_TO_STOP,
	p2p.EventReconnectionError:      C.P2P_EVENT_RECONNECTION_ERROR,
	secure.EventSecureMessage:       C.P2P_EVENT_SECURE_MESSAGE,
	secure.EventMessageRejected:     C.P2P_EVENT_MESSAGE_REJECTED,
	secure.EventDiscoveryAnswer:     C.P2P_EVENT_DISCOVERY_ANSWER,
}

// eventCode is the ABI's number of an event type (0 for one the table
// lacks: a bug caught by capi's tests, never a misnumbered event).
func eventCode(t p2p.EventType) C.int32_t { return eventCodes[t] }

// kindCode maps a message's kind.
func kindCode(k p2p.Kind) C.int32_t {
	switch k {
	case p2p.KindJSON:
		return C.P2P_KIND_JSON
	case p2p.KindText:
		return C.P2P_KIND_TEXT
	}
	return C.P2P_KIND_BYTES
}

// directionCode maps a peer's direction.
func directionCode(d p2p.Direction) C.int32_t {
	if d == p2p.Outbound {
		return C.P2P_OUTBOUND
	}
	return C.P2P_INBOUND
}

// rejectCode maps the reason of a secure node's rejection (secure's
// ReasonCode numbers) onto p2p_reject.
var rejectCodes = [...]C.int32_t{
	0: C.P2P_REJECT_NONE, 1: C.P2P_REJECT_MALFORMED, 2: C.P2P_REJECT_BAD_SIGNATURE,
	3: C.P2P_REJECT_BAD_HASH, 4: C.P2P_REJECT_BAD_MESSAGE_ID, 5: C.P2P_REJECT_KEY_MISMATCH,
	6: C.P2P_REJECT_UNTRUSTED_KEY, 7: C.P2P_REJECT_WEAK_KEY, 8: C.P2P_REJECT_REPLAY,
	9: C.P2P_REJECT_STALE, 10: C.P2P_REJECT_FUTURE,
}

func rejectCode(code int) C.int32_t {
	if code >= 0 && code < len(rejectCodes) {
		return rejectCodes[code]
	}
	return C.P2P_REJECT_MALFORMED
}
