//! What a container changed in its root (`diff`, `commit`) and its root as
//! a tar (`export`).
//!
//! A container's root is a full copy of its image's layers (see
//! `image::rootfs`), so its changes are found by comparing that directory
//! with the layers merged in order (whiteouts and opaque markers applied),
//! the way Docker's naive diff does: an entry is changed when its type,
//! owner, mode, device numbers or (for non-directories) size, mtime or
//! symlink target differ. A file rewritten with the same size and mtime is
//! still found: building a root leaves `rootfs.stamp` next to it, and a
//! file whose inode changed (ctime) at or after the stamp has its content
//! compared with the layer's copy. Roots built before stamps existed have
//! every such file compared.
//!
//! Owners and modes are the container's: the `user.containers.override_stat`
//! record when there is one (unpacking keeps owners there that the user
//! cannot set), else the disk owner mapped through the container's id map.
//! Every walk opens directories and files by fd with `O_NOFOLLOW`
//! (`openat2` `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`), so a running
//! container that swaps a directory for a symlink cannot make it leave the
//! root.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use nix::fcntl::{AtFlags, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::SFlag;

use crate::image::unpack::{OPAQUE_MARKER, OVERRIDE_STAT_XATTR};

/// Written next to a container's `rootfs/` once the root is built; its
/// ctime bounds the ctimes of everything the build wrote.
pub const STAMP_FILE: &str = "rootfs.stamp";

/// The type of a file system entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
    Symlink,
    Fifo,
    Char,
    Block,
    Socket,
}

/// An entry's metadata as the container sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub kind: Kind,
    pub uid: u64,
    pub gid: u64,
    /// Permission bits (07777).
    pub mode: u32,
    pub size: u64,
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
    /// Device numbers (major, minor) of character and block devices.
    pub rdev: (u64, u64),
    /// A symlink's target.
    pub link: Vec<u8>,
}

impl Meta {
    /// Docker's test: type, owner, mode and device always; size, mtime and
    /// target for everything but directories.
    fn same_as(&self, o: &Meta) -> bool {
        self.kind == o.kind
            && self.uid == o.uid
            && self.gid == o.gid
            && self.mode == o.mode
            && self.rdev == o.rdev
            && (self.kind == Kind::Dir
                || (self.size == o.size && self.mtime == o.mtime && self.link == o.link))
    }
}

/// Host ids to container ids, from the container's OCI config.
#[derive(Debug, Clone, Default)]
pub struct IdMap {
    uids: Vec<(u64, u64, u64)>,
    gids: Vec<(u64, u64, u64)>,
}

impl IdMap {
    /// The maps of the container whose directory is `dir` (identity when
    /// its config has none).
    pub fn of_container(dir: &Path) -> anyhow::Result<Self> {
        let p = dir.join("config.json");
        let text = std::fs::read(&p).with_context(|| format!("read {}", p.display()))?;
        let v: serde_json::Value =
            serde_json::from_slice(&text).with_context(|| format!("{} is damaged", p.display()))?;
        let list = |key: &str| -> Vec<(u64, u64, u64)> {
            v["linux"][key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|m| {
                            Some((
                                m["containerID"].as_u64()?,
                                m["hostID"].as_u64()?,
                                m["size"].as_u64()?,
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(Self {
            uids: list("uidMappings"),
            gids: list("gidMappings"),
        })
    }

    fn map(list: &[(u64, u64, u64)], host: u64) -> u64 {
        if list.is_empty() {
            return host;
        }
        list.iter()
            .find(|(_, h, s)| host >= *h && host - h < *s)
            .map_or(65534, |(c, h, _)| c + (host - h))
    }

    pub fn uid(&self, host: u32) -> u64 {
        Self::map(&self.uids, host.into())
    }

    pub fn gid(&self, host: u32) -> u64 {
        Self::map(&self.gids, host.into())
    }
}

pub(crate) fn io_err(e: nix::Error) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

/// Opens one name in `dir` without following a symlink anywhere.
pub fn open_at(dir: BorrowedFd<'_>, name: &Path, flags: OFlag) -> io::Result<OwnedFd> {
    crate::sys::openat2(
        dir,
        name,
        OpenHow::new()
            .flags(flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW | OFlag::O_NOCTTY)
            .resolve(
                ResolveFlag::RESOLVE_BENEATH
                    | ResolveFlag::RESOLVE_NO_SYMLINKS
                    | ResolveFlag::RESOLVE_NO_MAGICLINKS,
            ),
    )
}

/// Opens a directory by name in `dir` (never through a symlink).
pub fn open_dir_at(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<OwnedFd> {
    open_at(dir, Path::new(name), OFlag::O_RDONLY | OFlag::O_DIRECTORY)
}

/// The names in a directory, sorted (without `.` and `..`).
pub fn list(dir: BorrowedFd<'_>) -> io::Result<Vec<OsString>> {
    let fd = open_at(dir, Path::new("."), OFlag::O_RDONLY | OFlag::O_DIRECTORY)?;
    let mut d = nix::dir::Dir::from_fd(std::os::fd::IntoRawFd::into_raw_fd(fd)).map_err(io_err)?;
    let mut out = Vec::new();
    for e in d.iter() {
        let e = e.map_err(io_err)?;
        let n = e.file_name().to_bytes();
        if n != b"." && n != b".." {
            out.push(OsStr::from_bytes(n).to_os_string());
        }
    }
    out.sort();
    Ok(out)
}

fn kind_of(mode: u32) -> Kind {
    match SFlag::from_bits_truncate(mode) & SFlag::S_IFMT {
        SFlag::S_IFDIR => Kind::Dir,
        SFlag::S_IFLNK => Kind::Symlink,
        SFlag::S_IFIFO => Kind::Fifo,
        SFlag::S_IFCHR => Kind::Char,
        SFlag::S_IFBLK => Kind::Block,
        SFlag::S_IFSOCK => Kind::Socket,
        _ => Kind::File,
    }
}

/// The metadata of `name` in `dir` as the container sees it; `None` when
/// it is gone. `name` "." is the directory itself.
pub fn read_meta(dir: BorrowedFd<'_>, name: &OsStr, map: &IdMap) -> io::Result<Option<Meta>> {
    let st =
        match nix::sys::stat::fstatat(Some(dir.as_raw_fd()), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(nix::Error::ENOENT) => return Ok(None),
            Err(e) => return Err(io_err(e)),
        };
    let mut m = Meta {
        kind: kind_of(st.st_mode),
        uid: map.uid(st.st_uid),
        gid: map.gid(st.st_gid),
        mode: st.st_mode & 0o7777,
        size: st.st_size as u64,
        mtime: (st.st_mtime, st.st_mtime_nsec),
        ctime: (st.st_ctime, st.st_ctime_nsec),
        rdev: (
            nix::sys::stat::major(st.st_rdev),
            nix::sys::stat::minor(st.st_rdev),
        ),
        link: Vec::new(),
    };
    match m.kind {
        Kind::Symlink => {
            m.link = nix::fcntl::readlinkat(Some(dir.as_raw_fd()), name)
                .map_err(io_err)?
                .into_vec();
        }
        Kind::Dir | Kind::File => {
            // lgetxattr through the directory's fd: the last component is
            // not followed, and symlinks carry no user xattrs.
            let p = PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd())).join(name);
            let rec = match xattr::get(&p, OVERRIDE_STAT_XATTR) {
                Ok(v) => v,
                Err(e) if matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP | libc::ENODATA)) => {
                    None
                }
                // user.* xattrs need read access: a file the container gave
                // to another of its ids, whose disk owner is what counts.
                Err(e) if e.raw_os_error() == Some(libc::EACCES) => None,
                Err(e) => return Err(e),
            };
            if let Some(rec) = rec {
                apply_override(&mut m, &rec);
            }
        }
        _ => {}
    }
    if !matches!(m.kind, Kind::Char | Kind::Block) {
        m.rdev = (0, 0);
    }
    Ok(Some(m))
}

/// Applies an `UID:GID:MODE[:TYPE]` record. The disk owner wins when the
/// container changed it to someone other than its root; the disk mode wins
/// when it is neither the recorded one nor the recorded one with the
/// owner bits unpacking adds.
fn apply_override(m: &mut Meta, rec: &[u8]) {
    let Ok(s) = std::str::from_utf8(rec) else {
        return;
    };
    let f: Vec<&str> = s.split(':').collect();
    if f.len() < 3 {
        return;
    }
    let (Ok(uid), Ok(gid), Ok(mode)) = (
        f[0].parse::<u64>(),
        f[1].parse::<u64>(),
        u32::from_str_radix(f[2], 8),
    ) else {
        return;
    };
    if m.uid == 0 {
        m.uid = uid;
    }
    if m.gid == 0 {
        m.gid = gid;
    }
    let owner_bits = if m.kind == Kind::Dir { 0o700 } else { 0o600 };
    let mode = mode & 0o7777;
    if m.mode == mode || m.mode == mode | owner_bits {
        m.mode = mode;
    }
    if m.kind == Kind::File {
        if let Some(t) = f.get(3) {
            let dev = t
                .strip_prefix("char-")
                .map(|d| (Kind::Char, d))
                .or_else(|| t.strip_prefix("block-").map(|d| (Kind::Block, d)));
            if let Some((kind, d)) = dev {
                if let Some((a, b)) = d.split_once('-') {
                    if let (Ok(a), Ok(b)) = (a.parse(), b.parse()) {
                        // The placeholder's disk mode is always 0600.
                        m.mode = mode;
                        m.kind = kind;
                        m.rdev = (a, b);
                        m.size = 0;
                    }
                }
            }
        }
    }
}

/// `/a/b` for messages.
fn show(rel: &[u8]) -> String {
    format!("/{}", String::from_utf8_lossy(rel))
}

/// A path inside a root as bytes, `a/b` (no leading slash; the root is empty).
fn join(rel: &[u8], name: &OsStr) -> Vec<u8> {
    let mut p = rel.to_vec();
    if !p.is_empty() {
        p.push(b'/');
    }
    p.extend_from_slice(name.as_bytes());
    p
}

/// Keys strictly below `dir` in a map keyed by such paths.
fn below<'m, V>(
    map: &'m BTreeMap<Vec<u8>, V>,
    dir: &[u8],
) -> impl Iterator<Item = (&'m Vec<u8>, &'m V)> {
    let (lo, hi) = if dir.is_empty() {
        (Vec::new(), vec![0xff; 1])
    } else {
        let mut lo = dir.to_vec();
        lo.push(b'/');
        let mut hi = dir.to_vec();
        hi.push(b'/' + 1);
        (lo, hi)
    };
    map.range(lo..hi)
}

fn remove_below<V>(map: &mut BTreeMap<Vec<u8>, V>, dir: &[u8]) {
    let keys: Vec<Vec<u8>> = below(map, dir).map(|(k, _)| k.clone()).collect();
    for k in keys {
        map.remove(&k);
    }
}

/// One entry of the merged image.
#[derive(Debug, Clone)]
struct Lower {
    meta: Meta,
    /// Index of the layer the entry comes from.
    layer: usize,
}

/// An image's layers merged in order, as a rootfs built from them holds.
struct ImageView {
    layers: Vec<File>,
    entries: BTreeMap<Vec<u8>, Lower>,
}

impl ImageView {
    fn new(layer_dirs: &[PathBuf], map: &IdMap) -> anyhow::Result<Self> {
        let mut v = Self {
            layers: Vec::new(),
            entries: BTreeMap::new(),
        };
        for (i, d) in layer_dirs.iter().enumerate() {
            let f = File::open(d).with_context(|| {
                format!(
                    "open layer {}; the image's layers are missing from the store",
                    d.display()
                )
            })?;
            v.merge_dir(f.as_fd(), &[], i, map)
                .with_context(|| format!("read layer {}", d.display()))?;
            v.layers.push(f);
        }
        Ok(v)
    }

    fn merge_dir(
        &mut self,
        dir: BorrowedFd<'_>,
        rel: &[u8],
        layer: usize,
        map: &IdMap,
    ) -> io::Result<()> {
        let names = list(dir)?;
        if names.iter().any(|n| n == OPAQUE_MARKER) {
            remove_below(&mut self.entries, rel);
        }
        for n in &names {
            let b = n.as_bytes();
            if let Some(t) = b.strip_prefix(b".wh.") {
                if !t.starts_with(b".wh.") {
                    let p = join(rel, OsStr::from_bytes(t));
                    self.entries.remove(&p);
                    remove_below(&mut self.entries, &p);
                }
            }
        }
        for n in names {
            if n.as_bytes().starts_with(b".wh.") {
                continue;
            }
            let Some(meta) = read_meta(dir, &n, map)? else {
                continue;
            };
            if meta.kind == Kind::Socket {
                continue; // never copied into a root
            }
            let p = join(rel, &n);
            let is_dir = meta.kind == Kind::Dir;
            if !is_dir {
                remove_below(&mut self.entries, &p);
            }
            self.entries.insert(p.clone(), Lower { meta, layer });
            if is_dir {
                let sub = open_dir_at(dir, &n)?;
                self.merge_dir(sub.as_fd(), &p, layer, map)?;
            }
        }
        Ok(())
    }

    /// Opens the layer's copy of a regular file.
    fn open(&self, lower: &Lower, rel: &[u8]) -> io::Result<File> {
        open_path(self.layers[lower.layer].as_fd(), rel).map(File::from)
    }
}

/// Opens `a/b/c` below `root`, refusing symlinks on the way.
pub fn open_path(root: BorrowedFd<'_>, rel: &[u8]) -> io::Result<OwnedFd> {
    open_at(root, Path::new(OsStr::from_bytes(rel)), OFlag::O_RDONLY)
}

/// Opens the directory holding `a/b/c` below `root` (the root for `c`).
fn open_parent(root: BorrowedFd<'_>, rel: &[u8]) -> io::Result<(OwnedFd, OsString)> {
    let p = Path::new(OsStr::from_bytes(rel));
    let name = p
        .file_name()
        .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?
        .to_os_string();
    let parent = p.parent().filter(|p| !p.as_os_str().is_empty());
    let fd = match parent {
        Some(pp) => open_at(root, pp, OFlag::O_RDONLY | OFlag::O_DIRECTORY)?,
        None => open_at(root, Path::new("."), OFlag::O_RDONLY | OFlag::O_DIRECTORY)?,
    };
    Ok((fd, name))
}

fn same_content(a: &mut File, b: &mut File) -> io::Result<bool> {
    let mut ba = vec![0u8; 64 << 10];
    let mut bb = vec![0u8; 64 << 10];
    loop {
        let n = crate::image::unpack::read_full(a, &mut ba)?;
        let m = crate::image::unpack::read_full(b, &mut bb)?;
        if n != m || ba[..n] != bb[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

/// `A`, `C` or `D`, as Docker prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Changed,
    Deleted,
}

impl ChangeKind {
    pub fn letter(self) -> char {
        match self {
            Self::Added => 'A',
            Self::Changed => 'C',
            Self::Deleted => 'D',
        }
    }
}

/// One change, its path relative to the root (`etc/motd`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: Vec<u8>,
    pub kind: ChangeKind,
}

impl Change {
    /// The path as Docker prints it (`/etc/motd`).
    pub fn shown(&self) -> String {
        format!("/{}", String::from_utf8_lossy(&self.path))
    }
}

/// A container's root and what is needed to compare it with its image.
pub struct Root {
    /// The container's directory.
    pub dir: PathBuf,
    pub root: crate::storage::view::View,
    pub map: IdMap,
    /// Mount targets (relative, `var/lib/x`) whose content is not the root's.
    pub excluded: Vec<Vec<u8>>,
    /// The ctime of the stamp, if the root has one.
    stamp: Option<(i64, i64)>,
}

impl Root {
    /// Opens the root of the container `c` (made from an image).
    pub fn open(c: &super::Container) -> anyhow::Result<Self> {
        if c.record.image_id.is_none() {
            anyhow::bail!(
                "container {} was not made from an image (it runs on a --rootfs directory): \
                 there is no image to compare with",
                c.record.name
            );
        }
        let root = open_root(c)?;
        let map = IdMap::of_container(&c.dir)?;
        let mut excluded: Vec<Vec<u8>> = c
            .record
            .mounts
            .iter()
            .map(|m| m.destination.clone())
            .collect::<Vec<_>>()
            .into_iter()
            .chain(spec_mount_targets(&c.dir))
            .map(|d| {
                crate::rootpath::clean(Path::new(&d))
                    .as_os_str()
                    .as_bytes()
                    .strip_prefix(b"/")
                    .unwrap_or_default()
                    .to_vec()
            })
            .filter(|d| !d.is_empty())
            .collect();
        excluded.sort();
        excluded.dedup();
        let stamp = nix::sys::stat::stat(&c.dir.join(STAMP_FILE))
            .ok()
            .map(|st| (st.st_ctime, st.st_ctime_nsec));
        Ok(Self {
            dir: c.dir.clone(),
            root,
            map,
            excluded,
            stamp,
        })
    }

    /// Whether `rel` is a mount target or below one.
    pub fn is_excluded(&self, rel: &[u8]) -> bool {
        self.excluded
            .iter()
            .any(|t| rel == t.as_slice() || (rel.starts_with(t) && rel.get(t.len()) == Some(&b'/')))
    }

    /// The changes of the root against the image's layers, sorted by path.
    pub fn diff(&self, layer_dirs: &[PathBuf]) -> anyhow::Result<Vec<Change>> {
        let view = ImageView::new(layer_dirs, &self.map)?;
        let mut out = Vec::new();
        self.diff_dir(self.root.as_fd(), &[], &view, &mut out)?;
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// The entries of `dir` (at `rel`) that a diff looks at: name, path
    /// and metadata; excluded paths (mount targets) and sockets are left out.
    fn entries(
        &self,
        dir: BorrowedFd<'_>,
        rel: &[u8],
    ) -> anyhow::Result<Vec<(OsString, Vec<u8>, Meta)>> {
        let mut v = Vec::new();
        for n in list(dir).with_context(|| format!("read {}", show(rel)))? {
            let p = join(rel, &n);
            if self.is_excluded(&p) {
                continue;
            }
            let Some(meta) =
                read_meta(dir, &n, &self.map).with_context(|| format!("stat {}", show(&p)))?
            else {
                continue;
            };
            if meta.kind != Kind::Socket {
                v.push((n, p, meta));
            }
        }
        Ok(v)
    }

    fn diff_dir(
        &self,
        dir: BorrowedFd<'_>,
        rel: &[u8],
        view: &ImageView,
        out: &mut Vec<Change>,
    ) -> anyhow::Result<bool> {
        let before = out.len();
        let mut seen = std::collections::BTreeSet::new();
        for (n, p, meta) in self.entries(dir, rel)? {
            seen.insert(p.clone());
            match view.entries.get(&p) {
                None => {
                    out.push(Change {
                        path: p.clone(),
                        kind: ChangeKind::Added,
                    });
                    if meta.kind == Kind::Dir {
                        let sub = open_dir_at(dir, &n).map_err(|e| denied(e, &show(&p), &meta))?;
                        self.all_added(sub.as_fd(), &p, out)?;
                    }
                }
                Some(lower) => {
                    let changed = if !meta.same_as(&lower.meta) {
                        true
                    } else if meta.kind == Kind::File && self.stamp.is_none_or(|s| meta.ctime >= s)
                    {
                        let mut a = File::from(
                            open_at(dir, Path::new(&n), OFlag::O_RDONLY)
                                .map_err(|e| denied(e, &show(&p), &meta))?,
                        );
                        let mut b = view
                            .open(lower, &p)
                            .with_context(|| format!("open {} in the image", show(&p)))?;
                        !same_content(&mut a, &mut b)
                            .with_context(|| format!("compare {}", show(&p)))?
                    } else {
                        false
                    };
                    let at = out.len();
                    if changed {
                        out.push(Change {
                            path: p.clone(),
                            kind: ChangeKind::Changed,
                        });
                    }
                    if meta.kind == Kind::Dir {
                        let sub = open_dir_at(dir, &n).map_err(|e| denied(e, &show(&p), &meta))?;
                        if lower.meta.kind == Kind::Dir {
                            let inner = self.diff_dir(sub.as_fd(), &p, view, out)?;
                            if inner && !changed {
                                out.insert(
                                    at,
                                    Change {
                                        path: p.clone(),
                                        kind: ChangeKind::Changed,
                                    },
                                );
                            }
                        } else {
                            self.all_added(sub.as_fd(), &p, out)?;
                        }
                    }
                }
            }
        }
        // What the image has here and the root no longer does. Below a
        // deleted directory only the directory is listed.
        let mut gone: Vec<&Vec<u8>> = Vec::new();
        for (k, _) in below(&view.entries, rel) {
            if seen.contains(k) || self.is_excluded(k) {
                continue;
            }
            let direct = k[if rel.is_empty() { 0 } else { rel.len() + 1 }..]
                .iter()
                .all(|&c| c != b'/');
            if direct {
                gone.push(k);
            }
        }
        for k in gone {
            out.push(Change {
                path: k.clone(),
                kind: ChangeKind::Deleted,
            });
        }
        Ok(out.len() > before)
    }

    fn all_added(
        &self,
        dir: BorrowedFd<'_>,
        rel: &[u8],
        out: &mut Vec<Change>,
    ) -> anyhow::Result<()> {
        for (n, p, meta) in self.entries(dir, rel)? {
            out.push(Change {
                path: p.clone(),
                kind: ChangeKind::Added,
            });
            if meta.kind == Kind::Dir {
                let sub = open_dir_at(dir, &n).map_err(|e| denied(e, &show(&p), &meta))?;
                self.all_added(sub.as_fd(), &p, out)?;
            }
        }
        Ok(())
    }

    /// Writes the changes as a layer tar: added and changed entries with
    /// their content, owners and modes as the container sees them,
    /// deletions as `.wh.NAME`, a directory left empty after several
    /// deletions as `.wh..wh..opq`.
    pub fn write_layer<W: Write>(&self, changes: &[Change], out: W) -> anyhow::Result<W> {
        let mut t = TarOut::new(out);
        // Directories in which every entry of the image was deleted.
        let mut deleted_in: BTreeMap<&[u8], usize> = BTreeMap::new();
        for c in changes.iter().filter(|c| c.kind == ChangeKind::Deleted) {
            let parent = c.path.rsplit_once_byte().0;
            *deleted_in.entry(parent).or_default() += 1;
        }
        let mut opaque = std::collections::BTreeSet::new();
        for c in changes {
            match c.kind {
                ChangeKind::Deleted => {
                    let (parent, name) = c.path.rsplit_once_byte();
                    if opaque.contains(parent) {
                        continue;
                    }
                    // A directory left empty of everything the image had
                    // and holding nothing new: one opaque marker.
                    let present = if parent.is_empty() {
                        None
                    } else {
                        Some(parent)
                    };
                    let all_gone = present.is_some_and(|p| {
                        self.count_entries(p).ok() == Some(0) && deleted_in.get(p) > Some(&1)
                    });
                    let mut wh = parent.to_vec();
                    if !wh.is_empty() {
                        wh.push(b'/');
                    }
                    if all_gone {
                        opaque.insert(parent);
                        wh.extend_from_slice(OPAQUE_MARKER.as_bytes());
                    } else {
                        wh.extend_from_slice(b".wh.");
                        wh.extend_from_slice(name);
                    }
                    t.whiteout(&wh)?;
                }
                ChangeKind::Added | ChangeKind::Changed => {
                    let (dir, name) =
                        open_parent(self.root.as_fd(), &c.path).with_context(|| {
                            format!(
                                "open {} (did the container change it meanwhile?)",
                                c.shown()
                            )
                        })?;
                    let Some(meta) = read_meta(dir.as_fd(), &name, &self.map)
                        .with_context(|| format!("stat {}", c.shown()))?
                    else {
                        continue; // removed while we read: not part of the layer
                    };
                    t.append(&c.path, &meta, dir.as_fd(), &name)?;
                }
            }
        }
        t.finish()
    }

    fn count_entries(&self, rel: &[u8]) -> io::Result<usize> {
        let fd = open_at(
            self.root.as_fd(),
            Path::new(OsStr::from_bytes(rel)),
            OFlag::O_RDONLY | OFlag::O_DIRECTORY,
        )?;
        Ok(list(fd.as_fd())?.len())
    }
}

/// The directory that is the container's root: its own `rootfs/` when
/// made from an image, else the `--rootfs` directory (canonical in its
/// OCI config).
pub fn root_dir(c: &super::Container) -> anyhow::Result<PathBuf> {
    if c.record.image_id.is_some() {
        return Ok(c.dir.join("rootfs"));
    }
    let p = c.dir.join("config.json");
    let text = std::fs::read(&p).with_context(|| format!("read {}", p.display()))?;
    let v: serde_json::Value =
        serde_json::from_slice(&text).with_context(|| format!("{} is damaged", p.display()))?;
    match v["root"]["path"].as_str() {
        Some(r) if r.starts_with('/') => Ok(PathBuf::from(r)),
        _ => anyhow::bail!(
            "{} names no absolute root directory; remove the container and run it again",
            p.display()
        ),
    }
}

/// The container's root, opened as a directory. An overlay container's
/// root exists only as a mount (`storage::view`): the running container's
/// own root mount, else the overlay mounted for this process.
pub fn open_root(c: &super::Container) -> anyhow::Result<crate::storage::view::View> {
    if c.record.image_id.is_some() {
        let rec = crate::storage::StorageRecord::read(&c.dir)?;
        if let Some(rec) = rec.filter(|r| r.driver == crate::storage::Driver::FuseOverlay) {
            return crate::storage::view::mount_fuse_container(
                &rec,
                &c.dir,
                &crate::storage::view::container_maps(&c.dir)?,
            );
        }
        if let Some(l) = crate::storage::overlay_of(&c.dir)? {
            if c.running() {
                let not_running = |name: &str| anyhow::anyhow!("container {name} is not running");
                match super::procs::join_target(c, not_running) {
                    Ok(pidfd) => return crate::storage::view::join(pidfd.as_fd()),
                    // It stopped meanwhile: its overlay is free again.
                    Err(_) if !super::Container::load(&c.record.id)?.running() => {}
                    Err(e) => return Err(e),
                }
            }
            return crate::storage::view::mount(&l, &crate::storage::view::container_maps(&c.dir)?);
        }
    }
    let dir = root_dir(c)?;
    File::open(&dir)
        .map(crate::storage::view::View::plain)
        .with_context(|| format!("open {}", dir.display()))
}

/// Exports the container's root (image-made or `--rootfs`) as a tar.
pub fn export<W: Write>(c: &super::Container, out: W) -> anyhow::Result<W> {
    let root = open_root(c)?;
    let map = IdMap::of_container(&c.dir)?;
    let mut t = TarOut::new(out);
    walk_tar(&mut t, root.as_fd(), &[], &map, &|_| false)?;
    t.finish()
}

/// Destinations of the mounts in the container's OCI config (`/proc`,
/// `/dev`, `/etc/hosts`, ...): `run` creates what is missing of them in the
/// root, which is not the container's doing.
fn spec_mount_targets(dir: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read(dir.join("config.json")) else {
        return Vec::new();
    };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    v["mounts"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["destination"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

trait SplitLast {
    fn rsplit_once_byte(&self) -> (&[u8], &[u8]);
}

impl SplitLast for Vec<u8> {
    fn rsplit_once_byte(&self) -> (&[u8], &[u8]) {
        match self.iter().rposition(|&c| c == b'/') {
            Some(i) => (&self[..i], &self[i + 1..]),
            None => (&[], &self[..]),
        }
    }
}

/// Appends every entry below `dir` (named `rel/...`) to a tar, skipping
/// what `skip` says.
pub fn walk_tar<W: Write>(
    t: &mut TarOut<W>,
    dir: BorrowedFd<'_>,
    rel: &[u8],
    map: &IdMap,
    skip: &dyn Fn(&[u8]) -> bool,
) -> anyhow::Result<()> {
    for n in list(dir).with_context(|| format!("read /{}", String::from_utf8_lossy(rel)))? {
        let p = join(rel, &n);
        if skip(&p) {
            continue;
        }
        let Some(meta) = read_meta(dir, &n, map)
            .with_context(|| format!("stat /{}", String::from_utf8_lossy(&p)))?
        else {
            continue;
        };
        t.append(&p, &meta, dir, &n)?;
        if meta.kind == Kind::Dir {
            let sub = open_dir_at(dir, &n)
                .map_err(|e| denied(e, &format!("/{}", String::from_utf8_lossy(&p)), &meta))?;
            walk_tar(t, sub.as_fd(), &p, map, skip)?;
        }
    }
    Ok(())
}

/// The error of opening `shown`, saying what to do when the user may not
/// read it: a file the container gave to another of its ids is that host
/// subordinate id's, and only its "other" permission bits apply to us.
pub fn denied(e: io::Error, shown: &str, meta: &Meta) -> anyhow::Error {
    if e.raw_os_error() == Some(libc::EACCES) {
        anyhow::anyhow!(
            "open {shown}: permission denied: it belongs to uid {} in the container and its mode \
             {:04o} does not let others read it; make it readable (chmod o+rX) or give it to root \
             inside the container first",
            meta.uid,
            meta.mode
        )
    } else {
        anyhow::Error::new(e).context(format!("open {shown}"))
    }
}

/// A tar being written from entries read by fd.
pub struct TarOut<W: Write> {
    b: tar::Builder<W>,
    /// First path of each multiply-linked file: (dev, ino) -> path.
    links: std::collections::HashMap<(u64, u64), Vec<u8>>,
}

impl<W: Write> TarOut<W> {
    pub fn new(w: W) -> Self {
        let mut b = tar::Builder::new(w);
        b.mode(tar::HeaderMode::Complete);
        Self {
            b,
            links: Default::default(),
        }
    }

    fn header(meta: &Meta, kind: tar::EntryType, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(meta.mode);
        h.set_uid(meta.uid);
        h.set_gid(meta.gid);
        h.set_mtime(meta.mtime.0.max(0) as u64);
        h.set_size(size);
        h
    }

    fn whiteout(&mut self, path: &[u8]) -> anyhow::Result<()> {
        let meta = Meta {
            kind: Kind::File,
            uid: 0,
            gid: 0,
            mode: 0o644,
            size: 0,
            mtime: (0, 0),
            ctime: (0, 0),
            rdev: (0, 0),
            link: Vec::new(),
        };
        let mut h = Self::header(&meta, tar::EntryType::Regular, 0);
        self.b
            .append_data(&mut h, Path::new(OsStr::from_bytes(path)), io::empty())
            .context("write the tar")
    }

    /// Appends the entry `name` of `dir`, called `path` in the tar.
    pub fn append(
        &mut self,
        path: &[u8],
        meta: &Meta,
        dir: BorrowedFd<'_>,
        name: &OsStr,
    ) -> anyhow::Result<()> {
        let shown = || format!("/{}", String::from_utf8_lossy(path));
        let tpath = Path::new(OsStr::from_bytes(path));
        match meta.kind {
            Kind::Dir => {
                let mut h = Self::header(meta, tar::EntryType::Directory, 0);
                let mut p = path.to_vec();
                p.push(b'/');
                self.b
                    .append_data(&mut h, Path::new(OsStr::from_bytes(&p)), io::empty())
            }
            Kind::Symlink => {
                let mut h = Self::header(meta, tar::EntryType::Symlink, 0);
                self.b
                    .append_link(&mut h, tpath, Path::new(OsStr::from_bytes(&meta.link)))
            }
            Kind::Fifo => {
                let mut h = Self::header(meta, tar::EntryType::Fifo, 0);
                self.b.append_data(&mut h, tpath, io::empty())
            }
            Kind::Char | Kind::Block => {
                let kind = if meta.kind == Kind::Char {
                    tar::EntryType::Char
                } else {
                    tar::EntryType::Block
                };
                let mut h = Self::header(meta, kind, 0);
                h.set_device_major(meta.rdev.0 as u32)?;
                h.set_device_minor(meta.rdev.1 as u32)?;
                self.b.append_data(&mut h, tpath, io::empty())
            }
            Kind::Socket => return Ok(()),
            Kind::File => {
                let f = File::from(
                    open_at(dir, Path::new(name), OFlag::O_RDONLY)
                        .map_err(|e| denied(e, &shown(), meta))?,
                );
                let st = nix::sys::stat::fstat(f.as_raw_fd()).map_err(io_err)?;
                if st.st_nlink > 1 {
                    let key = (st.st_dev, st.st_ino);
                    if let Some(first) = self.links.get(&key) {
                        let mut h = Self::header(meta, tar::EntryType::Link, 0);
                        let target = first.clone();
                        return self
                            .b
                            .append_link(&mut h, tpath, Path::new(OsStr::from_bytes(&target)))
                            .with_context(|| format!("write {} to the tar", shown()));
                    }
                    self.links.insert(key, path.to_vec());
                }
                // The size as read now: a file that shrinks meanwhile is
                // padded, one that grows is cut, so the tar stays valid.
                let size = st.st_size as u64;
                let mut h = Self::header(meta, tar::EntryType::Regular, size);
                let data = f.take(size).chain(io::repeat(0)).take(size);
                self.b.append_data(&mut h, tpath, data)
            }
        }
        .with_context(|| format!("write {} to the tar", shown()))
    }

    pub fn finish(self) -> anyhow::Result<W> {
        self.b.into_inner().context("write the end of the tar")
    }
}

/// Layer directories of the container's image, in order.
pub fn image_layers(
    c: &super::Container,
) -> anyhow::Result<(
    crate::image::store::Store,
    crate::image::store::ImageRecord,
    Vec<PathBuf>,
)> {
    use crate::image::store::Store;
    let Some(id) = &c.record.image_id else {
        anyhow::bail!(
            "container {} was not made from an image (it runs on a --rootfs directory)",
            c.record.name
        );
    };
    let store = Store::open_default()?;
    let rec = {
        let _lock = store.lock_index(false)?;
        store
            .read_index()?
            .images
            .values()
            .find(|i| i.id.to_string() == *id)
            .cloned()
    };
    let Some(rec) = rec else {
        anyhow::bail!(
            "the image {id} of container {} is no longer in the store; pull or load it again",
            c.record.name
        );
    };
    let dirs = rec
        .layers
        .iter()
        .map(|l| store.layer_path(&l.diff_id))
        .collect();
    Ok((store, rec, dirs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_maps_translate_host_ids() {
        let m = IdMap {
            uids: vec![(0, 1000, 1), (1, 100000, 65536)],
            gids: vec![],
        };
        assert_eq!(m.uid(1000), 0);
        assert_eq!(m.uid(100000), 1);
        assert_eq!(m.uid(100999), 1000);
        assert_eq!(m.uid(5), 65534);
        assert_eq!(m.gid(5), 5);
    }

    #[test]
    fn override_records_give_the_containers_owner_and_mode() {
        let mut m = Meta {
            kind: Kind::File,
            uid: 0,
            gid: 0,
            mode: 0o640,
            size: 3,
            mtime: (0, 0),
            ctime: (0, 0),
            rdev: (0, 0),
            link: vec![],
        };
        let mut a = m.clone();
        apply_override(&mut a, b"1000:100:0440:file");
        assert_eq!((a.uid, a.gid, a.mode), (1000, 100, 0o440));
        // A mode the container set itself wins over the record.
        m.mode = 0o600;
        let mut b = m.clone();
        apply_override(&mut b, b"1000:100:0444:file");
        assert_eq!(b.mode, 0o600);
        let mut c = m.clone();
        apply_override(&mut c, b"0:0:0620:char-4-1");
        assert_eq!((c.kind, c.rdev, c.mode), (Kind::Char, (4, 1), 0o620));
        let mut d = m;
        apply_override(&mut d, b"garbage");
        assert_eq!(d.uid, 0);
    }

    fn paths(changes: &[Change]) -> Vec<String> {
        changes
            .iter()
            .map(|c| format!("{} {}", c.kind.letter(), c.shown()))
            .collect()
    }

    #[test]
    fn diff_finds_added_changed_and_deleted_entries() {
        use std::os::unix::fs::symlink;
        let d = tempfile::tempdir().unwrap();
        let l1 = d.path().join("l1");
        let l2 = d.path().join("l2");
        std::fs::create_dir_all(l1.join("etc/sub")).unwrap();
        std::fs::create_dir_all(l1.join("gone/deep")).unwrap();
        std::fs::create_dir_all(l1.join("opq")).unwrap();
        std::fs::write(l1.join("etc/keep"), b"keep").unwrap();
        std::fs::write(l1.join("etc/same"), b"abc").unwrap();
        std::fs::write(l1.join("etc/sub/x"), b"x").unwrap();
        std::fs::write(l1.join("opq/old"), b"o").unwrap();
        std::fs::write(l1.join("whited"), b"w").unwrap();
        std::fs::create_dir_all(l2.join("opq")).unwrap();
        std::fs::write(l2.join(".wh.whited"), b"").unwrap();
        std::fs::write(l2.join("opq/.wh..wh..opq"), b"").unwrap();
        std::fs::write(l2.join("opq/new"), b"n").unwrap();
        symlink("keep", l2.join("link")).unwrap();
        let root = d.path().join("root");
        std::fs::create_dir(&root).unwrap();
        for l in [&l1, &l2] {
            crate::image::unpack::apply_layer(l, &root).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        let stamp = d.path().join(STAMP_FILE);
        std::fs::write(&stamp, b"").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        // Changes: a new file, a rewritten file with its size and mtime
        // restored, a removed directory, a new file in a subdirectory.
        std::fs::write(root.join("added"), b"a").unwrap();
        let same = root.join("etc/same");
        let mtime = std::fs::metadata(&same).unwrap().modified().unwrap();
        std::fs::write(&same, b"xyz").unwrap();
        File::options()
            .write(true)
            .open(&same)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        std::fs::remove_dir_all(root.join("gone")).unwrap();
        std::fs::write(root.join("etc/sub/y"), b"y").unwrap();
        let me = nix::unistd::getuid().as_raw();
        let mg = nix::unistd::getgid().as_raw();
        let r = Root {
            dir: d.path().to_path_buf(),
            root: crate::storage::view::View::plain(File::open(&root).unwrap()),
            map: IdMap {
                uids: vec![(0, me.into(), 1)],
                gids: vec![(0, mg.into(), 1)],
            },
            excluded: vec![b"proc".to_vec()],
            stamp: Some({
                let st = nix::sys::stat::stat(&stamp).unwrap();
                (st.st_ctime, st.st_ctime_nsec)
            }),
        };
        std::fs::create_dir(root.join("proc")).unwrap();
        let changes = r.diff(&[l1.clone(), l2.clone()]).unwrap();
        assert_eq!(
            paths(&changes),
            [
                "A /added",
                "C /etc",
                "C /etc/same",
                "C /etc/sub",
                "A /etc/sub/y",
                "D /gone"
            ]
        );
        // The layer of these changes recreates the root from the image.
        let tar = r.write_layer(&changes, Vec::new()).unwrap();
        let mut a = tar::Archive::new(&tar[..]);
        let names: Vec<String> = a
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "added",
                "etc/",
                "etc/same",
                "etc/sub/",
                "etc/sub/y",
                ".wh.gone"
            ]
        );
        // An untouched root has no changes.
        let clean = d.path().join("clean");
        std::fs::create_dir(&clean).unwrap();
        for l in [&l1, &l2] {
            crate::image::unpack::apply_layer(l, &clean).unwrap();
        }
        let r2 = Root {
            root: crate::storage::view::View::plain(File::open(&clean).unwrap()),
            stamp: None,
            ..r
        };
        assert!(r2.diff(&[l1, l2]).unwrap().is_empty());
    }
}
