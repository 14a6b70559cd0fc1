"""The build step of the p2pnode package: setuptools, plus `go build` of libp2pnode.

Everything declarative is in pyproject.toml; this file only adds commands:

- build_py also builds the native library with
  ``go build -buildmode=c-shared ./capi`` from the repository's Go sources and
  puts ``libp2pnode.so`` into the built package (into the source package
  for an editable install), so ``pip install ./bindings/python`` on a fresh
  clone installs a working package. It needs Go (the version go.mod names)
  and a C compiler for cgo; ``GO`` names another go binary.
- sdist carries those Go sources in ``gosrc/`` (with the modules they need,
  vendored by ``go mod vendor``), so an sdist builds on its own, offline.
- bdist_wheel tags the wheel ``py3-none-<platform>``: the library is loaded
  with ctypes, not imported as a CPython extension, so one wheel serves
  every Python 3 of that platform; but the wheel is not pure (it carries a
  machine-code library).

Where the Go sources are: ``$P2PNODE_GO_SOURCE`` if set, else ``gosrc/`` next
to this file (an unpacked sdist), else the repository root two levels up
(bindings/python in a checkout).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py as _build_py
from setuptools.command.sdist import sdist as _sdist

try:
    from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
except ImportError:  # setuptools < 70.1: the wheel package has it
    from wheel.bdist_wheel import bdist_wheel as _bdist_wheel

try:
    from setuptools.errors import ExecError as _BuildError
except ImportError:  # older setuptools
    from distutils.errors import DistutilsExecError as _BuildError

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "p2pnode"
MODULE = "github.com/p2pnode/p2pnode"
GOSRC = "gosrc"

if sys.platform == "win32":
    LIBNAME = "libp2pnode.dll"
elif sys.platform == "darwin":
    LIBNAME = "libp2pnode.dylib"
else:
    LIBNAME = "libp2pnode.so"


def _is_go_source(path: str) -> bool:
    """path holds our Go module: go.mod naming it, capi/ and include/p2pnode.h."""
    try:
        with open(os.path.join(path, "go.mod"), encoding="utf-8") as f:
            first = [ln.split() for ln in f if ln.startswith("module ")]
    except OSError:
        return False
    return (bool(first) and first[0][1:2] == [MODULE]
            and os.path.isdir(os.path.join(path, "capi"))
            and os.path.isfile(os.path.join(path, "include", "p2pnode.h")))


def go_source_dir() -> str:
    """The directory of the Go sources libp2pnode is built from (see the module doc)."""
    env = os.environ.get("P2PNODE_GO_SOURCE")
    candidates = [env] if env else [os.path.join(HERE, GOSRC),
                                    os.path.normpath(os.path.join(HERE, "..", ".."))]
    for c in candidates:
        if _is_go_source(c):
            return c
    raise _BuildError(
        "p2pnode: cannot find the Go sources of libp2pnode (looked in %s). Build from "
        "bindings/python of a p2pnode checkout, or from an sdist (it carries them in %s/), "
        "or set P2PNODE_GO_SOURCE to the repository root." % (", ".join(candidates), GOSRC))


def _go() -> str:
    go = os.environ.get("GO") or "go"
    found = shutil.which(go)
    if not found:
        raise _BuildError(
            "p2pnode: building %s from its Go sources needs Go (the version go.mod names) and "
            "a C compiler for cgo, and there is no %r on the PATH; install Go, or set GO to "
            "the go binary." % (LIBNAME, go))
    return found


def _run(cmd: list, cwd: str, env: dict) -> None:
    print("p2pnode: (cd %s && %s)" % (cwd, " ".join(cmd)), flush=True)
    try:
        subprocess.run(cmd, cwd=cwd, env=env, check=True)
    except subprocess.CalledProcessError as e:
        raise _BuildError("p2pnode: %s failed with exit status %d (its output is above)"
                          % (" ".join(cmd[:3]), e.returncode)) from None


def build_library(out_dir: str, temp_dir: str) -> str:
    """go build the C ABI into out_dir/LIBNAME (by way of temp_dir); return its path.

    The flags are those of the top Makefile's `make lib`, with -trimpath (no
    build paths in the library; the build from an unpacked sdist then finds
    go's cache of the in-tree one), -buildvcs=false (no git needed) and -s -w
    (no symbol table or DWARF; Go's tracebacks do not need them). The header's hash goes into CGO_CFLAGS as
    there: go's cache keys cgo objects by capi/'s own files only.
    """
    src = go_source_dir()
    go = _go()
    with open(os.path.join(src, "include", "p2pnode.h"), "rb") as f:
        header_hash = hashlib.sha256(f.read()).hexdigest()[:16]
    env = dict(os.environ)
    env["CGO_ENABLED"] = "1"
    env["CGO_CFLAGS"] = "-O2 -g -DP2P_HEADER_HASH_" + header_hash
    cmd = [go, "build", "-trimpath", "-buildvcs=false", "-buildmode=c-shared"]
    if os.path.isfile(os.path.join(src, "vendor", "modules.txt")):
        cmd.append("-mod=vendor")  # an sdist: everything is here, nothing is downloaded
    ldflags = "-s -w"
    if sys.platform.startswith("linux"):
        ldflags += " -extldflags -Wl,-soname," + LIBNAME
    os.makedirs(temp_dir, exist_ok=True)
    built = os.path.join(os.path.abspath(temp_dir), LIBNAME)
    cmd += ["-ldflags", ldflags, "-o", built, "./capi"]
    _run(cmd, src, env)
    os.makedirs(out_dir, exist_ok=True)
    target = os.path.join(out_dir, LIBNAME)
    # go build also writes a header (libp2pnode.h) next to the library: only the library ships.
    shutil.copyfile(built, target)
    os.chmod(target, 0o755)
    return target


class build_py(_build_py):
    """build_py, plus the native library in the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            out = os.path.join(HERE, PACKAGE)  # an editable install imports the sources
        else:
            out = os.path.join(self.build_lib, PACKAGE)
        temp = os.path.join(self.get_finalized_command("build").build_temp, "go")
        self._p2p_library = build_library(out, temp)

    def get_outputs(self, include_bytecode: bool = True) -> list:
        outputs = super().get_outputs(include_bytecode)
        if not getattr(self, "editable_mode", False):
            outputs.append(os.path.join(self.build_lib, PACKAGE, LIBNAME))
        return outputs


# Which files of the Go tree an sdist carries: what `go build ./capi` reads.
_GO_EXTS = (".go", ".c", ".h", ".s")
_GO_TOP = ("go.mod", "go.sum", os.path.join("include", "p2pnode.h"))
_GO_DIRS = ("capi", "p2p", "vendor")


def _go_files(src: str) -> list:
    files = [f for f in _GO_TOP if os.path.isfile(os.path.join(src, f))]
    for top in _GO_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(src, top)):
            rel = os.path.relpath(dirpath, src)
            # Tests, their data and C test programs are not part of the library.
            dirnames[:] = sorted(d for d in dirnames if d not in ("test", "testdata"))
            for fn in sorted(filenames):
                if top == "vendor":
                    files.append(os.path.join(rel, fn))
                elif fn.endswith(_GO_EXTS) and not fn.endswith("_test.go"):
                    files.append(os.path.join(rel, fn))
    return files


class sdist(_sdist):
    """sdist, carrying the Go sources (and vendored modules) in gosrc/."""

    def make_release_tree(self, base_dir: str, files: list) -> None:
        super().make_release_tree(base_dir, files)
        src = go_source_dir()
        dest = os.path.join(base_dir, GOSRC)
        for rel in _go_files(src):
            os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
            shutil.copyfile(os.path.join(src, rel), os.path.join(dest, rel))
        if not os.path.isfile(os.path.join(dest, "vendor", "modules.txt")):
            env = dict(os.environ)
            env["GOFLAGS"] = "-mod=mod"
            _run([_go(), "mod", "vendor"], dest, env)


class bdist_wheel(_bdist_wheel):
    """A platform wheel for every Python 3: py3-none-<platform> (see the module doc)."""

    def finalize_options(self) -> None:
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self) -> tuple:
        _, _, plat = super().get_tag()
        return "py3", "none", plat


class BinaryDistribution(Distribution):
    """The package carries a native library: install it as platform-specific."""

    def has_ext_modules(self) -> bool:
        return True


setup(
    distclass=BinaryDistribution,
    cmdclass={"build_py": build_py, "sdist": sdist, "bdist_wheel": bdist_wheel},
)
