//! Store layers as overlayfs lower directories.
//!
//! The store keeps each layer unpacked with its whiteouts in the OCI form
//! (`.wh.NAME` files, `.wh..wh..opq` markers), which the vfs copy, `diff`
//! and `commit` read. Kernel overlayfs wants its own form instead: a 0/0
//! character device named NAME (which an unprivileged user may create)
//! and a `user.overlay.opaque` xattr on the directory (`userxattr`). A
//! layer without whiteouts is used as it is (`overlay-layers/HEX.plain`
//! records the scan); one with whiteouts gets a converted twin
//! `overlay-layers/HEX/` once, shared by every container: the same
//! directories (mode, times, xattrs), every other entry a hard link to the
//! layer's own inode (no data is copied; overlay never writes a lower),
//! and the whiteouts in overlay's form. `Store::collect_garbage` removes
//! twins whose layer is gone.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::image::digest::Digest;
use crate::image::store::Store;
use crate::image::unpack::OPAQUE_MARKER;

/// The store's directory of overlay twins.
pub const DIR: &str = "overlay-layers";

const WHITEOUT_PREFIX: &[u8] = b".wh.";
const OPAQUE_XATTR: &str = "user.overlay.opaque";

/// The directory to give overlayfs as the lower layer `diff_id`.
pub fn lower_dir(store: &Store, diff_id: &Digest) -> anyhow::Result<PathBuf> {
    let layer = store.layer_path(diff_id);
    let base = store.root().join(DIR);
    let twin = base.join(diff_id.hex());
    if twin.is_dir() {
        return Ok(twin);
    }
    let plain = base.join(format!("{}.plain", diff_id.hex()));
    if plain.exists() {
        return Ok(layer);
    }
    fs::create_dir_all(&base).with_context(|| format!("create {}", base.display()))?;
    if !has_whiteouts(&layer)? {
        fs::write(&plain, b"").with_context(|| format!("create {}", plain.display()))?;
        return Ok(layer);
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let tmp = base.join(format!(
        ".tmp-{}-{}-{nanos}",
        diff_id.hex(),
        std::process::id()
    ));
    let made =
        convert(&layer, &tmp).with_context(|| format!("convert layer {diff_id} for overlayfs"));
    match made.and_then(|()| fs::rename(&tmp, &twin).map_err(Into::into)) {
        Ok(()) => Ok(twin),
        // Another run made it first.
        Err(_) if twin.is_dir() => {
            let _ = crate::image::store::remove(&tmp);
            Ok(twin)
        }
        Err(e) => {
            let _ = crate::image::store::remove(&tmp);
            Err(e)
        }
    }
}

fn is_whiteout_name(n: &[u8]) -> bool {
    n.starts_with(WHITEOUT_PREFIX)
}

fn has_whiteouts(dir: &Path) -> anyhow::Result<bool> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).with_context(|| format!("read {}", d.display()))? {
            let e = e.with_context(|| format!("read {}", d.display()))?;
            if is_whiteout_name(e.file_name().as_bytes()) {
                return Ok(true);
            }
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            }
        }
    }
    Ok(false)
}

fn copy_dir_attrs(from: &Path, md: &fs::Metadata, to: &Path) -> anyhow::Result<()> {
    if let Ok(names) = xattr::list(from) {
        for n in names {
            if let Ok(Some(v)) = xattr::get(from, &n) {
                xattr::set(to, &n, &v)
                    .with_context(|| format!("set xattr {:?} on {}", n, to.display()))?;
            }
        }
    }
    fs::set_permissions(to, fs::Permissions::from_mode(md.mode() & 0o7777))
        .with_context(|| format!("chmod {}", to.display()))?;
    let t = |s: i64, ns: i64| nix::sys::time::TimeSpec::new(s, ns);
    nix::sys::stat::utimensat(
        None,
        to,
        &t(md.atime(), md.atime_nsec()),
        &t(md.mtime(), md.mtime_nsec()),
        nix::sys::stat::UtimensatFlags::NoFollowSymlink,
    )
    .with_context(|| format!("set the times of {}", to.display()))?;
    Ok(())
}

/// Builds the twin of `src` at `dest` (which must not exist). Symlinks are
/// never followed: directories are descended only when they are ones.
fn convert(src: &Path, dest: &Path) -> anyhow::Result<()> {
    fs::create_dir(dest).with_context(|| format!("create {}", dest.display()))?;
    // Directories get their mode and times after their content is in.
    let mut done: Vec<(PathBuf, PathBuf, fs::Metadata)> = Vec::new();
    let mut stack = vec![(src.to_path_buf(), dest.to_path_buf())];
    while let Some((s, d)) = stack.pop() {
        let mut names: Vec<_> = fs::read_dir(&s)
            .with_context(|| format!("read {}", s.display()))?
            .collect::<Result<_, _>>()
            .with_context(|| format!("read {}", s.display()))?;
        names.sort_by_key(|e| e.file_name());
        for e in &names {
            let name = e.file_name();
            let n = name.as_bytes();
            let sp = e.path();
            if n == OPAQUE_MARKER.as_bytes() {
                xattr::set(&d, OPAQUE_XATTR, b"y")
                    .with_context(|| format!("mark {} opaque", d.display()))?;
                continue;
            }
            if is_whiteout_name(n) {
                let target = d.join(std::ffi::OsStr::from_bytes(&n[WHITEOUT_PREFIX.len()..]));
                // An entry of the same name in this very layer wins.
                if names
                    .iter()
                    .any(|o| o.file_name().as_bytes() == &n[WHITEOUT_PREFIX.len()..])
                {
                    continue;
                }
                nix::sys::stat::mknod(
                    &target,
                    nix::sys::stat::SFlag::S_IFCHR,
                    nix::sys::stat::Mode::empty(),
                    0,
                )
                .with_context(|| format!("create the whiteout {}", target.display()))?;
                continue;
            }
            let dp = d.join(&name);
            let md = fs::symlink_metadata(&sp).with_context(|| format!("stat {}", sp.display()))?;
            if md.is_dir() {
                fs::create_dir(&dp).with_context(|| format!("create {}", dp.display()))?;
                fs::set_permissions(&dp, fs::Permissions::from_mode(0o700))?;
                stack.push((sp.clone(), dp.clone()));
                done.push((sp, dp, md));
            } else {
                fs::hard_link(&sp, &dp)
                    .with_context(|| format!("link {} to {}", dp.display(), sp.display()))?;
            }
        }
    }
    let md = fs::symlink_metadata(src).with_context(|| format!("stat {}", src.display()))?;
    done.push((src.to_path_buf(), dest.to_path_buf(), md));
    // Deepest first, so that setting a parent's mtime comes last.
    for (s, d, md) in done.iter().rev() {
        copy_dir_attrs(s, md, d)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    #[test]
    fn twin_has_overlay_whiteouts_and_links_the_rest() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("l");
        fs::create_dir_all(src.join("a/b")).unwrap();
        fs::write(src.join("a/f"), b"x").unwrap();
        fs::write(src.join("a/.wh.gone"), b"").unwrap();
        fs::write(src.join("a/b/.wh..wh..opq"), b"").unwrap();
        fs::write(src.join("a/b/kept"), b"k").unwrap();
        std::os::unix::fs::symlink("/nowhere", src.join("ln")).unwrap();
        fs::set_permissions(src.join("a"), fs::Permissions::from_mode(0o751)).unwrap();
        assert!(has_whiteouts(&src).unwrap());
        let dest = t.path().join("twin");
        convert(&src, &dest).unwrap();
        let wh = fs::symlink_metadata(dest.join("a/gone")).unwrap();
        assert!(wh.file_type().is_char_device() && wh.rdev() == 0);
        assert!(!dest.join("a/.wh.gone").exists());
        assert!(!dest.join("a/b/.wh..wh..opq").exists());
        assert_eq!(
            xattr::get(dest.join("a/b"), OPAQUE_XATTR).unwrap(),
            Some(b"y".to_vec())
        );
        assert_eq!(
            fs::metadata(dest.join("a/f")).unwrap().ino(),
            fs::metadata(src.join("a/f")).unwrap().ino()
        );
        assert!(fs::symlink_metadata(dest.join("ln")).unwrap().is_symlink());
        assert_eq!(fs::metadata(dest.join("a")).unwrap().mode() & 0o7777, 0o751);
        fs::remove_file(src.join("a/.wh.gone")).unwrap();
        fs::remove_file(src.join("a/b/.wh..wh..opq")).unwrap();
        assert!(!has_whiteouts(&src).unwrap());
    }
}
