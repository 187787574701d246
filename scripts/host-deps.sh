#!/usr/bin/env bash
# Installs the Debian packages microship's builders and tests need. Idempotent, quiet when all is
# present, and it changes nothing else: no services started, no system config edited.
set -euo pipefail

PACKAGES=(
  git ca-certificates curl
  buildah skopeo umoci runc docker-registry
  qemu-system-x86 qemu-utils debootstrap busybox-static e2fsprogs cpio kmod
  uidmap fuse-overlayfs containernetworking-plugins slirp4netns
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "host-deps: missing Debian packages: ${missing[*]}; run this script as root to install them." >&2
    exit 1
  fi
else
  SUDO=
fi
echo "host-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
