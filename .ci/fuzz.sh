#!/usr/bin/env bash
# `make fuzz`: runs every Go fuzz target for FUZZTIME each (default 20s),
# one after the other, then the soak test (P2PNODE_SOAK=1, about 25 s).
# A crash stops the run; the failing input is saved by go under
# <package>/testdata/fuzz/<FuzzName>/, where `go test` replays it from then on.
# FUZZ_PARALLEL sets the fuzzing workers (default: go's, GOMAXPROCS).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-20s}
par=()
if [ -n "${FUZZ_PARALLEL:-}" ]; then par=(-parallel "$FUZZ_PARALLEL"); fi
for pkg in ./p2p/wire ./p2p/secure; do
  for target in $("$GO" test -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
    echo "== $pkg $target ($FUZZTIME)"
    "$GO" test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "${par[@]}" "$pkg"
  done
done
if [ "${FUZZ_SOAK:-1}" = 1 ]; then
  echo "== soak"
  P2PNODE_SOAK=1 "$GO" test -race -count=1 -run Soak -v ./p2p/
fi
