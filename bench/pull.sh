#!/usr/bin/env bash
# bench/pull.sh — image pull benchmark (the images issue).
#
# From one local registry (Debian's docker-registry on 127.0.0.1, plain
# HTTP), in one hyperfine run, as one unprivileged user, times a cold pull of
# a multi-layer Debian image of at least MIN_MB uncompressed by:
#   coracle  coracle pull 127.0.0.1:PORT/bench/debian:TAG
#   podman   podman ... pull --tls-verify=false 127.0.0.1:PORT/bench/debian:TAG
# each with an empty store before every run (hyperfine --prepare moves the
# old one aside; it is deleted after the timed runs), then
# prints each median, mean ± σ, podman/coracle and the peak RSS (GNU time
# %M) of one cold pull of each. See bench/README.md.
#
# Goal: podman/coracle >= 1.5 (medians), coracle's peak RSS < 64 MiB.
#
# Environment: RUNS (5), WARMUP (1), CORACLE (prebuilt binary: skips the
# cargo build), BENCH_USER (coracle-bench, only when run as root), BENCH_DIR
# (work dir), MIN_MB (200), SUITE (bookworm), MIRROR (deb.debian.org),
# INCLUDE (extra packages for debootstrap), PODMAN_RUNTIME (runc).
#
# Exit status: 0 when every step worked, 1 when a step of the set-up failed,
# 2 when coracle could not pull the image (podman's figures are still
# printed). Timings are reported, never asserted.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
MIN_MB=${MIN_MB:-200}
SUITE=${SUITE:-bookworm}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
# Real package payloads on top of minbase (about 125 MB): together about
# 250 MB. Should the root still be below MIN_MB, a layer of copies of the
# host's libraries tops it up.
INCLUDE=${INCLUDE:-perl,python3,locales,vim-runtime}
BENCH_USER=${BENCH_USER:-coracle-bench}
PODMAN_RUNTIME=${PODMAN_RUNTIME:-runc}
REPO_NAME=bench/debian
TAG=$SUITE
PKGS=(hyperfine podman runc uidmap docker-registry skopeo debootstrap time python3 gzip)

SCRIPT=bench/pull.sh
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, not '$RUNS'"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a whole number, not '$WARMUP'"
[[ $MIN_MB =~ ^[0-9]+$ ]] || die "MIN_MB must be a whole number, not '$MIN_MB'"

# ---------------------------------------------------------------- the user
bench_user coracle-bench-pull
USER_ENV=(XDG_DATA_HOME="$WORK/data" XDG_CONFIG_HOME="$WORK/config")
for c in hyperfine python3 docker-registry skopeo gzip sha256sum; do need "$c"; done
# Config and data dirs of our own, so that neither coracle nor podman reads
# the user's registries.toml / registries.conf / storage.conf.
as_user mkdir -p "$WORK/data" "$WORK/config"

# ---------------------------------------------------------------- coracle
bench_coracle
cd "$WORK"

# ---------------------------------------------------------------- the image
# An OCI layout in $WORK/image/oci, built once and kept: a debootstrap'd
# Debian root split into layers (usr/lib; usr/share; the rest of usr;
# etc+var; the rest; and, only if the root is below MIN_MB, /opt with copies
# of the host's libraries).
IMG=$WORK/image
OCI=$IMG/oci
STAMP="suite=$SUITE include=$INCLUDE min_mb=$MIN_MB layout=3"

build_image() {
    local root=$IMG/rootfs tmp=$IMG/tmp n layers=() l
    need debootstrap "Debian package debootstrap"
    rm -rf "$IMG"
    mkdir -p "$IMG" "$tmp"
    step "debootstrap --variant=minbase --include=$INCLUDE $SUITE (once; cached in $IMG)"
    # The .deb files are kept in $WORK/debs for the next build.
    mkdir -p "$WORK/debs"
    debootstrap --variant=minbase --include="$INCLUDE" --cache-dir="$WORK/debs" "$SUITE" "$root" "$MIRROR" >"$IMG/debootstrap.log" 2>&1 ||
        die "debootstrap failed, see $IMG/debootstrap.log: $(tail -n 3 "$IMG/debootstrap.log" | tr '\n' ' ')"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*_Packages
    # Real images carry no device nodes.
    find "$root/dev" -mindepth 1 -delete
    mb=$(($(du -sxb "$root" | cut -f1) / 1000000))
    say "root: $mb MB"
    n=0
    while ((mb < MIN_MB)); do
        # Top up with real files: copies of the host's shared libraries.
        n=$((n + 1))
        mkdir -p "$root/opt/bulk"
        cp -a /usr/lib/x86_64-linux-gnu "$root/opt/bulk/$n"
        mb=$(($(du -sxb "$root" | cut -f1) / 1000000))
        say "root with $n copies of /usr/lib/x86_64-linux-gnu in /opt/bulk: $mb MB"
    done
    # Layers, each a list of members; a member "+DIR" is DIR's own entry
    # only (so that a layer of usr/lib carries usr too, as built images do).
    local rest=() sub=()
    for l in "$root"/usr/*; do
        l=${l##*/}
        case $l in lib | share) ;; *) sub+=("usr/$l") ;; esac
    done
    for l in "$root"/* "$root"/.[!.]*; do
        [[ -e $l || -L $l ]] || continue
        l=${l##*/}
        case $l in usr | etc | var) ;; opt) ((n > 0)) || rest+=("$l") ;; *) rest+=("$l") ;; esac
    done
    layers=("+usr usr/lib" "+usr usr/share" "+usr ${sub[*]}" "etc var" "${rest[*]}")
    if ((n > 0)); then
        layers+=("opt")
    fi
    local i=0 spec m args
    : >"$tmp/layers.txt"
    for spec in "${layers[@]}"; do
        i=$((i + 1))
        read -ra members <<<"$spec"
        args=()
        for m in "${members[@]}"; do
            if [[ $m == +* ]]; then
                args+=(--no-recursion "${m#+}" --recursion)
            else
                args+=("$m")
            fi
        done
        step "layer $i: ${members[*]}"
        tar -C "$root" --numeric-owner --sort=name --xattrs --xattrs-include='security.capability' \
            -cf "$tmp/layer.tar" "${args[@]}"
        diff=$(sha256sum <"$tmp/layer.tar" | cut -d' ' -f1)
        usize=$(stat -c %s "$tmp/layer.tar")
        gzip -n -6 <"$tmp/layer.tar" >"$tmp/layer.tar.gz"
        rm -f "$tmp/layer.tar"
        printf '%s\t%s\t%s\n' "$diff" "$usize" "${members[*]}" >>"$tmp/layers.txt"
        mkdir -p "$OCI/blobs/sha256"
        dig=$(sha256sum <"$tmp/layer.tar.gz" | cut -d' ' -f1)
        mv "$tmp/layer.tar.gz" "$OCI/blobs/sha256/$dig"
        printf '%s\n' "$dig" >>"$tmp/digests.txt"
    done
    python3 - "$OCI" "$TAG" "$tmp/layers.txt" "$tmp/digests.txt" <<'EOF'
import hashlib, json, os, sys
oci, tag, layers_txt, digests_txt = sys.argv[1:5]
rows = [l.rstrip("\n").split("\t") for l in open(layers_txt)]
digests = [l.strip() for l in open(digests_txt)]
blobs = os.path.join(oci, "blobs", "sha256")

def put(obj):
    data = json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + d, "size": len(data)}

config = {
    "architecture": "amd64",
    "os": "linux",
    "config": {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Cmd": ["/bin/bash"],
    },
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + r[0] for r in rows]},
    "history": [{"created_by": "bench/pull.sh: " + r[2]} for r in rows],
}
cdesc = put(config)
cdesc["mediaType"] = "application/vnd.oci.image.config.v1+json"
layers = [{
    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
    "digest": "sha256:" + d,
    "size": os.path.getsize(os.path.join(blobs, d)),
} for d in digests]
mdesc = put({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
             "config": cdesc, "layers": layers})
mdesc["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
mdesc["annotations"] = {"org.opencontainers.image.ref.name": tag}
mdesc["platform"] = {"architecture": "amd64", "os": "linux"}
with open(os.path.join(oci, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [mdesc]}, f)
with open(os.path.join(oci, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
EOF
    cp "$tmp/layers.txt" "$IMG/layers.txt"
    rm -rf "$tmp" "$root"
    printf '%s\n' "$STAMP" >"$IMG/stamp"
}

if [[ -f $IMG/stamp && $(cat "$IMG/stamp") == "$STAMP" && -f $OCI/index.json ]]; then
    step "image: cached in $OCI"
else
    ((EUID == 0)) || die "building the image needs root (debootstrap): run this once as root, it is cached in $IMG"
    build_image
    if ((EUID == 0)); then
        chown -R "$BUID:$BGID" "$IMG"
    fi
fi

# ---------------------------------------------------------------- the registry
REG=""
REG_PID_FILE=""
cleanup() {
    if [[ -n $REG_PID_FILE && -s $REG_PID_FILE ]]; then
        kill "$(cat "$REG_PID_FILE")" 2>/dev/null || true
    fi
    if [[ -n $REG ]]; then
        rm -rf "$REG"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

REG=$(as_user mktemp -d "$WORK/registry.XXXXXX")
REG_PID_FILE=$REG/pid
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_user mkdir -p "$REG/storage"
as_user tee "$REG/config.yml" >/dev/null <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REG/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$PORT
EOF
step "registry: docker-registry on 127.0.0.1:$PORT (storage $REG/storage)"
# shellcheck disable=SC2016 # $$ and $1 belong to the inner shell
as_user sh -c 'echo $$ >"$1"; exec docker-registry serve "$2" >"$3" 2>&1' _ \
    "$REG_PID_FILE" "$REG/config.yml" "$REG/registry.log" </dev/null 2>"$REG/runuser.log" &
up=0
for _ in $(seq 100); do
    if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
        "http://127.0.0.1:$PORT/v2/" 2>/dev/null; then
        up=1
        break
    fi
    sleep 0.1
done
((up)) || die "the registry did not come up: $(cat "$REG/runuser.log" "$REG/registry.log" 2>/dev/null | tail -n 3 | tr '\n' ' ')"

REF=127.0.0.1:$PORT/$REPO_NAME:$TAG
step "skopeo copy oci:$OCI:$TAG docker://$REF"
as_user skopeo copy --quiet --dest-tls-verify=false "oci:$OCI:$TAG" "docker://$REF" ||
    die "skopeo copy to the registry failed"

# ---------------------------------------------------------------- the pullers
STORE=$WORK/data/coracle/storage
C_PULL="$CORACLE_BIN pull $REF"
# Each run starts from an empty store, but the old one is moved aside, not
# deleted: on ext4, files created within a minute of many deletions cost
# several times more (the inode allocator skips every recently deleted
# inode), which would time the file system's clean-up instead of the
# pullers. The trash is emptied before and after the timed runs.
TRASH=$WORK/trash
as_user tee "$WORK/prep-coracle.sh" >/dev/null <<EOF
set -e
mkdir -p "$TRASH"
if [ -e "$STORE" ]; then mv "$STORE" "\$(mktemp -d -p "$TRASH")/"; fi
EOF
C_PREP="sh $WORK/prep-coracle.sh"

runroot=$XDG_RUNTIME_DIR/cb-podman-pull
if ((${#runroot} > 50)); then
    runroot=/tmp/cb-podman-pull-$(as_user id -u)
fi
P="podman --root $WORK/podman --runroot $runroot --storage-driver overlay --cgroup-manager cgroupfs --events-backend file --runtime $PODMAN_RUNTIME"
P_PULL="$P pull --tls-verify=false $REF"
# Podman's root goes to the trash too; its run root is on tmpfs (or small).
as_user tee "$WORK/prep-podman.sh" >/dev/null <<EOF
set -e
mkdir -p "$TRASH"
if [ -e "$WORK/podman" ]; then mv "$WORK/podman" "\$(mktemp -d -p "$TRASH")/"; fi
rm -rf "$runroot"
EOF
P_PREP="sh $WORK/prep-podman.sh"

# Empties the trash from inside podman's user namespace, where the files
# of subordinate ids can be removed too (plain rm without podman).
empty_trash() {
    local pargv
    [[ -e $TRASH ]] || return 0
    if command -v podman >/dev/null; then
        read -ra pargv <<<"$P"
        as_user "${pargv[@]}" unshare rm -rf "$TRASH" </dev/null >/dev/null 2>&1 || true
    fi
    as_user rm -rf "$TRASH" 2>/dev/null || true
    [[ ! -e $TRASH ]] || die "could not empty $TRASH: remove it (as root) and run again"
}
if [[ -e $TRASH ]]; then
    step "emptying the trash of an earlier run, then waiting 61 s (ext4's recently-deleted window)"
    empty_trash
    sync
    sleep 61
fi

CORACLE_OK=0
PODMAN_OK=0

# once NAME PREP CMD: a cold run, to check it works; keeps it when it does.
once() {
    local name=$1 prep=$2 cmd=$3 pargv argv out rc=0
    read -ra pargv <<<"$prep"
    read -ra argv <<<"$cmd"
    as_user "${pargv[@]}" </dev/null >/dev/null 2>&1 || true
    out=$(as_user "${argv[@]}" 2>&1 </dev/null) || rc=$?
    if ((rc == 0)); then
        NAMES+=("$name")
        CMDS+=("$cmd")
        PREPS+=("$prep")
        return 0
    fi
    say "FAIL $name: '$cmd' exited with status $rc:"
    printf '%s\n' "$out" | tail -n 20 | sed 's/^/    /'
    return 1
}

if ((EUID == 0)); then
    # our own user: pick up its subuid range if it changed
    read -ra pargv <<<"$P"
    as_user "${pargv[@]}" system migrate >/dev/null 2>&1 || true
fi
step "checking that each pull works (one cold pull each)"
if once coracle "$C_PREP" "$C_PULL"; then
    CORACLE_OK=1
fi
if command -v podman >/dev/null; then
    if once podman "$P_PREP" "$P_PULL"; then
        PODMAN_OK=1
    fi
else
    say "SKIP podman: not installed (Debian package podman)"
fi
((${#NAMES[@]} > 0)) || die "neither coracle nor podman could pull $REF"

# ---------------------------------------------------------------- versions
step "environment"
say "host:      $(uname -srm), $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)"
say "user:      $(as_user id)"
say "image:     $REF, $(python3 - "$OCI" "$IMG/layers.txt" <<'EOF'
import json, os, sys
oci, layers_txt = sys.argv[1:3]
idx = json.load(open(os.path.join(oci, "index.json")))
d = idx["manifests"][0]["digest"].split(":")[1]
m = json.load(open(os.path.join(oci, "blobs", "sha256", d)))
comp = [l["size"] for l in m["layers"]]
rows = [l.rstrip("\n").split("\t") for l in open(layers_txt)]
unc = [int(r[1]) for r in rows]
print(f"{len(comp)} layers, {sum(unc) / 1e6:.0f} MB uncompressed, {sum(comp) / 1e6:.0f} MB gzip")
for (r, c) in zip(rows, comp):
    print(f"             {r[2][:40]:40} {int(r[1]) / 1e6:7.1f} MB tar {c / 1e6:7.1f} MB gz")
EOF
)"
say "registry:  $(docker-registry --version 2>&1 | head -n 1)"
say "coracle:   $("$CORACLE_BIN" --version 2>&1 | head -n 1) ($CORACLE_BUILT)"
if ((PODMAN_OK)); then
    say "podman:    $(podman --version 2>&1 | head -n 1) (overlay, runtime $PODMAN_RUNTIME, cgroupfs, file events)"
fi
say "hyperfine: $(hyperfine --version)"
say "commands (prepare: command):"
for i in "${!NAMES[@]}"; do
    printf '  %-8s %s\n  %-8s %s\n' "${NAMES[$i]}" "${PREPS[$i]}:" "" "${CMDS[$i]}"
done

# ---------------------------------------------------------------- timing
bench_hyperfine "store emptied before each"

# ---------------------------------------------------------------- memory
MEM_FILE=$WORK/maxrss.txt
MEMS=()
if [[ -x /usr/bin/time ]]; then
    step "peak memory: GNU time %M of one cold pull"
else
    say "(no /usr/bin/time, Debian package time: no peak memory figures)"
fi
for i in "${!NAMES[@]}"; do
    if [[ ! -x /usr/bin/time ]]; then
        MEMS+=("${NAMES[$i]}=n/a")
        continue
    fi
    read -ra pargv <<<"${PREPS[$i]}"
    read -ra argv <<<"${CMDS[$i]}"
    as_user "${pargv[@]}" </dev/null >/dev/null 2>&1 || true
    as_user /usr/bin/time -f %M -o "$MEM_FILE" "${argv[@]}" </dev/null >/dev/null 2>&1 ||
        die "${NAMES[$i]} failed under /usr/bin/time"
    MEMS+=("${NAMES[$i]}=$(tail -n 1 "$MEM_FILE")")
done

# Leave no store behind.
for prep in "$C_PREP" "$P_PREP"; do
    read -ra pargv <<<"$prep"
    as_user "${pargv[@]}" </dev/null >/dev/null 2>&1 || true
done
step "emptying the trash"
empty_trash

# ---------------------------------------------------------------- report
step "results"
python3 - "$RESULTS" "${MEMS[@]}" <<'EOF'
import json, sys

with open(sys.argv[1]) as f:
    results = json.load(f)["results"]
mem = dict(a.split("=", 1) for a in sys.argv[2:])
names = [m.split("=", 1)[0] for m in sys.argv[2:]]
by = dict(zip(names, results))
cor, pod = by.get("coracle"), by.get("podman")

def mib(kib):
    try:
        return f"{int(kib) / 1024:.1f}"
    except ValueError:
        return kib

print(f"{'':10}{'median':>9}{'mean ± σ':>17}{'min':>8}{'max':>8}{'podman/':>9}{'peak RSS':>10}")
print(f"{'':10}{'s':>9}{'s':>17}{'s':>8}{'s':>8}{'coracle':>9}{'MiB':>10}")
for name in names:
    r = by[name]
    ratio = f"{pod['median'] / cor['median']:.2f}" if (pod and cor and name == "podman") else ""
    sd = f"{r['mean']:.3f} ± {r['stddev'] or 0:.3f}"
    print(f"{name:10}{r['median']:>9.3f}{sd:>17}{r['min']:>8.3f}{r['max']:>8.3f}{ratio:>9}{mib(mem[name]):>10}")
print()
if cor and pod:
    q = pod["median"] / cor["median"]
    verdict = "meets the goal" if q >= 1.5 else "does not meet the goal yet"
    print(f"goal: podman/coracle >= 1.5 (medians): {q:.2f}x, {verdict}.")
elif not cor:
    print("goal: podman/coracle >= 1.5: no coracle figure (coracle could not pull).")
else:
    print("goal: podman/coracle >= 1.5: no podman figure to compare with.")
if cor and mem.get("coracle", "n/a") != "n/a":
    k = int(mem["coracle"])
    verdict = "meets the goal" if k < 64 * 1024 else "does not meet the goal yet"
    print(f"goal: coracle peak RSS < 64 MiB: {k / 1024:.1f} MiB ({k} KiB), {verdict}.")
print("peak RSS is GNU time's %M: ru_maxrss from wait4(), the peak resident set of the")
print("single largest process among the command and the descendants it reaped.")
EOF
say "raw hyperfine data: $RESULTS"

if ((!CORACLE_OK)); then
    printf 'bench/pull.sh: coracle could not pull %s; the figures above are podman only\n' "$REF" >&2
    exit 2
fi
