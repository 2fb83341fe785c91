#!/usr/bin/env bash
# check_fixture.sh DIR - non-disruptive checks of a running hack/kube/up.sh instance (the CTest
# fixture "kube"): safe to run next to other tests using the same API server.
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: check_fixture.sh DIR" >&2; exit 2; }
[ -s "$1/env" ] || { echo "FAIL: $1/env missing: is the kube fixture up?" >&2; exit 1; }
# shellcheck source=/dev/null
. "$1/env"
FAILS=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
C() { curl -sS --max-time 10 --cacert "$KUBE_CA_FILE" --cert "$KUBE_CLIENT_CERT_FILE" --key "$KUBE_CLIENT_KEY_FILE" "$@"; }
T() { curl -sS --max-time 10 --cacert "$KUBE_CA_FILE" -H "Authorization: Bearer $KUBE_TOKEN" "$@"; }
T_=$(mktemp -d)
trap 'rm -rf "$T_"' EXIT

for v in KUBECONFIG KUBE_SERVER KUBE_CA_FILE KUBE_TOKEN KUBE_CLIENT_CERT_FILE KUBE_CLIENT_KEY_FILE \
         KUBE_APISERVER_PORT KUBE_ETCD_ENDPOINT KUBE_UP_DIR KUBE_APISERVER_VERSION; do
  check "env exports $v" test -n "${!v:-}"
done
check "KUBE_SERVER uses KUBE_APISERVER_PORT on 127.0.0.1" test "$KUBE_SERVER" = "https://127.0.0.1:$KUBE_APISERVER_PORT"
check "/version is $KUBE_APISERVER_VERSION, the version up.sh started (client cert)" \
  test "$(C "$KUBE_SERVER/version" | jq -r .gitVersion)" = "$KUBE_APISERVER_VERSION"
check "/readyz ok (bearer token)" test "$(T "$KUBE_SERVER/readyz")" = ok
check "a wrong token gets 401" test "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$KUBE_CA_FILE" \
  -H 'Authorization: Bearer wrong' "$KUBE_SERVER/api/v1/namespaces")" = 401
check "no credentials gets 401 or 403" bash -c "[[ \$(curl -sS -o /dev/null -w '%{http_code}' --cacert '$KUBE_CA_FILE' '$KUBE_SERVER/api/v1/namespaces') =~ ^40[13]$ ]]"
check "kubectl get ns (context default, client cert) lists kube-system" \
  bash -c "kubectl --kubeconfig '$KUBECONFIG' get ns -o name | grep -qx namespace/kube-system"
check "kubectl --context token get ns works" \
  bash -c "kubectl --kubeconfig '$KUBECONFIG' --context token get ns -o name | grep -qx namespace/default"
check "the serving cert is valid for 127.0.0.1 (curl verifies it against KUBE_CA_FILE)" \
  bash -c "curl -sS --max-time 10 --cacert '$KUBE_CA_FILE' -o /dev/null '$KUBE_SERVER/readyz'"

# object round trip in namespace default (namespaces are never deleted: no controller-manager)
NAME=check-fixture-$$-$RANDOM
CM=$KUBE_SERVER/api/v1/namespaces/default/configmaps
RV=$(T -X POST -H 'Content-Type: application/json' \
      -d "{\"metadata\":{\"name\":\"$NAME\"},\"data\":{\"k\":\"v\"}}" "$CM" | jq -r .metadata.resourceVersion)
check "ConfigMap created (resourceVersion $RV)" test -n "$RV" -a "$RV" != null
check "second create is 409 Conflict" test "$(T -o /dev/null -w '%{http_code}' -X POST \
  -H 'Content-Type: application/json' -d "{\"metadata\":{\"name\":\"$NAME\"}}" "$CM")" = 409
check "update with a stale resourceVersion is 409" test "$(T -o /dev/null -w '%{http_code}' -X PUT \
  -H 'Content-Type: application/json' \
  -d "{\"metadata\":{\"name\":\"$NAME\",\"resourceVersion\":\"1\"},\"data\":{\"k\":\"w\"}}" "$CM/$NAME")" = 409

# watch from RV sees the delete
(sleep 1; T -X DELETE "$CM/$NAME" >/dev/null) &
T -N "$CM?watch=1&resourceVersion=$RV&timeoutSeconds=4" >"$T_/watch.json"
wait
check "watch from resourceVersion $RV saw DELETED $NAME" \
  bash -c "jq -r 'select(.object.metadata.name==\"$NAME\") | .type' '$T_/watch.json' | grep -qx DELETED"
check "get of the deleted ConfigMap is 404" test "$(T -o /dev/null -w '%{http_code}' "$CM/$NAME")" = 404

# 410: the watch cache of a resource starts at the etcd revision of the moment its cacher starts
# (API server start for built-in types, so RV=1 is NOT too old for ConfigMaps on a fresh server;
# CRD creation for custom resources). A watch from an older RV gets the ERROR 410 Expired event.
GROUP=f$$r$RANDOM.fixture.ferry.test
CRD=$KUBE_SERVER/apis/apiextensions.k8s.io/v1/customresourcedefinitions
T -X POST -H 'Content-Type: application/json' -o /dev/null "$CRD" -d "{
  \"apiVersion\": \"apiextensions.k8s.io/v1\", \"kind\": \"CustomResourceDefinition\",
  \"metadata\": {\"name\": \"probes.$GROUP\"},
  \"spec\": {\"group\": \"$GROUP\", \"scope\": \"Namespaced\",
    \"names\": {\"plural\": \"probes\", \"singular\": \"probe\", \"kind\": \"Probe\"},
    \"versions\": [{\"name\": \"v1\", \"served\": true, \"storage\": true,
      \"schema\": {\"openAPIV3Schema\": {\"type\": \"object\"}}}]}}"
for _ in $(seq 1 100); do
  [ "$(T -o /dev/null -w '%{http_code}' "$KUBE_SERVER/apis/$GROUP/v1/namespaces/default/probes")" = 200 ] && break
  sleep 0.1
done
T -N "$KUBE_SERVER/apis/$GROUP/v1/namespaces/default/probes?watch=1&resourceVersion=1&timeoutSeconds=2" >"$T_/gone.json"
check "watch of a new CRD from resourceVersion 1 gets ERROR 410 Expired" \
  test "$(jq -r 'select(.type=="ERROR") | "\(.object.code) \(.object.reason)"' "$T_/gone.json" | head -n1)" = "410 Expired"
T -X DELETE -o /dev/null "$CRD/probes.$GROUP"

echo "check_fixture: $FAILS failure(s)"
[ "$FAILS" = 0 ]
