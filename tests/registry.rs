//! The registry client (library code, called from the test process) against
//! a real registry (Debian's `docker-registry`) and against scripted HTTP
//! servers for what a real registry does not do on demand. When the suite
//! runs as root, each test runs as the unprivileged test user
//! ([`common::unprivileged`]).

mod common;
#[path = "common/registry.rs"]
mod registry_fixture;

use std::fs::{self, File, OpenOptions};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use coracle::image::digest::Digest;
use coracle::image::reference::Reference;
use coracle::image::registry::{
    Client, Platform, RegistryConfig, RegistryError, MEDIA_DOCKER_LIST, MEDIA_OCI_INDEX,
    MEDIA_OCI_MANIFEST,
};
use registry_fixture::{remote_alias, RegistryServer, Reply, TinyServer};

const CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const LAYER_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";

/// The first line of every test: true when the test has run as the
/// unprivileged test user (the suite runs as root; see
/// [`common::unprivileged`]) and the caller returns. As root, first installs
/// the registry's packages and adds the remote alias to /etc/hosts.
fn unprivileged() -> bool {
    common::unprivileged(|| {
        registry_fixture::ensure_packages();
        let _ = remote_alias();
    })
}

fn client(cfg: RegistryConfig) -> Client {
    Client::new(cfg).with_retry_delay(Duration::from_millis(5))
}

fn reference(host: &str, rest: &str) -> Reference {
    Reference::parse(&format!("{host}/{rest}")).unwrap()
}

/// Deterministic bytes that do not repeat within a blob.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9 ^ u32::from(seed);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// An auth file with `user:password` for `host`.
fn auth_file(dir: &Path, host: &str, user: &str, password: &str) -> std::path::PathBuf {
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let path = dir.join(format!("auth-{user}-{}.json", password.len()));
    fs::write(
        &path,
        format!(r#"{{"auths": {{"{host}": {{"auth": "{b64}"}}}}}}"#),
    )
    .unwrap();
    path
}

/// A write-only file opened for append (what a content store hands over).
fn append(path: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
}

fn descriptor(media_type: &str, d: &Digest, size: usize) -> String {
    format!(r#"{{"mediaType":"{media_type}","digest":"{d}","size":{size}}}"#)
}

/// Pushes a config and one layer, then an OCI manifest under `r`'s tag;
/// returns the manifest and its digest.
fn push_image(c: &Client, r: &Reference, arch: &str, layer: &[u8]) -> (Vec<u8>, Digest) {
    let config = format!(
        r#"{{"architecture":"{arch}","os":"linux","rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
        Digest::of(layer)
    );
    let (cd, ld) = (Digest::of(config.as_bytes()), Digest::of(layer));
    for (d, data) in [(&cd, config.as_bytes()), (&ld, layer)] {
        if !c.blob_exists(r, d).unwrap() {
            c.push_blob(r, d, data, data.len() as u64).unwrap();
        }
    }
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{MEDIA_OCI_MANIFEST}","config":{},"layers":[{}]}}"#,
        descriptor(CONFIG_TYPE, &cd, config.len()),
        descriptor(LAYER_TYPE, &ld, layer.len())
    );
    let d = c
        .put_manifest(r, MEDIA_OCI_MANIFEST, manifest.as_bytes())
        .unwrap();
    (manifest.into_bytes(), d)
}

fn err_text<T: std::fmt::Debug>(r: Result<T, RegistryError>) -> (RegistryError, String) {
    let e = r.expect_err("expected an error");
    let s = e.to_string();
    eprintln!("MSG: {s}");
    (e, s)
}

// ---------------------------------------------------------------------------
// Against docker-registry
// ---------------------------------------------------------------------------

#[test]
fn push_then_pull_round_trip() {
    if unprivileged() {
        return;
    }
    let Some(reg) = RegistryServer::start(None) else {
        return;
    };
    let c = client(RegistryConfig::default());
    let r = reference(&reg.host, "coracle/round-trip:v1");
    let layer = pattern(300_000, 1);
    let ld = Digest::of(&layer);
    assert!(!c.blob_exists(&r, &ld).unwrap());
    let (manifest, md) = push_image(&c, &r, "amd64", &layer);
    assert!(c.blob_exists(&r, &ld).unwrap());
    assert_eq!(md, Digest::of(&manifest));
    // Pushing a blob again is harmless.
    c.push_blob(&r, &ld, &layer[..], layer.len() as u64)
        .unwrap();

    let m = c.get_manifest(&r).unwrap();
    assert_eq!(m.bytes, manifest);
    assert_eq!(m.media_type, MEDIA_OCI_MANIFEST);
    assert_eq!(m.digest, md);
    assert!(!m.is_index());
    let by_digest = reference(&reg.host, &format!("coracle/round-trip@{md}"));
    assert_eq!(c.get_manifest(&by_digest).unwrap(), m);
    // A plain manifest is its own platform resolution.
    assert_eq!(c.resolve_platform(&r, &Platform::host()).unwrap(), m);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blob");
    c.fetch_blob(&r, &ld, Some(layer.len() as u64), &mut append(&path))
        .unwrap();
    assert_eq!(fs::read(&path).unwrap(), layer);
    // Already complete: nothing to do.
    c.fetch_blob(&r, &ld, Some(layer.len() as u64), &mut append(&path))
        .unwrap();
    assert_eq!(fs::read(&path).unwrap(), layer);
    // Size unknown.
    let p2 = dir.path().join("blob2");
    c.fetch_blob(&r, &ld, None, &mut append(&p2)).unwrap();
    assert_eq!(fs::read(&p2).unwrap(), layer);

    // Wrong expected sizes are caught, naming the blob.
    for (i, size) in [layer.len() + 1, layer.len() - 1].into_iter().enumerate() {
        let p = dir.path().join(format!("wrong-size-{i}"));
        let (e, s) = err_text(c.fetch_blob(&r, &ld, Some(size as u64), &mut append(&p)));
        assert!(matches!(e, RegistryError::SizeMismatch { .. }), "{e:?}");
        assert!(
            s.contains(&ld.to_string()) && s.contains("size mismatch"),
            "{s}"
        );
    }

    // Pushing a manifest by digest that does not match its body fails early.
    let wrong = reference(&reg.host, &format!("coracle/round-trip@{ld}"));
    let (e, s) = err_text(c.put_manifest(&wrong, MEDIA_OCI_MANIFEST, &manifest));
    assert!(matches!(e, RegistryError::Invalid { .. }), "{e:?}");
    assert!(s.contains(&format!("the manifest's digest is {md}")), "{s}");
    // Pushing by digest works.
    let pinned = reference(&reg.host, &format!("coracle/pinned@{md}"));
    push_image(
        &c,
        &reference(&reg.host, "coracle/pinned:x"),
        "amd64",
        &layer,
    );
    assert_eq!(
        c.put_manifest(&pinned, MEDIA_OCI_MANIFEST, &manifest)
            .unwrap(),
        md
    );
}

#[test]
fn missing_manifest_and_blob_are_clear_404s() {
    if unprivileged() {
        return;
    }
    let Some(reg) = RegistryServer::start(None) else {
        return;
    };
    let c = client(RegistryConfig::default());
    let r = reference(&reg.host, "coracle/present:v1");
    push_image(&c, &r, "amd64", b"layer");

    for missing in ["coracle/present:nope", "coracle/absent:v1"] {
        let (e, s) = err_text(c.get_manifest(&reference(&reg.host, missing)));
        assert!(e.is_not_found(), "{e:?}");
        assert!(s.contains(missing), "{s}");
        assert!(s.contains("HTTP 404"), "{s}");
        assert!(s.contains("check the image name and tag"), "{s}");
        assert!(
            s.to_lowercase().contains("unknown"),
            "registry's message in {s}"
        );
    }

    let d = Digest::of(b"never pushed");
    assert!(!c.blob_exists(&r, &d).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let (e, s) = err_text(c.fetch_blob(&r, &d, None, &mut append(&dir.path().join("b"))));
    assert!(e.is_not_found(), "{e:?}");
    assert!(s.contains(&d.to_string()) && s.contains("blob"), "{s}");

    // A manifest that references a blob the registry lacks: the registry's
    // message is shown.
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{MEDIA_OCI_MANIFEST}","config":{},"layers":[]}}"#,
        descriptor(CONFIG_TYPE, &d, 12)
    );
    let (e, s) = err_text(c.put_manifest(
        &reference(&reg.host, "coracle/present:broken"),
        MEDIA_OCI_MANIFEST,
        manifest.as_bytes(),
    ));
    assert_eq!(e.status(), Some(400), "{s}");
    assert!(s.to_lowercase().contains("blob unknown"), "{s}");
}

#[test]
fn index_with_two_platforms_resolves_each() {
    if unprivileged() {
        return;
    }
    let Some(reg) = RegistryServer::start(None) else {
        return;
    };
    let c = client(RegistryConfig::default());
    let (amd, amd_d) = push_image(
        &c,
        &reference(&reg.host, "coracle/multi:amd64"),
        "amd64",
        b"amd64 layer",
    );
    let (arm, arm_d) = push_image(
        &c,
        &reference(&reg.host, "coracle/multi:arm64"),
        "arm64",
        b"arm64 layer",
    );
    for (tag, media_type) in [("oci", MEDIA_OCI_INDEX), ("docker", MEDIA_DOCKER_LIST)] {
        let index = format!(
            r#"{{"schemaVersion":2,"mediaType":"{media_type}","manifests":[{},{}]}}"#,
            descriptor(MEDIA_OCI_MANIFEST, &amd_d, amd.len())
                .replace('}', r#","platform":{"architecture":"amd64","os":"linux"}}"#),
            descriptor(MEDIA_OCI_MANIFEST, &arm_d, arm.len()).replace(
                '}',
                r#","platform":{"architecture":"arm64","os":"linux","variant":"v8"}}"#
            ),
        );
        let r = reference(&reg.host, &format!("coracle/multi:{tag}"));
        let id = c.put_manifest(&r, media_type, index.as_bytes()).unwrap();
        let m = c.get_manifest(&r).unwrap();
        assert!(m.is_index(), "{}", m.media_type);
        assert_eq!(m.media_type, media_type);
        assert_eq!(m.digest, id);

        let got = c
            .resolve_platform(&r, &"linux/amd64".parse().unwrap())
            .unwrap();
        assert_eq!((got.digest, got.bytes), (amd_d.clone(), amd.clone()));
        for arm_spelling in ["linux/arm64", "linux/arm64/v8", "linux/aarch64"] {
            let got = c
                .resolve_platform(&r, &arm_spelling.parse().unwrap())
                .unwrap();
            assert_eq!(got.digest, arm_d, "{arm_spelling}");
        }
        let host = c.resolve_platform(&r, &Platform::host());
        match Platform::host().architecture.as_str() {
            "amd64" => assert_eq!(host.unwrap().digest, amd_d),
            "arm64" => assert_eq!(host.unwrap().digest, arm_d),
            _ => assert!(host.is_err()),
        }

        let (e, s) = err_text(c.resolve_platform(&r, &"linux/s390x".parse().unwrap()));
        assert!(matches!(e, RegistryError::NoPlatform { .. }), "{e:?}");
        assert!(
            s.starts_with(&format!(
                "no manifest for linux/s390x in {}/coracle/multi:{tag}: available: linux/amd64, linux/arm64",
                reg.host
            )),
            "{s}"
        );
    }
}

#[test]
fn basic_auth_with_htpasswd_registry() {
    if unprivileged() {
        return;
    }
    let Some(reg) = RegistryServer::start(Some(("alice", "s3cret pass"))) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let r = reference(&reg.host, "coracle/private:v1");

    // Anonymous: refused, and told how to log in.
    let anon = client(RegistryConfig::default());
    let (e, s) = err_text(anon.get_manifest(&r));
    assert_eq!(e.status(), Some(401), "{s}");
    assert!(
        s.contains(&format!("log in with `coracle login {}`", reg.host)),
        "{s}"
    );

    // Right credentials from an auth file: push and pull.
    let good = client(RegistryConfig {
        auth_files: vec![
            dir.path().join("missing.json"),
            auth_file(dir.path(), &reg.host, "alice", "s3cret pass"),
        ],
        ..RegistryConfig::default()
    });
    let layer = pattern(50_000, 7);
    let (manifest, md) = push_image(&good, &r, "amd64", &layer);
    let m = good.get_manifest(&r).unwrap();
    assert_eq!((m.bytes, m.digest), (manifest, md));
    let path = dir.path().join("blob");
    good.fetch_blob(
        &r,
        &Digest::of(&layer),
        Some(layer.len() as u64),
        &mut append(&path),
    )
    .unwrap();
    assert_eq!(fs::read(&path).unwrap(), layer);

    // Wrong password: refused, and told so.
    let bad = client(RegistryConfig {
        auth_files: vec![auth_file(dir.path(), &reg.host, "alice", "wrong")],
        ..RegistryConfig::default()
    });
    let (e, s) = err_text(bad.get_manifest(&r));
    assert_eq!(e.status(), Some(401), "{s}");
    assert!(s.contains("credentials were refused"), "{s}");
    let (e, _) = err_text(bad.push_blob(&r, &Digest::of(b"x"), &b"x"[..], 1));
    assert_eq!(e.status(), Some(401));

    // `login`.
    let c = client(RegistryConfig::default());
    c.check_login(&reg.host, "alice", "s3cret pass").unwrap();
    let (e, s) = err_text(c.check_login(&reg.host, "alice", "nope"));
    assert_eq!(e.status(), Some(401), "{s}");
    assert!(s.contains("check the user name and password"), "{s}");
    let (e, _) = err_text(c.check_login(&reg.host, "mallory", "s3cret pass"));
    assert_eq!(e.status(), Some(401));
}

// ---------------------------------------------------------------------------
// Against scripted servers
// ---------------------------------------------------------------------------

#[test]
fn digest_mismatch_is_detected() {
    if unprivileged() {
        return;
    }
    let real = pattern(10_000, 3);
    let mut tampered = real.clone();
    tampered[5000] ^= 1;
    let blob_d = Digest::of(&real);
    let manifest = br#"{"schemaVersion":2,"config":{},"layers":[]}"#.to_vec();
    let manifest_d = Digest::of(&manifest);
    let (bp, mp) = (
        format!("/v2/x/y/blobs/{blob_d}"),
        format!("/v2/x/y/manifests/{manifest_d}"),
    );
    let (t_blob, t_manifest) = (tampered.clone(), {
        let mut m = manifest.clone();
        m.extend_from_slice(b" ");
        m
    });
    let srv = TinyServer::start("127.0.0.1", move |req| {
        if req.path() == bp {
            Reply::body(200, t_blob.clone())
        } else if req.path() == mp {
            Reply::body(200, t_manifest.clone()).header("Content-Type", MEDIA_OCI_MANIFEST)
        } else {
            Reply::status(404)
        }
    });
    let c = client(RegistryConfig::default());
    let r = reference(&srv.host(), "x/y:latest");
    let dir = tempfile::tempdir().unwrap();
    for size in [Some(real.len() as u64), None] {
        let path = dir.path().join("blob");
        let _ = fs::remove_file(&path);
        let (e, s) = err_text(c.fetch_blob(&r, &blob_d, size, &mut append(&path)));
        match &e {
            RegistryError::DigestMismatch {
                expected, actual, ..
            } => {
                assert_eq!(*expected, blob_d);
                assert_eq!(*actual, Digest::of(&tampered));
            }
            _ => panic!("{e:?}"),
        }
        assert!(
            s.contains(&format!("fetch blob {blob_d} of {}/x/y", srv.host())),
            "{s}"
        );
        assert!(s.contains("delete it and retry"), "{s}");
    }
    let (e, s) = err_text(c.get_manifest(&reference(&srv.host(), &format!("x/y@{manifest_d}"))));
    assert!(matches!(e, RegistryError::DigestMismatch { .. }), "{e:?}");
    assert!(s.contains(&manifest_d.to_string()), "{s}");
}

#[test]
fn interrupted_download_resumes_with_range() {
    if unprivileged() {
        return;
    }
    let blob = Arc::new(pattern(200_000, 9));
    let d = Digest::of(&blob);
    let path_of = format!("/v2/x/y/blobs/{d}");
    let cut = 70_000;
    let b2 = blob.clone();
    let srv = TinyServer::start("127.0.0.1", move |req| {
        if req.path() != path_of {
            return Reply::status(404);
        }
        match req.header("range").and_then(|r| r.strip_prefix("bytes=")) {
            None => {
                // Promise everything, send a part, hang up.
                let mut raw = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    b2.len()
                )
                .into_bytes();
                raw.extend_from_slice(&b2[..cut]);
                Reply::Raw(raw)
            }
            Some(spec) => {
                let start: usize = spec.trim_end_matches('-').parse().unwrap();
                Reply::body(206, b2[start..].to_vec()).header(
                    "Content-Range",
                    &format!("bytes {start}-{}/{}", b2.len() - 1, b2.len()),
                )
            }
        }
    });
    let c = client(RegistryConfig::default());
    let r = reference(&srv.host(), "x/y:latest");
    let dir = tempfile::tempdir().unwrap();
    let blob_requests = || srv.requests_to("/v2/x/y/blobs/");

    // Dropped mid-way: resumed from where it broke off.
    let path = dir.path().join("fresh");
    c.fetch_blob(&r, &d, Some(blob.len() as u64), &mut append(&path))
        .unwrap();
    assert_eq!(fs::read(&path).unwrap(), *blob);
    let reqs = blob_requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert_eq!(reqs[0].header("range"), None);
    assert_eq!(reqs[1].header("range"), Some(&*format!("bytes={cut}-")));

    // A prefix left by an earlier run: resumed from its end.
    let path = dir.path().join("prefix");
    fs::write(&path, &blob[..1234]).unwrap();
    c.fetch_blob(&r, &d, None, &mut append(&path)).unwrap();
    assert_eq!(fs::read(&path).unwrap(), *blob);
    let reqs = blob_requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[2].header("range"), Some("bytes=1234-"));

    // A corrupt prefix: the result does not match, and says so.
    let path = dir.path().join("corrupt");
    let mut bad = blob[..1000].to_vec();
    bad[10] ^= 0xff;
    fs::write(&path, &bad).unwrap();
    let (e, _) = err_text(c.fetch_blob(&r, &d, None, &mut append(&path)));
    assert!(matches!(e, RegistryError::DigestMismatch { .. }), "{e:?}");
}

#[test]
fn download_starts_over_when_range_is_ignored() {
    if unprivileged() {
        return;
    }
    let blob = Arc::new(pattern(100_000, 4));
    let d = Digest::of(&blob);
    let b2 = blob.clone();
    let srv = TinyServer::start("127.0.0.1", move |req| {
        if req.path().contains("/blobs/") {
            Reply::body(200, b2.to_vec())
        } else {
            Reply::status(404)
        }
    });
    let c = client(RegistryConfig::default());
    let r = reference(&srv.host(), "x/y:latest");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b");
    fs::write(&path, &blob[..5000]).unwrap();
    c.fetch_blob(&r, &d, Some(blob.len() as u64), &mut append(&path))
        .unwrap();
    assert_eq!(fs::read(&path).unwrap(), *blob);
    let reqs = srv.requests_to("/v2/x/y/blobs/");
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].header("range"), Some("bytes=5000-"));
}

/// A registry at 127.0.0.1 that wants bearer tokens from its own `/token`,
/// which wants Basic credentials bob:pw.
fn bearer_server(token_calls: Arc<AtomicUsize>) -> (TinyServer, Vec<u8>) {
    let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}"#.to_vec();
    let m2 = manifest.clone();
    let me: Arc<OnceLock<String>> = Arc::new(OnceLock::new());
    let me2 = me.clone();
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("bob:pw")
    );
    let srv = TinyServer::start("127.0.0.1", move |req| {
        let host = me2.get().cloned().unwrap_or_default();
        let challenge = format!(
            r#"Bearer realm="http://{host}/token",service="tiny,registry",scope="repository:team/app:pull""#
        );
        if req.path() == "/token" {
            token_calls.fetch_add(1, Ordering::SeqCst);
            if req.header("authorization") != Some(basic.as_str()) {
                return Reply::body(401, r#"{"details":"incorrect username or password"}"#);
            }
            return Reply::body(200, r#"{"token":"tok-123","expires_in":300}"#)
                .header("Content-Type", "application/json");
        }
        if req.header("authorization") != Some("Bearer tok-123") {
            return Reply::error(401, "UNAUTHORIZED", "authentication required")
                .header("WWW-Authenticate", &challenge);
        }
        if req.path() == "/v2/" {
            return Reply::body(200, "{}");
        }
        if req.path() == "/v2/team/app/manifests/v1" {
            return Reply::body(200, m2.clone()).header("Content-Type", MEDIA_OCI_MANIFEST);
        }
        Reply::error(404, "MANIFEST_UNKNOWN", "manifest unknown")
    });
    me.set(srv.host()).unwrap();
    (srv, manifest)
}

#[test]
fn bearer_token_flow() {
    if unprivileged() {
        return;
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let (srv, manifest) = bearer_server(calls.clone());
    let dir = tempfile::tempdir().unwrap();
    let c = client(RegistryConfig {
        auth_files: vec![auth_file(dir.path(), &srv.host(), "bob", "pw")],
        ..RegistryConfig::default()
    });
    let r = reference(&srv.host(), "team/app:v1");
    assert_eq!(c.get_manifest(&r).unwrap().bytes, manifest);
    assert_eq!(c.get_manifest(&r).unwrap().bytes, manifest);
    // One token, cached.
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let tokens = srv.requests_to("/token");
    let q = tokens[0].query();
    assert!(
        q.contains(&("service".into(), "tiny,registry".into())),
        "{q:?}"
    );
    assert!(
        q.contains(&("scope".into(), "repository:team/app:pull".into())),
        "{q:?}"
    );
    let manifests = srv.requests_to("/v2/team/app/manifests/");
    let auths: Vec<Option<&str>> = manifests
        .iter()
        .map(|r| r.header("authorization"))
        .collect();
    assert_eq!(
        auths,
        [None, Some("Bearer tok-123"), Some("Bearer tok-123")]
    );

    // Without credentials the token server refuses: say what to do.
    let anon = client(RegistryConfig::default());
    let (e, s) = err_text(anon.get_manifest(&r));
    assert_eq!(e.status(), Some(401), "{s}");
    assert!(s.contains("get a token from"), "{s}");
    assert!(s.contains("incorrect username or password"), "{s}");
    assert!(s.contains(&format!("coracle login {}", srv.host())), "{s}");

    // `login` through the token server.
    c.check_login(&srv.host(), "bob", "pw").unwrap();
    let (e, s) = err_text(c.check_login(&srv.host(), "bob", "wrong"));
    assert_eq!(e.status(), Some(401), "{s}");
    assert!(s.contains("check the user name and password"), "{s}");
}

#[test]
fn redirect_to_another_host_does_not_carry_authorization() {
    if unprivileged() {
        return;
    }
    let blob = Arc::new(pattern(20_000, 5));
    let d = Digest::of(&blob);
    let b2 = blob.clone();
    let cdn = TinyServer::start("127.0.0.2", move |req| {
        if req.path() == "/cdn/blob" {
            Reply::body(200, b2.to_vec())
        } else {
            Reply::status(404)
        }
    });
    let cdn_url = format!("http://{}/cdn/blob?sig=abc", cdn.host());
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("carol:pw")
    );
    let reg = TinyServer::start("127.0.0.1", move |req| {
        if req.header("authorization") != Some(basic.as_str()) {
            return Reply::error(401, "UNAUTHORIZED", "authentication required")
                .header("WWW-Authenticate", r#"Basic realm="tiny""#);
        }
        if req.path().contains("/blobs/") {
            return Reply::status(307).header("Location", &cdn_url);
        }
        Reply::status(404)
    });
    let dir = tempfile::tempdir().unwrap();
    let c = client(RegistryConfig {
        auth_files: vec![auth_file(dir.path(), &reg.host(), "carol", "pw")],
        ..RegistryConfig::default()
    });
    let r = reference(&reg.host(), "x/y:latest");
    let path = dir.path().join("blob");
    c.fetch_blob(&r, &d, Some(blob.len() as u64), &mut append(&path))
        .unwrap();
    assert_eq!(fs::read(&path).unwrap(), *blob);
    let sent: Vec<Option<String>> = reg
        .requests_to("/v2/x/y/blobs/")
        .iter()
        .map(|r| r.header("authorization").map(String::from))
        .collect();
    assert!(
        sent.iter()
            .any(|a| a.as_deref().is_some_and(|a| a.starts_with("Basic "))),
        "{sent:?}"
    );
    let at_cdn = cdn.requests_to("/cdn/");
    assert_eq!(at_cdn.len(), 1);
    assert!(at_cdn[0].local.ip().to_string() == "127.0.0.2");
    assert_eq!(at_cdn[0].header("authorization"), None, "{:?}", at_cdn[0]);
}

#[test]
fn retries_429_and_5xx_but_not_404() {
    if unprivileged() {
        return;
    }
    let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}"#.to_vec();
    let m2 = manifest.clone();
    let flaky = Arc::new(AtomicUsize::new(0));
    let f2 = flaky.clone();
    let srv = TinyServer::start("127.0.0.1", move |req| match req.path() {
        "/v2/x/y/manifests/flaky" => match f2.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::status(503),
            1 => Reply::error(429, "TOOMANYREQUESTS", "slow down").header("Retry-After", "1"),
            _ => Reply::body(200, m2.clone()).header("Content-Type", MEDIA_OCI_MANIFEST),
        },
        "/v2/x/y/manifests/down" => Reply::error(500, "UNKNOWN", "disk on fire"),
        _ => Reply::error(404, "MANIFEST_UNKNOWN", "manifest unknown"),
    });
    let c = client(RegistryConfig::default());
    let host = srv.host();

    let t = Instant::now();
    let m = c.get_manifest(&reference(&host, "x/y:flaky")).unwrap();
    assert_eq!(m.bytes, manifest);
    assert!(
        t.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(srv.requests_to("/v2/x/y/manifests/flaky").len(), 3);

    let (e, s) = err_text(c.get_manifest(&reference(&host, "x/y:missing")));
    assert!(e.is_not_found(), "{s}");
    assert_eq!(srv.requests_to("/v2/x/y/manifests/missing").len(), 1);

    let (e, s) = err_text(c.get_manifest(&reference(&host, "x/y:down")));
    assert_eq!(e.status(), Some(500), "{s}");
    assert!(
        s.contains("disk on fire (UNKNOWN)") && s.contains("retry later"),
        "{s}"
    );
    assert_eq!(srv.requests_to("/v2/x/y/manifests/down").len(), 4);

    // Nothing listening: a connection error, retried, then reported.
    let port = registry_fixture::free_port("127.0.0.1");
    let (e, s) = err_text(c.get_manifest(&reference(&format!("127.0.0.1:{port}"), "x/y:v")));
    assert!(matches!(e, RegistryError::Transport { .. }), "{e:?}");
    assert!(s.contains("cannot reach"), "{s}");
}

#[test]
fn mirrors_first_then_the_registry() {
    if unprivileged() {
        return;
    }
    let manifest = |n: u8| {
        format!(r#"{{"schemaVersion":2,"mediaType":"{MEDIA_OCI_MANIFEST}","config":{{}},"layers":[],"n":{n}}}"#).into_bytes()
    };
    let (m1, m2) = (manifest(1), manifest(2));
    let (m1c, m2c) = (m1.clone(), m2.clone());
    let mirror = TinyServer::start("127.0.0.1", move |req| {
        if req.path() == "/v2/hub/team/app/manifests/v1" {
            Reply::body(200, m1c.clone()).header("Content-Type", MEDIA_OCI_MANIFEST)
        } else {
            Reply::error(404, "MANIFEST_UNKNOWN", "not on the mirror")
        }
    });
    let registry = TinyServer::start("127.0.0.1", move |req| {
        if req.path() == "/v2/team/app/manifests/v2" {
            Reply::body(200, m2c.clone()).header("Content-Type", MEDIA_OCI_MANIFEST)
        } else {
            Reply::error(404, "MANIFEST_UNKNOWN", "manifest unknown")
        }
    });
    let c = client(RegistryConfig {
        mirrors: [(registry.host(), vec![format!("{}/hub", mirror.host())])].into(),
        ..RegistryConfig::default()
    });
    assert_eq!(
        c.get_manifest(&reference(&registry.host(), "team/app:v1"))
            .unwrap()
            .bytes,
        m1
    );
    assert!(registry.requests_to("/v2/team/").is_empty());
    assert_eq!(
        c.get_manifest(&reference(&registry.host(), "team/app:v2"))
            .unwrap()
            .bytes,
        m2
    );
    assert_eq!(mirror.requests_to("/v2/hub/team/app/manifests/v2").len(), 1);
    assert_eq!(registry.requests_to("/v2/team/app/manifests/v2").len(), 1);
    // Missing everywhere: the registry's answer is reported.
    let (_, s) = err_text(c.get_manifest(&reference(&registry.host(), "team/app:v3")));
    assert!(
        s.contains(&registry.host()) && s.contains("manifest unknown"),
        "{s}"
    );
}

#[test]
fn plain_http_and_credentials_only_for_loopback_or_insecure_hosts() {
    if unprivileged() {
        return;
    }
    // Traffic stays on loopback: the "remote" host is a name for 127.0.0.1.
    let alias = remote_alias();
    if !common::require(
        alias.is_some(),
        "the host name coracle-remote.test resolving to 127.0.0.1 (added to /etc/hosts as root)",
    ) {
        return;
    }
    let alias = alias.unwrap();
    let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}"#.to_vec();
    let m2 = manifest.clone();
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("dave:pw")
    );
    let srv = TinyServer::start("127.0.0.1", move |req| {
        if req.path() == "/token" {
            return Reply::body(200, r#"{"token":"t"}"#);
        }
        if req.header("authorization") != Some(basic.as_str()) {
            return Reply::error(401, "UNAUTHORIZED", "authentication required")
                .header("WWW-Authenticate", r#"Basic realm="tiny""#);
        }
        Reply::body(200, m2.clone()).header("Content-Type", MEDIA_OCI_MANIFEST)
    });
    let port = srv.host().rsplit_once(':').unwrap().1.to_string();
    let remote = format!("{alias}:{port}");
    let dir = tempfile::tempdir().unwrap();
    let auth = auth_file(dir.path(), &remote, "dave", "pw");
    let r = reference(&remote, "x/y:v1");

    // Not declared insecure: HTTPS only, which the server does not speak;
    // no plain-HTTP request is ever made.
    let strict = client(RegistryConfig {
        auth_files: vec![auth.clone()],
        ..RegistryConfig::default()
    });
    let (e, s) = err_text(strict.get_manifest(&r));
    assert!(matches!(e, RegistryError::Transport { .. }), "{e:?}");
    assert!(s.contains("https://") && s.contains("insecure"), "{s}");
    assert!(srv.requests().is_empty(), "{:?}", srv.requests());

    // Declared insecure (or TLS verification off): plain HTTP, credentials too.
    for cfg in [
        RegistryConfig {
            insecure: vec![remote.clone()],
            auth_files: vec![auth.clone()],
            ..RegistryConfig::default()
        },
        RegistryConfig {
            tls_verify: false,
            auth_files: vec![auth.clone()],
            ..RegistryConfig::default()
        },
    ] {
        assert_eq!(client(cfg).get_manifest(&r).unwrap().bytes, manifest);
    }

    // A loopback registry whose token realm is plain HTTP on a host not
    // declared insecure: the credentials are not sent there.
    let realm = format!("http://{remote}/token");
    let reg = TinyServer::start("127.0.0.1", move |_| {
        Reply::error(401, "UNAUTHORIZED", "authentication required").header(
            "WWW-Authenticate",
            &format!(r#"Bearer realm="{realm}",service="s""#),
        )
    });
    let c = client(RegistryConfig {
        auth_files: vec![auth_file(dir.path(), &reg.host(), "dave", "pw")],
        ..RegistryConfig::default()
    });
    let before = srv.requests_to("/token").len();
    let (e, s) = err_text(c.get_manifest(&reference(&reg.host(), "x/y:v1")));
    assert!(matches!(e, RegistryError::Auth { .. }), "{e:?}");
    assert!(s.contains("refusing to send the credentials"), "{s}");
    assert_eq!(srv.requests_to("/token").len(), before);
}
