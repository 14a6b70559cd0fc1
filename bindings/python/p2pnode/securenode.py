"""SecureNode: signed JSON messages, ping and discovery, as p2psecure's SecureNode.

Signing, checking and the helpers run in the library, in p2psecure's formats;
what is received arrives checked (see the README for the hooks and the extra checks).
"""

from __future__ import annotations

import ctypes
import enum
import json
import os
from typing import Any, Dict, Optional, Tuple, Union

from . import _native as _n
from ._codec import Event, decode_payload
from ._native import cint as _c_int
from .node import Callback, Node
from .nodeconnection import NodeConnection

__all__ = ["SecureNode", "Reject"]

Password = Union[str, bytes, None]
BytesLike = Union[bytes, bytearray, memoryview]

# The hooks a p2psecure subclass may override, and the message type each needs delegated here.
_HOOK_OF_TYPE = {t: ("received_" + t, bit) for t, bit in _n.P2P_DELEGATE.items()}
_HOOKS = {**{hook: bit for hook, bit in _HOOK_OF_TYPE.values()},
          "send_pong": _n.P2P_DELEGATE_PING, "send_discovery_answer": _n.P2P_DELEGATE_DISCOVERY}


def _data(value: Any, what: str, latin1: bool = False) -> bytes:
    """Bytes-like data as is, a str as Latin-1 when latin1 (as PyCryptodome's tobytes)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if latin1 and isinstance(value, str):
        return value.encode("latin-1")
    raise TypeError("p2pnode: %s must be bytes%s, not %s"
                    % (what, " or str" if latin1 else "", type(value).__name__))


def _pem(value: Any) -> bytes:
    if isinstance(value, str):
        value = value.encode("utf-8")
    value = _data(value, "public_key")
    if b"\x00" in value:
        raise ValueError("p2pnode: a PEM key cannot contain NUL bytes")
    return value


def _out(name: str, *args: Any) -> bytes:
    """The bytes a _buf helper hands out; bad input raises ValueError, as PyCryptodome."""
    rc, data = _n.take(name, *args)
    if rc == _n.P2P_EINVAL:
        raise ValueError("p2pnode: " + _n.errmsg())
    _n.check(rc, name)
    return data


#: Why a message was rejected (p2p_reject; the README says what each means).
Reject = enum.IntEnum("Reject", {k.upper(): v for k, v in _n.P2P_REJECT.items() if v})  # type: ignore[misc]


def _password(password: Password) -> Tuple[Optional[bytes], int]:
    """A key file's password and its length: bytes as is, a str by the core's rule
    (p2p_secure_password)."""
    if password is not None and not isinstance(password, bytes):
        text = _n.encode_str(str(password)) or b""
        password = _n.take_checked("p2p_secure_password", text, len(text))
    return password, len(password or b"")


def _ms(seconds: Optional[float], what: str) -> int:
    """seconds in ms: None the default (0), negative off (-1)."""
    ms = 0 if seconds is None else -1 if seconds < 0 else int(round(seconds * 1000))
    if ms == 0 and seconds is not None:
        raise ValueError("p2pnode: %s of %r s rounds to 0 ms (use None for the default)"
                         % (what, seconds))
    return ms


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8")


class SecureNode(Node):
    """A Node whose messages are signed JSON objects, checked when received.

    ``SecureNode(host, port, id=None, callback=None, max_connections=0, *, key_policy=
    "trust_on_first_use", min_key_bits=0, replay_window=None, max_clock_skew=None,
    max_pinned_keys=0)``: the checks beyond p2psecure's are in the README. start() needs a key.
    These do what p2psecure's do, in its formats (the README's API notes have each):
    key_pair_generate (bits 0: 4096), key_pair_save (format "p2pnode" or "p2psecure"),
    key_pair_load, get_public_key, get_private_key, get_data_uniq_string, get_hash,
    create_message, check_message, send_message, send_ping, send_discovery, encrypt, decrypt
    (None when it cannot), sign, sign_data, verify, verify_data, encryption_key_from_password,
    encrypt_aes_pad, encrypt_aes, encrypt_aes_pw, decrypt_aes, decrypt_aes_pw and their _file
    forms; the hooks received_ping, send_pong, received_pong, received_discovery,
    send_discovery_answer and received_discovery_answer run in the library unless overridden.
    """

    def __init__(self, host: str, port: int, id: Any = None, callback: Optional[Callback] = None,
                 max_connections: int = 0, *, key_policy: str = "trust_on_first_use",
                 min_key_bits: int = 0, replay_window: Optional[float] = None,
                 max_clock_skew: Optional[float] = None, max_pinned_keys: int = 0,
                 encryption: str = "preferred", identity: Any = None) -> None:
        if key_policy not in _n.KEY_POLICIES:
            raise ValueError("p2pnode: unknown key_policy %r: use one of %s"
                             % (key_policy, ", ".join(_n.KEY_POLICIES)))
        self._p2p_secure_config = _n.P2PSecureOpts(
            ctypes.sizeof(_n.P2PSecureOpts), _n.KEY_POLICIES[key_policy],
            _c_int(min_key_bits, "min_key_bits"), _ms(replay_window, "replay_window"),
            _ms(max_clock_skew, "max_clock_skew"), _c_int(max_pinned_keys, "max_pinned_keys"))
        super().__init__(host, port, id, callback, max_connections, encryption=encryption,
                         identity=identity)
        # Ping, pong and discovery stay in the library unless a subclass overrides a hook.
        self._p2p_delegate = 0
        for name, bit in _HOOKS.items():
            if getattr(type(self), name) is not getattr(SecureNode, name):
                self._p2p_delegate |= bit
        if self._p2p_delegate:
            _n.call("p2p_secure_set_delegate", self._p2p_node, self._p2p_delegate)

    def _p2p_new(self, host: str, port: Any, id: Any, max_connections: Any) -> Tuple[int, int, str]:
        return _n.new_node("p2p_secure_node_create", host, port, id, max_connections,
                           ctypes.byref(self._p2p_secure_config))

    def key_pair_generate(self, bits: int = 0) -> None:
        _n.call("p2p_secure_key_generate", self._p2p_node, _c_int(bits, "bits"))

    def key_pair_save(self, file_name: str, password: Password,
                      format: str = "p2pnode") -> None:
        if format not in _n.KEY_FORMATS:
            raise ValueError("p2pnode: unknown key format %r: use one of %s"
                             % (format, ", ".join(_n.KEY_FORMATS)))
        self._p2p_do("p2p_secure_key_save_bytes", _n.encode_str(str(file_name)),
                     *_password(password), _n.KEY_FORMATS[format])

    def key_pair_load(self, file_name: str, password: Password) -> None:
        self._p2p_do("p2p_secure_key_load_bytes", _n.encode_str(str(file_name)),
                     *_password(password))

    def get_public_key(self) -> bytes:
        return _n.take_checked("p2p_secure_public_key_buf", self._p2p_node)

    def pin(self, id: str, public_key: Union[str, bytes]) -> None:
        """Accept only public_key (PEM) in messages signed as node id (p2pnode only)."""
        pem = public_key.decode("ascii") if isinstance(public_key, bytes) else public_key
        _n.call("p2p_secure_pin", self._p2p_node, _n.encode_str(id), _n.encode_str(pem))

    def unpin(self, id: str) -> None:
        """Forget the key of node id; under trust on first use the next one seen is pinned."""
        _n.call("p2p_secure_pin", self._p2p_node, _n.encode_str(id), None)

    def pinned_key(self, id: str) -> Optional[bytes]:
        """The key (PEM) pinned for node id, or None."""
        rc, pem = _n.take("p2p_secure_pinned_key_buf", self._p2p_node, _n.encode_str(id))
        if rc == _n.P2P_ENOTFOUND:
            return None
        _n.check(rc, "p2p_secure_pinned_key_buf")
        return pem

    def get_data_uniq_string(self, data: Any) -> str:
        return json.dumps(data, sort_keys=True)

    def get_hash(self, data: Any) -> str:
        text = _json_bytes(data)
        return _n.take_checked("p2p_secure_hash", text, len(text)).decode("ascii")

    def create_message(self, data: Dict[str, Any]) -> Dict[str, Any]:
        if not isinstance(data, dict):
            raise TypeError("p2pnode: create_message takes a dict, not %s" % type(data).__name__)
        text = _json_bytes(data)
        signed = json.loads(_n.take_checked("p2p_secure_create_message_buf", self._p2p_node,
                                            text, len(text)))
        data.clear()
        data.update(signed)  # as the reference: data itself gets the fields
        return data

    def check_message(self, data: Any) -> bool:
        try:
            text = data.encode("utf-8") if isinstance(data, str) else bytes(data) \
                if isinstance(data, (bytes, bytearray)) else _json_bytes(data)
        except (TypeError, ValueError):
            return False
        rc = _n.lib.p2p_secure_check_message(text, len(text), None)
        if rc != _n.P2P_OK:
            self.debug_print("check_message: " + _n.errmsg())
        return rc == _n.P2P_OK

    def send_message(self, message: Any) -> None:
        payload = _json_bytes(message)
        self._p2p_secure_call("p2p_secure_send_message", payload, len(payload))

    def send_ping(self) -> None:
        self._p2p_secure_call("p2p_secure_send_ping")

    def send_discovery(self) -> None:
        self._p2p_secure_call("p2p_secure_send_discovery")

    def _p2p_secure_call(self, name: str, *args: Any, quiet: Tuple[int, ...] = ()) -> int:
        """lib.name(node, *args), a debug line when a peer went away meanwhile, else checked."""
        rc: int = getattr(_n.lib, name)(self._p2p_node, *args)
        if rc in quiet:
            return rc
        if rc in (_n.P2P_ENOPEER, _n.P2P_ESTOPPED):
            self.debug_print(name + ": " + _n.errmsg())
            return rc
        return _n.check(rc, name)

    def get_private_key(self) -> bytes:
        return _n.take_checked("p2p_secure_private_key_buf", self._p2p_node)

    def encrypt(self, message: BytesLike, public_key: Union[str, bytes]) -> Optional[bytes]:
        try:
            data = _data(message, "message")
            return _out("p2p_secure_encrypt_buf", _pem(public_key), data, len(data))
        except (TypeError, ValueError, _n.P2PError) as e:
            self.debug_print("encrypt: " + str(e))
            return None

    def decrypt(self, ciphertext: Union[str, BytesLike]) -> Optional[bytes]:
        try:
            text = ciphertext.encode("ascii") if isinstance(ciphertext, str) else \
                _data(ciphertext, "ciphertext")
            return _out("p2p_secure_decrypt_buf", self._p2p_node, text, len(text))
        except (TypeError, ValueError, UnicodeEncodeError, _n.P2PError) as e:
            self.debug_print("decrypt: " + str(e))
            return None

    def sign(self, message: str) -> Optional[str]:
        if not isinstance(message, str):
            self.debug_print("sign: the message must be a str, not " + type(message).__name__)
            return None
        text = message.encode("utf-8")
        rc, signature = _n.take("p2p_secure_sign_buf", self._p2p_node, text, len(text))
        if rc != _n.P2P_OK:
            self.debug_print("sign: " + _n.errmsg())
            return None
        return signature.decode("ascii")

    def sign_data(self, data: Any) -> Optional[str]:
        return self.sign(self.get_data_uniq_string(data))

    def verify(self, message: str, public_key: Union[str, bytes], signature: str) -> bool:
        try:
            if not isinstance(message, str) or not isinstance(signature, str):
                raise TypeError("message and signature must be str")
            text = message.encode("utf-8")
            rc = _n.lib.p2p_secure_verify(_pem(public_key), text, len(text),
                                          _n.encode_str(signature))
        except (TypeError, ValueError) as e:
            self.debug_print("verify: " + str(e))
            return False
        if rc != _n.P2P_OK:
            self.debug_print("verify: " + _n.errmsg())
        return rc == _n.P2P_OK

    def verify_data(self, data: Any, public_key: Union[str, bytes], signature: str) -> bool:
        return self.verify(self.get_data_uniq_string(data), public_key, signature)

    def encryption_key_from_password(self, salt: Union[str, BytesLike],
                                     password: Union[str, BytesLike],
                                     total_bytes_key: int) -> bytes:
        pw, sa = _data(password, "password", True), _data(salt, "salt", True)
        size = _c_int(total_bytes_key, "total_bytes_key")
        if not 1 <= size <= 65536:
            raise ValueError("p2pnode: total_bytes_key must be from 1 to 65536")
        buf = ctypes.create_string_buffer(size)
        rc = _n.lib.p2p_secure_derive_key(pw, len(pw), sa, len(sa), buf, size)
        if rc == _n.P2P_EINVAL:
            raise ValueError("p2pnode: " + _n.errmsg())
        _n.check(rc, "p2p_secure_derive_key")
        return buf.raw

    def encrypt_aes_pad(self, s: BytesLike) -> bytes:
        data = _data(s, "s")
        return _out("p2p_secure_aes_pad_buf", data, len(data))

    def encrypt_aes(self, plaintext: BytesLike, key: BytesLike, key_size: int = 256) -> bytes:
        data, k = _data(plaintext, "plaintext"), _data(key, "key")
        return _out("p2p_secure_aes_encrypt_buf", k, len(k), data, len(data))

    def encrypt_aes_pw(self, plaintext: BytesLike, password: Union[str, BytesLike]) -> bytes:
        data, pw = _data(plaintext, "plaintext"), _data(password, "password", True)
        return _out("p2p_secure_aes_encrypt_pw_buf", pw, len(pw), data, len(data))

    def decrypt_aes(self, ciphertext: BytesLike, key: BytesLike) -> bytes:
        data, k = _data(ciphertext, "ciphertext"), _data(key, "key")
        return _out("p2p_secure_aes_decrypt_buf", k, len(k), data, len(data))

    def decrypt_aes_pw(self, ciphertext: BytesLike, password: Union[str, BytesLike]) -> bytes:
        data, pw = _data(ciphertext, "ciphertext"), _data(password, "password", True)
        return _out("p2p_secure_aes_decrypt_pw_buf", pw, len(pw), data, len(data))

    def _p2p_write_file(self, name: str, file_name: Any, secret: bytes, plaintext: Any) -> None:
        data, path = _data(plaintext, "plaintext"), os.fsencode(file_name)
        if b"\x00" in path:
            raise ValueError("p2pnode: a file name cannot contain NUL bytes")
        rc = getattr(_n.lib, name)(path, secret, len(secret), data, len(data))
        if rc == _n.P2P_EKEY:
            raise OSError("p2pnode: " + _n.errmsg())
        if rc == _n.P2P_EINVAL:
            raise ValueError("p2pnode: " + _n.errmsg())
        _n.check(rc, name)

    def encrypt_aes_file(self, file_name: Any, plaintext: BytesLike, key: BytesLike) -> None:
        self._p2p_write_file("p2p_secure_aes_encrypt_file", file_name, _data(key, "key"), plaintext)

    def decrypt_aes_file(self, file_name: Any, key: BytesLike) -> bytes:
        with open(file_name, "rb") as f:
            return self.decrypt_aes(f.read(), key)

    def encrypt_aes_file_pw(self, file_name: Any, plaintext: BytesLike,
                            password: Union[str, BytesLike]) -> None:
        self._p2p_write_file("p2p_secure_aes_encrypt_file_pw", file_name,
                             _data(password, "password", True), plaintext)

    def decrypt_aes_file_pw(self, file_name: Any, password: Union[str, BytesLike]) -> bytes:
        with open(file_name, "rb") as f:
            return self.decrypt_aes_pw(f.read(), password)

    def _p2p_step(self, step: int, node: NodeConnection, data: Any, *quiet: int) -> int:
        text = _json_bytes(data)
        return self._p2p_secure_call("p2p_secure_handle", node.handle, step, text, len(text),
                                     quiet=quiet)

    def received_ping(self, node: NodeConnection, data: Dict[str, Any]) -> None:
        self.send_pong(node, data["timestamp"])

    def send_pong(self, node: NodeConnection, timestamp: Any) -> None:
        self._p2p_step(_n.P2P_STEP_SEND_PONG, node, {"timestamp": timestamp})

    def received_pong(self, node: NodeConnection, data: Dict[str, Any]) -> None:
        self._p2p_step(_n.P2P_STEP_RECEIVED_PONG, node, data)

    def received_discovery(self, node: NodeConnection, data: Dict[str, Any]) -> None:
        if self._p2p_step(_n.P2P_STEP_ROUTE_DISCOVERY, node, data, _n.P2P_EALREADY) == _n.P2P_OK:
            self.send_discovery_answer(node, data)
        else:
            self.debug_print("received_discovery: seen before, not passed on")

    def send_discovery_answer(self, node: NodeConnection, data: Dict[str, Any]) -> None:
        self._p2p_step(_n.P2P_STEP_SEND_DISCOVERY_ANSWER, node, data)

    def received_discovery_answer(self, node: NodeConnection, data: Dict[str, Any]) -> None:
        if data.get("id") == self.id:
            self.node_discovery_answer(node, data)
        elif self._p2p_step(_n.P2P_STEP_RELAY_DISCOVERY_ANSWER, node, data,
                            _n.P2P_ENOTFOUND) != _n.P2P_OK:
            self.debug_print("received_discovery_answer: not a discovery we passed on")

    def _p2p_dispatch_more(self, conn: NodeConnection, ev: Event) -> None:
        if ev.type == _n.P2P_EVENT_SECURE_MESSAGE:
            data = json.loads(ev.data.decode("utf-8"))
            hook = _HOOK_OF_TYPE.get(ev.msg_type)
            if hook is not None and self._p2p_delegate & hook[1]:
                self._p2p_call(getattr(self, hook[0]), conn, data)
                return
            self._p2p_call(self.node_secure_message, conn, data)
        elif ev.type == _n.P2P_EVENT_MESSAGE_REJECTED:
            reject = Reject(ev.reject) if ev.reject in Reject._value2member_map_ else ev.reject
            self._p2p_call(self.node_message_rejected, conn, decode_payload(ev.kind, ev.data),
                           ev.reason, reject)
        elif ev.type == _n.P2P_EVENT_DISCOVERY_ANSWER:
            self._p2p_call(self.node_discovery_answer, conn, json.loads(ev.data.decode("utf-8")))

    def node_secure_message(self, node: NodeConnection, data: Dict[str, Any]) -> None:
        """node passed on a message that passed every check (the whole message; p2pnode only)."""
        self.debug_print("node_secure_message: " + node.id + ": " + str(data.get("_type")))
        if self.callback is not None:
            self.callback("node_secure_message", self, node, data)

    def node_message_rejected(self, node: NodeConnection, data: Any, reason: str,
                              reject: Reject) -> None:
        """A message from node failed a check: reason and its Reject (p2pnode only)."""
        self.debug_print("node_message_rejected: " + node.id + ": " + reason)
        if self.callback is not None:
            self.callback("node_message_rejected", self, node,
                          {"data": data, "reason": reason, "reject": reject})

    def node_discovery_answer(self, node: NodeConnection, answer: Dict[str, Any]) -> None:
        """An answer to our send_discovery: answer["_id"] and its answer["nodes"] (p2pnode only)."""
        self.debug_print("node_discovery_answer: from " + str(answer.get("_id")))
        if self.callback is not None:
            self.callback("node_discovery_answer", self, node, answer)

    def __str__(self) -> str:
        return "SecureNode: {}:{}".format(getattr(self, "host", "?"), getattr(self, "port", "?"))
