#!/usr/bin/env bash
# scripts/check-rooms can fail: on a scratch tree holding one breach of each kind it exits 1
# and names each (a client including a core header, a server file reaching LibTorch through
# a core header, core including gRPC, a torch-free utility including the math), and on the
# same tree without them it passes.
#   tests/house/check_rooms_test.sh REPO_ROOT
set -euo pipefail
repo=${1:?usage: check_rooms_test.sh REPO_ROOT}
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree"/{core/base,core/image,core/kernels,server,client,proto/rpc}
printf '#include <ATen/ATen.h>\n' > "$tree/core/trainer_math.h"
printf '#include <string>\n' > "$tree/core/trainer.h"
printf '#include <string>\n' > "$tree/core/base/ok.h"
printf '#include "core/base/ok.h"\n' > "$tree/client/ok.cc"
printf '#include "core/trainer.h"\n' > "$tree/server/ok.cc"
"$repo/scripts/check-rooms" "$tree" > "$tree/clean.out" && clean=0 || clean=$?
[ "$clean" = 0 ] || { cat "$tree/clean.out"; echo "FAIL: a clean tree was refused"; exit 1; }

printf '#include "core/trainer.h"\n' > "$tree/client/bad_client.cc"
printf '#include "core/trainer_math.h"\n' > "$tree/server/bad_server.cc"
printf '#include <grpcpp/grpcpp.h>\n' > "$tree/core/bad_core.cc"
printf '#include "core/trainer.h"\n' > "$tree/core/image/bad_image.h"
"$repo/scripts/check-rooms" "$tree" > "$tree/bad.out" && bad=0 || bad=$?
cat "$tree/bad.out"
[ "$bad" = 1 ] || { echo "FAIL: exit $bad, want 1"; exit 1; }
for want in \
  'client/bad_client.cc:1: #include core/trainer.h: client/ may include only' \
  'server/bad_server.cc:1: #include core/trainer_math.h: server/ must stay torch-free, and core/trainer_math.h:1 includes <ATen/ATen.h>' \
  'core/bad_core.cc:1: #include grpcpp/grpcpp.h: core/ never includes gRPC' \
  'core/image/bad_image.h:1: #include core/trainer.h: core/image/ may include only' \
  'check-rooms: 4 breach(es)'; do
  grep -qF "$want" "$tree/bad.out" || { echo "FAIL: missing: $want"; exit 1; }
done
echo "check-rooms: refuses each breach, passes the clean tree"
