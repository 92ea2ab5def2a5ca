//! Unpacking OCI image layers, safe against hostile archives.
//!
//! A layer is a tar stream (uncompressed, gzip or zstd) from a registry we do
//! not trust, unpacked by an unprivileged user. The rules:
//!
//! - Streamed: decompression, hashing and tar parsing never hold a layer in
//!   memory. The tar reader is our own (`TarReader`) so that every piece of
//!   a header that is buffered has a cap: PAX headers, GNU long names and
//!   sparse maps (the `tar` crate reads them without a limit). `load` reads
//!   image archives with the same reader ([`TarArchive`]).
//! - Every entry name is normalised lexically; a `..` that would climb above
//!   the layer root rejects the layer. Parents are opened with
//!   `openat2(RESOLVE_IN_ROOT)` and the last component is created with `*at`
//!   calls that never follow it, so symlinks planted by earlier entries stay
//!   clamped inside the layer directory.
//! - Ownership is applied with `fchown` when allowed, and otherwise recorded
//!   in the `user.containers.override_stat` xattr in the format shared by
//!   containers/storage and fuse-overlayfs (`UID:GID:MODE:TYPE`, MODE the
//!   four octal permission digits, TYPE `file`, `dir`, `symlink`, `pipe`,
//!   `socket`, `char-MAJOR-MINOR` or `block-MAJOR-MINOR`; readers of the
//!   older three-field form ignore the fourth field). Unprivileged, an
//!   entry owned by 0:0 with a mode the disk can hold gets no record: the
//!   unpacking user's files are root's in the container under either id
//!   mapping, and a missing record means "the file's own owner and mode" to
//!   every reader (most entries of real images are root's, and the record
//!   costs a syscall and often a disk block).
//! - Unprivileged, the modes on disk always keep the owner's `rw` (and `x`
//!   for directories) so that the unpacking user can read, copy and delete
//!   the layer; the exact mode is in the override xattr. Inside a user
//!   namespace where that user is root nothing changes: root ignores modes.
//! - Whiteouts stay in their OCI form in the layer directory; [`apply_layer`]
//!   interprets them when a rootfs is assembled by copying.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{FchmodatFlags, FileStat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{Gid, Uid, UnlinkatFlags};

use crate::image::digest::{Digest, DigestWriter};

/// The xattr in which ownership and mode are recorded when they cannot be
/// applied (containers/storage and fuse-overlayfs read it).
pub const OVERRIDE_STAT_XATTR: &str = "user.containers.override_stat";
/// Prefix under which fuse-overlayfs (containers mode) keeps xattrs that
/// an unprivileged user cannot set, such as `security.capability`.
const OVERRIDE_PREFIX: &str = "user.containers.override_";
const WHITEOUT_PREFIX: &[u8] = b".wh.";
const WHITEOUT_META_PREFIX: &[u8] = b".wh..wh.";
/// The opaque-directory marker.
pub const OPAQUE_MARKER: &str = ".wh..wh..opq";

const BLOCK: u64 = 512;
/// Largest PAX extended header we buffer (path, link, xattrs of one entry).
const MAX_PAX_BYTES: u64 = 1 << 20;
/// Most fragments a sparse file may list (16 bytes of memory each).
const MAX_SPARSE_FRAGMENTS: usize = 1 << 20;
/// Largest zstd window we accept (ruzstd's own limit for later frames).
const MAX_ZSTD_WINDOW: u64 = 100 << 20;
/// Largest zstd window we accept in an image archive: the 128 MiB of
/// `zstd --long` (ruzstd still holds frames after the first to 100 MiB).
const MAX_ARCHIVE_ZSTD_WINDOW: u64 = 128 << 20;
/// Largest xattr value the kernel accepts.
const MAX_XATTR_VALUE: usize = 64 << 10;
/// Bytes of directory paths whose mode and mtime are applied at the end.
const MAX_DIR_BYTES: usize = 256 << 20;
/// Notes kept in a report; the rest are counted.
const MAX_NOTES: usize = 100;
const COPY_BUF: usize = 128 << 10;

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// The compression of a layer from its descriptor's media type.
    pub fn from_media_type(mt: &str) -> Result<Self, UnpackError> {
        let base = mt
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        Ok(match base.as_str() {
            "application/vnd.oci.image.layer.v1.tar"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar"
            | "application/vnd.docker.image.rootfs.diff.tar" => Self::None,
            "application/vnd.oci.image.layer.v1.tar+gzip"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
            | "application/vnd.docker.image.rootfs.diff.tar.gzip"
            | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => Self::Gzip,
            "application/vnd.oci.image.layer.v1.tar+zstd"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd" => Self::Zstd,
            _ => return Err(UnpackError::MediaType(mt.to_string())),
        })
    }

    /// Guesses the compression from the first bytes of a blob (magic
    /// numbers); anything unrecognised is taken as an uncompressed tar.
    pub fn sniff(first_bytes: &[u8]) -> Self {
        match first_bytes {
            [0x1f, 0x8b, ..] => Self::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Self::Zstd,
            [a, b, c, d, ..]
                if u32::from_le_bytes([*a, *b, *c, *d]) & 0xffff_fff0 == 0x184d_2a50 =>
            {
                Self::Zstd
            }
            _ => Self::None,
        }
    }
}

/// Bounds on what one layer may make us do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of the uncompressed tar stream.
    pub max_unpacked_bytes: u64,
    /// Entries in the archive (extension headers not counted).
    pub max_entries: u64,
    /// Bytes of an entry's name or link target.
    pub max_path_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_unpacked_bytes: 64 << 30,
            max_entries: 2_000_000,
            max_path_bytes: 4096,
        }
    }
}

/// What unpacking one layer produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackReport {
    /// sha256 of the uncompressed tar stream, end padding included.
    pub diff_id: Digest,
    /// Length of the uncompressed tar stream.
    pub unpacked_bytes: u64,
    /// Entries in the archive.
    pub entries: u64,
    /// Things the caller may want to show: skipped or emulated entries.
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error(
        "unsupported layer media type {0:?}: expected an OCI or Docker tar layer, \
         uncompressed, gzip or zstd"
    )]
    MediaType(String),
    #[error("layer entry {path:?}: {reason}")]
    Entry { path: String, reason: String },
    #[error("layer entry {path:?}: {op}: {source}")]
    EntryIo {
        path: String,
        op: &'static str,
        #[source]
        source: io::Error,
    },
    #[error(
        "layer is larger than the limit of {limit} bytes uncompressed (a decompression \
         bomb?); raise max_unpacked_bytes if the image is genuine"
    )]
    TooLarge { limit: u64 },
    #[error("layer has more than {limit} entries; raise max_entries if the image is genuine")]
    TooManyEntries { limit: u64 },
    #[error("layer is truncated: the stream ends {context}")]
    Truncated { context: String },
    #[error("corrupt layer: {0}")]
    Corrupt(String),
    #[error("reading the layer stream {context}: {source}")]
    Read {
        context: String,
        #[source]
        source: io::Error,
    },
    #[error("{op} {path}: {source}")]
    Path {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("unpack into {0}: the directory is not empty")]
    NotEmpty(PathBuf),
    #[error("apply layer entry {path:?}: {op}: {source}")]
    Apply {
        path: String,
        op: &'static str,
        #[source]
        source: io::Error,
    },
}

type Res<T> = Result<T, UnpackError>;

fn shown(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn bad(path: &str, reason: impl Into<String>) -> UnpackError {
    UnpackError::Entry {
        path: path.to_string(),
        reason: reason.into(),
    }
}

/// Attaches an entry path (or a path on disk) and an operation to an OS
/// error.
trait At<T> {
    fn at(self, path: &str, op: &'static str) -> Res<T>;
    fn applying(self, path: &Path, op: &'static str) -> Res<T>;
    fn on_disk(self, path: &Path, op: &'static str) -> Res<T>;
}

impl<T, E: Into<io::Error>> At<T> for Result<T, E> {
    fn at(self, path: &str, op: &'static str) -> Res<T> {
        self.map_err(|e| UnpackError::EntryIo {
            path: path.to_string(),
            op,
            source: e.into(),
        })
    }
    fn applying(self, path: &Path, op: &'static str) -> Res<T> {
        self.map_err(|e| UnpackError::Apply {
            path: path.display().to_string(),
            op,
            source: e.into(),
        })
    }
    fn on_disk(self, path: &Path, op: &'static str) -> Res<T> {
        self.map_err(|e| UnpackError::Path {
            op,
            path: path.to_path_buf(),
            source: e.into(),
        })
    }
}

fn errno(e: &io::Error) -> Option<Errno> {
    e.raw_os_error().map(Errno::from_raw)
}

/// Whether opening a path failed because a later entry replaced or
/// removed what was there (a directory is now a file or a symlink).
fn replaced(e: &io::Error) -> bool {
    matches!(
        errno(e),
        Some(Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP)
    )
}

// ---------------------------------------------------------------------------
// xattrs: the only calls that need the `xattr` crate.

mod xattrs {
    use std::fs::File;
    use std::io;

    use xattr::FileExt;

    pub fn set(f: &File, name: &str, value: &[u8]) -> io::Result<()> {
        f.set_xattr(name, value)
    }

    pub fn get(f: &File, name: &str) -> io::Result<Option<Vec<u8>>> {
        f.get_xattr(name)
    }

    pub fn remove(f: &File, name: &str) -> io::Result<()> {
        match f.remove_xattr(name) {
            Err(e) if e.raw_os_error() == Some(libc::ENODATA) => Ok(()),
            r => r,
        }
    }

    pub fn list(f: &File) -> io::Result<Vec<std::ffi::OsString>> {
        Ok(f.list_xattr()?.collect())
    }
}

fn xattr_unsupported(e: &io::Error) -> bool {
    matches!(errno(e), Some(Errno::EOPNOTSUPP))
}

/// The `user.containers.override_stat` value.
fn override_stat(uid: u64, gid: u64, mode: u32, kind: &str) -> String {
    format!("{uid}:{gid}:{:04o}:{kind}", mode & 0o7777)
}

// ---------------------------------------------------------------------------
// The decompressed stream: hashed, counted and capped.

#[derive(Debug)]
struct LimitExceeded;

impl fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the uncompressed layer exceeds its size limit")
    }
}

impl std::error::Error for LimitExceeded {}

struct Tee<R> {
    inner: R,
    digest: DigestWriter<io::Sink>,
    limit: u64,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let seen = self.digest.len();
        if seen > self.limit {
            return Err(io::Error::other(LimitExceeded));
        }
        // Never pull more than one byte past the limit.
        let room = usize::try_from(self.limit - seen).unwrap_or(usize::MAX);
        let want = buf.len().min(room.saturating_add(1));
        let n = self.inner.read(&mut buf[..want])?;
        self.digest.absorb(&buf[..n]);
        if self.digest.len() > self.limit {
            return Err(io::Error::other(LimitExceeded));
        }
        Ok(n)
    }
}

/// Classifies an error from reading the layer stream.
fn stream_error(e: io::Error, limit: u64, context: impl Into<String>) -> UnpackError {
    if e.get_ref().is_some_and(|x| x.is::<LimitExceeded>()) {
        UnpackError::TooLarge { limit }
    } else if e.kind() == io::ErrorKind::UnexpectedEof {
        UnpackError::Truncated {
            context: context.into(),
        }
    } else {
        UnpackError::Read {
            context: context.into(),
            source: e,
        }
    }
}

enum Decompress<R: Read> {
    Plain(R),
    Gzip(Box<flate2::read::MultiGzDecoder<R>>),
    Zstd(Box<ZstdStream<R>>),
}

impl<R: Read> Decompress<R> {
    fn new(reader: R, compression: Compression, max_zstd_window: u64) -> Self {
        match compression {
            Compression::None => Self::Plain(reader),
            Compression::Gzip => Self::Gzip(Box::new(flate2::read::MultiGzDecoder::new(reader))),
            Compression::Zstd => Self::Zstd(Box::new(ZstdStream::new(reader, max_zstd_window))),
        }
    }
}

impl<R: Read> Read for Decompress<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(r) => r.read(buf),
            Self::Gzip(r) => r.read(buf),
            Self::Zstd(r) => r.read(buf),
        }
    }
}

/// Bytes pushed back in front of a reader.
struct Prefixed<R> {
    head: Vec<u8>,
    pos: usize,
    inner: R,
}

impl<R: Read> Read for Prefixed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.head.len() {
            let n = buf.len().min(self.head.len() - self.pos);
            buf[..n].copy_from_slice(&self.head[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

/// A zstd stream of any number of frames and skippable frames (ruzstd's
/// `StreamingDecoder` reads one frame). Each frame header is checked here
/// first: ruzstd does not bound the window of a decoder's first frame, and
/// the window is what it keeps in memory.
struct ZstdStream<R> {
    src: Prefixed<R>,
    dec: ruzstd::decoding::FrameDecoder,
    in_frame: bool,
    frames: u64,
    max_window: u64,
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// A ruzstd error as an I/O error, of kind `UnexpectedEof` when the
/// stream ended inside a frame (so that a cut stream reads as truncated).
fn zstd_error<E: std::error::Error + Send + Sync + 'static>(e: E) -> io::Error {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(c) = cause {
        if c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::UnexpectedEof)
        {
            return io::Error::new(io::ErrorKind::UnexpectedEof, e);
        }
        cause = c.source();
    }
    io::Error::other(e)
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
pub(crate) fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

impl<R: Read> ZstdStream<R> {
    fn new(inner: R, max_window: u64) -> Self {
        Self {
            src: Prefixed {
                head: Vec::new(),
                pos: 0,
                inner,
            },
            dec: ruzstd::decoding::FrameDecoder::new(),
            in_frame: false,
            frames: 0,
            max_window,
        }
    }

    /// Starts the next frame; `false` at the end of the stream.
    fn start_frame(&mut self) -> io::Result<bool> {
        loop {
            let mut magic = [0u8; 4];
            match read_full(&mut self.src, &mut magic)? {
                0 if self.frames > 0 => return Ok(false),
                0 => return Err(invalid("the zstd stream is empty".into())),
                4 => {}
                _ => return Err(io::ErrorKind::UnexpectedEof.into()),
            }
            let m = u32::from_le_bytes(magic);
            if m & 0xffff_fff0 == 0x184d_2a50 {
                let mut len = [0u8; 4];
                self.src.read_exact(&mut len)?;
                let len = u64::from(u32::from_le_bytes(len));
                if io::copy(&mut (&mut self.src).take(len), &mut io::sink())? != len {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                self.frames += 1;
                continue;
            }
            if m != 0xfd2f_b528 {
                return Err(invalid(format!("not a zstd frame (magic {m:#010x})")));
            }
            let mut fhd = [0u8; 1];
            self.src.read_exact(&mut fhd)?;
            let d = fhd[0];
            let single = d & 0x20 != 0;
            let dict_len = [0usize, 1, 2, 4][usize::from(d & 3)];
            let fcs_len = match d >> 6 {
                0 => usize::from(single),
                1 => 2,
                2 => 4,
                _ => 8,
            };
            let mut rest = vec![0u8; usize::from(!single) + dict_len + fcs_len];
            self.src.read_exact(&mut rest)?;
            let window = if single {
                let fcs = &rest[dict_len..];
                let mut v = [0u8; 8];
                v[..fcs.len()].copy_from_slice(fcs);
                let v = u64::from_le_bytes(v);
                if fcs_len == 2 {
                    v + 256
                } else {
                    v
                }
            } else {
                let exp = u32::from(rest[0] >> 3);
                let base = 1u64 << (10 + exp);
                base + base / 8 * u64::from(rest[0] & 7)
            };
            if window > self.max_window {
                return Err(invalid(format!(
                    "a zstd frame needs a {window}-byte window, more than the \
                     {} bytes allowed",
                    self.max_window
                )));
            }
            let mut head = magic.to_vec();
            head.push(d);
            head.extend_from_slice(&rest);
            head.extend_from_slice(&self.src.head[self.src.pos..]);
            self.src.head = head;
            self.src.pos = 0;
            self.dec.reset(&mut self.src).map_err(zstd_error)?;
            self.in_frame = true;
            self.frames += 1;
            return Ok(true);
        }
    }
}

impl<R: Read> Read for ZstdStream<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.in_frame && !self.start_frame()? {
                return Ok(0);
            }
            while self.dec.can_collect() < buf.len() && !self.dec.is_finished() {
                let want = buf.len() - self.dec.can_collect();
                self.dec
                    .decode_blocks(
                        &mut self.src,
                        ruzstd::decoding::BlockDecodingStrategy::UptoBytes(want),
                    )
                    .map_err(zstd_error)?;
            }
            let n = self.dec.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            if self.dec.is_finished() {
                if let (Some(want), Some(got)) = (
                    self.dec.get_checksum_from_data(),
                    self.dec.get_calculated_checksum(),
                ) {
                    if want != got {
                        return Err(invalid("zstd frame checksum mismatch".into()));
                    }
                }
                self.in_frame = false;
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Tar parsing: headers into validated `Header`s, every buffer capped.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Regular,
    Link,
    Symlink,
    Char,
    Block,
    Dir,
    Fifo,
    Other(u8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Sparse {
    /// (offset, length) of each data fragment, in order.
    map: Vec<(u64, u64)>,
    real_size: u64,
}

#[derive(Debug, Clone)]
struct Header {
    path: Vec<u8>,
    link: Vec<u8>,
    kind: Kind,
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: (i64, i64),
    dev: (u64, u64),
    xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    sparse: Option<Sparse>,
}

/// A numeric header field: octal text, or GNU base-256.
fn parse_num(field: &[u8]) -> Result<u64, String> {
    if let Some(&first) = field.first() {
        if first & 0x80 != 0 {
            if first & 0x40 != 0 {
                return Err("negative number".into());
            }
            let mut v = u64::from(first & 0x3f);
            for &b in &field[1..] {
                if v >> 56 != 0 {
                    return Err("number out of range".into());
                }
                v = v << 8 | u64::from(b);
            }
            return Ok(v);
        }
    }
    let start = field.iter().position(|&b| b != b' ' && b != 0);
    let Some(start) = start else { return Ok(0) };
    let end = field
        .iter()
        .rposition(|&b| b != b' ' && b != 0)
        .unwrap_or(start);
    let mut v: u64 = 0;
    for &c in &field[start..=end] {
        if !(b'0'..=b'7').contains(&c) {
            return Err(format!("invalid octal number {:?}", shown(field)));
        }
        v = v
            .checked_mul(8)
            .and_then(|v| v.checked_add(u64::from(c - b'0')))
            .ok_or("number out of range")?;
    }
    Ok(v)
}

fn cstr(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    &field[..end]
}

/// One PAX record set, in order (`GNU.sparse.offset`/`numbytes` repeat).
type Pax = Vec<(String, Vec<u8>)>;

fn parse_pax(mut data: &[u8]) -> Result<Pax, String> {
    let mut out = Vec::new();
    while !data.is_empty() {
        if data.iter().all(|&b| b == 0) {
            break; // NUL padding some writers leave
        }
        let sp = data
            .iter()
            .take(20)
            .position(|&b| b == b' ')
            .ok_or("pax record without a length")?;
        let len_text = std::str::from_utf8(&data[..sp]).map_err(|_| "bad pax record length")?;
        if len_text.is_empty() || !len_text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("bad pax record length {len_text:?}"));
        }
        let len: usize = len_text.parse().map_err(|_| "bad pax record length")?;
        if len <= sp + 1 || len > data.len() || data[len - 1] != b'\n' {
            return Err("malformed pax record".into());
        }
        let kv = &data[sp + 1..len - 1];
        let eq = kv
            .iter()
            .position(|&b| b == b'=')
            .ok_or("pax record without '='")?;
        let key = std::str::from_utf8(&kv[..eq]).map_err(|_| "pax key is not utf-8")?;
        if key.is_empty() {
            return Err("empty pax key".into());
        }
        out.push((key.to_string(), kv[eq + 1..].to_vec()));
        data = &data[len..];
    }
    Ok(out)
}

fn pax_get<'p>(pax: &'p Pax, key: &str) -> Option<&'p [u8]> {
    pax.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_slice())
}

fn pax_num(pax: &Pax, key: &str) -> Result<Option<u64>, String> {
    match pax_get(pax, key) {
        None => Ok(None),
        Some(v) => std::str::from_utf8(v)
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse().ok())
            .map(Some)
            .ok_or_else(|| format!("invalid pax {key} {:?}", shown(v))),
    }
}

/// A PAX time: decimal seconds with an optional fraction, maybe negative.
fn pax_time(v: &[u8]) -> Option<(i64, i64)> {
    let s = std::str::from_utf8(v).ok()?;
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = int.parse().ok()?;
    let mut nanos: i64 = 0;
    for (i, b) in frac.bytes().take(9).enumerate() {
        nanos += i64::from(b - b'0') * 10i64.pow(8 - i as u32);
    }
    Some(if neg {
        if nanos > 0 {
            (-secs - 1, 1_000_000_000 - nanos)
        } else {
            (-secs, 0)
        }
    } else {
        (secs, nanos)
    })
}

fn parse_map_list(v: &[u8]) -> Result<Vec<u64>, String> {
    let s = std::str::from_utf8(v).map_err(|_| "bad sparse map")?;
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|n| {
            n.parse::<u64>()
                .map_err(|_| format!("bad sparse map number {n:?}"))
        })
        .collect()
}

fn pairs(nums: &[u64]) -> Result<Vec<(u64, u64)>, String> {
    if nums.len() % 2 == 1 {
        return Err("sparse map with an odd number of values".into());
    }
    if nums.len() / 2 > MAX_SPARSE_FRAGMENTS {
        return Err("sparse map with too many fragments".into());
    }
    Ok(nums.chunks(2).map(|c| (c[0], c[1])).collect())
}

/// How the sparse map of a PAX entry is given.
enum PaxSparse {
    /// Format 0.0 / 0.1: the map is in the PAX records.
    Map(Vec<(u64, u64)>, u64),
    /// Format 1.0: the map starts the entry's data.
    InData(u64),
}

fn pax_sparse(pax: &Pax) -> Result<Option<PaxSparse>, String> {
    let major = pax_get(pax, "GNU.sparse.major");
    let minor = pax_get(pax, "GNU.sparse.minor");
    if major == Some(b"1") && minor == Some(b"0") {
        let real = pax_num(pax, "GNU.sparse.realsize")?
            .ok_or("sparse file without GNU.sparse.realsize")?;
        return Ok(Some(PaxSparse::InData(real)));
    }
    if major.is_some() && pax_get(pax, "GNU.sparse.map").is_none() {
        return Err("unsupported GNU sparse format".into());
    }
    let nums = if let Some(m) = pax_get(pax, "GNU.sparse.map") {
        parse_map_list(m)?
    } else {
        // Format 0.0: repeated offset/numbytes records, in order.
        let mut nums = Vec::new();
        for (k, v) in pax {
            if k == "GNU.sparse.offset" || k == "GNU.sparse.numbytes" {
                if nums.len() >= 2 * MAX_SPARSE_FRAGMENTS {
                    return Err("sparse map with too many fragments".into());
                }
                nums.push(parse_map_list(v)?.first().copied().unwrap_or(0));
            }
        }
        if nums.is_empty() {
            return Ok(None);
        }
        nums
    };
    let real = pax_num(pax, "GNU.sparse.size")?.ok_or("sparse file without GNU.sparse.size")?;
    Ok(Some(PaxSparse::Map(pairs(&nums)?, real)))
}

fn check_sparse(map: &[(u64, u64)], real_size: u64, data: u64) -> Result<(), String> {
    let mut end = 0u64;
    let mut total = 0u64;
    for &(off, len) in map {
        let e = off.checked_add(len).ok_or("sparse fragment out of range")?;
        if off < end || e > real_size {
            return Err("sparse fragments overlap, are out of order or past the end".into());
        }
        end = e;
        total = total
            .checked_add(len)
            .ok_or("sparse fragment out of range")?;
    }
    if total != data {
        return Err("sparse map does not match the data stored".into());
    }
    Ok(())
}

struct TarReader<R> {
    r: R,
    /// Data bytes of the current entry not read yet.
    remaining: u64,
    /// Padding after them.
    pad: u64,
    limit: u64,
    max_path: usize,
    globals: u64,
}

fn padding(size: u64) -> u64 {
    (BLOCK - size % BLOCK) % BLOCK
}

impl<R: Read> TarReader<R> {
    fn new(r: R, limit: u64, max_path: usize) -> Self {
        Self {
            r,
            remaining: 0,
            pad: 0,
            limit,
            max_path,
            globals: 0,
        }
    }

    fn err(&self, e: io::Error, context: impl Into<String>) -> UnpackError {
        stream_error(e, self.limit, context)
    }

    fn skip(&mut self, n: u64, context: &str) -> Res<()> {
        let got = io::copy(&mut (&mut self.r).take(n), &mut io::sink())
            .map_err(|e| self.err(e, context))?;
        if got != n {
            return Err(UnpackError::Truncated {
                context: context.to_string(),
            });
        }
        Ok(())
    }

    fn skip_rest(&mut self) -> Res<()> {
        let n = self.remaining + self.pad;
        self.remaining = 0;
        self.pad = 0;
        self.skip(n, "inside an entry's data")
    }

    /// Reads a whole 512-byte block; `false` on a clean end of stream.
    fn block(&mut self, b: &mut [u8; 512], context: &str) -> Res<bool> {
        match read_full(&mut self.r, b).map_err(|e| self.err(e, context))? {
            0 => Ok(false),
            512 => Ok(true),
            _ => Err(UnpackError::Truncated {
                context: context.to_string(),
            }),
        }
    }

    /// The data of an extension header, at most `cap` bytes.
    fn ext_data(&mut self, size: u64, cap: u64, what: &str) -> Res<Vec<u8>> {
        if size > cap {
            return Err(UnpackError::Corrupt(format!(
                "{what} of {size} bytes is larger than the limit of {cap} bytes"
            )));
        }
        let mut v = vec![0u8; size as usize];
        self.r
            .read_exact(&mut v)
            .map_err(|e| stream_error(e, self.limit, format!("inside a {what}")))?;
        self.skip(padding(size), "inside an extension header")?;
        Ok(v)
    }

    /// Reads the data of the current entry.
    fn read_data(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.r.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.remaining -= n as u64;
        Ok(n)
    }

    /// The next entry, or `None` at the end of the archive.
    fn next(&mut self) -> Res<Option<Header>> {
        self.skip_rest()?;
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        let mut pax: Option<Pax> = None;
        loop {
            let pending = long_name.is_some() || long_link.is_some() || pax.is_some();
            let mut b = [0u8; 512];
            if !self.block(&mut b, "at an entry header")? {
                if pending {
                    return Err(UnpackError::Truncated {
                        context: "after an extension header".into(),
                    });
                }
                return Ok(None);
            }
            if b.iter().all(|&x| x == 0) {
                if pending {
                    return Err(UnpackError::Corrupt(
                        "an extension header is not followed by an entry".into(),
                    ));
                }
                return Ok(None);
            }
            let stored = parse_num(&b[148..156])
                .map_err(|e| UnpackError::Corrupt(format!("header checksum: {e}")))?;
            let (mut unsigned, mut signed) = (0u64, 0i64);
            for (i, &x) in b.iter().enumerate() {
                let x = if (148..156).contains(&i) { b' ' } else { x };
                unsigned += u64::from(x);
                signed += i64::from(x as i8);
            }
            if stored != unsigned && i64::try_from(stored).ok() != Some(signed) {
                return Err(UnpackError::Corrupt(
                    "header checksum mismatch (not a tar archive?)".into(),
                ));
            }
            let num = |range: std::ops::Range<usize>, what: &str| {
                parse_num(&b[range])
                    .map_err(|e| UnpackError::Corrupt(format!("header {what}: {e}")))
            };
            let typeflag = b[156];
            let mut size = num(124..136, "size")?;
            match typeflag {
                b'x' | b'g' => {
                    let data = self.ext_data(size, MAX_PAX_BYTES, "pax header")?;
                    let records = parse_pax(&data).map_err(UnpackError::Corrupt)?;
                    if typeflag == b'g' {
                        self.globals += 1;
                    } else if pax.replace(records).is_some() {
                        return Err(UnpackError::Corrupt("two pax headers for one entry".into()));
                    }
                    continue;
                }
                b'L' | b'K' => {
                    let cap = self.max_path as u64 + 1;
                    let data = self.ext_data(size, cap, "gnu long name")?;
                    let slot = if typeflag == b'L' {
                        &mut long_name
                    } else {
                        &mut long_link
                    };
                    if slot.replace(cstr(&data).to_vec()).is_some() {
                        return Err(UnpackError::Corrupt(
                            "two gnu long names for one entry".into(),
                        ));
                    }
                    continue;
                }
                _ => {}
            }

            let magic = &b[257..263];
            let ustar = magic == b"ustar\0";
            let mut path = cstr(&b[0..100]).to_vec();
            if ustar {
                let prefix = cstr(&b[345..500]);
                if !prefix.is_empty() {
                    let mut p = prefix.to_vec();
                    p.push(b'/');
                    p.extend_from_slice(&path);
                    path = p;
                }
            }
            let mut link = cstr(&b[157..257]).to_vec();
            if let Some(n) = long_name {
                path = n;
            }
            if let Some(l) = long_link {
                link = l;
            }
            let mut uid = num(108..116, "uid")?;
            let mut gid = num(116..124, "gid")?;
            let mut mtime = (
                parse_num(&b[136..148]).map_or(0, |t| t.min(i64::MAX as u64) as i64),
                0,
            );
            let mode = (num(100..108, "mode")? & 0o7777) as u32;
            let dev = if ustar || magic == b"ustar " {
                (
                    num(329..337, "device major")?,
                    num(337..345, "device minor")?,
                )
            } else {
                (0, 0)
            };
            let kind = match typeflag {
                b'0' | b'7' | b'S' => Kind::Regular,
                0 if path.ends_with(b"/") => Kind::Dir,
                0 => Kind::Regular,
                b'1' => Kind::Link,
                b'2' => Kind::Symlink,
                b'3' => Kind::Char,
                b'4' => Kind::Block,
                b'5' | b'D' => Kind::Dir,
                b'6' => Kind::Fifo,
                t => Kind::Other(t),
            };
            let mut xattrs = Vec::new();
            let mut sparse = None;
            let mut pax_sparse_spec = None;
            if let Some(p) = &pax {
                if let Some(v) = pax_get(p, "path").filter(|v| !v.is_empty()) {
                    path = v.to_vec();
                }
                if let Some(v) = pax_get(p, "linkpath").filter(|v| !v.is_empty()) {
                    link = v.to_vec();
                }
                if let Some(v) = pax_num(p, "size").map_err(UnpackError::Corrupt)? {
                    size = v;
                }
                if let Some(v) = pax_num(p, "uid").map_err(UnpackError::Corrupt)? {
                    uid = v;
                }
                if let Some(v) = pax_num(p, "gid").map_err(UnpackError::Corrupt)? {
                    gid = v;
                }
                if let Some(v) = pax_get(p, "mtime") {
                    mtime = pax_time(v).ok_or_else(|| {
                        UnpackError::Corrupt(format!("invalid pax mtime {:?}", shown(v)))
                    })?;
                }
                for (k, v) in p {
                    if let Some(name) = k.strip_prefix("SCHILY.xattr.") {
                        xattrs.retain(|(n, _): &(Vec<u8>, Vec<u8>)| n != name.as_bytes());
                        xattrs.push((name.as_bytes().to_vec(), v.clone()));
                    }
                }
                pax_sparse_spec = pax_sparse(p).map_err(UnpackError::Corrupt)?;
                if pax_sparse_spec.is_some() {
                    if let Some(v) = pax_get(p, "GNU.sparse.name").filter(|v| !v.is_empty()) {
                        path = v.to_vec();
                    }
                }
            }
            if path.len() > self.max_path || link.len() > self.max_path {
                return Err(bad(
                    &shown(&path[..path.len().min(200)]),
                    format!(
                        "the name or link target is longer than the limit of {} bytes",
                        self.max_path
                    ),
                ));
            }
            // Types without data (as Go's archive/tar reads them).
            if matches!(typeflag, b'1' | b'2' | b'3' | b'4' | b'5' | b'6') {
                size = 0;
            }
            if typeflag == b'S' {
                sparse = Some(self.gnu_sparse(&b, size)?);
            }
            if let Some(spec) = pax_sparse_spec {
                if kind != Kind::Regular || sparse.is_some() {
                    return Err(UnpackError::Corrupt(
                        "sparse pax records on an entry that is not a plain file".into(),
                    ));
                }
                let (map, real) = match spec {
                    PaxSparse::Map(map, real) => (map, real),
                    PaxSparse::InData(real) => (self.sparse_map_in_data(&mut size)?, real),
                };
                check_sparse(&map, real, size).map_err(|e| bad(&shown(&path), e))?;
                sparse = Some(Sparse {
                    map,
                    real_size: real,
                });
            }
            if size > self.limit {
                // Could never be read within the limit; also keeps the
                // offset arithmetic below far from overflow.
                return Err(UnpackError::TooLarge { limit: self.limit });
            }
            self.remaining = size;
            self.pad = padding(size);
            if typeflag == b'D' {
                self.skip_rest()?; // GNU dumpdir: its data is a listing
            }
            return Ok(Some(Header {
                path,
                link,
                kind,
                mode,
                uid,
                gid,
                mtime,
                dev,
                xattrs,
                sparse,
            }));
        }
    }

    /// The map of an old GNU sparse entry ('S'): in the header and in
    /// extension blocks right after it.
    fn gnu_sparse(&mut self, b: &[u8; 512], size: u64) -> Res<Sparse> {
        let bad_map = |e: String| UnpackError::Corrupt(format!("gnu sparse header: {e}"));
        let mut map = Vec::new();
        let push = |entries: &[u8], map: &mut Vec<(u64, u64)>| -> Res<()> {
            for e in entries.chunks(24) {
                if e[0] == 0 {
                    break;
                }
                if map.len() >= MAX_SPARSE_FRAGMENTS {
                    return Err(bad_map("too many fragments".into()));
                }
                map.push((
                    parse_num(&e[..12]).map_err(bad_map)?,
                    parse_num(&e[12..24]).map_err(bad_map)?,
                ));
            }
            Ok(())
        };
        push(&b[386..482], &mut map)?;
        let real = parse_num(&b[483..495]).map_err(bad_map)?;
        let mut extended = b[482] != 0;
        while extended {
            let mut ext = [0u8; 512];
            if !self.block(&mut ext, "inside a sparse header")? {
                return Err(UnpackError::Truncated {
                    context: "inside a sparse header".into(),
                });
            }
            push(&ext[..504], &mut map)?;
            extended = ext[504] != 0;
        }
        check_sparse(&map, real, size).map_err(bad_map)?;
        Ok(Sparse {
            map,
            real_size: real,
        })
    }

    /// The map of a PAX 1.0 sparse entry: decimal lines at the start of the
    /// data, padded to a block. `size` shrinks by what the map took.
    fn sparse_map_in_data(&mut self, size: &mut u64) -> Res<Vec<(u64, u64)>> {
        let bad_map = |e: &str| UnpackError::Corrupt(format!("sparse map: {e}"));
        let mut buf: Vec<u8> = Vec::new();
        let mut used = 0u64;
        let mut nums: Vec<u64> = Vec::new();
        let mut want: Option<usize> = None;
        loop {
            if let Some(w) = want {
                if nums.len() == w {
                    break;
                }
            }
            if let Some(nl) = buf.iter().position(|&c| c == b'\n') {
                let line = std::str::from_utf8(&buf[..nl]).map_err(|_| bad_map("not text"))?;
                if line.is_empty() || line.len() > 20 || !line.bytes().all(|c| c.is_ascii_digit()) {
                    return Err(bad_map("bad number"));
                }
                let v: u64 = line.parse().map_err(|_| bad_map("bad number"))?;
                buf.drain(..=nl);
                match want {
                    None => {
                        let n = usize::try_from(v).unwrap_or(usize::MAX);
                        if n > MAX_SPARSE_FRAGMENTS {
                            return Err(bad_map("too many fragments"));
                        }
                        want = Some(2 * n);
                    }
                    Some(_) => nums.push(v),
                }
                continue;
            }
            if buf.len() > 40 {
                return Err(bad_map("line too long"));
            }
            used += BLOCK;
            if used > *size {
                return Err(bad_map("longer than the entry"));
            }
            let mut blk = [0u8; 512];
            self.r
                .read_exact(&mut blk)
                .map_err(|e| stream_error(e, self.limit, "inside a sparse map"))?;
            buf.extend_from_slice(&blk);
        }
        *size -= used;
        pairs(&nums).map_err(|e| bad_map(&e))
    }
}

// ---------------------------------------------------------------------------
// Other tar archives (the image archives of `load`), read with the same
// bounded reader.

/// What a member of a [`TarArchive`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberKind {
    /// A regular (or contiguous) file: reading the archive gives its data.
    File,
    /// A GNU or PAX sparse file: what reading gives is its stored fragments,
    /// not its content.
    Sparse,
    Symlink,
    /// A hard link: `link` names an earlier member.
    Hardlink,
    /// A directory, device, fifo or a type tar readers do not know.
    Other,
}

/// One member of a [`TarArchive`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The name as the archive gives it (PAX and GNU long names applied),
    /// not normalised: the caller decides what `..` and `/` mean.
    pub name: Vec<u8>,
    /// The target of a symlink or hard link.
    pub link: Vec<u8>,
    pub kind: MemberKind,
    /// Bytes of data that reading the archive gives for this member.
    pub size: u64,
}

/// A tar archive that is not a layer (an image archive for `load`), read
/// member by member with the reader that unpacks layers: streamed,
/// decompressed as its first bytes say (gzip members, zstd frames and
/// skippable frames in any number), every buffered piece of a header
/// capped (PAX headers, GNU long names, sparse maps), names and link
/// targets at most `max_path_bytes` long, at most `max_entries` members,
/// none larger than `max_unpacked_bytes`.
///
/// [`Read`] gives the data of the member last returned by
/// [`TarArchive::next_member`]; an archive that ends inside it is an
/// `UnexpectedEof` error. Errors are worded for an archive.
pub struct TarArchive<R: Read> {
    tar: TarReader<BufReader<Decompress<Prefixed<R>>>>,
    members: u64,
    max_members: u64,
    /// The last member's name, to place errors in the headers after it.
    last: Option<String>,
}

impl<R: Read> TarArchive<R> {
    pub fn new(mut input: R, limits: &Limits) -> io::Result<Self> {
        let mut head = vec![0u8; 4];
        let n = read_full(&mut input, &mut head)?;
        head.truncate(n);
        let compression = Compression::sniff(&head);
        let src = Prefixed {
            head,
            pos: 0,
            inner: input,
        };
        Ok(Self {
            tar: TarReader::new(
                BufReader::with_capacity(
                    COPY_BUF,
                    Decompress::new(src, compression, MAX_ARCHIVE_ZSTD_WINDOW),
                ),
                limits.max_unpacked_bytes,
                limits.max_path_bytes,
            ),
            members: 0,
            max_members: limits.max_entries,
            last: None,
        })
    }

    /// The next member (skipping what is left of the current one's data),
    /// or `None` at the end of the archive.
    pub fn next_member(&mut self) -> io::Result<Option<Member>> {
        let h = match self.tar.next() {
            Ok(Some(h)) => h,
            Ok(None) => return Ok(None),
            Err(e) => return Err(self.error(e)),
        };
        self.members += 1;
        if self.members > self.max_members {
            return Err(invalid(format!(
                "the archive has more than {} entries",
                self.max_members
            )));
        }
        let kind = match h.kind {
            Kind::Regular if h.sparse.is_some() => MemberKind::Sparse,
            Kind::Regular => MemberKind::File,
            Kind::Symlink => MemberKind::Symlink,
            Kind::Link => MemberKind::Hardlink,
            _ => MemberKind::Other,
        };
        self.last = Some(shown(&h.path));
        Ok(Some(Member {
            name: h.path,
            link: h.link,
            kind,
            size: self.tar.remaining,
        }))
    }

    /// An error of the tar reader, in an archive's words.
    fn error(&self, e: UnpackError) -> io::Error {
        let place = match &self.last {
            Some(n) => format!(" (after entry {n:?})"),
            None => String::new(),
        };
        match e {
            UnpackError::Truncated { context } => io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the archive is truncated: the stream ends {context}{place}"),
            ),
            UnpackError::Read { context, source } => io::Error::new(
                source.kind(),
                format!("reading the archive {context}{place}: {source}"),
            ),
            UnpackError::Corrupt(why) => invalid(format!("damaged archive{place}: {why}")),
            UnpackError::Entry { path, reason } => {
                invalid(format!("archive entry {path:?}: {reason}"))
            }
            UnpackError::TooLarge { limit } => invalid(format!(
                "the archive has an entry larger than the limit of {limit} bytes{place}"
            )),
            e => invalid(format!("{e}{place}")),
        }
    }
}

impl<R: Read> Read for TarArchive<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.tar.read_data(buf)
    }
}

// ---------------------------------------------------------------------------
// Paths.

/// Lexically normalises an entry name into a path relative to the layer
/// root (empty for the root itself).
fn normalize(raw: &[u8], max: usize) -> Result<PathBuf, String> {
    if raw.contains(&0) {
        return Err("the name contains a NUL byte".into());
    }
    if raw.len() > max {
        return Err(format!(
            "the name is {} bytes long, over the limit of {max}",
            raw.len()
        ));
    }
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in raw.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                if parts.pop().is_none() {
                    return Err("the name climbs above the layer root with \"..\"".into());
                }
            }
            _ => parts.push(c),
        }
    }
    Ok(parts.iter().map(|p| OsStr::from_bytes(p)).collect())
}

fn how(flags: OFlag, resolve: ResolveFlag) -> OpenHow {
    OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC)
        .resolve(resolve | ResolveFlag::RESOLVE_NO_MAGICLINKS)
}

/// Opens `rel` below `base` without following any symlink.
fn open_beneath(base: BorrowedFd<'_>, rel: &Path, flags: OFlag) -> io::Result<OwnedFd> {
    let rel = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    crate::sys::openat2(
        base,
        rel,
        how(
            flags | OFlag::O_NOFOLLOW,
            ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS,
        ),
    )
}

/// Creates a new regular file `name` in `dir` (never through a symlink).
fn create_file(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<File> {
    let fd = crate::sys::openat2(
        dir,
        Path::new(name),
        how(
            OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_NOFOLLOW,
            ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS,
        )
        .mode(Mode::from_bits_truncate(0o600)),
    )?;
    Ok(File::from(fd))
}

fn open_dir_path(path: &Path) -> Res<OwnedFd> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(path)
        .map(OwnedFd::from)
        .on_disk(path, "open")
}

fn is_dir(st: &FileStat) -> bool {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR
}

fn file_type(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT
}

fn lstat_at(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<Option<FileStat>> {
    match nix::sys::stat::fstatat(Some(dir.as_raw_fd()), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(st)),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Names in a directory (without `.` and `..`), sorted.
fn list_dir(fd: OwnedFd) -> io::Result<Vec<OsString>> {
    let mut dir = nix::dir::Dir::from(fd)?;
    let mut names = Vec::new();
    for e in dir.iter() {
        let e = e?;
        let n = e.file_name().to_bytes();
        if n != b"." && n != b".." {
            names.push(OsStr::from_bytes(n).to_os_string());
        }
    }
    names.sort();
    Ok(names)
}

/// Gives the owner rwx on a directory it is about to empty, when an
/// unprivileged user owns it without them.
fn make_traversable(parent: BorrowedFd<'_>, name: &OsStr, st: &FileStat) {
    if st.st_mode & 0o700 != 0o700 && Uid::from_raw(st.st_uid) == nix::unistd::geteuid() {
        let _ = nix::sys::stat::fchmodat(
            Some(parent.as_raw_fd()),
            name,
            Mode::from_bits_truncate((st.st_mode & 0o7777) | 0o700),
            FchmodatFlags::NoFollowSymlink,
        );
    }
}

/// Removes `name` in `parent` and everything below it, never following a
/// symlink and never leaving `parent`.
fn remove_tree(parent: BorrowedFd<'_>, name: &OsStr) -> io::Result<()> {
    let Some(st) = lstat_at(parent, name)? else {
        return Ok(());
    };
    if !is_dir(&st) {
        return nix::unistd::unlinkat(Some(parent.as_raw_fd()), name, UnlinkatFlags::NoRemoveDir)
            .map_err(Into::into);
    }
    make_traversable(parent, name, &st);
    let mut stack = vec![PathBuf::from(name)];
    while let Some(dir) = stack.last().cloned() {
        let fd = open_beneath(parent, &dir, OFlag::O_RDONLY | OFlag::O_DIRECTORY)?;
        let names = list_dir(fd.try_clone()?)?;
        let mut descended = false;
        for n in names {
            match lstat_at(fd.as_fd(), &n)? {
                None => {}
                Some(st) if is_dir(&st) => {
                    make_traversable(fd.as_fd(), &n, &st);
                    stack.push(dir.join(&n));
                    descended = true;
                }
                Some(_) => nix::unistd::unlinkat(
                    Some(fd.as_raw_fd()),
                    n.as_os_str(),
                    UnlinkatFlags::NoRemoveDir,
                )?,
            }
        }
        if !descended {
            stack.pop();
            let up = dir.parent().unwrap_or(Path::new(""));
            let base = dir.file_name().unwrap_or(name);
            let pfd = open_beneath(parent, up, OFlag::O_PATH | OFlag::O_DIRECTORY)?;
            nix::unistd::unlinkat(Some(pfd.as_raw_fd()), base, UnlinkatFlags::RemoveDir)?;
        }
    }
    Ok(())
}

fn ts(t: (i64, i64)) -> TimeSpec {
    TimeSpec::new(t.0, t.1)
}

// ---------------------------------------------------------------------------
// Unpacking.

struct Notes {
    list: Vec<String>,
    dropped: u64,
}

impl Notes {
    fn push(&mut self, note: String) {
        if self.list.len() < MAX_NOTES {
            self.list.push(note);
        } else {
            self.dropped += 1;
        }
    }
}

struct DirMeta {
    mode: u32,
    mtime: Option<(i64, i64)>,
}

/// How an entry's node is reached for metadata calls.
enum Node<'a> {
    /// An open regular file or directory.
    Fd(&'a File),
    /// A symlink or fifo, by name in its parent.
    At(BorrowedFd<'a>, &'a OsStr),
}

struct Unpacker<'l> {
    root: OwnedFd,
    limits: &'l Limits,
    privileged: bool,
    notes: Notes,
    dirs: BTreeMap<PathBuf, DirMeta>,
    dir_bytes: usize,
    xattrs_ok: bool,
    unrecorded: u64,
    symlink_owners: u64,
    fifo_owners: u64,
    /// Reused for copying file data.
    buf: Vec<u8>,
    /// The last parent directory opened, by its path in the layer.
    last_parent: Option<(PathBuf, Rc<OwnedFd>)>,
    /// The unpacking user's effective uid and gid.
    ids: (u32, u32),
}

impl Unpacker<'_> {
    fn root(&self) -> BorrowedFd<'_> {
        self.root.as_fd()
    }

    fn entry<R: Read>(&mut self, h: &Header, tar: &mut TarReader<R>) -> Res<()> {
        let show = shown(&h.path);
        let rel = normalize(&h.path, self.limits.max_path_bytes).map_err(|e| bad(&show, e))?;
        let Some(name) = rel.file_name() else {
            return match h.kind {
                Kind::Dir => Ok(()), // "./": the layer directory itself
                _ => Err(bad(
                    &show,
                    "the entry names the layer root but is not a directory",
                )),
            };
        };
        let parent_rel = rel.parent().unwrap_or(Path::new(""));
        if parent_rel
            .iter()
            .any(|c| c.as_bytes().starts_with(WHITEOUT_PREFIX))
        {
            return Err(bad(&show, "a whiteout cannot be a directory"));
        }
        if name.as_bytes().starts_with(WHITEOUT_PREFIX) {
            return self.whiteout(&rel, name, &show);
        }
        match h.kind {
            Kind::Regular => self.regular(h, &rel, name, &show, tar),
            Kind::Dir => self.dir(h, &rel, name, &show),
            Kind::Symlink => self.symlink(h, &rel, name, &show),
            Kind::Link => self.hardlink(h, &rel, name, &show),
            Kind::Char | Kind::Block => self.device(h, &rel, name, &show),
            Kind::Fifo => self.fifo(h, &rel, name, &show),
            Kind::Other(t) => {
                self.notes.push(format!(
                    "skipped {show:?}: unsupported tar entry type {:?}",
                    char::from(t)
                ));
                Ok(())
            }
        }
    }

    /// The parent directory of an entry, created (0755, root) when missing.
    /// The last one is kept open: entries come in directory order, and only
    /// a removal (in [`Unpacker::slot`]) can change what a path resolves to.
    fn parent(&mut self, parent: &Path, show: &str) -> Res<Rc<OwnedFd>> {
        if let Some((p, fd)) = &self.last_parent {
            if p == parent {
                return Ok(fd.clone());
            }
        }
        let fd = Rc::new(self.open_parent(parent, show)?);
        self.last_parent = Some((parent.to_path_buf(), fd.clone()));
        Ok(fd)
    }

    fn open_parent(&mut self, parent: &Path, show: &str) -> Res<OwnedFd> {
        let dir = OFlag::O_PATH | OFlag::O_DIRECTORY;
        match crate::rootpath::open_in_root(self.root(), parent, dir) {
            Ok(fd) => return Ok(fd),
            Err(e) if errno(&e) == Some(Errno::ENOENT) => {}
            Err(e) => return Err(e).at(show, "open parent directory"),
        }
        let mut cur = self.root.try_clone().at(show, "dup")?;
        let mut prefix = PathBuf::new();
        for c in parent.iter() {
            prefix.push(c);
            match crate::rootpath::open_in_root(self.root(), &prefix, dir) {
                Ok(fd) => {
                    cur = fd;
                    continue;
                }
                Err(e) if errno(&e) == Some(Errno::ENOENT) => {}
                Err(e) => return Err(e).at(show, "open parent directory"),
            }
            match nix::sys::stat::mkdirat(Some(cur.as_raw_fd()), c, Mode::from_bits_truncate(0o700))
            {
                Ok(()) => {
                    let fd = open_beneath(
                        cur.as_fd(),
                        Path::new(c),
                        OFlag::O_RDONLY | OFlag::O_DIRECTORY,
                    )
                    .at(show, "open created parent")?;
                    let f = File::from(fd);
                    nix::sys::stat::fchmod(f.as_raw_fd(), Mode::from_bits_truncate(0o700))
                        .at(show, "chmod created parent")?;
                    let implied = Header {
                        path: Vec::new(),
                        link: Vec::new(),
                        kind: Kind::Dir,
                        mode: 0o755,
                        uid: 0,
                        gid: 0,
                        mtime: (0, 0),
                        dev: (0, 0),
                        xattrs: Vec::new(),
                        sparse: None,
                    };
                    let mode = self.settle(Node::Fd(&f), &implied, "dir", false, show)?;
                    if !self.dirs.contains_key(&prefix) {
                        self.defer_dir(&prefix, DirMeta { mode, mtime: None }, show)?;
                    }
                }
                Err(Errno::EEXIST) => {}
                Err(e) => return Err(e).at(show, "create parent directory"),
            }
            cur = match crate::rootpath::open_in_root(self.root(), &prefix, dir) {
                Ok(fd) => fd,
                Err(e) if errno(&e) == Some(Errno::ENOENT) => {
                    return Err(bad(
                        show,
                        format!(
                            "parent {:?} is a symlink to a missing directory",
                            prefix.display().to_string()
                        ),
                    ))
                }
                Err(e) => return Err(e).at(show, "open parent directory"),
            };
        }
        Ok(cur)
    }

    /// Forgets deferred directory metadata for `rel` and everything below.
    fn forget_dirs(&mut self, rel: &Path) {
        let doomed: Vec<PathBuf> = self
            .dirs
            .range(rel.to_path_buf()..)
            .take_while(|(p, _)| p.starts_with(rel))
            .map(|(p, _)| p.clone())
            .collect();
        for p in doomed {
            self.dirs.remove(&p);
            self.dir_bytes -= p.as_os_str().len();
        }
    }

    /// Records a directory's mode and mtime, applied at the end.
    fn defer_dir(&mut self, rel: &Path, meta: DirMeta, show: &str) -> Res<()> {
        if self.dirs.insert(rel.to_path_buf(), meta).is_none() {
            self.dir_bytes += rel.as_os_str().len();
            if self.dir_bytes > MAX_DIR_BYTES {
                return Err(bad(
                    show,
                    format!("the layer has more than {MAX_DIR_BYTES} bytes of directory names"),
                ));
            }
        }
        Ok(())
    }

    /// Opens the parent and clears the final component: whatever is there
    /// is removed (never followed), except an existing directory when
    /// `keep_dir`. Returns the parent and whether a directory was kept.
    fn slot(
        &mut self,
        rel: &Path,
        name: &OsStr,
        keep_dir: bool,
        show: &str,
    ) -> Res<(Rc<OwnedFd>, bool)> {
        let parent = self.parent(rel.parent().unwrap_or(Path::new("")), show)?;
        match lstat_at(parent.as_fd(), name).at(show, "stat")? {
            None => Ok((parent, false)),
            Some(st) if is_dir(&st) => {
                if keep_dir {
                    return Ok((parent, true));
                }
                self.last_parent = None;
                remove_tree(parent.as_fd(), name).at(show, "remove existing directory")?;
                self.forget_dirs(rel);
                Ok((parent, false))
            }
            Some(_) => {
                // A symlink may have been a step of the cached parent's path.
                self.last_parent = None;
                nix::unistd::unlinkat(Some(parent.as_raw_fd()), name, UnlinkatFlags::NoRemoveDir)
                    .at(show, "remove existing entry")?;
                Ok((parent, false))
            }
        }
    }

    /// Owner, recorded stat, xattrs, mode (not for directories) and mtime
    /// (not for directories). Returns the mode put on disk.
    fn settle(
        &mut self,
        node: Node<'_>,
        h: &Header,
        kind: &str,
        existed: bool,
        show: &str,
    ) -> Res<u32> {
        let uid = u32::try_from(h.uid).ok().filter(|&u| u != u32::MAX);
        let gid = u32::try_from(h.gid).ok().filter(|&g| g != u32::MAX);
        // Unprivileged, chown can only give a file to its owner: skip the
        // call that would fail for every other owner.
        let ours = self.ids;
        let chown = match (uid, gid) {
            (Some(u), Some(g)) if !self.privileged && (u, g) != ours => Err(Errno::EPERM),
            (Some(u), Some(g)) => {
                let (u, g) = (Some(Uid::from_raw(u)), Some(Gid::from_raw(g)));
                match node {
                    Node::Fd(f) => nix::unistd::fchown(f.as_raw_fd(), u, g),
                    Node::At(dir, name) => nix::unistd::fchownat(
                        Some(dir.as_raw_fd()),
                        name,
                        u,
                        g,
                        AtFlags::AT_SYMLINK_NOFOLLOW,
                    ),
                }
            }
            _ => Err(Errno::EINVAL),
        };
        let owned = match chown {
            Ok(()) => true,
            Err(Errno::EPERM | Errno::EINVAL) => false,
            Err(e) => return Err(e).at(show, "chown"),
        };
        let device = kind.starts_with("char-") || kind.starts_with("block-");
        let owner_bits = match kind {
            "dir" => 0o700,
            "symlink" => 0,
            _ => 0o600,
        };
        let disk_mode = if device {
            if self.privileged {
                0
            } else {
                0o600
            }
        } else if self.privileged {
            h.mode
        } else {
            h.mode | owner_bits
        };
        // Root's files need no record: unprivileged, the unpacking user's
        // files are root's in the container (either id mapping), and readers
        // of the record (fuse-overlayfs, ours) take a missing one to mean
        // the file's own owner and mode.
        let as_root = !self.privileged && (h.uid, h.gid) == (0, 0);
        let record = !(owned || as_root)
            || disk_mode != h.mode
            || h.mode & 0o6000 != 0
            || device
            || kind == "pipe";
        match node {
            Node::Fd(f) => {
                if record {
                    self.record(f, &override_stat(h.uid, h.gid, h.mode, kind), show)?;
                } else if existed && self.xattrs_ok {
                    match xattrs::remove(f, OVERRIDE_STAT_XATTR) {
                        Err(e) if !xattr_unsupported(&e) => {
                            return Err(e).at(show, "remove stale override xattr")
                        }
                        _ => {}
                    }
                }
                self.pax_xattrs(f, h, show);
                if kind != "dir" {
                    nix::sys::stat::fchmod(f.as_raw_fd(), Mode::from_bits_truncate(disk_mode))
                        .at(show, "chmod")?;
                    let t = ts(h.mtime);
                    nix::sys::stat::futimens(f.as_raw_fd(), &t, &t).at(show, "set mtime")?;
                }
            }
            Node::At(dir, name) => {
                // The kernel allows user xattrs only on files and dirs, so
                // what chown could not apply is lost. The unpacking user is
                // root in the container's usual mapping: only other owners
                // (and modes) are worth a note.
                let lost_owner = !owned && (h.uid, h.gid) != (0, 0);
                if lost_owner || disk_mode != h.mode {
                    if kind == "symlink" {
                        self.symlink_owners += 1;
                    } else {
                        self.fifo_owners += 1;
                    }
                }
                if !h.xattrs.is_empty() {
                    self.notes.push(format!(
                        "dropped the xattrs of {show:?}: not a file or directory"
                    ));
                }
                if kind != "symlink" {
                    nix::sys::stat::fchmodat(
                        Some(dir.as_raw_fd()),
                        name,
                        Mode::from_bits_truncate(disk_mode),
                        FchmodatFlags::NoFollowSymlink,
                    )
                    .at(show, "chmod")?;
                }
                let t = ts(h.mtime);
                nix::sys::stat::utimensat(
                    Some(dir.as_raw_fd()),
                    name,
                    &t,
                    &t,
                    UtimensatFlags::NoFollowSymlink,
                )
                .at(show, "set mtime")?;
            }
        }
        Ok(disk_mode)
    }

    fn record(&mut self, f: &File, value: &str, show: &str) -> Res<()> {
        if !self.xattrs_ok {
            self.unrecorded += 1;
            return Ok(());
        }
        match xattrs::set(f, OVERRIDE_STAT_XATTR, value.as_bytes()) {
            Ok(()) => Ok(()),
            Err(e) if xattr_unsupported(&e) => {
                self.xattrs_ok = false;
                self.unrecorded += 1;
                Ok(())
            }
            Err(e) => Err(e).at(show, "set override_stat xattr"),
        }
    }

    /// xattrs from PAX `SCHILY.xattr.*` records.
    fn pax_xattrs(&mut self, f: &File, h: &Header, show: &str) {
        for (name, value) in &h.xattrs {
            let Ok(name) = std::str::from_utf8(name) else {
                self.notes.push(format!(
                    "ignored an xattr of {show:?}: the name is not utf-8"
                ));
                continue;
            };
            let reserved = name.starts_with(OVERRIDE_PREFIX)
                || name.starts_with("user.overlay.")
                || name.starts_with("user.fuseoverlayfs.")
                || name.starts_with("trusted.")
                || name == "security.selinux";
            if reserved || name.is_empty() || name.len() > 255 || name.contains('\0') {
                self.notes
                    .push(format!("ignored xattr {name:?} of {show:?}"));
                continue;
            }
            if value.len() > MAX_XATTR_VALUE {
                self.notes.push(format!(
                    "ignored xattr {name:?} of {show:?}: value too large"
                ));
                continue;
            }
            if !self.xattrs_ok {
                self.notes.push(format!(
                    "dropped xattr {name:?} of {show:?}: not supported here"
                ));
                continue;
            }
            match xattrs::set(f, name, value) {
                Ok(()) => {}
                Err(e) if name.starts_with("security.") && !xattr_unsupported(&e) => {
                    // Unprivileged: keep it where fuse-overlayfs looks.
                    let encoded = format!("{OVERRIDE_PREFIX}{name}");
                    if let Err(e) = xattrs::set(f, &encoded, value) {
                        self.notes
                            .push(format!("dropped xattr {name:?} of {show:?}: {e}"));
                    }
                }
                Err(e) => {
                    if xattr_unsupported(&e) {
                        self.xattrs_ok = false;
                    }
                    self.notes
                        .push(format!("dropped xattr {name:?} of {show:?}: {e}"));
                }
            }
        }
    }

    fn regular<R: Read>(
        &mut self,
        h: &Header,
        rel: &Path,
        name: &OsStr,
        show: &str,
        tar: &mut TarReader<R>,
    ) -> Res<()> {
        // Most names are new: try to create first, clear the slot only when
        // something is there (O_EXCL also refuses a dangling symlink).
        let parent = self.parent(rel.parent().unwrap_or(Path::new("")), show)?;
        let mut f = match create_file(parent.as_fd(), name) {
            Ok(f) => f,
            Err(e) if errno(&e) == Some(Errno::EEXIST) => {
                let (parent, _) = self.slot(rel, name, false, show)?;
                create_file(parent.as_fd(), name).at(show, "create file")?
            }
            Err(e) => return Err(e).at(show, "create file"),
        };
        let mut buf = std::mem::take(&mut self.buf);
        buf.resize(COPY_BUF, 0);
        let copied = match &h.sparse {
            None => {
                let n = tar.remaining;
                copy_data(tar, &mut f, n, &mut buf, show)
            }
            Some(sp) => sp
                .map
                .iter()
                .try_for_each(|&(off, len)| {
                    f.seek(SeekFrom::Start(off)).at(show, "seek")?;
                    copy_data(tar, &mut f, len, &mut buf, show)
                })
                .and_then(|()| f.set_len(sp.real_size).at(show, "set file size")),
        };
        self.buf = buf;
        copied?;
        self.settle(Node::Fd(&f), h, "file", false, show)?;
        Ok(())
    }

    fn dir(&mut self, h: &Header, rel: &Path, name: &OsStr, show: &str) -> Res<()> {
        let (parent, existed) = self.slot(rel, name, true, show)?;
        if !existed {
            nix::sys::stat::mkdirat(
                Some(parent.as_raw_fd()),
                name,
                Mode::from_bits_truncate(0o700),
            )
            .at(show, "create directory")?;
        }
        let fd = open_beneath(
            parent.as_fd(),
            Path::new(name),
            OFlag::O_RDONLY | OFlag::O_DIRECTORY,
        )
        .at(show, "open directory")?;
        let f = File::from(fd);
        if !existed {
            nix::sys::stat::fchmod(f.as_raw_fd(), Mode::from_bits_truncate(0o700))
                .at(show, "chmod")?;
        }
        let mode = self.settle(Node::Fd(&f), h, "dir", existed, show)?;
        let meta = DirMeta {
            mode,
            mtime: Some(h.mtime),
        };
        self.defer_dir(rel, meta, show)
    }

    fn symlink(&mut self, h: &Header, rel: &Path, name: &OsStr, show: &str) -> Res<()> {
        if h.link.is_empty() {
            return Err(bad(show, "symlink with an empty target"));
        }
        if h.link.contains(&0) {
            return Err(bad(show, "the symlink target contains a NUL byte"));
        }
        let (parent, _) = self.slot(rel, name, false, show)?;
        nix::unistd::symlinkat(OsStr::from_bytes(&h.link), Some(parent.as_raw_fd()), name)
            .at(show, "create symlink")?;
        self.settle(Node::At(parent.as_fd(), name), h, "symlink", false, show)?;
        Ok(())
    }

    fn hardlink(&mut self, h: &Header, rel: &Path, name: &OsStr, show: &str) -> Res<()> {
        let target_show = shown(&h.link);
        let target = normalize(&h.link, self.limits.max_path_bytes)
            .map_err(|e| bad(show, format!("hardlink target {target_show:?}: {e}")))?;
        let Some(tname) = target.file_name() else {
            return Err(bad(show, "the hardlink target is the layer root"));
        };
        if target == rel {
            return Ok(());
        }
        let missing = || {
            bad(
                show,
                format!("hardlink target {target_show:?} is not in this layer"),
            )
        };
        let tparent = crate::sys::openat2(
            self.root(),
            match target.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            },
            how(
                OFlag::O_PATH | OFlag::O_DIRECTORY,
                ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_SYMLINKS,
            ),
        )
        .map_err(|e| match errno(&e) {
            Some(Errno::ENOENT | Errno::ENOTDIR) => missing(),
            Some(Errno::ELOOP) => bad(
                show,
                format!("hardlink target {target_show:?} goes through a symlink"),
            ),
            _ => UnpackError::EntryIo {
                path: show.to_string(),
                op: "open hardlink target",
                source: e,
            },
        })?;
        match lstat_at(tparent.as_fd(), tname).at(show, "stat hardlink target")? {
            None => return Err(missing()),
            Some(st) if file_type(&st) == SFlag::S_IFREG => {}
            Some(_) => {
                return Err(bad(
                    show,
                    format!("hardlink target {target_show:?} is not a regular file"),
                ))
            }
        }
        let (parent, _) = self.slot(rel, name, false, show)?;
        nix::unistd::linkat(
            Some(tparent.as_raw_fd()),
            tname,
            Some(parent.as_raw_fd()),
            name,
            AtFlags::empty(),
        )
        .map_err(|e| match e {
            Errno::ENOENT => missing(),
            e => UnpackError::EntryIo {
                path: show.to_string(),
                op: "create hardlink",
                source: e.into(),
            },
        })
    }

    fn device(&mut self, h: &Header, rel: &Path, name: &OsStr, show: &str) -> Res<()> {
        let (parent, _) = self.slot(rel, name, false, show)?;
        let f = create_file(parent.as_fd(), name).at(show, "create device placeholder")?;
        let (major, minor) = h.dev;
        let what = if h.kind == Kind::Char {
            "char"
        } else {
            "block"
        };
        let before = self.unrecorded;
        self.settle(
            Node::Fd(&f),
            h,
            &format!("{what}-{major}-{minor}"),
            false,
            show,
        )?;
        self.notes.push(if self.unrecorded == before {
            format!(
                "device node {show:?} ({what} {major}:{minor}) is an empty placeholder file; \
                 the device is recorded in {OVERRIDE_STAT_XATTR} for the overlay"
            )
        } else {
            format!(
                "skipped device node {show:?} ({what} {major}:{minor}): left an empty \
                 placeholder file, but user xattrs are not supported here to record it"
            )
        });
        Ok(())
    }

    fn fifo(&mut self, h: &Header, rel: &Path, name: &OsStr, show: &str) -> Res<()> {
        let (parent, _) = self.slot(rel, name, false, show)?;
        nix::unistd::mkfifoat(
            Some(parent.as_raw_fd()),
            name,
            Mode::from_bits_truncate(0o600),
        )
        .at(show, "create fifo")?;
        self.settle(Node::At(parent.as_fd(), name), h, "pipe", false, show)?;
        Ok(())
    }

    fn whiteout(&mut self, rel: &Path, name: &OsStr, show: &str) -> Res<()> {
        let n = name.as_bytes();
        if n != OPAQUE_MARKER.as_bytes() {
            if n.starts_with(WHITEOUT_META_PREFIX) {
                self.notes
                    .push(format!("skipped aufs metadata entry {show:?}"));
                return Ok(());
            }
            let target = &n[WHITEOUT_PREFIX.len()..];
            if target.is_empty() || target == b"." || target == b".." {
                return Err(bad(show, "the whiteout does not name an entry"));
            }
        }
        let (parent, _) = self.slot(rel, name, false, show)?;
        create_file(parent.as_fd(), name).at(show, "create whiteout")?;
        Ok(())
    }

    /// Directory modes and mtimes, deepest first.
    fn finish_dirs(&mut self) {
        let dirs = std::mem::take(&mut self.dirs);
        for (rel, meta) in dirs.into_iter().rev() {
            let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW;
            let fd = match crate::rootpath::open_in_root(self.root(), &rel, flags) {
                Ok(fd) => fd,
                Err(e) if replaced(&e) => continue,
                Err(e) => {
                    self.notes.push(format!(
                        "could not set the mode of directory {:?}: {e}",
                        rel.display().to_string()
                    ));
                    continue;
                }
            };
            let res = nix::sys::stat::fchmod(fd.as_raw_fd(), Mode::from_bits_truncate(meta.mode))
                .and_then(|()| match meta.mtime {
                    Some(t) => nix::sys::stat::futimens(fd.as_raw_fd(), &ts(t), &ts(t)),
                    None => Ok(()),
                });
            if let Err(e) = res {
                self.notes.push(format!(
                    "could not set the mode of directory {:?}: {e}",
                    rel.display().to_string()
                ));
            }
        }
    }

    fn summary(&mut self, dest: &Path, globals: u64) {
        if self.unrecorded > 0 {
            self.notes.push(format!(
                "the file system of {} does not support user xattrs: the owner and mode of \
                 {} entries could not be recorded",
                dest.display(),
                self.unrecorded
            ));
        }
        if self.symlink_owners > 0 {
            self.notes.push(format!(
                "{} symlinks are owned by the unpacking user instead of their owner in the \
                 image (user xattrs cannot be set on symlinks to record it)",
                self.symlink_owners
            ));
        }
        if self.fifo_owners > 0 {
            self.notes.push(format!(
                "{} fifos are owned by the unpacking user, or have a wider mode, instead of \
                 their owner and mode in the image (user xattrs cannot be set on fifos to \
                 record them)",
                self.fifo_owners
            ));
        }
        if globals > 0 {
            self.notes
                .push(format!("ignored {globals} pax global headers"));
        }
        if self.notes.dropped > 0 {
            let n = self.notes.dropped;
            self.notes.list.push(format!("... and {n} more notes"));
        }
    }
}

/// Copies exactly `n` bytes of the current entry's data into `f`.
fn copy_data<R: Read>(
    tar: &mut TarReader<R>,
    f: &mut File,
    mut n: u64,
    buf: &mut [u8],
    show: &str,
) -> Res<()> {
    while n > 0 {
        let want = buf.len().min(usize::try_from(n).unwrap_or(usize::MAX));
        let got = match tar.read_data(&mut buf[..want]) {
            Ok(0) => 0,
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(tar.err(e, format!("inside the data of {show:?}"))),
        };
        if got == 0 {
            return Err(UnpackError::Truncated {
                context: format!("inside the data of {show:?}"),
            });
        }
        f.write_all(&buf[..got]).at(show, "write")?;
        n -= got as u64;
    }
    Ok(())
}

/// Unpacks one layer (streamed: decompression and tar parsing never hold a
/// whole layer in memory) into `dest`, an existing empty directory.
///
/// Whiteouts stay in their OCI form inside the layer directory (`.wh.NAME`
/// empty files, `.wh..wh..opq`), validated to name a plain entry in the same
/// directory. On error the caller deletes `dest`; nothing outside it has
/// been touched.
pub fn unpack_layer(
    reader: impl Read,
    compression: Compression,
    dest: &Path,
    limits: &Limits,
) -> Result<UnpackReport, UnpackError> {
    let root = open_dir_path(dest)?;
    if !list_dir(root.try_clone().on_disk(dest, "open")?)
        .on_disk(dest, "read directory")?
        .is_empty()
    {
        return Err(UnpackError::NotEmpty(dest.to_path_buf()));
    }
    let tee = Tee {
        inner: Decompress::new(reader, compression, MAX_ZSTD_WINDOW),
        digest: DigestWriter::new(io::sink()),
        limit: limits.max_unpacked_bytes,
    };
    let mut tar = TarReader::new(
        BufReader::with_capacity(COPY_BUF, tee),
        limits.max_unpacked_bytes,
        limits.max_path_bytes,
    );
    let mut u = Unpacker {
        root,
        limits,
        privileged: nix::unistd::geteuid().is_root(),
        notes: Notes {
            list: Vec::new(),
            dropped: 0,
        },
        dirs: BTreeMap::new(),
        dir_bytes: 0,
        xattrs_ok: true,
        unrecorded: 0,
        symlink_owners: 0,
        fifo_owners: 0,
        buf: Vec::new(),
        last_parent: None,
        ids: (
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        ),
    };
    let mut entries = 0u64;
    while let Some(h) = tar.next()? {
        entries += 1;
        if entries > limits.max_entries {
            return Err(UnpackError::TooManyEntries {
                limit: limits.max_entries,
            });
        }
        u.entry(&h, &mut tar)?;
    }
    u.finish_dirs();
    // The rest of the stream (end blocks, padding) belongs to the diff_id.
    io::copy(&mut tar.r, &mut io::sink())
        .map_err(|e| stream_error(e, limits.max_unpacked_bytes, "after the end of the archive"))?;
    let globals = tar.globals;
    u.summary(dest, globals);
    let tee = tar.r.into_inner();
    let unpacked_bytes = tee.digest.len();
    let (diff_id, _) = tee.digest.finish();
    Ok(UnpackReport {
        diff_id,
        unpacked_bytes,
        entries,
        notes: u.notes.list,
    })
}

// ---------------------------------------------------------------------------
// Applying an unpacked layer onto a rootfs by copying (the "vfs" way).

enum Task {
    Visit(PathBuf),
    Finish(PathBuf),
}

struct Applier {
    layer: OwnedFd,
    rootfs: OwnedFd,
    /// First copy of each multiply-linked layer file: (dev, ino) -> path.
    links: HashMap<(u64, u64), PathBuf>,
}

fn whiteout_target(name: &OsStr) -> Option<&OsStr> {
    let n = name.as_bytes();
    if !n.starts_with(WHITEOUT_PREFIX) || n.starts_with(WHITEOUT_META_PREFIX) {
        return None;
    }
    let t = &n[WHITEOUT_PREFIX.len()..];
    if t.is_empty() || t == b"." || t == b".." || t.contains(&b'/') {
        return None;
    }
    Some(OsStr::from_bytes(t))
}

/// Removes whatever is at `name` (a directory with its content).
fn remove_any(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<()> {
    remove_tree(dir, name)
}

impl Applier {
    fn visit(&mut self, rel: &Path, stack: &mut Vec<Task>) -> Res<()> {
        let dflags = OFlag::O_RDONLY | OFlag::O_DIRECTORY;
        let ld =
            open_beneath(self.layer.as_fd(), rel, dflags).applying(rel, "open layer directory")?;
        let rd = open_beneath(self.rootfs.as_fd(), rel, dflags)
            .applying(rel, "open rootfs directory")?;
        let names =
            list_dir(ld.try_clone().applying(rel, "dup")?).applying(rel, "read layer directory")?;
        if names.iter().any(|n| n == OPAQUE_MARKER) {
            let lower = list_dir(
                open_beneath(self.rootfs.as_fd(), rel, dflags)
                    .applying(rel, "open rootfs directory")?,
            )
            .applying(rel, "read rootfs directory")?;
            for n in lower {
                remove_any(rd.as_fd(), &n)
                    .applying(&rel.join(&n), "remove for opaque directory")?;
            }
        }
        for n in &names {
            if let Some(t) = whiteout_target(n) {
                remove_any(rd.as_fd(), t).applying(&rel.join(t), "remove whited-out entry")?;
            }
        }
        stack.push(Task::Finish(rel.to_path_buf()));
        let mut subdirs = Vec::new();
        for n in names {
            if n.as_bytes().starts_with(WHITEOUT_PREFIX) {
                continue;
            }
            let path = rel.join(&n);
            let Some(st) = lstat_at(ld.as_fd(), &n).applying(&path, "stat")? else {
                continue;
            };
            let t = file_type(&st);
            if t == SFlag::S_IFDIR {
                match lstat_at(rd.as_fd(), &n).applying(&path, "stat")? {
                    Some(cur) if is_dir(&cur) => {}
                    cur => {
                        if cur.is_some() {
                            remove_any(rd.as_fd(), &n).applying(&path, "remove")?;
                        }
                        nix::sys::stat::mkdirat(
                            Some(rd.as_raw_fd()),
                            n.as_os_str(),
                            Mode::from_bits_truncate(0o700),
                        )
                        .applying(&path, "create directory")?;
                    }
                }
                subdirs.push(path);
            } else if t == SFlag::S_IFREG {
                self.copy_file(ld.as_fd(), rd.as_fd(), &n, &st, &path)?;
            } else if t == SFlag::S_IFLNK {
                let target = nix::fcntl::readlinkat(Some(ld.as_raw_fd()), n.as_os_str())
                    .applying(&path, "read symlink")?;
                remove_any(rd.as_fd(), &n).applying(&path, "remove")?;
                nix::unistd::symlinkat(target.as_os_str(), Some(rd.as_raw_fd()), n.as_os_str())
                    .applying(&path, "create symlink")?;
                node_meta_at(rd.as_fd(), &n, &st, false).applying(&path, "set metadata")?;
            } else if t == SFlag::S_IFIFO || t == SFlag::S_IFCHR || t == SFlag::S_IFBLK {
                remove_any(rd.as_fd(), &n).applying(&path, "remove")?;
                let made = nix::sys::stat::mknodat(
                    Some(rd.as_raw_fd()),
                    n.as_os_str(),
                    t,
                    Mode::from_bits_truncate(0o600),
                    st.st_rdev,
                );
                match made {
                    Ok(()) => {
                        node_meta_at(rd.as_fd(), &n, &st, true).applying(&path, "set metadata")?
                    }
                    Err(Errno::EPERM) if t != SFlag::S_IFIFO => {
                        // A device node an unprivileged user cannot make:
                        // the same placeholder unpack_layer leaves.
                        let f =
                            create_file(rd.as_fd(), &n).applying(&path, "create placeholder")?;
                        let kind = if t == SFlag::S_IFCHR { "char" } else { "block" };
                        let rdev = st.st_rdev;
                        let value = override_stat(
                            st.st_uid.into(),
                            st.st_gid.into(),
                            st.st_mode,
                            &format!(
                                "{kind}-{}-{}",
                                nix::sys::stat::major(rdev),
                                nix::sys::stat::minor(rdev)
                            ),
                        );
                        match xattrs::set(&f, OVERRIDE_STAT_XATTR, value.as_bytes()) {
                            Err(e) if !xattr_unsupported(&e) => {
                                return Err(e).applying(&path, "set override_stat xattr")
                            }
                            _ => {}
                        }
                    }
                    Err(e) => return Err(e).applying(&path, "create node"),
                }
            }
            // Sockets are not copied.
        }
        for d in subdirs.into_iter().rev() {
            stack.push(Task::Visit(d));
        }
        Ok(())
    }

    fn copy_file(
        &mut self,
        ld: BorrowedFd<'_>,
        rd: BorrowedFd<'_>,
        n: &OsStr,
        st: &FileStat,
        path: &Path,
    ) -> Res<()> {
        let key = (st.st_dev, st.st_ino);
        if st.st_nlink > 1 {
            if let Some(first) = self.links.get(&key).cloned() {
                if self.link_to(&first, rd, n).applying(path, "link")? {
                    return Ok(());
                }
            }
        }
        remove_any(rd, n).applying(path, "remove")?;
        let src = File::from(
            open_beneath(ld, Path::new(n), OFlag::O_RDONLY).applying(path, "open layer file")?,
        );
        let mut dst = create_file(rd, n).applying(path, "create file")?;
        copy_sparse(&src, &mut dst, st.st_size as u64).applying(path, "copy")?;
        copy_meta(&src, &dst, false).applying(path, "set metadata")?;
        if st.st_nlink > 1 {
            self.links.insert(key, path.to_path_buf());
        }
        Ok(())
    }

    /// Hard-links `n` in `rd` to the rootfs copy at `first`; `false` if
    /// that copy is gone.
    fn link_to(&self, first: &Path, rd: BorrowedFd<'_>, n: &OsStr) -> io::Result<bool> {
        let (Some(up), Some(fname)) = (first.parent(), first.file_name()) else {
            return Ok(false);
        };
        let pfd = match open_beneath(self.rootfs.as_fd(), up, OFlag::O_PATH | OFlag::O_DIRECTORY) {
            Ok(fd) => fd,
            Err(e) if replaced(&e) => return Ok(false),
            Err(e) => return Err(e),
        };
        match lstat_at(pfd.as_fd(), fname)? {
            Some(st) if file_type(&st) == SFlag::S_IFREG => {}
            _ => return Ok(false),
        }
        remove_any(rd, n)?;
        nix::unistd::linkat(
            Some(pfd.as_raw_fd()),
            fname,
            Some(rd.as_raw_fd()),
            n,
            AtFlags::empty(),
        )?;
        Ok(true)
    }

    fn finish(&mut self, rel: &Path) -> Res<()> {
        if rel.as_os_str().is_empty() {
            return Ok(()); // the layer directory itself carries no metadata
        }
        let dflags = OFlag::O_RDONLY | OFlag::O_DIRECTORY;
        let src = File::from(
            open_beneath(self.layer.as_fd(), rel, dflags).applying(rel, "open layer directory")?,
        );
        let dst = File::from(
            open_beneath(self.rootfs.as_fd(), rel, dflags)
                .applying(rel, "open rootfs directory")?,
        );
        copy_meta(&src, &dst, true).applying(rel, "set directory metadata")
    }
}

/// Copies data, keeping holes (SEEK_DATA/SEEK_HOLE), and sets the size.
fn copy_sparse(src: &File, dst: &mut File, size: u64) -> io::Result<()> {
    use nix::unistd::{lseek, Whence};
    let mut pos: i64 = 0;
    let end = i64::try_from(size).map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
    while pos < end {
        let data = match lseek(src.as_raw_fd(), pos, Whence::SeekData) {
            Ok(d) => d,
            Err(Errno::ENXIO) => break,
            Err(Errno::EINVAL | Errno::EOPNOTSUPP) => {
                // No hole support: copy the rest plainly.
                (&*src).seek(SeekFrom::Start(pos as u64))?;
                dst.seek(SeekFrom::Start(pos as u64))?;
                io::copy(&mut src.take((end - pos) as u64), dst)?;
                break;
            }
            Err(e) => return Err(e.into()),
        };
        let hole = lseek(src.as_raw_fd(), data, Whence::SeekHole)?.min(end);
        if hole <= data {
            break;
        }
        (&*src).seek(SeekFrom::Start(data as u64))?;
        dst.seek(SeekFrom::Start(data as u64))?;
        let want = (hole - data) as u64;
        if io::copy(&mut src.take(want), dst)? != want {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        pos = hole;
    }
    dst.set_len(size)
}

/// Owner, xattrs, mode and times from one open file or directory to another.
fn copy_meta(src: &File, dst: &File, is_dir: bool) -> io::Result<()> {
    let st = nix::sys::stat::fstat(src.as_raw_fd())?;
    match nix::unistd::fchown(
        dst.as_raw_fd(),
        Some(Uid::from_raw(st.st_uid)),
        Some(Gid::from_raw(st.st_gid)),
    ) {
        Ok(()) | Err(Errno::EPERM | Errno::EINVAL) => {}
        Err(e) => return Err(e.into()),
    }
    copy_xattrs(src, dst, is_dir)?;
    nix::sys::stat::fchmod(
        dst.as_raw_fd(),
        Mode::from_bits_truncate(st.st_mode & 0o7777),
    )?;
    nix::sys::stat::futimens(
        dst.as_raw_fd(),
        &TimeSpec::new(st.st_atime, st.st_atime_nsec),
        &TimeSpec::new(st.st_mtime, st.st_mtime_nsec),
    )?;
    Ok(())
}

fn copy_xattrs(src: &File, dst: &File, is_dir: bool) -> io::Result<()> {
    let names = match xattrs::list(src) {
        Ok(n) => n,
        Err(e) if xattr_unsupported(&e) => return Ok(()),
        Err(e) => return Err(e),
    };
    if is_dir {
        // An existing rootfs directory: the layer's xattrs replace the
        // lower ones (only user.* can be removed unprivileged).
        if let Ok(old) = xattrs::list(dst) {
            for o in old {
                if o.as_bytes().starts_with(b"user.") && !names.contains(&o) {
                    if let Some(o) = o.to_str() {
                        let _ = xattrs::remove(dst, o);
                    }
                }
            }
        }
    }
    for n in names {
        let Some(name) = n.to_str() else { continue };
        let Some(value) = xattrs::get(src, name)? else {
            continue;
        };
        match xattrs::set(dst, name, &value) {
            Ok(()) => {}
            Err(e) if xattr_unsupported(&e) => return Ok(()),
            Err(e)
                if !name.starts_with("user.")
                    && matches!(errno(&e), Some(Errno::EPERM | Errno::EACCES)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Owner, mode (fifos and devices) and times of a node reached by name.
fn node_meta_at(dir: BorrowedFd<'_>, name: &OsStr, st: &FileStat, chmod: bool) -> io::Result<()> {
    match nix::unistd::fchownat(
        Some(dir.as_raw_fd()),
        name,
        Some(Uid::from_raw(st.st_uid)),
        Some(Gid::from_raw(st.st_gid)),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    ) {
        Ok(()) | Err(Errno::EPERM | Errno::EINVAL) => {}
        Err(e) => return Err(e.into()),
    }
    if chmod {
        nix::sys::stat::fchmodat(
            Some(dir.as_raw_fd()),
            name,
            Mode::from_bits_truncate(st.st_mode & 0o7777),
            FchmodatFlags::NoFollowSymlink,
        )?;
    }
    nix::sys::stat::utimensat(
        Some(dir.as_raw_fd()),
        name,
        &TimeSpec::new(st.st_atime, st.st_atime_nsec),
        &TimeSpec::new(st.st_mtime, st.st_mtime_nsec),
        UtimensatFlags::NoFollowSymlink,
    )?;
    Ok(())
}

/// Applies an unpacked layer directory onto a root file system directory
/// (assembling a rootfs by copying, the "vfs" way): whiteouts delete the
/// named lower entry, an opaque marker empties the directory's lower content
/// first, everything else is copied (regular files with their holes,
/// directories, symlinks, fifos, hardlinks within the layer kept as
/// hardlinks, modes, times, xattrs including the ownership record). Never
/// follows a symlink, so never leaves `rootfs`.
pub fn apply_layer(layer: &Path, rootfs: &Path) -> Result<(), UnpackError> {
    let mut a = Applier {
        layer: open_dir_path(layer)?,
        rootfs: open_dir_path(rootfs)?,
        links: HashMap::new(),
    };
    let mut stack = vec![Task::Visit(PathBuf::new())];
    while let Some(t) = stack.pop() {
        match t {
            Task::Visit(rel) => a.visit(&rel, &mut stack)?,
            Task::Finish(rel) => a.finish(&rel)?,
        }
    }
    Ok(())
}

/// `pzstd -19` (1.5.4) of the first 1024 bytes of a ustar archive holding
/// `hello.txt`, then `zstd -19 --check` of the rest: a skippable frame and
/// two frames from the reference tools, as parallel compressors and
/// `cat a.zst b.zst` make them.
#[cfg(test)]
pub(crate) const MULTI_FRAME_ZSTD: &str =
    "UCpNGAQAAABuAAAAKLUv/QRoDQMAEgUREZB9EHzgCNW4u64fJDhniwIFILhqhZts3RtlFku0ukR2dOEnLNfgH+Cl8wYvgCEP\
     /s8rdQo6BCjz/+Cc9EB3PeycDgYKIGC3O+hWnwQKwBBA6YCkuoGA7EEB7CbRBYcdnUkotS/9ZAAjRQAACAABAPyDB0K6IYdP";
/// sha256 of the archive in [`MULTI_FRAME_ZSTD`].
#[cfg(test)]
pub(crate) const MULTI_FRAME_TAR_SHA256: &str =
    "163df31fbc571056d8feb8260d2b16570d6d29327cc342b2bd548651ec8929dc";

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use sha2::Digest as _;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};

    const MTIME: u64 = 1_700_000_000;

    fn privileged() -> bool {
        nix::unistd::geteuid().is_root()
    }

    /// A raw ustar writer, for archives the tar crate refuses to build.
    #[derive(Default)]
    struct Raw(Vec<u8>);

    fn octal(field: &mut [u8], v: u64) {
        let s = format!("{:0w$o}\0", v, w = field.len() - 1);
        field.copy_from_slice(s.as_bytes());
    }

    fn header(name: &[u8], typ: u8, mode: u32, size: u64, link: &[u8]) -> [u8; 512] {
        let mut b = [0u8; 512];
        b[..name.len()].copy_from_slice(name);
        octal(&mut b[100..108], mode.into());
        octal(&mut b[108..116], 0);
        octal(&mut b[116..124], 0);
        octal(&mut b[124..136], size);
        octal(&mut b[136..148], MTIME);
        b[156] = typ;
        b[157..157 + link.len()].copy_from_slice(link);
        b[257..263].copy_from_slice(b"ustar\0");
        b[263..265].copy_from_slice(b"00");
        octal(&mut b[329..337], 0);
        octal(&mut b[337..345], 0);
        checksum(&mut b);
        b
    }

    fn checksum(b: &mut [u8; 512]) {
        b[148..156].copy_from_slice(b"        ");
        let sum: u64 = b.iter().map(|&x| u64::from(x)).sum();
        let s = format!("{sum:06o}\0 ");
        b[148..156].copy_from_slice(s.as_bytes());
    }

    impl Raw {
        fn block(&mut self, h: [u8; 512], data: &[u8]) -> &mut Self {
            self.0.extend_from_slice(&h);
            self.0.extend_from_slice(data);
            let pad = padding(data.len() as u64) as usize;
            self.0.resize(self.0.len() + pad, 0);
            self
        }
        fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
            self.block(
                header(name.as_bytes(), b'0', 0o644, data.len() as u64, b""),
                data,
            )
        }
        fn dir(&mut self, name: &str, mode: u32) -> &mut Self {
            self.block(header(name.as_bytes(), b'5', mode, 0, b""), b"")
        }
        fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
            self.block(
                header(name.as_bytes(), b'2', 0o777, 0, target.as_bytes()),
                b"",
            )
        }
        fn hardlink(&mut self, name: &str, target: &str) -> &mut Self {
            self.block(
                header(name.as_bytes(), b'1', 0o644, 0, target.as_bytes()),
                b"",
            )
        }
        /// A character device 1:3, mode 0666.
        fn null_device(&mut self, name: &str) -> &mut Self {
            let mut h = header(name.as_bytes(), b'3', 0o666, 0, b"");
            octal(&mut h[329..337], 1);
            octal(&mut h[337..345], 3);
            checksum(&mut h);
            self.block(h, b"")
        }
        fn pax(&mut self, records: &[(&str, &[u8])]) -> &mut Self {
            let mut data = Vec::new();
            for (k, v) in records {
                let body = 1 + k.len() + 1 + v.len() + 1;
                let mut len = body + body.to_string().len();
                if len.to_string().len() != body.to_string().len() {
                    len += 1;
                }
                data.extend_from_slice(format!("{len} {k}=").as_bytes());
                data.extend_from_slice(v);
                data.push(b'\n');
            }
            self.block(
                header(b"PaxHeaders/x", b'x', 0o644, data.len() as u64, b""),
                &data,
            )
        }
        fn finish(&mut self) -> Vec<u8> {
            let mut v = std::mem::take(&mut self.0);
            v.extend_from_slice(&[0u8; 1024]);
            v
        }
    }

    struct Layer {
        base: tempfile::TempDir,
        dest: PathBuf,
    }

    impl Layer {
        fn new() -> Self {
            let base = tempfile::tempdir().unwrap();
            let dest = base.path().join("layer");
            std::fs::create_dir(&dest).unwrap();
            std::fs::create_dir(base.path().join("outside")).unwrap();
            std::fs::write(base.path().join("outside/victim"), b"original").unwrap();
            Self { base, dest }
        }
        fn unpack(&self, tar: &[u8]) -> Result<UnpackReport, UnpackError> {
            self.unpack_with(tar, Compression::None, &Limits::default())
        }
        fn unpack_with(
            &self,
            data: &[u8],
            c: Compression,
            l: &Limits,
        ) -> Result<UnpackReport, UnpackError> {
            unpack_layer(data, c, &self.dest, l)
        }
        fn p(&self, rel: &str) -> PathBuf {
            self.dest.join(rel)
        }
        /// Everything in the temp dir outside the layer directory.
        fn outside(&self) -> Vec<String> {
            let mut out = Vec::new();
            walk(self.base.path(), self.base.path(), &mut out);
            out.retain(|p| !p.starts_with("layer/") && p != "layer");
            out
        }
        fn assert_outside_untouched(&self) {
            assert_eq!(self.outside(), vec!["outside", "outside/victim"]);
            assert_eq!(
                std::fs::read(self.base.path().join("outside/victim")).unwrap(),
                b"original"
            );
        }
    }

    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        for p in names {
            out.push(p.strip_prefix(root).unwrap().display().to_string());
            if std::fs::symlink_metadata(&p).unwrap().is_dir() {
                walk(root, &p, out);
            }
        }
    }

    /// (uid, gid, mode) as the overlay will present them: from the
    /// override xattr when present, else from the inode.
    fn owner_mode(p: &Path) -> (u64, u64, u32) {
        if let Some(v) = xattr::get(p, OVERRIDE_STAT_XATTR).unwrap() {
            let s = String::from_utf8(v).unwrap();
            let f: Vec<&str> = s.split(':').collect();
            return (
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                u32::from_str_radix(f[2], 8).unwrap(),
            );
        }
        // No record: the unpacking user's files are root's.
        let m = std::fs::symlink_metadata(p).unwrap();
        let me = (
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        );
        let (u, g) = if (m.uid(), m.gid()) == me {
            (0, 0)
        } else {
            (m.uid(), m.gid())
        };
        (u.into(), g.into(), m.mode() & 0o7777)
    }

    fn sha256_hex(data: &[u8]) -> String {
        sha2::Sha256::digest(data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn zstd(data: &[u8]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
    }

    fn b64(s: &str) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD.decode(s).unwrap()
    }

    /// A layer built with the tar crate, as ordinary tools write them.
    fn ordinary_tar() -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut add = |path: &str,
                       typ: tar::EntryType,
                       mode: u32,
                       uid: u64,
                       data: &[u8],
                       link: Option<&str>| {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(typ);
            h.set_mode(mode);
            h.set_uid(uid);
            h.set_gid(uid + 1);
            h.set_mtime(MTIME);
            h.set_size(data.len() as u64);
            match link {
                Some(l) => b.append_link(&mut h, path, l).unwrap(),
                None => b.append_data(&mut h, path, data).unwrap(),
            }
        };
        add("etc/", tar::EntryType::Directory, 0o755, 0, b"", None);
        add(
            "etc/hosts",
            tar::EntryType::Regular,
            0o644,
            0,
            b"127.0.0.1 localhost\n",
            None,
        );
        add(
            "bin/tool",
            tar::EntryType::Regular,
            0o750,
            1234,
            b"#!/bin/sh\n",
            None,
        );
        add(
            "bin/sh",
            tar::EntryType::Symlink,
            0o777,
            0,
            b"",
            Some("tool"),
        );
        add(
            "bin/sh-user",
            tar::EntryType::Symlink,
            0o777,
            1234,
            b"",
            Some("tool"),
        );
        add(
            "bin/tool2",
            tar::EntryType::Link,
            0o750,
            1234,
            b"",
            Some("bin/tool"),
        );
        add("bin/su", tar::EntryType::Regular, 0o4755, 0, b"suid", None);
        let long = format!("{}/file", "d".repeat(150));
        add(&long, tar::EntryType::Regular, 0o600, 0, b"long", None);
        let long_target = format!("/{}", "t".repeat(200));
        add(
            "long-link",
            tar::EntryType::Symlink,
            0o777,
            0,
            b"",
            Some(&long_target),
        );
        b.into_inner().unwrap()
    }

    #[test]
    fn ordinary_entries_are_unpacked() {
        let tar = ordinary_tar();
        let l = Layer::new();
        let r = l.unpack(&tar).unwrap();
        assert_eq!(r.diff_id.hex(), sha256_hex(&tar));
        assert_eq!(r.unpacked_bytes, tar.len() as u64);
        assert_eq!(r.entries, 9);
        assert_eq!(
            std::fs::read(l.p("etc/hosts")).unwrap(),
            b"127.0.0.1 localhost\n"
        );
        assert_eq!(owner_mode(&l.p("etc/hosts")), (0, 1, 0o644));
        assert_eq!(owner_mode(&l.p("etc")), (0, 1, 0o755));
        assert_eq!(owner_mode(&l.p("bin/tool")), (1234, 1235, 0o750));
        // bin/ was implied: root-owned 0755, as Docker makes it.
        assert_eq!(owner_mode(&l.p("bin")), (0, 0, 0o755));
        assert_eq!(owner_mode(&l.p("bin/su")), (0, 1, 0o4755));
        assert!(xattr::get(l.p("bin/su"), OVERRIDE_STAT_XATTR)
            .unwrap()
            .is_some());
        assert_eq!(
            std::fs::read_link(l.p("bin/sh")).unwrap(),
            Path::new("tool")
        );
        let t = std::fs::metadata(l.p("bin/tool")).unwrap();
        let t2 = std::fs::metadata(l.p("bin/tool2")).unwrap();
        assert_eq!(t.ino(), t2.ino());
        assert_eq!(t.mtime(), MTIME as i64);
        assert_eq!(std::fs::metadata(l.p("etc")).unwrap().mtime(), MTIME as i64);
        let long = l.p(&format!("{}/file", "d".repeat(150)));
        assert_eq!(std::fs::read(long).unwrap(), b"long");
        assert_eq!(
            std::fs::read_link(l.p("long-link")).unwrap(),
            PathBuf::from(format!("/{}", "t".repeat(200)))
        );
        if privileged() {
            let sl = std::fs::symlink_metadata(l.p("bin/sh-user")).unwrap();
            assert_eq!((sl.uid(), sl.gid()), (1234, 1235));
            assert_eq!(t.uid(), 1234);
            assert_eq!(t.mode() & 0o7777, 0o750);
        } else {
            // The unpacking user keeps rw on disk; the xattr has the rest.
            assert_eq!(t.uid(), nix::unistd::geteuid().as_raw());
            // Their group is 1 in the image, not the unpacking user's root.
            assert!(
                r.notes
                    .iter()
                    .any(|n| n.starts_with("3 symlinks are owned")),
                "{:?}",
                r.notes
            );
        }
        l.assert_outside_untouched();
    }

    #[test]
    fn gzip_and_zstd_layers_give_the_diff_id_of_the_tar() {
        let tar = ordinary_tar();
        for (data, c) in [
            (gzip(&tar), Compression::Gzip),
            (zstd(&tar), Compression::Zstd),
        ] {
            assert_eq!(Compression::sniff(&data), c);
            let l = Layer::new();
            let r = l.unpack_with(&data, c, &Limits::default()).unwrap();
            assert_eq!(r.diff_id.hex(), sha256_hex(&tar), "{c:?}");
            assert_eq!(std::fs::read(l.p("bin/su")).unwrap(), b"suid");
        }
    }

    #[test]
    fn zstd_streams_of_several_frames_and_skippable_frames() {
        let tar = ordinary_tar();
        let (a, b) = tar.split_at(1000);
        let mut data = zstd(a);
        data.extend_from_slice(&0x184d_2a53u32.to_le_bytes());
        data.extend_from_slice(&5u32.to_le_bytes());
        data.extend_from_slice(b"skip!");
        data.extend_from_slice(&zstd(b));
        let l = Layer::new();
        let r = l
            .unpack_with(&data, Compression::Zstd, &Limits::default())
            .unwrap();
        assert_eq!(r.diff_id.hex(), sha256_hex(&tar));
        assert_eq!(
            std::fs::read(l.p("etc/hosts")).unwrap(),
            b"127.0.0.1 localhost\n"
        );
    }

    #[test]
    fn zstd_from_the_reference_tools() {
        // `zstd -19` (1.5.4) of a ustar archive with hello.txt (one frame,
        // XXH64 check), and the skippable and two frames of
        // MULTI_FRAME_ZSTD.
        let single = b64(
            "KLUv/WQAJ/UCAJIEDxKQzwFjKLsj3GbmMxFInuZ5zzIM3EtB0XkDjJIFpjHKnyWiszI/8BmHjPPfP6dJ6cF\
             N/nO3OVNLRXxvtQsA0IvLd4AQgOQoAD8EhsIBEH7endxFAAwKAHYT6AKz1+Ln",
        );
        let data = b64(MULTI_FRAME_ZSTD);
        for (data, diff_id, hello) in [
            (
                &single,
                "f9f4d0df0abac9e42ca592c548df4437a033ede29af640cd80505dd498f071e2",
                &b"hello from zstd cli\n"[..],
            ),
            (
                &data,
                MULTI_FRAME_TAR_SHA256,
                b"two frames and a skippable one\n",
            ),
        ] {
            assert_eq!(Compression::sniff(data), Compression::Zstd);
            let l = Layer::new();
            let r = l
                .unpack_with(data, Compression::Zstd, &Limits::default())
                .unwrap();
            assert_eq!(r.diff_id.hex(), diff_id);
            assert_eq!(r.unpacked_bytes, 10240);
            assert_eq!(std::fs::read(l.p("hello.txt")).unwrap(), hello);
            // A corrupted checksum (of the last frame) is caught.
            let mut bad = data.clone();
            let n = bad.len();
            bad[n - 1] ^= 0xff;
            let l = Layer::new();
            let e = l
                .unpack_with(&bad, Compression::Zstd, &Limits::default())
                .unwrap_err();
            assert!(e.to_string().contains("checksum"), "{e}");
        }
        // Cut between the frames, the stream is a shorter tar without its
        // end blocks (which tar readers accept): the diff id tells. Cut
        // inside the skippable frame, it is truncated.
        let l = Layer::new();
        let r = l
            .unpack_with(&data[..122], Compression::Zstd, &Limits::default())
            .unwrap();
        assert_eq!(r.unpacked_bytes, 1024);
        assert_ne!(r.diff_id.hex(), MULTI_FRAME_TAR_SHA256);
        for cut in [10, 100, data.len() - 10] {
            let l = Layer::new();
            let e = l
                .unpack_with(&data[..cut], Compression::Zstd, &Limits::default())
                .unwrap_err();
            assert!(matches!(e, UnpackError::Truncated { .. }), "{cut}: {e}");
        }
    }

    /// The members of an archive read with [`TarArchive`], with their data.
    fn members(data: &[u8], limits: &Limits) -> io::Result<Vec<(Member, Vec<u8>)>> {
        let mut ar = TarArchive::new(data, limits)?;
        let mut out = Vec::new();
        while let Some(m) = ar.next_member()? {
            let mut d = Vec::new();
            ar.read_to_end(&mut d)?;
            out.push((m, d));
        }
        Ok(out)
    }

    #[test]
    fn archives_are_read_member_by_member_in_any_compression() {
        let tar = ordinary_tar();
        let plain = members(&tar, &Limits::default()).unwrap();
        let find = |name: &str| {
            plain
                .iter()
                .find(|(m, _)| m.name == name.as_bytes())
                .unwrap_or_else(|| panic!("no {name}"))
        };
        assert_eq!(plain.len(), 9);
        assert_eq!(find("etc/").0.kind, MemberKind::Other);
        let (hosts, data) = find("etc/hosts");
        assert_eq!((hosts.kind, hosts.size), (MemberKind::File, 20));
        assert_eq!(data, b"127.0.0.1 localhost\n");
        let sh = &find("bin/sh").0;
        assert_eq!((sh.kind, &sh.link[..]), (MemberKind::Symlink, &b"tool"[..]));
        let tool2 = &find("bin/tool2").0;
        assert_eq!(
            (tool2.kind, &tool2.link[..]),
            (MemberKind::Hardlink, &b"bin/tool"[..])
        );
        // GNU long names and link targets.
        assert_eq!(find(&format!("{}/file", "d".repeat(150))).1, b"long");
        assert_eq!(find("long-link").0.link.len(), 201);

        // Several gzip members; zstd frames after a skippable frame.
        let (a, b) = tar.split_at(1000);
        let mut gz = gzip(a);
        gz.extend_from_slice(&gzip(b));
        let mut zs = 0x184d_2a50u32.to_le_bytes().to_vec();
        zs.extend_from_slice(&3u32.to_le_bytes());
        zs.extend_from_slice(b"pad");
        zs.extend_from_slice(&zstd(a));
        zs.extend_from_slice(&zstd(b));
        for (i, data) in [gzip(&tar), gz, zstd(&tar), zs].iter().enumerate() {
            assert_eq!(members(data, &Limits::default()).unwrap(), plain, "{i}");
        }
        let m = members(&b64(MULTI_FRAME_ZSTD), &Limits::default()).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].0.name, b"hello.txt");
        assert_eq!(m[0].1, b"two frames and a skippable one\n");

        // Data left unread is skipped; names come back as stored.
        let tar = Raw::default()
            .file("../up", b"first")
            .file("/abs", b"second")
            .finish();
        let mut ar = TarArchive::new(&tar[..], &Limits::default()).unwrap();
        let m = ar.next_member().unwrap().unwrap();
        assert_eq!((&m.name[..], m.size), (&b"../up"[..], 5));
        let mut two = [0u8; 2];
        ar.read_exact(&mut two).unwrap();
        let m = ar.next_member().unwrap().unwrap();
        assert_eq!(m.name, b"/abs");
        let mut rest = Vec::new();
        ar.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"second");
        assert!(ar.next_member().unwrap().is_none());
        assert!(members(b"", &Limits::default()).unwrap().is_empty());
    }

    #[test]
    fn hostile_archives_are_read_within_bounds() {
        let err = |data: &[u8], limits: &Limits| {
            let e = members(data, limits).unwrap_err();
            (e.kind(), e.to_string())
        };
        // A PAX header too large to buffer is refused without reading it.
        let mut raw = Raw::default();
        raw.file("first", b"1");
        let mut h = header(b"PaxHeaders/x", b'x', 0o644, 0, b"");
        octal(&mut h[124..136], 2 << 20);
        checksum(&mut h);
        raw.0.extend_from_slice(&h);
        let (_, e) = err(&raw.finish(), &Limits::default());
        assert!(e.contains("pax header") && e.contains("limit"), "{e}");
        assert!(e.contains("archive") && e.contains("\"first\""), "{e}");
        // So is a GNU long name over the name limit, and a PAX path.
        let limits = Limits {
            max_path_bytes: 100,
            ..Limits::default()
        };
        let long = vec![b'n'; 200];
        let mut raw = Raw::default();
        raw.block(header(b"././@LongLink", b'L', 0o644, 200, b""), &long);
        raw.file("x", b"");
        let (_, e) = err(&raw.finish(), &limits);
        assert!(e.contains("gnu long name"), "{e}");
        let tar = Raw::default()
            .pax(&[("path", &long)])
            .file("x", b"")
            .finish();
        let (_, e) = err(&tar, &limits);
        assert!(e.contains("archive entry") && e.contains("limit"), "{e}");
        // The member count.
        let mut raw = Raw::default();
        for i in 0..5 {
            raw.file(&format!("f{i}"), b"");
        }
        let limits = Limits {
            max_entries: 3,
            ..Limits::default()
        };
        let (_, e) = err(&raw.finish(), &limits);
        assert!(e.contains("more than 3 entries"), "{e}");
        // Truncation, in a header and in data; a broken header checksum.
        let tar = Raw::default()
            .file("a", b"a")
            .file("b", &[7u8; 3000])
            .finish();
        let (kind, e) = err(&tar[..1024 + 100], &Limits::default());
        assert_eq!(kind, io::ErrorKind::UnexpectedEof, "{e}");
        assert!(e.contains("truncated") && e.contains("\"a\""), "{e}");
        let (kind, _) = err(&tar[..2048], &Limits::default());
        assert_eq!(kind, io::ErrorKind::UnexpectedEof);
        let mut bad = tar.clone();
        bad[1024 + 10] ^= 1;
        let (_, e) = err(&bad, &Limits::default());
        assert!(
            e.contains("checksum") && e.contains("damaged archive"),
            "{e}"
        );
        // A zstd frame asking for a huge window; `zstd --long`'s 128 MiB
        // is allowed in an archive (not in a layer), a little more is not.
        for (descriptor, refused) in [(0xf8, true), (17 << 3 | 1, true), (17 << 3, false)] {
            let frame = [0x28, 0xb5, 0x2f, 0xfd, 0x00, descriptor, 0, 0, 0, 0];
            let (_, e) = err(&frame, &Limits::default());
            assert_eq!(e.contains("window"), refused, "{descriptor:#x}: {e}");
        }
        let l = Layer::new();
        let frame = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 17 << 3, 0, 0, 0, 0];
        let e = l
            .unpack_with(&frame, Compression::Zstd, &Limits::default())
            .unwrap_err();
        assert!(e.to_string().contains("window"), "{e}");
    }

    #[test]
    fn zstd_frames_with_huge_windows_are_refused() {
        // Frame header: magic, no single segment, window 2^41.
        let data = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8, 0, 0, 0, 0];
        let l = Layer::new();
        let e = l
            .unpack_with(&data, Compression::Zstd, &Limits::default())
            .unwrap_err();
        assert!(e.to_string().contains("window"), "{e}");
        // Single segment with a declared content size of 2^40.
        let mut data = vec![0x28, 0xb5, 0x2f, 0xfd, 0xe0];
        data.extend_from_slice(&(1u64 << 40).to_le_bytes());
        let l = Layer::new();
        let e = l
            .unpack_with(&data, Compression::Zstd, &Limits::default())
            .unwrap_err();
        assert!(e.to_string().contains("window"), "{e}");
    }

    #[test]
    fn media_types_and_sniffing() {
        use Compression as C;
        for (mt, c) in [
            ("application/vnd.oci.image.layer.v1.tar", C::None),
            ("application/vnd.oci.image.layer.v1.tar+gzip", C::Gzip),
            ("application/vnd.oci.image.layer.v1.tar+zstd", C::Zstd),
            (
                "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                C::Gzip,
            ),
            ("application/vnd.docker.image.rootfs.diff.tar.gzip", C::Gzip),
            (
                "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                C::Gzip,
            ),
        ] {
            assert_eq!(C::from_media_type(mt).unwrap(), c, "{mt}");
        }
        let e = C::from_media_type("application/vnd.oci.image.config.v1+json").unwrap_err();
        assert!(e.to_string().contains("unsupported layer media type"));
        assert_eq!(C::sniff(&[0x1f, 0x8b, 8]), C::Gzip);
        assert_eq!(C::sniff(&[0x28, 0xb5, 0x2f, 0xfd]), C::Zstd);
        assert_eq!(C::sniff(&[0x50, 0x2a, 0x4d, 0x18]), C::Zstd);
        assert_eq!(C::sniff(b"etc/"), C::None);
        assert_eq!(C::sniff(b""), C::None);
    }

    fn expect_entry_error(tar: &[u8], needle: &str) {
        let l = Layer::new();
        let e = l.unpack(tar).unwrap_err();
        assert!(
            matches!(e, UnpackError::Entry { .. }),
            "{needle}: wrong error kind: {e}"
        );
        assert!(
            e.to_string().contains(needle),
            "{e} should mention {needle}"
        );
        l.assert_outside_untouched();
    }

    #[test]
    fn dot_dot_escapes_are_rejected() {
        for (name, needle) in [
            ("../x", "../x"),
            ("a/../../x", "a/../../x"),
            ("./../outside/victim", "climbs"),
        ] {
            expect_entry_error(&Raw::default().file(name, b"x").finish(), needle);
        }
        // Inside the root, `..` is fine.
        let l = Layer::new();
        l.unpack(&Raw::default().file("a/../b", b"x").finish())
            .unwrap();
        assert_eq!(std::fs::read(l.p("b")).unwrap(), b"x");
    }

    #[test]
    fn absolute_names_are_taken_inside_the_root() {
        let l = Layer::new();
        l.unpack(&Raw::default().file("/etc/coracle-unpack-x", b"x").finish())
            .unwrap();
        assert_eq!(std::fs::read(l.p("etc/coracle-unpack-x")).unwrap(), b"x");
        assert!(!Path::new("/etc/coracle-unpack-x").exists());
        l.assert_outside_untouched();
    }

    #[test]
    fn writes_through_symlinks_stay_inside() {
        let probe = format!("coracle-unpack-probe-{}", std::process::id());
        // a -> / then a/etc/PROBE
        let l = Layer::new();
        let tar = Raw::default()
            .symlink("a", "/")
            .file(&format!("a/etc/{probe}"), b"x")
            .finish();
        l.unpack(&tar).unwrap();
        assert!(l.p(&format!("etc/{probe}")).is_file());
        assert!(!Path::new("/etc").join(&probe).exists());
        l.assert_outside_untouched();

        // a -> ../../.. then a/PROBE
        let l = Layer::new();
        let tar = Raw::default()
            .symlink("a", "../../..")
            .file(&format!("a/{probe}"), b"x")
            .finish();
        l.unpack(&tar).unwrap();
        assert!(l.p(&probe).is_file());
        assert!(!l.base.path().join(&probe).exists());
        assert!(!Path::new("/").join(&probe).exists());
        l.assert_outside_untouched();

        // A chain: a -> b, b -> <absolute path of the outside dir>.
        let l = Layer::new();
        let outside = l.base.path().join("outside");
        let mirror = outside.strip_prefix("/").unwrap().to_str().unwrap();
        let tar = Raw::default()
            .dir(mirror, 0o755)
            .symlink("b", outside.to_str().unwrap())
            .symlink("a", "b")
            .file("a/victim", b"overwritten?")
            .file("a/new", b"x")
            .finish();
        l.unpack(&tar).unwrap();
        let inside = l.dest.join(outside.strip_prefix("/").unwrap());
        assert_eq!(
            std::fs::read(inside.join("victim")).unwrap(),
            b"overwritten?"
        );
        assert!(inside.join("new").is_file());
        l.assert_outside_untouched();

        // A parent that is a dangling symlink is an error, not a mkdir
        // somewhere else.
        let tar = Raw::default()
            .symlink("a", "/nonexistent/deep")
            .file("a/x", b"x")
            .finish();
        expect_entry_error(&tar, "symlink to a missing directory");
    }

    #[test]
    fn an_existing_symlink_is_replaced_not_followed() {
        let l = Layer::new();
        let victim = l.base.path().join("outside/victim");
        let tar = Raw::default()
            .symlink("f", victim.to_str().unwrap())
            .file("f", b"new content")
            .symlink("d", l.base.path().join("outside").to_str().unwrap())
            .dir("d", 0o755)
            .file("d/x", b"x")
            .finish();
        l.unpack(&tar).unwrap();
        let m = std::fs::symlink_metadata(l.p("f")).unwrap();
        assert!(m.is_file());
        assert_eq!(std::fs::read(l.p("f")).unwrap(), b"new content");
        assert!(std::fs::symlink_metadata(l.p("d")).unwrap().is_dir());
        assert!(l.p("d/x").is_file());
        l.assert_outside_untouched();
    }

    #[test]
    fn hostile_hardlinks_are_rejected() {
        expect_entry_error(
            &Raw::default().hardlink("l", "../outside/victim").finish(),
            "climbs",
        );
        expect_entry_error(
            &Raw::default().hardlink("l", "/etc/passwd").finish(),
            "not in this layer",
        );
        expect_entry_error(
            &Raw::default()
                .symlink("s", "/etc")
                .hardlink("l", "s/passwd")
                .finish(),
            "through a symlink",
        );
        expect_entry_error(
            &Raw::default()
                .file("f", b"x")
                .symlink("s", ".")
                .hardlink("l", "s/f")
                .finish(),
            "through a symlink",
        );
        expect_entry_error(
            &Raw::default().symlink("s", "f").hardlink("l", "s").finish(),
            "not a regular file",
        );
        expect_entry_error(
            &Raw::default().dir("d", 0o755).hardlink("l", "d").finish(),
            "not a regular file",
        );
        // A symlink to outside as hardlink target: the link is to the
        // symlink itself, which is refused.
        let l = Layer::new();
        let victim = l.base.path().join("outside/victim");
        let tar = Raw::default()
            .symlink("s", victim.to_str().unwrap())
            .hardlink("l", "s")
            .finish();
        assert!(l.unpack(&tar).is_err());
        l.assert_outside_untouched();
    }

    #[test]
    fn hostile_whiteouts_are_rejected() {
        for (name, needle) in [
            (".wh...", "does not name"),
            ("a/.wh.", "does not name"),
            (".wh./x", "whiteout cannot be a directory"),
            (".wh.a/x", "whiteout cannot be a directory"),
        ] {
            expect_entry_error(&Raw::default().file(name, b"").finish(), needle);
        }
        // Well-formed ones stay as markers.
        let l = Layer::new();
        let r = l
            .unpack(
                &Raw::default()
                    .file("a/.wh.gone", b"")
                    .file("b/.wh..wh..opq", b"")
                    .file(".wh..wh.plnk", b"")
                    .finish(),
            )
            .unwrap();
        assert!(l.p("a/.wh.gone").is_file());
        assert!(l.p("b/.wh..wh..opq").is_file());
        assert!(!l.p(".wh..wh.plnk").exists());
        assert!(r.notes.iter().any(|n| n.contains("aufs")));
    }

    #[test]
    fn nul_bytes_and_overlong_names_are_rejected() {
        expect_entry_error(
            &Raw::default()
                .pax(&[("path", b"a\0b")])
                .file("placeholder", b"")
                .finish(),
            "NUL",
        );
        let l = Layer::new();
        let limits = Limits {
            max_path_bytes: 50,
            ..Limits::default()
        };
        let tar = Raw::default()
            .pax(&[("path", "x".repeat(60).as_bytes())])
            .file("placeholder", b"")
            .finish();
        let e = l.unpack_with(&tar, Compression::None, &limits).unwrap_err();
        assert!(e.to_string().contains("limit of 50"), "{e}");
        // A GNU long name longer than the limit is refused before reading.
        let mut raw = Raw::default();
        let name = vec![b'y'; 5000];
        raw.block(header(b"././@LongLink", b'L', 0o644, 5000, b""), &name);
        let tar = raw.file("placeholder", b"").finish();
        let l = Layer::new();
        let e = l.unpack(&tar).unwrap_err();
        assert!(e.to_string().contains("gnu long name"), "{e}");
    }

    #[test]
    fn pax_headers_are_capped() {
        let mut raw = Raw::default();
        let mut h = header(b"PaxHeaders/x", b'x', 0o644, 0, b"");
        octal(&mut h[124..136], 2 << 20);
        checksum(&mut h);
        raw.0.extend_from_slice(&h);
        let tar = raw.finish();
        let l = Layer::new();
        let e = l.unpack(&tar).unwrap_err();
        assert!(matches!(e, UnpackError::Corrupt(_)), "{e}");
        assert!(e.to_string().contains("pax header"), "{e}");
    }

    #[test]
    fn decompression_bombs_stop_at_the_limit() {
        let limits = Limits {
            max_unpacked_bytes: 1 << 20,
            ..Limits::default()
        };
        // Zeros: the tar ends at once, the rest is drained and counted.
        // (zlib-rs at its fastest level is far from the ratio of 1000:1.)
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(&vec![0u8; 8 << 20]).unwrap();
        let bomb = e.finish().unwrap();
        assert!(bomb.len() < 64 << 10);
        let l = Layer::new();
        let e = l
            .unpack_with(&bomb, Compression::Gzip, &limits)
            .unwrap_err();
        assert!(matches!(e, UnpackError::TooLarge { .. }), "{e}");
        assert!(e.to_string().contains("decompression bomb"), "{e}");
        // One big file.
        let mut raw = Raw::default();
        raw.file("big", &vec![0u8; 4 << 20]);
        let bomb = zstd(&raw.finish());
        let l = Layer::new();
        let e = l
            .unpack_with(&bomb, Compression::Zstd, &limits)
            .unwrap_err();
        assert!(matches!(e, UnpackError::TooLarge { .. }), "{e}");
    }

    #[test]
    fn truncated_archives_are_errors() {
        let tar = Raw::default().file("f", &[7u8; 3000]).finish();
        for cut in [100, 700, 2000] {
            let l = Layer::new();
            let e = l.unpack(&tar[..cut]).unwrap_err();
            assert!(matches!(e, UnpackError::Truncated { .. }), "{cut}: {e}");
        }
        let gz = gzip(&tar);
        let l = Layer::new();
        assert!(l
            .unpack_with(&gz[..gz.len() / 2], Compression::Gzip, &Limits::default())
            .is_err());
        let z = zstd(&tar);
        let l = Layer::new();
        assert!(l
            .unpack_with(&z[..z.len() / 2], Compression::Zstd, &Limits::default())
            .is_err());
        // A header with a broken checksum.
        let mut bad = tar.clone();
        bad[10] ^= 1;
        let l = Layer::new();
        let e = l.unpack(&bad).unwrap_err();
        assert!(e.to_string().contains("checksum"), "{e}");
    }

    #[test]
    fn the_entry_count_is_limited() {
        let mut raw = Raw::default();
        for i in 0..20 {
            raw.file(&format!("f{i}"), b"");
        }
        let tar = raw.finish();
        let limits = Limits {
            max_entries: 10,
            ..Limits::default()
        };
        let l = Layer::new();
        let e = l.unpack_with(&tar, Compression::None, &limits).unwrap_err();
        assert!(
            matches!(e, UnpackError::TooManyEntries { limit: 10 }),
            "{e}"
        );
        let l = Layer::new();
        assert_eq!(l.unpack(&tar).unwrap().entries, 20);
    }

    #[test]
    fn trailing_bytes_are_part_of_the_diff_id() {
        let mut tar = Raw::default().file("f", b"x").finish();
        tar.extend_from_slice(&[0u8; 10 << 10]);
        let l = Layer::new();
        let r = l.unpack(&tar).unwrap();
        assert_eq!(r.diff_id.hex(), sha256_hex(&tar));
        assert_eq!(r.unpacked_bytes, tar.len() as u64);
    }

    #[test]
    fn sparse_files_from_gnu_tar() {
        // GNU tar 1.34 -S of a 1000000-byte file with "hello" at 500000 and
        // "tail" at its end, as gnu, pax 1.0 and pax 0.1 archives.
        let fixtures = [
            "H4sIAAAAAAACA+3QQQrDIBCFYY/iERwzjQfpCVwEEhAsib1/bWhCyCKllJZC/28zj1ER3nQxH+eqVnWe1W6KSM2iJ68hOL3vJWjjjD2bL7hOJY7WmjHncnTv2flb7Ujw20bW3LS6bWxu6rFf89Lm4QfLA7yo71LK1AAAAAAAAP5UiUOiBQAAAAAAAOB33QBeb1JWACgAAA==",
            "H4sIAAAAAAACA+3UsWrDMBQFUM36Cn+BrKc8WWjwmmYqhdIPEFRQFyc2kgshX181pVA0pEsbGnzPIrjSYOv5WrUP4biL4Tmm3OZZ/AVddMzntahXTUyC2Bp2TvNHTuU4ieYoruAtLyGVRxHrZExzd/+k8hxSjmofXqfUk6zS4VBSXaWHsI99nuWGvqcphjEPp9jT52ylgP9MtWV4j+fZbYcxKsfW/vZ/4HL/yZRPpeo/286KRl+z/2malkvnftqvX+5GbCR778hI1r6T3ns2LK3r5Fd/0WBYsZc4jhOuAQAAAAAAAABWagnDiFsAAAAAAAC4De/3r5qdACgAAA==",
            "H4sIAAAAAAACA+3UwU7EIBAGYM59ij4AocAOEA69qidjsvEBUElspLYp3WTj08vuelh7WC+6Gvf/LiQMCTDDIJq7sL2J4SlOuckj+wmysET7sViOUjnLFBlNzknazStpjWL1lp3BJs9hKkdhl0m7+vr2XuQxTDmK3L3FVh2qUml7HHrd9A9peHzJ7arS+lMk9LHNY2XU8Wwfxpa8d0pzkt5y7z1p4sZZ/rEBlxWDXyaaUrP1vmRXXYrCkbHf/Q+c7n+lyntY9H85hGG1PGf/T8Mwn1r3VXx5OfgXnmNKA9IAAAAAAAAAABdqDl1CFgAAAAAAAAD+vnc1B7UvACgAAA==",
        ];
        for (i, f) in fixtures.iter().enumerate() {
            let l = Layer::new();
            l.unpack_with(&b64(f), Compression::Gzip, &Limits::default())
                .unwrap_or_else(|e| panic!("fixture {i}: {e}"));
            let data = std::fs::read(l.p("sp")).unwrap();
            assert_eq!(
                sha256_hex(&data),
                "12b17118ec8b2499788bbaa009aab030428cc4c53822424777bfad9df1f3be83",
                "fixture {i}"
            );
            let m = std::fs::metadata(l.p("sp")).unwrap();
            assert_eq!(m.mtime(), 1_700_000_000);
            assert!(m.blocks() * 512 < m.len(), "fixture {i}: not sparse");
        }
    }

    #[test]
    fn devices_fifos_and_unknown_types() {
        let mut raw = Raw::default();
        raw.null_device("dev/null");
        raw.block(header(b"run/fifo", b'6', 0o644, 0, b""), b"");
        raw.block(header(b"volume", b'V', 0o644, 5, b""), b"label");
        raw.file("after", b"still here");
        let tar = raw.finish();
        let l = Layer::new();
        let r = l.unpack(&tar).unwrap();
        let m = std::fs::symlink_metadata(l.p("dev/null")).unwrap();
        assert!(m.is_file());
        assert_eq!(m.len(), 0);
        assert_eq!(m.mode() & 0o7777, if privileged() { 0 } else { 0o600 });
        assert_eq!(
            xattr::get(l.p("dev/null"), OVERRIDE_STAT_XATTR)
                .unwrap()
                .unwrap(),
            b"0:0:0666:char-1-3"
        );
        assert!(r
            .notes
            .iter()
            .any(|n| n.contains("dev/null") && n.contains("char 1:3")));
        assert!(std::fs::symlink_metadata(l.p("run/fifo"))
            .unwrap()
            .file_type()
            .is_fifo());
        assert!(
            r.notes.iter().any(|n| n.contains("volume")),
            "{:?}",
            r.notes
        );
        assert_eq!(std::fs::read(l.p("after")).unwrap(), b"still here");
    }

    #[test]
    fn pax_xattrs_are_applied() {
        // A v2 capability set with cap_net_raw permitted and effective.
        let mut cap = Vec::new();
        cap.extend_from_slice(&0x0200_0001u32.to_le_bytes());
        cap.extend_from_slice(&(1u32 << 13).to_le_bytes());
        cap.extend_from_slice(&[0; 12]);
        let tar = Raw::default()
            .pax(&[
                ("SCHILY.xattr.user.comment", b"hello"),
                ("SCHILY.xattr.security.capability", &cap),
                ("SCHILY.xattr.trusted.overlay.opaque", b"y"),
                (
                    "SCHILY.xattr.user.containers.override_stat",
                    b"0:0:4755:file",
                ),
                ("mtime", b"1700000000.5"),
                ("uid", b"3000000"),
            ])
            .file("bin/ping", b"ping")
            .finish();
        let l = Layer::new();
        let r = l.unpack(&tar).unwrap();
        let p = l.p("bin/ping");
        assert_eq!(xattr::get(&p, "user.comment").unwrap().unwrap(), b"hello");
        assert!(xattr::get(&p, "trusted.overlay.opaque")
            .unwrap_or(None)
            .is_none());
        let real = xattr::get(&p, "security.capability").unwrap_or(None);
        let encoded = xattr::get(&p, "user.containers.override_security.capability").unwrap();
        assert!(real.is_some() || encoded == Some(cap.clone()));
        assert_eq!(owner_mode(&p), (3_000_000, 0, 0o644));
        assert_eq!(std::fs::metadata(&p).unwrap().mtime_nsec(), 500_000_000);
        assert!(r.notes.iter().any(|n| n.contains("trusted.overlay.opaque")));
    }

    #[test]
    fn later_entries_replace_earlier_ones() {
        let tar = Raw::default()
            .dir("x", 0o755)
            .file("x/y", b"y")
            .dir("x/sub", 0o700)
            .file("x", b"now a file")
            .file("f", b"first")
            .file("f", b"second")
            .file("g", b"file")
            .dir("g", 0o711)
            .finish();
        let l = Layer::new();
        l.unpack(&tar).unwrap();
        assert_eq!(std::fs::read(l.p("x")).unwrap(), b"now a file");
        assert_eq!(std::fs::read(l.p("f")).unwrap(), b"second");
        assert!(l.p("g").is_dir());
        assert_eq!(owner_mode(&l.p("g")).2, 0o711);
    }

    #[test]
    fn read_only_directories_get_their_mode_after_their_content() {
        let tar = Raw::default()
            .dir("ro", 0o555)
            .dir("ro/sub", 0o500)
            .file("ro/sub/f", b"f")
            .file("ro/g", b"g")
            .finish();
        let l = Layer::new();
        l.unpack(&tar).unwrap();
        assert_eq!(std::fs::read(l.p("ro/sub/f")).unwrap(), b"f");
        assert_eq!(owner_mode(&l.p("ro")).2, 0o555);
        assert_eq!(owner_mode(&l.p("ro/sub")).2, 0o500);
        // Applied, and a later layer can still add to it.
        let rootfs = tempfile::tempdir().unwrap();
        apply_layer(&l.dest, rootfs.path()).unwrap();
        assert_eq!(owner_mode(&rootfs.path().join("ro")).2, 0o555);
        assert_eq!(owner_mode(&rootfs.path().join("ro/sub")).2, 0o500);
        let l2 = Layer::new();
        l2.unpack(&Raw::default().file("ro/sub/h", b"h").finish())
            .unwrap();
        apply_layer(&l2.dest, rootfs.path()).unwrap();
        assert_eq!(std::fs::read(rootfs.path().join("ro/sub/f")).unwrap(), b"f");
        assert_eq!(std::fs::read(rootfs.path().join("ro/sub/h")).unwrap(), b"h");
    }

    #[test]
    fn dest_must_be_an_empty_directory() {
        let l = Layer::new();
        std::fs::write(l.p("junk"), b"").unwrap();
        let e = l.unpack(&Raw::default().finish()).unwrap_err();
        assert!(matches!(e, UnpackError::NotEmpty(_)), "{e}");
        let e =
            unpack_layer(&[][..], Compression::None, &l.p("junk"), &Limits::default()).unwrap_err();
        assert!(matches!(e, UnpackError::Path { .. }), "{e}");
    }

    #[test]
    fn apply_layer_interprets_whiteouts_and_opaque_directories() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("keep"), b"keep").unwrap();
        let l1 = Layer::new();
        l1.unpack(
            &Raw::default()
                .dir("a", 0o755)
                .file("a/keep", b"k")
                .file("a/gone", b"g")
                .dir("a/gonedir", 0o755)
                .file("a/gonedir/x", b"x")
                .dir("b", 0o750)
                .file("b/old", b"old")
                .dir("b/olddir", 0o755)
                .file("c", b"c")
                .dir("d", 0o755)
                .file("d/x", b"x")
                .file("h1", b"hard")
                .hardlink("h2", "h1")
                .symlink("s", outside.path().to_str().unwrap())
                .symlink("t", outside.path().to_str().unwrap())
                .finish(),
        )
        .unwrap();
        let l2 = Layer::new();
        l2.unpack(
            &Raw::default()
                .file("a/.wh.gone", b"")
                .file("a/.wh.gonedir", b"")
                .file("a/.wh.missing", b"")
                .dir("b", 0o700)
                .file("b/.wh..wh..opq", b"")
                .file("b/new", b"new")
                .file(".wh.c", b"")
                .file("d", b"d is a file")
                .dir("s", 0o755)
                .file("s/inner", b"inner")
                .file("t/keep", b"through t?")
                .file("e", b"e")
                .finish(),
        )
        .unwrap();
        let rootfs = tempfile::tempdir().unwrap();
        let r = rootfs.path();
        apply_layer(&l1.dest, r).unwrap();
        let m1 = std::fs::metadata(r.join("h1")).unwrap();
        assert_eq!(m1.ino(), std::fs::metadata(r.join("h2")).unwrap().ino());
        apply_layer(&l2.dest, r).unwrap();
        let mut all = Vec::new();
        walk(r, r, &mut all);
        assert_eq!(
            all,
            ["a", "a/keep", "b", "b/new", "d", "e", "h1", "h2", "s", "s/inner", "t", "t/keep"]
        );
        assert_eq!(owner_mode(&r.join("b")).2, 0o700);
        assert_eq!(std::fs::read(r.join("d")).unwrap(), b"d is a file");
        assert!(std::fs::symlink_metadata(r.join("s")).unwrap().is_dir());
        // t was a symlink to outside in the lower layer; the upper layer's
        // t/ is a directory of its own.
        assert!(std::fs::symlink_metadata(r.join("t")).unwrap().is_dir());
        assert_eq!(std::fs::read(outside.path().join("keep")).unwrap(), b"keep");
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1);
        // Metadata travels, including the override record.
        assert_eq!(owner_mode(&r.join("a/keep")), owner_mode(&l1.p("a/keep")));
        assert_eq!(
            std::fs::metadata(r.join("a/keep")).unwrap().mtime(),
            MTIME as i64
        );
    }

    #[test]
    fn apply_layer_copies_sparse_files_devices_and_fifos() {
        let l = Layer::new();
        let fixture = "H4sIAAAAAAACA+3QQQrDIBCFYY/iERwzjQfpCVwEEhAsib1/bWhCyCKllJZC/28zj1ER3nQxH+eqVnWe1W6KSM2iJ68hOL3vJWjjjD2bL7hOJY7WmjHncnTv2flb7Ujw20bW3LS6bWxu6rFf89Lm4QfLA7yo71LK1AAAAAAAAP5UiUOiBQAAAAAAAOB33QBeb1JWACgAAA==";
        l.unpack_with(&b64(fixture), Compression::Gzip, &Limits::default())
            .unwrap();
        let mut raw = Raw::default();
        raw.null_device("null");
        raw.block(header(b"fifo", b'6', 0o640, 0, b""), b"");
        let l2 = Layer::new();
        l2.unpack(&raw.finish()).unwrap();
        let rootfs = tempfile::tempdir().unwrap();
        let r = rootfs.path();
        apply_layer(&l.dest, r).unwrap();
        apply_layer(&l2.dest, r).unwrap();
        let m = std::fs::metadata(r.join("sp")).unwrap();
        assert_eq!(m.len(), 1_000_000);
        assert!(m.blocks() * 512 < m.len());
        assert_eq!(
            sha256_hex(&std::fs::read(r.join("sp")).unwrap()),
            "12b17118ec8b2499788bbaa009aab030428cc4c53822424777bfad9df1f3be83"
        );
        assert_eq!(
            xattr::get(r.join("null"), OVERRIDE_STAT_XATTR)
                .unwrap()
                .unwrap(),
            b"0:0:0666:char-1-3"
        );
        assert!(std::fs::symlink_metadata(r.join("fifo"))
            .unwrap()
            .file_type()
            .is_fifo());
    }

    #[test]
    fn numbers_and_pax_records_parse_like_go() {
        assert_eq!(parse_num(b"0000644\0"), Ok(0o644));
        assert_eq!(parse_num(b"  644 \0"), Ok(0o644));
        assert_eq!(parse_num(b"\0\0\0\0"), Ok(0));
        assert_eq!(parse_num(&[0x80, 0, 0, 0, 0, 0, 0, 1, 0]), Ok(256));
        assert!(parse_num(&[0xff, 0xff]).is_err());
        assert!(parse_num(b"0009").is_err());
        assert!(parse_num(&[0x80, 1, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
        let p = parse_pax(b"14 path=a/b/c\n25 SCHILY.xattr.user.k=v\n").unwrap();
        assert_eq!(p[0], ("path".to_string(), b"a/b/c".to_vec()));
        assert_eq!(p[1], ("SCHILY.xattr.user.k".to_string(), b"v".to_vec()));
        for bad in [
            &b"99 path=x\n"[..],
            b"x path=y\n",
            b"5 a=b\n",
            b"7 ab\n\n",
            b"6 =bc\n",
        ] {
            assert!(parse_pax(bad).is_err(), "{:?}", shown(bad));
        }
        assert_eq!(pax_time(b"1.5"), Some((1, 500_000_000)));
        assert_eq!(pax_time(b"-1.25"), Some((-2, 750_000_000)));
        assert_eq!(pax_time(b"17"), Some((17, 0)));
        assert_eq!(pax_time(b"x"), None);
    }

    #[test]
    fn override_stat_has_the_containers_storage_format() {
        assert_eq!(
            override_stat(1000, 1011, 0o644, "file"),
            "1000:1011:0644:file"
        );
        assert_eq!(override_stat(0, 0, 0o4755, "file"), "0:0:4755:file");
        assert_eq!(
            override_stat(5, 6, 0o600, "block-8-0"),
            "5:6:0600:block-8-0"
        );
        assert_eq!(override_stat(1, 2, 0o100_755, "dir"), "1:2:0755:dir");
    }

    #[test]
    fn normalize_clamps_and_rejects() {
        let n = |s: &str| normalize(s.as_bytes(), 4096);
        assert_eq!(n("/a//b/./c/").unwrap(), PathBuf::from("a/b/c"));
        assert_eq!(n("./").unwrap(), PathBuf::new());
        assert_eq!(n("a/b/../c").unwrap(), PathBuf::from("a/c"));
        assert!(n("..").is_err());
        assert!(n("a/../..").is_err());
        assert!(normalize(b"a\0b", 4096).is_err());
        assert!(normalize(b"abcdef", 5).is_err());
    }
}
