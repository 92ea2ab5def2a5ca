//! Image commands as the unprivileged user, against a real registry
//! (Debian's docker-registry on loopback): `tag`, `rmi`, `image inspect`,
//! `push`, `login`/`logout`, `image prune`, `history`.

mod common;
#[path = "common/images.rs"]
mod images_fixture;
#[path = "common/registry.rs"]
mod registry_fixture;

use std::os::unix::fs::PermissionsExt;

use common::*;
use images_fixture::{layer, push, push_as};
use registry_fixture::RegistryServer;

/// A registry with `busybox` (one layer, the busybox-static root).
fn registry_with_busybox(env: &Env, user: Option<(&str, &str)>) -> RegistryServer {
    let reg = RegistryServer::start(user).expect("registry");
    let root = env.dir.join("image-root");
    env.build_rootfs(&root);
    if user.is_none() {
        push(
            &reg.host,
            "busybox",
            &[layer(Some(&root), &[])],
            &["echo", "hi"],
            &["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
        );
    }
    reg
}

fn ids(env: &Env) -> Vec<String> {
    env.coracle(["images", "-q", "--no-trunc"]).run().lines()
}

fn pull(env: &Env, name: &str) {
    let out = env.coracle(["pull", "-q", name]).run();
    out.expect_code(0);
}

#[test]
fn tag_rmi_and_inspect() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let reg = registry_with_busybox(&env, None);
    let name = format!("{}/busybox", reg.host);
    pull(&env, &name);
    let id = ids(&env)[0].clone();
    assert!(id.starts_with("sha256:"), "{id}");

    // By name, by id prefix; the target is normalised.
    env.coracle(["tag", name.as_str(), "mine:1"])
        .run()
        .expect_code(0);
    env.coracle(["image", "tag", &id[7..19], "docker.io/library/other"])
        .run()
        .expect_code(0);
    let out = env.coracle(["images"]).run();
    let s = out.expect_code(0).stdout.clone();
    assert!(s.contains("mine ") && s.contains(" 1 "), "{out}");
    assert!(s.contains("other ") && s.contains("latest"), "{out}");
    assert_eq!(ids(&env).len(), 1);
    let out = env.coracle(["tag", "nosuch", "x"]).run();
    out.expect_code(1);
    assert!(out.stderr.contains("No such image: nosuch"), "{out}");

    // Inspect: Docker's fields.
    let out = env.coracle(["image", "inspect", "mine:1"]).run();
    let v: serde_json::Value = serde_json::from_str(&out.expect_code(0).stdout).unwrap();
    let i = &v[0];
    assert_eq!(i["Id"], id.as_str());
    let tags: Vec<&str> = i["RepoTags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(
        tags.contains(&"mine:1") && tags.contains(&"other:latest"),
        "{out}"
    );
    assert!(
        i["RepoDigests"][0]
            .as_str()
            .unwrap()
            .starts_with(&format!("{name}@sha256:")),
        "{out}"
    );
    assert_eq!(i["Os"], "linux");
    assert_eq!(i["Created"], "2026-11-01T00:00:00Z");
    assert_eq!(i["Config"]["Cmd"], serde_json::json!(["echo", "hi"]));
    assert_eq!(i["RootFS"]["Type"], "layers");
    assert_eq!(i["RootFS"]["Layers"].as_array().unwrap().len(), 1);
    assert!(i["Size"].as_u64().unwrap() > 0);
    let out = env.coracle(["image", "inspect", "mine:1", "nosuch"]).run();
    out.expect_code(1);
    assert!(out.stderr.contains("Error: No such image: nosuch"), "{out}");

    // history
    let out = env.coracle(["history", "mine:1"]).run();
    let lines = out.expect_code(0).lines();
    assert!(
        lines[0].starts_with("IMAGE") && lines[0].contains("CREATED BY"),
        "{out}"
    );
    assert!(
        lines[1].starts_with(&id[7..19]) && lines[1].contains("coracle tests"),
        "{out}"
    );
    let out = env.coracle(["history", "-q", "--no-trunc", "mine:1"]).run();
    assert_eq!(out.expect_code(0).stdout, format!("{id}\n"), "{out}");

    // By id with several names: must be forced.
    let out = env.coracle(["rmi", &id[7..19]]).run();
    out.expect_code(1);
    assert!(out.stderr.contains("must be forced"), "{out}");
    // One name of several: untag only.
    let out = env.coracle(["rmi", "mine:1"]).run();
    assert_eq!(out.expect_code(0).stdout, "Untagged: mine:1\n", "{out}");
    env.coracle(["image", "rm", "other"]).run().expect_code(0);
    assert_eq!(ids(&env).len(), 1);

    // A container made from it keeps it.
    let out = env.coracle(["run", name.as_str(), "true"]).run();
    out.expect_code(0);
    let out = env.coracle(["rmi", name.as_str()]).run();
    out.expect_code(1);
    assert!(
        out.stderr.contains("container") && out.stderr.contains("-f"),
        "{out}"
    );
    let out = env.coracle(["image", "prune", "-a", "-f"]).run();
    assert_eq!(
        out.expect_code(0).stdout,
        "Total reclaimed space: 0B\n",
        "{out}"
    );
    assert_eq!(ids(&env).len(), 1);

    // The last name: the image goes, and its blobs and layers with it.
    let out = env.coracle(["rmi", "-f", name.as_str()]).run();
    let s = out.expect_code(0).stdout.clone();
    assert!(s.contains(&format!("Untagged: {name}:latest")), "{out}");
    assert!(s.contains(&format!("Deleted: {id}")), "{out}");
    assert!(ids(&env).is_empty());
    let storage = env.data.join("coracle/storage");
    assert_eq!(
        std::fs::read_dir(storage.join("blobs/sha256"))
            .unwrap()
            .count(),
        0
    );
    assert_eq!(
        std::fs::read_dir(storage.join("layers")).unwrap().count(),
        0
    );
    let out = env.coracle(["rmi", "nosuch"]).run();
    out.expect_code(1);
    assert!(out.stderr.contains("Error: No such image: nosuch"), "{out}");
}

#[test]
fn prune_removes_dangling_then_all_unused() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let reg = registry_with_busybox(&env, None);
    let name = format!("{}/busybox", reg.host);
    pull(&env, &name);
    // Without -f and without a terminal: refused.
    let out = env.coracle(["image", "prune"]).stdin("y\n").run();
    out.expect_code(1);
    assert!(out.stderr.contains("-f"), "{out}");
    // Nothing dangling.
    let out = env.coracle(["image", "prune", "-f"]).run();
    assert_eq!(
        out.expect_code(0).stdout,
        "Total reclaimed space: 0B\n",
        "{out}"
    );
    // A new image under the same tag leaves the old one dangling.
    let root = env.dir.join("image-root");
    push(
        &reg.host,
        "busybox",
        &[layer(Some(&root), &[("etc/motd", b"v2\n")])],
        &["sh"],
        &[],
    );
    pull(&env, &name);
    assert_eq!(ids(&env).len(), 2);
    let out = env.coracle(["image", "prune", "-f"]).run();
    let s = out.expect_code(0).stdout.clone();
    assert!(s.starts_with("Deleted Images:\n"), "{out}");
    assert!(s.contains("deleted: sha256:"), "{out}");
    assert!(!s.contains("Total reclaimed space: 0B"), "{out}");
    assert_eq!(ids(&env).len(), 1);
    let out = env.coracle(["image", "prune", "-a", "-f"]).run();
    let s = out.expect_code(0).stdout.clone();
    assert!(s.contains(&format!("untagged: {name}:latest")), "{out}");
    assert!(ids(&env).is_empty());
}

#[test]
fn push_to_another_registry_keeps_the_digest() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let a = registry_with_busybox(&env, None);
    let b = RegistryServer::start(None).expect("registry");
    let from = format!("{}/busybox", a.host);
    let to = format!("{}/team/copy:v1", b.host);
    pull(&env, &from);
    let digests = |env: &Env| env.coracle(["images", "--digests"]).run().stdout;
    let before = digests(&env);
    let digest = before
        .split_whitespace()
        .find(|w| w.starts_with("sha256:"))
        .unwrap()
        .to_string();

    let out = env.coracle(["push", to.as_str()]).run();
    out.expect_code(1);
    assert!(out.stderr.contains("No such image"), "{out}");
    env.coracle(["tag", from.as_str(), to.as_str()])
        .run()
        .expect_code(0);
    let out = env.coracle(["push", to.as_str()]).run();
    let s = out.expect_code(0).stdout.clone();
    assert!(
        s.contains(&format!(
            "The push refers to repository [{}/team/copy]",
            b.host
        )),
        "{out}"
    );
    assert!(s.contains(": Pushed"), "{out}");
    assert!(s.contains(&format!("v1: digest: {digest} size: ")), "{out}");
    // A second push finds the layers there.
    let out = env.coracle(["push", to.as_str()]).run();
    assert!(
        out.expect_code(0).stdout.contains("Layer already exists"),
        "{out}"
    );
    let out = env.coracle(["push", "-q", to.as_str()]).run();
    assert_eq!(out.expect_code(0).stdout, format!("{digest}\n"), "{out}");

    // A fresh store pulls the same manifest from the second registry.
    let fresh = Env::new(Mode::Any).unwrap();
    pull(&fresh, &to);
    let after = digests(&fresh);
    assert!(after.contains(&digest), "{before}\n{after}");
    let out = fresh.coracle(["run", "--rm", to.as_str()]).run();
    assert_eq!(out.expect_code(0).stdout, "hi\n", "{out}");
}

/// Pushes an image `name` whose command echoes `says` to the registry, which
/// wants the credentials `user` (the test process pushes with its own auth
/// file).
fn push_private(env: &Env, reg: &RegistryServer, name: &str, user: (&str, &str), says: &str) {
    let repo = name.strip_prefix(&format!("{}/", reg.host)).unwrap();
    let l = layer(Some(&env.dir.join("image-root")), &[]);
    push_as(&reg.host, repo, &[l], &["echo", says], &[], Some(user));
}

/// A push into another repository of the same registry mounts the layers
/// from the repository the image came from instead of uploading them.
#[test]
fn push_to_another_repository_mounts_the_layers() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let reg = registry_with_busybox(&env, None);
    let from = format!("{}/busybox", reg.host);
    pull(&env, &from);
    let to = format!("{}/team/copy:1", reg.host);
    env.coracle(["tag", from.as_str(), to.as_str()])
        .run()
        .expect_code(0);
    let out = env.coracle(["push", to.as_str()]).run();
    out.expect_code(0);
    assert!(out.stdout.contains("Mounted from busybox"), "{out}");
    assert!(!out.stdout.contains(": Pushed"), "{out}");
    // The mounted repository serves the image.
    let fresh = Env::new(Mode::Any).unwrap();
    let out = fresh.coracle(["run", "--rm", to.as_str()]).run();
    assert_eq!(out.expect_code(0).stdout, "hi\n", "{out}");
}

#[test]
fn login_pull_private_logout() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let reg = registry_with_busybox(&env, Some(("alice", "s3cret")));
    let name = format!("{}/private", reg.host);
    let auth = env.runtime.join("containers/auth.json");
    push_private(&env, &reg, &name, ("alice", "s3cret"), "private");

    let out = env.coracle(["pull", name.as_str()]).run();
    assert_ne!(out.code(), 0, "{out}");
    assert!(out.stderr.contains("coracle login"), "{out}");

    // Wrong password: refused, nothing written.
    let out = env
        .coracle([
            "login",
            "-u",
            "alice",
            "--password-stdin",
            reg.host.as_str(),
        ])
        .stdin("wrong\n")
        .run();
    assert_ne!(out.code(), 0, "{out}");
    assert!(!auth.exists(), "{out}");
    // No terminal, no user: refused.
    let out = env.coracle(["login", reg.host.as_str()]).run();
    assert_ne!(out.code(), 0, "{out}");

    let out = env
        .coracle([
            "login",
            "-u",
            "alice",
            "--password-stdin",
            reg.host.as_str(),
        ])
        .stdin("s3cret\n")
        .run();
    assert_eq!(out.expect_code(0).stdout, "Login Succeeded\n", "{out}");
    let md = std::fs::metadata(&auth).unwrap();
    assert_eq!(md.permissions().mode() & 0o777, 0o600);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&auth).unwrap()).unwrap();
    assert!(v["auths"][reg.host.as_str()]["auth"].is_string(), "{v}");
    // -p works too, with Docker's warning.
    let out = env
        .coracle(["login", "-u", "alice", "-p", "s3cret", reg.host.as_str()])
        .run();
    out.expect_code(0);
    assert!(out.stderr.contains("--password-stdin"), "{out}");

    let out = env.coracle(["pull", name.as_str()]).run();
    out.expect_code(0);
    let out = env.coracle(["run", "--rm", name.as_str()]).run();
    assert_eq!(out.expect_code(0).stdout, "private\n", "{out}");

    let out = env.coracle(["logout", reg.host.as_str()]).run();
    assert_eq!(
        out.expect_code(0).stdout,
        format!("Removed login credentials for {}\n", reg.host),
        "{out}"
    );
    let out = env.coracle(["rmi", name.as_str()]).run();
    out.expect_code(0);
    let out = env.coracle(["pull", name.as_str()]).run();
    assert_ne!(out.code(), 0, "{out}");
    assert!(out.stderr.contains("coracle login"), "{out}");
    let out = env.coracle(["logout", reg.host.as_str()]).run();
    assert_eq!(
        out.expect_code(0).stdout,
        format!("Not logged in to {}\n", reg.host),
        "{out}"
    );
}

#[test]
fn login_prompts_on_a_terminal_without_echoing_the_password() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let reg = registry_with_busybox(&env, Some(("bob", "hidden-pw-42")));
    let Some(t) = Tmux::start(&env, 120, 30) else {
        return;
    };
    t.wait_for("host$");
    t.type_line(&format!("{} login {}", env.bin.display(), reg.host));
    t.wait_for("Username: ");
    t.type_line("bob");
    t.wait_for("Password: ");
    t.type_line("hidden-pw-42");
    let screen = t.wait_for("Login Succeeded");
    assert!(!screen.contains("hidden-pw-42"), "{screen}");
    let auth = env.runtime.join("containers/auth.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&auth).unwrap()).unwrap();
    assert!(v["auths"][reg.host.as_str()]["auth"].is_string(), "{v}");
    // The terminal echoes again afterwards.
    t.type_line("echo ECHO-IS-BACK");
    t.wait_for("echo ECHO-IS-BACK");
}

/// A Docker credential helper (`credsStore`, `credHelpers`) in
/// `~/.docker/config.json` supplies the credentials, and `login`/`logout`
/// store and erase them there, as with Docker.
#[test]
fn credential_helpers_from_the_docker_config() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let reg = registry_with_busybox(&env, Some(("carol", "from-helper")));
    let name = format!("{}/kept", reg.host);
    push_private(&env, &reg, &name, ("carol", "from-helper"), "kept");

    // The helper, in a directory of its own on PATH: it keeps one file per
    // server under $HOME/keys and logs each action.
    let bin = env.dir.join("helpers");
    std::fs::create_dir(&bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let log = env.home.join("helper.log");
    let keys = env.home.join("keys");
    env.mkdir_owned(&keys, 0o700);
    let script = format!(
        r#"#!/bin/sh
key() {{ printf '%s/%s' {keys} "$(printf '%s' "$1" | tr -c 'A-Za-z0-9.' _)"; }}
case "$1" in
get) read -r server; echo "get $server" >> {log}
     if [ -f "$(key "$server")" ]; then cat "$(key "$server")"; exit 0; fi ;;
store) json=$(cat); server=$(printf '%s' "$json" | sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p')
     echo "store $server" >> {log}; printf '%s\n' "$json" > "$(key "$server")"; exit 0 ;;
erase) read -r server; echo "erase $server" >> {log}
     if [ -f "$(key "$server")" ]; then rm -f "$(key "$server")"; exit 0; fi ;;
*) exit 3 ;;
esac
echo 'credentials not found in native keychain'
exit 1
"#,
        keys = keys.display(),
        log = log.display(),
    );
    let helper = bin.join("docker-credential-testkeys");
    std::fs::write(&helper, script).unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{HOST_PATH}", bin.display());
    let key_file = keys.join(reg.host.replace(':', "_"));
    env.write_owned(
        &key_file,
        format!(
            r#"{{"ServerURL":"{}","Username":"carol","Secret":"from-helper"}}"#,
            reg.host
        ),
    );
    let docker = env.home.join(".docker");
    env.mkdir_owned(&docker, 0o700);
    let config = docker.join("config.json");
    let coracle = |args: &[&str]| env.coracle(args).env("PATH", &path);

    // credsStore: for every registry.
    env.write_owned(&config, r#"{"auths": {}, "credsStore": "testkeys"}"#);
    coracle(&["pull", "-q", &name]).run().expect_code(0);
    let asked = std::fs::read_to_string(&log).unwrap();
    assert_eq!(asked, format!("get {}\n", reg.host));
    let out = env.coracle(["run", "--rm", name.as_str()]).run();
    assert_eq!(out.expect_code(0).stdout, "kept\n", "{out}");
    env.coracle(["rmi", name.as_str()]).run().expect_code(0);

    // logout erases the helper's entry; login stores a new one there, not
    // in coracle's auth file.
    let out = coracle(&["logout", &reg.host]).run();
    assert_eq!(
        out.expect_code(0).stdout,
        format!("Removed login credentials for {}\n", reg.host),
        "{out}"
    );
    assert!(!key_file.exists());
    let out = coracle(&["pull", "-q", &name]).run();
    assert_ne!(out.code(), 0, "{out}");
    let out = coracle(&["login", "-u", "carol", "--password-stdin", &reg.host])
        .stdin("from-helper\n")
        .run();
    assert_eq!(out.expect_code(0).stdout, "Login Succeeded\n", "{out}");
    let kept = std::fs::read_to_string(&key_file).unwrap();
    assert!(kept.contains(r#""Username":"carol""#), "{kept}");
    let auth = env.runtime.join("containers/auth.json");
    assert!(
        !std::fs::read_to_string(&auth)
            .unwrap_or_default()
            .contains(reg.host.as_str()),
        "login wrote coracle's auth file"
    );
    coracle(&["pull", "-q", &name]).run().expect_code(0);
    env.coracle(["rmi", name.as_str()]).run().expect_code(0);

    // credHelpers: per registry, before credsStore; one that is not
    // installed is an error that names it.
    env.write_owned(
        &config,
        format!(
            r#"{{"credsStore": "missing", "credHelpers": {{"{}": "testkeys"}}}}"#,
            reg.host
        ),
    );
    coracle(&["pull", "-q", &name]).run().expect_code(0);
    env.coracle(["rmi", name.as_str()]).run().expect_code(0);
    env.write_owned(
        &config,
        format!(r#"{{"credHelpers": {{"{}": "missing"}}}}"#, reg.host),
    );
    let out = coracle(&["pull", "-q", &name]).run();
    assert_ne!(out.code(), 0, "{out}");
    assert!(
        out.stderr.contains("docker-credential-missing") && out.stderr.contains("not installed"),
        "{out}"
    );
}
