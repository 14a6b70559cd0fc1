#!/usr/bin/env bash
# Prints the table of every suite's result files (build/results/*.txt, each a
# line "N passed, N failed") and one closing "N passed, N failed" line.
# Every suite named after the folder must have reported; one that did not
# counts as failed. Exits non-zero if any suite failed or recorded nothing.
set -u
dir=${1:-build/results}
shift || true
total_p=0; total_f=0; bad=0
for s in "$@"; do
  [ -e "$dir/$s.txt" ] || echo "0 passed, 1 failed (reported nothing)" > "$dir/$s.txt"
done
printf '\n%-28s %8s %8s\n' suite passed failed
for f in "$dir"/*.txt; do
  [ -e "$f" ] || continue
  name=$(basename "$f" .txt)
  line=$(grep -Eo '[0-9]+ passed, [0-9]+ failed' "$f" | tail -1)
  if [ -z "$line" ]; then
    printf '%-28s %8s %8s\n' "$name" "?" "?"; bad=1; continue
  fi
  p=${line%% passed*}; rest=${line#*, }; fl=${rest%% failed*}
  printf '%-28s %8d %8d\n' "$name" "$p" "$fl"
  total_p=$((total_p + p)); total_f=$((total_f + fl))
  [ "$fl" -eq 0 ] && [ "$p" -gt 0 ] || bad=1
done
echo
echo "${total_p} passed, ${total_f} failed"
exit $bad
