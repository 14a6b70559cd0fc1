"""ctypes declarations of include/p2pnode.h (generated in _constants.py) and the library's loading.

The library is looked up as the README says: ``P2PNODE_LIBRARY``, then this
package's directory, then the source tree's ``build/``, then the system's path.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from typing import Any, List, Optional, Tuple

from ._constants import *  # noqa: F403 (re-exported: p2pnode._native.P2P_* as in the header)
from ._constants import (CODE_NAMES, P2P_ALL, P2P_COMPRESSION, P2P_EHANDLE, P2P_ESTOPPED,
                         P2P_INBOUND, P2P_KEY_FORMAT, P2P_KEY_POLICY, P2P_LIMIT, P2P_OK,
                         P2P_OUTBOUND, P2P_OVERFLOW_POLICY, PROTOTYPES, P2PBuf, P2PPeer)

__all__ = ["P2PError", "lib", "library_path", "check", "errmsg"]

COMPRESSIONS, OVERFLOW_POLICIES = P2P_COMPRESSION, P2P_OVERFLOW_POLICY
KEY_POLICIES, KEY_FORMATS, LIMITS = P2P_KEY_POLICY, P2P_KEY_FORMAT, P2P_LIMIT
PeerFacts = Tuple[str, str, int, int]  # id, host, port, direction


class P2PError(Exception):
    """An error of the C library: ``code`` (P2P_E*), ``name``, ``message``, ``function``."""

    def __init__(self, code: int, message: str = "", function: str = "") -> None:
        self.code, self.name, self.function = code, CODE_NAMES.get(code, "P2P_E?"), function
        self.message = message or decode_str(lib.p2p_strerror(code))
        #: send_batch: how many messages were queued before the one that failed.
        self.sent: Optional[int] = None
        super().__init__(f"{function + ': ' if function else ''}{self.message} ({self.name})")


_LIBNAME = {"win32": "libp2pnode.dll", "darwin": "libp2pnode.dylib"}.get(sys.platform,
                                                                         "libp2pnode.so")


def _load() -> Tuple[ctypes.CDLL, str]:
    here, env = os.path.dirname(os.path.abspath(__file__)), os.environ.get("P2PNODE_LIBRARY")
    paths = [env] if env else [os.path.join(here, _LIBNAME), os.path.normpath(
        os.path.join(here, "../../../build", _LIBNAME)), ctypes.util.find_library("p2pnode")]
    tried = []
    for path in filter(None, paths):
        if not os.path.isfile(path) and os.sep in path:
            tried.append(f"{path} (not found)")
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append(f"{path} ({e})")
    raise ImportError(f"p2pnode: cannot load the native library {_LIBNAME}; P2PNODE_LIBRARY is "
                      f"{'set' if env else 'not set'}; looked in: {'; '.join(tried)}. Build it "
                      "with `make lib` at the repository root, copy it into the package with "
                      "`make -C bindings/python package`, or point P2PNODE_LIBRARY at it.")


lib, library_path = _load()
_PROTOTYPES = PROTOTYPES
for _name, (_restype, _argtypes) in _PROTOTYPES.items():
    _fn = getattr(lib, _name, None)
    if _fn is None:
        raise ImportError(f"p2pnode: {library_path} lacks the function {_name} (an older library?)")
    _fn.restype, _fn.argtypes = _restype, _argtypes


def errmsg() -> str:
    """The message of the last failed call made by this thread."""
    return decode_str(lib.p2p_errmsg())


def error(code: int, function: str = "") -> P2PError:
    """A P2PError for code, with this thread's last message (read at once)."""
    return P2PError(code, errmsg(), function)


def check(code: int, function: str = "") -> int:
    """Raise P2PError for a negative status; return it otherwise."""
    if code < 0:
        raise error(code, function)
    return code


def call(name: str, *args: Any) -> int:
    """lib.name(*args), checked."""
    return check(getattr(lib, name)(*args), name)


def encode_str(s: Optional[str]) -> Optional[bytes]:
    """A str as the NUL-terminated UTF-8 the C functions take (ValueError for a NUL)."""
    if s is None:
        return None
    b = s.encode("utf-8")
    if b"\x00" in b:
        raise ValueError("p2pnode: strings passed to the library cannot contain NUL characters")
    return b


def sized_str(s: Optional[str]) -> Tuple[Optional[bytes], int]:
    """encode_str(s) and its length, for the functions that take a (char *, size_t) pair."""
    b = encode_str(s)
    return b or (None if s is None else b""), len(b or b"")


def decode_str(b: Optional[bytes]) -> str:
    return b.decode("utf-8", "replace") if b else ""


def sized(cls: Any) -> Any:
    """A sized struct as P2P_INIT makes it: zero, size set."""
    return cls(size=ctypes.sizeof(cls))


def take(name: str, *args: Any) -> Tuple[int, bytes]:
    """(status, bytes) of a function whose last argument is a p2p_buf *out (freed here)."""
    out = P2PBuf()
    rc: int = getattr(lib, name)(*args, ctypes.byref(out))
    try:
        return rc, ctypes.string_at(out.data, out.len) if rc == P2P_OK and out.data else b""
    finally:
        lib.p2p_buf_free(ctypes.byref(out))


def take_checked(name: str, *args: Any) -> bytes:
    """take's bytes; P2PError for a failed call."""
    rc, data = take(name, *args)
    check(rc, name)
    return data


def cint(value: Any, what: str) -> int:
    """value as a C int; out-of-range values become -1 so the library refuses them."""
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise TypeError("p2pnode: %s must be an int, not %s"
                            % (what, type(value).__name__)) from None
    return value if -(2 ** 31) <= value < 2 ** 31 else -1


def new_node(fn: str, host: str, port: Any, id: Any, max_connections: Any,
             *extra: Any) -> Tuple[int, int, str]:
    """(handle, port, id) of a node made by fn (p2p_node_new, p2p_secure_node_create)."""
    out, p = ctypes.c_void_p(), ctypes.c_int()
    call(fn, encode_str(host), cint(port, "port"), encode_str(str(id)) if id is not None else None,
         cint(max_connections, "max_connections"), *extra, ctypes.byref(out))
    call("p2p_node_port", out.value, ctypes.byref(p))
    return out.value or 0, p.value, take_checked("p2p_node_id_buf", out.value).decode("utf-8",
                                                                                     "replace")


def limit_code(name: str, value: Any = 0) -> Tuple[int, int]:
    """The P2P_LIMIT_* code of a limit's name and value (an overflow policy may be a name)."""
    if name not in LIMITS:
        raise ValueError("p2pnode: unknown limit %r: use one of %s" % (name, ", ".join(LIMITS)))
    if name == "overflow_policy" and isinstance(value, str):
        if value not in OVERFLOW_POLICIES:
            raise ValueError("p2pnode: unknown overflow policy %r: use one of %s"
                             % (value, ", ".join(OVERFLOW_POLICIES)))
        value = OVERFLOW_POLICIES[value]
    return LIMITS[name], int(value)


def peer_facts(node: Any, peer: int) -> Optional[PeerFacts]:
    """A peer's id, host, port and direction in one call; None when gone."""
    p = sized(P2PPeer)
    if lib.p2p_peer_facts(node, peer, ctypes.byref(p)) != P2P_OK:
        return None
    try:
        return decode_str(p.id), decode_str(p.host), p.port, p.direction
    finally:
        lib.p2p_buf_free(ctypes.byref(p.mem))


class NativePeer:
    """What the threaded and the asyncio connection share: the peer's handle and its key."""

    __slots__ = ()
    main_node: Any
    _p2p_handle: int

    handle = property(lambda self: self._p2p_handle,
                      doc="The library's handle of this peer (0 if not made by a node).")

    @property
    def peer_key(self) -> Optional[bytes]:
        """The peer's ed25519 public key on an encrypted (native) link, else None."""
        p, h = sized(P2PPeer), self.main_node._p2p_live() if self._p2p_handle else None
        if not h or lib.p2p_peer_facts(h, self._p2p_handle, ctypes.byref(p)) != P2P_OK:
            return None
        lib.p2p_buf_free(ctypes.byref(p.mem))
        return bytes(p.key) if p.encrypted else None

    encrypted = property(lambda self: self.peer_key is not None,
                         doc="True on an encrypted (native, TLS 1.3) link.")


class NativeNode:
    """What the threaded and the asyncio Node share: limits and peers of the native handle."""

    def _p2p_live(self) -> Optional[int]:
        """The handle while the native node exists, else None."""
        raise NotImplementedError

    def _p2p_connection(self, handle: int, facts: Any = None) -> Any:
        """The object of a peer handle, made from facts (or the library's) on first sight."""
        raise NotImplementedError

    def _p2p_handle_of(self, function: str) -> int:
        h = self._p2p_live()
        if h is None:
            raise P2PError(P2P_ESTOPPED, "", function)
        return h

    def _p2p_do(self, name: str, *args: Any) -> int:
        """lib.name(node, *args), checked; P2PError(P2P_ESTOPPED) once the node is gone."""
        return call(name, self._p2p_handle_of(name), *args)

    def _p2p_setup(self, encryption: str, identity: Any) -> None:
        """Node(..., encryption=, identity=): the mode by name, the identity a path or PEM bytes."""
        h, mode = self._p2p_handle_of("p2p_node_new"), ctypes.c_int()
        if lib.p2p_encryption_from_name(encode_str(encryption), ctypes.byref(mode)) != P2P_OK:
            raise ValueError("p2pnode: encryption must be 'preferred', 'off' or 'required', not %r"
                             % (encryption,))
        self.set_limit("encryption", mode.value)
        if isinstance(identity, (bytes, bytearray)):
            call("p2p_node_set_identity", h, bytes(identity), len(identity))
        elif identity is not None:
            self.load_identity(identity)

    public_key = property(lambda self: take_checked("p2p_node_public_key_buf", self._p2p_handle_of(
        "p2p_node_public_key_buf")), doc="The node's ed25519 public key (32 bytes).")

    def save_identity(self, path: Any) -> None:
        """Write the node's private key (PKCS#8 PEM, mode 0600) to path."""
        self._p2p_do("p2p_node_identity_save", os.fsencode(path))

    def load_identity(self, path: Any) -> None:
        """Use the private key of a PEM file (before start)."""
        self._p2p_do("p2p_node_identity_load", os.fsencode(path))

    def pin(self, id: Any, key: bytes) -> None:
        """Accept the peer of this id only with this public key (32 bytes)."""
        self._p2p_do("p2p_node_pin", *sized_str(str(id)), bytes(key), len(key))

    def allow(self, key: bytes, id: Any = None) -> None:
        """Put a public key (for one id, or any) on the allow-list: others are refused."""
        self._p2p_do("p2p_node_allow", *sized_str(None if id is None else str(id)), bytes(key),
                     len(key))

    def discover(self, target_peers: int = 8) -> None:
        """Connect with peers learnt from the connected ones until target_peers (started node)."""
        self._p2p_do("p2p_node_discover", cint(target_peers, "target_peers"))

    def known_peers(self) -> List[Tuple[str, str, int]]:
        """(id, host, port) of the peers the node has learnt of."""
        out, n = P2PBuf(), ctypes.c_size_t()
        self._p2p_do("p2p_node_known_peers_buf", ctypes.byref(out), ctypes.byref(n))
        try:
            step = P2PPeer.from_address(out.data).size if n.value else 0
            entries = [P2PPeer.from_address(out.data + i * step) for i in range(n.value)]
            return [(decode_str(p.id), decode_str(p.host), p.port) for p in entries]
        finally:
            lib.p2p_buf_free(ctypes.byref(out))

    def subscribe(self, topic: str) -> None:
        """Receive the messages published on topic (node_topic_message)."""
        self._p2p_do("p2p_node_subscribe", *sized_str(topic))

    def unsubscribe(self, topic: str) -> None:
        self._p2p_do("p2p_node_unsubscribe", *sized_str(topic))

    def publish(self, topic: str, data: Any) -> None:
        """Send data (str, dict as JSON, bytes) to every subscriber of topic once (started node)."""
        from ._codec import encode_payload  # _codec imports this module
        payload = encode_payload(data)
        self._p2p_do("p2p_node_publish", *sized_str(topic), payload, len(payload), 0)

    def set_limit(self, name: str, value: int) -> None:
        """Set a limit of LIMITS by name, 0 for its default (p2pnode only; before start())."""
        self._p2p_do("p2p_node_set_limit", *limit_code(name, value))

    def get_limit(self, name: str) -> int:
        """The value of a limit (see set_limit), defaults filled in."""
        code, value = limit_code(name)[0], ctypes.c_int64()
        self._p2p_do("p2p_node_get_limit", code, ctypes.byref(value))
        return value.value

    def _p2p_peers(self, direction: int) -> List[Any]:
        """The objects of the node's peers of one direction; [] for a freed node."""
        h = self._p2p_live()
        rc, data = take("p2p_node_peers_buf", h, direction) if h else (P2P_EHANDLE, b"")
        if rc != P2P_EHANDLE:
            check(rc, "p2p_node_peers_buf")
        conns = map(self._p2p_connection, memoryview(data).cast("Q") if data else [])
        return [c for c in conns if c is not None]

    nodes_inbound = property(lambda self: self._p2p_peers(P2P_INBOUND),
                             doc="The peers that connected with us (a new list on every read).")
    nodes_outbound = property(lambda self: self._p2p_peers(P2P_OUTBOUND),
                              doc="The peers we connected with (a new list on every read).")
    all_nodes = property(lambda self: self._p2p_peers(P2P_ALL),
                         doc="Every peer, inbound then outbound.")
