#!/bin/bash
# microship's guest agent: runs once inside the builder microVM.
# - reads /config/build.json (Hypeman's fields, plus image_name/tags and registry_rewrites);
# - builds /src with `buildah bud` and pushes with `buildah push --digestfile`;
# - every line of output goes to the virtio port named microship.log, which the host streams
#   (the serial console, when that port is missing: it drops bytes when the host reads slowly);
# - exactly one JSON result line goes to the virtio port named microship.result, never to the log.
# Secrets are files under /run (tmpfs) passed as --secret; they are never echoed or used as ARGs.
set -uo pipefail
export LC_ALL=C.UTF-8 HOME=/root TMPDIR=/var/lib/containers/tmp
CONFIG=/config/build.json
WORK=/run/microship
START_MS=$(date +%s%3N)
RESULT_SENT=0

port_named() {
  local p
  for p in /sys/class/virtio-ports/*; do
    [ "$(cat "$p/name" 2>/dev/null)" = "$1" ] && { echo "/dev/${p##*/}"; return 0; }
  done
  return 1
}
result_port() { port_named microship.result; }
if LOG_PORT=$(port_named microship.log); then exec >"$LOG_PORT" 2>&1; fi

# emit_result SUCCESS DIGEST ERROR_KIND ERROR [BASE_DIGEST]
emit_result() {
  [ "$RESULT_SENT" = 0 ] || return 0
  RESULT_SENT=1
  local port line
  line=$(jq -cn --argjson success "$1" --arg digest "$2" --arg kind "$3" --arg error "$4" \
    --arg base "${5:-}" --arg bv "$(buildah --version 2>/dev/null | awk '{print "buildah " $3}')" \
    --argjson duration "$(( $(date +%s%3N) - START_MS ))" --argjson build "${BUILD_MS:-0}" --argjson push "${PUSH_MS:-0}" '{
      type: "result", success: $success,
      image_digest: (if $digest == "" then null else $digest end),
      error: (if $error == "" then null else $error end),
      error_kind: (if $kind == "" then null else $kind end),
      provenance: { base_image_digest: (if $base == "" then null else $base end), builder_version: $bv },
      duration_ms: $duration, build_ms: $build, push_ms: $push }')
  if port=$(result_port); then
    printf '%s\n' "$line" > "$port"
  else
    echo "microship-agent: no result port; the host will treat this build as lost"
  fi
}
fail() { echo "microship-agent: $2"; emit_result false "" "$1" "$2"; exit 1; }
trap 'emit_result false "" infra "the agent stopped unexpectedly"' EXIT

echo "microship-agent: ready"
[ -r "$CONFIG" ] || fail infra "no $CONFIG"
jq -e . "$CONFIG" >/dev/null 2>&1 || fail infra "$CONFIG is not valid JSON"
cfg() { jq -r "$1" "$CONFIG"; }
JOB=$(cfg '.job_id')
REGISTRY=$(cfg '.registry_url')
IMAGE=$(cfg '.image_name')
echo "microship-agent: job $JOB, $(nproc) CPUs, $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) MiB, network $(cfg '.network_mode // "egress"')"

mkdir -p "$WORK/secrets" "$TMPDIR" /etc/containers/registries.conf.d
chmod 700 "$WORK/secrets"

# Registries the host reaches on loopback are at 10.0.2.100 from here; FROM lines keep their names.
{
  while IFS=$'\t' read -r from to; do
    printf '[[registry]]\nprefix = "%s"\nlocation = "%s"\ninsecure = true\n\n' "$from" "$to"
  done < <(jq -r '(.registry_rewrites // [])[] | [.from, .to] | @tsv' "$CONFIG")
  for r in $(jq -r '(.insecure_registries // [])[]' "$CONFIG"); do
    printf '[[registry]]\nlocation = "%s"\ninsecure = true\n\n' "$r"
  done
} > /etc/containers/registries.conf.d/50-microship.conf

# The build's push credential (scoped to its repository and tags) goes to a file, never argv.
AUTHFILE="$WORK/auth.json"
( umask 077; jq --arg reg "$REGISTRY" '(.registry_auth // null) as $a | {auths: (if $a == null then {} else
    ([$reg] + [(.registry_rewrites // [])[] | .from, .to] | unique
     | map({key: ., value: {auth: ("\($a.username):\($a.password)" | @base64)}}) | from_entries) end)}' \
  "$CONFIG" > "$AUTHFILE" ) || fail infra "could not write the registry auth file"

# Always the Dockerfile text the host sent, even when /src has its own.
cfg '.dockerfile' > "$WORK/Dockerfile"

ARGS=(bud --layers --force-rm --isolation chroot --pull --authfile "$AUTHFILE" --format oci -f "$WORK/Dockerfile" -t "localhost/microship/build:latest")
# RUN steps get a PID namespace of their own (chroot isolation ignores --pid), so /proc shows them
# neither this agent nor its config.
PIDNS=()
command -v unshare >/dev/null && PIDNS=(unshare --pid --fork --kill-child --mount-proc)
[ "$(cfg '.no_cache // false')" = true ] && ARGS+=(--no-cache)
while IFS= read -r -d '' kv; do ARGS+=(--build-arg "$kv"); done \
  < <(jq -j '(.build_args // {}) | to_entries[] | "\(.key)=\(.value)\u0000"' "$CONFIG")
n=0
while IFS= read -r id; do
  n=$((n + 1))
  jq -j --arg id "$id" '.secrets[] | select(.id == $id) | .value // ""' "$CONFIG" > "$WORK/secrets/$n"
  ARGS+=(--secret "id=$id,src=$WORK/secrets/$n")
done < <(jq -r '(.secrets // [])[].id' "$CONFIG")
echo "microship-agent: buildah bud ($(( ${#ARGS[@]} )) arguments, $n secrets)"

TIMEOUT=$(cfg '.timeout_seconds // 0')
T0=$(date +%s%3N)
if [ "$TIMEOUT" -gt 0 ]; then timeout --signal=TERM --kill-after=10 "$TIMEOUT" "${PIDNS[@]}" buildah "${ARGS[@]}" /src 2>&1
else "${PIDNS[@]}" buildah "${ARGS[@]}" /src 2>&1; fi
rc=$?
BUILD_MS=$(( $(date +%s%3N) - T0 ))
rm -rf "$WORK/secrets"
[ $rc -eq 124 ] && fail timeout "the build took longer than ${TIMEOUT} s"
[ $rc -eq 0 ] || fail user "buildah bud exited with status $rc"

BASE=$(cfg '.base_image // ""')
BASE_DIGEST=""
if [ -n "$BASE" ]; then
  case "$BASE" in
    *@sha256:*) BASE_DIGEST=${BASE#*@} ;;
    *) BASE_DIGEST=$(buildah images --digests --format '{{.Digest}}' "$BASE" 2>/dev/null | grep -m1 '^sha256:' || true) ;;
  esac
fi

DIGEST=""
T1=$(date +%s%3N)
for tag in $(cfg '(.tags // ["latest"])[]'); do
  echo "microship-agent: pushing $REGISTRY/$IMAGE:$tag"
  buildah push --authfile "$AUTHFILE" --format oci --digestfile "$WORK/digest" \
    localhost/microship/build:latest "docker://$REGISTRY/$IMAGE:$tag" 2>&1 \
    || fail infra "pushing $REGISTRY/$IMAGE:$tag failed"
  [ -n "$DIGEST" ] || DIGEST=$(cat "$WORK/digest")
done
PUSH_MS=$(( $(date +%s%3N) - T1 ))
[ -n "$DIGEST" ] || fail infra "nothing was pushed"
echo "microship-agent: pushed $DIGEST"
emit_result true "$DIGEST" "" "" "$BASE_DIGEST"
trap - EXIT
