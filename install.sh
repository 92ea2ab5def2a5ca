#!/usr/bin/env bash
# Installs coracle: runtime dependencies (newuidmap/newgidmap, fuse3), the
# binary, man pages, shell completions and policies, then runs `coracle check`.
#
#   ./install.sh [--prefix DIR] [--no-deps] [--binary PATH]
#
# Works as an ordinary user (dependencies through sudo) and as root.
set -euo pipefail

prog=${0##*/}
src=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

usage() {
    cat <<EOF
Usage: $prog [--prefix DIR] [--no-deps] [--binary PATH] [--help]

Builds and installs coracle.

Options:
  --prefix DIR    install under DIR (default: ~/.local): DIR/bin/coracle{,-shim}
                  (and the link DIR/bin/coracle-runtime),
                  DIR/share/man/man1, DIR/share/{bash-completion,zsh,fish},
                  DIR/share/coracle/policies
  --no-deps       do not install the runtime dependencies (uidmap, fuse3)
  --binary PATH   install this prebuilt coracle binary (and the
                  coracle-shim next to it) instead of building
                  (no cargo needed)
  -h, --help      show this help

Runtime dependencies are installed with the distribution's package manager
(apt-get, dnf, pacman, zypper, apk), through sudo unless run as root.
EOF
}

say() { printf '==> %s\n' "$*"; }
warn() { printf '%s: warning: %s\n' "$prog" "$*" >&2; }
die() {
    printf '%s: error: %s\n' "$prog" "$*" >&2
    exit 1
}

prefix=${HOME:?HOME is not set; use --prefix}/.local
no_deps=0
binary=
while (($#)); do
    case $1 in
    --prefix)
        (($# >= 2)) || die "--prefix needs a directory"
        prefix=$2
        shift
        ;;
    --prefix=*) prefix=${1#*=} ;;
    --binary)
        (($# >= 2)) || die "--binary needs a path"
        binary=$2
        shift
        ;;
    --binary=*) binary=${1#*=} ;;
    --no-deps) no_deps=1 ;;
    -h | --help)
        usage
        exit 0
        ;;
    *) die "unknown argument '$1' (see --help)" ;;
    esac
    shift
done
[[ -n $prefix ]] || die "--prefix must not be empty"
[[ $prefix == /* ]] || prefix=$PWD/$prefix
if [[ -n $binary ]]; then
    [[ $binary == /* ]] || binary=$PWD/$binary
    [[ -f $binary && -x $binary ]] || die "--binary $binary: not an executable file"
fi

# --- privileges ---------------------------------------------------------------

# Runs a command as root: directly when root, else through sudo.
as_root() {
    if ((EUID == 0)); then
        "$@"
    else
        sudo "$@"
    fi
}

can_be_root() {
    ((EUID == 0)) || command -v sudo >/dev/null 2>&1
}

# --- (a) runtime dependencies -----------------------------------------------

# Prints the value of KEY from an os-release file, unquoted (the file is not
# sourced: it is data, not a script).
os_release_value() {
    local key=$1 file line value
    for file in /etc/os-release /usr/lib/os-release; do
        [[ -r $file ]] || continue
        while IFS= read -r line; do
            [[ $line == "$key="* ]] || continue
            value=${line#*=}
            value=${value#[\"\']}
            value=${value%[\"\']}
            printf '%s\n' "$value"
            return 0
        done <"$file"
        return 0
    done
}

# The distribution family: debian, fedora, arch, suse, alpine or unknown.
distro_family() {
    local id
    for id in $(os_release_value ID) $(os_release_value ID_LIKE); do
        case $id in
        debian | ubuntu | raspbian) echo debian && return ;;
        fedora | rhel | centos | rocky | almalinux | amzn) echo fedora && return ;;
        arch | archlinux | manjaro | endeavouros) echo arch && return ;;
        suse | opensuse | sles | opensuse-leap | opensuse-tumbleweed) echo suse && return ;;
        alpine) echo alpine && return ;;
        esac
    done
    echo unknown
}

dpkg_installed() {
    dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'
}

install_deps() {
    local family pkgs=() missing=() p
    family=$(distro_family)
    case $family in
    debian) pkgs=(uidmap fuse3) ;;
    fedora) pkgs=(shadow-utils fuse3) ;;
    arch) pkgs=(shadow fuse3) ;;
    suse) pkgs=(shadow fuse3) ;;
    alpine) pkgs=(shadow-uidmap fuse3) ;;
    *)
        warn "unknown distribution ($(os_release_value ID)): install newuidmap/newgidmap" \
            "(package uidmap on Debian/Ubuntu, shadow-utils on Fedora, shadow on Arch)" \
            "and fusermount3 (package fuse3) with your package manager"
        return 0
        ;;
    esac
    for p in "${pkgs[@]}"; do
        case $family in
        debian) dpkg_installed "$p" ;;
        fedora | suse) rpm -q "$p" >/dev/null 2>&1 ;;
        arch) pacman -Q "$p" >/dev/null 2>&1 ;;
        alpine) apk info -e "$p" >/dev/null 2>&1 ;;
        esac || missing+=("$p")
    done
    if ((${#missing[@]} == 0)); then
        say "runtime dependencies present: ${pkgs[*]}"
        return 0
    fi
    local cmd=() hint
    case $family in
    debian) cmd=(env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}") ;;
    fedora) cmd=(dnf install -y "${missing[@]}") ;;
    arch) cmd=(pacman -S --needed --noconfirm "${missing[@]}") ;;
    suse) cmd=(zypper --non-interactive install "${missing[@]}") ;;
    alpine) cmd=(apk add "${missing[@]}") ;;
    esac
    # What to show the user: the command without the non-interactive noise.
    hint="${cmd[*]}"
    hint=${hint#env DEBIAN_FRONTEND=noninteractive }
    hint=${hint/ -y / }
    if ! can_be_root; then
        warn "missing ${missing[*]}, and neither root nor sudo is available: as root, run: $hint"
        return 0
    fi
    say "installing ${missing[*]}"
    if as_root "${cmd[@]}"; then
        return 0
    fi
    # Stale package lists are the usual reason on Debian: refresh once.
    if [[ $family == debian ]] && as_root apt-get update && as_root "${cmd[@]}"; then
        return 0
    fi
    ((EUID == 0)) || hint="sudo $hint"
    warn "could not install ${missing[*]}; coracle still works without them in a reduced" \
        "mode (see the report below); to retry: $hint"
}

# --- (b) build ------------------------------------------------------------------

# "1.80" or "1.80.1" -> comparable integer.
version_number() {
    local IFS=. major minor patch
    read -r major minor patch <<<"$1"
    echo $((major * 1000000 + minor * 1000 + ${patch:-0}))
}

find_cargo() {
    if command -v cargo >/dev/null 2>&1; then
        command -v cargo
    elif [[ -x $HOME/.cargo/bin/cargo ]]; then
        echo "$HOME/.cargo/bin/cargo"
    else
        return 1
    fi
}

# Debian 12's own cargo (0.66) is too old for coracle; its cargo-web package,
# a current toolchain Debian keeps for building Firefox, provides
# /usr/bin/cargo. Installs it when allowed; fails when not possible.
debian_toolchain() {
    [[ $(distro_family) == debian ]] && ((!no_deps)) && can_be_root || return 1
    apt-cache show cargo-web >/dev/null 2>&1 || as_root apt-get update >/dev/null 2>&1 || true
    apt-cache show cargo-web >/dev/null 2>&1 || return 1
    say "installing Debian's current Rust toolchain (package cargo-web)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y cargo-web
}

# Whether the cargo at $1 is at least the crate's rust-version.
cargo_new_enough() {
    local need have
    need=$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' "$src/Cargo.toml" | head -n 1)
    have=$("$1" --version 2>/dev/null | awk '{print $2}')
    have=${have%%-*}
    [[ -z $need || -z $have ]] || (($(version_number "$have") >= $(version_number "$need")))
}

build() {
    local cargo target
    cargo=$(find_cargo) || cargo=
    if [[ -z $cargo ]] || ! cargo_new_enough "$cargo"; then
        if debian_toolchain && cargo_new_enough /usr/bin/cargo; then
            cargo=/usr/bin/cargo
        fi
    fi
    [[ -n $cargo ]] || die "cargo not found: coracle is built from source with Rust's cargo.
  Install Rust with rustup (https://rustup.rs):
      curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh
  or your distribution's cargo if it is new enough (Debian 12: sudo apt-get install cargo-web;
  Fedora: sudo dnf install cargo; Arch: sudo pacman -S rust),
  or install a prebuilt binary: $prog --binary PATH/TO/coracle"
    cargo_new_enough "$cargo" ||
        die "$cargo ($("$cargo" --version)) is older than the Rust coracle needs (rust-version in Cargo.toml):" \
            "on Debian 12 install cargo-web (sudo apt-get install cargo-web), elsewhere a current toolchain" \
            "with rustup (https://rustup.rs), or use --binary PATH"
    say "building coracle ($cargo build --release --locked)"
    (cd -- "$src" && "$cargo" build --release --locked) || die "build failed (see the cargo output above)"
    target=$(cd -- "$src" && "$cargo" metadata --format-version 1 --no-deps --offline 2>/dev/null |
        grep -o '"target_directory":"[^"]*"' | head -n 1 | cut -d'"' -f4) || true
    [[ -n $target ]] || target=$src/target
    binary=$target/release/coracle
    shim=$target/release/coracle-shim
    gendoc=$target/release/coracle-gendoc
    [[ -x $binary ]] || die "the build did not produce $binary"
    [[ -x $shim ]] || die "the build did not produce $shim"
}

# --- (c) install ------------------------------------------------------------------

install_files() {
    local f n=0 docs=$src
    mkdir -p -- "$prefix" 2>/dev/null || true
    [[ -d $prefix && -w $prefix ]] ||
        die "cannot write to $prefix: choose another --prefix, or run as root for a system prefix"

    install -D -m 0755 "$binary" "$prefix/bin/coracle"
    # The idle monitor of detached containers: coracle finds it next to
    # itself.
    install -D -m 0755 "$shim" "$prefix/bin/coracle-shim"
    say "installed $prefix/bin/coracle and $prefix/bin/coracle-shim"
    # The OCI runtime command line answers to this name (argv[0]), for
    # engines: podman --runtime "$prefix/bin/coracle-runtime" ...
    ln -sfn coracle "$prefix/bin/coracle-runtime"
    say "installed $prefix/bin/coracle-runtime (a link to coracle: the OCI runtime)"

    # Man pages and completions are committed; regenerate them when missing.
    shopt -s nullglob
    local man=("$src"/man/*.1)
    if ((${#man[@]} == 0)) && [[ -n ${gendoc:-} && -x $gendoc ]]; then
        tmpdocs=$(mktemp -d)
        trap 'rm -rf -- "$tmpdocs"' EXIT
        docs=$tmpdocs
        say "generating man pages and completions ($gendoc)"
        "$gendoc" "$docs" >/dev/null
        man=("$docs"/man/*.1)
    fi
    for f in "${man[@]}"; do
        install -D -m 0644 "$f" "$prefix/share/man/man1/${f##*/}"
        n=$((n + 1))
    done
    if ((n > 0)); then
        say "installed $n man pages in $prefix/share/man/man1"
    else
        warn "no man pages found in $src/man (regenerate with: cargo run --bin coracle-gendoc)"
    fi

    local comp=$docs/completions
    [[ -e $comp/coracle.bash ]] || comp=$src/completions
    local -A dest=(
        [coracle.bash]=share/bash-completion/completions/coracle
        [_coracle]=share/zsh/site-functions/_coracle
        [coracle.fish]=share/fish/vendor_completions.d/coracle.fish
    )
    n=0
    for f in coracle.bash _coracle coracle.fish; do
        [[ -f $comp/$f ]] || continue
        install -D -m 0644 "$comp/$f" "$prefix/${dest[$f]}"
        n=$((n + 1))
    done
    if ((n > 0)); then
        say "installed $n shell completions under $prefix/share"
    else
        warn "no shell completions found in $src/completions"
    fi

    local policies=("$src"/policies/*)
    n=0
    for f in "${policies[@]}"; do
        [[ -f $f ]] || continue
        install -D -m 0644 "$f" "$prefix/share/coracle/policies/${f##*/}"
        n=$((n + 1))
    done
    ((n == 0)) || say "installed $n policies in $prefix/share/coracle/policies"
    shopt -u nullglob
}

# --- (d) check ------------------------------------------------------------------

report() {
    local rc=0
    say "checking this host ($prefix/bin/coracle check)"
    echo
    "$prefix/bin/coracle" check || rc=$?
    echo
    if ((rc != 0)); then
        warn "coracle check reported failures (above): coracle is installed, but containers" \
            "will not run until they are fixed; the install itself succeeded"
    fi
    if ((EUID == 0)); then
        say "note: the report above is root's; run 'coracle check' as each user who runs containers"
    fi
    case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *)
        say "$prefix/bin is not on your PATH; add it, e.g. in ~/.profile or ~/.bashrc:"
        # shellcheck disable=SC2016 # $PATH is printed literally on purpose
        printf '        export PATH="%s/bin:$PATH"\n' "$prefix"
        ;;
    esac
    say "done"
}

gendoc=
tmpdocs=
if ((no_deps)); then
    say "skipping runtime dependencies (--no-deps)"
else
    install_deps
fi
if [[ -n $binary ]]; then
    say "using prebuilt $binary"
    # A coracle-gendoc next to it can regenerate missing man pages.
    gendoc=$(dirname -- "$binary")/coracle-gendoc
    # Detached containers need the shim, which is built with it.
    shim=$(dirname -- "$binary")/coracle-shim
    [[ -f $shim && -x $shim ]] ||
        die "--binary $binary: no executable coracle-shim next to it (cargo builds both: target/release/coracle-shim)"
else
    build
fi
install_files
report
