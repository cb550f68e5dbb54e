#!/usr/bin/env bash
# Start, stop or inspect the host daemons Nuvem talks to: dockerd, virtlogd and libvirtd.
#
#   infra/daemons.sh [start] [--require] [--timeout SECONDS]
#   infra/daemons.sh stop
#   infra/daemons.sh status
#
# start   starts each daemon that is not already running, then waits (bounded) until
#         `docker version` and `virsh -c qemu:///system version` answer. Without systemd (containers,
#         CI) the daemons are started directly and detached, so they outlive this script; with
#         systemd, `systemctl start` is used. A daemon that is not installed is reported and skipped,
#         or is an error with --require.
# stop    stops only what `start` started (remembered in /run/nuvem/daemons); anything that was
#         already running is left alone.
# status  prints one line per daemon; exit status 0 if every installed daemon answers, 3 if not.
#
# Environment: NUVEM_DAEMON_TIMEOUT (seconds, default 60) bounds the wait.
# Logs without systemd: /var/log/nuvem-dockerd.log, /var/log/nuvem-virtlogd.log,
# /var/log/nuvem-libvirtd.log.
set -euo pipefail

log() { printf '[nuvem] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    cat >&2 <<'EOF'
usage: infra/daemons.sh [start|stop|status] [--require] [--timeout SECONDS]
EOF
}

action=start
require=0
wait_limit=${NUVEM_DAEMON_TIMEOUT:-60}
while [ "$#" -gt 0 ]; do
    case "$1" in
        start|stop|status) action=$1 ;;
        --require) require=1 ;;
        --timeout)
            [ "$#" -ge 2 ] || { usage; die "--timeout needs a value"; }
            wait_limit=$2
            shift
            ;;
        -h|--help) usage; exit 0 ;;
        *) usage; die "unknown argument: $1" ;;
    esac
    shift
done
case "$wait_limit" in
    ''|*[!0-9]*) die "timeout must be a whole number of seconds, got '$wait_limit'" ;;
esac

# libvirtd and virtlogd live in /usr/sbin, which a non-login root shell may lack.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

[ "$(id -u)" -eq 0 ] || die "must run as root"

state_dir=/run/nuvem/daemons
have_systemd=0
[ -d /run/systemd/system ] && have_systemd=1

daemons=(docker virtlogd libvirtd)  # start order; stop runs in reverse

# --- per-daemon facts ------------------------------------------------------------------------

binaries() {    # programs that must exist for the daemon to be usable
    case "$1" in
        docker) echo "dockerd docker" ;;
        virtlogd) echo "virtlogd" ;;
        libvirtd) echo "libvirtd virsh" ;;
    esac
}
package_of() {
    case "$1" in
        docker) echo docker.io ;;
        virtlogd|libvirtd) echo libvirt-daemon-system ;;
    esac
}
pidfile_of() {
    case "$1" in
        docker) echo /var/run/docker.pid ;;
        virtlogd) echo /run/virtlogd.pid ;;
        libvirtd) echo /run/libvirtd.pid ;;
    esac
}
unit_of() {
    case "$1" in
        docker) echo docker.service ;;
        virtlogd) echo virtlogd.service ;;
        libvirtd) echo libvirtd.service ;;
    esac
}
comm_of() {     # process name, to make sure a pid from a file is still that daemon
    case "$1" in
        docker) echo dockerd ;;
        *) echo "$1" ;;
    esac
}

installed() {
    local bin
    for bin in $(binaries "$1"); do
        command -v "$bin" >/dev/null 2>&1 || return 1
    done
}

# The pid in the daemon's pid file, if that process is alive and is that daemon.
live_pid() {
    local file pid
    file=$(pidfile_of "$1")
    [ -r "$file" ] || return 1
    pid=$(tr -dc '0-9' <"$file")
    [ -n "$pid" ] || return 1
    pid_is "$pid" "$1" || return 1
    echo "$pid"
}
pid_is() {
    local comm
    comm=$(cat "/proc/$1/comm" 2>/dev/null) || return 1
    [ "$comm" = "$(comm_of "$2")" ]
}

answering() {
    case "$1" in
        docker) timeout 10 docker version >/dev/null 2>&1 ;;
        libvirtd) timeout 10 virsh -c qemu:///system version >/dev/null 2>&1 ;;
        # virtlogd has no client command: alive with its socket in place is the best signal.
        virtlogd)
            if [ "$have_systemd" -eq 1 ]; then
                systemctl is-active --quiet virtlogd.service || systemctl is-active --quiet virtlogd.socket
            else
                live_pid virtlogd >/dev/null && [ -S /run/libvirt/virtlogd-sock ]
            fi
            ;;
    esac
}

running() {     # a process exists (it may still be starting up)
    if [ "$have_systemd" -eq 1 ]; then
        systemctl is-active --quiet "$(unit_of "$1")"
    else
        live_pid "$1" >/dev/null
    fi
}

# --- start -----------------------------------------------------------------------------------

launch() {      # start one daemon directly, detached from this script's session
    local name=$1 logf="/var/log/nuvem-$1.log"
    case "$name" in
        docker)
            logf=/var/log/nuvem-dockerd.log
            # setsid: own session, so neither the end of this script nor a signal to its process
            # group reaches dockerd. dockerd starts its own containerd.
            setsid nohup dockerd >>"$logf" 2>&1 </dev/null &
            ;;
        virtlogd)
            LIBVIRT_LOG_OUTPUTS="3:file:$logf" setsid virtlogd -d >>"$logf" 2>&1 </dev/null
            ;;
        libvirtd)
            LIBVIRT_LOG_OUTPUTS="3:file:$logf" setsid libvirtd -d >>"$logf" 2>&1 </dev/null
            ;;
    esac
    log "started $name (log: $logf)"
}

record_started() {  # remember the pid (or unit) so that `stop` touches only what we started
    local name=$1 pid deadline
    mkdir -p "$state_dir"
    if [ "$have_systemd" -eq 1 ]; then
        unit_of "$name" >"$state_dir/$name.unit"
        return
    fi
    # The pid file appears once the daemon has initialised; wait for it briefly.
    deadline=$((SECONDS + 10))
    while ! pid=$(live_pid "$name"); do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "warning: $name wrote no pid file yet; \`stop\` may not find it"
            return
        fi
        sleep 0.2
    done
    echo "$pid" >"$state_dir/$name.pid"
}

do_start() {
    local name started=() wanted=() missing=() t0 waited pending
    for name in "${daemons[@]}"; do
        if installed "$name"; then
            wanted+=("$name")
        else
            missing+=("$name")
            log "$name: not installed (package $(package_of "$name"); run infra/install.sh)"
        fi
    done
    if [ "${#missing[@]}" -gt 0 ] && [ "$require" -eq 1 ]; then
        die "not installed: ${missing[*]} (--require given)"
    fi
    for name in "${wanted[@]}"; do
        if answering "$name"; then
            log "$name: already running"
        elif running "$name"; then
            log "$name: running, not answering yet"
        elif [ "$have_systemd" -eq 1 ]; then
            log "$name: systemctl start $(unit_of "$name")"
            systemctl start "$(unit_of "$name")"
            started+=("$name")
        else
            launch "$name"
            started+=("$name")
        fi
    done
    for name in "${started[@]}"; do
        record_started "$name"
    done

    # Wait for every wanted daemon to answer, polling every 0.5 s.
    t0=$(date +%s.%N)
    while :; do
        pending=()
        for name in "${wanted[@]}"; do
            answering "$name" || pending+=("$name")
        done
        [ "${#pending[@]}" -eq 0 ] && break
        waited=$(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%d", e - s }')
        if [ "$waited" -ge "$wait_limit" ]; then
            for name in "${pending[@]}"; do
                log "$name: no answer after ${wait_limit} s"
                if [ "$have_systemd" -eq 1 ]; then
                    log "  see: journalctl -u $(unit_of "$name")"
                elif [ "$name" = docker ]; then
                    tail -n 5 /var/log/nuvem-dockerd.log >&2 || true
                else
                    tail -n 5 "/var/log/nuvem-$name.log" >&2 || true
                fi
            done
            die "daemons not answering: ${pending[*]}"
        fi
        sleep 0.5
    done
    waited=$(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
    if [ "${#wanted[@]}" -gt 0 ]; then
        log "answering: ${wanted[*]} (waited $waited s)"
    fi
}

# --- stop ------------------------------------------------------------------------------------

do_stop() {
    local i name file pid unit deadline
    for ((i = ${#daemons[@]} - 1; i >= 0; i--)); do
        name=${daemons[i]}
        if [ -f "$state_dir/$name.unit" ]; then
            unit=$(cat "$state_dir/$name.unit")
            log "$name: systemctl stop $unit"
            systemctl stop "$unit" || log "warning: systemctl stop $unit failed"
            rm -f "$state_dir/$name.unit"
            continue
        fi
        file="$state_dir/$name.pid"
        if [ ! -f "$file" ]; then
            if running "$name"; then
                log "$name: running but not started by infra/daemons.sh; left alone"
            fi
            continue
        fi
        pid=$(tr -dc '0-9' <"$file")
        if [ -z "$pid" ] || ! pid_is "$pid" "$name"; then
            log "$name: already stopped"
            rm -f "$file"
            continue
        fi
        log "$name: stopping (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        # dockerd stops its containers first (up to ~15 s); be patient, then insist.
        deadline=$((SECONDS + 30))
        while pid_is "$pid" "$name"; do
            if [ "$SECONDS" -ge "$deadline" ]; then
                log "$name: still alive after 30 s; sending SIGKILL"
                kill -KILL "$pid" 2>/dev/null || true
                break
            fi
            sleep 0.2
        done
        rm -f "$file"
        log "$name: stopped"
    done
}

# --- status ----------------------------------------------------------------------------------

do_status() {
    local name ok=0 pid by
    for name in "${daemons[@]}"; do
        if ! installed "$name"; then
            printf '%-9s not installed (package %s)\n' "$name" "$(package_of "$name")"
            [ "$require" -eq 1 ] && ok=3
            continue
        fi
        by=""
        if [ -f "$state_dir/$name.pid" ] || [ -f "$state_dir/$name.unit" ]; then
            by=", started by infra/daemons.sh"
        fi
        pid=$(live_pid "$name" || true)
        if answering "$name"; then
            printf '%-9s answering (pid %s%s)\n' "$name" "${pid:-?}" "$by"
        elif running "$name"; then
            printf '%-9s running, not answering (pid %s%s)\n' "$name" "${pid:-?}" "$by"
            ok=3
        else
            printf '%-9s stopped\n' "$name"
            ok=3
        fi
    done
    return "$ok"
}

case "$action" in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
esac
