//! Container escapes that hit other runtimes, named after their CVEs.
//! Each must fail against coracle.

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use common::*;

/// `../` enough times to climb out of any rootfs path, followed by `abs`.
fn climbing(abs: &Path) -> String {
    format!(
        "{}{}",
        "../".repeat(16).trim_end_matches('/'),
        abs.display()
    )
}

/// A snapshot of a directory tree: (relative path, kind + content).
fn snapshot(dir: &Path) -> Vec<(String, String)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            let md = fs::symlink_metadata(&p).unwrap();
            if md.is_dir() {
                out.push((rel, "dir".into()));
                walk(base, &p, out);
            } else if md.file_type().is_symlink() {
                out.push((
                    rel,
                    format!("link {}", fs::read_link(&p).unwrap().display()),
                ));
            } else {
                out.push((
                    rel,
                    format!("file {}", String::from_utf8_lossy(&fs::read(&p).unwrap())),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn host_mounts_under(path: &Path) -> Vec<String> {
    let mi = fs::read_to_string("/proc/self/mountinfo").unwrap();
    parse_mountinfo(&mi)
        .into_iter()
        .filter(|m| Path::new(&m.point).starts_with(path))
        .map(|m| m.point)
        .collect()
}

// --- CVE-2024-21626: a leaked fd as the working directory ----------------------------------

fn leaked_fd_workdir(mode: Mode, opts: &[&str]) {
    let Some(env) = Env::new(mode) else { return };
    let up = "../".repeat(16);
    for n in 3..=8 {
        for wd in [
            format!("/proc/self/fd/{n}"),
            format!("/proc/self/fd/{n}/.."),
        ] {
            let mut o: Vec<&str> = opts.to_vec();
            o.extend(["-w", &wd]);
            let script = format!(
                "readlink /proc/self/cwd; ls -a {up} | sort | tr '\\n' ' '; echo; ls -a / | sort | tr '\\n' ' '; echo; \
                 ls -a /proc/self/cwd/{up} | sort | tr '\\n' ' '; echo"
            );
            let out = env.sh(&o, &script);
            eprintln!(
                "-w {wd}: exit {}, cwd {:?}",
                out.code(),
                out.stdout.lines().next()
            );
            match out.code() {
                125 | 126 => continue,
                0 => {}
                _ => panic!("-w {wd}: expected a refusal (125/126) or a contained cwd\n{out}"),
            }
            let l: Vec<&str> = out.stdout.lines().collect();
            assert!(l.len() >= 4, "{out}");
            // Climbing from the cwd may fail (a /proc directory of another
            // owner), but where it succeeds it must end at the container's /.
            for (i, how) in [(1, "`..` from the cwd"), (3, "/proc/self/cwd/..")] {
                assert!(
                    l[i].is_empty() || l[i] == l[2],
                    "-w {wd}: {how} reaches outside the container's /\n{out}"
                );
            }
            assert!(
                !l[0].contains(&*env.dir.to_string_lossy()),
                "-w {wd}: cwd is a host path\n{out}"
            );
        }
    }
}

#[test]
fn cve_2024_21626_leaked_fd_workdir_full() {
    leaked_fd_workdir(Mode::Full, &[]);
}

#[test]
fn cve_2024_21626_leaked_fd_workdir_single() {
    leaked_fd_workdir(Mode::Single, &[]);
}

#[test]
fn cve_2024_21626_leaked_fd_workdir_init() {
    leaked_fd_workdir(Mode::Any, &["--init"]);
}

// --- CVE-2021-30465: symlinked mount targets escaping the rootfs -----------------------------

struct Victims {
    /// Outside the rootfs, writable by the user.
    outside: PathBuf,
    /// Inside the rootfs (/victim-in), reached through its host path.
    inside: PathBuf,
}

fn victims(env: &Env) -> Victims {
    let outside = env.dir.join("victim-out");
    env.mkdir_owned(&outside, 0o755);
    env.write_owned(&outside.join("victim-file"), "untouched\n");
    env.write_owned(&outside.join("hosts"), "victim hosts\n");
    env.write_owned(&outside.join("resolv.conf"), "victim resolv\n");
    let inside = env.rootfs.join("victim-in");
    env.mkdir_owned(&inside, 0o755);
    env.write_owned(&inside.join("orig"), "in-rootfs original\n");
    env.write_owned(&inside.join("hosts"), "in-rootfs hosts\n");
    env.write_owned(&inside.join("resolv.conf"), "in-rootfs resolv\n");
    Victims { outside, inside }
}

/// Checks nothing happened to the victims on the host.
fn victims_untouched(v: &Victims, before: &[Vec<(String, String)>; 2], what: &str) {
    assert_eq!(
        snapshot(&v.outside),
        before[0],
        "{what}: the victim outside the rootfs changed"
    );
    assert_eq!(
        snapshot(&v.inside),
        before[1],
        "{what}: /victim-in changed on the host"
    );
    assert_eq!(
        host_mounts_under(&v.outside),
        Vec::<String>::new(),
        "{what}: host mount at the victim"
    );
}

const IN_SCRIPT: &str = "ls -A /victim-in | tr '\\n' ' '; echo; cat /victim-in/orig /victim-in/hosts /victim-in/resolv.conf; \
                         echo ---; cat /proc/self/mountinfo";

fn check_inside_untouched(out: &Out, what: &str) -> Vec<MountInfo> {
    let (head, mi) = out
        .stdout
        .split_once("---\n")
        .unwrap_or_else(|| panic!("{what}\n{out}"));
    assert_eq!(
        head, "hosts orig resolv.conf \nin-rootfs original\nin-rootfs hosts\nin-rootfs resolv\n",
        "{what}: the mount escaped onto /victim-in through its host path\n{out}"
    );
    parse_mountinfo(mi)
}

fn symlink_mount_targets(mode: Mode) {
    let Some(env) = Env::new(mode) else { return };
    let v = victims(&env);
    let src = env.dir.join("src");
    env.mkdir_owned(&src, 0o755);
    env.write_owned(&src.join("src-marker"), "src\n");
    let targets = [
        (
            "absolute outside",
            v.outside.display().to_string(),
            v.outside.clone(),
        ),
        ("relative outside", climbing(&v.outside), v.outside.clone()),
        (
            "absolute rootfs host path",
            v.inside.display().to_string(),
            v.inside.clone(),
        ),
        (
            "relative rootfs host path",
            climbing(&v.inside),
            v.inside.clone(),
        ),
    ];
    let before = [snapshot(&v.outside), snapshot(&v.inside)];
    let evil = env.rootfs.join("mnt/evil");
    for (name, target, resolved) in &targets {
        for kind in ["volume", "tmpfs"] {
            let _ = fs::remove_file(&evil);
            symlink(target, &evil).unwrap();
            env.chown(&evil);
            let vol = format!("{}:/mnt/evil", src.display());
            let opts: Vec<&str> = if kind == "volume" {
                vec!["-v", &vol]
            } else {
                vec!["--tmpfs", "/mnt/evil"]
            };
            let script = format!("{IN_SCRIPT}; echo ---; cat /mnt/evil/src-marker 2>&1; true");
            let out = env.sh(&opts, &script);
            let what = format!("{kind} on /mnt/evil -> {target} ({name})");
            victims_untouched(&v, &before, &what);
            eprintln!("{what}: exit {}", out.code());
            match out.code() {
                125 => continue,
                0 => {}
                _ => panic!("{what}: expected success or 125\n{out}"),
            }
            let ms = check_inside_untouched(&out, &what);
            // The mount landed where the symlink leads inside the container.
            let inside_point = resolved.display().to_string();
            let m = mount_at(&ms, &inside_point).unwrap_or_else(|| {
                panic!("{what}: no mount at {inside_point} inside the container\n{out}")
            });
            if kind == "tmpfs" {
                assert_eq!(m.fstype, "tmpfs", "{what}\n{out}");
            } else {
                assert!(
                    out.stdout.ends_with("---\nsrc\n"),
                    "{what}: the volume is at /mnt/evil\n{out}"
                );
            }
        }
    }
}

#[test]
fn cve_2021_30465_symlink_mount_target_full() {
    symlink_mount_targets(Mode::Full);
}

#[test]
fn cve_2021_30465_symlink_mount_target_single() {
    symlink_mount_targets(Mode::Single);
}

#[test]
fn cve_2021_30465_symlinked_etc_files() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let v = victims(&env);
    let before = [snapshot(&v.outside), snapshot(&v.inside)];
    let cases: [[(&str, String); 3]; 2] = [
        [
            ("hosts", v.outside.join("hosts").display().to_string()),
            ("resolv.conf", climbing(&v.outside.join("resolv.conf"))),
            ("hostname", v.inside.join("orig").display().to_string()),
        ],
        [
            ("hosts", climbing(&v.inside.join("hosts"))),
            (
                "resolv.conf",
                v.inside.join("resolv.conf").display().to_string(),
            ),
            ("hostname", climbing(&v.outside.join("victim-file"))),
        ],
    ];
    for case in &cases {
        for (f, target) in case {
            let p = env.rootfs.join("etc").join(f);
            let _ = fs::remove_file(&p);
            symlink(target, &p).unwrap();
            env.chown(&p);
        }
        let what = format!("etc symlinks {case:?}");
        let script =
            format!("{IN_SCRIPT}; echo ---; cat /etc/hosts /etc/resolv.conf /etc/hostname 2>&1");
        let out = env.sh(&["-h", "etchost"], &script);
        victims_untouched(&v, &before, &what);
        eprintln!("{what}: exit {}", out.code());
        match out.code() {
            125 => continue,
            0 => {}
            _ => panic!("{what}: expected success or 125\n{out}"),
        }
        check_inside_untouched(&out, &what);
        let etc = out.stdout.rsplit("---\n").next().unwrap();
        assert!(
            !etc.contains("victim") && !etc.contains("untouched"),
            "{what}: host files read through\n{out}"
        );
    }
}

// --- CVE-2019-5736: overwriting the runtime through /proc/PID/exe -----------------------------

fn proc_exe_overwrite(mode: Mode, opts: &[&str]) {
    let Some(env) = Env::new(mode) else { return };
    let bin = env.private_coracle();
    let before = fs::read(&bin).unwrap();
    let script = r#"
for p in /proc/[0-9]*; do
  n=${p#/proc/}
  [ "$n" = "$$" ] && continue
  if cat $p/exe > /tmp/exe.$n 2>/dev/null; then
    if cmp -s /tmp/exe.$n /bin/busybox; then echo "busybox $n"; else echo "FOREIGN $n $(cat $p/comm 2>/dev/null)"; fi
  fi
  rm -f /tmp/exe.$n
  if (echo x >> $p/exe) 2>/dev/null; then echo "WROTE $n"; fi
  if (: > $p/exe) 2>/dev/null; then echo "TRUNCATED $n"; fi
done
echo done
"#;
    let mut args: Vec<String> = vec!["run".into()];
    args.extend(opts.iter().map(|s| s.to_string()));
    args.extend([
        "--rootfs".into(),
        env.rootfs.display().to_string(),
        "sh".into(),
        "-c".into(),
        script.into(),
    ]);
    let out = env.host(&bin, &args).run();
    out.ok();
    let after = fs::read(&bin).unwrap();
    assert!(
        before == after,
        "the coracle binary was modified from inside the container\n{out}"
    );
    for l in out.lines() {
        assert!(
            !l.starts_with("FOREIGN") && !l.starts_with("WROTE") && !l.starts_with("TRUNCATED"),
            "a process's exe that is not the container's own is reachable: {l}\n{out}"
        );
    }
    assert!(out.stdout.ends_with("done\n"), "{out}");
}

#[test]
fn cve_2019_5736_proc_exe_full() {
    proc_exe_overwrite(Mode::Full, &[]);
}

#[test]
fn cve_2019_5736_proc_exe_init_full() {
    proc_exe_overwrite(Mode::Full, &["--init"]);
}

#[test]
fn cve_2019_5736_proc_exe_single() {
    proc_exe_overwrite(Mode::Single, &[]);
}

#[test]
fn cve_2019_5736_proc_exe_init_single() {
    proc_exe_overwrite(Mode::Single, &["--init"]);
}
