#!/usr/bin/env bash
# scripts/image.sh builds the kvorum container image without pulling
# anything: static binaries are built on the host into build/, a data
# directory owned by uid 65532 is prepared in build/rootfs/data, and the
# Dockerfile (FROM scratch) copies them in.
#
#   scripts/image.sh            # builds kvorum:dev
#   IMAGE=kvorum:x scripts/image.sh
#   VERSION=v1.2.3 scripts/image.sh   # default: git describe --tags --always --dirty
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="${IMAGE:-kvorum:dev}"
# Stamped into both binaries (internal/version) and the image's label;
# `kvorum-server --version` prints it.
VERSION="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
export CGO_ENABLED=0

mkdir -p build
for cmd in kvorum-server kvorum-cli; do
  rm -f "build/$cmd"
  # kvorum-cli goes in once cmd/kvorum-cli has a main package (the
  # Dockerfile's build/kvorum-cl[i] pattern matches nothing until then).
  if ls cmd/$cmd/*.go >/dev/null 2>&1; then
    go build -trimpath -ldflags="-s -w -X github.com/kvorum/kvorum/internal/version.stamp=$VERSION" \
      -o "build/$cmd" "./cmd/$cmd"
  fi
done

# /data for the non-root user: scratch has no shell to mkdir/chown, so the
# directory is prepared here and copied with --chown.
rm -rf build/rootfs
mkdir -p build/rootfs/data
chmod 0750 build/rootfs/data
if [ "$(id -u)" = 0 ]; then chown 65532:65532 build/rootfs/data; fi

# The legacy builder (no buildx here) prints a deprecation notice on every
# build: show the builder's output only when it fails.
if ! out=$(docker build -q --build-arg VERSION="$VERSION" -t "$IMAGE" -f Dockerfile . 2>&1); then
  echo "$out" >&2
  exit 1
fi
size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
echo "built $IMAGE, version $VERSION ($(awk -v s="$size" 'BEGIN { printf "%.1f MB", s / 1e6 }'))"
