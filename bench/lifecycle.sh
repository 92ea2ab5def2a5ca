#!/usr/bin/env bash
# bench/lifecycle.sh — detached container life cycle and idle memory (the
# containers issue).
#
# As one unprivileged user, with one busybox-static image imported into
# both tools, in one hyperfine run:
#   coracle  run -d --network none IMAGE sleep 1000; exec ID true; rm -f ID
#   podman   run -d --network=none IMAGE sleep 1000; exec ID true; rm -f -t 0 ID
# then starts IDLE detached `sleep` containers with each tool and measures
# the memory of what each keeps per container besides the container's own
# process: coracle's monitor (`coracle-shim container-monitor ID` while the
# container runs), podman's conmon
# (podman's shared pause process is reported apart). Prints medians, the
# ratios and the per-container memory (PSS and RSS from
# /proc/PID/smaps_rollup). See bench/README.md.
#
# Goals: podman/coracle >= 10 on the cycle (medians); coracle's memory per
# idle container below podman's.
#
# Environment: RUNS (20), WARMUP (2), IDLE (5), CORACLE (prebuilt binary:
# skips the cargo build), BENCH_USER (coracle-bench, only when run as
# root), BENCH_DIR (work dir), PODMAN_RUNTIME (runc).
#
# Exit status: 0 when every step worked, 1 when a step of the set-up failed,
# 2 when coracle could not run the cycle (podman's figures are still
# printed). Timings and memory are reported, never asserted.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-2}
IDLE=${IDLE:-5}
BENCH_USER=${BENCH_USER:-coracle-bench}
PODMAN_RUNTIME=${PODMAN_RUNTIME:-runc}
IMAGE=localhost/coracle-bench-life:latest
PKGS=(hyperfine runc podman catatonit uidmap busybox-static python3)

SCRIPT=bench/lifecycle.sh
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, not '$RUNS'"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a whole number, not '$WARMUP'"
[[ $IDLE =~ ^[1-9][0-9]*$ ]] || die "IDLE must be a positive integer, not '$IDLE'"

# ---------------------------------------------------------------- the user
bench_user coracle-bench-life
USER_ENV=(XDG_DATA_HOME="$WORK/data" XDG_CONFIG_HOME="$WORK/config")
for c in hyperfine python3 podman; do need "$c"; done
as_user mkdir -p "$WORK/data" "$WORK/config"

# ---------------------------------------------------------------- coracle
bench_coracle
cd "$WORK"
C=$CORACLE_BIN

# ---------------------------------------------------------------- the image
ROOTFS=$WORK/rootfs
step "building the busybox root in $ROOTFS and importing it into both tools"
as_user rm -rf "$ROOTFS"
install -m 0755 "$REPO/scripts/busybox-rootfs.sh" "$WORK/busybox-rootfs.sh"
as_user bash "$WORK/busybox-rootfs.sh" "$ROOTFS" >/dev/null
runroot=$XDG_RUNTIME_DIR/cb-podman-life
if ((${#runroot} > 50)); then
    runroot=/tmp/cb-podman-life-$(as_user id -u)
fi
P="podman --root $WORK/podman --runroot $runroot --storage-driver overlay --cgroup-manager cgroupfs --events-backend file --runtime $PODMAN_RUNTIME"
read -ra PARGV <<<"$P"
if ((EUID == 0)); then
    # our own user: pick up its subuid range if it changed
    as_user "${PARGV[@]}" system migrate >/dev/null 2>&1 || true
fi
tar -C "$ROOTFS" --numeric-owner --owner=0 --group=0 -c . | as_user "$C" import - "$IMAGE" >/dev/null ||
    die "coracle import failed"
tar -C "$ROOTFS" --numeric-owner --owner=0 --group=0 -c . | as_user "${PARGV[@]}" import - "$IMAGE" >/dev/null ||
    die "podman import failed"

# ---------------------------------------------------------------- the cycles
# A cycle that fails half-way removes what it started.
as_user tee "$WORK/cycle-coracle.sh" >/dev/null <<EOF
set -e
id=\$($C run -d --network none $IMAGE sleep 1000)
trap '$C rm -f "\$id" >/dev/null 2>&1' EXIT
$C exec "\$id" true
$C rm -f "\$id" >/dev/null
trap - EXIT
EOF
as_user tee "$WORK/cycle-podman.sh" >/dev/null <<EOF
set -e
id=\$($P run -d --network=none $IMAGE sleep 1000)
trap '$P rm -f -t 0 "\$id" >/dev/null 2>&1' EXIT
$P exec "\$id" true
$P rm -f -t 0 "\$id" >/dev/null
trap - EXIT
EOF
CORACLE_OK=0
for name in coracle podman; do
    cmd="sh $WORK/cycle-$name.sh"
    if out=$(as_user sh "$WORK/cycle-$name.sh" 2>&1 </dev/null); then
        NAMES+=("$name")
        CMDS+=("$cmd")
        [[ $name == coracle ]] && CORACLE_OK=1
    else
        say "FAIL $name: '$cmd':"
        printf '%s\n' "$out" | tail -n 20 | sed 's/^/    /'
    fi
done
((${#NAMES[@]} > 0)) || die "neither coracle nor podman could run the cycle"

step "environment"
say "host:      $(uname -srm), $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)"
say "user:      $(as_user id)"
say "coracle:   $("$C" --version 2>&1 | head -n 1) ($CORACLE_BUILT)"
say "podman:    $(podman --version 2>&1 | head -n 1) (overlay, runtime $PODMAN_RUNTIME, cgroupfs, file events)"
say "hyperfine: $(hyperfine --version)"
for name in "${NAMES[@]}"; do
    say "cycle of $name:"
    sed 's/^/    /' "$WORK/cycle-$name.sh"
done

# ---------------------------------------------------------------- timing
bench_hyperfine

# ---------------------------------------------------------------- idle memory
# kB of Pss and Rss of one process (smaps_rollup), as "PSS RSS".
mem_of() {
    awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 } END { print p + 0, r + 0 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo "0 0"
}
# Sums PSS and RSS over the pids given.
mem_sum() {
    local pss=0 rss=0 p m
    for p in "$@"; do
        read -ra m <<<"$(mem_of "$p")"
        pss=$((pss + m[0]))
        rss=$((rss + m[1]))
    done
    echo "$pss $rss"
}
BUID_NOW=$(as_user id -u)
# Only the measured containers may run: remove any left by an earlier run.
mapfile -t old < <(as_user "$C" ps -aq --no-trunc 2>/dev/null || true)
((${#old[@]} == 0)) || as_user "$C" rm -f "${old[@]}" >/dev/null 2>&1 || true
as_user "${PARGV[@]}" rm -a -f -t 0 >/dev/null 2>&1 || true
step "idle memory: $IDLE detached sleep containers each"
C_IDS=()
for ((i = 0; i < IDLE; i++)); do
    C_IDS+=("$(as_user "$C" run -d --network none "$IMAGE" sleep 1000)")
done
P_IDS=()
for ((i = 0; i < IDLE; i++)); do
    P_IDS+=("$(as_user "${PARGV[@]}" run -d --network=none "$IMAGE" sleep 1000)")
done
sleep 2
mapfile -t MONITORS < <(pgrep -u "$BUID_NOW" -f "container-monitor" || true)
mapfile -t CONMONS < <(pgrep -u "$BUID_NOW" -x conmon || true)
mapfile -t PAUSE < <(pgrep -u "$BUID_NOW" -x catatonit || true)
read -ra CM <<<"$(mem_sum "${MONITORS[@]}")"
read -ra PM <<<"$(mem_sum "${CONMONS[@]}")"
read -ra PP <<<"$(mem_sum "${PAUSE[@]}")"
say "coracle monitors: ${#MONITORS[@]}; podman conmons: ${#CONMONS[@]}; podman pause processes: ${#PAUSE[@]}"
if ((${#MONITORS[@]} > 0)); then
    # While the container runs its monitor is the small coracle-shim.
    say "an idle coracle monitor runs: $(readlink "/proc/${MONITORS[0]}/exe" 2>/dev/null || echo '?')"
fi
as_user "$C" rm -f "${C_IDS[@]}" >/dev/null
as_user "${PARGV[@]}" rm -f -t 0 "${P_IDS[@]}" >/dev/null

# ---------------------------------------------------------------- report
step "results"
python3 - "$RESULTS" "${NAMES[*]}" "$IDLE" "${#MONITORS[@]}" "${CM[@]}" "${#CONMONS[@]}" "${PM[@]}" "${PP[@]}" <<'EOF'
import json, sys

results = json.load(open(sys.argv[1]))["results"]
names = sys.argv[2].split()
idle = int(sys.argv[3])
n_mon, c_pss, c_rss = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
n_con, p_pss, p_rss = int(sys.argv[7]), int(sys.argv[8]), int(sys.argv[9])
pause_pss, pause_rss = int(sys.argv[10]), int(sys.argv[11])
by = dict(zip(names, results))
ms = lambda s: s * 1000.0
print(f"{'cycle':10}{'median':>10}{'mean ± σ':>22}{'min':>10}{'max':>10}")
print(f"{'':10}{'ms':>10}{'ms':>22}{'ms':>10}{'ms':>10}")
for name in names:
    r = by[name]
    sd = f"{ms(r['mean']):.1f} ± {ms(r['stddev'] or 0):.1f}"
    print(f"{name:10}{ms(r['median']):>10.1f}{sd:>22}{ms(r['min']):>10.1f}{ms(r['max']):>10.1f}")
cor, pod = by.get("coracle"), by.get("podman")
if cor and pod:
    q = pod["median"] / cor["median"]
    verdict = "meets the goal" if q >= 10 else "does not meet the goal yet"
    print(f"goal: podman/coracle >= 10 on the cycle (medians): {q:.1f}x, {verdict}.")
print()
print(f"idle memory per container ({idle} detached sleep containers each; KiB):")
print(f"{'':28}{'PSS':>8}{'RSS':>8}")
if n_mon:
    print(f"{'coracle monitor':28}{c_pss / n_mon:>8.0f}{c_rss / n_mon:>8.0f}")
if n_con:
    print(f"{'podman conmon':28}{p_pss / n_con:>8.0f}{p_rss / n_con:>8.0f}")
    print(f"{'podman pause (shared) / n':28}{pause_pss / idle:>8.0f}{pause_rss / idle:>8.0f}")
if n_mon and n_con:
    c = c_pss / n_mon
    p = p_pss / n_con + pause_pss / idle
    verdict = "meets the goal" if c < p else "does not meet the goal yet"
    print(f"goal: coracle below podman per idle container (PSS, podman with its share of the pause process): "
          f"{c:.0f} vs {p:.0f} KiB, podman/coracle {p / c:.1f}x, {verdict}.")
if n_mon != idle:
    print(f"note: {n_mon} coracle monitors found for {idle} containers")
EOF
say "raw hyperfine data: $RESULTS"
if ((!CORACLE_OK)); then
    printf 'bench/lifecycle.sh: coracle could not run the cycle; the figures above are podman only\n' >&2
    exit 2
fi
