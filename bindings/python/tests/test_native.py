"""Issues 19 and 21: the native link's encryption and identity, and gossip, on real sockets."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any, List, Tuple

import pytest

from conftest import DEADLINE, HOST, Recorder, connect, wait_for

from p2pnode import aio
from p2pnode._native import P2PError, P2P_EREFUSED, P2P_EINVAL


class Gossip(Recorder):
    def node_topic_message(self, node: Any, topic: str, origin_id: str, data: Any) -> None:
        self._rec("node_topic_message", node, topic, origin_id, data)


def test_encrypted_link_and_peer_keys(nodes: Any) -> None:
    a, b = nodes(), nodes()
    assert len(a.public_key) == 32 and a.public_key != b.public_key
    out, inb = connect(a, b)
    assert out.encrypted and inb.encrypted
    assert out.peer_key == b.public_key and inb.peer_key == a.public_key


def test_encryption_off_is_plaintext(nodes: Any) -> None:
    a, b = nodes(encryption="off"), nodes()
    out, inb = connect(a, b)
    assert not out.encrypted and out.peer_key is None and not inb.encrypted
    assert a.get_limit("encryption") == 1


def test_required_refuses_off(nodes: Any) -> None:
    a, b = nodes(encryption="required"), nodes(encryption="off")
    assert not a.connect_with_node(HOST, b.port)
    assert not a.nodes_outbound
    with pytest.raises(ValueError):
        nodes(encryption="sometimes")


def test_wrong_pinned_key_refused(nodes: Any) -> None:
    a, b, c = nodes(), nodes(), nodes()
    a.pin(b.id, c.public_key)
    assert not a.connect_with_node(HOST, b.port)
    a.pin(c.id, c.public_key)
    connect(a, c)
    with pytest.raises(P2PError) as e:
        a.pin(b.id, b"short")
    assert e.value.code == P2P_EINVAL


def test_allow_list(nodes: Any) -> None:
    a, b, c = nodes(start=False), nodes(), nodes()
    a.allow(c.public_key)
    a.start()
    assert not a.connect_with_node(HOST, b.port)
    connect(a, c)


def test_identity_save_and_load(nodes: Any, tmp_path: Any) -> None:
    a = nodes(start=False)
    path = str(tmp_path / "id.pem")
    a.save_identity(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    b = nodes(identity=path, start=False)
    with open(path, "rb") as f:
        c = nodes(identity=f.read())
    assert a.public_key == b.public_key == c.public_key
    d = nodes(start=False)
    d.load_identity(path)
    assert d.public_key == a.public_key
    with pytest.raises(P2PError):
        nodes(identity=b"not a key")


def test_encryption_refused_code(nodes: Any) -> None:
    """The library's code for a refused peer is P2P_EREFUSED (the binding's connect says False)."""
    assert P2P_EREFUSED == -19


def test_gossip_exactly_once_never_to_origin(nodes: Any) -> None:
    """5 nodes find each other from one bootstrap; each subscriber gets a publish once."""
    ns = [nodes(Gossip, start=False) for _ in range(5)]
    for x in ns[:4]:
        x.subscribe("chat")  # also before start
    for x in ns:
        x.subscribe("other")
        x.start()
    ns[1].unsubscribe("other")
    for x in ns[1:]:
        assert x.connect_with_node(HOST, ns[0].port)
    for x in ns:
        x.discover(target_peers=2)
    wait_for(lambda: all(len(x.all_nodes) >= 2 for x in ns), what="2 peers each")
    ids = {x.id for x in ns}
    assert ns[4].known_peers() and all(p[0] in ids and p[2] > 0 for p in ns[4].known_peers())
    origin = ns[4]
    origin.publish("chat", {"n": 1})
    wait_for(lambda: all(x.of("node_topic_message") for x in ns[:4]), what="the first publish")
    origin.publish("chat", "two")  # its arrival shows the first had its chance to repeat
    wait_for(lambda: all(len(x.of("node_topic_message")) >= 2 for x in ns[:4]), what="the second")
    for x in ns[:4]:
        got = [(e[2], e[3], e[4]) for e in x.of("node_topic_message")]
        assert got == [("chat", origin.id, {"n": 1}), ("chat", origin.id, "two")]
        assert all(e[1].id in ids for e in x.of("node_topic_message"))
    assert not origin.of("node_topic_message")
    with pytest.raises(ValueError):
        origin.publish("bad\x00", b"x")
    with pytest.raises(P2PError) as e:
        origin.publish("t" * 256, b"x")
    assert e.value.code == P2P_EINVAL


def test_gossip_callback_style(nodes: Any) -> None:
    got: List[Tuple[str, Any]] = []
    lock = threading.Lock()

    def cb(event: str, main: Any, node: Any, data: Any) -> None:
        if event == "node_topic_message":
            with lock:
                got.append((event, data))
    a, b = nodes(), nodes(callback=cb)
    b.subscribe("t")
    connect(a, b)
    wait_for(lambda: _delivered(a, b, lock, got), what="the callback's topic message")
    assert got[0] == ("node_topic_message", {"topic": "t", "origin": a.id, "data": b"\xff\x00"})


def _delivered(a: Any, b: Any, lock: threading.Lock, got: List[Any]) -> bool:
    """Publish until b (whose subscription a learns over the link) gets one."""
    with lock:
        if got:
            return True
    a.publish("t", b"\xff\x00")
    return False


def test_aio_encryption_and_gossip(tmp_path: Any) -> None:
    async def main() -> None:
        path = str(tmp_path / "k.pem")
        async with aio.Node(HOST, 0) as a, aio.Node(HOST, 0, encryption="required") as b:
            a.save_identity(path)
            b.subscribe("room")
            conn = await a.connect_with_node(HOST, b.port)
            assert conn is not None and conn.encrypted and conn.peer_key == b.public_key
            events = b.events()
            while True:
                a.publish("room", "hi")
                try:
                    ev = await asyncio.wait_for(events.__anext__(), 0.2)
                except asyncio.TimeoutError:
                    continue
                if ev.name == "node_topic_message":
                    break
            assert ev.data == {"topic": "room", "origin": a.id, "data": "hi"}
            assert ev.node is not None and ev.node.id == a.id
            await events.aclose()
        async with aio.Node(HOST, 0, identity=path) as c:
            assert len(c.known_peers()) == 0 and len(c.public_key) == 32
    asyncio.run(asyncio.wait_for(main(), DEADLINE * 2))
