#!/usr/bin/env python3
"""Drives a chat example (examples/c/chat.c, examples/cpp/chat.cpp: the same
command line and output) as a user would.

    chat_test.py <path-to-chat>

Four chats: alice first, bob through alice, carol through bob, all on topic
lobby, and dave through carol on another topic. Discovery keeps three links
each, so the four end fully linked; once they are, a line typed at bob
reaches alice and carol once, and a last line from each of alice and carol
(once those are in everywhere, a copy of bob's line would have had a whole
round to come) shows that no line comes twice nor back to its writer, and
that dave gets none. End of input stops each with exit status 0. Every wait
has a deadline; nothing sleeps for a fixed time.
"""
import queue
import subprocess
import sys
import threading
import time

DEADLINE = 30.0
PROCS = []  # killed at the end if still running


class Chat:
    def __init__(self, exe, name, topic, bootstrap=None):
        self.name = name
        args = [exe, name, topic] + ([bootstrap] if bootstrap else [])
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, encoding="utf-8", bufsize=1)
        PROCS.append(self.p)
        self.lines = queue.Queue()
        self.all, self.used = [], set()
        threading.Thread(target=self._read, daemon=True).start()
        line = self.expect("* %s listening on " % name)
        self.address = line.split()[4].rstrip(",")

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def type(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def expect(self, prefix):
        """The first line not yet expected that starts with prefix, whenever it came."""
        end = time.monotonic() + DEADLINE
        i = 0
        while True:
            for i in range(i, len(self.all)):
                if i not in self.used and self.all[i].startswith(prefix):
                    self.used.add(i)
                    return self.all[i]
            i = len(self.all)
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("[%s] no line %r within %.0f s; got %s" % (self.name, prefix, DEADLINE, self.all))
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("[%s] exited before %r; stderr: %s" % (self.name, prefix, self.p.stderr.read()))
            self.all.append(line)

    def quit(self):
        """End of input: the chat stops; returns every line it printed."""
        self.p.stdin.close()
        for line in iter(lambda: self.lines.get(timeout=DEADLINE), None):
            self.all.append(line)
        assert self.p.wait(timeout=DEADLINE) == 0, "[%s] exit status %s: %s" % (
            self.name, self.p.returncode, self.p.stderr.read())
        return self.all


def main(exe):
    alice = Chat(exe, "alice", "lobby")
    bob = Chat(exe, "bob", "lobby", alice.address)
    carol = Chat(exe, "carol", "lobby", bob.address)
    dave = Chat(exe, "dave", "kitchen", carol.address)
    chats = {"alice": alice, "bob": bob, "carol": carol, "dave": dave}
    for who, c in chats.items():
        for other in chats:
            if other != who:
                c.expect("* connected with %s (encrypted)" % other)

    bob.type("hello from bob")
    alice.expect("<bob> hello from bob")
    carol.expect("<bob> hello from bob")
    alice.type("alice here \u00e9")
    carol.type("carol here")
    for c, line in ((bob, "<alice> alice here \u00e9"), (bob, "<carol> carol here"),
                    (alice, "<carol> carol here"), (carol, "<alice> alice here \u00e9")):
        c.expect(line)
    dave.type("anyone in the kitchen?")
    printed = {name: c.quit() for name, c in chats.items()}
    said = ["<bob> hello from bob", "<alice> alice here \u00e9", "<carol> carol here"]
    for name in ("alice", "bob", "carol"):
        for line in said:
            want = 0 if line.startswith("<%s>" % name) else 1
            got = printed[name].count(line)
            assert got == want, "%s printed %r %d times: %s" % (name, line, got, printed[name])
        assert "<dave> anyone in the kitchen?" not in printed[name], "%s got another topic's line" % name
    assert not any(line.startswith("<") for line in printed["dave"]), "dave printed %s" % printed["dave"]
    print("chat: ok (4 chats, 3 lines each delivered once)")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    try:
        main(sys.argv[1])
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
