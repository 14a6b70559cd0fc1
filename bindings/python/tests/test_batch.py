"""The batched path: NodeConnection.send_batch (p2p_node_send_batch) and
node_message_batch (p2p_node_poll_batch): order, no loss, values, backpressure."""

from __future__ import annotations

import threading

import pytest

from conftest import HOST, Recorder, connect, reference_value, wait_for
from p2pnode import P2PError
from p2pnode import _native as _n
from p2pnode.node import Node


class BatchRecorder(Node):
    """Takes whole runs of messages; records every run."""

    def __init__(self, *args, **kwargs):
        self.runs = []
        self.lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def node_message_batch(self, node, messages):
        with self.lock:
            self.runs.append((node, list(messages)))

    def messages(self):
        with self.lock:
            return [m for _, run in self.runs for m in run]


def test_send_batch_arrives_in_order_without_loss(nodes):
    a, b = nodes(), nodes()
    out, _ = connect(a, b)
    total = 0
    for k in range(10):
        batch = [b"batch %d message %d" % (k, i) for i in range(1000)]
        assert out.send_batch(batch) == 1000
        total += 1000
    got = wait_for(lambda: len(b.messages()) == total and b.messages(), what="all messages")
    assert got == ["batch %d message %d" % (k, i) for k in range(10) for i in range(1000)]
    assert a.message_count_send == total


def test_send_batch_values_as_send(nodes):
    """Every kind of payload arrives as one send() of it would."""
    a, b = nodes(), nodes()
    out, _ = connect(a, b)
    payloads = [b"", b"\x04", b"a\x04b", b"ends with \x02", b"\xff\xfe", "text", "123", {"k": [1, 2]},
                b'{"json": true}', "x" * 100_000, b"\x02\x04" * 40_000]
    assert out.send_batch(payloads) == len(payloads)
    expect = [reference_value(p if isinstance(p, bytes) else
                              (p.encode() if isinstance(p, str) else
                               __import__("json").dumps(p).encode()))
              for p in payloads]
    got = wait_for(lambda: len(b.messages()) == len(expect) and b.messages(), what="messages")
    assert got == expect


def test_send_batch_compressed_and_empty(nodes):
    a, b = nodes(), nodes()
    out, _ = connect(a, b)
    assert out.send_batch([]) == 0
    assert out.send_batch(iter(["z%d" % i for i in range(50)]), compression="zlib") == 50
    got = wait_for(lambda: len(b.messages()) == 50 and b.messages(), what="messages")
    assert got == ["z%d" % i for i in range(50)]
    with pytest.raises(ValueError):
        out.send_batch([b"x"], compression="nope")
    with pytest.raises(TypeError):
        out.send_batch([b"x", 1.5])


def test_node_message_batch_gets_runs_per_peer_in_order(nodes):
    a1, a2 = nodes(), nodes()
    b = nodes(BatchRecorder)
    o1, _ = connect(a1, b)
    o2, _ = connect(a2, b)
    for k in range(5):
        o1.send_batch([b"one %d %d" % (k, i) for i in range(2000)])
        o2.send_batch([b"two %d %d" % (k, i) for i in range(2000)])
    wait_for(lambda: len(b.messages()) == 20_000, what="all messages")
    with b.lock:
        runs = list(b.runs)
    for node, run in runs:
        assert run, "no empty runs"
        prefix = "one" if node.id == a1.id else "two"
        assert all(m.startswith(prefix) for m in run)
    for prefix in ("one", "two"):
        mine = [m for _, run in runs for m in run if m.startswith(prefix)]
        assert mine == ["%s %d %d" % (prefix, k, i) for k in range(5) for i in range(2000)]


def test_default_node_message_batch_calls_node_message(nodes):
    """A node that overrides only node_message still gets every message, once, in order."""
    a, b = nodes(), nodes(Recorder)
    out, _ = connect(a, b)
    out.send_batch([b"m%d" % i for i in range(3000)])
    got = wait_for(lambda: len(b.messages()) == 3000 and b.messages(), what="messages")
    assert got == ["m%d" % i for i in range(3000)]


def test_send_batch_backpressure_waits_then_fails_with_count(nodes):
    """A peer that reads nothing: the batch fills the queue, waits the send
    timeout, and fails with P2P_EFULL naming how many were queued; those
    arrive, in order, once the peer reads again."""
    release = threading.Event()

    class Stuck(Recorder):
        def node_message(self, node, data):
            release.wait(20)
            super().node_message(node, data)

    # The plaintext link: its writer takes the stall clock from the write under way; the native
    # one from the last byte out, so with a 300 ms send timeout it may cut the peer first.
    a = nodes(start=False, encryption="off")
    a.set_limit("max_queued_bytes", 64 << 10)
    a.set_limit("send_timeout_ms", 300)
    a.start()
    b = nodes(Stuck)
    b.set_limit  # started already: pending events keep their default
    out, _ = connect(a, b)
    msg = b"y" * 1000
    with pytest.raises(P2PError) as info:
        for _ in range(200):  # bounded: far more than socket buffers and the queue hold
            out.send_batch([msg] * 10_000)
    assert info.value.code == _n.P2P_EFULL
    queued = a.message_count_send
    assert 0 < info.value.sent < 10_000
    release.set()
    got = wait_for(lambda: len(b.messages()) == queued and b.messages(), timeout=60,
                   what="the queued messages")
    assert got == ["y" * 1000] * queued


def test_send_batch_to_gone_peer_is_dropped(nodes):
    a, b = nodes(), nodes()
    out, _ = connect(a, b)
    b.stop()
    wait_for(lambda: not out.is_alive(), what="disconnect")
    assert out.send_batch([b"x"] * 10) == 0
    assert a.send_batch_to_node(out, [b"x"]) == 0
