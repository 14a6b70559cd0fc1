#!/usr/bin/env bash
# make bench: installs the baselines (bench/deps.sh: libzmq, pyzmq,
# matplotlib), builds the library, runs the Go, C and Python benchmarks and
# their baselines in the same run (each a fixed, bounded amount of work),
# prints one table, writes it to bench/results.md and draws it as
# bench/results.png. Raw figures go to build/bench/results.txt.
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

echo "== Baseline dependencies (bench/deps.sh)"
PYTHON=$PYTHON bash "$ROOT/bench/deps.sh" || status=1

make -C "$ROOT" --no-print-directory lib >/dev/null || exit 1

echo "== Go benchmarks (bench/bench_test.go)"
(cd "$ROOT/bench" && BENCH_OUT=$RES PYTHON=$PYTHON timeout 240 "$GO" test -run '^$' -bench . -benchtime=1x -benchmem \
    -count=1 -timeout 230s .) 2>&1 | tee "$OUT/go.txt" | grep -E '^(Benchmark|ok|FAIL|PASS)' || status=1

echo "== C benchmarks (bench/c/cbench.c)"
if "$CC" -O2 -Wall -I"$ROOT/include" -o "$OUT/cbench" "$ROOT/bench/c/cbench.c" \
    -L"$ROOT/build" -lp2pnode -Wl,-rpath,"$ROOT/build" -lpthread; then
  timeout 120 "$OUT/cbench" | tee -a "$RES" || status=1
else
  status=1
fi
echo "== libzmq C baseline (bench/c/zmqbench.c)"
if "$CC" -O2 -Wall -o "$OUT/zmqbench" "$ROOT/bench/c/zmqbench.c" \
    $(pkg-config --cflags --libs libzmq 2>/dev/null || echo -lzmq) -lpthread; then
  timeout 60 "$OUT/zmqbench" | tee -a "$RES" || status=1
else
  status=1
fi

echo "== Python benchmarks (bench/py_bench.py; p2pnetwork as the baseline when installed)"
PYTHONPATH=$ROOT/bindings/python${PYTHONPATH:+:$PYTHONPATH} P2PNODE_LIBRARY=$ROOT/build/libp2pnode.so \
  timeout 150 "$PYTHON" "$ROOT/bench/py_bench.py" 2>"$OUT/py.err" | grep -E '^(py|py1|ref|zmq|cpy)_' | tee -a "$RES" || status=1

echo "== Gossip at 1,000 nodes (p2p/gossip_scale_test.go; one process, loopback, native TLS)"
(cd "$ROOT" && P2P_GOSSIP_NODES=${P2P_GOSSIP_NODES:-1000} GOSSIP_CSV=$OUT/gossip.csv timeout 600 "$GO" test -run '^$' \
    -bench BenchmarkGossipScale -benchtime=1x -count=1 -timeout 590s ./p2p/) 2>&1 | tee "$OUT/gossip.txt" \
    | grep -E '^([0-9]+ nodes|Benchmark|ok|FAIL)' || status=1
"$PYTHON" "$ROOT/bench/gossip_plot.py" "$OUT/gossip.csv" "$ROOT/bench/gossip.png" \
    "${P2P_GOSSIP_NODES:-1000} nodes on loopback (native TLS): 100 publishes, 4 in 5 nodes subscribed" || status=1

echo
"$PYTHON" "$ROOT/bench/report.py" "$RES" "$ROOT/bench/results.md" "$ROOT/bench/results.png" || status=1
exit $status
