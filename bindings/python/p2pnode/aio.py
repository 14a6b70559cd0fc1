"""p2pnode.aio: an asyncio node on the native library's poll path (the README says how)::

    async with Node("127.0.0.1", 0) as node:
        async for event in node.events(): print(event.name, event.node, event.data)
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import ctypes
import threading
from typing import Any, AsyncGenerator, Deque, Dict, Iterable, List, Optional

from . import _native as _n
from ._codec import (GONE_CODES, Item, Reader, compression_code, decode_payload, decode_run,
                     encode_batch, encode_payload)
from ._native import P2PError

__all__ = ["Node", "Connection", "Event", "P2PError", "EVENT_NAMES"]

#: p2pnetwork's name of each event type of a plain node (p2p_event_name).
EVENT_NAMES: Dict[int, str] = {
    t: _n.lib.p2p_event_name(t).decode("ascii") for t in _n.P2P_EVENT_TYPE.values()
    if t not in (_n.P2P_EVENT_SECURE_MESSAGE, _n.P2P_EVENT_MESSAGE_REJECTED,
                 _n.P2P_EVENT_DISCOVERY_ANSWER)}
_DISCONNECTED = (_n.P2P_EVENT_OUTBOUND_DISCONNECTED, _n.P2P_EVENT_INBOUND_DISCONNECTED)
# The poller's wait in the library: then it looks whether its loop is still there.
_POLL_MS = 500


def _soon(loop: asyncio.AbstractEventLoop, fn: Any, arg: Any) -> bool:
    """loop.call_soon_threadsafe(fn, arg); False when the loop is closed."""
    try:
        loop.call_soon_threadsafe(fn, arg)
    except RuntimeError:
        return False
    return True


class Connection(_n.NativePeer):
    """A peer of an aio Node (``id``, ``host``, ``port``, ``direction``, ``closed``)."""

    __slots__ = ("main_node", "_p2p_handle", "id", "host", "port", "direction", "closed",
                 "__weakref__")
    main_node: "Node"

    def __init__(self, main_node: "Node", handle: int, id: str, host: str, port: int,
                 direction: int) -> None:
        self.main_node, self._p2p_handle, self.id = main_node, handle, id
        self.host, self.port = host, port
        self.direction = "inbound" if direction == _n.P2P_INBOUND else "outbound"
        self.closed = False

    async def send(self, data: Any, compression: str = "none") -> bool:
        """Node.send_to_node to this peer."""
        return await self.main_node.send_to_node(self, data, compression)

    async def send_batch(self, messages: Iterable[Any], compression: str = "none") -> int:
        """Node.send_batch_to_node to this peer."""
        return await self.main_node.send_batch_to_node(self, messages, compression)

    async def stop(self) -> None:
        """Node.disconnect_with_node of this peer."""
        await self.main_node.disconnect_with_node(self)

    def __repr__(self) -> str:
        return "<Connection %s %s:%d %s>" % (self.direction, self.host, self.port, self.id)


class Event:
    """An event as p2pnetwork's callback gets it: ``name``, ``main_node``, ``node``, ``data``."""

    __slots__ = ("name", "main_node", "node", "data")

    def __init__(self, name: str, main_node: "Node", node: Optional[Connection], data: Any) -> None:
        self.name, self.main_node, self.node, self.data = name, main_node, node, data

    def __repr__(self) -> str:
        return "<Event %s %r %r>" % (self.name, self.node, self.data)


class Node(_n.NativeNode):
    """An asyncio node on host:port: ``async with Node(...)`` starts and stops it.

    ``Node(host, port, id=None, max_connections=0, max_batches=64)``; max_batches
    bounds the polled batches waiting for events().
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, id: Any = None,
                 max_connections: int = 0, max_batches: int = 64, *,
                 encryption: str = "preferred", identity: Any = None) -> None:
        self._started, self._h = False, None  # for __del__ if new_node raises
        self._h, self.port, self.id = _n.new_node("p2p_node_new", host, port, id, max_connections)
        self._p2p_setup(encryption, identity)
        self.host = host
        self._max_batches = max(1, int(max_batches))
        self._conns: Dict[int, Connection] = {}   # loop thread only
        self._ready: Deque[Event] = collections.deque()  # a batch's events not yet taken
        self._ended = False          # the poller's last batch (None) was taken
        self._reading = False        # an events() iterator is running
        self._cv = threading.Condition()  # the poller's bound: batches not yet taken
        self._queued = 0
        self._urgent = 0             # stops/disconnects under way: no bound
        # Their threads come with their first call: sends in await order, dials side by side.
        self._serial = concurrent.futures.ThreadPoolExecutor(1, "p2pnode-aio-send")
        self._dialer = concurrent.futures.ThreadPoolExecutor(4, "p2pnode-aio-connect")
        self._closing: Optional["asyncio.Task[None]"] = None
        # Set by start(): the loop, its queue of batches, the poller and its end.
        self._loop: asyncio.AbstractEventLoop
        self._queue: "asyncio.Queue[Optional[List[Item]]]"
        self._poller: threading.Thread
        self._poller_done: "asyncio.Future[None]"

    def _p2p_live(self) -> Optional[int]:
        return self._h

    async def start(self) -> None:
        """Start accepting connections and the poller thread (once)."""
        if self._started:
            raise RuntimeError("p2pnode.aio: the node was started already")
        if self._h is None:
            raise RuntimeError("p2pnode.aio: the node is stopped")
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._poller_done = self._loop.create_future()
        _n.call("p2p_node_start", self._h)
        self._started = True
        self._poller = threading.Thread(target=self._poll, args=(self._h,), daemon=True,
                                        name="p2pnode-aio-poll %s:%d" % (self.host, self.port))
        self._poller.start()

    async def __aenter__(self) -> "Node":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    async def stop(self) -> None:
        """Stop the node and wait until it is down (idempotent; a cancellation does not stop it)."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._stop())
        await asyncio.shield(self._closing)

    close = stop

    async def _stop(self) -> None:
        h, self._h = self._h, None
        if h is None:
            return
        if not self._started:
            _n.lib.p2p_node_free(h)
            self._ended = True
            return
        with self._cv:
            self._urgent += 1  # from now on the poller polls, read or not
            self._cv.notify_all()
        # On the send thread: what was awaited before goes out first.
        await self._loop.run_in_executor(self._serial, _n.lib.p2p_node_stop, h)
        await self._poller_done
        self._poller.join()  # it has returned from its last call: no wait here
        await self._loop.run_in_executor(self._serial, _n.lib.p2p_node_free, h)
        self._shutdown()

    def _shutdown(self) -> None:
        self._serial.shutdown(wait=False)
        self._dialer.shutdown(wait=False)

    def _poll(self, h: int) -> None:
        """The poller thread: take batches from the library and hand them to the loop; with
        the loop gone (closed with the node running), stop the node, drain it and free it."""
        loop, reader, orphan = self._loop, Reader(h, self._conns), False
        try:
            while True:
                with self._cv:
                    while (not orphan and self._queued >= self._max_batches and not self._urgent
                           and not loop.is_closed()):
                        self._cv.wait(_POLL_MS / 1000)
                rc, batch = reader.next(_POLL_MS)
                if rc != _n.P2P_OK:
                    break  # P2P_ESTOPPED: every event was taken (anything else: nothing more)
                if orphan or not (batch or loop.is_closed()):
                    continue
                with self._cv:
                    self._queued += 1
                if not (batch and _soon(loop, self._put, batch)):
                    orphan = True
                    _n.lib.p2p_node_stop(h)
        finally:
            if orphan:
                self._h = None
                _n.lib.p2p_node_free(h)
                self._shutdown()
            else:
                _soon(loop, self._put, None)

    def _put(self, batch: Optional[List[Item]]) -> None:
        """On the loop: a batch for events(), or None: the poller is done."""
        self._queue.put_nowait(batch)
        if batch is None and not self._poller_done.done():
            self._poller_done.set_result(None)

    async def events(self) -> AsyncGenerator[Event, None]:
        """The node's events in order, until it stopped; one iterator at a time, resumable."""
        if self._reading:
            raise RuntimeError("p2pnode.aio: events() is being iterated already")
        if not self._started:
            raise RuntimeError("p2pnode.aio: start the node before reading its events")
        self._reading = True
        try:
            while True:
                while self._ready:
                    yield self._ready.popleft()
                if self._ended:
                    return
                batch = await self._queue.get()
                if batch is None:
                    self._ended = True
                    continue
                with self._cv:
                    self._queued -= 1
                    self._cv.notify()
                for item in batch:
                    self._ready.extend(self._events(item))
        finally:
            self._reading = False

    def _events(self, raw: Item) -> List[Event]:
        """The events of one polled event, or of a run of messages (one each)."""
        if isinstance(raw, tuple):
            conn = self._p2p_connection(raw[0], raw[1])
            return [Event("node_message", self, conn, v) for v in decode_run(raw[2])]
        t = raw.type
        name = EVENT_NAMES.get(t)
        if name is None:
            return []
        if t == _n.P2P_EVENT_REQUEST_TO_STOP:
            return [Event(name, self, None, {})]
        if t == _n.P2P_EVENT_RECONNECTION_ERROR:
            return [Event(name, self, None, {"host": raw.host, "port": raw.port,
                                             "trials": raw.trials})]
        conn = self._p2p_connection(raw.peer, raw.facts)
        if t == _n.P2P_EVENT_TOPIC_MESSAGE:
            return [Event(name, self, conn, {"topic": raw.topic, "origin": raw.origin,
                                             "data": decode_payload(raw.kind, raw.data)})]
        if t in _DISCONNECTED and conn is not None:
            del self._conns[raw.peer]
            conn.closed = True
        return [Event(name, self, conn, {})]

    def _p2p_connection(self, handle: int, facts: Any = None) -> Optional[Connection]:
        """The Connection of a peer handle, made from facts (a peer's first event in a batch
        carries them) or else the library's on first sight; None for a peer gone meanwhile."""
        conn = self._conns.get(handle)
        if conn is None and facts is None and self._h is not None:
            facts = _n.peer_facts(self._h, handle)
        if conn is None and facts is not None:
            conn = self._conns[handle] = Connection(self, handle, *facts)
        return conn

    def _live(self, conn: Any) -> bool:
        return isinstance(conn, Connection) and conn.main_node is self and not conn.closed

    async def _run(self, pool: concurrent.futures.Executor, name: str, *args: Any,
                   gone: Any = None) -> Any:
        """lib.name(node, *args) on a worker thread (P2PError there); gone for a gone peer."""
        try:
            if not self._started or self._h is None:
                raise P2PError(_n.P2P_ESTOPPED if self._started else _n.P2P_ESTATE, "",
                               "p2pnode.aio")
            return await self._loop.run_in_executor(pool, _n.call, name, self._h, *args)
        except P2PError as e:
            if gone is None or e.code not in GONE_CODES:
                raise
            return gone

    async def connect_with_node(self, host: str, port: int,
                                reconnect: bool = False) -> Optional[Connection]:
        """Connect with host:port: the Connection (also when connected already), None if not."""
        peer = ctypes.c_uint64(0)
        try:
            await self._run(self._dialer, "p2p_node_connect", _n.encode_str(host), int(port),
                            1 if reconnect else 0, ctypes.byref(peer))
        except P2PError as e:
            if e.code == _n.P2P_EALREADY and peer.value:
                return self._p2p_connection(peer.value)
            if e.code in (_n.P2P_ECONNECT, _n.P2P_EHANDSHAKE, _n.P2P_ESELF, _n.P2P_EALREADY):
                return None
            raise
        return self._p2p_connection(peer.value)

    async def disconnect_with_node(self, conn: Connection) -> None:
        """Close the connection with a peer after what was queued for it."""
        if not self._live(conn):
            return
        with self._cv:
            self._urgent += 1  # the library waits for the poller to come back
            self._cv.notify_all()
        try:
            await self._run(self._serial, "p2p_node_disconnect", conn.handle, gone=0)
        finally:
            with self._cv:
                self._urgent -= 1

    async def send_to_node(self, conn: Connection, data: Any, compression: str = "none") -> bool:
        """Send data (str, dict as JSON, or bytes) to conn, in await order; False if it is gone."""
        payload, code = encode_payload(data), compression_code(compression)
        if not self._live(conn):
            return False
        return await self._run(self._serial, "p2p_node_send", conn.handle, payload, len(payload),
                               code, gone=False) is not False

    async def send_batch_to_node(self, conn: Connection, messages: Iterable[Any],
                                 compression: str = "none") -> int:
        """Send many messages to conn, in order, with one library call; how many were queued."""
        (data, lens, count), code = encode_batch(messages), compression_code(compression)
        if not self._live(conn) or not count:
            return 0
        sent = ctypes.c_size_t(0)
        await self._run(self._serial, "p2p_node_send_batch", conn.handle, data, lens, count, code,
                        ctypes.byref(sent), gone=0)
        return sent.value

    async def send_to_nodes(self, data: Any, exclude: Iterable[Connection] = (),
                            compression: str = "none") -> None:
        """Send data to every peer except those in exclude (encoded once for all)."""
        payload, code = encode_payload(data), compression_code(compression)
        handles = [c.handle for c in exclude if isinstance(c, Connection) and c.main_node is self]
        arr = (ctypes.c_uint64 * len(handles))(*handles) if handles else None
        await self._run(self._serial, "p2p_node_broadcast", payload, len(payload), arr,
                        len(handles), code, gone=0)

    def __del__(self) -> None:
        # A node that never started holds its listening socket (a started one, its poller).
        h = self.__dict__.get("_h")
        if h is not None and not self.__dict__.get("_started", True):
            self._h = None
            _n.lib.p2p_node_free(h)

    def __repr__(self) -> str:
        return "<p2pnode.aio.Node %s:%d id: %s>" % (self.host, self.port, self.id)
