//! Conformance of `coracle-runtime` with the OCI runtime specification
//! (runtime-spec v1.2: runtime.md, config.md, config-linux.md), run as an
//! unprivileged user. Each test names the section (and the MUST/SHOULD) it
//! checks. The whole runtime runs as the test user.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Env, Mode, Out};
use serde_json::{json, Value};

/// One runtime environment: a `coracle-runtime` link to the test user's
/// coracle, a `--root`, and a bundle whose rootfs is the test's busybox root.
struct Rt {
    env: Env,
    link: PathBuf,
    root: PathBuf,
    bundle: PathBuf,
}

impl Rt {
    fn new(mode: Mode) -> Option<Rt> {
        let env = Env::new(mode)?;
        let bin = env.dir.join("rtbin");
        env.mkdir_owned(&bin, 0o755);
        let link = bin.join("coracle-runtime");
        std::os::unix::fs::symlink(&env.bin, &link).unwrap();
        let root = env.dir.join("rtroot");
        env.mkdir_owned(&root, 0o700);
        let bundle = env.dir.join("bundle");
        env.mkdir_owned(&bundle, 0o755);
        let rt = Rt {
            env,
            link,
            root,
            bundle,
        };
        rt.write_config(&rt.base_config(&["true"]));
        Some(rt)
    }

    /// `spec --rootless`, adjusted: no terminal, the test's rootfs, the
    /// full subordinate range mapped in full mode.
    fn base_config(&self, args: &[&str]) -> Value {
        let tmp = self.env.dir.join("spec-tmp");
        if !tmp.exists() {
            self.env.mkdir_owned(&tmp, 0o755);
        }
        let _ = std::fs::remove_file(tmp.join("config.json"));
        self.cmd(&["spec", "--rootless", "--bundle", tmp.to_str().unwrap()])
            .ok();
        let mut c: Value =
            serde_json::from_slice(&std::fs::read(tmp.join("config.json")).unwrap()).unwrap();
        c["process"]["terminal"] = json!(false);
        c["process"]["args"] = json!(args);
        c["root"] = json!({"path": self.env.rootfs, "readonly": false});
        if let (Some((su, sc)), Some((sg, gc))) = (self.env.sub_uid, self.env.sub_gid) {
            c["linux"]["uidMappings"] = json!([
                {"containerID": 0, "hostID": self.env.uid, "size": 1},
                {"containerID": 1, "hostID": su, "size": sc}
            ]);
            c["linux"]["gidMappings"] = json!([
                {"containerID": 0, "hostID": self.env.gid, "size": 1},
                {"containerID": 1, "hostID": sg, "size": gc}
            ]);
        }
        c
    }

    fn write_config(&self, c: &Value) {
        self.env.write_owned(
            &self.bundle.join("config.json"),
            serde_json::to_vec_pretty(c).unwrap(),
        );
    }

    /// A config running `sh -c SCRIPT`.
    fn sh_config(&self, script: &str) -> Value {
        self.base_config(&["sh", "-c", script])
    }

    fn cmd(&self, args: &[&str]) -> Out {
        let mut a = vec!["--root", self.root.to_str().unwrap()];
        a.extend_from_slice(args);
        self.env.host(&self.link, a).run()
    }

    fn out_file(&self, id: &str) -> PathBuf {
        self.env.home.join(format!("{id}.out"))
    }

    /// `create` with the container's stdio on a file (a pipe would stay
    /// open as long as the container runs), extra flags before the id.
    fn create_with(&self, id: &str, flags: &[&str]) -> Out {
        self.create_in(id, flags, None)
    }

    /// [`Rt::create_with`], started in the cgroup v2 `cgroup`.
    fn create_in(&self, id: &str, flags: &[&str], cgroup: Option<&Path>) -> Out {
        let out = self.out_file(id);
        let script = format!(
            "\"$0\" --root '{}' create --bundle '{}' {} {id} >'{o}' 2>'{o}.err' </dev/null; rc=$?; cat '{o}.err' >&2; exit $rc",
            self.root.display(),
            self.bundle.display(),
            flags.join(" "),
            o = out.display(),
        );
        let mut run = self.env.host(
            "/bin/sh",
            ["-c".to_string(), script, self.link.display().to_string()],
        );
        if let Some(cg) = cgroup {
            run = run.in_cgroup(cg);
        }
        run.run()
    }

    fn create(&self, id: &str) -> Out {
        self.create_with(id, &[])
    }

    fn state(&self, id: &str) -> Value {
        let o = self.cmd(&["state", id]);
        serde_json::from_str(o.ok()).unwrap_or_else(|e| panic!("state JSON: {e}\n{o}"))
    }

    fn status(&self, id: &str) -> String {
        self.state(id)["status"].as_str().unwrap().to_string()
    }

    /// The container's output so far.
    fn output(&self, id: &str) -> String {
        std::fs::read_to_string(self.out_file(id)).unwrap_or_default()
    }

    /// Waits until the output contains `needle`.
    fn wait_output(&self, id: &str, needle: &str) -> String {
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.output(id);
            if s.contains(needle) {
                return s;
            }
            assert!(
                Instant::now() < end,
                "no {needle:?} in the output of {id}: {s:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_status(&self, id: &str, want: &str) {
        let end = Instant::now() + Duration::from_secs(20);
        while self.status(id) != want {
            assert!(Instant::now() < end, "{id} never became {want}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Creates, starts, waits for the end and returns the output.
    fn run_to_end(&self, id: &str, c: &Value) -> String {
        self.write_config(c);
        self.create(id).ok();
        self.cmd(&["start", id]).ok();
        self.wait_status(id, "stopped");
        let s = self.output(id);
        self.cmd(&["delete", id]).ok();
        s
    }

    /// A host directory the container may write into (bind mounted).
    fn shared_dir(&self, name: &str) -> PathBuf {
        let d = self.env.dir.join(name);
        self.env.mkdir_owned(&d, 0o777);
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
        d
    }
}

impl Drop for Rt {
    fn drop(&mut self) {
        let o = self.cmd(&["list", "-q"]);
        for id in o.stdout.lines() {
            let _ = self.cmd(&["delete", "--force", id]);
        }
    }
}

fn add_mount(c: &mut Value, m: Value) {
    c["mounts"].as_array_mut().unwrap().push(m);
}

// ---------------------------------------------------------------------------
// runtime.md: Lifecycle, Operations, State
// ---------------------------------------------------------------------------

/// runtime.md Lifecycle steps 2 and 8, Operations `create`: "the
/// user-specified program MUST NOT be run at this time"; `start` "MUST run
/// the user-specified program".
#[test]
fn lifecycle_create_does_not_run_the_program_start_does() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    rt.write_config(&rt.sh_config("echo program-ran; sleep 30"));
    rt.create("c1").ok();
    assert_eq!(rt.status("c1"), "created");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(rt.output("c1"), "", "the program ran before start");
    rt.cmd(&["start", "c1"]).ok();
    rt.wait_output("c1", "program-ran");
    assert_eq!(rt.status("c1"), "running");
}

/// runtime.md State: ociVersion, id, status, pid (REQUIRED on Linux when
/// created or running), bundle (absolute path), annotations.
#[test]
fn state_has_the_required_properties() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let mut c = rt.sh_config("sleep 30");
    c["annotations"] = json!({"org.example.key": "value"});
    rt.write_config(&c);
    rt.create("st").ok();
    let s = rt.state("st");
    assert!(s["ociVersion"].as_str().unwrap().starts_with("1."), "{s}");
    assert_eq!(s["id"], "st");
    assert_eq!(s["status"], "created");
    let pid = s["pid"].as_i64().unwrap();
    assert!(pid > 0);
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    assert_eq!(s["bundle"].as_str().unwrap(), rt.bundle.to_str().unwrap());
    assert!(Path::new(s["bundle"].as_str().unwrap()).is_absolute());
    assert_eq!(s["annotations"]["org.example.key"], "value");
}

/// runtime.md State `status`: creating -> created -> running -> stopped
/// (stopped: "the container process has exited").
#[test]
fn status_goes_created_running_stopped() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    rt.write_config(&rt.sh_config("read x < /dev/stdin; sleep 0.5; exit 0"));
    rt.create("s1").ok();
    assert_eq!(rt.status("s1"), "created");
    rt.cmd(&["start", "s1"]).ok();
    assert_eq!(rt.status("s1"), "running");
    rt.wait_status("s1", "stopped");
    assert!(rt.state("s1").get("pid").is_none() || rt.status("s1") == "stopped");
}

/// runtime.md Operations `create`: "If the ID provided is not unique across
/// all containers within the scope of the runtime ... MUST generate an
/// error and a new container MUST NOT be created."
#[test]
fn create_with_a_taken_id_fails_and_leaves_the_first() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    rt.write_config(&rt.sh_config("sleep 30"));
    rt.create("dup").ok();
    let pid = rt.state("dup")["pid"].clone();
    let o = rt.create_with("dup", &[]);
    assert_ne!(o.code(), 0, "{o}");
    assert!(o.stderr.contains("already exists"), "{o}");
    assert_eq!(rt.state("dup")["pid"], pid);
    assert_eq!(rt.status("dup"), "created");
}

/// runtime.md Operations `start`: "Attempting to start a container that is
/// not created MUST have no effect on the container and MUST generate an
/// error."
#[test]
fn start_of_a_running_or_stopped_container_fails() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    rt.write_config(&rt.sh_config("echo once; sleep 1"));
    rt.create("s").ok();
    rt.cmd(&["start", "s"]).ok();
    let o = rt.cmd(&["start", "s"]);
    assert_ne!(o.code(), 0);
    assert!(o.stderr.contains("already running"), "{o}");
    rt.wait_status("s", "stopped");
    let o = rt.cmd(&["start", "s"]);
    assert_ne!(o.code(), 0);
    assert!(o.stderr.contains("stopped"), "{o}");
    assert_eq!(rt.output("s").matches("once").count(), 1);
}

/// runtime.md Operations `kill`: "Attempting to send a signal to a
/// container that is neither created nor running MUST have no effect on
/// the container and MUST generate an error"; the signal reaches the
/// container process.
#[test]
fn kill_signals_a_running_container_and_fails_on_a_stopped_one() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    rt.write_config(&rt.sh_config(
        "trap 'echo got-usr1' USR1; trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.05; done",
    ));
    rt.create("k").ok();
    rt.cmd(&["start", "k"]).ok();
    rt.wait_output("k", "ready");
    rt.cmd(&["kill", "k", "USR1"]).ok();
    rt.wait_output("k", "got-usr1");
    rt.cmd(&["kill", "k"]).ok();
    rt.wait_output("k", "got-term");
    rt.wait_status("k", "stopped");
    let o = rt.cmd(&["kill", "k", "KILL"]);
    assert_ne!(o.code(), 0, "{o}");
    assert_eq!(rt.status("k"), "stopped");
}

/// runtime.md Operations `delete`: "Attempting to delete a container that
/// is not stopped MUST have no effect on the container and MUST generate an
/// error"; a deleted container is gone (`state` "MUST generate an error if
/// the container does not exist").
#[test]
fn delete_refuses_a_running_container_and_removes_a_stopped_one() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    rt.write_config(&rt.sh_config("sleep 30"));
    rt.create("d").ok();
    let o = rt.cmd(&["delete", "d"]);
    assert_ne!(o.code(), 0);
    assert!(o.stderr.contains("not stopped"), "{o}");
    assert_eq!(rt.status("d"), "created");
    rt.cmd(&["start", "d"]).ok();
    let o = rt.cmd(&["delete", "d"]);
    assert_ne!(o.code(), 0);
    assert_eq!(rt.status("d"), "running");
    let pid = rt.state("d")["pid"].as_i64().unwrap();
    rt.cmd(&["kill", "d", "KILL"]).ok();
    rt.wait_status("d", "stopped");
    rt.cmd(&["delete", "d"]).ok();
    let o = rt.cmd(&["state", "d"]);
    assert_ne!(o.code(), 0);
    assert!(o.stderr.contains("does not exist"), "{o}");
    assert!(
        !Path::new(&format!("/proc/{pid}/ns")).exists() || {
            // The pid may have been reused by an unrelated process.
            std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                .map(|c| !c.contains("sleep"))
                .unwrap_or(true)
        }
    );
}

/// `delete --force` of a running container kills it (runc's behaviour,
/// which engines rely on).
#[test]
fn delete_force_kills_a_running_container() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    rt.write_config(&rt.sh_config("sleep 30 & sleep 30"));
    rt.create("f").ok();
    rt.cmd(&["start", "f"]).ok();
    let pid = rt.state("f")["pid"].as_i64().unwrap();
    rt.cmd(&["delete", "--force", "f"]).ok();
    assert!(rt.cmd(&["state", "f"]).code() != 0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.contains(") Z"),
        "still alive: {stat}"
    );
}

/// `delete --force` of a created container (its init, waiting before
/// exec, is not dumpable: its namespaces cannot be read) kills it.
#[test]
fn delete_force_kills_a_created_container() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    rt.write_config(&rt.sh_config("sleep 30"));
    rt.create("cf").ok();
    let pid = rt.state("cf")["pid"].as_i64().unwrap();
    let o = rt.cmd(&["delete", "--force", "cf"]);
    o.ok();
    assert!(rt.cmd(&["state", "cf"]).code() != 0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.contains(") Z"),
        "still alive: {stat}"
    );
}

/// `run` returns the program's exit status and removes the container.
#[test]
fn run_returns_the_exit_status() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    rt.write_config(&rt.sh_config("echo out-$((6*7)); exit 3"));
    let o = rt.cmd(&["run", "--bundle", rt.bundle.to_str().unwrap(), "r"]);
    assert_eq!(o.code(), 3, "{o}");
    assert_eq!(o.stdout, "out-42\n");
    assert_ne!(rt.cmd(&["state", "r"]).code(), 0);
}

/// config.md "If the runtime cannot apply a setting it MUST generate an
/// error" (runtime.md create: "MUST generate an error" when the
/// environment cannot be created); no container is left behind.
#[test]
fn create_fails_naming_a_field_it_cannot_honour() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let mut c = rt.sh_config("true");
    c["process"]["apparmorProfile"] = json!("docker-default");
    rt.write_config(&c);
    let o = rt.create("bad");
    assert_ne!(o.code(), 0);
    assert!(o.stderr.contains("process.apparmorProfile"), "{o}");
    assert_ne!(rt.cmd(&["state", "bad"]).code(), 0);

    let mut c = rt.sh_config("true");
    c["linux"]["devices"] =
        json!([{"path": "/dev/coracle-none", "type": "c", "major": 1, "minor": 99}]);
    rt.write_config(&c);
    let o = rt.create("bad2");
    assert_ne!(o.code(), 0);
    assert!(o.stderr.contains("linux.devices"), "{o}");
}

/// runtime.md Operations `create`: "Any changes made to the config.json
/// file after this operation will not have an effect on the container."
#[test]
fn config_changes_after_create_have_no_effect() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    rt.write_config(&rt.sh_config("echo original"));
    rt.create("cc").ok();
    rt.write_config(&rt.sh_config("echo changed"));
    rt.cmd(&["start", "cc"]).ok();
    rt.wait_status("cc", "stopped");
    assert_eq!(rt.output("cc"), "original\n");
}

/// config.md Root `path`: "either an absolute path or a relative path to
/// the bundle".
#[test]
fn a_relative_root_path_is_relative_to_the_bundle() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    std::os::unix::fs::symlink(&rt.env.rootfs, rt.bundle.join("rootfs")).unwrap();
    let mut c = rt.sh_config("echo in-root");
    c["root"]["path"] = json!("rootfs");
    assert_eq!(rt.run_to_end("rel", &c), "in-root\n");
}

/// Errors the specification requires for invalid configurations:
/// config-linux.md Namespaces ("If a namespace type is specified more than
/// once ... MUST generate an error"; a `path` whose namespace is not of the
/// `type` MUST be an error), config.md POSIX process rlimits ("If
/// rlimits contains duplicated entries with same type, the runtime MUST
/// generate an error"), config.md Process `cwd` (absolute), config.md
/// Hostname (needs a uts namespace). No container is left behind.
#[test]
fn invalid_configurations_are_errors() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "listed twice",
            Box::new(|c: &mut Value| {
                c["linux"]["namespaces"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"type": "pid"}))
            }),
        ),
        (
            "linux.namespaces",
            Box::new(|c: &mut Value| {
                c["linux"]["namespaces"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"type": "network", "path": "/proc/self/ns/uts"}))
            }),
        ),
        (
            "process.rlimits",
            Box::new(|c: &mut Value| {
                c["process"]["rlimits"] = json!([
                    {"type": "RLIMIT_NOFILE", "soft": 10, "hard": 10},
                    {"type": "RLIMIT_NOFILE", "soft": 20, "hard": 20}
                ])
            }),
        ),
        (
            "process.cwd",
            Box::new(|c: &mut Value| c["process"]["cwd"] = json!("tmp")),
        ),
        (
            "hostname",
            Box::new(|c: &mut Value| {
                c["hostname"] = json!("h");
                c["linux"]["namespaces"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|n| n["type"] != "uts");
            }),
        ),
    ];
    for (i, (want, edit)) in cases.iter().enumerate() {
        let mut c = rt.sh_config("echo should-not-run");
        edit(&mut c);
        rt.write_config(&c);
        let id = format!("inv{i}");
        let o = rt.create(&id);
        assert_ne!(o.code(), 0, "{want}: {o}");
        assert!(o.stderr.contains(want), "{want}: {o}");
        assert_ne!(
            rt.cmd(&["state", &id]).code(),
            0,
            "{want}: a container was left"
        );
        assert!(!rt.output(&id).contains("should-not-run"));
    }
}

/// config.md POSIX-platform Hooks `timeout`: "the number of seconds before
/// aborting the hook"; a prestart hook that times out fails create.
#[test]
fn a_hook_that_times_out_fails_create() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let mut c = rt.sh_config("echo program-ran");
    c["hooks"] =
        json!({"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]});
    rt.write_config(&c);
    let t = Instant::now();
    let o = rt.create("to");
    assert_ne!(o.code(), 0);
    assert!(o.stderr.contains("timed out"), "{o}");
    assert!(t.elapsed() < Duration::from_secs(15));
    assert_ne!(rt.cmd(&["state", "to"]).code(), 0);
}

/// `--log FILE --log-format json`: errors are JSON lines with level and msg
/// (what conmon and Podman read).
#[test]
fn log_json_records_errors() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let log = rt.env.home.join("rt.log");
    let o = rt.cmd(&[
        "--log",
        log.to_str().unwrap(),
        "--log-format",
        "json",
        "start",
        "nope",
    ]);
    assert_ne!(o.code(), 0);
    let text = std::fs::read_to_string(&log).unwrap();
    let v: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(v["level"], "error");
    assert!(v["msg"].as_str().unwrap().contains("nope"), "{v}");
}

// ---------------------------------------------------------------------------
// config.md: hooks
// ---------------------------------------------------------------------------

/// config.md POSIX-platform Hooks and runtime.md Lifecycle: prestart,
/// createRuntime, createContainer during create; startContainer, poststart
/// during start; poststop after delete; each with the state on stdin,
/// `args` (args[0] included) and exactly `env`.
#[test]
fn hooks_run_in_order_with_the_state_on_stdin() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let logdir = rt.shared_dir("hooklog");
    let log = logdir.join("log");
    let script = rt.env.dir.join("hook.sh");
    let body = format!(
        "#!/bin/sh\nstate=$(cat)\necho \"$0 $1 $HOOKVAR ${{HOME:-nohome}} $state\" >> {}\n",
        "\"$LOG\""
    );
    rt.env.write_owned(&script, &body);
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    // startContainer resolves in the container: a copy inside the rootfs.
    rt.env.write_owned(&rt.env.rootfs.join("hook.sh"), &body);
    std::fs::set_permissions(
        rt.env.rootfs.join("hook.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let hook = |name: &str, path: &Path, logpath: &Path| json!({"path": path, "args": ["hook-argv0", name], "env": ["HOOKVAR=v-".to_string() + name, format!("LOG={}", logpath.display())]});
    let mut c = rt.sh_config("echo program");
    add_mount(
        &mut c,
        json!({"destination": "/hooklog", "type": "bind", "source": logdir, "options": ["rbind"]}),
    );
    c["hooks"] = json!({
        "prestart": [hook("prestart", &script, &log)],
        "createRuntime": [hook("createRuntime", &script, &log)],
        "createContainer": [hook("createContainer", &script, &log)],
        "startContainer": [hook("startContainer", Path::new("/hook.sh"), Path::new("/hooklog/log"))],
        "poststart": [hook("poststart", &script, &log)],
        "poststop": [hook("poststop", &script, &log)],
    });
    rt.write_config(&c);
    rt.create("h").ok();
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    let names = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| l.split(' ').nth(1).unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(&read()),
        ["prestart", "createRuntime", "createContainer"]
    );
    rt.cmd(&["start", "h"]).ok();
    rt.wait_status("h", "stopped");
    assert_eq!(
        names(&read()),
        [
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer",
            "poststart"
        ]
    );
    rt.cmd(&["delete", "h"]).ok();
    let all = read();
    assert_eq!(
        names(&all),
        [
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer",
            "poststart",
            "poststop"
        ]
    );
    for line in all.lines() {
        let mut f = line.splitn(5, ' ');
        let (argv0, name, var, path, state) = (
            f.next().unwrap(),
            f.next().unwrap(),
            f.next().unwrap(),
            f.next().unwrap(),
            f.next().unwrap(),
        );
        assert_eq!(
            argv0,
            if name == "startContainer" {
                "/hook.sh"
            } else {
                script.to_str().unwrap()
            }
        );
        assert_eq!(var, format!("v-{name}"), "{line}");
        assert_eq!(
            path, "nohome",
            "the hook got an environment it was not given: {line}"
        );
        let st: Value = serde_json::from_str(state).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(st["id"], "h");
        assert_eq!(st["bundle"].as_str().unwrap(), rt.bundle.to_str().unwrap());
        let want = match name {
            "prestart" | "createRuntime" | "createContainer" => "creating",
            "startContainer" => "created",
            "poststart" => "running",
            _ => "stopped",
        };
        assert_eq!(st["status"], want, "{line}");
        if name != "poststop" {
            assert!(st["pid"].as_i64().unwrap() > 0, "{line}");
        }
    }
}

/// runtime.md Lifecycle step 3/4: "If any prestart hook fails, the runtime
/// MUST generate an error, stop the container" (the program never runs).
#[test]
fn a_failing_prestart_hook_fails_create() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let mut c = rt.sh_config("echo program-ran");
    c["hooks"] = json!({"prestart": [{"path": "/bin/false"}]});
    rt.write_config(&c);
    let o = rt.create("hf");
    assert_ne!(o.code(), 0);
    assert!(o.stderr.contains("prestart"), "{o}");
    assert_ne!(rt.cmd(&["state", "hf"]).code(), 0);
    assert!(!rt.output("hf").contains("program-ran"));
}

/// runtime.md Lifecycle step 9: "If any poststart hook fails, the runtime
/// MUST log a warning, but the remaining hooks and lifecycle continue".
#[test]
fn a_failing_poststart_hook_is_a_warning() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let mut c = rt.sh_config("echo program-ran");
    c["hooks"] = json!({"poststart": [{"path": "/bin/false"}]});
    rt.write_config(&c);
    rt.create("pf").ok();
    let o = rt.cmd(&["start", "pf"]);
    assert_eq!(o.code(), 0, "{o}");
    assert!(o.stderr.contains("warning"), "{o}");
    rt.wait_output("pf", "program-ran");
}

// ---------------------------------------------------------------------------
// config-linux.md: namespaces, devices, sysctl, seccomp, paths
// ---------------------------------------------------------------------------

fn host_ns(name: &str) -> String {
    std::fs::read_link(format!("/proc/self/ns/{name}"))
        .unwrap()
        .display()
        .to_string()
}

/// config-linux.md Namespaces: "If a namespace type is specified without a
/// path, the runtime MUST create a new namespace of that type"; a type not
/// listed is inherited from the runtime.
#[test]
fn namespaces_listed_are_new_others_are_shared() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let mut c = rt.sh_config(
        "for n in user mnt pid uts ipc cgroup net; do echo $n=$(readlink /proc/self/ns/$n); done",
    );
    // No network namespace listed: the host's is kept.
    c["linux"]["namespaces"] = json!([
        {"type": "user"}, {"type": "mount"}, {"type": "pid"}, {"type": "uts"},
        {"type": "ipc"}, {"type": "cgroup"}
    ]);
    let out = rt.run_to_end("ns", &c);
    for n in ["user", "mnt", "pid", "uts", "ipc", "cgroup"] {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("{n}=")))
            .unwrap();
        assert_ne!(&line[n.len() + 1..], host_ns(n), "{n} is not new: {out}");
    }
    let net = out.lines().find(|l| l.starts_with("net=")).unwrap();
    assert_eq!(&net[4..], host_ns("net"));
}

/// config-linux.md Namespaces `path`: "the runtime MUST place the container
/// process in the namespace" given by path.
#[test]
fn namespaces_given_by_path_are_joined() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let mut a = rt.sh_config("hostname; sleep 30");
    a["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "network"}));
    a["hostname"] = json!("first");
    rt.write_config(&a);
    rt.create("a").ok();
    // Running: the user program's /proc files are the user's (the init
    // before exec is not dumpable).
    rt.cmd(&["start", "a"]).ok();
    rt.wait_output("a", "first");
    let pid = rt.state("a")["pid"].as_i64().unwrap();
    let want_net = std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
    let want_uts = std::fs::read_link(format!("/proc/{pid}/ns/uts")).unwrap();
    let mut b = rt.sh_config("readlink /proc/self/ns/net; readlink /proc/self/ns/uts; hostname");
    b["linux"]["namespaces"] = json!([
        {"type": "user", "path": format!("/proc/{pid}/ns/user")},
        {"type": "network", "path": format!("/proc/{pid}/ns/net")},
        {"type": "uts", "path": format!("/proc/{pid}/ns/uts")},
        {"type": "mount"},
        {"type": "ipc"}
    ]);
    b["linux"].as_object_mut().unwrap().remove("uidMappings");
    b["linux"].as_object_mut().unwrap().remove("gidMappings");
    b.as_object_mut().unwrap().remove("hostname");
    // Without a pid namespace of its own it may not mount a proc: the
    // host's (whose pid namespace it shares) is bound instead.
    for m in b["mounts"].as_array_mut().unwrap() {
        if m["destination"] == "/proc" {
            *m = json!({"destination": "/proc", "type": "bind", "source": "/proc", "options": ["rbind"]});
        }
    }
    let out = rt.run_to_end("b", &b);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            want_net.to_str().unwrap(),
            want_uts.to_str().unwrap(),
            "first"
        ],
        "{out}"
    );
}

/// config.md Hostname and Domainname; config-linux.md Sysctl ("the runtime
/// MUST ... modify the kernel parameters").
#[test]
fn hostname_domainname_and_sysctl_are_set() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let mut c = rt.sh_config(
        "hostname; cat /proc/sys/kernel/domainname; cat /proc/sys/net/ipv4/ip_forward; cat /proc/sys/net/ipv4/ping_group_range",
    );
    c["hostname"] = json!("box1");
    c["domainname"] = json!("example.org");
    c["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "network"}));
    c["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1", "net.ipv4.ping_group_range": "0 0"});
    let out = rt.run_to_end("hn", &c);
    let lines: Vec<&str> = out.lines().map(|l| l.trim()).collect();
    assert_eq!(lines[..3], ["box1", "example.org", "1"], "{out}");
    assert_eq!(lines[3].split_whitespace().collect::<Vec<_>>(), ["0", "0"]);
}

/// config-linux.md Namespaces (`time`) and "Offset for Time Namespace":
/// the container's monotonic and boottime clocks run at the offsets
/// given, in a time namespace of its own; offsets without a new time
/// namespace, and clocks that cannot be offset, are errors.
#[test]
fn a_time_namespace_offsets_the_clocks() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let mut c = rt.sh_config("cut -d. -f1 /proc/uptime; readlink /proc/self/ns/time");
    c["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "time"}));
    c["linux"]["timeOffsets"] = json!({"boottime": {"secs": 864000, "nanosecs": 0}});
    let out = rt.run_to_end("tns", &c);
    let lines: Vec<&str> = out.lines().map(|l| l.trim()).collect();
    let uptime: u64 = lines[0].parse().unwrap_or_else(|_| panic!("{out}"));
    assert!(uptime >= 864000, "uptime {uptime} not offset: {out}");
    let host_ns = std::fs::read_link("/proc/self/ns/time").unwrap();
    assert_ne!(lines[1], host_ns.to_str().unwrap(), "{out}");

    let mut c = rt.sh_config("true");
    c["linux"]["timeOffsets"] = json!({"monotonic": {"secs": 5}});
    rt.write_config(&c);
    let o = rt.create("tbad");
    assert_ne!(o.code(), 0);
    assert!(o.stderr.contains("linux.timeOffsets"), "{o}");
    c["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "time"}));
    c["linux"]["timeOffsets"] = json!({"realtime": {"secs": 5}});
    rt.write_config(&c);
    let o = rt.create("tbad2");
    assert_ne!(o.code(), 0);
    assert!(o.stderr.contains("realtime"), "{o}");
}

/// config-linux.md Default Devices: /dev/null, zero, full, random, urandom,
/// tty "MUST" be supplied; config-linux.md Devices: listed devices are
/// made available (an unprivileged runtime binds the host's node).
#[test]
fn default_and_listed_devices_are_there() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let mut c = rt.sh_config(
        "for d in null zero full random urandom tty fuse; do test -c /dev/$d && echo $d; done; echo x > /dev/null && head -c 3 /dev/zero | od -An -tx1",
    );
    c["linux"]["devices"] = json!([{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]);
    if !Path::new("/dev/fuse").exists() {
        c["linux"]["devices"] = json!([]);
    }
    let out = rt.run_to_end("dev", &c);
    for d in ["null", "zero", "full", "random", "urandom", "tty"] {
        assert!(out.lines().any(|l| l == d), "{d} missing: {out}");
    }
    if Path::new("/dev/fuse").exists() {
        assert!(out.lines().any(|l| l == "fuse"), "{out}");
    }
    assert!(out.contains("00 00 00"), "{out}");
}

/// config.md Mounts: "The runtime MUST mount entries in the listed order",
/// with their options; a read-only bind is read-only.
#[test]
fn mounts_in_order_with_options() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let host = rt.shared_dir("data");
    std::fs::write(host.join("f"), "from-host\n").unwrap();
    // The tmpfs's target exists: nothing can be created in the ro bind.
    rt.env.mkdir_owned(&host.join("scratch"), 0o755);
    let mut c = rt.sh_config(
        "cat /data/f; echo x > /data/g 2>/dev/null && echo writable || echo readonly; \
         grep ' /data/scratch ' /proc/self/mountinfo | cut -d' ' -f6-; \
         stat -c %a /data/scratch; echo hi > /data/scratch/x && cat /data/scratch/x",
    );
    add_mount(
        &mut c,
        json!({"destination": "/data", "type": "bind", "source": host, "options": ["rbind", "ro", "nosuid"]}),
    );
    add_mount(
        &mut c,
        json!({"destination": "/data/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "noexec", "mode=0710", "size=1m"]}),
    );
    let out = rt.run_to_end("m", &c);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "from-host", "{out}");
    assert_eq!(lines[1], "readonly", "{out}");
    for o in ["nosuid", "nodev", "noexec"] {
        assert!(lines[2].contains(o), "{o} missing: {out}");
    }
    assert_eq!(lines[3], "710", "{out}");
    assert_eq!(lines[4], "hi", "{out}");
}

/// config-linux.md Masked Paths ("MUST ... so that they cannot be read")
/// and Readonly Paths ("MUST ... read-only").
#[test]
fn masked_and_readonly_paths() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    assert!(std::fs::read_dir("/sys/kernel").unwrap().count() > 0);
    let mut c = rt.sh_config(
        "wc -c < /proc/cpuinfo; ls /sys/kernel | wc -l; \
         echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo sys-writable || echo sys-readonly",
    );
    c["linux"]["maskedPaths"] = json!(["/proc/cpuinfo", "/sys/kernel"]);
    c["linux"]["readonlyPaths"] = json!(["/proc/sys"]);
    let out = rt.run_to_end("mask", &c);
    let lines: Vec<&str> = out.lines().map(|l| l.trim()).collect();
    assert_eq!(lines, ["0", "0", "sys-readonly"], "{out}");
}

/// config.md Root `readonly`: "If true then the root filesystem MUST be
/// read-only inside the container".
#[test]
fn readonly_root() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let mut c = rt.sh_config("touch /newfile 2>/dev/null && echo writable || echo readonly");
    c["root"]["readonly"] = json!(true);
    assert_eq!(rt.run_to_end("ro", &c), "readonly\n");
    assert!(!rt.env.rootfs.join("newfile").exists());
}

/// config-linux.md Seccomp: the OCI JSON form is applied (an ERRNO rule
/// returns its errnoRet).
#[test]
fn seccomp_rules_are_applied() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let mut c = rt.sh_config("mkdir /tmp/x 2>&1 || true; echo alive");
    c["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]
    });
    let out = rt.run_to_end("sc", &c);
    assert!(out.contains("Operation not permitted"), "{out}");
    assert!(out.contains("alive"));
}

// ---------------------------------------------------------------------------
// config.md: process
// ---------------------------------------------------------------------------

/// config.md Process: args, env ("MUST" be the process's environment),
/// cwd ("the working directory that will be set for the executable").
#[test]
fn process_args_env_and_cwd() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let mut c = rt.base_config(&[
        "sh",
        "-c",
        "pwd; echo \"$FOO|$1\"; env | sort | grep -v '^PWD=\\|^SHLVL=\\|^_='",
        "argv0",
        "one",
    ]);
    c["process"]["env"] = json!(["FOO=bar", "PATH=/bin"]);
    c["process"]["cwd"] = json!("/tmp");
    let out = rt.run_to_end("p", &c);
    assert_eq!(out, "/tmp\nbar|one\nFOO=bar\nPATH=/bin\n");
}

/// config.md POSIX process `user`: uid, gid, additionalGids; umask.
#[test]
fn process_user_groups_and_umask() {
    let Some(rt) = Rt::new(Mode::Full) else {
        return;
    };
    let mut c = rt.sh_config("id -u; id -g; id -G; umask");
    c["process"]["user"] =
        json!({"uid": 1000, "gid": 1000, "additionalGids": [50, 100], "umask": 23});
    let out = rt.run_to_end("u", &c);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1000", "{out}");
    assert_eq!(lines[1], "1000");
    let mut g: Vec<&str> = lines[2].split_whitespace().collect();
    g.sort();
    assert_eq!(g, ["100", "1000", "50"]);
    assert_eq!(lines[3], "0027");
}

fn status_field(out: &str, field: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in {out}"))
        .trim()
        .to_string()
}

/// config.md Linux process `capabilities` (each set), `noNewPrivileges`,
/// `oomScoreAdj`.
#[test]
fn process_capabilities_no_new_privileges_and_oom_score() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let mut c = rt.sh_config("cat /proc/self/status; echo oom=$(cat /proc/self/oom_score_adj)");
    c["process"]["capabilities"] = json!({
        "bounding": ["CAP_KILL", "CAP_CHOWN", "CAP_NET_BIND_SERVICE"],
        "effective": ["CAP_KILL", "CAP_CHOWN"],
        "permitted": ["CAP_KILL", "CAP_CHOWN"],
        "inheritable": ["CAP_KILL"],
        "ambient": []
    });
    c["process"]["noNewPrivileges"] = json!(true);
    c["process"]["oomScoreAdj"] = json!(500);
    let out = rt.run_to_end("caps", &c);
    // CHOWN = bit 0, KILL = bit 5, NET_BIND_SERVICE = bit 10.
    assert_eq!(status_field(&out, "CapBnd"), "0000000000000421");
    assert_eq!(status_field(&out, "CapEff"), "0000000000000021");
    assert_eq!(status_field(&out, "CapPrm"), "0000000000000021");
    assert_eq!(status_field(&out, "CapInh"), "0000000000000020");
    assert_eq!(status_field(&out, "NoNewPrivs"), "1");
    assert!(out.contains("oom=500"), "{out}");
}

/// config.md POSIX process `rlimits`: "the runtime MUST ... set" soft and
/// hard limits.
#[test]
fn process_rlimits() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let mut c = rt.sh_config("grep 'Max open files' /proc/self/limits");
    c["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200}]);
    let out = rt.run_to_end("rl", &c);
    let f: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(f[3..5], ["100", "200"], "{out}");
}

// ---------------------------------------------------------------------------
// The command line engines use: console socket, pid file, exec, list, ps,
// preserve-fds, features
// ---------------------------------------------------------------------------

/// `--console-socket`: with process.terminal the pty master arrives by
/// SCM_RIGHTS (runc's protocol, which conmon speaks), the process's stdio
/// is the terminal; `--pid-file` holds the container's pid.
#[test]
fn console_socket_and_pid_file() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let sock_dir = rt.shared_dir("sock");
    let sock = sock_dir.join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut c = rt.sh_config("test -t 0 && test -t 1 && echo on-a-tty; sleep 2");
    c["process"]["terminal"] = json!(true);
    rt.write_config(&c);
    let pidfile = sock_dir.join("pid");
    let accept = std::thread::spawn(move || accept_pty(&listener));
    rt.create_with(
        "tty",
        &[
            "--console-socket",
            sock.to_str().unwrap(),
            "--pid-file",
            pidfile.to_str().unwrap(),
        ],
    )
    .ok();
    let master = accept.join().unwrap();
    let pid = rt.state("tty")["pid"].as_i64().unwrap();
    assert_eq!(
        std::fs::read_to_string(&pidfile).unwrap().trim(),
        pid.to_string()
    );
    rt.cmd(&["start", "tty"]).ok();
    let got = read_pty_until(master, "on-a-tty");
    assert!(got.contains("on-a-tty"), "{got:?}");
}

/// Accepts one connection on a console socket and returns the fd it
/// carries (SCM_RIGHTS), as conmon does.
fn accept_pty(listener: &std::os::unix::net::UnixListener) -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    let (conn, _) = listener.accept().unwrap();
    let mut buf = [0u8; 256];
    let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let msg = nix::sys::socket::recvmsg::<()>(
        std::os::fd::AsRawFd::as_raw_fd(&conn),
        &mut iov,
        Some(&mut cmsg),
        nix::sys::socket::MsgFlags::empty(),
    )
    .unwrap();
    let mut fd = None;
    for m in msg.cmsgs().unwrap() {
        if let nix::sys::socket::ControlMessageOwned::ScmRights(fds) = m {
            fd = fds.first().copied();
        }
    }
    // SAFETY: the kernel just gave us this fd.
    unsafe { std::os::fd::OwnedFd::from_raw_fd(fd.expect("no fd in the console message")) }
}

/// Reads from a pty master until `needle` appears (or 10 s pass).
fn read_pty_until(master: std::os::fd::OwnedFd, needle: &str) -> String {
    use std::io::Read;
    let mut f = std::fs::File::from(master);
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    let end = Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(&got).contains(needle) && Instant::now() < end {
        match f.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// `exec --tty --console-socket --detach --pid-file`: the exec'd process's
/// terminal goes to the socket (conmon's `podman exec -t`), its pid to the
/// file.
#[test]
fn exec_with_a_terminal_through_the_console_socket() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    rt.write_config(&rt.sh_config("sleep 30"));
    rt.create("et").ok();
    rt.cmd(&["start", "et"]).ok();
    let dir = rt.shared_dir("esock");
    let sock = dir.join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o777)).unwrap();
    let accept = std::thread::spawn(move || accept_pty(&listener));
    let pidfile = dir.join("exec.pid");
    rt.cmd(&[
        "exec",
        "--tty",
        "--detach",
        "--console-socket",
        sock.to_str().unwrap(),
        "--pid-file",
        pidfile.to_str().unwrap(),
        "et",
        "sh",
        "-c",
        "test -t 0 && echo exec-on-a-tty; sleep 1",
    ])
    .ok();
    let master = accept.join().unwrap();
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pid > 0);
    let got = read_pty_until(master, "exec-on-a-tty");
    assert!(got.contains("exec-on-a-tty"), "{got:?}");
}

/// `exec`: flag form (-e, --cwd, exit status) and `--process FILE`; the
/// process joins the container's namespaces.
#[test]
fn exec_runs_in_the_container() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let mut c = rt.sh_config("sleep 30");
    c["hostname"] = json!("exec-box");
    rt.write_config(&c);
    rt.create("e").ok();
    rt.cmd(&["start", "e"]).ok();
    let o = rt.cmd(&[
        "exec",
        "-e",
        "A=b",
        "--cwd",
        "/tmp",
        "e",
        "sh",
        "-c",
        "echo $A $(pwd) $(hostname); ps -o comm | grep -c '^sleep$'",
    ]);
    assert_eq!(o.ok(), "b /tmp exec-box\n1\n");
    let o = rt.cmd(&["exec", "e", "sh", "-c", "exit 4"]);
    assert_eq!(o.code(), 4);
    let pfile = rt.env.dir.join("process.json");
    rt.env.write_owned(
        &pfile,
        json!({"args": ["sh", "-c", "echo from-process-$X"], "env": ["X=file", "PATH=/bin"], "cwd": "/", "user": {"uid": 0, "gid": 0}})
            .to_string(),
    );
    let o = rt.cmd(&["exec", "--process", pfile.to_str().unwrap(), "e"]);
    assert_eq!(o.ok(), "from-process-file\n");
    // The process's rlimits apply to it (as runc's exec).
    rt.env.write_owned(
        &pfile,
        json!({"args": ["sh", "-c", "grep 'Max open files' /proc/self/limits"], "cwd": "/", "user": {"uid": 0, "gid": 0},
               "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 64, "hard": 128}]})
            .to_string(),
    );
    let o = rt.cmd(&["exec", "--process", pfile.to_str().unwrap(), "e"]);
    let f: Vec<&str> = o.ok().split_whitespace().collect();
    assert_eq!(f[3..5], ["64", "128"], "{o}");
    let mut p: Value =
        json!({"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "apparmorProfile": "x"});
    rt.env.write_owned(&pfile, p.to_string());
    let o = rt.cmd(&["exec", "--process", pfile.to_str().unwrap(), "e"]);
    assert!(o.stderr.contains("process.apparmorProfile"), "{o}");
    p["apparmorProfile"] = json!("");
    rt.env.write_owned(&pfile, p.to_string());
    rt.cmd(&["exec", "--process", pfile.to_str().unwrap(), "e"])
        .ok();
}

/// `list` and `ps` (runc's formats) and `kill --all`.
#[test]
fn list_ps_and_kill_all() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    rt.write_config(&rt.sh_config("sleep 31 & sleep 32"));
    rt.create("l").ok();
    rt.cmd(&["start", "l"]).ok();
    let o = rt.cmd(&["list"]);
    let lines: Vec<&str> = o.ok().lines().collect();
    assert!(lines[0].starts_with("ID"), "{o}");
    assert!(
        lines[1].starts_with("l ") && lines[1].contains("running"),
        "{o}"
    );
    assert_eq!(rt.cmd(&["list", "-q"]).ok(), "l\n");
    let j: Value = serde_json::from_str(rt.cmd(&["list", "--format", "json"]).ok()).unwrap();
    assert_eq!(j[0]["id"], "l");
    let end = Instant::now() + Duration::from_secs(10);
    let pids: Vec<i64> = loop {
        let p: Vec<i64> =
            serde_json::from_str(rt.cmd(&["ps", "--format", "json", "l"]).ok()).unwrap();
        if p.len() >= 2 || Instant::now() > end {
            break p;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(pids.len() >= 2, "{pids:?}");
    let table = rt.cmd(&["ps", "l"]);
    assert!(table.ok().contains("sleep 31"), "{table}");
    rt.cmd(&["kill", "--all", "l", "KILL"]).ok();
    rt.wait_status("l", "stopped");
}

/// `--no-pivot`: the root is moved onto / and entered with chroot (for
/// roots where pivot_root is refused); the container sees only its root.
#[test]
fn no_pivot_runs_in_the_root() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    rt.write_config(
        &rt.sh_config("ls / | sort | tr '\\n' ' '; test -e /home/user && echo has-home"),
    );
    rt.create_with("nopiv", &["--no-pivot"]).ok();
    rt.cmd(&["start", "nopiv"]).ok();
    let out = rt.wait_output("nopiv", "has-home");
    assert!(out.contains("bin") && out.contains("etc"), "{out}");
    assert!(!out.contains("rtroot") && !out.contains("bundle"), "{out}");
}

/// `spec` refuses to overwrite a config.json, as runc does.
#[test]
fn spec_does_not_overwrite_a_config() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let o = rt.cmd(&[
        "spec",
        "--rootless",
        "--bundle",
        rt.bundle.to_str().unwrap(),
    ]);
    assert_ne!(o.code(), 0);
    assert!(o.stderr.contains("exists"), "{o}");
}

/// `--preserve-fds N`: fds 3 .. 3+N reach the container's process.
#[test]
fn preserve_fds_passes_descriptors() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let f = rt.env.dir.join("passed");
    rt.env.write_owned(&f, "passed-in\n");
    rt.write_config(&rt.sh_config("cat <&3"));
    let out = rt.out_file("pf");
    let o = rt
        .env
        .host(
            "/bin/sh",
            [
                "-c".to_string(),
                format!(
                    "exec 3<'{}'; \"$0\" --root '{}' create --bundle '{}' --preserve-fds 1 pf >'{}' 2>&1 </dev/null",
                    f.display(),
                    rt.root.display(),
                    rt.bundle.display(),
                    out.display()
                ),
                rt.link.display().to_string(),
            ],
        )
        .run();
    o.ok();
    rt.cmd(&["start", "pf"]).ok();
    rt.wait_output("pf", "passed-in");
}

/// features.md: `features` lists what is implemented, and what it lists
/// works: every hook, namespace and mount option is accepted by create.
#[test]
fn features_are_accurate() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let f: Value = serde_json::from_str(rt.cmd(&["features"]).ok()).unwrap();
    assert_eq!(f["ociVersionMin"], "1.0.0");
    let hooks: Vec<&str> = f["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        hooks,
        [
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer",
            "poststart",
            "poststop"
        ]
    );
    assert_eq!(f["linux"]["apparmor"]["enabled"], false);
    assert_eq!(f["linux"]["selinux"]["enabled"], false);
    assert_eq!(f["linux"]["cgroup"]["v2"], false);
    // Every listed namespace can be created in one container.
    let mut c = rt.sh_config("echo ok");
    c["linux"]["namespaces"] = Value::Array(
        f["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| json!({"type": n}))
            .collect(),
    );
    // Every listed mount option on a mount of its own: bind and rbind on
    // binds, the others on a fresh tmpfs (the kernel keeps an unprivileged
    // user from changing the atime flags of a bind of a host mount).
    let src = rt.shared_dir("optsrc");
    for (i, o) in f["mountOptions"].as_array().unwrap().iter().enumerate() {
        let m = if o == "bind" || o == "rbind" {
            json!({"destination": format!("/opt{i}"), "type": "bind", "source": src, "options": [o]})
        } else {
            json!({"destination": format!("/opt{i}"), "type": "tmpfs", "source": "tmpfs", "options": [o]})
        };
        add_mount(&mut c, m);
    }
    // Every listed seccomp action and operator compiles.
    let actions = f["linux"]["seccomp"]["actions"].as_array().unwrap().clone();
    let ops = f["linux"]["seccomp"]["operators"]
        .as_array()
        .unwrap()
        .clone();
    let mut rules = Vec::new();
    for (i, a) in actions.iter().enumerate() {
        for op in &ops {
            let name = ["getpriority", "setpriority"][i % 2];
            rules.push(json!({"names": [name], "action": a, "errnoRet": 1,
                "args": [{"index": 0, "value": 7, "valueTwo": 7, "op": op}]}));
        }
    }
    c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": rules});
    assert_eq!(rt.run_to_end("feat", &c), "ok\n");
}

// ---------------------------------------------------------------------------
// pause / resume: the cgroup v2 freezer, where the cgroup is delegated
// ---------------------------------------------------------------------------

/// A cgroup v2 directory given to the test user (as systemd's Delegate=yes
/// does), removed with what runs in it.
struct Delegated {
    path: PathBuf,
}

impl Delegated {
    fn new(env: &Env) -> Option<Delegated> {
        if !common::require(
            common::is_root(),
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
        if !common::require(mount.is_some(), "a cgroup v2 (cgroup2) mount") {
            return None;
        }
        let path = mount.unwrap().join(format!(
            "coracle-it-oci-{}-{}",
            common::test_name().rsplit("::").next().unwrap_or("t"),
            std::process::id()
        ));
        std::fs::create_dir(&path).unwrap();
        let d = Delegated { path };
        if !common::require(
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
            std::os::unix::fs::chown(d.path.join(f), Some(env.uid), Some(env.gid)).unwrap();
        }
        Some(d)
    }
}

impl Drop for Delegated {
    fn drop(&mut self) {
        let _ = std::fs::write(self.path.join("cgroup.kill"), "1");
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end
            && !std::fs::read_to_string(self.path.join("cgroup.events"))
                .map(|s| s.lines().any(|l| l == "populated 0"))
                .unwrap_or(true)
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        if let Ok(rd) = std::fs::read_dir(&self.path) {
            for e in rd
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            {
                let _ = std::fs::remove_dir(e.path());
            }
        }
        let _ = std::fs::remove_dir(&self.path);
    }
}

/// `pause` freezes every process of the container (its own cgroup v2,
/// made where the creator's cgroup is delegated), `resume` thaws it; the
/// state says `paused` meanwhile (a runtime-defined status, as runc's);
/// `delete --force` removes the cgroup.
#[test]
fn pause_and_resume_freeze_a_container_in_its_own_cgroup() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    let Some(d) = Delegated::new(&rt.env) else {
        return;
    };
    let out = rt.shared_dir("count");
    let mut c = rt.sh_config(
        "i=0; while :; do i=$((i+1)); echo $i > /out/n.tmp; mv /out/n.tmp /out/n; sleep 0.05; done",
    );
    add_mount(
        &mut c,
        json!({"destination": "/out", "type": "bind", "source": out, "options": ["rbind"]}),
    );
    rt.write_config(&c);
    rt.create_in("pz", &[], Some(&d.path)).ok();
    let cg = d.path.join("coracle-runtime-pz");
    assert!(cg.join("cgroup.procs").exists(), "no cgroup of its own");
    let pid = rt.state("pz")["pid"].as_i64().unwrap();
    let procs = std::fs::read_to_string(cg.join("cgroup.procs")).unwrap();
    assert!(procs.lines().any(|l| l == pid.to_string()), "{procs}");
    rt.cmd(&["start", "pz"]).ok();
    let n = || -> u64 {
        std::fs::read_to_string(out.join("n"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    };
    let end = Instant::now() + Duration::from_secs(20);
    while n() < 3 {
        assert!(Instant::now() < end, "the counter never counted");
        std::thread::sleep(Duration::from_millis(20));
    }
    rt.cmd(&["pause", "pz"]).ok();
    assert_eq!(rt.status("pz"), "paused");
    let o = rt.cmd(&["pause", "pz"]);
    assert!(o.stderr.contains("not running"), "{o}");
    let o = rt.cmd(&["exec", "pz", "true"]);
    assert!(o.stderr.contains("paused"), "{o}");
    let frozen_at = n();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(n(), frozen_at, "a paused container went on counting");
    rt.cmd(&["resume", "pz"]).ok();
    assert_eq!(rt.status("pz"), "running");
    let end = Instant::now() + Duration::from_secs(20);
    while n() <= frozen_at {
        assert!(Instant::now() < end, "the counter did not resume");
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = rt.cmd(&["resume", "pz"]);
    assert!(o.stderr.contains("not paused"), "{o}");
    // An exec'd process joins the cgroup (the root of the container's
    // cgroup namespace), so it is frozen and killed with the container.
    let o = rt.cmd(&["exec", "pz", "cat", "/proc/self/cgroup"]);
    assert!(o.ok().contains("0::/"), "{o}");
    rt.cmd(&["pause", "pz"]).ok();
    rt.cmd(&["delete", "--force", "pz"]).ok();
    assert!(!cg.exists(), "the cgroup was left behind");
}

/// Without a delegated cgroup, `pause` fails and says why.
#[test]
fn pause_without_a_delegated_cgroup_says_why() {
    let Some(rt) = Rt::new(Mode::Any) else { return };
    rt.write_config(&rt.sh_config("sleep 30"));
    rt.create("np").ok();
    rt.cmd(&["start", "np"]).ok();
    let o = rt.cmd(&["pause", "np"]);
    assert_ne!(o.code(), 0);
    assert!(o.stderr.contains("delegated"), "{o}");
    assert_eq!(rt.status("np"), "running");
}

// ---------------------------------------------------------------------------
// A real engine: rootless Podman driving coracle-runtime, against runc
// ---------------------------------------------------------------------------

fn which(prog: &str) -> Option<PathBuf> {
    ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        .iter()
        .map(|d| Path::new(d).join(prog))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http_get(port: u16) -> String {
    use std::io::{Read, Write};
    let end = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let _ = s.write_all(b"GET / HTTP/1.0\r\n\r\n");
            let mut buf = String::new();
            let _ = s.read_to_string(&mut buf);
            if let Some((_, body)) = buf.split_once("\r\n\r\n") {
                return body.to_string();
            }
        }
        assert!(Instant::now() < end, "nothing answers on port {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The same Podman commands (run, exit status, -v, run -d, exec, logs,
/// stop, rm, -t, -i, -p) under runc and under coracle-runtime, as the
/// unprivileged user: the outputs must be the same, and the expected ones.
#[test]
fn podman_with_coracle_runtime_matches_runc() {
    let Some(rt) = Rt::new(Mode::Full) else {
        return;
    };
    let (Some(podman), Some(runc)) = (which("podman"), which("runc")) else {
        common::require(false, "podman and runc (Debian packages podman, runc)");
        return;
    };
    if !common::require(
        which("conmon").is_some() && which("slirp4netns").is_some(),
        "conmon and slirp4netns (Debian packages conmon, slirp4netns)",
    ) {
        return;
    }
    let env = &rt.env;
    std::fs::create_dir_all(env.rootfs.join("www")).unwrap();
    std::fs::write(env.rootfs.join("www/index.html"), "hello-web\n").unwrap();
    env.chown_tree(&env.rootfs.join("www"));
    let tar = env.home.join("rootfs.tar");
    env.host(
        "tar",
        [
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "-C",
            env.rootfs.to_str().unwrap(),
            "-cf",
            tar.to_str().unwrap(),
            ".",
        ],
    )
    .run()
    .ok();
    let vol = rt.shared_dir("vol");
    std::fs::write(vol.join("f"), "from-volume\n").unwrap();
    let pod = |args: &[&str]| -> Out {
        env.host(&podman, args)
            .timeout(Duration::from_secs(120))
            .run()
    };
    pod(&["import", tar.to_str().unwrap(), "localhost/bb:latest"]).ok();
    // Whatever happens: no container and no pause process left behind.
    struct PodmanCleanup<'a> {
        env: &'a Env,
        podman: PathBuf,
        runtimes: Vec<PathBuf>,
    }
    impl Drop for PodmanCleanup<'_> {
        fn drop(&mut self) {
            for r in &self.runtimes {
                let _ = self
                    .env
                    .host(
                        &self.podman,
                        [
                            "--runtime",
                            r.to_str().unwrap(),
                            "rm",
                            "-a",
                            "-f",
                            "-t",
                            "0",
                        ],
                    )
                    .timeout(Duration::from_secs(120))
                    .run();
            }
            if let Ok(pid) = std::fs::read_to_string(self.env.runtime.join("libpod/tmp/pause.pid"))
            {
                if let Ok(pid) = pid.trim().parse::<i32>() {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
            }
        }
    }
    let _cleanup = PodmanCleanup {
        env,
        podman: podman.clone(),
        runtimes: vec![runc.clone(), rt.link.clone()],
    };

    let mut results = Vec::new();
    for runtime in [runc.clone(), rt.link.clone()] {
        let r = runtime.to_str().unwrap();
        let p = |args: &[&str]| -> Out {
            let mut a = vec!["--runtime", r];
            a.extend_from_slice(args);
            pod(&a)
        };
        let mut got: Vec<String> = Vec::new();
        got.push(
            p(&["run", "--rm", "localhost/bb", "echo", "hi"])
                .ok()
                .to_string(),
        );
        got.push(
            p(&["run", "--rm", "localhost/bb", "sh", "-c", "exit 3"])
                .code()
                .to_string(),
        );
        got.push(
            p(&[
                "run",
                "--rm",
                "-v",
                &format!("{}:/v", vol.display()),
                "localhost/bb",
                "cat",
                "/v/f",
            ])
            .ok()
            .to_string(),
        );
        p(&[
            "run",
            "-d",
            "--name",
            "d1",
            "localhost/bb",
            "sh",
            "-c",
            "echo out-1; while :; do sleep 0.1; done",
        ])
        .ok();
        got.push(
            p(&[
                "exec",
                "d1",
                "sh",
                "-c",
                "echo exec-$((2+3)); hostname | wc -c",
            ])
            .ok()
            .to_string(),
        );
        got.push(p(&["exec", "d1", "sh", "-c", "exit 5"]).code().to_string());
        got.push(
            p(&[
                "exec",
                "-e",
                "V=x",
                "-w",
                "/tmp",
                "d1",
                "sh",
                "-c",
                "echo $V $(pwd)",
            ])
            .ok()
            .to_string(),
        );
        got.push(p(&["logs", "d1"]).ok().to_string());
        p(&["stop", "-t", "1", "d1"]).ok();
        got.push(
            p(&[
                "inspect",
                "-f",
                "{{.State.Status}} {{.State.ExitCode}}",
                "d1",
            ])
            .ok()
            .to_string(),
        );
        p(&["rm", "d1"]).ok();
        got.push(
            p(&[
                "run",
                "--rm",
                "-t",
                "localhost/bb",
                "sh",
                "-c",
                "test -t 1 && echo tty",
            ])
            .ok()
            .to_string(),
        );
        got.push(
            env.host(
                &podman,
                ["--runtime", r, "run", "--rm", "-i", "localhost/bb", "cat"],
            )
            .stdin("piped-in\n")
            .timeout(Duration::from_secs(120))
            .run()
            .ok()
            .to_string(),
        );
        let port = free_port();
        p(&[
            "run",
            "-d",
            "--name",
            "web",
            "-p",
            &format!("127.0.0.1:{port}:80"),
            "localhost/bb",
            "httpd",
            "-f",
            "-p",
            "80",
            "-h",
            "/www",
        ])
        .ok();
        got.push(http_get(port));
        p(&["rm", "-f", "-t", "0", "web"]).ok();
        got.push(p(&["ps", "-a", "-q"]).ok().to_string());
        results.push(got);
    }
    let want = [
        "hi\n",
        "3",
        "from-volume\n",
        "exec-5\n13\n",
        "5",
        "x /tmp\n",
        "out-1\n",
        "exited 137\n",
        "tty\r\n",
        "piped-in\n",
        "hello-web\n",
        "",
    ];
    assert_eq!(results[0], want, "podman with runc");
    assert_eq!(
        results[1], results[0],
        "podman with coracle-runtime differs from runc"
    );
}
