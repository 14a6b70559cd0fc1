package secure

import (
	"time"

	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
)

// The secure node sits on p2p.Node messages, so it works the same over the
// plaintext protocol and the native one.
func TestSecureNodeOverEitherTransport(t *testing.T) {
	for _, mode := range []p2p.Encryption{p2p.EncryptionOff, p2p.EncryptionPreferred} {
		t.Run(mode.String(), func(t *testing.T) {
			cfg := Config{}
			cfg.Encryption = mode
			cfg.NegotiationWait = 2 * time.Second
			a, _ := startNode(t, testKeys[0], cfg)
			b, rb := startNode(t, testKeys[1], cfg)
			p := connect(t, a, b)
			assert.Equal(t, mode != p2p.EncryptionOff, p.Encrypted())
			require.NoError(t, a.SendMessage(map[string]any{"text": "signed"}))
			waitFor(t, "b to get the message", func() bool { n, _, _ := rb.count(); return n == 1 })
			msgs, rejected, _ := rb.snapshot()
			assert.Empty(t, rejected)
			assert.Equal(t, a.ID(), msgs[0].ID)
			assert.Equal(t, "signed", msgs[0].Fields["message"].(map[string]any)["text"])
		})
	}
}
