#!/usr/bin/env python3
"""Keeps the hand-written header, cgo's generated header, the C shim and the
library's exports in step.

  check_header.py [--header include/p2pnode.h] [--cgo build/libp2pnode.h]
                  [--shim capi/shim.c] [--lib build/libp2pnode.so]

Checks:
  - every p2p_ function of include/p2pnode.h is defined exactly once, by a
    P2P_API function of capi/shim.c or of capi/entry.c, with the header's
    return and parameter types (modulo `const`, spacing and names);
  - each one of capi/entry.c calls the Go function p2pgo_<name> (a cgo
    //export in build/libp2pnode.h) whose types are the header's too, and
    cgo exports no other p2pgo_ function;
  - neither cgo, the shim nor entry.c defines a public p2p_ function the
    header lacks;
  - `nm -D` of the library exports exactly the header's p2p_ functions (the
    shim's internal p2p_*_ helpers stay hidden), the p2pgo_ halves of those
    entry.c defines (cgo exports every //export; they are not in the
    header), and every other exported symbol is the Go/cgo runtime's.
Prints one result per check and "N passed, N failed"; exits 1 on a failure.
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

# What cgo and the Go runtime export from a c-shared library besides ours.
RUNTIME_EXPORTS = re.compile(
    r"^(_cgo_\w+|_cgoexp_\w+|x_cgo_\w+|crosscall[12]|fatalf|x_crosscall2_ptr|_rt0_\w+|"
    r"__?cgo\w*|_fini|_init)$")

results = []


def check(ok, what):
    results.append(bool(ok))
    print("%s %s" % ("ok  " if ok else "FAIL", what))
    return ok


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def norm_type(t):
    """A C type without const, names of parameters, or spacing differences."""
    t = re.sub(r"\bconst\b", " ", t)
    t = t.replace("*", " * ")
    words = t.split()
    return " ".join(words).replace(" *", "*")


def split_param(p):
    """'const char *host' -> 'char*'; 'void' -> ''."""
    p = p.strip()
    if p in ("", "void"):
        return None
    m = re.match(r"^(.*?)([A-Za-z_]\w*)\s*$", p)
    # drop the parameter name when there is a type before it
    if m and m.group(1).strip() and not m.group(1).strip().endswith(("struct", "enum")):
        p = m.group(1)
    return norm_type(p)


def parse_protos(text, prefix_re):
    """Function declarations or definitions: name -> (return type, [param types])."""
    out = {}
    pat = re.compile(prefix_re + r"([A-Za-z_][\w\s\*]*?)\b(p2p_\w+)\s*\(([^)]*)\)\s*[;{]", re.S)
    for m in pat.finditer(text):
        ret, name, params = m.group(1), m.group(2), m.group(3)
        types = [t for t in (split_param(x) for x in params.split(",")) if t is not None]
        if name in out:
            out[name + "#dup"] = (norm_type(ret), types)
        out[name] = (norm_type(ret), types)
    return out


def header_protos(path):
    text = strip_comments(open(path).read())
    m = re.search(r"#ifndef\s+P2P_NO_PROTOTYPES(.*?)#endif", text, re.S)
    body = m.group(1) if m else text
    # statements that end in ';' and start at a line start
    return parse_protos(body, r"(?m)^\s*")


def cgo_protos(path):
    """cgo's exports, named p2pgo_*: p2p_ name -> signature."""
    text = strip_comments(open(path).read())
    text = re.sub(r"\bp2pgo_", "p2p_", text)
    return parse_protos(text, r"(?m)^\s*extern\s+")


def entry_calls(path):
    """Each P2P_API function of entry.c -> the p2pgo_ function it calls."""
    text = strip_comments(open(path).read())
    out = {}
    for m in re.finditer(r"(?m)^P2P_API[^(]*\b(p2p_\w+)\s*\([^)]*\)\s*\{(.*?)^\}", text, re.S):
        calls = re.findall(r"\b(p2pgo_\w+)\s*\(", m.group(2))
        out[m.group(1)] = calls
    return out


def shim_protos(path):
    text = strip_comments(open(path).read())
    return parse_protos(text, r"(?m)^\s*P2P_API\s+")


def show(sig):
    return "%s(%s)" % (sig[0], ", ".join(sig[1]) or "void")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--header", default=os.path.join(ROOT, "include", "p2pnode.h"))
    ap.add_argument("--cgo", default=os.path.join(ROOT, "build", "libp2pnode.h"))
    ap.add_argument("--shim", default=os.path.join(ROOT, "capi", "shim.c"))
    ap.add_argument("--entry", default=os.path.join(ROOT, "capi", "entry.c"))
    ap.add_argument("--lib", default=os.path.join(ROOT, "build", "libp2pnode.so"))
    a = ap.parse_args()

    hdr = header_protos(a.header)
    cgo = cgo_protos(a.cgo)
    shim = shim_protos(a.shim)
    entry = shim_protos(a.entry)
    calls = entry_calls(a.entry)
    check(len(hdr) >= 30, "the header declares %d p2p_ functions" % len(hdr))
    check(not [n for n in hdr if n.endswith("#dup")], "the header declares each function once")

    for name in sorted(hdr):
        if name.endswith("#dup"):
            continue
        in_entry, in_shim = name in entry, name in shim
        if not check(in_entry != in_shim, "%s is defined once (%s)" % (
                name, "entry.c" if in_entry else "shim.c" if in_shim else "nowhere")):
            continue
        impl = entry[name] if in_entry else shim[name]
        where = "entry.c" if in_entry else "shim.c"
        check(impl == hdr[name], "%s: %s matches %s%s" % (
            name, where, show(hdr[name]),
            "" if impl == hdr[name] else " (%s has %s)" % (where, show(impl))))
        if in_entry:
            go = "p2pgo_" + name[len("p2p_"):]
            check(calls.get(name) == [go], "%s calls %s (and nothing else of Go)%s" % (
                name, go, "" if calls.get(name) == [go] else ": calls %s" % calls.get(name)))
            if check(name in cgo, "%s is a cgo export" % go):
                check(cgo[name] == hdr[name], "%s: cgo's header matches %s%s" % (
                    go, show(hdr[name]),
                    "" if cgo[name] == hdr[name] else " (cgo's header has %s)" % show(cgo[name])))
    go_extra = sorted("p2pgo_" + n[len("p2p_"):] for n in cgo if n not in entry)
    check(not go_extra, "cgo exports no p2pgo_ function entry.c does not call%s" % (
        ": " + ", ".join(go_extra) if go_extra else ""))

    extra = sorted(n for n in list(entry) + list(shim) if n not in hdr and not n.endswith("_"))
    check(not extra, "no public p2p_ function outside the header%s" % (
        ": " + ", ".join(extra) if extra else ""))

    try:
        nm = subprocess.run(["nm", "-D", "--defined-only", a.lib], capture_output=True, text=True,
                            check=True).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        check(False, "nm -D %s: %s" % (a.lib, err))
    else:
        syms = {}
        for line in nm.splitlines():
            parts = line.split()
            if len(parts) == 3:
                syms[parts[2]] = parts[1]
        exported = {s for s, t in syms.items() if s.startswith("p2p_") and t in "TtWi"}
        want = {n for n in hdr if not n.endswith("#dup")}
        missing, unexpected = sorted(want - exported), sorted(exported - want)
        check(not missing, "the library exports every header function%s" % (
            "; missing: " + ", ".join(missing) if missing else " (%d)" % len(want)))
        check(not unexpected, "the library exports no other p2p_ symbol%s" % (
            ": " + ", ".join(unexpected) if unexpected else ""))
        halves = {"p2pgo_" + n[len("p2p_"):] for n in entry}
        go_syms = {s for s in syms if s.startswith("p2pgo_")}
        check(go_syms == halves, "the library's p2pgo_ exports are the Go halves of entry.c's functions (%d)%s" % (
            len(halves), "" if go_syms == halves else ": differ by " + ", ".join(sorted(go_syms ^ halves))))
        other = sorted(s for s in syms if not s.startswith(("p2p_", "p2pgo_")) and not RUNTIME_EXPORTS.match(s))
        check(not other, "every other export is the Go/cgo runtime's%s" % (
            ": " + ", ".join(other[:20]) if other else " (%d symbols)" % (len(syms) - len(exported))))

    p, f = results.count(True), results.count(False)
    print("%d passed, %d failed" % (p, f))
    return 1 if f else 0


if __name__ == "__main__":
    sys.exit(main())
