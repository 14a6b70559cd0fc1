"""SecureNode: keys, signed messages both ways, rejections, ping, discovery,
pinning, and the reference's method names. Interop with a p2psecure-format
peer is tested in tests/crosslang/test_secure_crosslang.py and p2p/secure."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import threading
from typing import Any, Dict, List, Tuple

import pytest

from conftest import HOST, wait_for
from p2pnode import P2PError, Reject, SecureNode
from p2pnode import securenode as securenode_module
from p2pnode import _native as _n

BITS = 2048  # RSA key generation is slow; 4096 (the default) is tried once


@pytest.fixture(scope="module")
def key_files(tmp_path_factory: pytest.TempPathFactory) -> List[str]:
    """Three key files (plain PEM, no password), made once for the module."""
    d = tmp_path_factory.mktemp("keys")
    paths = []
    for i in range(3):
        n = SecureNode(HOST, 0)
        try:
            n.key_pair_generate(BITS)
            path = str(d / ("key%d.pem" % i))
            n.key_pair_save(path, None)
            paths.append(path)
        finally:
            n.close()
    return paths


class Recorder(SecureNode):
    """A SecureNode that records its secure events."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lock = threading.Lock()
        self.secure: List[Tuple[str, Dict[str, Any]]] = []
        self.rejected: List[Tuple[str, Any, str, Reject]] = []
        self.answers: List[Dict[str, Any]] = []
        self.connected: List[Any] = []

    def inbound_node_connected(self, node: Any) -> None:
        with self.lock:
            self.connected.append(node)

    def outbound_node_connected(self, node: Any) -> None:
        with self.lock:
            self.connected.append(node)

    def node_secure_message(self, node: Any, data: Dict[str, Any]) -> None:
        with self.lock:
            self.secure.append((node.id, data))

    def node_message_rejected(self, node: Any, data: Any, reason: str, reject: Reject) -> None:
        with self.lock:
            self.rejected.append((node.id, data, reason, reject))

    def node_discovery_answer(self, node: Any, answer: Dict[str, Any]) -> None:
        with self.lock:
            self.answers.append(answer)


@pytest.fixture
def make(key_files: List[str]):
    """make(key_index, cls=Recorder, **kwargs): a started secure node with a shared key."""
    nodes: List[SecureNode] = []

    def _make(key: int = 0, cls: Any = Recorder, **kwargs: Any) -> Any:
        n = cls(HOST, 0, **kwargs)
        nodes.append(n)
        n.key_pair_load(key_files[key], None)
        n.start()
        return n

    yield _make
    for n in nodes:
        n.close()


def link(a: SecureNode, b: SecureNode) -> None:
    before = len(b.all_nodes)
    assert a.connect_with_node(HOST, b.port)
    wait_for(lambda: len(b.all_nodes) > before, what="the inbound connection")


def test_start_needs_a_key() -> None:
    with SecureNode(HOST, 0) as n:
        with pytest.raises(P2PError) as e:
            n.start()
        assert e.value.code == _n.P2P_EKEY
        with pytest.raises(P2PError):
            n.get_public_key()


def test_reference_constructor_and_names() -> None:
    """p2psecure's SecureNode(host, port) and its method names."""
    with SecureNode(HOST, 0) as n:
        for name in ("create_message", "check_message", "send_message", "send_ping",
                     "send_discovery", "key_pair_generate", "key_pair_save", "key_pair_load",
                     "get_public_key", "get_hash", "get_data_uniq_string"):
            assert callable(getattr(n, name)), name
        assert securenode_module.SecureNode is SecureNode
        assert str(n).startswith("SecureNode: ")


def test_bad_config() -> None:
    with pytest.raises(ValueError):
        SecureNode(HOST, 0, key_policy="trust_everyone")
    with pytest.raises(P2PError) as e:
        SecureNode(HOST, 0, min_key_bits=-1)
    assert e.value.code == _n.P2P_EINVAL


@pytest.mark.parametrize("encryption", ["off", "required"])
def test_messages_both_ways(make: Any, encryption: str) -> None:
    """Over either transport: p2pnetwork's plaintext TCP or the native TLS link."""
    a, b = make(0, encryption=encryption), make(1, encryption=encryption)
    link(a, b)
    assert a.all_nodes[0].encrypted is (encryption == "required")
    value = {"text": "h\u00e9llo \U0001f600", "f": 1.0, "big": 123456789012345678901234567890,
             "list": [1, 2.5e-07, None, True]}
    a.send_message(value)
    wait_for(lambda: b.secure, what="the secure message")
    peer_id, data = b.secure[0]
    assert peer_id == a.id and data["_id"] == a.id and data["_type"] == "message"
    assert data["message"] == value
    assert isinstance(data["message"]["f"], float)
    assert data["_public_key"].encode() == a.get_public_key()
    # the other way, with the reference's create_message + send_to_nodes
    b.send_to_nodes(b.create_message({"_type": "order", "qty": 3}))
    wait_for(lambda: a.secure, what="the order")
    assert a.secure[0][1]["_type"] == "order" and a.secure[0][1]["qty"] == 3
    assert a.secure[0][1]["_id"] == b.id
    assert not a.rejected and not b.rejected


def test_callback_style(make: Any) -> None:
    got: List[Tuple[str, Any]] = []
    a = make(0)
    b = make(1, cls=SecureNode, callback=lambda event, main, node, data: got.append((event, data)))
    link(a, b)
    a.send_message("hi")
    a.send_to_nodes("unsigned")
    wait_for(lambda: {"node_secure_message", "node_message_rejected"} <= {e for e, _ in got},
             what="both events")
    assert [d for e, d in got if e == "node_secure_message"][0]["message"] == "hi"
    rejected = [d for e, d in got if e == "node_message_rejected"][0]
    assert rejected["data"] == "unsigned" and rejected["reject"] == Reject.MALFORMED


def test_rejections(make: Any) -> None:
    a, b = make(0), make(1)
    link(a, b)
    a.send_to_nodes("plain text")  # unsigned
    signed = a.create_message({"_type": "order", "qty": 3})
    tampered = copy.deepcopy(signed)
    tampered["qty"] = 4
    a.send_to_nodes(tampered)
    a.send_to_nodes(signed)
    a.send_to_nodes(signed)  # a replay
    wait_for(lambda: len(b.rejected) == 3 and len(b.secure) == 1, what="3 rejections, 1 message")
    assert [r[3] for r in b.rejected] == [Reject.MALFORMED, Reject.BAD_SIGNATURE, Reject.REPLAY]
    assert b.rejected[0][1] == "plain text" and "JSON" in b.rejected[0][2]
    assert b.rejected[1][1]["qty"] == 4
    assert b.secure[0][1]["qty"] == 3
    assert len(b.all_nodes) == 1  # the connection stays


def test_create_and_check_message(make: Any) -> None:
    a = make(0)
    data = {"_type": "x", "v": [1.5, "\u20ac"], "_id": "forged"}
    msg = a.create_message(data)
    assert msg is data  # as the reference: data gets the fields
    assert msg["_id"] == a.id and msg["v"] == [1.5, "\u20ac"]
    for field in ("_mcs", "_mcr", "_timestamp", "_message_id", "_hash", "_signature",
                  "_public_key"):
        assert field in msg, field
    assert a.check_message(msg) and a.check_message(json.dumps(msg))
    # The library's hashes are Python's: H(C(d)) with C = json.dumps(sort_keys=True).
    rest = {k: v for k, v in msg.items() if k not in ("_signature", "_public_key", "_hash")}
    assert a.get_hash(rest) == msg["_hash"]
    assert a.get_hash(rest) == hashlib.sha512(
        json.dumps(rest, sort_keys=True).encode()).hexdigest()
    del rest["_message_id"]
    assert a.get_hash(rest) == msg["_message_id"]
    for field in ("_hash", "_message_id", "_id", "v", "_timestamp"):
        t = copy.deepcopy(msg)
        t[field] = "tampered"
        assert not a.check_message(t), field
    assert not a.check_message({"a": 1}) and not a.check_message("not json")
    assert not a.check_message({"a": object()})
    with pytest.raises(TypeError):
        a.create_message(["not", "a", "dict"])


def test_ping_latency_in_peer_info(make: Any) -> None:
    a, b = make(0), make(1)
    link(a, b)
    a.send_ping()
    conn = a.all_nodes[0]

    def latency() -> Any:
        try:
            return conn.get_info("ping")
        except KeyError:
            return None

    value = wait_for(latency, what="the pong")
    assert isinstance(value, float) and 0 <= value < 60


def test_discovery_on_a_line(make: Any) -> None:
    a, b, c = make(0), make(1), make(2)
    link(a, b)
    link(b, c)
    a.send_discovery()
    wait_for(lambda: len(a.answers) == 2, what="two answers")
    by = {ans["_id"]: ans for ans in a.answers}
    assert set(by) == {b.id, c.id}
    assert by[b.id]["nodes"] == [
        {"id": a.id, "ip": HOST, "port": a.port, "connection": "inbound"},
        {"id": c.id, "ip": HOST, "port": c.port, "connection": "outbound"}]
    assert by[c.id]["nodes"] == [{"id": b.id, "ip": HOST, "port": b.port,
                                  "connection": "inbound"}]
    assert not b.answers and not c.answers and not b.secure and not c.secure


@pytest.mark.parametrize("fmt", ["p2pnode", "p2psecure"])
def test_key_files_round_trip(tmp_path: Any, key_files: List[str], fmt: str) -> None:
    with SecureNode(HOST, 0) as a, SecureNode(HOST, 0) as b:
        a.key_pair_load(key_files[0], None)
        path = str(tmp_path / "node.dat")
        a.key_pair_save(path, "p\u00e4ssword", format=fmt)
        assert os.stat(path).st_mode & 0o777 == 0o600
        with pytest.raises(P2PError) as e:
            b.key_pair_load(path, "wrong")
        assert e.value.code == _n.P2P_EKEY
        b.key_pair_load(path, "p\u00e4ssword")
        assert b.get_public_key() == a.get_public_key()
        # bytes, as the reference's example passes them: the same characters in Latin-1
        b.key_pair_load(path, "p\u00e4ssword".encode("latin-1"))
        assert b.get_public_key() == a.get_public_key()
    with pytest.raises(ValueError):
        SecureNode(HOST, 0).key_pair_save(str(tmp_path / "x"), "pw", format="zip")


def test_key_pair_generate_default_is_4096() -> None:
    with SecureNode(HOST, 0) as n:
        n.key_pair_generate()
        pem = n.get_public_key()
        assert pem.startswith(b"-----BEGIN PUBLIC KEY-----\n")
        assert len(pem) > 750  # a 4096-bit key's PEM is about 800 bytes; 2048 about 450
        with pytest.raises(P2PError):
            n.key_pair_generate(1024)


def test_pinning(make: Any, key_files: List[str]) -> None:
    a, b = make(0), make(1)
    other = SecureNode(HOST, 0)
    try:
        other.key_pair_load(key_files[2], None)
        wrong = other.get_public_key()
    finally:
        other.close()
    link(a, b)
    assert b.pinned_key(a.id) is None
    b.pin(a.id, wrong)
    assert b.pinned_key(a.id) == wrong
    a.send_message(1)
    wait_for(lambda: b.rejected, what="the rejection")
    assert b.rejected[0][3] == Reject.KEY_MISMATCH
    b.unpin(a.id)
    a.send_message(2)
    wait_for(lambda: b.secure, what="the message")
    assert b.pinned_key(a.id) == a.get_public_key()  # pinned on first use
    assert b.pinned_key(b.id) == b.get_public_key()  # our own id is ours
    with pytest.raises(P2PError):
        b.pin(a.id, "not a key")


def test_trusted_keys_only(make: Any) -> None:
    a, b = make(0), make(1, key_policy="trusted_keys_only")
    link(a, b)
    a.send_message(1)
    wait_for(lambda: b.rejected, what="the rejection")
    assert b.rejected[0][3] == Reject.UNTRUSTED_KEY
    b.pin(a.id, a.get_public_key())
    a.send_message(2)
    wait_for(lambda: b.secure, what="the message")


def test_bad_input_costs_the_call_only(make: Any) -> None:
    a, b = make(0), make(1)
    link(a, b)
    with pytest.raises(TypeError):
        a.send_message(b"bytes are not JSON")
    with pytest.raises(TypeError):
        a.send_message({"x": object()})
    a.send_message(float("nan"))  # json.dumps writes NaN, as Python reads it
    wait_for(lambda: b.secure, what="the message")
    assert b.secure[0][1]["message"] != b.secure[0][1]["message"]  # NaN
