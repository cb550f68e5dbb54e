#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests (not the system cluster).
#
#   infra/postgres-test.sh start   create (if needed) and start it; print its URL on stdout
#   infra/postgres-test.sh url     print its URL on stdout
#   infra/postgres-test.sh stop    stop it and delete its data directory
#
# Typical use:  export DATABASE_URL="$(infra/postgres-test.sh start)"
#
# Environment:
#   NUVEM_PG_DIR   data directory (default /tmp/nuvem-test-pg); the unix socket lives there too
#   NUVEM_PG_PORT  TCP port on 127.0.0.1 (default 55432)
#
# The server listens on 127.0.0.1 only, trusts every local connection (superuser `postgres`, no
# password) and runs with fsync off: fast, and never for real data. As root it runs as the
# `postgres` OS user (root cannot run postgres); as any other user, as that user.
# Messages go to stderr; stdout carries only the URL.
set -euo pipefail

log() { printf '[nuvem] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    echo "usage: infra/postgres-test.sh start|stop|url" >&2
}

[ "$#" -eq 1 ] || { usage; exit 2; }
action=$1
case "$action" in
    start|stop|url) ;;
    -h|--help) usage; exit 0 ;;
    *) usage; die "unknown action: $action" ;;
esac

dir=${NUVEM_PG_DIR:-/tmp/nuvem-test-pg}
port=${NUVEM_PG_PORT:-55432}
marker=.nuvem-test-pg   # proves the directory is ours before anything deletes it
url="postgres://postgres@127.0.0.1:$port/postgres"

case "$port" in
    ''|*[!0-9]*) die "NUVEM_PG_PORT must be a number, got '$port'" ;;
esac
case "$dir" in
    /*) ;;
    *) die "NUVEM_PG_DIR must be an absolute path, got '$dir'" ;;
esac
case "$dir" in
    *[[:space:]]*) die "NUVEM_PG_DIR must not contain spaces: '$dir'" ;;
esac
dir=${dir%/}
[ -n "$dir" ] || die "NUVEM_PG_DIR must not be /"

if [ "$action" = url ]; then
    echo "$url"
    exit 0
fi

# Newest installed major version, e.g. /usr/lib/postgresql/15/bin.
pg_bin=""
if compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
    pg_bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
[ -n "$pg_bin" ] || die "no PostgreSQL server under /usr/lib/postgresql (run: infra/install.sh --minimal)"

if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "no 'postgres' OS user (run: infra/install.sh --minimal)"
    run_user=postgres
    as_pg() { runuser -u postgres -- "$@"; }
else
    run_user=$(id -un)
    as_pg() { "$@"; }
fi

pg_ctl() { as_pg "$pg_bin/pg_ctl" "$@"; }
is_running() { [ -f "$dir/PG_VERSION" ] && pg_ctl status -D "$dir" >/dev/null 2>&1; }
answers() { "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2; }
ours() { [ -f "$dir/$marker" ]; }
elapsed() { awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }

do_stop() {
    if [ -e "$dir" ] && ! ours; then
        die "$dir was not created by infra/postgres-test.sh; not touching it"
    fi
    if is_running; then
        log "stopping PostgreSQL in $dir"
        pg_ctl stop -D "$dir" -m fast -w -t 30 >&2
    fi
    if [ -e "$dir" ]; then
        rm -rf -- "$dir"
        log "removed $dir"
    else
        log "nothing to remove ($dir does not exist)"
    fi
}

do_start() {
    t0=$(date +%s.%N)
    if is_running; then
        answers || die "PostgreSQL in $dir is running but not answering on 127.0.0.1:$port (another port? stop it first)"
        log "already running ($dir, port $port)"
        echo "$url"
        return
    fi
    if answers; then
        die "something else already answers on 127.0.0.1:$port; choose another NUVEM_PG_PORT"
    fi

    # Our data directory from another major version is thrown away.
    if [ -e "$dir" ] && ! ours; then
        # An empty directory (e.g. from mktemp -d) is fine; anything else is someone's data.
        if [ ! -d "$dir" ] || [ -n "$(ls -A -- "$dir")" ]; then
            die "$dir exists and was not created by infra/postgres-test.sh; remove it or set NUVEM_PG_DIR"
        fi
    elif [ -e "$dir" ]; then
        if [ "$(cat "$dir/PG_VERSION" 2>/dev/null || true)" != "$(basename "$(dirname "$pg_bin")")" ]; then
            log "discarding unusable data directory $dir"
            rm -rf -- "$dir"
        fi
    fi

    if ! ours; then
        log "initdb $dir ($pg_bin, as $run_user)"
        mkdir -p -- "$dir"
        chmod 0700 "$dir"
        [ "$run_user" = "$(id -un)" ] || chown "$run_user:" "$dir"
        # The server user must be able to reach the directory (e.g. not under root's 0700 home).
        as_pg test -w "$dir" || die "user $run_user cannot write to $dir; choose another NUVEM_PG_DIR"
        as_pg "$pg_bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C --no-sync >/dev/null || {
            rm -rf -- "$dir"
            die "initdb failed"
        }
        as_pg touch "$dir/$marker"
    fi

    log "starting PostgreSQL $(basename "$(dirname "$pg_bin")") on 127.0.0.1:$port"
    # Settings on the command line, so that a change of NUVEM_PG_PORT needs no re-initdb.
    # 9>&-: the server must not inherit (and so hold forever) the lock taken below.
    pg_ctl start -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        >/dev/null 9>&- || {
        tail -n 20 "$dir/server.log" >&2 || true
        die "PostgreSQL did not start (log: $dir/server.log)"
    }

    # pg_ctl -w already waited; check the TCP listener the tests will use (bounded, 30 s).
    local deadline=$((SECONDS + 30))
    until answers; do
        [ "$SECONDS" -lt "$deadline" ] || die "PostgreSQL started but 127.0.0.1:$port does not answer (log: $dir/server.log)"
        sleep 0.2
    done
    log "ready in $(elapsed) s (log: $dir/server.log)"
    echo "$url"
}

# Serialise concurrent start/stop calls (e.g. several test binaries starting it at once).
exec 9>"$dir.lock"
flock -w 120 9 || die "timed out waiting for the lock $dir.lock"

case "$action" in
    start) do_start ;;
    stop) do_stop ;;
esac
