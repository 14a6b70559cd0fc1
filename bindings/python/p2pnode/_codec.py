"""Payloads and events: what goes on the wire for a Python value and back (p2pnetwork's
rules), and the batches of the sized struct p2p_ev taken from p2p_node_next, copied into Python.

Shared by node.py, nodeconnection.py, securenode.py and aio.py; imports nothing of theirs.
"""

from __future__ import annotations

import array
import base64
import bz2
import ctypes
import itertools
import json
import lzma
import operator
import struct
import warnings
import zlib
from typing import Any, Container, List, Tuple, Union

from . import _native as _n

#: "The peer or the node is gone": such sends are dropped with a debug line, as p2pnetwork does.
GONE_CODES = (_n.P2P_ENOPEER, _n.P2P_EHANDLE, _n.P2P_ESTOPPED)
COMPR_CHAR = b"\x02"
_CODECS = {"zlib": (lambda d: zlib.compress(d, 6)), "bzip2": bz2.compress, "lzma": lzma.compress}
#: The array.array type code of size_t, for the lengths of p2p_node_send_batch.
SIZE_T_CODE = next(c for c in "LQI" if array.array(c).itemsize == ctypes.sizeof(ctypes.c_size_t))


def encode_payload(data: Any, encoding_type: str = "utf-8") -> bytes:
    """A str as its text, a dict as JSON, bytes-like as is; TypeError for anything else."""
    if isinstance(data, str):
        return data.encode(encoding_type)
    if isinstance(data, dict):
        return json.dumps(data).encode(encoding_type)
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError(
        "p2pnode: cannot send a %s: use str, dict (sent as JSON) or bytes" % type(data).__name__)


def decode_payload(kind: int, data: bytes) -> Any:
    """A received payload of p2p_kind kind: JSON as its value, text as str, else bytes."""
    if kind in (_n.P2P_KIND_JSON, _n.P2P_KIND_TEXT):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return data
        if kind == _n.P2P_KIND_JSON:
            try:
                return json.loads(text)
            except (ValueError, RecursionError):  # nested deeper than Python's json takes
                pass
        return text
    return data


def decode_run(messages: List[Tuple[int, bytes, int]]) -> List[Any]:
    """decode_payload of each message of a Run, text the short way."""
    text = _n.P2P_KIND_TEXT
    try:
        return [d.decode("utf-8") if k == text else decode_payload(k, d)
                for k, d, _ in messages]
    except UnicodeDecodeError:  # not UTF-8 by Python's rule after all: one at a time
        return [decode_payload(k, d) for k, d, _ in messages]


def sent(node: Any, rc: int, name: str, prefix: str) -> bool:
    """True for P2P_OK; False after node's debug line prefix + message for a gone peer (such sends
    are dropped, as p2pnetwork does); P2PError otherwise."""
    if rc == _n.P2P_OK:
        return True
    err = _n.error(rc, name)
    if rc not in GONE_CODES:
        raise err
    node.debug_print(prefix + err.message)
    return False


def compression_code(compression: str) -> int:
    """The P2P_COMPRESSION_* code of 'none', 'zlib', 'bzip2' or 'lzma' (else ValueError)."""
    try:
        return _n.COMPRESSIONS[compression]
    except (KeyError, TypeError):
        raise ValueError("p2pnode: unknown compression %r: use 'none', 'zlib', 'bzip2' or 'lzma'"
                         % (compression,)) from None


def send_code(node: Any, who: str, compression: Any) -> Any:
    """compression's code, or None after p2pnetwork's debug line and a RuntimeWarning."""
    code = _n.COMPRESSIONS.get(compression) if type(compression) is str else None
    if code is None:
        node.debug_print(who + ":compress:Unknown compression")
        warnings.warn("p2pnode: unknown compression %r: nothing was sent (use 'none', 'zlib', "
                      "'bzip2' or 'lzma')" % (compression,), RuntimeWarning, stacklevel=3)
    return code


def compressed(data: bytes, compression: str) -> bytes:
    """p2pnetwork's compressed form of data: base64(codec(data) + tag)."""
    return base64.b64encode(_CODECS[compression](data) + compression.encode("ascii"))


def wire_packet(payload: bytes, code: int) -> bytes:
    """A received payload as parse_packet gets it (compressed again with its codec)."""
    if code == _n.P2P_COMPRESSION_NONE:
        return payload
    names = {v: k for k, v in _n.COMPRESSIONS.items()}
    return compressed(payload, names[code]) + COMPR_CHAR


def inflate(obj: Any, data: bytes, limit: int) -> bytes:
    """Decompress data with obj (a zlib, bz2 or lzma decompressor), at most limit bytes."""
    out: bytes = obj.decompress(data, limit + 1)
    if len(out) > limit:
        raise ValueError("decompressed data is over the limit of %d bytes "
                         "(max_decompressed_size)" % limit)
    if not obj.eof:
        raise ValueError("compressed data is incomplete or truncated")
    return out


def encode_batch(messages: Any, encoding_type: str = "utf-8") -> Tuple[bytes, Any, int]:
    """p2p_node_send_batch's data, lengths (a size_t array on the lengths' buffer) and count."""
    payloads = messages if type(messages) is list else list(messages)
    if any(type(m) is not bytes for m in payloads):
        payloads = [encode_payload(m, encoding_type) for m in payloads]
    lens = array.array(SIZE_T_CODE, map(len, payloads))
    return b"".join(payloads), (ctypes.c_size_t * len(lens)).from_buffer(lens), len(lens)


# ---- events ---------------------------------------------------------------------------

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
