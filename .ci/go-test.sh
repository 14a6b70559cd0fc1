#!/usr/bin/env bash
# Runs the Go suites (vet, gofmt, staticcheck, go test -race) and writes the line
# "N passed, N failed" to $1. A build failure or a failing package counts
# as a failure even when no single test reported one.
set -uo pipefail
out=${1:?results file}
log=$(dirname "$out")/go-test.log
GO=${GO:-go}
echo "0 passed, 1 failed" > "$out"
fail=0
$GO vet ./... || fail=1
unformatted=$(gofmt -l p2p capi examples bench tests 2>/dev/null)
if [ -n "$unformatted" ]; then echo "gofmt needed:"; echo "$unformatted"; fail=1; fi
# staticcheck, installed by .ci/deps.sh (make deps) into Go's bin directory;
# STATICCHECK names another binary. A finding fails the suite: fix it, or
# suppress it where it stands with //lint:ignore <check> <reason>.
gobin=$($GO env GOBIN); [ -n "$gobin" ] || gobin=$($GO env GOPATH)/bin
STATICCHECK=${STATICCHECK:-$gobin/staticcheck}
if [ -x "$STATICCHECK" ]; then
  $STATICCHECK ./p2p/... ./capi/... ./examples/... ./bench/... ./tests/... || { echo "staticcheck: findings above"; fail=1; }
else
  echo "staticcheck: $STATICCHECK not found (make deps installs it)"; fail=1
fi
$GO test -race -count=1 -timeout 600s -v ./p2p/... ./examples/... ./tests/... > "$log" 2>&1
rc=$?
grep -E '^(--- FAIL|FAIL|ok |panic:)|^\s+--- FAIL' "$log"
# What a failing test printed (go test -v puts it just above its FAIL line),
# so that a CI log that shows only its tail still says why.
if grep -qE '^\s*--- FAIL|^panic:' "$log"; then
  echo "== what the failing tests printed"
  grep -B25 -E '^\s*--- FAIL|^panic:' "$log" | grep -vE '^\s*(=== (RUN|PAUSE|CONT|NAME)|--- PASS)' | tail -150
fi
passed=$(grep -cE '^\s*--- PASS' "$log")
failed=$(grep -cE '^\s*--- FAIL' "$log")
skipped=$(grep -cE '^\s*--- SKIP' "$log")
if [ $rc -ne 0 ] || [ $fail -ne 0 ]; then
  [ "$failed" -eq 0 ] && failed=1
fi
echo "go: $passed passed, $failed failed, $skipped skipped (log: $log)"
echo "$passed passed, $failed failed" > "$out"
[ "$failed" -eq 0 ]
