#!/usr/bin/env bash
# Runs the C suite's steps for capi/test/Makefile (which sets the variables
# used here) and writes the total "N passed, N failed" to $RESULTS.
set -u
pass=0; fail=0
# add_counts FILE: adds the last "N passed, N failed" line of FILE.
add_counts() {
  local line p f
  line=$(grep -Eo '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -1)
  if [ -z "$line" ]; then echo "  (no summary line in $1)"; fail=$((fail + 1)); return; fi
  p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
  pass=$((pass + p)); fail=$((fail + f))
}
one() { # one NAME OK: counts a single test
  if [ "$2" = 1 ]; then echo "ok   $1"; pass=$((pass + 1)); else echo "FAIL $1"; fail=$((fail + 1)); fi
}

echo "== test_capi"
timeout 600 "$OUT/test_capi" 2>&1 | tee "$OUT/test_capi.log"
add_counts "$OUT/test_capi.log"

echo "== valgrind memcheck: test_capi --subset"
if [ "$VALGRIND" != 0 ] && command -v "$VALGRIND" >/dev/null; then
  # shellcheck disable=SC2086
  P2P_TEST_WAIT_MS=120000 timeout 600 "$VALGRIND" $VG_FLAGS --log-file="$OUT/valgrind.log" "$OUT/test_capi" --subset \
    > "$OUT/test_capi_vg.log" 2>&1
  rc=$?
  sed 's/^/  the tests under valgrind: /' <<< "$(tail -1 "$OUT/test_capi_vg.log")"
  grep -E 'ERROR SUMMARY|definitely lost:' "$OUT/valgrind.log" | sed 's/^==[0-9]*== /  /'
  # exit 99: memcheck found errors; 0/1: the tests' own verdict (counted above)
  [ $rc -ne 99 ] && [ $rc -ne 124 ] && grep -q 'ERROR SUMMARY: 0 errors' "$OUT/valgrind.log"
  ok=$(( $? == 0 ))
  [ $ok = 1 ] || echo "  see $OUT/valgrind.log"
  one "valgrind memcheck clean on test_capi --subset" $ok
  timeout 300 "$VALGRIND" $VG_FLAGS --log-file="$OUT/vg_canary.log" "$OUT/vg_canary" > /dev/null 2>&1
  rc=$?
  n=$(grep -c 'Invalid write of size 1' "$OUT/vg_canary.log")
  ok=0; [ $rc -eq 99 ] && [ "$n" -ge 2 ] && grep -q 'vg_canary.c:' "$OUT/vg_canary.log" && ok=1
  one "valgrind still reports invalid writes in C code (vg_canary: $n reported)" $ok
else
  one "valgrind memcheck (valgrind not run)" 0
  one "valgrind canary (valgrind not run)" 0
fi

echo "== check_header.py"
"$PYTHON" "$HERE/check_header.py" --header "$INCLUDE_DIR/p2pnode.h" --cgo "$LIB_DIR/libp2pnode.h" \
  --shim "$ROOT/capi/shim.c" --entry "$ROOT/capi/entry.c" --lib "$LIB_DIR/libp2pnode.so" > "$OUT/check_header.log" 2>&1
grep -v '^ok' "$OUT/check_header.log"
add_counts "$OUT/check_header.log"

echo "== layout_check"
"$OUT/layout_check" > "$OUT/layout_check.log" 2>&1
grep -E '^(FAIL|[0-9]+ passed)' "$OUT/layout_check.log"
add_counts "$OUT/layout_check.log"

echo "== examples/c"
$MAKE --no-print-directory -C "$ROOT/examples/c" run ROOT="$ROOT" LIB_DIR="$LIB_DIR" INCLUDE_DIR="$INCLUDE_DIR" \
  OUT="$OUT/examples" > "$OUT/examples.log" 2>&1
grep -E '^(ok|FAIL) ' "$OUT/examples.log"
p=$(grep -c '^ok   example' "$OUT/examples.log"); f=$(grep -c '^FAIL example' "$OUT/examples.log")
[ $((p + f)) -eq 5 ] || { echo "  examples did not build/run: see $OUT/examples.log"; f=$((5 - p)); }
pass=$((pass + p)); fail=$((fail + f))

echo "$pass passed, $fail failed" | tee "$RESULTS"
[ "$fail" -eq 0 ]
