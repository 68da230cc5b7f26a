# claimscan image: the same setup script as `make`, then a release build.
# (No docker engine was available where this was written; it is a thin wrapper on purpose.)
FROM rust:1.95-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-pip python3-venv make sudo \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
ENV CARGO_TARGET_DIR=/app/target OMP_THREAD_LIMIT=1
RUN bash scripts/setup.sh && cargo build --release -p claimscan-cli \
    && install -D target/release/claimscan /usr/local/bin/claimscan \
    && mkdir -p /usr/local/lib/claimscan && cp -L .native/lib/*.so* /usr/local/lib/claimscan/
ENTRYPOINT ["claimscan"]
CMD ["--help"]
