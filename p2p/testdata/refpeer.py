#!/usr/bin/env python3
"""refpeer: a scriptable peer that behaves on the wire as a p2pnetwork 1.2 node.

It follows /work/shared/WIRE.md, written from the reference's source; it is not
the reference's code. A Go test drives it: one JSON command per line on stdin,
one JSON event per line on stdout. Bytes travel as base64 so nothing is lost.

Commands ("conn" names a connection; every command may carry "tag", echoed in
the event that answers it):
  {"cmd": "listen", "host": "127.0.0.1"}
      -> {"ev": "listening", "port": P}
  {"cmd": "accept", "conn": C, "id": ID, "reply": true, "first": FRAME_B64}
      Runs in a thread of its own (answers come when a peer has come).
      Accepts one connection, reads the hello with one recv(4096) and parses it
      as the reference does -> {"ev": "hello", "raw": B64, "id", "port",
      "port_from_hello", "source_port", "peer_host"}.
      reply=false closes the socket without a word (connection limit);
      otherwise sends ID, followed in the same write by FRAME_B64 if given
      -> {"ev": "accepted"}; then frames are read and reported.
  {"cmd": "connect", "conn": C, "host", "port", "id": ID, "announce": PORT,
   "hello": TEXT}
      Sends "ID:PORT" (or TEXT verbatim) in one write and reads the peer's id
      with one recv(4096), as the reference does: the whole chunk is the id.
      -> {"ev": "connected", "peer_id", "raw", "local_port"}, or
      {"ev": "refused", "local_port"} when the peer closes without a word.
  {"cmd": "send", "conn": C, "kind": "str"|"dict"|"bytes", "data": ...,
   "compression": "none"|"zlib"|"bzip2"|"lzma"}
      str data is text, dict data a JSON object (dumped with json.dumps, keys in
      the order given), bytes data base64. -> {"ev": "sent", "payload": B64,
      "frame_len": N}
  {"cmd": "sendraw", "conn": C, "data": B64}      -> {"ev": "sent"}
  {"cmd": "close", "conn": C}                     -> {"ev": "closed"}
  {"cmd": "quit"}                                 -> {"ev": "bye"}, exit

Events of the reader of a connection:
  {"ev": "message", "conn", "kind": "json"|"text"|"bytes", "payload": B64,
   "codec": "none"|"zlib"|"bzip2"|"lzma"|"unknown", "value": JSON_TEXT,
   "frame_len": N, "decompress_error": TEXT}
      One frame decoded by the reference's rules (payload is what parse_packet
      works on after decompression; value is json.dumps of the parsed JSON).
  {"ev": "stalled", "conn", "buffered": N}
      The buffer starts with EOT: the reference never consumes an empty frame,
      so this connection would deliver nothing more.
  {"ev": "fatal", "conn", "error"}
      What kills the reference's connection thread (bad base64).
  {"ev": "eof", "conn", "buffered": N}
      The peer closed its side; refpeer closes its socket too. (The reference
      itself would not notice: it keeps reading empty chunks.)
  {"ev": "error", "conn", "error"}
"""

import base64
import binascii
import bz2
import json
import lzma
import socket
import sys
import threading
import zlib

EOT = b"\x04"
COMPR = b"\x02"

out_lock = threading.Lock()
conns = {}
conns_lock = threading.Lock()
listener = None


def b64(data):
    return base64.b64encode(data).decode("ascii")


def emit(ev, **fields):
    fields["ev"] = ev
    line = json.dumps(fields) + "\n"
    with out_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def compress(data, compression):
    """The reference's compress: codec output plus tag, base64-encoded."""
    if compression == "zlib":
        return base64.b64encode(zlib.compress(data, 6) + b"zlib")
    if compression == "bzip2":
        return base64.b64encode(bz2.compress(data) + b"bzip2")
    if compression == "lzma":
        return base64.b64encode(lzma.compress(data) + b"lzma")
    raise ValueError("unknown compression " + repr(compression))


def frame(payload, compression):
    if compression in (None, "", "none"):
        return payload + EOT
    return compress(payload, compression) + COMPR + EOT


def decompress(packet):
    """The reference's decompress: base64 (lenient, as b64decode is), then the
    codec by trailing tag. A codec error leaves the base64-decoded bytes, as in
    the reference. A base64 error propagates (it kills the reference's
    connection thread)."""
    data = base64.b64decode(packet)
    codec, err = "unknown", None
    try:
        if data[-4:] == b"zlib":
            codec = "zlib"
            data = zlib.decompress(data[: len(data) - 4])
        elif data[-5:] == b"bzip2":
            codec = "bzip2"
            data = bz2.decompress(data[: len(data) - 5])
        elif data[-4:] == b"lzma":
            codec = "lzma"
            data = lzma.decompress(data[: len(data) - 4])
    except Exception as e:  # the reference prints and goes on
        err = str(e)
    return data, codec, err


def parse_packet(conn, packet):
    fields = {"conn": conn, "frame_len": len(packet), "codec": "none"}
    if packet.find(COMPR) == len(packet) - 1:
        data, codec, err = decompress(packet[:-1])
        packet = data
        fields["codec"] = codec
        if err is not None:
            fields["decompress_error"] = err
    fields["payload"] = b64(packet)
    try:
        text = packet.decode("utf-8")
        try:
            value = json.loads(text)
            fields["kind"] = "json"
            fields["value"] = json.dumps(value)
        except json.decoder.JSONDecodeError:
            fields["kind"] = "text"
    except UnicodeDecodeError:
        fields["kind"] = "bytes"
    emit("message", **fields)


def reader(name, sock):
    buffer = b""
    stalled = False
    while True:
        try:
            chunk = sock.recv(65536)
        except OSError as e:
            emit("error", conn=name, error=str(e), buffered=len(buffer))
            return
        if chunk == b"":
            # The reference would go on reading empty chunks for ever; we
            # close our side so that the peer's close completes at once.
            emit("eof", conn=name, buffered=len(buffer))
            sock.close()
            return
        buffer += chunk
        eot = buffer.find(EOT)
        while eot > 0:  # the reference stops at an empty frame
            packet, buffer = buffer[:eot], buffer[eot + 1:]
            try:
                parse_packet(name, packet)
            except (binascii.Error, ValueError) as e:
                emit("fatal", conn=name, error=str(e))
                return
            eot = buffer.find(EOT)
        if eot == 0 and not stalled:
            stalled = True
            emit("stalled", conn=name, buffered=len(buffer))


def start_reader(name, sock):
    sock.settimeout(None)
    with conns_lock:
        conns[name] = sock
    threading.Thread(target=reader, args=(name, sock), daemon=True).start()


def get(name):
    with conns_lock:
        return conns[name]


def cmd_listen(c):
    global listener
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((c.get("host", "127.0.0.1"), c.get("port", 0)))
    listener.listen(16)
    return "listening", {"port": listener.getsockname()[1]}


def cmd_accept(c):
    name = c["conn"]
    listener.settimeout(c.get("timeout", 10))
    sock, addr = listener.accept()
    sock.settimeout(c.get("timeout", 10))
    raw = sock.recv(4096)
    text = raw.decode("utf-8", errors="replace")
    peer_id, port, from_hello = text, addr[1], False
    if text.count(":") == 1:
        peer_id, port = text.split(":")
        from_hello = True
    emit("hello", conn=name, raw=b64(raw), id=peer_id, port=str(port),
         port_from_hello=from_hello, source_port=addr[1], peer_host=addr[0])
    if not c.get("reply", True):
        sock.close()
        return "closed", {"conn": name}
    reply = c["id"].encode("utf-8")
    if c.get("first"):
        reply += base64.b64decode(c["first"])
    sock.sendall(reply)
    start_reader(name, sock)
    return "accepted", {"conn": name}


def cmd_connect(c):
    name = c["conn"]
    sock = socket.create_connection((c.get("host", "127.0.0.1"), c["port"]), timeout=c.get("timeout", 10))
    local_port = sock.getsockname()[1]
    if "hello" in c:
        hello = c["hello"]
    else:
        hello = c["id"] + ":" + str(c.get("announce", 0))
    sock.sendall(hello.encode("utf-8"))
    try:
        raw = sock.recv(4096)
    except ConnectionResetError:
        raw = b""
    if raw == b"":
        sock.close()
        return "refused", {"conn": name, "local_port": local_port}
    start_reader(name, sock)
    return "connected", {"conn": name, "peer_id": raw.decode("utf-8", errors="replace"),
                         "raw": b64(raw), "local_port": local_port}


def payload_of(c):
    kind = c["kind"]
    if kind == "str":
        return c["data"].encode("utf-8")
    if kind == "dict":
        return json.dumps(c["data"]).encode("utf-8")
    if kind == "bytes":
        return base64.b64decode(c["data"])
    raise ValueError("unknown kind " + repr(kind))


def cmd_send(c):
    payload = payload_of(c)
    data = frame(payload, c.get("compression", "none"))
    get(c["conn"]).sendall(data)
    return "sent", {"conn": c["conn"], "payload": b64(payload), "frame_len": len(data)}


def cmd_sendraw(c):
    data = base64.b64decode(c["data"])
    get(c["conn"]).sendall(data)
    return "sent", {"conn": c["conn"], "frame_len": len(data)}


def cmd_close(c):
    sock = get(c["conn"])
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
    return "closed", {"conn": c["conn"]}


COMMANDS = {
    "listen": cmd_listen,
    "accept": cmd_accept,
    "connect": cmd_connect,
    "send": cmd_send,
    "sendraw": cmd_sendraw,
    "close": cmd_close,
}


def run(c):
    try:
        ev, fields = COMMANDS[c["cmd"]](c)
    except Exception as e:  # report, keep serving
        ev, fields = "cmd_error", {"cmd": c["cmd"], "error": "%s: %s" % (type(e).__name__, e)}
    if c.get("tag") is not None:
        fields["tag"] = c["tag"]
    emit(ev, **fields)


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        c = json.loads(line)
        if c["cmd"] == "quit":
            break
        if c["cmd"] == "accept":
            # accept waits for a peer: it answers from a thread of its own so
            # that the commands that bring the peer keep flowing.
            threading.Thread(target=run, args=(c,), daemon=True).start()
            continue
        run(c)
    emit("bye")
    with conns_lock:
        for sock in conns.values():
            try:
                sock.close()
            except OSError:
                pass


if __name__ == "__main__":
    main()
