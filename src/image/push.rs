//! `push`: the blobs of a stored image (layers, then config) and then its
//! manifest, byte for byte as stored, so that its digest is unchanged.

use std::fs::File;
use std::io::Write;

use anyhow::Context;

use super::digest::Digest;
use super::reference::Reference;
use super::registry::Client;
use super::store::{ImageRecord, Store};

/// Largest manifest read back from the store.
const MAX_MANIFEST_BYTES: u64 = 4 << 20;

pub struct PushOptions {
    /// No progress lines.
    pub quiet: bool,
}

fn say(opts: &PushOptions, line: &str) {
    if !opts.quiet {
        let mut o = std::io::stdout().lock();
        let _ = writeln!(o, "{line}");
    }
}

/// Other repositories of the target's registry that the image came from
/// (its repo digests): layers can be mounted from them instead of uploaded.
fn mount_sources(image: &ImageRecord, target: &Reference) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for rd in &image.repo_digests {
        let Ok(r) = rd.parse::<Reference>() else {
            continue;
        };
        if r.registry == target.registry
            && r.repository != target.repository
            && !out.contains(&r.repository)
        {
            out.push(r.repository);
        }
    }
    out.truncate(3);
    out
}

/// Pushes `image` as `reference` (which has a tag) and returns the
/// manifest digest.
pub fn push(
    store: &Store,
    client: &Client,
    reference: &Reference,
    image: &ImageRecord,
    opts: &PushOptions,
) -> anyhow::Result<Digest> {
    say(
        opts,
        &format!("The push refers to repository [{}]", reference.name()),
    );
    let manifest = store
        .read_blob(&image.manifest, MAX_MANIFEST_BYTES)
        .with_context(|| format!("push {reference}"))?;
    // Layers top first, as Docker lists them, then the config.
    let mut blobs: Vec<(Digest, bool)> = image
        .layers
        .iter()
        .rev()
        .map(|l| (l.blob.clone(), true))
        .collect();
    blobs.push((image.id.clone(), false));
    let sources = mount_sources(image, reference);
    for (d, is_layer) in &blobs {
        let short = &d.hex()[..12];
        if client
            .blob_exists(reference, d)
            .with_context(|| format!("push {reference}"))?
        {
            if *is_layer {
                say(opts, &format!("{short}: Layer already exists"));
            }
            continue;
        }
        if *is_layer {
            let mut mounted = None;
            for from in &sources {
                if client
                    .mount_blob(reference, d, from)
                    .with_context(|| format!("push {reference}"))?
                {
                    mounted = Some(from);
                    break;
                }
            }
            if let Some(from) = mounted {
                say(opts, &format!("{short}: Mounted from {from}"));
                continue;
            }
        }
        let path = store.blob_path(d);
        let f = File::open(&path).with_context(|| {
            format!("push {reference}: blob {d} is missing from the store; pull the image again")
        })?;
        let size = f
            .metadata()
            .with_context(|| format!("stat {}", path.display()))?
            .len();
        if *is_layer {
            say(opts, &format!("{short}: Preparing"));
        }
        client
            .push_blob(reference, d, std::io::BufReader::new(f), size)
            .with_context(|| format!("push {reference}"))?;
        if *is_layer {
            say(opts, &format!("{short}: Pushed"));
        }
    }
    let digest = client
        .put_manifest(reference, &image.manifest_media_type, &manifest)
        .with_context(|| format!("push {reference}"))?;
    say(
        opts,
        &format!(
            "{}: digest: {digest} size: {}",
            reference.api_reference(),
            manifest.len()
        ),
    );
    Ok(digest)
}
