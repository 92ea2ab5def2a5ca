//! Image references, `[registry/]repository[:tag][@digest]`, parsed and
//! normalised exactly as Docker does it: distribution/reference's
//! `ParseNormalizedNamed` followed by `TagNameOnly`.
//!
//! # Grammar
//!
//! ```text
//! reference  := name [ ":" tag ] [ "@" digest ]
//! name       := [ domain "/" ] component { "/" component }     (at most 255 bytes, domain included)
//! component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//! domain     := host [ ":" port ]
//! host       := label { "." label } | "[" [0-9A-Fa-f:]+ "]"    (DNS name or IPv4, or bracketed IPv6)
//! label      := [A-Za-z0-9] | [A-Za-z0-9] [A-Za-z0-9-]* [A-Za-z0-9]
//! port       := [0-9]+
//! tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
//! digest     := "sha256:" [0-9a-f]{64}                          (see `super::digest`)
//! ```
//!
//! # Short names
//!
//! The first `/`-separated component is a registry host only if it contains
//! a `.` or a `:`, is exactly `localhost`, or contains an uppercase letter
//! (Docker Hub namespaces are lowercase, so `Foo/bar` names the host `Foo`).
//! Otherwise the whole name is a Docker Hub repository: like Docker, coracle
//! expands an unqualified name to `docker.io`, and a single-component name to
//! the `library/` namespace of official images:
//!
//! | input                      | reference                              |
//! |----------------------------|----------------------------------------|
//! | `busybox`                  | `docker.io/library/busybox:latest`     |
//! | `user/app:1`               | `docker.io/user/app:1`                 |
//! | `localhost:5000/x`         | `localhost:5000/x:latest`              |
//! | `x@sha256:…`               | `docker.io/library/x@sha256:…` (no tag)|
//! | `index.docker.io/busybox`  | `docker.io/library/busybox:latest`     |
//!
//! coracle does not search a list of registries for a short name, nor apply
//! Podman's short-name aliases (`registries.conf`, `shortnames.conf`): a
//! short name always means Docker Hub, so what `busybox` pulls never depends
//! on local configuration. Spell the registry out to use another one.
//!
//! A name without a tag or digest gets the tag `latest`; a name with a digest
//! gets no tag; `name:tag@digest` keeps both (the digest decides what is
//! pulled, as in Docker).
//!
//! # Differences from Docker
//!
//! - `registry-1.docker.io` (Docker Hub's API host) normalises to
//!   `docker.io`, like the legacy `index.docker.io`.
//! - Digests are sha256 only.
//! - A first component that contains `.` or `:` but is not a valid host
//!   (`a_b.c/d`) is rejected; Docker's grammar falls back to reading it as a
//!   path component and yields a reference with an empty domain, which no
//!   registry can serve.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use thiserror::Error;

use super::digest::{Digest, DigestError};

/// The registry of unqualified names.
pub const DEFAULT_REGISTRY: &str = "docker.io";
/// Where Docker Hub's registry API is served.
pub const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";
/// Spellings of Docker Hub that normalise to [`DEFAULT_REGISTRY`].
const DOCKER_HUB_ALIASES: [&str; 2] = ["index.docker.io", "registry-1.docker.io"];
/// The namespace of single-component Docker Hub names (official images).
const OFFICIAL_PREFIX: &str = "library/";
/// The tag of a reference given without tag or digest.
pub const DEFAULT_TAG: &str = "latest";
/// Longest name (`registry/repository`), in bytes.
pub const NAME_MAX: usize = 255;
/// Longest tag, in bytes.
pub const TAG_MAX: usize = 128;

/// A normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    /// The registry as written (with its port), `docker.io` for Docker Hub.
    pub registry: String,
    /// Path on the registry, `library/busybox` for official Hub images.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

const FORM: &str = "expected [registry/]repository[:tag][@sha256:digest], e.g. busybox:latest or registry.example.com:5000/team/app:1.0";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ReferenceError {
    #[error("invalid reference format: the image name is empty; {FORM}")]
    Empty,
    #[error("invalid reference {0:?}: a repository name cannot be 64 hexadecimal digits (the form of an image id); refer to an image id without tag, digest or registry")]
    ImageId(String),
    #[error("invalid reference {reference:?}: the repository name is missing; {FORM}")]
    MissingName { reference: String },
    #[error("invalid reference {reference:?}: repository name {name:?} must be lowercase")]
    Uppercase { reference: String, name: String },
    #[error("invalid reference {reference:?}: empty path component in {name:?}; components are separated by single '/', none at the start or end")]
    EmptyComponent { reference: String, name: String },
    #[error("invalid reference {reference:?}: invalid path component {component:?}; a component is lowercase letters and digits, joined by a single '.', one or two '_', or any number of '-'")]
    Component {
        reference: String,
        component: String,
    },
    #[error("invalid reference {reference:?}: invalid registry {registry:?}; expected a host name, an IPv4 address or a bracketed IPv6 address, optionally followed by :port, e.g. registry.example.com:5000 or [::1]:5000")]
    Registry { reference: String, registry: String },
    #[error("invalid reference {reference:?}: invalid tag {tag:?}; a tag is 1 to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'")]
    Tag { reference: String, tag: String },
    #[error("invalid reference {reference:?}: {error}")]
    Digest {
        reference: String,
        error: DigestError,
    },
    #[error(
        "repository name {name:?} is {len} bytes long; at most 255 are allowed, registry included"
    )]
    NameTooLong { name: String, len: usize },
}

impl Reference {
    /// Parses and normalises `s` as Docker does (`ParseNormalizedNamed`),
    /// then adds the tag `latest` if neither tag nor digest was given
    /// (`TagNameOnly`).
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        let mut r = Self::parse_normalized(s)?;
        if r.tag.is_none() && r.digest.is_none() {
            r.tag = Some(DEFAULT_TAG.to_string());
        }
        Ok(r)
    }

    /// Like [`Reference::parse`] but without the default tag: a bare name
    /// keeps `tag: None` (a filter such as `images busybox` that matches
    /// every tag). Its `Display` form parses back with `latest` added.
    pub fn parse_normalized(s: &str) -> Result<Reference, ReferenceError> {
        let err_ref = || s.to_string();
        if s.is_empty() {
            return Err(ReferenceError::Empty);
        }
        if s.len() == 64 && s.bytes().all(is_lower_hex) {
            return Err(ReferenceError::ImageId(s.to_string()));
        }

        // splitDockerDomain: the first component is a domain if it looks like one.
        let (domain, rest) = match s.split_once('/') {
            Some((first, rest))
                if first == "localhost"
                    || first.contains(['.', ':'])
                    || first.chars().any(char::is_uppercase) =>
            {
                (Some(first), rest)
            }
            _ => (None, s),
        };
        let registry = match domain {
            None => DEFAULT_REGISTRY,
            Some(d) if DOCKER_HUB_ALIASES.contains(&d) => DEFAULT_REGISTRY,
            Some(d) if valid_domain(d) => d,
            Some(d) => {
                return Err(ReferenceError::Registry {
                    reference: err_ref(),
                    registry: d.to_string(),
                })
            }
        };

        // Neither path nor tag contains '@', and the path contains no ':'.
        let (name_tag, digest) = match rest.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (rest, None),
        };
        let (path, tag) = match name_tag.split_once(':') {
            Some((p, t)) => (p, Some(t)),
            None => (name_tag, None),
        };

        if path.is_empty() {
            return Err(ReferenceError::MissingName {
                reference: err_ref(),
            });
        }
        if path.chars().any(char::is_uppercase) {
            return Err(ReferenceError::Uppercase {
                reference: err_ref(),
                name: path.to_string(),
            });
        }
        for c in path.split('/') {
            if c.is_empty() {
                return Err(ReferenceError::EmptyComponent {
                    reference: err_ref(),
                    name: path.to_string(),
                });
            }
            if !valid_component(c) {
                return Err(ReferenceError::Component {
                    reference: err_ref(),
                    component: c.to_string(),
                });
            }
        }
        let repository = if registry == DEFAULT_REGISTRY && !path.contains('/') {
            format!("{OFFICIAL_PREFIX}{path}")
        } else {
            path.to_string()
        };
        let len = registry.len() + 1 + repository.len();
        if len > NAME_MAX {
            return Err(ReferenceError::NameTooLong {
                name: format!("{registry}/{repository}"),
                len,
            });
        }

        if let Some(t) = tag {
            if !valid_tag(t) {
                return Err(ReferenceError::Tag {
                    reference: err_ref(),
                    tag: t.to_string(),
                });
            }
        }
        let digest = match digest {
            None => None,
            Some(d) => Some(d.parse().map_err(|error| ReferenceError::Digest {
                reference: err_ref(),
                error,
            })?),
        };

        Ok(Reference {
            registry: registry.to_string(),
            repository,
            tag: tag.map(str::to_string),
            digest,
        })
    }

    /// `registry/repository`, e.g. `docker.io/library/busybox`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// Docker's short name (`FamiliarName`): `busybox`, `user/app`,
    /// `localhost:5000/x`, `library/a/b`.
    pub fn familiar_name(&self) -> String {
        if !self.is_docker_hub() {
            return self.name();
        }
        match self.repository.strip_prefix(OFFICIAL_PREFIX) {
            Some(short) if !short.contains('/') => short.to_string(),
            _ => self.repository.clone(),
        }
    }

    /// Docker's short display form (`FamiliarString`): `busybox:latest`,
    /// `user/app:1`, `localhost:5000/x:latest`, `busybox@sha256:…`.
    pub fn familiar(&self) -> String {
        let mut s = self.familiar_name();
        self.push_suffix(&mut s);
        s
    }

    /// The same reference with tag `tag` (a digest is kept, as Docker's
    /// `WithTag` does).
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        if !valid_tag(tag) {
            return Err(ReferenceError::Tag {
                reference: self.to_string(),
                tag: tag.to_string(),
            });
        }
        Ok(Reference {
            tag: Some(tag.to_string()),
            ..self.clone()
        })
    }

    /// The same reference pinned to `digest` (a tag is kept).
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// What goes after `/v2/<repository>/manifests/`: the digest if there is
    /// one, else the tag (`latest` if none).
    pub fn api_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => DEFAULT_TAG.to_string(),
        }
    }

    /// The host (and port) serving the registry API: `registry-1.docker.io`
    /// for Docker Hub, else the registry as written.
    pub fn api_host(&self) -> String {
        if self.is_docker_hub() {
            DOCKER_HUB_API_HOST.to_string()
        } else {
            self.registry.clone()
        }
    }

    /// Whether the registry is Docker Hub.
    pub fn is_docker_hub(&self) -> bool {
        self.registry == DEFAULT_REGISTRY
    }

    /// Whether the registry is on this machine: `localhost`, `127.0.0.0/8`
    /// or `[::1]` (also IPv4-mapped), with or without a port.
    pub fn is_loopback(&self) -> bool {
        host_is_loopback(&self.registry)
    }

    fn push_suffix(&self, s: &mut String) {
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(&d.to_string());
        }
    }
}

/// The host part of `registry` (without the port).
/// Whether `host[:port]` is on this machine: `localhost`, `127.0.0.0/8` or
/// `[::1]` (also IPv4-mapped), with or without a port.
pub fn host_is_loopback(hostport: &str) -> bool {
    let host = host_of(hostport);
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<Ipv6Addr>().is_ok_and(|a| {
            a.is_loopback() || a.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        });
    }
    host.parse::<Ipv4Addr>().is_ok_and(|a| a.is_loopback())
}

/// The host part of `host[:port]` (brackets kept for IPv6).
pub fn host_of(registry: &str) -> &str {
    if registry.starts_with('[') {
        match registry.split_once(']') {
            Some((h, _)) => &registry[..h.len() + 1],
            None => registry,
        }
    } else {
        registry.split_once(':').map_or(registry, |(h, _)| h)
    }
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `[a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*`
fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) if is_lower_alnum(f) && is_lower_alnum(l) => {}
        _ => return false,
    }
    // Every run of other bytes sits between alphanumerics: check its shape.
    b.split(|&x| is_lower_alnum(x))
        .filter(|sep| !sep.is_empty())
        .all(|sep| matches!(sep, b"." | b"_" | b"__") || sep.iter().all(|&x| x == b'-'))
}

/// `[A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}`
fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    match b.first() {
        Some(&f) if is_word(f) => {}
        _ => return false,
    }
    b.len() <= TAG_MAX && b.iter().all(|&x| is_word(x) || x == b'.' || x == b'-')
}

/// A DNS label: `[A-Za-z0-9]` or `[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]`.
fn valid_label(l: &str) -> bool {
    let b = l.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) if f.is_ascii_alphanumeric() && l.is_ascii_alphanumeric() => {}
        _ => return false,
    }
    b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'-')
}

/// `host [":" port]`, host a DNS name, an IPv4 address or `[IPv6]`. As in
/// Docker the port is any run of digits and the IPv6 address any run of hex
/// digits and colons: an unreachable registry fails when contacted.
fn valid_domain(d: &str) -> bool {
    let port = if let Some(rest) = d.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        if v6.is_empty() || !v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        if after.is_empty() {
            None
        } else {
            match after.strip_prefix(':') {
                Some(p) => Some(p),
                None => return false,
            }
        }
    } else {
        let (host, port) = match d.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        };
        if !host.split('.').all(valid_label) {
            return false;
        }
        port
    };
    match port {
        None => true,
        Some(p) => !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// The full normalised form: `docker.io/library/busybox:latest`,
/// `localhost:5000/x@sha256:…`. It parses back to an equal reference.
impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.name();
        self.push_suffix(&mut s);
        f.write_str(&s)
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Reference {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn p(s: &str) -> Reference {
        Reference::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    /// input, full form, familiar form, api host, loopback
    #[rustfmt::skip]
    fn valid() -> Vec<(String, String, String, &'static str, bool)> {
        let hub = "registry-1.docker.io";
        let d = format!("sha256:{HEX}");
        let mut v: Vec<(String, String, String, &str, bool)> = [
            // Docker Hub, official images
            ("busybox", "docker.io/library/busybox:latest", "busybox:latest", hub, false),
            ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36", hub, false),
            ("library/busybox", "docker.io/library/busybox:latest", "busybox:latest", hub, false),
            ("docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest", hub, false),
            ("docker.io/library/busybox:latest", "docker.io/library/busybox:latest", "busybox:latest", hub, false),
            ("index.docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest", hub, false),
            ("registry-1.docker.io/library/busybox:1", "docker.io/library/busybox:1", "busybox:1", hub, false),
            ("docker.io/library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest", hub, false),
            // single-component names that look like hosts are still names
            ("localhost", "docker.io/library/localhost:latest", "localhost:latest", hub, false),
            ("localhost:5000", "docker.io/library/localhost:5000", "localhost:5000", hub, false),
            ("docker.io", "docker.io/library/docker.io:latest", "docker.io:latest", hub, false),
            ("a.b", "docker.io/library/a.b:latest", "a.b:latest", hub, false),
            // Docker Hub, user namespaces
            ("user/app", "docker.io/user/app:latest", "user/app:latest", hub, false),
            ("user/app:1", "docker.io/user/app:1", "user/app:1", hub, false),
            ("index.docker.io/user/app:1", "docker.io/user/app:1", "user/app:1", hub, false),
            ("a/b/c", "docker.io/a/b/c:latest", "a/b/c:latest", hub, false),
            ("0/1", "docker.io/0/1:latest", "0/1:latest", hub, false),
            ("user/a.b-c__d_e---f9", "docker.io/user/a.b-c__d_e---f9:latest", "user/a.b-c__d_e---f9:latest", hub, false),
            ("busybox:Tag_1.x-Y", "docker.io/library/busybox:Tag_1.x-Y", "busybox:Tag_1.x-Y", hub, false),
            ("busybox:_", "docker.io/library/busybox:_", "busybox:_", hub, false),
            // other registries
            ("localhost/x", "localhost/x:latest", "localhost/x:latest", "localhost", true),
            ("localhost:5000/x", "localhost:5000/x:latest", "localhost:5000/x:latest", "localhost:5000", true),
            ("localhost:5000/a/b:2", "localhost:5000/a/b:2", "localhost:5000/a/b:2", "localhost:5000", true),
            ("127.0.0.1:5000/x", "127.0.0.1:5000/x:latest", "127.0.0.1:5000/x:latest", "127.0.0.1:5000", true),
            ("127.1.2.3/x", "127.1.2.3/x:latest", "127.1.2.3/x:latest", "127.1.2.3", true),
            ("10.0.0.1:5000/x", "10.0.0.1:5000/x:latest", "10.0.0.1:5000/x:latest", "10.0.0.1:5000", false),
            ("[::1]/x", "[::1]/x:latest", "[::1]/x:latest", "[::1]", true),
            ("[::1]:5000/x", "[::1]:5000/x:latest", "[::1]:5000/x:latest", "[::1]:5000", true),
            ("[::ffff:7f00:1]:5000/x", "[::ffff:7f00:1]:5000/x:latest", "[::ffff:7f00:1]:5000/x:latest", "[::ffff:7f00:1]:5000", true),
            ("[2001:db8::1]:5000/x", "[2001:db8::1]:5000/x:latest", "[2001:db8::1]:5000/x:latest", "[2001:db8::1]:5000", false),
            ("registry.example.com/a/b:1.0", "registry.example.com/a/b:1.0", "registry.example.com/a/b:1.0", "registry.example.com", false),
            ("Registry.Example.COM:443/a", "Registry.Example.COM:443/a:latest", "Registry.Example.COM:443/a:latest", "Registry.Example.COM:443", false),
            ("example:5000/x", "example:5000/x:latest", "example:5000/x:latest", "example:5000", false),
            ("xn--80ak6aa92e.com/x", "xn--80ak6aa92e.com/x:latest", "xn--80ak6aa92e.com/x:latest", "xn--80ak6aa92e.com", false),
            ("a-b.c-d:1/x", "a-b.c-d:1/x:latest", "a-b.c-d:1/x:latest", "a-b.c-d:1", false),
            ("quay.io/library/x", "quay.io/library/x:latest", "quay.io/library/x:latest", "quay.io", false),
            ("LOCALHOST/x", "LOCALHOST/x:latest", "LOCALHOST/x:latest", "LOCALHOST", true),
            // an uppercase first component is a host (Hub namespaces are lowercase)
            ("Foo/bar", "Foo/bar:latest", "Foo/bar:latest", "Foo", false),
            // a digest-looking tag is a tag on docker.io/library/sha256
            (&format!("sha256:{HEX}"), &format!("docker.io/library/sha256:{HEX}"), &format!("sha256:{HEX}"), hub, false),
        ]
        .into_iter()
        .map(|(a, b, c, h, l)| (a.to_string(), b.to_string(), c.to_string(), h, l))
        .collect();
        v.extend([
            // digests: no default tag; tag and digest both kept
            (format!("x@{d}"), format!("docker.io/library/x@{d}"), format!("x@{d}"), hub, false),
            (format!("x:1@{d}"), format!("docker.io/library/x:1@{d}"), format!("x:1@{d}"), hub, false),
            (format!("user/x@{d}"), format!("docker.io/user/x@{d}"), format!("user/x@{d}"), hub, false),
            (format!("localhost:5000/x@{d}"), format!("localhost:5000/x@{d}"), format!("localhost:5000/x@{d}"), "localhost:5000", true),
            // limits: tag of 128, name of 255 with the registry
            (format!("x:{}", "t".repeat(128)), format!("docker.io/library/x:{}", "t".repeat(128)), format!("x:{}", "t".repeat(128)), hub, false),
            ("a".repeat(237), format!("docker.io/library/{}:latest", "a".repeat(237)), format!("{}:latest", "a".repeat(237)), hub, false),
        ]);
        v
    }

    #[test]
    fn valid_references_normalise_as_docker() {
        for (input, full, familiar, host, loopback) in valid() {
            let r = p(&input);
            assert_eq!(r.to_string(), full, "{input:?}");
            assert_eq!(r.familiar(), familiar, "{input:?}");
            assert_eq!(r.api_host(), host, "{input:?}");
            assert_eq!(r.is_loopback(), loopback, "{input:?}");
            assert_eq!(p(&full), r, "full form of {input:?} parses back");
            assert_eq!(p(&familiar), r, "familiar form of {input:?} parses back");
            assert_eq!(input.parse::<Reference>(), Ok(r.clone()));
            assert!(r.name().len() <= NAME_MAX);
        }
    }

    #[test]
    fn fields() {
        let r = p("localhost:5000/a/b:2");
        assert_eq!(
            r,
            Reference {
                registry: "localhost:5000".into(),
                repository: "a/b".into(),
                tag: Some("2".into()),
                digest: None,
            }
        );
        assert_eq!(r.name(), "localhost:5000/a/b");
        assert_eq!(r.familiar_name(), "localhost:5000/a/b");
        let r = p("busybox");
        assert_eq!(r.registry, "docker.io");
        assert_eq!(r.repository, "library/busybox");
        assert_eq!(r.tag.as_deref(), Some("latest"));
        assert_eq!(r.name(), "docker.io/library/busybox");
        assert_eq!(r.familiar_name(), "busybox");
        assert!(r.is_docker_hub());
        let r = p(&format!("busybox@sha256:{HEX}"));
        assert_eq!(r.tag, None);
        assert_eq!(r.digest.unwrap().hex(), HEX);
    }

    /// The variant of `e`, for tables.
    fn kind(e: &ReferenceError) -> &'static str {
        use ReferenceError as E;
        match e {
            E::Empty => "empty",
            E::ImageId(_) => "image-id",
            E::MissingName { .. } => "missing-name",
            E::Uppercase { .. } => "uppercase",
            E::EmptyComponent { .. } => "empty-component",
            E::Component { .. } => "component",
            E::Registry { .. } => "registry",
            E::Tag { .. } => "tag",
            E::Digest { .. } => "digest",
            E::NameTooLong { .. } => "too-long",
        }
    }

    #[test]
    #[rustfmt::skip]
    fn invalid_references_are_rejected() {
        let d = format!("sha256:{HEX}");
        let cases: Vec<(String, &str)> = vec![
            ("".into(), "empty"),
            (HEX.into(), "image-id"),
            // missing name, trailing ':' or '@'
            (":tag".into(), "missing-name"),
            (format!("@{d}"), "missing-name"),
            ("localhost:5000/".into(), "missing-name"),
            ("localhost:5000/:1".into(), "missing-name"),
            ("busybox:".into(), "tag"),
            ("busybox@".into(), "digest"),
            ("busybox:@".into(), "tag"),
            // uppercase repository names
            ("Busybox".into(), "uppercase"),
            ("user/App".into(), "uppercase"),
            ("localhost:5000/Foo".into(), "uppercase"),
            ("Foo/Bar".into(), "uppercase"),
            // empty components
            ("/busybox".into(), "empty-component"),
            ("busybox/".into(), "empty-component"),
            ("a//b".into(), "empty-component"),
            ("docker.io//b".into(), "empty-component"),
            ("localhost//b".into(), "empty-component"),
            ("/".into(), "empty-component"),
            // malformed components
            ("-foo".into(), "component"),
            ("foo-".into(), "component"),
            ("_foo".into(), "component"),
            ("foo_".into(), "component"),
            ("user/.foo".into(), "component"),
            ("user/foo..bar".into(), "component"),
            ("user/foo.-bar".into(), "component"),
            ("user/foo___bar".into(), "component"),
            ("user/foo_-bar".into(), "component"),
            ("foo bar".into(), "component"),
            (" busybox".into(), "component"),
            ("föo".into(), "component"),
            ("foo+bar".into(), "component"),
            ("foo\0".into(), "component"),
            // malformed registries
            ("foo:bar/baz".into(), "registry"),
            ("localhost:/x".into(), "registry"),
            ("localhost:abc/x".into(), "registry"),
            ("localhost:1:2/x".into(), "registry"),
            ("-host.com/x".into(), "registry"),
            ("host-.com/x".into(), "registry"),
            ("a..b/x".into(), "registry"),
            (".com/x".into(), "registry"),
            ("com./x".into(), "registry"),
            (":5000/x".into(), "registry"),
            ("[::1/x".into(), "registry"),
            ("[]/x".into(), "component"), // no . or : so not a host
            ("[::1]x/x".into(), "registry"),
            ("[::1]:/x".into(), "registry"),
            ("[g::1]/x".into(), "registry"),
            ("::1/x".into(), "registry"),
            ("a_b.c/d".into(), "registry"),
            ("exämple.com/x".into(), "registry"),
            ("É/x".into(), "registry"),
            // malformed tags
            ("x:-tag".into(), "tag"),
            ("x:.tag".into(), "tag"),
            ("x:ta g".into(), "tag"),
            ("x:a:b".into(), "tag"),
            ("x:a/b".into(), "registry"), // "x:a" has a colon: a host
            ("x:tä".into(), "tag"),
            ("user/bar:tag/x".into(), "tag"),
            (format!("x:{}", "t".repeat(129)), "tag"),
            // malformed digests
            (format!("x@{HEX}"), "digest"),
            (format!("x@sha512:{HEX}"), "digest"),
            (format!("x@SHA256:{HEX}"), "digest"),
            (format!("x@sha256:{}", HEX.to_uppercase()), "digest"),
            ("x@sha256:abc".into(), "digest"),
            (format!("x@{d}@{d}"), "digest"),
            (format!("x@{d}:tag"), "digest"),
            // too long: 256 bytes with "docker.io/library/", or with a long host
            ("a".repeat(238), "too-long"),
            (format!("{}.io/{}", "r".repeat(250), "x".repeat(10)), "too-long"),
        ];
        for (input, want) in cases {
            match Reference::parse(&input) {
                Ok(r) => panic!("{input:?} parsed as {r}"),
                Err(e) => assert_eq!(kind(&e), want, "{input:?}: {e}"),
            }
        }
        assert!(matches!(
            Reference::parse(&"a".repeat(238)),
            Err(ReferenceError::NameTooLong { len: 256, .. })
        ));
    }

    /// Cases from distribution/reference's own tests (normalize_test.go).
    #[test]
    #[rustfmt::skip]
    fn upstream_docker_cases() {
        let long_ns =
            "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_".repeat(4);
        for ok in [
            "docker/docker",
            "library/debian",
            "debian",
            "docker.io/docker/docker",
            "index.docker.io/library/debian",
            "127.0.0.1:5000/library/debian",
            "192.168.0.1",
            "192.168.0.1:80",
            "192.168.0.1:8/debian",
            "192.168.0.2:25000/debian",
            "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
            "[fc00::1]:5000/docker",
            "[fc00::1]:5000/docker/docker",
            "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
            "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
            "Docker/docker",
            "DOCKER/docker",
            "docker-rules/docker",
            "docker---rules/docker",
            "d/docker",
            "jess/t",
            "dock__er/docker",
        ] {
            assert!(
                Reference::parse(ok).is_ok(),
                "{ok:?}: {:?}",
                Reference::parse(ok)
            );
        }
        for bad in [
            "https://github.com/docker/docker",
            "docker/Docker",
            "-docker",
            "-docker/docker",
            "-docker.io/docker/docker",
            "docker///docker",
            "docker.io/docker/Docker",
            "docker.io/docker///docker",
            "[fc00::1]",
            "[fc00::1]:5000",
            "fc00::1:5000/debian",
            "[fe80::1%eth0]:5000/debian",
            "[2001:db8:3:4::192.0.2.33]:5000/debian",
            "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
            "docker-/docker",
            "-docker-/docker",
            "____/____",
            "_docker/_docker",
            "dock..er/docker",
            "dock_.er/docker",
            "dock-.er/docker",
            "docker/",
            &format!("{long_ns}/docker"),
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} parsed");
        }
        // (input, registry, repository, familiar name)
        for (input, registry, repository, familiar) in [
            ("fooo/bar", "docker.io", "fooo/bar", "fooo/bar"),
            ("index.docker.io/fooo/bar", "docker.io", "fooo/bar", "fooo/bar"),
            ("library/ubuntu", "docker.io", "library/ubuntu", "ubuntu"),
            ("other/library", "docker.io", "other/library", "other/library"),
            ("127.0.0.1:8000/privatebase", "127.0.0.1:8000", "privatebase", "127.0.0.1:8000/privatebase"),
            ("example.com:8000/private/moonbase", "example.com:8000", "private/moonbase", "example.com:8000/private/moonbase"),
            ("index.docker.io/library/ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base", "ubuntu-12.04-base"),
            ("docker.io/foo", "docker.io", "library/foo", "foo"),
            ("library/foo/bar", "docker.io", "library/foo/bar", "library/foo/bar"),
            ("store/foo/bar", "docker.io", "store/foo/bar", "store/foo/bar"),
            ("Foo/bar", "Foo", "bar", "Foo/bar"),
            ("FOO/bar", "FOO", "bar", "FOO/bar"),
            ("test_com/foo", "docker.io", "test_com/foo", "test_com/foo"),
            ("test-com:8080/foo", "test-com:8080", "foo", "test-com:8080/foo"),
            ("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo", "xn--n3h.com:18080/foo"),
        ] {
            let r = p(input);
            assert_eq!(
                (
                    r.registry.as_str(),
                    r.repository.as_str(),
                    r.familiar_name().as_str()
                ),
                (registry, repository, familiar),
                "{input:?}"
            );
        }
        let short = "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
        let r = p(short);
        assert_eq!(r.to_string(), format!("docker.io/library/{short}"));
        assert_eq!(r.familiar(), short);
    }

    #[test]
    fn error_messages_say_what_and_how() {
        let e = Reference::parse("Busybox").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid reference \"Busybox\": repository name \"Busybox\" must be lowercase"
        );
        let e = Reference::parse("busybox:").unwrap_err().to_string();
        assert!(e.contains("invalid tag \"\""), "{e}");
        assert!(e.contains("1 to 128"), "{e}");
        let e = Reference::parse("").unwrap_err().to_string();
        assert!(e.contains("[registry/]repository[:tag]"), "{e}");
        let e = Reference::parse("x@sha512:00").unwrap_err().to_string();
        assert!(e.contains("only sha256 is supported"), "{e}");
        for e in [
            Reference::parse("a_b.c/x").unwrap_err(),
            Reference::parse("a//b").unwrap_err(),
            Reference::parse("a..b").unwrap_err(),
        ] {
            let s = e.to_string();
            assert!(s.starts_with(char::is_lowercase), "{s}");
        }
    }

    #[test]
    fn with_tag_replaces_the_tag_and_keeps_the_digest() {
        let r = p("busybox").with_tag("1.36").unwrap();
        assert_eq!(r.to_string(), "docker.io/library/busybox:1.36");
        let d = format!("sha256:{HEX}");
        let r = p(&format!("x@{d}")).with_tag("v1").unwrap();
        assert_eq!(r.to_string(), format!("docker.io/library/x:v1@{d}"));
        assert_eq!(r.api_reference(), d);
        for bad in ["", ".x", "-x", "a:b", "a b", &"t".repeat(129)] {
            assert!(
                matches!(p("busybox").with_tag(bad), Err(ReferenceError::Tag { .. })),
                "{bad:?}"
            );
        }
        let r = p("busybox:1").with_digest(d.parse().unwrap());
        assert_eq!(r.to_string(), format!("docker.io/library/busybox:1@{d}"));
    }

    #[test]
    fn api_reference_is_digest_else_tag() {
        let d = format!("sha256:{HEX}");
        assert_eq!(p("busybox").api_reference(), "latest");
        assert_eq!(p("busybox:1").api_reference(), "1");
        assert_eq!(p(&format!("busybox@{d}")).api_reference(), d);
        assert_eq!(p(&format!("busybox:1@{d}")).api_reference(), d);
        let bare = Reference::parse_normalized("busybox").unwrap();
        assert_eq!(bare.tag, None);
        assert_eq!(bare.api_reference(), "latest");
        assert_eq!(bare.to_string(), "docker.io/library/busybox");
        assert_eq!(p(&bare.to_string()), p("busybox"));
    }

    #[test]
    fn loopback_registries() {
        for (reg, yes) in [
            ("localhost", true),
            ("localhost:5000", true),
            ("127.0.0.1", true),
            ("127.255.255.254:80", true),
            ("[::1]", true),
            ("[::1]:5000", true),
            ("[0:0:0:0:0:0:0:1]:5000", true),
            ("[::ffff:7f00:1]", true),
            ("localhost.example.com", false),
            ("128.0.0.1", false),
            ("127.0.0.01", false),
            ("[::2]", false),
            ("[::1", false),
            ("docker.io", false),
        ] {
            let r = Reference {
                registry: reg.to_string(),
                repository: "x".into(),
                tag: None,
                digest: None,
            };
            assert_eq!(r.is_loopback(), yes, "{reg}");
        }
    }

    #[test]
    fn serde_uses_the_full_form() {
        let r = p("busybox");
        let j = serde_json::to_string(&r).unwrap();
        assert_eq!(j, "\"docker.io/library/busybox:latest\"");
        assert_eq!(serde_json::from_str::<Reference>(&j).unwrap(), r);
        assert!(serde_json::from_str::<Reference>("\"Busybox\"").is_err());
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        for s in [
            "é",
            "é/é",
            "[",
            "[é]/x",
            "[::1]é/x",
            "x:é",
            "x@é",
            "é:5000/x",
            "\u{0}",
            "/",
            "//",
            ":",
            "@",
            "[]",
            "[/",
            "a:/",
            "a@/",
            "🦀/🦀:🦀@🦀",
        ] {
            let _ = Reference::parse(s);
        }
    }
}
