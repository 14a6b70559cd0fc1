"""SecureNode's surface against p2psecure's, its helpers (RSA, signatures,
PBKDF2, AES with keys, passwords and files) against PyCryptodome both ways,
and the hooks a p2psecure subclass overrides (received_ping, send_pong,
received_pong, received_discovery, send_discovery_answer,
received_discovery_answer).

PyCryptodome's side is the test-only reference p2p/secure/testdata/
p2psecure_peer.py (written from the documented formats, shared with the Go
tests) and PyCryptodome's own classes, used as p2psecure uses them."""

from __future__ import annotations

import base64
import importlib.util
import inspect
import json
import os
import stat
import threading
from typing import Any, Dict, List

import pytest

from conftest import HOST, ROOT, wait_for
from p2pnode import SecureNode
from p2pnode import _native as _n

Crypto = pytest.importorskip("Crypto", reason="pycryptodome is needed (.ci/deps.sh installs it)")
from Crypto.Cipher import PKCS1_v1_5 as PKCS1_v1_5_Cipher  # noqa: E402
from Crypto.Hash import SHA512  # noqa: E402
from Crypto.PublicKey import RSA  # noqa: E402
from Crypto.Signature import PKCS1_v1_5 as PKCS1_v1_5_Signature  # noqa: E402

BITS = 2048

# The public methods p2psecure's SecureNode (p2psecure/securenode.py of
# macsnoeren/python-p2p-secure-node) defines itself, in its order: 35
# (node_message overrides p2pnetwork's Node; the rest are its own).
P2PSECURE_METHODS = [
    "node_message", "create_message", "check_message", "send_message",
    "get_data_uniq_string", "get_hash",
    "get_public_key", "get_private_key", "encrypt", "decrypt", "sign", "sign_data", "verify",
    "verify_data",
    "encryption_key_from_password", "encrypt_aes_pad", "encrypt_aes", "encrypt_aes_pw",
    "decrypt_aes", "decrypt_aes_pw", "encrypt_aes_file", "decrypt_aes_file",
    "encrypt_aes_file_pw", "decrypt_aes_file_pw",
    "key_pair_generate", "key_pair_save", "key_pair_load",
    "send_ping", "send_pong", "received_ping", "received_pong",
    "send_discovery", "send_discovery_answer", "received_discovery", "received_discovery_answer",
]

# Their parameters (after self), where a program passes them by name.
P2PSECURE_PARAMETERS = {
    "encrypt": ["message", "public_key"], "decrypt": ["ciphertext"], "sign": ["message"],
    "sign_data": ["data"], "verify": ["message", "public_key", "signature"],
    "verify_data": ["data", "public_key", "signature"],
    "encryption_key_from_password": ["salt", "password", "total_bytes_key"],
    "encrypt_aes_pad": ["s"], "encrypt_aes": ["plaintext", "key", "key_size"],
    "encrypt_aes_pw": ["plaintext", "password"], "decrypt_aes": ["ciphertext", "key"],
    "decrypt_aes_pw": ["ciphertext", "password"],
    "encrypt_aes_file": ["file_name", "plaintext", "key"], "decrypt_aes_file": ["file_name", "key"],
    "encrypt_aes_file_pw": ["file_name", "plaintext", "password"],
    "decrypt_aes_file_pw": ["file_name", "password"],
    "send_pong": ["node", "timestamp"], "received_ping": ["node", "data"],
    "received_pong": ["node", "data"], "send_discovery_answer": ["node", "data"],
    "received_discovery": ["node", "data"], "received_discovery_answer": ["node", "data"],
    "create_message": ["data"], "check_message": ["data"], "send_message": ["message"],
    "get_data_uniq_string": ["data"], "get_hash": ["data"], "get_public_key": [],
    "get_private_key": [], "key_pair_save": ["file_name", "password"],
    "key_pair_load": ["file_name", "password"], "send_ping": [], "send_discovery": [],
}

# Where ours takes more (optional) parameters after p2psecure's.
EXTRA_PARAMETERS = {"key_pair_save": ["format"]}


def _reference() -> Any:
    path = os.path.join(ROOT, "p2p", "secure", "testdata", "p2psecure_peer.py")
    spec = importlib.util.spec_from_file_location("p2psecure_peer", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ref = _reference()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> List[str]:
    """Three key files in p2psecure's format (password "pw"), written by us."""
    d = tmp_path_factory.mktemp("helper-keys")
    paths = []
    for i in range(3):
        with SecureNode(HOST, 0) as n:
            n.key_pair_generate(BITS)
            path = str(d / ("key%d.dat" % i))
            n.key_pair_save(path, "pw", format="p2psecure")
            paths.append(path)
    return paths


@pytest.fixture
def node(keys: List[str]) -> Any:
    n = SecureNode(HOST, 0)
    n.key_pair_load(keys[0], "pw")
    yield n
    n.close()


def test_surface_is_p2psecure_s() -> None:
    assert len(P2PSECURE_METHODS) == len(set(P2PSECURE_METHODS)) == 35
    for name in P2PSECURE_METHODS:
        assert callable(getattr(SecureNode, name, None)), name
    for name, params in P2PSECURE_PARAMETERS.items():
        got = list(inspect.signature(getattr(SecureNode, name)).parameters)[1:]
        assert got == params + EXTRA_PARAMETERS.get(name, []), name
    # key_pair_generate() as p2psecure calls it; ours may take a size.
    assert all(p.default is not inspect.Parameter.empty for p in
               list(inspect.signature(SecureNode.key_pair_generate).parameters.values())[1:])
    assert inspect.signature(SecureNode.encrypt_aes).parameters["key_size"].default == 256


def test_no_hook_overridden_costs_nothing(keys: List[str]) -> None:
    with SecureNode(HOST, 0) as n:
        assert n._p2p_delegate == 0  # ping, pong and discovery stay in the library

    class Pinged(SecureNode):
        def received_ping(self, node: Any, data: Dict[str, Any]) -> None:
            super().received_ping(node, data)

    class Answering(SecureNode):
        def send_discovery_answer(self, node: Any, data: Dict[str, Any]) -> None:
            super().send_discovery_answer(node, data)

    with Pinged(HOST, 0) as p, Answering(HOST, 0) as a:
        assert p._p2p_delegate == 1  # P2P_DELEGATE_PING only
        assert a._p2p_delegate == 4  # P2P_DELEGATE_DISCOVERY only


def test_private_key_is_pycryptodome_s(node: Any, keys: List[str]) -> None:
    theirs = ref.key_load(keys[0], "pw")
    assert node.get_private_key() == theirs.export_key("PEM")
    assert node.get_public_key() == theirs.publickey().export_key("PEM")


def test_rsa_both_ways(node: Any, keys: List[str]) -> None:
    mine = ref.key_load(keys[0], "pw")
    other = ref.key_load(keys[1], "pw")
    for plain in (b"", b"geheim", bytes(range(256))[:200]):
        # ours -> PyCryptodome (to the other key), as p2psecure's decrypt
        ct = node.encrypt(plain, other.publickey().export_key("PEM"))
        assert isinstance(ct, bytes)
        assert PKCS1_v1_5_Cipher.new(other).decrypt(base64.b64decode(ct), None) == plain
        # PyCryptodome -> ours, as p2psecure's encrypt (bytes and str PEM)
        theirs = base64.b64encode(PKCS1_v1_5_Cipher.new(mine.publickey()).encrypt(plain))
        assert node.decrypt(theirs) == plain
        assert node.decrypt(theirs.decode("ascii")) == plain
    # to our own key with a str PEM
    assert node.decrypt(node.encrypt(b"x", node.get_public_key().decode())) == b"x"
    # failures are None, as the reference's
    assert node.encrypt(b"x" * 300, node.get_public_key()) is None  # too long
    assert node.encrypt(b"x", "not a key") is None
    assert node.encrypt("a str", node.get_public_key()) is None  # the reference takes bytes
    assert node.decrypt(b"@@@") is None
    assert node.decrypt(node.encrypt(b"x", other.publickey().export_key("PEM"))) is None


def test_signatures_both_ways(node: Any, keys: List[str]) -> None:
    mine = ref.key_load(keys[0], "pw")
    pub = node.get_public_key()
    for text in ("", "hello", "h\u00e9llo \U0001f600", '{"a": 1.0}'):
        sig = node.sign(text)
        assert isinstance(sig, str)
        h = SHA512.new(text.encode("utf-8"))
        assert PKCS1_v1_5_Signature.new(mine.publickey()).verify(h, base64.b64decode(sig))
        theirs = base64.b64encode(PKCS1_v1_5_Signature.new(mine).sign(h)).decode()
        assert theirs == sig  # PKCS#1 v1.5 is deterministic: byte for byte
        assert node.verify(text, pub, theirs) is True
        assert node.verify(text + " ", pub, theirs) is False
    data = {"b": [1, 2.5], "a": "\u20ac", "n": None}
    sig = node.sign_data(data)
    h = SHA512.new(json.dumps(data, sort_keys=True).encode("utf-8"))
    assert PKCS1_v1_5_Signature.new(mine.publickey()).verify(h, base64.b64decode(sig))
    assert node.verify_data(data, pub.decode(), sig) is True
    assert node.verify_data({"a": 1}, pub, sig) is False
    assert node.verify("x", "not a key", sig) is False
    assert node.verify("x", pub, "not base64!") is False
    assert node.sign(b"bytes") is None  # the reference signs a str


def test_password_keys_are_pycryptodome_s(node: Any) -> None:
    from Crypto.Protocol.KDF import PBKDF2
    import warnings
    for salt, password, size in ((b"salt", b"password", 32), (b"\x00" * 16, "p\u00e4ss", 16),
                                 ("s\u00e9l", b"", 64), (b"x", b"\xff", 1)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyCryptodome warns about its weak defaults
            want = PBKDF2(password, salt, size)
        assert node.encryption_key_from_password(salt, password, size) == want
    with pytest.raises(UnicodeEncodeError):  # as PyCryptodome: a str password is Latin-1
        node.encryption_key_from_password(b"salt", "\u20ac", 32)
    for size in (0, -1, 65537, 2 ** 40):
        with pytest.raises(ValueError):
            node.encryption_key_from_password(b"salt", b"pw", size)


PLAINTEXTS = [b"", b"Hoi daar!", b"0123456789abcdef", "h\u00e9llo \x00 ".encode() * 20, b"\xff\x00\x01"]


def test_aes_both_ways(node: Any) -> None:
    assert node.encrypt_aes_pad(b"abc") == b"abc" + b"\0" * 13
    assert node.encrypt_aes_pad(b"0" * 16) == b"0" * 16 + b"\0" * 16
    assert node.encrypt_aes_pad(b"") == ref.zero_pad(b"")
    for key in (b"k" * 16, b"k" * 24, b"k" * 32):
        for plain in PLAINTEXTS:
            ct = node.encrypt_aes(plain, key)
            assert ref.aes_decrypt(key, ct) == plain
            theirs = ref.aes_encrypt(key, plain)
            assert len(theirs) == len(ct)
            assert node.decrypt_aes(theirs, key) == plain
            assert node.encrypt_aes(plain, key, 128) != ct  # a fresh iv; key_size is ignored
    for password in (b"this is the passwd", "p\u00e4sswort"):
        for plain in PLAINTEXTS:
            ct = node.encrypt_aes_pw(plain, password)
            assert ref.aes_decrypt_pw(password, ct) == plain
            theirs = ref.aes_encrypt_pw(password, plain)
            assert len(theirs) == len(ct)  # padded twice, as p2psecure
            assert node.decrypt_aes_pw(theirs, password) == plain
    # trailing zero bytes go, as in the reference
    assert node.decrypt_aes(node.encrypt_aes(b"ab\0\0", b"k" * 32), b"k" * 32) == b"ab"
    with pytest.raises(ValueError):
        node.encrypt_aes(b"x", b"short key")
    with pytest.raises(ValueError):
        node.decrypt_aes(b"x" * 20, b"k" * 32)
    with pytest.raises(ValueError):
        node.decrypt_aes_pw(b"x" * 8, b"pw")
    with pytest.raises(TypeError):
        node.encrypt_aes("a str", b"k" * 32)


def test_aes_files_both_ways(node: Any, tmp_path: Any) -> None:
    key, password = b"k" * 32, b"password123"
    plain = b"Hallo Maurice Snoeren"
    ours, ours_pw = str(tmp_path / "ours.enc"), str(tmp_path / "ours-pw.enc")
    node.encrypt_aes_file(ours, plain, key)
    node.encrypt_aes_file_pw(ours_pw, plain, password)
    assert stat.S_IMODE(os.stat(ours).st_mode) == 0o600
    with open(ours, "rb") as f:
        assert ref.aes_decrypt(key, f.read()) == plain
    with open(ours_pw, "rb") as f:
        assert ref.aes_decrypt_pw(password, f.read()) == plain
    theirs, theirs_pw = tmp_path / "theirs.enc", tmp_path / "theirs-pw.enc"
    theirs.write_bytes(ref.aes_encrypt(key, plain))
    theirs_pw.write_bytes(ref.aes_encrypt_pw(password, plain))
    assert node.decrypt_aes_file(theirs, key) == plain  # a PathLike too
    assert node.decrypt_aes_file_pw(str(theirs_pw), password) == plain
    # p2psecure's example: examples/secure_node_aes.py
    node.encrypt_aes_file_pw(ours_pw, b"Hallo Maurice Snoeren", b"password123")
    assert node.decrypt_aes_file_pw(ours_pw, b"password123") == b"Hallo Maurice Snoeren"
    ciphertext = node.encrypt_aes_pw(b"Hoi daar!", b"this is the passwd")
    assert node.decrypt_aes_pw(ciphertext, b"this is the passwd") == b"Hoi daar!"
    with pytest.raises(FileNotFoundError):
        node.decrypt_aes_file(str(tmp_path / "missing"), key)
    with pytest.raises(OSError):
        node.encrypt_aes_file(str(tmp_path / "no" / "dir"), plain, key)


# ---- the hooks -------------------------------------------------------------------------

class Hooked(SecureNode):
    """Overrides every hook, records the call and does what p2psecure's does
    (super())."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lock = threading.Lock()
        self.calls: List[tuple] = []
        self.answers: List[Dict[str, Any]] = []

    def _note(self, name: str, node: Any, arg: Any) -> None:
        with self.lock:
            self.calls.append((name, node.id, arg))

    def named(self, name: str) -> List[tuple]:
        with self.lock:
            return [c for c in self.calls if c[0] == name]

    def received_ping(self, node: Any, data: Dict[str, Any]) -> None:
        self._note("received_ping", node, data)
        super().received_ping(node, data)

    def send_pong(self, node: Any, timestamp: Any) -> None:
        self._note("send_pong", node, timestamp)
        super().send_pong(node, timestamp)

    def received_pong(self, node: Any, data: Dict[str, Any]) -> None:
        self._note("received_pong", node, data)
        super().received_pong(node, data)

    def received_discovery(self, node: Any, data: Dict[str, Any]) -> None:
        self._note("received_discovery", node, data)
        super().received_discovery(node, data)

    def send_discovery_answer(self, node: Any, data: Dict[str, Any]) -> None:
        self._note("send_discovery_answer", node, data)
        super().send_discovery_answer(node, data)

    def received_discovery_answer(self, node: Any, data: Dict[str, Any]) -> None:
        self._note("received_discovery_answer", node, data)
        super().received_discovery_answer(node, data)

    def node_discovery_answer(self, node: Any, answer: Dict[str, Any]) -> None:
        with self.lock:
            self.answers.append(answer)


class Plain(SecureNode):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answers: List[Dict[str, Any]] = []

    def node_discovery_answer(self, node: Any, answer: Dict[str, Any]) -> None:
        self.answers.append(answer)


@pytest.fixture
def make(keys: List[str]):
    nodes: List[SecureNode] = []

    def _make(key: int, cls: Any) -> Any:
        n = cls(HOST, 0)
        nodes.append(n)
        n.key_pair_load(keys[key], "pw")
        n.start()
        return n

    yield _make
    for n in nodes:
        n.close()


def link(a: SecureNode, b: SecureNode) -> None:
    before = len(b.all_nodes)
    assert a.connect_with_node(HOST, b.port)
    wait_for(lambda: len(b.all_nodes) > before, what="the inbound connection")


def latency(n: SecureNode) -> Any:
    try:
        return n.all_nodes[0].get_info("ping")
    except (KeyError, IndexError):
        return None


def test_hooks_are_called_as_in_p2psecure(make: Any) -> None:
    """a (plain) - h (every hook overridden) - c (plain)."""
    a, h, c = make(0, Plain), make(1, Hooked), make(2, Plain)
    assert h._p2p_delegate == 15
    link(a, h)
    link(h, c)
    # a pings h: received_ping(node, ping) then send_pong(node, its timestamp)
    a.send_ping()
    wait_for(lambda: latency(a) is not None, what="h's pong at a")
    (_, peer, ping), = h.named("received_ping")
    assert peer == a.id and ping["_type"] == "ping" and ping["_id"] == a.id
    assert h.named("send_pong") == [("send_pong", a.id, ping["timestamp"])]
    # h pings: the pongs come to received_pong, which stores the latency
    h.send_ping()
    wait_for(lambda: len(h.named("received_pong")) == 2, what="two pongs at h")
    assert {p for _, p, _ in h.named("received_pong")} == {a.id, c.id}
    wait_for(lambda: all(isinstance(conn.get_info("ping"), float) for conn in h.all_nodes),
             what="the latencies at h")
    # a discovers: h's received_discovery answers (send_discovery_answer)
    # and forwards; c's answer passes h's received_discovery_answer
    a.send_discovery()
    wait_for(lambda: len(a.answers) == 2, what="the answers of h and c at a")
    assert {ans["_id"] for ans in a.answers} == {h.id, c.id}
    (_, peer, disc), = h.named("received_discovery")
    assert peer == a.id and disc["id"] == a.id
    assert [(p, d["id"]) for _, p, d in h.named("send_discovery_answer")] == [(a.id, a.id)]
    wait_for(lambda: h.named("received_discovery_answer"), what="c's answer through h")
    assert h.named("received_discovery_answer")[0][1] == c.id
    by_h = [ans for ans in a.answers if ans["_id"] == h.id][0]
    assert {e["id"] for e in by_h["nodes"]} == {a.id, c.id}
    # h discovers: the answers to its own reach node_discovery_answer
    h.send_discovery()
    wait_for(lambda: len(h.answers) == 2, what="the answers of a and c at h")
    assert {ans["_id"] for ans in h.answers} == {a.id, c.id}


def test_an_override_can_change_the_behaviour(make: Any) -> None:
    """A subclass that does not answer pings, and one that answers
    discoveries with a list of its own making."""

    class Silent(SecureNode):
        pinged: List[str] = []

        def received_ping(self, node: Any, data: Dict[str, Any]) -> None:
            self.pinged.append(data["id"])  # and no pong

    class Custom(SecureNode):
        def send_discovery_answer(self, node: Any, data: Dict[str, Any]) -> None:
            node.send(self.create_message({"id": data["id"], "_type": "discovery_answer",
                                           "timestamp": data["timestamp"],
                                           "nodes": [{"id": "made-up", "ip": "10.0.0.1",
                                                      "port": 1, "connection": "outbound"}]}))

    a, s, c = make(0, Plain), make(1, Silent), make(2, Custom)
    link(a, s)
    link(a, c)
    a.send_ping()
    wait_for(lambda: s.pinged, what="the ping at s")
    assert s.pinged == [a.id]
    wait_for(lambda: latency_of(a, c.id) is not None, what="c's pong")
    assert latency_of(a, s.id) is None  # s never answered
    assert c._p2p_delegate == 4 and s._p2p_delegate == 1
    a.send_discovery()
    wait_for(lambda: any(ans["_id"] == c.id for ans in a.answers), what="c's answer")
    by_c = [ans for ans in a.answers if ans["_id"] == c.id][0]
    assert by_c["nodes"] == [{"id": "made-up", "ip": "10.0.0.1", "port": 1,
                              "connection": "outbound"}]


def latency_of(n: SecureNode, peer_id: str) -> Any:
    for conn in n.all_nodes:
        if conn.id == peer_id:
            try:
                return conn.get_info("ping")
            except KeyError:
                return None
    return None


def test_hook_steps_report_bad_input(make: Any) -> None:
    a, h = make(0, Plain), make(1, Hooked)
    link(a, h)
    conn = h.all_nodes[0]
    with pytest.raises(_n.P2PError) as e:
        h.send_pong(conn, "not a number")
    assert e.value.code == _n.P2P_EINVAL
    with pytest.raises(_n.P2PError):
        h.received_pong(conn, {"no": "timestamp"})
    with pytest.raises(KeyError):
        h.received_ping(conn, {})  # as p2psecure's: data["timestamp"]


class _PeerProcess:
    """The test-only p2psecure-format peer (p2pnetwork 1.2 + PyCryptodome) in serve mode."""

    def __init__(self, key_file: str, password: str) -> None:
        import subprocess
        import sys
        path = os.path.join(ROOT, "p2p", "secure", "testdata", "p2psecure_peer.py")
        self.proc = subprocess.Popen([sys.executable, path, "serve", key_file, password],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.lock = threading.Lock()
        self.events: List[Dict[str, Any]] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        ready = wait_for(lambda: self.find("ready"), timeout=30, what="the peer")[0]
        self.port, self.id = ready["port"], ready["id"]

    def _read(self) -> None:
        for line in self.proc.stdout:
            text = line.decode("utf-8").strip()
            if text.startswith("EVENT "):
                with self.lock:
                    self.events.append(json.loads(text[6:]))

    def find(self, kind: str) -> List[Dict[str, Any]]:
        with self.lock:
            return [e for e in self.events if e.get("event") == kind]

    def send(self, **cmd: Any) -> None:
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode("utf-8"))
        self.proc.stdin.flush()

    def close(self) -> None:
        self.proc.stdin.close()  # the peer exits when its input ends
        try:
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(timeout=10)


def test_hooks_against_a_p2psecure_peer(make: Any, keys: List[str]) -> None:
    """Every hook overridden, against a p2pnetwork 1.2 node that behaves as
    p2psecure's SecureNode: its ping, pong and discovery go through our
    hooks and come out as it expects, both ways."""
    pytest.importorskip("p2pnetwork", reason="p2pnetwork==1.2 is needed (.ci/deps.sh installs it)")
    h = make(1, Hooked)
    peer = _PeerProcess(keys[2], "pw")
    try:
        peer.send(cmd="connect", host=HOST, port=h.port)
        wait_for(lambda: peer.find("connect_result"), what="the peer's connect")
        assert peer.find("connect_result")[0]["ok"]
        wait_for(lambda: h.all_nodes, what="the peer at h")
        # the peer pings: our received_ping and send_pong answer it
        peer.send(cmd="ping")
        wait_for(lambda: peer.find("pong"), what="our pong at the peer")
        assert peer.find("pong")[0]["peer"] == h.id
        assert [c[0] for c in h.calls[:2]] == ["received_ping", "send_pong"]
        # we ping: its pong goes through our received_pong
        h.send_ping()
        wait_for(lambda: h.named("received_pong"), what="the peer's pong")
        wait_for(lambda: latency(h) is not None, what="the latency")
        # the peer discovers: our received_discovery answers through send_discovery_answer
        peer.send(cmd="discovery")
        wait_for(lambda: peer.find("discovery_answer"), what="our answer at the peer")
        answer = peer.find("discovery_answer")[0]
        assert answer["from"] == h.id
        assert answer["nodes"] == [{"id": peer.id, "ip": HOST, "port": peer.port,
                                    "connection": "inbound"}]
        assert h.named("send_discovery_answer")[0][1] == peer.id
        # we discover: its answer goes through our received_discovery_answer
        h.send_discovery()
        wait_for(lambda: h.answers, what="the peer's answer")
        assert h.answers[0]["_id"] == peer.id
        assert h.named("received_discovery_answer")[0][1] == peer.id
        assert not peer.find("rejected")
    finally:
        peer.close()
