//! `save`, `load` and `import`: images to and from tar archives.
//!
//! - `save` writes a docker-archive as Docker >= 25 does (an OCI image
//!   layout plus `manifest.json` whose `Config` and `Layers` point into
//!   `blobs/sha256/`), or an oci-archive (an OCI image layout). The blobs
//!   are the store's originals, so digests survive a save/load round trip;
//!   readers of the classic format (`podman load`, older Docker) decompress
//!   compressed layer files themselves.
//! - `load` reads either format (classic docker-archive as `docker save` and
//!   `podman save` write it, Docker >= 25's, or an OCI layout), plain, gzip
//!   or zstd (any number of members or frames), streamed once through the
//!   bounded tar reader of layer unpacking ([`unpack::TarArchive`]: capped
//!   PAX headers and long names; names with `..` or a leading `/` are
//!   refused here): only the entries an image can use are spooled,
//!   to a directory inside the store root, each blob verified against its
//!   name as it arrives. Every image is validated and every layer unpacked
//!   (diff ids checked) before any blob is moved into the store, and the
//!   records are written last: a broken archive leaves no image behind, and
//!   layers unpacked for it are removed again.
//! - `import` turns one root file system tarball into a one-layer image.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, ensure, Context};
use oci_spec::image::{ImageConfiguration, ImageManifest};
use serde_json::{json, Value};

use super::digest::{Digest, DigestWriter};
use super::pull::{MAX_CONFIG_BYTES, MAX_LAYERS};
use super::reference::Reference;
use super::registry::Platform;
use super::store::{ImageRecord, LayerRecord, Store};
use super::unpack::{self, Compression, Limits, MemberKind, TarArchive};

/// Largest JSON file (manifest.json, index.json, manifests, configs) read
/// from an archive.
pub const MAX_JSON_BYTES: u64 = 8 << 20;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// The two archive formats `save` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    DockerArchive,
    OciArchive,
}

// ---------------------------------------------------------------------------
// save

/// Writes `images` (each with the full names to record for it) as a tar
/// stream to `out`.
pub fn save(
    store: &Store,
    images: &[(ImageRecord, Vec<String>)],
    format: ArchiveFormat,
    out: impl Write,
) -> anyhow::Result<()> {
    let mut tar = tar::Builder::new(out);
    append_bytes(&mut tar, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    let mut written: BTreeSet<Digest> = BTreeSet::new();
    let mut descriptors = Vec::new();
    let mut docker_manifest = Vec::new();
    for (rec, names) in images {
        let manifest = store.read_blob(&rec.manifest, MAX_JSON_BYTES)?;
        let mut blobs = vec![rec.manifest.clone(), rec.id.clone()];
        blobs.extend(rec.layers.iter().map(|l| l.blob.clone()));
        for d in &blobs {
            if written.insert(d.clone()) {
                append_blob(&mut tar, store, d)?;
            }
        }
        let refs: Vec<Reference> = names
            .iter()
            .map(|n| Reference::parse(n).with_context(|| format!("save {}: name {n:?}", rec.id)))
            .collect::<anyhow::Result<_>>()?;
        let desc = |annotations: Option<Value>| {
            let mut d = json!({
                "mediaType": rec.manifest_media_type,
                "digest": rec.manifest.to_string(),
                "size": manifest.len(),
            });
            if let Some(a) = annotations {
                d["annotations"] = a;
            }
            d
        };
        let tagged: Vec<&Reference> = refs
            .iter()
            .filter(|r| r.digest.is_none() && r.tag.is_some())
            .collect();
        if tagged.is_empty() {
            descriptors.push(desc(None));
        }
        for r in &tagged {
            descriptors.push(desc(Some(match format {
                ArchiveFormat::DockerArchive => json!({
                    CONTAINERD_NAME: r.to_string(),
                    REF_NAME: r.tag.clone().unwrap_or_default(),
                }),
                ArchiveFormat::OciArchive => json!({ REF_NAME: r.to_string() }),
            })));
        }
        if format == ArchiveFormat::DockerArchive {
            docker_manifest.push(json!({
                "Config": format!("blobs/sha256/{}", rec.id.hex()),
                "RepoTags": tagged.iter().map(|r| r.familiar()).collect::<Vec<_>>(),
                "Layers": rec.layers.iter().map(|l| format!("blobs/sha256/{}", l.blob.hex())).collect::<Vec<_>>(),
            }));
        }
    }
    let index = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": descriptors,
    });
    append_bytes(&mut tar, "index.json", &serde_json::to_vec(&index)?)?;
    if format == ArchiveFormat::DockerArchive {
        append_bytes(
            &mut tar,
            "manifest.json",
            &serde_json::to_vec(&docker_manifest)?,
        )?;
    }
    tar.into_inner()
        .context("save: finish the archive")?
        .flush()
        .context("save: write the archive")?;
    Ok(())
}

fn header(size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o644);
    h.set_size(size);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

fn append_bytes<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    data: &[u8],
) -> anyhow::Result<()> {
    let mut h = header(data.len() as u64);
    tar.append_data(&mut h, name, data)
        .with_context(|| format!("save: write {name}"))
}

fn append_blob<W: Write>(
    tar: &mut tar::Builder<W>,
    store: &Store,
    d: &Digest,
) -> anyhow::Result<()> {
    let p = store.blob_path(d);
    let f = File::open(&p).with_context(|| format!("save: blob {d} is missing from the store"))?;
    let len = f
        .metadata()
        .with_context(|| format!("stat {}", p.display()))?
        .len();
    let mut h = header(len);
    tar.append_data(&mut h, format!("blobs/sha256/{}", d.hex()), f)
        .with_context(|| format!("save: write blob {d}"))
}

// ---------------------------------------------------------------------------
// Reading archives

/// A directory inside the store root, removed on drop.
struct Spool {
    dir: PathBuf,
}

impl Spool {
    fn new(store: &Store, what: &str) -> anyhow::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let dir = store
            .root()
            .join("incoming")
            .join(format!("{what}-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        Ok(Self { dir })
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = super::store::remove(&self.dir);
    }
}

/// An archive entry kept for later.
#[derive(Debug, Clone)]
struct Spooled {
    path: PathBuf,
    digest: Digest,
    size: u64,
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// What an archive entry name is, if it is one `load` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Json,
    /// `blobs/sha256/HEX` or `HEX.json`: content must hash to HEX.
    Named,
    /// `HEX.tar`, `HEX/layer.tar`: a layer, checked against the config.
    Layer,
}

fn classify(name: &str) -> Option<Kind> {
    match name {
        "manifest.json" | "index.json" | "oci-layout" | "repositories" => return Some(Kind::Json),
        _ => {}
    }
    if let Some(h) = name.strip_prefix("blobs/sha256/") {
        return is_hex64(h).then_some(Kind::Named);
    }
    if let Some(h) = name.strip_suffix(".json") {
        return is_hex64(h).then_some(Kind::Named);
    }
    let layer = name
        .strip_suffix("/layer.tar")
        .or_else(|| name.strip_suffix(".tar"));
    layer.filter(|h| is_hex64(h)).map(|_| Kind::Layer)
}

/// Normalises an entry name lexically; an error for one that climbs out of
/// the archive or is absolute.
fn clean_name(raw: &[u8]) -> anyhow::Result<String> {
    let s = std::str::from_utf8(raw).map_err(|_| anyhow!("entry name is not UTF-8"))?;
    ensure!(!s.starts_with('/'), "absolute entry name {s:?}");
    let mut parts: Vec<&str> = Vec::new();
    for c in s.split('/') {
        match c {
            "" | "." => {}
            ".." => bail!("entry name {s:?} climbs out of the archive"),
            c => parts.push(c),
        }
    }
    Ok(parts.join("/"))
}

/// Resolves a symlink entry's target relative to the entry's directory.
fn resolve_link(name: &str, target: &[u8]) -> Option<String> {
    let t = std::str::from_utf8(target).ok()?;
    if t.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    parts.pop();
    for c in t.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

/// The spooled archive: entries by name, and symlinks between them.
struct Archive {
    files: BTreeMap<String, Spooled>,
    links: BTreeMap<String, String>,
}

impl Archive {
    /// Reads the archive once, with the bounded tar reader of layers.
    fn read(input: impl Read, spool: &Spool) -> anyhow::Result<Self> {
        let mut ar = TarArchive::new(input, &Limits::default()).context("read the archive")?;
        let mut files = BTreeMap::new();
        let mut links = BTreeMap::new();
        let mut n = 0u64;
        while let Some(m) = ar.next_member().context("read the archive")? {
            let shown = String::from_utf8_lossy(&m.name).into_owned();
            let name = clean_name(&m.name).with_context(|| format!("archive entry {shown:?}"))?;
            let Some(kind) = classify(&name) else {
                continue;
            };
            match m.kind {
                MemberKind::File => {}
                MemberKind::Symlink | MemberKind::Hardlink => {
                    let target = if m.kind == MemberKind::Symlink {
                        resolve_link(&name, &m.link)
                    } else {
                        clean_name(&m.link).ok()
                    };
                    if let Some(t) = target.filter(|t| classify(t).is_some()) {
                        links.insert(name, t);
                    }
                    continue;
                }
                MemberKind::Sparse => {
                    bail!("archive entry {name}: a sparse file, which no image archive holds")
                }
                MemberKind::Other => continue,
            }
            if kind == Kind::Json || name.ends_with(".json") {
                ensure!(
                    m.size <= MAX_JSON_BYTES,
                    "archive entry {name}: {} bytes, more than the {MAX_JSON_BYTES} allowed for a JSON file",
                    m.size
                );
            }
            n += 1;
            let path = spool.dir.join(format!("{n}"));
            let f = File::create(&path).with_context(|| format!("create {}", path.display()))?;
            let mut w = DigestWriter::new(io::BufWriter::new(f));
            io::copy(&mut ar, &mut w).with_context(|| {
                format!("read archive entry {name}: the archive is truncated or damaged")
            })?;
            let size = w.len();
            let (digest, mut f) = w.finish();
            f.flush()
                .with_context(|| format!("write {}", path.display()))?;
            if kind == Kind::Named {
                let hex = name
                    .strip_prefix("blobs/sha256/")
                    .or_else(|| name.strip_suffix(".json"))
                    .unwrap_or_default();
                ensure!(
                    digest.hex() == hex,
                    "archive entry {name}: its content has digest {digest}; the archive is damaged or was tampered with"
                );
            }
            files.insert(name, Spooled { path, digest, size });
        }
        Ok(Self { files, links })
    }

    fn get(&self, name: &str) -> Option<&Spooled> {
        let mut name = name.to_string();
        for _ in 0..8 {
            if let Some(s) = self.files.get(&name) {
                return Some(s);
            }
            name = self.links.get(&name)?.clone();
        }
        None
    }

    fn get_named(&self, name: &str) -> anyhow::Result<&Spooled> {
        let clean = clean_name(name.as_bytes())?;
        self.get(&clean)
            .ok_or_else(|| anyhow!("the archive has no file {name:?}"))
    }

    fn blob(&self, d: &Digest) -> anyhow::Result<&Spooled> {
        self.get(&format!("blobs/sha256/{}", d.hex()))
            .ok_or_else(|| anyhow!("the archive has no blob {d}"))
    }

    fn json(&self, s: &Spooled, what: &str) -> anyhow::Result<Vec<u8>> {
        ensure!(
            s.size <= MAX_JSON_BYTES,
            "{what}: {} bytes, more than the {MAX_JSON_BYTES} allowed",
            s.size
        );
        fs::read(&s.path).with_context(|| format!("read {what}"))
    }
}

#[derive(serde::Deserialize)]
struct DockerEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

/// One image found in an archive, validated, ready to store.
struct Planned {
    manifest: Vec<u8>,
    manifest_digest: Digest,
    manifest_media_type: String,
    config: Spooled,
    /// Layer file, record, compression.
    layers: Vec<(Spooled, LayerRecord, Compression)>,
    names: Vec<String>,
}

fn add_name(names: &mut Vec<String>, s: &str) {
    if let Ok(r) = Reference::parse(s) {
        if r.digest.is_none() {
            let full = r.to_string();
            if !names.contains(&full) {
                names.push(full);
            }
        }
    }
}

/// A manifest and its config checked; layers located in the archive.
fn plan_image(
    ar: &Archive,
    manifest: Vec<u8>,
    media_type: &str,
    layer_files: Option<Vec<Spooled>>,
    config_file: Option<Spooled>,
    names: Vec<String>,
) -> anyhow::Result<Planned> {
    let manifest_digest = Digest::of(&manifest);
    let parsed: ImageManifest = serde_json::from_slice(&manifest)
        .with_context(|| format!("manifest {manifest_digest} is not a valid image manifest"))?;
    let layers = parsed.layers();
    ensure!(
        layers.len() <= MAX_LAYERS,
        "image {manifest_digest} has {} layers, more than the {MAX_LAYERS} coracle accepts",
        layers.len()
    );
    let config_digest: Digest = parsed
        .config()
        .digest()
        .to_string()
        .parse()
        .context("the config digest in a manifest")?;
    let config = match config_file {
        Some(c) => c,
        None => ar.blob(&config_digest)?.clone(),
    };
    ensure!(
        config.digest == config_digest,
        "the image config has digest {} but the manifest says {config_digest}",
        config.digest
    );
    let bytes = ar.json(&config, &format!("image config {config_digest}"))?;
    ensure!(
        bytes.len() as u64 <= MAX_CONFIG_BYTES,
        "image config {config_digest} is too large"
    );
    let cfg: ImageConfiguration = serde_json::from_slice(&bytes)
        .with_context(|| format!("the image config {config_digest} is not valid"))?;
    let diff_ids: Vec<Digest> = cfg
        .rootfs()
        .diff_ids()
        .iter()
        .map(|d| d.parse())
        .collect::<Result<_, _>>()
        .with_context(|| format!("a diff id in the image config {config_digest}"))?;
    ensure!(
        diff_ids.len() == layers.len(),
        "image {config_digest}: the manifest lists {} layers but the config {} diff ids; the image is broken",
        layers.len(),
        diff_ids.len()
    );
    let mut out = Vec::new();
    for (i, (l, diff_id)) in layers.iter().zip(&diff_ids).enumerate() {
        let blob: Digest = l.digest().to_string().parse().context("a layer digest")?;
        let file = match &layer_files {
            Some(v) => v[i].clone(),
            None => ar.blob(&blob)?.clone(),
        };
        ensure!(
            file.digest == blob,
            "layer {i} of image {config_digest} has digest {} but the manifest says {blob}",
            file.digest
        );
        let compression = Compression::from_media_type(l.media_type().as_ref())
            .with_context(|| format!("layer {blob}"))?;
        out.push((
            file.clone(),
            LayerRecord {
                blob,
                diff_id: diff_id.clone(),
                media_type: l.media_type().to_string(),
                size: file.size,
                unpacked: 0,
            },
            compression,
        ));
    }
    Ok(Planned {
        manifest,
        manifest_digest,
        manifest_media_type: media_type.to_string(),
        config,
        layers: out,
        names,
    })
}

/// Finds the images of a spooled archive.
fn plan(ar: &Archive) -> anyhow::Result<Vec<Planned>> {
    let docker: Vec<DockerEntry> = match ar.files.get("manifest.json") {
        Some(s) => serde_json::from_slice(&ar.json(s, "manifest.json")?)
            .context("manifest.json in the archive is not a valid docker-archive manifest")?,
        None => Vec::new(),
    };
    // Docker names by config digest.
    let mut docker_names: BTreeMap<Digest, Vec<String>> = BTreeMap::new();
    for e in &docker {
        if let Ok(c) = ar.get_named(&e.config) {
            let v = docker_names.entry(c.digest.clone()).or_default();
            for t in e.repo_tags.iter().flatten() {
                add_name(v, t);
            }
        }
    }
    let mut out = Vec::new();
    if let Some(s) = ar.files.get("index.json") {
        let index: Value = serde_json::from_slice(&ar.json(s, "index.json")?)
            .context("index.json in the archive is not valid JSON")?;
        let mut todo: Vec<(Value, u32)> = index["manifests"]
            .as_array()
            .ok_or_else(|| anyhow!("index.json in the archive lists no manifests"))?
            .iter()
            .map(|d| (d.clone(), 0))
            .collect();
        todo.reverse();
        let host = Platform::host();
        // Manifest digest -> position in `out`.
        let mut seen: BTreeMap<Digest, usize> = BTreeMap::new();
        while let Some((desc, depth)) = todo.pop() {
            let digest: Digest = desc["digest"]
                .as_str()
                .unwrap_or_default()
                .parse()
                .context("a descriptor in index.json")?;
            let mt = desc["mediaType"]
                .as_str()
                .unwrap_or(OCI_MANIFEST)
                .to_string();
            let mut names = Vec::new();
            if let Some(n) = desc["annotations"][CONTAINERD_NAME].as_str() {
                add_name(&mut names, n);
            } else if let Some(n) = desc["annotations"][REF_NAME].as_str() {
                // A bare tag (Docker's form) is no name.
                if n.contains('/') || n.contains(':') {
                    add_name(&mut names, n);
                }
            }
            let blob = ar.blob(&digest)?;
            let bytes = ar.json(blob, &format!("manifest {digest}"))?;
            if mt == OCI_INDEX || mt == DOCKER_LIST {
                ensure!(depth < 2, "index {digest} nests image indexes too deeply");
                let inner: Value = serde_json::from_slice(&bytes)
                    .with_context(|| format!("index {digest} is not valid JSON"))?;
                let pick = inner["manifests"].as_array().and_then(|v| {
                    v.iter()
                        .find(|m| {
                            let p = &m["platform"];
                            p["os"].as_str() == Some(host.os.as_str())
                                && p["architecture"].as_str() == Some(host.architecture.as_str())
                                && m["digest"]
                                    .as_str()
                                    .and_then(|d| d.parse::<Digest>().ok())
                                    .is_some_and(|d| ar.blob(&d).is_ok())
                        })
                        .cloned()
                });
                let mut m = pick.ok_or_else(|| {
                    anyhow!(
                        "index {digest} has no manifest for {}/{} in the archive",
                        host.os,
                        host.architecture
                    )
                })?;
                if !names.is_empty() {
                    m["annotations"] = json!({ CONTAINERD_NAME: names[0] });
                }
                todo.push((m, depth + 1));
                continue;
            }
            if let Some(&i) = seen.get(&digest) {
                for n in names {
                    let p: &mut Planned = &mut out[i];
                    add_name(&mut p.names, &n);
                }
                continue;
            }
            let mut p = plan_image(ar, bytes, &mt, None, None, names)
                .with_context(|| format!("image {digest} in the archive"))?;
            if let Some(extra) = docker_names.get(&p.config.digest) {
                for n in extra {
                    add_name(&mut p.names, n);
                }
            }
            seen.insert(digest, out.len());
            out.push(p);
        }
        return Ok(out);
    }
    if !ar.files.contains_key("manifest.json") {
        bail!("the archive is neither a docker-archive (no manifest.json) nor an oci-archive (no index.json)");
    }
    for e in &docker {
        let config = ar
            .get_named(&e.config)
            .with_context(|| format!("manifest.json names config {:?}", e.config))?
            .clone();
        let mut files = Vec::new();
        let mut descs = Vec::new();
        for l in &e.layers {
            let f = ar
                .get_named(l)
                .with_context(|| format!("manifest.json names layer {l:?}"))?
                .clone();
            let mut head = [0u8; 8];
            let n = crate::image::unpack::read_full(&mut File::open(&f.path)?, &mut head)?;
            let mt = match Compression::sniff(&head[..n]) {
                Compression::None => "application/vnd.docker.image.rootfs.diff.tar",
                Compression::Gzip => "application/vnd.docker.image.rootfs.diff.tar.gzip",
                Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
            };
            descs.push(json!({"mediaType": mt, "size": f.size, "digest": f.digest.to_string()}));
            files.push(f);
        }
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {"mediaType": DOCKER_CONFIG, "size": config.size, "digest": config.digest.to_string()},
            "layers": descs,
        });
        let names = docker_names
            .get(&config.digest)
            .cloned()
            .unwrap_or_default();
        let p = plan_image(
            ar,
            serde_json::to_vec(&manifest)?,
            DOCKER_MANIFEST,
            Some(files),
            Some(config.clone()),
            names,
        )
        .with_context(|| format!("image {} in manifest.json", e.config))?;
        out.push(p);
    }
    Ok(out)
}

/// Unpacks a layer from `file` into the store unless it is there; returns
/// whether this call created it and its unpacked size.
fn unpack_into_store(
    store: &Store,
    file: &Path,
    rec: &LayerRecord,
    compression: Compression,
) -> anyhow::Result<(bool, u64)> {
    let _lock = store.lock_item(&rec.diff_id)?;
    // A layer already there is taken only for a blob known to unpack to it;
    // a new blob is checked by unpacking it aside and throwing that away.
    let present = store.has_layer(&rec.diff_id);
    if present && store.has_blob(&rec.blob) {
        return Ok((false, 0));
    }
    let (tmp, report) = store.unpack_checked(file, rec, compression)?;
    if present {
        super::store::remove(&tmp)?;
        return Ok((false, report.unpacked_bytes));
    }
    fs::rename(&tmp, store.layer_path(&rec.diff_id))
        .with_context(|| format!("store layer {}", rec.diff_id))?;
    Ok((true, report.unpacked_bytes))
}

/// Moves (or copies, for a file used twice) a verified spooled file into
/// the store as blob `d`.
fn commit_spooled(store: &Store, s: &Spooled) -> anyhow::Result<()> {
    let d = &s.digest;
    if store.has_blob(d) {
        return Ok(());
    }
    let _lock = store.lock_item(d)?;
    if store.has_blob(d) {
        return Ok(());
    }
    let partial = store.partial_path(d);
    if fs::hard_link(&s.path, &partial).is_err() {
        fs::copy(&s.path, &partial).with_context(|| format!("store blob {d}"))?;
    }
    store.commit_blob(d)
}

/// Records images whose blobs and layers are in the store, with their names.
fn record(
    store: &Store,
    images: Vec<(ImageRecord, Vec<String>)>,
) -> anyhow::Result<Vec<(ImageRecord, Vec<String>)>> {
    store.update_index(|index| {
        let mut out = Vec::new();
        for (mut rec, names) in images {
            if let Some(old) = index.images.get(&rec.id) {
                for rd in &old.repo_digests {
                    if !rec.repo_digests.contains(rd) {
                        rec.repo_digests.push(rd.clone());
                    }
                }
                if old.manifest == rec.manifest {
                    rec.added = old.added.clone();
                }
            }
            for n in &names {
                index.tags.insert(n.clone(), rec.id.clone());
            }
            index.images.insert(rec.id.clone(), rec.clone());
            out.push((rec, names));
        }
        Ok(out)
    })
}

/// Layers this load created, removed again unless disarmed.
struct CreatedLayers<'a> {
    store: &'a Store,
    list: Vec<Digest>,
    keep: bool,
}

impl Drop for CreatedLayers<'_> {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        for d in &self.list {
            if let Ok(_l) = self.store.lock_item(d) {
                let _ = super::store::remove(&self.store.layer_path(d));
            }
        }
    }
}

/// Reads a docker-archive or oci-archive and stores its images.
pub fn load(store: &Store, input: impl Read) -> anyhow::Result<Vec<(ImageRecord, Vec<String>)>> {
    let spool = Spool::new(store, "load")?;
    let ar = Archive::read(input, &spool).context("load")?;
    let planned = plan(&ar).context("load")?;
    ensure!(!planned.is_empty(), "load: the archive contains no image");
    let known = {
        let _lock = store.lock_index(false)?;
        store.read_index()?.unpacked_sizes()
    };
    let mut created = CreatedLayers {
        store,
        list: Vec::new(),
        keep: false,
    };
    let mut images = Vec::new();
    for p in &planned {
        let mut layers = Vec::new();
        for (file, rec, compression) in &p.layers {
            let (new, n) =
                unpack_into_store(store, &file.path, rec, *compression).context("load")?;
            if new {
                created.list.push(rec.diff_id.clone());
            }
            let mut rec = rec.clone();
            rec.unpacked = if n > 0 {
                n
            } else {
                known
                    .get(&rec.diff_id)
                    .copied()
                    .unwrap_or_else(|| super::store::dir_size(&store.layer_path(&rec.diff_id)))
            };
            layers.push(rec);
        }
        images.push((
            ImageRecord {
                id: p.config.digest.clone(),
                manifest: p.manifest_digest.clone(),
                manifest_media_type: p.manifest_media_type.clone(),
                repo_digests: Vec::new(),
                layers,
                added: crate::container::now(),
            },
            p.names.clone(),
        ));
    }
    for p in &planned {
        commit_spooled(store, &p.config)?;
        for (file, _, _) in &p.layers {
            commit_spooled(store, file)?;
        }
        store.put_blob(&p.manifest)?;
    }
    let out = record(store, images)?;
    created.keep = true;
    Ok(out)
}

// ---------------------------------------------------------------------------
// import

/// Splits `s` into words, honouring double and single quotes and
/// backslash escapes (Dockerfile style for ENV and LABEL).
fn words(s: &str) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let mut chars = s.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if has {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                has = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => cur.push(c),
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                has = true;
            }
            (_, c) => {
                cur.push(c);
                has = true;
            }
        }
    }
    ensure!(quote.is_none(), "unterminated quote in {s:?}");
    if has {
        out.push(cur);
    }
    Ok(out)
}

/// `KEY=VALUE ...` or the legacy `KEY VALUE` form.
fn pairs(instr: &str, rest: &str) -> anyhow::Result<Vec<(String, String)>> {
    let first = rest.split_whitespace().next().unwrap_or("");
    if !first.contains('=') {
        let (k, v) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        ensure!(!v.trim().is_empty(), "{instr} {rest:?}: expected KEY=VALUE");
        return Ok(vec![(k.to_string(), v.trim().to_string())]);
    }
    words(rest)?
        .into_iter()
        .map(|w| {
            let (k, v) = w
                .split_once('=')
                .ok_or_else(|| anyhow!("{instr} {rest:?}: {w:?} is not KEY=VALUE"))?;
            ensure!(!k.is_empty(), "{instr} {rest:?}: empty key");
            Ok((k.to_string(), v.to_string()))
        })
        .collect()
}

/// The exec form (`["a","b"]`) or, for a shell form, `/bin/sh -c ...`.
fn command_form(rest: &str) -> Vec<String> {
    if rest.starts_with('[') {
        if let Ok(v) = serde_json::from_str::<Vec<String>>(rest) {
            return v;
        }
    }
    vec!["/bin/sh".into(), "-c".into(), rest.into()]
}

/// Applies Dockerfile-style `changes` to an image config's `config` object.
pub fn apply_changes(
    config: &mut serde_json::Map<String, Value>,
    changes: &[String],
) -> anyhow::Result<()> {
    for change in changes {
        let change = change.trim();
        let (instr, rest) = change
            .split_once(char::is_whitespace)
            .map(|(a, b)| (a, b.trim()))
            .unwrap_or((change, ""));
        let upper = instr.to_ascii_uppercase();
        ensure!(
            !rest.is_empty() || upper.is_empty(),
            "change {change:?}: {upper} needs an argument"
        );
        match upper.as_str() {
            "CMD" => {
                config.insert("Cmd".into(), json!(command_form(rest)));
            }
            "ENTRYPOINT" => {
                config.insert("Entrypoint".into(), json!(command_form(rest)));
            }
            "ENV" => {
                let mut env: Vec<String> = config
                    .get("Env")
                    .and_then(|v| serde_json::from_value(v.clone()).ok())
                    .unwrap_or_default();
                for (k, v) in pairs("ENV", rest)? {
                    env.retain(|e| e.split_once('=').map_or(e.as_str(), |p| p.0) != k);
                    env.push(format!("{k}={v}"));
                }
                config.insert("Env".into(), json!(env));
            }
            "LABEL" => {
                let labels = config
                    .entry("Labels")
                    .or_insert_with(|| json!({}));
                if !labels.is_object() {
                    *labels = json!({});
                }
                for (k, v) in pairs("LABEL", rest)? {
                    labels[k] = json!(v);
                }
            }
            "WORKDIR" => {
                config.insert("WorkingDir".into(), json!(rest));
            }
            "USER" => {
                config.insert("User".into(), json!(rest));
            }
            "STOPSIGNAL" => {
                config.insert("StopSignal".into(), json!(rest));
            }
            "EXPOSE" => {
                let ports = config
                    .entry("ExposedPorts")
                    .or_insert_with(|| json!({}));
                if !ports.is_object() {
                    *ports = json!({});
                }
                for p in rest.split_whitespace() {
                    let (num, proto) = p.split_once('/').unwrap_or((p, "tcp"));
                    let proto = proto.to_ascii_lowercase();
                    ensure!(
                        num.parse::<u16>().is_ok() && matches!(proto.as_str(), "tcp" | "udp" | "sctp"),
                        "change {change:?}: invalid port {p:?}; expected PORT[/tcp|udp|sctp]"
                    );
                    ports[format!("{num}/{proto}")] = json!({});
                }
            }
            "VOLUME" => {
                let vols: Vec<String> = if rest.starts_with('[') {
                    serde_json::from_str(rest)
                        .with_context(|| format!("change {change:?}: invalid JSON array"))?
                } else {
                    rest.split_whitespace().map(String::from).collect()
                };
                let v = config.entry("Volumes").or_insert_with(|| json!({}));
                if !v.is_object() {
                    *v = json!({});
                }
                for p in vols {
                    v[p] = json!({});
                }
            }
            "" => bail!("empty change: expected an instruction such as CMD, ENV or WORKDIR"),
            other => bail!(
                "change {change:?}: unknown or unsupported instruction {other}; \
                 supported are CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR"
            ),
        }
    }
    Ok(())
}

/// `import`: one root file system tarball (plain, gzip or zstd) becomes a
/// one-layer image, tagged `name` if given.
pub fn import(
    store: &Store,
    input: impl Read,
    changes: &[String],
    name: Option<&Reference>,
) -> anyhow::Result<ImageRecord> {
    // Validate everything the user typed before touching the store.
    let mut cfg = serde_json::Map::new();
    apply_changes(&mut cfg, changes).context("import")?;
    if let Some(n) = name {
        ensure!(
            n.digest.is_none(),
            "import: cannot tag an image with a digest ({n})"
        );
    }
    let now = crate::container::now();
    let config = json!({
        "created": now,
        "architecture": Platform::host().architecture,
        "os": "linux",
        "config": Value::Object(cfg),
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [{"created": now, "created_by": "coracle import", "comment": "Imported from tarball"}],
    });
    let mut input = input;
    add_layer(
        store,
        |w| {
            io::copy(&mut input, w).context("import: read the tarball")?;
            Ok(())
        },
        config,
        Vec::new(),
        name,
        "import",
    )
}

/// `commit`: a new image of `base`'s layers plus the uncompressed layer
/// tar `write_layer` writes, with the image config `config` (its
/// `rootfs.diff_ids` are `base`'s; the new layer's is appended here),
/// tagged `name` if given. The layer is spooled and unpacked inside the
/// store, and the image is recorded under the index lock last: a failure
/// leaves no image and no half-stored layer.
pub fn commit(
    store: &Store,
    base: &ImageRecord,
    write_layer: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
    config: Value,
    name: Option<&Reference>,
) -> anyhow::Result<ImageRecord> {
    if let Some(n) = name {
        ensure!(
            n.digest.is_none(),
            "commit: cannot tag an image with a digest ({n})"
        );
    }
    add_layer(
        store,
        |w| write_layer(w).context("commit: write the layer"),
        config,
        base.layers.clone(),
        name,
        "commit",
    )
}

/// Spools the layer blob `write_layer` writes (plain, gzip or zstd),
/// unpacks it into the store, and records an image of `layers` plus it
/// with `config` (the new layer's diff id appended to its
/// `rootfs.diff_ids`).
fn add_layer(
    store: &Store,
    write_layer: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
    mut config: Value,
    mut layers: Vec<LayerRecord>,
    name: Option<&Reference>,
    what: &str,
) -> anyhow::Result<ImageRecord> {
    let spool = Spool::new(store, "import")?;
    let path = spool.dir.join("layer");
    let f = File::create(&path).with_context(|| format!("create {}", path.display()))?;
    let mut w = DigestWriter::new(io::BufWriter::new(f));
    write_layer(&mut w)?;
    let size = w.len();
    let (blob, mut f) = w.finish();
    f.flush()
        .with_context(|| format!("{what}: spool the layer"))?;
    drop(f);
    ensure!(size > 0, "{what}: the tarball is empty");
    let mut head = [0u8; 8];
    let n = crate::image::unpack::read_full(&mut File::open(&path)?, &mut head)?;
    let compression = Compression::sniff(&head[..n]);
    let media_type = match compression {
        Compression::None => "application/vnd.oci.image.layer.v1.tar",
        Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
        Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    };
    // Unpack into a temporary layer first: the diff id is known only then.
    let tmp = spool.dir.join("unpacked");
    fs::create_dir(&tmp).with_context(|| format!("create {}", tmp.display()))?;
    let report = unpack::unpack_layer(
        BufReader::new(File::open(&path)?),
        compression,
        &tmp,
        &Limits::default(),
    );
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            let _ = super::store::remove(&tmp);
            return Err(e).with_context(|| format!("{what}: unpack the layer"));
        }
    };
    let diff_id = report.diff_id.clone();
    {
        let _lock = store.lock_item(&diff_id)?;
        if store.has_layer(&diff_id) {
            super::store::remove(&tmp)?;
        } else {
            fs::rename(&tmp, store.layer_path(&diff_id))
                .with_context(|| format!("store layer {diff_id}"))?;
        }
    }
    if !config["rootfs"]["diff_ids"].is_array() {
        config["rootfs"] = json!({"type": "layers", "diff_ids": []});
    }
    if let Some(ids) = config["rootfs"]["diff_ids"].as_array_mut() {
        ids.push(json!(diff_id.to_string()));
    }
    layers.push(LayerRecord {
        blob: blob.clone(),
        diff_id,
        media_type: media_type.into(),
        size,
        unpacked: report.unpacked_bytes,
    });
    let config = serde_json::to_vec(&config)?;
    let id = Digest::of(&config);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": id.to_string(), "size": config.len()},
        "layers": layers
            .iter()
            .map(|l| json!({"mediaType": l.media_type, "digest": l.blob.to_string(), "size": l.size}))
            .collect::<Vec<_>>(),
    });
    let manifest = serde_json::to_vec(&manifest)?;
    commit_spooled(
        store,
        &Spooled {
            path,
            digest: blob,
            size,
        },
    )?;
    store.put_blob(&config)?;
    let manifest_digest = store.put_blob(&manifest)?;
    let rec = ImageRecord {
        id,
        manifest: manifest_digest,
        manifest_media_type: OCI_MANIFEST.into(),
        repo_digests: Vec::new(),
        layers,
        added: crate::container::now(),
    };
    let names: Vec<String> = name.map(|n| n.to_string()).into_iter().collect();
    let mut out = record(store, vec![(rec, names)])?;
    Ok(out.remove(0).0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_classified_and_cleaned() {
        let h = "a".repeat(64);
        assert_eq!(classify(&format!("blobs/sha256/{h}")), Some(Kind::Named));
        assert_eq!(classify(&format!("{h}.json")), Some(Kind::Named));
        assert_eq!(classify(&format!("{h}/layer.tar")), Some(Kind::Layer));
        assert_eq!(classify(&format!("{h}.tar")), Some(Kind::Layer));
        assert_eq!(classify("manifest.json"), Some(Kind::Json));
        assert_eq!(classify("blobs/sha256/xyz"), None);
        assert_eq!(classify(&format!("{h}/json")), None);
        assert_eq!(clean_name(b"./manifest.json").unwrap(), "manifest.json");
        assert!(clean_name(b"../manifest.json").is_err());
        assert!(clean_name(b"/etc/passwd").is_err());
        assert!(clean_name(b"blobs/../../x").is_err());
        assert_eq!(
            resolve_link(&format!("{h}/layer.tar"), format!("../{h}.tar").as_bytes()),
            Some(format!("{h}.tar"))
        );
        assert_eq!(resolve_link("x", b"../../y"), None);
    }

    /// A tar of files and (name, target) hard links, in order.
    fn tar_of(files: &[(&str, &[u8])], hardlinks: &[(&str, &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut h = header(data.len() as u64);
            b.append_data(&mut h, name, *data).unwrap();
        }
        for (name, target) in hardlinks {
            let mut h = header(0);
            h.set_entry_type(tar::EntryType::Link);
            b.append_link(&mut h, name, target).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn load_reads_zstd_frames_in_the_archive_and_in_its_layers() {
        use base64::Engine as _;
        let layer = base64::engine::general_purpose::STANDARD
            .decode(unpack::MULTI_FRAME_ZSTD)
            .unwrap();
        let diff_id: Digest = format!("sha256:{}", unpack::MULTI_FRAME_TAR_SHA256)
            .parse()
            .unwrap();
        let config = serde_json::to_vec(&json!({
            "architecture": Platform::host().architecture,
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [diff_id.to_string()]},
        }))
        .unwrap();
        let id = Digest::of(&config);
        let (v1, v2) = ("1".repeat(64), "2".repeat(64));
        // The manifest names the layer by a hard link to it.
        let manifest = serde_json::to_vec(&json!([{
            "Config": format!("{}.json", id.hex()),
            "RepoTags": ["multi:1"],
            "Layers": [format!("{v2}/layer.tar")],
        }]))
        .unwrap();
        let ar = tar_of(
            &[
                (&format!("{v1}/layer.tar"), &layer),
                (&format!("{}.json", id.hex()), &config),
                ("manifest.json", &manifest),
            ],
            &[(&format!("{v2}/layer.tar"), &format!("./{v1}/layer.tar"))],
        );
        // The archive itself: a skippable frame, then two frames.
        let (a, b) = ar.split_at(ar.len() / 2);
        let zstd = |d: &[u8]| {
            ruzstd::encoding::compress_to_vec(d, ruzstd::encoding::CompressionLevel::Fastest)
        };
        let mut data = 0x184d_2a5fu32.to_le_bytes().to_vec();
        data.extend_from_slice(&0u32.to_le_bytes());
        data.extend_from_slice(&zstd(a));
        data.extend_from_slice(&zstd(b));
        assert_eq!(Compression::sniff(&data), Compression::Zstd);
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path().join("s")).unwrap();
        let loaded = load(&store, &data[..]).unwrap();
        let (rec, names) = &loaded[0];
        assert_eq!(rec.id, id);
        assert_eq!(names, &["docker.io/library/multi:1".to_string()]);
        assert_eq!(rec.layers[0].diff_id, diff_id);
        assert_eq!(rec.layers[0].blob, Digest::of(&layer));
        assert_eq!(
            fs::read(store.layer_path(&diff_id).join("hello.txt")).unwrap(),
            b"two frames and a skippable one\n"
        );
        // Cut inside its second frame, the archive is refused, naming the
        // entry being read, and nothing is stored.
        let cut = &data[..data.len() - 20];
        let store = Store::open(tmp.path().join("t")).unwrap();
        let e = format!("{:#}", load(&store, cut).unwrap_err());
        assert!(e.contains("truncated"), "{e}");
        assert!(!store.has_layer(&diff_id));
    }

    #[test]
    fn changes_apply_as_dockerfile_instructions() {
        let mut c = serde_json::Map::new();
        apply_changes(
            &mut c,
            &[
                r#"CMD ["a","b"]"#.into(),
                "ENTRYPOINT echo hi".into(),
                "ENV A=1 B=\"two words\"".into(),
                "ENV A 3".into(),
                "WORKDIR /x".into(),
                "USER u".into(),
                "LABEL k=v".into(),
                "EXPOSE 80/tcp 53/udp 8080".into(),
            ],
        )
        .unwrap();
        let c = Value::Object(c);
        assert_eq!(c["Cmd"], json!(["a", "b"]));
        assert_eq!(c["Entrypoint"], json!(["/bin/sh", "-c", "echo hi"]));
        assert_eq!(c["Env"], json!(["B=two words", "A=3"]));
        assert_eq!(c["WorkingDir"], json!("/x"));
        assert_eq!(c["User"], json!("u"));
        assert_eq!(c["Labels"], json!({"k": "v"}));
        assert_eq!(
            c["ExposedPorts"],
            json!({"80/tcp": {}, "53/udp": {}, "8080/tcp": {}})
        );
        let e = apply_changes(&mut serde_json::Map::new(), &["FROB x".into()]).unwrap_err();
        assert!(e.to_string().contains("FROB"), "{e}");
        assert!(apply_changes(&mut serde_json::Map::new(), &["EXPOSE x".into()]).is_err());
    }
}
