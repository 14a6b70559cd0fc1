"""ctypes declarations of the C ABI in include/p2pnode.h.

Everything the package does goes through the functions declared here; the
rest of the package holds no protocol logic. The library is looked up, in
this order:

1. the file named by the environment variable ``P2PNODE_LIBRARY``
   (when it is set, nowhere else is searched);
2. ``libp2pnode.so`` in this package's directory (``make package`` puts it
   there, and ``pip install`` ships it);
3. ``build/libp2pnode.so`` at the root of the source tree this package sits
   in (``bindings/python/p2pnode`` -> ``../../../build``);
4. the system's library path (``ctypes.util.find_library("p2pnode")``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import sys
from typing import Any, List, Optional

__all__ = ["P2PError", "lib", "library_path", "check", "errmsg"]

# ---- Constants of the header -----------------------------------------------

P2P_MAX_ID_LEN = 4096
P2P_MAX_HOST_LEN = 1024

P2P_OK = 0
P2P_EINVAL = -1
P2P_EHANDLE = -2
P2P_ESTATE = -3
P2P_ESTOPPED = -4
P2P_ESELF = -5
P2P_EALREADY = -6
P2P_ECONNECT = -7
P2P_EHANDSHAKE = -8
P2P_ENOPEER = -9
P2P_EFULL = -10
P2P_ETOOBIG = -11
P2P_ENOTFOUND = -12
P2P_ERANGE = -13
P2P_EBIND = -14
P2P_EINTERNAL = -15
P2P_EKEY = -16
P2P_EREJECTED = -17
P2P_EFORK = -18

CODE_NAMES = {
    P2P_OK: "P2P_OK",
    P2P_EINVAL: "P2P_EINVAL",
    P2P_EHANDLE: "P2P_EHANDLE",
    P2P_ESTATE: "P2P_ESTATE",
    P2P_ESTOPPED: "P2P_ESTOPPED",
    P2P_ESELF: "P2P_ESELF",
    P2P_EALREADY: "P2P_EALREADY",
    P2P_ECONNECT: "P2P_ECONNECT",
    P2P_EHANDSHAKE: "P2P_EHANDSHAKE",
    P2P_ENOPEER: "P2P_ENOPEER",
    P2P_EFULL: "P2P_EFULL",
    P2P_ETOOBIG: "P2P_ETOOBIG",
    P2P_ENOTFOUND: "P2P_ENOTFOUND",
    P2P_ERANGE: "P2P_ERANGE",
    P2P_EBIND: "P2P_EBIND",
    P2P_EINTERNAL: "P2P_EINTERNAL",
    P2P_EKEY: "P2P_EKEY",
    P2P_EREJECTED: "P2P_EREJECTED",
    P2P_EFORK: "P2P_EFORK",
}

P2P_EVENT_OUTBOUND_CONNECTED = 1
P2P_EVENT_INBOUND_CONNECTED = 2
P2P_EVENT_OUTBOUND_DISCONNECTED = 3
P2P_EVENT_INBOUND_DISCONNECTED = 4
P2P_EVENT_MESSAGE = 5
P2P_EVENT_DISCONNECT_WITH_OUTBOUND = 6
P2P_EVENT_REQUEST_TO_STOP = 7
P2P_EVENT_RECONNECTION_ERROR = 8
P2P_EVENT_SECURE_MESSAGE = 9
P2P_EVENT_MESSAGE_REJECTED = 10
P2P_EVENT_DISCOVERY_ANSWER = 11

P2P_KIND_JSON = 0
P2P_KIND_TEXT = 1
P2P_KIND_BYTES = 2

P2P_INBOUND = 0
P2P_OUTBOUND = 1
P2P_ALL = 2

COMPRESSIONS = {"none": 0, "zlib": 1, "bzip2": 2, "lzma": 3}

P2P_LIMIT_MAX_CONNECTIONS = 1
P2P_LIMIT_HANDSHAKE_TIMEOUT_MS = 2
P2P_LIMIT_DIAL_TIMEOUT_MS = 3
P2P_LIMIT_MAX_FRAME_SIZE = 4
P2P_LIMIT_MAX_DECOMPRESSED_SIZE = 5
P2P_LIMIT_MAX_QUEUED_BYTES = 6
P2P_LIMIT_SEND_TIMEOUT_MS = 7
P2P_LIMIT_RECONNECT_INTERVAL_MS = 8
P2P_LIMIT_MAX_PENDING_EVENTS = 9
P2P_LIMIT_OVERFLOW_POLICY = 10
P2P_LIMIT_MAX_QUEUED_BYTES_TOTAL = 11
P2P_LIMIT_MAX_QUEUED_BYTES_PER_ADDRESS = 12
P2P_LIMIT_STOP_TIMEOUT_MS = 13
P2P_LIMIT_MAX_PENDING_HANDSHAKES = 14
P2P_LIMIT_MAX_PENDING_HANDSHAKES_PER_ADDRESS = 15
P2P_LIMIT_IDLE_EVICTION_MS = 16
P2P_LIMIT_MAX_PENDING_BYTES = 17
P2P_LIMIT_MAX_PENDING_BYTES_PER_ADDRESS = 18

P2P_OVERFLOW_WAIT = 0
P2P_OVERFLOW_DROP_NEWEST = 1
P2P_OVERFLOW_DROP_OLDEST = 2
P2P_OVERFLOW_DISCONNECT = 3
#: Names of the overflow policies (Node.set_limit("overflow_policy", ...) takes either).
OVERFLOW_POLICIES = {"wait": P2P_OVERFLOW_WAIT, "drop_newest": P2P_OVERFLOW_DROP_NEWEST,
                     "drop_oldest": P2P_OVERFLOW_DROP_OLDEST, "disconnect": P2P_OVERFLOW_DISCONNECT}

P2P_MAX_KEY_PEM_LEN = 4096
KEY_POLICIES = {"trust_on_first_use": 0, "trusted_keys_only": 1, "no_pinning": 2}
KEY_FORMATS = {"p2pnode": 0, "p2psecure": 1}


# ---- Structures ----------------------------------------------------------------

class P2PDiscovered(ctypes.Structure):
    """struct p2p_discovered."""

    _fields_ = [
        ("id", ctypes.c_char_p),
        ("host", ctypes.c_char_p),
        ("port", ctypes.c_int32),
        ("direction", ctypes.c_int32),
    ]


class P2PSecureConfig(ctypes.Structure):
    """struct p2p_secure_config."""

    _fields_ = [
        ("key_policy", ctypes.c_int32),
        ("min_key_bits", ctypes.c_int32),
        ("replay_window_ms", ctypes.c_int64),
        ("max_clock_skew_ms", ctypes.c_int64),
        ("max_pinned_keys", ctypes.c_int32),
        ("reserved", ctypes.c_int32),
    ]


class P2PEvent(ctypes.Structure):
    """struct p2p_event."""

    _fields_ = [
        ("type", ctypes.c_int32),
        ("kind", ctypes.c_int32),
        ("node", ctypes.c_void_p),
        ("peer", ctypes.c_uint64),
        ("peer_id", ctypes.c_char_p),
        ("peer_host", ctypes.c_char_p),
        ("peer_port", ctypes.c_int32),
        ("direction", ctypes.c_int32),
        ("data", ctypes.c_void_p),
        ("data_len", ctypes.c_size_t),
        ("compression", ctypes.c_int32),
        ("port", ctypes.c_int32),
        ("host", ctypes.c_char_p),
        ("trials", ctypes.c_int32),
        ("reserved", ctypes.c_int32),
        ("sender_id", ctypes.c_char_p),
        ("msg_type", ctypes.c_char_p),
        ("reason", ctypes.c_char_p),
        ("reject", ctypes.c_int32),
        ("reserved2", ctypes.c_int32),
        ("nodes", ctypes.POINTER(P2PDiscovered)),
        ("n_nodes", ctypes.c_size_t),
        ("dropped", ctypes.c_uint64),
        ("dropped_bytes", ctypes.c_uint64),
    ]


class P2PCounters(ctypes.Structure):
    """struct p2p_counters."""

    _fields_ = [(name, ctypes.c_uint64) for name in (
        "sent", "received", "receive_errors",
        "accepted", "accepted_bytes", "written", "written_bytes", "queued", "queued_bytes",
        "dropped_overflow", "dropped_link_lost", "dropped_stop", "dropped_bytes", "refused",
        "received_bytes", "evicted", "handshakes_evicted", "rejected", "over_memory", "stalled")]

    def as_dict(self) -> dict:
        """The counters by name (see p2p_counters in p2pnode.h)."""
        return {name: getattr(self, name) for name, _ in self._fields_}


# ---- The error type ----------------------------------------------------------------

class P2PError(Exception):
    """An error returned by the C library.

    ``code`` is the negative ``P2P_E*`` status, ``name`` its constant's name
    and ``message`` the library's message for the failed call::

        try:
            node.max_connections = -1
        except P2PError as e:
            print(e.code, e.name, e.message)
    """

    def __init__(self, code: int, message: str = "", function: str = "") -> None:
        self.code = code
        self.name = CODE_NAMES.get(code, "P2P_E?")
        self.message = message or strerror(code)
        self.function = function
        where = function + ": " if function else ""
        super().__init__(f"{where}{self.message} ({self.name})")


# ---- Loading ----------------------------------------------------------------

if sys.platform == "win32":
    _LIBNAME = "libp2pnode.dll"
elif sys.platform == "darwin":
    _LIBNAME = "libp2pnode.dylib"
else:
    _LIBNAME = "libp2pnode.so"

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))


def _candidates() -> List[str]:
    env = os.environ.get("P2PNODE_LIBRARY")
    if env:
        return [env]
    paths = [
        os.path.join(_PKG_DIR, _LIBNAME),
        os.path.normpath(os.path.join(_PKG_DIR, "..", "..", "..", "build", _LIBNAME)),
    ]
    found = ctypes.util.find_library("p2pnode")
    if found:
        paths.append(found)
    return paths


def _load() -> "tuple[ctypes.CDLL, str]":
    tried = []
    for path in _candidates():
        is_file = os.path.isfile(path)
        if not is_file and os.sep in path:
            tried.append(f"{path} (not found)")
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append(f"{path} ({e})")
    env = "P2PNODE_LIBRARY is %s" % ("set" if os.environ.get("P2PNODE_LIBRARY") else "not set")
    raise ImportError(
        "p2pnode: cannot load the native library " + _LIBNAME + "; " + env + "; looked in: "
        + "; ".join(tried)
        + ". Build it with `make lib` at the repository root, copy it into the package with "
        "`make -C bindings/python package`, or point P2PNODE_LIBRARY at it."
    )


lib, library_path = _load()

_c_int = ctypes.c_int
_c_size = ctypes.c_size_t
_vp = ctypes.c_void_p
_cp = ctypes.c_char_p
_node_out = ctypes.POINTER(ctypes.c_void_p)

_PROTOTYPES = {
    "p2p_version": (_cp, []),
    "p2p_strerror": (_cp, [_c_int]),
    "p2p_last_error": (_c_int, [ctypes.c_char_p, _c_size]),
    "p2p_errmsg": (_cp, []),
    "p2p_node_new": (_c_int, [_cp, _c_int, _cp, _c_int, _node_out]),
    "p2p_node_set_callback": (_c_int, [_vp, _vp, _vp]),
    "p2p_node_set_limit": (_c_int, [_vp, _c_int, ctypes.c_int64]),
    "p2p_node_get_limit": (_c_int, [_vp, _c_int, ctypes.POINTER(ctypes.c_int64)]),
    "p2p_node_set_debug": (_c_int, [_vp, _c_int]),
    "p2p_node_get_debug": (_c_int, [_vp, ctypes.POINTER(_c_int)]),
    "p2p_node_start": (_c_int, [_vp]),
    "p2p_node_stop": (_c_int, [_vp]),
    "p2p_node_request_stop": (_c_int, [_vp]),
    "p2p_node_free": (_c_int, [_vp]),
    "p2p_node_id": (_c_int, [_vp, ctypes.c_char_p, _c_size]),
    "p2p_node_host": (_c_int, [_vp, ctypes.c_char_p, _c_size]),
    "p2p_node_port": (_c_int, [_vp, ctypes.POINTER(_c_int)]),
    "p2p_node_counters": (_c_int, [_vp, ctypes.POINTER(P2PCounters)]),
    "p2p_peer_counters": (_c_int, [_vp, ctypes.c_uint64, ctypes.POINTER(P2PCounters)]),
    "p2p_node_peers": (_c_int, [_vp, _c_int, ctypes.POINTER(ctypes.c_uint64), _c_size,
                                ctypes.POINTER(_c_size)]),
    "p2p_node_connect": (_c_int, [_vp, _cp, _c_int, _c_int, ctypes.POINTER(ctypes.c_uint64)]),
    "p2p_node_disconnect": (_c_int, [_vp, ctypes.c_uint64]),
    "p2p_node_send": (_c_int, [_vp, ctypes.c_uint64, _vp, _c_size, _c_int]),
    "p2p_node_broadcast": (_c_int, [_vp, _vp, _c_size, ctypes.POINTER(ctypes.c_uint64), _c_size,
                                    _c_int]),
    "p2p_peer_id": (_c_int, [_vp, ctypes.c_uint64, ctypes.c_char_p, _c_size]),
    "p2p_peer_host": (_c_int, [_vp, ctypes.c_uint64, ctypes.c_char_p, _c_size]),
    "p2p_peer_port": (_c_int, [_vp, ctypes.c_uint64, ctypes.POINTER(_c_int)]),
    "p2p_peer_direction": (_c_int, [_vp, ctypes.c_uint64, ctypes.POINTER(_c_int)]),
    "p2p_peer_set_info": (_c_int, [_vp, ctypes.c_uint64, _cp, _vp, _c_size]),
    "p2p_peer_get_info": (_c_int, [_vp, ctypes.c_uint64, _cp, _vp, _c_size,
                                   ctypes.POINTER(_c_size)]),
    "p2p_node_poll": (_c_int, [_vp, ctypes.POINTER(P2PEvent), _c_size, _c_int,
                               ctypes.POINTER(_c_size)]),
    "p2p_node_reply": (_c_int, [_vp, _c_int]),
    # The batched path: lens is passed as an address (an array.array's buffer).
    "p2p_node_send_batch": (_c_int, [_vp, ctypes.c_uint64, _vp, _vp, _c_size, _c_int,
                                     ctypes.POINTER(_c_size)]),
    "p2p_node_poll_batch": (_c_int, [_vp, ctypes.POINTER(P2PEvent), _c_size, _c_int,
                                     ctypes.POINTER(_c_size), ctypes.POINTER(ctypes.c_void_p),
                                     ctypes.POINTER(_c_size)]),
    # The secure node. JSON goes in as bytes with a length.
    "p2p_secure_node_new": (_c_int, [_cp, _c_int, _cp, _c_int, ctypes.POINTER(P2PSecureConfig),
                                     _node_out]),
    "p2p_secure_key_generate": (_c_int, [_vp, _c_int]),
    "p2p_secure_key_load": (_c_int, [_vp, _cp, _cp]),
    "p2p_secure_key_save": (_c_int, [_vp, _cp, _cp, _c_int]),
    "p2p_secure_public_key": (_c_int, [_vp, ctypes.c_char_p, _c_size]),
    "p2p_secure_send_message": (_c_int, [_vp, _cp, _c_size]),
    "p2p_secure_send": (_c_int, [_vp, ctypes.c_uint64, _cp, _c_size]),
    "p2p_secure_broadcast": (_c_int, [_vp, _cp, _c_size, ctypes.POINTER(ctypes.c_uint64),
                                      _c_size]),
    "p2p_secure_send_ping": (_c_int, [_vp]),
    "p2p_secure_send_discovery": (_c_int, [_vp]),
    "p2p_secure_create_message": (_c_int, [_vp, _cp, _c_size, ctypes.c_char_p, _c_size,
                                           ctypes.POINTER(_c_size)]),
    "p2p_secure_check_message": (_c_int, [_cp, _c_size, ctypes.POINTER(_c_int)]),
    "p2p_secure_pin": (_c_int, [_vp, _cp, _cp]),
    "p2p_secure_pinned_key": (_c_int, [_vp, _cp, ctypes.c_char_p, _c_size]),
    # p2psecure's helpers and delegation (securenode.py); variable-size results
    # as buf, cap, out_len.
    "p2p_secure_set_delegate": (_c_int, [_vp, _c_int]),
    "p2p_secure_handle": (_c_int, [_vp, ctypes.c_uint64, _c_int, _cp, _c_size]),
    "p2p_secure_private_key": (_c_int, [_vp, ctypes.c_char_p, _c_size]),
    "p2p_secure_encrypt": (_c_int, [_cp, _cp, _c_size, _vp, _c_size, ctypes.POINTER(_c_size)]),
    "p2p_secure_decrypt": (_c_int, [_vp, _cp, _c_size, _vp, _c_size, ctypes.POINTER(_c_size)]),
    "p2p_secure_sign": (_c_int, [_vp, _cp, _c_size, ctypes.c_char_p, _c_size]),
    "p2p_secure_verify": (_c_int, [_cp, _cp, _c_size, _cp]),
    "p2p_secure_canonical": (_c_int, [_cp, _c_size, _vp, _c_size, ctypes.POINTER(_c_size)]),
    "p2p_secure_derive_key": (_c_int, [_cp, _c_size, _cp, _c_size, ctypes.c_char_p, _c_size]),
    "p2p_secure_aes_pad": (_c_int, [_cp, _c_size, _vp, _c_size, ctypes.POINTER(_c_size)]),
    "p2p_secure_aes_encrypt": (_c_int, [_cp, _c_size, _cp, _c_size, _vp, _c_size,
                                        ctypes.POINTER(_c_size)]),
    "p2p_secure_aes_decrypt": (_c_int, [_cp, _c_size, _cp, _c_size, _vp, _c_size,
                                        ctypes.POINTER(_c_size)]),
    "p2p_secure_aes_encrypt_pw": (_c_int, [_cp, _c_size, _cp, _c_size, _vp, _c_size,
                                           ctypes.POINTER(_c_size)]),
    "p2p_secure_aes_decrypt_pw": (_c_int, [_cp, _c_size, _cp, _c_size, _vp, _c_size,
                                           ctypes.POINTER(_c_size)]),
    "p2p_secure_aes_encrypt_file": (_c_int, [_cp, _cp, _c_size, _cp, _c_size]),
    "p2p_secure_aes_decrypt_file": (_c_int, [_cp, _cp, _c_size, _vp, _c_size,
                                             ctypes.POINTER(_c_size)]),
    "p2p_secure_aes_encrypt_file_pw": (_c_int, [_cp, _cp, _c_size, _cp, _c_size]),
    "p2p_secure_aes_decrypt_file_pw": (_c_int, [_cp, _cp, _c_size, _vp, _c_size,
                                                ctypes.POINTER(_c_size)]),
}

for _name, (_restype, _argtypes) in _PROTOTYPES.items():
    try:
        _fn = getattr(lib, _name)
    except AttributeError as _e:
        raise ImportError(f"p2pnode: {library_path} lacks the function {_name}") from _e
    _fn.restype = _restype
    _fn.argtypes = _argtypes


# ---- Helpers ----------------------------------------------------------------

def strerror(code: int) -> str:
    """The library's static description of a status code."""
    s = lib.p2p_strerror(code)
    return s.decode("utf-8", "replace") if s else ""


def errmsg() -> str:
    """The message of the last failed call made by this thread."""
    s = lib.p2p_errmsg()
    return s.decode("utf-8", "replace") if s else ""


def error(code: int, function: str = "") -> P2PError:
    """A P2PError for code, with this thread's last message (read at once)."""
    return P2PError(code, errmsg(), function)


def check(code: int, function: str = "") -> int:
    """Raise P2PError for a negative status; return it otherwise."""
    if code < 0:
        raise error(code, function)
    return code


def decode_payload(kind: int, data: bytes) -> Any:
    """A received payload as p2pnetwork presents it: JSON as its value, text as str, else bytes.

    kind is the event's p2p_kind; JSON that does not parse falls back to
    str, and text that is not UTF-8 to bytes.
    """
    if kind == P2P_KIND_JSON:
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            pass
    if kind in (P2P_KIND_JSON, P2P_KIND_TEXT):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return data


def version() -> str:
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return lib.p2p_version().decode("ascii")


def encode_str(s: Optional[str]) -> Optional[bytes]:
    """A Python str as the NUL-terminated UTF-8 the C functions take."""
    if s is None:
        return None
    b = s.encode("utf-8")
    if b"\x00" in b:
        raise ValueError("p2pnode: strings passed to the library cannot contain NUL characters")
    return b


def decode_str(b: Optional[bytes]) -> str:
    """A NUL-terminated string from the library as a Python str."""
    return b.decode("utf-8", "replace") if b else ""
