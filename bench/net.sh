#!/usr/bin/env bash
# bench/net.sh — network throughput of the private network (issue 6).
#
# In one run, as one unprivileged user, with iperf3 (TCP, one stream,
# DURATION seconds each):
#   loopback              iperf3 client and server on the host's 127.0.0.1
#   inbound  coracle      host client -> a published port -> iperf3 -s in a container
#   inbound  rootlesskit  the same with podman --network slirp4netns:port_handler=rootlesskit
#   inbound  slirp4netns  the same with podman --network slirp4netns:port_handler=slirp4netns
#   inbound  pasta        pasta --config-net -t PORT -- iperf3 -s (pasta alone:
#                         Debian 12's podman 4.3 has no pasta mode)
#   outbound coracle      iperf3 -c in a container -> the host's 127.0.0.1
#                         (through host-gateway) at MTU 65520 and 1500
#   outbound slirp4netns  the same with podman slirp4netns (allow_host_loopback)
# and prints each throughput, its ratio to loopback, and coracle's stack
# helper's CPU seconds per GB moved and peak RSS (VmHWM).
#
# The container image is the host's iperf3 binary with its libraries and
# busybox, put in a root directory by this script (and imported into
# podman). Environment: DURATION (10), CORACLE (a prebuilt binary: skips the
# cargo build), BENCH_USER (coracle-bench, when run as root), BENCH_DIR.
#
# Goals (issue 6): inbound >= 0.9 of loopback, outbound >= 0.5, helper RSS
# < 16 MiB. Reported, never asserted. Exit status: 0 when coracle's
# measurements ran (a peer that cannot run is reported and skipped).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DURATION=${DURATION:-10}
BENCH_USER=${BENCH_USER:-coracle-bench}
IMAGE=localhost/coracle-net-bench:latest
PKGS=(iperf3 runc podman catatonit uidmap slirp4netns rootlesskit passt busybox-static python3 procps iproute2)

SCRIPT=bench/net.sh
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"
skip() { printf 'SKIP %s: %s\n' "$1" "$2"; }

[[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "DURATION must be a positive integer, not '$DURATION'"

bench_user coracle-bench
for c in iperf3 python3 ss; do need "$c"; done
bench_coracle
cd "$WORK"
if [[ -e /dev/net/tun && ! -w /dev/net/tun && $EUID -eq 0 ]]; then
    step "chmod 0666 /dev/net/tun (as Debian ships it)"
    chmod 0666 /dev/net/tun
fi

# ---------------------------------------------------------------- the root
ROOTFS=$WORK/iperf-root
step "building $ROOTFS (host iperf3 + its libraries + busybox)"
as_user rm -rf "$ROOTFS"
as_user mkdir -p "$ROOTFS/bin" "$ROOTFS/tmp" "$ROOTFS/etc" "$ROOTFS/proc" "$ROOTFS/dev" "$ROOTFS/sys"
as_user cp /bin/busybox "$ROOTFS/bin/busybox"
for a in sh sleep cat; do as_user ln -sf busybox "$ROOTFS/bin/$a"; done
as_user cp "$(command -v iperf3)" "$ROOTFS/bin/iperf3"
for lib in $(ldd "$(command -v iperf3)" | grep -o '/[^ ]*'); do
    as_user mkdir -p "$ROOTFS$(dirname "$lib")"
    as_user cp -L "$lib" "$ROOTFS$lib"
done

CORACLE_ENV=(env XDG_DATA_HOME="$WORK/data" "$CORACLE_BIN")
cor() { as_user "${CORACLE_ENV[@]}" "$@"; }
cor rm -f net-bench-in net-bench-out >/dev/null 2>&1 || true

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# bits/s and bytes of an iperf3 client's JSON on stdin.
parse() {
    python3 -c 'import json,sys
t=sys.stdin.read(); t=t[t.index("{"):t.rindex("}")+1]
e=json.loads(t)["end"]["sum_received"]; print(int(e["bits_per_second"]), int(e["bytes"]))'
}
gbit() { python3 -c "print(f'{$1/1e9:.2f}')"; }

declare -A BPS
ORDER=()
record() { BPS[$1]=$2; ORDER+=("$1"); say "  $1: $(gbit "$2") Gbit/s"; }

# Waits until something listens on 127.0.0.1:$1 or *:$1 (a probe
# connection would be the one client of `iperf3 -s -1`).
wait_port() {
    local i
    for i in $(seq 100); do
        [[ -n $(ss -Hltn "sport = :$1") ]] && return 0
        sleep 0.1
    done
    return 1
}

# The stack helper of container $1: its pid.
helper_pid() {
    local id p
    id=$(cor inspect -f '{{.Id}}' "$1")
    for p in /proc/[0-9]*; do
        if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q "container-net .*$id"; then
            basename "$p"
            return 0
        fi
    done
    return 1
}
# CPU seconds (user+system) and VmHWM (KiB) of pid $1.
helper_usage() {
    local tck
    tck=$(getconf CLK_TCK)
    python3 - "$1" "$tck" <<'EOF'
import sys
pid, tck = sys.argv[1], int(sys.argv[2])
st = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
cpu = (int(st[11]) + int(st[12])) / tck
hwm = [l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM")][0]
print(cpu, hwm)
EOF
}
declare -A HCPU HRSS
helper_report() { # name bytes cpu hwm
    HCPU[$1]=$(python3 -c "print(f'{$3/($2/1e9):.2f}')")
    HRSS[$1]=$(python3 -c "print(f'{$4/1024:.1f}')")
}

# ---------------------------------------------------------------- loopback
step "host loopback"
P=$(free_port)
as_user iperf3 -s -1 -p "$P" >/dev/null 2>&1 &
wait_port "$P" || die "iperf3 -s did not start"
read -r bps _ < <(as_user iperf3 -c 127.0.0.1 -p "$P" -t "$DURATION" -J | parse)
wait
record loopback "$bps"

# ---------------------------------------------------------------- coracle inbound
step "inbound: coracle (published port)"
P=$(free_port)
cor run -d --name net-bench-in -p "127.0.0.1:$P:5201" --rootfs "$ROOTFS" iperf3 -s -p 5201 >/dev/null
wait_port "$P" || die "coracle's published port does not answer"
read -r bps bytes < <(as_user iperf3 -c 127.0.0.1 -p "$P" -t "$DURATION" -J | parse)
read -r cpu hwm < <(helper_usage "$(helper_pid net-bench-in)")
cor rm -f net-bench-in >/dev/null
record "inbound coracle" "$bps"
helper_report "inbound" "$bytes" "$cpu" "$hwm"

# ---------------------------------------------------------------- podman inbound
PODMAN_OK=0
if command -v podman >/dev/null; then
    step "importing $ROOTFS into podman"
    if (cd "$ROOTFS" && as_user tar -c .) | as_user podman import - "$IMAGE" >/dev/null 2>&1; then
        PODMAN_OK=1
    else
        skip podman "podman import failed"
    fi
fi
podman_inbound() { # name handler
    local P
    P=$(free_port)
    if ! as_user podman run -d --rm --name net-bench-p --network "slirp4netns:port_handler=$2" \
        -p "127.0.0.1:$P:5201" "$IMAGE" /bin/iperf3 -s -p 5201 >/dev/null 2>&1; then
        skip "$1" "podman run failed"
        return 0
    fi
    if wait_port "$P"; then
        read -r bps _ < <(as_user iperf3 -c 127.0.0.1 -p "$P" -t "$DURATION" -J | parse)
        record "$1" "$bps"
    else
        skip "$1" "the published port does not answer"
    fi
    as_user podman rm -f net-bench-p >/dev/null 2>&1 || true
}
if ((PODMAN_OK)); then
    step "inbound: podman + rootlesskit"
    podman_inbound "inbound podman+rootlesskit" rootlesskit
    step "inbound: podman + slirp4netns"
    podman_inbound "inbound podman+slirp4netns" slirp4netns
fi

# ---------------------------------------------------------------- pasta inbound
if command -v pasta >/dev/null; then
    step "inbound: pasta"
    P=$(free_port)
    as_user pasta --config-net -t "$P:5201" -- "$ROOTFS/bin/iperf3" -s -1 -p 5201 >/dev/null 2>&1 &
    if wait_port "$P"; then
        sleep 0.5
        read -r bps _ < <(as_user iperf3 -c 127.0.0.1 -p "$P" -t "$DURATION" -J | parse)
        record "inbound pasta" "$bps"
    else
        skip pasta "its forwarded port does not answer"
    fi
    wait || true
fi

# ---------------------------------------------------------------- outbound
coracle_outbound() { # mtu
    local P id out
    P=$(free_port)
    as_user iperf3 -s -1 -p "$P" >/dev/null 2>&1 &
    wait_port "$P" || die "iperf3 -s did not start"
    cor run -d --name net-bench-out --network "private:mtu=$1,allow_host_loopback=true" \
        --rootfs "$ROOTFS" sh -c "sleep 1; iperf3 -c 10.0.2.2 -p $P -t $DURATION -J; sleep 1000" >/dev/null
    for _ in $(seq $((DURATION * 10 + 200))); do
        out=$(cor logs net-bench-out 2>/dev/null || true)
        [[ $out == *'"end"'* && $out == *'"cpu_utilization_percent"'* ]] && break
        sleep 0.1
    done
    read -r bps bytes < <(printf '%s' "$out" | parse)
    read -r cpu hwm < <(helper_usage "$(helper_pid net-bench-out)")
    cor rm -f net-bench-out >/dev/null
    wait || true
    record "outbound coracle mtu $1" "$bps"
    helper_report "outbound mtu $1" "$bytes" "$cpu" "$hwm"
}
podman_outbound() { # mtu
    local P
    P=$(free_port)
    as_user iperf3 -s -1 -p "$P" >/dev/null 2>&1 &
    wait_port "$P" || die "iperf3 -s did not start"
    if out=$(as_user podman run --rm --network "slirp4netns:allow_host_loopback=true,mtu=$1" "$IMAGE" \
        /bin/iperf3 -c 10.0.2.2 -p "$P" -t "$DURATION" -J 2>/dev/null); then
        read -r bps _ < <(printf '%s' "$out" | parse)
        record "outbound podman+slirp4netns mtu $1" "$bps"
    else
        skip "podman+slirp4netns mtu $1" "podman run failed"
        kill %% 2>/dev/null || true
    fi
    wait || true
}
for mtu in 65520 1500; do
    step "outbound: coracle, MTU $mtu"
    coracle_outbound "$mtu"
    if ((PODMAN_OK)); then
        step "outbound: podman + slirp4netns, MTU $mtu"
        podman_outbound "$mtu"
    fi
done

# ---------------------------------------------------------------- report
say ""
say "coracle: $CORACLE_BUILT"
printf '%-40s %10s %10s\n' "measurement" "Gbit/s" "/loopback"
for k in "${ORDER[@]}"; do
    printf '%-40s %10s %10s\n' "$k" "$(gbit "${BPS[$k]}")" \
        "$(python3 -c "print(f'{${BPS[$k]}/${BPS[loopback]}:.2f}')")"
done
say ""
printf '%-24s %18s %14s\n' "coracle stack helper" "CPU s per GB" "peak RSS MiB"
for k in "${!HCPU[@]}"; do
    printf '%-24s %18s %14s\n' "$k" "${HCPU[$k]}" "${HRSS[$k]}"
done
say ""
say "goals: inbound >= 0.90 of loopback, outbound >= 0.50, helper RSS < 16 MiB"
