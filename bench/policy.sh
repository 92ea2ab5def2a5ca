#!/usr/bin/env bash
# bench/policy.sh — what the security policies cost (issue 7).
#
# In one hyperfine run, as one unprivileged user, times three workloads
# under each of coracle's policies `unconfined`, `default` and `strict`:
#   find    find over /usr bind-mounted read-only (syscall-heavy: getdents,
#           newfstatat, openat through seccomp and landlock)
#   write   a loop writing FILES small files into a tmpfs (openat, write,
#           close; landlock checks every open for writing under strict)
#   start   starting /bin/true (the cost of building and installing the
#           filter and the ruleset)
# then prints each mean and the overhead of `default` and `strict` over
# `unconfined` (goal: under 5% each). See bench/README.md.
#
# Environment: RUNS (20), WARMUP (3), FILES (2000), TREE (/usr), CORACLE
# (prebuilt binary: skips the cargo build), BENCH_USER (coracle-bench, only
# when run as root), BENCH_DIR (work dir).
#
# Exit status: 0 when every step worked, 1 when a step failed, 2 when
# coracle itself could not run. Timings are reported, never asserted.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-3}
FILES=${FILES:-2000}
TREE=${TREE:-/usr}
BENCH_USER=${BENCH_USER:-coracle-bench}
PKGS=(hyperfine uidmap busybox-static python3)

SCRIPT=bench/policy.sh
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, not '$RUNS'"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a whole number, not '$WARMUP'"
[[ $FILES =~ ^[1-9][0-9]*$ ]] || die "FILES must be a positive integer, not '$FILES'"
[[ -d $TREE ]] || die "TREE=$TREE is not a directory"

bench_user coracle-policy
for c in hyperfine python3; do need "$c"; done
bench_coracle
cd "$WORK"

ROOTFS=$WORK/rootfs
step "building the busybox root in $ROOTFS"
as_user rm -rf "$ROOTFS"
install -m 0755 "$REPO/scripts/busybox-rootfs.sh" "$WORK/busybox-rootfs.sh"
if ((EUID == 0)); then
    chown "$BUID:$BGID" "$WORK/busybox-rootfs.sh"
fi
as_user bash "$WORK/busybox-rootfs.sh" "$ROOTFS"
[[ -x $ROOTFS/bin/true ]] || die "$ROOTFS/bin/true missing after building the root"

entries=$(find "$TREE" 2>/dev/null | wc -l)
say "find walks $TREE: $entries entries; write makes $FILES files"

RUN="$CORACLE_BIN run --rm --network none --rootfs $ROOTFS"
# Directories the user may not read (polkit's rules.d) are skipped alike.
FIND="-v $TREE:/tree:ro sh -c 'find /tree -xdev 2>/dev/null | wc -l'"
WRITE="--tmpfs /w sh -c 'i=0;while [ \$i -lt $FILES ];do echo x >/w/f\$i;i=\$((i+1));done'"

step "checking that each command runs"
for p in unconfined default strict; do
    for w in find write start; do
        case $w in
        find) cmd="$RUN --policy $p $FIND" ;;
        write) cmd="$RUN --policy $p $WRITE" ;;
        start) cmd="$RUN --policy $p /bin/true" ;;
        esac
        if ! out=$(as_user bash -c "$cmd >/dev/null" 2>&1 </dev/null); then
            printf '%s\n' "$out" >&2
            printf 'coracle failed: %s\n' "$cmd" >&2
            exit 2
        fi
        NAMES+=("$w/$p")
        CMDS+=("$cmd")
    done
done

bench_hyperfine "find over $entries entries, $FILES file writes, start"

python3 - "$RESULTS" <<'EOF'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
cpu = lambda r: r["user"] + r["system"]
print()
print("wall: mean time; cpu: user + system time of coracle and the container,")
print("which other load on the machine disturbs less")
print()
print(f"{'workload':<8} {'policy':<11} {'wall':>9} {'± σ':>8} {'overhead':>9} {'cpu':>9} {'overhead':>9}")
worst = {"wall": 0.0, "cpu": 0.0}
for w in ("find", "write", "start"):
    base = res[f"{w}/unconfined"]
    for p in ("unconfined", "default", "strict"):
        r = res[f"{w}/{p}"]
        ow = (r["mean"] / base["mean"] - 1) * 100
        oc = (cpu(r) / cpu(base) - 1) * 100
        if p == "unconfined":
            nw = nc = ""
        else:
            nw, nc = f"{ow:+.1f}%", f"{oc:+.1f}%"
            worst["wall"] = max(worst["wall"], ow)
            worst["cpu"] = max(worst["cpu"], oc)
        print(f"{w:<8} {p:<11} {r['mean']*1000:>7.1f}ms {r['stddev']*1000:>6.1f}ms {nw:>9} {cpu(r)*1000:>7.1f}ms {nc:>9}")
print()
print(f"largest overhead: wall {worst['wall']:+.1f}%, cpu {worst['cpu']:+.1f}% (goal: under 5%)")
EOF
