//! Registry fixtures for the registry client's tests:
//!
//! - [`RegistryServer`]: a real OCI registry (Debian's `docker-registry`,
//!   the CNCF distribution server) on a free loopback port with its own
//!   storage, plain, with htpasswd (bcrypt) Basic authentication, or in
//!   token mode ([`RegistryServer::start_token`]) with a [`TokenServer`]
//!   written for the tests as its bearer-token endpoint;
//! - [`TinyServer`]: a scripted HTTP/1.1 server on a std `TcpListener`, for
//!   what a well-behaved registry never does (drop a download, serve the
//!   wrong bytes, redirect, challenge for a bearer token).
//!
//! Include it next to `mod common;` (it uses `crate::common::require`):
//! `#[path = "common/registry.rs"] mod registry_fixture;`.

#![allow(dead_code)]

use std::fs;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use crate::common::{is_root, require};

/// The registry server (Debian package `docker-registry`).
pub const DOCKER_REGISTRY: &str = "/usr/bin/docker-registry";
/// `htpasswd` (Debian package `apache2-utils`), for bcrypt password files.
pub const HTPASSWD: &str = "/usr/bin/htpasswd";

/// Installs `docker-registry` and `apache2-utils` when they are missing and
/// the tests run as root (once per process). Returns whether both are there.
pub fn ensure_packages() -> bool {
    static DONE: OnceLock<bool> = OnceLock::new();
    *DONE.get_or_init(|| {
        let present = || Path::new(DOCKER_REGISTRY).exists() && Path::new(HTPASSWD).exists();
        if !present() && is_root() {
            apt_install(&["docker-registry", "apache2-utils"]);
        }
        present()
    })
}

/// Installs `openssl` (for the token server) when it is missing and the
/// tests run as root (once per process). Returns whether it is there.
pub fn ensure_openssl() -> bool {
    static DONE: OnceLock<bool> = OnceLock::new();
    *DONE.get_or_init(|| {
        if !Path::new(OPENSSL).exists() && is_root() {
            apt_install(&["openssl"]);
        }
        Path::new(OPENSSL).exists()
    })
}

/// `apt-get install` of `packages`, after an `apt-get update` if the first
/// try fails.
fn apt_install(packages: &[&str]) {
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !install() {
        let _ = Command::new("apt-get")
            .arg("update")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        install();
    }
}

/// A free TCP port on `ip` (bound and released: another process may take
/// it before it is used, which callers retry).
pub fn free_port(ip: &str) -> u16 {
    TcpListener::bind((ip, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("bind {ip}:0: {e}"))
}

/// The HTTP status of `GET path` on `addr`, by hand (not with the client
/// under test).
pub fn http_status(addr: &str, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).ok()?;
    let line = String::from_utf8_lossy(&buf[..n]);
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A `docker-registry serve` process; killed on drop.
pub struct RegistryServer {
    /// `127.0.0.1:PORT`, as a reference's registry part.
    pub host: String,
    /// The user and password of the htpasswd file or the token server,
    /// when there is one.
    pub user: Option<(String, String)>,
    /// The token endpoint, in token mode.
    pub token: Option<TokenServer>,
    child: Child,
    dir: tempfile::TempDir,
}

impl RegistryServer {
    /// Starts a registry (with Basic authentication for `user` when given)
    /// and waits until `/v2/` answers. `None` when it is skipped: a
    /// prerequisite is missing (under `CI=true` that panics instead).
    pub fn start(user: Option<(&str, &str)>) -> Option<RegistryServer> {
        RegistryServer::launch(user, None)
    }

    /// Starts a registry in token mode: `auth: token` trusting a
    /// [`TokenServer`] started first on another loopback port, which knows
    /// `user` (allowed to pull and push everywhere) and gives anonymous
    /// clients what `anonymous` says. `None` when it is skipped, as with
    /// [`RegistryServer::start`] (`openssl` is needed too).
    pub fn start_token(user: (&str, &str), anonymous: Anonymous) -> Option<RegistryServer> {
        if !require(
            ensure_openssl(),
            "openssl (Debian package openssl), to sign the test tokens",
        ) {
            return None;
        }
        RegistryServer::launch(Some(user), Some(anonymous))
    }

    fn launch(user: Option<(&str, &str)>, token_mode: Option<Anonymous>) -> Option<RegistryServer> {
        if !require(
            ensure_packages(),
            "docker-registry and htpasswd (Debian packages docker-registry and apache2-utils)",
        ) {
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("coracle-registry-")
            .tempdir()
            .expect("create registry directory");
        let token = token_mode.map(|anonymous| {
            let (u, p) = user.expect("token mode has a user");
            TokenServer::start(dir.path(), u, p, anonymous)
        });
        let auth = match (&token, user) {
            (Some(t), _) => format!(
                "auth:\n  token:\n    realm: {}\n    service: {TOKEN_SERVICE}\n    \
                 issuer: {TOKEN_ISSUER}\n    rootcertbundle: {}\n",
                t.realm(),
                t.cert.display()
            ),
            (None, Some((u, p))) => {
                let out = Command::new(HTPASSWD)
                    .args(["-Bbn", u, p])
                    .output()
                    .expect("run htpasswd");
                assert!(
                    out.status.success(),
                    "htpasswd -Bbn: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let path = dir.path().join("htpasswd");
                fs::write(&path, &out.stdout).unwrap();
                format!(
                    "auth:\n  htpasswd:\n    realm: coracle-test\n    path: {}\n",
                    path.display()
                )
            }
            (None, None) => String::new(),
        };
        let mut last_log = String::new();
        for _ in 0..3 {
            let port = free_port("127.0.0.1");
            let host = format!("127.0.0.1:{port}");
            let config = dir.path().join("config.yml");
            fs::write(
                &config,
                format!(
                    "version: 0.1\n\
                     log:\n  level: warn\n  accesslog:\n    disabled: true\n\
                     storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
                     http:\n  addr: {host}\n  secret: coracle-test-secret\n\
                     {auth}",
                    dir.path().join("storage").display()
                ),
            )
            .unwrap();
            let log_path = dir.path().join("registry.log");
            let log = fs::File::create(&log_path).unwrap();
            let mut child = Command::new(DOCKER_REGISTRY)
                .arg("serve")
                .arg(&config)
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("start docker-registry");
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Some(status) = http_status(&host, "/v2/") {
                    if status != 200 && status != 401 {
                        let _ = child.kill();
                        let _ = child.wait();
                        panic!("docker-registry answered /v2/ with HTTP {status}");
                    }
                    return Some(RegistryServer {
                        host,
                        user: user.map(|(u, p)| (u.to_string(), p.to_string())),
                        token,
                        child,
                        dir,
                    });
                }
                if child.try_wait().ok().flatten().is_some() || Instant::now() > deadline {
                    break;
                }
                thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
            last_log = fs::read_to_string(&log_path).unwrap_or_default();
            if !last_log.contains("address already in use") {
                break;
            }
        }
        panic!("docker-registry did not come up:\n{last_log}");
    }

    /// The registry's storage directory.
    pub fn storage(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// The token server (panics when the registry is not in token mode).
    pub fn token_server(&self) -> &TokenServer {
        self.token.as_ref().expect("the registry is in token mode")
    }
}

impl Drop for RegistryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// A scripted HTTP server
// ---------------------------------------------------------------------------

/// A request as the tiny server received it.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The address the request arrived on.
    pub local: SocketAddr,
}

impl Req {
    /// The first header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The query parameters (percent-decoded), in order.
    pub fn query(&self) -> Vec<(String, String)> {
        let Some((_, q)) = self.target.split_once('?') else {
            return Vec::new();
        };
        q.split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect()
    }
}

pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the tiny server answers.
pub enum Reply {
    /// A complete response (`Content-Length` and `Connection: close` added).
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Bytes written as they are, then the connection is closed (a
    /// response cut short).
    Raw(Vec<u8>),
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply::Full {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn body(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Full {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn header(mut self, k: &str, v: &str) -> Reply {
        if let Reply::Full { headers, .. } = &mut self {
            headers.push((k.to_string(), v.to_string()));
        }
        self
    }

    /// A distribution-spec error body.
    pub fn error(status: u16, code: &str, message: &str) -> Reply {
        Reply::body(
            status,
            format!(r#"{{"errors":[{{"code":"{code}","message":"{message}"}}]}}"#),
        )
        .header("Content-Type", "application/json")
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        206 => "Partial Content",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

type Handler = dyn Fn(&Req) -> Reply + Send + Sync;

/// A scripted HTTP/1.1 server: one request per connection, each answered by
/// the handler; every request is recorded. Connections that do not start
/// like an HTTP request (a TLS handshake) are closed at once.
pub struct TinyServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Req>>>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl TinyServer {
    /// Listens on `ip` (a loopback address such as 127.0.0.1 or 127.0.0.2,
    /// or another local address) on a free port.
    pub fn start(ip: &str, handler: impl Fn(&Req) -> Reply + Send + Sync + 'static) -> TinyServer {
        let listener = TcpListener::bind((ip, 0)).unwrap_or_else(|e| panic!("bind {ip}:0: {e}"));
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let (reqs, stop2) = (requests.clone(), stop.clone());
        let thread = thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (handler, reqs) = (handler.clone(), reqs.clone());
                thread::spawn(move || serve(conn, &*handler, &reqs));
            }
        });
        TinyServer {
            addr,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// `IP:PORT`, as a reference's registry part.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// The requests so far.
    pub fn requests(&self) -> Vec<Req> {
        self.requests.lock().unwrap().clone()
    }

    /// The requests so far whose path starts with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> Vec<Req> {
        self.requests()
            .into_iter()
            .filter(|r| r.path().starts_with(prefix))
            .collect()
    }
}

impl Drop for TinyServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(mut conn: TcpStream, handler: &Handler, reqs: &Mutex<Vec<Req>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let local = match conn.local_addr() {
        Ok(a) => a,
        Err(_) => return,
    };
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        if buf.first().is_some_and(|b: &u8| !b.is_ascii_uppercase()) || buf.len() > 64 << 10 {
            return; // not HTTP (a TLS handshake): close
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_string();
    let target = first.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    let mut body = buf[head_end + 4..].to_vec();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while body.len() < len {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let req = Req {
        method,
        target,
        headers,
        body,
        local,
    };
    reqs.lock().unwrap().push(req.clone());
    let out = match handler(&req) {
        Reply::Full {
            status,
            headers,
            body,
        } => {
            let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
            for (k, v) in &headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            {
                out.push_str(&format!("Content-Length: {}\r\n", body.len()));
            }
            out.push_str("Connection: close\r\n\r\n");
            let mut bytes = out.into_bytes();
            if req.method != "HEAD" {
                bytes.extend_from_slice(&body);
            }
            bytes
        }
        Reply::Raw(bytes) => bytes,
    };
    let _ = conn.write_all(&out);
    let _ = conn.flush();
    let _ = conn.shutdown(Shutdown::Both);
}

/// A host name that is not loopback by its spelling (so the client treats
/// it as a remote registry: HTTPS only, no credentials over plain HTTP) but
/// resolves to 127.0.0.1, so that the traffic stays on this machine. As root
/// it is added to /etc/hosts when missing.
pub const REMOTE_ALIAS: &str = "coracle-remote.test";

pub fn remote_alias() -> Option<&'static str> {
    use std::net::ToSocketAddrs;
    let resolves = || {
        (REMOTE_ALIAS, 1)
            .to_socket_addrs()
            .map(|mut a| a.all(|a| a.ip().is_loopback()))
            .unwrap_or(false)
    };
    if !resolves() && is_root() {
        let hosts = fs::read_to_string("/etc/hosts").unwrap_or_default();
        if !hosts
            .lines()
            .any(|l| l.split_whitespace().skip(1).any(|n| n == REMOTE_ALIAS))
        {
            let mut f = fs::OpenOptions::new()
                .append(true)
                .open("/etc/hosts")
                .ok()?;
            writeln!(f, "127.0.0.1 {REMOTE_ALIAS}").ok()?;
        }
    }
    resolves().then_some(REMOTE_ALIAS)
}

// ---------------------------------------------------------------------------
// A token server for the registry's token mode
// ---------------------------------------------------------------------------

/// `openssl` (Debian package `openssl`), which makes the token server's key
/// and certificate and signs its tokens.
pub const OPENSSL: &str = "/usr/bin/openssl";
/// The `service` of the registry in token mode (the tokens' audience).
pub const TOKEN_SERVICE: &str = "coracle-test-registry";
/// The `issuer` the registry in token mode trusts.
pub const TOKEN_ISSUER: &str = "coracle-test-token-issuer";
/// Repositories under this prefix grant nobody `push`.
pub const READ_ONLY_PREFIX: &str = "readonly/";
/// How long the tokens are valid, in seconds.
pub const TOKEN_LIFETIME: u64 = 300;

/// What the token server grants a client that sends no credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anonymous {
    /// A token granting nothing (as Docker Hub answers for a private
    /// repository): the registry then refuses it every repository.
    Nothing,
    /// A token granting `pull`, never `push`, on any repository.
    Pull,
}

/// A token the server issued.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The user, `None` for an anonymous token.
    pub subject: Option<String>,
    /// The scopes asked for, as sent.
    pub scopes: Vec<String>,
    /// What it grants: (type, name, actions).
    pub access: Vec<(String, String, Vec<String>)>,
}

/// The Docker token protocol's endpoint, for a registry in token mode:
/// `GET /token?service=..&scope=repository:NAME:pull,push` (any number of
/// `scope`s, optional `account`), with optional Basic credentials.
///
/// - Wrong credentials get 401 `{"details": "incorrect username or
///   password"}` (an unknown `service` gets 400).
/// - The user gets `pull` and `push` on any repository (only `pull` under
///   [`READ_ONLY_PREFIX`]); an anonymous
///   client what [`Anonymous`] says. A token grants only the asked-for
///   actions the client may have (Docker Hub's behaviour: no error for
///   the rest, the registry refuses them), and nothing for other types.
/// - The answer is `{"token", "access_token", "expires_in", "issued_at"}`,
///   the same JWT twice: RS256 (PKCS#1 v1.5 with SHA-256, from
///   `openssl dgst -sha256 -sign`), with the certificate in `x5c`; the
///   registry trusts that self-signed certificate as its `rootcertbundle`.
///   Its claims: `iss` [`TOKEN_ISSUER`], `sub` the user (empty when
///   anonymous), `aud` [`TOKEN_SERVICE`], `exp`/`nbf`/`iat`, a unique
///   `jti`, and `access`.
///
/// - `POST /token` is OAuth2's refresh-token grant (form fields
///   `grant_type=refresh_token`, `refresh_token`, `client_id`, `service`,
///   `scope`, space-separated), as Docker sends it for an identity token:
///   [`identity_token`] of the user gets the user's token, as
///   `{"access_token", ...}`; anything else 400 `invalid_grant`.
///
/// The RSA key and certificate are made per server with the `openssl` CLI.
pub struct TokenServer {
    pub server: TinyServer,
    /// The PEM certificate that signs the tokens, the registry's
    /// `rootcertbundle`.
    pub cert: PathBuf,
    issued: Arc<Mutex<Vec<Issued>>>,
}

impl TokenServer {
    /// Makes a key and certificate in `dir` and serves tokens for `user`
    /// with `password` on a free port of 127.0.0.1.
    pub fn start(dir: &Path, user: &str, password: &str, anonymous: Anonymous) -> TokenServer {
        let key = dir.join("token-key.pem");
        let cert = dir.join("token-cert.pem");
        openssl(&[
            "req".as_ref(),
            "-x509".as_ref(),
            "-newkey".as_ref(),
            "rsa:2048".as_ref(),
            "-nodes".as_ref(),
            "-days".as_ref(),
            "2".as_ref(),
            "-subj".as_ref(),
            format!("/CN={TOKEN_ISSUER}").as_ref(),
            "-keyout".as_ref(),
            key.as_os_str(),
            "-out".as_ref(),
            cert.as_os_str(),
        ]);
        let der = openssl(&[
            "x509".as_ref(),
            "-in".as_ref(),
            cert.as_os_str(),
            "-outform".as_ref(),
            "DER".as_ref(),
        ]);
        let header = serde_json::json!({
            "typ": "JWT",
            "alg": "RS256",
            "x5c": [base64::engine::general_purpose::STANDARD.encode(der)],
        });
        let header = b64url(&serde_json::to_vec(&header).unwrap());
        let issued = Arc::new(Mutex::new(Vec::new()));
        let issued2 = issued.clone();
        let (user, password) = (user.to_string(), password.to_string());
        let serial = std::sync::atomic::AtomicU64::new(0);
        let server = TinyServer::start("127.0.0.1", move |req| {
            let oauth = req.method == "POST";
            if req.path() != "/token" || !(req.method == "GET" || oauth) {
                return Reply::body(404, r#"{"details":"not found"}"#);
            }
            let query = if oauth {
                form_fields(&req.body)
            } else {
                req.query()
            };
            let field = |name: &str| {
                query
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
            };
            if field("service") != Some(TOKEN_SERVICE) {
                return Reply::body(400, r#"{"details":"unknown service"}"#)
                    .header("Content-Type", "application/json");
            }
            let refused = || {
                Reply::body(401, r#"{"details":"incorrect username or password"}"#)
                    .header("Content-Type", "application/json")
                    .header("WWW-Authenticate", r#"Basic realm="coracle-test-token""#)
            };
            let subject = if oauth {
                // OAuth2: the refresh-token grant, with the user's identity token.
                if field("grant_type") != Some("refresh_token")
                    || field("refresh_token") != Some(identity_token(&user).as_str())
                    || field("client_id").is_none_or(str::is_empty)
                {
                    return Reply::body(400, r#"{"error":"invalid_grant"}"#)
                        .header("Content-Type", "application/json");
                }
                Some(user.clone())
            } else {
                match req.header("authorization") {
                    None => None,
                    Some(h) => match basic_credentials(h) {
                        Some((u, p)) if u == user && p == password => Some(u),
                        _ => return refused(),
                    },
                }
            };
            let may: &[&str] = match (&subject, anonymous) {
                (Some(_), _) => &["pull", "push"],
                (None, Anonymous::Pull) => &["pull"],
                (None, Anonymous::Nothing) => &[],
            };
            let scopes: Vec<String> = query
                .iter()
                .filter(|(k, _)| k == "scope")
                .map(|(_, v)| v.clone())
                .collect();
            let mut access: Vec<(String, String, Vec<String>)> = Vec::new();
            for scope in scopes.iter().flat_map(|s| s.split(' ')) {
                let Some((kind, rest)) = scope.split_once(':') else {
                    continue;
                };
                let Some((name, actions)) = rest.rsplit_once(':') else {
                    continue;
                };
                if kind != "repository" || name.is_empty() {
                    continue;
                }
                let i = match access.iter().position(|(t, n, _)| t == kind && n == name) {
                    Some(i) => i,
                    None => {
                        access.push((kind.to_string(), name.to_string(), Vec::new()));
                        access.len() - 1
                    }
                };
                for a in actions.split(',') {
                    let read_only = a == "push" && name.starts_with(READ_ONLY_PREFIX);
                    if may.contains(&a) && !read_only && !access[i].2.iter().any(|x| x == a) {
                        access[i].2.push(a.to_string());
                    }
                }
            }
            access.retain(|(_, _, actions)| !actions.is_empty());
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let n = serial.fetch_add(1, Ordering::SeqCst);
            let claims = serde_json::json!({
                "iss": TOKEN_ISSUER,
                "sub": subject.clone().unwrap_or_default(),
                "aud": TOKEN_SERVICE,
                "exp": now + TOKEN_LIFETIME,
                "nbf": now - 1,
                "iat": now,
                "jti": format!("coracle-test-{now}-{n}"),
                "access": access
                    .iter()
                    .map(|(t, n, a)| serde_json::json!({"type": t, "name": n, "actions": a}))
                    .collect::<Vec<_>>(),
            });
            let input = format!("{header}.{}", b64url(&serde_json::to_vec(&claims).unwrap()));
            let signature = match sign(&key, input.as_bytes()) {
                Ok(s) => s,
                Err(e) => return Reply::body(500, format!(r#"{{"details":{e:?}}}"#)),
            };
            let jwt = format!("{input}.{}", b64url(&signature));
            issued2.lock().unwrap().push(Issued {
                subject,
                scopes,
                access,
            });
            // OAuth2 answers carry only `access_token`.
            let mut body = serde_json::json!({
                "access_token": jwt,
                "expires_in": TOKEN_LIFETIME,
                "issued_at": coracle::container::rfc3339(now as i64, 0),
            });
            if !oauth {
                body["token"] = serde_json::json!(jwt);
            }
            Reply::body(200, serde_json::to_vec(&body).unwrap())
                .header("Content-Type", "application/json")
        });
        TokenServer {
            server,
            cert,
            issued,
        }
    }

    /// The realm the registry sends clients to.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.server.host())
    }

    /// The requests to the token endpoint so far (answered or refused).
    pub fn requests(&self) -> Vec<Req> {
        self.server.requests_to("/token")
    }

    /// The `scope` parameters of each request so far.
    pub fn scopes(&self) -> Vec<Vec<String>> {
        self.requests()
            .iter()
            .map(|r| {
                r.query()
                    .into_iter()
                    .filter(|(k, _)| k == "scope")
                    .map(|(_, v)| v)
                    .collect()
            })
            .collect()
    }

    /// The tokens issued so far.
    pub fn issued(&self) -> Vec<Issued> {
        self.issued.lock().unwrap().clone()
    }
}

use base64::Engine as _;

/// The identity token (OAuth2 refresh token) the token server accepts for
/// `user`, in a form POST with `grant_type=refresh_token`.
pub fn identity_token(user: &str) -> String {
    format!("coracle-test-refresh-{user}")
}

/// `application/x-www-form-urlencoded` fields, decoded.
fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// `(user, password)` from a `Basic` authorization header.
fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, value) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    let (u, p) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// Runs `openssl ARGS`, returning its stdout; panics on failure.
fn openssl(args: &[&std::ffi::OsStr]) -> Vec<u8> {
    let out = Command::new(OPENSSL)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// An RS256 signature (RSASSA-PKCS1-v1_5 with SHA-256) of `data` by `key`.
fn sign(key: &Path, data: &[u8]) -> Result<Vec<u8>, String> {
    let mut child = Command::new(OPENSSL)
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("run openssl: {e}"))?;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(data)
        .map_err(|e| format!("write to openssl: {e}"))?;
    let out = child
        .wait_with_output()
        .map_err(|e| format!("openssl: {e}"))?;
    if !out.status.success() || out.stdout.is_empty() {
        return Err(format!(
            "openssl dgst -sign: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}
