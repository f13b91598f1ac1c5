#!/usr/bin/env bash
# run.sh: run the image built by build.sh without a container engine, the way a container runtime would.
#
# No engine can start a container here (podman, crun and runc stop at setrlimit: the sandbox lacks
# CAP_SYS_RESOURCE), so this does what they do with util-linux alone:
#   - unpacks the archive with umoci (unpack.sh: once per image digest, cached) and reads the image config
#     (entrypoint, command, env, working directory, user);
#   - in a new mount namespace: an overlay over the unpacked root (the cache stays pristine), a 64 MiB tmpfs at
#     /tmp (the manifests' emptyDir), a /dev with null, zero, full, random, urandom and tty, the host's
#     /etc/hosts and /etc/resolv.conf read-only, the -v volumes, and then the root remounted read-only
#     (the manifests' readOnlyRootFilesystem);
#   - in a new pid namespace, where the entrypoint is pid 1 as in a container: chroot into that root, working
#     directory from the image, uid and gid from the image (65532) with no supplementary groups, no
#     capabilities left (the kernel drops them with the uid) and no_new_privs (allowPrivilegeEscalation: false),
#     only the image's environment plus -e;
#   - the network is the host's (the API server and the tests reach it on 127.0.0.1).
# SIGTERM, SIGINT and SIGHUP sent to this script are passed on to the container's pid 1 (once), and the script
# exits with its exit code, as kubelet sees a container's. If this script is killed, the container is too.
#
# Usage:  bash deploy/image/run.sh [--archive FILE] [-v HOST[:CONTAINER][:ro|:rw]]... [-e NAME[=VALUE]]...
#                                  [--pid-file FILE] [--entrypoint PROGRAM] [--] [ARGS...]
#   ARGS replace the image's command (as a Pod's `args` do); the entrypoint stays unless --entrypoint (as
#   `docker run --entrypoint`, e.g. `--entrypoint node -- -e '...'` to look around inside). Default archive:
#   .local/image/flyte-pod-webhook.oci.tar (bash deploy/image/build.sh makes it). -v mounts are read-only
#   unless :rw. -e NAME alone copies NAME from this environment. --pid-file gets the container's pid as the
#   host sees it. Exit 3: cannot run here (not root, or the tools cannot be installed).
# Example: the image answering an admission review: docs/deploy.md, "The container image".
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
IMAGE_LOG_PREFIX=run.sh
# shellcheck source=tools.sh
source "$HERE/tools.sh"

# --- inside the new mount namespace (started by the outer part below) ----------------------------------------
if [[ "${1:-}" == --inside ]]; then
  root="$RUN_DIR/merged"
  mount -t overlay overlay -o "lowerdir=$RUN_LOWER,upperdir=$RUN_DIR/upper,workdir=$RUN_DIR/work" "$root"
  mount -t tmpfs -o nosuid,nodev,mode=1777,size=64m tmpfs "$root/tmp"
  mount -t tmpfs -o nosuid,noexec,mode=0755,size=64k tmpfs "$root/dev"
  for node in null zero full random urandom tty; do
    touch "$root/dev/$node" && mount --bind "/dev/$node" "$root/dev/$node"
  done
  ln -s /proc/self/fd "$root/dev/fd"
  for i in 0 1 2; do ln -s "/proc/self/fd/$i" "$root/dev/$(echo stdin stdout stderr | cut -d' ' -f$((i + 1)))"; done
  for file in /etc/hosts /etc/resolv.conf; do
    if [[ -f "$file" ]]; then touch "$root$file" && mount --bind -o ro "$file" "$root$file" && mount -o remount,bind,ro "$root$file"; fi
  done
  while IFS=$'\t' read -r host target mode; do
    [[ -n "$host" ]] || continue
    if [[ -d "$host" ]]; then mkdir -p "$root$target"; else mkdir -p "$(dirname "$root$target")" && touch "$root$target"; fi
    mount --bind "$host" "$root$target"
    if [[ "$mode" == ro ]]; then mount -o remount,bind,ro "$root$target"; fi
  done <<< "$RUN_VOLUMES"
  mount -o remount,ro "$root"
  mapfile -d '' -t env_list < "$RUN_DIR/env"
  mapfile -d '' -t argv < "$RUN_DIR/argv"
  # setsid: the container's signals come from the outer part only (not from a signal to its process group);
  # --pdeathsig: if the outer part dies, so does this chain, and --kill-child takes the container with it.
  exec setsid setpriv --pdeathsig=SIGKILL --no-new-privs env -i "${env_list[@]}" \
    "$(command -v unshare)" --pid --fork --kill-child --mount-proc=/proc --root="$root" --wd="$RUN_CWD" \
    --setgid="$RUN_GID" --setuid="$RUN_UID" -- "${argv[@]}"
fi

# --- outside: arguments, the unpacked image, the container's config -------------------------------------------
ARCHIVE="$REPO/.local/image/flyte-pod-webhook.oci.tar"
VOLUMES=""
EXTRA_ENV=()
PID_FILE=""
ENTRYPOINT=""
while (( $# > 0 )); do
  case "$1" in
    --archive) ARCHIVE="$2"; shift 2 ;;
    -v|--volume)
      IFS=: read -r host target mode <<< "$2"
      target="${target:-$host}"; mode="${mode:-ro}"
      [[ "$host" == /* && "$target" == /* ]] || die "-v $2: paths must be absolute"
      [[ -e "$host" ]] || die "-v $2: $host does not exist"
      [[ "$mode" == ro || "$mode" == rw ]] || die "-v $2: the mode is ro or rw"
      VOLUMES+="$host"$'\t'"$target"$'\t'"$mode"$'\n'; shift 2 ;;
    -e|--env)
      if [[ "$2" == *=* ]]; then EXTRA_ENV+=("$2"); elif [[ -n "${!2+set}" ]]; then EXTRA_ENV+=("$2=${!2}"); fi
      shift 2 ;;
    --pid-file) PID_FILE="$2"; shift 2 ;;
    --entrypoint) ENTRYPOINT="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
ARGS=("$@")

require_root "running the image"
ensure_tools jq:jq unshare:util-linux setpriv:util-linux

BUNDLE="$(bash "$HERE/unpack.sh" "$ARCHIVE")"
CONFIG="$BUNDLE/image-config.json"
USER_SPEC="$(jq -r '.config.User // "0:0"' "$CONFIG")"
[[ "$USER_SPEC" =~ ^([0-9]+):([0-9]+)$ ]] || die "the image's user '$USER_SPEC' is not numeric uid:gid"
RUN_UID="${BASH_REMATCH[1]}"; RUN_GID="${BASH_REMATCH[2]}"
RUN_CWD="$(jq -r '.config.WorkingDir // "/"' "$CONFIG")"
HOME_DIR="$(awk -F: -v uid="$RUN_UID" '$3 == uid { print $6 }' "$BUNDLE/rootfs/etc/passwd")"
RUN_DIR="$(mktemp -d /tmp/flyte-pod-webhook-run.XXXXXX)"
mkdir -p "$RUN_DIR/upper" "$RUN_DIR/work" "$RUN_DIR/merged"
{
  jq -j '.config.Env // [] | map(. + "\u0000") | join("")' "$CONFIG"
  printf 'HOME=%s\0' "${HOME_DIR:-/}"
  if (( ${#EXTRA_ENV[@]} > 0 )); then printf '%s\0' "${EXTRA_ENV[@]}"; fi
} > "$RUN_DIR/env"
{
  if [[ -n "$ENTRYPOINT" ]]; then printf '%s\0' "$ENTRYPOINT"; else jq -j '.config.Entrypoint // [] | map(. + "\u0000") | join("")' "$CONFIG"; fi
  if (( ${#ARGS[@]} > 0 )); then printf '%s\0' "${ARGS[@]}"; else jq -j '.config.Cmd // [] | map(. + "\u0000") | join("")' "$CONFIG"; fi
} > "$RUN_DIR/argv"

CONTAINER_PID=""
OUTER_PID=""
forward() {
  if [[ -z "$CONTAINER_PID" && -n "$OUTER_PID" ]]; then CONTAINER_PID="$(cat "/proc/$OUTER_PID/task/$OUTER_PID/children" 2>/dev/null | cut -d' ' -f1)"; fi
  if [[ -n "$CONTAINER_PID" ]]; then
    kill "-$1" "$CONTAINER_PID" 2>/dev/null || true
  elif [[ -n "$OUTER_PID" ]]; then # stopped before the container started: it never will
    kill -KILL "$OUTER_PID" 2>/dev/null || true
  fi
}
trap 'forward TERM' TERM
trap 'forward INT' INT
trap 'forward HUP' HUP
trap 'rm -rf --one-file-system "$RUN_DIR"' EXIT

RUN_DIR="$RUN_DIR" RUN_LOWER="$BUNDLE/rootfs" RUN_VOLUMES="$VOLUMES" RUN_CWD="$RUN_CWD" RUN_UID="$RUN_UID" RUN_GID="$RUN_GID" \
  unshare --mount --propagation=private -- bash "${BASH_SOURCE[0]}" --inside &
OUTER_PID=$!
for _ in $(seq 1 200); do # the container's pid, once unshare has forked it (for --pid-file and signals)
  CONTAINER_PID="$(cat "/proc/$OUTER_PID/task/$OUTER_PID/children" 2>/dev/null | cut -d' ' -f1 || true)"
  if [[ -n "$CONTAINER_PID" ]] && [[ "$(readlink "/proc/$OUTER_PID/exe" 2>/dev/null)" == */unshare ]]; then break; fi
  CONTAINER_PID=""
  kill -0 "$OUTER_PID" 2>/dev/null || break
  sleep 0.05
done
if [[ -n "$PID_FILE" && -n "$CONTAINER_PID" ]]; then echo "$CONTAINER_PID" > "$PID_FILE"; fi
code=0
wait "$OUTER_PID" || code=$?
while (( code > 128 )) && kill -0 "$OUTER_PID" 2>/dev/null; do # a trapped signal interrupted wait
  code=0
  wait "$OUTER_PID" || code=$?
done
exit "$code"
