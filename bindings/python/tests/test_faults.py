"""Hostile calls and faults (issue 16): codes and limits as the header gives them."""

import os
import re
import signal
import time

import pytest

from conftest import HOST, DEADLINE, connect, wait_for
from p2pnode import Node, P2PError
from p2pnode import _native as native


def test_status_codes_match_the_header():
    from test_load import _header
    with open(_header()) as f:
        codes = dict(re.findall(r"^#define (P2P_E\w+) (-\d+)", f.read(), re.M))
    assert "P2P_EFORK" in codes
    for name, value in codes.items():
        assert getattr(native, name) == int(value), name
        assert native.CODE_NAMES[int(value)] == name


def test_limit_values_beyond_a_duration_are_refused(nodes):
    n = nodes(Node, HOST, 0, start=False)
    n.set_limit("handshake_timeout_ms", 1234)
    for value in (9223372036855, 18446744073710, 2 ** 63 - 1):
        with pytest.raises(P2PError) as e:
            n.set_limit("handshake_timeout_ms", value)
        assert e.value.code == native.P2P_EINVAL
        assert n.get_limit("handshake_timeout_ms") == 1234
    n.set_limit("handshake_timeout_ms", 9223372036854)
    assert n.get_limit("handshake_timeout_ms") == 9223372036854


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_calls_in_a_forked_child_fail_fast(nodes):
    a = nodes(Node, HOST, 0)
    b = nodes(Node, HOST, 0)
    connect(a, b)
    pid = os.fork()
    if pid == 0:  # the child: every call refuses at once
        status = 1
        try:
            a.get_limit("max_frame_size")
        except P2PError as e:
            status = 0 if e.code == native.P2P_EFORK and "fork" in e.message else 2
        except BaseException:
            status = 3
        os._exit(status)
    end = time.monotonic() + DEADLINE
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done or time.monotonic() > end:
            break
        time.sleep(0.01)
    if not done:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert done, "the forked child's call hung"
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    # the parent's nodes go on
    assert a.get_limit("max_frame_size") == 64 << 20
    before = b.message_count_recv
    a.send_to_nodes("after the fork")
    wait_for(lambda: b.message_count_recv > before, what="a message after the fork")


# ---- The core's accounting and limits (issue 16) -------------------------------------

NEW_LIMITS = {
    "overflow_policy": 0, "max_queued_bytes_total": 256 << 20, "max_queued_bytes_per_address": 128 << 20,
    "stop_timeout_ms": 10000, "max_pending_handshakes": 256, "max_pending_handshakes_per_address": 128,
    "idle_eviction_ms": 10000, "max_pending_bytes": 256 << 20, "max_pending_bytes_per_address": 128 << 20,
}


def test_new_limits_have_their_defaults_and_take_values(nodes):
    from p2pnode.node import LIMITS
    n = nodes(Node, HOST, 0, start=False)
    for name, default in NEW_LIMITS.items():
        assert name in LIMITS
        assert n.get_limit(name) == default, name
        value = 2 if name == "overflow_policy" else 4321
        n.set_limit(name, value)
        assert n.get_limit(name) == value, name
    for name, code in native.OVERFLOW_POLICIES.items():
        n.set_limit("overflow_policy", name)
        assert n.get_limit("overflow_policy") == code
    with pytest.raises(ValueError):
        n.set_limit("overflow_policy", "sometimes")
    with pytest.raises(P2PError) as e:
        n.set_limit("overflow_policy", 4)
    assert e.value.code == native.P2P_EINVAL


def test_counters_add_up(nodes):
    a = nodes(Node, HOST, 0)
    b = nodes(Node, HOST, 0)
    out, _ = connect(a, b)
    for i in range(10):
        a.send_to_node(out, "m%d" % i)
    wait_for(lambda: b.counters()["received"] == 10, what="10 messages at b")
    c = wait_for(lambda: (lambda c: c if c["queued"] == 0 else None)(a.counters()), what="a's queue empty")
    assert c["accepted"] == c["written"] == c["sent"] == 10
    assert c["accepted_bytes"] == c["written_bytes"] == sum(len("m%d" % i) + 1 for i in range(10))
    assert c["dropped_overflow"] + c["dropped_link_lost"] + c["dropped_stop"] + c["refused"] == 0
    p = a.counters(out)
    assert p["accepted"] == p["written"] == 10
    assert a.message_count_send == 10


class _Dropping(Node):
    def __init__(self, *args, **kwargs):
        self.gone = []
        super().__init__(*args, **kwargs)

    def node_disconnected(self, node):
        self.gone.append((node.dropped, node.dropped_bytes))
        super().node_disconnected(node)


def test_disconnected_peer_says_what_was_dropped(nodes):
    import socket
    a = nodes(_Dropping, HOST, 0, start=False)
    a.set_limit("max_queued_bytes", 64 << 10)
    a.set_limit("overflow_policy", "disconnect")
    a.set_limit("send_timeout_ms", 600000)
    a.start()
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect((HOST, a.port))
    try:
        raw.sendall(b"raw-sink:4321")
        assert raw.recv(256)
        conn = wait_for(lambda: a.nodes_inbound, what="the raw peer")[0]
        payload = b"q" * (16 << 10)
        # Fill the socket's buffers first, never over the queue (the first
        # overflow disconnects): then the queue cannot drain and the
        # overflow has something to drop.
        still, end = 0, time.monotonic() + DEADLINE
        while still < 50 and time.monotonic() < end:
            c0 = a.counters(conn)
            if c0["queued_bytes"] + len(payload) + 1 <= 64 << 10:
                conn.send(payload)
                still = 0
                continue
            time.sleep(0.002)
            c1 = a.counters(conn)
            still = still + 1 if c1["written"] == c0["written"] and c1["queued"] > 0 else 0
        assert still == 50, "the socket's buffers never filled"
        end = time.monotonic() + DEADLINE
        with pytest.raises(P2PError) as e:
            while time.monotonic() < end:
                conn.send(payload)
        assert e.value.code == native.P2P_EFULL
        wait_for(lambda: a.gone, what="the disconnected event")
        dropped, dropped_bytes = a.gone[0]
        c = a.counters()
        assert dropped > 0 and dropped == c["dropped_overflow"] + c["dropped_link_lost"]
        assert dropped_bytes == c["dropped_bytes"]
        assert c["accepted"] == c["written"] + c["dropped_overflow"] + c["dropped_link_lost"] + c["dropped_stop"] + c["queued"]
    finally:
        raw.close()
