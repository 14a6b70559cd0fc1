"""Runs the secure node examples and the p2psecure-format peer.

Shared by demo.py and test_secure_crosslang.py. A SecureNode is one
language's secure_node example in its own process (build/drivers/
<lang>-secure-node, interface in README.md here); P2PSecurePeer is the
test-only p2psecure peer (p2p/secure/testdata/p2psecure_peer.py: PyCryptodome
on p2pnetwork 1.2, building and checking messages exactly as p2psecure's
SecureNode). Every wait has a deadline; no fixed sleeps.
"""
import json
import subprocess
import threading
import time

from harness import DRIVERS, ROOT

SECURE_LANGS = ("go", "c", "cpp", "csharp", "python")
PASSWORD = "s\u00e9cret"
DEADLINE = 30.0


class Proc:
    """A process spoken to by lines; every output line is kept."""

    def __init__(self, name, argv, echo=None):
        self.name = name
        self.echo = echo  # echo(proc, line, stream) for every line, as it comes
        self.cond = threading.Condition()
        self.lines = []
        self.stderr = []
        self.eof = False
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, cwd=str(ROOT))
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr), daemon=True).start()

    def _read(self, stream, into):
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if self.echo:
                self.echo(self, line, "out" if into is self.lines else "err")
            with self.cond:
                into.append(line)
                self.cond.notify_all()
        with self.cond:
            if into is self.lines:
                self.eof = True
            self.cond.notify_all()

    def write(self, line):
        self.proc.stdin.write((line + "\n").encode("utf-8"))
        self.proc.stdin.flush()

    def wait_line(self, pred, start=0, what="a line", timeout=DEADLINE):
        """The first line from index start on that satisfies pred."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines[start:]:
                    if pred(line):
                        return line
                left = end - time.monotonic()
                if left <= 0 or self.eof:
                    raise AssertionError("%s: no %s; output:\n%s\nstderr:\n%s" % (
                        self.name, what, "\n".join(self.lines[-30:]), "\n".join(self.stderr[-30:])))
                self.cond.wait(min(left, 0.5))

    def mark(self):
        with self.cond:
            return len(self.lines)

    def close(self, timeout=20):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("%s did not exit after its input ended" % self.name)


class SecureNode(Proc):
    """One language's secure_node example."""

    def __init__(self, lang, key_file, echo=None):
        super().__init__(lang, [str(DRIVERS / (lang + "-secure-node")), key_file, PASSWORD], echo)
        ready = self.wait_line(lambda l: l.startswith("READY "), what="READY")
        _, port, self.id = ready.split(" ")
        self.port = int(port)

    def command(self, line):
        """Send a command; return its reply (asserting OK)."""
        verb = line.split(" ", 1)[0]
        start = self.mark()
        self.write(line)
        reply = self.wait_line(lambda l: l.startswith(("OK " + verb, "ERR " + verb)), start,
                               what="reply to " + verb)
        assert reply.startswith("OK "), "%s: %s -> %s" % (self.name, line, reply)
        return reply

    def events(self, kind, start=0):
        prefix = "EVENT " + kind + " "
        with self.cond:
            return [l[len(prefix):] for l in self.lines[start:] if l.startswith(prefix)]

    def wait_event(self, kind, pred=lambda rest: True, start=0, what=None):
        prefix = "EVENT " + kind + " "
        line = self.wait_line(lambda l: l.startswith(prefix) and pred(l[len(prefix):]), start,
                              what=what or kind)
        return line[len(prefix):]

    def messages(self, start=0):
        """(peer, sender, type, parsed payload) of every EVENT message."""
        out = []
        for rest in self.events("message", start):
            peer, sender, kind, payload = rest.split(" ", 3)
            out.append((peer, sender, kind, json.loads(payload)))
        return out

    def latencies(self):
        """{peer-id: latency or None} from the status command."""
        listing = self.command("status")[len("OK status "):]
        if listing == "-":
            return {}
        out = {}
        for entry in listing.split(","):
            peer, value = entry.rsplit("=", 1)
            out[peer] = None if value == "-" else float(value)
        return out


class P2PSecurePeer(Proc):
    """The p2psecure-format peer: JSON commands in, "EVENT <json>" lines out."""

    def __init__(self, key_file, echo=None):
        super().__init__("p2psecure", [str(DRIVERS / "p2psecure-peer"), "serve", key_file, PASSWORD],
                         echo)
        ready = self.wait_event("ready")
        self.port, self.id = ready["port"], ready["id"]

    def send(self, **cmd):
        self.write(json.dumps(cmd))

    def events(self, kind, start=0):
        with self.cond:
            lines = self.lines[start:]
        out = []
        for l in lines:
            if l.startswith("EVENT "):
                ev = json.loads(l[6:])
                if ev["event"] == kind:
                    out.append(ev)
        return out

    def wait_event(self, kind, pred=lambda ev: True, start=0, what=None):
        def match(line):
            if not line.startswith("EVENT "):
                return False
            ev = json.loads(line[6:])
            return ev["event"] == kind and pred(ev)
        return json.loads(self.wait_line(match, start, what=what or kind)[6:])

    def connect(self, port):
        start = self.mark()
        self.send(cmd="connect", host="127.0.0.1", port=port)
        assert self.wait_event("connect_result", start=start)["ok"]


def wait_until(cond, what, timeout=DEADLINE):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)


def make_keys(folder, n):
    """n key files in p2psecure's format (2048 bits), written by the p2psecure peer."""
    paths = [str(folder / ("node%d.dat" % i)) for i in range(n)]
    req = "".join(json.dumps({"op": "savekey", "path": p, "password": PASSWORD, "bits": 2048}) + "\n"
                  for p in paths)
    r = subprocess.run([str(DRIVERS / "p2psecure-peer"), "batch"], input=req.encode(),
                       capture_output=True, timeout=300)
    answers = [json.loads(l) for l in r.stdout.decode().splitlines()]
    if len(answers) != n or not all("public_key" in a for a in answers):
        raise RuntimeError("p2psecure peer could not write keys: " + r.stderr.decode())
    return paths


def stop_all(procs):
    """Stops the secure nodes (stop command) and ends every process's input."""
    for p in procs:
        if isinstance(p, SecureNode) and p.proc.poll() is None:
            try:
                p.write("stop")
            except OSError:
                pass
    for p in procs:
        p.close()
