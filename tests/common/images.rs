//! Test images built from real files (the busybox-static root the harness
//! makes), as OCI layers, pushed with coracle's own registry client.

use std::io::Write;
use std::path::Path;

use coracle::image::digest::Digest;
use coracle::image::reference::Reference;
use coracle::image::registry::{Client, RegistryConfig};

/// One layer: a gzip'd tar and the digest of the tar (diff id).
pub struct Layer {
    pub gz: Vec<u8>,
    pub diff_id: Digest,
}

/// What goes into a layer: a directory tree (owned by root in the tar),
/// plus extra entries (whiteouts and the like) as (path, content).
pub fn layer(dir: Option<&Path>, extra: &[(&str, &[u8])]) -> Layer {
    let mut b = tar::Builder::new(Vec::new());
    b.follow_symlinks(false);
    if let Some(dir) = dir {
        let mut paths: Vec<_> = walk(dir);
        paths.sort();
        for p in paths {
            let rel = p.strip_prefix(dir).unwrap();
            let md = std::fs::symlink_metadata(&p).unwrap();
            let mut h = tar::Header::new_gnu();
            h.set_metadata(&md);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(1_700_000_000);
            if md.file_type().is_symlink() {
                h.set_size(0);
                let target = std::fs::read_link(&p).unwrap();
                b.append_link(&mut h, rel, target).unwrap();
            } else if md.is_dir() {
                h.set_size(0);
                b.append_data(&mut h, rel, std::io::empty()).unwrap();
            } else {
                let data = std::fs::read(&p).unwrap();
                b.append_data(&mut h, rel, &data[..]).unwrap();
            }
        }
    }
    for (path, content) in extra {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_size(content.len() as u64);
        h.set_mtime(1_700_000_000);
        b.append_data(&mut h, path, *content).unwrap();
    }
    layer_from_tar(b.into_inner().unwrap())
}

/// A layer from a tar the test built itself.
pub fn layer_from_tar(tar: Vec<u8>) -> Layer {
    let diff_id = Digest::of(&tar);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    Layer {
        gz: gz.finish().unwrap(),
        diff_id,
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let md = std::fs::symlink_metadata(&p).unwrap();
        out.push(p.clone());
        if md.is_dir() {
            out.extend(walk(&p));
        }
    }
    out
}

/// Pushes an image made of `layers` with the given config `cmd` and `env`,
/// returning the manifest digest.
pub fn push(registry: &str, name: &str, layers: &[Layer], cmd: &[&str], env: &[&str]) -> Digest {
    push_as(registry, name, layers, cmd, env, None)
}

/// [`push`] with the credentials `user` (an auth file of the test
/// process's own), for registries that want a login.
pub fn push_as(
    registry: &str,
    name: &str,
    layers: &[Layer],
    cmd: &[&str],
    env: &[&str],
    user: Option<(&str, &str)>,
) -> Digest {
    let r: Reference = format!("{registry}/{name}").parse().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = RegistryConfig::default();
    if let Some((u, p)) = user {
        let auth = tmp.path().join("auth.json");
        let entry = serde_json::json!({"auths": {registry: {"username": u, "password": p}}});
        std::fs::write(&auth, serde_json::to_vec(&entry).unwrap()).unwrap();
        cfg.auth_files.push(auth);
    }
    let client = Client::new(cfg);
    let config = serde_json::json!({
        "created": "2026-11-01T00:00:00Z",
        "architecture": coracle::image::registry::Platform::host().architecture,
        "os": "linux",
        "config": { "Env": env, "Cmd": cmd },
        "rootfs": { "type": "layers", "diff_ids": layers.iter().map(|l| l.diff_id.to_string()).collect::<Vec<_>>() },
        "history": layers.iter().map(|_| serde_json::json!({"created_by": "coracle tests"})).collect::<Vec<_>>(),
    });
    let config = serde_json::to_vec(&config).unwrap();
    let config_digest = Digest::of(&config);
    client
        .push_blob(&r, &config_digest, &config[..], config.len() as u64)
        .unwrap();
    let mut descs = Vec::new();
    for l in layers {
        let d = Digest::of(&l.gz);
        client
            .push_blob(&r, &d, &l.gz[..], l.gz.len() as u64)
            .unwrap();
        descs.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": d.to_string(),
            "size": l.gz.len(),
        }));
    }
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest.to_string(),
            "size": config.len(),
        },
        "layers": descs,
    });
    let manifest = serde_json::to_vec(&manifest).unwrap();
    client
        .put_manifest(&r, "application/vnd.oci.image.manifest.v1+json", &manifest)
        .unwrap()
}
