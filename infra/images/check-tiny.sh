#!/usr/bin/env bash
# Boot the tiny guest image twice under QEMU (TCG, no KVM) and check it end to end:
#
#   infra/images/check-tiny.sh OUTDIR        (OUTDIR as made by infra/images/build-tiny.sh)
#
# Boot 1: NoCloud seed (fresh ed25519 key, hostname, `#!` user-data writing /data/hello) and a
#   blank 64 MiB qcow2 disk; waits for `ssh ready`, checks the user-data result over SSH, the
#   key file modes, zombie reaping, that the guest sent nothing but ARP, DHCP and SSH replies
#   (packet capture), then an ACPI power-down through the QEMU monitor must stop QEMU in 30 s.
# Boot 2: same disk: the filesystem, /data/hello, a marker written in boot 1 and the SSH host key
#   must still be there, user-data must not run again; `poweroff` in the guest must stop QEMU.
# Prints the timings. Exits non-zero on any failure (keeping the work directory for a look);
# QEMU is killed on every exit path. NUVEM_KEEP=1 keeps the work directory anyway.
set -euo pipefail

log() { printf '[nuvem] %s\n' "$*" >&2; }

[ $# -eq 1 ] || { sed -n '2,13p' "$0" >&2; exit 2; }
outdir=$(cd "$1" && pwd) || { log "error: no directory $1"; exit 2; }
for f in vmlinuz initrd.img image.json; do
    [ -s "$outdir/$f" ] || { log "error: $outdir/$f missing: run infra/images/build-tiny.sh $1"; exit 2; }
done
for tool in qemu-system-x86_64 qemu-img genisoimage ssh ssh-keygen ssh-keyscan ss; do
    command -v "$tool" >/dev/null 2>&1 || { log "error: $tool not found"; exit 2; }
done
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3) || { log "error: python3 not found (QEMU monitor, pcap)"; exit 2; }

work=$(mktemp -d /tmp/nuvem-check-tiny.XXXXXX)
qemu_pid=
console=
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
    if [ -n "$console" ] && [ -f "$console" ]; then
        log "last console lines ($console):"
        tail -n 25 "$console" | sed 's/^/    /' >&2
    fi
    exit 1
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

port=
for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if [ -z "$(ss -ltnH "sport = :$p")" ]; then port=$p; break; fi
done
[ -n "$port" ] || fail "no free TCP port"

# --- seed and disk -------------------------------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -C nuvem-check -f "$work/key"
instance_id=i-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
hostname=tiny-check
mkdir -p "$work/seed"
cat >"$work/seed/meta-data" <<EOF
instance-id: $instance_id
local-hostname: $hostname
public-keys:
  - $(cat "$work/key.pub")
EOF
printf '#!/bin/sh\necho hello-from-user-data > /data/hello\n' >"$work/seed/user-data"
(cd "$work/seed" && genisoimage -quiet -output "$work/seed.iso" -volid cidata -joliet -rock user-data meta-data) \
    || fail "genisoimage failed"
qemu-img create -q -f qcow2 "$work/disk.qcow2" 64M || fail "qemu-img create failed"

gssh() {
    timeout 60 ssh -i "$work/key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -o LogLevel=ERROR -o BatchMode=yes -o ConnectTimeout=20 -p "$port" root@127.0.0.1 "$@"
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

# Frames the guest sent that are not ARP, DHCP (UDP 68->67) or SSH (TCP from port 22).
stray_frames() {
    "$python" - "$1" <<'PY'
import struct, sys
guest = bytes.fromhex("525400123456")
data = open(sys.argv[1], "rb").read()
magic = struct.unpack("<I", data[:4])[0]
endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
off, total, stray = 24, 0, []
while off + 16 <= len(data):
    _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
    frame = data[off + 16:off + 16 + incl]
    off += 16 + incl
    if frame[6:12] != guest:
        continue
    total += 1
    etype = struct.unpack(">H", frame[12:14])[0]
    ok = False
    if etype == 0x0806:
        ok = True
    elif etype == 0x0800:
        ihl = (frame[14] & 15) * 4
        proto = frame[23]
        sport, dport = struct.unpack(">HH", frame[14 + ihl:18 + ihl])
        ok = (proto == 17 and sport == 68 and dport == 67) or (proto == 6 and sport == 22)
    if not ok:
        stray.append("ethertype %04x: %s" % (etype, frame[14:54].hex()))
print("guest frames: %d, stray: %d" % (total, len(stray)), file=sys.stderr)
for s in stray[:10]:
    print(s)
PY
}

# boot N: start QEMU, wait for `network up` and `ssh ready`; sets t_net, t_ssh, boot_start.
boot() {
    local n=$1
    console=$work/console-$n.log
    : >"$console"
    rm -f "$work/mon.sock"
    boot_start=$(now)
    qemu-system-x86_64 -machine pc -cpu qemu64 -m 256 -smp 1 -nographic \
        -kernel "$outdir/vmlinuz" -initrd "$outdir/initrd.img" -append 'console=ttyS0 panic=-1' \
        -drive file="$work/disk.qcow2",if=virtio,format=qcow2 \
        -drive file="$work/seed.iso",if=virtio,format=raw,readonly=on \
        -netdev user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:22 -device virtio-net-pci,netdev=n0 \
        -object filter-dump,id=dump0,netdev=n0,file="$work/net-$n.pcap" \
        -serial file:"$console" -display none -monitor unix:"$work/mon.sock",server,nowait \
        </dev/null >"$work/qemu-$n.out" 2>&1 &
    qemu_pid=$!
    t_net=
    t_ssh=
    while [ -z "$t_ssh" ]; do
        if [ -z "$t_net" ] && grep -q 'nuvem-tiny: network up' "$console"; then t_net=$(since "$boot_start"); fi
        if grep -q 'nuvem-tiny: ssh ready' "$console"; then
            t_ssh=$(since "$boot_start")
            [ -n "$t_net" ] || t_net=$t_ssh
            break
        fi
        kill -0 "$qemu_pid" 2>/dev/null || fail "boot $n: QEMU exited: $(tr '\n' ' ' <"$work/qemu-$n.out")"
        if [ "$(awk -v t="$(since "$boot_start")" 'BEGIN { print (t > 90) }')" = 1 ]; then
            fail "boot $n: no 'ssh ready' on the console after 90 s"
        fi
        sleep 0.1
    done
    grep -q 'nuvem-tiny: network up' "$console" || fail "boot $n: network did not come up"
    guest_up=$(sed -n 's/.*nuvem-tiny: boot took \([0-9.]*\)s.*/\1/p' "$console" | head -n 1)
    log "boot $n: network up after ${t_net}s, ssh ready after ${t_ssh}s (wall; guest uptime ${guest_up:-?}s)"
}

# wait_exit N LIMIT T0: QEMU must exit within LIMIT seconds of T0; sets t_exit (seconds since T0).
wait_exit() {
    local n=$1 limit=$2 t0=$3
    while kill -0 "$qemu_pid" 2>/dev/null; do
        if [ "$(awk -v t="$(since "$t0")" -v l="$limit" 'BEGIN { print (t > l) }')" = 1 ]; then
            fail "boot $n: QEMU still running ${limit}s after the shutdown request"
        fi
        sleep 0.1
    done
    t_exit=$(since "$t0")
    wait "$qemu_pid" 2>/dev/null || true
    qemu_pid=
}

expect_console() {  # N PATTERN WHAT
    grep -q -- "$2" "$console" || fail "boot $1: $3 (no '$2' on the console)"
}

host_key_fp() {
    timeout 30 ssh-keyscan -T 20 -t ed25519 -p "$port" 127.0.0.1 2>/dev/null | ssh-keygen -lf - | awk '{ print $2 }'
}

check_start=$(now)

# --- boot 1 ------------------------------------------------------------------------------------------
log "boot 1: blank disk, seed $instance_id, ssh on 127.0.0.1:$port"
boot 1
expect_console 1 'nuvem-tiny: disk /dev/vd[a-z]* mounted at /data (new)' "data disk not formatted and mounted"
data_dev=$(sed -n 's/.*nuvem-tiny: disk \(\/dev\/vd[a-z]*\) mounted.*/\1/p' "$console" | head -n 1)
seed_dev=$(sed -n 's/.*nuvem-tiny: seed \(\/dev\/vd[a-z]*\) mounted.*/\1/p' "$console" | head -n 1)
t0=$(now)
while ! grep -q 'nuvem-tiny: user-data exit' "$console"; do
    [ "$(awk -v t="$(since "$t0")" 'BEGIN { print (t > 30) }')" = 0 ] || fail "boot 1: user-data did not finish in 30 s"
    sleep 0.1
done
expect_console 1 'nuvem-tiny: user-data exit 0' "user-data failed"
t0=$(now)
out=$(gssh cat /data/hello) || fail "boot 1: ssh failed"
t_first_ssh=$(since "$t0")
[ "$out" = hello-from-user-data ] || fail "boot 1: /data/hello is '$out'"
log "boot 1: ssh cat /data/hello -> $out (${t_first_ssh}s)"
[ "$(gssh hostname)" = "$hostname" ] || fail "boot 1: hostname is not $hostname"
modes=$(gssh 'stat -c %a /root/.ssh /root/.ssh/authorized_keys' | tr '\n' ' ')
[ "$modes" = "700 600 " ] || fail "boot 1: /root/.ssh and authorized_keys modes are '$modes', want 700 600"
# Orphans are re-parented to PID 1, which must reap them.
zombies=$(gssh 'sh -c "sleep 0.2 &"; sh -c "sleep 0.3 &"; sleep 1; grep -l "^State:.*Z" /proc/[0-9]*/status 2>/dev/null | wc -l')
[ "$zombies" = 0 ] || fail "boot 1: $zombies zombie process(es): PID 1 does not reap"
fp1=$(host_key_fp)
[ -n "$fp1" ] || fail "boot 1: no ed25519 host key from ssh-keyscan"
expect_console 1 "ssh host key ed25519 $fp1" "console fingerprint differs from the served host key"
token=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
gssh "echo $token > /data/marker && sync" || fail "boot 1: cannot write /data/marker"
log "boot 1: hostname, key modes, reaping, host key $fp1: ok"

log "boot 1: ACPI power-down (system_powerdown)"
t0=$(now)
monitor system_powerdown || fail "boot 1: cannot talk to the QEMU monitor"
wait_exit 1 30 "$t0"
t_acpi=$t_exit
expect_console 1 'nuvem-tiny: /data unmounted' "/data was not unmounted cleanly"
log "boot 1: QEMU exited ${t_acpi}s after system_powerdown"
stray=$(stray_frames "$work/net-1.pcap" 2>"$work/net-1.summary") || fail "boot 1: cannot read the packet capture"
[ -z "$stray" ] || fail "boot 1: the guest sent traffic other than ARP/DHCP/SSH: $stray"
log "boot 1: $(cat "$work/net-1.summary"): only ARP, DHCP and SSH"
b1_net=$t_net b1_ssh=$t_ssh b1_up=$guest_up

# --- boot 2 ------------------------------------------------------------------------------------------
log "boot 2: same disk"
boot 2
expect_console 2 'nuvem-tiny: disk /dev/vd[a-z]* mounted at /data (existing)' "data disk not mounted as existing"
expect_console 2 "user-data already ran for instance $instance_id" "user-data ran again"
out=$(gssh cat /data/hello) || fail "boot 2: ssh failed"
[ "$out" = hello-from-user-data ] || fail "boot 2: /data/hello is '$out' (not persisted)"
[ "$(gssh cat /data/marker)" = "$token" ] || fail "boot 2: /data/marker from boot 1 is gone"
fp2=$(host_key_fp)
[ "$fp2" = "$fp1" ] || fail "boot 2: host key changed ($fp1 -> $fp2)"
log "boot 2: /data/hello, /data/marker and the host key persisted"
log "boot 2: poweroff inside the guest"
t0=$(now)
gssh poweroff || true
wait_exit 2 30 "$t0"
t_poweroff=$t_exit
expect_console 2 'nuvem-tiny: /data unmounted' "/data was not unmounted cleanly"
log "boot 2: QEMU exited ${t_poweroff}s after 'poweroff'"
stray=$(stray_frames "$work/net-2.pcap" 2>"$work/net-2.summary") || fail "boot 2: cannot read the packet capture"
[ -z "$stray" ] || fail "boot 2: the guest sent traffic other than ARP/DHCP/SSH: $stray"

failed=0
cat >&2 <<EOF
[nuvem] tiny image OK: $(stat -c %s "$outdir/initrd.img") bytes initrd, disks: data $data_dev, seed $seed_dev
[nuvem]                   network up   ssh ready   guest uptime   shutdown
[nuvem]   boot 1 (new)    $(printf '%8ss %10ss %13ss %9ss' "$b1_net" "$b1_ssh" "${b1_up:-?}" "$t_acpi") (ACPI)
[nuvem]   boot 2 (again)  $(printf '%8ss %10ss %13ss %9ss' "$t_net" "$t_ssh" "${guest_up:-?}" "$t_poweroff") (poweroff)
[nuvem]   whole check: $(since "$check_start")s wall
EOF
