#!/usr/bin/env bash
# verify-recipe.sh: prove the container image's recipe without a container engine.
#
# Reads the repository's Dockerfile and carries out its instructions in a scratch folder instead of an image:
#   COPY       copies the same files from this checkout (the build context) into <scratch>/app (= WORKDIR /app)
#   RUN        runs the same command lines, in <scratch>/app, as the unprivileged user 65532 (the image runs its
#              install as root; doing it unprivileged proves nothing in it needs root)
#   ENV        sets the same variables (and nothing else from this machine: commands start from `env -i`)
#   USER       the start command runs as that uid:gid (65532, as the manifests' runAsUser)
#   ENTRYPOINT + CMD  the same argv, with one substitution: the --config path points at a config file in the
#              scratch folder (the image expects a mounted /etc/flyte/config/config.yaml)
# with Node 24 (the `node` devDependency's binary, copied out of node_modules first because `npm ci
# --omit=dev` does not install it) first on PATH, as in the node:24 base image.
# The user-creating RUN line (groupadd/useradd) runs as written only when no user with uid 65532 exists.
#
# Then it checks that no dev dependency was installed, makes a CA and a serving certificate for 127.0.0.1
# with openssl, starts the webhook with the image's start command, waits for /readyz, POSTs the example
# AdmissionReview (deploy/image/review.json) to /mutate--v1-pod over TLS trusting only that CA, checks the
# answer (allowed, same uid, a JSONPatch injecting the requested Kubernetes secret), reads /healthz and
# /metrics, sends SIGTERM and expects exit code 0.
#
# Usage:  bash deploy/image/verify-recipe.sh        (as root: creates the user if needed, then drops to it;
#                                                    as any other user: runs everything as that user)
# Env:    KEEP_SCRATCH=1 keeps the scratch folder;  NODE24=/path/to/node overrides the Node 24 binary.
# Needs:  network access to the npm registry (npm ci), openssl, curl, setpriv (util-linux) when root.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DOCKERFILE="$REPO/Dockerfile"
REVIEW="$REPO/deploy/image/review.json"
NODE24="${NODE24:-$REPO/node_modules/node/bin/node}"
RUN_UID=65532
RUN_GID=65532

log() { printf 'verify-recipe: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

for tool in openssl curl npm; do command -v "$tool" >/dev/null || die "$tool is required"; done
[[ -x "$NODE24" ]] || die "no Node 24 binary at $NODE24 (run npm ci first, or set NODE24)"
[[ "$("$NODE24" --version)" == v24.* ]] || die "$NODE24 is $("$NODE24" --version), not Node 24"

if [[ "$(id -u)" == 0 ]]; then
  command -v setpriv >/dev/null || die "setpriv (util-linux) is required to drop to uid $RUN_UID"
  AS_USER=(setpriv "--reuid=$RUN_UID" "--regid=$RUN_GID" --clear-groups --)
else
  RUN_UID="$(id -u)"; RUN_GID="$(id -g)"
  AS_USER=()
  log "not root: everything runs as uid $RUN_UID"
fi

SCRATCH="$(mktemp -d /tmp/flyte-pod-webhook-recipe.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi
  if [[ "${KEEP_SCRATCH:-0}" == 1 ]]; then log "kept $SCRATCH"; else rm -rf "$SCRATCH"; fi
}
trap cleanup EXIT
mkdir -p "$SCRATCH/bin" "$SCRATCH/home" "$SCRATCH/certs"
cp "$NODE24" "$SCRATCH/bin/node"

# --- parse the Dockerfile (continuations joined, comments dropped, exec forms decoded) -------------------
"$SCRATCH/bin/node" - "$DOCKERFILE" > "$SCRATCH/instructions.json" <<'JS'
const fs = require("node:fs")
const text = fs.readFileSync(process.argv[2], "utf8")
const lines = text.split("\n").filter((l) => !/^\s*#/.test(l))
const joined = lines.join("\n").replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter(Boolean)
const out = joined.map((line) => {
  const [, op, rest] = /^(\S+)\s+(.*)$/.exec(line)
  const instr = op.toUpperCase()
  const args = rest.trim()
  if ((instr === "ENTRYPOINT" || instr === "CMD") && args.startsWith("[")) return { instr, argv: JSON.parse(args) }
  if (instr === "ENV") { // KEY=value pairs, a value may be "quoted" (with spaces); or the legacy ENV KEY value
    const pairs = [...args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)]
      .map(([, key, value]) => `${key}=${value.startsWith('"') ? JSON.parse(value) : value}`)
    return { instr, args, env: pairs.length > 0 ? pairs : [args.replace(/^(\S+)\s+/, "$1=")] }
  }
  return { instr, args: args.replace(/\s+/g, " ") }
})
console.log(JSON.stringify(out))
JS
count="$("$SCRATCH/bin/node" -e 'console.log(require(process.argv[1]).length)' "$SCRATCH/instructions.json")"

BASE_ENV=(PATH="$SCRATCH/bin:/usr/local/bin:/usr/bin:/bin" HOME="$SCRATCH/home")
# This machine's way to the npm registry (CA bundle, proxy, registry URL) is build-host setup, as it would be
# for `docker build`; it is passed to the install and nothing else is.
NET_ENV=()
for var in NODE_EXTRA_CA_CERTS SSL_CERT_FILE HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
  if [[ -n "${!var:-}" ]]; then NET_ENV+=("$var=${!var}"); fi
done
for key in cafile registry; do
  value="$(npm config get "$key" 2>/dev/null || true)"
  if [[ -n "$value" && "$value" != null && "$value" != undefined ]]; then NET_ENV+=("npm_config_$key=$value"); fi
done
IMAGE_ENV=()
WORKDIR="$SCRATCH"
USER_SPEC=""
ENTRYPOINT=()
CMD=()
field() { # field <index> <instr|args|argv>: one value, or an exec form's argv one per line
  "$SCRATCH/bin/node" -e 'const v=require(process.argv[1])[+process.argv[2]][process.argv[3]];console.log(Array.isArray(v)?v.join("\n"):(v??""))' \
    "$SCRATCH/instructions.json" "$1" "$2"
}
map_path() { # an absolute image path under WORKDIR's root maps into the scratch folder
  case "$1" in /*) printf '%s\n' "$SCRATCH$1" ;; *) printf '%s\n' "$WORKDIR/$1" ;; esac
}

chown -R "$RUN_UID:$RUN_GID" "$SCRATCH" 2>/dev/null || true
for ((i = 0; i < count; i++)); do
  instr="$(field "$i" instr)"
  args="$(field "$i" args)"
  case "$instr" in
    FROM)
      log "FROM $args (Node $("$SCRATCH/bin/node" --version) stands in for it)"
      [[ "$args" == node:24* ]] || die "the base image is $args, expected node:24-*"
      ;;
    ENV)
      while IFS= read -r pair; do IMAGE_ENV+=("$pair"); done < <(field "$i" env)
      log "ENV $args"
      ;;
    WORKDIR)
      WORKDIR="$(map_path "$args")"; mkdir -p "$WORKDIR"; chown "$RUN_UID:$RUN_GID" "$WORKDIR" 2>/dev/null || true
      log "WORKDIR $args -> $WORKDIR"
      ;;
    COPY)
      read -r -a parts <<< "$args"
      dest="${parts[${#parts[@]}-1]}"
      unset 'parts[${#parts[@]}-1]'
      target="$(map_path "$dest")"
      mkdir -p "$target"
      for src in "${parts[@]}"; do # Docker semantics: a directory's contents, a file into the target folder
        if [[ -d "$REPO/$src" ]]; then cp -R "$REPO/${src%/}/." "$target/"; else cp "$REPO/$src" "$target/"; fi
      done
      chown -R "$RUN_UID:$RUN_GID" "$target" 2>/dev/null || true
      log "COPY $args"
      ;;
    RUN)
      if [[ "$args" == *useradd* ]]; then
        if getent passwd "$RUN_UID" >/dev/null; then
          log "RUN (user setup) skipped: uid $RUN_UID exists here ($(getent passwd "$RUN_UID" | cut -d: -f1))"
        else
          log "RUN $args"
          bash -c "$args"
        fi
      else
        log "RUN $args   (as uid $RUN_UID in $WORKDIR)"
        (cd "$WORKDIR" && "${AS_USER[@]}" env -i "${BASE_ENV[@]}" "${NET_ENV[@]}" "${IMAGE_ENV[@]}" bash -c "$args") \
          || die "RUN failed: $args"
      fi
      ;;
    USER) USER_SPEC="$args"; log "USER $args" ;;
    EXPOSE) log "EXPOSE $args" ;;
    ARG | LABEL) log "$instr $args (image metadata: build.sh's archive is checked for it, test/deploy/image-archive.test.ts)" ;;
    ENTRYPOINT) mapfile -t ENTRYPOINT < <(field "$i" argv); log "ENTRYPOINT ${ENTRYPOINT[*]}" ;;
    CMD) mapfile -t CMD < <(field "$i" argv); log "CMD ${CMD[*]}" ;;
    *) die "verify-recipe does not know the instruction $instr: teach it, so the proof stays exact" ;;
  esac
done
[[ "$USER_SPEC" == "$RUN_UID:$RUN_GID" || "$(id -u)" != 0 ]] || die "the image's USER is '$USER_SPEC', expected $RUN_UID:$RUN_GID"
(( ${#ENTRYPOINT[@]} > 0 )) || die "no ENTRYPOINT"
[[ "${CMD[0]:-}" == serve ]] || die "the default command is '${CMD[*]}', expected serve"

# --- what the install left --------------------------------------------------------------------------------
[[ -d "$WORKDIR/node_modules/effect" ]] || die "npm ci did not install the production dependencies"
# Every package the lock marks dev-only (vitest, typescript, the `node` binary package, ...) must be absent.
"$SCRATCH/bin/node" - "$WORKDIR" <<'JS' || die "dev dependencies are installed"
const fs = require("node:fs"), path = require("node:path")
const dir = process.argv[2]
const lock = JSON.parse(fs.readFileSync(path.join(dir, "package-lock.json"), "utf8"))
const dev = Object.entries(lock.packages).filter(([p, m]) => p !== "" && m.dev === true).map(([p]) => p)
const present = dev.filter((p) => fs.existsSync(path.join(dir, p)))
if (dev.length === 0) throw new Error("the lock lists no dev packages: nothing to check against")
if (present.length > 0) { console.error(`installed dev packages: ${present.join(", ")}`); process.exit(1) }
console.error(`verify-recipe: none of the lock's ${dev.length} dev-only packages is installed`)
JS
[[ "$WORKDIR" != */node_modules/* ]] || die "the app is under node_modules: type stripping would refuse it"
log "install ok: $(ls "$WORKDIR/node_modules" | wc -l) top-level packages, no dev dependencies"

# --- certificates, config ---------------------------------------------------------------------------------
C="$SCRATCH/certs"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=verify-recipe CA" \
  -keyout "$C/ca.key" -out "$C/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=flyte-pod-webhook" -keyout "$C/tls.key" -out "$C/tls.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$C/ext.cnf"
openssl x509 -req -in "$C/tls.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" -CAcreateserial -days 1 \
  -extfile "$C/ext.cnf" -out "$C/tls.crt" 2>/dev/null
chmod 0600 "$C/tls.key" "$C/ca.key"
chown -R "$RUN_UID:$RUN_GID" "$C" 2>/dev/null || true

free_port() { "$SCRATCH/bin/node" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
HTTPS_PORT="$(free_port)"
PROBE_PORT="$(free_port)"
[[ "$HTTPS_PORT" != "$PROBE_PORT" ]] || PROBE_PORT="$(free_port)"
CONFIG="$SCRATCH/config.yaml"
cat > "$CONFIG" <<EOF
webhook:
  certDir: $C
  listenAddress: 127.0.0.1
  listenPort: $HTTPS_PORT
  probePort: $PROBE_PORT
  secretManagerType: K8s
  disableCreateMutatingWebhookConfig: true
  drainDelay: 1s
  shutdownTimeout: 5s
secrets:
  secrets-prefix: $SCRATCH/no-global-secrets
EOF
chown "$RUN_UID:$RUN_GID" "$CONFIG" 2>/dev/null || true

# --- start: ENTRYPOINT + CMD, --config mapped into the scratch folder -------------------------------------
ARGV=("${ENTRYPOINT[@]}" "${CMD[@]}")
for ((k = 0; k < ${#ARGV[@]}; k++)); do
  if [[ "${ARGV[$k]}" == --config ]]; then ARGV[k + 1]="$CONFIG"; fi
done
log "start: ${ARGV[*]}   (as uid $RUN_UID in $WORKDIR)"
(cd "$WORKDIR" && exec "${AS_USER[@]}" env -i "${BASE_ENV[@]}" "${IMAGE_ENV[@]}" \
  POD_NAMESPACE=flyte POD_NAME=verify-recipe "${ARGV[@]}") > "$SCRATCH/server.log" 2>&1 &
SERVER_PID=$!

ready=""
for _ in $(seq 1 120); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$SCRATCH/server.log" >&2; die "the webhook exited during start-up"; fi
  if curl -fsS "http://127.0.0.1:$PROBE_PORT/readyz" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.5
done
[[ -n "$ready" ]] || { cat "$SCRATCH/server.log" >&2; die "/readyz not 200 within 60 s"; }
proc_uid="$(ps -o uid= -p "$SERVER_PID" | tr -d ' ')"
[[ "$proc_uid" == "$RUN_UID" ]] || die "the webhook runs as uid $proc_uid, expected $RUN_UID"
log "ready: /readyz 200 on :$PROBE_PORT, process uid $proc_uid"

curl -fsS "http://127.0.0.1:$PROBE_PORT/healthz" >/dev/null || die "/healthz not 200"
curl -fsS --cacert "$C/ca.crt" -H 'Content-Type: application/json' --data "@$REVIEW" \
  "https://127.0.0.1:$HTTPS_PORT/mutate--v1-pod" > "$SCRATCH/answer.json" || die "POST /mutate--v1-pod failed"
"$SCRATCH/bin/node" - "$SCRATCH/answer.json" "$REVIEW" <<'JS' || die "unexpected answer: $(cat "$SCRATCH/answer.json")"
const fs = require("node:fs")
const answer = JSON.parse(fs.readFileSync(process.argv[2], "utf8"))
const review = JSON.parse(fs.readFileSync(process.argv[3], "utf8"))
const r = answer.response
if (answer.kind !== "AdmissionReview" || !r) throw new Error("not an AdmissionReview answer")
if (r.uid !== review.request.uid) throw new Error(`uid ${r.uid} != ${review.request.uid}`)
if (r.allowed !== true) throw new Error("not allowed")
if (r.patchType !== "JSONPatch") throw new Error("no JSONPatch")
const patch = JSON.parse(Buffer.from(r.patch, "base64").toString("utf8"))
const text = JSON.stringify(patch)
if (!text.includes("db-creds") || !text.includes("password")) throw new Error("the patch does not inject db-creds/password")
console.error(`verify-recipe: answer ok: allowed, uid ${r.uid}, ${patch.length} patch operations referencing secret db-creds`)
JS
curl -fsS "http://127.0.0.1:$PROBE_PORT/metrics" | grep -q . || die "/metrics is empty"
log "/healthz 200, /metrics non-empty"

kill -TERM "$SERVER_PID"
code=0
for _ in $(seq 1 40); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.25; done
if kill -0 "$SERVER_PID" 2>/dev/null; then die "still running 10 s after SIGTERM"; fi
wait "$SERVER_PID" || code=$?
SERVER_PID=""
[[ "$code" == 0 ]] || { cat "$SCRATCH/server.log" >&2; die "exit code $code after SIGTERM, expected 0"; }
log "SIGTERM: drained and exited 0"
log "PASS: the image recipe installs without dev dependencies and serves an admission request as uid $RUN_UID"
