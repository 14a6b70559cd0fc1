"""Messages between our nodes: every payload kind and compression, and bad sends."""

import json
import os
import socket
import threading

import pytest

from conftest import HOST, Nodes, Recorder, connect, reference_value, wait_for
from p2pnode import Node, NodeConnection, P2PError
from p2pnode import _native as native

COMPRESSIONS = ["none", "zlib", "bzip2", "lzma"]

# (name, data as the application passes it)
PAYLOADS = [
    ("str", "hello there"),
    ("unicode-str", "h\u00e9llo \u2713 \u65e5\u672c \U0001F600"),
    ("empty-str", ""),
    ("number-text", "123"),
    ("json-text", '{"a": 1}'),
    ("dict", {"name": "Maurice", "number": 11}),
    ("nested-dict", {"a": [1, 2.5, None, True, {"b": {"c": "\u00e9"}}], "": {}}),
    ("empty-bytes", b""),
    ("eot-bytes", b"\x04"),
    ("bytes-holding-eot", b"ab\x04cd\x04"),
    ("non-utf8-with-eot", b"\xff\x04\x00\x80"),
    ("bytes-ending-stx", b"ab\x02"),
    ("non-utf8-ending-stx", b"\xfe\x02"),
    ("non-utf8", bytes(range(256))),
    ("utf8-bytes", "caf\u00e9".encode()),
    ("large-bytes", os.urandom(1 << 20)),
]


def wire_bytes(data):
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, dict):
        return json.dumps(data).encode("utf-8")
    return data


@pytest.fixture(scope="module")
def pair():
    made = Nodes()
    a, b = made(), made()
    out, inb = connect(a, b)
    yield a, b, out, inb
    made.close()


@pytest.mark.parametrize("compression", COMPRESSIONS)
@pytest.mark.parametrize("name,data", PAYLOADS, ids=[p[0] for p in PAYLOADS])
def test_payload_both_ways(pair, name, data, compression):
    a, b, out, inb = pair
    expected = reference_value(wire_bytes(data))
    n = len(b.messages())
    a.send_to_node(out, data, compression=compression)
    wait_for(lambda: len(b.messages()) > n, what="message at b")
    got = b.messages()[n]
    assert type(got) is type(expected) and got == expected
    assert b.of("node_message")[n][1] is inb
    # and back, through NodeConnection.send
    m = len(a.messages())
    inb.send(data, compression=compression)
    wait_for(lambda: len(a.messages()) > m, what="message at a")
    got = a.messages()[m]
    assert type(got) is type(expected) and got == expected


def test_json_nested_too_deep_for_python_arrives_as_text(pair):
    a, b, out, _ = pair
    deep = "[" * 5000 + "]" * 5000  # JSON for the library, a RecursionError for json.loads
    n = len(b.messages())
    a.send_to_node(out, deep)
    a.send_to_node(out, "after")
    wait_for(lambda: len(b.messages()) >= n + 2, what="both messages at b")
    assert b.messages()[n:] == [deep, "after"]


def test_bytes_like_are_sent_as_bytes(pair):
    a, b, out, _ = pair
    n = len(b.messages())
    a.send_to_node(out, bytearray(b"\xff\x01"))
    out.send(memoryview(b"\xff\x02"))
    wait_for(lambda: len(b.messages()) >= n + 2)
    assert b.messages()[n:] == [b"\xff\x01", b"\xff\x02"]


def test_encoding_type_argument(pair):
    a, b, out, _ = pair
    n = len(b.messages())
    out.send("h\u00e9", "latin-1")  # the reference's second positional argument
    wait_for(lambda: len(b.messages()) > n)
    assert b.messages()[n] == b"h\xe9"


def test_dict_goes_as_json_dumps_and_str_as_utf8():
    """What our node puts on the wire, read by a raw socket peer."""
    server = socket.socket()
    server.bind((HOST, 0))
    server.listen(1)
    made = Nodes()
    try:
        a = made(Node, HOST, 0, "ours")
        result = {}

        def peer():
            conn, _ = server.accept()
            with conn:
                conn.settimeout(10)
                result["hello"] = conn.recv(4096)
                conn.sendall(b"raw-peer")
                buf = b""
                while buf.count(b"\x04") < 3:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    buf += chunk
                result["frames"] = buf

        t = threading.Thread(target=peer)
        t.start()
        assert a.connect_with_node(HOST, server.getsockname()[1])
        d = {"k": "v\u00e9", "n": [1, 2], "z": {"x": None}}
        a.send_to_nodes(d)
        a.send_to_nodes("t\u00e9xt")
        a.send_to_nodes(b"\x00\xff")
        t.join(10)
        assert result["hello"] == ("ours:%d" % a.port).encode()
        assert result["frames"] == (json.dumps(d).encode() + b"\x04" + "t\u00e9xt".encode() + b"\x04"
                                    + b"\x00\xff\x04")
    finally:
        made.close()
        server.close()


def test_send_to_nodes_and_exclude(nodes):
    a, b, c = nodes(), nodes(), nodes()
    ab, _ = connect(a, b)
    ac, _ = connect(a, c)
    a.send_to_nodes("not for b", exclude=[ab])
    wait_for(lambda: c.messages() == ["not for b"])
    a.send_to_nodes("for all", compression="bzip2")
    wait_for(lambda: b.messages() == ["for all"] and c.messages() == ["not for b", "for all"])
    a.send_to_nodes("nobody", exclude=a.all_nodes)
    a.send_to_nodes("last")
    wait_for(lambda: b.messages() == ["for all", "last"])
    assert "nobody" not in c.messages()


def test_send_to_nodes_uses_an_overridden_send(nodes):
    class Tagging(NodeConnection):
        def send(self, data, encoding_type="utf-8", compression="none"):
            super().send("tag:" + data, encoding_type, compression)

    class TagNode(Recorder):
        def create_new_connection(self, connection, id, host, port):
            return Tagging(self, connection, id, host, port)

    a, b, c = nodes(TagNode), nodes(), nodes()
    ab, _ = connect(a, b)
    connect(a, c)
    a.send_to_nodes("x", exclude=[ab])
    wait_for(lambda: c.messages() == ["tag:x"])
    a.send_to_nodes("y")
    wait_for(lambda: b.messages() == ["tag:y"])
    a.send_to_nodes("z", exclude=(p for p in [ab]))  # an iterator, read once
    wait_for(lambda: c.messages() == ["tag:x", "tag:y", "tag:z"])
    a.send_to_nodes("last")
    wait_for(lambda: b.messages() == ["tag:y", "tag:last"])


@pytest.mark.parametrize("bad", [None, 5, 1.5, ["list"], ("t",), {"a"}, object()])
def test_unsupported_types_raise_type_error(pair, bad):
    a, b, out, _ = pair
    with pytest.raises(TypeError):
        a.send_to_nodes(bad)
    with pytest.raises(TypeError):
        a.send_to_node(out, bad)
    with pytest.raises(TypeError):
        out.send(bad)


def test_unencodable_dict_raises_type_error(pair):
    a, _, out, _ = pair
    with pytest.raises(TypeError):
        out.send({"x": object()})


@pytest.mark.parametrize("bad", ["gzip", "", "ZLIB", None, 1])
def test_unknown_compression_sends_nothing_as_the_reference(pair, bad, capsys):
    # p2pnetwork sends nothing and goes on, with a debug line; p2pnode also warns.
    a, b, out, _ = pair
    before = len(b.messages())
    a.debug = True
    for send in (lambda: a.send_to_nodes("x", compression=bad),
                 lambda: a.send_to_node(out, "x", compression=bad),
                 lambda: out.send("x", compression=bad)):
        with pytest.warns(RuntimeWarning, match="unknown compression"):
            send()
    a.debug = False
    assert capsys.readouterr().out.count(":compress:Unknown compression") == 3
    a.send_to_nodes("after")  # the connection is fine: only this one arrives
    assert wait_for(lambda: b.messages()[before:]) == ["after"]
    with pytest.raises(ValueError):  # p2pnode's own batch call keeps the clear error
        out.send_batch(["x"], compression=bad)


def test_send_to_unknown_node_prints_debug(nodes, capsys):
    a, b, c = nodes(id="A"), nodes(), nodes()
    ab, _ = connect(a, b)
    cb_, _ = connect(c, b)
    a.debug = True
    a.send_to_node("nobody", "x")
    a.send_to_node(cb_, "x")   # a peer of another node
    a.disconnect_with_node(ab)
    wait_for(lambda: not ab.is_alive())
    a.send_to_node(ab, "x")    # a peer that has gone
    ab.send("x")               # directly: dropped with a debug line too
    a.debug = False
    out = capsys.readouterr().out
    assert out.count("Node send_to_node: Could not send the data, node is not found!") == 3
    assert "nodeconnection send: Error sending data to node" in out


def test_message_too_big_raises(nodes):
    a = nodes(start=False)
    a.set_limit("max_frame_size", 1000)
    a.start()
    b = nodes()
    out, _ = connect(a, b)
    with pytest.raises(P2PError) as e:
        out.send(b"\xff" * 5000)
    assert e.value.code == native.P2P_ETOOBIG
    with pytest.raises(P2PError) as e:
        a.send_to_nodes("x" * 5000)
    assert e.value.code == native.P2P_ETOOBIG
    a.send_to_nodes("small")
    wait_for(lambda: b.messages() == ["small"])


def test_sends_after_stop_do_not_raise(nodes):
    a, b = nodes(), nodes()
    out, _ = connect(a, b)
    a.stop()
    a.join(10)
    a.send_to_nodes("x")
    a.send_to_node(out, "x")
    out.send("x")
    assert a.all_nodes == []
