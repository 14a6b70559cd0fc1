"""SecureNode: signed JSON messages, ping and discovery, as p2psecure's SecureNode.

Porting a p2psecure program is a rename of the import::

    from p2pnode.securenode import SecureNode   # was: from p2psecure.securenode import SecureNode
    node = SecureNode("127.0.0.1", 10000)
    node.key_pair_generate()                    # or node.key_pair_load("node.dat", password)
    node.start()
    node.connect_with_node("127.0.0.1", 10001)
    node.send_message({"text": "hello"})        # signed; the peer checks it
    node.send_ping(); node.send_discovery()
    node.stop()

Signing and checking run in the native library, in p2psecure's wire format
(see include/p2pnode.h), so this node and p2psecure's exchange messages both
ways. What it receives arrives checked, in three event methods the
reference lacks: node_secure_message (passed every check),
node_message_rejected (with the reason; the connection stays up) and
node_discovery_answer. Ping, pong and discovery are answered by the library,
unless a subclass overrides one of the reference's hooks (received_ping,
send_pong, received_pong, received_discovery, send_discovery_answer,
received_discovery_answer): then those messages come here and the hooks are
called as in p2psecure. The reference's helpers (encrypt, decrypt, sign,
verify, the AES methods, ...) run in the library too, in its formats.
Beyond the reference's checks the node pins the first key seen for each
node id and rejects replayed or stale messages (see SecureNode's arguments).
"""

from __future__ import annotations

import ctypes
import enum
import json
import os
from typing import Any, Dict, Optional, Union

from . import _native as _n
from ._codec import c_int as _c_int
from ._codec import decode_payload
from ._events import Event
from .node import Callback, Node
from .nodeconnection import NodeConnection

__all__ = ["SecureNode", "Reject"]

Password = Union[str, bytes, None]
BytesLike = Union[bytes, bytearray, memoryview]

# The hooks a p2psecure subclass overrides, and the message type each needs
# delegated to Python to be called.
_HOOK_OF_TYPE = {t: ("received_" + t, bit) for t, bit in _n.P2P_DELEGATE.items()}
_HOOKS = {**{hook: bit for hook, bit in _HOOK_OF_TYPE.values()},
          "send_pong": _n.P2P_DELEGATE_PING, "send_discovery_answer": _n.P2P_DELEGATE_DISCOVERY}


def _tobytes(value: Any, what: str) -> bytes:
    """Bytes as PyCryptodome takes them (its tobytes): bytes-like as they
    are, a str as Latin-1 (UnicodeEncodeError beyond it)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("latin-1")
    raise TypeError("p2pnode: %s must be bytes or str, not %s" % (what, type(value).__name__))


def _data(value: Any, what: str) -> bytes:
    """Bytes-like data, as the reference takes plaintexts and ciphertexts."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError("p2pnode: %s must be bytes, not %s" % (what, type(value).__name__))


def _pem(value: Any) -> bytes:
    if isinstance(value, str):
        value = value.encode("utf-8")
    value = _data(value, "public_key")
    if b"\x00" in value:
        raise ValueError("p2pnode: a PEM key cannot contain NUL bytes")
    return value


def _out(name: str, *args: Any) -> bytes:
    """The bytes a p2p_secure_*_buf helper hands out; bad input raises ValueError,
    as PyCryptodome does, anything else P2PError."""
    rc, data = _n.take(name, *args)
    if rc == _n.P2P_EINVAL:
        raise ValueError("p2pnode: " + _n.errmsg())
    _n.check(rc, name)
    return data


def _path(file_name: Any) -> bytes:
    path = os.fsencode(file_name)
    if b"\x00" in path:
        raise ValueError("p2pnode: a file name cannot contain NUL bytes")
    return path


class Reject(enum.IntEnum):
    """Why a message was rejected (the C ABI's p2p_reject)."""

    MALFORMED = _n.P2P_REJECT_MALFORMED  #: not a JSON object, or a field missing or mistyped
    BAD_SIGNATURE = _n.P2P_REJECT_BAD_SIGNATURE  #: _signature does not verify with _public_key
    BAD_HASH = _n.P2P_REJECT_BAD_HASH  #: _hash is not the hash of the message
    BAD_MESSAGE_ID = _n.P2P_REJECT_BAD_MESSAGE_ID  #: _message_id is not the hash of the message
    KEY_MISMATCH = _n.P2P_REJECT_KEY_MISMATCH  #: the key differs from the one pinned for its _id
    UNTRUSTED_KEY = _n.P2P_REJECT_UNTRUSTED_KEY  #: no trusted key for its _id
    WEAK_KEY = _n.P2P_REJECT_WEAK_KEY  #: the key is smaller than min_key_bits
    REPLAY = _n.P2P_REJECT_REPLAY  #: a message with this _message_id was accepted before
    STALE = _n.P2P_REJECT_STALE  #: _timestamp is older than the replay window
    FUTURE = _n.P2P_REJECT_FUTURE  #: _timestamp is further ahead than the clock skew allows


def _password(password: Password) -> Optional[bytes]:
    """The bytes a key file's password stands for: bytes as they are, a str
    by the core's rule (p2p_secure_password: Latin-1 as PyCryptodome, else UTF-8)."""
    if password is None or isinstance(password, bytes):
        return password
    text = _n.encode_str(str(password)) or b""
    return _n.take_checked("p2p_secure_password", text, len(text))


def _ms(seconds: Optional[float], what: str) -> int:
    if seconds is None:
        return 0
    if seconds < 0:
        return -1
    ms = int(round(seconds * 1000))
    if ms == 0:
        raise ValueError("p2pnode: %s of %r s rounds to 0 ms (use None for the default)"
                         % (what, seconds))
    return ms


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8")


class SecureNode(Node):
    """A Node whose messages are signed JSON objects, checked when received.

    ``SecureNode(host, port, id=None, callback=None, max_connections=0)``
    as Node (p2psecure's ``SecureNode(host, port)`` works as is), and the
    checks the reference lacks, all on by default:

    - ``key_policy``: ``"trust_on_first_use"`` pins the first key seen per
      node id and rejects any other for it; ``"trusted_keys_only"`` accepts
      only ids pinned with pin(); ``"no_pinning"`` accepts any key that
      verifies, as p2psecure does.
    - ``replay_window`` (seconds, default 300): how old a message may be;
      a message id accepted once is rejected after. Negative: no timestamp
      or replay checks. ``max_clock_skew`` (default 60): how far ahead.
    - ``min_key_bits`` (default 2048), ``max_pinned_keys`` (default 65536).

    The node has no key until key_pair_generate() or key_pair_load();
    start() raises P2PError (P2P_EKEY) without one.
    """

    def __init__(self, host: str, port: int, id: Any = None, callback: Optional[Callback] = None,
                 max_connections: int = 0, *, key_policy: str = "trust_on_first_use",
                 min_key_bits: int = 0, replay_window: Optional[float] = None,
                 max_clock_skew: Optional[float] = None, max_pinned_keys: int = 0) -> None:
        """Create the node and bind its listening socket (see the class doc)."""
        if key_policy not in _n.KEY_POLICIES:
            raise ValueError("p2pnode: unknown key_policy %r: use one of %s"
                             % (key_policy, ", ".join(_n.KEY_POLICIES)))
        cfg = _n.sized(_n.P2PSecureOpts)
        cfg.key_policy = _n.KEY_POLICIES[key_policy]
        cfg.min_key_bits = _c_int(min_key_bits, "min_key_bits")
        cfg.replay_window_ms = _ms(replay_window, "replay_window")
        cfg.max_clock_skew_ms = _ms(max_clock_skew, "max_clock_skew")
        cfg.max_pinned_keys = _c_int(max_pinned_keys, "max_pinned_keys")
        self._p2p_secure_config = cfg
        super().__init__(host, port, id, callback, max_connections)
        # Ping, pong and discovery stay in the library unless a subclass
        # overrides a hook that needs them here.
        cls = type(self)
        self._p2p_delegate = 0
        for name, bit in _HOOKS.items():
            if getattr(cls, name) is not getattr(SecureNode, name):
                self._p2p_delegate |= bit
        if self._p2p_delegate:
            _n.check(_n.lib.p2p_secure_set_delegate(self._p2p_node, self._p2p_delegate),
                     "p2p_secure_set_delegate")

    def _p2p_new(self, host: Optional[bytes], port: int, id: Optional[bytes],
                 max_connections: int) -> int:
        out = ctypes.c_void_p()
        _n.check(_n.lib.p2p_secure_node_create(host, port, id, max_connections,
                                               ctypes.byref(self._p2p_secure_config),
                                               ctypes.byref(out)), "p2p_secure_node_create")
        return out.value or 0

    # ---- keys (the reference's methods) ----------------------------------------------

    def key_pair_generate(self, bits: int = 0) -> None:
        """Make a new RSA key pair for this node: 4096 bits (bits 0) as the
        reference, at least 2048. Takes about a second, sometimes several."""
        _n.check(_n.lib.p2p_secure_key_generate(self._p2p_node, _c_int(bits, "bits")),
                 "p2p_secure_key_generate")

    def key_pair_save(self, file_name: str, password: Password,
                      format: str = "p2pnode") -> None:
        """Write the private key to file_name (mode 0600).

        format ``"p2pnode"`` (the default) is PBKDF2-HMAC-SHA256 and
        AES-256-GCM, or a plain PEM file without a password;
        ``"p2psecure"`` is the reference's own format (weak: 1000 rounds of
        PBKDF2-SHA1, AES-CBC without integrity), for files p2psecure must
        read. key_pair_load reads both.
        """
        if format not in _n.KEY_FORMATS:
            raise ValueError("p2pnode: unknown key format %r: use one of %s"
                             % (format, ", ".join(_n.KEY_FORMATS)))
        pw = _password(password)
        _n.check(_n.lib.p2p_secure_key_save_bytes(self._p2p_node, _n.encode_str(str(file_name)),
                                                  pw, len(pw or b""), _n.KEY_FORMATS[format]),
                 "p2p_secure_key_save_bytes")

    def key_pair_load(self, file_name: str, password: Password) -> None:
        """Read this node's key from file_name: a p2psecure key file, ours, or
        PEM. password may be a str or, as the reference's example passes it,
        bytes. Raises P2PError (P2P_EKEY) when the file cannot be read."""
        pw = _password(password)
        _n.check(_n.lib.p2p_secure_key_load_bytes(self._p2p_node, _n.encode_str(str(file_name)),
                                                  pw, len(pw or b"")), "p2p_secure_key_load_bytes")

    def get_public_key(self) -> bytes:
        """The public key, PEM, as it travels in every message (bytes, as the reference)."""
        return _n.take_checked("p2p_secure_public_key_buf", self._p2p_node)

    def pin(self, id: str, public_key: Union[str, bytes]) -> None:
        """Accept only public_key (PEM) in messages signed as node id (p2pnode only)."""
        pem = public_key.decode("ascii") if isinstance(public_key, bytes) else public_key
        _n.check(_n.lib.p2p_secure_pin(self._p2p_node, _n.encode_str(id), _n.encode_str(pem)),
                 "p2p_secure_pin")

    def unpin(self, id: str) -> None:
        """Forget the key of node id; under trust on first use the next one seen is pinned."""
        _n.check(_n.lib.p2p_secure_pin(self._p2p_node, _n.encode_str(id), None), "p2p_secure_pin")

    def pinned_key(self, id: str) -> Optional[bytes]:
        """The key (PEM) pinned for node id, or None."""
        rc, pem = _n.take("p2p_secure_pinned_key_buf", self._p2p_node, _n.encode_str(id))
        if rc == _n.P2P_ENOTFOUND:
            return None
        _n.check(rc, "p2p_secure_pinned_key_buf")
        return pem

    # ---- messages (the reference's methods) --------------------------------------------

    def get_data_uniq_string(self, data: Any) -> str:
        """The text that is hashed and signed: json.dumps(data, sort_keys=True)."""
        return json.dumps(data, sort_keys=True)

    def get_hash(self, data: Any) -> str:
        """The hex SHA-512 of get_data_uniq_string(data) (the core's p2p_secure_hash)."""
        text = _json_bytes(data)
        return _n.take_checked("p2p_secure_hash", text, len(text)).decode("ascii")

    def create_message(self, data: Dict[str, Any]) -> Dict[str, Any]:
        """Sign data as the reference does and return it, ready for send_to_nodes.

        As in the reference, data itself gets the fields (_mcs, _mcr, _id,
        _timestamp, _message_id, _hash, _signature, _public_key) and is
        returned.
        """
        if not isinstance(data, dict):
            raise TypeError("p2pnode: create_message takes a dict, not %s" % type(data).__name__)
        text = _json_bytes(data)
        signed = json.loads(_n.take_checked("p2p_secure_create_message_buf", self._p2p_node,
                                            text, len(text)))
        data.clear()
        data.update(signed)
        return data

    def check_message(self, data: Any) -> bool:
        """True when data (a received message: dict, or its JSON text) has a
        valid signature, _hash and _message_id, as the reference checks.
        Nothing is pinned or remembered; the node checks what it receives
        itself, with its own policy, before node_secure_message."""
        if isinstance(data, str):
            text = data.encode("utf-8")
        elif isinstance(data, (bytes, bytearray)):
            text = bytes(data)
        else:
            try:
                text = _json_bytes(data)
            except (TypeError, ValueError):
                return False
        rc = _n.lib.p2p_secure_check_message(text, len(text), None)
        if rc != _n.P2P_OK:
            self.debug_print("check_message: " + _n.errmsg())
        return rc == _n.P2P_OK

    def send_message(self, message: Any) -> None:
        """Send {"_type": "message", "message": message}, signed, to every peer.

        message is any JSON value (dict, list, str, number, ...).
        """
        self._p2p_secure_call(_n.lib.p2p_secure_send_message, "p2p_secure_send_message",
                              _json_bytes(message))

    def send_ping(self) -> None:
        """Ping every peer; each pong stores the latency (seconds, a float)
        in that peer's info: ``conn.get_info("ping")``."""
        self._p2p_secure_call(_n.lib.p2p_secure_send_ping, "p2p_secure_send_ping")

    def send_discovery(self) -> None:
        """Ask the network for its connections: each node reached answers
        with its peers, in node_discovery_answer."""
        self._p2p_secure_call(_n.lib.p2p_secure_send_discovery, "p2p_secure_send_discovery")

    def _p2p_secure_call(self, fn: Any, name: str, payload: Optional[bytes] = None) -> None:
        args = () if payload is None else (payload, len(payload))
        rc = fn(self._p2p_node, *args)
        if rc in (_n.P2P_ENOPEER, _n.P2P_ESTOPPED):
            self.debug_print(name + ": " + _n.errmsg())  # a peer went away meanwhile
            return
        _n.check(rc, name)

    # ---- p2psecure's helpers: RSA, signatures, AES -----------------------------------

    def get_private_key(self) -> bytes:
        """The private key, PEM PKCS#1 ("-----BEGIN RSA PRIVATE KEY-----"),
        as the reference's (bytes). It is the secret key in clear."""
        return _n.take_checked("p2p_secure_private_key_buf", self._p2p_node)

    def encrypt(self, message: BytesLike, public_key: Union[str, bytes]) -> Optional[bytes]:
        """Encrypt message (bytes, at most the key's size - 11) to public_key
        (PEM) with RSA PKCS#1 v1.5; the ciphertext in base64 (bytes). None
        when it cannot (a debug line says why), as the reference."""
        try:
            data = _data(message, "message")
            return _out("p2p_secure_encrypt_buf", _pem(public_key), data, len(data))
        except (TypeError, ValueError, _n.P2PError) as e:
            self.debug_print("encrypt: " + str(e))
            return None

    def decrypt(self, ciphertext: Union[str, BytesLike]) -> Optional[bytes]:
        """Decrypt a base64 ciphertext (bytes or str) made with our public key
        (encrypt, by us or a p2psecure node): the plaintext bytes, or None
        when it does not decrypt (see the README's Differences)."""
        try:
            text = ciphertext.encode("ascii") if isinstance(ciphertext, str) else \
                _data(ciphertext, "ciphertext")
            return _out("p2p_secure_decrypt_buf", self._p2p_node, text, len(text))
        except (TypeError, ValueError, UnicodeEncodeError, _n.P2PError) as e:
            self.debug_print("decrypt: " + str(e))
            return None

    def sign(self, message: str) -> Optional[str]:
        """Sign the str message (its UTF-8) with our key: RSA PKCS#1 v1.5 over
        SHA-512, base64 (a str). None when it cannot, as the reference."""
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
        """sign(get_data_uniq_string(data)): the signature of a dict (or any
        JSON value) as messages carry it in _signature."""
        return self.sign(self.get_data_uniq_string(data))

    def verify(self, message: str, public_key: Union[str, bytes], signature: str) -> bool:
        """Whether signature (base64 str) is public_key's (PEM) signature of
        the str message, as sign makes it. False for anything that does not
        verify (a bad key or signature included)."""
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
        """verify(get_data_uniq_string(data), public_key, signature)."""
        return self.verify(self.get_data_uniq_string(data), public_key, signature)

    def encryption_key_from_password(self, salt: Union[str, BytesLike],
                                     password: Union[str, BytesLike],
                                     total_bytes_key: int) -> bytes:
        """A key of total_bytes_key bytes from password and salt: PBKDF2 with
        PyCryptodome's defaults (HMAC-SHA1, 1000 rounds), as the reference.
        A str password or salt is taken as Latin-1, as PyCryptodome does."""
        pw, sa = _tobytes(password, "password"), _tobytes(salt, "salt")
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
        """s followed by 1 to 16 zero bytes, up to a multiple of 16."""
        data = _data(s, "s")
        return _out("p2p_secure_aes_pad_buf", data, len(data))

    def encrypt_aes(self, plaintext: BytesLike, key: BytesLike, key_size: int = 256) -> bytes:
        """AES-CBC of the zero-padded plaintext under key (16, 24 or 32 bytes;
        key_size is ignored, as in the reference): iv + ciphertext."""
        data, k = _data(plaintext, "plaintext"), _data(key, "key")
        return _out("p2p_secure_aes_encrypt_buf", k, len(k), data, len(data))

    def encrypt_aes_pw(self, plaintext: BytesLike, password: Union[str, BytesLike]) -> bytes:
        """AES-256-CBC under the key PBKDF2 makes of password and a random
        salt: salt + iv + ciphertext, as the reference."""
        data, pw = _data(plaintext, "plaintext"), _tobytes(password, "password")
        return _out("p2p_secure_aes_encrypt_pw_buf", pw, len(pw), data, len(data))

    def decrypt_aes(self, ciphertext: BytesLike, key: BytesLike) -> bytes:
        """The plaintext of iv + ciphertext, trailing zero bytes stripped. A
        wrong key gives garbage (AES-CBC has no integrity), as the reference;
        a length that is not an iv and whole blocks raises ValueError."""
        data, k = _data(ciphertext, "ciphertext"), _data(key, "key")
        return _out("p2p_secure_aes_decrypt_buf", k, len(k), data, len(data))

    def decrypt_aes_pw(self, ciphertext: BytesLike, password: Union[str, BytesLike]) -> bytes:
        """The plaintext of salt + iv + ciphertext (encrypt_aes_pw)."""
        data, pw = _data(ciphertext, "ciphertext"), _tobytes(password, "password")
        return _out("p2p_secure_aes_decrypt_pw_buf", pw, len(pw), data, len(data))

    def _p2p_write_file(self, fn: Any, name: str, file_name: Any, secret: bytes,
                        plaintext: Any) -> None:
        data = _data(plaintext, "plaintext")
        rc = fn(_path(file_name), secret, len(secret), data, len(data))
        if rc == _n.P2P_EKEY:
            raise OSError("p2pnode: " + _n.errmsg())
        if rc == _n.P2P_EINVAL:
            raise ValueError("p2pnode: " + _n.errmsg())
        _n.check(rc, name)

    def encrypt_aes_file(self, file_name: Any, plaintext: BytesLike, key: BytesLike) -> None:
        """Write encrypt_aes(plaintext, key) to file_name (replaced at once,
        mode 0600)."""
        self._p2p_write_file(_n.lib.p2p_secure_aes_encrypt_file, "p2p_secure_aes_encrypt_file",
                             file_name, _data(key, "key"), plaintext)

    def decrypt_aes_file(self, file_name: Any, key: BytesLike) -> bytes:
        """decrypt_aes of the contents of file_name."""
        with open(file_name, "rb") as f:
            return self.decrypt_aes(f.read(), key)

    def encrypt_aes_file_pw(self, file_name: Any, plaintext: BytesLike,
                            password: Union[str, BytesLike]) -> None:
        """Write encrypt_aes_pw(plaintext, password) to file_name (replaced
        at once, mode 0600)."""
        self._p2p_write_file(_n.lib.p2p_secure_aes_encrypt_file_pw,
                             "p2p_secure_aes_encrypt_file_pw", file_name,
                             _tobytes(password, "password"), plaintext)

    def decrypt_aes_file_pw(self, file_name: Any, password: Union[str, BytesLike]) -> bytes:
        """decrypt_aes_pw of the contents of file_name."""
        with open(file_name, "rb") as f:
            return self.decrypt_aes_pw(f.read(), password)

    # ---- p2psecure's hooks: ping, pong, discovery ---------------------------------------
    #
    # The library answers pings and discoveries itself. A subclass that
    # overrides one of these methods gets the messages of its type here
    # instead (and only then: see __init__), and the defaults below do what
    # the library would, step by step, calling each other as p2psecure's do.

    def _p2p_step(self, step: int, node: NodeConnection, data: Any, *quiet: int) -> int:
        text = json.dumps(data).encode("utf-8")
        rc = _n.lib.p2p_secure_handle(self._p2p_node, node.handle, step, text, len(text))
        if rc in quiet:
            return rc
        if rc in (_n.P2P_ENOPEER, _n.P2P_ESTOPPED):
            self.debug_print("p2p_secure_handle: " + _n.errmsg())  # the peer went away
            return rc
        return _n.check(rc, "p2p_secure_handle")

    def received_ping(self, node: NodeConnection, data: Dict[str, Any]) -> None:
        """node pinged us (data is the signed ping): send_pong(node, data["timestamp"])."""
        self.send_pong(node, data["timestamp"])

    def send_pong(self, node: NodeConnection, timestamp: Any) -> None:
        """Answer a ping of node whose timestamp was timestamp with a pong."""
        self._p2p_step(_n.P2P_STEP_SEND_PONG, node, {"timestamp": timestamp})

    def received_pong(self, node: NodeConnection, data: Dict[str, Any]) -> None:
        """node answered our ping: its latency (seconds) becomes its info "ping"."""
        self._p2p_step(_n.P2P_STEP_RECEIVED_PONG, node, data)

    def received_discovery(self, node: NodeConnection, data: Dict[str, Any]) -> None:
        """A discovery came from node: the first time, it is recorded and
        forwarded to the other peers, and send_discovery_answer(node, data)
        answers it; a repeat is dropped."""
        if self._p2p_step(_n.P2P_STEP_ROUTE_DISCOVERY, node, data, _n.P2P_EALREADY) == _n.P2P_OK:
            self.send_discovery_answer(node, data)
        else:
            self.debug_print("received_discovery: seen before, not passed on")

    def send_discovery_answer(self, node: NodeConnection, data: Dict[str, Any]) -> None:
        """Send node our list of peers for the discovery data."""
        self._p2p_step(_n.P2P_STEP_SEND_DISCOVERY_ANSWER, node, data)

    def received_discovery_answer(self, node: NodeConnection, data: Dict[str, Any]) -> None:
        """A discovery answer came from node: ours goes to
        node_discovery_answer, any other back to where its discovery came
        from (unchanged; see the README's Differences)."""
        if data.get("id") == self.id:
            self.node_discovery_answer(node, data)
        elif self._p2p_step(_n.P2P_STEP_RELAY_DISCOVERY_ANSWER, node, data,
                            _n.P2P_ENOTFOUND) != _n.P2P_OK:
            self.debug_print("received_discovery_answer: not a discovery we passed on")

    # ---- events --------------------------------------------------------------------------

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
        """node passed on a message that passed every check (p2pnode only).

        data is the whole message: ``data["_type"]`` is "message" for
        send_message (the value in ``data["message"]``) or your own type,
        ``data["_id"]`` the node that signed it. Ping, pong and discovery
        never come here.
        """
        self.debug_print("node_secure_message: " + node.id + ": " + str(data.get("_type")))
        if self.callback is not None:
            self.callback("node_secure_message", self, node, data)

    def node_message_rejected(self, node: NodeConnection, data: Any, reason: str,
                              reject: Reject) -> None:
        """A message from node failed a check (p2pnode only); the connection stays up.

        data is the message as node_message would have it, reason says why
        and reject is its Reject code.
        """
        self.debug_print("node_message_rejected: " + node.id + ": " + reason)
        if self.callback is not None:
            self.callback("node_message_rejected", self, node,
                          {"data": data, "reason": reason, "reject": reject})

    def node_discovery_answer(self, node: NodeConnection, answer: Dict[str, Any]) -> None:
        """An answer to our send_discovery, passed on by node (p2pnode only).

        ``answer["_id"]`` is the node that answered and ``answer["nodes"]``
        its peers: dicts with "id", "ip", "port" and "connection"
        ("inbound" or "outbound").
        """
        self.debug_print("node_discovery_answer: from " + str(answer.get("_id")))
        if self.callback is not None:
            self.callback("node_discovery_answer", self, node, answer)

    def __str__(self) -> str:
        return "SecureNode: {}:{}".format(getattr(self, "host", "?"), getattr(self, "port", "?"))
