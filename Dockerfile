# The zoho-sync binary (daemon, one-shot commands and the emulator) in a slim image.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN SQLX_OFFLINE=true cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/zoho-sync /usr/local/bin/zoho-sync
COPY sync.toml /etc/zoho-sync/sync.toml
ENTRYPOINT []
CMD ["zoho-sync", "--config", "/etc/zoho-sync/sync.toml", "--help"]
