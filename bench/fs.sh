#!/usr/bin/env bash
# bench/fs.sh — overlay file system benchmark (issue 4).
#
# In ONE user+mount namespace of one unprivileged user (`unshare -Urm`),
# over the same lower tree (a copy of /usr/share) and with an empty upper,
# times the same operations on three overlays mounted in turn:
#   kernel          mount -t overlay -o userxattr
#   coracle         coracle fuse-overlay (coracle's own FUSE overlay)
#   fuse-overlayfs  fuse-overlayfs (Debian package)
# Operations: find (cold: first walk of a fresh mount; warm: again), read
# every file (cat), untar a ~50 MB tree into the mount, rm -rf it, ls -lR.
# Prints each time, the ratio to the kernel overlay, and the daemons' peak
# RSS (VmHWM). "Cold" is a fresh mount: the lower tree's own page and dentry
# caches are warmed once before the three runs, so that every overlay starts
# from the same host caches (dropping them needs root outside the namespace
# and would favour whichever runs last).
#
# Environment: LOWER_SRC (/usr/share), UNTAR_SRC (/usr/lib/python3.11 or
# /usr/include), CORACLE (prebuilt binary: skips the cargo build),
# BENCH_USER (coracle-bench, only when run as root), BENCH_DIR (work dir),
# THREADS (coracle's request threads, 2).
#
# Exit status: 0 when every overlay ran, 1 when a step failed. Timings are
# reported, never asserted.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_USER=${BENCH_USER:-coracle-bench}
LOWER_SRC=${LOWER_SRC:-/usr/share}
THREADS=${THREADS:-2}
if [[ -z ${UNTAR_SRC:-} ]]; then
    UNTAR_SRC=/usr/include
    [[ -d /usr/lib/python3.11 ]] && UNTAR_SRC=/usr/lib/python3.11
fi
PKGS=(fuse3 fuse-overlayfs uidmap util-linux tar coreutils findutils)

SCRIPT=bench/fs.sh
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"

bench_user coracle-bench-fs
for c in unshare fuse-overlayfs tar find; do need "$c"; done
if ((EUID == 0)) && [[ -c /dev/fuse ]]; then
    chmod 0666 /dev/fuse # as stock distributions ship it
fi
[[ -r /dev/fuse && -w /dev/fuse ]] || ((EUID == 0)) || die "/dev/fuse is not usable by $BENCH_USER"
bench_coracle
cd "$WORK"

step "lower tree: copy of $LOWER_SRC"
if [[ ! -f $WORK/lower.done ]]; then
    as_user rm -rf "$WORK/lower"
    as_user mkdir -p "$WORK/lower"
    tar -C "$LOWER_SRC" -cf - . 2>/dev/null | as_user tar -C "$WORK/lower" --no-same-owner -xf - || true
    as_user touch "$WORK/lower.done"
fi
step "untar tree: $UNTAR_SRC"
if [[ ! -f $WORK/tree.tar ]]; then
    tar -C "$(dirname "$UNTAR_SRC")" -cf - "$(basename "$UNTAR_SRC")" 2>/dev/null | as_user sh -c "cat > '$WORK/tree.tar'"
fi
say "lower: $(du -sh "$WORK/lower" | cut -f1), $(find "$WORK/lower" | wc -l) entries; tarball $(du -sh "$WORK/tree.tar" | cut -f1)"

cat >"$WORK/inner.sh" <<'EOF'
set -eu
W=$1 CORACLE=$2 THREADS=$3
now() { date +%s.%N; }
t() { s=$(now); "$@" >/dev/null 2>&1 || { echo "FAILED on $fs: $*" >&2; exit 1; }; e=$(now); awk "BEGIN{print $e - $s}"; }
readall() { find "$1" -type f -print0 | xargs -0 cat >/dev/null; }
# A failed run must not leave a daemon holding our output open.
trap 'umount "$W/m" 2>/dev/null || true' EXIT
# Warm the lower tree's own caches once, for every overlay alike.
find "$W/lower" >/dev/null; readall "$W/lower"
for fs in kernel coracle fuse-overlayfs; do
    rm -rf "$W/u" "$W/w"; mkdir -p "$W/u" "$W/w" "$W/m"
    pid=
    case $fs in
    kernel) mount -t overlay overlay -o "userxattr,lowerdir=$W/lower,upperdir=$W/u,workdir=$W/w" "$W/m" ;;
    coracle) pid=$("$CORACLE" fuse-overlay --watch-pid $$ --threads "$THREADS" --lower "$W/lower" --upper "$W/u" --work "$W/w" "$W/m") ;;
    fuse-overlayfs)
        fuse-overlayfs -o "lowerdir=$W/lower,upperdir=$W/u,workdir=$W/w" "$W/m"
        pid=$(pgrep -n -x fuse-overlayfs || true) ;;
    esac
    a=$(t find "$W/m")
    b=$(t find "$W/m")
    c=$(t readall "$W/m")
    mkdir "$W/m/untar"
    d=$(t tar -C "$W/m/untar" -xf "$W/tree.tar")
    e=$(t rm -rf "$W/m/untar")
    f=$(t ls -lR "$W/m")
    rss=-
    if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
        rss=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
    fi
    for x in "$a" "$b" "$c" "$d" "$e" "$f"; do [ -n "$x" ] || exit 1; done
    echo "$fs $a $b $c $d $e $f $rss"
    umount "$W/m"
    [ -z "$pid" ] || while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
done
EOF
chmod 0644 "$WORK/inner.sh"

step "timing kernel overlay, coracle fuse-overlay ($THREADS threads), fuse-overlayfs in one namespace"
as_user unshare -Urm sh "$WORK/inner.sh" "$WORK" "$CORACLE_BIN" "$THREADS" >"$WORK/fs-results.txt" || die "a run failed (see above)"

awk '
{ name[NR] = $1; for (i = 2; i <= 7; i++) v[NR, i] = $i; rss[NR] = $8 }
END {
    split("find-cold find-warm read-all untar rm-rf ls-lR", ops, " ")
    printf "%-10s", "op"
    for (r = 1; r <= NR; r++) printf " %22s", name[r]
    printf "\n"
    for (o = 1; o <= 6; o++) {
        printf "%-10s", ops[o]
        for (r = 1; r <= NR; r++) {
            if (r == 1) printf " %21.3fs", v[r, o + 1]
            else printf " %12.3fs (%5.2fx)", v[r, o + 1], v[r, o + 1] / (v[1, o + 1] > 0 ? v[1, o + 1] : 1)
        }
        printf "\n"
    }
    printf "%-10s", "RSS"
    for (r = 1; r <= NR; r++) {
        if (rss[r] == "-") printf " %22s", "(in kernel)"
        else printf " %19.1fMiB", rss[r] / 1024
    }
    printf "\n"
}' "$WORK/fs-results.txt"
say "(ratios to the kernel overlay; goal for coracle: within 2x on every line, RSS under 32 MiB)"
