# proxflow on Debian bookworm. The build stage uses the same scripts as CI (install-deps,
# setup, test); the runtime stage ships only binaries and runtime libraries as a non-root user.
FROM debian:bookworm AS build
WORKDIR /src
COPY . .
RUN scripts/install-deps && scripts/setup && \
    ctest --test-dir build --output-on-failure -L unit

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
