"""p2pnode.aio: the asyncio node, with asyncio.run, on loopback.

Every wait has a deadline (asyncio.wait_for, or a condition polled until
one); nothing asserts a timing.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
import time
from typing import Any, AsyncIterator, Callable, List, Optional, Set, Tuple

import pytest

from conftest import DEADLINE, HOST, wait_for

import p2pnode
from p2pnode import aio
from p2pnode.node import Node as ThreadedNode

N_MESSAGES = 10_000


def _threads() -> Set[str]:
    """The threads of aio nodes (poller and workers) alive now."""
    return {t.name for t in threading.enumerate() if t.name.startswith("p2pnode-aio")}


def run(coro: Any, timeout: float = 60.0) -> Any:
    """asyncio.run with a deadline; afterwards no thread of an aio node is left."""
    wait_for(lambda: not _threads(), what="an earlier test's aio threads to end")
    result = asyncio.run(asyncio.wait_for(coro, timeout))
    wait_for(lambda: not _threads(), what="the aio node's threads to end")
    return result


async def until(predicate: Callable[[], Any], what: str, timeout: float = DEADLINE) -> Any:
    """Poll predicate on the loop (yielding to it) until true; fail after timeout."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for " + what)
        await asyncio.sleep(0.01)


class Reader:
    """Reads a node's events into a list on a task of its own."""

    def __init__(self, node: aio.Node) -> None:
        self.node = node
        self.events: List[aio.Event] = []
        self.task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for ev in self.node.events():
            self.events.append(ev)

    def names(self) -> List[str]:
        return [e.name for e in self.events]

    def of(self, name: str) -> List[aio.Event]:
        return [e for e in self.events if e.name == name]

    async def wait(self, name: str, count: int = 1) -> List[aio.Event]:
        return await until(lambda: len(self.of(name)) >= count and self.of(name),
                           "%d %s event(s) on %r (have %s)" % (count, name, self.node,
                                                               self.names()[-5:]))

    async def done(self) -> None:
        await asyncio.wait_for(self.task, DEADLINE)


async def next_named(events: AsyncIterator[aio.Event], name: str) -> aio.Event:
    async def find() -> aio.Event:
        async for ev in events:
            if ev.name == name:
                return ev
        raise AssertionError("events() ended before " + name)
    return await asyncio.wait_for(find(), DEADLINE)


# ---- two aio nodes ------------------------------------------------------------------

def test_many_messages_arrive_in_order() -> None:
    async def main() -> Tuple[List[Any], List[Any], int]:
        async with aio.Node(HOST, 0, id="a") as a, aio.Node(HOST, 0, id="b") as b:
            ra = Reader(a)
            conn = await b.connect_with_node(HOST, a.port)
            assert conn is not None and conn.id == "a" and conn.direction == "outbound"
            for i in range(N_MESSAGES):
                assert await b.send_to_node(conn, {"i": i}) is True
            msgs = await ra.wait("node_message", N_MESSAGES)
            # One batch call: text, bytes and JSON again, in order after the others.
            sent = await conn.send_batch(["t%d" % i for i in range(1000)] + [b"\x00\xff", {"k": 1}])
            await ra.wait("node_message", N_MESSAGES + 1002)
            msgs = ra.of("node_message")
            sender = {e.node.id for e in msgs if e.node is not None}
            assert ra.of("inbound_node_connected")[0].node is msgs[0].node
            return [e.data for e in msgs], sorted(sender), sent

    data, sender, sent = run(main())
    assert sent == 1002
    assert data[:N_MESSAGES] == [{"i": i} for i in range(N_MESSAGES)]
    assert data[N_MESSAGES:] == ["t%d" % i for i in range(1000)] + [b"\x00\xff", {"k": 1}]
    assert sender == ["b"]


def test_connect_disconnect_and_stop_events() -> None:
    async def main() -> Tuple[List[str], List[str]]:
        a = aio.Node(HOST, 0, id="a")
        b = aio.Node(HOST, 0, id="b")
        async with a, b:
            ra, rb = Reader(a), Reader(b)
            conn = await b.connect_with_node(HOST, a.port)
            assert conn is not None
            await ra.wait("inbound_node_connected")
            await rb.wait("outbound_node_connected")
            assert [c.id for c in b.nodes_outbound] == ["a"] and b.nodes_inbound == []
            assert [c.id for c in a.nodes_inbound] == ["b"] and a.all_nodes[0].direction == "inbound"
            # Already connected: the same Connection again.
            assert await b.connect_with_node(HOST, a.port) is conn
            assert rb.of("outbound_node_connected")[0].node is conn
            await b.disconnect_with_node(conn)
            await rb.wait("outbound_node_disconnected")
            await ra.wait("inbound_node_disconnected")
            assert conn.closed and b.all_nodes == []
            assert await b.send_to_node(conn, "gone") is False  # as p2pnetwork: dropped
            # Reconnect, then stop b with the peer still connected.
            again = await b.connect_with_node(HOST, a.port)
            assert again is not None and again is not conn
            await ra.wait("inbound_node_connected", 2)
            await b.stop()
            await rb.done()  # events() ends once the node is down
            await ra.wait("inbound_node_disconnected", 2)
        await ra.done()
        return ra.names(), rb.names()

    a_names, b_names = run(main())
    assert b_names == ["outbound_node_connected", "node_disconnect_with_outbound_node",
                       "outbound_node_disconnected", "outbound_node_connected",
                       "node_request_to_stop", "outbound_node_disconnected"]
    assert a_names == ["inbound_node_connected", "inbound_node_disconnected",
                       "inbound_node_connected", "inbound_node_disconnected",
                       "node_request_to_stop"]


def test_broadcast_with_exclude_and_compression() -> None:
    async def main() -> Tuple[List[Any], List[Any]]:
        async with aio.Node(HOST, 0, id="hub") as hub, aio.Node() as x, aio.Node() as y:
            rx, ry, rh = Reader(x), Reader(y), Reader(hub)
            assert await x.connect_with_node(HOST, hub.port)
            assert await y.connect_with_node(HOST, hub.port)
            await rh.wait("inbound_node_connected", 2)
            to_x = [c for c in hub.all_nodes if c.id == x.id]
            for comp in ("none", "zlib", "bzip2", "lzma"):
                await hub.send_to_nodes({"c": comp}, compression=comp)
            await hub.send_to_nodes("only y", exclude=to_x)
            await ry.wait("node_message", 5)
            await rx.wait("node_message", 4)
            with pytest.raises(ValueError):
                await hub.send_to_nodes("x", compression="zip")
            with pytest.raises(TypeError):
                await hub.send_to_nodes(3.5)
            return [e.data for e in rx.of("node_message")], [e.data for e in ry.of("node_message")]

    got_x, got_y = run(main())
    want = [{"c": c} for c in ("none", "zlib", "bzip2", "lzma")]
    assert got_x == want
    assert got_y == want + ["only y"]


def test_connect_failures_return_none_and_errors_raise() -> None:
    async def main() -> None:
        with socket.socket() as s:  # a port with nobody listening
            s.bind((HOST, 0))
            dead = s.getsockname()[1]
        async with aio.Node() as a:
            assert await a.connect_with_node(HOST, dead) is None
            assert await a.connect_with_node(HOST, a.port) is None  # itself
        with pytest.raises(p2pnode.P2PError):
            await a.connect_with_node(HOST, dead)  # stopped
        idle = aio.Node()
        with pytest.raises(p2pnode.P2PError) as err:
            await idle.send_to_nodes("not started")
        assert err.value.name == "P2P_ESTATE"
        await idle.stop()
        with pytest.raises(p2pnode.P2PError):
            aio.Node(HOST, -5)

    run(main())


def test_the_loop_runs_while_a_dial_waits() -> None:
    """A connect blocks in the library for the handshake: the loop goes on meanwhile.

    The peer is an asyncio server on the same loop that accepts and says
    nothing: it can only accept if the loop is not blocked by the connect.
    """
    async def main() -> Optional[aio.Connection]:
        accepted = asyncio.Event()
        writers: List[asyncio.StreamWriter] = []

        def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            accepted.set()

        server = await asyncio.start_server(on_client, HOST, 0)
        port = server.sockets[0].getsockname()[1]
        async with aio.Node() as a:
            dial = asyncio.ensure_future(a.connect_with_node(HOST, port))
            await asyncio.wait_for(accepted.wait(), DEADLINE)
            assert not dial.done()  # still waiting for the id exchange
            for w in writers:
                w.close()  # the handshake fails now
            result = await asyncio.wait_for(dial, DEADLINE)
        server.close()
        await server.wait_closed()
        return result

    assert run(main()) is None


# ---- cancellation and stopping --------------------------------------------------------

def test_cancelling_the_reader_closes_the_node() -> None:
    async def main() -> Tuple[List[str], bool]:
        log: List[Tuple[str, Any]] = []
        lock = threading.Lock()

        def callback(event: str, main_node: Any, conn: Any, data: Any) -> None:
            with lock:
                log.append((event, data))

        peer = ThreadedNode(HOST, 0, callback=callback)
        peer.start()
        try:
            made: List[aio.Node] = []
            connected = asyncio.Event()

            async def worker() -> None:
                async with aio.Node() as node:
                    made.append(node)
                    assert await node.connect_with_node(HOST, peer.port)
                    async for ev in node.events():
                        if ev.name == "outbound_node_connected":
                            connected.set()

            task = asyncio.ensure_future(worker())
            await asyncio.wait_for(connected.wait(), DEADLINE)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            node = made[0]
            with pytest.raises(p2pnode.P2PError) as err:
                await node.connect_with_node(HOST, peer.port)
            assert err.value.name == "P2P_ESTOPPED"
            await node.send_to_nodes("after")  # dropped without an error, as p2pnetwork does
            await until(lambda: any(e == "inbound_node_disconnected" for e, _ in log),
                        "the peer to see us go")
            poller_gone = node._poller is not None and not node._poller.is_alive()
            with lock:
                return [e for e, _ in log], poller_gone
        finally:
            peer.stop()
            peer.join(DEADLINE)

    names, poller_gone = run(main())
    assert names == ["inbound_node_connected", "inbound_node_disconnected"]
    assert poller_gone


def test_cancelling_asyncio_run_stops_the_node() -> None:
    """The main task is cancelled (as on Ctrl-C): async with stops the node on the way out."""
    seen: List[str] = []

    async def main() -> None:
        async with aio.Node() as a, aio.Node() as b:
            assert await b.connect_with_node(HOST, a.port)
            me = asyncio.current_task()
            assert me is not None
            asyncio.get_running_loop().call_soon(me.cancel)
            async for ev in a.events():
                seen.append(ev.name)

    with pytest.raises(asyncio.CancelledError):
        run(main())
    wait_for(lambda: not any(t.name.startswith("p2pnode-aio") for t in threading.enumerate()),
             what="the node's threads to end")
    assert set(seen) <= {"inbound_node_connected"}


def test_disconnect_and_stop_with_unread_events_do_not_hang() -> None:
    """Nobody reads a's events: its poller holds back at max_batches, yet a's
    disconnect of an outbound peer (which waits for the poller) and its stop finish."""
    async def main() -> Tuple[int, List[str]]:
        a = aio.Node(HOST, 0, max_batches=1)
        async with a, aio.Node() as b:
            rb = Reader(b)
            out = await a.connect_with_node(HOST, b.port)
            assert out is not None
            inbound = (await rb.wait("inbound_node_connected"))[0].node
            assert inbound is not None
            assert await inbound.send_batch([b"x" * 100] * 5000) == 5000
            # a holds back: one batch waits on its loop, the rest in the library.
            await until(lambda: a._queued >= 1, "a batch on a's loop")
            await asyncio.wait_for(a.disconnect_with_node(out), DEADLINE)
            await rb.wait("inbound_node_disconnected")
        # Stopped; everything a had is still readable, in order, and then events() ends.
        n, names = 0, []
        async for ev in a.events():
            if ev.name == "node_message":
                n += 1
            else:
                names.append(ev.name)
        return n, names

    n, names = run(main())
    assert n == 5000
    assert names == ["outbound_node_connected", "node_disconnect_with_outbound_node",
                     "outbound_node_disconnected", "node_request_to_stop"]


@pytest.mark.parametrize("max_batches", [64, 1])  # 1: its poller is holding back then
def test_unstopped_node_stops_when_its_loop_is_gone(max_batches: int) -> None:
    log: List[str] = []
    lock = threading.Lock()

    def callback(event: str, main_node: Any, conn: Any, data: Any) -> None:
        with lock:
            log.append(event)

    peer = ThreadedNode(HOST, 0, callback=callback)
    peer.start()
    try:
        async def main() -> aio.Node:
            node = aio.Node(HOST, 0, max_batches=max_batches)
            await node.start()
            assert await node.connect_with_node(HOST, peer.port)
            await until(lambda: "inbound_node_connected" in log, "the peer's connected event")
            for i in range(100):
                peer.send_to_nodes("unread %d" % i)  # left in the library
            return node  # never stopped

        node = asyncio.run(main())
        # Its poller finds the loop closed and stops the node.
        wait_for(lambda: "inbound_node_disconnected" in log, what="the orphaned node to stop")
        assert node._poller is not None
        node._poller.join(DEADLINE)
        assert not node._poller.is_alive()
    finally:
        peer.stop()
        peer.join(DEADLINE)


# ---- with other nodes ---------------------------------------------------------------

def test_aio_and_threaded_node_talk() -> None:
    got: List[Any] = []
    lock = threading.Lock()

    def callback(event: str, main_node: Any, conn: Any, data: Any) -> None:
        if event == "node_message":
            with lock:
                got.append(data)
            conn.send({"echo": data})

    peer = ThreadedNode(HOST, 0, id="threaded", callback=callback)
    peer.start()
    try:
        async def main() -> List[Any]:
            async with aio.Node(HOST, 0, id="aio") as node:
                r = Reader(node)
                conn = await node.connect_with_node(HOST, peer.port)
                assert conn is not None and conn.id == "threaded"
                for i in range(500):
                    await conn.send("m%d" % i)
                await r.wait("node_message", 500)
                return [e.data for e in r.of("node_message")]

        echoes = run(main())
    finally:
        peer.stop()
        peer.join(DEADLINE)
    assert got == ["m%d" % i for i in range(500)]
    assert echoes == [{"echo": "m%d" % i} for i in range(500)]


def test_aio_and_p2pnetwork_node_talk() -> None:
    p2pnetwork_node = pytest.importorskip("p2pnetwork.node")
    log: List[Tuple[str, Any]] = []
    lock = threading.Lock()

    def callback(event: str, main_node: Any, conn: Any, data: Any) -> None:
        with lock:
            log.append((event, data))
        if event == "node_message":
            main_node.send_to_nodes({"reply": data})

    with socket.socket() as s:
        s.bind((HOST, 0))
        port = s.getsockname()[1]
    ref = p2pnetwork_node.Node(HOST, port, id="reference", callback=callback)
    ref.sock.settimeout(0.2)  # its accept loop looks at its stop flag this often
    ref.start()
    try:
        async def main() -> Tuple[List[Any], List[str]]:
            async with aio.Node(HOST, 0, id="aio") as node:
                r = Reader(node)
                conn = await node.connect_with_node(HOST, ref.port)
                assert conn is not None and conn.id == "reference"
                # 1.2 lists an inbound peer only after its thread runs: a reply sent
                # to all_nodes before that goes nowhere (its race, not ours).
                await until(lambda: ref.nodes_inbound, "the reference to list us")
                for i in range(100):
                    await conn.send({"n": i}, compression="zlib" if i % 2 else "none")
                await r.wait("node_message", 100)
                await conn.stop()
                await r.wait("outbound_node_disconnected")
                return [e.data for e in r.of("node_message")], r.names()

        replies, names = run(main())
    finally:
        ref.stop()
        ref.join(30)
    with lock:
        received = [d for e, d in log if e == "node_message"]
    assert received == [{"n": i} for i in range(100)]
    assert replies == [{"reply": {"n": i}} for i in range(100)]
    assert names[0] == "outbound_node_connected"
    assert names[-2:] == ["node_disconnect_with_outbound_node", "outbound_node_disconnected"]


def test_reconnection_events_and_limits() -> None:
    """A lost peer dialled with reconnect=True: reconnection events, then connected again."""
    async def main() -> Tuple[List[str], List[Any], int]:
        a = aio.Node(HOST, 0, id="a")
        a.set_limit("reconnect_interval_ms", 50)
        assert a.get_limit("reconnect_interval_ms") == 50
        with pytest.raises(ValueError):
            a.set_limit("no_such_limit", 1)
        async with a:
            ra = Reader(a)
            b = aio.Node(HOST, 0, id="b")
            port = b.port
            async with b:
                assert await a.connect_with_node(HOST, port, reconnect=True)
                await ra.wait("outbound_node_connected")
            await ra.wait("outbound_node_disconnected")
            await ra.wait("node_reconnection_error", 2)  # b is gone: the dials fail
            async with aio.Node(HOST, port, id="b2"):   # back on the same port
                await ra.wait("outbound_node_connected", 2)
            with pytest.raises(p2pnode.P2PError):
                a.set_limit("reconnect_interval_ms", 10)  # started: too late
        await ra.done()
        rec = [e.data for e in ra.of("node_reconnection_error")]
        assert all(e.node is None for e in ra.of("node_reconnection_error"))
        return ra.names(), rec, port

    names, rec, port = run(main())
    assert names[:3] == ["outbound_node_connected", "outbound_node_disconnected",
                         "node_reconnection_error"]
    assert rec[0] == {"host": HOST, "port": port, "trials": 1}
    assert rec[1]["trials"] == 2
    connected = [i for i, n in enumerate(names) if n == "outbound_node_connected"]
    assert len(connected) >= 2 and names.index("node_reconnection_error") < connected[1]
    assert "node_request_to_stop" in names


def test_a_node_never_started_frees_its_port() -> None:
    node = aio.Node()
    port = node.port
    del node
    gc.collect()
    with socket.socket() as s:  # the port is free again
        s.bind((HOST, port))


def test_events_iterator_resumes_and_is_single() -> None:
    async def main() -> List[int]:
        async with aio.Node() as a, aio.Node() as b:
            conn = await b.connect_with_node(HOST, a.port)
            assert conn is not None
            await conn.send_batch([{"i": i} for i in range(10)])
            got: List[int] = []
            it = a.events()
            async for ev in it:
                if ev.name == "node_message":
                    got.append(ev.data["i"])
                    if len(got) == 3:
                        break
            await it.aclose()
            second = a.events()
            first_ev = await asyncio.wait_for(second.__anext__(), DEADLINE)
            with pytest.raises(RuntimeError):
                await a.events().__anext__()
            got.append(first_ev.data["i"])
            async for ev in second:
                if ev.name == "node_message":
                    got.append(ev.data["i"])
                    if len(got) == 10:
                        break
            await second.aclose()
            return got

    assert run(main()) == list(range(10))
