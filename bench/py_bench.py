"""Python benchmarks of the p2pnode binding, and of the reference p2pnetwork
(when installed) as the baseline, measured in the same run.

Each figure uses two processes (sender and receiver, or client and echo
server) on loopback and a fixed number of messages; every wait is bounded.
Prints "name value unit" lines for bench/report.py.

    python3 py_bench.py                  all figures
    python3 py_bench.py serve KIND ...   (internal) the receiving process
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

HOST = "127.0.0.1"
PAYLOAD = b"message payload " * 4  # 64 bytes of text
TEXT = PAYLOAD.decode()
HERE = os.path.dirname(os.path.abspath(__file__))


def n_env(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, "")))
    except ValueError:
        return default


# ---- the receiving process ----------------------------------------------------------

def serve(kind: str, count: int) -> None:
    """Receive count messages (or echo, for RTT) and report the time of the
    last one on stdout. Prints the listening port first."""
    done = threading.Event()
    state = {"got": 0, "last": 0.0}

    if kind.startswith("ref"):
        from p2pnetwork.node import Node as Base
    else:
        from p2pnode.node import Node as Base

    class Receiver(Base):
        def node_message(self, node, data):
            if kind.endswith("echo"):
                node.send(data)
                return
            state["got"] += 1
            if state["got"] == count:
                state["last"] = time.monotonic()
                done.set()

        if kind == "batch":
            def node_message_batch(self, node, messages):
                state["got"] += len(messages)
                if state["got"] >= count:
                    state["last"] = time.monotonic()
                    done.set()

    node = Receiver(HOST, int(os.environ.get("BENCH_PORT", "0")))
    node.start()
    print(node.port, flush=True)
    sys.stdout.flush()
    if kind.endswith("echo"):
        sys.stdin.read()  # until the client is done
    else:
        done.wait(300)
        print("%.9f %d" % (state["last"], state["got"]), flush=True)
        sys.stdin.read()
    node.stop()
    if hasattr(node, "join"):
        node.join(10)


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(kind: str, count: int):
    env = dict(os.environ)
    if kind.startswith("ref"):
        env["BENCH_PORT"] = str(free_port())  # the reference cannot report port 0
    p = subprocess.Popen([sys.executable, __file__, "serve", kind, str(count)], env=env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    port = int(read_line(p, lambda l: l.isdigit()))  # the reference prints more
    return p, port


def read_line(p, ok) -> str:
    """The next line of p's output that ok accepts (the reference prints its own lines)."""
    while True:
        line = p.stdout.readline()
        if not line:
            return ""
        line = line.strip()
        if ok(line):
            return line


def finish(p) -> str:
    line = read_line(p, lambda l: len(l.split()) == 2 and l.split()[1].isdigit())
    p.stdin.close()
    try:
        p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()
    return line


# ---- one-way stream ----------------------------------------------------------------------

def stream(kind: str, count: int, batch: int = 1000) -> float:
    """Messages per second from the first send to the last receipt."""
    srv, port = start_server(kind, count)
    if kind.startswith("ref"):
        from p2pnetwork.node import Node
    else:
        from p2pnode.node import Node
    node = Node(HOST, free_port() if kind.startswith("ref") else 0)
    node.start()
    try:
        node.connect_with_node(HOST, port)
        deadline = time.monotonic() + 10
        while not node.nodes_outbound and time.monotonic() < deadline:
            time.sleep(0.01)
        conn = node.nodes_outbound[0]
        time.sleep(0.2)
        t0 = time.monotonic()
        if kind in ("batch", "callback"):
            chunk = [PAYLOAD] * batch
            sent = 0
            while sent < count:
                k = min(batch, count - sent)
                sent += conn.send_batch(chunk if k == batch else chunk[:k])
        else:
            for _ in range(count):
                conn.send(TEXT)
        line = finish(srv)
        last, got = line.split()
        if int(got) < count:
            raise RuntimeError("%s: %s of %d messages arrived" % (kind, got, count))
        return count / (float(last) - t0)
    finally:
        node.stop()
        if srv.poll() is None:
            srv.kill()


# ---- cost of one send call -------------------------------------------------------------

def per_call(method: str, count: int) -> float:
    """Microseconds per call of node.send_to_nodes(TEXT) or node.send_to_node(peer, TEXT)
    (one peer, another process, which must receive them all)."""
    srv, port = start_server("calls", count)
    from p2pnode.node import Node
    node = Node(HOST, 0)
    node.start()
    try:
        node.connect_with_node(HOST, port)
        deadline = time.monotonic() + 10
        while not node.nodes_outbound and time.monotonic() < deadline:
            time.sleep(0.01)
        conn = node.nodes_outbound[0]
        time.sleep(0.2)
        if method == "send_to_nodes":
            send = node.send_to_nodes
            t0 = time.perf_counter()
            for _ in range(count):
                send(TEXT)
        else:
            send = node.send_to_node
            t0 = time.perf_counter()
            for _ in range(count):
                send(conn, TEXT)
        took = time.perf_counter() - t0
        line = finish(srv)
        if int(line.split()[1]) < count:
            raise RuntimeError("%s: %s of %d messages arrived" % (method, line.split()[1], count))
        return took / count * 1e6
    finally:
        node.stop()
        if srv.poll() is None:
            srv.kill()


# ---- round trip ---------------------------------------------------------------------------

def rtt(kind: str, rounds: int) -> float:
    """p50 of send -> echo -> node_message, in milliseconds."""
    srv, port = start_server(kind + "echo" if kind == "ref" else "echo", 0)
    if kind == "ref":
        from p2pnetwork.node import Node as Base
    else:
        from p2pnode.node import Node as Base
    times = []
    done = threading.Event()
    sent_at = [0.0]

    class Client(Base):
        def node_message(self, node, data):
            times.append(time.perf_counter() - sent_at[0])
            if len(times) >= rounds:
                done.set()
                return
            sent_at[0] = time.perf_counter()
            node.send(TEXT)

    node = Client(HOST, free_port() if kind == "ref" else 0)
    node.start()
    try:
        node.connect_with_node(HOST, port)
        deadline = time.monotonic() + 10
        while not node.nodes_outbound and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        sent_at[0] = time.perf_counter()
        node.nodes_outbound[0].send(TEXT)
        if not done.wait(120):
            raise RuntimeError("rtt %s: %d of %d rounds" % (kind, len(times), rounds))
        times.sort()
        return times[len(times) // 2] * 1e3
    finally:
        node.stop()
        srv.stdin.close()
        try:
            srv.wait(30)
        except subprocess.TimeoutExpired:
            srv.kill()


def have_reference() -> bool:
    try:
        import p2pnetwork.node  # noqa: F401
        return True
    except ImportError:
        return False


def main() -> None:
    out = []

    def emit(name, value, unit):
        line = "%s %g %s" % (name, value, unit)
        out.append(line)
        print(line, flush=True)

    emit("py_rtt_p50", rtt("ours", n_env("BENCH_PY_RTT_ROUNDS", 2000)), "ms")
    emit("py_stream_batch", stream("batch", n_env("BENCH_PY_BATCH_MSGS", 1_000_000)), "msg/s")
    emit("py_stream_callback", stream("callback", n_env("BENCH_PY_CALLBACK_MSGS", 300_000)), "msg/s")
    calls = n_env("BENCH_PY_CALLS", 200_000)
    emit("py_send_to_node_call", per_call("send_to_node", calls), "us")
    emit("py_send_to_nodes_call", per_call("send_to_nodes", calls), "us")
    if have_reference():
        emit("ref_stream", stream("ref", n_env("BENCH_REF_MSGS", 20_000)), "msg/s")
        emit("ref_rtt_p50", rtt("ref", n_env("BENCH_REF_RTT_ROUNDS", 200)), "ms")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        main()
