#!/usr/bin/env python3
"""Generates the bindings' constants and struct layouts from include/p2pnode.h.

    tools/gen_constants.py [--header include/p2pnode.h] [--out DIR]

writes, under DIR (default: the repository root),

    bindings/python/p2pnode/_constants.py       what the package's sources name:
        the status codes, the #defines and enums they use (each enum as one line
        of members and a name -> value dict), the ctypes.Structures and the
        prototypes of the functions they call;
    bindings/csharp/src/Native/Constants.g.cs   for C#: the public enums
        (CS_ENUMS), the internal ones and the struct layouts the binding uses
        (CS_INTERNAL_ENUMS, CS_STRUCTS, [StructLayout(LayoutKind.Sequential)]).

Nothing is typed by hand: `make check-generated` runs this into a temporary
directory and fails when a committed file differs. Standard library only.
The parser knows the header's own dialect: `#define NAME literal`, `typedef
enum NAME { A = 1, ... } NAME;` and `typedef struct NAME { fields } NAME;`
with fixed-width integer, size_t, pointer and fixed array fields.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import sys
import tempfile
from typing import Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY_OUT = "bindings/python/p2pnode/_constants.py"
CS_OUT = "bindings/csharp/src/Native/Constants.g.cs"

Field = Tuple[str, str, int]  # (C type without the name, name, array length or 0)


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def parse(text: str) -> Tuple[Dict[str, object], Dict[str, Dict[str, int]], Dict[str, List[Field]],
                             Dict[str, Tuple[str, List[str]]]]:
    """(defines, enums, structs, prototypes) of the header, in their order; a
    prototype is (return type, [parameter types])."""
    text = strip_comments(text)
    defines: Dict[str, object] = {}
    for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+([A-Z][A-Z0-9_]*)[ \t]+(.+?)[ \t]*$", text, re.M):
        name, value = m.group(1), m.group(2)
        if re.fullmatch(r"\(?-?(0x[0-9a-fA-F]+|\d+)[uUlL]*\)?", value):
            defines[name] = int(value.strip("()").rstrip("uUlL"), 0)
        elif re.fullmatch(r'"[^"\\]*"', value):
            defines[name] = value[1:-1]
    enums: Dict[str, Dict[str, int]] = {}
    for m in re.finditer(r"typedef\s+enum\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;", text, re.S):
        members: Dict[str, int] = {}
        nxt = 0
        for item in m.group(2).split(","):
            item = item.strip()
            if not item:
                continue
            name, _, value = (s.strip() for s in item.partition("="))
            nxt = int(value, 0) if value else nxt
            members[name] = nxt
            nxt += 1
        enums[m.group(3)] = members
    structs: Dict[str, List[Field]] = {}
    for m in re.finditer(r"typedef\s+struct\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;", text, re.S):
        fields: List[Field] = []
        for decl in m.group(2).split(";"):
            decl = " ".join(decl.split())
            if not decl:
                continue
            fp = re.fullmatch(r"(.+?)\(\s*\*\s*(\w+)\s*\)\s*\(.*\)", decl)
            if fp:  # a function pointer
                fields.append(("void *", fp.group(2), 0))
                continue
            first = re.fullmatch(r"((?:const\s+)?[\w ]*?\w)\s*((?:\*\s*)*\w+(?:\[\w+\])?)\s*(,.*)?", decl)
            if not first:
                raise SystemExit(f"gen_constants: cannot read the field '{decl}' of {m.group(3)}")
            base = first.group(1)
            for d in [first.group(2)] + [s for s in (first.group(3) or "").split(",") if s.strip()]:
                d = d.strip()
                stars = d.count("*")
                d = d.replace("*", "").strip()
                arr = 0
                am = re.fullmatch(r"(\w+)\[(\w+)\]", d)
                if am:
                    d, n = am.group(1), am.group(2)
                    arr = int(n, 0) if n[0].isdigit() else int(defines[n])  # type: ignore[call-overload]
                fields.append((base + " " + "*" * stars if stars else base, d, arr))
        structs[m.group(3)] = fields
    protos: Dict[str, Tuple[str, List[str]]] = {}
    body = text.split("#ifndef P2P_NO_PROTOTYPES", 1)[-1]
    for m in re.finditer(r"^[ \t]*((?:const\s+)?\w+[\s*]+?)(p2p_\w+)\s*\(([^;{]*?)\)\s*;", body, re.M):
        params = " ".join(m.group(3).split())
        args = [] if params in ("", "void") else [
            re.sub(r"\s*\b\w+$", "", p.strip()) for p in params.split(",")]
        protos[m.group(2)] = (" ".join(m.group(1).split()), args)
    return defines, enums, structs, protos


def class_name(c_name: str) -> str:
    """p2p_secure_config -> P2PSecureConfig."""
    return "P2P" + "".join(p.capitalize() for p in c_name.split("_")[1:])


INTS = {"int8_t": ("c_int8", "sbyte"), "uint8_t": ("c_uint8", "byte"),
        "int16_t": ("c_int16", "short"), "uint16_t": ("c_uint16", "ushort"),
        "int32_t": ("c_int32", "int"), "uint32_t": ("c_uint32", "uint"),
        "int64_t": ("c_int64", "long"), "uint64_t": ("c_uint64", "ulong"),
        "int": ("c_int", "int"), "unsigned": ("c_uint", "uint"), "char": ("c_char", "byte"),
        "size_t": ("c_size_t", "UIntPtr"), "double": ("c_double", "double")}


def py_type(ctype: str, structs: Dict[str, List[Field]]) -> str:
    base = ctype.replace("const ", "").replace("*", "").strip()
    stars = ctype.count("*")
    if stars == 0:
        if base in INTS:
            return "ctypes." + INTS[base][0]
        if base in structs:
            return class_name(base)
        raise SystemExit(f"gen_constants: no ctypes type for '{ctype}'")
    if stars == 1 and base == "char":
        return "ctypes.c_char_p"
    if stars == 1 and base in structs:
        return f"ctypes.POINTER({class_name(base)})"
    return "ctypes.c_void_p"


def py_param(ctype: str, structs: Dict[str, List[Field]]) -> str:
    """A parameter's or result's ctypes type: char * as c_char_p, other data as
    c_void_p, opaque handles as c_void_p, pointers to numbers and structs as POINTER."""
    base = ctype.replace("const ", "").replace("*", "").strip()
    stars = ctype.count("*")
    if ctype == "void":
        return "None"
    if stars == 0:
        return "ctypes.c_void_p" if base.endswith("_fn") else py_type(ctype, structs)
    if stars == 1 and base == "char":
        return "ctypes.c_char_p"
    if stars == 1 and (base in INTS or base in structs) and base != "uint8_t":
        return f"ctypes.POINTER({py_type(base, structs)})"
    if stars == 2:
        return "ctypes.POINTER(ctypes.c_void_p)"
    return "ctypes.c_void_p"


def cs_type(ctype: str, structs: Dict[str, List[Field]]) -> str:
    base = ctype.replace("const ", "").replace("*", "").strip()
    if "*" in ctype:
        return "IntPtr"
    if base in INTS:
        return INTS[base][1]
    if base in structs:
        return class_name(base)
    raise SystemExit(f"gen_constants: no C# type for '{ctype}'")


def short_names(members: Dict[str, int]) -> Dict[str, str]:
    """Each member's name without the enum's common prefix, lower case:
    P2P_OVERFLOW_DROP_OLDEST -> drop_oldest (P2P_ alone for a lone member)."""
    names = list(members)
    prefix = os.path.commonprefix(names) if len(names) > 1 else "P2P_"
    prefix = prefix[:prefix.rfind("_") + 1]
    return {n: n[len(prefix):].lower() for n in names}


HEAD = "Generated by tools/gen_constants.py from include/p2pnode.h: do not edit (make check-generated)."


PY_PKG = "bindings/python/p2pnode"


def py_used(root: str) -> set:
    """The header names the Python package's sources (not _constants.py) mention."""
    pkg = os.path.join(root, PY_PKG)
    words: set = set()
    for f in sorted(os.listdir(pkg)):
        if f.endswith(".py") and f != "_constants.py":
            with open(os.path.join(pkg, f), encoding="utf-8") as src:
                words.update(re.findall(r"\b(?:p2p|P2P)\w*", src.read()))
    return words


def python(defines: Dict[str, object], enums: Dict[str, Dict[str, int]],
           structs: Dict[str, List[Field]], protos: Dict[str, Tuple[str, List[str]]],
           used: set) -> str:
    """Only what the package uses: the status codes, an enum's members it names (one line)
    and its short-name dict if it names that, a struct per line, the functions it calls."""
    missing = sorted(w for w in used if w.startswith("p2p_") and w not in protos
                     and w not in structs and w not in enums)
    if missing:
        raise SystemExit("gen_constants: the Python package calls what the header lacks: "
                         + ", ".join(missing))
    out = [f'"""{HEAD}"""', "# ruff: noqa: E501", "import ctypes", "from typing import Any, Dict, List, Tuple", ""]
    codes = {k: v for k, v in defines.items() if re.fullmatch(r"P2P_(OK|E[A-Z]+)", k)}
    out += [f"{k} = {v!r}" for k, v in defines.items()
            if (k in used or k == "P2P_VERSION_STRING") and k not in codes]
    out.append(", ".join(codes) + " = " + ", ".join(map(str, codes.values())))
    out.append("CODE_NAMES: Dict[int, str] = {" + ", ".join(f'{v}: "{k}"' for k, v in codes.items()) + "}")
    for name, members in enums.items():
        named = {k: v for k, v in members.items() if k in used}
        if named:
            out.append(", ".join(named) + " = " + ", ".join(map(str, named.values())))
        if name.upper() in used:
            short = short_names(members)
            out.append(f"{name.upper()}: Dict[str, int] = {{"
                       + ", ".join(f'"{short[k]}": {v}' for k, v in members.items()) + "}")
    calls = {n: p for n, p in protos.items() if n in used}
    want = {class_name(s) for s in structs} & used
    for res, args in calls.values():
        want.update(re.findall(r"P2P\w+", " ".join(py_param(t, structs) for t in [res] + args)))
    for name, fields in reversed(list(structs.items())):  # a struct's parts come first
        if class_name(name) in want:
            want.update(re.findall(r"P2P\w+", " ".join(py_type(t, structs) for t, _, _ in fields)))
    for name, fields in structs.items():
        if class_name(name) in want:
            fs = ", ".join(f'("{f}", {py_type(t, structs) + " * " + str(a) if a else py_type(t, structs)})'
                           for t, f, a in fields)
            out.append(f"class {class_name(name)}(ctypes.Structure): _fields_ = [{fs}]  # struct {name}")
    out.append("PROTOTYPES: Dict[str, Tuple[Any, List[Any]]] = {  # name -> (restype, argtypes)")
    line = "   "
    for n, (r, args) in calls.items():  # packed up to 200 columns
        item = f' "{n}": ({py_param(r, structs)}, [' + ", ".join(py_param(a, structs) for a in args) + "]),"
        if len(line) + len(item) > 200 and line.strip():
            out.append(line)
            line = "   "
        line += item
    out += [line, "}"] if line.strip() else ["}"]
    text = "\n".join(out) + "\n"  # ctypes' names imported by name: shorter lines
    names = sorted(set(re.findall(r"\bctypes\.(\w+)", text)))
    text = text.replace("import ctypes\n", "from ctypes import " + ", ".join(names) + "\n", 1)
    return text.replace("ctypes.", "")


# C#: the public enums (PascalCase, in namespace P2PNode) and the internal ones, each as
# (header enum, or "codes" for the P2P_OK/P2P_E* defines; C# name; summary; member renames,
# None to leave a member out; extra members; attribute). Members are documented in the header.
CS_ENUMS: List[Tuple[str, str, str, Dict[str, Optional[str]], str, str]] = [
    ("codes", "ErrorCode", "Status codes of the native library (P2P_OK, P2P_E*).", {
        "P2P_OK": "Ok", "P2P_EINVAL": "InvalidArgument", "P2P_EHANDLE": "InvalidHandle",
        "P2P_ESTATE": "InvalidState", "P2P_ESTOPPED": "Stopped", "P2P_ESELF": "Self",
        "P2P_EALREADY": "AlreadyConnected", "P2P_ECONNECT": "ConnectFailed",
        "P2P_EHANDSHAKE": "HandshakeFailed", "P2P_ENOPEER": "NoPeer", "P2P_EFULL": "QueueFull",
        "P2P_ETOOBIG": "TooBig", "P2P_ENOTFOUND": "NotFound", "P2P_ERANGE": "Range",
        "P2P_EBIND": "Bind", "P2P_EINTERNAL": "Internal", "P2P_EKEY": "Key",
        "P2P_EREJECTED": "Rejected", "P2P_EFORK": "Forked", "P2P_EREFUSED": "Refused"}, "", ""),
    ("p2p_kind", "MessageKind", "How a received payload is presented, by p2pnetwork's rule.",
     {}, "", ""),
    ("p2p_direction", "Direction", "Which side opened a connection.", {"P2P_ALL": None}, "", ""),
    ("p2p_compression", "Compression", "How a message travels on the wire (p2pnetwork's compression).",
     {}, "", ""),
    ("p2p_limit", "Limit", "Limits of a node (P2P_LIMIT_*, defaults in the header); 0 restores a default.",
     {}, "", ""),
    ("p2p_encryption", "Encryption", "A node's mode for the native protocol (Limit.Encryption).",
     {}, "", ""),
    ("p2p_overflow_policy", "OverflowPolicy", "What a send does when a queue is full (Limit.OverflowPolicy).",
     {}, "", ""),
    ("p2p_reject", "Reject", "Why a SecureNode rejected a message.", {}, "", ""),
    ("p2p_key_policy", "KeyPolicy", "Which public key a SecureNode accepts for a sender's node id.",
     {}, "", ""),
    ("p2p_key_format", "KeyFormat", "Formats SecureNode.KeyPairSave writes.",
     {"P2P_KEY_FORMAT_P2PNODE": "P2PNode", "P2P_KEY_FORMAT_P2PSECURE": "P2PSecure"}, "", ""),
    ("p2p_delegate", "SecureDelegate", "Message types a SecureNode hands to OnSecureMessage (SetDelegate).",
     {}, "None = 0, ", "[Flags] "),
    ("p2p_secure_step", "SecureStep", "The steps of a secure node's own handling of a delegated message.",
     {}, "", ""),
]
CS_INTERNAL_ENUMS = ["p2p_event_type", "p2p_direction"]
CS_STRUCTS = ["p2p_buf", "p2p_peer", "p2p_ev", "p2p_secure_opts"]
# The public counters: p2p_stats's layout, with p2p_counters's fields and their comments as
# the docs (the two structs hold the same fields; the generator checks it).
CS_COUNTERS = ("p2p_stats", "p2p_counters", "NodeCounters",
               "Counters of a node, or of one peer (Node.Counters, Node.CountersOf; p2p_counters "
               "in p2pnode.h): at most once per link, in order, Accepted == Written + "
               "DroppedOverflow + DroppedLinkLost + DroppedStop + Queued.")


def pascal(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("_"))


def cs_counters(header: str, structs: Dict[str, List[Field]]) -> List[str]:
    """The public struct CS_COUNTERS names: one line per line of p2p_counters, its comment the
    summary (a delimited doc comment) of the fields it declares; a comment alone on its line
    stays a comment."""
    layout, documented, name, doc = CS_COUNTERS
    body = re.search(r"typedef\s+struct\s+" + documented + r"\s*\{(.*?)\}", header, re.S)
    if body is None:
        raise SystemExit(f"gen_constants: no struct {documented} in the header")
    out, seen = [f"    /// <summary>{doc}</summary>",
                 f"    [StructLayout(LayoutKind.Sequential)] public partial struct {name}", "    {",
                 "        internal UIntPtr size;"], []
    for line in body.group(1).splitlines():
        m = re.fullmatch(r"\s*uint64_t\s+([\w, ]+);\s*/\*\s*(.*?)\s*\*/\s*", line)
        alone = re.fullmatch(r"\s*/\*\s*(.*?)\s*\*/\s*", line)
        if m:
            names = [n.strip() for n in m.group(1).split(",")]
            seen += names
            text = m.group(2)[0].upper() + m.group(2)[1:].replace("<", "&lt;").replace(">", "&gt;")
            out.append(f"        /** <summary>{text.rstrip('.')}.</summary> */ public ulong "
                       + ", ".join(pascal(n) for n in names) + ";")
        elif alone:
            out.append("        // " + alone.group(1))
        elif line.strip():
            raise SystemExit(f"gen_constants: cannot read the line '{line.strip()}' of {documented}")
    fields = [f for _, f, _ in structs[layout]]
    if fields != ["size"] + seen or any(t != "uint64_t" for t, _, _ in structs[layout][1:]):
        raise SystemExit(f"gen_constants: {layout} is not size then {documented}'s fields")
    return out + ["    }"]


def cs_wrap(head: str, items: List[str], indent: str, tail: str, sep: str = ", ") -> List[str]:
    """head, then items joined by sep on lines of at most 120 characters, then tail."""
    lines, line = [], indent + head
    for i, item in enumerate(items):
        piece = item + (sep if i < len(items) - 1 else "")
        if len(line) + len(piece.rstrip()) > 120:
            lines.append(line.rstrip())
            line = indent + "    "
        line += piece
    return lines + [line + tail]


def cs_enum(members: Dict[str, int], renames: Dict[str, Optional[str]]) -> List[str]:
    short = short_names(members)
    pascal = {k: "".join(p.capitalize() for p in short[k].split("_")) for k in members}
    return [f"{renames.get(k, pascal[k])} = {v}"
            for k, v in members.items() if renames.get(k, "") is not None]


def csharp(header: str, defines: Dict[str, object], enums: Dict[str, Dict[str, int]],
           structs: Dict[str, List[Field]], protos: Dict[str, Tuple[str, List[str]]]) -> str:
    out = [f"// {HEAD}",
           "#pragma warning disable 1591 // each member is documented where the header defines it",
           "using System;", "using System.Runtime.InteropServices;", "", "namespace P2PNode", "{"]
    codes = {k: int(v) for k, v in defines.items()  # type: ignore[call-overload]
             if re.fullmatch(r"P2P_(OK|E[A-Z]+)", k)}
    for src, name, doc, renames, extra, attr in CS_ENUMS:
        members = codes if src == "codes" else enums[src]
        if src == "codes" and set(members) != set(renames):
            raise SystemExit("gen_constants: CS_ENUMS has no C# name for "
                             + ", ".join(set(members) ^ set(renames)))
        out.append(f"    /// <summary>{doc}</summary>")
        out += cs_wrap(f"{attr}public enum {name} {{ {extra}", cs_enum(members, renames), "    ", " }")
    out += cs_counters(header, structs)
    out += ["}", "", "namespace P2PNode.Native", "{",
            "    // The header's enums and structs of the same names (p2p_ev -> P2PEv), for this binding's own use."]
    for src in CS_INTERNAL_ENUMS:
        out += cs_wrap(f"internal enum {class_name(src)} {{ ", cs_enum(enums[src], {}), "    ", " }")
    for name in CS_STRUCTS:
        runs: List[Tuple[str, List[str]]] = []
        for ctype, fname, arr in structs[name]:
            if arr:  # a fixed array: marshalled by value, a declaration of its own
                runs.append((f"[MarshalAs(UnmanagedType.ByValArray, SizeConst = {arr})] public "
                             f"{cs_type(ctype, structs)}[]", [fname]))
                runs.append(("", []))  # nothing joins it
                continue
            t = cs_type(ctype, structs)
            if runs and runs[-1][0] == t:
                runs[-1][1].append(fname)
            else:
                runs.append((t, [fname]))
        # A run of fields of one type is one declaration (the same layout), on as few lines as fit.
        words = [(("" if t.startswith("[") else "public ") + t + " " if i == 0 else "") + n
                 + ("," if i < len(names) - 1 else ";") for t, names in runs for i, n in enumerate(names)]
        out += cs_wrap(f"[StructLayout(LayoutKind.Sequential)] internal struct {class_name(name)} {{ ",
                       words, "    ", " }", " ")
    out.append("}")
    return "\n".join(out) + "\n"


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--header", default=os.path.join(ROOT, "include", "p2pnode.h"))
    ap.add_argument("--out", default=ROOT)
    ap.add_argument("--check", metavar="RESULTS", help="regenerate into a temporary directory, diff"
                    " with the files under --out, write 'N passed, N failed' into RESULTS")
    args = ap.parse_args(argv)
    with open(args.header, encoding="utf-8") as f:
        header = f.read()
    parsed = parse(header)
    out = tempfile.mkdtemp(prefix="gen_constants.") if args.check else args.out
    for rel, text in ((PY_OUT, python(*parsed, py_used(args.out))), (CS_OUT, csharp(header, *parsed))):
        path = os.path.join(out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    if not args.check:
        return 0
    passed = failed = 0
    for rel in (PY_OUT, CS_OUT):
        new = open(os.path.join(out, rel), encoding="utf-8").read().splitlines(keepends=True)
        try:
            old = open(os.path.join(args.out, rel), encoding="utf-8").read().splitlines(keepends=True)
        except OSError:
            old = []
        diff = list(difflib.unified_diff(old, new, "committed/" + rel, "regenerated/" + rel))
        print(f"check-generated: {rel}: {'differs from the header (run tools/gen_constants.py)' if diff else 'up to date'}")
        sys.stdout.writelines(diff)
        passed, failed = passed + (not diff), failed + bool(diff)
    shutil.rmtree(out)
    with open(args.check, "w", encoding="utf-8") as f:
        f.write(f"{passed} passed, {failed} failed\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
