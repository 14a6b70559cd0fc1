#!/usr/bin/env bash
# Checks the Windows DLL without Windows and writes "N passed, N failed" to
# $2: it builds (make dll), its exports are exactly the header's functions,
# it needs no MinGW runtime DLL a Windows machine lacks (libgcc_s_seh-1.dll,
# libwinpthread-1.dll: only system DLLs), and a C program links against it
# with the MinGW toolchain.
#   .ci/test-dll.sh <build/windows/libp2pnode.dll> <results file>
set -uo pipefail
dll=${1:?the DLL}
out=${2:?results file}
MAKE=${MAKE:-make}
dir=$(dirname "$dll")
mkdir -p "$dir"
mkdir -p "$(dirname "$out")"
echo "0 passed, 1 failed" > "$out"
passed=0; failed=0
ok() { passed=$((passed + 1)); echo "PASS dll: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL dll: $*"; }

if ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
  bad "x86_64-w64-mingw32-gcc is missing (apt-get install gcc-mingw-w64-x86-64; make deps)"
  echo "$passed passed, $failed failed" > "$out"; exit 1
fi
if "$MAKE" --no-print-directory dll >"$dir/build.log" 2>&1 || { cat "$dir/build.log"; false; }; then
  ok "builds ($(basename "$dll"), $(stat -c %s "$dll") bytes)"
else
  bad "does not build"
  echo "$passed passed, $failed failed" > "$out"; exit 1
fi

x86_64-w64-mingw32-objdump -p "$dll" > "$dir/objdump.txt"
sed -n '/Ordinal\/Name Pointer/,/^$/p' "$dir/objdump.txt" | grep -o 'p2p_[a-z_]*' | sort > "$dir/exports.txt"
grep -oE '^(int |void |const char \*)p2p_[a-z_]+\(' include/p2pnode.h | grep -oE 'p2p_[a-z_]+' | sort > "$dir/header.txt"
if [ -s "$dir/header.txt" ] && diff "$dir/header.txt" "$dir/exports.txt"; then
  ok "exports match the header ($(wc -l < "$dir/exports.txt") functions)"
else
  bad "exports differ from the header (< header, > DLL)"
fi

imports=$(grep -oE 'DLL Name: .*' "$dir/objdump.txt" | sed 's/DLL Name: //')
runtime=$(grep -iE '^lib' <<< "$imports")
if [ -n "$imports" ] && [ -z "$runtime" ]; then
  ok "imports only system DLLs ($(echo $imports))"
else
  bad "imports MinGW runtime DLLs a Windows machine lacks: $(echo $runtime)"
fi

if x86_64-w64-mingw32-gcc -Wall -Werror -Iinclude -o "$dir/link_check.exe" .ci/link_check.c "$dll"; then
  ok "a C program links against $(basename "$dll")"
else
  bad "a C program does not link against $(basename "$dll")"
fi

echo "dll: $passed passed, $failed failed"
echo "$passed passed, $failed failed" > "$out"
[ "$failed" -eq 0 ]
