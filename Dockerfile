# The five services, the lag exporter and the tools (npr-ops) for compose.yaml: the same binaries `make up` runs.
# Build stage: the toolchain `make test` uses (Swift 6.3; the resolved dependencies need tools 6.2 or later).
FROM swift:6.3-bookworm AS build
# Every RUN stops at the first failing command, including inside pipes.
SHELL ["/bin/bash", "-euo", "pipefail", "-c"]
RUN apt-get update \
 && apt-get install -y --no-install-recommends librdkafka-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# One product per invocation (`swift build` takes a single --product); Foundation and the Swift runtime are
# linked statically, so the runtime image needs no toolchain.
RUN for product in intake episode-linker indicator-calculator mortality-linker publisher npr-ops; do \
      swift build -c release --static-swift-stdlib --product "$product"; \
    done
# Binaries and the resource bundles (`<package>_<target>.resources`, looked up next to the executable).
# A missing binary, or a missing publisher bundle (its dashboard), fails the build.
RUN bin="$(swift build -c release --static-swift-stdlib --show-bin-path)"; \
    mkdir -p /out; \
    for product in intake episode-linker indicator-calculator mortality-linker publisher npr-ops; do \
      test -x "$bin/$product" || { echo "error: $bin/$product was not built" >&2; exit 1; }; \
      cp "$bin/$product" /out/; \
    done; \
    shopt -s nullglob; \
    bundles=("$bin"/*.resources); \
    publisher=("$bin"/*_publisher.resources); \
    (( ${#publisher[@]} == 1 )) || { echo "error: no publisher resource bundle in $bin" >&2; exit 1; }; \
    cp -R "${bundles[@]}" /out/; \
    ls -la /out

FROM debian:bookworm-slim
# librdkafka1 and libsqlite3-0 (GRDB) are linked dynamically; so are libcurl (FoundationNetworking) and libxml2
# (FoundationXML) even with a static Swift stdlib. curl is for HEALTHCHECK.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      librdkafka1 libsqlite3-0 libcurl4 libxml2 libstdc++6 tzdata ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 npr \
 && useradd --system --uid 10001 --gid npr --home-dir /state --no-create-home --shell /usr/sbin/nologin npr \
 && mkdir -p /state \
 && chown npr:npr /state
COPY --from=build /out/ /app/
# Fails the build if a binary needs a shared library this image lacks.
RUN set -eu; \
    for b in /app/intake /app/episode-linker /app/indicator-calculator /app/mortality-linker /app/publisher /app/npr-ops; do \
      libs="$(ldd "$b")"; \
      case "$libs" in *"not found"*) printf 'error: %s: missing shared libraries\n%s\n' "$b" "$libs" >&2; exit 1;; esac; \
    done
WORKDIR /app
# Reachable from outside the container, so production mode: a key and a token file are required (intake).
ENV NPR_STATE_DIR=/state NPR_HTTP_HOST=0.0.0.0 NPR_MODE=production
# NPR_HEALTH_PORT: the port HEALTHCHECK asks for /health/ready; set it to the service's own port
# (intake 8080, publisher 8081, episode-linker 8082, indicator-calculator 8083, mortality-linker 8084,
# lag-exporter 8085), as compose.yaml does.
ENV NPR_HEALTH_PORT=8080
EXPOSE 8080 8081 8082 8083 8084 8085
# npr, by number so that runtimes checking for a non-root user (runAsNonRoot) can tell.
USER 10001:10001
VOLUME /state
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=6 \
  CMD ["/bin/sh", "-c", "curl -fsS -o /dev/null \"http://127.0.0.1:${NPR_HEALTH_PORT}/health/ready\" || exit 1"]
