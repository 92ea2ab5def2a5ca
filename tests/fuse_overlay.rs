//! coracle's FUSE overlay (`coracle fuse-overlay`, hidden) against the
//! kernel overlay, as the unprivileged test user in a user+mount namespace
//! of its own (`unshare`):
//!
//! - a differential suite: the same script of file operations on the kernel
//!   overlay (`-o userxattr`) and on the FUSE overlay over the same lower
//!   layers; the merged trees and the upper layers must be identical;
//! - owner emulation (`--emulate-owners`): owners, modes and device types
//!   recorded in `user.containers.override_stat` are shown, and chown/chmod
//!   persist there in the upper, with a full id map and in single-id mode;
//! - faults: a killed daemon makes accesses fail (ENOTCONN), never hang,
//!   and a daemon watching a process ends with it.
//!
//! `tests/fuse_overlay/fsops.c` (built with the host's `gcc -static`) dumps
//! trees (type, mode, owner, size, links, content hash, link target,
//! device, user xattrs) and does the mmap and xattr operations.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::*;

fn fsops_binary() -> Option<&'static Path> {
    static BIN: OnceLock<Option<PathBuf>> = OnceLock::new();
    BIN.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuse_overlay/fsops.c");
        let out = std::env::temp_dir().join(format!("coracle-fsops-{}", std::process::id()));
        let st = Command::new("gcc")
            .args(["-static", "-O1", "-o"])
            .arg(&out)
            .arg(&src)
            .status();
        match st {
            Ok(s) if s.success() => Some(out),
            _ => None,
        }
    })
    .as_deref()
}

/// The test environment, the tools copied where the user can run them, and
/// the prerequisites checked.
fn setup(mode: Mode) -> Option<(Env, PathBuf)> {
    let bin = fsops_binary();
    if !require(
        bin.is_some(),
        "gcc with a static C library (Debian packages gcc and libc6-dev) to build tests/fuse_overlay/fsops.c",
    ) {
        return None;
    }
    if !require(
        Command::new("unshare").arg("--version").output().is_ok(),
        "unshare (Debian package util-linux)",
    ) {
        return None;
    }
    let env = Env::new(mode)?;
    let dev_ok = fs::metadata("/dev/fuse").is_ok_and(|m| m.permissions().mode() & 0o006 == 0o006);
    if !require(
        dev_ok,
        "/dev/fuse usable by every user (mode 0666, Debian package fuse3)",
    ) {
        return None;
    }
    let tools = env.dir.join("tools");
    fs::create_dir_all(&tools).unwrap();
    fs::copy(bin.unwrap(), tools.join("fsops")).unwrap();
    fs::set_permissions(tools.join("fsops"), fs::Permissions::from_mode(0o755)).unwrap();
    Some((env, tools.join("fsops")))
}

fn write(p: &Path, s: &str) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, s).unwrap();
}

fn whiteout(p: &Path) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    nix::sys::stat::mknod(
        p,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::empty(),
        0,
    )
    .unwrap_or_else(|e| panic!("mknod whiteout {}: {e}", p.display()));
}

/// Two lower layers in the kernel overlay's on-disk form.
fn build_lowers(env: &Env, base: &Path) -> (PathBuf, PathBuf) {
    let (l1, l2) = (base.join("l1"), base.join("l2"));
    // Bottom layer.
    write(&l2.join("d/a"), "one\n");
    write(&l2.join("d/b"), "bbbbbb\n");
    write(&l2.join("d/gone"), "whited out above\n");
    write(&l2.join("d/deep/x"), "deep\n");
    write(&l2.join("f"), "lower f\n");
    write(&l2.join("l2only"), "bye\n");
    write(&l2.join("m/n1"), "1\n");
    write(&l2.join("m/sub/n2"), "2\n");
    write(&l2.join("e/h"), "hidden by the opaque e above\n");
    write(&l2.join("own"), "owned\n");
    write(&l2.join("lf"), "lf\n");
    write(&l2.join("mm"), "0123456789\n");
    write(&l2.join("lx"), "x\n");
    xattr::set(l2.join("lx"), "user.old", b"1").unwrap();
    write(&l2.join("f2"), "file that becomes a directory\n");
    write(&l2.join("dd/inner"), "directory that becomes a file\n");
    write(&l2.join("gone2"), "whited out above\n");
    write(&l2.join("keep/k"), "k\n");
    std::os::unix::fs::symlink("d/a", l2.join("lsym")).unwrap();
    // Top layer.
    write(&l1.join("d/c"), "three\n");
    whiteout(&l1.join("d/gone"));
    write(&l1.join("e/v"), "visible\n");
    xattr::set(l1.join("e"), "user.overlay.opaque", b"y").unwrap();
    write(&l1.join("m/n3"), "3\n");
    whiteout(&l1.join("gone2"));
    fs::set_permissions(l2.join("keep"), fs::Permissions::from_mode(0o750)).unwrap();
    env.chown_tree(base);
    if let (Some(u), Some(g)) = (env.host_uid_of(1000), env.host_gid_of(1000)) {
        if is_root() {
            std::os::unix::fs::chown(l2.join("own"), Some(u), Some(g)).unwrap();
            std::os::unix::fs::chown(l2.join("keep/k"), Some(u), Some(g)).unwrap();
        }
    }
    (l1, l2)
}

const SCRIPT: &str = r#"
set -e
cd "$M"
echo hello > new.txt
echo more >> d/a
truncate -s 2 d/b
mv new.txt f
mv d d2
mkdir x && echo in > x/y && mv x e/x2
rm l2only
rm -rf m && mkdir m && echo again > m/n
rm -rf dd && echo now a file > dd
rm f2 && mkdir f2 && echo inside > f2/z
ln d2/a hl
ln -s ../f e/sl
$T setx f user.test value
$T setx e user.dir yes
$T rmx lx user.old
chmod 600 d2/c
chmod 4755 e/v
$T mmapw mm 2 XY
a=$($T ino lf); chmod 640 lf; b=$($T ino lf)
[ "$a" = "$b" ] && echo ino-stable || echo ino-changed
echo hl-links=$(stat -c %h hl)
mkdir -p new/deeper/deepest && echo n > new/deeper/deepest/file
mv new/deeper new/renamed
rmdir keep 2>/dev/null && echo rmdir-nonempty-succeeded || echo rmdir-nonempty-refused
if [ -n "$FULL" ]; then chown 1000:1000 lf; chown 5:6 d2; chown -h 7:7 lsym; fi
mkfifo fifo
echo overwritten > keep/k
echo pinned > pin && exec 3< pin && rm pin && cat <&3 && exec 3<&-
cat $(find . -type f) > /dev/null
sync
$T dump "$M" | sort > "$OUT/merged"
cd /
"#;

/// Runs the script on one overlay and returns (script output, merged dump,
/// upper dump).
fn run_overlay(
    env: &Env,
    fsops: &Path,
    lowers: (&Path, &Path),
    kind: &str,
    full: bool,
) -> (String, String, String) {
    let base = env.dir.join(kind);
    for d in ["u", "w", "m", "out"] {
        env.mkdir_owned(&base.join(d), 0o755);
    }
    let mount = if kind == "kernel" {
        format!(
            "mount -t overlay overlay -o userxattr,lowerdir={}:{},upperdir={}/u,workdir={}/w {}/m",
            lowers.0.display(),
            lowers.1.display(),
            base.display(),
            base.display(),
            base.display()
        )
    } else {
        format!(
            "{} fuse-overlay --lower {} --lower {} --upper {b}/u --work {b}/w --watch-pid $$ {b}/m >/dev/null",
            env.bin.display(),
            lowers.0.display(),
            lowers.1.display(),
            b = base.display()
        )
    };
    fs::write(base.join("script.sh"), SCRIPT).unwrap();
    let script = format!(
        "set -e\n{mount}\nexport M={b}/m T={t} OUT={b}/out FULL={full}\nsh {b}/script.sh\numount {b}/m\n{t} dump {b}/u | sort > {b}/out/upper\n",
        b = base.display(),
        t = fsops.display(),
        full = if full { "1" } else { "" },
    );
    let out = env.host("unshare", unshare_args(env, full, &script)).run();
    let text = out.ok().to_string();
    let merged = fs::read_to_string(base.join("out/merged")).unwrap();
    let upper = fs::read_to_string(base.join("out/upper")).unwrap();
    (text, merged, upper)
}

fn unshare_args(env: &Env, full: bool, script: &str) -> Vec<String> {
    let mut a = vec!["--map-root-user".to_string()];
    if full {
        let (us, uc) = env.sub_uid.unwrap();
        let (gs, gc) = env.sub_gid.unwrap();
        a.push(format!("--map-users={us},1,{uc}"));
        a.push(format!("--map-groups={gs},1,{gc}"));
    }
    a.extend(["-m".into(), "sh".into(), "-c".into(), script.into()]);
    a
}

#[track_caller]
fn assert_same(what: &str, kernel: &str, fuse: &str) {
    if kernel != fuse {
        let k: Vec<&str> = kernel.lines().collect();
        let f: Vec<&str> = fuse.lines().collect();
        let only_k: Vec<&&str> = k.iter().filter(|l| !f.contains(l)).collect();
        let only_f: Vec<&&str> = f.iter().filter(|l| !k.contains(l)).collect();
        panic!(
            "{what} differs\n--- kernel overlay only ---\n{}\n--- FUSE overlay only ---\n{}\n--- kernel ---\n{kernel}\n--- fuse ---\n{fuse}",
            only_k.iter().map(|s| s.to_string()).collect::<Vec<_>>().join("\n"),
            only_f.iter().map(|s| s.to_string()).collect::<Vec<_>>().join("\n"),
        );
    }
}

fn differential(mode: Mode) {
    let Some((env, fsops)) = setup(mode) else {
        return;
    };
    let full = env.mode == Mode::Full;
    let base = env.dir.join("layers");
    fs::create_dir_all(&base).unwrap();
    let (l1, l2) = build_lowers(&env, &base);
    let (kout, kmerged, kupper) = run_overlay(&env, &fsops, (&l1, &l2), "kernel", full);
    let (fout, fmerged, fupper) = run_overlay(&env, &fsops, (&l1, &l2), "fuse", full);
    assert_same("script output", &kout, &fout);
    assert_same("merged tree", &kmerged, &fmerged);
    assert_same("upper layer", &kupper, &fupper);
    // The script did what it says (guards against two equally broken runs).
    for want in [
        "/f f 0644 0:0 size=6 nlink=1 h=",
        "/d2/a f 0644 0:0 size=9 nlink=2",
        "/e/x2/y f",
        "/m/n f",
        "/f2/z f",
        "/dd f",
        "/e/sl l 0777 0:0 size=4 nlink=1 -> ../f",
        "/fifo p",
        "/new/renamed/deepest/file f",
    ] {
        assert!(
            fmerged.contains(want),
            "merged tree lacks {want:?}\n{fmerged}"
        );
    }
    for gone in ["/d/", "/l2only", "/gone2", "/m/n1", "/e/h", "/d2/gone"] {
        assert!(
            !fmerged.lines().any(|l| l.starts_with(gone)),
            "merged tree still has {gone}\n{fmerged}"
        );
    }
    assert!(fmerged.contains("x:user.test=value"), "{fmerged}");
    assert!(
        fupper.contains("/d c 0000 ") && fupper.contains("dev=0:0"),
        "whiteout of d in the upper\n{fupper}"
    );
    assert!(
        fupper.contains("/m d 0755 0:0 x:user.overlay.opaque=y"),
        "m is opaque in the upper\n{fupper}"
    );
    assert!(fout.contains("ino-stable"), "{fout}");
    assert!(fout.contains("rmdir-nonempty-refused"), "{fout}");
    if full {
        assert!(fmerged.contains("/lf f 0640 1000:1000"), "{fmerged}");
        assert!(fmerged.contains("/own f 0644 1000:1000"), "{fmerged}");
    }
}

#[test]
fn differential_suite_matches_the_kernel_overlay_with_a_full_id_map() {
    differential(Mode::Full);
}

#[test]
fn differential_suite_matches_the_kernel_overlay_in_single_id_mode() {
    differential(Mode::Single);
}

/// A layer as the store leaves it unprivileged: everything owned by the
/// user, owners and modes in override_stat, OCI whiteouts.
fn build_store_layers(env: &Env, base: &Path) -> (PathBuf, PathBuf) {
    let (l1, l2) = (base.join("l1"), base.join("l2"));
    write(&l2.join("etc/shadow"), "secret\n");
    xattr::set(
        l2.join("etc/shadow"),
        "user.containers.override_stat",
        b"0:42:0640:file",
    )
    .unwrap();
    write(&l2.join("home/user/notes"), "mine\n");
    xattr::set(
        l2.join("home/user"),
        "user.containers.override_stat",
        b"1000:1000:0750:dir",
    )
    .unwrap();
    xattr::set(
        l2.join("home/user/notes"),
        "user.containers.override_stat",
        b"1000:1000:0600:file",
    )
    .unwrap();
    write(&l2.join("dev/null"), "");
    xattr::set(
        l2.join("dev/null"),
        "user.containers.override_stat",
        b"0:0:0666:char-1-3",
    )
    .unwrap();
    write(&l2.join("var/www/index"), "www\n");
    xattr::set(
        l2.join("var/www/index"),
        "user.containers.override_stat",
        b"33:33:0644:file",
    )
    .unwrap();
    write(&l2.join("old"), "removed by the upper layer\n");
    write(&l2.join("opq/below"), "hidden\n");
    // OCI whiteouts in the top layer.
    write(&l1.join(".wh.old"), "");
    write(&l1.join("opq/.wh..wh..opq"), "");
    write(&l1.join("opq/above"), "shown\n");
    env.chown_tree(base);
    (l1, l2)
}

fn emulated(mode: Mode) {
    let Some((env, fsops)) = setup(mode) else {
        return;
    };
    let full = env.mode == Mode::Full;
    let base = env.dir.join("layers");
    fs::create_dir_all(&base).unwrap();
    let (l1, l2) = build_store_layers(&env, &base);
    let b = env.dir.join("fuse");
    for d in ["u", "w", "m"] {
        env.mkdir_owned(&b.join(d), 0o755);
    }
    let script = format!(
        r#"set -e
{bin} fuse-overlay --emulate-owners --lower {l1} --lower {l2} --upper {b}/u --work {b}/w --watch-pid $$ {b}/m >/dev/null
cd {b}/m
ls -A . opq
stat -c '%n %u:%g %a %F %t:%T' etc/shadow home/user home/user/notes dev/null var/www/index
getfattr_out=$({t} dump {b}/m/etc | grep override || true); echo "xattr-visible=[$getfattr_out]"
chmod 0600 etc/shadow
chown 0:0 home/user/notes
if [ -n "{full}" ]; then chown 5:6 var/www/index; fi
echo new > created
stat -c '%n %u:%g %a' etc/shadow home/user/notes var/www/index created
cd /
umount {b}/m
{t} dump {b}/u | sort
"#,
        bin = env.bin.display(),
        l1 = l1.display(),
        l2 = l2.display(),
        b = b.display(),
        t = fsops.display(),
        full = if full { "1" } else { "" },
    );
    let out = env.host("unshare", unshare_args(&env, full, &script)).run();
    let text = out.ok();
    // Listing: OCI whiteout and opaque marker applied, never shown.
    assert!(!text.contains(".wh."), "{text}");
    assert!(!text.lines().any(|l| l == "old" || l == "below"), "{text}");
    assert!(text.lines().any(|l| l == "above"), "{text}");
    // Single-id: owners the namespace cannot show are shown as root (so
    // that root inside can still enter a 0750 home directory), recorded
    // owners are kept in the xattr.
    let nobody = |id: u32| if full { id } else { 0 };
    for want in [
        format!("etc/shadow 0:{} 640 regular file", nobody(42)),
        format!("home/user {0}:{0} 750 directory", nobody(1000)),
        format!("home/user/notes {0}:{0} 600 regular file", nobody(1000)),
        "dev/null 0:0 666 character special file 1:3".to_string(),
        format!("var/www/index {0}:{0} 644 regular file", nobody(33)),
    ] {
        assert!(text.contains(&want), "wanted {want:?}\n{out}");
    }
    assert!(
        text.contains("xattr-visible=[]"),
        "override_stat must not show inside\n{out}"
    );
    assert!(
        text.contains(&format!("etc/shadow 0:{} 600", nobody(42))),
        "{out}"
    );
    assert!(text.contains("home/user/notes 0:0 600"), "{out}");
    assert!(text.contains("created 0:0 644"), "{out}");
    // Persisted in the upper's override_stat (what commit reads).
    assert!(
        text.contains("/etc/shadow f")
            && text.contains("x:user.containers.override_stat=0:42:0600:file"),
        "{out}"
    );
    assert!(
        text.contains("x:user.containers.override_stat=0:0:0600:file"),
        "{out}"
    );
    if full {
        assert!(text.contains("var/www/index 5:6 644"), "{out}");
        assert!(
            text.contains("x:user.containers.override_stat=5:6:0644:file"),
            "{out}"
        );
    }
}

#[test]
fn emulated_owners_show_and_persist_with_a_full_id_map() {
    emulated(Mode::Full);
}

#[test]
fn emulated_owners_show_and_persist_in_single_id_mode() {
    emulated(Mode::Single);
}

#[test]
fn killed_daemon_makes_accesses_fail_and_a_watching_daemon_ends_with_its_process() {
    let Some((env, fsops)) = setup(Mode::Any) else {
        return;
    };
    let base = env.dir.join("layers");
    fs::create_dir_all(&base).unwrap();
    let (l1, l2) = build_lowers(&env, &base);
    let b = env.dir.join("fuse");
    for d in ["u", "w", "m"] {
        env.mkdir_owned(&b.join(d), 0o755);
    }
    let script = format!(
        r#"set -e
pid=$({bin} fuse-overlay --lower {l1} --lower {l2} --upper {b}/u --work {b}/w {b}/m)
cat {b}/m/d/a
{t} stat {b}/m/d/a
awk '/^(NoNewPrivs|Seccomp):/ {{print $1 $2}}' /proc/$pid/status
kill -9 $pid
while kill -0 $pid 2>/dev/null; do sleep 0.05; done
cat {b}/m/d/c 2>/dev/null && echo read-ok || echo read-failed
{t} stat {b}/m/never-looked-up
umount {b}/m
echo unmounted
"#,
        bin = env.bin.display(),
        l1 = l1.display(),
        l2 = l2.display(),
        b = b.display(),
        t = fsops.display(),
    );
    let out = env
        .host("unshare", unshare_args(&env, false, &script))
        .run();
    // (d/a stays readable from the page cache: the kernel keeps what it
    // cached; anything it must ask the daemon for fails.)
    let lines = out.lines();
    assert_eq!(
        lines,
        [
            "one",
            "OK",
            "NoNewPrivs:1",
            "Seccomp:2",
            "read-failed",
            "ENOTCONN",
            "unmounted"
        ],
        "{out}"
    );

    // A daemon that watches the namespace's shell ends with it (and the
    // mount with its namespace): no process is left behind.
    let script = format!(
        "set -e\n{bin} fuse-overlay --lower {l1} --upper {b}/u --work {b}/w --watch-pid $$ {b}/m\nls {b}/m >/dev/null\n",
        bin = env.bin.display(),
        l1 = l1.display(),
        b = b.display(),
    );
    let out = env
        .host("unshare", unshare_args(&env, false, &script))
        .run();
    let pid: i32 = out
        .ok()
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("daemon pid\n{out}"));
    assert!(
        wait_until(|| !Path::new(&format!("/proc/{pid}")).exists()),
        "the daemon {pid} outlived the process it watched"
    );
}

/// The monitor's way (`fuseovl::spawn` with `Join::Pid`): the daemon runs
/// outside the container's namespaces, joins its user and mount namespace
/// to mount, stays invisible to the host's mount table, and ends when the
/// process it joined ends.
#[test]
fn daemon_joins_a_process_namespaces_and_ends_with_it() {
    let Some((env, _)) = setup(Mode::Any) else {
        return;
    };
    let base = env.dir.join("layers");
    fs::create_dir_all(&base).unwrap();
    let (l1, l2) = build_lowers(&env, &base);
    let b = env.dir.join("fuse");
    for d in ["u", "w", "m"] {
        env.mkdir_owned(&b.join(d), 0o755);
    }
    let script = format!(
        r#"set -e
unshare -Urm sleep 60 & S=$!
until [ "$(readlink /proc/$S/exe)" = "$(readlink -f "$(command -v sleep)")" ]; do sleep 0.02; done
D=$({bin} fuse-overlay --join-pid $S --lower {l1} --lower {l2} --upper {b}/u --work {b}/w {b}/m)
nsenter -U -m -t $S --preserve-credentials cat {b}/m/d/c
[ -z "$(ls -A {b}/m)" ] && echo invisible-outside
kill $S; wait $S || true
until ! grep -q '^State:[[:space:]]*[RSD]' /proc/$D/status 2>/dev/null; do sleep 0.05; done
echo daemon-ended
"#,
        bin = env.bin.display(),
        l1 = l1.display(),
        l2 = l2.display(),
        b = b.display(),
    );
    let out = env.host("sh", ["-c", &script]).run();
    assert_eq!(
        out.lines(),
        ["three", "invisible-outside", "daemon-ended"],
        "{out}"
    );
}

/// Regression: reading more files than the descriptor limit through the
/// mount failed with EMFILE once the daemon's descriptor cache filled up.
#[test]
fn reading_more_files_than_the_descriptor_limit_works() {
    let Some((env, _)) = setup(Mode::Any) else {
        return;
    };
    let l = env.dir.join("lower");
    for i in 0..3000 {
        write(&l.join(format!("d{}/f{i}", i % 10)), &format!("{i}\n"));
    }
    env.chown_tree(&l);
    let b = env.dir.join("fuse");
    for d in ["u", "w", "m"] {
        env.mkdir_owned(&b.join(d), 0o755);
    }
    let script = format!(
        "set -e\nulimit -n 1024\n{bin} fuse-overlay --lower {l} --upper {b}/u --work {b}/w --watch-pid $$ {b}/m >/dev/null\nfind {b}/m -type f -print0 | xargs -0 cat | wc -l\n",
        bin = env.bin.display(),
        l = l.display(),
        b = b.display(),
    );
    let out = env
        .host("unshare", unshare_args(&env, false, &script))
        .run();
    assert_eq!(out.ok().trim(), "3000", "{out}");
}
