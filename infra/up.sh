#!/usr/bin/env bash
# Install what is missing, build, and start Nuvem with its embedded defaults.
#
#   infra/up.sh                 build (release) and run in the foreground; Ctrl-C stops it
#   infra/up.sh --background    run in the background, log to <data_dir>/nuvem.log (0600)
#
# A first start shows the generated operator password once, on the terminal only (it is kept in
# <data_dir>/initial-admin-password, 0600); no log file ever holds it. <data_dir>/nuvem.pid names
# the server; a stale one (its process gone) is replaced.
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
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
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

log "building the container bases nuvem/busybox and nuvem/debian (offline; the first time about 2 minutes)"
bash infra/images/build-containers.sh

# The S3 engine behind object storage; the server finds it by <data dir>/s3-engine/engine.toml.
# It outlives the server (like dockerd): stop it with infra/seaweedfs.sh stop.
bash infra/seaweedfs.sh start "$NUVEM_DATA_DIR/s3-engine" >/dev/null

url="http://$NUVEM_LISTEN"
pidfile="$NUVEM_DATA_DIR/nuvem.pid"
pwfile="$NUVEM_DATA_DIR/initial-admin-password"

# One server per data directory: a pid file naming a live nuvem-server stops us; one naming
# anything else (the server crashed, or the machine rebooted) is stale and is replaced.
if [ -f "$pidfile" ]; then
    old=$(tr -dc '0-9' <"$pidfile" || true)
    if [ -n "$old" ] && [ "$(cat "/proc/$old/comm" 2>/dev/null)" = nuvem-server ]; then
        die "Nuvem already runs on $NUVEM_DATA_DIR (pid $old): stop it first with: kill $old"
    fi
    log "replacing the stale pid file $pidfile (pid ${old:-?} is not a running nuvem-server)"
    rm -f "$pidfile"
fi
if curl -fsS "$url/healthz" >/dev/null 2>&1; then
    die "something already answers at $url: stop it first, or set NUVEM_LISTEN"
fi

write_pid() {
    echo "$1" >"$pidfile.new"
    mv -f "$pidfile.new" "$pidfile"
}

remind() {
    log "console: $url/   operator sign-in: cloudctl --profile admin --endpoint $url login --account admin"
}

if [ "$background" = 1 ]; then
    logfile="$NUVEM_DATA_DIR/nuvem.log"
    # Root's alone. The server never writes a password to it: on a first start it says only
    # that the generated one is in $pwfile (0600), and this script shows it on the terminal.
    (umask 077 && touch "$logfile")
    chmod 0600 "$logfile"
    from=$(($(stat -c %s "$logfile") + 1))
    nohup "$server" >>"$logfile" 2>&1 &
    pid=$!
    write_pid "$pid"
    for _ in $(seq 1 120); do
        if curl -fsS "$url/healthz" >/dev/null 2>&1; then
            # Only what this start wrote.
            this_start=$(tail -c "+$from" "$logfile")
            grep -E '^(Nuvem is running|Created the operator)' <<<"$this_start" || true
            if grep -q '^Created the operator.*password: generated' <<<"$this_start" && [ -f "$pwfile" ]; then
                log "first start: the operator's password (shown once, on this terminal only; also in $pwfile):"
                printf '\n    %s\n\n' "$(cat "$pwfile")" >&2
            fi
            log "Nuvem runs in the background (pid $pid, log $logfile)"
            log "stop it with: kill \$(cat $pidfile)"
            remind
            exit 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$pidfile"
            tail -n 20 "$logfile" >&2
            die "Nuvem stopped during its start (log $logfile)"
        fi
        sleep 0.5
    done
    tail -n 20 "$logfile" >&2
    die "Nuvem did not answer at $url within 60 s (pid $pid, log $logfile)"
fi

remind
# In the foreground the server's output is the terminal: a first start prints the password there
# (and only there: when standard output is not a terminal it prints where the file is instead).
write_pid "$$"
exec "$server"
