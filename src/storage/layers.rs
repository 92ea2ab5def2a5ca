//! Store layers as overlayfs lower directories.
//!
//! The store keeps each layer unpacked with its whiteouts in the OCI form
//! (`.wh.NAME` files, `.wh..wh..opq` markers), which the vfs copy, `diff`
//! and `commit` read. Kernel overlayfs wants its own form instead: a 0/0
//! character device named NAME (which an unprivileged user may create)
//! and a `user.overlay.opaque` xattr on the directory (`userxattr`).
//!
//! A layer without whiteouts is a lower directory as it is
//! (`overlay-layers/HEX.plain` records the scan). A layer with whiteouts
//! becomes three lower directories, the layer itself between two small
//! ones made once and shared by every container (`overlay-layers/HEX/`):
//! `below/` holds the whiteouts in overlay's form (and the opaque marks),
//! so they hide what the layers under it have; `above/` holds a whiteout
//! for each `.wh.` file, so the OCI markers themselves are not seen. Both
//! have only the directories on the way to a whiteout, with the layer's
//! own modes, times and xattrs (the topmost layer that has a directory
//! gives the merged directory its attributes). No file is copied or
//! linked, so files keep their inode and link count.
//! `Store::collect_garbage` removes what belongs to layers that are gone.

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

/// The directories to give overlayfs for the layer `diff_id`, top first.
pub fn lower_dirs(store: &Store, diff_id: &Digest) -> anyhow::Result<Vec<PathBuf>> {
    let layer = store.layer_path(diff_id);
    let base = store.root().join(DIR);
    let twin = base.join(diff_id.hex());
    let with_twin = |t: &Path| vec![t.join("above"), layer.clone(), t.join("below")];
    if twin.is_dir() {
        return Ok(with_twin(&twin));
    }
    let plain = base.join(format!("{}.plain", diff_id.hex()));
    if plain.exists() {
        return Ok(vec![layer]);
    }
    fs::create_dir_all(&base).with_context(|| format!("create {}", base.display()))?;
    if !has_whiteouts(&layer)? {
        fs::write(&plain, b"").with_context(|| format!("create {}", plain.display()))?;
        return Ok(vec![layer]);
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
    let made = convert(&layer, &tmp)
        .with_context(|| format!("convert the whiteouts of layer {diff_id} for overlayfs"));
    match made.and_then(|()| fs::rename(&tmp, &twin).map_err(Into::into)) {
        Ok(()) => Ok(with_twin(&twin)),
        // Another run made it first.
        Err(_) if twin.is_dir() => {
            let _ = crate::image::store::remove(&tmp);
            Ok(with_twin(&twin))
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

fn whiteout_at(p: &Path) -> anyhow::Result<()> {
    nix::sys::stat::mknod(
        p,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::empty(),
        0,
    )
    .with_context(|| format!("create the whiteout {}", p.display()))
}

/// Builds `dest/above` and `dest/below` for the layer `src` (see the
/// module's comment). Symlinks are never followed: directories are
/// descended only when they are ones.
fn convert(src: &Path, dest: &Path) -> anyhow::Result<()> {
    let (above, below) = (dest.join("above"), dest.join("below"));
    for d in [dest, &above, &below] {
        fs::create_dir(d).with_context(|| format!("create {}", d.display()))?;
    }
    // Directories made in the halves (relative), to get the layer's
    // attributes once their content is in.
    let mut made: Vec<PathBuf> = vec![PathBuf::new()];
    let ensure = |rel: &Path, made: &mut Vec<PathBuf>| -> anyhow::Result<()> {
        let mut cur = PathBuf::new();
        for c in rel.components() {
            cur.push(c);
            if !made.contains(&cur) {
                for half in [&above, &below] {
                    let d = half.join(&cur);
                    fs::create_dir(&d).with_context(|| format!("create {}", d.display()))?;
                }
                made.push(cur.clone());
            }
        }
        Ok(())
    };
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = src.join(&rel);
        let mut names: Vec<std::ffi::OsString> = fs::read_dir(&dir)
            .with_context(|| format!("read {}", dir.display()))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()
            .with_context(|| format!("read {}", dir.display()))?;
        names.sort();
        for name in &names {
            let n = name.as_bytes();
            if n == OPAQUE_MARKER.as_bytes() {
                ensure(&rel, &mut made)?;
                xattr::set(below.join(&rel), OPAQUE_XATTR, b"y")
                    .with_context(|| format!("mark {} opaque", below.join(&rel).display()))?;
                whiteout_at(&above.join(&rel).join(name))?;
            } else if is_whiteout_name(n) {
                ensure(&rel, &mut made)?;
                let target = &n[WHITEOUT_PREFIX.len()..];
                // An entry of the same name in this very layer stays: the
                // whiteout below it hides only the layers under it.
                whiteout_at(&below.join(&rel).join(std::ffi::OsStr::from_bytes(target)))?;
                whiteout_at(&above.join(&rel).join(name))?;
            } else if fs::symlink_metadata(dir.join(name))
                .with_context(|| format!("stat {}", dir.join(name).display()))?
                .is_dir()
            {
                stack.push(rel.join(name));
            }
        }
    }
    // Deepest first, so that a parent's mtime is set after its content.
    made.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for rel in &made {
        let s = src.join(rel);
        let md = fs::symlink_metadata(&s).with_context(|| format!("stat {}", s.display()))?;
        for half in [&above, &below] {
            copy_dir_attrs(&s, &md, &half.join(rel))?;
        }
    }
    Ok(())
}

/// Whether any layer of `image` records an owner other than root
/// (`user.containers.override_stat` with a non-zero uid or gid): such an
/// image shows its owners only through the FUSE overlay's emulation.
/// Scanned once per layer, cached in `overlay-layers/HEX.owners`.
pub fn image_records_owners(
    store: &Store,
    image: &crate::image::store::ImageRecord,
) -> anyhow::Result<bool> {
    for layer in &image.layers {
        if layer_records_owners(store, &layer.diff_id)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn layer_records_owners(store: &Store, diff_id: &Digest) -> anyhow::Result<bool> {
    let base = store.root().join(DIR);
    let cache = base.join(format!("{}.owners", diff_id.hex()));
    match fs::read(&cache) {
        Ok(b) if b == b"1" => return Ok(true),
        Ok(b) if b == b"0" => return Ok(false),
        _ => {}
    }
    let layer = store.layer_path(diff_id);
    let found =
        scan_owners(&layer).with_context(|| format!("read the owners of layer {diff_id}"))?;
    fs::create_dir_all(&base).with_context(|| format!("create {}", base.display()))?;
    let _ = crate::container::write_atomic(&cache, if found { b"1" } else { b"0" });
    Ok(found)
}

/// Whether an `override_stat` value names a non-root owner.
fn non_root_owner(value: &[u8]) -> bool {
    let mut f = value.split(|&b| b == b':');
    let (uid, gid) = (f.next().unwrap_or(b"0"), f.next().unwrap_or(b"0"));
    uid != b"0" || gid != b"0"
}

fn scan_owners(dir: &Path) -> anyhow::Result<bool> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if xattr::get(&d, crate::image::unpack::OVERRIDE_STAT_XATTR)
            .ok()
            .flatten()
            .is_some_and(|v| non_root_owner(&v))
        {
            return Ok(true);
        }
        for e in fs::read_dir(&d).with_context(|| format!("read {}", d.display()))? {
            let e = e?;
            let p = e.path();
            if e.file_type()?.is_dir() {
                stack.push(p);
            } else if xattr::get(&p, crate::image::unpack::OVERRIDE_STAT_XATTR)
                .ok()
                .flatten()
                .is_some_and(|v| non_root_owner(&v))
            {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    #[test]
    fn owner_records_name_non_root_owners() {
        assert!(non_root_owner(b"1000:100:0640:file"));
        assert!(non_root_owner(b"0:33:0640:file"));
        assert!(!non_root_owner(b"0:0:4755:file"));
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("d/e")).unwrap();
        std::fs::write(t.path().join("d/e/f"), b"").unwrap();
        assert!(!scan_owners(t.path()).unwrap());
        if xattr::set(
            t.path().join("d/e/f"),
            crate::image::unpack::OVERRIDE_STAT_XATTR,
            b"0:0:4755:file",
        )
        .is_err()
        {
            return; // no user xattrs on this file system
        }
        assert!(!scan_owners(t.path()).unwrap());
        xattr::set(
            t.path().join("d/e"),
            crate::image::unpack::OVERRIDE_STAT_XATTR,
            b"33:33:0750:dir",
        )
        .unwrap();
        assert!(scan_owners(t.path()).unwrap());
    }

    #[test]
    fn whiteouts_go_below_and_their_markers_are_hidden_above() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("l");
        fs::create_dir_all(src.join("a/b")).unwrap();
        fs::create_dir_all(src.join("c")).unwrap();
        fs::write(src.join("a/f"), b"x").unwrap();
        fs::write(src.join("a/.wh.gone"), b"").unwrap();
        fs::write(src.join("a/b/.wh..wh..opq"), b"").unwrap();
        fs::write(src.join("a/b/kept"), b"k").unwrap();
        std::os::unix::fs::symlink("/nowhere", src.join("ln")).unwrap();
        fs::set_permissions(src.join("a"), fs::Permissions::from_mode(0o751)).unwrap();
        assert!(has_whiteouts(&src).unwrap());
        let dest = t.path().join("twin");
        convert(&src, &dest).unwrap();
        let is_wh = |p: PathBuf| {
            let m = fs::symlink_metadata(&p).unwrap();
            m.file_type().is_char_device() && m.rdev() == 0
        };
        assert!(is_wh(dest.join("below/a/gone")));
        assert!(is_wh(dest.join("above/a/.wh.gone")));
        assert!(is_wh(dest.join("above/a/b/.wh..wh..opq")));
        assert_eq!(
            xattr::get(dest.join("below/a/b"), OPAQUE_XATTR).unwrap(),
            Some(b"y".to_vec())
        );
        // Only the way to the whiteouts, with the layer's attributes.
        assert!(!dest.join("below/c").exists() && !dest.join("above/a/f").exists());
        for half in ["above", "below"] {
            assert_eq!(
                fs::metadata(dest.join(half).join("a")).unwrap().mode() & 0o7777,
                0o751
            );
        }
        fs::remove_file(src.join("a/.wh.gone")).unwrap();
        fs::remove_file(src.join("a/b/.wh..wh..opq")).unwrap();
        assert!(!has_whiteouts(&src).unwrap());
    }
}
