# tools.sh: sourced by build.sh and run.sh. Logging, and the Debian tools the image scripts use, installed with
# apt-get when they are missing (as root), or a message naming the packages when they cannot be.
#
#   mmdebstrap  the Debian root filesystem (build)       skopeo  reads the archive (tests, docs)
#   umoci       unpacks the archive into a bundle (run)   jq      reads JSON (build, run)
#   util-linux  flock, unshare, setpriv, mount (build, run; Essential in Debian, always present)

IMAGE_LOG_PREFIX="${IMAGE_LOG_PREFIX:-image}"
log() { printf '%s: %s\n' "$IMAGE_LOG_PREFIX" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ensure_tools <command:package>...: install the packages of missing commands, or exit 3 saying what is missing.
# Exit 3 means "cannot be installed here" (the tests skip on it, with this message as the reason).
ensure_tools() {
  local missing_packages=() missing_commands=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || { missing_commands+=("${pair%%:*}"); missing_packages+=("${pair#*:}"); }
  done
  (( ${#missing_packages[@]} == 0 )) && return 0
  if [[ "$(id -u)" != 0 ]]; then
    log "missing: ${missing_commands[*]}; install them as root: apt-get install -y ${missing_packages[*]}"
    exit 3
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    log "missing: ${missing_commands[*]}, and there is no apt-get here (the image is built with Debian's tools: ${missing_packages[*]})"
    exit 3
  fi
  log "installing ${missing_packages[*]} (for ${missing_commands[*]}) with apt-get"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_packages[@]}"; } >&2; then
    log "apt-get could not install ${missing_packages[*]}"
    exit 3
  fi
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || { log "${pair%%:*} is still missing after installing ${pair#*:}"; exit 3; }
  done
}

# require_root <what>: these scripts mount, chroot and write files owned by other users.
require_root() {
  if [[ "$(id -u)" != 0 ]]; then
    log "$1 needs root (mmdebstrap --mode=root, chroot, mount namespaces); this is uid $(id -u)"
    exit 3
  fi
}

image_cache_dir() { printf '%s\n' "${IMAGE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flyte-pod-webhook/image}"; }
