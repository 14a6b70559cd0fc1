#!/usr/bin/env python3
"""Test-only peer for p2p/secure: builds and checks p2psecure SecureNode
messages as /work/shared/SECURE.md describes them, with PyCryptodome.

    p2psecure_peer.py batch
        One JSON request per line on stdin, one JSON answer per line on stdout:
        {"op": "canon", "value": v}                  -> {"canon": C(v)}
        {"op": "create", "key": path, "password": pw, "id": id, "data": {...}}
                                                     -> {"payload": json.dumps(message)}
        {"op": "check", "payload": text}             -> {"ok": bool, "reason": str}
        {"op": "savekey", "path": p, "password": pw, "bits": n}
                                                     -> {"public_key": pem}
        {"op": "loadkey", "path": p, "password": pw} -> {"public_key": pem}
      and the other helpers of SecureNode (binary values are base64 in "*_b64"
      fields, a password is bytes, password_b64):
        {"op": "rsa_encrypt", "public_key": pem, "plain_b64"}   -> {"ciphertext": b64 text}
        {"op": "rsa_decrypt", "key", "password", "ciphertext"}  -> {"plain_b64"}
        {"op": "private_pem", "key", "password"}                -> {"pem": export_key("PEM")}
        {"op": "sign", "key", "password", "message": str}       -> {"signature": b64}
        {"op": "verify", "public_key", "message", "signature"}  -> {"ok": bool}
        {"op": "pbkdf2", "password_b64", "salt_b64", "size"}    -> {"key_b64"}
        {"op": "aes_encrypt", "key_b64", "plain_b64"}           -> {"data_b64"}
        {"op": "aes_decrypt", "key_b64", "data_b64"}            -> {"plain_b64"}
        {"op": "aes_encrypt_pw", "password_b64", "plain_b64"}   -> {"data_b64"}
        {"op": "aes_decrypt_pw", "password_b64", "data_b64"}    -> {"plain_b64"}
        {"op": "aes_encrypt_file", "path", "key_b64" | "password_b64", "plain_b64"} -> {}
        {"op": "aes_decrypt_file", "path", "key_b64" | "password_b64"}              -> {"plain_b64"}

    p2psecure_peer.py serve KEYFILE PASSWORD
        A p2pnetwork node on 127.0.0.1 (free port) that behaves as SecureNode
        (including its discovery quirks). It prints "EVENT <json>" lines:
        ready {port, id}, connected {peer, direction}, message {peer, data},
        rejected {peer, reason}, pong {peer, latency}, discovery_answer {peer,
        from, nodes}; and reads commands, one JSON object per line on stdin:
        {"cmd": "connect", "host", "port"}, {"cmd": "message", "message"},
        {"cmd": "tampered", "message"} (changed after signing), {"cmd": "ping"},
        {"cmd": "discovery"}. It exits when stdin closes.
"""
import base64
import hashlib
import json
import os
import sys
import threading
import time

from Crypto.Cipher import AES
from Crypto.Cipher import PKCS1_v1_5 as PKCS1_v1_5_Cipher
from Crypto.Hash import SHA1, SHA512
from Crypto.Protocol.KDF import PBKDF2
from Crypto.PublicKey import RSA
from Crypto.Random import get_random_bytes
from Crypto.Signature import pkcs1_15

RESERVED = ["_id", "_timestamp", "_message_id", "_hash", "_signature", "_public_key"]


def canon(d):
    """C(d): the text that is hashed and signed."""
    return json.dumps(d, sort_keys=True)


def digest(d):
    """H(d)."""
    return hashlib.sha512(canon(d).encode("utf-8")).hexdigest()


def public_pem(key):
    return key.publickey().export_key("PEM").decode("utf-8")


def create_message(key, node_id, data, mcs=0, mcr=0):
    for field in RESERVED:
        data.pop(field, None)
    data["_mcs"] = mcs
    data["_mcr"] = mcr
    data["_id"] = node_id
    data["_timestamp"] = time.time()
    data["_message_id"] = digest(data)
    data["_hash"] = digest(data)
    h = SHA512.new(canon(data).encode("utf-8"))
    data["_signature"] = base64.b64encode(pkcs1_15.new(key).sign(h)).decode("utf-8")
    data["_public_key"] = public_pem(key)
    return data


def check_message(data):
    """Returns (ok, reason), checking signature, _hash and _message_id."""
    if not isinstance(data, dict):
        return False, "not a dict"
    d = dict(data)
    try:
        signature = d.pop("_signature")
        public_key = d.pop("_public_key")
        try:
            h = SHA512.new(canon(d).encode("utf-8"))
            pkcs1_15.new(RSA.import_key(public_key)).verify(h, base64.b64decode(signature))
            signature_ok = True
        except (ValueError, TypeError):
            signature_ok = False
        data_hash = d.pop("_hash")
        hash_ok = digest(d) == data_hash
        message_id = d.pop("_message_id")
        id_ok = digest(d) == message_id
    except KeyError as e:
        return False, "missing field %s" % e
    if not signature_ok:
        return False, "signature"
    if not hash_ok:
        return False, "hash"
    if not id_ok:
        return False, "message id"
    return True, ""


def key_save(key, path, password):
    """The reference's key file: salt + iv + AES-256-CBC(zero-padded PEM)."""
    pem = key.exportKey("PEM", password)
    pem += b"\0" * (AES.block_size - len(pem) % AES.block_size)
    salt = get_random_bytes(16)
    iv = get_random_bytes(AES.block_size)
    aes_key = PBKDF2(password, salt, 32, count=1000, hmac_hash_module=SHA1)  # the reference's defaults
    with open(path, "wb") as f:
        f.write(salt + iv + AES.new(aes_key, AES.MODE_CBC, iv).encrypt(pem))


def key_load(path, password):
    with open(path, "rb") as f:
        data = f.read()
    salt, iv = data[:16], data[16:32]
    aes_key = PBKDF2(password, salt, 32, count=1000, hmac_hash_module=SHA1)
    pem = AES.new(aes_key, AES.MODE_CBC, iv).decrypt(data[32:]).rstrip(b"\0")
    return RSA.importKey(pem, password)


# The helpers, written from the documented formats: RSA PKCS#1 v1.5
# encryption in base64; PKCS#1 v1.5 SHA-512 signatures of UTF-8 text in
# base64; PBKDF2 with PyCryptodome's defaults; AES-CBC with zero padding,
# iv + ciphertext, and salt + iv + ciphertext (padded twice) under a password.

def b64(b):
    return base64.b64encode(b).decode("ascii")


def unb64(s):
    return base64.b64decode(s)


def zero_pad(b):
    return b + b"\0" * (AES.block_size - len(b) % AES.block_size)


def aes_encrypt(key, plain):
    iv = get_random_bytes(AES.block_size)
    return iv + AES.new(key, AES.MODE_CBC, iv).encrypt(zero_pad(plain))


def aes_decrypt(key, data):
    return AES.new(key, AES.MODE_CBC, data[:AES.block_size]).decrypt(data[AES.block_size:]).rstrip(b"\0")


def password_key(password, salt):
    return PBKDF2(password, salt, 32, count=1000, hmac_hash_module=SHA1)  # PyCryptodome's defaults


def aes_encrypt_pw(password, plain):
    salt = get_random_bytes(16)
    return salt + aes_encrypt(password_key(password, salt), zero_pad(plain))


def aes_decrypt_pw(password, data):
    return aes_decrypt(password_key(password, data[:16]), data[16:])


def helper(op, req, load):
    if op == "rsa_encrypt":
        cipher = PKCS1_v1_5_Cipher.new(RSA.importKey(req["public_key"]))
        return {"ciphertext": base64.b64encode(cipher.encrypt(unb64(req["plain_b64"]))).decode("ascii")}
    if op == "rsa_decrypt":
        cipher = PKCS1_v1_5_Cipher.new(load(req))
        plain = cipher.decrypt(base64.b64decode(req["ciphertext"]), None)
        return {"plain_b64": None if plain is None else b64(plain)}
    if op == "private_pem":
        return {"pem": load(req).export_key("PEM").decode("ascii")}
    if op == "sign":
        h = SHA512.new(req["message"].encode("utf-8"))
        return {"signature": b64(pkcs1_15.new(load(req)).sign(h))}
    if op == "verify":
        h = SHA512.new(req["message"].encode("utf-8"))
        try:
            pkcs1_15.new(RSA.importKey(req["public_key"])).verify(h, base64.b64decode(req["signature"]))
            return {"ok": True}
        except (ValueError, TypeError):
            return {"ok": False}
    if op == "pbkdf2":
        return {"key_b64": b64(PBKDF2(unb64(req["password_b64"]), unb64(req["salt_b64"]), req["size"]))}
    if op == "aes_encrypt":
        return {"data_b64": b64(aes_encrypt(unb64(req["key_b64"]), unb64(req["plain_b64"])))}
    if op == "aes_decrypt":
        return {"plain_b64": b64(aes_decrypt(unb64(req["key_b64"]), unb64(req["data_b64"])))}
    if op == "aes_encrypt_pw":
        return {"data_b64": b64(aes_encrypt_pw(unb64(req["password_b64"]), unb64(req["plain_b64"])))}
    if op == "aes_decrypt_pw":
        return {"plain_b64": b64(aes_decrypt_pw(unb64(req["password_b64"]), unb64(req["data_b64"])))}
    if op == "aes_encrypt_file":
        plain = unb64(req["plain_b64"])
        if "password_b64" in req:
            data = aes_encrypt_pw(unb64(req["password_b64"]), plain)
        else:
            data = aes_encrypt(unb64(req["key_b64"]), plain)
        with open(req["path"], "wb") as f:
            f.write(data)
        return {}
    if op == "aes_decrypt_file":
        with open(req["path"], "rb") as f:
            data = f.read()
        if "password_b64" in req:
            return {"plain_b64": b64(aes_decrypt_pw(unb64(req["password_b64"]), data))}
        return {"plain_b64": b64(aes_decrypt(unb64(req["key_b64"]), data))}
    return None


def batch():
    keys = {}
    for line in sys.stdin.buffer:
        req = json.loads(line.decode("utf-8"))
        op = req["op"]
        try:
            if op == "canon":
                ans = {"canon": canon(req["value"])}
            elif op == "create":
                k = (req["key"], req["password"])
                if k not in keys:
                    keys[k] = key_load(*k)
                msg = create_message(keys[k], req["id"], req["data"])
                ans = {"payload": json.dumps(msg)}
            elif op == "check":
                ok, reason = check_message(json.loads(req["payload"]))
                ans = {"ok": ok, "reason": reason}
            elif op == "savekey":
                key = RSA.generate(req.get("bits", 2048))
                key_save(key, req["path"], req["password"])
                ans = {"public_key": public_pem(key)}
            elif op == "loadkey":
                ans = {"public_key": public_pem(key_load(req["path"], req["password"]))}
            else:
                def load(r):
                    k = (r["key"], r["password"])
                    if k not in keys:
                        keys[k] = key_load(*k)
                    return keys[k]
                ans = helper(op, req, load)
                if ans is None:
                    ans = {"error": "unknown op " + op}
        except Exception as e:  # reported to the Go test, which fails
            ans = {"error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(ans) + "\n")
        sys.stdout.flush()


def serve(key_path, password):
    from p2pnetwork.node import Node

    out_lock = threading.Lock()

    def emit(event, **fields):
        fields["event"] = event
        with out_lock:
            sys.stdout.write("EVENT " + json.dumps(fields) + "\n")
            sys.stdout.flush()

    class Peer(Node):
        def __init__(self, key):
            super().__init__("127.0.0.1", 0, None)
            self.port = self.sock.getsockname()[1]
            self.key = key
            self.discovery_messages = {}

        def create(self, data):
            return create_message(self.key, self.id, data, self.message_count_send, self.message_count_recv)

        def inbound_node_connected(self, node):
            emit("connected", peer=node.id, direction="inbound")

        def outbound_node_connected(self, node):
            emit("connected", peer=node.id, direction="outbound")

        def node_message(self, node, data):
            ok, reason = check_message(data)
            if not ok:
                emit("rejected", peer=node.id, reason=reason)
                return
            kind = data.get("_type")
            if kind == "ping":
                node.send(self.create({"_type": "pong", "timestamp": data["timestamp"],
                                       "timestamp_node": time.time(), "id": self.id}))
            elif kind == "pong":
                latency = time.time() - data["timestamp"]
                node.set_info("ping", latency)
                emit("pong", peer=node.id, latency=latency)
            elif kind == "discovery":
                if data["id"] not in self.discovery_messages:
                    self.discovery_messages[data["id"]] = node
                    self.send_discovery_answer(node, data)
                    self.send_to_nodes(self.create({"_type": "discovery", "id": data["id"],
                                                    "timestamp": data["timestamp"]}), [node])
            elif kind == "discovery_answer":
                if data["id"] in self.discovery_messages:
                    # As the reference: "relays" by sending its own list.
                    self.send_discovery_answer(self.discovery_messages[data["id"]], data)
                elif data["id"] == self.id:
                    emit("discovery_answer", peer=node.id, nodes=data["nodes"], **{"from": data["_id"]})
            else:
                emit("message", peer=node.id, data=data)

        def send_discovery_answer(self, node, data):
            nodes = []
            for n in self.nodes_inbound:  # the reference's port: its own
                nodes.append({"id": n.id, "ip": n.host, "port": n.main_node.port, "connection": "inbound"})
            for n in self.nodes_outbound:
                nodes.append({"id": n.id, "ip": n.host, "port": n.port, "connection": "outbound"})
            node.send(self.create({"id": data["id"], "_type": "discovery_answer",
                                   "timestamp": data["timestamp"], "nodes": nodes}))

    peer = Peer(key_load(key_path, password))
    peer.daemon = True
    peer.start()
    emit("ready", port=peer.port, id=peer.id)
    for line in sys.stdin.buffer:
        cmd = json.loads(line.decode("utf-8"))
        c = cmd["cmd"]
        if c == "connect":
            ok = peer.connect_with_node(cmd["host"], cmd["port"])
            emit("connect_result", ok=bool(ok))
        elif c == "message":
            peer.send_to_nodes(peer.create({"_type": "message", "message": cmd["message"]}))
        elif c == "tampered":  # signed, then changed: every receiver must reject it
            msg = peer.create({"_type": "message", "message": cmd["message"]})
            msg["message"] = "not what was signed"
            peer.send_to_nodes(msg)
        elif c == "ping":
            peer.send_to_nodes(peer.create({"_type": "ping", "timestamp": time.time(), "id": peer.id}))
        elif c == "discovery":
            peer.send_to_nodes(peer.create({"_type": "discovery", "id": peer.id, "timestamp": time.time()}))
    os._exit(0)


if __name__ == "__main__":
    if sys.argv[1] == "batch":
        batch()
    elif sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: p2psecure_peer.py batch | serve KEYFILE PASSWORD")
