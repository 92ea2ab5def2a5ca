//! The content store under `$XDG_DATA_HOME/coracle/storage`:
//!
//! ```text
//! blobs/sha256/HEX        manifests, configs and compressed layers, by digest
//! incoming/HEX.partial    a blob being downloaded (resumed after a crash)
//! layers/HEX/             a layer unpacked once, by its diff id (uncompressed digest)
//! layers/.tmp-HEX/        a layer being unpacked (stale ones are removed)
//! locks/HEX.lock          per-blob and per-layer locks (flock: released when
//!                         the holder dies, so kill -9 never leaves one held)
//! images.json             images and tags; changed under store.lock, atomically
//! overlay-layers/         overlay's whiteouts for layers that have some
//!                         (`storage::layers`)
//! storage-probe.json      whether kernel overlay works here (`storage::probe`)
//! ```
//!
//! Reference counts are not stored: what an image uses is in its record, and
//! `rmi`/`prune` free exactly the blobs and layers no remaining record names.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::digest::Digest;

/// One layer of an image: the blob as distributed and what it unpacks to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRecord {
    pub blob: Digest,
    pub diff_id: Digest,
    pub media_type: String,
    /// Size of the blob as distributed.
    pub size: u64,
    /// Bytes of file content once unpacked (what `images` shows, as Docker).
    #[serde(default)]
    pub unpacked: u64,
}

/// An image in the store. Its id is the digest of its config blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    pub id: Digest,
    pub manifest: Digest,
    pub manifest_media_type: String,
    /// `name@digest` of the registries it was pulled from or pushed to.
    pub repo_digests: Vec<String>,
    pub layers: Vec<LayerRecord>,
    /// When the store recorded it (RFC 3339).
    pub added: String,
}

/// `images.json`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub images: BTreeMap<Digest, ImageRecord>,
    /// Full normalised reference (`docker.io/library/busybox:latest`) -> image id.
    pub tags: BTreeMap<String, Digest>,
}

impl Index {
    /// Ids of images that carry no tag (dangling).
    pub fn untagged(&self) -> Vec<Digest> {
        let tagged: BTreeSet<&Digest> = self.tags.values().collect();
        self.images
            .keys()
            .filter(|d| !tagged.contains(d))
            .cloned()
            .collect()
    }

    /// Tags that point at `id`.
    pub fn tags_of(&self, id: &Digest) -> Vec<String> {
        self.tags
            .iter()
            .filter(|(_, v)| *v == id)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Finds an image by name (`busybox`, `localhost:5000/x:1`, normalised
    /// as Docker does), by `name@digest`, or by a unique prefix of its id
    /// (with or without `sha256:`).
    pub fn find(&self, s: &str) -> Option<&ImageRecord> {
        if let Ok(r) = s.parse::<super::reference::Reference>() {
            if r.digest.is_none() {
                if let Some(img) = self
                    .tags
                    .get(&r.to_string())
                    .and_then(|id| self.images.get(id))
                {
                    return Some(img);
                }
            } else if let Some(img) = self.images.values().find(|i| {
                r.digest.as_ref() == Some(&i.manifest)
                    && i.repo_digests
                        .iter()
                        .any(|rd| rd.starts_with(&format!("{}@", r.name())))
            }) {
                return Some(img);
            }
        }
        let hex = s.strip_prefix("sha256:").unwrap_or(s);
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut hits = self.images.values().filter(|i| i.id.hex().starts_with(hex));
        match (hits.next(), hits.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    }

    /// Unpacked sizes of the layers the recorded images know, by diff id.
    pub fn unpacked_sizes(&self) -> BTreeMap<Digest, u64> {
        self.images
            .values()
            .flat_map(|i| &i.layers)
            .filter(|l| l.unpacked > 0)
            .map(|l| (l.diff_id.clone(), l.unpacked))
            .collect()
    }

    /// Blobs and layers that some image in the index uses.
    pub fn in_use(&self) -> (BTreeSet<Digest>, BTreeSet<Digest>) {
        let mut blobs = BTreeSet::new();
        let mut layers = BTreeSet::new();
        for img in self.images.values() {
            blobs.insert(img.id.clone());
            blobs.insert(img.manifest.clone());
            for l in &img.layers {
                blobs.insert(l.blob.clone());
                layers.insert(l.diff_id.clone());
            }
        }
        (blobs, layers)
    }
}

/// A held lock; released on drop (or by the kernel when the process dies).
pub struct Lock {
    _file: File,
}

/// The store at one root directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// The user's store: `$XDG_DATA_HOME/coracle/storage`.
    pub fn open_default() -> anyhow::Result<Self> {
        Self::open(crate::container::data_dir()?.join("storage"))
    }

    /// Opens (creating its directories) a store rooted at `root`.
    pub fn open(root: PathBuf) -> anyhow::Result<Self> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        // Private: layers hold setuid files and recorded owners that are
        // nobody else's business.
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&root)
            .with_context(|| format!("create {}", root.display()))?;
        let md = fs::metadata(&root).with_context(|| format!("stat {}", root.display()))?;
        if md.permissions().mode() & 0o077 != 0 {
            fs::set_permissions(&root, fs::Permissions::from_mode(0o700))
                .with_context(|| format!("chmod 0700 {}", root.display()))?;
        }
        for d in ["blobs/sha256", "incoming", "layers", "locks"] {
            let p = root.join(d);
            fs::create_dir_all(&p).with_context(|| format!("create {}", p.display()))?;
        }
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.root.join("blobs/sha256").join(d.hex())
    }

    pub fn partial_path(&self, d: &Digest) -> PathBuf {
        self.root
            .join("incoming")
            .join(format!("{}.partial", d.hex()))
    }

    pub fn layer_path(&self, diff_id: &Digest) -> PathBuf {
        self.root.join("layers").join(diff_id.hex())
    }

    /// Where a layer is unpacked before it is renamed into place.
    pub fn layer_tmp_path(&self, diff_id: &Digest) -> PathBuf {
        self.root
            .join("layers")
            .join(format!(".tmp-{}", diff_id.hex()))
    }

    pub fn has_blob(&self, d: &Digest) -> bool {
        self.blob_path(d).is_file()
    }

    pub fn has_layer(&self, diff_id: &Digest) -> bool {
        self.layer_path(diff_id).is_dir()
    }

    fn lock_file(&self, name: &str, exclusive: bool) -> anyhow::Result<Lock> {
        let p = self.root.join("locks").join(name);
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .with_context(|| format!("open lock {}", p.display()))?;
        if exclusive { f.lock() } else { f.lock_shared() }
            .with_context(|| format!("lock {}", p.display()))?;
        Ok(Lock { _file: f })
    }

    /// Serialises work on one blob or layer (download, unpack) across processes.
    pub fn lock_item(&self, d: &Digest) -> anyhow::Result<Lock> {
        self.lock_file(&format!("{}.lock", d.hex()), true)
    }

    /// The lock of `images.json` and of removals.
    pub fn lock_index(&self, exclusive: bool) -> anyhow::Result<Lock> {
        self.lock_file("store.lock", exclusive)
    }

    /// Reads `images.json` (callers hold the index lock).
    pub fn read_index(&self) -> anyhow::Result<Index> {
        let p = self.root.join("images.json");
        match fs::read(&p) {
            Ok(b) => serde_json::from_slice(&b).with_context(|| {
                format!(
                    "{} is damaged; move it away to start an empty image list",
                    p.display()
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Index::default()),
            Err(e) => Err(e).with_context(|| format!("read {}", p.display())),
        }
    }

    /// Writes `images.json` atomically (callers hold the index lock exclusively).
    pub fn write_index(&self, index: &Index) -> anyhow::Result<()> {
        let json = serde_json::to_vec_pretty(index)?;
        crate::container::write_atomic_durable(&self.root.join("images.json"), &json)
    }

    /// Runs `f` on the index under the exclusive lock and saves the result.
    pub fn update_index<T>(
        &self,
        f: impl FnOnce(&mut Index) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let _lock = self.lock_index(true)?;
        let mut index = self.read_index()?;
        let out = f(&mut index)?;
        self.write_index(&index)?;
        Ok(out)
    }

    /// Moves a verified partial download into place (callers hold the item lock).
    pub fn commit_blob(&self, d: &Digest) -> anyhow::Result<()> {
        let from = self.partial_path(d);
        let to = self.blob_path(d);
        File::open(&from).and_then(|f| f.sync_all()).ok();
        fs::rename(&from, &to).with_context(|| format!("store blob {d}"))
    }

    /// Stores bytes already in memory (manifests, configs) under their digest.
    pub fn put_blob(&self, data: &[u8]) -> anyhow::Result<Digest> {
        let d = Digest::of(data);
        if !self.has_blob(&d) {
            crate::container::write_atomic_durable(&self.blob_path(&d), data)?;
        }
        Ok(d)
    }

    pub fn read_blob(&self, d: &Digest, limit: u64) -> anyhow::Result<Vec<u8>> {
        let p = self.blob_path(d);
        let md = fs::metadata(&p).with_context(|| format!("blob {d} is missing from the store"))?;
        anyhow::ensure!(md.len() <= limit, "blob {d} is larger than {limit} bytes");
        fs::read(&p).with_context(|| format!("read {}", p.display()))
    }

    /// Unpacks a layer blob from `file` into `layers/.tmp-DIFFID` (callers
    /// hold the layer's item lock) and checks that it unpacks to the diff id
    /// the image's config names. Returns the directory, for the caller to
    /// rename into place or discard, and the report; on error nothing is
    /// left behind.
    pub fn unpack_checked(
        &self,
        file: &Path,
        rec: &LayerRecord,
        compression: super::unpack::Compression,
    ) -> anyhow::Result<(PathBuf, super::unpack::UnpackReport)> {
        let tmp = self.layer_tmp_path(&rec.diff_id);
        remove(&tmp)?; // left by a crashed unpack
        fs::create_dir(&tmp).with_context(|| format!("create {}", tmp.display()))?;
        let result = File::open(file)
            .with_context(|| format!("open {}", file.display()))
            .and_then(|f| {
                super::unpack::unpack_layer(
                    io::BufReader::new(f),
                    compression,
                    &tmp,
                    &super::unpack::Limits::default(),
                )
                .with_context(|| format!("unpack layer {}", rec.blob))
            })
            .and_then(|report| {
                anyhow::ensure!(
                    report.diff_id == rec.diff_id,
                    "layer {} unpacks to {} but the image config says {}; the image is broken or was tampered with",
                    rec.blob,
                    report.diff_id,
                    rec.diff_id
                );
                Ok(report)
            });
        match result {
            Ok(report) => Ok((tmp, report)),
            Err(e) => {
                let _ = remove(&tmp);
                Err(e)
            }
        }
    }

    /// Deletes blobs and layers no image uses, and leftovers of crashed
    /// commands (partial unpacks, downloads nobody holds a lock on).
    /// Callers hold the index lock exclusively. Returns bytes freed (approx.).
    pub fn collect_garbage(&self, index: &Index) -> anyhow::Result<u64> {
        let (blobs, layers) = index.in_use();
        let mut freed = 0;
        for entry in read_dir(&self.root.join("blobs/sha256"))? {
            let Ok(d) = format!("sha256:{}", entry.file_name().to_string_lossy()).parse::<Digest>()
            else {
                continue;
            };
            if !blobs.contains(&d) {
                let _item = self.lock_item(&d)?;
                freed += entry.metadata().map(|m| m.len()).unwrap_or(0);
                remove(&entry.path())?;
            }
        }
        // Spool directories of `load` and `import` runs that died
        // (`load-PID-NANOS`); partial downloads stay, to be resumed.
        for entry in read_dir(&self.root.join("incoming"))? {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(rest) = name
                .strip_prefix("load-")
                .or_else(|| name.strip_prefix("import-"))
            else {
                continue;
            };
            let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
                continue;
            };
            if !Path::new(&format!("/proc/{pid}")).exists() {
                freed += dir_size(&entry.path());
                remove(&entry.path())?;
            }
        }
        for entry in read_dir(&self.root.join("layers"))? {
            let name = entry.file_name().to_string_lossy().into_owned();
            let hex = name.strip_prefix(".tmp-").unwrap_or(&name);
            let Ok(d) = format!("sha256:{hex}").parse::<Digest>() else {
                continue;
            };
            if name.starts_with(".tmp-") || !layers.contains(&d) {
                let _item = self.lock_item(&d)?;
                remove(&entry.path())?;
            }
        }
        // The overlay twins of layers (`storage::layers`): `HEX/`,
        // `HEX.plain`, `HEX.owners` (`layers::image_records_owners`), and
        // `.tmp-HEX-PID-NANOS/` of a run that died.
        for entry in read_dir(&self.root.join(crate::storage::layers::DIR)).unwrap_or_default() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stale = match name.strip_prefix(".tmp-") {
                Some(rest) => rest
                    .split('-')
                    .nth(1)
                    .and_then(|p| p.parse::<u32>().ok())
                    .is_none_or(|pid| !Path::new(&format!("/proc/{pid}")).exists()),
                None => {
                    let hex = name
                        .strip_suffix(".plain")
                        .or_else(|| name.strip_suffix(".owners"))
                        .unwrap_or(&name);
                    format!("sha256:{hex}")
                        .parse::<Digest>()
                        .is_ok_and(|d| !layers.contains(&d))
                }
            };
            if stale {
                remove(&entry.path())?;
            }
        }
        Ok(freed)
    }
}

/// Containers made from images record the image id in
/// `DATA_DIR/containers/ID/image`: (container id, image id) of each.
pub fn image_users(data_dir: &Path) -> Vec<(String, Digest)> {
    let mut out = Vec::new();
    for e in fs::read_dir(data_dir.join("containers"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let Ok(text) = fs::read_to_string(e.path().join("image")) else {
            continue;
        };
        if let Ok(d) = text.trim().parse::<Digest>() {
            out.push((e.file_name().to_string_lossy().into_owned(), d));
        }
    }
    out.sort();
    out
}

/// Ids of the images some container was made from.
pub fn images_in_use(data_dir: &Path) -> BTreeSet<Digest> {
    image_users(data_dir).into_iter().map(|(_, d)| d).collect()
}

/// Bytes of file content under `p` (not following symlinks).
pub fn dir_size(p: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![p.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => total += e.metadata().map_or(0, |m| m.len()),
                _ => {}
            }
        }
    }
    total
}

fn read_dir(p: &Path) -> anyhow::Result<Vec<fs::DirEntry>> {
    Ok(fs::read_dir(p)
        .with_context(|| format!("read {}", p.display()))?
        .filter_map(Result::ok)
        .collect())
}

/// Removes a file or a whole tree, making read-only directories writable
/// on the way (layers contain them).
pub fn remove(p: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let md = match fs::symlink_metadata(p) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("stat {}", p.display())),
    };
    if !md.is_dir() {
        return fs::remove_file(p).with_context(|| format!("remove {}", p.display()));
    }
    if fs::remove_dir_all(p).is_ok() {
        return Ok(());
    }
    // Some directory inside is not writable: open them up and retry.
    let mut stack = vec![p.to_path_buf()];
    while let Some(d) = stack.pop() {
        let _ = fs::set_permissions(&d, fs::Permissions::from_mode(0o700));
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                stack.push(e.path());
            }
        }
    }
    fs::remove_dir_all(p).with_context(|| format!("remove {}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &[u8], layers: &[(&[u8], &[u8])]) -> ImageRecord {
        ImageRecord {
            id: Digest::of(id),
            manifest: Digest::of(&[id, b"-m"].concat()),
            manifest_media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            repo_digests: vec![],
            layers: layers
                .iter()
                .map(|(b, u)| LayerRecord {
                    blob: Digest::of(b),
                    diff_id: Digest::of(u),
                    media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
                    size: b.len() as u64,
                    unpacked: u.len() as u64,
                })
                .collect(),
            added: crate::container::now(),
        }
    }

    #[test]
    fn images_in_use_reads_the_container_records() {
        let d = tempfile::tempdir().unwrap();
        let c = d.path().join("containers");
        fs::create_dir_all(c.join("aaa")).unwrap();
        fs::create_dir_all(c.join("bbb")).unwrap();
        fs::create_dir_all(c.join("ccc")).unwrap(); // --rootfs: no image file
        fs::write(c.join("aaa/image"), Digest::of(b"x").to_string()).unwrap();
        fs::write(c.join("bbb/image"), "garbage").unwrap();
        assert_eq!(
            image_users(d.path()),
            vec![("aaa".to_string(), Digest::of(b"x"))]
        );
        assert_eq!(images_in_use(d.path()), BTreeSet::from([Digest::of(b"x")]));
        assert!(images_in_use(&d.path().join("none")).is_empty());
    }

    #[test]
    fn index_round_trips_and_tracks_use() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path().join("st")).unwrap();
        let a = rec(b"a", &[(b"l1", b"u1"), (b"l2", b"u2")]);
        let b = rec(b"b", &[(b"l1", b"u1")]);
        s.update_index(|i| {
            i.images.insert(a.id.clone(), a.clone());
            i.images.insert(b.id.clone(), b.clone());
            i.tags
                .insert("docker.io/library/a:latest".into(), a.id.clone());
            Ok(())
        })
        .unwrap();
        let i = s.read_index().unwrap();
        assert_eq!(i.images.len(), 2);
        assert_eq!(i.untagged(), vec![b.id.clone()]);
        assert_eq!(
            i.tags_of(&a.id),
            vec!["docker.io/library/a:latest".to_string()]
        );
        let (blobs, layers) = i.in_use();
        assert!(blobs.contains(&Digest::of(b"l2")));
        assert_eq!(layers.len(), 2);
    }

    #[test]
    fn garbage_collection_frees_exactly_the_unused() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path().join("st")).unwrap();
        let keep = s.put_blob(b"l1").unwrap();
        let drop_ = s.put_blob(b"zz").unwrap();
        let a = rec(b"a", &[(b"l1", b"u1")]);
        // The image's own config and manifest blobs are in use too.
        s.put_blob(b"a").unwrap();
        fs::create_dir_all(s.layer_path(&Digest::of(b"u1")).join("etc")).unwrap();
        fs::create_dir_all(s.layer_path(&Digest::of(b"u9"))).unwrap();
        let ro = s.layer_tmp_path(&Digest::of(b"u7")).join("ro");
        fs::create_dir_all(ro.join("x")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
        let incoming = s.root().join("incoming");
        fs::create_dir_all(incoming.join("load-4194304999-1/blobs")).unwrap();
        fs::create_dir_all(incoming.join(format!("import-{}-1", std::process::id()))).unwrap();
        fs::write(incoming.join("x.partial"), b"resumable").unwrap();
        let mut index = Index::default();
        index.images.insert(a.id.clone(), a);
        s.collect_garbage(&index).unwrap();
        assert!(s.has_blob(&keep));
        assert!(s.has_blob(&Digest::of(b"a")));
        assert!(!s.has_blob(&drop_));
        assert!(s.has_layer(&Digest::of(b"u1")));
        assert!(!s.has_layer(&Digest::of(b"u9")));
        assert!(!s.layer_tmp_path(&Digest::of(b"u7")).exists());
        // A dead load's spool goes; a live one's and partial downloads stay.
        let incoming = s.root().join("incoming");
        assert!(!incoming.join("load-4194304999-1").exists());
        let live = incoming.join(format!("import-{}-1", std::process::id()));
        assert!(live.is_dir());
        assert!(incoming.join("x.partial").is_file());
    }

    #[test]
    fn damaged_index_is_reported_with_a_way_out() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path().join("st")).unwrap();
        fs::write(s.root().join("images.json"), b"{not json").unwrap();
        let e = format!("{:#}", s.read_index().unwrap_err());
        assert!(e.contains("damaged"), "{e}");
    }
}
