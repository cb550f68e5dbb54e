#!/usr/bin/env bash
# Check Nuvem's container base images: each runs, and has what the lessons rely on.
#
#   infra/images/check-containers.sh
#
# nuvem/busybox: sh and httpd answer. nuvem/debian: python3 serves HTTP, sysbench runs.
# Containers run with --network none: nothing leaves the machine.
set -euo pipefail

log() { printf '[nuvem] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for image in nuvem/busybox:latest nuvem/debian:12; do
    docker image inspect "$image" >/dev/null 2>&1 || die "$image is missing: run infra/images/build-containers.sh"
done

out=$(docker run --rm --network none nuvem/busybox:latest sh -c 'echo ok-$(busybox | head -n 1 | cut -d" " -f1)')
[ "${out#ok-}" != "$out" ] || die "nuvem/busybox: sh did not answer ($out)"
out=$(docker run --rm --network none nuvem/busybox:latest sh -c \
    'mkdir -p /w && echo hello >/w/index.html && httpd -p 8080 -h /w && sleep 0.3 && wget -q -O - http://127.0.0.1:8080/')
[ "$out" = hello ] || die "nuvem/busybox: httpd did not serve ($out)"
log "nuvem/busybox: sh and httpd work"

out=$(docker run --rm --network none nuvem/debian:12 bash -c \
    'cd /tmp && echo hi >index.html && (python3 -m http.server 8000 >/dev/null 2>&1 &) && sleep 1 && curl -s http://127.0.0.1:8000/')
[ "$out" = hi ] || die "nuvem/debian: python3 did not serve ($out)"
docker run --rm --network none nuvem/debian:12 sysbench cpu --time=1 run >/dev/null \
    || die "nuvem/debian: sysbench failed"
log "nuvem/debian: python3 http.server and sysbench work"
