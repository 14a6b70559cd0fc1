#!/usr/bin/env bash
# The install suite: each ecosystem's way of getting p2pnode, tried as a
# user would, outside the tree, against what was installed:
#   - `make install PREFIX=<temp>` (and DESTDIR staging, and uninstall);
#   - tests/install/consumer copied to a temp dir, built with CMake
#     (find_package(p2pnode): p2pnode::p2pnode in C, p2pnode::cpp in C++) and
#     with pkg-config (p2pnode, p2pnode-cpp), every program run without
#     LD_LIBRARY_PATH (the rpath from the .pc / the imported target finds the
#     library);
#   - the README's Go example (examples/go/readme) built and run, and
#     tests/install/go-consumer, an external module (the README program as
#     its main package) requiring ours by path
#     (a replace directive to the checkout), built offline (GOPROXY=off);
#   - `make nuget`, the package's layout, `nuget install` from the folder
#     feed (no other source, no cache), a C# program built with mcs against
#     the installed lib/netstandard2.0/P2PNode.dll and run on mono with the
#     installed runtimes/linux-x64/native/libp2pnode.so copied next to it.
# Every check runs; "N passed, N failed" goes to $RESULTS.
set -uo pipefail
ROOT=${ROOT:?ROOT is the repository root}
RESULTS=${RESULTS:-$ROOT/build/results/install.txt}
MAKE=${MAKE:-make}
GO=${GO:-go}
CMAKE=${CMAKE:-cmake}
CC=${CC:-cc}
CXX=${CXX:-c++}
NUGET=${NUGET:-nuget}
MCS=${MCS:-mcs}
MONO=${MONO:-mono}
STEP_TIMEOUT=${STEP_TIMEOUT:-180}

mkdir -p "$(dirname "$RESULTS")"
echo "0 passed, 1 failed" > "$RESULTS"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/p2pnode-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/logs"
prefix=$tmp/prefix
version=$(sed -n 's/^#define P2P_VERSION_STRING "\(.*\)"/\1/p' "$ROOT/include/p2pnode.h")
passed=0; failed=0

# check NAME CMD...: runs CMD (a shell function or command) with its output in
# a log; a failure prints the log.
check() {
  local name=$1; shift
  local log=$tmp/logs/$name.log
  # The functions below run in a child bash (timeout runs programs only).
  if timeout -k 5 "$STEP_TIMEOUT" bash -c '"$@"' check "$@" > "$log" 2>&1; then
    passed=$((passed + 1)); echo "PASS $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/    /' "$log" | tail -40
  fi
}

# A program run as a user runs it: no LD_LIBRARY_PATH pointing anywhere.
run_plain() { env -u LD_LIBRARY_PATH "$@"; }

make_install() {
  local installed_files=(lib/libp2pnode.so include/p2pnode.h include/p2pnode.hpp lib/pkgconfig/p2pnode.pc
    lib/pkgconfig/p2pnode-cpp.pc lib/cmake/p2pnode/p2pnodeConfig.cmake lib/cmake/p2pnode/p2pnodeConfigVersion.cmake)
  "$MAKE" --no-print-directory -C "$ROOT" install PREFIX="$prefix" DESTDIR= || return 1
  local f
  for f in "${installed_files[@]}"; do
    [ -f "$prefix/$f" ] || { echo "missing: $prefix/$f"; return 1; }
  done
  grep -q -- "-Wl,-rpath,\${libdir}" "$prefix/lib/pkgconfig/p2pnode.pc" || { echo "p2pnode.pc has no rpath"; return 1; }
  PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --exact-version="$version" p2pnode p2pnode-cpp ||
    { echo "pkg-config does not see p2pnode $version"; return 1; }
}

destdir_install() {
  local stage=$tmp/stage
  "$MAKE" --no-print-directory -C "$ROOT" install DESTDIR="$stage" PREFIX=/opt/p2pnode || return 1
  [ -f "$stage/opt/p2pnode/lib/libp2pnode.so" ] || { echo "DESTDIR: no library in $stage/opt/p2pnode/lib"; return 1; }
  grep -qx 'prefix=/opt/p2pnode' "$stage/opt/p2pnode/lib/pkgconfig/p2pnode.pc" || { echo "DESTDIR leaked into p2pnode.pc"; return 1; }
  "$MAKE" --no-print-directory -C "$ROOT" uninstall DESTDIR="$stage" PREFIX=/opt/p2pnode || return 1
  local left
  left=$(find "$stage" -type f)
  [ -z "$left" ] || { echo "uninstall left: $left"; return 1; }
}

cmake_build() {
  cp -r "$ROOT/tests/install/consumer" "$tmp/consumer"
  "$CMAKE" -S "$tmp/consumer" -B "$tmp/consumer/build" -DCMAKE_PREFIX_PATH="$prefix" \
    -DWANT_VERSION="$version" -DCMAKE_BUILD_TYPE=Release &&
    "$CMAKE" --build "$tmp/consumer/build" -j 2
}

cmake_version_rejects_next_minor() {
  # find_package(p2pnode <next minor>) must not accept this install.
  local major minor
  IFS=. read -r major minor _ <<< "$version"
  mkdir -p "$tmp/ver" && cat > "$tmp/ver/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.16)
project(v NONE)
find_package(p2pnode $major.$((minor + 1)) QUIET)
if(p2pnode_FOUND)
  message(FATAL_ERROR "version $major.$((minor + 1)) was accepted")
endif()
find_package(p2pnode $major.$minor REQUIRED)
CM
  "$CMAKE" -S "$tmp/ver" -B "$tmp/ver/build" -DCMAKE_PREFIX_PATH="$prefix"
}

pkgconfig_c() {
  export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
  # shellcheck disable=SC2046
  "$CC" -Wall -Wextra -Werror -o "$tmp/c_pc" "$tmp/consumer/app.c" $(pkg-config --cflags --libs p2pnode) &&
    run_plain "$tmp/c_pc"
}

pkgconfig_cpp() {
  export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
  # shellcheck disable=SC2046
  "$CXX" -Wall -Wextra -Werror -o "$tmp/cpp_pc" "$tmp/consumer/app.cpp" $(pkg-config --cflags --libs p2pnode-cpp) &&
    run_plain "$tmp/cpp_pc"
}

go_readme() {
  (cd "$ROOT" && "$GO" build -o "$tmp/readme" ./examples/go/readme) && run_plain "$tmp/readme"
}

# The Go snippet of the README (the block after "Go (whole in ...") compiles
# as the body of a main function (it uses p2p, fmt and log, nothing else),
# and checks every error.
# (It names fixed ports; examples/go/readme is the program that runs.)
go_readme_snippet() {
  local dir=$tmp/go-snippet
  mkdir -p "$dir" && cp "$ROOT/tests/install/go-consumer/go.mod" "$ROOT/tests/install/go-consumer/go.sum" "$dir/" || return 1
  {
    printf 'package main\n\nimport (\n\t"fmt"\n\t"log"\n\n\t"github.com/p2pnode/p2pnode/p2p"\n)\n\nfunc main() {\n'
    awk '/^Go \(whole in/ {f = 1; next} f && /^```go/ {g = 1; next} g && /^```/ {exit} g {print}' "$ROOT/README.md"
    printf '}\n'
  } > "$dir/main.go"
  grep -q 'peer.Send' "$dir/main.go" || { echo "no Go snippet found in README.md"; cat "$dir/main.go"; return 1; }
  cat "$dir/main.go"
  # Every error is checked: none assigned to _, no call whose error is dropped.
  if grep -nE '_ :?= |, _ :?= |^\s*[a-z]+\.(Start|Send|SendMany|Connect|Stop)\(' "$dir/main.go"; then
    echo "the README's Go snippet drops errors (lines above)"; return 1
  fi
  cd "$dir" || return 1
  export GOFLAGS=-mod=mod GOWORK=off
  # Our module's requirements into the module cache, as go_consumer does:
  # offline, the snippet's module needs the go.mod of every module in the
  # graph (dsnet/golib's among them), which a build of ours alone need not
  # have fetched.
  (cd "$ROOT" && "$GO" mod download) || return 1
  "$GO" mod edit -replace "github.com/p2pnode/p2pnode=$ROOT" &&
    GOPROXY=off "$GO" vet . && GOPROXY=off "$GO" build -o /dev/null .
}

go_consumer() {
  # The module: its own go.mod and go.sum, and the README's program
  # (examples/go/readme) as its main package.
  cp -r "$ROOT/tests/install/go-consumer" "$tmp/go-consumer" &&
    cp "$ROOT/examples/go/readme/main.go" "$tmp/go-consumer/" || return 1
  cd "$tmp/go-consumer" || return 1
  export GOFLAGS=-mod=mod GOWORK=off
  # Our module's own requirements into the module cache (a no-op once the Go
  # suite ran); then the consumer builds offline: it needs nothing else.
  (cd "$ROOT" && "$GO" mod download) || return 1
  "$GO" mod edit -replace "github.com/p2pnode/p2pnode=$ROOT" &&
    GOPROXY=off "$GO" build -o "$tmp/go-consumer.bin" . &&
    run_plain "$tmp/go-consumer.bin"
}

nupkg=$ROOT/build/nuget/P2PNode.$version.nupkg
nuget_pack() {
  "$MAKE" --no-print-directory -C "$ROOT" nuget || return 1
  local want have
  want=$(printf '%s\n' lib/netstandard2.0/P2PNode.dll lib/netstandard2.0/P2PNode.dll.config \
    runtimes/linux-x64/native/libp2pnode.so runtimes/win-x64/native/p2pnode.dll)
  have=$(unzip -Z1 "$nupkg") || return 1
  echo "$have"
  local f
  for f in $want; do
    grep -qx "$f" <<< "$have" || { echo "the package lacks $f"; return 1; }
  done
  unzip -p "$nupkg" P2PNode.nuspec | grep -q "<version>$version</version>" || { echo "nuspec version is not $version"; return 1; }
}

# P2PNode.csproj (for dotnet pack) describes the package the nuspec packs:
# same id and version, the same native assets at the same package paths.
csproj_matches_nuspec() {
  local csproj=$ROOT/bindings/csharp/P2PNode.csproj nuspec=$ROOT/bindings/csharp/P2PNode.nuspec
  grep -q '<PackageId>P2PNode</PackageId>' "$csproj" && grep -q '<id>P2PNode</id>' "$nuspec" ||
    { echo "package ids differ"; return 1; }
  grep -q "<Version>$version</Version>" "$csproj" || { echo "csproj version is not $version"; return 1; }
  grep -q '<TargetFramework>netstandard2.0</TargetFramework>' "$csproj" || { echo "csproj is not netstandard2.0"; return 1; }
  local t
  for t in $(grep -oE 'target="runtimes/[^"]+"' "$nuspec" | sed 's/target="//; s/"$//'); do
    grep -q "PackagePath=\"$t\"" "$csproj" || { echo "csproj does not pack $t"; return 1; }
    echo "both pack $t"
  done
  [ "$(grep -c 'PackagePath="runtimes/' "$csproj")" -eq "$(grep -c 'target="runtimes/' "$nuspec")" ] ||
    { echo "csproj and nuspec carry different native assets"; return 1; }
}

nuget_consumer() {
  local feed=$tmp/feed out=$tmp/packages app=$tmp/csharp
  mkdir -p "$feed" "$app" && cp "$nupkg" "$feed/" || return 1
  # HOME in the temp dir: nuget writes its config there, not in the user's.
  HOME=$tmp/home "$NUGET" install P2PNode -Version "$version" -Source "$feed" -OutputDirectory "$out" \
    -NoCache -NonInteractive || return 1
  local pkg=$out/P2PNode.$version
  # As a mono user does: the managed DLL, its dllmap and the native library
  # side by side with the program.
  cp "$pkg/lib/netstandard2.0/P2PNode.dll" "$pkg/lib/netstandard2.0/P2PNode.dll.config" \
    "$pkg/runtimes/linux-x64/native/libp2pnode.so" "$app/" || return 1
  "$MCS" -nologo -warnaserror+ -r:"$app/P2PNode.dll" -out:"$app/Consumer.exe" \
    "$ROOT/tests/install/nuget-consumer/Program.cs" || return 1
  (cd "$tmp" && run_plain "$MONO" "$app/Consumer.exe")
}

export ROOT MAKE GO CMAKE CC CXX NUGET MCS MONO tmp prefix version nupkg
export -f run_plain make_install destdir_install cmake_build cmake_version_rejects_next_minor \
  pkgconfig_c pkgconfig_cpp go_readme go_readme_snippet go_consumer nuget_pack csproj_matches_nuspec nuget_consumer

check make-install make_install
check make-install-destdir-uninstall destdir_install
check cmake-consumer-builds cmake_build
check cmake-c-runs run_plain "$tmp/consumer/build/c_app"
check cmake-cpp-runs run_plain "$tmp/consumer/build/cpp_app"
check cmake-version-file cmake_version_rejects_next_minor
check pkgconfig-c pkgconfig_c
check pkgconfig-cpp pkgconfig_cpp
check go-readme-example go_readme
check go-readme-snippet-compiles go_readme_snippet
check go-external-module go_consumer
check nuget-pack nuget_pack
check csproj-describes-the-package csproj_matches_nuspec
check nuget-install-and-run nuget_consumer

echo "install: $passed passed, $failed failed"
echo "$passed passed, $failed failed" > "$RESULTS"
[ "$failed" -eq 0 ]
