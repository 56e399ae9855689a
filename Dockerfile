# Builds the five services (and the tools) for compose.yaml; the same binaries `make up` runs.
FROM swift:6.1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends librdkafka-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN swift build -c release --product intake --product episode-linker --product indicator-calculator \
      --product mortality-linker --product publisher --product npr-ops \
 && mkdir /out && cp "$(swift build -c release --show-bin-path)"/{intake,episode-linker,indicator-calculator,mortality-linker,publisher,npr-ops} /out/ \
 && cp -r "$(swift build -c release --show-bin-path)"/*.resources /out/ 2>/dev/null || true

FROM swift:6.1-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends librdkafka1 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /app/
WORKDIR /app
# Reachable from outside the container, so production mode: a key and a token file are required.
ENV NPR_STATE_DIR=/state NPR_HTTP_HOST=0.0.0.0 NPR_MODE=production
VOLUME /state
