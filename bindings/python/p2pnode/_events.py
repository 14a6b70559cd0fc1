"""Events: batches of the sized struct p2p_ev taken from p2p_node_next, copied into Python.

Shared by node.py, securenode.py and aio.py; imports nothing of theirs.
"""

from __future__ import annotations

import ctypes
import itertools
import operator
import struct
from typing import Any, Container, List, Tuple, Union

from . import _native as _n

BATCH = 1024
_INTS = ("direction", "port", "trials", "reject", "dropped", "dropped_bytes", "kind")
_STRS = ("peer_id", "peer_host", "host", "sender_id", "msg_type", "reason", "topic", "origin")
_ROW = ("type", "kind", "peer", "data", "data_len", "compression")


def _row_format() -> struct.Struct:
    """_ROW's fields of p2p_ev at their offsets, the others skipped: a batch is read with one
    iter_unpack of a few ints per event (a per-message loop in Python costs more than the rest)."""
    fmt, pos = "=", 0
    for name in _ROW:
        field = getattr(_n.P2PEv, name)
        fmt += "%dx%s" % (field.offset - pos, "IQ"[field.size // 8])
        pos = field.offset + field.size
    return struct.Struct(fmt + "%dx" % (ctypes.sizeof(_n.P2PEv) - pos))


ROW = _row_format()
_TYPE_AND_PEER = operator.itemgetter(0, 2)  # of a ROW: type, kind, peer, data, len, compression


#: A run of one peer's messages: (peer, facts or None, [(kind, payload, compression)]); facts,
#: (id, host, port, direction), are None for a known peer or one seen earlier in the batch.
Run = Tuple[int, Any, List[Tuple[int, bytes, int]]]
Item = Union["Event", Run]


class Event:
    """One event but a message, copied out of the library's memory (p2p_ev's fields)."""

    __slots__ = ("type", "peer", "data", "facts") + _INTS + _STRS
    type: int
    peer: int
    data: bytes
    facts: Any

    def __getattr__(self, name: str) -> Any:  # for the type checker: the other fields
        raise AttributeError(name)


class Reader:
    """Takes a node's events from p2p_node_next, a batch at a time."""

    def __init__(self, node: int, known: Container[int]) -> None:
        """known: the peers whose facts the reader need not copy (its node's connections)."""
        self.node, self.known, self.events = node, known, (_n.P2PEv * BATCH)()
        self.count, self.base, self.size = ctypes.c_size_t(), ctypes.c_void_p(), ctypes.c_size_t()
        self.outs = ctypes.byref(self.count), ctypes.byref(self.base), ctypes.byref(self.size)

    def next(self, wait_ms: int) -> Tuple[int, List[Item]]:
        """(status, the batch: Events and Runs): waits up to wait_ms (-1: until an event or the
        stop). Python works per run, not per message, where it can: it is the cost that counts."""
        evs = self.events
        evs[0].size = ctypes.sizeof(_n.P2PEv)  # P2P_INIT: the array's stride
        rc = _n.lib.p2p_node_next(self.node, evs, BATCH, wait_ms, *self.outs)
        n = self.count.value
        if rc != _n.P2P_OK or not n:
            return rc, []
        # Copy everything out first: the next poll (aio's poller runs on) reuses the memory.
        base, size = self.base.value or 0, self.size.value
        blob = ctypes.string_at(base, size) if size else b""
        rows = ROW.iter_unpack(ctypes.string_at(ctypes.addressof(evs), n * ROW.size))
        out: List[Item] = []
        seen, known, i, message = set(), self.known, 0, _n.P2P_EVENT_MESSAGE
        for (t, peer), group in itertools.groupby(rows, _TYPE_AND_PEER):
            if t == message:  # the payloads, sliced out of the one copy
                run = [(k, blob[d - base:d - base + m], c) for _, k, _, d, m, c in group]
                out.append((peer, None if peer in seen or peer in known else _facts(evs[i]), run))
                i += len(run)
            else:
                for _ in group:
                    out.append(_event(evs[i]))
                    i += 1
            seen.add(peer)
        return rc, out


def _facts(ev: Any) -> Tuple[str, str, int, int]:
    return _n.decode_str(ev.peer_id), _n.decode_str(ev.peer_host), ev.peer_port, ev.direction


def _event(ev: Any) -> Event:
    e = Event()
    e.type, e.peer, e.facts = ev.type, ev.peer, _facts(ev)
    for name in _INTS:
        setattr(e, name, getattr(ev, name))
    for name in _STRS:
        setattr(e, name, _n.decode_str(getattr(ev, name)))
    e.data = ctypes.string_at(ev.data, ev.data_len) if ev.data and ev.data_len else b""
    return e
