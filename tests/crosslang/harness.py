"""Runs driver processes and knows what each should receive.

Shared by demo.py and test_crosslang.py. A Driver is one node in its own
process, build/drivers/<language>-driver <name> [port], spoken to over its
stdin and stdout with the line protocol of drivers/<language>/ (one reply line
per command, EVENT lines as they come). Every wait here has a deadline; no
fixed sleeps. Each driver keeps its identity key in IDENTITY_DIR/<name>.pem
(P2P_IDENTITY), so a driver restarted under its name keeps its key.
"""
import atexit
import base64
import bz2
import collections
import json
import lzma
import os
import shutil
import subprocess
import tempfile
import threading
import time
import types
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DRIVERS = Path(os.environ.get("P2PNODE_DRIVERS", ROOT / "build" / "drivers"))

# The languages, in ring order. The first four report the exact bytes, the
# kind and the compression of a message; the two Python drivers get what the
# p2pnetwork API hands over (a Python value) and report no compression.
LANGS = ("go", "c", "cpp", "csharp", "python", "p2pnetwork")
EXACT = ("go", "c", "cpp", "csharp")
COMPRESSIONS = ("none", "zlib", "bzip2", "lzma")
EOT, COMPR = b"\x04", b"\x02"
# The identity key files of this run's drivers (one per node name), removed at exit.
IDENTITY_DIR = tempfile.mkdtemp(prefix="p2pnode-crosslang-ids-")
atexit.register(shutil.rmtree, IDENTITY_DIR, True)

# topic and origin: set for node_topic_message ("-" for other events).
Event = collections.namedtuple("Event", "seq name peer kind compression data line topic origin")


def parse_event(seq, line):
    """EVENT <name> <peer|host:port> <kind|trials> <compression> <hex> [<topic> <origin>] as an Event."""
    f = line.split(" ")
    f += ["-"] * (8 - len(f))
    data = b"" if f[5] == "-" else bytes.fromhex(f[5])
    return Event(seq, f[1], f[2], f[3], f[4], data, line, f[6], f[7])


class DriverError(RuntimeError):
    pass


class Driver:
    """One node of one language in its own process."""

    def __init__(self, lang, name=None, port=None, echo=None, ready_timeout=30.0):
        self.lang = lang
        self.name = name or lang
        self.echo = echo  # echo(driver, line, stream) for every line read, as it comes
        self.cond = threading.Condition()
        self.events = []
        self.replies = collections.deque()
        self.stderr = []
        self.closed = False
        self.req_lock = threading.Lock()
        argv = [str(DRIVERS / ("%s-driver" % lang)), self.name]
        if port:
            argv.append(str(port))
        self.identity = os.path.join(IDENTITY_DIR, "%s.pem" % self.name)
        env = dict(os.environ, P2P_IDENTITY=self.identity)
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        self._threads = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for t in self._threads:
            t.start()
        ready = self._reply(ready_timeout, "READY")
        if not ready.startswith("READY "):
            self.kill()
            raise DriverError("%s: expected READY, got %r%s" % (self.name, ready, self.tail()))
        self.port = int(ready.split()[1])

    def __repr__(self):
        return "<Driver %s (%s) port %s>" % (self.name, self.lang, getattr(self, "port", "?"))

    # ---- reading

    def _read_stdout(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self.cond:
                if line.startswith("EVENT "):
                    self.events.append(parse_event(len(self.events), line))
                else:
                    self.replies.append(line)
                self.cond.notify_all()
            if self.echo:
                self.echo(self, line, "out")
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def _read_stderr(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self.cond:
                self.stderr.append(line)
            if self.echo:
                self.echo(self, line, "err")

    def tail(self, n=15):
        """The last lines of its standard error, for error messages."""
        with self.cond:
            lines = self.stderr[-n:]
        return ("\n  stderr of %s:\n    " % self.name + "\n    ".join(lines)) if lines else ""

    def _reply(self, timeout, what):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.replies:
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    raise DriverError("%s: no reply to %s within %.0f s (%s)%s" % (
                        self.name, what, timeout,
                        "process ended" if self.closed else "timed out", self.tail()))
                self.cond.wait(left)
            return self.replies.popleft()

    # ---- commands

    def request(self, line, timeout=30.0):
        """Send one command line and return its reply line."""
        with self.req_lock:
            try:
                self.proc.stdin.write((line + "\n").encode("utf-8"))
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError) as e:
                raise DriverError("%s: cannot send %r: %s%s" % (self.name, line[:60], e, self.tail()))
            return self._reply(timeout, repr(line if len(line) < 80 else line[:77] + "..."))

    def ok(self, line, timeout=30.0):
        """request() that must succeed (reply "OK ..."); returns the reply."""
        reply = self.request(line, timeout)
        if not reply.startswith("OK "):
            raise DriverError("%s: %r -> %r%s" % (self.name, line[:80], reply, self.tail()))
        return reply

    def connect(self, port, reconnect=False):
        """The peer id of the node at port, once connected with it."""
        return self.ok("connect %d%s" % (port, " reconnect" if reconnect else ""), 40).split(" ", 2)[2]

    def send(self, peer, payload, compression="none"):
        return self.request("send %s %s %s" % (peer, compression, payload.hex() or "-"))

    def broadcast(self, payload, compression="none"):
        return self.request("broadcast %s %s" % (compression, payload.hex() or "-"))

    def peers(self):
        ids = self.ok("peers").split(" ", 2)[2]
        return [] if ids == "-" else ids.split(",")

    def key(self):
        """Its node's public identity key (bytes)."""
        return bytes.fromhex(self.ok("key").split(" ")[2])

    def link(self, peer):
        """("encrypted", key bytes) or ("plaintext", None): its link with peer."""
        f = self.ok("peer %s" % peer).split(" ")
        return f[3], (bytes.fromhex(f[4]) if f[4] != "-" else None)

    def topic_messages(self, since=0):
        return [e for e in self.since(since) if e.name == "node_topic_message"]

    # ---- events

    def mark(self):
        """The position of the next event, to look only at what follows."""
        with self.cond:
            return len(self.events)

    def since(self, mark=0):
        with self.cond:
            return list(self.events[mark:])

    def wait(self, pred, timeout=20.0, since=0):
        """Wait until pred(events since mark) is true; returns those events.
        Raises DriverError with the events seen after the deadline."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                evs = self.events[since:]
                if pred(evs):
                    return list(evs)
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise DriverError("%s: condition not met within %.0f s; events since mark:\n    %s%s" % (
                        self.name, timeout, "\n    ".join(e.line[:140] for e in evs[-30:]) or "(none)",
                        self.tail()))
                self.cond.wait(left)

    def wait_event(self, name, peer=None, timeout=20.0, since=0):
        """Wait for an event by name (and peer); returns it."""
        def pred(evs):
            return any(e.name == name and (peer is None or e.peer == peer) for e in evs)
        evs = self.wait(pred, timeout, since)
        return next(e for e in evs if e.name == name and (peer is None or e.peer == peer))

    def messages(self, peer, since=0):
        return [e for e in self.since(since) if e.name == "node_message" and e.peer == peer]

    # ---- life

    def stop(self, timeout=30.0):
        """Send stop; returns (reply, exit status). Kills the process if it hangs."""
        reply = None
        try:
            reply = self.request("stop", timeout)
            rc = self.proc.wait(timeout)
        except (DriverError, subprocess.TimeoutExpired):
            self.kill()
            rc = None
        for t in self._threads:
            t.join(5)
        return reply, rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def start_all(langs, echo=None, names=None):
    """Start one driver per language in parallel; returns them by language."""
    out, errors = {}, []

    def one(lang):
        try:
            out[lang] = Driver(lang, (names or {}).get(lang), echo=echo)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=one, args=(lang,)) for lang in langs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        for d in out.values():
            d.kill()
        raise errors[0]
    return out


def in_parallel(jobs):
    """Run each callable on its own thread; re-raise the first exception."""
    results, errors = [None] * len(jobs), []

    def run(i, job):
        try:
            results[i] = job()
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i, j)) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


# ---- what a node receives -------------------------------------------------------

def needs_compressed_path(payload):
    """Payloads raw framing cannot carry (empty, holding EOT, first 0x02 last):
    p2pnode sends them zlib-compressed even when asked for none."""
    return not payload or EOT in payload or payload.find(COMPR) == len(payload) - 1


def python_kind(payload):
    """p2pnetwork's rule: JSON if UTF-8 that json.loads takes, text if UTF-8, else bytes."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return "bytes"
    try:
        json.loads(text)
        return "json"
    except ValueError:
        return "text"


def presented(value):
    """(kind, bytes) of a value node_message got in Python: kind by its type,
    bytes as p2pnetwork would send the value again (as the Python drivers do)."""
    if isinstance(value, (bytes, bytearray)):
        return "bytes", bytes(value)
    if isinstance(value, str):
        return "text", value.encode("utf-8")
    return "json", json.dumps(value).encode("utf-8")


def wire_frame(payload, compression):
    """The frame (without EOT) p2pnode puts on the wire for payload: the payload
    itself, or base64(compressed + codec tag) + 0x02 as p2pnetwork's compress()
    makes it (not called itself: it divides by the length of the payload)."""
    if compression == "none" and not needs_compressed_path(payload):
        return payload
    codec = "zlib" if compression == "none" else compression
    packed = {"zlib": lambda b: zlib.compress(b, 6), "bzip2": bz2.compress, "lzma": lzma.compress}[codec]
    return base64.b64encode(packed(payload) + codec.encode()) + COMPR


def _fake_connection():
    from p2pnetwork.nodeconnection import NodeConnection
    fake = types.SimpleNamespace(id="test", COMPR_CHAR=COMPR, EOT_CHAR=EOT,
                                 main_node=types.SimpleNamespace(debug_print=lambda *a: None))
    fake.decompress = lambda c: NodeConnection.decompress(fake, c)
    return fake


def reference_value(payload, compression):
    """What p2pnetwork's parse_packet yields for the frame p2pnode sends."""
    from p2pnetwork.nodeconnection import NodeConnection
    return NodeConnection.parse_packet(_fake_connection(), wire_frame(payload, compression))


def expected(receiver_lang, payload, compression):
    """(kind, compression, bytes) the driver of receiver_lang prints for payload
    sent with compression by any node (p2pnode or p2pnetwork)."""
    if receiver_lang in EXACT:
        shown = compression
        if compression == "none" and needs_compressed_path(payload):
            shown = "zlib"  # p2pnode's rule for what raw framing cannot carry
        return python_kind(payload), shown, payload
    kind, data = presented(reference_value(payload, compression))
    return kind, "-", data


def sendable(sender_lang, payload, compression):
    """Whether the sender can send payload with compression so that it arrives.
    p2pnetwork 1.2 cannot send an empty payload (compress() divides by its
    length; raw, the receiver never consumes an empty frame) nor, raw, one
    holding 0x04 or ending in its first 0x02."""
    if sender_lang != "p2pnetwork":
        return True
    if not payload:
        return False
    return compression != "none" or not needs_compressed_path(payload)


def got(ev):
    """(kind, compression, bytes) of a node_message Event."""
    return ev.kind, ev.compression, ev.data


def describe(kind, data, limit=70):
    """A short readable rendering of a message for logs."""
    if kind == "bytes":
        h = data.hex(" ")
        return "bytes[%d] %s" % (len(data), h if len(h) <= limit else h[:limit - 3] + "...")
    text = data.decode("utf-8", "replace")
    r = repr(text) if kind == "text" else text
    return "%s %s" % (kind, r if len(r) <= limit else r[:limit - 3] + "...")

