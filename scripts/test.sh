#!/usr/bin/env bash
# The test command: formatting, lints, unit and integration tests.
#
# As root (as CI runs it) it first installs the Debian packages the
# integration tests need, if they are missing. The integration tests run
# coracle as unprivileged users that they create themselves; without root,
# they run it as the current user and skip what that user cannot do (under
# CI=true a missing prerequisite is a failure instead of a skip).
set -euo pipefail

cd "$(dirname "$0")/.."

# Debian packages the integration tests use (keep this the only list).
TEST_PACKAGES=(uidmap fuse3 busybox-static tmux util-linux iproute2 procps docker-registry apache2-utils openssl podman conmon runc slirp4netns gcc libc6-dev debootstrap)

missing=()
for pkg in "${TEST_PACKAGES[@]}"; do
    if ! dpkg -s "$pkg" >/dev/null 2>&1; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        echo "test.sh: installing test prerequisites: ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
            apt-get update
            apt-get install -y --no-install-recommends "${missing[@]}"
        fi
    else
        echo "test.sh: not root, not installing missing test prerequisites: ${missing[*]}" >&2
        echo "test.sh: (as root: apt-get install ${missing[*]}); the tests that need them will be skipped" >&2
    fi
fi

# cargo from rustup when it is not on PATH (CI's environment may lack it);
# on Debian 12 without rustup, cargo-web is a current toolchain.
if ! command -v cargo >/dev/null 2>&1; then
    if [[ -x ${CARGO_HOME:-$HOME/.cargo}/bin/cargo ]]; then
        export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
    elif [[ $(id -u) -eq 0 ]]; then
        echo "test.sh: no cargo found: installing Debian's cargo-web" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y cargo-web
    fi
fi
command -v cargo >/dev/null 2>&1 || { echo "test.sh: cargo not found: install Rust (Debian 12: apt-get install cargo-web)" >&2; exit 1; }

locked=()
if [[ -f Cargo.lock ]]; then
    locked=(--locked)
fi

status=0
run() {
    echo "+ $*" >&2
    if ! "$@"; then
        echo "test.sh: FAILED: $*" >&2
        status=1
    fi
}

run cargo fmt --all --check
run cargo clippy "${locked[@]}" --all-targets -- -D warnings
run cargo test "${locked[@]}" --all-targets --no-fail-fast

if ((status)); then
    echo "test.sh: some checks failed" >&2
else
    echo "test.sh: all checks passed" >&2
fi
exit "$status"
