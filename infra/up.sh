#!/usr/bin/env bash
# Install what is missing, build, and start Nuvem with its embedded defaults.
#
#   infra/up.sh                 build (release) and run in the foreground; Ctrl-C stops it
#   infra/up.sh --background    run in the background, log to <data_dir>/nuvem.log
#
# Environment: NUVEM_DATA_DIR (default /var/lib/nuvem), NUVEM_LISTEN (default 127.0.0.1:8080),
# NUVEM_ADMIN_PASSWORD (first start only), NUVEM_BUILD=debug for a faster, unoptimised build.
set -euo pipefail

log() { printf '[nuvem] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

background=0
for arg in "$@"; do
    case "$arg" in
        --background|-d) background=1 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) die "unknown argument: $arg (see --help)" ;;
    esac
done

cd "$(dirname "$0")/.."
root=$(pwd)

bash infra/install.sh
bash infra/daemons.sh start

command -v cargo >/dev/null 2>&1 || die "cargo is missing: install Rust 1.95 (rustup) first"
profile_dir=release
build_flags=(--release)
if [ "${NUVEM_BUILD:-release}" = debug ]; then
    profile_dir=debug
    build_flags=()
fi
log "building nuvem-server and cloudctl ($profile_dir; the first build takes several minutes)"
cargo build "${build_flags[@]}" -p nuvem-server -p cloudctl

server="$root/target/$profile_dir/nuvem-server"
install -m 0755 "$root/target/$profile_dir/cloudctl" /usr/local/bin/cloudctl
log "installed cloudctl in /usr/local/bin"

export NUVEM_DATA_DIR="${NUVEM_DATA_DIR:-/var/lib/nuvem}"
export NUVEM_LISTEN="${NUVEM_LISTEN:-127.0.0.1:8080}"
# The server itself sets the data directory's mode at every start (0710, group kvm: see
# docs/install.md, "Least privilege on the host"); until then it is root's alone.
mkdir -p "$NUVEM_DATA_DIR"
chmod 0700 "$NUVEM_DATA_DIR"

log "building the web console (the first build installs wasm-bindgen-cli: about 10 minutes)"
bash infra/build-console.sh "$NUVEM_DATA_DIR/console"

log "building the nuvem-tiny guest image (offline, from Debian packages)"
bash infra/images/build-tiny.sh "$NUVEM_DATA_DIR/images/nuvem-tiny"

url="http://$NUVEM_LISTEN"
if curl -fsS "$url/healthz" >/dev/null 2>&1; then
    die "something already answers at $url: stop it first, or set NUVEM_LISTEN"
fi

remind() {
    local pwfile="$NUVEM_DATA_DIR/initial-admin-password"
    if [ -f "$pwfile" ]; then
        log "console: $url/   operator sign-in: cloudctl --endpoint $url login --account admin   (password in $pwfile)"
    else
        log "operator sign-in: cloudctl --endpoint $url login --account admin"
    fi
}

if [ "$background" = 1 ]; then
    logfile="$NUVEM_DATA_DIR/nuvem.log"
    # Root's alone: the first start prints the generated operator password to it.
    (umask 077 && touch "$logfile")
    chmod 0600 "$logfile"
    nohup "$server" >>"$logfile" 2>&1 &
    echo $! >"$NUVEM_DATA_DIR/nuvem.pid"
    for _ in $(seq 1 120); do
        if curl -fsS "$url/healthz" >/dev/null 2>&1; then
            grep -E '^(Nuvem is running|Created the operator|\(shown once)' "$logfile" | tail -n 3 || true
            log "Nuvem runs in the background (pid $(cat "$NUVEM_DATA_DIR/nuvem.pid"), log $logfile)"
            log "stop it with: kill \$(cat $NUVEM_DATA_DIR/nuvem.pid)"
            remind
            exit 0
        fi
        sleep 0.5
    done
    tail -n 20 "$logfile" >&2
    die "Nuvem did not answer at $url within 60 s"
fi

remind
exec "$server"
