package secure

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/p2pnode/p2pnode/p2p"
)

func TestEventNumbersFollowTheCore(t *testing.T) {
	// The C ABI's P2P_EVENT_SECURE_MESSAGE.. are 9, 10, 11.
	assert.Equal(t, p2p.EventType(9), EventSecureMessage)
	assert.Equal(t, p2p.EventType(10), EventMessageRejected)
	assert.Equal(t, p2p.EventType(11), EventDiscoveryAnswer)
	assert.Equal(t, "secure_message", EventName(EventSecureMessage))
	assert.Equal(t, "message_rejected", EventName(EventMessageRejected))
	assert.Equal(t, "discovery_answer", EventName(EventDiscoveryAnswer))
	assert.Equal(t, "node_message", EventName(p2p.EventMessage))
}

func TestPasswordRule(t *testing.T) {
	assert.Equal(t, []byte{0xe9, 't', 0xe9}, PasswordBytes("été"), "Latin-1, as PyCryptodome encodes a str")
	assert.Equal(t, []byte("€uro"), PasswordBytes("€uro"), "UTF-8 beyond Latin-1")
	assert.Equal(t, []byte{}, PasswordBytes(""))
	for _, b := range [][]byte{{}, {0xe9, 't', 0xe9}, {0, 0xff, 0x80, 'a'}} {
		assert.Equal(t, b, PasswordBytes(PasswordText(b)), "PasswordText inverts PasswordBytes for %x", b)
	}
	assert.Equal(t, "été", PasswordText([]byte{0xe9, 't', 0xe9}))
}
