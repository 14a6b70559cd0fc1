"""Shared fixtures: nodes on loopback with port 0, a recording Node, waits with deadlines."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from typing import Any, Callable, List, Optional, Tuple

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("P2PNODE_ROOT") or os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.normpath(os.path.join(HERE, "..")))

if not os.environ.get("P2PNODE_LIBRARY"):
    _lib = os.path.join(ROOT, "build", "libp2pnode.so")
    if os.path.isfile(_lib):
        os.environ["P2PNODE_LIBRARY"] = _lib

import p2pnode  # noqa: E402
from p2pnode.node import Node  # noqa: E402

HOST = "127.0.0.1"
DEADLINE = 10.0


def wait_for(predicate: Callable[[], Any], timeout: float = DEADLINE, what: str = "") -> Any:
    """Poll predicate until it is truthy; fail the test after timeout seconds."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for " + (what or repr(predicate)))
        time.sleep(0.01)


def free_port() -> int:
    """A TCP port that was free a moment ago (for p2pnetwork nodes, which need one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def reference_value(payload: bytes) -> Any:
    """How p2pnetwork presents a received payload (its parse_packet rule)."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


class Recorder(Node):
    """A Node subclass that records every event method call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.events: List[Tuple] = []
        self.events_lock = threading.Lock()
        self.reconnect_answer: Callable[[str, int, int], bool] = lambda h, p, t: True
        super().__init__(*args, **kwargs)

    def _rec(self, *ev: Any) -> None:
        with self.events_lock:
            self.events.append(ev)

    def names(self) -> List[str]:
        with self.events_lock:
            return [e[0] for e in self.events]

    def of(self, name: str) -> List[Tuple]:
        with self.events_lock:
            return [e for e in self.events if e[0] == name]

    def messages(self) -> List[Any]:
        return [e[2] for e in self.of("node_message")]

    def outbound_node_connected(self, node):
        self._rec("outbound_node_connected", node)

    def inbound_node_connected(self, node):
        self._rec("inbound_node_connected", node)

    def inbound_node_disconnected(self, node):
        self._rec("inbound_node_disconnected", node)

    def outbound_node_disconnected(self, node):
        self._rec("outbound_node_disconnected", node)

    def node_message(self, node, data):
        self._rec("node_message", node, data)

    def node_disconnect_with_outbound_node(self, node):
        self._rec("node_disconnect_with_outbound_node", node)

    def node_request_to_stop(self):
        self._rec("node_request_to_stop")

    def node_reconnection_error(self, host, port, trials):
        self._rec("node_reconnection_error", host, port, trials)
        return self.reconnect_answer(host, port, trials)


class Nodes:
    """Makes nodes and closes them all at the end of a test."""

    def __init__(self) -> None:
        self.made: List[Node] = []

    def __call__(self, cls: type = Recorder, *args: Any, start: bool = True, **kwargs: Any) -> Any:
        if not args:
            args = (HOST, 0)
        n = cls(*args, **kwargs)
        self.made.append(n)
        if start:
            n.start()
        return n

    def close(self) -> None:
        for n in self.made:
            try:
                n.stop()
            except Exception:
                pass
        for n in self.made:
            if n.is_alive():
                n.join(DEADLINE)
                assert not n.is_alive(), "node thread did not end"
            n.close()


@pytest.fixture
def nodes():
    made = Nodes()
    yield made
    made.close()


def connect(a: Node, b: Node) -> Tuple[Any, Any]:
    """Connect a with b; return (b's connection on a, a's connection on b)."""
    assert a.connect_with_node(HOST, b.port)
    out = wait_for(lambda: [c for c in a.nodes_outbound if c.id == b.id], what="outbound peer")[0]
    inb = wait_for(lambda: [c for c in b.nodes_inbound if c.id == a.id], what="inbound peer")[0]
    return out, inb
