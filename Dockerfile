# proxflow on Debian bookworm. The build stage uses the same scripts as CI (install-deps,
# setup, test); the runtime stage ships only binaries and runtime libraries as a non-root user.
#   docker build -t proxflow .                    the CPU image (the last stage, `runtime`)
#   docker build --target cuda -t proxflow:cuda .  the CUDA image (stages cuda-*, below)
FROM debian:bookworm AS build
WORKDIR /src
COPY . .
RUN scripts/install-deps && scripts/setup && \
    ctest --test-dir build --output-on-failure -L unit

# ---- CUDA variant -------------------------------------------------------------------------
# Debian's LibTorch is CPU-only, and NVIDIA's CUDA images are Ubuntu. The CUDA image builds with
# scripts/build-cuda, exactly as on a GPU machine: the LibTorch inside PyTorch's CUDA wheel, and
# the bookworm packages of every other library unpacked beside the build (fetched on bookworm
# by `scripts/build-cuda fetch`; CI builds this path against Debian's LibTorch in
# deploy.cuda_deps_build, and the same script built and tested the project on an H200).
FROM debian:bookworm AS cuda-debs
COPY scripts/build-cuda /usr/local/bin/build-cuda
RUN apt-get update -qq && build-cuda fetch /debs

FROM nvidia/cuda:13.0.0-devel-ubuntu24.04 AS cuda-build
ARG TORCH_VERSION=2.11.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cu130
# Compute capabilities compiled for by LibTorch's CMake (Ampere, Hopper).
ARG TORCH_CUDA_ARCH_LIST="8.0;9.0"
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends python3 python3-venv g++ cmake ninja-build binutils && \
    python3 -m venv /opt/torch && \
    /opt/torch/bin/pip install --no-cache-dir "torch==${TORCH_VERSION}" --index-url "${TORCH_INDEX_URL}"
WORKDIR /src
COPY . .
COPY --from=cuda-debs /debs /debs
# GPU tests skip without a device at build time; the CPU-side core suite runs.
RUN PROXFLOW_DEBS=/debs PROXFLOW_PYTHON=/opt/torch/bin/python3 \
      TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST}" \
      scripts/build-cuda proxflow-server proxflow proxflow-lab core_tests && \
    . build-cuda/env.sh && build-cuda/tests/core_tests --gtest_filter='-SlowTraining.*' && \
    mkdir -p /opt/proxflow/lib && cp -a build-cuda/deps/usr/lib/x86_64-linux-gnu/. /opt/proxflow/lib/

FROM nvidia/cuda:13.0.0-runtime-ubuntu24.04 AS cuda
# The PyTorch environment carries LibTorch and the CUDA libraries it was built with; the
# binaries find them through their build RPATH (same path here) and the unpacked bookworm
# libraries through LD_LIBRARY_PATH. LD_PRELOAD: see scripts/build-cuda (libtorch.so's copies
# of std::filesystem functions must not win symbol lookup).
COPY --from=cuda-build /opt/torch /opt/torch
COPY --from=cuda-build /opt/proxflow/lib /opt/proxflow/lib
COPY --from=cuda-build /src/build-cuda/tools/lab/proxflow-lab /usr/local/bin/proxflow-lab
COPY --from=cuda-build /src/build-cuda/server/proxflow-server /usr/local/bin/proxflow-server
COPY --from=cuda-build /src/build-cuda/client/proxflow /usr/local/bin/proxflow
ENV LD_LIBRARY_PATH=/opt/proxflow/lib \
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libstdc++.so.6 \
    NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/proxflow proxflow
USER 10001:10001
WORKDIR /var/lib/proxflow
VOLUME /var/lib/proxflow/data
EXPOSE 50051 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
  CMD ["/usr/local/bin/proxflow", "--server", "127.0.0.1:50051", "--timeout", "4", "health"]
ENTRYPOINT ["/usr/local/bin/proxflow-server"]
CMD ["--listen", "0.0.0.0:50051", "--metrics_listen", "0.0.0.0:9464", "--data_dir", "/var/lib/proxflow/data", "--device", "auto"]

# ---- CPU runtime (the default target) -------------------------------------------------------
FROM debian:bookworm AS runtime
# The same package list CI checks against the binaries (ctest deploy.runtime_packages_cover_binaries).
COPY scripts/runtime-deps /usr/local/lib/proxflow/runtime-deps
RUN /usr/local/lib/proxflow/runtime-deps install && rm -rf /var/lib/apt/lists/* && \
    useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/proxflow proxflow
COPY --from=build /src/build/tools/lab/proxflow-lab /usr/local/bin/proxflow-lab
COPY --from=build /src/build/server/proxflow-server /usr/local/bin/proxflow-server
COPY --from=build /src/build/client/proxflow /usr/local/bin/proxflow
# Numeric, so Kubernetes can verify runAsNonRoot.
USER 10001:10001
WORKDIR /var/lib/proxflow
VOLUME /var/lib/proxflow/data
EXPOSE 50051 9464
# The server listens beyond loopback inside the container (the port is published by the
# operator); it warns loudly while authentication is not configured.
# Ready = storage open and recovery done (grpc.health.v1 through the CLI).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/proxflow", "--server", "127.0.0.1:50051", "--timeout", "4", "health"]
ENTRYPOINT ["/usr/local/bin/proxflow-server"]
CMD ["--listen", "0.0.0.0:50051", "--metrics_listen", "0.0.0.0:9464", "--data_dir", "/var/lib/proxflow/data"]
