"""p2pnode.aio: an asyncio node on the native library's poll path.

::

    import asyncio
    from p2pnode.aio import Node

    async def main():
        async with Node("127.0.0.1", 0) as node:
            await node.connect_with_node("127.0.0.1", 8002)
            await node.send_to_nodes({"hello": "world"})
            async for event in node.events():
                print(event.name, event.node, event.data)   # p2pnetwork's event names

    asyncio.run(main())

How it is built: a node without a callback delivers its events through
``p2p_node_next``. One poller thread per node blocks in that call
(ctypes lets go of the GIL), copies each batch out of the library's memory
and hands it to the event loop with ``call_soon_threadsafe``; ``events()``
turns the batches into :class:`Event` objects on the loop. Calls that can
block - the dial and id exchange of a connect, a send that waits for room in
a full queue, a disconnect, the stop - run on the node's own worker threads
(``run_in_executor``): sends, disconnects and the stop on one thread, in the
order they were awaited, connects on a few others (a slow dial does not hold
up sends). The loop itself never waits on the library.

The poller holds back (and the library, past its max_pending_events, stops
reading from the peers) while more than ``max_batches`` batches wait for
``events()``: a peer cannot fill memory faster than the application reads.
A stop or disconnect in progress lifts that bound, since the library needs
the poller to go on.

Leaving ``async with`` - also by an exception or a cancellation - stops the
node: ``node_request_to_stop``, then every peer is closed after what was
queued for it has been sent; the poller and worker threads end. A node left
unstopped stops by itself once its event loop is closed (the poller looks
every half second).
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import ctypes
import threading
from typing import (Any, AsyncGenerator, Callable, Deque, Dict, Iterable, List, Optional, Tuple,
                    TypeVar)

from . import _native as _n
from ._codec import (GONE_CODES, c_int, compression_code, decode_payload, encode_batch,
                     encode_payload)
from ._native import P2PError

__all__ = ["Node", "Connection", "Event", "P2PError", "EVENT_NAMES"]

T = TypeVar("T")

#: p2pnetwork's name of each event type (the plain node's events; p2p_event_name).
EVENT_NAMES: Dict[int, str] = {
    t: _n.lib.p2p_event_name(t).decode("ascii") for t in _n.P2P_EVENT_TYPE.values()
    if t not in (_n.P2P_EVENT_SECURE_MESSAGE, _n.P2P_EVENT_MESSAGE_REJECTED,
                 _n.P2P_EVENT_DISCOVERY_ANSWER)}
_DISCONNECTED = (_n.P2P_EVENT_OUTBOUND_DISCONNECTED, _n.P2P_EVENT_INBOUND_DISCONNECTED)
_BATCH = 1024
# The poller's wait in the library: on a timeout it looks whether its loop is
# still there (a node whose loop was closed without stopping it stops itself).
_POLL_MS = 500

# One polled event, copied out of the library's memory by the poller:
# (type, kind, peer handle, payload, peer facts or None, reconnection facts or None).
_PeerFacts = _n.PeerFacts
_Raw = Tuple[int, int, int, bytes, Optional[_PeerFacts], Optional[Tuple[str, int, int]]]


def _call(name: str, *args: Any) -> int:
    """Call the C function name on this (worker) thread; raise P2PError with its message."""
    rc: int = getattr(_n.lib, name)(*args)
    if rc < 0:
        raise _n.error(rc, name)  # the message is this thread's: read it here
    return rc


class Connection:
    """A peer of an aio :class:`Node`: ``id``, ``host``, ``port``, ``direction``.

    ``direction`` is "inbound" (it connected with us) or "outbound".
    One object per peer for the node's life; two are equal when they name
    the same peer. ``closed`` is True once its disconnected event has been
    taken from ``events()``.
    """

    __slots__ = ("main_node", "handle", "id", "host", "port", "direction", "closed", "__weakref__")

    def __init__(self, main_node: "Node", handle: int, id: str, host: str, port: int,
                 direction: int) -> None:
        self.main_node = main_node
        self.handle = handle
        self.id = id
        self.host = host
        self.port = port
        self.direction = "inbound" if direction == _n.P2P_INBOUND else "outbound"
        self.closed = False

    async def send(self, data: Any, compression: str = "none") -> bool:
        """Send data (str, dict as JSON, or bytes) to this peer; see Node.send_to_node."""
        return await self.main_node.send_to_node(self, data, compression)

    async def send_batch(self, messages: Iterable[Any], compression: str = "none") -> int:
        """Send many messages in order with one library call; see Node.send_batch_to_node."""
        return await self.main_node.send_batch_to_node(self, messages, compression)

    async def stop(self) -> None:
        """Close the connection with this peer (see Node.disconnect_with_node)."""
        await self.main_node.disconnect_with_node(self)

    def __repr__(self) -> str:
        return "<Connection %s %s:%d %s>" % (self.direction, self.host, self.port, self.id)


class Event:
    """One event of an aio Node, as p2pnetwork's callback gets it.

    ``name`` is p2pnetwork's event name ("inbound_node_connected",
    "node_message", ...), ``node`` the :class:`Connection` it concerns (None
    for "node_request_to_stop" and "node_reconnection_error") and ``data``
    the message for "node_message" (a JSON value, str or bytes, as
    p2pnetwork decodes it), ``{"host", "port", "trials"}`` for
    "node_reconnection_error", and ``{}`` for the others.
    ``main_node`` is the aio Node that raised it.
    """

    __slots__ = ("name", "main_node", "node", "data")

    def __init__(self, name: str, main_node: "Node", node: Optional[Connection], data: Any) -> None:
        self.name = name
        self.main_node = main_node
        self.node = node
        self.data = data

    def __repr__(self) -> str:
        return "<Event %s %r %r>" % (self.name, self.node, self.data)


class Node:
    """An asyncio node listening on host:port (port 0: a free port, read ``port``).

    ``Node(host, port, id=None, max_connections=0)``: id None generates one;
    max_connections limits inbound peers (0: unlimited); max_batches bounds
    the polled batches waiting for events() (see the module doc). The
    listening socket is bound here, so a port in use raises P2PError
    (P2P_EBIND).
    ``async with Node(...) as node`` starts it and stops it on the way out;
    or ``await node.start()`` and ``await node.stop()``.

    Reconnection (``connect_with_node(..., reconnect=True)``): a lost peer is
    dialled again until the node stops; each attempt raises a
    "node_reconnection_error" event for information.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, id: Any = None,
                 max_connections: int = 0, max_batches: int = 64) -> None:
        self._started = False
        self._h: Optional[int] = None
        out = ctypes.c_void_p()
        cid = _n.encode_str(str(id)) if id is not None else None
        _n.check(_n.lib.p2p_node_new(_n.encode_str(host), c_int(port, "port"), cid,
                                     c_int(max_connections, "max_connections"),
                                     ctypes.byref(out)), "p2p_node_new")
        self._h = out.value
        self.host = host
        p = ctypes.c_int()
        _n.check(_n.lib.p2p_node_port(self._h, ctypes.byref(p)), "p2p_node_port")
        self.port = p.value
        self.id = _n.take_checked("p2p_node_id_buf", self._h).decode("utf-8", "replace")

        self._max_batches = max(1, int(max_batches))
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._conns: Dict[int, Connection] = {}   # loop thread only
        self._queue: "Optional[asyncio.Queue[Optional[List[_Raw]]]]" = None
        self._pending: Deque[_Raw] = collections.deque()
        self._ended = False          # the poller's last batch (None) was taken
        self._reading = False        # an events() iterator is running
        # The poller's bound: batches handed to the loop and not yet taken.
        self._cv = threading.Condition()
        self._queued = 0
        self._urgent = 0             # stops/disconnects under way: no bound
        self._poller: Optional[threading.Thread] = None
        self._poller_done: Optional["asyncio.Future[None]"] = None
        self._serial: Optional[concurrent.futures.ThreadPoolExecutor] = None
        self._dialer: Optional[concurrent.futures.ThreadPoolExecutor] = None
        self._closing: Optional["asyncio.Task[None]"] = None

    # ---- limits -----------------------------------------------------------------------

    def set_limit(self, name: str, value: int) -> None:
        """Set a limit by its name in p2pnode.node.LIMITS ('reconnect_interval_ms', ...).

        0 restores the default. Only before start(), except 'max_connections'.
        """
        code, v = _n.limit_code(name, value)
        if self._h is None:
            raise P2PError(_n.P2P_ESTOPPED, "", "p2p_node_set_limit")
        _n.check(_n.lib.p2p_node_set_limit(self._h, code, v), "p2p_node_set_limit")

    def get_limit(self, name: str) -> int:
        """The value of a limit (see set_limit), defaults filled in."""
        value, code = ctypes.c_int64(), _n.limit_code(name)[0]
        if self._h is None:
            raise P2PError(_n.P2P_ESTOPPED, "", "p2p_node_get_limit")
        _n.check(_n.lib.p2p_node_get_limit(self._h, code, ctypes.byref(value)),
                 "p2p_node_get_limit")
        return value.value

    # ---- life -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start accepting connections and the poller thread (once)."""
        if self._started:
            raise RuntimeError("p2pnode.aio: the node was started already")
        if self._h is None:
            raise RuntimeError("p2pnode.aio: the node is stopped")
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._poller_done = self._loop.create_future()
        self._serial = concurrent.futures.ThreadPoolExecutor(1, "p2pnode-aio-send")
        self._dialer = concurrent.futures.ThreadPoolExecutor(4, "p2pnode-aio-connect")
        _n.check(_n.lib.p2p_node_start(self._h), "p2p_node_start")
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
        """Stop the node and wait until it is down. Idempotent.

        node_request_to_stop is raised while the peers are still connected,
        then every peer is closed after what was queued for it (sends
        awaited before the stop go out first), their disconnected events
        follow, and events() ends after them. The threads of the node end
        and the native node is freed. A cancellation of the caller does not
        interrupt the stop (it goes on, and a later stop() waits for it).
        """
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
        assert self._loop is not None and self._serial is not None
        assert self._dialer is not None and self._poller_done is not None
        with self._cv:
            self._urgent += 1  # from now on the poller polls, read or not
            self._cv.notify_all()
        # On the send thread: what was awaited before goes out first.
        await self._loop.run_in_executor(self._serial, _n.lib.p2p_node_stop, h)
        await self._poller_done
        assert self._poller is not None
        self._poller.join()  # it has returned from its last call: no wait here
        await self._loop.run_in_executor(self._serial, _n.lib.p2p_node_free, h)
        for ex in (self._serial, self._dialer):
            ex.shutdown(wait=False)

    def _poll(self, h: int) -> None:
        """The poller thread: take batches from the library and hand them to the loop."""
        loop = self._loop
        assert loop is not None
        events = (_n.P2PEv * _BATCH)()
        count = ctypes.c_size_t(0)
        base = ctypes.c_void_p()
        size = ctypes.c_size_t(0)
        poll, stride = _n.lib.p2p_node_next, ctypes.sizeof(_n.P2PEv)
        orphan = False  # the loop is gone: stop the node and drain it
        message = _n.P2P_EVENT_MESSAGE
        try:
            while True:
                if not orphan:
                    with self._cv:
                        while (self._queued >= self._max_batches and not self._urgent
                               and not loop.is_closed()):
                            self._cv.wait(_POLL_MS / 1000)
                events[0].size = stride  # P2P_INIT: the array's stride
                rc = poll(h, events, _BATCH, _POLL_MS, ctypes.byref(count), ctypes.byref(base),
                          ctypes.byref(size))
                if rc != _n.P2P_OK:
                    break  # P2P_ESTOPPED: every event was taken (anything else: nothing more)
                n = count.value
                if not orphan and not n and loop.is_closed():
                    orphan = True
                    _n.lib.p2p_node_stop(h)
                if not n or orphan:
                    continue
                start = base.value or 0
                blob = ctypes.string_at(start, size.value) if size.value else b""
                batch: List[_Raw] = []
                seen = set()
                for i in range(n):
                    ev = events[i]
                    t, peer = ev.type, ev.peer
                    facts: Optional[_PeerFacts] = None
                    if t != message or peer not in seen:
                        seen.add(peer)
                        facts = (_n.decode_str(ev.peer_id), _n.decode_str(ev.peer_host),
                                 ev.peer_port, ev.direction)
                    if t == message:
                        off = (ev.data or 0) - start
                        batch.append((t, ev.kind, peer, blob[off:off + ev.data_len], facts, None))
                    elif t == _n.P2P_EVENT_RECONNECTION_ERROR:
                        batch.append((t, 0, 0, b"", None,
                                      (_n.decode_str(ev.host), ev.port, ev.trials)))
                    elif t in EVENT_NAMES:
                        batch.append((t, 0, peer, b"", facts, None))
                with self._cv:
                    self._queued += 1
                try:
                    loop.call_soon_threadsafe(self._put, batch)
                except RuntimeError:
                    # The loop is closed with the node running: stop it from here
                    # (from the polling thread this returns at once) and drain it.
                    orphan = True
                    _n.lib.p2p_node_stop(h)
        finally:
            if orphan:
                self._h = None
                _n.lib.p2p_node_free(h)
                for ex in (self._serial, self._dialer):
                    if ex is not None:
                        ex.shutdown(wait=False)
            else:
                try:
                    loop.call_soon_threadsafe(self._put, None)
                    loop.call_soon_threadsafe(self._poller_finished)
                except RuntimeError:
                    pass

    def _put(self, batch: Optional[List[_Raw]]) -> None:
        assert self._queue is not None
        self._queue.put_nowait(batch)

    def _poller_finished(self) -> None:
        if self._poller_done is not None and not self._poller_done.done():
            self._poller_done.set_result(None)

    # ---- events ---------------------------------------------------------------------

    async def events(self) -> AsyncGenerator[Event, None]:
        """The node's events, in the order the library raised them.

        Ends when the node has stopped and its last event was taken. One
        iterator at a time; breaking out of it (or cancelling its task)
        loses nothing: the next events() goes on where it left off.
        """
        if self._reading:
            raise RuntimeError("p2pnode.aio: events() is being iterated already")
        if not self._started:
            raise RuntimeError("p2pnode.aio: start the node before reading its events")
        assert self._queue is not None
        self._reading = True
        try:
            while True:
                while self._pending:
                    yield self._event(self._pending.popleft())
                if self._ended:
                    return
                batch = await self._queue.get()
                if batch is None:
                    self._ended = True
                    continue
                with self._cv:
                    self._queued -= 1
                    self._cv.notify()
                self._pending.extend(batch)
        finally:
            self._reading = False

    def _event(self, raw: _Raw) -> Event:
        t, kind, peer, payload, facts, rec = raw
        name = EVENT_NAMES[t]
        if t == _n.P2P_EVENT_REQUEST_TO_STOP:
            return Event(name, self, None, {})
        if rec is not None:
            return Event(name, self, None, {"host": rec[0], "port": rec[1], "trials": rec[2]})
        conn = self._conns.get(peer)
        if conn is None:
            if facts is None:  # not reached: the first event of a peer carries its facts
                facts = ("", "", 0, _n.P2P_OUTBOUND)
            conn = Connection(self, peer, *facts)
            self._conns[peer] = conn
        if t == _n.P2P_EVENT_MESSAGE:
            return Event(name, self, conn, decode_payload(kind, payload))
        if t in _DISCONNECTED:
            del self._conns[peer]
            conn.closed = True
        return Event(name, self, conn, {})

    # ---- peers ------------------------------------------------------------------------

    def _connection(self, handle: int) -> Optional[Connection]:
        """The Connection of a live peer handle, made from the library's facts if new."""
        conn = self._conns.get(handle)
        if conn is not None or self._h is None:
            return conn
        facts = _n.peer_facts(self._h, handle)
        if facts is None:
            return None  # gone meanwhile
        conn = self._conns[handle] = Connection(self, handle, *facts)
        return conn

    def _peers(self, direction: int) -> List[Connection]:
        if self._h is None:
            return []
        conns = (self._connection(h) for h in _n.peer_handles(self._h, direction))
        return [c for c in conns if c is not None]

    @property
    def all_nodes(self) -> List[Connection]:
        """Every peer, inbound then outbound (asks the library: no wait)."""
        return self._peers(_n.P2P_ALL)

    @property
    def nodes_inbound(self) -> List[Connection]:
        """The peers that connected with us."""
        return self._peers(_n.P2P_INBOUND)

    @property
    def nodes_outbound(self) -> List[Connection]:
        """The peers we connected with."""
        return self._peers(_n.P2P_OUTBOUND)

    def _owns(self, conn: Any) -> bool:
        return isinstance(conn, Connection) and conn.main_node is self

    # ---- calls that may block go to the node's threads ---------------------------------

    async def _run(self, pool: Optional[concurrent.futures.Executor], fn: Callable[..., T],
                   *args: Any) -> T:
        if not self._started or self._h is None or pool is None:
            raise P2PError(_n.P2P_ESTOPPED if self._started else _n.P2P_ESTATE, "",
                           "p2pnode.aio")
        assert self._loop is not None
        return await self._loop.run_in_executor(pool, fn, *args)

    async def connect_with_node(self, host: str, port: int,
                                reconnect: bool = False) -> Optional[Connection]:
        """Connect with the node at host:port; the Connection, or None if that failed.

        As p2pnetwork's connect_with_node returns True or False: the
        Connection (truthy) when connected, also when we were connected with
        it already; None when it could not connect (refused, the id
        exchange failed, or it is this node). Raises P2PError for a node
        that is not started or is stopping. The dial runs on a worker thread.
        """
        peer = ctypes.c_uint64(0)
        h = self._h
        try:
            await self._run(self._dialer, _call, "p2p_node_connect", h, _n.encode_str(host),
                            int(port), 1 if reconnect else 0, ctypes.byref(peer))
        except P2PError as e:
            if e.code == _n.P2P_EALREADY and peer.value:
                return self._connection(peer.value)
            if e.code in (_n.P2P_ECONNECT, _n.P2P_EHANDSHAKE, _n.P2P_ESELF, _n.P2P_EALREADY):
                return None
            raise
        return self._connection(peer.value)

    async def disconnect_with_node(self, conn: Connection) -> None:
        """Close the connection with a peer after what was queued for it.

        For an outbound peer "node_disconnect_with_outbound_node" comes
        first; then the disconnected event. A peer that is gone already is
        no error.
        """
        if not self._owns(conn) or conn.closed:
            return
        with self._cv:
            self._urgent += 1  # the library waits for the poller to come back
            self._cv.notify_all()
        try:
            await self._run(self._serial, _call, "p2p_node_disconnect", self._h, conn.handle)
        except P2PError as e:
            if e.code not in GONE_CODES:
                raise
        finally:
            with self._cv:
                self._urgent -= 1

    async def send_to_node(self, conn: Connection, data: Any, compression: str = "none") -> bool:
        """Send data (str, dict as JSON, or bytes) to the peer conn; True once queued.

        Sends are made in the order they were awaited, on the node's send
        thread (a full queue waits there for room, up to the send timeout).
        A peer that is gone (or not this node's) gives False, as p2pnetwork
        drops such a send; TypeError for data of another type, ValueError
        for an unknown compression, P2PError for the library's other refusals
        (P2P_EFULL, P2P_ETOOBIG).
        """
        payload = encode_payload(data)
        code = compression_code(compression)
        if not self._owns(conn) or conn.closed:
            return False
        try:
            await self._run(self._serial, _call, "p2p_node_send", self._h, conn.handle,
                            payload, len(payload), code)
        except P2PError as e:
            if e.code in GONE_CODES:
                return False
            raise
        return True

    async def send_batch_to_node(self, conn: Connection, messages: Iterable[Any],
                                 compression: str = "none") -> int:
        """Send many messages to conn, in order, with one library call; how many were queued.

        The cheap way to send a lot (p2p_node_send_batch). A gone peer gives 0.
        """
        data, lens = encode_batch(messages)
        code = compression_code(compression)
        if not self._owns(conn) or conn.closed or not lens:
            return 0
        sent = ctypes.c_size_t(0)
        addr = (ctypes.c_size_t * len(lens)).from_buffer(lens)
        try:
            await self._run(self._serial, _call, "p2p_node_send_batch", self._h, conn.handle,
                            data, addr, len(lens), code, ctypes.byref(sent))
        except P2PError as e:
            if e.code not in GONE_CODES:
                raise
        return sent.value

    async def send_to_nodes(self, data: Any, exclude: Iterable[Connection] = (),
                            compression: str = "none") -> None:
        """Send data to every peer except those in exclude (encoded once for all).

        Raises as send_to_node; a peer that goes away meanwhile is skipped.
        """
        payload = encode_payload(data)
        code = compression_code(compression)
        handles = [c.handle for c in exclude if self._owns(c)]
        arr = (ctypes.c_uint64 * len(handles))(*handles) if handles else None
        try:
            await self._run(self._serial, _call, "p2p_node_broadcast", self._h, payload,
                            len(payload), arr, len(handles), code)
        except P2PError as e:
            if e.code not in GONE_CODES:
                raise

    def __del__(self) -> None:
        # A node that never started holds its listening socket: free it. (A started
        # one is kept alive by its poller until it stops.)
        h = self.__dict__.get("_h")
        if h is not None and not self.__dict__.get("_started", True):
            self._h = None
            _n.lib.p2p_node_free(h)

    def __repr__(self) -> str:
        return "<p2pnode.aio.Node %s:%d id: %s>" % (self.host, self.port, self.id)
