#!/usr/bin/env python3
"""Drives examples/cpp/secure_node (the command-line secure node) through
its line interface (tests/crosslang/README.md, "The secure node examples").

    secure_node_example.py <path-to-secure_node>

Two instances, each with a key file in a temporary folder (generated and
saved by the first start): connect, a message both ways, a rejected
command, ping until status shows a latency, discovery, stop. Then the
second is started again on its saved key file (loaded: the same public key
travels in its messages), and once with a wrong password (exit status 1).
Every wait has a deadline; nothing sleeps for a fixed time.
"""
import json
import os
import queue
import stat
import subprocess
import sys
import tempfile
import threading
import time

# Generating a 4096-bit key can take several seconds.
DEADLINE = float(os.environ.get("P2PNODE_TEST_DEADLINE_S", "0") or 0) or 60.0
PROCS = []  # killed at the end if still running


class Proc:
    def __init__(self, exe, key_file, password, name):
        self.name = name
        self.p = subprocess.Popen([exe, key_file, password], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, encoding="utf-8", bufsize=1)
        PROCS.append(self.p)
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def send(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def expect(self, pred, what):
        """The first line (new or seen before and not yet taken) for which pred holds."""
        for i, line in enumerate(self.seen):
            if pred(line):
                del self.seen[i]
                return line
        end = time.monotonic() + DEADLINE
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"[{self.name}] no line {what} within {DEADLINE}s; unmatched: {self.seen}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"[{self.name}] exited before {what}; stderr: {self.p.stderr.read()}")
            print(f"[{self.name}] {line[:300]}")
            if pred(line):
                return line
            self.seen.append(line)

    def reply(self, cmd):
        """Sends cmd and returns its OK/ERR reply line."""
        self.send(cmd)
        word = cmd.split()[0]
        return self.expect(lambda l: l.startswith(("OK " + word, "ERR " + word)), f"replying to {cmd!r}")

    def stop(self):
        assert self.reply("stop") == "OK stop"
        assert self.p.wait(timeout=DEADLINE) == 0, f"[{self.name}] exit status {self.p.returncode}"


def start(exe, key_file, password, name):
    p = Proc(exe, key_file, password, name)
    ready = p.expect(lambda l: l.startswith("READY "), "READY").split()
    assert len(ready) == 3, ready
    return p, int(ready[1]), ready[2]


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def main(exe):
    tmp = tempfile.mkdtemp(prefix="p2pnode-cpp-secure-node-")
    key_a, key_b = os.path.join(tmp, "a.key"), os.path.join(tmp, "b.key")
    a, port_a, id_a = start(exe, key_a, "pass-a", "a")
    b, port_b, id_b = start(exe, key_b, "pass-b", "b")
    for k in (key_a, key_b):
        check(os.path.exists(k) and stat.S_IMODE(os.stat(k).st_mode) == 0o600, f"{k} saved with mode 0600")

    check(a.reply(f"connect 127.0.0.1 {port_b}") == f"OK connect {id_b}", "connect")
    a.expect(lambda l: l == f"EVENT connected {id_b} outbound", "connected outbound")
    b.expect(lambda l: l == f"EVENT connected {id_a} inbound", "connected inbound")

    # A message each way: the whole signed JSON as received, on one line.
    check(a.reply('message {"text": "h\u00e9llo \u4e16\u754c", "n": 1.5, "big": 12345678901234567890}')
          == "OK message", "message a->b")
    line = b.expect(lambda l: l.startswith("EVENT message "), "message at b")
    _, _, peer, sender, mtype, payload = line.split(" ", 5)
    check((peer, sender, mtype) == (id_a, id_a, "message"), line)
    signed = json.loads(payload)
    check(signed["message"] == {"text": "h\u00e9llo \u4e16\u754c", "n": 1.5, "big": 12345678901234567890}, payload)
    check(signed["_id"] == id_a and signed["_type"] == "message", payload)
    check(b.reply('message "back"') == "OK message", "message b->a")
    line = a.expect(lambda l: l.startswith("EVENT message "), "message at a")
    key_b_first = json.loads(line.split(" ", 5)[5])["_public_key"]

    # Errors are replies, not exits.
    check(a.reply("message not json").startswith("ERR message -1 "), "bad json")
    check(a.reply("connect 127.0.0.1").startswith("ERR connect -1 "), "bad connect")
    check(a.reply("frobnicate").startswith("ERR frobnicate -1 "), "unknown command")

    # Ping: status shows "-" until the pong, then the latency in seconds.
    check(a.reply("status") == f"OK status {id_b}=-", "status before ping")
    check(a.reply("ping") == "OK ping", "ping")
    end = time.monotonic() + DEADLINE
    while True:
        st = a.reply("status")
        if st != f"OK status {id_b}=-":
            break
        check(time.monotonic() < end, "no latency in status")
        time.sleep(0.02)  # polling interval, not a wait for an outcome
    peer_id, latency = st[len("OK status "):].split("=")
    check(peer_id == id_b and float(latency) >= 0, st)

    # Discovery: b answers with its peers (a, inbound).
    check(a.reply("discovery") == "OK discovery", "discovery")
    line = a.expect(lambda l: l.startswith("EVENT discovery_answer "), "discovery answer")
    check(line == f"EVENT discovery_answer {id_b} {id_b} {id_a}@127.0.0.1:{port_a}/inbound", line)

    b.stop()
    a.expect(lambda l: l == f"EVENT disconnected {id_b}", "disconnected")

    # b again, on its saved key: loaded, the same key signs.
    b, port_b, id_b = start(exe, key_b, "pass-b", "b2")
    check(a.reply(f"connect 127.0.0.1 {port_b}") == f"OK connect {id_b}", "reconnect")
    check(b.reply('message {"again": true}') == "OK message", "message b2->a")
    line = a.expect(lambda l: l.startswith(f"EVENT message {id_b} "), "message from b2")
    check(json.loads(line.split(" ", 5)[5])["_public_key"] == key_b_first, "the loaded key is the saved one")
    check(b.reply("status") == f"OK status {id_a}=-", "status of b2")
    b.stop()
    a.stop()

    # A wrong password: no READY, exit status 1.
    bad = subprocess.run([exe, key_b, "wrong"], input="", capture_output=True, text=True, timeout=DEADLINE)
    check(bad.returncode == 1 and "READY" not in bad.stdout, f"wrong password: {bad.returncode} {bad.stdout!r}")
    for k in (key_a, key_b):
        os.unlink(k)
    os.rmdir(tmp)
    print("secure_node example: OK")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    try:
        main(sys.argv[1])
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
