#!/usr/bin/env bash
# hack/kube/with-env.sh DIR CMD [ARGS...] - run CMD with the exports of DIR/env (written by up.sh:
# KUBECONFIG, KUBE_SERVER, KUBE_CA_FILE, KUBE_TOKEN, ...), e.g. as a CTest COMMAND, since the
# ports of an instance are only known once it runs.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: with-env.sh DIR CMD [ARGS...]" >&2; exit 2; }
[ -s "$1/env" ] || { echo "with-env.sh: ERROR: $1/env missing: is the instance up (hack/kube/up.sh $1)?" >&2; exit 1; }
# shellcheck source=/dev/null
. "$1/env"
shift
exec "$@"
