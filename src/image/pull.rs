//! `pull`: manifest (platform resolved), config, layers downloaded in
//! parallel and unpacked once into the store, then the image recorded.
//!
//! Crash safety: a blob is downloaded to `incoming/` (resumed next time) and
//! renamed into place only after its digest is verified; a layer is unpacked
//! into `layers/.tmp-ID` and renamed after its diff id is verified; the image
//! record is written last. Concurrent pulls serialise per blob and per layer
//! on flocks, so each blob is downloaded once.

use std::collections::{BTreeMap, VecDeque};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::sync::Mutex;

use anyhow::{bail, Context};
use oci_spec::image::{ImageConfiguration, ImageManifest};

use super::digest::Digest;
use super::reference::Reference;
use super::registry::{Client, Platform};
use super::store::{ImageRecord, LayerRecord, Store};
use super::unpack::Compression;

/// Most layers an image may have (Docker's overlay driver allows 127 with
/// its own layer on top).
pub const MAX_LAYERS: usize = 127;
/// Largest image config accepted.
pub const MAX_CONFIG_BYTES: u64 = 8 << 20;
/// How many layers are fetched at once.
const PARALLEL: usize = 3;

pub struct PullOptions {
    pub platform: Platform,
    /// No progress lines.
    pub quiet: bool,
}

/// Progress lines: on stderr, one per event, Docker's wording.
fn say(opts: &PullOptions, line: &str) {
    if !opts.quiet {
        let mut e = std::io::stderr().lock();
        let _ = writeln!(e, "{line}");
    }
}

/// How a pull shows its layers: nothing (`-q`), one line per event (not a
/// terminal), or a bar per layer that follows the download (a terminal).
enum Progress {
    Quiet,
    Lines,
    Bars(indicatif::MultiProgress, Vec<indicatif::ProgressBar>),
}

impl Progress {
    fn new(opts: &PullOptions, layers: &[LayerRecord]) -> Self {
        use std::io::IsTerminal;
        if opts.quiet {
            return Self::Quiet;
        }
        if !std::io::stderr().is_terminal() {
            return Self::Lines;
        }
        let multi = indicatif::MultiProgress::new();
        let style = indicatif::ProgressStyle::with_template(
            "{prefix}: {msg:<18} [{bar:30}] {bytes:>10}/{total_bytes:<10}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
        let bars = layers
            .iter()
            .map(|l| {
                let b = multi.add(indicatif::ProgressBar::new(l.size));
                b.set_style(style.clone());
                b.set_prefix(short(&l.blob).to_string());
                b.set_message("Waiting");
                b
            })
            .collect();
        Self::Bars(multi, bars)
    }

    /// A layer's state changed.
    fn layer(&self, i: usize, rec: &LayerRecord, status: &str) {
        match self {
            Self::Quiet => {}
            Self::Lines => {
                let _ = writeln!(std::io::stderr().lock(), "{}: {status}", short(&rec.blob));
            }
            Self::Bars(_, bars) => {
                if status == "Pull complete" || status == "Already exists" {
                    bars[i].set_position(rec.size);
                    bars[i].finish_with_message(status.to_string());
                } else {
                    bars[i].set_message(status.to_string());
                }
            }
        }
    }

    /// A note about a layer, above the bars.
    fn note(&self, line: &str) {
        match self {
            Self::Quiet => {}
            Self::Lines => {
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
            Self::Bars(multi, _) => {
                let _ = multi.println(line);
            }
        }
    }

    /// Moves the bars to what has arrived on disk.
    fn tick(&self, store: &Store, layers: &[LayerRecord]) {
        if let Self::Bars(_, bars) = self {
            for (b, l) in bars.iter().zip(layers) {
                if b.is_finished() {
                    continue;
                }
                let got = std::fs::metadata(store.partial_path(&l.blob))
                    .map(|m| m.len())
                    .or_else(|_| std::fs::metadata(store.blob_path(&l.blob)).map(|m| m.len()))
                    .unwrap_or(0);
                b.set_position(got.min(l.size));
            }
        }
    }
}

/// Counts a worker out when it ends, however it ends.
struct DecrementOnDrop<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for DecrementOnDrop<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Release);
    }
}

fn short(d: &Digest) -> &str {
    &d.hex()[..12]
}

/// Pulls `reference` into `store` and returns the image record.
pub fn pull(
    store: &Store,
    client: &Client,
    reference: &Reference,
    opts: &PullOptions,
) -> anyhow::Result<ImageRecord> {
    say(
        opts,
        &format!(
            "{}: Pulling from {}",
            reference.api_reference(),
            reference.repository
        ),
    );
    let manifest = client
        .resolve_platform(reference, &opts.platform)
        .with_context(|| format!("pull {reference}"))?;
    let parsed: ImageManifest = serde_json::from_slice(&manifest.bytes).with_context(|| {
        format!(
            "pull {reference}: the manifest {} is not a valid image manifest",
            manifest.digest
        )
    })?;
    let layers = parsed.layers();
    if layers.len() > MAX_LAYERS {
        bail!(
            "pull {reference}: the image has {} layers, more than the {MAX_LAYERS} coracle accepts",
            layers.len()
        );
    }
    let compressions = layers
        .iter()
        .map(|l| Compression::from_media_type(l.media_type().as_ref()))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("pull {reference}"))?;

    // Config.
    let config_digest: Digest = parsed
        .config()
        .digest()
        .to_string()
        .parse()
        .with_context(|| format!("pull {reference}: config digest"))?;
    ensure_blob(
        store,
        client,
        reference,
        &config_digest,
        Some(parsed.config().size()),
    )?;
    let config_bytes = store.read_blob(&config_digest, MAX_CONFIG_BYTES)?;
    let config: ImageConfiguration = serde_json::from_slice(&config_bytes).with_context(|| {
        format!("pull {reference}: the image config {config_digest} is not valid")
    })?;
    let diff_ids: Vec<Digest> = config
        .rootfs()
        .diff_ids()
        .iter()
        .map(|d| d.parse())
        .collect::<Result<_, _>>()
        .with_context(|| format!("pull {reference}: a diff id in the image config"))?;
    if diff_ids.len() != layers.len() {
        bail!(
            "pull {reference}: the manifest lists {} layers but the config {} diff ids; the image is broken",
            layers.len(),
            diff_ids.len()
        );
    }

    // Layers, a few at a time.
    let mut records = Vec::new();
    for (l, diff_id) in layers.iter().zip(&diff_ids) {
        records.push(LayerRecord {
            blob: l
                .digest()
                .to_string()
                .parse()
                .with_context(|| format!("pull {reference}: layer digest"))?,
            diff_id: diff_id.clone(),
            media_type: l.media_type().to_string(),
            size: l.size(),
            unpacked: 0,
        });
    }
    // Unpacked sizes of layers already in the store, from their images.
    let known = {
        let _lock = store.lock_index(false)?;
        store.read_index()?.unpacked_sizes()
    };
    let queue: Mutex<VecDeque<(usize, &LayerRecord)>> =
        Mutex::new(records.iter().enumerate().collect());
    let sizes: Mutex<BTreeMap<usize, u64>> = Mutex::new(BTreeMap::new());
    let failures: Mutex<Vec<anyhow::Error>> = Mutex::new(Vec::new());
    let next = || queue.lock().map(|mut q| q.pop_front()).unwrap_or(None);
    let progress = Progress::new(opts, &records);
    let working = std::sync::atomic::AtomicUsize::new(PARALLEL.min(records.len()));
    std::thread::scope(|s| {
        if matches!(progress, Progress::Bars(..)) {
            s.spawn(|| {
                while working.load(std::sync::atomic::Ordering::Acquire) > 0 {
                    progress.tick(store, &records);
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
            });
        }
        for _ in 0..PARALLEL.min(records.len()) {
            s.spawn(|| {
                let _done = DecrementOnDrop(&working);
                while let Some((i, rec)) = next() {
                    match ensure_layer(store, client, reference, rec, compressions[i], &progress, i)
                    {
                        Ok(Some(n)) => {
                            if let Ok(mut m) = sizes.lock() {
                                m.insert(i, n);
                            }
                        }
                        Ok(None) => {}
                        Err(e) => {
                            if let Ok(mut f) = failures.lock() {
                                f.push(e);
                            }
                            if let Ok(mut q) = queue.lock() {
                                q.clear();
                            }
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = failures.into_inner().unwrap_or_default().into_iter().next() {
        return Err(e);
    }
    let sizes = sizes.into_inner().unwrap_or_default();
    for (i, rec) in records.iter_mut().enumerate() {
        rec.unpacked = match (sizes.get(&i), known.get(&rec.diff_id)) {
            (Some(n), _) | (None, Some(n)) => *n,
            (None, None) => super::store::dir_size(&store.layer_path(&rec.diff_id)),
        };
    }

    // The manifest last: the image exists only once everything it names does.
    let stored = store.put_blob(&manifest.bytes)?;
    debug_assert_eq!(stored, manifest.digest);
    let record = ImageRecord {
        id: config_digest.clone(),
        manifest: manifest.digest.clone(),
        manifest_media_type: manifest.media_type.clone(),
        repo_digests: vec![format!("{}@{}", reference.name(), manifest.digest)],
        layers: records,
        added: crate::container::now(),
    };
    let newer = store.update_index(|index| {
        let mut rec = record.clone();
        if let Some(old) = index.images.get(&rec.id) {
            for rd in &old.repo_digests {
                if !rec.repo_digests.contains(rd) {
                    rec.repo_digests.push(rd.clone());
                }
            }
            rec.added = old.added.clone();
        }
        let newer = match reference.digest {
            Some(_) => !index.images.contains_key(&rec.id),
            None => index.tags.get(&reference.to_string()) != Some(&rec.id),
        };
        if reference.digest.is_none() {
            index.tags.insert(reference.to_string(), rec.id.clone());
        }
        index.images.insert(rec.id.clone(), rec);
        Ok(newer)
    })?;
    say(opts, &format!("Digest: {}", manifest.digest));
    say(
        opts,
        &if newer {
            format!(
                "Status: Downloaded newer image for {}",
                reference.familiar()
            )
        } else {
            format!("Status: Image is up to date for {}", reference.familiar())
        },
    );
    Ok(record)
}

/// Makes sure a blob is in the store: downloads (or resumes) it under its lock.
fn ensure_blob(
    store: &Store,
    client: &Client,
    reference: &Reference,
    d: &Digest,
    size: Option<u64>,
) -> anyhow::Result<()> {
    if store.has_blob(d) {
        return Ok(());
    }
    let _lock = store.lock_item(d)?;
    if store.has_blob(d) {
        return Ok(());
    }
    let partial = store.partial_path(d);
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(&partial)
        .with_context(|| format!("open {}", partial.display()))?;
    if let Err(e) = client.fetch_blob(reference, d, size, &mut f) {
        // A wrong or truncated blob must not be resumed from.
        let _ = fs::remove_file(&partial);
        return Err(e).with_context(|| format!("pull {reference}: blob {d}"));
    }
    drop(f);
    store.commit_blob(d)
}

/// Makes sure a layer is unpacked in the store.
fn ensure_layer(
    store: &Store,
    client: &Client,
    reference: &Reference,
    rec: &LayerRecord,
    compression: Compression,
    progress: &Progress,
    i: usize,
) -> anyhow::Result<Option<u64>> {
    let _lock = store.lock_item(&rec.diff_id)?;
    // The image record names the blob as distributed (push and save need
    // it), so it is fetched even when another image's blob of the same
    // content already gave the store this layer.
    ensure_blob(store, client, reference, &rec.blob, Some(rec.size))?;
    if store.has_layer(&rec.diff_id) {
        progress.layer(i, rec, "Already exists");
        return Ok(None);
    }
    progress.layer(i, rec, "Download complete");
    progress.layer(i, rec, "Extracting");
    let (tmp, report) = store
        .unpack_checked(&store.blob_path(&rec.blob), rec, compression)
        .with_context(|| format!("pull {reference}"))?;
    for note in &report.notes {
        progress.note(&format!("{}: note: {note}", short(&rec.blob)));
    }
    fs::rename(&tmp, store.layer_path(&rec.diff_id))
        .with_context(|| format!("store layer {}", rec.diff_id))?;
    progress.layer(i, rec, "Pull complete");
    Ok(Some(report.unpacked_bytes))
}
