#!/usr/bin/env bash
# Installs what `make bench` needs for its baselines and its chart (make test
# does not call this): libzmq3-dev from Debian (the C PUSH/PULL baseline),
# pyzmq (the Python PUSH/PULL and REQ/REP baselines) and matplotlib (the
# chart, Agg backend) from PyPI. Installs nothing that is present; runs
# apt-get update once, only when a Debian package is missing.
set -euo pipefail
PY=${PYTHON:-python3}
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

need_apt=()
have_pkg libzmq3-dev || need_apt+=(libzmq3-dev)
have_pkg pkg-config || command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "bench deps: apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
  $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

pip_need=()
$PY -c 'import zmq' 2>/dev/null || pip_need+=(pyzmq)
$PY -c 'import matplotlib' 2>/dev/null || pip_need+=(matplotlib)
if [ ${#pip_need[@]} -gt 0 ]; then
  echo "bench deps: pip install ${pip_need[*]}"
  $PY -m pip install -q --disable-pip-version-check "${pip_need[@]}"
fi
echo "bench deps: ok"
