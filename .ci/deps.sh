#!/usr/bin/env bash
# Installs what the test suites need and a fresh machine lacks: Debian
# packages (apt-get update once, only when something is missing) and PyPI
# packages. Safe to run again: it installs nothing that is present.
set -euo pipefail

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

have mcs || need_apt+=(mono-mcs)
have mono || need_apt+=(mono-runtime)
have nunit-console || need_apt+=(nunit-console)
have_pkg libnunit-cil-dev || need_apt+=(libnunit-cil-dev)
have valgrind || need_apt+=(valgrind)
have cmake || need_apt+=(cmake)
have pkg-config || need_apt+=(pkg-config)
# The Windows DLL (make dll, test-dll) and the NuGet package (make nuget,
# the install suite: Debian's nuget CLI packs and installs it; unzip lists it).
have x86_64-w64-mingw32-gcc || need_apt+=(gcc-mingw-w64-x86-64)
have nuget || need_apt+=(nuget)
have unzip || need_apt+=(unzip)
have ip || need_apt+=(iproute2) # the gossip partition test makes network namespaces
[ -f /usr/include/gtest/gtest.h ] || need_apt+=(libgtest-dev)
[ -f /usr/include/cmocka.h ] || need_apt+=(libcmocka-dev)
have readelf || need_apt+=(binutils)  # the Python packaging check reads the wheel's library
${PYTHON:-python3} -c 'import ensurepip, venv' 2>/dev/null || need_apt+=(python3-venv)

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "deps: apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# staticcheck (the Go gate in .ci/go-test.sh), pinned, from the Go module
# proxy into Go's bin directory (GOBIN, else GOPATH/bin).
STATICCHECK_VERSION=v0.8.2  # staticcheck 2026.2.2, supports Go 1.26
GO=${GO:-go}
gobin=$($GO env GOBIN); [ -n "$gobin" ] || gobin=$($GO env GOPATH)/bin
if ! "$gobin/staticcheck" -version 2>/dev/null | grep -q "(${STATICCHECK_VERSION#v})"; then
  echo "deps: go install honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
  GOBIN=$gobin $GO install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi

PY=${PYTHON:-python3}
pip_need=()
$PY -c 'import pytest' 2>/dev/null || pip_need+=(pytest)
$PY - <<'PYEOF' 2>/dev/null || pip_need+=(p2pnetwork==1.2)
import importlib.metadata as m, sys
sys.exit(0 if m.version("p2pnetwork") == "1.2" else 1)
PYEOF
$PY -c 'import Crypto' 2>/dev/null || pip_need+=(pycryptodome)
# The Python package's gates (bindings/python: make lint).
$PY -m ruff --version >/dev/null 2>&1 || pip_need+=(ruff)
$PY -m mypy --version >/dev/null 2>&1 || pip_need+=(mypy)
if [ ${#pip_need[@]} -gt 0 ]; then
  echo "deps: pip install ${pip_need[*]}"
  $PY -m pip install -q --disable-pip-version-check "${pip_need[@]}"
fi
echo "deps: ok"
