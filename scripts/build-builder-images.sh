#!/usr/bin/env bash
# Builds the Hypeman builder images under images/ in OCI format and pushes them, as
# images/README.md describes. Hypeman unpacks builder images with umoci, which needs OCI
# manifests, not Docker v2 ones.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/build-builder-images.sh --registry REGISTRY[/PREFIX] [options] [IMAGE...]

Builds images/<IMAGE>/Dockerfile (default: every builder image) as an OCI image and pushes it
to REGISTRY/builder-<IMAGE>:TAG. Prints the BUILDER_IMAGE= line for Hypeman's .env.

Options:
  --registry R   where to push (required), e.g. registry.example.com/team
  --tag T        image tag (default: latest)
  --agent PATH   Hypeman's builder-agent binary (default: $BUILDER_AGENT, or ./builder-agent)
  --out DIR      where the OCI archives go (default: a temporary directory)
  --dry-run      print the commands instead of running them
  -h, --help     this text

Tools: docker buildx (--output type=oci) or buildah to build; crane or skopeo to push.
USAGE
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REGISTRY="" TAG=latest AGENT=${BUILDER_AGENT:-./builder-agent} OUT="" DRY=0
IMAGES=()
while [ $# -gt 0 ]; do
  case "$1" in
    --registry) REGISTRY=${2:?--registry needs a value}; shift 2 ;;
    --tag) TAG=${2:?--tag needs a value}; shift 2 ;;
    --agent) AGENT=${2:?--agent needs a value}; shift 2 ;;
    --out) OUT=${2:?--out needs a value}; shift 2 ;;
    --dry-run) DRY=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    *) IMAGES+=("$1"); shift ;;
  esac
done
[ -n "$REGISTRY" ] || { echo "--registry is required" >&2; usage >&2; exit 2; }
REGISTRY=${REGISTRY%/}

if [ ${#IMAGES[@]} -eq 0 ]; then
  # images/microvm is our own QEMU builder VM, not a Hypeman builder image.
  for d in "$ROOT"/images/*/; do
    name=$(basename "$d")
    [ "$name" != microvm ] && [ -f "$d/Dockerfile" ] && IMAGES+=("$name")
  done
fi
for name in "${IMAGES[@]}"; do
  [ -f "$ROOT/images/$name/Dockerfile" ] || { echo "no such builder image: images/$name/Dockerfile" >&2; exit 2; }
done

run() {
  if [ "$DRY" = 1 ]; then printf '+ %s\n' "$*"; else "$@"; fi
}
have() { command -v "$1" >/dev/null 2>&1; }

if [ "$DRY" = 0 ] && [ ! -x "$AGENT" ]; then
  cat >&2 <<MSG
Hypeman's builder-agent binary was not found at $AGENT.
Build it from Hypeman's source (lib/builds/builder_agent), then pass --agent:
  GOOS=linux GOARCH=amd64 CGO_ENABLED=0 go build -o builder-agent .
MSG
  exit 1
fi
if have docker && docker buildx version >/dev/null 2>&1; then BUILD=buildx
elif have buildah; then BUILD=buildah
elif [ "$DRY" = 1 ]; then BUILD=buildah
else echo "neither docker buildx nor buildah is installed" >&2; exit 1; fi
if have crane; then PUSH=crane
elif have skopeo || [ "$DRY" = 1 ]; then PUSH=skopeo
else echo "neither crane nor skopeo is installed" >&2; exit 1; fi

[ -n "$OUT" ] || OUT=$(mktemp -d)
# The build context holds only the agent: the Dockerfiles COPY nothing else from it.
CONTEXT="$OUT/context"
run mkdir -p "$CONTEXT"
run cp "$AGENT" "$CONTEXT/builder-agent"

for name in "${IMAGES[@]}"; do
  ref="$REGISTRY/builder-$name:$TAG"
  archive="$OUT/builder-$name.tar"
  echo "building $ref" >&2
  if [ "$BUILD" = buildx ]; then
    run docker buildx build --platform linux/amd64 -f "$ROOT/images/$name/Dockerfile" \
      --output "type=oci,dest=$archive" "$CONTEXT"
  else
    run buildah bud --platform linux/amd64 --format oci -f "$ROOT/images/$name/Dockerfile" -t "localhost/builder-$name:$TAG" "$CONTEXT"
    run buildah push "localhost/builder-$name:$TAG" "oci-archive:$archive"
  fi
  if [ "$PUSH" = crane ]; then
    run mkdir -p "$OUT/oci-$name"
    run tar -xf "$archive" -C "$OUT/oci-$name"
    run crane push "$OUT/oci-$name" "$ref"
  else
    run skopeo copy --format oci "oci-archive:$archive" "docker://$ref"
  fi
  echo "BUILDER_IMAGE=$ref"
done
