//! The auth file `login` writes and `logout` edits:
//! `$XDG_RUNTIME_DIR/containers/auth.json` (Podman's), in the format the
//! registry client reads: `{"auths": {"host": {"auth": base64("user:pass")}}}`.
//! Other entries and other top-level keys are kept.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine as _;

/// The auth file of this user.
pub fn default_path() -> anyhow::Result<PathBuf> {
    let run = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|x| !x.is_empty())
        .context(
            "XDG_RUNTIME_DIR is not set: coracle keeps registry credentials in $XDG_RUNTIME_DIR/containers/auth.json; set it (e.g. to /run/user/$(id -u))",
        )?;
    Ok(PathBuf::from(run).join("containers/auth.json"))
}

/// The key a registry is filed under: `docker.io` for Docker Hub's
/// spellings, else the lowercase `host[:port]` (a scheme and path dropped).
pub fn registry_key(server: &str) -> anyhow::Result<String> {
    let s = server.trim();
    let (had_scheme, rest) = match s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    {
        Some(r) => (true, r),
        None => (false, s),
    };
    let host = if had_scheme {
        rest.split('/').next().unwrap_or("")
    } else {
        rest.trim_end_matches('/')
    };
    let host = host.to_ascii_lowercase();
    if host.is_empty()
        || host.contains('/')
        || !host.bytes().all(|b| b.is_ascii_graphic())
        || host.contains('@')
    {
        anyhow::bail!(
            "invalid registry {server:?}: expected a registry host such as docker.io or registry.example.com:5000"
        );
    }
    Ok(match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        _ => host,
    })
}

fn read(path: &Path) -> anyhow::Result<serde_json::Value> {
    match std::fs::read(path) {
        Ok(b) => {
            let v: serde_json::Value = serde_json::from_slice(&b).with_context(|| {
                format!(
                    "parse auth file {}: fix it, or remove it and log in again",
                    path.display()
                )
            })?;
            anyhow::ensure!(
                v.is_object(),
                "auth file {} is not a JSON object: fix it, or remove it and log in again",
                path.display()
            );
            Ok(v)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(serde_json::json!({})),
        Err(e) => Err(e).with_context(|| format!("read {}", path.display())),
    }
}

/// Writes `v` to `path` atomically, mode 0600, creating the directory (0700).
fn write(path: &Path, v: &serde_json::Value) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    if !dir.is_dir() {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("chmod {}", dir.display()))?;
    }
    let tmp = dir.join(format!(".auth.json.tmp{}", std::process::id()));
    let result = (|| -> anyhow::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("create {}", tmp.display()))?;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        f.write_all(&serde_json::to_vec_pretty(v)?)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("rename {} to {}", tmp.display(), path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Removes every spelling of `key` from the `auths` map; whether one was there.
fn remove_key(v: &mut serde_json::Value, key: &str) -> bool {
    let Some(auths) = v.get_mut("auths").and_then(|a| a.as_object_mut()) else {
        return false;
    };
    let doomed: Vec<String> = auths
        .keys()
        .filter(|k| registry_key(k).ok().as_deref() == Some(key))
        .cloned()
        .collect();
    for k in &doomed {
        auths.remove(k);
    }
    !doomed.is_empty()
}

/// Stores `user`/`password` for `key` in the auth file at `path`.
pub fn store(path: &Path, key: &str, user: &str, password: &str) -> anyhow::Result<()> {
    let _lock = lock(path)?;
    let mut v = read(path)?;
    remove_key(&mut v, key);
    if !v.get("auths").is_some_and(|a| a.is_object()) {
        v["auths"] = serde_json::json!({});
    }
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    v["auths"][key] = serde_json::json!({ "auth": auth });
    write(path, &v)
}

/// Removes the credentials for `key`; whether there were any.
pub fn remove(path: &Path, key: &str) -> anyhow::Result<bool> {
    if !path.exists() {
        return Ok(false);
    }
    let _lock = lock(path)?;
    let mut v = read(path)?;
    if !remove_key(&mut v, key) {
        return Ok(false);
    }
    write(path, &v)?;
    Ok(true)
}

/// A lock next to the file, so that concurrent logins keep each other's entries.
fn lock(path: &Path) -> anyhow::Result<std::fs::File> {
    let dir = path.parent().unwrap_or(Path::new("."));
    if !dir.is_dir() {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("chmod {}", dir.display()))?;
    }
    let p = dir.join(".auth.json.lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&p)
        .with_context(|| format!("open {}", p.display()))?;
    f.lock().with_context(|| format!("lock {}", p.display()))?;
    Ok(f)
}

// ---------------------------------------------------------------------------
// Docker credential helpers
// ---------------------------------------------------------------------------

/// Credentials a Docker credential helper returned. A `username` of
/// `<token>` means `secret` is an identity token (an OAuth2 refresh token),
/// not a password.
#[derive(Clone, PartialEq, Eq)]
pub struct HelperCreds {
    pub username: String,
    pub secret: String,
}

impl std::fmt::Debug for HelperCreds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HelperCreds({:?}, <secret>)", self.username)
    }
}

/// The user name with which helpers mark an identity token.
pub const IDENTITY_TOKEN_USER: &str = "<token>";

/// The server address Docker files a registry under in its credential
/// helpers: Docker Hub's v1 URL for `docker.io`, else `host[:port]`.
pub fn helper_server(registry: &str) -> String {
    if registry == "docker.io" {
        "https://index.docker.io/v1/".to_string()
    } else {
        registry.to_string()
    }
}

/// Checks a helper name from `credsStore`/`credHelpers`: it becomes part of
/// a program name (`docker-credential-NAME`), so no path separators.
fn helper_program(name: &str, origin: &Path) -> anyhow::Result<String> {
    anyhow::ensure!(
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
        "credential helper name {name:?} in {} is not valid: expected a name such as \"pass\" or \"secretservice\" (the program docker-credential-NAME)",
        origin.display()
    );
    Ok(format!("docker-credential-{name}"))
}

/// Asks the credential helper `name` (configured in `origin`) for the
/// credentials of `registry`, as `docker-credential-NAME get` with the
/// server address on standard input. `Ok(None)` when the helper has none.
/// `path` replaces `PATH` for finding the helper.
pub fn helper_get(
    name: &str,
    registry: &str,
    origin: &Path,
    path: Option<&std::ffi::OsStr>,
) -> anyhow::Result<Option<HelperCreds>> {
    let program = helper_program(name, origin)?;
    let input = helper_server(registry);
    let out = run_helper(&program, "get", input.as_bytes(), origin, path)?;
    if !out.status.success() {
        let text = helper_message(&out);
        if text.to_ascii_lowercase().contains("credentials not found") {
            return Ok(None);
        }
        anyhow::bail!(
            "credential helper {program} (configured in {}) failed for {registry}: {}; check the helper, or remove it from that file and log in with `coracle login {registry}`",
            origin.display(),
            if text.is_empty() { out.status.to_string() } else { text }
        );
    }
    #[derive(serde::Deserialize)]
    struct Reply {
        #[serde(rename = "Username", default)]
        username: String,
        #[serde(rename = "Secret", default)]
        secret: String,
    }
    let r: Reply = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "credential helper {program} (configured in {}) answered for {registry} with something other than the JSON credentials it should print",
            origin.display()
        )
    })?;
    if r.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(HelperCreds {
        username: r.username,
        secret: r.secret,
    }))
}

/// Stores `user`/`secret` for `registry` with the credential helper `name`
/// (configured in `origin`): `docker-credential-NAME store` with
/// `{"ServerURL", "Username", "Secret"}` on standard input, as Docker's
/// `login` does.
pub fn helper_store(
    name: &str,
    registry: &str,
    user: &str,
    secret: &str,
    origin: &Path,
) -> anyhow::Result<()> {
    let program = helper_program(name, origin)?;
    let input = serde_json::to_vec(&serde_json::json!({
        "ServerURL": helper_server(registry),
        "Username": user,
        "Secret": secret,
    }))?;
    let out = run_helper(&program, "store", &input, origin, None)?;
    anyhow::ensure!(
        out.status.success(),
        "credential helper {program} (configured in {}) could not store the credentials for {registry}: {}; check the helper, or remove it from that file to keep them in coracle's auth file",
        origin.display(),
        helper_message(&out)
    );
    Ok(())
}

/// Removes what the credential helper `name` keeps for `registry`
/// (`docker-credential-NAME erase`); whether it had anything.
pub fn helper_erase(name: &str, registry: &str, origin: &Path) -> anyhow::Result<bool> {
    let program = helper_program(name, origin)?;
    let out = run_helper(
        &program,
        "erase",
        helper_server(registry).as_bytes(),
        origin,
        None,
    )?;
    if out.status.success() {
        return Ok(true);
    }
    let text = helper_message(&out);
    if text.to_ascii_lowercase().contains("credentials not found") {
        return Ok(false);
    }
    anyhow::bail!(
        "credential helper {program} (configured in {}) could not erase the credentials for {registry}: {text}",
        origin.display()
    )
}

/// Runs `program action` with `input` on standard input; its output.
fn run_helper(
    program: &str,
    action: &str,
    input: &[u8],
    origin: &Path,
    path: Option<&std::ffi::OsStr>,
) -> anyhow::Result<std::process::Output> {
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(program);
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    let mut child = cmd
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                anyhow::anyhow!(
                    "credential helper {program}, configured in {}, is not installed or not in PATH: install it, or remove it from that file",
                    origin.display()
                )
            } else {
                anyhow::anyhow!("run credential helper {program}: {e}")
            }
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading its input is judged by its status.
        let _ = stdin.write_all(input);
    }
    child
        .wait_with_output()
        .with_context(|| format!("wait for credential helper {program}"))
}

/// A helper's complaint: its output (stdout, else stderr), one line, no
/// control characters, at most 300 characters.
fn helper_message(out: &std::process::Output) -> String {
    let raw = if out.stdout.iter().any(|b| !b.is_ascii_whitespace()) {
        &out.stdout
    } else {
        &out.stderr
    };
    String::from_utf8_lossy(raw)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .chars()
        .take(300)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_normalised() {
        assert_eq!(
            registry_key("https://index.docker.io/v1/").unwrap(),
            "docker.io"
        );
        assert_eq!(registry_key("docker.io").unwrap(), "docker.io");
        assert_eq!(registry_key("Reg.Lan:5000").unwrap(), "reg.lan:5000");
        assert_eq!(
            registry_key("http://127.0.0.1:5000/v2/").unwrap(),
            "127.0.0.1:5000"
        );
        assert!(registry_key("").is_err());
        assert!(registry_key("host/path").is_err());
    }

    #[test]
    fn store_keeps_other_entries_and_remove_drops_all_spellings() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("containers/auth.json");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(
            &p,
            r#"{"auths": {"https://index.docker.io/v1/": {"auth": "eDp5"}, "quay.io": {"auth": "YTpi"}}, "credHelpers": {"x": "y"}}"#,
        )
        .unwrap();
        store(&p, "docker.io", "u", "p").unwrap();
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        assert_eq!(v["auths"]["docker.io"]["auth"], "dTpw");
        assert!(v["auths"].get("https://index.docker.io/v1/").is_none());
        assert_eq!(v["auths"]["quay.io"]["auth"], "YTpi");
        assert_eq!(v["credHelpers"]["x"], "y");
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(remove(&p, "docker.io").unwrap());
        assert!(!remove(&p, "docker.io").unwrap());
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        assert!(v["auths"].get("docker.io").is_none());
        assert_eq!(v["auths"]["quay.io"]["auth"], "YTpi");
    }
}
