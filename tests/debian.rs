//! A real distribution in coracle: a Debian 12 minbase image (debootstrap'd
//! by the tests, see common/debian.rs) whose dpkg and apt keep working under
//! the `default` policy, in full id-map and in single-id mode, with a small
//! package built here by `dpkg-deb --build`.

mod common;
#[path = "common/debian.rs"]
mod debian_fixture;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use debian_fixture::IMAGE;

/// Long enough for a run that copies the whole image (the vfs driver).
const SLOW: Duration = Duration::from_secs(180);
const DEB: &str = "coracle-probe_1.0_all.deb";

/// Builds `coracle-probe` (a file, a directory, a postinst that records
/// that it ran and gives `/var/lib/coracle-probe/state` to
/// `$PROBE_OWNER`, root by default) into a directory the test user can
/// read; returns that directory.
fn build_deb(env: &Env) -> Option<PathBuf> {
    if !require(
        Path::new("/usr/bin/dpkg-deb").exists(),
        "dpkg-deb (Debian package dpkg)",
    ) {
        return None;
    }
    let src = env.dir.join("deb-src");
    let files = [
        (
            "DEBIAN/control",
            "Package: coracle-probe\n\
             Version: 1.0\n\
             Architecture: all\n\
             Maintainer: coracle tests <tests@coracle.invalid>\n\
             Depends: base-files\n\
             Description: coracle's dpkg probe\n \
             A file, a directory and a postinst script.\n",
            0o644,
        ),
        (
            "DEBIAN/postinst",
            "#!/bin/sh\n\
             set -e\n\
             if [ \"$1\" = configure ]; then\n\
             \techo configured > /var/lib/coracle-probe/state\n\
             \tchown \"${PROBE_OWNER:-root}:${PROBE_OWNER:-root}\" /var/lib/coracle-probe/state\n\
             fi\n",
            0o755,
        ),
        (
            "usr/share/coracle-probe/hello.txt",
            "hello from a package\n",
            0o644,
        ),
    ];
    for (rel, content, mode) in files {
        let p = src.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, content).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    }
    fs::create_dir_all(src.join("var/lib/coracle-probe")).unwrap();
    let out_dir = env.dir.join("debs");
    fs::create_dir_all(&out_dir).unwrap();
    fs::set_permissions(&out_dir, fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new("dpkg-deb")
        .args(["--root-owner-group", "--build"])
        .arg(&src)
        .arg(out_dir.join(DEB))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dpkg-deb --build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    fs::set_permissions(out_dir.join(DEB), fs::Permissions::from_mode(0o644)).unwrap();
    Some(out_dir)
}

/// An environment in `mode` with the Debian image imported and the probe
/// package built; `None` when skipped.
fn setup(mode: Mode) -> Option<(Env, String)> {
    let env = Env::new(mode)?;
    if !debian_fixture::import(&env) {
        return None;
    }
    let debs = build_deb(&env)?;
    let vol = format!("{}:/debs:ro", debs.display());
    Some((env, vol))
}

/// `coracle run --rm OPTS IMAGE bash -c SCRIPT`, with time for the copy.
fn bash(env: &Env, opts: &[&str], script: &str) -> Out {
    let mut args = vec!["run", "--rm"];
    args.extend_from_slice(opts);
    args.extend_from_slice(&[IMAGE, "bash", "-c", script]);
    env.coracle(args).timeout(SLOW).run()
}

/// The lines of `stat -c '%U:%G %a %n'` output, as "owner:group mode path".
const STAT: &str = "stat -c '%U:%G %a %n'";

#[test]
fn dpkg_installs_a_local_deb_with_a_non_root_owner_full_id_map() {
    let Some((env, vol)) = setup(Mode::Full) else {
        return;
    };
    let script = format!(
        "dpkg -i /debs/{DEB} >/dev/null && dpkg -s coracle-probe | grep '^Status:' && \
         cat /usr/share/coracle-probe/hello.txt /var/lib/coracle-probe/state && \
         {STAT} /usr/share/coracle-probe/hello.txt /var/lib/coracle-probe /var/lib/coracle-probe/state && \
         ls -l /var/lib/coracle-probe | tail -n +2 | awk '{{print $3\":\"$4, $NF}}'"
    );
    let opts = [
        "--name",
        "probe",
        "--policy",
        "default",
        "-e",
        "PROBE_OWNER=daemon",
        "-v",
        &vol,
    ];
    let mut args = vec!["run"];
    args.extend_from_slice(&opts);
    args.extend_from_slice(&[IMAGE, "bash", "-c", &script]);
    let out = env.coracle(args).timeout(SLOW).run();
    assert_eq!(
        out.expect_code(0).lines(),
        [
            "Status: install ok installed",
            "hello from a package",
            "configured",
            "root:root 644 /usr/share/coracle-probe/hello.txt",
            "root:root 755 /var/lib/coracle-probe",
            "daemon:daemon 644 /var/lib/coracle-probe/state",
            "daemon:daemon state",
        ],
        "{out}"
    );
    // The installed package persists into a commit (its non-root owner
    // does not yet: see DESIGN.md, "The Debian test image").
    env.coracle(["commit", "probe", "localhost/debian-probe:1"])
        .timeout(SLOW)
        .run()
        .expect_code(0);
    env.coracle(["rm", "probe"]).run().expect_code(0);
    let out = env
        .coracle([
            "run",
            "--rm",
            "localhost/debian-probe:1",
            "bash",
            "-c",
            "dpkg -s coracle-probe | grep '^Status:' && cat /var/lib/coracle-probe/state && dpkg -L coracle-probe | grep hello",
        ])
        .timeout(SLOW)
        .run();
    assert_eq!(
        out.expect_code(0).lines(),
        [
            "Status: install ok installed",
            "configured",
            "/usr/share/coracle-probe/hello.txt",
        ],
        "{out}"
    );
}

#[test]
fn dpkg_installs_a_local_deb_single_id() {
    let Some((env, vol)) = setup(Mode::Single) else {
        return;
    };
    let script = format!(
        "dpkg -i /debs/{DEB} >/dev/null && dpkg -s coracle-probe | grep '^Status:' && \
         cat /usr/share/coracle-probe/hello.txt /var/lib/coracle-probe/state && \
         {STAT} /usr/share/coracle-probe/hello.txt /var/lib/coracle-probe /var/lib/coracle-probe/state && \
         dpkg --remove coracle-probe >/dev/null 2>&1 && ! dpkg -s coracle-probe >/dev/null 2>&1 && \
         ! test -e /usr/share/coracle-probe/hello.txt && echo removed"
    );
    let out = bash(&env, &["--policy", "default", "-v", &vol], &script);
    assert_eq!(
        out.expect_code(0).lines(),
        [
            "Status: install ok installed",
            "hello from a package",
            "configured",
            "root:root 644 /usr/share/coracle-probe/hello.txt",
            "root:root 755 /var/lib/coracle-probe",
            "root:root 644 /var/lib/coracle-probe/state",
            "removed",
        ],
        "{out}"
    );
}

#[test]
fn apt_works_offline_under_the_default_policy_full_id_map() {
    apt_offline(Mode::Full);
}

/// Single-id mode maps no `_apt` (uid 42) and forbids `setgroups`, so apt's
/// download sandbox cannot drop to `_apt`: apt then needs
/// `APT::Sandbox::User=root`, as under podman without subordinate ids.
#[test]
fn apt_works_offline_under_the_default_policy_single_id_with_sandbox_user_root() {
    apt_offline(Mode::Single);
}

fn apt_offline(mode: Mode) {
    let Some((env, vol)) = setup(mode) else {
        return;
    };
    let sandbox = if mode == Mode::Single {
        "-o APT::Sandbox::User=root"
    } else {
        ""
    };
    let script = format!(
        "apt-cache policy base-files | head -1 && \
         apt-get install -y {sandbox} /debs/{DEB} >/dev/null 2>/tmp/err || {{ cat /tmp/err >&2; exit 1; }}; \
         dpkg -s coracle-probe | grep '^Status:' && apt-cache policy coracle-probe | sed -n 2p && \
         apt-get remove -y {sandbox} coracle-probe >/dev/null 2>&1 && ! dpkg -s coracle-probe >/dev/null 2>&1 && echo removed"
    );
    let out = bash(&env, &["--policy", "default", "-v", &vol], &script);
    assert_eq!(
        out.expect_code(0).lines(),
        [
            "base-files:",
            "Status: install ok installed",
            "Installed: 1.0",
            "removed",
        ],
        "{out}"
    );
}

#[test]
fn dpkg_under_the_strict_policy_fails_clearly() {
    let Some((env, vol)) = setup(Mode::Any) else {
        return;
    };
    let out = bash(
        &env,
        &["--policy", "strict", "-v", &vol],
        &format!("dpkg -i /debs/{DEB}"),
    );
    assert_ne!(out.code(), 0, "{out}");
    assert!(
        out.stderr.contains("Read-only file system"),
        "dpkg names the read-only root\n{out}"
    );
    // Reading works: dpkg queries need no writes.
    let out = bash(
        &env,
        &["--policy", "strict"],
        "dpkg -s base-files | grep '^Status:'",
    );
    assert_eq!(
        out.expect_code(0).stdout,
        "Status: install ok installed\n",
        "{out}"
    );
}
