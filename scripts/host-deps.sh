#!/usr/bin/env bash
# Installs the Debian packages microship's builders (and, with --test, its tests) need. Idempotent, quiet when all is
# present, and it changes nothing else: no services started, no system config edited.
set -euo pipefail

PACKAGES=(
  git ca-certificates curl
  buildah skopeo umoci runc podman docker-registry
  qemu-system-x86 qemu-utils socat debootstrap busybox-static e2fsprogs cpio kmod
  uidmap fuse-overlayfs containernetworking-plugins slirp4netns
)
# With --test, what only the tests need: the wheels of the local Python package index are built
# from the python3 packages, the Postgres store is tested against a throwaway cluster, and the
# dashboard in a real browser. `npm start` never installs them.
if [ "${1:-}" = "--test" ]; then
  PACKAGES+=(python3 python3-flask python3-gunicorn python3-requests python3-django python3-whitenoise postgresql chromium)
fi

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

# docker-registry's package would start a system registry with auth on :5000. A policy-rc.d that
# denies every start keeps services down during the install; it is removed again on exit, and an
# existing one is left as it is.
POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
  $SUDO sh -c "printf '#!/bin/sh\nexit 101\n' > $POLICY && chmod 755 $POLICY"
  trap '$SUDO rm -f "$POLICY"' EXIT
fi

echo "host-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
out=$(mktemp)
if ! { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$out" 2>&1; then
  cat "$out" >&2; rm -f "$out"; exit 1
fi
rm -f "$out"
