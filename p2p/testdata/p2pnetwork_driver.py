#!/usr/bin/env python3
"""Drives a real p2pnetwork 1.2 Node for the Go interop tests.

One JSON command per line on stdin; one event per line on stdout, each
prefixed with "@@ " (p2pnetwork prints to stdout; its prints are moved to
stderr here, and the prefix tells protocol lines apart anyway). Bytes travel
as base64.

Commands (each may carry "tag", echoed in its answer):
  {"cmd": "start", "id": ID, "max_connections": N}
      -> {"ev": "started", "id", "port"}
  {"cmd": "connect", "host", "port"}        -> {"ev": "connect", "ok", "peer_id"}
  {"cmd": "send", "kind": "str"|"dict"|"bytes", "data", "compression"}
      node.send_to_nodes(...) -> {"ev": "sent", "payload": B64}
  {"cmd": "disconnect_outbound"}             -> {"ev": "disconnecting"}
  {"cmd": "peers"}                           -> {"ev": "peers", "inbound": [...], "outbound": [...]}
  {"cmd": "quit"}                            -> {"ev": "bye"}, exit

Node events are reported as {"ev": "node", "event": NAME, "peer_id",
"peer_host", "peer_port"} and, for node_message, "type" (the Python type of
the value: str, dict, list, int, float, bool, NoneType, bytes), "payload"
(B64 of the str's UTF-8 or of the bytes) and "value" (json.dumps of the value,
when it is not bytes).
"""

import base64
import json
import os
import socket
import sys
import threading

PROTO = os.fdopen(os.dup(1), "w")
sys.stdout = sys.stderr  # p2pnetwork's prints must not mix with protocol lines

from p2pnetwork.node import Node  # noqa: E402

lock = threading.Lock()


def emit(ev, **fields):
    fields["ev"] = ev
    line = "@@ " + json.dumps(fields) + "\n"
    with lock:
        PROTO.write(line)
        PROTO.flush()


def b64(data):
    return base64.b64encode(data).decode("ascii")


def peer_fields(conn):
    if not hasattr(conn, "id"):
        return {}
    return {"peer_id": conn.id, "peer_host": str(conn.host), "peer_port": str(conn.port)}


def callback(event, main_node, conn, data):
    fields = {"event": event}
    fields.update(peer_fields(conn))
    if event == "node_message":
        fields["type"] = type(data).__name__
        if isinstance(data, bytes):
            fields["payload"] = b64(data)
        else:
            if isinstance(data, str):
                fields["payload"] = b64(data.encode("utf-8"))
            fields["value"] = json.dumps(data)
    emit("node", **fields)


node = None


def payload_of(c):
    kind = c["kind"]
    if kind == "str":
        return c["data"], c["data"].encode("utf-8")
    if kind == "dict":
        return c["data"], json.dumps(c["data"]).encode("utf-8")
    if kind == "bytes":
        raw = base64.b64decode(c["data"])
        return raw, raw
    raise ValueError("unknown kind " + repr(kind))


def cmd_start(c):
    global node
    node = Node("127.0.0.1", 0, id=c.get("id"), callback=callback,
               max_connections=c.get("max_connections", 0))
    # Bound to port 0: tell the node the port it got, which it announces.
    node.port = node.sock.getsockname()[1]
    node.start()
    return "started", {"id": node.id, "port": node.port}


def cmd_connect(c):
    ok = node.connect_with_node(c.get("host", "127.0.0.1"), c["port"])
    peer = None
    for n in node.nodes_outbound:
        if n.host == c.get("host", "127.0.0.1") and n.port == c["port"]:
            peer = n.id
    return "connect", {"ok": ok, "peer_id": peer}


def cmd_send(c):
    value, payload = payload_of(c)
    node.send_to_nodes(value, compression=c.get("compression", "none"))
    return "sent", {"payload": b64(payload)}


def cmd_disconnect_outbound(c):
    for n in list(node.nodes_outbound):
        node.disconnect_with_node(n)
    return "disconnecting", {}


def cmd_peers(c):
    return "peers", {
        "inbound": [peer_fields(n) for n in node.nodes_inbound],
        "outbound": [peer_fields(n) for n in node.nodes_outbound],
    }


COMMANDS = {
    "start": cmd_start,
    "connect": cmd_connect,
    "send": cmd_send,
    "disconnect_outbound": cmd_disconnect_outbound,
    "peers": cmd_peers,
}


def shutdown():
    """stop() then join(), without waiting out the reference's 10 s socket
    timeouts: its connection threads and its accept loop are woken up."""
    if node is None:
        return
    node.stop()
    for n in list(node.all_nodes):
        n.stop()
        try:
            n.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    try:  # wake the accept loop, which waits up to 10 s in accept()
        s = socket.create_connection(("127.0.0.1", node.port), timeout=2)
        s.close()
    except OSError:
        pass
    node.join(timeout=15)


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        c = json.loads(line)
        if c["cmd"] == "quit":
            break
        try:
            ev, fields = COMMANDS[c["cmd"]](c)
        except Exception as e:
            ev, fields = "cmd_error", {"cmd": c["cmd"], "error": "%s: %s" % (type(e).__name__, e)}
        if c.get("tag") is not None:
            fields["tag"] = c["tag"]
        emit(ev, **fields)
    shutdown()
    emit("bye")
    os._exit(0)


if __name__ == "__main__":
    main()
