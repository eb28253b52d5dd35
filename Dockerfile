# Slipway container image: one static binary, nothing else.
#
#   docker build -t slipway/slipway:0.1.0 .
#
# Why a fully static (musl) binary: the same /slipway is also the build-pod executor. A BuildRun's
# Job runs an init container from this image, `/slipway executor install --to /slipway-tools`, which
# copies the binary into a shared emptyDir; the build container — any user-chosen image, glibc or
# Alpine/musl or busybox, with or without a libc at all — then runs /slipway-tools/slipway. Only a
# binary with no dynamic loader and no shared-library dependencies runs in all of them. The build
# stage checks that the result really has no program interpreter.
#
# Needs BuildKit (the default builder since Docker 23) for the cache mounts.

FROM rust:1.95-bookworm AS builder

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# musl-tools provides musl-gcc for the C parts of dependencies (ring, and aws-lc-sys, which the
# object-store clients need; cmake is its fallback build). Packages come from the base
# image's pinned Debian release; pinning exact versions would break on every Debian point release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools cmake ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && rustup target add x86_64-unknown-linux-musl

WORKDIR /src
COPY . .

# The registry, git checkouts and target directory live in BuildKit cache mounts, so rebuilds only
# recompile what changed; the binary is copied out of the cache mount within the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --target x86_64-unknown-linux-musl --bin slipway \
    && mkdir -p /out \
    && cp target/x86_64-unknown-linux-musl/release/slipway /out/slipway \
    && if readelf --program-headers /out/slipway | grep -q 'Requesting program interpreter'; then \
         echo 'error: /out/slipway is dynamically linked; it must be static to run in any build image' >&2; \
         exit 1; \
       fi \
    && /out/slipway --help >/dev/null

# A passwd/group entry for uid/gid 65532 so that tools resolving the current user find one.
RUN printf 'nonroot:x:65532:65532:nonroot:/tmp:/sbin/nologin\n' >/out/passwd \
    && printf 'nonroot:x:65532:\n' >/out/group

FROM scratch

LABEL org.opencontainers.image.title="slipway" \
      org.opencontainers.image.description="Kubernetes operator with the semantics of AWS CodePipeline, CodeBuild and CodeDeploy" \
      org.opencontainers.image.licenses="Apache-2.0"

COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=builder /out/passwd /etc/passwd
COPY --from=builder /out/group /etc/group
COPY --from=builder /out/slipway /slipway

ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt

USER 65532:65532
ENTRYPOINT ["/slipway"]
CMD ["controller"]
