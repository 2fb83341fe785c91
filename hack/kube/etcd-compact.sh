#!/usr/bin/env bash
# hack/kube/etcd-compact.sh DIR [REVISION] - compact the etcd of an up.sh DIR (through etcd's
# HTTP/JSON gateway, no etcdctl needed) to REVISION (default: its current revision) and print
# the revision compacted to. Afterwards, with kube-apiserver's watch cache off
# (KUBE_APISERVER_ARGS=--watch-cache=false), a watch from any older resourceVersion gets the
# 410 Expired ERROR event at once. With the watch cache on, compaction alone does NOT cause a
# 410 (the cache keeps serving): see docs/kube-test-server.md.
set -Eeuo pipefail
PROG=etcd-compact.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

[ $# -ge 1 ] && [ $# -le 2 ] && [ "$1" != -h ] && [ "$1" != --help ] ||
  { sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ -d "$1" ] || { echo "$PROG: ERROR: $1: no such directory" >&2; exit 1; }
DIR=$(cd "$1" && pwd -P)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
[ -s "$DIR/env" ] || die "$DIR is not a started up.sh dir (no env)"
EP=$(sed -n "s/^export KUBE_ETCD_ENDPOINT='\(.*\)'$/\1/p" "$DIR/env")
[ -n "$EP" ] || die "no KUBE_ETCD_ENDPOINT in $DIR/env"

REV=${2:-}
if [ -z "$REV" ]; then
  # "AA==" is the key "\0"; count_only keeps the answer small: only the header is needed.
  out=$(curl -fsS --max-time 10 -X POST "$EP/v3/kv/range" -d '{"key":"AA==","count_only":true}') ||
    die "etcd at $EP did not answer"
  REV=$(printf '%s' "$out" | sed -n 's/.*"revision":"\([0-9]*\)".*/\1/p')
  [ -n "$REV" ] || die "no revision in etcd's answer: $out"
fi
[[ "$REV" =~ ^[0-9]+$ ]] || die "REVISION must be a number, got '$REV'"
out=$(curl -sS --max-time 30 -X POST "$EP/v3/kv/compaction" -d "{\"revision\":\"$REV\",\"physical\":true}") ||
  die "etcd at $EP did not answer"
case "$out" in
  *'"error"'*|*'"code"'*)
    # compacting to an already compacted revision is not a failure for a test helper
    if printf '%s' "$out" | grep 'required revision has been compacted' >/dev/null; then
      note "revision $REV was already compacted"
    else
      die "compaction to $REV failed: $out"
    fi
    ;;
esac
echo "$REV"
