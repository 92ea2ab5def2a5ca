//! The container's mounts: /dev, /proc, /sys, /etc files, masked and
//! read-only paths, volumes, tmpfs, read-only root.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;

use common::*;

fn mountinfo(env: &Env, opts: &[&str]) -> (Vec<MountInfo>, Out) {
    let out = env.run(opts, &["cat", "/proc/self/mountinfo"]).run();
    out.ok();
    (parse_mountinfo(&out.stdout), out)
}

// --- /dev -------------------------------------------------------------------------

fn dev_nodes(mode: Mode) {
    let Some(env) = Env::new(mode) else { return };
    let script = r#"
for d in null zero full random urandom tty; do test -c /dev/$d && echo "char $d"; done
echo x > /dev/null && echo null-writable
head -c 4 /dev/urandom | wc -c
head -c 4 /dev/random | wc -c
head -c 3 /dev/zero | od -An -tx1
echo x > /dev/full 2>/dev/null || echo full-is-full
test -c /dev/ptmx -o -L /dev/ptmx && echo ptmx
test -c /dev/pts/ptmx && echo pts-ptmx
readlink /dev/fd; readlink /dev/stdin; readlink /dev/stdout; readlink /dev/stderr
echo shm > /dev/shm/f && cat /dev/shm/f
ls /dev | wc -l
"#;
    let out = env.sh(&[], script);
    let l = out.lines();
    out.ok();
    let want = [
        "char null",
        "char zero",
        "char full",
        "char random",
        "char urandom",
        "char tty",
        "null-writable",
        "4",
        "4",
        "00 00 00",
        "full-is-full",
        "ptmx",
        "pts-ptmx",
        "/proc/self/fd",
        "/proc/self/fd/0",
        "/proc/self/fd/1",
        "/proc/self/fd/2",
        "shm",
    ];
    assert_eq!(l[..want.len()], want.map(String::from), "{out}");
    // A minimal /dev, not the host's.
    let n: usize = l[want.len()].parse().unwrap();
    assert!(
        n < 30,
        "/dev must be a minimal tmpfs, not the host's ({n} entries)\n{out}"
    );
}

#[test]
fn dev_nodes_full() {
    dev_nodes(Mode::Full);
}

#[test]
fn dev_nodes_single() {
    dev_nodes(Mode::Single);
}

#[test]
fn dev_has_no_host_devices() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env.sh(&[], "ls /dev");
    let names = out.lines();
    out.ok();
    for bad in [
        "sda", "vda", "mem", "kmsg", "fuse", "console", "loop0", "nvme0",
    ] {
        // /dev/console only exists with -t.
        assert!(
            !names.iter().any(|n| n == bad),
            "/dev/{bad} must not be in the container\n{out}"
        );
    }
}

// --- /sys ---------------------------------------------------------------------------

#[test]
fn sys_is_read_only() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env.sh(
        &[],
        "touch /sys/x 2>&1; echo rc=$?; echo 1 > /sys/kernel/profiling 2>&1; echo rc=$?",
    );
    let l = out.lines();
    out.ok();
    assert!(
        !l.contains(&"rc=0".to_string()),
        "writing to /sys must fail\n{out}"
    );
    let (ms, out) = mountinfo(&env, &[]);
    let sys = mount_at(&ms, "/sys").unwrap_or_else(|| panic!("no /sys\n{out}"));
    assert!(sys.read_only(), "/sys is mounted read-only\n{out}");
}

// --- /etc/hosts, /etc/hostname, /etc/resolv.conf ---------------------------------------

const ETC_FILES: [&str; 3] = ["hosts", "hostname", "resolv.conf"];

#[test]
fn etc_files_are_bind_mounts_and_rootfs_is_untouched() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    for f in ETC_FILES {
        env.write_owned(&env.rootfs.join("etc").join(f), format!("ORIGINAL {f}\n"));
    }
    let out = env.sh(
        &["-h", "boathost"],
        "cat /etc/hostname; echo ---; cat /etc/hosts; echo ---; cat /proc/self/mountinfo",
    );
    let s = out.ok();
    let parts: Vec<&str> = s.split("---\n").collect();
    assert_eq!(parts[0].trim(), "boathost", "/etc/hostname\n{out}");
    assert!(
        parts[1].contains("localhost"),
        "/etc/hosts has localhost\n{out}"
    );
    assert!(
        parts[1].contains("boathost"),
        "/etc/hosts has the hostname\n{out}"
    );
    let ms = parse_mountinfo(parts[2]);
    for f in ETC_FILES {
        assert!(
            mount_at(&ms, &format!("/etc/{f}")).is_some(),
            "/etc/{f} is a bind mount\n{out}"
        );
    }
    for f in ETC_FILES {
        let host = fs::read_to_string(env.rootfs.join("etc").join(f)).unwrap();
        assert_eq!(
            host,
            format!("ORIGINAL {f}\n"),
            "coracle modified the rootfs's /etc/{f}"
        );
    }
}

#[test]
fn etc_files_missing_in_rootfs_stay_empty_on_host() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env.sh(
        &[],
        "for f in hosts hostname resolv.conf; do test -f /etc/$f && echo $f; done",
    );
    assert_eq!(
        out.lines(),
        ETC_FILES.map(String::from),
        "the files exist inside\n{out}"
    );
    for f in ETC_FILES {
        let p = env.rootfs.join("etc").join(f);
        if let Ok(md) = fs::symlink_metadata(&p) {
            assert!(
                md.is_file(),
                "placeholder {} must be a plain file",
                p.display()
            );
            assert_eq!(
                md.len(),
                0,
                "placeholder {} must stay empty on the host",
                p.display()
            );
        }
    }
}

#[test]
fn etc_files_writes_do_not_reach_rootfs() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    env.write_owned(&env.rootfs.join("etc/hosts"), "ORIGINAL\n");
    let out = env.sh(
        &[],
        "echo '10.0.0.1 added' >> /etc/hosts; grep -c added /etc/hosts",
    );
    // Docker allows editing these files; either way the rootfs stays as it was.
    let _ = out;
    assert_eq!(
        fs::read_to_string(env.rootfs.join("etc/hosts")).unwrap(),
        "ORIGINAL\n"
    );
}

// --- masked and read-only paths ----------------------------------------------------------

const MASKED_FILES: [&str; 6] = [
    "/proc/kcore",
    "/proc/keys",
    "/proc/timer_list",
    "/proc/sched_debug",
    "/proc/latency_stats",
    "/proc/timer_stats",
];
const MASKED_DIRS: [&str; 3] = ["/proc/acpi", "/proc/scsi", "/sys/firmware"];
const RO_PATHS: [&str; 5] = [
    "/proc/sys",
    "/proc/sysrq-trigger",
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
];

/// Paths (of `list`) that exist in the container.
fn existing(env: &Env, opts: &[&str], list: &[&str]) -> Vec<String> {
    let script = format!(
        "for p in {}; do test -e $p && echo $p; done; true",
        list.join(" ")
    );
    let out = env.sh(opts, &script);
    out.ok();
    out.lines()
}

fn masked_paths(mode: Mode) {
    let Some(env) = Env::new(mode) else { return };
    let (ms, out) = mountinfo(&env, &[]);
    let files = existing(&env, &[], &MASKED_FILES);
    let dirs = existing(&env, &[], &MASKED_DIRS);
    assert!(
        !files.is_empty() && !dirs.is_empty(),
        "no masked path exists at all?\n{out}"
    );
    for p in files.iter().chain(&dirs) {
        assert!(
            mount_at(&ms, p).is_some(),
            "{p} must be masked (a mount over it)\n{out}"
        );
    }
    for p in &files {
        let o = env.sh(&[], &format!("cat {p} | wc -c"));
        assert_eq!(o.ok().trim(), "0", "masked {p} reads empty\n{o}");
    }
    for p in &dirs {
        let o = env.sh(&[], &format!("ls -A {p} | wc -l"));
        assert_eq!(o.ok().trim(), "0", "masked {p} is empty\n{o}");
    }
    for p in existing(&env, &[], &RO_PATHS) {
        let m = mount_at(&ms, &p).unwrap_or_else(|| panic!("{p} must be a read-only mount\n{out}"));
        assert!(m.read_only(), "{p} must be read-only\n{out}");
    }
    let o = env.sh(
        &[],
        "echo 1 > /proc/sys/vm/overcommit_memory 2>&1; echo rc=$?",
    );
    assert!(
        !o.stdout.contains("rc=0"),
        "writing /proc/sys must fail\n{o}"
    );
    let o = env.sh(&[], "echo h > /proc/sysrq-trigger 2>&1; echo rc=$?");
    assert!(
        !o.stdout.contains("rc=0"),
        "writing /proc/sysrq-trigger must fail\n{o}"
    );
}

#[test]
fn masked_and_read_only_paths_full() {
    masked_paths(Mode::Full);
}

#[test]
fn masked_and_read_only_paths_single() {
    masked_paths(Mode::Single);
}

#[test]
fn privileged_unmasks() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let (ms, out) = mountinfo(&env, &["--privileged"]);
    let present: Vec<String> = existing(&env, &["--privileged"], &MASKED_FILES)
        .into_iter()
        .chain(existing(&env, &["--privileged"], &MASKED_DIRS))
        .collect();
    assert!(!present.is_empty(), "{out}");
    for p in &present {
        assert!(
            mount_at(&ms, p).is_none(),
            "--privileged must not mask {p}\n{out}"
        );
    }
    if present.iter().any(|p| p == "/sys/firmware") {
        let o = env.sh(&["--privileged"], "ls -A /sys/firmware | wc -l");
        let host = fs::read_dir("/sys/firmware")
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(
            o.ok().trim(),
            host.to_string(),
            "--privileged shows /sys/firmware\n{o}"
        );
    }
}

// --- volumes --------------------------------------------------------------------------

#[test]
fn volume_read_write() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let vol = env.dir.join("vol");
    env.mkdir_owned(&vol, 0o755);
    env.write_owned(&vol.join("from-host"), "host data\n");
    let spec = format!("{}:/mnt/vol", vol.display());
    let out = env.sh(
        &["-v", &spec],
        "cat /mnt/vol/from-host; echo inside > /mnt/vol/from-container",
    );
    assert_eq!(out.ok(), "host data\n", "{out}");
    assert_eq!(
        fs::read_to_string(vol.join("from-container")).unwrap(),
        "inside\n"
    );
    // A target that does not exist in the rootfs is created.
    let spec = format!("{}:/new/deep/dir", vol.display());
    let out = env.sh(&["-v", &spec], "cat /new/deep/dir/from-host");
    assert_eq!(out.ok(), "host data\n", "{out}");
}

#[test]
fn volume_read_only() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let vol = env.dir.join("vol");
    env.mkdir_owned(&vol, 0o755);
    env.write_owned(&vol.join("f"), "ro data\n");
    let spec = format!("{}:/mnt/ro:ro", vol.display());
    let out = env.sh(
        &["-v", &spec],
        "cat /mnt/ro/f; (echo x > /mnt/ro/new) 2>&1; echo rc=$?",
    );
    let s = out.ok();
    assert!(s.starts_with("ro data\n"), "{out}");
    assert!(
        s.to_lowercase().contains("read-only"),
        "write fails with EROFS\n{out}"
    );
    assert!(!vol.join("new").exists(), "a :ro volume was written to");
}

#[test]
fn volume_single_file() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let f = env.dir.join("file.conf");
    env.write_owned(&f, "file volume\n");
    let spec = format!("{}:/etc/app.conf", f.display());
    let out = env.sh(&["-v", &spec], "cat /etc/app.conf");
    assert_eq!(out.ok(), "file volume\n", "{out}");
}

#[test]
fn volume_missing_host_path_is_an_error() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let missing = env.dir.join("no-such-volume");
    let spec = format!("{}:/mnt/x", missing.display());
    let out = env.run(&["-v", &spec], &["true"]).run();
    out.expect_code(125);
    assert!(
        out.stderr.contains(missing.to_str().unwrap()),
        "stderr names the path\n{out}"
    );
}

#[test]
fn volume_relative_target_is_an_error() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let vol = env.dir.join("vol");
    env.mkdir_owned(&vol, 0o755);
    let spec = format!("{}:relative", vol.display());
    env.run(&["-v", &spec], &["true"]).run().expect_code(125);
}

// --- tmpfs, read-only root -----------------------------------------------------------------

#[test]
fn tmpfs_mount() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env.sh(
        &["--tmpfs", "/scratch"],
        "grep ' /scratch ' /proc/mounts; echo hi > /scratch/f && cat /scratch/f",
    );
    let s = out.ok();
    let f: Vec<&str> = s.lines().next().unwrap_or("").split(' ').collect();
    assert!(
        f.len() > 2 && f[1] == "/scratch" && f[2] == "tmpfs",
        "/scratch is a tmpfs\n{out}"
    );
    assert!(s.ends_with("hi\n"), "{out}");
    assert!(
        !env.rootfs.join("scratch/f").exists(),
        "tmpfs writes landed in the rootfs"
    );
}

#[test]
fn tmpfs_size_option() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env.sh(
        &["--tmpfs", "/scratch:size=1m"],
        "dd if=/dev/zero of=/scratch/small bs=1024 count=512 2>/dev/null && echo small-ok; \
         dd if=/dev/zero of=/scratch/big bs=1024 count=2048 2>/dev/null && echo big-ok; true",
    );
    let l = out.lines();
    out.ok();
    assert!(
        l.contains(&"small-ok".to_string()),
        "512 KiB fit in a 1m tmpfs\n{out}"
    );
    assert!(
        !l.contains(&"big-ok".to_string()),
        "2 MiB must not fit in a 1m tmpfs\n{out}"
    );
}

#[test]
fn read_only_root() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env.sh(
        &["--read-only", "--tmpfs", "/scratch"],
        "touch /newfile 2>/dev/null && echo root-writable; \
         touch /etc/newfile 2>/dev/null && echo etc-writable; \
         echo a > /dev/shm/a && echo shm-ok; \
         echo b > /scratch/b && echo tmpfs-ok; \
         echo c > /dev/null && echo null-ok; true",
    );
    let l = out.lines();
    out.ok();
    assert_eq!(
        l,
        ["shm-ok", "tmpfs-ok", "null-ok"].map(String::from),
        "{out}"
    );
    assert!(!env.rootfs.join("newfile").exists());
    let (ms, out) = mountinfo(&env, &["--read-only"]);
    assert!(
        mount_at(&ms, "/").unwrap().read_only(),
        "/ is mounted read-only\n{out}"
    );
}

#[test]
fn rootfs_files_written_inside_appear_on_host() {
    let Some(env) = Env::new(Mode::Any) else {
        return;
    };
    let out = env.sh(&[], "echo written > /root/inside && chmod 600 /root/inside");
    out.ok();
    let p = env.rootfs.join("root/inside");
    assert_eq!(fs::read_to_string(&p).unwrap(), "written\n");
    assert_eq!(
        fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o600
    );
}
