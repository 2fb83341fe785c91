#!/usr/bin/env bash
# hack/kube/up.sh DIR - start etcd + a real kube-apiserver (v1.20 or newer) on loopback for tests.
#
# Everything lives under DIR (created if missing; must be empty or an old up.sh dir):
#   DIR/kubeconfig  contexts "default" (admin client cert, O=system:masters) and "token"
#                   (static bearer token, group system:masters); current context "default"
#   DIR/env         exports KUBECONFIG KUBE_SERVER KUBE_CA_FILE KUBE_TOKEN KUBE_CLIENT_CERT_FILE
#                   KUBE_CLIENT_KEY_FILE KUBE_APISERVER_PORT KUBE_ETCD_ENDPOINT KUBE_UP_DIR
#                   KUBE_APISERVER_VERSION (e.g. v1.31.14)
#   DIR/pki DIR/etcd-data DIR/logs/{etcd,kube-apiserver}.log DIR/run/*.pid
# Exits 0 once /readyz says ok, with both daemons detached (own session, no inherited fds).
# Stop with hack/kube/down.sh DIR; restart only the API server with restart-apiserver.sh DIR.
# The binary comes from hack/kube/build.sh (v1.20.2), or KUBE_APISERVER_BIN names any other
# kube-apiserver from v1.20 on: only flags that version knows are passed (--insecure-port,
# removed in v1.24, only before it). No controller-manager: the ServiceAccount admission
# plugin is disabled, nothing garbage-collects, namespaces stay Terminating.
#
# Environment:
#   KUBE_APISERVER_ARGS      extra kube-apiserver flags (split on spaces), e.g.
#                            "--watch-cache=false --etcd-compaction-interval=5s" (see
#                            docs/kube-test-server.md for what makes a 410 Gone reproducible)
#   KUBE_AUTHORIZATION_MODE  default RBAC (e.g. Node,RBAC or AlwaysAllow)
#   KUBE_UP_TIMEOUT          seconds until everything must be ready (default 120)
#   KUBE_PORT_RANGE          where ports are picked (default 20000-32000)
#   KUBE_V                   component log verbosity (default 1)
#   KUBE_CACHE / KUBE_APISERVER_BIN / ETCD_BIN   where the binaries are
set -Eeuo pipefail
PROG=up.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

[ $# -eq 1 ] && [ -n "$1" ] && [ "$1" != -h ] && [ "$1" != --help ] ||
  { sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
mkdir -p "$1" || { echo "up.sh: ERROR: cannot create $1" >&2; exit 1; }
DIR=$(cd "$1" && pwd -P)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
trap 'note "unexpected failure at line $LINENO: $BASH_COMMAND"' ERR

TIMEOUT=${KUBE_UP_TIMEOUT:-120}
VERB=${KUBE_V:-1}
AUTHZ=${KUBE_AUTHORIZATION_MODE:-RBAC}
SERVICE_CIDR=10.0.0.0/24
SA_ISSUER=https://kubernetes.default.svc.cluster.local
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die "KUBE_UP_TIMEOUT must be whole seconds, got '$TIMEOUT'"
[[ "$VERB" =~ ^[0-9]+$ ]] || die "KUBE_V must be a number, got '$VERB'"
[ -x "$KUBE_APISERVER" ] || die "$KUBE_APISERVER not found; run hack/kube/build.sh first"
[ -x "$KUBE_ETCD" ] || die "$KUBE_ETCD not found; install etcd-server (hack/install-deps.sh)"
for t in openssl curl flock setsid base64; do
  command -v $t >/dev/null || die "'$t' not found (hack/install-deps.sh)"
done
# "Kubernetes v1.31.14" -> 1 31; flags are chosen by version below.
VERSION_LINE=$("$KUBE_APISERVER" --version 2>/dev/null) || die "$KUBE_APISERVER --version failed"
[[ "$VERSION_LINE" =~ v([0-9]+)\.([0-9]+)\.([0-9]+) ]] || die "cannot read a version from '$VERSION_LINE'"
API_VERSION=v${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.${BASH_REMATCH[3]}
API_MINOR=$((BASH_REMATCH[1] * 1000 + BASH_REMATCH[2]))
[ "$API_MINOR" -ge 1020 ] || die "$API_VERSION is too old: the test harness needs kube-apiserver v1.20 or newer"
VERSION_FLAGS=()
# --insecure-port=0 turned the plain-HTTP port off until v1.23; v1.24 removed the flag (and
# the port) and refuses to start when it is given.
[ "$API_MINOR" -lt 1024 ] && VERSION_FLAGS+=(--insecure-port=0)
T0=$(now_us)
DEADLINE=$((T0 + TIMEOUT * 1000000))

# ------------------------------------------------------------------ claim DIR
if [ ! -f "$DIR/$KUBE_MARKER" ] && [ -n "$(find "$DIR" -mindepth 1 -maxdepth 1 ! -name .lock -print -quit)" ]; then
  die "$DIR is not empty and not an up.sh dir; refusing to use it"
fi
exec 8>>"$DIR/.lock"
flock -n 8 || die "$DIR is in use by another up.sh/down.sh/restart-apiserver.sh"
for name in etcd kube-apiserver; do
  if running "$name"; then die "$DIR already runs $name (pid $(pid_of $name)); run down.sh $DIR first"; fi
done
rm -rf "$DIR/pki" "$DIR/etcd-data" "$DIR/logs" "$DIR/run" "$DIR/kubeconfig" "$DIR/env" "$DIR/ports"
echo "created $(date -u +%FT%TZ) by $HERE/up.sh" >"$DIR/$KUBE_MARKER"
PKI=$DIR/pki
mkdir -p "$PKI" "$DIR/run" "$DIR/logs"
chmod 700 "$PKI"

SUCCESS=0
cleanup() {
  local rc=$?
  release_claims
  if [ "$SUCCESS" != 1 ]; then
    note "start-up failed; stopping what was started (DIR and logs kept: $DIR)"
    stop kube-apiserver || true
    stop etcd || true
    [ "$rc" -ne 0 ] || rc=1
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ PKI (EC P-256: fast)
CNF=$PKI/openssl.cnf
cat >"$CNF" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
EOF
newkey() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
  chmod 600 "$1"
}
mkca() { # NAME CN
  newkey "$PKI/$1.key"
  openssl req -config "$CNF" -x509 -new -key "$PKI/$1.key" -subj "/CN=$2" -days 3650 \
    -extensions ca -set_serial "0x$(openssl rand -hex 12)" -out "$PKI/$1.crt" 2>/dev/null
}
mkcert() { # NAME SUBJECT CA PROFILE
  newkey "$PKI/$1.key"
  openssl req -config "$CNF" -new -key "$PKI/$1.key" -subj "$2" -out "$PKI/$1.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/$3.crt" -CAkey "$PKI/$3.key" -days 3650 \
    -extfile "$CNF" -extensions "$4" -set_serial "0x$(openssl rand -hex 12)" \
    -out "$PKI/$1.crt" 2>/dev/null
  rm -f "$PKI/$1.csr"
}
T_PKI0=$(now_us)
{
  mkca ca ferry-test-ca
  mkcert apiserver "/CN=kube-apiserver" ca server
  mkcert admin "/O=system:masters/CN=ferry-test-admin" ca client
  # the aggregation layer wants a request-header CA + proxy client cert
  mkca front-proxy-ca ferry-test-front-proxy-ca
  mkcert front-proxy-client "/CN=front-proxy-client" front-proxy-ca client
  newkey "$PKI/sa.key"
  openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  TOKEN=$(openssl rand -hex 24)
  echo "$TOKEN,ferry-test-token-admin,ferry-test-token-admin,system:masters" >"$PKI/tokens.csv"
  printf '%s\n' "$TOKEN" >"$PKI/admin.token"
  chmod 600 "$PKI/tokens.csv" "$PKI/admin.token"
} || die "PKI generation with openssl failed"
for f in ca apiserver admin front-proxy-ca front-proxy-client; do
  [ -s "$PKI/$f.crt" ] || die "openssl did not produce $PKI/$f.crt"
done
T_PKI1=$(now_us)

# ------------------------------------------------------------------ etcd
for attempt in 1 2 3; do
  claim_ports 2
  ETCD_PORT=${PICKED[0]} ETCD_PEER_PORT=${PICKED[1]}
  rm -rf "$DIR/etcd-data"
  mkdir -m 700 "$DIR/etcd-data"
  spawn etcd "$KUBE_ETCD" --name ferry-test --data-dir "$DIR/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "ferry-test=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state new \
    --initial-cluster-token "ferry-test-$$" --quota-backend-bytes 2147483648 \
    --logger zap --log-outputs stderr --log-level "$([ "$VERB" -ge 4 ] && echo debug || echo info)"
  ok=0
  while [ "$(now_us)" -lt "$DEADLINE" ]; do
    if curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null |
       grep '"health":"true"' >/dev/null; then ok=1; break; fi
    started etcd || break
    sleep 0.05
  done
  [ $ok = 1 ] && break
  if ! started etcd && grep 'address already in use' "$DIR/logs/etcd.log" >/dev/null && [ $attempt -lt 3 ]; then
    note "etcd port collision, retrying with other ports"
    mv "$DIR/logs/etcd.log" "$DIR/logs/etcd.attempt$attempt.log"
    continue
  fi
  started etcd && note "etcd not healthy within ${TIMEOUT}s" || note "etcd exited during start-up"
  log_tail etcd
  exit 1
done
T_ETCD1=$(now_us)

# ------------------------------------------------------------------ kube-apiserver
EXTRA=()
# shellcheck disable=SC2206  # documented: split on spaces
[ -n "${KUBE_APISERVER_ARGS:-}" ] && EXTRA=(${KUBE_APISERVER_ARGS})
for attempt in 1 2 3; do
  claim_ports 1
  API_PORT=${PICKED[0]}
  printf '%s\n' "$KUBE_APISERVER" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
    ${VERSION_FLAGS[@]+"${VERSION_FLAGS[@]}"} \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" --token-auth-file="$PKI/tokens.csv" \
    --service-account-issuer="$SA_ISSUER" --api-audiences="$SA_ISSUER" \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --authorization-mode="$AUTHZ" --allow-privileged=true \
    --disable-admission-plugins=ServiceAccount \
    --endpoint-reconciler-type=none \
    --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key" \
    --cert-dir="$DIR/run/apiserver-certs" --profiling=false --v="$VERB" \
    ${EXTRA[@]+"${EXTRA[@]}"} >"$DIR/run/kube-apiserver.args"
  rc=0
  start_apiserver "$API_PORT" "$DEADLINE" || rc=$?
  [ $rc = 0 ] && break
  if [ $rc = 2 ] && [ $attempt -lt 3 ]; then note "apiserver port collision, retrying with another port"; continue; fi
  exit 1
done
T_API1=$(now_us)
SERVER=https://127.0.0.1:$API_PORT

# ------------------------------------------------------------------ kubeconfig + env
b64() { base64 -w0 <"$1"; }
cat >"$DIR/kubeconfig.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ferry-test
  cluster:
    server: $SERVER
    certificate-authority-data: $(b64 "$PKI/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(b64 "$PKI/admin.crt")
    client-key-data: $(b64 "$PKI/admin.key")
- name: admin-token
  user:
    token: $TOKEN
contexts:
- name: default
  context: {cluster: ferry-test, user: admin, namespace: default}
- name: token
  context: {cluster: ferry-test, user: admin-token, namespace: default}
current-context: default
EOF
chmod 600 "$DIR/kubeconfig.tmp"
mv "$DIR/kubeconfig.tmp" "$DIR/kubeconfig"
cat >"$DIR/env.tmp" <<EOF
# . $DIR/env
export KUBE_UP_DIR='$DIR'
export KUBECONFIG='$DIR/kubeconfig'
export KUBE_SERVER='$SERVER'
export KUBE_APISERVER_PORT='$API_PORT'
export KUBE_CA_FILE='$PKI/ca.crt'
export KUBE_CLIENT_CERT_FILE='$PKI/admin.crt'
export KUBE_CLIENT_KEY_FILE='$PKI/admin.key'
export KUBE_TOKEN='$TOKEN'
export KUBE_ETCD_ENDPOINT='http://127.0.0.1:$ETCD_PORT'
export KUBE_APISERVER_VERSION='$API_VERSION'
EOF
chmod 600 "$DIR/env.tmp"
mv "$DIR/env.tmp" "$DIR/env"
printf 'etcd %s (peer %s)\nkube-apiserver %s\n' "$ETCD_PORT" "$ETCD_PEER_PORT" "$API_PORT" >"$DIR/ports"

SUCCESS=1 # the EXIT trap only drops the port claims now: the ports are bound
T1=$(now_us)
printf 'up.sh: %s ready at %s in %ss (pki %ss, etcd %ss, apiserver %ss)\n' \
  "$VERSION_LINE" "$SERVER" "$(secs "$T0" "$T1")" "$(secs "$T_PKI0" "$T_PKI1")" \
  "$(secs "$T_PKI1" "$T_ETCD1")" "$(secs "$T_ETCD1" "$T_API1")"
echo "up.sh: . $DIR/env && kubectl get ns      (stop: hack/kube/down.sh $DIR)"
