//! A Debian 12 (bookworm) image for the tests: a `debootstrap
//! --variant=minbase` root, built once per machine and cached as a tarball
//! that the unprivileged test users `coracle import` into their own stores.
//!
//! debootstrap needs root: preparing this test asset is not the thing under
//! test, so it runs as root (the suite's own user). Without root the cached
//! tarball is used when a root run made it; otherwise the test is skipped
//! (a failure under `CI=true`).
//!
//! The cache lives in [`CACHE_DIR`], keyed by [`STAMP`] (change it when the
//! build changes). Test binaries run concurrently, so the build happens
//! under an exclusive file lock (the others wait), in a temporary directory,
//! and the tarball is renamed into place only when complete: a partial build
//! is never used.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use nix::fcntl::{Flock, FlockArg};

use crate::common::{is_root, require, Env};

/// Where the cached image tarball is kept (root's, world-readable).
pub const CACHE_DIR: &str = "/var/tmp/coracle-test-debian";
/// The version of the build recipe; part of the tarball's name.
pub const STAMP: &str = "bookworm-minbase-v1";
/// The mirror debootstrap downloads from.
pub const MIRROR: &str = "http://deb.debian.org/debian";
/// The name the tests import the image as.
pub const IMAGE: &str = "localhost/debian:12";

fn tarball_path() -> PathBuf {
    Path::new(CACHE_DIR).join(format!("{STAMP}.tar"))
}

fn sh(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?}: {}\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// Builds the tarball (as root, under the lock held by the caller).
fn build(dst: &Path) -> Result<(), String> {
    let work = tempfile::Builder::new()
        .prefix("build-")
        .tempdir_in(CACHE_DIR)
        .map_err(|e| format!("temporary directory in {CACHE_DIR}: {e}"))?;
    let root = work.path().join("root");
    let mut cmd = Command::new("debootstrap");
    cmd.args(["--variant=minbase", "bookworm"])
        .arg(&root)
        .arg(MIRROR);
    sh(&mut cmd).map_err(|e| format!("debootstrap failed (is {MIRROR} reachable?): {e}"))?;
    // As container images are: no downloaded packages or indexes, and an
    // empty /dev (the runtime provides the devices).
    for dir in ["var/cache/apt/archives", "var/lib/apt/lists", "dev"] {
        let d = root.join(dir);
        for e in fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))? {
            let p = e.map_err(|e| e.to_string())?.path();
            let md = fs::symlink_metadata(&p).map_err(|e| e.to_string())?;
            if md.is_dir() {
                // archives/partial and lists/partial (owned by _apt) stay.
                if dir != "dev" {
                    continue;
                }
                fs::remove_dir_all(&p)
            } else {
                fs::remove_file(&p)
            }
            .map_err(|e| format!("remove {}: {e}", p.display()))?;
        }
    }
    // tar as root keeps the owners (numeric, as image layers carry them).
    let tmp = work.path().join("image.tar");
    let mut cmd = Command::new("tar");
    cmd.args(["--numeric-owner", "--xattrs", "-C"])
        .arg(&root)
        .arg("-cf")
        .arg(&tmp)
        .arg(".");
    sh(&mut cmd)?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o644)).map_err(|e| e.to_string())?;
    fs::rename(&tmp, dst).map_err(|e| format!("rename to {}: {e}", dst.display()))?;
    Ok(())
}

/// The tarball of the Debian root (building it once if this is root);
/// `None` when it is missing and cannot be built here (skipped; a failure
/// under `CI=true`).
pub fn tarball() -> Option<PathBuf> {
    static TARBALL: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dst = tarball_path();
    if !is_root() {
        return require(
            dst.is_file(),
            &format!(
                "the Debian test image {} (built by debootstrap as root: run the suite as root once)",
                dst.display()
            ),
        )
        .then_some(dst);
    }
    if !require(
        Path::new("/usr/sbin/debootstrap").exists(),
        "debootstrap (Debian package debootstrap)",
    ) {
        return None;
    }
    let r = TARBALL.get_or_init(|| {
        fs::create_dir_all(CACHE_DIR).map_err(|e| format!("mkdir {CACHE_DIR}: {e}"))?;
        std::os::unix::fs::chown(CACHE_DIR, Some(0), Some(0)).map_err(|e| e.to_string())?;
        fs::set_permissions(CACHE_DIR, fs::Permissions::from_mode(0o755))
            .map_err(|e| e.to_string())?;
        let lock_path = Path::new(CACHE_DIR).join("lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| format!("open {}: {e}", lock_path.display()))?;
        let _lock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, e)| format!("flock {}: {e}", lock_path.display()))?;
        // Only a tarball root made is trusted (the directory is world-readable
        // and could predate this run).
        if fs::symlink_metadata(&dst).is_ok_and(|m| !m.is_file() || m.uid() != 0) {
            fs::remove_file(&dst).map_err(|e| format!("remove {}: {e}", dst.display()))?;
        }
        if !dst.is_file() {
            // What a killed build left (never used: only the rename
            // publishes a tarball).
            for e in fs::read_dir(CACHE_DIR)
                .map_err(|e| e.to_string())?
                .flatten()
            {
                if e.file_name().to_string_lossy().starts_with("build-") {
                    let _ = fs::remove_dir_all(e.path());
                }
            }
            build(&dst)?;
        }
        Ok(dst)
    });
    match r {
        Ok(p) => Some(p.clone()),
        // A mirror that cannot be reached is a missing prerequisite.
        Err(e) => {
            require(false, &format!("the Debian test image ({e})"));
            None
        }
    }
}

/// Imports the Debian image into `env`'s store as [`IMAGE`]; `false` when
/// the test is skipped.
pub fn import(env: &Env) -> bool {
    let Some(tar) = tarball() else {
        return false;
    };
    env.coracle([
        "import",
        "-c",
        "CMD [\"bash\"]",
        "-c",
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        tar.to_str().unwrap(),
        IMAGE,
    ])
    .timeout(std::time::Duration::from_secs(300))
    .run()
    .expect_code(0);
    true
}
