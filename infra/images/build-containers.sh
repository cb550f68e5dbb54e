#!/usr/bin/env bash
# Build Nuvem's offline base images for container apps and import them into dockerd (no registry
# can be reached here, so nothing is pulled):
#
#   nuvem/busybox:latest   busybox-static in an empty root (2 MB): sh, httpd, nc, wget
#   nuvem/debian:12        a minimal debootstrap of Debian 12 with python3 and sysbench (an HTTP
#                          server and a CPU load for the lessons and the benchmarks)
#
#   infra/images/build-containers.sh [--force] [busybox|debian ...]
#
# Idempotent: an image whose label nuvem.stamp matches this script's inputs is kept; --force
# rebuilds. The debootstrap root is cached in /var/cache/nuvem/containers/debian-root (about 2
# minutes the first time). dockerd must answer (infra/daemons.sh start). Check with
# infra/images/check-containers.sh.
set -euo pipefail

log() { printf '[nuvem] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

force=0
wanted=()
for arg in "$@"; do
    case "$arg" in
        --force) force=1 ;;
        busybox|debian) wanted+=("$arg") ;;
        -h|--help) sed -n '2,15p' "$0" >&2; exit 0 ;;
        *) die "unknown argument: $arg (busybox, debian, --force)" ;;
    esac
done
[ "${#wanted[@]}" -gt 0 ] || wanted=(busybox debian)
[ "$(id -u)" -eq 0 ] || die "must run as root"
docker version >/dev/null 2>&1 || die "dockerd does not answer: run infra/daemons.sh start"

self_hash=$(sha256sum "$(readlink -f "$0")" | cut -d' ' -f1)
cache=/var/cache/nuvem/containers
mkdir -p "$cache"

current_stamp() {  # IMAGE: the stamp label of the image in dockerd, or nothing
    docker image inspect --format '{{index .Config.Labels "nuvem.stamp"}}' "$1" 2>/dev/null || true
}

build_busybox() {
    local image=nuvem/busybox:latest stamp
    stamp="$self_hash busybox $(dpkg-query -W -f '${Version}' busybox-static 2>/dev/null || echo none)"
    if [ "$force" -eq 0 ] && [ "$(current_stamp $image)" = "$stamp" ]; then
        log "$image is up to date"; return
    fi
    [ -x /bin/busybox ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox-static >/dev/null
    local root
    root=$(mktemp -d)
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,var/www,proc,sys,dev,root}
    cp /bin/busybox "$root/bin/busybox"
    # Every applet as a link, as busybox --install would make them.
    for applet in $(/bin/busybox --list); do
        [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
    chmod 1777 "$root/tmp"
    tar -C "$root" -c . | docker import \
        -c 'ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin' \
        -c 'CMD ["/bin/sh"]' \
        -c "LABEL nuvem.stamp=\"$stamp\" nuvem.base=busybox" \
        - "$image" >/dev/null
    rm -rf "$root"
    log "$image built ($(docker image inspect --format '{{.Size}}' $image) bytes)"
}

build_debian() {
    local image=nuvem/debian:12 stamp root packages=python3,sysbench,iproute2,procps,curl
    stamp="$self_hash debian bookworm $packages"
    if [ "$force" -eq 0 ] && [ "$(current_stamp $image)" = "$stamp" ]; then
        log "$image is up to date"; return
    fi
    command -v debootstrap >/dev/null 2>&1 \
        || DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
    root=$cache/debian-root
    if [ "$force" -eq 1 ] || [ ! -f "$root/.done" ] || [ "$(cat "$root/.done")" != "$stamp" ]; then
        rm -rf "$root"
        log "debootstrap of Debian 12 (minbase + $packages) into $root: about 2 minutes"
        local t0=$SECONDS
        debootstrap --variant=minbase --include="$packages" bookworm "$root" >"$cache/debootstrap.log" 2>&1 \
            || { tail -n 20 "$cache/debootstrap.log" >&2; die "debootstrap failed (log: $cache/debootstrap.log)"; }
        # Smaller image, and nothing in it that would phone home: no apt timers run in a
        # container, and the package lists are dropped.
        rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
        echo "$stamp" >"$root/.done"
        log "debootstrap done in $((SECONDS - t0)) s"
    fi
    tar -C "$root" --exclude=./.done --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* -c . \
        | docker import \
            -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
            -c 'CMD ["/bin/bash"]' \
            -c "LABEL nuvem.stamp=\"$stamp\" nuvem.base=debian" \
            - "$image" >/dev/null
    log "$image built ($(docker image inspect --format '{{.Size}}' $image) bytes)"
}

for w in "${wanted[@]}"; do
    "build_$w"
done
