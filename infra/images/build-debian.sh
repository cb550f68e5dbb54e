#!/usr/bin/env bash
# Build Nuvem's full Debian guest image, debian-12: a debootstrap'd Debian 12 (bookworm) with
# systemd, OpenSSH, cloud-init (NoCloud seed) and ifupdown (DHCP on eth0), booted by Nuvem with
# DIRECT KERNEL BOOT (the guest's own cloud kernel and initramfs) from a whole-disk ext4 root.
#
#   infra/images/build-debian.sh OUTDIR [--force]
#
# Slow (1.5-3 min on 2 cores, mostly debootstrap), so built on request only. Produces
#   OUTDIR/vmlinuz, OUTDIR/initrd.img   copies of the guest's /boot (its initramfs mounts the root)
#   OUTDIR/disk.qcow2                   the root filesystem (ext4 labelled nuvem-root, no partition
#                                       table, 2 GiB), made without loop devices (mkfs.ext4 -d)
#   OUTDIR/image.json                   metadata for Nuvem's registrar; OUTDIR/packages.txt
# Offline: only the Debian mirror configured in /etc/apt/sources.list* is used (debootstrap).
# Idempotent: OUTDIR/.stamp records the inputs (this script, mirror, suite, packages); when it
# matches, nothing is rebuilt. --force rebuilds anyway. Downloaded .debs are kept in
# OUTDIR/.cache/debs. Never rebuild under running instances: their overlays use disk.qcow2.
# Environment: NUVEM_DEBIAN_MIRROR=<url> overrides the mirror.
set -euo pipefail

log() { printf '[nuvem] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() { sed -n '2,17p' "$0" >&2; }

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
[ "$(id -u)" -eq 0 ] || die "debootstrap needs root"

suite=bookworm
image_name=debian-12
root_size=2G
root_label=nuvem-root
cmdline="root=LABEL=$root_label rw console=ttyS0 net.ifnames=0"
# dbus: without it systemd-logind does not start, and nothing handles the ACPI power button
# (Nuvem's graceful stop).
packages=systemd-sysv,udev,dbus,openssh-server,cloud-init,python3-cffi-backend,ifupdown,isc-dhcp-client,netbase,iproute2,kmod,ca-certificates,sysbench,linux-image-cloud-amd64

self=$(readlink -f "$0")
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

# One build at a time per OUTDIR.
exec 9>"$outdir/.lock"
flock -n 9 || { log "another build of $outdir is running; waiting for it"; flock 9; }

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------------------------------------
# Inputs: the mirror (the one apt uses here), the tools
# ---------------------------------------------------------------------------------------------
# apt_uri SUITE: the first URI apt is configured with for SUITE (deb822 .sources, then one-line
# .list files).
apt_uri() {
    local want=$1 f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri=$(awk -v want="$want" 'BEGIN { RS = "" }
            found == "" {
                types = uris = suites = ""; enabled = 1
                n = split($0, lines, "\n")
                for (i = 1; i <= n; i++) {
                    l = lines[i]
                    if (l ~ /^#/) continue
                    if (l ~ /^Types:/)   { sub(/^Types:[ \t]*/, "", l); types = l }
                    if (l ~ /^URIs:/)    { sub(/^URIs:[ \t]*/, "", l); uris = l }
                    if (l ~ /^Suites:/)  { sub(/^Suites:[ \t]*/, "", l); suites = l }
                    if (l ~ /^Enabled:[ \t]*no/) enabled = 0
                }
                if (!enabled || (" " types " ") !~ / deb /) next
                if ((" " suites " ") !~ (" " want " ")) next
                split(uris, u, /[ \t]+/); found = u[1]
            }
            END { print found }' "$f")
        if [ -n "$uri" ]; then printf '%s\n' "$uri"; return 0; fi
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        uri=$(sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" \
            | awk -v want="$want" '$1 == "deb" && $3 == want && found == "" { found = $2 } END { print found }')
        if [ -n "$uri" ]; then printf '%s\n' "$uri"; return 0; fi
    done
    return 1
}
mirror=${NUVEM_DEBIAN_MIRROR:-$(apt_uri "$suite" || true)}
[ -n "$mirror" ] || die "no apt source for $suite in /etc/apt/sources.list*: set NUVEM_DEBIAN_MIRROR"
mirror=${mirror%/}
security_mirror=$(apt_uri "$suite-security" || true)
security_mirror=${security_mirror:-http://deb.debian.org/debian-security}
security_mirror=${security_mirror%/}

stamp_text() {
    printf 'script %s\n' "$(sha256sum "$self" | cut -d' ' -f1)"
    printf 'mirror %s\nsuite %s\npackages %s\n' "$mirror" "$suite" "$packages"
}
stamp=$(stamp_text)

if [ "$force" -eq 0 ] && [ -f "$outdir/.stamp" ] && [ "$(cat "$outdir/.stamp")" = "$stamp" ] \
    && [ -s "$outdir/vmlinuz" ] && [ -s "$outdir/initrd.img" ] && [ -s "$outdir/disk.qcow2" ] \
    && [ -s "$outdir/image.json" ]; then
    log "$image_name image in $outdir is up to date (mirror $mirror)"
    exit 0
fi

started=$(now)
phase_start=$started
timings=()
phase_done() {  # NAME: records and prints how long the phase took
    local t
    t=$(since "$phase_start")
    timings+=("$(printf '%-12s %7ss' "$1" "$t")")
    log "phase $1 done in ${t}s"
    phase_start=$(now)
}

log "building $image_name in $outdir from $mirror ($suite)"
missing_pkgs=()
command -v debootstrap >/dev/null 2>&1 || missing_pkgs+=(debootstrap)
command -v mkfs.ext4 >/dev/null 2>&1 || missing_pkgs+=(e2fsprogs)
command -v qemu-img >/dev/null 2>&1 || missing_pkgs+=(qemu-utils)
if [ "${#missing_pkgs[@]}" -gt 0 ]; then
    log "installing ${missing_pkgs[*]} (apt-get)"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing_pkgs[@]}" >/dev/null; then
        log "apt-get install failed; running apt-get update once and retrying"
        apt-get -q update >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing_pkgs[@]}" >/dev/null \
            || die "apt-get install ${missing_pkgs[*]} failed"
    fi
fi
# mkfs.ext4 -d (populate from a directory) arrived in e2fsprogs 1.43.
mke2fs_version=$(mkfs.ext4 -V 2>&1 | head -n 1 || true)
case "$mke2fs_version" in
    'mke2fs 1.4'[3-9]*|'mke2fs 1.'[5-9]*) ;;
    *) die "mkfs.ext4 too old for -d: $mke2fs_version" ;;
esac

# Unmount whatever debootstrap left mounted under DIR (/proc, /sys... of the tree if it was
# killed), then remove DIR.
remove_tree() {
    local m
    awk -v r="$1" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r \
        | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$1"
}
for stale in "$outdir"/.build.*; do
    if [ -d "$stale" ]; then remove_tree "$stale"; fi
done
work=$(mktemp -d "$outdir/.build.XXXXXX")
root=$work/root
buildlog=$outdir/build.log
: >"$buildlog"

cleanup() { remove_tree "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
fail_with_log() {
    log "last lines of $buildlog:"
    tail -n 30 "$buildlog" | sed 's/^/    /' >&2
    die "$1"
}
phase_done prepare

# ---------------------------------------------------------------------------------------------
# debootstrap
# ---------------------------------------------------------------------------------------------
cache=$outdir/.cache/debs
mkdir -p "$cache"
log "debootstrap --variant=minbase $suite (packages: $packages); log: $buildlog"
debootstrap --variant=minbase --cache-dir="$cache" --include="$packages" \
    "$suite" "$root" "$mirror" >>"$buildlog" 2>&1 || fail_with_log "debootstrap failed"
phase_done debootstrap

# ---------------------------------------------------------------------------------------------
# Configuration for Nuvem
# ---------------------------------------------------------------------------------------------
kver=
for k in "$root"/boot/vmlinuz-*; do
    [ -f "$k" ] || continue
    v=${k##*/vmlinuz-}
    [ -f "$root/boot/initrd.img-$v" ] && [ -d "$root/lib/modules/$v" ] && kver=$v
done
[ -n "$kver" ] || fail_with_log "no /boot/vmlinuz-*, initrd.img-* and /lib/modules/* in the guest"
log "guest kernel $kver"

# Filesystems: the root by label; nothing else.
cat >"$root/etc/fstab" <<EOF
# Nuvem: the root is the whole first virtio disk (no partition table), found by its label.
LABEL=$root_label  /  ext4  rw,errors=remount-ro  0  1
EOF

# Network: eth0 (net.ifnames=0 on the kernel command line) by DHCP, with ifupdown.
# cloud-init's own network configuration is disabled below, so this is the only one.
mkdir -p "$root/etc/network/interfaces.d"
cat >"$root/etc/network/interfaces" <<'EOF'
# The loopback network interface; eth0 is in /etc/network/interfaces.d/eth0.
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback
EOF
cat >"$root/etc/network/interfaces.d/eth0" <<'EOF'
# Nuvem: the instance's interface, addressed by the VPC's DHCP server.
auto eth0
iface eth0 inet dhcp
EOF
printf 'nuvem-debian\n' >"$root/etc/hostname"
cat >"$root/etc/hosts" <<'EOF'
127.0.0.1	localhost
::1		localhost ip6-localhost ip6-loopback
ff02::1		ip6-allnodes
ff02::2		ip6-allrouters
EOF
# dhclient writes it; the build host's copy must not leak into the image.
rm -f "$root/etc/resolv.conf"
: >"$root/etc/resolv.conf"

printf 'LANG=C.UTF-8\n' >"$root/etc/default/locale"

cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security_mirror $suite-security main
EOF

# cloud-init: the NoCloud seed Nuvem attaches (a `cidata` ISO9660 on the second virtio disk),
# keys for root only, nothing fetched or updated at boot.
mkdir -p "$root/etc/cloud/cloud.cfg.d"
cat >"$root/etc/cloud/cloud.cfg.d/90-nuvem.cfg" <<'EOF'
# Nuvem: guests get a NoCloud seed (cidata ISO on the second virtio disk) with meta-data
# (instance-id, local-hostname, public-keys) and optional user-data (#! script or #cloud-config).
datasource_list: [NoCloud, None]
locale: C.UTF-8

# No default user (Debian's is `debian`): the seed's public keys go to root, which logs in with
# keys only. (`users: []` fails cloud-init's schema, `users: {}` is deprecated.)
users: [default]
system_info:
  default_user: null
disable_root: false
ssh_pwauth: false
# Fresh host keys per instance; no RSA (3072-bit generation costs ~15 s under TCG).
ssh_deletekeys: true
ssh_genkeytypes: [ed25519, ecdsa]

# Nothing fetched at boot: no apt update/upgrade, the image's sources.list kept as built.
package_update: false
package_upgrade: false
package_reboot_if_required: false
apt:
  preserve_sources_list: true

# Networking is ifupdown's (/etc/network/interfaces.d/eth0, DHCP on eth0).
network:
  config: disabled

preserve_hostname: false
manage_etc_hosts: true

# The root filesystem is the whole disk (no partition): nothing to grow but the filesystem,
# which resize_rootfs grows to the instance's disk size.
growpart:
  mode: "off"
resize_rootfs: true

# There is no boot loader (Nuvem boots the kernel directly).
grub_dpkg:
  enabled: false
EOF
# No debconf-selected datasource list may override ours.
rm -f "$root/etc/cloud/cloud.cfg.d/90_dpkg.cfg"

# Keys only. cloud-init (ssh_pwauth: false) writes this very file, and restarts sshd in the
# middle of the boot when it had to change it: written here, it does not.
mkdir -p "$root/etc/ssh/sshd_config.d"
printf 'PasswordAuthentication no\n' >"$root/etc/ssh/sshd_config.d/50-cloud-init.conf"
chmod 0600 "$root/etc/ssh/sshd_config.d/50-cloud-init.conf"

# SSH host keys are per instance: cloud-init makes them; this unit is the fallback if it did not.
rm -f "$root"/etc/ssh/ssh_host_*
cat >"$root/etc/systemd/system/nuvem-ssh-hostkeys.service" <<'EOF'
[Unit]
Description=Nuvem: generate SSH host keys if cloud-init did not
After=cloud-init.service
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
EOF
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/nuvem-ssh-hostkeys.service \
    "$root/etc/systemd/system/multi-user.target.wants/nuvem-ssh-hostkeys.service"

# No timers at all (apt-daily*, e2scrub_all, fstrim, dpkg-db-backup, tmpfiles-clean, man-db if
# present...): a guest does only what its user asks. No NTP either (the clock comes from the
# host's RTC), no interactive first-boot wizard.
mask() {
    local unit=$1
    rm -f "$root"/etc/systemd/system/*.wants/"$unit"
    ln -sfn /dev/null "$root/etc/systemd/system/$unit"
}
masked=()
for t in "$root"/lib/systemd/system/*.timer "$root"/usr/lib/systemd/system/*.timer "$root"/etc/systemd/system/*.timer; do
    [ -e "$t" ] || [ -L "$t" ] || continue
    unit=${t##*/}
    case " ${masked[*]} " in *" $unit "*) continue ;; esac
    mask "$unit"
    masked+=("$unit")
done
for unit in apt-daily.timer apt-daily-upgrade.timer apt-daily.service apt-daily-upgrade.service \
    e2scrub_all.timer fstrim.timer man-db.timer systemd-timesyncd.service systemd-firstboot.service; do
    case " ${masked[*]} " in *" $unit "*) continue ;; esac
    mask "$unit"
    masked+=("$unit")
done
log "masked: ${masked[*]}"

# Per-instance identity: a fresh machine-id at first boot, no build-time logs or caches.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
rm -rf "$root"/var/lib/cloud/* "$root"/tmp/* "$root"/var/tmp/*
find "$root/var/log" -type f -delete
find "$root/var/cache/debconf" -name '*-old' -delete 2>/dev/null || true
# shellcheck disable=SC2016 # dpkg-query's own ${...} format
chroot "$root" dpkg-query -W -f='${Package} ${Version}\n' >"$work/packages.txt" \
    || fail_with_log "dpkg-query in the guest failed"
# Keep only the .debs of the versions installed in the cache (debootstrap names them
# NAME_VERSION_ARCH.deb, with an epoch's colon as %3a).
awk '{ v = $2; sub(/:/, "%3a", v); print $1 "_" v "_" }' "$work/packages.txt" >"$work/keep"
for deb in "$cache"/*.deb; do
    [ -e "$deb" ] || continue
    base=${deb##*/}
    grep -qxF -- "${base%_*}_" "$work/keep" || rm -f "$deb"
done
phase_done configure

# ---------------------------------------------------------------------------------------------
# Disk: ext4 populated from the tree (no loop device), then a compressed qcow2
# ---------------------------------------------------------------------------------------------
rootfs_mib=$(du -sm --one-file-system "$root" | cut -f1)
log "mkfs.ext4 -L $root_label -d (tree: $rootfs_mib MiB) into a $root_size image"
mkfs.ext4 -q -F -L "$root_label" -d "$root" "$work/root.raw" "$root_size" >>"$buildlog" 2>&1 \
    || fail_with_log "mkfs.ext4 failed"
phase_done mkfs

qemu-img convert -c -O qcow2 "$work/root.raw" "$work/disk.qcow2" >>"$buildlog" 2>&1 \
    || fail_with_log "qemu-img convert failed"
rm -f "$work/root.raw"
phase_done convert

# ---------------------------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------------------------
install -m 0644 "$root/boot/vmlinuz-$kver" "$work/vmlinuz"
install -m 0644 "$root/boot/initrd.img-$kver" "$work/initrd.img"
chmod 0644 "$work/disk.qcow2"
size_mib=$(qemu-img info --output=json "$work/disk.qcow2" | awk -F'[:,]' '/"virtual-size"/ { gsub(/ /, "", $2); printf "%d", $2 / 1048576; exit }')
built_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
debian_version=$(cat "$root/etc/debian_version" 2>/dev/null || echo 12)
cat >"$work/image.json" <<EOF
{
  "name": "$image_name",
  "format": "qcow2",
  "boot": "kernel-initrd-disk",
  "architecture": "x86_64",
  "disk": "disk.qcow2",
  "kernel": "vmlinuz",
  "initrd": "initrd.img",
  "cmdline": "$cmdline",
  "kernel_version": "$kver",
  "min_disk_mib": $size_mib,
  "default_user": "root",
  "description": "Debian $debian_version (bookworm) minbase: systemd, OpenSSH, cloud-init (NoCloud), DHCP on eth0, sysbench; direct kernel boot of its cloud kernel, root on the whole first disk",
  "built_at": "$built_at"
}
EOF
rm -f "$outdir/.stamp"
for f in vmlinuz initrd.img disk.qcow2 packages.txt image.json; do
    mv -f "$work/$f" "$outdir/$f"
done
printf '%s\n' "$stamp" >"$outdir/.stamp"
phase_done outputs

cleanup
trap - EXIT
phase_done cleanup
total=$(since "$started")
log "built $outdir in ${total}s: disk.qcow2 $(( $(stat -c %s "$outdir/disk.qcow2") / 1048576 )) MiB (virtual $size_mib MiB, tree $rootfs_mib MiB), initrd.img $(( $(stat -c %s "$outdir/initrd.img") / 1024 )) KiB, vmlinuz $(( $(stat -c %s "$outdir/vmlinuz") / 1024 )) KiB, kernel $kver"
for t in "${timings[@]}"; do log "  $t"; done
log "  $(printf '%-12s %7ss' total "$total")"
