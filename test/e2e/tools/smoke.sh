#!/usr/bin/env bash
# Smoke test of the e2e control plane, envtest-style: etcd + kube-apiserver on free loopback
# ports, client-certificate auth with a throwaway CA, RBAC, no ServiceAccount admission.
# It is the reference that the TypeScript test harness follows.
#
#   bash test/e2e/tools/smoke.sh            # builds the binaries if needed (build.sh)
#   BIN_DIR=/path/to/bins bash test/e2e/tools/smoke.sh
#   KEEP_TMP=1 ...                          # keep the temp folder (certs, logs, kubeconfig)
#
# Exit 0 when every check passed; the last line is "smoke: N passed, M failed".
set -euo pipefail

TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN_DIR="${BIN_DIR:-$(bash "$TOOLS_DIR/build.sh")}"
for b in etcd kube-apiserver kubectl; do
  [[ -x "$BIN_DIR/$b" ]] || { echo "smoke: $BIN_DIR/$b missing" >&2; exit 1; }
done
command -v openssl >/dev/null || { echo "smoke: openssl is required (apt-get install openssl)" >&2; exit 1; }
command -v curl >/dev/null || { echo "smoke: curl is required (apt-get install curl)" >&2; exit 1; }

TMP="$(mktemp -d "${TMPDIR:-/tmp}/e2e-smoke.XXXXXX")"
ETCD_PID="" APISERVER_PID=""
PASSED=0 FAILED=0
T0=$SECONDS

stop() {  # stop <pid>: SIGTERM, wait up to 10 s, then SIGKILL
  local pid="$1" i
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  stop "$APISERVER_PID"; stop "$ETCD_PID"
  if (( rc != 0 )); then
    for f in etcd.log kube-apiserver.log; do
      [[ -f "$TMP/$f" ]] && { echo "--- last lines of $f" >&2; tail -n 25 "$TMP/$f" >&2; }
    done
  fi
  if [[ -n "${KEEP_TMP:-}" ]]; then echo "smoke: kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

# --- throwaway PKI -------------------------------------------------------------------------------
# One CA signs the API server's serving cert and the users' client certs (--client-ca-file);
# a separate RSA key pair signs/verifies service-account tokens.
PKI="$TMP/pki"; mkdir -p "$PKI" "$TMP/cert-dir"
ossl() { openssl "$@" 2>>"$TMP/openssl.log"; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj "/CN=e2e-ca" -keyout "$PKI/ca.key" -out "$PKI/ca.crt" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
issue() {  # issue <name> <subject> <extendedKeyUsage> [subjectAltName]
  local name="$1" subj="$2" eku="$3" san="${4:-}" ext="$PKI/$1.ext"
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n' "$eku" > "$ext"
  [[ -n "$san" ]] && printf 'subjectAltName=%s\n' "$san" >> "$ext"
  ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$subj" \
    -keyout "$PKI/$name.key" -out "$PKI/$name.csr"
  ossl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 1 -extfile "$ext" -out "$PKI/$name.crt"
}
issue apiserver "/CN=kube-apiserver" serverAuth "IP:127.0.0.1,DNS:localhost"
issue admin "/O=system:masters/CN=admin" clientAuth
issue alice "/O=e2e:devs/CN=alice" clientAuth         # an unprivileged user
ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/sa.key"
ossl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"

kubeconfig() {  # kubeconfig <user> -> path
  local f="$TMP/$1.kubeconfig"
  cat > "$f" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 < "$PKI/ca.crt")
users:
- name: $1
  user:
    client-certificate-data: $(base64 -w0 < "$PKI/$1.crt")
    client-key-data: $(base64 -w0 < "$PKI/$1.key")
contexts:
- name: e2e
  context: {cluster: e2e, user: $1}
current-context: e2e
EOF
  echo "$f"
}
# --- free loopback ports ---------------------------------------------------------------------------
# Picked below the kernel's ephemeral range (so no outgoing connection holds them) among ports
# where nothing accepts a connection; a start that still hits "address already in use" is retried
# with new ports. (The TS harness can do the same, or listen(0) and close to learn a port.)
EPHEMERAL_LOW="$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
PORT_LOW=$((EPHEMERAL_LOW > 22000 ? EPHEMERAL_LOW - 20000 : 2000)); PORT_SPAN=$((EPHEMERAL_LOW - PORT_LOW))
USED=" "
free_port() {  # sets PORT
  local p
  while :; do
    p=$((PORT_LOW + (RANDOM * 32768 + RANDOM) % PORT_SPAN))
    [[ "$USED" == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then USED+="$p "; PORT=$p; return; fi
  done
}

wait_ready() {  # wait_ready <seconds> <pid> <description> <command...>: 0 ready, 1 timed out, 2 process exited
  local secs="$1" pid="$2" what="$3" deadline; shift 3
  deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; echo "smoke: $what: process exited" >&2; return 2; }
    (( SECONDS < deadline )) || { echo "smoke: timed out after ${secs}s waiting for $what" >&2; return 1; }
    sleep 0.2
  done
}
port_clash() { grep -q 'address already in use' "$1"; }
MAX_TRIES=3

# --- etcd ----------------------------------------------------------------------------------------
for ((try = 1; ; try++)); do
  free_port; ETCD_CLIENT_PORT=$PORT; free_port; ETCD_PEER_PORT=$PORT
  ETCD_FLAGS=(
    --name=e2e
    --data-dir="$TMP/etcd-data"
    --listen-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT"
    --advertise-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT"
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT"
    --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT"
    --initial-cluster="e2e=http://127.0.0.1:$ETCD_PEER_PORT"
    --unsafe-no-fsync=true
    --log-level=warn
  )
  rm -rf "$TMP/etcd-data"
  "$BIN_DIR/etcd" "${ETCD_FLAGS[@]}" > "$TMP/etcd.log" 2>&1 &
  ETCD_PID=$!
  rc=0; wait_ready 30 "$ETCD_PID" "etcd /health" curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_CLIENT_PORT/health" || rc=$?
  (( rc == 0 )) && break
  stop "$ETCD_PID"; ETCD_PID=""
  if (( rc == 2 && try < MAX_TRIES )) && port_clash "$TMP/etcd.log"; then echo "smoke: etcd port clash, retrying" >&2; continue; fi
  exit 1
done
echo "smoke: etcd ready on 127.0.0.1:$ETCD_CLIENT_PORT after $((SECONDS - T0))s"

# --- kube-apiserver ------------------------------------------------------------------------------
CURL_ADMIN=(curl -fsS --max-time 5 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key")
for ((try = 1; ; try++)); do
  free_port; API_PORT=$PORT
  APISERVER_FLAGS=(
    --etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT"
    --cert-dir="$TMP/cert-dir"
    --tls-cert-file="$PKI/apiserver.crt"
    --tls-private-key-file="$PKI/apiserver.key"
    --secure-port="$API_PORT"
    --bind-address=127.0.0.1
    --advertise-address=127.0.0.1        # hermetic: no dependence on the host's interfaces
    --endpoint-reconciler-type=none      # required with a loopback advertise address (1.37 validates it)
    --authorization-mode=RBAC
    --client-ca-file="$PKI/ca.crt"
    --service-cluster-ip-range=10.0.0.0/24
    --allow-privileged=true
    --disable-admission-plugins=ServiceAccount
    --service-account-issuer="https://127.0.0.1:$API_PORT/"
    --service-account-key-file="$PKI/sa.pub"
    --service-account-signing-key-file="$PKI/sa.key"
  )
  "$BIN_DIR/kube-apiserver" "${APISERVER_FLAGS[@]}" > "$TMP/kube-apiserver.log" 2>&1 &
  APISERVER_PID=$!
  rc=0; wait_ready 90 "$APISERVER_PID" "kube-apiserver /healthz" "${CURL_ADMIN[@]}" "https://127.0.0.1:$API_PORT/healthz" || rc=$?
  (( rc == 0 )) && break
  stop "$APISERVER_PID"; APISERVER_PID=""
  if (( rc == 2 && try < MAX_TRIES )) && port_clash "$TMP/kube-apiserver.log"; then echo "smoke: kube-apiserver port clash, retrying" >&2; continue; fi
  exit 1
done
wait_ready 30 "$APISERVER_PID" "the default namespace" "${CURL_ADMIN[@]}" "https://127.0.0.1:$API_PORT/api/v1/namespaces/default"
echo "smoke: kube-apiserver ready on 127.0.0.1:$API_PORT after $((SECONDS - T0))s"
ADMIN_KC="$(kubeconfig admin)"
ALICE_KC="$(kubeconfig alice)"

# --- checks --------------------------------------------------------------------------------------
check() {  # check <description> <expected output regex> <command...>
  local what="$1" want="$2" out; shift 2
  if out="$("$@" 2>&1)" && [[ "$out" =~ $want ]]; then
    PASSED=$((PASSED + 1)); echo "ok   - $what"
  else
    FAILED=$((FAILED + 1)); echo "FAIL - $what"; printf '%s\n' "$out" | sed 's/^/       /'
  fi
}
check_fails() {  # check_fails <description> <expected output regex> <command...> (command must exit non-zero)
  local what="$1" want="$2" out; shift 2
  if ! out="$("$@" 2>&1)" && [[ "$out" =~ $want ]]; then
    PASSED=$((PASSED + 1)); echo "ok   - $what"
  else
    FAILED=$((FAILED + 1)); echo "FAIL - $what"; printf '%s\n' "$out" | sed 's/^/       /'
  fi
}
KA=("$BIN_DIR/kubectl" --kubeconfig "$ADMIN_KC")
KB=("$BIN_DIR/kubectl" --kubeconfig "$ALICE_KC")

check "admin: kubectl get ns lists default" $'(^|\n)default +Active' "${KA[@]}" get ns
check "admin: whoami is admin in system:masters" 'system:masters' "${KA[@]}" auth whoami
check "admin: auth can-i '*' '*'" '^yes$' "${KA[@]}" auth can-i '*' '*'
check_fails "alice: auth can-i create pods is no" '^no' "${KB[@]}" auth can-i create pods -n default
check "admin: alice impersonated cannot list secrets" '^no' \
  bash -c '"$@" || true' _ "${KA[@]}" auth can-i list secrets --as=alice -n default
check_fails "alice: get pods is Forbidden" 'Forbidden' "${KB[@]}" get pods -n default
check "admin: create namespace" 'created' "${KA[@]}" create namespace smoke
check "admin: server-side dry-run apply of a Pod" 'created \(server dry run\)' \
  "${KA[@]}" apply --dry-run=server -n smoke -f "$TOOLS_DIR/testdata/smoke-pod.yaml"
check "kubectl kustomize renders" 'kind: Pod' "${KA[@]}" kustomize "$TOOLS_DIR/testdata"

echo "smoke: done in $((SECONDS - T0))s (pki+etcd+apiserver+checks)"
echo "smoke: $PASSED passed, $FAILED failed"
(( FAILED == 0 ))
