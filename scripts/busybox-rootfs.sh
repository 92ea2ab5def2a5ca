#!/usr/bin/env bash
# Builds a minimal root filesystem around Debian's statically linked busybox
# (package busybox-static): DIR/bin/busybox, one symlink per applet, the usual
# top-level directories and an /etc/passwd and /etc/group with root, daemon,
# nobody and an ordinary user `user` (1000:1000).
#
# Runs as an unprivileged user: nothing is chowned. Build the rootfs as the
# user who runs the containers, so that its files map to container root.
set -euo pipefail

prog=${0##*/}

usage() {
    cat <<EOF
Usage: $prog [--force] DIR

Builds a minimal busybox root filesystem in DIR (created if missing).

Options:
  --force     build into DIR even if it is not empty (existing files with
              the same names are replaced; nothing else is removed)
  -h, --help  show this help

Environment:
  BUSYBOX     the busybox binary to use (default: /bin/busybox from the
              Debian package busybox-static)
EOF
}

die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}

# Whether an ELF64 little-endian file asks for a program interpreter
# (PT_INTERP), i.e. is dynamically linked. Other formats: assume static.
is_dynamic_elf() {
    local f=$1 magic phoff phentsize phnum i type
    magic=$(od -An -tx1 -N6 "$f" | tr -d ' \n')
    [[ $magic == 7f454c460201 ]] || return 1
    phoff=$(od -An -tu8 -j32 -N8 "$f" | tr -d ' ')
    phentsize=$(od -An -tu2 -j54 -N2 "$f" | tr -d ' ')
    phnum=$(od -An -tu2 -j56 -N2 "$f" | tr -d ' ')
    for ((i = 0; i < phnum; i++)); do
        type=$(od -An -tu4 -j$((phoff + i * phentsize)) -N4 "$f" | tr -d ' ')
        [[ $type == 3 ]] && return 0
    done
    return 1
}

force=0
dir=
while (($#)); do
    case $1 in
    --force) force=1 ;;
    -h | --help)
        usage
        exit 0
        ;;
    --)
        shift
        break
        ;;
    -*) die "unknown option $1 (see --help)" ;;
    *)
        [[ -z $dir ]] || die "only one DIR, got '$dir' and '$1'"
        dir=$1
        ;;
    esac
    shift
done
if (($#)); then
    [[ -z $dir && $# -eq 1 ]] || die "only one DIR expected"
    dir=$1
fi
[[ -n $dir ]] || {
    usage >&2
    exit 2
}

busybox=${BUSYBOX:-/bin/busybox}
if [[ ! -x $busybox ]]; then
    die "$busybox not found: install it with: sudo apt-get install busybox-static"
fi
if is_dynamic_elf "$busybox"; then
    die "$busybox is dynamically linked and would not run in a bare rootfs: sudo apt-get install busybox-static"
fi
applets=$("$busybox" --list) || die "$busybox --list failed"
[[ -n $applets ]] || die "$busybox --list printed no applets"

if [[ -e $dir && ! -d $dir ]]; then
    die "$dir exists and is not a directory"
fi
if [[ -d $dir && -n $(ls -A -- "$dir") && $force -eq 0 ]]; then
    die "$dir is not empty (use --force to build into it anyway)"
fi

mkdir -p -- "$dir"
cd -- "$dir"

mkdir -p bin etc proc sys dev tmp root home/user var/tmp run usr/bin
chmod 0755 bin etc proc sys dev home run usr usr/bin var
chmod 1777 tmp var/tmp
chmod 0700 root
# Nothing can be chowned to 1000 without privileges: let `-u user` write its home.
chmod 0777 home/user

# Replace, never write through, whatever --force found at these names.
rm -f bin/busybox
cp -- "$busybox" bin/busybox
chmod 0755 bin/busybox

n=0
while IFS= read -r applet; do
    [[ -n $applet && $applet != busybox && $applet != */* ]] || continue
    ln -sfn busybox "bin/$applet"
    n=$((n + 1))
done <<<"$applets"
# Scripts start with #!/usr/bin/env.
ln -sfn ../../bin/busybox usr/bin/env

rm -f etc/passwd etc/group
cat >etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >etc/group <<'EOF'
root:x:0:
daemon:x:1:
audio:x:29:user
staff:x:50:user
users:x:100:
user:x:1000:
nogroup:x:65534:
EOF
chmod 0644 etc/passwd etc/group

version=$("$busybox" 2>/dev/null | head -n 1 || true)
version=${version% multi-call binary.}
printf '%s: %s: %s, %d applets\n' "$prog" "$(pwd)" "${version:-busybox}" "$n"
