# bench/lib.sh — the set-up the benchmarks share; sourced, not run.
#
# The caller sets SCRIPT (its name, for messages), PKGS (Debian packages it
# needs), BENCH_USER (coracle-bench) and REPO, then calls, in order:
#   bench_user WORKNAME   the unprivileged user: as root, installs PKGS,
#                         creates BENCH_USER with a subordinate range and its
#                         XDG_RUNTIME_DIR; sets WORK (BENCH_DIR, default
#                         ~/.cache/WORKNAME of that user) and defines as_user,
#                         which runs a command as that user with a clean
#                         environment plus the assignments in USER_ENV (an
#                         array the caller may fill afterwards).
#   bench_hyperfine [NOTE]  times NAMES[i] = CMDS[i] (after PREPS[i], when
#                         PREPS is filled) in one `hyperfine -N` run of
#                         WARMUP + RUNS each; its JSON goes to RESULTS.
#   bench_coracle         CORACLE, or a release build of REPO, copied to
#                         $WORK/coracle for the user; sets CORACLE_BIN (the
#                         copy) and CORACLE_BUILT (where it came from).

say() { printf '%s\n' "$*"; }
step() { printf '==> %s\n' "$*"; }
die() { printf '%s: error: %s\n' "$SCRIPT" "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found${2:+ ($2)}"; }

USER_ENV=()
NAMES=()
CMDS=()
PREPS=()

install_prereqs() {
    local missing=() p
    for p in "${PKGS[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    step "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # PKGS lists runc before podman so that podman's "crun | runc" is met by
    # runc: crun 1.8 (Debian 12) refuses hybrid cgroup v1/v2 hosts.
    if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
        apt-get update
        apt-get install -y --no-install-recommends "${missing[@]}"
    fi
}

bench_user() {
    local name=$1 f start
    if ((EUID == 0)); then
        install_prereqs
        if ! id -u "$BENCH_USER" >/dev/null 2>&1; then
            step "creating user $BENCH_USER"
            useradd --create-home --shell /bin/sh "$BENCH_USER"
        fi
        BUID=$(id -u "$BENCH_USER")
        BGID=$(id -g "$BENCH_USER")
        BHOME=$(getent passwd "$BENCH_USER" | cut -d: -f6)
        if [[ ! -d $BHOME ]]; then
            mkdir -p "$BHOME"
            chown "$BUID:$BGID" "$BHOME"
        fi
        # useradd gives a subordinate range on Debian 12 (SUB_UID_COUNT); add
        # one past every existing range if this user has none.
        for f in /etc/subuid /etc/subgid; do
            touch "$f"
            if ! grep -qE "^($BENCH_USER|$BUID):" "$f"; then
                start=$(awk -F: 'BEGIN { m = 300000 } { e = $2 + $3; if (e > m) m = e } END { print m }' /etc/subuid /etc/subgid)
                step "adding $BENCH_USER:$start:65536 to $f"
                printf '%s:%s:65536\n' "$BENCH_USER" "$start" >>"$f"
            fi
        done
        XDG_RUNTIME_DIR=/run/user/$BUID
        mkdir -p "$XDG_RUNTIME_DIR"
        chown "$BUID:$BGID" "$XDG_RUNTIME_DIR"
        chmod 0700 "$XDG_RUNTIME_DIR"
        WORK=${BENCH_DIR:-$BHOME/.cache/$name}
        as_user() {
            runuser -u "$BENCH_USER" -- env -i HOME="$BHOME" USER="$BENCH_USER" LOGNAME="$BENCH_USER" \
                PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin LANG=C.UTF-8 \
                XDG_RUNTIME_DIR="$XDG_RUNTIME_DIR" "${USER_ENV[@]}" "$@"
        }
        as_user mkdir -p "$WORK"
    else
        BENCH_USER=$(id -un)
        if [[ -z ${XDG_RUNTIME_DIR:-} || ! -d ${XDG_RUNTIME_DIR:-} || ! -w ${XDG_RUNTIME_DIR:-} ]]; then
            XDG_RUNTIME_DIR=${TMPDIR:-/tmp}/coracle-bench-run-$EUID
            mkdir -p "$XDG_RUNTIME_DIR"
            chmod 0700 "$XDG_RUNTIME_DIR"
            [[ -O $XDG_RUNTIME_DIR ]] || die "$XDG_RUNTIME_DIR is not owned by $BENCH_USER"
        fi
        export XDG_RUNTIME_DIR
        WORK=${BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/$name}
        as_user() { env "${USER_ENV[@]}" "$@"; }
        mkdir -p "$WORK"
    fi
    WORK=$(cd "$WORK" && pwd)
    [[ $WORK =~ ^[A-Za-z0-9_./+-]+$ ]] || die "work dir '$WORK' must not contain spaces or shell characters"
}

bench_coracle() {
    local built target
    if [[ -n ${CORACLE:-} ]]; then
        [[ -x $CORACLE ]] || die "CORACLE=$CORACLE is not executable"
        built=$CORACLE
    else
        need cargo "set CORACLE=/path/to/coracle to skip the build"
        step "cargo build --release"
        (cd "$REPO" && cargo build --release)
        target=$(cd "$REPO" && cargo metadata --no-deps --format-version 1 |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
        built=$target/release/coracle
    fi
    # A copy the benchmark user can execute, whoever built it, with the
    # shim detached containers run as (it is found next to coracle).
    local shim
    shim=$(dirname "$built")/coracle-shim
    [[ -x $shim ]] || die "no coracle-shim next to $built (cargo build --release builds it)"
    install -m 0755 "$shim" "$WORK/coracle-shim.new"
    mv -f "$WORK/coracle-shim.new" "$WORK/coracle-shim"
    install -m 0755 "$built" "$WORK/coracle.new"
    mv -f "$WORK/coracle.new" "$WORK/coracle"
    if ((EUID == 0)); then
        chown "$BUID:$BGID" "$WORK/coracle" "$WORK/coracle-shim"
    fi
    CORACLE_BIN=$WORK/coracle
    CORACLE_BUILT=$built
}

bench_hyperfine() {
    local i args=()
    RESULTS=$WORK/results.json
    as_user rm -f "$RESULTS"
    if ((${#PREPS[@]} > 0)); then
        for i in "${!NAMES[@]}"; do
            args+=(--prepare "${PREPS[$i]}")
        done
    fi
    for i in "${!NAMES[@]}"; do
        args+=(-n "${NAMES[$i]}" "${CMDS[$i]}")
    done
    step "hyperfine: $WARMUP warm-up + $RUNS runs each${1:+, $1}"
    as_user hyperfine -N --style basic --warmup "$WARMUP" --runs "$RUNS" --export-json "$RESULTS" "${args[@]}" </dev/null
}
