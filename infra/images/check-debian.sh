#!/usr/bin/env bash
# Boot the debian-12 guest image under QEMU (TCG, no KVM) the way Nuvem does, and check it:
#
#   infra/images/check-debian.sh OUTDIR        (OUTDIR as made by infra/images/build-debian.sh)
#
# The instance disk is a 4 GiB qcow2 overlay of OUTDIR/disk.qcow2 (first virtio disk), the NoCloud
# seed a `cidata` ISO (second virtio disk) with a fresh ed25519 key, a hostname and a `#!/bin/sh`
# user-data script; the guest's own kernel and initramfs are booted directly with image.json's
# cmdline. Waits (up to NUVEM_BOOT_TIMEOUT=300 s) for SSH, then checks: hostname, the user-data
# result, cloud-init's status, the root filesystem grown to the disk, DHCP on eth0, no timers, no
# NTP, password logins off, no failed units; runs `sysbench cpu --time=5 run`; reports what the
# guest sent on the network (packet capture); finally an ACPI power-down through the QEMU monitor
# must stop QEMU within 120 s. Prints the timings. Exits non-zero on any failure (keeping the
# work directory); QEMU is killed on every exit path. NUVEM_KEEP=1 keeps the work directory anyway.
set -euo pipefail

log() { printf '[nuvem] %s\n' "$*" >&2; }

[ $# -eq 1 ] || { sed -n '2,14p' "$0" >&2; exit 2; }
outdir=$(cd "$1" && pwd) || { log "error: no directory $1"; exit 2; }
for f in vmlinuz initrd.img disk.qcow2 image.json; do
    [ -s "$outdir/$f" ] || { log "error: $outdir/$f missing: run infra/images/build-debian.sh $1"; exit 2; }
done
for tool in qemu-system-x86_64 qemu-img genisoimage ssh ssh-keygen ss; do
    command -v "$tool" >/dev/null 2>&1 || { log "error: $tool not found"; exit 2; }
done
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3) || { log "error: python3 not found (QEMU monitor, pcap)"; exit 2; }
boot_timeout=${NUVEM_BOOT_TIMEOUT:-300}

# The kernel command line, as Nuvem's domain_spec builds it: its own prefix + image.json's.
image_cmdline=$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1])).get("cmdline", ""))' "$outdir/image.json")
[ -n "$image_cmdline" ] || { log "error: no cmdline in $outdir/image.json"; exit 2; }
cmdline="console=ttyS0 panic=-1 $image_cmdline"

work=$(mktemp -d /tmp/nuvem-check-debian.XXXXXX)
qemu_pid=
console=$work/console.log
failed=1

stop_qemu() {
    [ -n "$qemu_pid" ] || return 0
    if kill -0 "$qemu_pid" 2>/dev/null; then
        kill "$qemu_pid" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$qemu_pid" 2>/dev/null || true
    fi
    wait "$qemu_pid" 2>/dev/null || true
    qemu_pid=
}
cleanup() {
    stop_qemu
    if [ "$failed" -eq 0 ] && [ "${NUVEM_KEEP:-0}" != 1 ]; then
        rm -rf "$work"
    else
        log "work directory kept: $work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

fail() {
    log "FAIL: $*"
    if [ -f "$console" ]; then
        log "last console lines ($console):"
        tail -n 25 "$console" | sed 's/^/    /' >&2
    fi
    exit 1
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
over() { [ "$(awk -v t="$(since "$1")" -v l="$2" 'BEGIN { print (t > l) }')" = 1 ]; }

port=
for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if [ -z "$(ss -ltnH "sport = :$p")" ]; then port=$p; break; fi
done
[ -n "$port" ] || fail "no free TCP port"

# --- seed and disk -------------------------------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -C nuvem-check -f "$work/key"
instance_id=i-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
hostname=debian-check
token=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$work/seed"
cat >"$work/seed/meta-data" <<EOF
instance-id: $instance_id
local-hostname: $hostname
public-keys:
  - $(cat "$work/key.pub")
EOF
# shellcheck disable=SC2016 # $(id -un) runs in the guest
printf '#!/bin/sh\necho "hello-from-user-data %s $(id -un)" > /root/hello\n' "$token" >"$work/seed/user-data"
(cd "$work/seed" && genisoimage -quiet -output "$work/seed.iso" -volid cidata -joliet -rock user-data meta-data) \
    || fail "genisoimage failed"
qemu-img create -q -f qcow2 -b "$outdir/disk.qcow2" -F qcow2 "$work/inst.qcow2" 4G || fail "qemu-img create failed"

gssh() {
    timeout 120 ssh -i "$work/key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -o LogLevel=ERROR -o BatchMode=yes -o ConnectTimeout=10 -p "$port" root@127.0.0.1 "$@"
}

monitor() {
    "$python" - "$work/mon.sock" "$1" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.recv(4096)                      # banner and prompt
s.sendall(sys.argv[2].encode() + b"\n")
time.sleep(0.3)
s.close()
PY
}

# What the guest sent: a summary by protocol, and (on stdout) the frames that are neither ARP,
# DHCP, SSH replies nor IPv6 neighbour discovery/MLD, i.e. anything that tried to reach out.
net_report() {
    "$python" - "$1" <<'PY'
import collections, struct, sys
guest = bytes.fromhex("525400123456")
data = open(sys.argv[1], "rb").read()
endian = "<" if struct.unpack("<I", data[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else ">"
off, kinds, stray = 24, collections.Counter(), []
while off + 16 <= len(data):
    _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
    frame = data[off + 16:off + 16 + incl]
    off += 16 + incl
    if frame[6:12] != guest:
        continue
    etype = struct.unpack(">H", frame[12:14])[0]
    kind, ok = "ethertype %04x" % etype, False
    if etype == 0x0806:
        kind, ok = "arp", True
    elif etype == 0x0800:
        ihl = (frame[14] & 15) * 4
        proto = frame[23]
        dst = ".".join(str(b) for b in frame[30:34])
        if proto in (6, 17):
            sport, dport = struct.unpack(">HH", frame[14 + ihl:18 + ihl])
            name = "tcp" if proto == 6 else "udp"
            if proto == 17 and sport == 68 and dport == 67:
                kind, ok = "dhcp", True
            elif proto == 6 and sport == 22:
                kind, ok = "ssh", True
            else:
                kind = "%s %s:%d" % (name, dst, dport)
        else:
            kind = "ip proto %d to %s" % (proto, dst)
    elif etype == 0x86dd:
        nh = frame[20]
        if nh == 58 and frame[54] in (133, 135, 136, 143):   # RS, NS, NA, MLDv2 report
            kind, ok = "icmpv6 nd/mld", True
        elif nh == 0:                                        # hop-by-hop: MLD reports
            kind, ok = "icmpv6 mld", True
        else:
            kind = "ipv6 next header %d" % nh
    kinds[kind] += 1
    if not ok:
        stray.append(kind)
print("guest frames: " + ", ".join("%s %d" % kv for kv in sorted(kinds.items())), file=sys.stderr)
for s in sorted(set(stray)):
    print(s)
PY
}

check_start=$(now)

# --- boot ----------------------------------------------------------------------------------------
image_name=$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1])).get("name", "?"))' "$outdir/image.json")
log "booting $image_name under TCG: seed $instance_id, ssh on 127.0.0.1:$port"
log "cmdline: $cmdline"
: >"$console"
boot_start=$(now)
# virtio-rng as in Nuvem's domain XML (<rng model='virtio'>); -no-reboot: a panic stops QEMU.
qemu-system-x86_64 -machine pc -cpu qemu64 -m 1024 -smp 1 -no-reboot \
    -kernel "$outdir/vmlinuz" -initrd "$outdir/initrd.img" -append "$cmdline" \
    -drive file="$work/inst.qcow2",if=virtio,format=qcow2 \
    -drive file="$work/seed.iso",if=virtio,format=raw,readonly=on \
    -netdev user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:22 -device virtio-net-pci,netdev=n0 \
    -object filter-dump,id=dump0,netdev=n0,file="$work/net.pcap" \
    -object rng-random,id=rng0,filename=/dev/urandom -device virtio-rng-pci,rng=rng0 \
    -serial file:"$console" -display none -monitor unix:"$work/mon.sock",server,nowait \
    </dev/null >"$work/qemu.out" 2>&1 &
qemu_pid=$!

# Milestones from the console, noted as they appear.
declare -A seen=()
milestone() {  # KEY PATTERN
    if [ -z "${seen[$1]:-}" ] && grep -q -- "$2" "$console"; then seen[$1]=$(since "$boot_start"); fi
}
t_ssh=
attempt=0
while :; do
    milestone userspace 'systemd\[1\]\|Welcome to'
    kill -0 "$qemu_pid" 2>/dev/null || fail "QEMU exited: $(tr '\n' ' ' <"$work/qemu.out")"
    if over "$boot_start" "$boot_timeout"; then fail "no SSH after ${boot_timeout}s"; fi
    # Once the kernel is up, try SSH every 2 s (the banner exchange itself takes time under TCG).
    if [ -n "${seen[userspace]:-}" ]; then
        attempt=$((attempt + 1))
        if timeout 20 ssh -i "$work/key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
            -o LogLevel=QUIET -o BatchMode=yes -o ConnectTimeout=5 -p "$port" root@127.0.0.1 true \
            </dev/null >/dev/null 2>&1; then
            t_ssh=$(since "$boot_start")
            break
        fi
    fi
    sleep 2
done
up_ssh=$(gssh 'cut -d" " -f1 /proc/uptime') || up_ssh='?'
log "ssh as root works ${t_ssh}s after QEMU started (guest uptime ${up_ssh}s; systemd seen at ${seen[userspace]:-?}s; $attempt attempt(s))"

# --- cloud-init, user-data -------------------------------------------------------------------------
t0=$(now)
ci=$(gssh 'cloud-init status --wait >/dev/null 2>&1; cloud-init status --long' 2>&1) || true
t_ci=$(since "$boot_start")
grep -q 'status: done' <<<"$ci" || fail "cloud-init did not finish cleanly: $(tr '\n' ' ' <<<"$ci")"
up_ci=$(sed -n 's/.*Cloud-init v\. .* finished at .* Up \([0-9.]*\) seconds.*/\1/p' "$console")
up_ci=${up_ci%%$'\n'*}
log "cloud-init done ${t_ci}s after start (guest uptime ${up_ci:-?}s; waited $(since "$t0")s after SSH)"
out=$(gssh cat /root/hello) || fail "no /root/hello: the user-data script did not run"
[ "$out" = "hello-from-user-data $token root" ] || fail "/root/hello is '$out'"
log "user-data ran as root: /root/hello = $out"
[ "$(gssh hostname)" = "$hostname" ] || fail "hostname is '$(gssh hostname)', want $hostname"
iid=$(gssh cat /var/lib/cloud/data/instance-id)
[ "$iid" = "$instance_id" ] || fail "cloud-init instance-id is '$iid', want $instance_id"
ds=$(gssh 'cloud-init query v1.platform 2>/dev/null || true')
log "hostname $hostname, instance-id $iid, datasource platform ${ds:-?}"

# --- system --------------------------------------------------------------------------------------
root_dev=$(gssh 'findmnt -n -o SOURCE /')
root_kib=$(gssh 'df -k --output=size / | tail -n 1' | tr -d ' ')
[ "$root_kib" -gt $((3 * 1024 * 1024)) ] || fail "the root filesystem ($root_dev) is ${root_kib} KiB: not grown to the 4 GiB disk"
label=$(gssh "blkid -s LABEL -o value $root_dev")
[ "$label" = nuvem-root ] || fail "root $root_dev has label '$label'"
eth0=$(gssh 'ip -4 -o addr show dev eth0' | awk '{ print $4 }')
[ -n "$eth0" ] || fail "eth0 has no IPv4 address"
route=$(gssh 'ip -4 route show default' | awk '{ print $3; exit }')
log "root $root_dev (LABEL=$label) $((root_kib / 1024)) MiB; eth0 $eth0 via ${route:-none}"

# Active timers (masked ones that a static .wants link still names are listed by --all only).
timers=$(gssh 'systemctl list-timers --no-legend --plain | grep -c . || true')
[ "$timers" = 0 ] || fail "the guest has timers: $(gssh 'systemctl list-timers --no-legend --plain' | tr '\n' ';')"
ntp=$(gssh 'systemctl is-active systemd-timesyncd.service chrony.service ntpsec.service 2>/dev/null' | grep -c '^active' || true)
[ "$ntp" = 0 ] || fail "an NTP client is running"
# Nothing at boot refreshed the CA store or touched apt (cloud-init runs commands through subp).
calls=$(gssh "grep -c -E \"Running command \\\\['(update-ca-certificates|apt-get|eatmydata)\" /var/log/cloud-init.log || true")
[ "$calls" = 0 ] || fail "cloud-init ran apt-get or update-ca-certificates at boot ($calls times)"
pwauth=$(gssh 'sshd -T 2>/dev/null | grep -i "^passwordauthentication"' | awk '{ print $2 }')
[ "$pwauth" = no ] || fail "sshd PasswordAuthentication is '$pwauth'"
state=$(gssh 'systemctl is-system-running' || true)
failed_units=$(gssh 'systemctl --failed --no-legend --plain' | awk '{ print $1 }' | tr '\n' ' ')
[ -z "$failed_units" ] || fail "failed units: $failed_units"
kver=$(gssh 'uname -r')
mid=$(gssh 'cat /etc/machine-id')
[ -n "$mid" ] || fail "no machine-id"
log "no timers, no NTP, PasswordAuthentication no, system $state, kernel $kver, machine-id $mid"

# --- sysbench ------------------------------------------------------------------------------------
bench=$(gssh 'sysbench cpu --time=5 run') || fail "sysbench failed"
eps=$(awk -F: '/events per second/ { gsub(/ /, "", $2); print $2 }' <<<"$bench")
[ -n "$eps" ] || fail "no 'events per second' in sysbench's output: $bench"
log "sysbench cpu --time=5 (TCG, 1 vCPU): $eps events/s"

# --- power-down ----------------------------------------------------------------------------------
log "ACPI power-down (system_powerdown)"
t0=$(now)
monitor system_powerdown || fail "cannot talk to the QEMU monitor"
while kill -0 "$qemu_pid" 2>/dev/null; do
    if over "$t0" 120; then fail "QEMU still running 120 s after system_powerdown"; fi
    sleep 0.2
done
t_down=$(since "$t0")
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=
grep -q 'reboot: Power down' "$console" || fail "no 'reboot: Power down' on the console"
log "QEMU exited ${t_down}s after system_powerdown"

stray=$(net_report "$work/net.pcap" 2>"$work/net.summary") || fail "cannot read the packet capture"
log "$(cat "$work/net.summary")"
[ -z "$stray" ] || fail "the guest tried to reach out: $(tr '\n' ';' <<<"$stray")"

failed=0
cat >&2 <<EOF
[nuvem] $image_name image OK ($(( $(stat -c %s "$outdir/disk.qcow2") / 1048576 )) MiB disk.qcow2, kernel $kver)
[nuvem]   ssh ready            ${t_ssh}s   (boot to SSH, wall, TCG; guest uptime ${up_ssh}s)
[nuvem]   cloud-init done      ${t_ci}s   (guest uptime ${up_ci:-?}s; user-data has run)
[nuvem]   sysbench cpu         $eps events/s
[nuvem]   ACPI power-down      ${t_down}s
[nuvem]   whole check          $(since "$check_start")s wall
EOF
