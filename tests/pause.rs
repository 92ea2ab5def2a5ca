//! `pause`/`unpause`: the cgroup v2 freezer on the container's own cgroup,
//! which coracle creates where the user's cgroup is delegated to them.
//!
//! The tests (as root) make a delegated cgroup v2 subtree for the test user
//! the way systemd's `Delegate=yes` does (the directory and its
//! cgroup.procs, cgroup.threads and cgroup.subtree_control owned by the
//! user) and run coracle inside it.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;

/// A cgroup v2 directory delegated to the test user; everything in it is
/// killed and it is removed when dropped.
struct Delegated {
    path: PathBuf,
}

impl Delegated {
    fn new(env: &Env) -> Option<Delegated> {
        if !require(
            is_root(),
            "root, to create a delegated cgroup v2 subtree for the test user",
        ) {
            return None;
        }
        let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let mount = mi.lines().find_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let point = left.split_whitespace().nth(4)?;
            (right.split_whitespace().next()? == "cgroup2").then(|| PathBuf::from(point))
        });
        if !require(mount.is_some(), "a cgroup v2 (cgroup2) mount") {
            return None;
        }
        let mount = mount.unwrap();
        let name: String = test_name()
            .rsplit("::")
            .next()
            .unwrap_or("t")
            .chars()
            .take(40)
            .collect();
        let path = mount.join(format!("coracle-it-{name}-{}", std::process::id()));
        std::fs::create_dir(&path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
        let d = Delegated { path };
        if !require(
            d.path.join("cgroup.freeze").exists() && d.path.join("cgroup.kill").exists(),
            "the cgroup v2 freezer and cgroup.kill (Linux 5.14 or later)",
        ) {
            return None;
        }
        for f in [
            "",
            "cgroup.procs",
            "cgroup.threads",
            "cgroup.subtree_control",
        ] {
            let p = d.path.join(f);
            std::os::unix::fs::chown(&p, Some(env.uid), Some(env.gid))
                .unwrap_or_else(|e| panic!("chown {}: {e}", p.display()));
        }
        Some(d)
    }

    /// The cgroup coracle makes for container `id`.
    fn container(&self, id: &str) -> PathBuf {
        self.path.join(format!("coracle-{id}"))
    }

    /// The sub-cgroups in it.
    fn children(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.path)
            .unwrap()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

fn remove_cgroup_tree(p: &Path) {
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_cgroup_tree(&e.path());
            }
        }
    }
    let _ = std::fs::remove_dir(p);
}

impl Drop for Delegated {
    fn drop(&mut self) {
        let _ = std::fs::write(self.path.join("cgroup.kill"), "1");
        wait_until(|| {
            std::fs::read_to_string(self.path.join("cgroup.events"))
                .map(|s| s.lines().any(|l| l == "populated 0"))
                .unwrap_or(true)
        });
        remove_cgroup_tree(&self.path);
    }
}

/// A container that counts into `OUT/n` (and notes its /proc/self/cgroup
/// in `OUT/cg`), started with `run -d` inside `cgroup` (if given).
fn counter(env: &Env, cgroup: Option<&Delegated>, name: &str) -> (String, PathBuf) {
    counter_with(env, cgroup, name, &[])
}

/// [`counter`] with more `run` options.
fn counter_with(
    env: &Env,
    cgroup: Option<&Delegated>,
    name: &str,
    opts: &[&str],
) -> (String, PathBuf) {
    let out = env.dir.join(format!("out-{name}"));
    env.mkdir_owned(&out, 0o755);
    let vol = format!("{}:/out", out.display());
    let script = "cat /proc/self/cgroup > /out/cg; i=0; \
                  while :; do i=$((i+1)); echo $i > /out/n.tmp; mv /out/n.tmp /out/n; sleep 0.05; done";
    let mut all = vec!["-d", "--name", name, "-v", &vol];
    all.extend_from_slice(opts);
    let mut run = env.run(&all, &["sh", "-c", script]);
    if let Some(d) = cgroup {
        run = run.in_cgroup(&d.path);
    }
    let o = run.run();
    let id = o.ok().trim().to_string();
    assert_eq!(id.len(), 64, "run -d prints the id\n{o}");
    assert!(
        wait_until(|| count(&out).is_some_and(|n| n > 2)),
        "the counter runs"
    );
    (id, out)
}

fn count(out: &Path) -> Option<u64> {
    std::fs::read_to_string(out.join("n"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn inspect(env: &Env, what: &str, tpl: &str) -> String {
    env.coracle(["inspect", "-f", tpl, what])
        .run()
        .ok()
        .trim()
        .to_string()
}

fn frozen(cg: &Path) -> bool {
    std::fs::read_to_string(cg.join("cgroup.events"))
        .unwrap_or_default()
        .lines()
        .any(|l| l == "frozen 1")
}

#[test]
fn pause_stops_the_container_and_unpause_resumes_it() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let Some(d) = Delegated::new(&env) else {
        return;
    };
    let _c = Cleanup(&env);
    let (id, out) = counter(&env, Some(&d), "counter");
    let cg = d.container(&id);
    assert!(
        cg.is_dir(),
        "the container has its own cgroup {}",
        cg.display()
    );
    // Its pid 1 is in it, and it is the root of its cgroup namespace.
    let pid = inspect(&env, "counter", "{{.State.Pid}}");
    let procs = std::fs::read_to_string(cg.join("cgroup.procs")).unwrap();
    assert!(procs.lines().any(|l| l == pid), "pid {pid} in {procs}");
    let inside = std::fs::read_to_string(out.join("cg")).unwrap();
    assert!(
        inside.lines().any(|l| l == "0::/"),
        "the container sees its cgroup as its root: {inside}"
    );

    let o = env.coracle(["pause", "counter"]).run();
    assert_eq!(o.ok().trim(), "counter", "{o}");
    assert!(frozen(&cg), "cgroup.events says frozen");
    assert_eq!(
        inspect(
            &env,
            "counter",
            "{{.State.Status}} {{.State.Paused}} {{.State.Running}}"
        ),
        "paused true true"
    );
    let o = env
        .coracle(["ps", "--format", "{{.Names}}|{{.State}}|{{.Status}}"])
        .run();
    let line = o
        .ok()
        .lines()
        .find(|l| l.starts_with("counter|"))
        .map(str::to_string);
    let line = line.unwrap_or_else(|| panic!("ps lists a paused container\n{o}"));
    assert!(
        line.starts_with("counter|paused|Up ") && line.ends_with(" (Paused)"),
        "{line}"
    );
    let o = env
        .coracle(["ps", "-q", "--no-trunc", "--filter", "status=paused"])
        .run();
    assert_eq!(o.ok().trim(), id, "{o}");
    let o = env
        .coracle(["ps", "-q", "--no-trunc", "--filter", "status=running"])
        .run();
    assert_eq!(
        o.ok().trim(),
        "",
        "a paused container is not 'running'\n{o}"
    );

    // The counter does not advance while paused.
    let held = count(&out).unwrap();
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(count(&out), Some(held), "the counter advanced while paused");
    }

    let o = env.coracle(["rm", "counter"]).run();
    o.expect_code(1);
    assert!(
        o.stderr
            .contains("container is paused: unpause and then stop the container"),
        "{o}"
    );
    let o = env.coracle(["start", "counter"]).run();
    o.expect_code(1);
    assert!(
        o.stderr
            .contains("cannot start a paused container, try unpause instead"),
        "{o}"
    );
    let o = env.coracle(["exec", "counter", "true"]).run();
    o.expect_code(1);
    assert!(
        o.stderr.contains(&format!(
            "Container {id} is paused, unpause the container before exec"
        )),
        "{o}"
    );

    let o = env.coracle(["pause", "counter"]).run();
    o.expect_code(1);
    assert!(
        o.stderr
            .contains(&format!("Container {id} is already paused")),
        "{o}"
    );
    assert_eq!(o.stderr.lines().count(), 1, "one line\n{o}");

    let o = env.coracle(["container", "unpause", "counter"]).run();
    assert_eq!(o.ok().trim(), "counter", "{o}");
    assert!(
        wait_until(|| count(&out).is_some_and(|n| n > held)),
        "the counter advances again after unpause"
    );
    assert_eq!(
        inspect(&env, "counter", "{{.State.Status}} {{.State.Paused}}"),
        "running false"
    );
    // exec from inside the delegated subtree joins the container's cgroup
    // (so it would be frozen with it); from elsewhere it cannot, and works.
    let o = env
        .coracle(["exec", "counter", "cat", "/proc/self/cgroup"])
        .in_cgroup(&d.path)
        .run();
    assert!(o.ok().lines().any(|l| l == "0::/"), "{o}");
    let o = env
        .coracle(["exec", "counter", "cat", "/proc/self/cgroup"])
        .run();
    assert!(!o.ok().lines().any(|l| l == "0::/"), "{o}");
    let o = env.coracle(["unpause", "counter"]).run();
    o.expect_code(1);
    assert!(
        o.stderr.contains(&format!("Container {id} is not paused")),
        "{o}"
    );
}

#[test]
fn stop_and_rm_f_of_paused_containers_work_and_remove_their_cgroups() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let Some(d) = Delegated::new(&env) else {
        return;
    };
    let _c = Cleanup(&env);
    let (a, _) = counter(&env, Some(&d), "a");
    let (b, _) = counter(&env, Some(&d), "b");
    env.coracle(["container", "pause", "a", "b"]).run().ok();
    assert!(frozen(&d.container(&a)) && frozen(&d.container(&b)));

    // sh as pid 1 ignores SIGTERM: stop ends with SIGKILL.
    env.coracle(["stop", "-t", "1", "a"]).run().ok();
    assert_eq!(inspect(&env, "a", "{{.State.Status}}"), "exited");
    assert!(
        wait_until(|| !d.container(&a).exists()),
        "the monitor removes the cgroup of a stopped container"
    );

    // restart: stopped (thawed) and started again, no longer paused.
    let (r, r_out) = counter(&env, Some(&d), "r");
    env.coracle(["pause", "r"]).run().ok();
    // The new monitor is made by restart: in the subtree again.
    env.coracle(["restart", "-t", "0", "r"])
        .in_cgroup(&d.path)
        .run()
        .ok();
    assert_eq!(
        inspect(&env, "r", "{{.State.Status}} {{.State.Paused}}"),
        "running false"
    );
    let before = count(&r_out).unwrap();
    assert!(wait_until(|| count(&r_out).is_some_and(|n| n != before)));
    assert!(d.container(&r).is_dir() && !frozen(&d.container(&r)));
    env.coracle(["rm", "-f", "r"]).run().ok();

    env.coracle(["rm", "-f", "b"]).run().ok();
    assert!(!d.container(&b).exists(), "rm -f removes the cgroup");
    let o = env.coracle(["ps", "-aq", "--no-trunc"]).run();
    assert_eq!(o.ok().trim(), a, "{o}");
    env.coracle(["rm", "a"]).run().ok();
    assert!(
        d.children().is_empty(),
        "no cgroup left: {:?}",
        d.children()
    );
}

#[test]
fn stop_of_a_paused_container_delivers_its_stop_signal() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let Some(d) = Delegated::new(&env) else {
        return;
    };
    let _c = Cleanup(&env);
    // Under --init the shell is not pid 1, so SIGTERM ends it (143); a
    // signal left pending in a frozen cgroup would end in SIGKILL (137).
    let (id, _) = counter_with(&env, Some(&d), "term", &["--init"]);
    env.coracle(["pause", "term"]).run().ok();
    assert!(frozen(&d.container(&id)));
    env.coracle(["stop", "-t", "20", "term"]).run().ok();
    assert_eq!(
        inspect(&env, "term", "{{.State.Status}} {{.State.ExitCode}}"),
        "exited 143"
    );
    assert!(
        d.children().is_empty(),
        "no cgroup left: {:?}",
        d.children()
    );
}

#[test]
fn rm_f_removes_the_cgroup_of_a_paused_container_whose_monitor_was_killed() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let Some(d) = Delegated::new(&env) else {
        return;
    };
    let _c = Cleanup(&env);
    let (id, _) = counter(&env, Some(&d), "orphan");
    env.coracle(["pause", "orphan"]).run().ok();
    let monitor: i32 = {
        let p = env
            .data
            .join("coracle/containers")
            .join(&id)
            .join("state.json");
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
        v["monitor_pid"].as_i64().unwrap() as i32
    };
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(monitor),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert!(
        wait_until(|| inspect(&env, "orphan", "{{.State.Status}}") == "dead"),
        "a container whose monitor died is dead, not paused"
    );
    env.coracle(["rm", "-f", "orphan"]).run().ok();
    assert!(
        d.children().is_empty(),
        "no cgroup left: {:?}",
        d.children()
    );
}

#[test]
fn a_foreground_run_gets_its_own_cgroup_and_removes_it() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let Some(d) = Delegated::new(&env) else {
        return;
    };
    let _c = Cleanup(&env);
    let fg = env
        .run(
            &["--name", "fg"],
            &[
                "sh",
                "-c",
                "cat /proc/self/cgroup; while :; do sleep 0.1; done",
            ],
        )
        .in_cgroup(&d.path)
        .spawn();
    let pid = || {
        let o = env.coracle(["inspect", "-f", "{{.State.Pid}}", "fg"]).run();
        let p = o.stdout.trim().to_string();
        (o.status.success() && p != "0").then_some(p)
    };
    assert!(wait_until(|| pid().is_some()), "the container runs");
    let id = inspect(&env, "fg", "{{.Id}}");
    let procs = std::fs::read_to_string(d.container(&id).join("cgroup.procs")).unwrap();
    assert!(
        procs.lines().any(|l| Some(l.to_string()) == pid()),
        "pid 1 is in the container's cgroup: {procs}"
    );
    env.coracle(["pause", "fg"]).run().ok();
    assert!(frozen(&d.container(&id)));
    env.coracle(["kill", "fg"]).run().ok();
    let o = fg.wait();
    assert_eq!(o.code(), 137, "{o}");
    assert!(o.stdout.lines().any(|l| l == "0::/"), "{o}");
    assert!(
        d.children().is_empty(),
        "no cgroup left: {:?}",
        d.children()
    );
    let o = env
        .run(&["--rm"], &["cat", "/proc/self/cgroup"])
        .in_cgroup(&d.path)
        .run();
    assert!(o.ok().lines().any(|l| l == "0::/"), "{o}");
    assert!(
        d.children().is_empty(),
        "no cgroup left: {:?}",
        d.children()
    );
}

#[test]
fn pause_without_a_delegated_cgroup_says_why_and_what_to_do() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    // The test user's cgroup outside any delegated subtree is root's.
    if !require(
        is_root(),
        "root, so that the test user's cgroup is not delegated to it",
    ) {
        return;
    }
    let _c = Cleanup(&env);
    let (id, out) = counter(&env, None, "plain");
    let o = env.coracle(["pause", "plain"]).run();
    o.expect_code(1);
    assert_eq!(o.stderr.lines().count(), 1, "one line\n{o}");
    assert!(
        o.stderr.contains(&format!("cannot pause container {id}"))
            && o.stderr.contains("delegated")
            && o.stderr.contains("systemd-run --user"),
        "{o}"
    );
    // Still running, not paused.
    assert_eq!(inspect(&env, "plain", "{{.State.Status}}"), "running");
    let before = count(&out).unwrap();
    assert!(wait_until(|| count(&out).is_some_and(|n| n > before)));
    let o = env.coracle(["unpause", "plain"]).run();
    o.expect_code(1);
    assert!(o.stderr.contains("cannot unpause container"), "{o}");
    // Not running: Docker's message.
    env.coracle(["stop", "-t", "0", "plain"]).run().ok();
    let o = env.coracle(["pause", "plain"]).run();
    o.expect_code(1);
    assert!(
        o.stderr.contains(&format!("Container {id} is not running")),
        "{o}"
    );
}
