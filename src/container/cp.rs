//! `cp`: copies between a container and the host, for running and stopped
//! containers alike, without entering the container.
//!
//! The container's file system is its root directory plus its recorded
//! volume and bind mounts (a path under a mount target is that volume's
//! `_data` or that bind's source). Paths in it are resolved here one
//! component at a time, each opened by fd with `O_NOFOLLOW` (`openat2`
//! `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`): a symlink is read and its
//! target resolved again from the container's own root, so neither `/`,
//! `../../..` nor a symlink swapped in by a running container leads out
//! of it (the CVE-2018-15664 and CVE-2019-14271 classes). No code from the
//! container ever runs.
//!
//! Into the container, what is copied becomes a tar that is unpacked with
//! the layer unpacker into a scratch directory next to the root and then
//! applied onto the resolved destination with the layer copier (owners it
//! cannot set recorded in `user.containers.override_stat`); without `-a`
//! everything is owned by the container's root, as Docker does.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, BufRead, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context};
use nix::fcntl::{AtFlags, OFlag};

use super::changes::{io_err, list, open_at, open_dir_at, read_meta, IdMap, Kind, Meta, TarOut};
use crate::error::ExitError;
use crate::image::unpack::{self, Compression, Limits, OVERRIDE_STAT_XATTR};

enum Source {
    Path(PathBuf),
    Tmpfs,
}

/// A container's file system as `cp` sees it.
pub struct ContainerFs {
    name: String,
    dir: PathBuf,
    root: crate::storage::view::View,
    map: IdMap,
    /// (target, source), targets clean and absolute.
    mounts: Vec<(PathBuf, Source)>,
}

/// A resolved path: the directory that holds it and its name there
/// (`None`: the directory itself, for `/` and mount roots).
pub struct Resolved {
    dir: OwnedFd,
    name: Option<OsString>,
    /// The path in the container it was resolved to.
    pub path: PathBuf,
}

impl Resolved {
    fn name(&self) -> &OsStr {
        self.name.as_deref().unwrap_or(OsStr::new("."))
    }

    fn meta(&self, map: &IdMap) -> anyhow::Result<Option<Meta>> {
        read_meta(self.dir.as_fd(), self.name(), map)
            .with_context(|| format!("stat {}", self.path.display()))
    }

    fn open_dir(&self) -> anyhow::Result<OwnedFd> {
        open_dir_at(self.dir.as_fd(), self.name())
            .with_context(|| format!("open {}", self.path.display()))
    }
}

fn not_found(path: &str, container: &str) -> anyhow::Error {
    ExitError::new(
        1,
        format!("Could not find the file {path} in container {container}"),
    )
    .into()
}

impl ContainerFs {
    pub fn open(c: &super::Container) -> anyhow::Result<Self> {
        let root = super::changes::open_root(c)?;
        let mounts = c
            .record
            .mounts
            .iter()
            .map(|m| {
                let src = if m.typ == "tmpfs" {
                    Source::Tmpfs
                } else {
                    Source::Path(PathBuf::from(&m.source))
                };
                (crate::rootpath::clean(Path::new(&m.destination)), src)
            })
            .collect();
        Ok(Self {
            name: c.record.name.clone(),
            dir: c.dir.clone(),
            root,
            map: IdMap::of_container(&c.dir)?,
            mounts,
        })
    }

    fn mount_at(&self, p: &Path) -> Option<&Source> {
        self.mounts.iter().find(|(t, _)| t == p).map(|(_, s)| s)
    }

    /// Resolves `path` inside the container, following symlinks inside it
    /// (the last component only if `follow_last`).
    pub fn resolve(&self, path: &str, follow_last: bool) -> anyhow::Result<Resolved> {
        let mut want = crate::rootpath::clean(Path::new(path));
        for _ in 0..40 {
            let comps: Vec<OsString> = want
                .components()
                .filter_map(|c| match c {
                    Component::Normal(n) => Some(n.to_os_string()),
                    _ => None,
                })
                .collect();
            let mut fd = open_dir_at(self.root.as_fd(), OsStr::new("."))
                .context("open the container's root")?;
            let mut cur = PathBuf::from("/");
            let mut restart = None;
            for (i, c) in comps.iter().enumerate() {
                let last = i + 1 == comps.len();
                let next = cur.join(c);
                if let Some(src) = self.mount_at(&next) {
                    let Source::Path(src) = src else {
                        bail!(
                            "{} is on a tmpfs mount of container {}: its content lives only inside \
                             the running container; use `coracle exec` to reach it",
                            next.display(),
                            self.name
                        );
                    };
                    let md = std::fs::metadata(src).with_context(|| {
                        format!("stat {} (mounted on {})", src.display(), next.display())
                    })?;
                    if md.is_dir() {
                        fd = File::open(src)
                            .with_context(|| format!("open {}", src.display()))?
                            .into();
                        cur = next;
                        continue;
                    }
                    if !last {
                        bail!("{}: not a directory", next.display());
                    }
                    let parent = src.parent().unwrap_or(Path::new("/"));
                    return Ok(Resolved {
                        dir: File::open(parent)
                            .with_context(|| format!("open {}", parent.display()))?
                            .into(),
                        name: src.file_name().map(|n| n.to_os_string()),
                        path: next,
                    });
                }
                let st = match nix::sys::stat::fstatat(
                    Some(fd.as_raw_fd()),
                    c.as_os_str(),
                    AtFlags::AT_SYMLINK_NOFOLLOW,
                ) {
                    Ok(st) => Some(st),
                    Err(nix::Error::ENOENT) => None,
                    Err(e) => {
                        return Err(io_err(e)).with_context(|| format!("stat {}", next.display()))
                    }
                };
                let Some(st) = st else {
                    if last {
                        return Ok(Resolved {
                            dir: fd,
                            name: Some(c.clone()),
                            path: next,
                        });
                    }
                    return Err(not_found(path, &self.name));
                };
                let kind = st.st_mode & libc::S_IFMT;
                if kind == libc::S_IFLNK && (!last || follow_last) {
                    let target = nix::fcntl::readlinkat(Some(fd.as_raw_fd()), c.as_os_str())
                        .map_err(io_err)
                        .with_context(|| format!("read symlink {}", next.display()))?;
                    // Resolved again from the container's root: an absolute
                    // target or `..` never leaves it.
                    let mut np = if Path::new(&target).is_absolute() {
                        PathBuf::from(&target)
                    } else {
                        cur.join(&target)
                    };
                    for rest in &comps[i + 1..] {
                        np.push(rest);
                    }
                    restart = Some(crate::rootpath::clean(&np));
                    break;
                }
                if last {
                    return Ok(Resolved {
                        dir: fd,
                        name: Some(c.clone()),
                        path: next,
                    });
                }
                if kind != libc::S_IFDIR {
                    bail!(
                        "{}: not a directory (in container {})",
                        next.display(),
                        self.name
                    );
                }
                fd = open_dir_at(fd.as_fd(), c)
                    .with_context(|| format!("open {}", next.display()))?;
                cur = next;
            }
            match restart {
                Some(p) => want = p,
                None => {
                    return Ok(Resolved {
                        dir: fd,
                        name: None,
                        path: cur,
                    })
                }
            }
        }
        bail!(
            "{path}: too many levels of symbolic links in container {}",
            self.name
        )
    }

    /// Visits `name` in `dir` (container path `cpath`, `rel` in the copy)
    /// and everything below it, crossing into mounts as the container sees
    /// them; directories are visited again after their content.
    fn walk(
        &self,
        dir: BorrowedFd<'_>,
        name: &OsStr,
        cpath: &Path,
        rel: &Path,
        f: &mut dyn FnMut(Visit<'_>) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let Some(meta) =
            read_meta(dir, name, &self.map).with_context(|| format!("stat {}", cpath.display()))?
        else {
            return Ok(()); // gone meanwhile
        };
        f(Visit::Entry {
            rel,
            meta: &meta,
            dir,
            name,
        })?;
        if meta.kind != Kind::Dir {
            return Ok(());
        }
        let sub = open_dir_at(dir, name)
            .map_err(|e| super::changes::denied(e, &cpath.display().to_string(), &meta))?;
        for n in list(sub.as_fd()).with_context(|| format!("read {}", cpath.display()))? {
            let cp = cpath.join(&n);
            let r = rel.join(&n);
            match self.mount_at(&cp) {
                None => self.walk(sub.as_fd(), &n, &cp, &r, f)?,
                Some(Source::Tmpfs) => eprintln!(
                    "coracle: skipped {}: a tmpfs mount lives only inside the running container",
                    cp.display()
                ),
                Some(Source::Path(src)) => {
                    if src.is_dir() {
                        let d =
                            File::open(src).with_context(|| format!("open {}", src.display()))?;
                        self.walk(d.as_fd(), OsStr::new("."), &cp, &r, f)?;
                    } else {
                        let parent = src.parent().unwrap_or(Path::new("/"));
                        let d = File::open(parent)
                            .with_context(|| format!("open {}", parent.display()))?;
                        let fname = src.file_name().unwrap_or_default();
                        self.walk(d.as_fd(), fname, &cp, &r, f)?;
                    }
                }
            }
        }
        f(Visit::Leave { rel, meta: &meta })
    }
}

enum Visit<'a> {
    Entry {
        rel: &'a Path,
        meta: &'a Meta,
        dir: BorrowedFd<'a>,
        name: &'a OsStr,
    },
    Leave {
        rel: &'a Path,
        meta: &'a Meta,
    },
}

/// Where a path's last component tells what to copy: `/.` at the end
/// means "the content of the directory".
fn copies_content(p: &str) -> bool {
    p.ends_with("/.") || p == "."
}

/// `cp CONTAINER:SRC DEST` (DEST `-`: a tar on standard output).
pub fn copy_out(fs: &ContainerFs, src: &str, dest: &str, follow: bool) -> anyhow::Result<()> {
    let contents = copies_content(src);
    let r = fs.resolve(src, follow)?;
    let Some(meta) = r.meta(&fs.map)? else {
        return Err(not_found(src, &fs.name));
    };
    if (contents || src.ends_with('/')) && meta.kind != Kind::Dir {
        bail!("{src} in container {} is not a directory", fs.name);
    }
    // The copy keeps the name given (with -L too, as Docker does).
    let base = crate::rootpath::clean(Path::new(src))
        .file_name()
        .map(|n| n.to_os_string());
    if dest == "-" {
        let stdout = io::stdout();
        if std::io::IsTerminal::is_terminal(&stdout) {
            bail!("refusing to write a tar archive to a terminal: redirect the output or give a destination path");
        }
        let prefix = match (&base, contents) {
            (Some(b), false) => PathBuf::from(b),
            _ => PathBuf::from("."),
        };
        let mut t = TarOut::new(io::BufWriter::new(stdout.lock()));
        fs.walk(r.dir.as_fd(), r.name(), &r.path, &prefix, &mut |v| {
            if let Visit::Entry {
                rel,
                meta,
                dir,
                name,
            } = v
            {
                t.append(rel.as_os_str().as_bytes(), meta, dir, name)?;
            }
            Ok(())
        })?;
        t.finish()?.flush()?;
        return Ok(());
    }
    let d = Path::new(dest);
    let target = match std::fs::metadata(d) {
        Ok(dm) if dm.is_dir() => {
            if meta.kind == Kind::Dir && contents {
                d.to_path_buf()
            } else {
                match &base {
                    Some(b) => d.join(b),
                    None => d.to_path_buf(),
                }
            }
        }
        Ok(_) => {
            if meta.kind == Kind::Dir {
                bail!("cannot copy a directory to a file: {dest} exists and is not a directory");
            }
            d.to_path_buf()
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if meta.kind != Kind::Dir && dest.ends_with('/') {
                bail!("no such directory: {dest} (create it first or drop the trailing /)");
            }
            let parent = d.parent().filter(|p| !p.as_os_str().is_empty());
            if let Some(p) = parent {
                if !p.is_dir() {
                    bail!("no such directory: {} (create it first)", p.display());
                }
            }
            d.to_path_buf()
        }
        Err(e) => return Err(e).with_context(|| format!("stat {dest}")),
    };
    let at = |rel: &Path| {
        if rel.as_os_str().is_empty() {
            target.clone()
        } else {
            target.join(rel)
        }
    };
    fs.walk(
        r.dir.as_fd(),
        r.name(),
        &r.path,
        Path::new(""),
        &mut |v| match v {
            Visit::Entry {
                rel,
                meta,
                dir,
                name,
            } => write_host(&at(rel), meta, dir, name),
            Visit::Leave { rel, meta } => {
                let p = at(rel);
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(meta.mode & 0o1777))
                    .with_context(|| format!("chmod {}", p.display()))?;
                set_mtime(&p, meta)
            }
        },
    )
}

fn set_mtime(p: &Path, meta: &Meta) -> anyhow::Result<()> {
    let t = nix::sys::time::TimeSpec::new(meta.mtime.0, meta.mtime.1);
    nix::sys::stat::utimensat(
        None,
        p,
        &t,
        &t,
        nix::sys::stat::UtimensatFlags::NoFollowSymlink,
    )
    .map_err(io_err)
    .with_context(|| format!("set the mtime of {}", p.display()))
}

/// Writes one entry read from the container to the host path `p` (owned
/// by the user; setuid and setgid bits are dropped).
fn write_host(p: &Path, meta: &Meta, dir: BorrowedFd<'_>, name: &OsStr) -> anyhow::Result<()> {
    let existing = std::fs::symlink_metadata(p).ok();
    let clear = |p: &Path| -> anyhow::Result<()> {
        if let Some(m) = &existing {
            if m.is_dir() {
                bail!(
                    "cannot overwrite directory {} with a non-directory",
                    p.display()
                );
            }
            std::fs::remove_file(p).with_context(|| format!("remove {}", p.display()))?;
        }
        Ok(())
    };
    match meta.kind {
        Kind::Dir => match &existing {
            Some(m) if m.is_dir() => {
                // Writable while it is filled; its mode is set afterwards.
                let mode = m.mode() | 0o700;
                std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode & 0o7777))
                    .with_context(|| format!("chmod {}", p.display()))?;
            }
            Some(_) => bail!(
                "cannot overwrite non-directory {} with a directory",
                p.display()
            ),
            None => {
                std::fs::create_dir(p).with_context(|| format!("create {}", p.display()))?;
            }
        },
        Kind::File => {
            let mut src = File::from(
                open_at(dir, Path::new(name), OFlag::O_RDONLY)
                    .map_err(|e| super::changes::denied(e, &name.to_string_lossy(), meta))?,
            );
            if existing.as_ref().is_some_and(|m| !m.is_file()) {
                clear(p)?;
            }
            let mut out = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .custom_flags(libc::O_NOFOLLOW)
                .mode(0o600)
                .open(p)
                .with_context(|| format!("create {}", p.display()))?;
            io::copy(&mut src, &mut out).with_context(|| format!("write {}", p.display()))?;
            out.set_permissions(std::fs::Permissions::from_mode(meta.mode & 0o1777))
                .with_context(|| format!("chmod {}", p.display()))?;
            drop(out);
            set_mtime(p, meta)?;
        }
        Kind::Symlink => {
            clear(p)?;
            std::os::unix::fs::symlink(OsStr::from_bytes(&meta.link), p)
                .with_context(|| format!("create symlink {}", p.display()))?;
            set_mtime(p, meta)?;
        }
        Kind::Fifo => {
            clear(p)?;
            nix::unistd::mkfifo(
                p,
                nix::sys::stat::Mode::from_bits_truncate(meta.mode & 0o777),
            )
            .map_err(io_err)
            .with_context(|| format!("create fifo {}", p.display()))?;
        }
        Kind::Char | Kind::Block | Kind::Socket => {
            eprintln!(
                "coracle: skipped {}: device nodes and sockets are not copied to the host",
                p.display()
            );
        }
    }
    Ok(())
}

/// `cp SRC CONTAINER:DEST` (SRC `-`: a tar on standard input).
pub fn copy_in(
    fs: &ContainerFs,
    src: &str,
    dest: &str,
    archive: bool,
    follow: bool,
) -> anyhow::Result<()> {
    let r = fs.resolve(dest, true)?;
    let dmeta = r.meta(&fs.map)?;
    if src == "-" {
        if dmeta.as_ref().map(|m| m.kind) != Some(Kind::Dir) {
            bail!("destination {dest} in container {} must be an existing directory when copying a tar stream", fs.name);
        }
        let stdin = io::stdin();
        if std::io::IsTerminal::is_terminal(&stdin) {
            bail!("no tar archive on standard input: redirect one into coracle cp -");
        }
        let target = r.open_dir()?;
        let owners = if archive {
            Owners::Archive
        } else {
            Owners::Root
        };
        return extract(fs, target.as_fd(), stdin.lock(), owners);
    }
    let s = Path::new(src);
    let smd = if follow {
        std::fs::metadata(s)
    } else {
        std::fs::symlink_metadata(s)
    }
    .with_context(|| format!("stat {src}"))?;
    let contents = copies_content(src);
    if (contents || src.ends_with('/')) && !smd.is_dir() {
        bail!("{src} is not a directory");
    }
    // The copy keeps the name given (with -L too, as Docker does).
    let base = s
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| OsString::from("."));
    // The directory to extract into, and what the copy is called there
    // (`None`: the source directory's content goes straight in).
    let (target, name): (OwnedFd, Option<OsString>) = match &dmeta {
        Some(m) if m.kind == Kind::Dir => (
            r.open_dir()?,
            if smd.is_dir() && contents {
                None
            } else {
                Some(base)
            },
        ),
        Some(_) if smd.is_dir() => {
            bail!("cannot copy a directory to a file: {dest} exists in container {} and is not a directory", fs.name)
        }
        Some(_) => (r.dir.try_clone()?, r.name.clone()),
        None => {
            if dest.ends_with('/') {
                bail!(
                    "no such directory: {dest} in container {} (create it first or drop the trailing /)",
                    fs.name
                );
            }
            (r.dir.try_clone()?, r.name.clone())
        }
    };
    // As Docker: a directory in the container is never replaced by a file
    // or a file by a directory.
    if let Some(n) = &name {
        if let Some(m) = read_meta(target.as_fd(), n, &fs.map)
            .with_context(|| format!("stat {dest} in container {}", fs.name))?
        {
            if smd.is_dir() && m.kind != Kind::Dir {
                bail!(
                    "cannot overwrite non-directory {:?} with a directory (in container {})",
                    n,
                    fs.name
                );
            }
            if !smd.is_dir() && m.kind == Kind::Dir {
                bail!(
                    "cannot overwrite directory {:?} with a non-directory (in container {})",
                    n,
                    fs.name
                );
            }
        }
    }
    let scratch = Scratch::new(fs)?;
    let tar_path = scratch.dir.join("copy.tar");
    {
        let f =
            File::create(&tar_path).with_context(|| format!("create {}", tar_path.display()))?;
        let mut b = tar::Builder::new(io::BufWriter::new(f));
        b.follow_symlinks(false);
        match &name {
            Some(n) => host_tar(&mut b, s, Path::new(n), archive, follow)?,
            None => {
                for e in sorted_dir(s)? {
                    host_tar(&mut b, &s.join(&e), Path::new(&e), archive, false)?;
                }
            }
        }
        b.into_inner()
            .context("write the tar")?
            .flush()
            .context("write the tar")?;
    }
    let f = File::open(&tar_path).with_context(|| format!("open {}", tar_path.display()))?;
    let owners = if archive {
        Owners::Host {
            src: s,
            name: name.as_deref(),
            follow,
        }
    } else {
        Owners::Root
    };
    extract_with(fs, &scratch, target.as_fd(), io::BufReader::new(f), owners)
}

/// Whose files the copy makes.
#[derive(Clone, Copy)]
enum Owners<'a> {
    /// The container's root (Docker's default).
    Root,
    /// The archive's owners (`-a` with a tar stream).
    Archive,
    /// The host files' owners (`-a`): `src` is the copied host path, named
    /// `name` in the copy (`None`: its content was copied).
    Host {
        src: &'a Path,
        name: Option<&'a OsStr>,
        follow: bool,
    },
}

impl Owners<'_> {
    /// The host file a path of the copy came from, and whether to follow it.
    fn host_path(&self, rel: &Path) -> Option<(PathBuf, bool)> {
        let Owners::Host { src, name, follow } = *self else {
            return None;
        };
        match name {
            None => Some((src.join(rel), false)),
            Some(n) => {
                let rest = rel.strip_prefix(n).ok()?;
                if rest.as_os_str().is_empty() {
                    Some((src.to_path_buf(), follow))
                } else {
                    Some((src.join(rest), false))
                }
            }
        }
    }
}

fn sorted_dir(p: &Path) -> anyhow::Result<Vec<OsString>> {
    let mut names: Vec<OsString> = std::fs::read_dir(p)
        .with_context(|| format!("read {}", p.display()))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<_>>()
        .with_context(|| format!("read {}", p.display()))?;
    names.sort();
    Ok(names)
}

/// Appends a host file or tree to a tar as `tpath`.
fn host_tar<W: Write>(
    b: &mut tar::Builder<W>,
    p: &Path,
    tpath: &Path,
    archive: bool,
    follow: bool,
) -> anyhow::Result<()> {
    let md = if follow {
        std::fs::metadata(p)
    } else {
        std::fs::symlink_metadata(p)
    }
    .with_context(|| format!("stat {}", p.display()))?;
    let mut h = tar::Header::new_gnu();
    h.set_metadata_in_mode(&md, tar::HeaderMode::Complete);
    if !archive {
        h.set_uid(0);
        h.set_gid(0);
    }
    let ft = md.file_type();
    let fail = || format!("add {} to the copy", p.display());
    if ft.is_dir() {
        h.set_size(0);
        let mut name = tpath.as_os_str().as_bytes().to_vec();
        name.push(b'/');
        b.append_data(&mut h, Path::new(OsStr::from_bytes(&name)), io::empty())
            .with_context(fail)?;
        for e in sorted_dir(p)? {
            host_tar(b, &p.join(&e), &tpath.join(&e), archive, false)?;
        }
    } else if ft.is_file() {
        let f = File::open(p).with_context(|| format!("open {}", p.display()))?;
        let size = md.len();
        b.append_data(&mut h, tpath, f.take(size).chain(io::repeat(0)).take(size))
            .with_context(fail)?;
    } else if ft.is_symlink() {
        h.set_size(0);
        let target = std::fs::read_link(p).with_context(|| format!("read {}", p.display()))?;
        b.append_link(&mut h, tpath, target).with_context(fail)?;
    } else {
        eprintln!(
            "coracle: skipped {}: only files, directories and symlinks are copied",
            p.display()
        );
    }
    Ok(())
}

/// A scratch directory in the container's directory, removed on drop.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(fs: &ContainerFs) -> anyhow::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let dir = fs.dir.join(format!(".cp-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&dir).with_context(|| format!("create {}", dir.display()))?;
        Ok(Self { dir })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = crate::image::store::remove(&self.dir);
    }
}

fn extract(
    fs: &ContainerFs,
    target: BorrowedFd<'_>,
    input: impl Read,
    owners: Owners<'_>,
) -> anyhow::Result<()> {
    let scratch = Scratch::new(fs)?;
    extract_with(
        fs,
        &scratch,
        target,
        io::BufReader::with_capacity(64 << 10, input),
        owners,
    )
}

/// Unpacks a tar (plain, gzip or zstd) into the scratch directory, then
/// applies it onto `target` (a directory opened inside the container).
fn extract_with(
    fs: &ContainerFs,
    scratch: &Scratch,
    target: BorrowedFd<'_>,
    mut input: impl BufRead,
    owners: Owners<'_>,
) -> anyhow::Result<()> {
    let head = input.fill_buf().context("read the tar")?;
    let compression = Compression::sniff(&head[..head.len().min(8)]);
    let tree = scratch.dir.join("tree");
    std::fs::create_dir(&tree).with_context(|| format!("create {}", tree.display()))?;
    unpack::unpack_layer(input, compression, &tree, &Limits::default())
        .context("read the tar to copy")?;
    let t = File::open(&tree).with_context(|| format!("open {}", tree.display()))?;
    prepare_tree(t.as_fd(), Path::new(""), owners)?;
    let dest = crate::rootpath::fd_path(target);
    unpack::apply_layer(&tree, &dest)
        .with_context(|| format!("copy into container {}", fs.name))?;
    Ok(())
}

/// Refuses whiteout names (the layer copier would delete what they name)
/// and sets the owners: without `-a` every recorded owner becomes the
/// container's root; with `-a` from the host, a file of the user's own
/// uid or gid (which the unpacker could keep on disk, so it recorded
/// nothing, and which the container would see as root's) gets its host
/// owner recorded.
fn prepare_tree(dir: BorrowedFd<'_>, rel: &Path, owners: Owners<'_>) -> anyhow::Result<()> {
    for n in list(dir).with_context(|| format!("read {}", rel.display()))? {
        let r = rel.join(&n);
        if n.as_bytes().starts_with(b".wh.") {
            bail!(
                "the copy contains {:?}: names starting with .wh. are whiteouts in image layers \
                 and are not copied into containers; rename it",
                r
            );
        }
        let st = nix::sys::stat::fstatat(
            Some(dir.as_raw_fd()),
            n.as_os_str(),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(io_err)?;
        let kind = st.st_mode & libc::S_IFMT;
        if kind == libc::S_IFDIR || kind == libc::S_IFREG {
            let p = crate::rootpath::fd_path(dir).join(&n);
            let rec = match xattr::get(&p, OVERRIDE_STAT_XATTR) {
                Ok(v) => v,
                Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => None,
                Err(e) => {
                    return Err(e).with_context(|| format!("read the owner of {}", r.display()))
                }
            };
            let value = match (owners, rec) {
                (Owners::Root, Some(v)) => {
                    let s = String::from_utf8_lossy(&v).into_owned();
                    let f: Vec<&str> = s.splitn(3, ':').collect();
                    (f.len() == 3).then(|| format!("0:0:{}", f[2]))
                }
                (Owners::Host { .. }, None) => match owners.host_path(&r) {
                    Some((hp, follow)) => {
                        let md = if follow {
                            std::fs::metadata(&hp)
                        } else {
                            std::fs::symlink_metadata(&hp)
                        }
                        .with_context(|| format!("stat {}", hp.display()))?;
                        let me = (
                            nix::unistd::geteuid().as_raw(),
                            nix::unistd::getegid().as_raw(),
                        );
                        let lost = (md.uid(), md.gid()) != (0, 0)
                            && (md.uid() == me.0 || md.gid() == me.1);
                        lost.then(|| {
                            format!(
                                "{}:{}:{:04o}:{}",
                                md.uid(),
                                md.gid(),
                                md.mode() & 0o7777,
                                if md.is_dir() { "dir" } else { "file" }
                            )
                        })
                    }
                    None => None,
                },
                _ => None,
            };
            if let Some(value) = value {
                xattr::set(&p, OVERRIDE_STAT_XATTR, value.as_bytes())
                    .with_context(|| format!("record the owner of {}", r.display()))?;
            }
        }
        if kind == libc::S_IFDIR {
            let sub = open_dir_at(dir, &n)?;
            prepare_tree(sub.as_fd(), &r, owners)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A root with escaping symlinks and a volume mounted on /vol.
    fn fixture() -> (tempfile::TempDir, ContainerFs) {
        use std::os::unix::fs::symlink;
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("root");
        let vol = d.path().join("vol");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::create_dir_all(root.join("vol")).unwrap();
        std::fs::create_dir_all(&vol).unwrap();
        std::fs::write(root.join("etc/inside"), b"inside").unwrap();
        std::fs::write(vol.join("v"), b"volume").unwrap();
        std::fs::write(d.path().join("outside"), b"host").unwrap();
        symlink("/", root.join("abs")).unwrap();
        symlink("../../../../..", root.join("etc/up")).unwrap();
        symlink("/vol/v", root.join("tovol")).unwrap();
        symlink("loop", root.join("loop")).unwrap();
        let fs = ContainerFs {
            name: "t".into(),
            dir: d.path().to_path_buf(),
            root: crate::storage::view::View::plain(File::open(&root).unwrap()),
            map: IdMap::default(),
            mounts: vec![
                (PathBuf::from("/vol"), Source::Path(vol)),
                (PathBuf::from("/tmpfs"), Source::Tmpfs),
            ],
        };
        (d, fs)
    }

    fn content(fs: &ContainerFs, path: &str, follow: bool) -> Option<Vec<u8>> {
        let r = fs.resolve(path, follow).ok()?;
        let mut f = File::from(open_at(r.dir.as_fd(), Path::new(r.name()), OFlag::O_RDONLY).ok()?);
        let mut v = Vec::new();
        f.read_to_end(&mut v).unwrap();
        Some(v)
    }

    #[test]
    fn symlinks_resolve_inside_the_container() {
        let (d, fs) = fixture();
        let outside = d.path().join("outside");
        let o = outside.to_str().unwrap();
        assert_eq!(content(&fs, "/etc/inside", false).unwrap(), b"inside");
        assert_eq!(content(&fs, "/abs/etc/inside", false).unwrap(), b"inside");
        assert_eq!(
            content(&fs, "/etc/up/etc/inside", false).unwrap(),
            b"inside"
        );
        assert_eq!(content(&fs, "../../etc/inside", false).unwrap(), b"inside");
        // The host file is never reached, however the path climbs.
        for p in [
            format!("/abs{o}"),
            format!("/etc/up{o}"),
            format!("/etc/up/..{o}"),
            format!("../../..{o}"),
        ] {
            assert!(content(&fs, &p, true).is_none(), "{p} reached the host");
        }
        // Mounts: directly, through a symlink, and followed last only with -L.
        assert_eq!(content(&fs, "/vol/v", false).unwrap(), b"volume");
        assert_eq!(content(&fs, "/tovol", true).unwrap(), b"volume");
        let r = fs.resolve("/tovol", false).unwrap();
        assert_eq!(r.path, Path::new("/tovol"));
        assert_eq!(r.meta(&fs.map).unwrap().unwrap().kind, Kind::Symlink);
        let r = fs.resolve("/vol", false).unwrap();
        assert!(r.name.is_none(), "a mount root is the mounted directory");
        // Loops end, tmpfs is refused, a missing parent is not found.
        let e = fs.resolve("/loop", true).err().unwrap();
        assert!(format!("{e:#}").contains("too many levels"), "{e:#}");
        let e = fs.resolve("/tmpfs/x", false).err().unwrap();
        assert!(format!("{e:#}").contains("tmpfs"), "{e:#}");
        let e = fs.resolve("/nope/x", false).err().unwrap();
        assert!(format!("{e:#}").contains("Could not find"), "{e:#}");
        let r = fs.resolve("/etc/new", false).unwrap();
        assert!(
            r.meta(&fs.map).unwrap().is_none(),
            "a missing last component resolves"
        );
    }
}
