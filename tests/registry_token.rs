//! The bearer-token flow end to end, as the unprivileged user: the `coracle`
//! binary against a real registry (Debian's docker-registry) in token mode,
//! whose token endpoint is the tests' own `TokenServer` (RS256 JWTs signed
//! with a per-run key, see tests/common/registry.rs).

mod common;
#[path = "common/images.rs"]
mod images_fixture;
#[path = "common/registry.rs"]
mod registry_fixture;

use base64::Engine as _;
use common::*;
use images_fixture::{layer, push, push_as, Layer};
use registry_fixture::{Anonymous, RegistryServer};

const USER: &str = "carol";
const PASSWORD: &str = "t0ken pass";

/// A plain registry with `busybox`: the busybox-static root and two small
/// layers on top, so that a pull fetches four blobs.
fn source_registry(env: &Env) -> RegistryServer {
    let reg = RegistryServer::start(None).expect("registry");
    let root = env.dir.join("image-root");
    env.build_rootfs(&root);
    push(
        &reg.host,
        "busybox",
        &[
            layer(Some(&root), &[]),
            layer(None, &[("etc/motd", b"layer two\n")]),
            layer(None, &[("etc/issue", b"layer three\n")]),
        ],
        &["echo", "from cmd"],
        &["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
    );
    reg
}

/// Pushes a one-layer image as `name` with the user's credentials.
fn push_as_user(host: &str, name: &str, l: &Layer) {
    push_as(
        host,
        name,
        std::slice::from_ref(l),
        &["echo", "private"],
        &[],
        Some((USER, PASSWORD)),
    );
}

/// A test user and a token-mode registry (anonymous clients get nothing)
/// with a one-file image `repo` pushed by the user; the image's full name.
fn private_image(repo: &str) -> Option<(Env, RegistryServer, String)> {
    let env = Env::new(Mode::Any)?;
    let reg = RegistryServer::start_token((USER, PASSWORD), Anonymous::Nothing)?;
    push_as_user(&reg.host, repo, &layer(None, &[("hello", b"hi\n")]));
    let name = format!("{}/{repo}", reg.host);
    Some((env, reg, name))
}

fn login(env: &Env, host: &str, user: &str, password: &str) -> Out {
    env.coracle(["login", "-u", user, "--password-stdin", host])
        .stdin(format!("{password}\n"))
        .run()
}

fn auth_file(env: &Env) -> std::path::PathBuf {
    env.runtime.join("containers/auth.json")
}

fn logged_in(env: &Env, host: &str) {
    let out = login(env, host, USER, PASSWORD);
    assert_eq!(out.expect_code(0).stdout, "Login Succeeded\n", "{out}");
    assert!(auth_file(env).exists(), "{out}");
}

#[test]
fn login_push_pull_and_run_through_the_token_registry() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let Some(reg) = RegistryServer::start_token((USER, PASSWORD), Anonymous::Nothing) else {
        return;
    };
    let tokens = reg.token_server();
    let src = source_registry(&env);
    let from = format!("{}/busybox", src.host);
    let to = format!("{}/team/app:v1", reg.host);
    env.coracle(["pull", "-q", from.as_str()])
        .run()
        .expect_code(0);
    env.coracle(["tag", from.as_str(), to.as_str()])
        .run()
        .expect_code(0);

    // Anonymous clients may not push.
    let out = env.coracle(["push", to.as_str()]).run();
    assert_ne!(out.code(), 0, "{out}");
    assert!(
        out.stderr
            .contains(&format!("log in with `coracle login {}`", reg.host)),
        "{out}"
    );
    assert!(tokens.issued().iter().all(|t| t.subject.is_none()));

    // `login` gets a token with the credentials (for no scope).
    let n = tokens.requests().len();
    logged_in(&env, &reg.host);
    let issued = tokens.issued();
    let last = issued.last().unwrap();
    assert_eq!(last.subject.as_deref(), Some(USER), "{issued:?}");
    assert!(last.access.is_empty(), "{issued:?}");
    assert!(tokens.requests().len() > n);

    // `push`: a push token, reused for every blob.
    let n = tokens.requests().len();
    let out = env.coracle(["push", to.as_str()]).run();
    let s = out.expect_code(0).stdout.clone();
    assert_eq!(s.matches(": Pushed").count(), 3, "{out}");
    assert!(s.contains("v1: digest: sha256:"), "{out}");
    let asked = &tokens.scopes()[n..];
    assert!(
        (1..=2).contains(&asked.len()),
        "a push of 4 blobs asked for {} tokens: {asked:?}",
        asked.len()
    );
    assert!(
        asked
            .iter()
            .flatten()
            .any(|s| s == "repository:team/app:pull,push"),
        "{asked:?}"
    );
    let issued = tokens.issued();
    assert!(
        issued.iter().any(|t| t.subject.as_deref() == Some(USER)
            && t.access
                == [(
                    "repository".to_string(),
                    "team/app".to_string(),
                    vec!["pull".to_string(), "push".to_string()]
                )]),
        "{issued:?}"
    );
    for r in &tokens.requests()[n..] {
        assert!(r.header("authorization").is_some(), "{r:?}");
    }

    // A second user (fresh store) logs in and pulls: one token for the
    // manifest and all four blobs.
    let fresh = Env::new(Mode::Any).unwrap();
    logged_in(&fresh, &reg.host);
    let n = tokens.requests().len();
    let out = fresh.coracle(["pull", to.as_str()]).run();
    assert_eq!(out.expect_code(0).stdout.trim(), to, "{out}");
    assert!(out.stderr.contains("Pull complete"), "{out}");
    let asked = &tokens.scopes()[n..];
    assert_eq!(
        asked,
        [vec!["repository:team/app:pull".to_string()]],
        "a pull of 4 blobs must reuse its token"
    );
    let out = fresh
        .coracle(["run", "--rm", to.as_str(), "echo", "hi"])
        .run();
    assert_eq!(out.expect_code(0).stdout, "hi\n", "{out}");
    let out = fresh
        .coracle(["run", "--rm", to.as_str(), "cat", "/etc/motd", "/etc/issue"])
        .run();
    assert_eq!(
        out.expect_code(0).stdout,
        "layer two\nlayer three\n",
        "{out}"
    );
    // `run` with the image in the store asks for no token.
    assert_eq!(tokens.requests().len(), n + 1);

    // Pushed into another repository, the layers are mounted from the one
    // the image came from, with a token for both repositories.
    let copy = format!("{}/team/copy:v1", reg.host);
    fresh
        .coracle(["tag", to.as_str(), copy.as_str()])
        .run()
        .expect_code(0);
    let k = tokens.issued().len();
    let out = fresh.coracle(["push", copy.as_str()]).run();
    let s = out.expect_code(0).stdout.clone();
    assert_eq!(s.matches("Mounted from team/app").count(), 3, "{out}");
    assert!(!s.contains(": Pushed"), "{out}");
    let issued = &tokens.issued()[k..];
    assert!(
        issued.iter().any(|t| t
            .access
            .iter()
            .any(|(_, name, actions)| name == "team/app" && actions == &["pull".to_string()])
            && t.access.iter().any(|(_, name, _)| name == "team/copy")),
        "{issued:?}"
    );
}

#[test]
fn anonymous_pull_is_refused_and_a_wrong_password_fails_login() {
    let Some((env, reg, name)) = private_image("team/private:v1") else {
        return;
    };
    let tokens = reg.token_server();

    // Anonymous: the token server answers with a token that grants
    // nothing, which the registry refuses.
    let n = tokens.issued().len();
    let out = env.coracle(["pull", name.as_str()]).run();
    assert_ne!(out.code(), 0, "{out}");
    assert!(out.stderr.contains("401"), "{out}");
    assert!(
        out.stderr
            .contains(&format!("log in with `coracle login {}`", reg.host)),
        "{out}"
    );
    let issued = &tokens.issued()[n..];
    assert!(
        !issued.is_empty()
            && issued
                .iter()
                .all(|t| t.subject.is_none() && t.access.is_empty()),
        "{issued:?}"
    );

    // A wrong password or user: the token server refuses, and nothing is
    // saved.
    for (user, password) in [(USER, "wrong"), ("mallory", PASSWORD)] {
        let out = login(&env, &reg.host, user, password);
        assert_ne!(out.code(), 0, "{out}");
        assert!(
            out.stderr.contains("incorrect username or password"),
            "{out}"
        );
        assert!(
            out.stderr.contains("check the user name and password"),
            "{out}"
        );
        assert!(!auth_file(&env).exists(), "{out}");
    }

    // Logged in: the pull works.
    logged_in(&env, &reg.host);
    let out = env.coracle(["pull", name.as_str()]).run();
    assert_eq!(out.expect_code(0).stdout.trim(), name, "{out}");

    // Logged out again: refused again.
    env.coracle(["logout", reg.host.as_str()])
        .run()
        .expect_code(0);
    env.coracle(["rmi", name.as_str()]).run().expect_code(0);
    let out = env.coracle(["pull", name.as_str()]).run();
    assert_ne!(out.code(), 0, "{out}");
    assert!(out.stderr.contains("coracle login"), "{out}");
}

/// An identity token (an OAuth2 refresh token, as Docker keeps for some
/// registries) in the auth file: exchanged with a form POST for an access
/// token, the password never needed.
#[test]
fn identity_token_is_exchanged_for_access_tokens() {
    let Some((env, reg, name)) = private_image("team/oauth:v1") else {
        return;
    };
    let tokens = reg.token_server();
    let auth = auth_file(&env);
    env.mkdir_owned(auth.parent().unwrap(), 0o700);

    // A wrong identity token: refused, with the token server's answer.
    env.write_owned(
        &auth,
        format!(
            r#"{{"auths": {{"{}": {{"identitytoken": "stale"}}}}}}"#,
            reg.host
        ),
    );
    let out = env.coracle(["pull", name.as_str()]).run();
    assert_ne!(out.code(), 0, "{out}");
    assert!(
        out.stderr.contains("invalid_grant") || out.stderr.contains("400"),
        "{out}"
    );

    env.write_owned(
        &auth,
        format!(
            r#"{{"auths": {{"{}": {{"auth": "{}", "identitytoken": "{}"}}}}}}"#,
            reg.host,
            base64::engine::general_purpose::STANDARD.encode(format!("{USER}:")),
            registry_fixture::identity_token(USER)
        ),
    );
    let n = tokens.requests().len();
    let out = env.coracle(["pull", name.as_str()]).run();
    assert_eq!(out.expect_code(0).stdout.trim(), name, "{out}");
    let asked = &tokens.requests()[n..];
    assert!(
        !asked.is_empty() && asked.iter().all(|r| r.method == "POST"),
        "{asked:?}"
    );
    // No password went out: no Basic credentials, the grant in the body.
    assert!(asked.iter().all(|r| r.header("authorization").is_none()));
    let body = String::from_utf8_lossy(&asked[0].body).to_string();
    assert!(
        body.contains("grant_type=refresh_token")
            && body.contains("scope=repository%3Ateam%2Foauth%3Apull"),
        "{body}"
    );
    let issued = tokens.issued();
    assert_eq!(issued.last().unwrap().subject.as_deref(), Some(USER));
    let out = env.coracle(["images", "--format", "json"]).run();
    assert!(out.expect_code(0).stdout.contains("team/oauth"), "{out}");
}

/// A logged-in user the token server grants only `pull`: the registry
/// answers `insufficient_scope`, and the error says so (not "log in again").
#[test]
fn push_without_the_right_says_the_account_may_not_push() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let Some(reg) = RegistryServer::start_token((USER, PASSWORD), Anonymous::Nothing) else {
        return;
    };
    let src = source_registry(&env);
    let from = format!("{}/busybox", src.host);
    env.coracle(["pull", "-q", from.as_str()])
        .run()
        .expect_code(0);
    logged_in(&env, &reg.host);
    let to = format!("{}/{}app:v1", reg.host, registry_fixture::READ_ONLY_PREFIX);
    env.coracle(["tag", from.as_str(), to.as_str()])
        .run()
        .expect_code(0);
    let out = env.coracle(["push", to.as_str()]).run();
    assert_ne!(out.code(), 0, "{out}");
    assert!(
        out.stderr.contains("may not push to this repository"),
        "{out}"
    );
    assert!(!out.stderr.contains("log in again"), "{out}");
}

#[test]
fn anonymous_pull_allowed_but_push_needs_a_login() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let Some(reg) = RegistryServer::start_token((USER, PASSWORD), Anonymous::Pull) else {
        return;
    };
    let tokens = reg.token_server();
    push_as_user(
        &reg.host,
        "team/public:v1",
        &layer(None, &[("hello", b"hi\n")]),
    );
    let name = format!("{}/team/public:v1", reg.host);
    let out = env.coracle(["pull", name.as_str()]).run();
    assert_eq!(out.expect_code(0).stdout.trim(), name, "{out}");
    let last = tokens.issued().last().cloned().unwrap();
    assert!(last.subject.is_none(), "{last:?}");

    // An anonymous push asks for push and gets only pull: refused.
    let copy = format!("{}/team/copy:v1", reg.host);
    env.coracle(["tag", name.as_str(), copy.as_str()])
        .run()
        .expect_code(0);
    let n = tokens.issued().len();
    let out = env.coracle(["push", copy.as_str()]).run();
    assert_ne!(out.code(), 0, "{out}");
    assert!(
        out.stderr.contains(&format!("coracle login {}", reg.host)),
        "{out}"
    );
    let issued = &tokens.issued()[n..];
    assert!(
        issued.iter().any(|t| t
            .scopes
            .iter()
            .any(|s| s == "repository:team/copy:pull,push")),
        "{issued:?}"
    );
    assert!(
        issued
            .iter()
            .all(|t| t.access.iter().all(|(_, _, a)| a == &["pull"])),
        "{issued:?}"
    );

    // Logged in, the push goes through.
    logged_in(&env, &reg.host);
    let out = env.coracle(["push", "-q", copy.as_str()]).run();
    assert!(out.expect_code(0).stdout.starts_with("sha256:"), "{out}");
    let out = env.coracle(["pull", copy.as_str()]).run();
    assert!(out.expect_code(0).stderr.contains("up to date"), "{out}");
}

/// `GET path` on `addr` with `headers`, by hand (not with the client under
/// test): the status, the `WWW-Authenticate` header and the body.
fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let resp = String::from_utf8_lossy(&resp).into_owned();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let challenge = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("www-authenticate"))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    (status, challenge, body.to_string())
}

/// The fixture itself: the registry challenges for the token server, and
/// accepts its tokens only signed and only for what they grant.
#[test]
fn the_registry_verifies_the_test_tokens() {
    use base64::Engine as _;
    let Some(reg) = RegistryServer::start_token((USER, PASSWORD), Anonymous::Nothing) else {
        return;
    };
    let ts = reg.token_server();
    push_as_user(&reg.host, "team/app:v1", &layer(None, &[("a", b"a\n")]));
    let tags = "/v2/team/app/tags/list";

    let (status, challenge, _) = get(&reg.host, tags, &[]);
    assert_eq!(status, 401);
    assert!(
        challenge.starts_with(&format!(r#"Bearer realm="{}""#, ts.realm()))
            && challenge.contains(r#"service="coracle-test-registry""#)
            && challenge.contains(r#"scope="repository:team/app:pull""#),
        "{challenge}"
    );

    let token = |scope: &str| {
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
        );
        let (status, _, body) = get(
            &ts.server.host(),
            &format!("/token?service=coracle-test-registry&scope={scope}"),
            &[("Authorization", &basic)],
        );
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["access_token"], v["token"], "{v}");
        assert_eq!(v["expires_in"], 300, "{v}");
        assert!(v["issued_at"].as_str().unwrap().ends_with('Z'), "{v}");
        v["token"].as_str().unwrap().to_string()
    };
    let good = token("repository:team/app:pull");
    let (status, _, body) = get(
        &reg.host,
        tags,
        &[("Authorization", &format!("Bearer {good}"))],
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""v1""#), "{body}");

    // Another signature (a character of the signature changed, not the
    // last, which holds padding bits): refused.
    let mut bad = good.clone().into_bytes();
    let i = bad.len() - 10;
    bad[i] = if bad[i] == b'A' { b'B' } else { b'A' };
    let bad = String::from_utf8(bad).unwrap();
    let (status, _, body) = get(
        &reg.host,
        tags,
        &[("Authorization", &format!("Bearer {bad}"))],
    );
    assert_eq!(status, 401, "{body}");

    // A token for another repository: refused.
    let other = token("repository:team/other:pull,push");
    let (status, _, body) = get(
        &reg.host,
        tags,
        &[("Authorization", &format!("Bearer {other}"))],
    );
    assert_eq!(status, 401, "{body}");
}
