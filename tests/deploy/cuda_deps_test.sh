#!/usr/bin/env bash
# The CUDA image's build path without a CUDA LibTorch (CI has none): fetch the Debian packages
# scripts/build-cuda unpacks on a non-Debian CUDA base, build the torch-free CLI against them
# alone (Debian's CPU LibTorch stands in for configuration), and run it with the generated
# environment. Fails when the package list misses a library the build or the binary needs.
#   usage: cuda_deps_test.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1
work=$2
mkdir -p "$work"
debs=$work/debs
if [ ! -f "$debs/.complete" ]; then
  rm -rf "$debs"
  "$src/scripts/build-cuda" fetch "$debs" >/dev/null
  touch "$debs/.complete"
fi
build=$work/build
PROXFLOW_DEBS=$debs PROXFLOW_BUILD_DIR=$build PROXFLOW_JOBS=2 PROXFLOW_REQUIRE_CUDA=0 \
  PROXFLOW_TORCH_DIR=/usr/lib/x86_64-linux-gnu/cmake/Torch \
  "$src/scripts/build-cuda" proxflow > "$work/build.log" 2>&1 ||
  { tail -30 "$work/build.log"; echo "FAIL: build-cuda with unpacked packages"; exit 1; }
fail() { echo "FAIL: $*"; exit 1; }
grep -q "^Protobuf_LIBRARY.*=$build/deps/usr/lib/x86_64-linux-gnu/libprotobuf.so" \
  "$build/CMakeCache.txt" || fail "protobuf was not taken from the unpacked packages"
grep -q "^gRPC_DIR.*=$build/deps/usr/lib/x86_64-linux-gnu/cmake/grpc" "$build/CMakeCache.txt" ||
  fail "gRPC was not taken from the unpacked packages"
# shellcheck disable=SC1091
source "$build/env.sh"
# Whole outputs first: `cmd | grep -q` under pipefail fails whenever grep's early exit gives
# cmd a SIGPIPE (CI saw this one report a CLI that did load the unpacked gRPC).
libs=$(ldd "$build/client/proxflow")
grep -qF "$build/deps/usr/lib/x86_64-linux-gnu/libgrpc++" <<<"$libs" ||
  { echo "$libs"; fail "the CLI does not load gRPC from the unpacked packages"; }
help=$("$build/client/proxflow" --help 2>&1) || fail "the CLI built against them does not run: $help"
grep -q "proxflow" <<<"$help" || fail "the CLI's --help does not name it: $help"
echo "cuda deps: $(ls "$debs"/*.deb | wc -l) packages unpacked; CLI built and run against them"
