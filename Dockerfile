# ucm-gateway container image: a static binary on an empty (scratch) base, running as non-root.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t ucm-gateway .
#   docker run --read-only -p 8080:8080 ucm-gateway --demo
#
# The final stage is also built by .ci/container.sh from a host-built binary (no base image can
# be pulled there): keep every COPY in it a plain `COPY --from=build <absolute path> <dest>`.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/ucm-gateway ./cmd/ucm-gateway

FROM scratch
# The system roots, for units configured without ca_file or pin_sha256.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/ucm-gateway /ucm-gateway
# Any non-root uid works; the gateway writes nothing to disk, so the root filesystem may be
# read-only (docker run --read-only, readOnlyRootFilesystem: true).
USER 65532:65532
# The default configuration path is ucm-gateway.yaml in the working directory: mount the file at
# /etc/ucm-gateway/ucm-gateway.yaml. (Not UCM_GATEWAY_CONFIG: with --demo it would be loaded too.)
WORKDIR /etc/ucm-gateway
ENV UCM_GATEWAY_LISTEN=:8080
EXPOSE 8080
# No --start-period: the gateway listens within milliseconds (and dockerfilelint 1.8 misparses it).
HEALTHCHECK --interval=15s --timeout=5s --retries=3 \
  CMD ["/ucm-gateway", "healthcheck"]
ENTRYPOINT ["/ucm-gateway"]
