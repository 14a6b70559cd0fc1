#!/usr/bin/env bash
# make bench: builds the library, runs the Go, C and Python benchmarks (each
# a fixed, bounded amount of work), prints one table and writes it to
# bench/results.md. Raw figures go to build/bench/results.txt.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GO=${GO:-go}
PYTHON=${PYTHON:-python3}
CC=${CC:-cc}
OUT=$ROOT/build/bench
RES=$OUT/results.txt
mkdir -p "$OUT"
: > "$RES"
status=0

make -C "$ROOT" --no-print-directory lib >/dev/null || exit 1

echo "== Go benchmarks (bench/bench_test.go)"
(cd "$ROOT/bench" && BENCH_OUT=$RES timeout 240 "$GO" test -run '^$' -bench . -benchtime=1x -benchmem \
    -count=1 -timeout 230s .) 2>&1 | tee "$OUT/go.txt" | grep -E '^(Benchmark|ok|FAIL|PASS)' || status=1

echo "== C benchmarks (bench/c/cbench.c)"
if "$CC" -O2 -Wall -I"$ROOT/include" -o "$OUT/cbench" "$ROOT/bench/c/cbench.c" \
    -L"$ROOT/build" -lp2pnode -Wl,-rpath,"$ROOT/build" -lpthread; then
  timeout 120 "$OUT/cbench" | tee -a "$RES" || status=1
else
  status=1
fi

echo "== Python benchmarks (bench/py_bench.py; p2pnetwork as the baseline when installed)"
PYTHONPATH=$ROOT/bindings/python${PYTHONPATH:+:$PYTHONPATH} P2PNODE_LIBRARY=$ROOT/build/libp2pnode.so \
  timeout 150 "$PYTHON" "$ROOT/bench/py_bench.py" 2>"$OUT/py.err" | grep -E '^(py|ref)_' | tee -a "$RES" || status=1

echo
"$PYTHON" "$ROOT/bench/report.py" "$RES" "$ROOT/bench/results.md"
exit $status
