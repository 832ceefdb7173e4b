#!/bin/sh
# Builds cloudai-test:busybox, the small local image that CloudAI's Docker tests run:
# Debian's static busybox (package busybox-static) on an empty base, with every applet
# linked into /bin. Needs the docker CLI and a running engine; pulls nothing.
#
#   build-test-image.sh [IMAGE]      (default cloudai-test:busybox; BUSYBOX=/path overrides
#                                     the busybox binary, default /bin/busybox)
set -eu

image="${1:-cloudai-test:busybox}"
busybox="${BUSYBOX:-/bin/busybox}"

if [ ! -x "$busybox" ]; then
  echo "build-test-image: $busybox not found (apt-get install busybox-static)" >&2
  exit 1
fi
# An image FROM scratch has no C library: the binary must be static.
if ldd "$busybox" >/dev/null 2>&1; then
  echo "build-test-image: $busybox is dynamically linked; install busybox-static" >&2
  exit 1
fi

context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
cp "$busybox" "$context/busybox"
cat > "$context/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
LABEL cloudai.test-image="true"
CMD ["/bin/sh"]
DOCKERFILE

# The classic builder ships with every engine; --network none: the build needs no network.
# Its output (with a deprecation notice) is shown only when the build fails.
if ! output="$(DOCKER_BUILDKIT=0 docker build --network none -t "$image" "$context" 2>&1)"; then
  printf '%s\n' "$output" >&2
  echo "build-test-image: docker build of $image failed" >&2
  exit 1
fi
echo "build-test-image: built $image"
