//! OCI distribution API v2 client: manifests, blobs, pushes and logins.
//!
//! # Transport
//!
//! HTTPS with the system's root certificates by default. Plain HTTP is used
//! only for a registry that may be reached that way: a loopback registry
//! (`localhost`, `127.0.0.0/8`, `[::1]`), a host listed under `insecure` in
//! `registries.toml`, or any registry when TLS verification is turned off
//! (`tls_verify = false`, Podman's `--tls-verify=false`). For those, HTTPS is
//! still tried first (one probe of `/v2/` per host and client) and plain HTTP
//! is used when the HTTPS attempt fails at the transport level, as Docker
//! does for insecure registries.
//!
//! # Authentication
//!
//! Requests go out anonymously first. On `401 Unauthorized` the
//! `WWW-Authenticate` challenge is followed: `Bearer` gets a token from the
//! realm (with the user's Basic credentials, when there are any) for the
//! scope `repository:NAME:pull` (`pull,push` for pushes), cached per host,
//! scope and user until it expires; `Basic` retries with the credentials.
//! Credentials come from the auth files (`{"auths": {"host": {"auth":
//! base64("user:password")}}}`), and are never sent over plain HTTP except to
//! a loopback host or one the user declared insecure. The `Authorization`
//! header is never forwarded on redirects (blob downloads are commonly
//! redirected to a CDN on another host), nor sent to an upload location on
//! another origin than the registry's.
//!
//! # Robustness
//!
//! 429, 5xx and connection errors are retried three times, after 0.2, 0.4
//! and 0.8 s (a `Retry-After` of up to 5 s is honoured instead); 401, 403 and
//! 404 are not. Blob downloads resume with `Range` after a dropped connection
//! and are verified against their digest and size; manifests fetched by
//! digest are verified against it. Everything read from a registry is size
//! limited: manifests 4 MiB, token responses 1 MiB, error bodies 64 KiB.
//! Text from the registry (error messages) is stripped of control characters
//! before it reaches the terminal.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use thiserror::Error;

use super::digest::Digest;
use super::reference::Reference;

/// OCI image manifest.
pub const MEDIA_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const MEDIA_OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker image manifest, schema 2.
pub const MEDIA_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list (schema 2).
pub const MEDIA_DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const MEDIA_DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
const MEDIA_DOCKER_SCHEMA1_SIGNED: &str =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

/// The manifest media types the client accepts, in order of preference.
pub const MANIFEST_MEDIA_TYPES: [&str; 4] = [
    MEDIA_OCI_INDEX,
    MEDIA_OCI_MANIFEST,
    MEDIA_DOCKER_LIST,
    MEDIA_DOCKER_MANIFEST,
];

/// Largest manifest or index accepted (as containerd and the OCI spec).
pub const MANIFEST_LIMIT: u64 = 4 << 20;
/// Largest token response accepted.
pub const TOKEN_LIMIT: u64 = 1 << 20;
/// Largest error body read (the rest is ignored).
pub const ERROR_BODY_LIMIT: u64 = 64 << 10;

/// Retries after the first attempt.
const RETRIES: u32 = 3;
/// The first retry delay; doubled for each further retry.
const RETRY_DELAY: Duration = Duration::from_millis(200);
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);
/// How often a blob download that made progress may start over its retries.
const MAX_PROGRESS_RESETS: u32 = 10;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const IO_TIMEOUT: Duration = Duration::from_secs(60);
const PROBE_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest registry message shown to the user.
const MESSAGE_MAX: usize = 400;

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

/// Registry settings: `$XDG_CONFIG_HOME/coracle/registries.toml` and the auth
/// files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryConfig {
    /// Hosts (`host` or `host:port`) that may be reached over plain HTTP,
    /// and to which credentials may then be sent.
    pub insecure: Vec<String>,
    /// Verify TLS; when false, every registry may be reached over plain
    /// HTTP (Podman's `--tls-verify=false`).
    pub tls_verify: bool,
    /// Registry name (`docker.io`) -> mirrors (`host[:port][/path]`), tried
    /// in order before the registry itself, for pulls.
    pub mirrors: BTreeMap<String, Vec<String>>,
    /// Auth files, in order of precedence (the first one with an entry for
    /// a registry wins).
    pub auth_files: Vec<PathBuf>,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            insecure: Vec::new(),
            tls_verify: true,
            mirrors: BTreeMap::new(),
            auth_files: Vec::new(),
        }
    }
}

/// `registries.toml` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistriesToml {
    #[serde(default)]
    insecure: Vec<String>,
    #[serde(default)]
    mirrors: BTreeMap<String, Vec<String>>,
}

impl RegistryConfig {
    /// The Docker credential helper (`credHelpers`, else `credsStore`) that
    /// the auth files assign to `registry`, and the file that does.
    pub fn credential_helper(&self, registry: &str) -> anyhow::Result<Option<(String, PathBuf)>> {
        let store = AuthStore::load(&self.auth_files).map_err(anyhow::Error::msg)?;
        Ok(store.helper_for(registry))
    }

    /// Reads `$XDG_CONFIG_HOME/coracle/registries.toml` (a missing file
    /// means the defaults):
    ///
    /// ```toml
    /// insecure = ["registry.lan:5000"]
    /// [mirrors]
    /// "docker.io" = ["mirror.example:5000"]
    /// ```
    ///
    /// The auth files are `$XDG_RUNTIME_DIR/containers/auth.json` (Podman's)
    /// and then `~/.docker/config.json` (`$DOCKER_CONFIG/config.json`).
    pub fn load() -> anyhow::Result<Self> {
        Self::load_with(&|k| std::env::var(k).ok())
    }

    /// [`RegistryConfig::load`] with the environment given as a function.
    pub fn load_with(env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let var = |k: &str| env(k).filter(|v| !v.is_empty());
        let home = var("HOME").map(PathBuf::from).or_else(|| {
            nix::unistd::User::from_uid(nix::unistd::Uid::current())
                .ok()
                .flatten()
                .map(|u| u.dir)
        });
        let config_home = var("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| home.as_ref().map(|h| h.join(".config")));
        let mut cfg = match &config_home {
            Some(dir) => {
                let path = dir.join("coracle/registries.toml");
                match std::fs::read_to_string(&path) {
                    Ok(text) => Self::parse_toml(&text)
                        .with_context(|| format!("read {}", path.display()))?,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Self::default(),
                    Err(e) => return Err(e).with_context(|| format!("read {}", path.display())),
                }
            }
            None => Self::default(),
        };
        if let Some(run) = var("XDG_RUNTIME_DIR").map(PathBuf::from) {
            cfg.auth_files.push(run.join("containers/auth.json"));
        }
        let docker_dir = var("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".docker")));
        if let Some(d) = docker_dir {
            cfg.auth_files.push(d.join("config.json"));
        }
        Ok(cfg)
    }

    /// Parses and validates the text of `registries.toml` (no auth files).
    pub fn parse_toml(text: &str) -> anyhow::Result<Self> {
        let raw: RegistriesToml = toml::from_str(text).map_err(|e| {
            anyhow::anyhow!(
                "{}; expected `insecure = [\"host:port\", ...]` and a `[mirrors]` table of \"registry\" = [\"host[:port][/path]\", ...]",
                e.message()
            )
        })?;
        for h in &raw.insecure {
            if !valid_host_port(h) {
                anyhow::bail!(
                    "insecure registry {h:?}: expected host or host:port, without scheme or path"
                );
            }
        }
        let mut mirrors = BTreeMap::new();
        for (registry, list) in raw.mirrors {
            let key = normalize_registry(&registry);
            if !valid_host_port(&key) {
                anyhow::bail!("mirrors for {registry:?}: expected a registry name such as docker.io or host:port");
            }
            for m in &list {
                if parse_mirror(m).is_none() {
                    anyhow::bail!("mirror {m:?} of {registry}: expected host[:port][/path], without scheme (plain HTTP mirrors go under `insecure`)");
                }
            }
            mirrors.entry(key).or_insert_with(Vec::new).extend(list);
        }
        Ok(Self {
            insecure: raw.insecure,
            mirrors,
            ..Self::default()
        })
    }
}

fn valid_host_port(s: &str) -> bool {
    !s.is_empty()
        && !s.contains("://")
        && !s.contains('/')
        && s.bytes().all(|b| b.is_ascii_graphic())
}

/// `docker.io` for Docker Hub's spellings, the lowercase host otherwise.
fn normalize_registry(s: &str) -> String {
    let s = s.trim().to_ascii_lowercase();
    match s.as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        _ => s,
    }
}

/// `host[:port][/path]` -> (host[:port], "path/" or "").
fn parse_mirror(s: &str) -> Option<(String, String)> {
    if s.contains("://") || s.is_empty() {
        return None;
    }
    let (host, path) = match s.split_once('/') {
        Some((h, p)) => (h, p.trim_matches('/')),
        None => (s, ""),
    };
    if !valid_host_port(host)
        || path.split('/').any(|c| c.is_empty() && !path.is_empty())
        || !path.bytes().all(|b| b.is_ascii_graphic())
    {
        return None;
    }
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}/")
    };
    Some((host.to_string(), prefix))
}

/// The host part of `host[:port]` (brackets kept for IPv6).
pub use super::reference::host_is_loopback;
use super::reference::host_of as host_only;

// ---------------------------------------------------------------------------
// Platforms
// ---------------------------------------------------------------------------

/// An image platform, `os/architecture[/variant]` with Go's names
/// (`linux/amd64`, `linux/arm/v7`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("invalid platform {0:?}: expected os/arch[/variant], e.g. linux/amd64 or linux/arm/v7")]
pub struct PlatformError(pub String);

impl Platform {
    /// This machine's: `linux` and the architecture coracle was built for.
    pub fn host() -> Self {
        Self {
            os: "linux".to_string(),
            architecture: goarch(std::env::consts::ARCH).to_string(),
            variant: None,
        }
    }
}

/// Go's name (GOARCH) for a Rust `target_arch`.
fn goarch(arch: &str) -> &str {
    let le = cfg!(target_endian = "little");
    match arch {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "arm" => "arm",
        "powerpc64" if le => "ppc64le",
        "powerpc64" => "ppc64",
        "powerpc" => "ppc",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        "mips64" if le => "mips64le",
        "mips64" => "mips64",
        "mips" if le => "mipsle",
        "mips" => "mips",
        "loongarch64" => "loong64",
        other => other,
    }
}

/// Normalises an architecture (and variant) as containerd does:
/// `x86_64` -> `amd64`, `aarch64` -> `arm64`, `armhf` -> `arm/v7`; the
/// default variants (`arm64/v8`, `amd64/v1`) become none.
fn normalize_arch(arch: &str, variant: Option<&str>) -> (String, Option<String>) {
    let arch = arch.to_ascii_lowercase();
    let variant = variant
        .map(|v| v.to_ascii_lowercase())
        .filter(|v| !v.is_empty());
    let (a, v) = match arch.as_str() {
        "x86_64" | "x86-64" | "amd64" => ("amd64", variant.filter(|v| v != "v1")),
        "i386" | "i486" | "i586" | "i686" | "386" => ("386", variant),
        "aarch64" | "arm64" => ("arm64", variant.filter(|v| v != "v8" && v != "8")),
        "armhf" => ("arm", Some("v7".to_string())),
        "armel" => ("arm", Some("v6".to_string())),
        "arm" => (
            "arm",
            variant.map(|v| match v.as_str() {
                "5" | "6" | "7" | "8" => format!("v{v}"),
                _ => v,
            }),
        ),
        _ => (arch.as_str(), variant),
    };
    (a.to_string(), v)
}

impl FromStr for Platform {
    type Err = PlatformError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || PlatformError(s.to_string());
        let parts: Vec<&str> = s.split('/').collect();
        if !(2..=3).contains(&parts.len())
            || parts.iter().any(|p| {
                p.is_empty()
                    || !p
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            })
        {
            return Err(bad());
        }
        let (architecture, variant) = normalize_arch(parts[1], parts.get(2).copied());
        Ok(Self {
            os: parts[0].to_ascii_lowercase(),
            architecture,
            variant,
        })
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// An index as far as platform selection needs it (both OCI indexes and
/// Docker manifest lists).
#[derive(Debug, Deserialize)]
struct IndexDoc {
    #[serde(default)]
    manifests: Vec<IndexEntry>,
}

#[derive(Debug, Deserialize)]
struct IndexEntry {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    platform: Option<PlatformDoc>,
}

#[derive(Debug, Deserialize)]
struct PlatformDoc {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

impl PlatformDoc {
    fn normalized(&self) -> Platform {
        let (architecture, variant) = normalize_arch(&self.architecture, self.variant.as_deref());
        Platform {
            os: self.os.to_ascii_lowercase(),
            architecture,
            variant,
        }
    }
}

/// The entry of `index` for `want`: os and architecture must match; a
/// wanted variant must match too; without one, the architecture's default
/// variant (none, or `v7` for arm) is preferred, else the first entry.
fn select_platform<'a>(index: &'a IndexDoc, want: &Platform) -> Option<&'a IndexEntry> {
    let (want_arch, want_variant) = normalize_arch(&want.architecture, want.variant.as_deref());
    let want_os = want.os.to_ascii_lowercase();
    let candidates: Vec<(&IndexEntry, Platform)> = index
        .manifests
        .iter()
        .filter(|e| e.media_type.is_empty() || is_manifest_type(&e.media_type))
        .filter_map(|e| Some((e, e.platform.as_ref()?.normalized())))
        .filter(|(_, p)| p.os == want_os && p.architecture == want_arch)
        .collect();
    if want_variant.is_some() {
        return candidates
            .into_iter()
            .find(|(_, p)| p.variant == want_variant)
            .map(|(e, _)| e);
    }
    let default_variant = (want_arch == "arm").then(|| "v7".to_string());
    candidates
        .iter()
        .find(|(_, p)| p.variant == default_variant)
        .or(candidates.first())
        .map(|(e, _)| *e)
}

/// The platforms of `index`, for error messages (`unknown/unknown`
/// attestation entries left out).
fn index_platforms(index: &IndexDoc) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in &index.manifests {
        let Some(p) = &e.platform else { continue };
        if p.os.is_empty() || p.os == "unknown" {
            continue;
        }
        let s = sanitize(&p.normalized().to_string(), 64);
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

fn is_manifest_type(t: &str) -> bool {
    t == MEDIA_OCI_MANIFEST || t == MEDIA_DOCKER_MANIFEST
}

fn is_index_type(t: &str) -> bool {
    t == MEDIA_OCI_INDEX || t == MEDIA_DOCKER_LIST
}

// ---------------------------------------------------------------------------
// Results and errors
// ---------------------------------------------------------------------------

/// A manifest or index as the registry served it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub bytes: Vec<u8>,
    pub media_type: String,
    /// The digest of `bytes`.
    pub digest: Digest,
}

impl Manifest {
    /// Whether this is an index (OCI index or Docker manifest list).
    pub fn is_index(&self) -> bool {
        is_index_type(&self.media_type)
    }
}

#[derive(Debug, Error)]
pub enum RegistryError {
    #[error("{op}: {host} answered HTTP {status} {reason}{}", tail(.message, .hint))]
    Status {
        op: String,
        host: String,
        status: u16,
        reason: String,
        /// The registry's own error message(s), sanitised.
        message: Option<String>,
        hint: Option<String>,
    },
    #[error("{op}: cannot reach {url}: {reason}{}", tail(&None, .hint))]
    Transport {
        op: String,
        url: String,
        reason: String,
        hint: Option<String>,
    },
    #[error("{op}: digest mismatch: the content has digest {actual}, expected {expected}; the download is corrupt or was tampered with: delete it and retry")]
    DigestMismatch {
        op: String,
        expected: Digest,
        actual: Digest,
    },
    #[error("{op}: size mismatch: expected {expected} bytes, got {actual}; delete the download and retry")]
    SizeMismatch {
        op: String,
        expected: u64,
        actual: String,
    },
    #[error("{op}: the {what} is larger than the limit of {limit} bytes")]
    TooLarge {
        op: String,
        what: &'static str,
        limit: u64,
    },
    #[error("no manifest for {platform} in {reference}: available: {available}; choose one with --platform")]
    NoPlatform {
        reference: String,
        platform: String,
        available: String,
    },
    /// The registry sent something that breaks the protocol.
    #[error("{op}: {reason}")]
    Invalid { op: String, reason: String },
    /// Credentials cannot be used (unsafe transport, unreadable auth file).
    #[error("{op}: {reason}")]
    Auth { op: String, reason: String },
    #[error("{op}: {error}")]
    Io { op: String, error: io::Error },
}

fn tail(message: &Option<String>, hint: &Option<String>) -> String {
    let mut s = String::new();
    if let Some(m) = message {
        s.push_str(": ");
        s.push_str(m);
    }
    if let Some(h) = hint {
        s.push_str("; ");
        s.push_str(h);
    }
    s
}

impl RegistryError {
    /// The HTTP status, for errors that carry one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the registry said the manifest, blob or repository does not exist.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

/// What an operation is about, for hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum What {
    Manifest,
    Blob,
    Push,
    Login,
}

fn status_hint(what: What, status: u16, registry: &str, auth_sent: bool) -> Option<String> {
    Some(match (status, what) {
        (401, What::Login) => "check the user name and password".to_string(),
        (401, _) if auth_sent => {
            format!("the credentials were refused: log in again with `coracle login {registry}`")
        }
        (401, _) => format!("log in with `coracle login {registry}`"),
        (403, What::Push) => format!("the account may not push to this repository: check the image name, or log in with `coracle login {registry}`"),
        (403, _) => format!("access denied: check the image name, or log in with `coracle login {registry}`"),
        (404, What::Manifest) => "check the image name and tag".to_string(),
        (404, What::Blob) => "the registry does not have this blob: check the image name".to_string(),
        (404, _) => format!("check the image name, and that {registry} is an OCI registry"),
        (429, _) => "the registry is rate-limiting requests: wait and retry, or log in to raise the limit".to_string(),
        (500..=599, _) => "the registry failed: retry later".to_string(),
        _ => return None,
    })
}

/// The hint for a 401 `insufficient_scope` to a client that logged in.
fn scope_hint(what: What, registry: &str) -> String {
    let action = if what == What::Push {
        "push to"
    } else {
        "pull"
    };
    format!("the account may not {action} this repository: check the image name, or log in as a user who may with `coracle login {registry}`")
}

/// Escapes control characters and cuts `s` to `max` characters.
fn sanitize(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i >= max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The message(s) of a registry error body: `{"errors": [{"code",
/// "message"}]}`, or a token server's `{"details"}`/`{"error"}`.
fn error_body_message(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut parts = Vec::new();
    if let Some(errors) = v.get("errors").and_then(|e| e.as_array()) {
        for e in errors.iter().take(5) {
            let code = e.get("code").and_then(|c| c.as_str()).unwrap_or("");
            let msg = e.get("message").and_then(|c| c.as_str()).unwrap_or("");
            parts.push(match (msg.is_empty(), code.is_empty()) {
                (false, false) => format!("{msg} ({code})"),
                (false, true) => msg.to_string(),
                (true, false) => code.to_string(),
                (true, true) => continue,
            });
        }
    }
    for key in ["details", "message", "error_description", "error"] {
        if let Some(s) = v.get(key).and_then(|s| s.as_str()) {
            if !s.is_empty() {
                parts.push(s.to_string());
                break;
            }
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(sanitize(&parts.join("; "), MESSAGE_MAX))
}

// ---------------------------------------------------------------------------
// WWW-Authenticate
// ---------------------------------------------------------------------------

/// One challenge of a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Challenge {
    /// Lowercase (`bearer`, `basic`).
    scheme: String,
    /// Parameter names lowercase.
    params: BTreeMap<String, String>,
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Parses `Bearer realm="https://auth/token",service="x",scope="a:b:pull,push"`
/// (several challenges may follow each other). Never panics; malformed
/// input yields what could be parsed.
fn parse_challenges(header: &str) -> Vec<Challenge> {
    let chars: Vec<char> = header.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let skip_ws = |i: &mut usize| {
        while *i < chars.len() && (chars[*i] == ' ' || chars[*i] == '\t') {
            *i += 1;
        }
    };
    let token = |i: &mut usize| {
        let start = *i;
        while *i < chars.len() && is_tchar(chars[*i]) {
            *i += 1;
        }
        chars[start..*i].iter().collect::<String>()
    };
    loop {
        while i < chars.len() && (chars[i] == ',' || chars[i] == ' ' || chars[i] == '\t') {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let scheme = token(&mut i);
        if scheme.is_empty() {
            // Not a token: skip the character and look for the next challenge.
            i += 1;
            continue;
        }
        let mut ch = Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params: BTreeMap::new(),
        };
        loop {
            skip_ws(&mut i);
            while i < chars.len() && chars[i] == ',' {
                i += 1;
                skip_ws(&mut i);
            }
            let save = i;
            let name = token(&mut i);
            skip_ws(&mut i);
            if name.is_empty() || i >= chars.len() || chars[i] != '=' {
                // A new challenge's scheme (or garbage): stop here.
                i = save;
                break;
            }
            i += 1; // '='
            skip_ws(&mut i);
            let value = if i < chars.len() && chars[i] == '"' {
                i += 1;
                let mut v = String::new();
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    v.push(chars[i]);
                    i += 1;
                }
                if i < chars.len() {
                    i += 1; // closing quote
                }
                v
            } else {
                // Unquoted: a token, leniently anything up to a separator.
                let start = i;
                while i < chars.len() && !matches!(chars[i], ',' | ' ' | '\t') {
                    i += 1;
                }
                chars[start..i].iter().collect()
            };
            ch.params.insert(name.to_ascii_lowercase(), value);
        }
        let stalled = ch.params.is_empty() && i < chars.len() && !is_tchar(chars[i]);
        out.push(ch);
        if stalled {
            i += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------

#[derive(Clone, PartialEq, Eq)]
struct Creds {
    user: String,
    password: String,
    /// An identity token (OAuth2 refresh token: `identitytoken` in an auth
    /// file, or a credential helper's `<token>` answer): exchanged at the
    /// token realm for an access token instead of sending the password.
    identity_token: Option<String>,
}

impl fmt::Debug for Creds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Creds({:?}, <password>)", self.user)
    }
}

impl Creds {
    fn password(user: &str, password: &str) -> Self {
        Self {
            user: user.to_string(),
            password: password.to_string(),
            identity_token: None,
        }
    }

    /// Who a cached token belongs to: the user and a hash of the secrets
    /// (so that a wrong password never reuses a right one's token).
    fn id(&self) -> String {
        let secret = format!(
            "{}\0{}",
            self.password,
            self.identity_token.as_deref().unwrap_or("")
        );
        format!("{}:{}", self.user, Digest::of(secret.as_bytes()).hex())
    }

    fn basic(&self) -> String {
        let raw = format!("{}:{}", self.user, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

/// The credentials of the auth files, in order of precedence.
#[derive(Debug, Default)]
struct AuthStore {
    files: Vec<AuthSource>,
    /// PATH for finding credential helpers (`None`: coracle's own).
    helper_path: Option<std::ffi::OsString>,
    /// Credential helpers' answers by (helper, registry): each is asked once
    /// per client.
    asked: Mutex<HashMap<(String, String), Option<Creds>>>,
}

/// One auth file.
#[derive(Debug, Default)]
struct AuthSource {
    path: PathBuf,
    /// `auths`, keys normalised (`docker.io`, `host:port`, `host/namespace`).
    auths: HashMap<String, Creds>,
    /// `credsStore`: the credential helper for every registry.
    creds_store: Option<String>,
    /// `credHelpers`: registry -> credential helper, before `credsStore`.
    cred_helpers: HashMap<String, String>,
}

#[derive(Deserialize)]
struct AuthFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: HashMap<String, String>,
}

#[derive(Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// `https://index.docker.io/v1/` -> `docker.io`; `HOST/ns/` -> `host/ns`.
fn normalize_auth_key(key: &str) -> String {
    let key = key.trim();
    let (had_scheme, rest) = match key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
    {
        Some(r) => (true, r),
        None => (false, key),
    };
    let rest = if had_scheme {
        rest.split('/').next().unwrap_or("")
    } else {
        rest.trim_end_matches('/')
    };
    match rest.split_once('/') {
        Some((h, p)) => format!("{}/{}", normalize_registry(h), p),
        None => normalize_registry(rest),
    }
}

fn parse_auth_entry(e: &AuthEntry) -> Option<Creds> {
    let token = e
        .identitytoken
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let mut creds = None;
    if let Some(a) = e.auth.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        let compact: String = a.chars().filter(|c| !c.is_whitespace()).collect();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .or_else(|_| {
                base64::engine::general_purpose::STANDARD_NO_PAD.decode(compact.as_bytes())
            })
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (u, p) = text.split_once(':')?;
        creds = Some(Creds::password(u, p));
    } else if let (Some(u), Some(p)) = (&e.username, &e.password) {
        if !u.is_empty() {
            creds = Some(Creds::password(u, p));
        }
    }
    match (creds, token) {
        (Some(c), None) => Some(c),
        (c, Some(t)) => Some(Creds {
            identity_token: Some(t),
            ..c.unwrap_or_else(|| Creds::password("", ""))
        }),
        (None, None) => None,
    }
}

impl AuthStore {
    fn load(paths: &[PathBuf]) -> Result<Self, String> {
        let mut store = Self::default();
        for path in paths {
            let text = match std::fs::read(path) {
                Ok(t) => t,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(format!("read auth file {}: {e}", path.display())),
            };
            let file: AuthFile = serde_json::from_slice(&text).map_err(|e| {
                format!(
                    "parse auth file {}: {e}; fix it, or remove it and log in again",
                    path.display()
                )
            })?;
            let mut auths = HashMap::new();
            for (k, e) in &file.auths {
                if let Some(c) = parse_auth_entry(e) {
                    auths.entry(normalize_auth_key(k)).or_insert(c);
                }
            }
            store.files.push(AuthSource {
                path: path.clone(),
                auths,
                creds_store: file.creds_store.filter(|s| !s.is_empty()),
                cred_helpers: file
                    .cred_helpers
                    .iter()
                    .map(|(k, v)| (normalize_auth_key(k), v.clone()))
                    .collect(),
            });
        }
        Ok(store)
    }

    /// The credentials for `registry/repo`, from the first auth file that
    /// has some: its credential helper for the registry (`credHelpers`,
    /// else `credsStore`, as Docker), then its most specific `auths` entry
    /// (`registry/ns/repo`, `registry/ns`, then `registry`).
    fn lookup(&self, registry: &str, repo: &str) -> Result<Option<Creds>, String> {
        let registry = normalize_registry(registry);
        let mut keys = Vec::new();
        let mut path = repo.trim_matches('/').to_string();
        while !path.is_empty() {
            keys.push(format!("{registry}/{path}"));
            path = path
                .rsplit_once('/')
                .map_or(String::new(), |(p, _)| p.to_string());
        }
        keys.push(registry.clone());
        for file in &self.files {
            let helper = file
                .cred_helpers
                .get(&registry)
                .or(file.creds_store.as_ref());
            if let Some(helper) = helper {
                if let Some(c) = self.ask_helper(helper, &registry, &file.path)? {
                    return Ok(Some(c));
                }
            }
            if let Some(c) = keys.iter().find_map(|k| file.auths.get(k)) {
                return Ok(Some(c.clone()));
            }
        }
        Ok(None)
    }

    /// The credential helper the first auth file that names one assigns
    /// to `registry`, and that file.
    fn helper_for(&self, registry: &str) -> Option<(String, PathBuf)> {
        let registry = normalize_registry(registry);
        self.files.iter().find_map(|f| {
            f.cred_helpers
                .get(&registry)
                .or(f.creds_store.as_ref())
                .map(|h| (h.clone(), f.path.clone()))
        })
    }

    fn ask_helper(
        &self,
        helper: &str,
        registry: &str,
        origin: &Path,
    ) -> Result<Option<Creds>, String> {
        let key = (helper.to_string(), registry.to_string());
        if let Some(known) = lock(&self.asked).get(&key) {
            return Ok(known.clone());
        }
        let got = super::auth::helper_get(helper, registry, origin, self.helper_path.as_deref())
            .map_err(|e| format!("{e:#}"))?;
        let creds = got.map(|h| {
            if h.username == super::auth::IDENTITY_TOKEN_USER {
                Creds {
                    identity_token: Some(h.secret),
                    ..Creds::password("", "")
                }
            } else {
                Creds::password(&h.username, &h.secret)
            }
        });
        lock(&self.asked).insert(key, creds.clone());
        Ok(creds)
    }
}

// ---------------------------------------------------------------------------
// URLs
// ---------------------------------------------------------------------------

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// (scheme, authority) of an absolute http(s) URL.
fn url_origin(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.is_empty() {
        return None;
    }
    Some((scheme, authority))
}

/// Resolves a `Location` header against the URL of the request.
fn resolve_location(base: &str, location: &str) -> Option<String> {
    let location = location.trim();
    if location.is_empty() || location.chars().any(|c| c.is_control() || c == ' ') {
        return None;
    }
    if location.starts_with("http://") || location.starts_with("https://") {
        url_origin(location)?;
        return Some(location.to_string());
    }
    let (scheme, authority) = url_origin(base)?;
    if let Some(rest) = location.strip_prefix("//") {
        return Some(format!("{scheme}://{rest}"));
    }
    if location.starts_with('/') {
        return Some(format!("{scheme}://{authority}{location}"));
    }
    // Relative to the base path's directory.
    let path_start = scheme.len() + 3 + authority.len();
    let path = base[path_start..].split(['?', '#']).next().unwrap_or("");
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    Some(format!("{scheme}://{authority}{dir}/{location}"))
}

/// Appends `key=value` (percent-encoded) to the query of `url`.
fn add_query(url: &str, key: &str, value: &str) -> String {
    // A fragment is never sent: drop it.
    let base = url.split('#').next().unwrap_or(url);
    let sep = match base.find('?') {
        None => "?",
        Some(_) if base.ends_with('?') || base.ends_with('&') => "",
        Some(_) => "&",
    };
    format!("{base}{sep}{}={}", encode(key), encode(value))
}

/// `bytes START-END/TOTAL` -> (START, TOTAL if given).
fn parse_content_range(v: &str) -> Option<(u64, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.trim().split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end: u64 = end.trim().parse().ok()?;
    if end < start {
        return None;
    }
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((start, total))
}

fn parse_retry_after(v: Option<&str>) -> Option<Duration> {
    let secs: u64 = v?.trim().parse().ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

// ---------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------

/// Where a request goes: the registry itself, or one of its mirrors.
#[derive(Debug, Clone)]
struct Endpoint {
    /// `host[:port]` serving `/v2/`.
    host: String,
    /// Repository prefix on a mirror (`"path/"`), empty otherwise.
    prefix: String,
    /// The name credentials are filed under (`docker.io`, the mirror host).
    registry: String,
}

/// One operation's context: where, for what, with which scope.
struct Call<'a> {
    ep: &'a Endpoint,
    op: String,
    what: What,
    /// The repository path on the endpoint (prefix applied).
    repo: String,
    /// `repository:NAME:pull[,push]`, none for `/v2/`.
    scope: Option<String>,
    /// Credentials given explicitly (login) instead of the auth files'.
    creds: Option<Creds>,
}

#[derive(Debug)]
struct StatusFail {
    status: u16,
    reason: String,
    message: Option<String>,
    retry_after: Option<Duration>,
    auth_sent: bool,
    /// A 401 whose challenge says `error="insufficient_scope"`: the
    /// credentials are good, but not for this repository or action.
    insufficient_scope: bool,
}

/// Why one attempt failed, before it becomes a [`RegistryError`].
#[derive(Debug)]
enum Fail {
    Status(StatusFail),
    Transport {
        url: String,
        reason: String,
        retry: bool,
    },
    Error(Box<RegistryError>),
}

impl Fail {
    fn retryable(&self) -> bool {
        match self {
            Fail::Status(s) => s.status == 429 || (500..=599).contains(&s.status),
            Fail::Transport { retry, .. } => *retry,
            Fail::Error(_) => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Fail::Status(s) => s.retry_after,
            _ => None,
        }
    }

    fn from_response(resp: ureq::Response, auth_sent: bool) -> Fail {
        let status = resp.status();
        let reason = sanitize(resp.status_text(), 64);
        let retry_after = parse_retry_after(resp.header("retry-after"));
        let insufficient_scope = status == 401
            && parse_challenges(&resp.all("www-authenticate").join(", "))
                .iter()
                .any(|c| c.params.get("error").map(String::as_str) == Some("insufficient_scope"));
        let mut body = Vec::new();
        let _ = resp
            .into_reader()
            .take(ERROR_BODY_LIMIT)
            .read_to_end(&mut body);
        let message = error_body_message(&body).or_else(|| {
            let text = String::from_utf8_lossy(&body);
            let line = text.lines().find(|l| !l.trim().is_empty())?.trim();
            (!line.starts_with('<') && !line.starts_with('{')).then(|| sanitize(line, MESSAGE_MAX))
        });
        Fail::Status(StatusFail {
            status,
            reason,
            message,
            retry_after,
            auth_sent,
            insufficient_scope,
        })
    }

    fn from_transport(url: &str, t: &ureq::Transport) -> Fail {
        use ureq::ErrorKind as K;
        let reason = transport_reason(t);
        let lower = reason.to_ascii_lowercase();
        let retry = matches!(t.kind(), K::ConnectionFailed | K::Io | K::BadStatus)
            && !lower.contains("certificate");
        Fail::Transport {
            url: url.to_string(),
            reason,
            retry,
        }
    }

    fn io(url: &str, e: &io::Error) -> Fail {
        Fail::Transport {
            url: url.to_string(),
            reason: sanitize(&e.to_string(), MESSAGE_MAX),
            retry: true,
        }
    }
}

/// What went wrong in a transport error, without the URL (which the
/// error message shows once).
fn transport_reason(t: &ureq::Transport) -> String {
    let full = t.to_string();
    let text = match t.url() {
        Some(u) => full
            .strip_prefix(u.as_str())
            .and_then(|r| r.strip_prefix(": "))
            .unwrap_or(&full),
        None => &full,
    };
    sanitize(text, MESSAGE_MAX)
}

/// A request body.
enum Body<'a> {
    Empty,
    Bytes(&'a [u8]),
    /// Streamed once: a request with it is never repeated.
    Reader(&'a mut dyn Read),
}

#[derive(Debug, Clone)]
struct Token {
    value: String,
    expires: Instant,
}

/// An OCI distribution API v2 client. Shareable between threads.
pub struct Client {
    cfg: RegistryConfig,
    agent: ureq::Agent,
    retry_delay: Duration,
    /// host -> "http" or "https", for hosts that may use plain HTTP.
    schemes: Mutex<HashMap<String, &'static str>>,
    /// (host, scope, user) -> bearer token.
    tokens: Mutex<HashMap<(String, String, String), Token>>,
    /// Hosts that asked for Basic authentication.
    basic_hosts: Mutex<HashSet<String>>,
    auth_store: OnceLock<Result<AuthStore, String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Client {
    pub fn new(cfg: RegistryConfig) -> Self {
        let agent = ureq::AgentBuilder::new()
            .user_agent(concat!("coracle/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(CONNECT_TIMEOUT)
            .timeout_read(IO_TIMEOUT)
            .timeout_write(IO_TIMEOUT)
            .redirects(5)
            // Blob downloads are redirected to CDNs: credentials stay here.
            .redirect_auth_headers(ureq::RedirectAuthHeaders::Never)
            .try_proxy_from_env(false)
            .build();
        Self {
            cfg,
            agent,
            retry_delay: RETRY_DELAY,
            schemes: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
            basic_hosts: Mutex::new(HashSet::new()),
            auth_store: OnceLock::new(),
        }
    }

    /// Sets the first retry delay (default 200 ms, doubled per retry); for
    /// tests.
    pub fn with_retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }

    pub fn config(&self) -> &RegistryConfig {
        &self.cfg
    }

    // --- public API ------------------------------------------------------

    /// GETs the manifest or index `r` names (by digest when it has one, else
    /// by tag), from the registry's mirrors first. A manifest fetched by
    /// digest must match it.
    pub fn get_manifest(&self, r: &Reference) -> Result<Manifest, RegistryError> {
        let expected = r.digest.clone();
        self.fetch_manifest(r, &r.api_reference(), expected.as_ref(), &r.to_string())
    }

    /// The manifest of `r` for `platform`: an index is resolved to the entry
    /// for the platform, which is then fetched (and verified); a plain
    /// manifest is returned as it is.
    pub fn resolve_platform(
        &self,
        r: &Reference,
        platform: &Platform,
    ) -> Result<Manifest, RegistryError> {
        let m = self.get_manifest(r)?;
        if !m.is_index() {
            return Ok(m);
        }
        let op = format!("resolve {platform} in {r}");
        let index: IndexDoc =
            serde_json::from_slice(&m.bytes).map_err(|e| RegistryError::Invalid {
                op: op.clone(),
                reason: format!("invalid image index {}: {e}", m.digest),
            })?;
        let Some(entry) = select_platform(&index, platform) else {
            let available = index_platforms(&index);
            return Err(RegistryError::NoPlatform {
                reference: r.to_string(),
                platform: platform.to_string(),
                available: if available.is_empty() {
                    "none".to_string()
                } else {
                    available.join(", ")
                },
            });
        };
        let digest: Digest = entry.digest.parse().map_err(|e| RegistryError::Invalid {
            op: op.clone(),
            reason: format!("index {}: {e}", m.digest),
        })?;
        let child_ref = r.with_digest(digest.clone());
        let child = self.fetch_manifest(
            r,
            &digest.to_string(),
            Some(&digest),
            &child_ref.to_string(),
        )?;
        if child.is_index() {
            return Err(RegistryError::Invalid {
                op,
                reason: format!(
                    "the entry {digest} for {platform} is itself an index; nested indexes are not supported"
                ),
            });
        }
        Ok(child)
    }

    /// Streams blob `digest` of `r` into `out`, which may already hold a
    /// prefix of it (an interrupted download): the download resumes with
    /// `Range`, and starts over when the registry ignores it. The result is
    /// verified against `digest` (and `size` when given); on a mismatch the
    /// error names the blob and the caller should delete the file.
    ///
    /// `out` is written at its end; reading the prefix back needs `out`
    /// opened for reading too, or `/proc/self/fd` (without either, the
    /// download starts over).
    pub fn fetch_blob(
        &self,
        r: &Reference,
        digest: &Digest,
        size: Option<u64>,
        out: &mut File,
    ) -> Result<(), RegistryError> {
        let op = format!("fetch blob {digest} of {}", r.name());
        let io_err = |error| RegistryError::Io {
            op: op.clone(),
            error,
        };
        let mut st = BlobState::resume(out).map_err(io_err)?;
        if let Some(s) = size {
            if st.len > s {
                st.reset(out).map_err(io_err)?;
            } else if st.len == s && st.digest() == *digest {
                return Ok(());
            }
        }
        let eps = self.pull_endpoints(r);
        let mut last = None;
        for (i, ep) in eps.iter().enumerate() {
            match self.fetch_blob_from(ep, r, digest, size, out, &mut st, &op) {
                Ok(()) => return Ok(()),
                Err(e @ RegistryError::Io { .. }) => return Err(e),
                Err(e) => {
                    if i + 1 < eps.len()
                        && matches!(
                            e,
                            RegistryError::DigestMismatch { .. }
                                | RegistryError::SizeMismatch { .. }
                        )
                    {
                        st.reset(out).map_err(io_err)?;
                    }
                    last = Some(e);
                }
            }
        }
        Err(last.expect("at least the registry itself is tried"))
    }

    /// Whether the registry has blob `d` in the repository of `r` (HEAD).
    pub fn blob_exists(&self, r: &Reference, d: &Digest) -> Result<bool, RegistryError> {
        let ep = self.registry_endpoint(r);
        let call = self.call(
            &ep,
            r,
            format!("check blob {d} in {}", r.name()),
            What::Blob,
            false,
        );
        let url = self
            .url(&ep, &format!("{}/blobs/{d}", call.repo))
            .map_err(|f| self.error(&call, f))?;
        let res = self.with_retries(|| self.send(&call, "HEAD", &url, &[], Body::Empty));
        match res {
            Ok(resp) if (200..300).contains(&resp.status()) => Ok(true),
            Ok(resp) => Err(RegistryError::Invalid {
                op: call.op.clone(),
                reason: format!(
                    "unexpected HTTP {} {}",
                    resp.status(),
                    sanitize(resp.status_text(), 64)
                ),
            }),
            Err(Fail::Status(s)) if s.status == 404 => Ok(false),
            Err(f) => Err(self.error(&call, f)),
        }
    }

    /// Uploads blob `d` of `size` bytes to the repository of `r`: POST to
    /// start an upload, then one monolithic PUT to its location. The
    /// registry verifies the digest. The body is streamed once, so the PUT
    /// is not retried.
    /// Asks the registry to mount blob `d` into `r`'s repository from the
    /// repository `from` of the same registry (a cross-repository mount,
    /// as Docker does): no upload when it has the blob there. Whether it
    /// did; when not, the caller uploads the blob.
    pub fn mount_blob(&self, r: &Reference, d: &Digest, from: &str) -> Result<bool, RegistryError> {
        let ep = self.registry_endpoint(r);
        let mut call = self.call(
            &ep,
            r,
            format!("mount blob {d} into {} from {from}", r.name()),
            What::Push,
            true,
        );
        let from = format!("{}{from}", ep.prefix);
        call.scope = Some(format!(
            "repository:{}:pull,push repository:{from}:pull",
            call.repo
        ));
        let err = |f| self.error(&call, f);
        let url = self
            .url(&ep, &format!("{}/blobs/uploads/", call.repo))
            .map_err(err)?;
        let url = add_query(&add_query(&url, "mount", &d.to_string()), "from", &from);
        let resp = match self.with_retries(|| self.send(&call, "POST", &url, &[], Body::Bytes(b"")))
        {
            Ok(r) => r,
            // No access to the source (or no such repository): upload.
            Err(Fail::Status(s)) if matches!(s.status, 401 | 403 | 404) => return Ok(false),
            Err(f) => return Err(err(f)),
        };
        match resp.status() {
            201 => Ok(true),
            // The registry started an ordinary upload instead: drop it (the
            // caller starts its own), as an abandoned session expires anyway.
            202 => {
                if let Some(loc) = resp
                    .header("location")
                    .and_then(|l| resolve_location(&url, l))
                    .filter(|l| self.same_origin(&call, l))
                {
                    let _ = self.send(&call, "DELETE", &loc, &[], Body::Bytes(b""));
                }
                Ok(false)
            }
            other => Err(RegistryError::Invalid {
                op: call.op.clone(),
                reason: format!(
                    "mounting the blob: expected HTTP 201 or 202, got {other} {}",
                    sanitize(resp.status_text(), 64)
                ),
            }),
        }
    }

    pub fn push_blob(
        &self,
        r: &Reference,
        d: &Digest,
        mut data: impl Read,
        size: u64,
    ) -> Result<(), RegistryError> {
        let ep = self.registry_endpoint(r);
        let call = self.call(
            &ep,
            r,
            format!("push blob {d} to {}", r.name()),
            What::Push,
            true,
        );
        let err = |f| self.error(&call, f);
        let url = self
            .url(&ep, &format!("{}/blobs/uploads/", call.repo))
            .map_err(err)?;
        let resp = self
            .with_retries(|| self.send(&call, "POST", &url, &[], Body::Bytes(b"")))
            .map_err(err)?;
        if resp.status() != 202 {
            return Err(RegistryError::Invalid {
                op: call.op.clone(),
                reason: format!(
                    "starting the upload: expected HTTP 202, got {} {}",
                    resp.status(),
                    sanitize(resp.status_text(), 64)
                ),
            });
        }
        let location = resp
            .header("location")
            .and_then(|l| resolve_location(&url, l))
            .ok_or_else(|| RegistryError::Invalid {
                op: call.op.clone(),
                reason: "the registry started an upload without a valid Location header"
                    .to_string(),
            })?;
        let put_url = add_query(&location, "digest", &d.to_string());
        let len = size.to_string();
        let mut body = ExactReader {
            inner: &mut data,
            remaining: size,
            size,
        };
        let resp = self
            .send(
                &call,
                "PUT",
                &put_url,
                &[
                    ("Content-Type", "application/octet-stream"),
                    ("Content-Length", &len),
                ],
                Body::Reader(&mut body),
            )
            .map_err(err)?;
        if resp.status() != 201 && resp.status() != 204 && resp.status() != 200 {
            return Err(RegistryError::Invalid {
                op: call.op.clone(),
                reason: format!(
                    "completing the upload: expected HTTP 201, got {} {}",
                    resp.status(),
                    sanitize(resp.status_text(), 64)
                ),
            });
        }
        Ok(())
    }

    /// PUTs a manifest or index under the tag of `r`, or under its digest
    /// when it has one (the body must then match it). Returns the digest of
    /// `body`.
    pub fn put_manifest(
        &self,
        r: &Reference,
        media_type: &str,
        body: &[u8],
    ) -> Result<Digest, RegistryError> {
        let ep = self.registry_endpoint(r);
        let call = self.call(&ep, r, format!("push manifest {r}"), What::Push, true);
        if body.len() as u64 > MANIFEST_LIMIT {
            return Err(RegistryError::TooLarge {
                op: call.op,
                what: "manifest",
                limit: MANIFEST_LIMIT,
            });
        }
        if media_type.is_empty() || media_type.chars().any(|c| c.is_control()) {
            return Err(RegistryError::Invalid {
                op: call.op,
                reason: format!("invalid media type {media_type:?}"),
            });
        }
        let digest = Digest::of(body);
        if let Some(want) = &r.digest {
            if *want != digest {
                return Err(RegistryError::Invalid {
                    op: call.op,
                    reason: format!("the manifest's digest is {digest}, not the one the reference names; push it by tag, or under its own digest"),
                });
            }
        }
        let url = self
            .url(
                &ep,
                &format!("{}/manifests/{}", call.repo, r.api_reference()),
            )
            .map_err(|f| self.error(&call, f))?;
        let resp = self
            .with_retries(|| {
                self.send(
                    &call,
                    "PUT",
                    &url,
                    &[("Content-Type", media_type)],
                    Body::Bytes(body),
                )
            })
            .map_err(|f| self.error(&call, f))?;
        if !(200..300).contains(&resp.status()) {
            return Err(RegistryError::Invalid {
                op: call.op,
                reason: format!(
                    "expected HTTP 201, got {} {}",
                    resp.status(),
                    sanitize(resp.status_text(), 64)
                ),
            });
        }
        Ok(digest)
    }

    /// Checks `user`/`password` against `registry` (`docker.io`,
    /// `host:port`): GET `/v2/`, answering a Basic challenge with them or
    /// getting a Bearer token with them. A registry that serves `/v2/`
    /// without authentication accepts any credentials (as with Docker).
    pub fn check_login(
        &self,
        registry: &str,
        user: &str,
        password: &str,
    ) -> Result<(), RegistryError> {
        let key = normalize_auth_key(registry);
        let name = key.split('/').next().unwrap_or("").to_string();
        let op = format!("log in to {name}");
        if name.is_empty() || !valid_host_port(&name) {
            return Err(RegistryError::Invalid {
                op,
                reason: "expected a registry host such as docker.io or registry.example.com:5000"
                    .to_string(),
            });
        }
        if user.is_empty() || user.contains(':') {
            return Err(RegistryError::Auth {
                op,
                reason: "the user name must be non-empty and without ':'".to_string(),
            });
        }
        let host = if name == "docker.io" {
            "registry-1.docker.io".to_string()
        } else {
            name.clone()
        };
        let ep = Endpoint {
            host,
            prefix: String::new(),
            registry: name,
        };
        let call = Call {
            ep: &ep,
            op,
            what: What::Login,
            repo: String::new(),
            scope: None,
            creds: Some(Creds::password(user, password)),
        };
        let url = self.url(&ep, "").map_err(|f| self.error(&call, f))?;
        // Credentials go out only after the registry asks for them: a
        // 200 without a challenge means that it does not check them.
        self.with_retries(|| self.send(&call, "GET", &url, &[], Body::Empty))
            .map_err(|f| self.error(&call, f))?;
        Ok(())
    }

    // --- endpoints and URLs ----------------------------------------------

    fn registry_endpoint(&self, r: &Reference) -> Endpoint {
        Endpoint {
            host: r.api_host(),
            prefix: String::new(),
            registry: r.registry.clone(),
        }
    }

    /// The mirrors of `r`'s registry, then the registry.
    fn pull_endpoints(&self, r: &Reference) -> Vec<Endpoint> {
        let mut eps: Vec<Endpoint> = self
            .cfg
            .mirrors
            .get(&normalize_registry(&r.registry))
            .into_iter()
            .flatten()
            .filter_map(|m| parse_mirror(m))
            .map(|(host, prefix)| Endpoint {
                registry: host.clone(),
                host,
                prefix,
            })
            .collect();
        eps.push(self.registry_endpoint(r));
        eps
    }

    fn call<'a>(
        &self,
        ep: &'a Endpoint,
        r: &Reference,
        op: String,
        what: What,
        push: bool,
    ) -> Call<'a> {
        let repo = format!("{}{}", ep.prefix, r.repository);
        let access = if push { "pull,push" } else { "pull" };
        Call {
            ep,
            op,
            what,
            scope: Some(format!("repository:{repo}:{access}")),
            repo,
            creds: None,
        }
    }

    /// Whether plain HTTP may be used for `hostport` (and credentials sent
    /// over it).
    fn http_allowed(&self, hostport: &str) -> bool {
        if !self.cfg.tls_verify || host_is_loopback(hostport) {
            return true;
        }
        let host = host_only(hostport);
        self.cfg.insecure.iter().any(|i| {
            let i = normalize_registry(i);
            i.eq_ignore_ascii_case(hostport) || i.eq_ignore_ascii_case(host)
        })
    }

    /// Whether credentials may be sent to `url`.
    fn creds_allowed(&self, url: &str) -> bool {
        match url_origin(url) {
            Some(("https", _)) => true,
            Some(("http", authority)) => {
                let hostport = authority.rsplit('@').next().unwrap_or(authority);
                self.http_allowed(hostport)
            }
            _ => false,
        }
    }

    /// `SCHEME://HOST`, probing which scheme a host that may use plain HTTP
    /// speaks.
    fn base(&self, host: &str) -> Result<String, Fail> {
        if !self.http_allowed(host) {
            return Ok(format!("https://{host}"));
        }
        if let Some(s) = lock(&self.schemes).get(host) {
            return Ok(format!("{s}://{host}"));
        }
        let probe = |scheme: &str| {
            let url = format!("{scheme}://{host}/v2/");
            match self.agent.get(&url).timeout(PROBE_TIMEOUT).call() {
                Ok(_) | Err(ureq::Error::Status(..)) => Ok(()),
                Err(ureq::Error::Transport(t)) => Err(transport_reason(&t)),
            }
        };
        let scheme = match probe("https") {
            Ok(()) => "https",
            Err(https) => match probe("http") {
                Ok(()) => "http",
                Err(http) => {
                    return Err(Fail::Transport {
                        url: format!("https://{host}/v2/"),
                        reason: format!("{https}; over plain HTTP: {http}"),
                        retry: false,
                    })
                }
            },
        };
        lock(&self.schemes).insert(host.to_string(), scheme);
        Ok(format!("{scheme}://{host}"))
    }

    /// The URL of `/v2/<path>` on `ep`.
    fn url(&self, ep: &Endpoint, path: &str) -> Result<String, Fail> {
        Ok(format!("{}/v2/{path}", self.base(&ep.host)?))
    }

    // --- errors ------------------------------------------------------------

    fn error(&self, call: &Call, fail: Fail) -> RegistryError {
        match fail {
            Fail::Error(e) => *e,
            Fail::Status(s) => RegistryError::Status {
                op: call.op.clone(),
                host: call.ep.host.clone(),
                status: s.status,
                reason: s.reason,
                message: s.message,
                hint: if s.insufficient_scope && s.auth_sent {
                    Some(scope_hint(call.what, &call.ep.registry))
                } else {
                    status_hint(call.what, s.status, &call.ep.registry, s.auth_sent)
                },
            },
            Fail::Transport { url, reason, .. } => {
                let lower = reason.to_ascii_lowercase();
                let tlsish = ["tls", "certificate", "corrupt", "handshake", "invalid"]
                    .iter()
                    .any(|w| lower.contains(w));
                let hint = if tlsish && !self.http_allowed(&call.ep.host) {
                    format!(
                        "if {} serves plain HTTP, list it under `insecure` in $XDG_CONFIG_HOME/coracle/registries.toml",
                        call.ep.host
                    )
                } else {
                    "check the network connection and the registry address".to_string()
                };
                RegistryError::Transport {
                    op: call.op.clone(),
                    url,
                    reason,
                    hint: Some(hint),
                }
            }
        }
    }

    // --- authentication ----------------------------------------------------

    fn auth_store(&self) -> Result<&AuthStore, String> {
        self.auth_store
            .get_or_init(|| AuthStore::load(&self.cfg.auth_files))
            .as_ref()
            .map_err(Clone::clone)
    }

    fn creds(&self, call: &Call) -> Result<Option<Creds>, Fail> {
        if let Some(c) = &call.creds {
            return Ok(Some(c.clone()));
        }
        let store = self.auth_store().map_err(|reason| {
            Fail::Error(Box::new(RegistryError::Auth {
                op: call.op.clone(),
                reason,
            }))
        })?;
        store
            .lookup(&call.ep.registry, &call.repo)
            .map_err(|reason| {
                Fail::Error(Box::new(RegistryError::Auth {
                    op: call.op.clone(),
                    reason,
                }))
            })
    }

    /// Whether `url` is on the endpoint's own origin (auth may go there).
    fn same_origin(&self, call: &Call, url: &str) -> bool {
        let Ok(base) = self.base(&call.ep.host) else {
            return false;
        };
        url_origin(url).is_some() && url_origin(url) == url_origin(&format!("{base}/"))
    }

    /// The `Authorization` to send up front: a cached token for the scope
    /// (a push token serves pulls too), or Basic for a host known to want it.
    fn cached_auth(&self, call: &Call, url: &str) -> Option<String> {
        if !self.same_origin(call, url) {
            return None;
        }
        let creds = self.creds(call).ok().flatten();
        let who = creds.as_ref().map(Creds::id).unwrap_or_default();
        let scope = call.scope.clone().unwrap_or_default();
        let mut scopes = vec![scope.clone()];
        if let Some(s) = scope.strip_suffix(":pull") {
            scopes.push(format!("{s}:pull,push"));
        }
        {
            let tokens = lock(&self.tokens);
            let now = Instant::now();
            for s in scopes {
                if let Some(t) = tokens.get(&(call.ep.host.clone(), s, who.clone())) {
                    if t.expires > now {
                        return Some(format!("Bearer {}", t.value));
                    }
                }
            }
        }
        if lock(&self.basic_hosts).contains(&call.ep.host) && self.creds_allowed(url) {
            return creds.map(|c| c.basic());
        }
        None
    }

    /// Answers a 401's challenges: `Some(Authorization)` to retry with, or
    /// `None` when there is nothing to try.
    fn authenticate(
        &self,
        call: &Call,
        url: &str,
        challenges: &[Challenge],
    ) -> Result<Option<String>, Fail> {
        let bearer = challenges.iter().find(|c| c.scheme == "bearer");
        let basic = challenges.iter().find(|c| c.scheme == "basic");
        if let Some(ch) = bearer {
            return self.bearer_token(call, ch).map(Some);
        }
        if basic.is_some() {
            let Some(creds) = self.creds(call)? else {
                return Ok(None);
            };
            if !self.creds_allowed(url) {
                return Err(Fail::Error(Box::new(self.refuse_plain_http(call, url))));
            }
            lock(&self.basic_hosts).insert(call.ep.host.clone());
            return Ok(Some(creds.basic()));
        }
        Ok(None)
    }

    fn refuse_plain_http(&self, call: &Call, url: &str) -> RegistryError {
        let host = url_origin(url).map_or(url, |(_, a)| a);
        RegistryError::Auth {
            op: call.op.clone(),
            reason: format!(
                "refusing to send the credentials for {} over plain HTTP to {host}; list {host} under `insecure` in $XDG_CONFIG_HOME/coracle/registries.toml if that is intended",
                call.ep.registry
            ),
        }
    }

    /// Gets (and caches) a bearer token from the challenge's realm.
    fn bearer_token(&self, call: &Call, ch: &Challenge) -> Result<String, Fail> {
        let invalid = |reason: String| {
            Fail::Error(Box::new(RegistryError::Invalid {
                op: call.op.clone(),
                reason,
            }))
        };
        let realm = ch.params.get("realm").map(String::as_str).unwrap_or("");
        if url_origin(realm).is_none() || realm.chars().any(|c| c.is_control() || c == ' ') {
            return Err(invalid(format!(
                "the registry asked for a bearer token with an invalid realm {:?}",
                sanitize(realm, 200)
            )));
        }
        let creds = self.creds(call)?;
        if creds.is_some() && !self.creds_allowed(realm) {
            return Err(Fail::Error(Box::new(self.refuse_plain_http(call, realm))));
        }
        let mut url = realm.to_string();
        if let Some(service) = ch.params.get("service").filter(|s| !s.is_empty()) {
            url = add_query(&url, "service", service);
        }
        // Our scopes, then any other the challenge names; one `scope`
        // parameter each (a value may hold several, space-separated).
        let ours = call.scope.clone().unwrap_or_default();
        let theirs = ch.params.get("scope").cloned().unwrap_or_default();
        let mut wanted: Vec<&str> = Vec::new();
        for s in ours.split_whitespace().chain(theirs.split_whitespace()) {
            if !wanted.contains(&s) {
                wanted.push(s);
            }
        }
        for s in &wanted {
            url = add_query(&url, "scope", s);
        }
        if let Some(c) = creds.as_ref().filter(|c| !c.user.is_empty()) {
            url = add_query(&url, "account", &c.user);
        }
        // With an identity token, the OAuth2 refresh-token grant (a form
        // POST to the realm itself), as Docker does.
        let mut form: Vec<(&str, &str)> = Vec::new();
        let scopes = wanted.join(" ");
        let identity = creds.as_ref().and_then(|c| c.identity_token.as_deref());
        if let Some(t) = identity {
            form.extend([
                ("grant_type", "refresh_token"),
                ("refresh_token", t),
                ("client_id", "coracle"),
                ("scope", scopes.as_str()),
            ]);
            if let Some(service) = ch.params.get("service").filter(|s| !s.is_empty()) {
                form.push(("service", service.as_str()));
            }
        }
        let token_op = || {
            format!(
                "{}: get a token from {}",
                call.op,
                url_origin(realm).map_or(realm, |(_, a)| a)
            )
        };
        let got = self.with_retries(|| {
            let sent = if identity.is_some() {
                self.agent
                    .post(realm)
                    .set("Accept", "application/json")
                    .send_form(&form)
            } else {
                let mut req = self.agent.get(&url).set("Accept", "application/json");
                if let Some(c) = &creds {
                    req = req.set("Authorization", &c.basic());
                }
                req.call()
            };
            let resp = match sent {
                Ok(r) => r,
                Err(ureq::Error::Status(_, r)) => {
                    return Err(Fail::from_response(r, creds.is_some()))
                }
                Err(ureq::Error::Transport(t)) => return Err(Fail::from_transport(&url, &t)),
            };
            match read_limited(resp.into_reader(), TOKEN_LIMIT) {
                Ok(Some(b)) => Ok(b),
                Ok(None) => Err(Fail::Error(Box::new(RegistryError::TooLarge {
                    op: token_op(),
                    what: "token response",
                    limit: TOKEN_LIMIT,
                }))),
                Err(e) => Err(Fail::io(&url, &e)),
            }
        });
        let body = match got {
            Ok(b) => b,
            Err(Fail::Status(s)) => {
                let hint = match (s.status, call.what) {
                    (401, What::Login) => Some("check the user name and password".to_string()),
                    _ => status_hint(call.what, s.status, &call.ep.registry, creds.is_some()),
                };
                return Err(Fail::Error(Box::new(RegistryError::Status {
                    op: token_op(),
                    host: url_origin(realm).map_or(realm, |(_, a)| a).to_string(),
                    status: s.status,
                    reason: s.reason,
                    message: s.message,
                    hint,
                })));
            }
            Err(Fail::Transport { url, reason, .. }) => {
                return Err(Fail::Error(Box::new(RegistryError::Transport {
                    op: token_op(),
                    url,
                    reason,
                    hint: Some("check the network connection".to_string()),
                })))
            }
            Err(f) => return Err(f),
        };
        #[derive(Deserialize)]
        struct TokenResponse {
            #[serde(default)]
            token: Option<String>,
            #[serde(default)]
            access_token: Option<String>,
            #[serde(default)]
            expires_in: Option<u64>,
        }
        let t: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| invalid(format!("{}: invalid token response: {e}", token_op())))?;
        let value = t
            .token
            .filter(|s| !s.is_empty())
            .or(t.access_token.filter(|s| !s.is_empty()))
            .ok_or_else(|| invalid(format!("{}: the token response has no token", token_op())))?;
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid(format!(
                "{}: the token contains characters not allowed in a header",
                token_op()
            )));
        }
        // Tokens live at least 60 s (distribution spec); keep a margin.
        let lifetime = Duration::from_secs(t.expires_in.unwrap_or(60).clamp(60, 24 * 3600) - 10);
        let scope_key = if ours.is_empty() { theirs } else { ours };
        let who = creds.as_ref().map(Creds::id).unwrap_or_default();
        lock(&self.tokens).insert(
            (call.ep.host.clone(), scope_key, who),
            Token {
                value: value.clone(),
                expires: Instant::now() + lifetime,
            },
        );
        Ok(format!("Bearer {value}"))
    }

    // --- requests ----------------------------------------------------------

    /// Whether a request sent with `auth` carried the user's credentials
    /// (Basic, or a token got with them): a refused anonymous token means
    /// "log in", not "the credentials were refused".
    fn creds_sent(&self, call: &Call, auth: &Option<String>) -> bool {
        auth.is_some() && matches!(self.creds(call), Ok(Some(_)))
    }

    /// One request, answering one authentication challenge.
    fn send(
        &self,
        call: &Call,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        mut body: Body,
    ) -> Result<ureq::Response, Fail> {
        let mut auth = self.cached_auth(call, url);
        let mut challenged = false;
        loop {
            let mut req = self.agent.request(method, url);
            for (k, v) in headers {
                req = req.set(k, v);
            }
            if let Some(a) = &auth {
                req = req.set("Authorization", a);
            }
            let replayable = !matches!(body, Body::Reader(_));
            let res = match &mut body {
                Body::Empty => req.call(),
                Body::Bytes(b) => req.send_bytes(b),
                Body::Reader(r) => req.send(&mut **r),
            };
            match res {
                Ok(resp) => return Ok(resp),
                Err(ureq::Error::Status(401, resp))
                    if !challenged && replayable && self.same_origin(call, url) =>
                {
                    challenged = true;
                    let challenges: Vec<Challenge> = resp
                        .all("www-authenticate")
                        .iter()
                        .flat_map(|h| parse_challenges(h))
                        .collect();
                    match self.authenticate(call, url, &challenges)? {
                        Some(a) => auth = Some(a),
                        None => {
                            return Err(Fail::from_response(resp, self.creds_sent(call, &auth)))
                        }
                    }
                }
                Err(ureq::Error::Status(_, resp)) => {
                    return Err(Fail::from_response(resp, self.creds_sent(call, &auth)))
                }
                Err(ureq::Error::Transport(t)) => return Err(Fail::from_transport(url, &t)),
            }
        }
    }

    fn delay(&self, attempt: u32, fail: &Fail) -> Duration {
        fail.retry_after()
            .unwrap_or(self.retry_delay * 2u32.saturating_pow(attempt))
    }

    /// Runs `f` until it succeeds, fails for good, or the retries are spent.
    fn with_retries<T>(&self, mut f: impl FnMut() -> Result<T, Fail>) -> Result<T, Fail> {
        let mut attempt = 0;
        loop {
            match f() {
                Err(fail) if fail.retryable() && attempt < RETRIES => {
                    std::thread::sleep(self.delay(attempt, &fail));
                    attempt += 1;
                }
                r => return r,
            }
        }
    }

    // --- manifests -----------------------------------------------------------

    fn fetch_manifest(
        &self,
        r: &Reference,
        reference: &str,
        expected: Option<&Digest>,
        shown: &str,
    ) -> Result<Manifest, RegistryError> {
        let eps = self.pull_endpoints(r);
        let mut last = None;
        for ep in &eps {
            let call = self.call(
                ep,
                r,
                format!("get manifest {shown}"),
                What::Manifest,
                false,
            );
            match self.fetch_manifest_from(&call, reference, expected) {
                Ok(m) => return Ok(m),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("at least the registry itself is tried"))
    }

    fn fetch_manifest_from(
        &self,
        call: &Call,
        reference: &str,
        expected: Option<&Digest>,
    ) -> Result<Manifest, RegistryError> {
        let url = self
            .url(call.ep, &format!("{}/manifests/{reference}", call.repo))
            .map_err(|f| self.error(call, f))?;
        let accept = MANIFEST_MEDIA_TYPES.join(", ");
        let too_large = || {
            Fail::Error(Box::new(RegistryError::TooLarge {
                op: call.op.clone(),
                what: "manifest",
                limit: MANIFEST_LIMIT,
            }))
        };
        let (bytes, content_type) = self
            .with_retries(|| {
                let resp = self.send(call, "GET", &url, &[("Accept", &accept)], Body::Empty)?;
                if resp.status() != 200 {
                    return Err(Fail::Error(Box::new(RegistryError::Invalid {
                        op: call.op.clone(),
                        reason: format!(
                            "unexpected HTTP {} {}",
                            resp.status(),
                            sanitize(resp.status_text(), 64)
                        ),
                    })));
                }
                if resp
                    .header("content-length")
                    .and_then(|l| l.trim().parse::<u64>().ok())
                    .is_some_and(|l| l > MANIFEST_LIMIT)
                {
                    return Err(too_large());
                }
                let ct = resp.header("content-type").map(str::to_string);
                match read_limited(resp.into_reader(), MANIFEST_LIMIT) {
                    Ok(Some(b)) => Ok((b, ct)),
                    Ok(None) => Err(too_large()),
                    Err(e) => Err(Fail::io(&url, &e)),
                }
            })
            .map_err(|f| self.error(call, f))?;
        let digest = Digest::of(&bytes);
        if let Some(want) = expected {
            if *want != digest {
                return Err(RegistryError::DigestMismatch {
                    op: call.op.clone(),
                    expected: want.clone(),
                    actual: digest,
                });
            }
        }
        let media_type =
            manifest_media_type(content_type.as_deref(), &bytes).map_err(|reason| {
                RegistryError::Invalid {
                    op: call.op.clone(),
                    reason,
                }
            })?;
        Ok(Manifest {
            bytes,
            media_type,
            digest,
        })
    }

    // --- blobs -------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn fetch_blob_from(
        &self,
        ep: &Endpoint,
        r: &Reference,
        digest: &Digest,
        size: Option<u64>,
        out: &mut File,
        st: &mut BlobState,
        op: &str,
    ) -> Result<(), RegistryError> {
        let call = self.call(ep, r, op.to_string(), What::Blob, false);
        let url = self
            .url(ep, &format!("{}/blobs/{digest}", call.repo))
            .map_err(|f| self.error(&call, f))?;
        let mut attempt = 0;
        let mut resets = 0;
        loop {
            let before = st.len;
            match self.blob_attempt(&call, &url, digest, size, out, st) {
                Ok(true) => break,
                Ok(false) => continue, // started over; bounded: see blob_attempt
                Err(fail) => {
                    if fail.retryable() {
                        if st.len > before && resets < MAX_PROGRESS_RESETS {
                            attempt = 0;
                            resets += 1;
                        }
                        if attempt < RETRIES {
                            std::thread::sleep(self.delay(attempt, &fail));
                            attempt += 1;
                            continue;
                        }
                    }
                    return Err(self.error(&call, fail));
                }
            }
        }
        if let Some(s) = size {
            if st.len != s {
                return Err(RegistryError::SizeMismatch {
                    op: op.to_string(),
                    expected: s,
                    actual: st.len.to_string(),
                });
            }
        }
        let actual = st.digest();
        if actual != *digest {
            return Err(RegistryError::DigestMismatch {
                op: op.to_string(),
                expected: digest.clone(),
                actual,
            });
        }
        Ok(())
    }

    /// One GET of the blob, appended to `out`. `Ok(true)`: the body was
    /// read to its end; `Ok(false)`: `out` was emptied and the download
    /// starts over (only ever from a non-empty `out`, so this repeats at
    /// most once per call).
    fn blob_attempt(
        &self,
        call: &Call,
        url: &str,
        digest: &Digest,
        size: Option<u64>,
        out: &mut File,
        st: &mut BlobState,
    ) -> Result<bool, Fail> {
        let io_fail = |error: io::Error| {
            Fail::Error(Box::new(RegistryError::Io {
                op: call.op.clone(),
                error,
            }))
        };
        let size_fail = |expected: u64, actual: String| {
            Fail::Error(Box::new(RegistryError::SizeMismatch {
                op: call.op.clone(),
                expected,
                actual,
            }))
        };
        let range = format!("bytes={}-", st.len);
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if st.len > 0 {
            headers.push(("Range", &range));
        }
        let resp = match self.send(call, "GET", url, &headers, Body::Empty) {
            Err(Fail::Status(s)) if s.status == 416 && st.len > 0 => {
                // Nothing after the prefix: it may be the whole blob.
                if st.digest() == *digest && size.unwrap_or(st.len) == st.len {
                    return Ok(true);
                }
                st.reset(out).map_err(io_fail)?;
                return Ok(false);
            }
            r => r?,
        };
        let content_length = resp
            .header("content-length")
            .and_then(|l| l.trim().parse::<u64>().ok());
        match resp.status() {
            206 => {
                let parsed = resp.header("content-range").and_then(parse_content_range);
                match parsed {
                    Some((start, total)) if start == st.len => {
                        if let (Some(t), Some(z)) = (total, size) {
                            if t != z {
                                return Err(size_fail(z, t.to_string()));
                            }
                        }
                    }
                    _ if st.len > 0 => {
                        st.reset(out).map_err(io_fail)?;
                        return Ok(false);
                    }
                    _ => {
                        return Err(Fail::Error(Box::new(RegistryError::Invalid {
                            op: call.op.clone(),
                            reason: "the registry answered a request for the whole blob with a partial response (HTTP 206) that does not start at 0".to_string(),
                        })))
                    }
                }
            }
            200 => {
                if st.len > 0 {
                    st.reset(out).map_err(io_fail)?;
                }
                if let (Some(l), Some(z)) = (content_length, size) {
                    if l != z {
                        return Err(size_fail(z, l.to_string()));
                    }
                }
            }
            other => {
                return Err(Fail::Error(Box::new(RegistryError::Invalid {
                    op: call.op.clone(),
                    reason: format!(
                        "unexpected HTTP {other} {}",
                        sanitize(resp.status_text(), 64)
                    ),
                })))
            }
        }
        out.seek(SeekFrom::End(0)).map_err(io_fail)?;
        let mut reader = resp.into_reader();
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => return Ok(true),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Fail::io(url, &e)),
            };
            if let Some(z) = size {
                if st.len + n as u64 > z {
                    return Err(size_fail(z, format!("more than {z}")));
                }
            }
            out.write_all(&buf[..n]).map_err(io_fail)?;
            st.update(&buf[..n]);
        }
    }
}

/// The media type of a manifest: the Content-Type when it is one of ours,
/// else the body's `mediaType`, else guessed from its fields (an OCI
/// manifest may lack `mediaType`; some registries serve `application/json`).
fn manifest_media_type(content_type: Option<&str>, body: &[u8]) -> Result<String, String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("the manifest is not valid JSON: {e}"))?;
    if !v.is_object() {
        return Err("the manifest is not a JSON object".to_string());
    }
    let ct = content_type
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let schema1 = |t: &str| t == MEDIA_DOCKER_SCHEMA1 || t == MEDIA_DOCKER_SCHEMA1_SIGNED;
    if MANIFEST_MEDIA_TYPES.contains(&ct.as_str()) {
        return Ok(ct);
    }
    let field = v.get("mediaType").and_then(|m| m.as_str()).unwrap_or("");
    if schema1(&ct) || schema1(field) || v.get("schemaVersion").and_then(|s| s.as_i64()) == Some(1)
    {
        return Err("Docker schema 1 manifests are not supported: the image is too old; push it again with a current tool".to_string());
    }
    if MANIFEST_MEDIA_TYPES.contains(&field) {
        return Ok(field.to_string());
    }
    if field.is_empty() {
        if v.get("manifests").is_some_and(|m| m.is_array()) {
            return Ok(MEDIA_OCI_INDEX.to_string());
        }
        if v.get("config").is_some_and(|c| c.is_object())
            && v.get("layers").is_some_and(|l| l.is_array())
        {
            return Ok(MEDIA_OCI_MANIFEST.to_string());
        }
    }
    let shown = if field.is_empty() { ct.as_str() } else { field };
    Err(format!(
        "unsupported manifest media type {:?}; expected one of {}",
        sanitize(shown, 200),
        MANIFEST_MEDIA_TYPES.join(", ")
    ))
}

/// Reads at most `limit` bytes; `None` when there is more.
fn read_limited(r: impl Read, limit: u64) -> io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    r.take(limit + 1).read_to_end(&mut buf)?;
    Ok((buf.len() as u64 <= limit).then_some(buf))
}

/// What a blob download has written so far, and its running hash.
struct BlobState {
    len: u64,
    hasher: Sha256,
}

impl BlobState {
    /// Hashes what `out` already holds. When it cannot be read back (opened
    /// write-only and no /proc), it is emptied instead.
    fn resume(out: &mut File) -> io::Result<Self> {
        let mut st = Self {
            len: 0,
            hasher: Sha256::new(),
        };
        let len = out.metadata()?.len();
        if len == 0 {
            return Ok(st);
        }
        if st.absorb(out, len).is_ok() {
            return Ok(st);
        }
        st = Self {
            len: 0,
            hasher: Sha256::new(),
        };
        let proc_path = Path::new("/proc/self/fd").join(out.as_raw_fd().to_string());
        if let Ok(f) = File::open(proc_path) {
            if st.absorb(&f, len).is_ok() {
                return Ok(st);
            }
        }
        st.reset(out)?;
        Ok(st)
    }

    fn absorb(&mut self, f: &File, len: u64) -> io::Result<()> {
        let mut buf = vec![0u8; 64 << 10];
        while self.len < len {
            let want = buf.len().min((len - self.len) as usize);
            let n = f.read_at(&mut buf[..want], self.len)?;
            if n == 0 {
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
            }
            self.update(&buf[..n]);
        }
        Ok(())
    }

    fn update(&mut self, data: &[u8]) {
        self.hasher.update(data);
        self.len += data.len() as u64;
    }

    fn reset(&mut self, out: &mut File) -> io::Result<()> {
        out.set_len(0)?;
        out.seek(SeekFrom::Start(0))?;
        self.len = 0;
        self.hasher = Sha256::new();
        Ok(())
    }

    fn digest(&self) -> Digest {
        let hex: String = self
            .hasher
            .clone()
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("sha256:{hex}")
            .parse()
            .expect("a sha256 digest is valid")
    }
}

/// Passes exactly `size` bytes of `inner`, failing when it ends early.
struct ExactReader<R> {
    inner: R,
    remaining: u64,
    size: u64,
}

impl<R: Read> Read for ExactReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(self.remaining.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the blob data ended after {} of {} bytes",
                    self.size - self.remaining,
                    self.size
                ),
            ));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Runs every parser of registry input on `data` (for a fuzz target:
/// none may panic): challenges, error bodies, manifests and indexes,
/// Content-Range, Location, auth files and auth keys.
#[doc(hidden)]
pub fn fuzz_untrusted(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = parse_challenges(&text);
    let _ = error_body_message(data);
    let _ = manifest_media_type(Some(&text), data);
    let _ = manifest_media_type(None, data);
    if let Ok(index) = serde_json::from_slice::<IndexDoc>(data) {
        for p in ["linux/amd64", "linux/arm", "linux/arm64/v8"] {
            let _ = select_platform(&index, &p.parse().expect("valid platform"));
        }
        let _ = index_platforms(&index);
    }
    let _ = parse_content_range(&text);
    let _ = parse_retry_after(Some(&text));
    let _ = resolve_location("https://r.example/v2/a/blobs/uploads/", &text);
    let _ = text.parse::<Platform>();
    let _ = normalize_auth_key(&text);
    let _ = parse_mirror(&text);
    let _ = host_is_loopback(&text);
    if let Ok(f) = serde_json::from_slice::<AuthFile>(data) {
        for e in f.auths.values() {
            let _ = parse_auth_entry(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_is_shareable_between_threads() {
        fn check<T: Send + Sync>() {}
        check::<Client>();
    }

    #[test]
    fn fuzz_entry_survives_samples() {
        for s in [
            &b""[..],
            b"{\"manifests\":[{\"digest\":\"x\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\"}}]}",
            b"{\"auths\":{\"a\":{\"auth\":\"!!\"}}}",
            b"bytes 5-1/2",
            b"\xff\xfe\"",
            b"//x",
        ] {
            fuzz_untrusted(s);
        }
    }

    #[test]
    fn challenge_with_quoted_commas() {
        let h = r#"Bearer realm="https://auth.example/token",service="registry,example",scope="repository:a/b:pull,push""#;
        let c = parse_challenges(h);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "bearer");
        assert_eq!(c[0].params["realm"], "https://auth.example/token");
        assert_eq!(c[0].params["service"], "registry,example");
        assert_eq!(c[0].params["scope"], "repository:a/b:pull,push");
    }

    #[test]
    fn challenges_several_and_escapes() {
        let c = parse_challenges(
            r#"Basic realm="a \"b\"", Bearer realm=https://x/t , error=insufficient_scope"#,
        );
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(c[0].scheme, "basic");
        assert_eq!(c[0].params["realm"], "a \"b\"");
        assert_eq!(c[1].scheme, "bearer");
        assert_eq!(c[1].params["realm"], "https://x/t");
        assert_eq!(c[1].params["error"], "insufficient_scope");
        assert_eq!(parse_challenges("BASIC")[0].scheme, "basic");
    }

    #[test]
    fn challenge_parser_survives_garbage() {
        for h in [
            "",
            "=",
            "\"",
            "Bearer realm=\"",
            "Bearer realm=\"\\",
            ",,,",
            "Bearer ,realm",
            "é ü \u{0} \"\" == ,= =,",
            "Bearer a=b=c",
            "x y z",
            "\\",
        ] {
            let _ = parse_challenges(h);
        }
        let mut s = String::new();
        for i in 0..2000u32 {
            s.push(char::from_u32(i % 128).unwrap());
            let _ = parse_challenges(&s);
        }
    }

    #[test]
    fn platform_parse_and_display() {
        let p: Platform = "linux/arm64/v8".parse().unwrap();
        assert_eq!(p.to_string(), "linux/arm64");
        let p: Platform = "linux/arm/v7".parse().unwrap();
        assert_eq!(p.to_string(), "linux/arm/v7");
        let p: Platform = "linux/x86_64".parse().unwrap();
        assert_eq!(p.to_string(), "linux/amd64");
        for bad in ["", "linux", "linux/", "/amd64", "a/b/c/d", "linux/am d64"] {
            assert!(bad.parse::<Platform>().is_err(), "{bad}");
        }
        let h = Platform::host();
        assert_eq!(h.os, "linux");
        assert!(!h.architecture.is_empty());
        #[cfg(target_arch = "x86_64")]
        assert_eq!(h.architecture, "amd64");
        #[cfg(target_arch = "aarch64")]
        assert_eq!(h.architecture, "arm64");
    }

    fn index(entries: &[(&str, &str, Option<&str>)]) -> IndexDoc {
        IndexDoc {
            manifests: entries
                .iter()
                .enumerate()
                .map(|(i, (os, arch, v))| IndexEntry {
                    media_type: MEDIA_OCI_MANIFEST.to_string(),
                    digest: format!("d{i}"),
                    platform: Some(PlatformDoc {
                        os: os.to_string(),
                        architecture: arch.to_string(),
                        variant: v.map(String::from),
                    }),
                })
                .collect(),
        }
    }

    #[test]
    fn platform_selection() {
        let idx = index(&[
            ("linux", "amd64", None),
            ("linux", "arm", Some("v6")),
            ("linux", "arm", Some("v7")),
            ("linux", "arm64", Some("v8")),
            ("unknown", "unknown", None),
        ]);
        let pick = |s: &str| select_platform(&idx, &s.parse().unwrap()).map(|e| e.digest.clone());
        assert_eq!(pick("linux/amd64").as_deref(), Some("d0"));
        assert_eq!(pick("linux/arm").as_deref(), Some("d2"));
        assert_eq!(pick("linux/arm/v6").as_deref(), Some("d1"));
        assert_eq!(pick("linux/arm64").as_deref(), Some("d3"));
        assert_eq!(pick("linux/aarch64/v8").as_deref(), Some("d3"));
        assert_eq!(pick("linux/s390x"), None);
        assert_eq!(pick("windows/amd64"), None);
        assert_eq!(
            index_platforms(&idx),
            ["linux/amd64", "linux/arm/v6", "linux/arm/v7", "linux/arm64"]
        );
    }

    #[test]
    fn auth_keys_and_lookup() {
        assert_eq!(
            normalize_auth_key("https://index.docker.io/v1/"),
            "docker.io"
        );
        assert_eq!(normalize_auth_key("registry-1.docker.io"), "docker.io");
        assert_eq!(
            normalize_auth_key("http://Reg.Example:5000/v2/"),
            "reg.example:5000"
        );
        assert_eq!(normalize_auth_key("quay.io/org/"), "quay.io/org");
        let dir = tempfile::tempdir().unwrap();
        let f1 = dir.path().join("a.json");
        let f2 = dir.path().join("b.json");
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        std::fs::write(
            &f1,
            format!(
                r#"{{"auths": {{"quay.io/org": {{"auth": "{}"}}, "bad": {{"auth": "!!"}}}}}}"#,
                b64("orguser:p:w")
            ),
        )
        .unwrap();
        std::fs::write(
            &f2,
            format!(
                r#"{{"auths": {{"https://index.docker.io/v1/": {{"auth": "{}"}}, "quay.io": {{"username": "u2", "password": "p2"}}}}}}"#,
                b64("hub:secret")
            ),
        )
        .unwrap();
        let store = AuthStore::load(&[f1.clone(), dir.path().join("missing.json"), f2]).unwrap();
        let c = store
            .lookup("docker.io", "library/busybox")
            .unwrap()
            .unwrap();
        assert_eq!((c.user.as_str(), c.password.as_str()), ("hub", "secret"));
        let c = store.lookup("quay.io", "org/app").unwrap().unwrap();
        assert_eq!((c.user.as_str(), c.password.as_str()), ("orguser", "p:w"));
        let c = store.lookup("quay.io", "other/app").unwrap().unwrap();
        assert_eq!(c.user, "u2");
        assert!(store.lookup("ghcr.io", "x").unwrap().is_none());
        std::fs::write(&f1, "{not json").unwrap();
        let e = AuthStore::load(&[f1]).unwrap_err();
        assert!(e.contains("parse auth file") && e.contains("a.json"), "{e}");
        assert!(format!("{c:?}").contains("<password>") && !format!("{c:?}").contains("p2"));
    }

    /// A scripted `docker-credential-NAME` in `dir` that knows `known`
    /// (server -> JSON answer) and logs each server it is asked about.
    fn fake_helper(dir: &Path, name: &str, known: &[(&str, &str)]) {
        use std::os::unix::fs::PermissionsExt;
        let mut script = format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nread -r server\necho \"$server\" >> {}/{name}.log\ncase \"$server\" in\n",
            dir.display()
        );
        for (server, answer) in known {
            script.push_str(&format!("  '{server}') echo '{answer}'; exit 0;;\n"));
        }
        script.push_str("  broken) echo 'the keyring is locked' >&2; exit 1;;\n");
        script.push_str("esac\necho 'credentials not found in native keychain'\nexit 1\n");
        let p = dir.join(format!("docker-credential-{name}"));
        std::fs::write(&p, script).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn credential_helpers_as_docker_uses_them() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        fake_helper(
            &bin,
            "desk",
            &[
                (
                    "https://index.docker.io/v1/",
                    r#"{"ServerURL":"x","Username":"hubuser","Secret":"hubpw"}"#,
                ),
                (
                    "reg.lan:5000",
                    r#"{"ServerURL":"reg.lan:5000","Username":"<token>","Secret":"refresh-1"}"#,
                ),
            ],
        );
        fake_helper(
            &bin,
            "special",
            &[("quay.io", r#"{"Username":"q","Secret":"qpw"}"#)],
        );
        let cfg = dir.path().join("config.json");
        std::fs::write(
            &cfg,
            r#"{"auths": {"docker.io": {}, "ghcr.io": {"auth": "Z2g6Z2hwdw=="}},
                "credsStore": "desk", "credHelpers": {"quay.io": "special", "gone.example": "missing", "bad.example": "../x"}}"#,
        )
        .unwrap();
        let mut store = AuthStore::load(std::slice::from_ref(&cfg)).unwrap();
        store.helper_path = Some(bin.clone().into_os_string());
        // credsStore for Docker Hub, under Docker's server address.
        let c = store
            .lookup("docker.io", "library/busybox")
            .unwrap()
            .unwrap();
        assert_eq!((c.user.as_str(), c.password.as_str()), ("hubuser", "hubpw"));
        // credHelpers wins over credsStore.
        let c = store.lookup("quay.io", "org/app").unwrap().unwrap();
        assert_eq!((c.user.as_str(), c.password.as_str()), ("q", "qpw"));
        // An identity token.
        let c = store.lookup("reg.lan:5000", "app").unwrap().unwrap();
        assert_eq!(c.identity_token.as_deref(), Some("refresh-1"));
        // Not in the helper: the file's own entry, else nothing.
        let c = store.lookup("ghcr.io", "x").unwrap().unwrap();
        assert_eq!((c.user.as_str(), c.password.as_str()), ("gh", "ghpw"));
        assert!(store.lookup("other.example", "x").unwrap().is_none());
        // Each registry's helper is asked once.
        store.lookup("docker.io", "library/alpine").unwrap();
        let log = std::fs::read_to_string(bin.join("desk.log")).unwrap();
        assert_eq!(
            log.matches("https://index.docker.io/v1/").count(),
            1,
            "{log}"
        );
        // A helper that is not installed, a bad name, a failing helper: errors
        // that say what to do.
        let e = store.lookup("gone.example", "x").unwrap_err();
        assert!(
            e.contains("docker-credential-missing") && e.contains("not installed"),
            "{e}"
        );
        let e = store.lookup("bad.example", "x").unwrap_err();
        assert!(e.contains("\"../x\"") && e.contains("not valid"), "{e}");
        let e = store.lookup("broken", "x").unwrap_err();
        assert!(
            e.contains("keyring is locked") && e.contains("docker-credential-desk"),
            "{e}"
        );
    }

    #[test]
    fn identity_tokens_in_auth_files() {
        let e = |j: &str| parse_auth_entry(&serde_json::from_str::<AuthEntry>(j).unwrap());
        let c = e(r#"{"auth": "dTo=", "identitytoken": "rt"}"#).unwrap();
        assert_eq!(
            (c.user.as_str(), c.identity_token.as_deref()),
            ("u", Some("rt"))
        );
        let c = e(r#"{"identitytoken": "rt2"}"#).unwrap();
        assert_eq!(c.identity_token.as_deref(), Some("rt2"));
        assert!(e("{}").is_none());
    }

    #[test]
    fn config_parse() {
        let c = RegistryConfig::parse_toml(
            "insecure = [\"reg.lan:5000\"]\n[mirrors]\n\"index.docker.io\" = [\"mirror.example:5000/hub\"]\n",
        )
        .unwrap();
        assert_eq!(c.insecure, ["reg.lan:5000"]);
        assert_eq!(c.mirrors["docker.io"], ["mirror.example:5000/hub"]);
        assert!(c.tls_verify);
        assert_eq!(
            parse_mirror("mirror.example:5000/hub"),
            Some(("mirror.example:5000".into(), "hub/".into()))
        );
        assert_eq!(parse_mirror("m:1"), Some(("m:1".into(), String::new())));
        for bad in [
            "insecure = [\"http://x\"]",
            "[mirrors]\n\"docker.io\" = [\"https://m\"]",
            "unknown = 1",
            "insecure = \"x\"",
        ] {
            assert!(RegistryConfig::parse_toml(bad).is_err(), "{bad}");
        }
        assert_eq!(
            RegistryConfig::parse_toml("").unwrap(),
            RegistryConfig::default()
        );
    }

    #[test]
    fn config_load_paths() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_path_buf();
        std::fs::create_dir_all(d.join("cfg/coracle")).unwrap();
        std::fs::write(
            d.join("cfg/coracle/registries.toml"),
            "insecure = [\"a:1\"]\n",
        )
        .unwrap();
        let env = |k: &str| match k {
            "HOME" => Some(d.join("home").display().to_string()),
            "XDG_CONFIG_HOME" => Some(d.join("cfg").display().to_string()),
            "XDG_RUNTIME_DIR" => Some("/run/user/7".to_string()),
            _ => None,
        };
        let c = RegistryConfig::load_with(&env).unwrap();
        assert_eq!(c.insecure, ["a:1"]);
        assert_eq!(
            c.auth_files,
            [
                PathBuf::from("/run/user/7/containers/auth.json"),
                d.join("home/.docker/config.json")
            ]
        );
        std::fs::write(d.join("cfg/coracle/registries.toml"), "insecure = 3\n").unwrap();
        let e = format!("{:#}", RegistryConfig::load_with(&env).unwrap_err());
        assert!(e.contains("registries.toml"), "{e}");
        // Missing file: defaults.
        let env2 = |k: &str| (k == "HOME").then(|| d.join("nohome").display().to_string());
        let c = RegistryConfig::load_with(&env2).unwrap();
        assert!(c.insecure.is_empty() && c.tls_verify);
    }

    #[test]
    fn urls() {
        assert_eq!(
            encode("repository:a/b:pull,push"),
            "repository%3Aa%2Fb%3Apull%2Cpush"
        );
        let base = "http://127.0.0.1:5000/v2/a/blobs/uploads/";
        assert_eq!(
            resolve_location(base, "/v2/a/blobs/uploads/u?_state=x").unwrap(),
            "http://127.0.0.1:5000/v2/a/blobs/uploads/u?_state=x"
        );
        assert_eq!(
            resolve_location(base, "https://up.example/x").unwrap(),
            "https://up.example/x"
        );
        assert_eq!(
            resolve_location(base, "u1").unwrap(),
            "http://127.0.0.1:5000/v2/a/blobs/uploads/u1"
        );
        assert_eq!(
            resolve_location(base, "//o.example/p").unwrap(),
            "http://o.example/p"
        );
        assert!(resolve_location(base, "").is_none());
        assert!(resolve_location(base, "ftp://x/y")
            .is_some_and(|u| u.starts_with("http://127.0.0.1:5000/")));
        assert_eq!(
            add_query("http://h/u?_state=x", "digest", "sha256:ab"),
            "http://h/u?_state=x&digest=sha256%3Aab"
        );
        assert_eq!(
            add_query("http://h/u", "digest", "d"),
            "http://h/u?digest=d"
        );
        assert_eq!(url_origin("https://a.b:5/x?y"), Some(("https", "a.b:5")));
        assert_eq!(url_origin("https://"), None);
        assert_eq!(parse_content_range("bytes 10-19/20"), Some((10, Some(20))));
        assert_eq!(parse_content_range("bytes 10-19/*"), Some((10, None)));
        assert_eq!(parse_content_range("bytes 19-10/20"), None);
        assert_eq!(parse_content_range("items 1-2/3"), None);
        assert!(
            host_is_loopback("127.0.0.2:5000")
                && host_is_loopback("localhost")
                && host_is_loopback("[::1]:1")
        );
        assert!(!host_is_loopback("10.0.0.1:5000") && !host_is_loopback("example.com"));
    }

    #[test]
    fn error_messages() {
        let m = error_body_message(
            br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]}"#,
        );
        assert_eq!(m.as_deref(), Some("manifest unknown (MANIFEST_UNKNOWN)"));
        let m = error_body_message(br#"{"details":"incorrect username or password"}"#);
        assert_eq!(m.as_deref(), Some("incorrect username or password"));
        let m = error_body_message(b"{\"errors\":[{\"message\":\"\x1b[31mred\"}]}");
        assert!(m.is_none() || !m.unwrap().contains('\x1b'));
        let m = error_body_message(br#"{"errors":[{"message":"\u001b[31mred"}]}"#).unwrap();
        assert!(!m.contains('\x1b'), "{m}");
        assert!(error_body_message(b"<html>").is_none());
        assert!(sanitize(&"x".repeat(1000), 10).chars().count() <= 11);
    }

    #[test]
    fn media_types() {
        assert_eq!(
            manifest_media_type(
                Some("application/vnd.oci.image.index.v1+json; charset=utf-8"),
                b"{}"
            )
            .unwrap(),
            MEDIA_OCI_INDEX
        );
        assert_eq!(
            manifest_media_type(Some("application/json"), br#"{"manifests":[]}"#).unwrap(),
            MEDIA_OCI_INDEX
        );
        assert_eq!(
            manifest_media_type(None, br#"{"config":{},"layers":[]}"#).unwrap(),
            MEDIA_OCI_MANIFEST
        );
        assert_eq!(
            manifest_media_type(
                None,
                format!(r#"{{"mediaType":"{MEDIA_DOCKER_LIST}"}}"#).as_bytes()
            )
            .unwrap(),
            MEDIA_DOCKER_LIST
        );
        let e = manifest_media_type(Some(MEDIA_DOCKER_SCHEMA1_SIGNED), br#"{"schemaVersion":1}"#)
            .unwrap_err();
        assert!(e.contains("schema 1"), "{e}");
        assert!(manifest_media_type(Some("text/html"), b"<html>").is_err());
        assert!(manifest_media_type(Some("text/plain"), b"{}").is_err());
        assert!(manifest_media_type(Some(MEDIA_OCI_MANIFEST), b"[1]").is_err());
    }

    #[test]
    fn exact_reader() {
        let mut r = ExactReader {
            inner: &b"abc"[..],
            remaining: 5,
            size: 5,
        };
        let mut v = Vec::new();
        let e = r.read_to_end(&mut v).unwrap_err();
        assert!(e.to_string().contains("3 of 5"), "{e}");
        let mut r = ExactReader {
            inner: &b"abcdef"[..],
            remaining: 4,
            size: 4,
        };
        let mut v = Vec::new();
        r.read_to_end(&mut v).unwrap();
        assert_eq!(v, b"abcd");
    }

    #[test]
    fn hints_and_display() {
        let e = RegistryError::Status {
            op: "get manifest x".into(),
            host: "h".into(),
            status: 404,
            reason: "Not Found".into(),
            message: Some("manifest unknown".into()),
            hint: status_hint(What::Manifest, 404, "h", false),
        };
        assert_eq!(e.to_string(), "get manifest x: h answered HTTP 404 Not Found: manifest unknown; check the image name and tag");
        assert!(e.is_not_found());
        assert!(status_hint(What::Blob, 401, "reg", false)
            .unwrap()
            .contains("coracle login reg"));
        assert!(status_hint(What::Blob, 401, "reg", true)
            .unwrap()
            .contains("refused"));
    }
}
