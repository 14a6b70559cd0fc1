package p2p_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
)

// pollingNode makes a started node of the pull API.
func pollingNode(t *testing.T, cfg p2p.Config) *p2p.Node {
	t.Helper()
	cfg.Host = "127.0.0.1"
	cfg.DebugOutput = io.Discard
	n, err := p2p.NewPolling(cfg)
	require.NoError(t, err)
	require.NoError(t, n.Start())
	t.Cleanup(func() { _ = n.Stop() })
	return n
}

// pollUntil polls n until cond holds for the events so far, or fails.
func pollUntil(t *testing.T, n *p2p.Node, seen *[]p2p.Event, what string, cond func([]p2p.Event) bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond(*seen) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out polling for %s (have %d events)", what, len(*seen))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		evs, err := n.Poll(ctx, 64)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("poll: %v", err)
		}
		*seen = append(*seen, evs...)
	}
}

func count(evs []p2p.Event, typ p2p.EventType) int {
	k := 0
	for _, ev := range evs {
		if ev.Type == typ {
			k++
		}
	}
	return k
}

func TestPollMessagesInOrderWithBackpressure(t *testing.T) {
	var lim p2p.Limits
	lim.MaxPendingEvents = 4 // the dispatcher parks at most 4 messages
	b := pollingNode(t, p2p.Config{Limits: lim})
	a := startNode(t, p2p.Config{}, nil)
	out, _ := pair(t, a, b)
	const n = 200
	for i := 0; i < n; i++ {
		require.NoError(t, a.SendToNode(out, []byte(label(i)), p2p.None))
	}
	var seen []p2p.Event
	pollUntil(t, b, &seen, "every message", func(evs []p2p.Event) bool { return count(evs, p2p.EventMessage) == n })
	assert.Equal(t, p2p.EventInboundConnected, seen[0].Type)
	i := 0
	for _, ev := range seen {
		if ev.Type == p2p.EventMessage {
			assert.Equal(t, label(i), string(ev.Message.Data))
			assert.Equal(t, a.ID(), ev.Peer.ID())
			i++
		}
	}
	// Nothing more: a done context returns at once with its error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	evs, err := b.Poll(ctx, 10)
	assert.Empty(t, evs)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestPollRequestToStopHoldsForThePoller(t *testing.T) {
	r := &recorder{}
	a := startNode(t, p2p.Config{}, r)
	b := pollingNode(t, p2p.Config{})
	_, in := pair(t, a, b)
	var seen []p2p.Event
	pollUntil(t, b, &seen, "the connection", func(evs []p2p.Event) bool { return count(evs, p2p.EventInboundConnected) == 1 })
	b.RequestStop()
	pollUntil(t, b, &seen, "request to stop", func(evs []p2p.Event) bool { return count(evs, p2p.EventRequestToStop) == 1 })
	// The waited-on event ended the batch, and the node holds until we
	// come back: the goodbye still reaches the peer.
	assert.Equal(t, p2p.EventRequestToStop, seen[len(seen)-1].Type)
	require.NoError(t, b.SendToNode(in, []byte("goodbye"), p2p.None))
	for {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		evs, err := b.Poll(ctx, 64)
		cancel()
		seen = append(seen, evs...)
		if errors.Is(err, p2p.ErrStopped) {
			break
		}
		require.NoError(t, err)
	}
	assert.Equal(t, 1, count(seen, p2p.EventInboundDisconnected))
	eventually(t, "the goodbye", func() bool {
		for _, m := range r.messages() {
			if string(m.Data) == "goodbye" {
				return true
			}
		}
		return false
	})
}

func TestPollReconnectionQuestion(t *testing.T) {
	var lim p2p.Limits
	lim.ReconnectInterval = 20 * time.Millisecond
	a := pollingNode(t, p2p.Config{Limits: lim})
	bcfg := p2p.Config{Host: "127.0.0.1", DebugOutput: io.Discard}
	b, err := p2p.New(bcfg, nil)
	require.NoError(t, err)
	require.NoError(t, b.Start())
	_, err = a.Connect("127.0.0.1", b.Port(), true)
	require.NoError(t, err)
	assert.ErrorIs(t, a.Answer(true), p2p.ErrInvalidArgument, "no question yet")
	require.NoError(t, b.Stop())
	var seen []p2p.Event
	pollUntil(t, a, &seen, "the question", func(evs []p2p.Event) bool { return count(evs, p2p.EventReconnectionError) == 1 })
	last := seen[len(seen)-1]
	require.Equal(t, p2p.EventReconnectionError, last.Type, "the question ends its batch")
	assert.Equal(t, 1, last.Trials)
	require.NoError(t, a.Answer(true))
	// "Yes": the node dials again, and asks again.
	pollUntil(t, a, &seen, "the second question", func(evs []p2p.Event) bool { return count(evs, p2p.EventReconnectionError) == 2 })
	assert.Equal(t, 2, seen[len(seen)-1].Trials)
	require.NoError(t, a.Answer(false))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	_, _ = a.Poll(ctx, 1) // hands the "no" over
	cancel()
	assert.ErrorIs(t, a.Answer(true), p2p.ErrInvalidArgument, "the question was answered")
}

func TestPollNobodyPollingDoesNotHoldStop(t *testing.T) {
	a := startNode(t, p2p.Config{}, nil)
	b := pollingNode(t, p2p.Config{})
	pair(t, a, b)
	// Nobody ever polled b: stopping it does not wait for a poller.
	done := make(chan error, 1)
	go func() { done <- b.Stop() }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(waitLimit):
		t.Fatal("Stop waited for a poller that is not there")
	}
	// The events stay for a later Poll, then ErrStopped.
	var seen []p2p.Event
	for {
		evs, err := b.Poll(context.Background(), 64)
		seen = append(seen, evs...)
		if errors.Is(err, p2p.ErrStopped) {
			break
		}
		require.NoError(t, err)
	}
	assert.Equal(t, []p2p.EventType{p2p.EventInboundConnected, p2p.EventRequestToStop, p2p.EventInboundDisconnected},
		typesOf(seen))
}

func typesOf(evs []p2p.Event) []p2p.EventType {
	out := make([]p2p.EventType, len(evs))
	for i, ev := range evs {
		out[i] = ev.Type
	}
	return out
}

func TestPollOnlyPollingNodes(t *testing.T) {
	a := startNode(t, p2p.Config{}, nil)
	_, err := a.Poll(context.Background(), 1)
	assert.ErrorIs(t, err, p2p.ErrInvalidArgument)
	assert.ErrorIs(t, a.Answer(true), p2p.ErrInvalidArgument)
	var nilNode *p2p.Node
	_, err = nilNode.Poll(context.Background(), 1)
	assert.ErrorIs(t, err, p2p.ErrNilNode)
}
