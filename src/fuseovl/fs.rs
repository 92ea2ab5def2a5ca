//! The overlay itself: a node table over the layers, and the `fuser`
//! adapter. Every error becomes an errno reply; nothing here panics on
//! what a layer or a request contains.

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fuser::{
    Errno, FileAttr, FileHandle, FileType, FopenFlags, Generation, INodeNo, KernelConfig,
    ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyDirectoryPlus, ReplyEmpty, ReplyEntry,
    ReplyOpen, ReplyStatfs, ReplyWrite, ReplyXattr, Request, TimeOrNow,
};
use nix::errno::Errno as NixErrno;
use nix::fcntl::{AtFlags, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{FileStat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{Gid, Uid, UnlinkatFlags};

use super::Config;

/// Largest read and write request.
pub const MAX_IO: u32 = 1 << 20;
/// Lower layers never change and the upper only through us: the kernel
/// may cache names and attributes for as long as it likes.
const TTL: Duration = Duration::from_secs(86400);
const UPPER: usize = 0;
const OPAQUE_XATTR: &str = "user.overlay.opaque";
const OVERRIDE_XATTR: &str = crate::image::unpack::OVERRIDE_STAT_XATTR;
const OCI_OPAQUE: &[u8] = b".wh..wh..opq";
const WH: &[u8] = b".wh.";

type Res<T> = Result<T, i32>;

fn ioerr(e: io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}
fn nerr(e: NixErrno) -> i32 {
    e as i32
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dir,
    File,
    Symlink,
    Other,
}

fn kind_of(mode: u32) -> Kind {
    match mode & libc::S_IFMT {
        libc::S_IFDIR => Kind::Dir,
        libc::S_IFREG => Kind::File,
        libc::S_IFLNK => Kind::Symlink,
        _ => Kind::Other,
    }
}

#[derive(Debug)]
struct Node {
    /// (parent, name) of each link; the first is used to reach it.
    names: Vec<(u64, OsString)>,
    kind: Kind,
    /// Topmost layer holding it (0: the upper).
    layer: usize,
    /// Directories: the lower layers merged below `layer`, topmost first.
    lowers: Vec<usize>,
}

#[derive(Default)]
struct Table {
    nodes: HashMap<u64, Node>,
    children: HashMap<(u64, OsString), u64>,
    /// (layer, dev, ino) of multiply-linked files -> node.
    links: HashMap<(usize, u64, u64), u64>,
    next: u64,
}

struct IoFd {
    file: Arc<File>,
    write: bool,
    layer: usize,
}

/// Most cached I/O descriptors before the cache is emptied.
const MAX_FDS: usize = 4096;

struct DirHandle {
    entries: Vec<(OsString, Kind)>,
}

enum Handle {
    File(Arc<File>),
    Dir(Arc<DirHandle>),
}

/// Owner, group, mode and type as presented.
#[derive(Debug, Clone, Copy)]
struct Owner {
    uid: u32,
    gid: u32,
    mode: u32,
    rdev: Option<u64>,
    kind_override: Option<u32>,
}

pub struct Overlay {
    /// Ids mapped in the daemon's user namespace (start, count): a
    /// recorded owner outside them is shown as root (the kernel would show
    /// the overflow id, whose files even root could not enter).
    uid_map: Vec<(u32, u32)>,
    gid_map: Vec<(u32, u32)>,
    layers: Vec<OwnedFd>,
    work: OwnedFd,
    emulate: bool,
    table: RwLock<Table>,
    /// Serialises every change of the tree (creation, removal, copy-up).
    mutate: Mutex<()>,
    handles: Mutex<HashMap<u64, Handle>>,
    /// One descriptor per file for I/O: opens reach the daemon once
    /// (FUSE "no open" mode), reads and writes carry only the inode.
    fds: Mutex<HashMap<u64, IoFd>>,
    /// Files whose last name went while the kernel may still use them.
    pinned: Mutex<HashMap<u64, Arc<File>>>,
    /// Directory listings being read (FUSE "no opendir" mode).
    listings: Mutex<HashMap<u64, Arc<DirHandle>>>,
    no_open: bool,
    no_opendir: bool,
    /// Cached I/O descriptors at most (a quarter of the descriptor limit).
    max_fds: usize,
    next_fh: AtomicU64,
    tmp_seq: AtomicU64,
}

fn how(flags: OFlag) -> OpenHow {
    OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW)
        .resolve(
            ResolveFlag::RESOLVE_BENEATH
                | ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_MAGICLINKS,
        )
}

fn open_beneath(base: BorrowedFd<'_>, rel: &Path, flags: OFlag) -> Res<OwnedFd> {
    let rel = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    crate::sys::openat2(base, rel, how(flags)).map_err(ioerr)
}

fn lstat_at(dir: BorrowedFd<'_>, name: &OsStr) -> Res<Option<FileStat>> {
    match nix::sys::stat::fstatat(Some(dir.as_raw_fd()), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(st)),
        Err(NixErrno::ENOENT) | Err(NixErrno::ENOTDIR) => Ok(None),
        Err(e) => Err(nerr(e)),
    }
}

fn fd_path(fd: BorrowedFd<'_>) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

fn get_xattr(fd: BorrowedFd<'_>, name: &str) -> Option<Vec<u8>> {
    xattr::get_deref(fd_path(fd), name).ok().flatten()
}

fn is_whiteout_dev(st: &FileStat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFCHR && st.st_rdev == 0
}

fn ts(sec: i64, nsec: i64) -> SystemTime {
    if sec >= 0 {
        UNIX_EPOCH + Duration::new(sec as u64, nsec.clamp(0, 999_999_999) as u32)
    } else {
        UNIX_EPOCH
            .checked_sub(Duration::from_secs(sec.unsigned_abs()))
            .unwrap_or(UNIX_EPOCH)
    }
}

fn ftype(mode: u32) -> FileType {
    match mode & libc::S_IFMT {
        libc::S_IFDIR => FileType::Directory,
        libc::S_IFLNK => FileType::Symlink,
        libc::S_IFCHR => FileType::CharDevice,
        libc::S_IFBLK => FileType::BlockDevice,
        libc::S_IFIFO => FileType::NamedPipe,
        libc::S_IFSOCK => FileType::Socket,
        _ => FileType::RegularFile,
    }
}

/// Parses `UID:GID:MODE[:TYPE]`.
fn parse_override(v: &[u8]) -> Option<Owner> {
    let s = std::str::from_utf8(v).ok()?;
    let mut p = s.trim().split(':');
    let uid = p.next()?.parse().ok()?;
    let gid = p.next()?.parse().ok()?;
    let mode = u32::from_str_radix(p.next()?, 8).ok()? & 0o7777;
    let (mut kind, mut rdev) = (None, None);
    if let Some(t) = p.next() {
        let dev = |rest: &str| -> Option<u64> {
            let (ma, mi) = rest.split_once('-')?;
            Some(nix::sys::stat::makedev(ma.parse().ok()?, mi.parse().ok()?))
        };
        match t {
            "file" => kind = Some(libc::S_IFREG),
            "dir" => kind = Some(libc::S_IFDIR),
            "symlink" => kind = Some(libc::S_IFLNK),
            "pipe" => kind = Some(libc::S_IFIFO),
            "socket" => kind = Some(libc::S_IFSOCK),
            t if t.starts_with("char-") => {
                kind = Some(libc::S_IFCHR);
                rdev = dev(&t[5..]);
            }
            t if t.starts_with("block-") => {
                kind = Some(libc::S_IFBLK);
                rdev = dev(&t[6..]);
            }
            _ => {}
        }
    }
    Some(Owner {
        uid,
        gid,
        mode,
        rdev,
        kind_override: kind,
    })
}

fn type_word(mode: u32, rdev: u64) -> String {
    match mode & libc::S_IFMT {
        libc::S_IFDIR => "dir".into(),
        libc::S_IFLNK => "symlink".into(),
        libc::S_IFIFO => "pipe".into(),
        libc::S_IFSOCK => "socket".into(),
        libc::S_IFCHR => format!(
            "char-{}-{}",
            nix::sys::stat::major(rdev),
            nix::sys::stat::minor(rdev)
        ),
        libc::S_IFBLK => format!(
            "block-{}-{}",
            nix::sys::stat::major(rdev),
            nix::sys::stat::minor(rdev)
        ),
        _ => "file".into(),
    }
}

impl Overlay {
    /// Opens the layer directories (the daemon keeps them open).
    pub fn open(cfg: &Config) -> io::Result<Overlay> {
        let open = |p: &Path| -> io::Result<OwnedFd> {
            use std::os::unix::fs::OpenOptionsExt;
            let f = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
                .open(p)
                .map_err(|e| io::Error::other(format!("open layer {}: {e}", p.display())))?;
            Ok(OwnedFd::from(f))
        };
        let mut layers = vec![open(&cfg.upper)?];
        for l in &cfg.lowers {
            layers.push(open(l)?);
        }
        let work = open(&cfg.work)?;
        let mut t = Table {
            next: 2,
            ..Default::default()
        };
        t.nodes.insert(
            1,
            Node {
                names: Vec::new(),
                kind: Kind::Dir,
                layer: UPPER,
                lowers: (1..layers.len()).collect(),
            },
        );
        let ovl = Overlay {
            uid_map: read_map("/proc/self/uid_map"),
            gid_map: read_map("/proc/self/gid_map"),
            layers,
            work,
            emulate: cfg.emulate_owners,
            table: RwLock::new(t),
            mutate: Mutex::new(()),
            handles: Mutex::new(HashMap::new()),
            fds: Mutex::new(HashMap::new()),
            pinned: Mutex::new(HashMap::new()),
            listings: Mutex::new(HashMap::new()),
            no_open: false,
            no_opendir: false,
            max_fds: {
                // The hard limit is ours to take.
                use nix::sys::resource::{getrlimit, setrlimit, Resource};
                let lim = match getrlimit(Resource::RLIMIT_NOFILE) {
                    Ok((_, hard)) if setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() => hard,
                    Ok((soft, _)) => soft,
                    Err(_) => 1024,
                };
                ((lim / 4) as usize).clamp(64, MAX_FDS)
            },
            next_fh: AtomicU64::new(1),
            tmp_seq: AtomicU64::new(0),
        };
        // An opaque upper root hides the lowers.
        let (ro, _) = ovl.dir_flags(UPPER, &ovl.layers[UPPER]);
        if ro {
            if let Ok(mut t) = ovl.table.write() {
                if let Some(n) = t.nodes.get_mut(&1) {
                    n.lowers.clear();
                }
            }
        }
        Ok(ovl)
    }

    fn table(&self) -> std::sync::RwLockReadGuard<'_, Table> {
        self.table.read().unwrap_or_else(|e| e.into_inner())
    }
    fn table_mut(&self) -> std::sync::RwLockWriteGuard<'_, Table> {
        self.table.write().unwrap_or_else(|e| e.into_inner())
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.mutate.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The path of a node from the root (its first name).
    fn path(&self, t: &Table, ino: u64) -> Res<PathBuf> {
        let mut parts = Vec::new();
        let mut cur = ino;
        while cur != 1 {
            let n = t.nodes.get(&cur).ok_or(libc::ESTALE)?;
            let (p, name) = n.names.first().ok_or(libc::ENOENT)?;
            parts.push(name.clone());
            cur = *p;
            if parts.len() > 4096 {
                return Err(libc::ELOOP);
            }
        }
        let mut pb = PathBuf::new();
        for p in parts.iter().rev() {
            pb.push(p);
        }
        Ok(pb)
    }

    fn node_info(&self, ino: u64) -> Res<(PathBuf, Kind, usize, Vec<usize>)> {
        let t = self.table();
        let n = t.nodes.get(&ino).ok_or(libc::ESTALE)?;
        Ok((self.path(&t, ino)?, n.kind, n.layer, n.lowers.clone()))
    }

    /// (opaque, whiteouts named by `.wh.` files) of a directory.
    fn dir_flags(&self, layer: usize, dir: &OwnedFd) -> (bool, ()) {
        if get_xattr(dir.as_fd(), OPAQUE_XATTR).is_some_and(|v| v == b"y") {
            return (true, ());
        }
        if layer != UPPER {
            if let Ok(Some(_)) = lstat_at(dir.as_fd(), OsStr::from_bytes(OCI_OPAQUE)) {
                return (true, ());
            }
        }
        (false, ())
    }

    fn is_opaque_dir(&self, layer: usize, parent: BorrowedFd<'_>, name: &OsStr) -> bool {
        match nix_open_dir(parent, name) {
            Ok(d) => self.dir_flags(layer, &d).0,
            Err(_) => false,
        }
    }

    /// Looks `name` up in a directory's layers: the topmost layer holding
    /// it, its stat, and for a directory the lower layers merged below.
    fn probe(
        &self,
        dir_path: &Path,
        dir_layers: &[usize],
        name: &OsStr,
    ) -> Res<Option<(usize, FileStat, Vec<usize>)>> {
        if name.as_bytes().starts_with(WH) && dir_layers.iter().any(|l| *l != UPPER) {
            // Whiteout bookkeeping of the lowers is never visible.
            if let Some(&l) = dir_layers.first() {
                if l != UPPER {
                    return Ok(None);
                }
            }
        }
        let dfds = self.dir_fds(dir_path, dir_layers)?;
        self.probe_fds(&dfds, name)
    }

    /// The directory at `dir_path` in each of `layers` that has it.
    fn dir_fds(&self, dir_path: &Path, layers: &[usize]) -> Res<Vec<(usize, OwnedFd)>> {
        let mut v = Vec::with_capacity(layers.len());
        for &l in layers {
            match open_beneath(
                self.layers[l].as_fd(),
                dir_path,
                OFlag::O_PATH | OFlag::O_DIRECTORY,
            ) {
                Ok(d) => v.push((l, d)),
                Err(libc::ENOENT) | Err(libc::ENOTDIR) | Err(libc::ELOOP) | Err(libc::EXDEV) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(v)
    }

    /// [`Self::probe`] with the directory's layers already open.
    fn probe_fds(
        &self,
        dfds: &[(usize, OwnedFd)],
        name: &OsStr,
    ) -> Res<Option<(usize, FileStat, Vec<usize>)>> {
        let mut found: Option<(usize, FileStat, Vec<usize>)> = None;
        for (l, dfd) in dfds {
            let l = *l;
            let st = lstat_at(dfd.as_fd(), name)?;
            match st {
                Some(st) if is_whiteout_dev(&st) => break,
                Some(st) => {
                    let is_dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
                    match &mut found {
                        None => {
                            if !is_dir {
                                return Ok(Some((l, st, Vec::new())));
                            }
                            let opaque = self.is_opaque_dir(l, dfd.as_fd(), name);
                            found = Some((l, st, Vec::new()));
                            if opaque {
                                break;
                            }
                        }
                        Some((_, _, lowers)) => {
                            if !is_dir {
                                break;
                            }
                            lowers.push(l);
                            if self.is_opaque_dir(l, dfd.as_fd(), name) {
                                break;
                            }
                        }
                    }
                }
                None => {
                    if l != UPPER {
                        let mut wh = WH.to_vec();
                        wh.extend_from_slice(name.as_bytes());
                        if lstat_at(dfd.as_fd(), OsStr::from_bytes(&wh))?.is_some() {
                            break;
                        }
                    }
                }
            }
        }
        Ok(found)
    }

    /// Whether a lower layer shows something at `name` in the directory
    /// (so that a removal there needs a whiteout).
    fn lower_has(&self, parent: u64, name: &OsStr) -> Res<bool> {
        let (path, _, layer, lowers) = self.node_info(parent)?;
        let layers: Vec<usize> = std::iter::once(layer)
            .chain(lowers)
            .filter(|l| *l != UPPER)
            .collect();
        Ok(self.probe(&path, &layers, name)?.is_some())
    }

    fn layers_of(layer: usize, lowers: &[usize]) -> Vec<usize> {
        let mut v = vec![layer];
        v.extend_from_slice(lowers);
        v
    }

    fn lookup_node(&self, parent: u64, name: &OsStr) -> Res<u64> {
        if name.len() > 255 {
            return Err(libc::ENAMETOOLONG);
        }
        if name == "." {
            return Ok(parent);
        }
        if name == ".." {
            let t = self.table();
            let n = t.nodes.get(&parent).ok_or(libc::ESTALE)?;
            return Ok(n.names.first().map_or(1, |(p, _)| *p));
        }
        if let Some(&ino) = self.table().children.get(&(parent, name.to_os_string())) {
            return Ok(ino);
        }
        let (path, kind, layer, lowers) = self.node_info(parent)?;
        if kind != Kind::Dir {
            return Err(libc::ENOTDIR);
        }
        let (l, st, merged) = self
            .probe(&path, &Self::layers_of(layer, &lowers), name)?
            .ok_or(libc::ENOENT)?;
        Ok(self.insert_probed(parent, name, l, &st, merged))
    }

    /// Registers what a probe found (or the node it already is).
    fn insert_probed(
        &self,
        parent: u64,
        name: &OsStr,
        l: usize,
        st: &FileStat,
        merged: Vec<usize>,
    ) -> u64 {
        let mut t = self.table_mut();
        if let Some(&ino) = t.children.get(&(parent, name.to_os_string())) {
            return ino;
        }
        let k = kind_of(st.st_mode);
        let key = (l, st.st_dev, st.st_ino);
        if k != Kind::Dir && st.st_nlink > 1 {
            if let Some(&ino) = t.links.get(&key) {
                if let Some(n) = t.nodes.get_mut(&ino) {
                    if n.layer == l {
                        n.names.push((parent, name.to_os_string()));
                        t.children.insert((parent, name.to_os_string()), ino);
                        return ino;
                    }
                }
            }
        }
        let ino = t.next;
        t.next += 1;
        t.nodes.insert(
            ino,
            Node {
                names: vec![(parent, name.to_os_string())],
                kind: k,
                layer: l,
                lowers: merged,
            },
        );
        t.children.insert((parent, name.to_os_string()), ino);
        if k != Kind::Dir && st.st_nlink > 1 {
            t.links.insert(key, ino);
        }
        ino
    }

    /// Opens a node's topmost object as O_PATH.
    fn open_node(&self, ino: u64) -> Res<(OwnedFd, usize, Kind, Vec<usize>)> {
        let (path, kind, layer, lowers) = self.node_info(ino)?;
        let fd = open_beneath(self.layers[layer].as_fd(), &path, OFlag::O_PATH)?;
        Ok((fd, layer, kind, lowers))
    }

    fn owner_of(&self, fd: BorrowedFd<'_>, st: &FileStat) -> Owner {
        let plain = Owner {
            uid: st.st_uid,
            gid: st.st_gid,
            mode: st.st_mode & 0o7777,
            rdev: None,
            kind_override: None,
        };
        if !self.emulate || st.st_mode & libc::S_IFMT == libc::S_IFLNK {
            return plain;
        }
        get_xattr(fd, OVERRIDE_XATTR)
            .and_then(|v| parse_override(&v))
            .unwrap_or(plain)
    }

    /// The attributes of `name` in an open directory, from its stat.
    fn attr_at(
        &self,
        ino: u64,
        dfd: BorrowedFd<'_>,
        name: &OsStr,
        st: &FileStat,
        merged: bool,
    ) -> FileAttr {
        let xa = if self.emulate && st.st_mode & libc::S_IFMT != libc::S_IFLNK {
            let mut p = fd_path(dfd);
            p.push(name);
            xattr::get(&p, OVERRIDE_XATTR).ok().flatten()
        } else {
            None
        };
        self.attr_with(ino, st, xa, merged)
    }

    /// The owner as the kernel can show it in this namespace.
    fn shown(&self, o: Owner) -> Owner {
        let mapped = |m: &[(u32, u32)], id: u32| m.iter().any(|(s, c)| id >= *s && id - s < *c);
        Owner {
            uid: if mapped(&self.uid_map, o.uid) {
                o.uid
            } else {
                0
            },
            gid: if mapped(&self.gid_map, o.gid) {
                o.gid
            } else {
                0
            },
            ..o
        }
    }

    fn attr(&self, ino: u64) -> Res<FileAttr> {
        let (fd, _layer, kind, lowers) = self.open_node(ino)?;
        let st = nix::sys::stat::fstat(fd.as_raw_fd()).map_err(nerr)?;
        Ok(self.make_attr(
            ino,
            fd.as_fd(),
            &st,
            kind == Kind::Dir && !lowers.is_empty(),
        ))
    }

    fn make_attr(&self, ino: u64, fd: BorrowedFd<'_>, st: &FileStat, merged: bool) -> FileAttr {
        let xa = if self.emulate && st.st_mode & libc::S_IFMT != libc::S_IFLNK {
            get_xattr(fd, OVERRIDE_XATTR)
        } else {
            None
        };
        self.attr_with(ino, st, xa, merged)
    }

    fn attr_with(&self, ino: u64, st: &FileStat, xa: Option<Vec<u8>>, merged: bool) -> FileAttr {
        let plain = Owner {
            uid: st.st_uid,
            gid: st.st_gid,
            mode: st.st_mode & 0o7777,
            rdev: None,
            kind_override: None,
        };
        let o = self.shown(xa.and_then(|v| parse_override(&v)).unwrap_or(plain));
        let mut fmt = st.st_mode & libc::S_IFMT;
        let mut rdev = st.st_rdev;
        if let Some(k) = o.kind_override {
            if fmt == libc::S_IFREG && k != libc::S_IFDIR && k != libc::S_IFLNK {
                fmt = k;
                rdev = o.rdev.unwrap_or(0);
            }
        }
        FileAttr {
            ino: INodeNo(ino),
            size: st.st_size.max(0) as u64,
            blocks: st.st_blocks.max(0) as u64,
            atime: ts(st.st_atime, st.st_atime_nsec),
            mtime: ts(st.st_mtime, st.st_mtime_nsec),
            ctime: ts(st.st_ctime, st.st_ctime_nsec),
            crtime: UNIX_EPOCH,
            kind: ftype(fmt),
            perm: (o.mode & 0o7777) as u16,
            nlink: if merged { 1 } else { st.st_nlink as u32 },
            uid: o.uid,
            gid: o.gid,
            rdev: rdev as u32,
            blksize: st.st_blksize as u32,
            flags: 0,
        }
    }

    /// Lookup and attributes of a directory entry with the directory's
    /// layers open (readdirplus).
    fn entry_attr(&self, parent: u64, name: &OsStr, dfds: &[(usize, OwnedFd)]) -> Res<FileAttr> {
        let known = self
            .table()
            .children
            .get(&(parent, name.to_os_string()))
            .copied();
        if let Some(c) = known {
            let (layer, kind, merged) = {
                let t = self.table();
                let n = t.nodes.get(&c).ok_or(libc::ESTALE)?;
                (n.layer, n.kind, !n.lowers.is_empty())
            };
            if let Some((_, dfd)) = dfds.iter().find(|(l, _)| *l == layer) {
                if let Some(st) = lstat_at(dfd.as_fd(), name)? {
                    return Ok(self.attr_at(
                        c,
                        dfd.as_fd(),
                        name,
                        &st,
                        kind == Kind::Dir && merged,
                    ));
                }
            }
            return self.attr(c);
        }
        let (l, st, merged) = self.probe_fds(dfds, name)?.ok_or(libc::ENOENT)?;
        let is_merged_dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR && !merged.is_empty();
        let c = self.insert_probed(parent, name, l, &st, merged);
        let dfd = dfds
            .iter()
            .find(|(x, _)| *x == l)
            .map(|(_, d)| d)
            .ok_or(libc::EIO)?;
        Ok(self.attr_at(c, dfd.as_fd(), name, &st, is_merged_dir))
    }

    // ---------------------------------------------------------------
    // Copy-up

    fn upper_dir(&self, ino: u64) -> Res<OwnedFd> {
        self.copy_up(ino)?;
        let (path, _, _, _) = self.node_info(ino)?;
        open_beneath(
            self.layers[UPPER].as_fd(),
            &path,
            OFlag::O_PATH | OFlag::O_DIRECTORY,
        )
    }

    fn tmp_name(&self) -> OsString {
        let n = self.tmp_seq.fetch_add(1, Ordering::Relaxed);
        OsString::from(format!("cu-{}-{n}", std::process::id()))
    }

    /// Copies a node (and its parents) into the upper. Call with `mutate` held.
    fn copy_up(&self, ino: u64) -> Res<()> {
        if ino == 1 {
            return Ok(());
        }
        let (parent, name, kind, layer, lowers) = {
            let t = self.table();
            let n = t.nodes.get(&ino).ok_or(libc::ESTALE)?;
            if n.layer == UPPER {
                return Ok(());
            }
            let (p, name) = n.names.first().cloned().ok_or(libc::ENOENT)?;
            (p, name, n.kind, n.layer, n.lowers.clone())
        };
        let pdir = self.upper_dir(parent)?;
        let (path, ..) = self.node_info(ino)?;
        let src = open_beneath(self.layers[layer].as_fd(), &path, OFlag::O_PATH)?;
        let st = nix::sys::stat::fstat(src.as_raw_fd()).map_err(nerr)?;
        let tmp = self.tmp_name();
        let work = self.work.as_fd();
        let made = (|| -> Res<()> {
            match kind {
                Kind::Dir => {
                    nix::sys::stat::mkdirat(
                        Some(work.as_raw_fd()),
                        tmp.as_os_str(),
                        Mode::from_bits_truncate(0o700),
                    )
                    .map_err(nerr)?;
                }
                Kind::File => {
                    let from = open_beneath(self.layers[layer].as_fd(), &path, OFlag::O_RDONLY)?;
                    let to = openat_owned(
                        work,
                        &tmp,
                        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL,
                        0o600,
                    )?;
                    let to = File::from(to);
                    copy_data(&File::from(from), &to, st.st_size.max(0) as u64)?;
                }
                Kind::Symlink => {
                    let target = nix::fcntl::readlinkat(Some(src.as_raw_fd()), "").map_err(nerr)?;
                    nix::unistd::symlinkat(
                        target.as_os_str(),
                        Some(work.as_raw_fd()),
                        tmp.as_os_str(),
                    )
                    .map_err(nerr)?;
                }
                Kind::Other => {
                    let fmt = SFlag::from_bits_truncate(st.st_mode & libc::S_IFMT);
                    nix::sys::stat::mknodat(
                        Some(work.as_raw_fd()),
                        tmp.as_os_str(),
                        fmt,
                        Mode::from_bits_truncate(0o600),
                        st.st_rdev,
                    )
                    .map_err(nerr)?;
                }
            }
            self.copy_meta(src.as_fd(), &st, work, &tmp, kind)
        })();
        if let Err(e) = made {
            let _ = remove_tmp(work, &tmp, kind);
            return Err(e);
        }
        if let Err(e) = nix::fcntl::renameat(
            Some(work.as_raw_fd()),
            tmp.as_os_str(),
            Some(pdir.as_raw_fd()),
            name.as_os_str(),
        ) {
            let _ = remove_tmp(work, &tmp, kind);
            return Err(nerr(e));
        }
        let mut t = self.table_mut();
        if let Some(n) = t.nodes.get_mut(&ino) {
            n.layer = UPPER;
            if kind == Kind::Dir {
                let mut l = vec![layer];
                l.extend(lowers);
                n.lowers = l;
            }
        }
        Ok(())
    }

    /// Owner, mode, xattrs and times of a copied-up object.
    fn copy_meta(
        &self,
        src: BorrowedFd<'_>,
        st: &FileStat,
        dir: BorrowedFd<'_>,
        name: &OsStr,
        kind: Kind,
    ) -> Res<()> {
        let dst = openat_owned(dir, name, OFlag::O_PATH, 0)?;
        if kind != Kind::Symlink {
            if let Ok(names) = xattr::list_deref(fd_path(src)) {
                for n in names {
                    let nb = n.as_bytes();
                    if nb.starts_with(b"user.overlay.") {
                        continue;
                    }
                    if let Ok(Some(v)) = xattr::get_deref(fd_path(src), &n) {
                        let _ = xattr::set_deref(fd_path(dst.as_fd()), &n, &v);
                    }
                }
            }
        }
        if !self.emulate {
            nix::unistd::fchownat(
                Some(dir.as_raw_fd()),
                name,
                Some(Uid::from_raw(st.st_uid)),
                Some(Gid::from_raw(st.st_gid)),
                AtFlags::AT_SYMLINK_NOFOLLOW,
            )
            .map_err(nerr)?;
        }
        if kind != Kind::Symlink {
            nix::sys::stat::fchmodat(
                None,
                &fd_path(dst.as_fd()),
                Mode::from_bits_truncate(st.st_mode & 0o7777),
                nix::sys::stat::FchmodatFlags::FollowSymlink,
            )
            .map_err(nerr)?;
        }
        nix::sys::stat::utimensat(
            Some(dir.as_raw_fd()),
            name,
            &TimeSpec::new(st.st_atime, st.st_atime_nsec),
            &TimeSpec::new(st.st_mtime, st.st_mtime_nsec),
            UtimensatFlags::NoFollowSymlink,
        )
        .map_err(nerr)?;
        Ok(())
    }

    /// Copies a directory and everything merged below it into the upper,
    /// leaving an upper tree that needs no lower layer (whiteouts removed).
    fn copy_up_tree(&self, ino: u64) -> Res<()> {
        self.copy_up(ino)?;
        let (_, kind, _, _) = self.node_info(ino)?;
        if kind != Kind::Dir {
            return Ok(());
        }
        let entries = self.list(ino)?;
        for (name, _) in &entries {
            let child = self.lookup_node(ino, name)?;
            self.copy_up_tree(child)?;
        }
        // Whiteouts in the upper copy only hid lower entries.
        let dir = self.upper_dir(ino)?;
        let d = openat_owned(
            dir.as_fd(),
            OsStr::new("."),
            OFlag::O_RDONLY | OFlag::O_DIRECTORY,
            0,
        )?;
        for n in raw_names(d)? {
            if let Some(st) = lstat_at(dir.as_fd(), &n)? {
                if is_whiteout_dev(&st) {
                    nix::unistd::unlinkat(
                        Some(dir.as_raw_fd()),
                        n.as_os_str(),
                        UnlinkatFlags::NoRemoveDir,
                    )
                    .map_err(nerr)?;
                }
            }
        }
        let _ = xattr::remove_deref(fd_path(dir.as_fd()), OPAQUE_XATTR);
        if let Some(n) = self.table_mut().nodes.get_mut(&ino) {
            n.lowers.clear();
        }
        Ok(())
    }

    // ---------------------------------------------------------------
    // Directories

    /// The merged entries of a directory (no `.`/`..`), upper first.
    fn list(&self, ino: u64) -> Res<Vec<(OsString, Kind)>> {
        let (path, kind, layer, lowers) = self.node_info(ino)?;
        if kind != Kind::Dir {
            return Err(libc::ENOTDIR);
        }
        let mut seen: HashSet<OsString> = HashSet::new();
        let mut out = Vec::new();
        for l in Self::layers_of(layer, &lowers) {
            let dfd = match open_beneath(
                self.layers[l].as_fd(),
                &path,
                OFlag::O_RDONLY | OFlag::O_DIRECTORY,
            ) {
                Ok(d) => d,
                Err(libc::ENOENT) | Err(libc::ENOTDIR) | Err(libc::ELOOP) => continue,
                Err(e) => return Err(e),
            };
            let dfd2 = dfd.try_clone().map_err(ioerr)?;
            let mut dir = nix::dir::Dir::from(dfd2).map_err(nerr)?;
            let mut raw = Vec::new();
            for e in dir.iter() {
                let e = e.map_err(nerr)?;
                let n = e.file_name().to_bytes();
                if n == b"." || n == b".." {
                    continue;
                }
                raw.push((OsStr::from_bytes(n).to_os_string(), e.file_type()));
            }
            drop(dir);
            let mut hidden = Vec::new();
            let mut here = Vec::new();
            for (name, ty) in raw {
                let n = name.as_bytes();
                if l != UPPER && n.starts_with(WH) {
                    if n != OCI_OPAQUE && !n.starts_with(b".wh..wh.") {
                        hidden.push(OsStr::from_bytes(&n[WH.len()..]).to_os_string());
                    }
                    continue;
                }
                let k = match ty {
                    Some(nix::dir::Type::Directory) => Kind::Dir,
                    Some(nix::dir::Type::File) => Kind::File,
                    Some(nix::dir::Type::Symlink) => Kind::Symlink,
                    Some(nix::dir::Type::CharacterDevice) | None => {
                        match lstat_at(dfd.as_fd(), &name) {
                            Ok(Some(st)) if is_whiteout_dev(&st) => {
                                hidden.push(name);
                                continue;
                            }
                            Ok(Some(st)) => kind_of(st.st_mode),
                            _ => continue,
                        }
                    }
                    _ => Kind::Other,
                };
                here.push((name, k));
            }
            for (name, k) in here {
                if seen.insert(name.clone()) {
                    out.push((name, k));
                }
            }
            for h in hidden {
                seen.insert(h);
            }
        }
        Ok(out)
    }

    fn opendir(&self, ino: u64) -> Res<u64> {
        let mut entries = vec![
            (OsString::from("."), Kind::Dir),
            (OsString::from(".."), Kind::Dir),
        ];
        entries.extend(self.list(ino)?);
        let fh = self.next_fh.fetch_add(1, Ordering::Relaxed);
        self.handles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(fh, Handle::Dir(Arc::new(DirHandle { entries })));
        Ok(fh)
    }

    fn dir_handle(&self, fh: u64) -> Res<Arc<DirHandle>> {
        match self
            .handles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&fh)
        {
            Some(Handle::Dir(d)) => Ok(d.clone()),
            _ => Err(libc::EBADF),
        }
    }

    fn file_handle(&self, fh: u64) -> Res<Arc<File>> {
        match self
            .handles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&fh)
        {
            Some(Handle::File(f)) => Ok(f.clone()),
            _ => Err(libc::EBADF),
        }
    }

    /// The I/O descriptor of a file (copied up first for writing).
    fn io_fd(&self, ino: u64, write: bool) -> Res<Arc<File>> {
        if write {
            let _g = self.lock();
            self.copy_up(ino)?;
        }
        let info = self.node_info(ino);
        let layer = info.as_ref().map(|i| i.2).unwrap_or(UPPER);
        if let Some(f) = lock(&self.fds).get(&ino) {
            if f.layer == layer && (f.write || !write) {
                return Ok(f.file.clone());
            }
        }
        let (path, kind, layer, _) = match info {
            Ok(i) => i,
            Err(e) => {
                return lock(&self.pinned).get(&ino).cloned().ok_or(e);
            }
        };
        if kind != Kind::File {
            return Err(if kind == Kind::Dir {
                libc::EISDIR
            } else {
                libc::EINVAL
            });
        }
        let base = self.layers[layer].as_fd();
        let open = |flags: OFlag| match open_beneath(base, &path, flags) {
            Err(libc::EMFILE) | Err(libc::ENFILE) => {
                // Out of descriptors: let the cache go and try again.
                lock(&self.fds).clear();
                open_beneath(base, &path, flags)
            }
            r => r,
        };
        let (file, w) = if layer == UPPER {
            match open(OFlag::O_RDWR) {
                Ok(f) => (f, true),
                Err(e) if write => return Err(e),
                Err(_) => (open(OFlag::O_RDONLY)?, false),
            }
        } else {
            (open(OFlag::O_RDONLY)?, false)
        };
        let file = Arc::new(File::from(file));
        let mut m = lock(&self.fds);
        if m.len() >= self.max_fds {
            m.clear();
        }
        m.insert(
            ino,
            IoFd {
                file: file.clone(),
                write: w,
                layer,
            },
        );
        Ok(file)
    }

    /// Keeps a file usable by inode after its last name goes (called
    /// before the name is removed).
    fn pin_if_last(&self, ino: u64) {
        let last = {
            let t = self.table();
            t.nodes
                .get(&ino)
                .is_some_and(|n| n.kind == Kind::File && n.names.len() == 1)
        };
        if last {
            if let Ok(f) = self.io_fd(ino, false) {
                lock(&self.pinned).insert(ino, f);
            }
        }
    }

    /// A directory's listing for reading at `offset`: from an opendir
    /// handle, else built at offset 0 and kept until the end is read.
    fn listing(&self, ino: u64, fh: u64, offset: u64) -> Res<Arc<DirHandle>> {
        if fh != 0 {
            return self.dir_handle(fh);
        }
        if offset != 0 {
            if let Some(d) = lock(&self.listings).get(&ino) {
                return Ok(d.clone());
            }
        }
        let mut entries = vec![
            (OsString::from("."), Kind::Dir),
            (OsString::from(".."), Kind::Dir),
        ];
        entries.extend(self.list(ino)?);
        let d = Arc::new(DirHandle { entries });
        let mut m = lock(&self.listings);
        if m.len() >= 1024 {
            m.clear();
        }
        m.insert(ino, d.clone());
        Ok(d)
    }

    fn listing_done(&self, ino: u64, fh: u64) {
        if fh == 0 {
            lock(&self.listings).remove(&ino);
        }
    }

    // ---------------------------------------------------------------
    // Creation and removal (called with `mutate` held)

    /// Prepares `name` in the parent's upper directory for a new entry:
    /// removes a whiteout there. Returns (dir fd, whether lowers had it).
    fn prepare_new(&self, parent: u64, name: &OsStr) -> Res<(OwnedFd, bool)> {
        if name.len() > 255 {
            return Err(libc::ENAMETOOLONG);
        }
        let dir = self.upper_dir(parent)?;
        let mut replaced = false;
        if let Some(st) = lstat_at(dir.as_fd(), name)? {
            if is_whiteout_dev(&st) {
                nix::unistd::unlinkat(Some(dir.as_raw_fd()), name, UnlinkatFlags::NoRemoveDir)
                    .map_err(nerr)?;
                replaced = true;
            } else {
                return Err(libc::EEXIST);
            }
        }
        let lower = replaced || self.lower_has(parent, name)?;
        Ok((dir, lower))
    }

    #[allow(clippy::too_many_arguments)]
    fn set_owner_new(
        &self,
        dir: BorrowedFd<'_>,
        name: &OsStr,
        req_uid: u32,
        req_gid: u32,
        mode: u32,
        kind_mode: u32,
        rdev: u64,
    ) -> Res<()> {
        if self.emulate {
            if kind_mode & libc::S_IFMT == libc::S_IFLNK {
                return Ok(());
            }
            if (req_uid, req_gid) != (0, 0)
                || kind_mode & libc::S_IFMT == libc::S_IFCHR && rdev != 0
                || kind_mode & libc::S_IFMT == libc::S_IFBLK
            {
                let fd = openat_owned(dir, name, OFlag::O_PATH, 0)?;
                let v = format!(
                    "{req_uid}:{req_gid}:{:04o}:{}",
                    mode & 0o7777,
                    type_word(kind_mode, rdev)
                );
                xattr::set_deref(fd_path(fd.as_fd()), OVERRIDE_XATTR, v.as_bytes())
                    .map_err(ioerr)?;
            }
            Ok(())
        } else {
            nix::unistd::fchownat(
                Some(dir.as_raw_fd()),
                name,
                Some(Uid::from_raw(req_uid)),
                Some(Gid::from_raw(req_gid)),
                AtFlags::AT_SYMLINK_NOFOLLOW,
            )
            .map_err(nerr)
        }
    }

    /// Registers a new upper entry and returns its node.
    fn add_node(&self, parent: u64, name: &OsStr, kind: Kind) -> u64 {
        let mut t = self.table_mut();
        let ino = t.next;
        t.next += 1;
        t.nodes.insert(
            ino,
            Node {
                names: vec![(parent, name.to_os_string())],
                kind,
                layer: UPPER,
                lowers: Vec::new(),
            },
        );
        t.children.insert((parent, name.to_os_string()), ino);
        ino
    }

    fn detach(&self, parent: u64, name: &OsStr) {
        let mut t = self.table_mut();
        if let Some(ino) = t.children.remove(&(parent, name.to_os_string())) {
            if let Some(n) = t.nodes.get_mut(&ino) {
                n.names.retain(|(p, nm)| !(*p == parent && nm == name));
            }
        }
    }

    fn whiteout(&self, dir: BorrowedFd<'_>, name: &OsStr) -> Res<()> {
        nix::sys::stat::mknodat(
            Some(dir.as_raw_fd()),
            name,
            SFlag::S_IFCHR,
            Mode::empty(),
            0,
        )
        .map_err(nerr)
    }

    #[allow(clippy::too_many_arguments)]
    fn do_create(
        &self,
        req: &Request,
        parent: u64,
        name: &OsStr,
        mode: u32,
        umask: u32,
        rdev: u32,
        flags: Option<i32>,
    ) -> Res<(u64, Option<u64>)> {
        let _g = self.lock();
        let (dir, lower) = self.prepare_new(parent, name)?;
        let perm = mode & 0o7777 & !umask;
        let fmt = mode & libc::S_IFMT;
        let disk_perm = if self.emulate { perm | 0o600 } else { perm };
        let mut file = None;
        match fmt {
            libc::S_IFDIR => {
                nix::sys::stat::mkdirat(
                    Some(dir.as_raw_fd()),
                    name,
                    Mode::from_bits_truncate(if self.emulate { perm | 0o700 } else { perm }),
                )
                .map_err(nerr)?;
                if lower {
                    let d = nix_open_dir(dir.as_fd(), name)?;
                    xattr::set_deref(fd_path(d.as_fd()), OPAQUE_XATTR, b"y").map_err(ioerr)?;
                }
            }
            libc::S_IFREG | 0 if flags.is_some() => {
                let fl = OFlag::from_bits_truncate(flags.unwrap_or(0))
                    & !(OFlag::O_NOCTTY | OFlag::O_CREAT | OFlag::O_EXCL);
                let fd = openat_owned(
                    dir.as_fd(),
                    name,
                    fl | OFlag::O_CREAT | OFlag::O_EXCL,
                    disk_perm,
                )?;
                file = Some(File::from(fd));
            }
            libc::S_IFREG | 0 | libc::S_IFIFO | libc::S_IFSOCK => {
                let f = if fmt == 0 {
                    SFlag::S_IFREG
                } else {
                    SFlag::from_bits_truncate(fmt)
                };
                nix::sys::stat::mknodat(
                    Some(dir.as_raw_fd()),
                    name,
                    f,
                    Mode::from_bits_truncate(disk_perm),
                    0,
                )
                .map_err(nerr)?;
            }
            _ => return Err(libc::EPERM),
        }
        let mut fmode = perm;
        if fmt == libc::S_IFDIR {
            fmode = perm;
        }
        if let Err(e) = self.set_owner_new(
            dir.as_fd(),
            name,
            req.uid(),
            req.gid(),
            fmode,
            if fmt == 0 { libc::S_IFREG } else { fmt },
            rdev as u64,
        ) {
            let _ = nix::unistd::unlinkat(
                Some(dir.as_raw_fd()),
                name,
                if fmt == libc::S_IFDIR {
                    UnlinkatFlags::RemoveDir
                } else {
                    UnlinkatFlags::NoRemoveDir
                },
            );
            return Err(e);
        }
        if !self.emulate && fmt != libc::S_IFDIR && file.is_none() {
            // mknod applied the umask of the daemon.
            let _ = nix::sys::stat::fchmodat(
                Some(dir.as_raw_fd()),
                name,
                Mode::from_bits_truncate(perm),
                nix::sys::stat::FchmodatFlags::FollowSymlink,
            );
        } else if !self.emulate {
            if let Some(f) = &file {
                let _ = nix::sys::stat::fchmod(f.as_raw_fd(), Mode::from_bits_truncate(perm));
            } else {
                let d = nix_open_dir(dir.as_fd(), name)?;
                let _ = nix::sys::stat::fchmodat(
                    None,
                    &fd_path(d.as_fd()),
                    Mode::from_bits_truncate(perm),
                    nix::sys::stat::FchmodatFlags::FollowSymlink,
                );
            }
        }
        let kind = kind_of(if fmt == 0 { libc::S_IFREG } else { fmt });
        let ino = self.add_node(parent, name, kind);
        let fh = file.map(|f| {
            let fh = self.next_fh.fetch_add(1, Ordering::Relaxed);
            self.handles
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(fh, Handle::File(Arc::new(f)));
            fh
        });
        Ok((ino, fh))
    }

    fn do_symlink(&self, req: &Request, parent: u64, name: &OsStr, target: &Path) -> Res<u64> {
        let _g = self.lock();
        let (dir, _) = self.prepare_new(parent, name)?;
        nix::unistd::symlinkat(target, Some(dir.as_raw_fd()), name).map_err(nerr)?;
        if !self.emulate {
            let _ = nix::unistd::fchownat(
                Some(dir.as_raw_fd()),
                name,
                Some(Uid::from_raw(req.uid())),
                Some(Gid::from_raw(req.gid())),
                AtFlags::AT_SYMLINK_NOFOLLOW,
            );
        }
        Ok(self.add_node(parent, name, Kind::Symlink))
    }

    fn do_link(&self, ino: u64, parent: u64, name: &OsStr) -> Res<()> {
        let _g = self.lock();
        self.copy_up(ino)?;
        let (dir, _) = self.prepare_new(parent, name)?;
        let (path, kind, _, _) = self.node_info(ino)?;
        if kind == Kind::Dir {
            return Err(libc::EPERM);
        }
        let src = open_beneath(self.layers[UPPER].as_fd(), &path, OFlag::O_PATH)?;
        drop(src);
        let (pp, nm) = split(&path);
        let pd = open_beneath(
            self.layers[UPPER].as_fd(),
            pp,
            OFlag::O_PATH | OFlag::O_DIRECTORY,
        )?;
        nix::unistd::linkat(
            Some(pd.as_raw_fd()),
            nm,
            Some(dir.as_raw_fd()),
            name,
            AtFlags::empty(),
        )
        .map_err(nerr)?;
        let mut t = self.table_mut();
        if let Some(n) = t.nodes.get_mut(&ino) {
            n.names.push((parent, name.to_os_string()));
        }
        t.children.insert((parent, name.to_os_string()), ino);
        Ok(())
    }

    fn do_unlink(&self, parent: u64, name: &OsStr, dir_wanted: bool) -> Res<()> {
        let _g = self.lock();
        let ino = self.lookup_node(parent, name)?;
        let (_, kind, layer, _) = self.node_info(ino)?;
        if dir_wanted && kind != Kind::Dir {
            return Err(libc::ENOTDIR);
        }
        if !dir_wanted && kind == Kind::Dir {
            return Err(libc::EISDIR);
        }
        if dir_wanted && !self.list(ino)?.is_empty() {
            return Err(libc::ENOTEMPTY);
        }
        let lower = self.lower_has(parent, name)?;
        let dir = self.upper_dir(parent)?;
        self.pin_if_last(ino);
        if layer == UPPER {
            if kind == Kind::Dir {
                clear_whiteouts(&dir, name)?;
            }
            nix::unistd::unlinkat(
                Some(dir.as_raw_fd()),
                name,
                if kind == Kind::Dir {
                    UnlinkatFlags::RemoveDir
                } else {
                    UnlinkatFlags::NoRemoveDir
                },
            )
            .map_err(nerr)?;
        }
        if lower {
            self.whiteout(dir.as_fd(), name)?;
        }
        self.detach(parent, name);
        Ok(())
    }

    fn do_rename(&self, parent: u64, name: &OsStr, np: u64, nn: &OsStr, flags: u32) -> Res<()> {
        if flags & !libc::RENAME_NOREPLACE != 0 {
            return Err(libc::EINVAL);
        }
        if nn.len() > 255 {
            return Err(libc::ENAMETOOLONG);
        }
        let _g = self.lock();
        let src = self.lookup_node(parent, name)?;
        let (_, skind, _, _) = self.node_info(src)?;
        let target = match self.lookup_node(np, nn) {
            Ok(t) => Some(t),
            Err(libc::ENOENT) => None,
            Err(e) => return Err(e),
        };
        if target == Some(src) {
            return Ok(());
        }
        if let Some(t) = target {
            if flags & libc::RENAME_NOREPLACE != 0 {
                return Err(libc::EEXIST);
            }
            let (_, tkind, _, _) = self.node_info(t)?;
            match (skind == Kind::Dir, tkind == Kind::Dir) {
                (true, false) => return Err(libc::ENOTDIR),
                (false, true) => return Err(libc::EISDIR),
                (true, true) if !self.list(t)?.is_empty() => return Err(libc::ENOTEMPTY),
                _ => {}
            }
        }
        let src_lower = self.lower_has(parent, name)?;
        // A directory with lower parts is copied up whole first (the kernel
        // overlay answers EXDEV and `mv` copies); it then lands like a new
        // directory: opaque where it replaces something of the lowers. A
        // directory only in the upper moves as the kernel moves it: it
        // stays opaque, and becomes opaque in a merged parent.
        let mut copied = false;
        if skind == Kind::Dir {
            let (_, _, layer, lowers) = self.node_info(src)?;
            if layer != UPPER || !lowers.is_empty() {
                self.copy_up_tree(src)?;
                copied = true;
            }
        } else {
            self.copy_up(src)?;
        }
        let sdir = self.upper_dir(parent)?;
        let ddir = self.upper_dir(np)?;
        let dst_lower = self.lower_has(np, nn)?;
        if let Some(st) = lstat_at(ddir.as_fd(), nn)? {
            if is_whiteout_dev(&st) || st.st_mode & libc::S_IFMT == libc::S_IFDIR {
                if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
                    clear_whiteouts(&ddir, nn)?;
                }
                if is_whiteout_dev(&st) && skind == Kind::Dir {
                    nix::unistd::unlinkat(Some(ddir.as_raw_fd()), nn, UnlinkatFlags::NoRemoveDir)
                        .map_err(nerr)?;
                }
            }
        }
        if let Some(t) = target {
            self.pin_if_last(t);
        }
        nix::fcntl::renameat(Some(sdir.as_raw_fd()), name, Some(ddir.as_raw_fd()), nn)
            .map_err(nerr)?;
        if skind == Kind::Dir {
            let d = nix_open_dir(ddir.as_fd(), nn)?;
            let merged_parent = !self.node_info(np)?.3.is_empty();
            if dst_lower || (!copied && merged_parent) {
                xattr::set_deref(fd_path(d.as_fd()), OPAQUE_XATTR, b"y").map_err(ioerr)?;
            }
        }
        if src_lower {
            self.whiteout(sdir.as_fd(), name)?;
        }
        let mut t = self.table_mut();
        if let Some(old) = t.children.remove(&(np, nn.to_os_string())) {
            if let Some(n) = t.nodes.get_mut(&old) {
                n.names.retain(|(p, nm)| !(*p == np && nm == nn));
            }
        }
        t.children.remove(&(parent, name.to_os_string()));
        t.children.insert((np, nn.to_os_string()), src);
        if let Some(n) = t.nodes.get_mut(&src) {
            for e in n.names.iter_mut() {
                if e.0 == parent && e.1 == name {
                    *e = (np, nn.to_os_string());
                }
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn do_setattr(
        &self,
        ino: u64,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        fh: Option<u64>,
    ) -> Res<()> {
        let _g = self.lock();
        self.copy_up(ino)?;
        let (fd, _, kind, _) = self.open_node(ino)?;
        let st = nix::sys::stat::fstat(fd.as_raw_fd()).map_err(nerr)?;
        if let Some(sz) = size {
            if kind != Kind::File {
                return Err(libc::EINVAL);
            }
            let f = match fh.and_then(|h| self.file_handle(h).ok()) {
                Some(f) => f,
                None => {
                    let (path, ..) = self.node_info(ino)?;
                    Arc::new(File::from(open_beneath(
                        self.layers[UPPER].as_fd(),
                        &path,
                        OFlag::O_WRONLY,
                    )?))
                }
            };
            f.set_len(sz).map_err(ioerr)?;
        }
        if mode.is_some() || uid.is_some() || gid.is_some() {
            if self.emulate {
                if kind == Kind::Symlink {
                    return Err(libc::EPERM);
                }
                let cur = self.owner_of(fd.as_fd(), &st);
                let mut fmt = st.st_mode & libc::S_IFMT;
                let mut rdev = st.st_rdev;
                if let Some(k) = cur.kind_override {
                    if fmt == libc::S_IFREG {
                        fmt = k;
                        rdev = cur.rdev.unwrap_or(0);
                    }
                }
                let mut m = mode.map_or(cur.mode, |m| m & 0o7777);
                // chown clears setuid/setgid as the kernel does.
                if mode.is_none() && (uid.is_some() || gid.is_some()) && kind != Kind::Dir {
                    m &= !0o6000;
                }
                let v = format!(
                    "{}:{}:{:04o}:{}",
                    uid.unwrap_or(cur.uid),
                    gid.unwrap_or(cur.gid),
                    m,
                    type_word(fmt, rdev)
                );
                xattr::set_deref(fd_path(fd.as_fd()), OVERRIDE_XATTR, v.as_bytes())
                    .map_err(ioerr)?;
                let keep = if kind == Kind::Dir { 0o700 } else { 0o600 };
                let _ = nix::sys::stat::fchmodat(
                    None,
                    &fd_path(fd.as_fd()),
                    Mode::from_bits_truncate((m | keep) & 0o7777),
                    nix::sys::stat::FchmodatFlags::FollowSymlink,
                );
            } else {
                if uid.is_some() || gid.is_some() {
                    let (path, ..) = self.node_info(ino)?;
                    let (pp, nm) = split(&path);
                    let pd = if path.as_os_str().is_empty() {
                        None
                    } else {
                        Some(open_beneath(
                            self.layers[UPPER].as_fd(),
                            pp,
                            OFlag::O_PATH | OFlag::O_DIRECTORY,
                        )?)
                    };
                    match pd {
                        Some(pd) => nix::unistd::fchownat(
                            Some(pd.as_raw_fd()),
                            nm,
                            uid.map(Uid::from_raw),
                            gid.map(Gid::from_raw),
                            AtFlags::AT_SYMLINK_NOFOLLOW,
                        ),
                        None => nix::unistd::fchownat(
                            None,
                            &fd_path(fd.as_fd()),
                            uid.map(Uid::from_raw),
                            gid.map(Gid::from_raw),
                            AtFlags::empty(),
                        ),
                    }
                    .map_err(nerr)?;
                }
                if let Some(m) = mode {
                    if kind == Kind::Symlink {
                        return Err(libc::EOPNOTSUPP);
                    }
                    nix::sys::stat::fchmodat(
                        None,
                        &fd_path(fd.as_fd()),
                        Mode::from_bits_truncate(m & 0o7777),
                        nix::sys::stat::FchmodatFlags::FollowSymlink,
                    )
                    .map_err(nerr)?;
                }
            }
        }
        if atime.is_some() || mtime.is_some() {
            let conv = |t: Option<TimeOrNow>| match t {
                None => TimeSpec::new(0, libc::UTIME_OMIT),
                Some(TimeOrNow::Now) => TimeSpec::new(0, libc::UTIME_NOW),
                Some(TimeOrNow::SpecificTime(s)) => match s.duration_since(UNIX_EPOCH) {
                    Ok(d) => TimeSpec::new(d.as_secs() as i64, d.subsec_nanos() as i64),
                    Err(e) => {
                        let d = e.duration();
                        let (mut s, mut n) = (-(d.as_secs() as i64), -(d.subsec_nanos() as i64));
                        if n < 0 {
                            s -= 1;
                            n += 1_000_000_000;
                        }
                        TimeSpec::new(s, n)
                    }
                },
            };
            let (path, ..) = self.node_info(ino)?;
            let (pp, nm) = split(&path);
            if path.as_os_str().is_empty() {
                nix::sys::stat::utimensat(
                    None,
                    &fd_path(fd.as_fd()),
                    &conv(atime),
                    &conv(mtime),
                    UtimensatFlags::FollowSymlink,
                )
                .map_err(nerr)?;
            } else {
                let pd = open_beneath(
                    self.layers[UPPER].as_fd(),
                    pp,
                    OFlag::O_PATH | OFlag::O_DIRECTORY,
                )?;
                nix::sys::stat::utimensat(
                    Some(pd.as_raw_fd()),
                    nm,
                    &conv(atime),
                    &conv(mtime),
                    UtimensatFlags::NoFollowSymlink,
                )
                .map_err(nerr)?;
            }
        }
        Ok(())
    }

    fn do_open(&self, ino: u64, flags: i32) -> Res<(u64, bool)> {
        let acc = flags & libc::O_ACCMODE;
        let write = acc != libc::O_RDONLY || flags & libc::O_TRUNC != 0;
        if write {
            let _g = self.lock();
            self.copy_up(ino)?;
        }
        let (path, kind, layer, _) = self.node_info(ino)?;
        if kind == Kind::Dir && write {
            return Err(libc::EISDIR);
        }
        let keep = libc::O_ACCMODE
            | libc::O_APPEND
            | libc::O_TRUNC
            | libc::O_SYNC
            | libc::O_DSYNC
            | libc::O_NONBLOCK
            | libc::O_DIRECT;
        let fl = OFlag::from_bits_truncate(flags & keep);
        let fd = open_beneath(self.layers[layer].as_fd(), &path, fl)?;
        let fh = self.next_fh.fetch_add(1, Ordering::Relaxed);
        self.handles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(fh, Handle::File(Arc::new(File::from(fd))));
        Ok((fh, layer != UPPER))
    }

    fn xattr_hidden(&self, name: &OsStr) -> bool {
        let n = name.as_bytes();
        n.starts_with(b"user.overlay.")
            || (self.emulate && n.starts_with(b"user.containers.override_"))
    }

    fn do_getxattr(&self, ino: u64, name: &OsStr) -> Res<Vec<u8>> {
        if self.xattr_hidden(name) {
            return Err(libc::ENODATA);
        }
        let (fd, ..) = self.open_node(ino)?;
        match xattr::get_deref(fd_path(fd.as_fd()), name) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(libc::ENODATA),
            Err(e) => Err(ioerr(e)),
        }
    }

    fn do_listxattr(&self, ino: u64) -> Res<Vec<u8>> {
        let (fd, _, kind, _) = self.open_node(ino)?;
        if kind == Kind::Symlink {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for n in xattr::list_deref(fd_path(fd.as_fd())).map_err(ioerr)? {
            if !self.xattr_hidden(&n) {
                out.extend_from_slice(n.as_bytes());
                out.push(0);
            }
        }
        Ok(out)
    }

    fn do_setxattr(&self, ino: u64, name: &OsStr, value: Option<&[u8]>, flags: i32) -> Res<()> {
        if self.xattr_hidden(name) {
            return Err(libc::EPERM);
        }
        let _g = self.lock();
        self.copy_up(ino)?;
        let (fd, ..) = self.open_node(ino)?;
        let p = fd_path(fd.as_fd());
        match value {
            Some(v) => {
                let exists = xattr::get_deref(&p, name).map_err(ioerr)?.is_some();
                if flags & libc::XATTR_CREATE != 0 && exists {
                    return Err(libc::EEXIST);
                }
                if flags & libc::XATTR_REPLACE != 0 && !exists {
                    return Err(libc::ENODATA);
                }
                xattr::set_deref(&p, name, v).map_err(ioerr)
            }
            None => xattr::remove_deref(&p, name).map_err(ioerr),
        }
    }
}

/// The inside ranges of an id map file (all ids when it cannot be read).
fn read_map(path: &str) -> Vec<(u32, u32)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return vec![(0, u32::MAX)];
    };
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let inside = f.next()?.parse().ok()?;
            let _outside: u32 = f.next()?.parse().ok()?;
            Some((inside, f.next()?.parse().ok()?))
        })
        .collect()
}

/// `openat` of one name, never following it, as an owned fd.
fn openat_owned(dir: BorrowedFd<'_>, name: &OsStr, flags: OFlag, mode: u32) -> Res<OwnedFd> {
    let mut h = how(flags);
    if flags.contains(OFlag::O_CREAT) {
        h = h.mode(Mode::from_bits_truncate(mode));
    }
    crate::sys::openat2(dir, Path::new(name), h).map_err(ioerr)
}

fn nix_open_dir(parent: BorrowedFd<'_>, name: &OsStr) -> Res<OwnedFd> {
    crate::sys::openat2(
        parent,
        Path::new(name),
        how(OFlag::O_RDONLY | OFlag::O_DIRECTORY),
    )
    .map_err(ioerr)
}

fn split(p: &Path) -> (&Path, &OsStr) {
    (
        p.parent().unwrap_or(Path::new("")),
        p.file_name().unwrap_or(OsStr::new(".")),
    )
}

fn raw_names(fd: OwnedFd) -> Res<Vec<OsString>> {
    let mut dir = nix::dir::Dir::from(fd).map_err(nerr)?;
    let mut v = Vec::new();
    for e in dir.iter() {
        let e = e.map_err(nerr)?;
        let n = e.file_name().to_bytes();
        if n != b"." && n != b".." {
            v.push(OsStr::from_bytes(n).to_os_string());
        }
    }
    Ok(v)
}

/// Removes the whiteouts in an upper directory about to be removed or
/// replaced (it is empty in the merged view).
fn clear_whiteouts(parent: &OwnedFd, name: &OsStr) -> Res<()> {
    let d = nix_open_dir(parent.as_fd(), name)?;
    let d2 = d.try_clone().map_err(ioerr)?;
    for n in raw_names(d2)? {
        if let Some(st) = lstat_at(d.as_fd(), &n)? {
            if is_whiteout_dev(&st) {
                nix::unistd::unlinkat(
                    Some(d.as_raw_fd()),
                    n.as_os_str(),
                    UnlinkatFlags::NoRemoveDir,
                )
                .map_err(nerr)?;
            }
        }
    }
    Ok(())
}

fn remove_tmp(work: BorrowedFd<'_>, tmp: &OsStr, kind: Kind) -> Res<()> {
    nix::unistd::unlinkat(
        Some(work.as_raw_fd()),
        tmp,
        if kind == Kind::Dir {
            UnlinkatFlags::RemoveDir
        } else {
            UnlinkatFlags::NoRemoveDir
        },
    )
    .map_err(nerr)
}

fn copy_data(from: &File, to: &File, _size: u64) -> Res<()> {
    // std uses copy_file_range (reflinks where the file system has them).
    let (mut r, mut w) = (from, to);
    io::copy(&mut r, &mut w).map(drop).map_err(ioerr)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn err(e: i32) -> Errno {
    Errno::from_i32(e)
}

impl fuser::Filesystem for Overlay {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> io::Result<()> {
        use fuser::InitFlags as F;
        let want = [
            F::FUSE_DO_READDIRPLUS,
            F::FUSE_READDIRPLUS_AUTO,
            F::FUSE_PARALLEL_DIROPS,
            F::FUSE_CACHE_SYMLINKS,
            F::FUSE_ASYNC_READ,
            F::FUSE_BIG_WRITES,
            F::FUSE_EXPORT_SUPPORT,
        ];
        for w in want {
            let _ = config.add_capabilities(w);
        }
        // Zero-message open/opendir: the kernel keeps file and directory
        // caches, and sends neither OPEN nor RELEASE (files are read and
        // written by inode).
        self.no_open = config.add_capabilities(F::FUSE_NO_OPEN_SUPPORT).is_ok();
        self.no_opendir = config.add_capabilities(F::FUSE_NO_OPENDIR_SUPPORT).is_ok();
        let _ = config.set_max_write(MAX_IO);
        let _ = config.set_max_readahead(MAX_IO);
        let _ = config.set_max_background(64);
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        match self.lookup_node(parent.0, name).and_then(|i| self.attr(i)) {
            Ok(a) => reply.entry(&TTL, &a, Generation(0)),
            Err(libc::ENOENT) => {
                // A negative entry the kernel may cache.
                let mut a = empty_attr();
                a.ino = INodeNo(0);
                reply.entry(&TTL, &a, Generation(0))
            }
            Err(e) => reply.error(err(e)),
        }
    }

    fn forget(&self, _req: &Request, ino: INodeNo, _nlookup: u64) {
        // Nodes stay (stable inode numbers); descriptors go.
        lock(&self.pinned).remove(&ino.0);
        lock(&self.fds).remove(&ino.0);
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, fh: Option<FileHandle>, reply: ReplyAttr) {
        let r = self.attr(ino.0).or_else(|e| {
            // An open file whose names are gone.
            let f = fh
                .and_then(|h| self.file_handle(h.0).ok())
                .or_else(|| lock(&self.pinned).get(&ino.0).cloned())
                .ok_or(e)?;
            let st = nix::sys::stat::fstat(f.as_raw_fd()).map_err(nerr)?;
            Ok(self.make_attr(ino.0, f.as_fd(), &st, false))
        });
        match r {
            Ok(a) => reply.attr(&TTL, &a),
            Err(e) => reply.error(err(e)),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        match self
            .do_setattr(ino.0, mode, uid, gid, size, atime, mtime, fh.map(|h| h.0))
            .and_then(|()| self.attr(ino.0))
        {
            Ok(a) => reply.attr(&TTL, &a),
            Err(e) => reply.error(err(e)),
        }
    }

    fn readlink(&self, _req: &Request, ino: INodeNo, reply: ReplyData) {
        let r = self
            .open_node(ino.0)
            .and_then(|(fd, ..)| nix::fcntl::readlinkat(Some(fd.as_raw_fd()), "").map_err(nerr));
        match r {
            Ok(t) => reply.data(t.as_bytes()),
            Err(e) => reply.error(err(e)),
        }
    }

    fn mknod(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        rdev: u32,
        reply: ReplyEntry,
    ) {
        match self
            .do_create(req, parent.0, name, mode, umask, rdev, None)
            .and_then(|(i, _)| self.attr(i))
        {
            Ok(a) => reply.entry(&TTL, &a, Generation(0)),
            Err(e) => reply.error(err(e)),
        }
    }

    fn mkdir(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        match self
            .do_create(
                req,
                parent.0,
                name,
                libc::S_IFDIR | (mode & 0o7777),
                umask,
                0,
                None,
            )
            .and_then(|(i, _)| self.attr(i))
        {
            Ok(a) => reply.entry(&TTL, &a, Generation(0)),
            Err(e) => reply.error(err(e)),
        }
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        match self.do_unlink(parent.0, name, false) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(err(e)),
        }
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        match self.do_unlink(parent.0, name, true) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(err(e)),
        }
    }

    fn symlink(
        &self,
        req: &Request,
        parent: INodeNo,
        link_name: &OsStr,
        target: &Path,
        reply: ReplyEntry,
    ) {
        match self
            .do_symlink(req, parent.0, link_name, target)
            .and_then(|i| self.attr(i))
        {
            Ok(a) => reply.entry(&TTL, &a, Generation(0)),
            Err(e) => reply.error(err(e)),
        }
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: fuser::RenameFlags,
        reply: ReplyEmpty,
    ) {
        match self.do_rename(parent.0, name, newparent.0, newname, flags.bits()) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(err(e)),
        }
    }

    fn link(
        &self,
        _req: &Request,
        ino: INodeNo,
        newparent: INodeNo,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        match self
            .do_link(ino.0, newparent.0, newname)
            .and_then(|()| self.attr(ino.0))
        {
            Ok(a) => reply.entry(&TTL, &a, Generation(0)),
            Err(e) => reply.error(err(e)),
        }
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: fuser::OpenFlags, reply: ReplyOpen) {
        if self.no_open {
            // Copy-up happens at the first write or truncation.
            return reply.error(err(libc::ENOSYS));
        }
        match self.do_open(ino.0, flags.0) {
            Ok((fh, _lower)) => reply.opened(FileHandle(fh), FopenFlags::FOPEN_KEEP_CACHE),
            Err(e) => reply.error(err(e)),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: fuser::OpenFlags,
        _lock: Option<fuser::LockOwner>,
        reply: ReplyData,
    ) {
        let f = match self.file_handle(fh.0) {
            Ok(f) => Ok(f),
            Err(_) => self.io_fd(ino.0, false),
        };
        let r = f.and_then(|f| {
            let mut buf = vec![0u8; size.min(MAX_IO) as usize];
            let mut got = 0;
            while got < buf.len() {
                match f.read_at(&mut buf[got..], offset + got as u64) {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(ioerr(e)),
                }
            }
            buf.truncate(got);
            Ok(buf)
        });
        match r {
            Ok(b) => reply.data(&b),
            Err(e) => reply.error(err(e)),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        _wf: fuser::WriteFlags,
        _flags: fuser::OpenFlags,
        _lock: Option<fuser::LockOwner>,
        reply: ReplyWrite,
    ) {
        let f = match self.file_handle(fh.0) {
            Ok(f) => Ok(f),
            Err(_) => self.io_fd(ino.0, true),
        };
        match f.and_then(|f| f.write_all_at(data, offset).map_err(ioerr)) {
            Ok(()) => reply.written(data.len() as u32),
            Err(e) => reply.error(err(e)),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock: fuser::LockOwner,
        reply: ReplyEmpty,
    ) {
        // Nothing to flush: the kernel stops sending FLUSH.
        reply.error(err(libc::ENOSYS));
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: fuser::OpenFlags,
        _lock: Option<fuser::LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.handles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&fh.0);
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        datasync: bool,
        reply: ReplyEmpty,
    ) {
        let f = match self.file_handle(fh.0) {
            Ok(f) => Ok(f),
            Err(_) => self.io_fd(ino.0, false),
        };
        let r = f.and_then(|f| {
            if datasync {
                f.sync_data()
            } else {
                f.sync_all()
            }
            .map_err(ioerr)
        });
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(err(e)),
        }
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: fuser::OpenFlags, reply: ReplyOpen) {
        if self.no_opendir {
            return reply.error(err(libc::ENOSYS));
        }
        match self.opendir(ino.0) {
            Ok(fh) => reply.opened(
                FileHandle(fh),
                FopenFlags::FOPEN_KEEP_CACHE | FopenFlags::FOPEN_CACHE_DIR,
            ),
            Err(e) => reply.error(err(e)),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let d = match self.listing(ino.0, fh.0, offset) {
            Ok(d) => d,
            Err(e) => return reply.error(err(e)),
        };
        let mut full = false;
        for (i, (name, k)) in d.entries.iter().enumerate().skip(offset as usize) {
            let ft = match k {
                Kind::Dir => FileType::Directory,
                Kind::File => FileType::RegularFile,
                Kind::Symlink => FileType::Symlink,
                Kind::Other => FileType::RegularFile,
            };
            let child = if i < 2 {
                ino.0
            } else {
                self.table()
                    .children
                    .get(&(ino.0, name.clone()))
                    .copied()
                    .unwrap_or(u64::MAX)
            };
            if reply.add(INodeNo(child), (i + 1) as u64, ft, name) {
                full = true;
                break;
            }
        }
        if !full {
            self.listing_done(ino.0, fh.0);
        }
        reply.ok();
    }

    fn readdirplus(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectoryPlus,
    ) {
        let d = match self.listing(ino.0, fh.0, offset) {
            Ok(d) => d,
            Err(e) => return reply.error(err(e)),
        };
        let mut full = false;
        // The directory's layers are opened once for the whole batch.
        let dfds = self
            .node_info(ino.0)
            .and_then(|(path, _, layer, lowers)| {
                self.dir_fds(&path, &Self::layers_of(layer, &lowers))
            })
            .unwrap_or_default();
        for (i, (name, _)) in d.entries.iter().enumerate().skip(offset as usize) {
            let a = if i < 2 {
                self.attr(ino.0)
            } else {
                self.entry_attr(ino.0, name, &dfds)
            };
            let Ok(a) = a else { continue };
            if reply.add(a.ino, (i + 1) as u64, name, &TTL, &a, Generation(0)) {
                full = true;
                break;
            }
        }
        if !full {
            self.listing_done(ino.0, fh.0);
        }
        reply.ok();
    }

    fn releasedir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: fuser::OpenFlags,
        reply: ReplyEmpty,
    ) {
        self.handles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&fh.0);
        reply.ok();
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        match nix::sys::statvfs::fstatvfs(self.layers[UPPER].as_fd()) {
            Ok(s) => reply.statfs(
                s.blocks(),
                s.blocks_free(),
                s.blocks_available(),
                s.files(),
                s.files_free(),
                s.block_size() as u32,
                255,
                s.fragment_size() as u32,
            ),
            Err(e) => reply.error(err(nerr(e))),
        }
    }

    fn setxattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        name: &OsStr,
        value: &[u8],
        flags: i32,
        _position: u32,
        reply: ReplyEmpty,
    ) {
        match self.do_setxattr(ino.0, name, Some(value), flags) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(err(e)),
        }
    }

    fn getxattr(&self, _req: &Request, ino: INodeNo, name: &OsStr, size: u32, reply: ReplyXattr) {
        match self.do_getxattr(ino.0, name) {
            Ok(v) if size == 0 => reply.size(v.len() as u32),
            Ok(v) if v.len() <= size as usize => reply.data(&v),
            Ok(_) => reply.error(err(libc::ERANGE)),
            Err(e) => reply.error(err(e)),
        }
    }

    fn listxattr(&self, _req: &Request, ino: INodeNo, size: u32, reply: ReplyXattr) {
        match self.do_listxattr(ino.0) {
            Ok(v) if size == 0 => reply.size(v.len() as u32),
            Ok(v) if v.len() <= size as usize => reply.data(&v),
            Ok(_) => reply.error(err(libc::ERANGE)),
            Err(e) => reply.error(err(e)),
        }
    }

    fn removexattr(&self, _req: &Request, ino: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        match self.do_setxattr(ino.0, name, None, 0) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(err(e)),
        }
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        match self.do_create(
            req,
            parent.0,
            name,
            libc::S_IFREG | (mode & 0o7777),
            umask,
            0,
            Some(flags),
        ) {
            Ok((ino, Some(fh))) => match self.attr(ino) {
                Ok(a) => reply.created(
                    &TTL,
                    &a,
                    Generation(0),
                    FileHandle(fh),
                    FopenFlags::FOPEN_KEEP_CACHE,
                ),
                Err(e) => reply.error(err(e)),
            },
            Ok((_, None)) => reply.error(err(libc::EIO)),
            Err(e) => reply.error(err(e)),
        }
    }

    fn fallocate(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        let f = match self.file_handle(fh.0) {
            Ok(f) => Ok(f),
            Err(_) => self.io_fd(ino.0, true),
        };
        let r = f.and_then(|f| {
            nix::fcntl::fallocate(
                f.as_raw_fd(),
                nix::fcntl::FallocateFlags::from_bits_truncate(mode),
                offset as i64,
                length as i64,
            )
            .map_err(nerr)
        });
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(err(e)),
        }
    }
}

fn empty_attr() -> FileAttr {
    FileAttr {
        ino: INodeNo(0),
        size: 0,
        blocks: 0,
        atime: UNIX_EPOCH,
        mtime: UNIX_EPOCH,
        ctime: UNIX_EPOCH,
        crtime: UNIX_EPOCH,
        kind: FileType::RegularFile,
        perm: 0,
        nlink: 0,
        uid: 0,
        gid: 0,
        rdev: 0,
        blksize: 4096,
        flags: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_stat_is_parsed_in_the_unpackers_format() {
        let o = parse_override(b"1000:1011:0644:file").unwrap();
        assert_eq!(
            (o.uid, o.gid, o.mode, o.kind_override),
            (1000, 1011, 0o644, Some(libc::S_IFREG))
        );
        let o = parse_override(b"0:0:0666:char-1-3").unwrap();
        assert_eq!(o.kind_override, Some(libc::S_IFCHR));
        assert_eq!(o.rdev, Some(nix::sys::stat::makedev(1, 3)));
        // The older three-field form, and junk.
        assert_eq!(parse_override(b"5:6:4755").unwrap().mode, 0o4755);
        for bad in [
            &b""[..],
            b"x:1:0644",
            b"1:2",
            b"1:2:99z",
            b"\xff\xfe",
            b"1:2:0644:block-",
        ] {
            let r = parse_override(bad);
            if bad == b"1:2:0644:block-" {
                assert!(r.is_some_and(|o| o.rdev.is_none()));
            } else {
                assert!(r.is_none(), "{bad:?}");
            }
        }
    }

    #[test]
    fn type_words_round_trip() {
        for (mode, rdev) in [
            (libc::S_IFREG, 0),
            (libc::S_IFDIR, 0),
            (libc::S_IFIFO, 0),
            (libc::S_IFCHR, nix::sys::stat::makedev(4, 64)),
            (libc::S_IFBLK, nix::sys::stat::makedev(8, 1)),
        ] {
            let v = format!("1:2:0640:{}", type_word(mode, rdev));
            let o = parse_override(v.as_bytes()).unwrap();
            assert_eq!(o.kind_override, Some(mode), "{v}");
            if rdev != 0 {
                assert_eq!(o.rdev, Some(rdev), "{v}");
            }
        }
    }
}
