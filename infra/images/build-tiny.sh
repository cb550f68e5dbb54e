#!/usr/bin/env bash
# Build Nuvem's tiny guest image: the Debian cloud kernel plus a small initramfs (busybox,
# dropbear) whose /init reads a NoCloud seed, formats and mounts the data disk, takes a DHCP
# lease, starts SSH, runs a `#!` user-data script and powers off cleanly on an ACPI request.
#
#   infra/images/build-tiny.sh OUTDIR [--force]
#
# Produces OUTDIR/vmlinuz (a copy of /boot/vmlinuz-<ver>), OUTDIR/initrd.img (gzip'd newc cpio)
# and OUTDIR/image.json. Offline: only Debian packages are used (linux-image-cloud-amd64 and
# busybox-static installed on the host; dropbear-bin, libtomcrypt1 and libtommath1 fetched once
# with `apt-get download` into OUTDIR/.cache/debs, plus the host's shared libraries they need).
# Idempotent: OUTDIR/.stamp records the inputs (this script, kernel, busybox, .debs, host
# libraries); when it matches, nothing is rebuilt. --force rebuilds anyway.
# Environment: NUVEM_TINY_KERNEL=<version> picks a kernel other than the newest cloud one.
set -euo pipefail

log() { printf '[nuvem] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() { sed -n '2,14p' "$0" >&2; }

outdir=
force=0
for arg in "$@"; do
    case "$arg" in
        --force) force=1 ;;
        -h|--help) usage; exit 0 ;;
        -*) usage; die "unknown option: $arg" ;;
        *) [ -z "$outdir" ] || die "only one OUTDIR, got '$outdir' and '$arg'"; outdir=$arg ;;
    esac
done
[ -n "$outdir" ] || { usage; die "missing OUTDIR"; }

for tool in cpio gzip dpkg-deb dpkg-query ldd flock sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done

self=$(readlink -f "$0")
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

# One build at a time per OUTDIR.
exec 9>"$outdir/.lock"
flock 9

# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------
if [ -n "${NUVEM_TINY_KERNEL:-}" ]; then
    kver=$NUVEM_TINY_KERNEL
else
    kver=
    while IFS= read -r k; do
        v=${k#/boot/vmlinuz-}
        [ -f "$k" ] && [ -f "/lib/modules/$v/modules.dep" ] && kver=$v
    done < <(printf '%s\n' /boot/vmlinuz-*-cloud-amd64 | sort -V)
    [ -n "$kver" ] || die "no /boot/vmlinuz-*-cloud-amd64 with /lib/modules/<version>: apt-get install linux-image-cloud-amd64"
fi
kernel=/boot/vmlinuz-$kver
moddir=/lib/modules/$kver
[ -r "$kernel" ] || die "kernel $kernel not found"
[ -f "$moddir/modules.dep" ] || die "$moddir/modules.dep not found"

busybox=/bin/busybox
[ -x "$busybox" ] || die "$busybox not found: apt-get install busybox-static"
if ldd "$busybox" >/dev/null 2>&1; then die "$busybox is dynamically linked: install busybox-static"; fi

# dropbear and its two libraries come from Debian packages, downloaded once.
debcache=$outdir/.cache/debs
mkdir -p "$debcache"
deb_pkgs=(dropbear-bin libtomcrypt1 libtommath1)
newest_deb() { compgen -G "$debcache/$1_*_amd64.deb" | sort -V | tail -n 1 || true; }
missing=()
for p in "${deb_pkgs[@]}"; do
    [ -n "$(newest_deb "$p")" ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    log "downloading ${missing[*]} (apt-get download)"
    if ! (cd "$debcache" && apt-get -q -o APT::Sandbox::User=root download "${missing[@]}" >/dev/null); then
        # A fresh machine may have no package lists yet: fetch them once and try again.
        log "apt-get download failed; running apt-get update once and retrying"
        apt-get -q update >/dev/null
        (cd "$debcache" && apt-get -q -o APT::Sandbox::User=root download "${missing[@]}" >/dev/null) \
            || die "apt-get download ${missing[*]} failed"
    fi
fi
debs=()
for p in "${deb_pkgs[@]}"; do
    d=$(newest_deb "$p")
    [ -n "$d" ] || die "no .deb for $p in $debcache"
    debs+=("$d")
done

# Host packages the .debs depend on (libc6, libcrypt1, libgmp10, zlib1g): their versions go
# into the stamp so that a security update of, say, zlib rebuilds the image.
host_dep_versions() {
    local d dep
    for d in "${debs[@]}"; do
        dpkg-deb -f "$d" Depends | tr ',' '\n' | sed -e 's/([^)]*)//' -e 's/|.*//' -e 's/[[:space:]]//g'
    done | sort -u | while read -r dep; do
        [ -n "$dep" ] || continue
        case " ${deb_pkgs[*]} " in *" $dep "*) continue ;; esac
        printf '%s=%s\n' "$dep" "$(dpkg-query -W -f='${Version}' "$dep" 2>/dev/null || echo missing)"
    done
}

stamp_text() {
    printf 'script %s\n' "$(sha256sum "$self" | cut -d' ' -f1)"
    printf 'kernel %s %s\n' "$kver" "$(stat -c '%s %Y' "$kernel")"
    printf 'modules %s\n' "$(stat -c '%s %Y' "$moddir/modules.dep")"
    printf 'busybox %s %s\n' "$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || echo unknown)" \
        "$(stat -c '%s %Y' "$busybox")"
    local d
    for d in "${debs[@]}"; do printf 'deb %s\n' "${d##*/}"; done
    host_dep_versions | sed 's/^/host /'
}
stamp=$(stamp_text)

if [ "$force" -eq 0 ] && [ -f "$outdir/.stamp" ] && [ "$(cat "$outdir/.stamp")" = "$stamp" ] \
    && [ -s "$outdir/vmlinuz" ] && [ -s "$outdir/initrd.img" ] && [ -s "$outdir/image.json" ]; then
    log "tiny image in $outdir is up to date (kernel $kver)"
    exit 0
fi

started=$(date +%s.%N)
log "building the tiny image in $outdir (kernel $kver)"
rm -rf "$outdir"/.build.*
work=$(mktemp -d "$outdir/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/root
mkdir -p "$stage"

# ---------------------------------------------------------------------------------------------
# Layout, busybox
# ---------------------------------------------------------------------------------------------
# Merged /usr: everything executable lives in /bin, libraries in /lib/x86_64-linux-gnu.
mkdir -p "$stage"/{bin,dev,etc,lib/x86_64-linux-gnu,lib64,proc,sys,run,tmp,var/log,root,data,mnt}
ln -s bin "$stage/sbin"
mkdir -p "$stage/usr"
ln -s ../bin "$stage/usr/bin"
ln -s ../bin "$stage/usr/sbin"
ln -s ../lib "$stage/usr/lib"
ln -s ../run "$stage/var/run"
chmod 1777 "$stage/tmp"
chmod 0700 "$stage/root"
# The kernel opens /dev/console for /init before devtmpfs is mounted.
mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || log "warning: cannot mknod /dev/console (not root?)"
mknod -m 666 "$stage/dev/null" c 1 3 2>/dev/null || true

install -m 0755 "$busybox" "$stage/bin/busybox"
for applet in $("$busybox" --list); do
    # `busybox --list` names busybox itself: linking it would replace the binary.
    case "$applet" in busybox|*/*) continue ;; esac
    [ -e "$stage/bin/$applet" ] || ln -s busybox "$stage/bin/$applet"
done

# ---------------------------------------------------------------------------------------------
# dropbear and the shared libraries it needs
# ---------------------------------------------------------------------------------------------
debroot=$work/debroot
mkdir -p "$debroot"
for d in "${debs[@]}"; do dpkg-deb -x "$d" "$debroot"; done
install -m 0755 "$debroot/usr/sbin/dropbear" "$stage/bin/dropbear"
install -m 0755 "$debroot/usr/bin/dropbearkey" "$stage/bin/dropbearkey"

libdir=$stage/lib/x86_64-linux-gnu
for bin in "$stage/bin/dropbear" "$stage/bin/dropbearkey"; do
    ldd_out=$(LD_LIBRARY_PATH="$debroot/usr/lib/x86_64-linux-gnu" ldd "$bin") || die "ldd $bin failed"
    if grep -q 'not found' <<<"$ldd_out"; then die "missing libraries for $bin: $ldd_out"; fi
    while read -r name arrow path _; do
        if [ "$arrow" = "=>" ] && [ -n "$path" ] && [ "${path#/}" != "$path" ]; then
            [ -e "$libdir/$name" ] || install -m 0644 "$(readlink -f "$path")" "$libdir/$name"
        elif [ "${name#/}" != "$name" ]; then
            # The program interpreter, e.g. /lib64/ld-linux-x86-64.so.2.
            base=${name##*/}
            [ -e "$libdir/$base" ] || install -m 0755 "$(readlink -f "$name")" "$libdir/$base"
            [ -e "$stage$name" ] || ln -s "../lib/x86_64-linux-gnu/$base" "$stage$name"
        fi
    done <<<"$ldd_out"
done

# ---------------------------------------------------------------------------------------------
# Kernel modules: the virtio stack, the ISO9660 seed, ext4, the ACPI power button (+ evdev for
# busybox acpid), and virtio-rng (when the host gives the guest an <rng model='virtio'>, the
# kernel's random pool is ready at once instead of ~1 s later under TCG, which dropbear waits
# for). Dependencies come from modules.dep; built-in modules are skipped.
# ---------------------------------------------------------------------------------------------
wanted=(failover net_failover virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev
        virtio_pci virtio_net virtio_blk virtio_rng cdrom isofs crc16 mbcache jbd2 crc32c_generic ext4
        button evdev)
declare -A mod_path=() mod_deps=() builtin=() added=()
modname() { local b=${1##*/}; b=${b%.ko*}; printf '%s' "${b//-/_}"; }
while IFS= read -r line; do
    p=${line%%:*}
    n=$(modname "$p")
    mod_path[$n]=$p
    mod_deps[$n]=${line#*:}
done <"$moddir/modules.dep"
if [ -f "$moddir/modules.builtin" ]; then
    while IFS= read -r p; do builtin[$(modname "$p")]=1; done <"$moddir/modules.builtin"
fi
load_order=()
builtin_list=()
add_mod() {
    local n=$1 deps i
    [ -z "${added[$n]:-}" ] || return 0
    added[$n]=1
    if [ -n "${builtin[$n]:-}" ]; then builtin_list+=("$n"); return 0; fi
    [ -n "${mod_path[$n]:-}" ] || die "module $n is neither built in nor in $moddir/modules.dep"
    # modules.dep lists dependencies so that the last one is loaded first.
    read -r -a deps <<<"${mod_deps[$n]}"
    for ((i = ${#deps[@]} - 1; i >= 0; i--)); do add_mod "$(modname "${deps[$i]}")"; done
    load_order+=("$n")
}
for m in "${wanted[@]}"; do add_mod "$m"; done
kmods=$stage/lib/modules/$kver
mkdir -p "$kmods"
for n in "${load_order[@]}"; do
    src=$moddir/${mod_path[$n]}
    case "$src" in
        *.ko) cp "$src" "$kmods/$n.ko" ;;
        *.ko.xz) xz -dc "$src" >"$kmods/$n.ko" ;;
        *.ko.zst) zstd -qdc "$src" >"$kmods/$n.ko" ;;
        *.ko.gz) gzip -dc "$src" >"$kmods/$n.ko" ;;
        *) die "unexpected module file $src" ;;
    esac
done
printf '%s\n' "${load_order[@]}" >"$kmods/nuvem.load"
log "modules: ${load_order[*]} (built in: ${builtin_list[*]:-none})"

# ---------------------------------------------------------------------------------------------
# Configuration files
# ---------------------------------------------------------------------------------------------
cat >"$stage/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
shadow: files
hosts: files dns
EOF
printf '/bin/sh\n/bin/ash\n' >"$stage/etc/shells"
cat >"$stage/etc/profile" <<'EOF'
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PS1='\u@\h:\w\$ '
EOF
cat >"$stage/etc/motd" <<'EOF'
Nuvem tiny guest: busybox + dropbear, running from RAM.
Only /data (the instance's disk) survives a reboot. Logs: /var/log.
EOF
printf 'PWRF power-off\n' >"$stage/etc/acpid.conf"
mkdir -p "$stage/etc/acpi"
# busybox acpid runs this for the power button (its SIGCHLD is ignored, which children would
# inherit): hand the job to PID 1, whose SIGUSR2 trap runs nuvem-shutdown.
cat >"$stage/etc/acpi/power-off" <<'EOF'
#!/bin/sh
echo "nuvem-tiny: ACPI power button pressed" >/dev/console
kill -USR2 1
EOF
chmod 0755 "$stage/etc/acpi/power-off"

# udhcpc event script: address, default route, resolv.conf; records the lease for /init.
cat >"$stage/etc/udhcpc.script" <<'EOF'
#!/bin/sh
# busybox udhcpc calls this with $1 = deconfig|bound|renew|nak|leasefail and the lease in env.
# shellcheck disable=SC2154 # interface, ip, mask, router, dns... come from udhcpc
case "$1" in
    deconfig)
        ip -4 addr flush dev "$interface"
        ip link set "$interface" up
        ;;
    bound|renew)
        [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
        ip -4 addr flush dev "$interface"
        ip addr add "$ip/${mask:-24}" ${broadcast:+broadcast "$broadcast"} dev "$interface"
        gw=
        if [ -n "$router" ]; then
            set -- $router
            gw=$1
            ip route replace default via "$gw" dev "$interface"
        fi
        {
            [ -n "$domain" ] && echo "search $domain"
            for ns in $dns; do echo "nameserver $ns"; done
        } >/etc/resolv.conf.new
        mv /etc/resolv.conf.new /etc/resolv.conf
        echo "$ip/${mask:-24} ${gw:-none}" >/run/nuvem/lease
        ;;
esac
exit 0
EOF
chmod 0755 "$stage/etc/udhcpc.script"

# Clean shutdown, run by PID 1 (never by acpid directly).
cat >"$stage/bin/nuvem-shutdown" <<'EOF'
#!/bin/sh
# nuvem-shutdown poweroff|reboot [reason]: stop every process, sync and unmount /data, then
# power off (or reboot) at once.
action=${1:-poweroff}
mkdir /run/nuvem/shutdown 2>/dev/null || exit 0    # only once
exec </dev/null >/dev/console 2>&1
echo "nuvem-tiny: shutting down ($action${2:+: $2})"
kill -TERM -1 2>/dev/null                          # everyone but PID 1 and this script
umount /run/seed 2>/dev/null
mounted() { grep -q ' /data ' /proc/mounts; }
had_data=0
mounted && had_data=1
i=0
while mounted && ! umount /data 2>/dev/null; do
    i=$((i + 1))
    if [ "$i" -eq 20 ]; then kill -KILL -1 2>/dev/null; fi
    if [ "$i" -ge 30 ]; then break; fi
    sleep 0.1
done
sync
if [ "$had_data" -eq 0 ]; then
    :
elif ! mounted; then
    echo "nuvem-tiny: /data unmounted"
elif mount -o remount,ro /data 2>/dev/null; then
    echo "nuvem-tiny: /data busy, remounted read-only"
else
    echo "nuvem-tiny: /data busy, synced"
fi
sync
case "$action" in
    reboot) reboot -f ;;
    *) poweroff -f ;;
esac
EOF
chmod 0755 "$stage/bin/nuvem-shutdown"

# ---------------------------------------------------------------------------------------------
# /init
# ---------------------------------------------------------------------------------------------
cat >"$stage/init" <<'EOF'
#!/bin/sh
# /init of the Nuvem tiny guest: PID 1 for the guest's whole life (busybox ash).
# Progress goes to the serial console as "nuvem-tiny: ..." lines. No timers, no traffic but DHCP.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
umask 022
say() { echo "nuvem-tiny: $*"; }

# Shutdown requests: busybox poweroff/halt/reboot signal PID 1 (USR2/USR1/TERM), acpid's power
# button handler sends USR2, Ctrl-Alt-Del sends INT.
trap '/bin/nuvem-shutdown poweroff "poweroff requested"' USR2
trap '/bin/nuvem-shutdown poweroff "halt requested"' USR1
trap '/bin/nuvem-shutdown reboot "reboot requested"' TERM
trap '/bin/nuvem-shutdown reboot "ctrl-alt-del"' INT

# --- 1. base filesystems and files ---------------------------------------------------------
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm /run/nuvem /run/seed /tmp /var/log /root /data
mount -t devpts -o nosuid,noexec,gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /dev/shm
chmod 1777 /tmp
chmod 0700 /root
cat >/etc/passwd <<'EOT'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOT
cat >/etc/group <<'EOT'
root:x:0:
tty:x:5:
nogroup:x:65534:
EOT
echo 'root:*:0:0:99999:7:::' >/etc/shadow
chmod 0644 /etc/passwd /etc/group
chmod 0600 /etc/shadow
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >/etc/hosts
: >/etc/resolv.conf
kver=$(uname -r)
say "starting (kernel $kver)"

# --- 2. kernel modules ---------------------------------------------------------------------
mods=
while read -r m; do
    [ -n "$m" ] || continue
    if insmod "/lib/modules/$kver/$m.ko"; then mods="$mods $m"; else say "warning: insmod $m failed"; fi
done </lib/modules/$kver/nuvem.load
say "modules loaded:$mods"
# The power button is armed as soon as evdev is there, so that a shutdown request during boot is
# not lost: acpid signals PID 1, whose trap acts at the end of the current command.
acpid_ok=0
if ls /dev/input/event* >/dev/null 2>&1; then
    acpid -c /etc/acpi -a /etc/acpid.conf -l /var/log/acpid.log && acpid_ok=1
fi
i=0
while [ ! -e /sys/class/net/eth0 ] && [ "$i" -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ -e /sys/class/net/eth0 ] || say "warning: no eth0 after 5 s"
# virtio_blk probes synchronously at insmod: the disks are normally there already.
i=0
while ! ls /dev/vd? >/dev/null 2>&1 && [ "$i" -lt 20 ]; do sleep 0.05; i=$((i + 1)); done

disks() { for d in /dev/vd[a-z] /dev/vd[a-z][a-z]; do [ -b "$d" ] && echo "$d"; done; }
# ISO9660 primary volume descriptor at 32768: "CD001" at +1, volume id (32 bytes) at +40.
is_cidata() {
    [ "$(dd if="$1" bs=1 skip=32769 count=5 2>/dev/null)" = CD001 ] || return 1
    [ "$(dd if="$1" bs=1 skip=32808 count=32 2>/dev/null | tr -d ' \000' | tr '[:upper:]' '[:lower:]')" = cidata ]
}
# ext2/3/4 superblock magic 0xEF53 at byte 1080.
has_ext() { [ "$(dd if="$1" bs=1 skip=1080 count=2 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 53ef ]; }
# A blank disk: its first MiB reads as zeros.
is_blank() { [ "$(dd if="$1" bs=65536 count=16 2>/dev/null | tr -d '\000' | wc -c)" -eq 0 ]; }

# --- 3. NoCloud seed ---------------------------------------------------------------------------
seed_dev=
for d in $(disks); do
    is_cidata "$d" || continue
    if mount -t iso9660 -o ro "$d" /run/seed 2>/dev/null; then
        if [ -f /run/seed/meta-data ]; then seed_dev=$d; break; fi
        umount /run/seed
    fi
done
if [ -n "$seed_dev" ]; then
    say "seed $seed_dev mounted at /run/seed"
else
    say "warning: no NoCloud seed (ISO9660 labelled cidata with meta-data) found"
fi

# --- 4. meta-data: hostname, SSH keys -----------------------------------------------------------
md=/run/seed/meta-data
instance_id=
host=
nkeys=0
if [ -f "$md" ]; then
    yaml_value() { sed -n "s/^$1:[[:space:]]*//p" "$md" | head -n 1 | tr -d '\r' | sed -e 's/^["'\'']//' -e 's/["'\''][[:space:]]*$//' -e 's/[[:space:]]*$//'; }
    instance_id=$(yaml_value instance-id | tr -cd 'A-Za-z0-9._-')
    host=$(yaml_value local-hostname | tr -cd 'A-Za-z0-9.-' | cut -c1-63)
    mkdir -p /root/.ssh
    chmod 0700 /root/.ssh
    tr -d '\r' <"$md" | awk '
        /^[^[:space:]#]/ { inkeys = ($0 ~ /^public-keys:[[:space:]]*$/); next }
        inkeys && /^[[:space:]]*-[[:space:]]/ {
            sub(/^[[:space:]]*-[[:space:]]+/, ""); sub(/[[:space:]]+$/, "")
            if ($0 ~ /^".*"$/ || $0 ~ /^\047.*\047$/) $0 = substr($0, 2, length($0) - 2)
            if ($0 != "") print
        }' >/root/.ssh/authorized_keys
    chmod 0600 /root/.ssh/authorized_keys
    nkeys=$(grep -c . /root/.ssh/authorized_keys)
fi
[ -n "$host" ] || host=${instance_id:-nuvem-tiny}
hostname "$host"
echo "$host" >/etc/hostname
printf '127.0.1.1\t%s\n' "$host" >>/etc/hosts
say "instance ${instance_id:-unknown}, hostname $host, $nkeys ssh key(s)"

# --- 5. data disk --------------------------------------------------------------------------------
data_dev=
for d in $(disks); do
    [ "$d" = "$seed_dev" ] && continue
    data_dev=$d
    break
done
data_ok=0
if [ -z "$data_dev" ]; then
    say "no data disk: /data is in RAM"
else
    state=existing
    if has_ext "$data_dev"; then
        fstype=ext4
    elif is_blank "$data_dev"; then
        say "formatting $data_dev (ext2)"
        if mke2fs -F -I 256 -L data "$data_dev" >/var/log/mke2fs.log 2>&1; then
            state=new
            fstype=ext4
        else
            say "warning: mke2fs $data_dev failed (see /var/log/mke2fs.log)"
            fstype=
        fi
    else
        fstype=auto
        say "$data_dev holds no ext filesystem and is not blank: not formatting it, trying to mount it as is"
    fi
    if [ "$fstype" = auto ]; then
        mount -o noatime "$data_dev" /data && data_ok=1
    elif [ -n "$fstype" ]; then
        mount -t "$fstype" -o noatime "$data_dev" /data && data_ok=1
    fi
    if [ "$data_ok" -eq 1 ]; then
        say "disk $data_dev mounted at /data ($state)"
    else
        say "warning: disk $data_dev could not be mounted: /data is in RAM"
    fi
fi
# Per-instance state kept on the data disk: SSH host keys, user-data markers.
if [ "$data_ok" -eq 1 ]; then
    mkdir -p /data/.nuvem/dropbear
    chmod 0700 /data/.nuvem /data/.nuvem/dropbear
    ln -sfn /data/.nuvem/dropbear /etc/dropbear
else
    mkdir -p /etc/dropbear
    chmod 0700 /etc/dropbear
fi

# --- 6. network ----------------------------------------------------------------------------------
ip link set lo up
# IPv4 only: no router solicitations, SLAAC or duplicate-address probes from the guest itself.
echo 1 >/proc/sys/net/ipv6/conf/eth0/disable_ipv6 2>/dev/null
ip link set eth0 up
rm -f /run/nuvem/lease
udhcpc -i eth0 -n -q -t 10 -T 1 -s /etc/udhcpc.script >/var/log/udhcpc.log 2>&1
if [ -s /run/nuvem/lease ]; then
    read -r cidr gw </run/nuvem/lease
    say "network up $cidr via $gw"
else
    say "warning: network failed: no DHCP lease on eth0 (see /var/log/udhcpc.log)"
fi

# --- 7. SSH ----------------------------------------------------------------------------------------
# The host keys are made in the guest on its first start (ed25519 now, so its fingerprint can be
# shown on the console; other types by dropbear -R when a client asks) and kept on /data.
hk=/etc/dropbear/dropbear_ed25519_host_key
[ -s "$hk" ] || dropbearkey -t ed25519 -f "$hk" >/dev/null 2>&1 || say "warning: dropbearkey failed"
fp=$(dropbearkey -y -f "$hk" 2>/dev/null | sed -n 's/^Fingerprint: //p')
dropbear -F -E -R -s -p 22 -P /run/dropbear.pid </dev/null >>/var/log/dropbear.log 2>&1 &
i=0
while ! grep -qE '^ *[0-9]+: [0-9A-F:]+:0016 [0-9A-F:]+ 0A ' /proc/net/tcp /proc/net/tcp6 2>/dev/null \
    && [ "$i" -lt 100 ]; do
    sleep 0.05
    i=$((i + 1))
done
[ -n "$fp" ] && say "ssh host key ed25519 $fp"
if [ "$i" -lt 100 ]; then
    say "ssh ready"
else
    say "warning: dropbear is not listening on port 22 (see /var/log/dropbear.log)"
fi
read -r up _ </proc/uptime
say "boot took ${up}s (guest uptime)"

# --- 8. user-data ----------------------------------------------------------------------------------
# A `#!` script runs once per instance (like cloud-init's scripts-user): a marker on /data
# remembers it; without a data disk it runs at every boot. It runs in the background so that
# PID 1 keeps reaping and handling shutdown requests; its output goes to the console and
# /var/log/user-data.log.
ud=/run/seed/user-data
if [ ! -s "$ud" ]; then
    say "no user-data"
else
    first=$(head -n 1 "$ud" | tr -d '\r')
    case "$first" in
        '#!'*)
            marker=
            if [ "$data_ok" -eq 1 ] && [ -n "$instance_id" ]; then
                marker=/data/.nuvem/user-data.$instance_id
            fi
            if [ -n "$marker" ] && [ -e "$marker" ]; then
                say "user-data already ran for instance $instance_id (exit $(cat "$marker")): skipped"
            else
                cp "$ud" /run/nuvem/user-data
                chmod 0700 /run/nuvem/user-data
                say "running user-data"
                (
                    cd /root || exit 1
                    {
                        /run/nuvem/user-data </dev/null 2>&1
                        rc=$?
                        [ -n "$marker" ] && echo "$rc" >"$marker" && sync
                        echo "nuvem-tiny: user-data exit $rc"
                    } | tee -a /var/log/user-data.log
                ) &
            fi
            ;;
        '#cloud-config'*) say "user-data is #cloud-config: ignored by the tiny image (it only runs #! scripts)" ;;
        *) say "user-data is neither a #! script nor #cloud-config: ignored" ;;
    esac
fi

# --- 9. power button, then reap children forever ---------------------------------------------------
if [ "$acpid_ok" -eq 1 ]; then
    say "acpid handles the power button"
else
    say "warning: acpid not running (no /dev/input/event*?): the ACPI power button is ignored"
fi
# `wait` reaps every child, orphans included (ash waits with waitpid(-1)); a trapped signal
# interrupts it and runs the trap. The idle child keeps `wait` blocking.
# shellcheck disable=SC2217 # sleep's descriptors must not keep the console open
sleep inf </dev/null >/dev/null 2>&1 &
idle=$!
while :; do
    wait "$idle"
    # shellcheck disable=SC2217
    kill -0 "$idle" 2>/dev/null || { sleep inf </dev/null >/dev/null 2>&1 & idle=$!; }
done
EOF
chmod 0755 "$stage/init"

# ---------------------------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------------------------
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) \
    | gzip -9 -n >"$work/initrd.img"
cp "$kernel" "$work/vmlinuz"
chmod 0644 "$work/vmlinuz" "$work/initrd.img"
built_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cat >"$work/image.json" <<EOF
{"name":"nuvem-tiny","format":"kernel-initrd","architecture":"x86_64","kernel_version":"$kver","min_disk_mib":64,"default_user":"root","built_at":"$built_at"}
EOF
rm -f "$outdir/.stamp"
mv -f "$work/vmlinuz" "$outdir/vmlinuz"
mv -f "$work/initrd.img" "$outdir/initrd.img"
mv -f "$work/image.json" "$outdir/image.json"
printf '%s\n' "$stamp" >"$outdir/.stamp"
elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
log "built $outdir: initrd.img $(( $(stat -c %s "$outdir/initrd.img") / 1024 )) KiB, vmlinuz $(( $(stat -c %s "$outdir/vmlinuz") / 1024 )) KiB in ${elapsed}s"
