# kvorum image, FROM scratch: no base image is pulled. Build it with
# `make image` (scripts/image.sh), which puts static binaries in build/
# and prepares build/rootfs/data owned by uid 65532.
FROM scratch

# The version scripts/image.sh stamped into the binaries (git describe).
ARG VERSION=dev
LABEL org.opencontainers.image.title="kvorum" \
      org.opencontainers.image.version="$VERSION"

COPY build/kvorum-server build/kvorum-cl[i] /
COPY --chown=65532:65532 build/rootfs/data /data

# Defaults through the flags' environment twins, so that command-line
# flags (docker run ... --node-id x, compose's command:) override them and
# `docker run kvorum:dev healthcheck` still reaches the subcommand.
# Behind the container's network, bind every interface; --advertise (or
# --advertise-raft / --advertise-client) names the address peers and
# clients dial.
ENV KVORUM_DATA_DIR=/data \
    KVORUM_LISTEN=:31337 \
    KVORUM_RAFT_ADDR=0.0.0.0:31338 \
    KVORUM_GOSSIP_ADDR=:31339

USER 65532:65532
VOLUME /data
EXPOSE 31337/tcp 31338/tcp 31339/tcp 31339/udp

HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/kvorum-server", "healthcheck", "--addr", "127.0.0.1:31337"]

ENTRYPOINT ["/kvorum-server"]
