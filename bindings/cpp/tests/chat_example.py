#!/usr/bin/env python3
"""Drives examples/cpp/chat (a chat over a topic) as a user would.

    chat_example.py <path-to-chat>

Three chats on one topic: alice first, bob and carol with alice's address as
their bootstrap. Once carol has found bob too (discovery), a line typed at
each is printed by the two others, once, and never echoed to its writer. A
fourth chat on another topic sees none of it. End of input stops each with
exit status 0. Every wait has a deadline; nothing sleeps for a fixed time.
"""
import os
import queue
import subprocess
import sys
import threading
import time

DEADLINE = float(os.environ.get("P2PNODE_TEST_DEADLINE_S", "0") or 0) or 30.0
PROCS = []  # killed at the end if still running


class Chat:
    def __init__(self, exe, name, topic, bootstrap=None):
        self.name = name
        args = [exe, name, topic] + ([bootstrap] if bootstrap else [])
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, encoding="utf-8", bufsize=1)
        PROCS.append(self.p)
        self.lines = queue.Queue()
        self.all = []
        threading.Thread(target=self._read, daemon=True).start()
        line = self.expect(lambda l: l.startswith(f"* {name} listening on "), "listening")
        self.address = line.split()[4].rstrip(",")

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def type(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def expect(self, pred, what):
        """Waits for a line (from now or already printed) for which pred holds."""
        if any(pred(l) for l in self.all):
            return next(l for l in self.all if pred(l))
        end = time.monotonic() + DEADLINE
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"[{self.name}] no line {what} within {DEADLINE}s; got: {self.all}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"[{self.name}] exited before {what}; stderr: {self.p.stderr.read()}")
            print(f"[{self.name}] {line}")
            self.all.append(line)
            if pred(line):
                return line

    def quit(self):
        """End of input: the chat stops; returns every line it printed."""
        self.p.stdin.close()
        for line in iter(lambda: self.lines.get(timeout=DEADLINE), None):
            print(f"[{self.name}] {line}")
            self.all.append(line)
        assert self.p.wait(timeout=DEADLINE) == 0, f"[{self.name}] exit status {self.p.returncode}"
        return self.all


def main(exe):
    alice = Chat(exe, "alice", "lobby")
    bob = Chat(exe, "bob", "lobby", alice.address)
    carol = Chat(exe, "carol", "lobby", alice.address)
    other = Chat(exe, "dave", "elsewhere", alice.address)
    for c in (bob, carol, other):
        c.expect(lambda l: l == "* connected with alice (encrypted)", "connected with alice")
    # carol learns bob from alice and dials him (or he her): the mesh does not hang on alice alone.
    carol.expect(lambda l: l == "* connected with bob (encrypted)", "connected with bob")

    said = {"alice": "hi all", "bob": "hello from bob", "carol": "carol here \u00e9"}
    chats = {"alice": alice, "bob": bob, "carol": carol}
    for who, text in said.items():
        chats[who].type(text)
        for name, c in chats.items():
            if name != who:
                c.expect(lambda l, w=who, t=text: l == f"<{w}> {t}", f"{who}'s line")

    # A last line from alice; once bob and carol have it, every earlier line would have come too.
    alice.type("bye")
    for c in (bob, carol):
        c.expect(lambda l: l == "<alice> bye", "alice's bye")
    printed = {name: c.quit() for name, c in chats.items()}
    for name, lines in printed.items():
        for who, text in said.items():
            want = 0 if who == name else 1
            got = lines.count(f"<{who}> {text}")
            assert got == want, f"{name} printed {who}'s line {got} times: {lines}"
    dave = other.quit()
    assert not any(l.startswith("<") for l in dave), f"dave (another topic) printed {dave}"
    print("chat example: OK")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    try:
        main(sys.argv[1])
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
