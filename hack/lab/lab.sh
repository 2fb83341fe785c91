#!/usr/bin/env bash
# Ferry's migration lab: simulated nodes on one machine (two by default), each a network
# namespace with its own libvirtd, and a small QEMU (TCG) guest that dirties memory and prints
# a heartbeat.
#
#   hack/lab/lab.sh up                      guest image, QEMU 10 (bookworm-backports), netns, daemons
#     (FERRY_LAB_NODES=N up: N nodes A, B, C, ... (2-10); the count is kept until `down`)
#   hack/lab/lab.sh nodes                   the lab's node letters, one a line
#   hack/lab/lab.sh boot RAM WS RATE [HB]   start the guest on node A (MiB, MiB, MiB/s, ms)
#   hack/lab/lab.sh define RAM WS RATE      define the guest on node A without starting it
#     (FERRY_LAB_DISK_MIB=N gives the guest a local raw disk; disk-path NODE prints its file)
#   hack/lab/lab.sh fetch                   only the downloads and the guest image (no netns)
#   hack/lab/lab.sh status | where | hb NODE | uri NODE | peer-uri NODE | netns NODE
#   hack/lab/lab.sh peer-uri-tls NODE [FROM]  NODE's libvirtd over TLS, as FROM's daemon dials it
#   hack/lab/lab.sh tls-dir NODE            NODE's QEMU migration certificates (private lab CA)
#   hack/lab/lab.sh tls-remove NODE         take NODE's QEMU migration certificates away
#   hack/lab/lab.sh tls-restore NODE        give them back
#   hack/lab/lab.sh check-blackhole         exit 1 unless lab addresses are unroutable on the host
#   hack/lab/lab.sh run NODE CMD...         run CMD inside node's network namespace
#   hack/lab/lab.sh kill-daemon NODE | start-daemon NODE
#   hack/lab/lab.sh link up|down            take the link between the nodes down / up again
#   hack/lab/lab.sh cut-migration           kill the QEMU migration connections on both nodes
#   hack/lab/lab.sh down [--purge]          stop everything; leaves no processes, netns or routes
#   hack/lab/lab.sh check-clean             exit 1 (and say what) if anything of the lab is left
#
# Layout:
#   $FERRY_LAB_CACHE (/var/cache/ferry-lab)  downloaded .debs only (kernel, QEMU from backports)
#   $FERRY_LAB_DIR   (/tmp/ferry-lab)        unpacked QEMU, guest image, per-node daemon dirs.
#     Not under /var or /run: each node's mount namespace bind-mounts its own /var and /run,
#     and the emulator, kernel and initrd must stay visible to both daemons.
# Network: node A is netns ferrylab-a at 10.251.0.1, B ferrylab-b 10.251.0.2, C ferrylab-c
#   10.251.0.3, ... (letter i: address .i+1, libvirt host UUID ...0000000000(a+i)). Two nodes
#   are joined by one veth pair; more by a bridge in netns ferrylab-sw (each node's flabX0 to
#   the bridge). A blackhole route for
#   10.251.0.0/24 in the host namespace so a TCP client started by mistake on the host fails
#   locally instead of following the default route; `up` and `run` prove it (`ip route get`
#   to both addresses must fail on the host). Host-side clients use the unix sockets.
# TLS: `up` makes a private CA ($LAB/pki, openssl) and per node a server certificate (its
#   address as IP SAN) and a client certificate, used by libvirtd (listen_tls, port 16514;
#   pkipath for its outgoing peer-to-peer connection) and by QEMU (migrate_tls_x509_cert_dir).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${FERRY_LAB_CACHE:-/var/cache/ferry-lab}
LAB=${FERRY_LAB_DIR:-/tmp/ferry-lab}
IMG=$LAB/images
QBPO=$LAB/qemu-bpo
APTD=$LAB/apt
SUBNET=10.251.0.0/24
IP_A=10.251.0.1 IP_B=10.251.0.2
NS_A=ferrylab-a NS_B=ferrylab-b
NS_SW=ferrylab-sw  # the bridge joining more than two nodes
LETTERS=ABCDEFGHIJ
COUNT_FILE=$LAB/node-count
VM=${FERRY_LAB_VM:-ferry-lab-vm}
VM_UUID=f0000000-0000-4000-8000-0000000000c1
KPKG_META=linux-image-cloud-amd64
BPO_PKGS="qemu-system-x86 qemu-system-common qemu-system-data seabios qemu-system-modules-opengl qemu-system-modules-spice qemu-system-gui"

log() { printf '[lab %s] %s\n' "$(date +%T.%3N)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# Node letter -> index (A=0), netns, address, libvirt host UUID.
idx() {
  local pre=${LETTERS%%"$1"*}
  [ ${#1} = 1 ] && [ "$pre" != "$LETTERS" ] || die "unknown node '$1' (A, B, C, ...)"
  echo ${#pre}
}
ns() { echo "ferrylab-$(tr 'A-Z' 'a-z' <<<"$1")"; }
ipof() { echo "10.251.0.$(( $(idx "$1") + 1 ))"; }
uuidof() { printf 'f0000000-0000-4000-8000-%012x\n' $(( $(idx "$1") + 10 )); }
# Node count: what `up` was given (FERRY_LAB_NODES, default 2), kept in $COUNT_FILE until down.
node_count() { if [ -s "$COUNT_FILE" ]; then cat "$COUNT_FILE"; else echo "${FERRY_LAB_NODES:-2}"; fi; }
nodes() { local i n; n=$(node_count); for ((i = 0; i < n; i++)); do echo "${LETTERS:i:1}"; done; }
# Every lab namespace that exists (nodes of any count, the bridge's).
lab_netns() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^ferrylab-([a-z]|sw)$' || true; }
ndir() { echo "$LAB/nodes/$1"; }
uri() { echo "qemu+unix:///system?socket=$(ndir "$1")/run/libvirt/libvirt-sock"; }
peer_uri() { echo "qemu+tcp://$(ipof "$1")/system"; }
# pkipath: the client certificate of the node whose daemon dials (the migration's source)
peer_uri_tls() { echo "qemu+tls://$(ipof "$1")/system?pkipath=$(ndir "${2:-A}")/pki/libvirt"; }
V() { local n=$1; shift; virsh -q -c "$(uri "$n")" "$@"; }
serial() { echo "$(ndir "$1")/var/log/libvirt/qemu/$VM-serial.log"; }

apt_mirror() {  # the machine's own Debian mirror (never hard-coded)
  local u
  for u in $(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}') \
           $(grep -h '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}'); do
    case "$u" in *security*) ;; *) echo "${u%/}"; return ;; esac
  done
}

# QEMU 10 from bookworm-backports, unpacked, never installed: bookworm's 7.2 lacks the fix
# "physmem: Fix migration dirty bitmap coherency with TCG memory access" (QEMU 9.0) and
# corrupts TCG guests during migration.
fetch_qemu() {
  [ -x "$QBPO/qemu-system-x86_64" ] && return 0
  mkdir -p "$CACHE/debs-bpo" "$APTD/lists/partial" "$APTD/cache/archives/partial"
  if ! ls "$CACHE"/debs-bpo/qemu-system-x86_*.deb >/dev/null 2>&1; then
    echo "deb $(apt_mirror) bookworm-backports main" > "$APTD/sources.list"
    local o=(-o Dir::Etc::SourceList="$APTD/sources.list" -o Dir::Etc::SourceParts=/nonexistent
             -o Dir::State::Lists="$APTD/lists" -o Dir::Cache="$APTD/cache")
    log "downloading QEMU from bookworm-backports into $CACHE/debs-bpo"
    apt-get "${o[@]}" -q update >/dev/null
    local p args=(); for p in $BPO_PKGS; do args+=("$p/bookworm-backports"); done
    (cd "$CACHE/debs-bpo" && apt-get "${o[@]}" -q download "${args[@]}" 2>&1 | grep -v unsandboxed >&2 || true)
    ls "$CACHE"/debs-bpo/qemu-system-x86_*.deb >/dev/null 2>&1 || die "QEMU download failed"
  fi
  rm -rf "$QBPO"; mkdir -p "$QBPO"
  local d; for d in "$CACHE"/debs-bpo/*.deb; do dpkg-deb -x "$d" "$QBPO"; done
  cat > "$QBPO/qemu-system-x86_64" <<EOF
#!/bin/sh
# QEMU from bookworm-backports unpacked under $QBPO. QEMU_MODULE_DIR first, so bookworm's 7.2
# modules in /usr/lib/x86_64-linux-gnu/qemu are never loaded into QEMU 10.
export QEMU_MODULE_DIR=$QBPO/usr/lib/x86_64-linux-gnu/qemu
exec $QBPO/usr/bin/qemu-system-x86_64 -L $QBPO/usr/share/qemu -L $QBPO/usr/share/seabios "\$@"
EOF
  chmod +x "$QBPO/qemu-system-x86_64"
  log "QEMU: $("$QBPO/qemu-system-x86_64" --version | head -1)"
}

build_image() {
  mkdir -p "$IMG" "$CACHE/debs"
  if [ ! -s "$IMG/vmlinuz" ]; then
    local kpkg deb
    kpkg=$(apt-cache depends "$KPKG_META" | awk '/Depends: linux-image-/{print $2; exit}')
    [ -n "$kpkg" ] || die "cannot resolve $KPKG_META"
    deb=$(ls "$CACHE"/debs/"${kpkg}"_*.deb 2>/dev/null | head -1 || true)
    if [ -z "$deb" ]; then
      log "downloading $kpkg (unpacked for its vmlinuz, never installed)"
      (cd "$CACHE/debs" && apt-get -q download "$kpkg" 2>&1 | grep -v unsandboxed >&2 || true)
      deb=$(ls "$CACHE"/debs/"${kpkg}"_*.deb | head -1)
    fi
    rm -rf "$LAB/kx"; dpkg-deb -x "$deb" "$LAB/kx"
    cp "$LAB"/kx/boot/vmlinuz-* "$IMG/vmlinuz"; rm -rf "$LAB/kx"
  fi
  if [ -s "$IMG/initrd.cpio.gz" ] && [ "$IMG/initrd.cpio.gz" -nt "$HERE/guest/dirtier.c" ] \
     && [ "$IMG/initrd.cpio.gz" -nt "$HERE/guest/init" ]; then return 0; fi
  log "building guest initramfs (busybox + dirtier)"
  gcc -O2 -Wall -static -o "$IMG/dirtier" "$HERE/guest/dirtier.c"
  local r="$IMG/root"; rm -rf "$r"; mkdir -p "$r"/{bin,dev,proc,sys,tmp}
  cp /bin/busybox "$IMG/dirtier" "$r/bin/"; cp "$HERE/guest/init" "$r/init"; chmod +x "$r/init"
  local a; for a in sh mount cat echo sleep; do ln -s busybox "$r/bin/$a"; done
  mknod "$r/dev/console" c 5 1
  (cd "$r" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 > "$IMG/initrd.cpio.gz")
  rm -rf "$r"
}

write_node() {
  local n=$1 d uuid; d=$(ndir "$n"); uuid=$(uuidof "$n")
  mkdir -p "$d"/etc "$d"/run/lock "$d"/var/{lib/libvirt/qemu,lib/libvirt/images,cache/libvirt,log/libvirt/qemu,tmp}
  chmod 1777 "$d/var/tmp"; ln -sfn /run "$d/var/run"; ln -sfn /run/lock "$d/var/lock"
  install_pki "$n"
  cat > "$d/etc/libvirtd.conf" <<EOF
# Ferry lab node $n (bind-mounted over /etc/libvirt in the node's mount namespace)
listen_tls = 1
tls_port = "16514"
key_file = "$(pki_dir "$n")/libvirt/serverkey.pem"
cert_file = "$(pki_dir "$n")/libvirt/servercert.pem"
ca_file = "$(pki_dir "$n")/libvirt/cacert.pem"
listen_tcp = 1
listen_addr = "$(ipof "$n")"
tcp_port = "16509"
auth_tcp = "none"
auth_unix_ro = "none"
auth_unix_rw = "none"
unix_sock_dir = "/run/libvirt"
# libvirt refuses to migrate to a host with its own UUID (both would read the same SMBIOS)
host_uuid = "$uuid"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
  cat > "$d/etc/qemu.conf" <<EOF
# Ferry lab node $n
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
# both daemons share one cgroup tree and would clash on machine/qemu-1-<vm>
cgroup_controllers = [ ]
# post-copy needs userfaultfd (CAP_SYS_PTRACE when vm.unprivileged_userfaultfd=0)
clear_emulator_capabilities = 0
stdio_handler = "file"
migration_host = "$(ipof "$n")"
migration_address = "$(ipof "$n")"
migration_port_min = 49152
migration_port_max = 49215
# QEMU's TLS for VIR_MIGRATE_TLS: certificates from the lab CA, peers verified
migrate_tls_x509_cert_dir = "$(pki_dir "$n")/qemu"
migrate_tls_x509_verify = 1
# the daemons' peer-to-peer connection: a dead peer or link is noticed in ~6-8 s (default 30 s)
keepalive_interval = 2
keepalive_count = 3
EOF
  : > "$d/etc/libvirt.conf"
  # libvirt 9.0 resolves its built-in qemu user before reading qemu.conf: private passwd/group
  { cat /etc/passwd; grep -q '^libvirt-qemu:' /etc/passwd || echo 'libvirt-qemu:x:64055:64055:lab:/var/lib/libvirt:/usr/sbin/nologin'; } > "$d/passwd"
  { cat /etc/group; grep -q '^libvirt-qemu:' /etc/group || echo 'libvirt-qemu:x:64055:'; grep -q '^kvm:' /etc/group || echo 'kvm:x:64056:'; } > "$d/group"
  cat > "$d/daemon.sh" <<EOF
#!/bin/bash
# ip netns exec $(ns "$n") unshare --mount --propagation private $d/daemon.sh
set -e
mount --make-rprivate /
mount --bind $d/etc /etc/libvirt
mount --bind $d/passwd /etc/passwd
mount --bind $d/group /etc/group
mount --bind $d/run /run
mount --bind $d/var /var
exec /usr/sbin/libvirtd --listen --config /etc/libvirt/libvirtd.conf --pid-file /run/libvirtd.pid
EOF
  chmod +x "$d/daemon.sh"
}

daemon_pid() { local f; f="$(ndir "$1")/run/libvirtd.pid"; [ -s "$f" ] && cat "$f"; }
alive() {  # pid: running and not a zombie (a killed daemon may linger unreaped)
  [ -n "$1" ] && [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]
}
daemon_alive() { local p; p=$(daemon_pid "$1" 2>/dev/null) || return 1; alive "$p" && grep -q libvirtd "/proc/$p/comm"; }

start_daemon() {
  local n=$1 d i; d=$(ndir "$n")
  daemon_alive "$n" && return 0
  rm -f "$d/run/libvirtd.pid"
  setsid ip netns exec "$(ns "$n")" unshare --mount --propagation private "$d/daemon.sh" </dev/null >>"$d/daemon.out" 2>&1 &
  for i in $(seq 1 150); do
    if [ -S "$d/run/libvirt/libvirt-sock" ] && V "$n" version >/dev/null 2>&1; then
      echo "$(daemon_pid "$n")" >> "$LAB/daemon-pids"   # for check-clean
      log "node $n: libvirtd pid $(daemon_pid "$n")"; return 0
    fi
    sleep 0.2
  done
  tail -5 "$d/daemon.out" >&2 || true
  die "node $n: libvirtd did not come up"
}

kill_daemon() {  # SIGKILL, as a crash would: guests keep running
  local n=$1 p; p=$(daemon_pid "$n" 2>/dev/null || true)
  alive "$p" && kill -9 "$p" && log "node $n: libvirtd pid $p killed"
  return 0
}

# The blackhole must work, not only be listed: the kernel must refuse to route a lab address
# from the host namespace.
assert_blackhole() {
  local ip n
  for n in $(nodes); do
    ip=$(ipof "$n")
    if ip route get "$ip" >/dev/null 2>&1; then
      die "host namespace can route to lab address $ip ($(ip route get "$ip" 2>&1 | head -1)): blackhole missing"
    fi
  done
}

# Private lab CA and per-node certificates (EC P-256; 10 days; regenerated by every `up`).
PKI=$LAB/pki
pki_dir() { echo "$(ndir "$1")/pki"; }
make_cert() {  # NAME CN [IP] -> $PKI/NAME-{key,cert}.pem signed by the lab CA
  local name=$1 cn=$2 ip=${3:-} ext=$PKI/$1.ext
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/$name-key.pem" 2>/dev/null
  openssl req -new -key "$PKI/$name-key.pem" -subj "/O=Ferry lab/CN=$cn" -out "$PKI/$name.csr" 2>/dev/null
  if [ -n "$ip" ]; then
    printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n' "$ip" > "$ext"
  else
    printf 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n' > "$ext"
  fi
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca-cert.pem" -CAkey "$PKI/ca-key.pem" -CAcreateserial \
    -days 10 -extfile "$ext" -out "$PKI/$name-cert.pem" 2>/dev/null
  rm -f "$PKI/$name.csr" "$ext"
}
make_pki() {
  rm -rf "$PKI"; mkdir -p "$PKI"; chmod 700 "$PKI"
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/ca-key.pem" 2>/dev/null
  openssl req -new -x509 -key "$PKI/ca-key.pem" -subj "/O=Ferry lab/CN=Ferry lab CA" -days 10 \
    -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$PKI/ca-cert.pem" 2>/dev/null
  local n
  for n in $(nodes); do make_cert "server-$n" "$(ipof "$n")" "$(ipof "$n")"; make_cert "client-$n" "ferry-lab-node-$n"; done
  log "private lab CA and node certificates in $PKI"
}
install_pki() {  # NODE: QEMU's layout (qemu/) and libvirt's (libvirt/, flat, as pkipath wants)
  local n=$1 d; d=$(pki_dir "$1")
  rm -rf "$d"; mkdir -p "$d/qemu" "$d/libvirt"
  cp "$PKI/ca-cert.pem" "$d/qemu/ca-cert.pem"
  cp "$PKI/server-$n-cert.pem" "$d/qemu/server-cert.pem"; cp "$PKI/server-$n-key.pem" "$d/qemu/server-key.pem"
  cp "$PKI/client-$n-cert.pem" "$d/qemu/client-cert.pem"; cp "$PKI/client-$n-key.pem" "$d/qemu/client-key.pem"
  cp "$PKI/ca-cert.pem" "$d/libvirt/cacert.pem"
  cp "$PKI/server-$n-cert.pem" "$d/libvirt/servercert.pem"; cp "$PKI/server-$n-key.pem" "$d/libvirt/serverkey.pem"
  cp "$PKI/client-$n-cert.pem" "$d/libvirt/clientcert.pem"; cp "$PKI/client-$n-key.pem" "$d/libvirt/clientkey.pem"
  chmod 600 "$d"/*/*key.pem
}

make_network() {  # N: two nodes on one veth pair, more on a bridge in $NS_SW
  local count=$1 n
  echo "$count" >"$COUNT_FILE"
  if [ "$count" = 2 ]; then
    ip netns add $NS_A; ip netns add $NS_B
    ip link add flabA0 type veth peer name flabB0
    ip link set flabA0 netns $NS_A; ip link set flabB0 netns $NS_B
  else
    ip netns add $NS_SW
    ip -n $NS_SW link set lo up
    ip -n $NS_SW link add br0 type bridge forward_delay 0
    ip -n $NS_SW link set br0 up
    for n in $(nodes); do
      ip netns add "$(ns "$n")"
      ip link add "flab${n}0" type veth peer name "flab${n}1"
      ip link set "flab${n}0" netns "$(ns "$n")"; ip link set "flab${n}1" netns $NS_SW
      ip -n $NS_SW link set "flab${n}1" master br0 up
    done
  fi
  for n in $(nodes); do
    ip -n "$(ns "$n")" addr add "$(ipof "$n")/24" dev "flab${n}0"
    ip -n "$(ns "$n")" link set lo up; ip -n "$(ns "$n")" link set "flab${n}0" up
  done
}

cmd_up() {
  local t0=$SECONDS want=${FERRY_LAB_NODES:-} n p pids=()
  [ -z "$want" ] || [[ "$want" =~ ^([2-9]|10)$ ]] || die "FERRY_LAB_NODES must be 2..10, got '$want'"
  mkdir -p "$LAB"
  build_image
  fetch_qemu
  if ! ip netns list | grep -qw $NS_A; then
    [ -z "$(lab_netns)" ] || die "lab namespaces left without node A: $(echo $(lab_netns)); run: $0 down"
    make_network "${want:-2}"
  elif [ ! -s "$COUNT_FILE" ]; then
    echo 2 >"$COUNT_FILE"  # a lab brought up before the count was kept
  fi
  [ -z "$want" ] || [ "$want" = "$(node_count)" ] ||
    die "the lab is up with $(node_count) nodes, FERRY_LAB_NODES=$want asked; run: $0 down"
  ip route show type blackhole | grep -q "^blackhole $SUBNET" || ip route add blackhole $SUBNET
  assert_blackhole
  for n in $(nodes); do
    [ "$n" = A ] && continue
    ip netns exec $NS_A busybox ping -c1 -W2 "$(ipof "$n")" >/dev/null || die "ping A -> $n failed"
  done
  make_pki
  for n in $(nodes); do write_node "$n"; done
  for n in $(nodes); do start_daemon "$n" & pids+=($!); done  # in parallel: seconds each
  for p in "${pids[@]}"; do wait "$p" || die "a node's libvirtd did not come up"; done
  pids=()
  # warm the daemons' capability cache for our emulator (the first probe takes seconds)
  for n in $(nodes); do
    V "$n" domcapabilities --emulatorbin "$QBPO/qemu-system-x86_64" --virttype qemu >/dev/null & pids+=($!)
  done
  wait "${pids[@]}"
  log "up in $((SECONDS - t0)) s: $(for n in $(nodes); do printf '%s %s  ' "$(ns "$n")" "$(ipof "$n")"; done)"
}

domxml() {  # ram ws rate hb
  cat <<EOF
<domain type='qemu'>
  <name>$VM</name>
  <uuid>$VM_UUID</uuid>
  <memory unit='MiB'>$1</memory>
  <currentMemory unit='MiB'>$1</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
    <kernel>$IMG/vmlinuz</kernel>
    <initrd>$IMG/initrd.cpio.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 loglevel=4 ferry.mem=$2 ferry.rate=$3 ferry.hb=$4</cmdline>
  </os>
  <features><acpi/></features>
  <cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model></cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>$QBPO/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='/var/log/libvirt/qemu/$VM-serial.log' append='on'/>
      <target port='0'/>
    </serial>
$(disk_xml)
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

# Optional local disk (FERRY_LAB_DISK_MIB=N): a raw file under each node's own /var, so a
# live migration must copy it (VIR_MIGRATE_NON_SHARED_DISK). The target file is pre-created
# with the same size, as Ferry's target handler prepares disk paths (DESIGN section 4).
DISK_MIB=${FERRY_LAB_DISK_MIB:-0}
disk_path() { echo "$(ndir "$1")/var/lib/libvirt/images/$VM.img"; }
disk_xml() {
  [ "$DISK_MIB" -gt 0 ] || return 0
  cat <<EOF
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='/var/lib/libvirt/images/$VM.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
EOF
}
make_disks() {
  local n
  for n in A B; do rm -f "$(disk_path "$n")"; done
  [ "$DISK_MIB" -gt 0 ] || return 0
  for n in A B; do truncate -s "${DISK_MIB}M" "$(disk_path "$n")"; done
}

clean_guest() {  # remove the guest from every node, truncate serial logs
  local n
  for n in $(nodes); do
    daemon_alive "$n" || continue
    V "$n" destroy "$VM" >/dev/null 2>&1 || true
    V "$n" undefine "$VM" >/dev/null 2>&1 || true
    mkdir -p "$(dirname "$(serial "$n")")"; : > "$(serial "$n")"
  done
}

cmd_define() {
  local ram=${1:-256} ws=${2:-64} rate=${3:-16} hb=${4:-200}
  daemon_alive A && daemon_alive B || die "lab is not up (hack/lab/lab.sh up)"
  clean_guest
  make_disks
  domxml "$ram" "$ws" "$rate" "$hb" > "$LAB/$VM.xml"
  V A define "$LAB/$VM.xml" >/dev/null
  log "guest $VM defined on A (ram=${ram}MiB ws=${ws}MiB dirty=${rate}MiB/s)"
}

cmd_boot() {
  local t0=$SECONDS i
  cmd_define "$@"
  V A start "$VM" >/dev/null
  for i in $(seq 1 450); do grep -q 'lab: hb=1 ' "$(serial A)" 2>/dev/null && break; sleep 0.2; done
  grep -q 'lab: hb=1 ' "$(serial A)" || die "guest printed no heartbeat within 90 s"
  log "guest $VM running on A, first heartbeat after $((SECONDS - t0)) s"
}

cmd_where() {  # prints the node where the guest runs (running or paused), else exit 1
  local n s
  for n in $(nodes); do
    daemon_alive "$n" || continue
    s=$(V "$n" domstate "$VM" 2>/dev/null | head -1 || true)
    [ "$s" = running ] && { echo "$n"; return 0; }
  done
  return 1
}

cmd_hb() {  # last heartbeat line of the node's serial log: "<hb> <errs>" (nothing if none)
  local l; l=$(grep -a 'lab: hb=' "$(serial "$1")" 2>/dev/null | tail -1 || true)
  [ -n "$l" ] || return 0
  echo "$(sed -E 's/.*hb=([0-9]+).*/\1/' <<<"$l") $(sed -E 's/.*errs=([0-9]+).*/\1/' <<<"$l")"
}

cmd_status() {
  local n
  for n in $(nodes); do
    if daemon_alive "$n"; then
      echo "node $n ($(ns "$n") $(ipof "$n")): libvirtd $(daemon_pid "$n"); domains: $(V "$n" list --all 2>&1 | tr -s ' ' | tr '\n' ';')"
      echo "  serial: $(tail -1 "$(serial "$n")" 2>/dev/null | cut -c1-110)"
    else echo "node $n: libvirtd not running"; fi
  done
}

kill_pids() {  # TERM, then KILL what is left
  [ $# -gt 0 ] || return 0
  kill "$@" 2>/dev/null || true
  local i p left
  for i in $(seq 1 30); do
    left=0; for p in "$@"; do alive "$p" && left=1; done
    [ $left = 0 ] && return 0; sleep 0.1
  done
  kill -9 "$@" 2>/dev/null || true
}

cmd_down() {
  local n pids p netns
  for n in $(nodes); do
    daemon_alive "$n" && for p in $(V "$n" list --name 2>/dev/null); do V "$n" destroy "$p" >/dev/null 2>&1 || true; done
  done
  # everything that lives in our namespaces: libvirtd, QEMU, clients started with `run`
  for netns in $(lab_netns); do
    pids=$(ip netns pids "$netns" 2>/dev/null || true)
    [ -n "$pids" ] && log "stopping $netns processes: $(echo $pids)" && kill_pids $pids
  done
  # QEMU processes of our emulator that escaped (should be none)
  pids=$(pgrep -f "$QBPO/usr/bin/qemu-system-x86_64" || true)
  [ -n "$pids" ] && log "killing leftover QEMU $(echo $pids)" && kill_pids $pids
  for netns in $(lab_netns); do ip netns del "$netns" && log "netns $netns deleted"; done
  ip route show type blackhole | grep -q "^blackhole $SUBNET" && ip route del blackhole $SUBNET
  rm -rf "$LAB/nodes" "$PKI" "$COUNT_FILE"
  [ "${1:-}" = --purge ] && rm -rf "$LAB"
  return 0
}

cmd_link() {  # up|down: node A's end of the link between the nodes (down: no route to B at all)
  case "${1:-}" in
    up | down) ip netns exec $NS_A ip link set flabA0 "$1" ;;
    *) die "link: expected up or down, got '${1:-}'" ;;
  esac
  log "link A<->B $1"
}

cmd_cut_migration() {  # kill the QEMU-to-QEMU migration connections on both nodes (RST, as a crash would)
  # Everything between the nodes except libvirtd's own connections (port 16509) is migration
  # traffic. ss -K destroys the sockets: each QEMU sees its connection fail at once.
  local n
  n=$(ip netns exec $NS_A ss -H -K dst $IP_B dport != :16509 2>/dev/null | wc -l)
  n=$((n + $(ip netns exec $NS_B ss -H -K src $IP_B sport != :16509 2>/dev/null | wc -l)))
  [ "$n" -gt 0 ] || die "cut-migration: no migration connection between the nodes"
  log "cut $n migration socket(s)"
}

cmd_check_clean() {  # exit 1 if anything of the lab is left
  local left=0 p
  for n in $(lab_netns); do echo "left: netns $n"; left=1; done
  ip route show type blackhole | grep -q "^blackhole $SUBNET" && { echo "left: blackhole route $SUBNET"; left=1; }
  p=$(pgrep -f "$QBPO/usr/bin/qemu-system-x86_64" || true); [ -n "$p" ] && { echo "left: QEMU $p"; left=1; }
  if [ -f "$LAB/daemon-pids" ]; then
    for p in $(sort -u "$LAB/daemon-pids"); do
      alive "$p" && grep -q libvirtd "/proc/$p/comm" && { echo "left: libvirtd $p"; left=1; }
    done
  fi
  [ $left = 0 ] && log "clean: no lab namespaces, routes or processes left"
  return $left
}

case "${1:-}" in
  up) cmd_up ;;
  nodes) nodes ;;
  fetch) mkdir -p "$LAB"; build_image; fetch_qemu ;;
  check-blackhole) assert_blackhole; log "blackhole works: $IP_A and $IP_B unroutable from the host namespace" ;;
  peer-uri-tls) peer_uri_tls "${2:?node}" "${3:-A}" ;;
  tls-dir) echo "$(pki_dir "${2:?node}")/qemu" ;;
  tls-remove) rm -f "$(pki_dir "${2:?node}")"/qemu/*.pem; log "node $2: QEMU migration certificates removed" ;;
  tls-restore) install_pki "${2:?node}"; log "node $2: certificates restored" ;;
  check-clean) cmd_check_clean ;;
  down) shift; cmd_down "$@" ;;
  boot) shift; cmd_boot "$@" ;;
  define) shift; cmd_define "$@" ;;
  clean-guest) clean_guest ;;
  where) cmd_where ;;
  hb) cmd_hb "${2:?node}" ;;
  serial) serial "${2:?node}" ;;
  disk-path) disk_path "${2:?node}" ;;
  status) cmd_status ;;
  uri) uri "${2:?node}" ;;
  peer-uri) peer_uri "${2:?node}" ;;
  netns) ns "${2:?node}" ;;
  vm) echo "$VM" ;;
  run) assert_blackhole; n=${2:?node}; shift 2; exec ip netns exec "$(ns "$n")" "$@" ;;
  kill-daemon) kill_daemon "${2:?node}" ;;
  link) cmd_link "${2:-}" ;;
  cut-migration) cmd_cut_migration ;;
  start-daemon) start_daemon "${2:?node}" ;;
  virsh) n=${2:?node}; shift 2; V "$n" "$@" ;;
  *) sed -n '2,/^set -euo/p' "$0" | grep '^#'; exit 2 ;;
esac
