#!/usr/bin/env bash
# bench/start.sh — container start-up benchmark (issue 2).
#
# In one hyperfine run, as one unprivileged user, times starting /bin/true in:
#   coracle  coracle run --rm --network none --rootfs DIR /bin/true
#   bwrap    bwrap --unshare-all --ro-bind DIR / --proc /proc --dev /dev /bin/true
#   unshare  unshare -Urmpf --mount-proc /bin/true
#   runc     runc run of a prepared rootless bundle whose rootfs is DIR
#   podman   podman run --rm --network=none of DIR imported as an image
# then prints each median, mean ± σ and the ratio to bwrap, and the peak
# memory (GNU time %M) of each. See bench/README.md.
#
# Environment: RUNS (30), WARMUP (3), MEM_RUNS (5), CORACLE (prebuilt binary:
# skips the cargo build), BENCH_USER (coracle-bench, only when run as root),
# BENCH_DIR (work dir), PODMAN_DRIVER (overlay, falling back to vfs),
# PODMAN_RUNTIME (runc).
#
# Exit status: 0 when every step worked (a peer that cannot run is reported
# and skipped), 1 when a step failed, 2 when coracle itself could not run.
# Timings are reported, never asserted.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
MEM_RUNS=${MEM_RUNS:-5}
BENCH_USER=${BENCH_USER:-coracle-bench}
PODMAN_RUNTIME=${PODMAN_RUNTIME:-runc}
IMAGE=localhost/coracle-bench-root:latest
RUNC_ID=coracle-bench
PKGS=(hyperfine bubblewrap runc podman catatonit uidmap busybox-static time util-linux python3)

SCRIPT=bench/start.sh
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"
skip() { printf 'SKIP %s: %s\n' "$1" "$2"; }

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, not '$RUNS'"
[[ $MEM_RUNS =~ ^[1-9][0-9]*$ ]] || die "MEM_RUNS must be a positive integer, not '$MEM_RUNS'"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a whole number, not '$WARMUP'"

# ---------------------------------------------------------------- the user
bench_user coracle-bench
for c in hyperfine python3; do need "$c"; done

# ---------------------------------------------------------------- coracle
bench_coracle

# Run everything from the work dir: the caller's cwd may be closed to the user.
cd "$WORK"

# ---------------------------------------------------------------- the root
ROOTFS=$WORK/rootfs

# The same as scripts/busybox-rootfs.sh, for when that script is missing.
own_busybox_rootfs() {
    set -eu
    dir=$1
    bb=$(command -v busybox || true)
    [ -x /bin/busybox ] && bb=/bin/busybox
    [ -n "$bb" ] || { echo "busybox not found (apt-get install busybox-static)" >&2; exit 1; }
    mkdir -p "$dir/bin" "$dir/etc" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/tmp"
    chmod 1777 "$dir/tmp"
    cp "$bb" "$dir/bin/busybox"
    for a in $("$dir/bin/busybox" --list); do
        [ "$a" = busybox ] || ln -sf busybox "$dir/bin/$a"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$dir/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
}

step "building the busybox root in $ROOTFS"
as_user rm -rf "$ROOTFS"
if [[ -f $REPO/scripts/busybox-rootfs.sh ]]; then
    install -m 0755 "$REPO/scripts/busybox-rootfs.sh" "$WORK/busybox-rootfs.sh"
    if ((EUID == 0)); then
        chown "$BUID:$BGID" "$WORK/busybox-rootfs.sh"
    fi
    as_user bash "$WORK/busybox-rootfs.sh" "$ROOTFS"
else
    say "(scripts/busybox-rootfs.sh not found: building it here the same way)"
    as_user bash -c "$(declare -f own_busybox_rootfs); own_busybox_rootfs \"\$1\"" _ "$ROOTFS"
fi
[[ -x $ROOTFS/bin/true ]] || die "$ROOTFS/bin/true missing after building the root"

# ---------------------------------------------------------------- the peers
CORACLE_OK=0

TRY_ERR=""

# try NAME CMD: run CMD once as the user; keep it when it works, else say why
# (in TRY_ERR too).
try() {
    local name=$1 cmd=$2 argv out rc=0
    read -ra argv <<<"$cmd"
    out=$(as_user "${argv[@]}" 2>&1 </dev/null) || rc=$?
    if ((rc == 0)); then
        NAMES+=("$name")
        CMDS+=("$cmd")
        return 0
    fi
    TRY_ERR="exit status $rc: $(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
    skip "$name" "'$cmd' failed, $TRY_ERR"
    return 1
}

step "checking that each command runs"
if try coracle "$CORACLE_BIN run --rm --network none --rootfs $ROOTFS /bin/true"; then
    CORACLE_OK=1
fi

if command -v bwrap >/dev/null; then
    try bwrap "bwrap --unshare-all --ro-bind $ROOTFS / --proc /proc --dev /dev /bin/true" || true
else
    skip bwrap "not installed (Debian package bubblewrap)"
fi

if command -v unshare >/dev/null; then
    try unshare "unshare -Urmpf --mount-proc /bin/true" || true
else
    skip unshare "not installed (Debian package util-linux)"
fi

RUNC=$(PATH=$PATH:/usr/sbin:/sbin command -v runc || true)
if [[ -n $RUNC ]]; then
    bundle=$WORK/runc-bundle
    runc_root=$XDG_RUNTIME_DIR/runc
    as_user rm -rf "$bundle"
    as_user mkdir -p "$bundle"
    (cd "$bundle" && as_user "$RUNC" spec --rootless)
    # Same root (read-only), no terminal, /bin/true, and a network namespace
    # too (the rootless spec leaves the network shared) to match the others.
    as_user python3 - "$bundle/config.json" "$ROOTFS" <<'EOF'
import json, sys
path, rootfs = sys.argv[1], sys.argv[2]
with open(path) as f:
    c = json.load(f)
c["root"] = {"path": rootfs, "readonly": True}
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
ns = c["linux"]["namespaces"]
if not any(n["type"] == "network" for n in ns):
    ns.append({"type": "network"})
with open(path, "w") as f:
    json.dump(c, f, indent=2)
EOF
    # "runc run" (foreground) deletes the container when it exits, so one id
    # serves every run; clear a leftover from an interrupted run.
    as_user "$RUNC" --root "$runc_root" delete --force "$RUNC_ID" >/dev/null 2>&1 || true
    try runc "$RUNC --root $runc_root run --bundle $bundle $RUNC_ID" || true
else
    skip runc "not installed (Debian package runc)"
fi

PODMAN_INFO=""
if command -v podman >/dev/null; then
    podman_ok=0
    last_err=""
    for drv in ${PODMAN_DRIVER:-overlay vfs}; do
        # Its own store, so the user's podman setup is left alone and the
        # driver is the one named: podman picks vfs here by default, which
        # copies the whole root for every container.
        # podman refuses a runroot longer than 50 characters.
        runroot=$XDG_RUNTIME_DIR/cb-podman-$drv
        if ((${#runroot} > 50)); then
            runroot=/tmp/cb-podman-$(as_user id -u)-$drv
        fi
        P="podman --root $WORK/podman-$drv --runroot $runroot --storage-driver $drv --cgroup-manager cgroupfs --events-backend file --runtime $PODMAN_RUNTIME"
        read -ra pargv <<<"$P"
        if ((EUID == 0)); then
            # our own user: pick up its subuid range if it changed
            as_user "${pargv[@]}" system migrate >/dev/null 2>&1 || true
        fi
        if ! out=$(tar -C "$ROOTFS" --numeric-owner --owner=0 --group=0 -c . |
            as_user "${pargv[@]}" import - "$IMAGE" 2>&1); then
            last_err="import ($drv): $(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"
            say "(podman with storage driver $drv failed: $last_err)"
            continue
        fi
        as_user "${pargv[@]}" image prune -f >/dev/null 2>&1 || true
        if try podman "$P run --rm --network=none $IMAGE /bin/true" >/dev/null; then
            podman_ok=1
            PODMAN_INFO="storage driver $drv, runtime $PODMAN_RUNTIME, cgroupfs, file events"
            break
        fi
        say "(podman with storage driver $drv failed: $TRY_ERR)"
        last_err="run ($drv): $TRY_ERR"
    done
    if ((!podman_ok)); then
        skip podman "$last_err"
    fi
else
    skip podman "not installed (Debian package podman)"
fi

((${#NAMES[@]} > 0)) || die "no command could run"

# ---------------------------------------------------------------- versions
step "environment"
say "host:      $(uname -srm), $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)"
say "user:      $(as_user id)"
say "root:      $ROOTFS ($("$ROOTFS/bin/busybox" 2>&1 | head -n 1 | cut -d' ' -f1-2))"
say "coracle:   $("$CORACLE_BIN" --version 2>&1 | head -n 1) ($CORACLE_BUILT)"
for i in "${!NAMES[@]}"; do
    case ${NAMES[$i]} in
    bwrap) say "bwrap:     $(bwrap --version 2>&1 | head -n 1)" ;;
    unshare) say "unshare:   $(unshare --version 2>&1 | head -n 1)" ;;
    runc) say "runc:      $("$RUNC" --version 2>&1 | head -n 1)" ;;
    podman) say "podman:    $(podman --version 2>&1 | head -n 1) ($PODMAN_INFO)" ;;
    esac
done
say "hyperfine: $(hyperfine --version)"
say "commands:"
for i in "${!NAMES[@]}"; do
    printf '  %-8s %s\n' "${NAMES[$i]}" "${CMDS[$i]}"
done

# ---------------------------------------------------------------- timing
bench_hyperfine

# ---------------------------------------------------------------- memory
MEM_FILE=$WORK/maxrss.txt
MEMS=()
if [[ -x /usr/bin/time ]]; then
    step "peak memory: GNU time %M, largest of $MEM_RUNS runs"
else
    say "(no /usr/bin/time, Debian package time: no peak memory figures)"
fi
for i in "${!NAMES[@]}"; do
    if [[ ! -x /usr/bin/time ]]; then
        MEMS+=("${NAMES[$i]}=n/a")
        continue
    fi
    read -ra argv <<<"${CMDS[$i]}"
    max=0
    for ((r = 0; r < MEM_RUNS; r++)); do
        as_user /usr/bin/time -f %M -o "$MEM_FILE" "${argv[@]}" </dev/null >/dev/null 2>&1 ||
            die "${NAMES[$i]} failed under /usr/bin/time"
        kib=$(tail -n 1 "$MEM_FILE")
        if ((kib > max)); then
            max=$kib
        fi
    done
    MEMS+=("${NAMES[$i]}=$max")
done

# ---------------------------------------------------------------- report
step "results"
python3 - "$RESULTS" "${MEMS[@]}" <<'EOF'
import json, sys

with open(sys.argv[1]) as f:
    results = json.load(f)["results"]
mem = dict(a.split("=", 1) for a in sys.argv[2:])
names = [m.split("=", 1)[0] for m in sys.argv[2:]]
by = dict(zip(names, results))

ms = lambda s: s * 1000.0
base = by.get("bwrap")
print(f"{'':10}{'median':>10}{'mean ± σ':>20}{'min':>9}{'max':>9}{'× bwrap':>9}{'peak RSS':>11}")
print(f"{'':10}{'ms':>10}{'ms':>20}{'ms':>9}{'ms':>9}{'(median)':>9}{'KiB':>11}")
for name in names:
    r = by[name]
    ratio = f"{r['median'] / base['median']:.2f}" if base else "n/a"
    ms_sd = f"{ms(r['mean']):.2f} ± {ms(r['stddev'] or 0):.2f}"
    print(f"{name:10}{ms(r['median']):>10.2f}{ms_sd:>20}{ms(r['min']):>9.2f}{ms(r['max']):>9.2f}{ratio:>9}{mem[name]:>11}")
print()

cor, pod = by.get("coracle"), by.get("podman")
if cor and base:
    q = cor["median"] / base["median"]
    verdict = "within the goal" if q <= 2.0 else "not yet within the goal"
    print(f"goal: coracle <= 2x bwrap (median). coracle/bwrap = {q:.2f}x: {verdict}.")
elif not cor:
    print("goal: coracle <= 2x bwrap: no coracle figure (coracle could not run).")
else:
    print("goal: coracle <= 2x bwrap: no bwrap figure to compare with.")
if cor and pod:
    print(f"coracle vs podman: podman/coracle = {pod['median'] / cor['median']:.1f}x "
          "(the goal implies more than 20x).")
print("issue 2 figures for reference: podman 157 ms, runc 26 ms, bwrap 4.0 ms, unshare 2.1 ms.")
print("peak RSS is GNU time's %M: ru_maxrss from wait4(), the peak resident set of the")
print("single largest process among the command and the descendants it reaped (for")
print("coracle: the CLI, its sandbox child before and after exec, newuidmap/newgidmap);")
print("not a sum over processes alive at once. podman's figure leaves out conmon and")
print("runc, which conmon runs after daemonizing.")
EOF
say "raw hyperfine data: $RESULTS"

if ((!CORACLE_OK)); then
    printf 'bench/start.sh: coracle could not run; the figures above are the peers only\n' >&2
    exit 2
fi
