package p2p_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
)

// topicHandler is a Handler that also implements TopicHandler.
type topicHandler struct {
	p2p.BaseHandler
	got chan [3]string
}

func (h topicHandler) NodeTopicMessage(_ *p2p.Peer, topic, origin string, m p2p.Message) {
	h.got <- [3]string{topic, origin, m.Text()}
}

// The three ways to receive events see a topic message: a HandlerFunc (the
// other tests), a Handler with NodeTopicMessage, and Poll.
func TestGossipEventStyles(t *testing.T) {
	t.Parallel()
	require.Equal(t, "node_topic_message", p2p.EventTopicMessage.String())
	pub := startNode(t, p2p.Config{}, nil)
	h := topicHandler{got: make(chan [3]string, 4)}
	cfg := p2p.Config{Host: "127.0.0.1"}
	sub, err := p2p.New(cfg, h)
	require.NoError(t, err)
	require.NoError(t, sub.Start())
	t.Cleanup(func() { _ = sub.Stop() })
	poll := pollingNode(t, p2p.Config{})
	pair(t, sub, pub)
	pair(t, poll, pub)
	require.NoError(t, sub.Subscribe("news"))
	require.NoError(t, poll.Subscribe("news"))
	eventually(t, "overlay links", func() bool { return len(p2p.OverlayLinks(pub)) == 2 })
	require.NoError(t, pub.Publish("news", []byte(`{"a": 1}`)))
	assert.Equal(t, [3]string{"news", pub.ID(), `{"a": 1}`}, <-h.got)
	var seen []p2p.Event
	pollUntil(t, poll, &seen, "the topic message", func(evs []p2p.Event) bool {
		for _, ev := range evs {
			if ev.Type == p2p.EventTopicMessage {
				return true
			}
		}
		return false
	})
	for _, ev := range seen {
		if ev.Type == p2p.EventTopicMessage {
			assert.Equal(t, "news", ev.Topic)
			assert.Equal(t, pub.ID(), ev.Origin)
			assert.Equal(t, p2p.KindJSON, ev.Message.Kind)
			assert.Equal(t, pub.ID(), ev.Peer.ID())
		}
	}
	require.Error(t, pub.Subscribe(""))
	require.Error(t, pub.Discover(0))
	require.NoError(t, sub.Unsubscribe("news"))
}
