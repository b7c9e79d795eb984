# syntax=docker/dockerfile:1
# The zoho-sync binary (the daemon, the one-shot commands and the emulator) in a slim
# image. The entrypoint is the binary and the working directory holds the configuration,
# so `docker run IMAGE` runs the daemon on /etc/zoho-sync/sync.toml and
# `docker run IMAGE status` (or `emulator --listen 0.0.0.0:8089`, ...) runs any command.
# Mount your own sync.toml over /etc/zoho-sync/sync.toml; pass DATABASE_URL and
# ZOHO_AUTHTOKEN as environment variables (never bake the token into an image).

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# The build needs no database (runtime-checked queries; migrations are embedded).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    SQLX_OFFLINE=true cargo build --release --locked --bin zoho-sync \
    && cp target/release/zoho-sync /usr/local/bin/zoho-sync

FROM debian:bookworm-slim
# ca-certificates for https://support.zoho.com; curl for health checks against the
# daemon's /healthz and /readyz.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --no-create-home --shell /usr/sbin/nologin zoho-sync
COPY --from=build /usr/local/bin/zoho-sync /usr/local/bin/zoho-sync
COPY sync.toml /etc/zoho-sync/sync.toml
WORKDIR /etc/zoho-sync
USER zoho-sync
# 9187: the daemon's /healthz, /readyz, /metrics and / (set daemon.listen to 0.0.0.0:9187,
# e.g. ZOHO_SYNC__DAEMON__LISTEN, to reach it from outside the container; / and /metrics
# then need the bearer token named by daemon.auth_token_env).
# 8089: the emulator, when the image runs `emulator --listen 0.0.0.0:8089`.
EXPOSE 9187 8089
# `docker stop` sends SIGTERM: the daemon lets the page in flight commit or roll back,
# releases its leases and exits 0 (within 10 s; keep the stop timeout above that).
STOPSIGNAL SIGTERM
ENTRYPOINT ["zoho-sync"]
CMD ["daemon"]
