"""Events: batches of the sized struct p2p_ev taken from p2p_node_next, copied into Python.

Shared by node.py, securenode.py and aio.py; imports nothing of theirs.
"""

from __future__ import annotations

import ctypes
import struct
from typing import Any, Dict, List, Tuple

from . import _native as _n

BATCH = 1024
_CODES: Dict[Any, str] = {ctypes.c_int32: "i", ctypes.c_uint64: "Q", ctypes.c_int64: "q",
                          ctypes.c_size_t: "N"}
#: p2p_ev as a struct format (pointers as "P"), so that a batch is read with one iter_unpack.
EVENT = struct.Struct("@" + "".join(_CODES.get(f[1], "P") for f in _n.P2PEv._fields_))
assert EVENT.size == ctypes.sizeof(_n.P2PEv), "p2p_ev: struct format and ctypes disagree"
_F = {f[0]: i for i, f in enumerate(_n.P2PEv._fields_)}
_INTS = ("direction", "port", "trials", "reject", "dropped", "dropped_bytes")
_STRS = ("peer_id", "peer_host", "host", "sender_id", "msg_type", "reason")


class Event:
    """One event copied out of the library's memory (p2p_ev's fields; messages carry fewer)."""

    __slots__ = ("type", "kind", "peer", "data", "compression", "facts") + _INTS + _STRS
    type: int
    kind: int
    peer: int
    compression: int
    data: bytes
    #: (id, host, port, direction) for any event but a message of a peer seen earlier in its batch.
    facts: Any
    direction: int
    port: int
    trials: int
    reject: int
    dropped: int
    dropped_bytes: int
    peer_id: str
    peer_host: str
    host: str
    sender_id: str
    msg_type: str
    reason: str


class Reader:
    """Takes a node's events from p2p_node_next, a batch at a time."""

    def __init__(self, node: int) -> None:
        self.node, self.events = node, (_n.P2PEv * BATCH)()
        self.count, self.base, self.size = ctypes.c_size_t(), ctypes.c_void_p(), ctypes.c_size_t()

    def next(self, wait_ms: int) -> Tuple[int, List[Event]]:
        """(status, the batch): waits up to wait_ms (-1: until an event or the stop)."""
        evs = self.events
        evs[0].size = ctypes.sizeof(_n.P2PEv)  # P2P_INIT: the array's stride
        rc = _n.lib.p2p_node_next(self.node, evs, BATCH, wait_ms, ctypes.byref(self.count),
                                  ctypes.byref(self.base), ctypes.byref(self.size))
        n = self.count.value
        if rc != _n.P2P_OK or not n:
            return rc, []
        # Copy everything out first: a callback may poll (stop) and reuse the memory.
        base, size = self.base.value or 0, self.size.value
        blob = ctypes.string_at(base, size) if size else b""
        raw = ctypes.string_at(ctypes.addressof(evs), n * EVENT.size)
        T, K, P, C, D, N = (_F[k] for k in ("type", "kind", "peer", "compression", "data",
                                             "data_len"))
        out, seen, message = [], set(), _n.P2P_EVENT_MESSAGE
        for i, f in enumerate(EVENT.iter_unpack(raw)):
            e = Event()
            e.type, e.kind, e.peer, e.compression, e.facts = f[T], f[K], f[P], f[C], None
            e.data = blob[f[D] - base:f[D] - base + f[N]] if f[N] else b""
            if e.type != message or e.peer not in seen:
                seen.add(e.peer)
                ev = evs[i]
                for name in _INTS:
                    setattr(e, name, getattr(ev, name))
                for name in _STRS:
                    setattr(e, name, _n.decode_str(getattr(ev, name)))
                e.facts = (e.peer_id, e.peer_host, ev.peer_port, e.direction)
                if e.type != message:  # not necessarily in the batch's payload block
                    e.data = ctypes.string_at(ev.data, ev.data_len) if ev.data and f[N] else b""
            out.append(e)
        return rc, out
