//! The container's seccomp filter.
//!
//! Two halves. [`default_profile`] builds, at plan time, coracle's default
//! profile as an OCI `linux.seccomp` object (so `config.json` records what
//! the container runs under, and `exec` applies the very same one): the
//! effect of Docker's default profile (moby `profiles/seccomp/default.json`)
//! with its capability rules already resolved against the container's
//! bounding set, plus a few denials of our own (io_uring, AF_ALG sockets,
//! TIOCSTI/TIOCLINUX). [`compile`] turns such an object into BPF programs
//! with `seccompiler` in the sandbox child, and [`install`] loads them right
//! before execve.
//!
//! Semantics of the OCI object as coracle compiles it: the entries of one
//! syscall are alternatives; the arguments of one entry must all match;
//! names this architecture does not have are skipped (as libseccomp does).
//! Supported: a default action of ERRNO (with `defaultErrnoRet`, else
//! EPERM) or ALLOW, and entries with ALLOW or ERRNO. `seccompiler` gives a
//! filter a single match action, so the profile becomes a stack: first the
//! allow-list (default action on mismatch), then one filter per errno value
//! of the ERRNO entries (ALLOW on mismatch). The kernel runs every filter
//! and keeps the strictest verdict (ERRNO beats ALLOW), and between two
//! ERRNO verdicts the filter installed last: an ERRNO entry wins over the
//! allow-list and over the default action. A MASKED_EQ with the mask
//! 0xffffffff compares the low 32 bits only (a 32-bit load): the kernel
//! reads `int` and `unsigned int` arguments (ioctl's request, socket's
//! family) from the low half of the register, so set high bits cannot
//! slip past it (CVE-2019-10063).
//!
//! Architectures: x86_64 and aarch64, chosen at compile time; the filter
//! kills the process on a system call of another ABI (i386 or arm32 entry
//! points). On any other architecture coracle installs no filter and says
//! so once, at plan time.

use std::collections::{BTreeMap, HashSet};

use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompArgBuilder,
    LinuxSeccompBuilder, LinuxSeccompOperator, LinuxSyscall, LinuxSyscallBuilder,
};

use super::SetupError;

/// The architecture the filter is built for, when coracle has one for it.
#[cfg(target_arch = "x86_64")]
pub const ARCH: Option<Arch> = Some(Arch::ScmpArchX86_64);
#[cfg(target_arch = "aarch64")]
pub const ARCH: Option<Arch> = Some(Arch::ScmpArchAarch64);
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub const ARCH: Option<Arch> = None;

/// Allowed unconditionally, as in Docker's default profile (its names that
/// exist on x86_64 or aarch64), without io_uring_setup, io_uring_enter and
/// io_uring_register, which coracle denies.
const ALLOWED: &[&str] = &[
    "accept",
    "accept4",
    "access",
    "alarm",
    "bind",
    "brk",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "clock_adjtime",
    "clock_getres",
    "clock_gettime",
    "clock_nanosleep",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "fchown",
    "fchownat",
    "fcntl",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstatfs",
    "fsync",
    "ftruncate",
    "futex",
    "futex_waitv",
    "futimesat",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "geteuid",
    "getgid",
    "getgroups",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresuid",
    "getrlimit",
    "get_robust_list",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "get_thread_area",
    "gettid",
    "gettimeofday",
    "getuid",
    "getxattr",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "ioctl",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "ioprio_get",
    "ioprio_set",
    "io_setup",
    "io_submit",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listxattr",
    "llistxattr",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "madvise",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedsend",
    "mq_unlink",
    "mremap",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "name_to_handle_at",
    "nanosleep",
    "newfstatat",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "pselect6",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "recvfrom",
    "recvmmsg",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_tgsigqueueinfo",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "sendfile",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "setfsgid",
    "setfsuid",
    "setgid",
    "setgroups",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setresgid",
    "setresuid",
    "setreuid",
    "setrlimit",
    "set_robust_list",
    "setsid",
    "setsockopt",
    "set_thread_area",
    "set_tid_address",
    "setuid",
    "setxattr",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "socketpair",
    "splice",
    "stat",
    "statfs",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_settime",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_settime",
    "times",
    "tkill",
    "truncate",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "utime",
    "utimensat",
    "utimes",
    "vfork",
    "vmsplice",
    "wait4",
    "waitid",
    "write",
    "writev",
    // Docker allows these on every kernel from 4.8 (where ptrace can no
    // longer bypass seccomp).
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
    // x86 only (names another architecture lacks are skipped).
    "arch_prctl",
    "modify_ldt",
];

/// Docker's capability rules: with the capability in the container's
/// bounding set, these are allowed as well.
const BY_CAPABILITY: &[(&str, &[&str])] = &[
    ("CAP_DAC_READ_SEARCH", &["open_by_handle_at"]),
    (
        "CAP_SYS_ADMIN",
        &[
            "bpf",
            "clone",
            "clone3",
            "fanotify_init",
            "fsconfig",
            "fsmount",
            "fsopen",
            "fspick",
            "lookup_dcookie",
            "mount",
            "mount_setattr",
            "move_mount",
            "open_tree",
            "perf_event_open",
            "quotactl",
            "quotactl_fd",
            "setdomainname",
            "sethostname",
            "setns",
            "syslog",
            "umount2",
            "unshare",
        ],
    ),
    ("CAP_SYS_BOOT", &["reboot"]),
    ("CAP_SYS_CHROOT", &["chroot"]),
    (
        "CAP_SYS_MODULE",
        &["delete_module", "init_module", "finit_module"],
    ),
    ("CAP_SYS_PACCT", &["acct"]),
    (
        "CAP_SYS_PTRACE",
        &["kcmp", "pidfd_getfd", "process_madvise"],
    ),
    ("CAP_SYS_RAWIO", &["iopl", "ioperm"]),
    ("CAP_SYS_TIME", &["settimeofday", "clock_settime"]),
    ("CAP_SYS_TTY_CONFIG", &["vhangup"]),
    (
        "CAP_SYS_NICE",
        &[
            "get_mempolicy",
            "mbind",
            "set_mempolicy",
            "set_mempolicy_home_node",
        ],
    ),
    ("CAP_SYSLOG", &["syslog"]),
    ("CAP_BPF", &["bpf"]),
    ("CAP_PERFMON", &["perf_event_open"]),
];

/// Every CLONE_NEW* flag of clone(2) (NEWNS, NEWCGROUP, NEWUTS, NEWIPC,
/// NEWUSER, NEWPID, NEWNET): Docker's mask.
const CLONE_NEW_MASK: u64 = 0x7E02_0000;
/// unshare(2) also takes CLONE_NEWTIME (in clone(2) that bit is part of
/// the exit signal).
const UNSHARE_NEW_MASK: u64 = CLONE_NEW_MASK | 0x80;
/// The personality(2) values Docker allows: PER_LINUX, PER_LINUX32,
/// UNAME26, PER_LINUX32|UNAME26, and the query 0xffffffff.
const PERSONALITIES: &[u64] = &[0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];
/// Socket families denied: AF_ALG (kernel crypto, a long CVE history) and
/// AF_VSOCK (the host's vsock; Docker denies it too).
const DENIED_FAMILIES: &[u64] = &[libc::AF_ALG as u64, libc::AF_VSOCK as u64];
/// ioctl requests denied: TIOCSTI (push input into the terminal: escape to
/// the caller's shell through a shared tty) and TIOCLINUX (the same for the
/// Linux console, among others).
const DENIED_IOCTLS: &[u64] = &[0x5412, 0x541C];
/// A MASKED_EQ with this mask compares the low 32 bits only.
const LOW_32: u64 = 0xffff_ffff;

fn syscall(
    names: &[&str],
    action: LinuxSeccompAction,
    errno: Option<u32>,
    args: Vec<LinuxSeccompArg>,
) -> anyhow::Result<LinuxSyscall> {
    let mut b = LinuxSyscallBuilder::default()
        .names(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .action(action);
    if let Some(e) = errno {
        b = b.errno_ret(e);
    }
    if !args.is_empty() {
        b = b.args(args);
    }
    Ok(b.build()?)
}

fn arg(
    index: usize,
    op: LinuxSeccompOperator,
    value: u64,
    two: u64,
) -> anyhow::Result<LinuxSeccompArg> {
    Ok(LinuxSeccompArgBuilder::default()
        .index(index)
        .op(op)
        .value(value)
        .value_two(two)
        .build()?)
}

/// coracle's default profile for a container whose bounding set is `caps`
/// (`CAP_*` names), or `None` on an architecture coracle has no filter for.
pub fn default_profile(caps: &HashSet<String>) -> anyhow::Result<Option<LinuxSeccomp>> {
    use LinuxSeccompAction::{ScmpActAllow as Allow, ScmpActErrno as Errno};
    use LinuxSeccompOperator::{ScmpCmpEq as Eq, ScmpCmpMaskedEq as MaskedEq};
    let Some(arch) = ARCH else {
        return Ok(None);
    };
    let has = |c: &str| caps.contains(c);
    let eperm = Some(libc::EPERM as u32);
    let mut allowed: Vec<&str> = ALLOWED.to_vec();
    for (cap, names) in BY_CAPABILITY {
        if has(cap) {
            allowed.extend(names.iter().copied());
        }
    }
    allowed.sort_unstable();
    allowed.dedup();
    let mut syscalls = vec![syscall(&allowed, Allow, None, Vec::new())?];
    if !has("CAP_SYS_ADMIN") {
        // Threads and processes, but no new namespaces.
        syscalls.push(syscall(
            &["clone"],
            Allow,
            None,
            vec![arg(0, MaskedEq, CLONE_NEW_MASK, 0)?],
        )?);
        syscalls.push(syscall(
            &["unshare"],
            Allow,
            None,
            vec![arg(0, MaskedEq, UNSHARE_NEW_MASK, 0)?],
        )?);
        // clone3's flags are behind a pointer, which seccomp cannot read:
        // ENOSYS makes the C libraries fall back to clone.
        syscalls.push(syscall(
            &["clone3"],
            Errno,
            Some(libc::ENOSYS as u32),
            Vec::new(),
        )?);
    }
    for p in PERSONALITIES {
        syscalls.push(syscall(
            &["personality"],
            Allow,
            None,
            vec![arg(0, Eq, *p, 0)?],
        )?);
    }
    syscalls.push(syscall(&["socket"], Allow, None, Vec::new())?);
    for f in DENIED_FAMILIES {
        syscalls.push(syscall(
            &["socket"],
            Errno,
            eperm,
            vec![arg(0, MaskedEq, LOW_32, *f)?],
        )?);
    }
    for r in DENIED_IOCTLS {
        syscalls.push(syscall(
            &["ioctl"],
            Errno,
            eperm,
            vec![arg(1, MaskedEq, LOW_32, *r)?],
        )?);
    }
    Ok(Some(
        LinuxSeccompBuilder::default()
            .default_action(Errno)
            .default_errno_ret(libc::EPERM as u32)
            .architectures(vec![arch])
            .syscalls(syscalls)
            .build()?,
    ))
}

/// The BPF programs of a profile, in the order they are to be installed.
pub type Programs = Vec<Vec<libc::sock_filter>>;

/// Compiles an OCI seccomp profile for this architecture (see the module
/// comment for what is supported).
pub fn compile(profile: &LinuxSeccomp) -> Result<Programs, SetupError> {
    use seccompiler::{
        SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
    };
    let err = |m: String| SetupError::setup(format!("seccomp profile: {m}"));
    let target = match ARCH {
        Some(Arch::ScmpArchX86_64) => seccompiler::TargetArch::x86_64,
        Some(Arch::ScmpArchAarch64) => seccompiler::TargetArch::aarch64,
        _ => return Err(err("no seccomp support for this architecture".into())),
    };
    if let Some(arches) = profile.architectures() {
        if !arches.is_empty() && !arches.iter().any(|a| Some(*a) == ARCH) {
            return Err(err(format!(
                "it is for {arches:?}, not for this machine's architecture"
            )));
        }
    }
    let errno_of = |e: Option<u32>| e.unwrap_or(libc::EPERM as u32);
    let default = match profile.default_action() {
        LinuxSeccompAction::ScmpActAllow => None,
        LinuxSeccompAction::ScmpActErrno => {
            Some(SeccompAction::Errno(errno_of(profile.default_errno_ret())))
        }
        a => return Err(err(format!("default action {a} is not supported"))),
    };
    // Rules by match action (None: allow, Some: that errno), then by
    // syscall number; None there: unconditional.
    type Alternatives = Option<Vec<Vec<SeccompCondition>>>;
    let mut by_action: BTreeMap<Option<u32>, BTreeMap<i64, Alternatives>> = BTreeMap::new();
    for sc in profile.syscalls().as_deref().unwrap_or_default() {
        let key = match sc.action() {
            LinuxSeccompAction::ScmpActAllow => None,
            LinuxSeccompAction::ScmpActErrno => Some(errno_of(sc.errno_ret())),
            a => return Err(err(format!("action {a} is not supported"))),
        };
        let mut conds = Vec::new();
        for a in sc.args().as_deref().unwrap_or_default() {
            let index = u8::try_from(a.index())
                .map_err(|_| err(format!("argument index {} is out of range", a.index())))?;
            let two = a.value_two().unwrap_or(0);
            let (len, op, value) = match a.op() {
                LinuxSeccompOperator::ScmpCmpMaskedEq if a.value() == LOW_32 => {
                    if two > LOW_32 {
                        return Err(err(format!(
                            "value {two:#x} does not fit the 32-bit comparison"
                        )));
                    }
                    (SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, two)
                }
                LinuxSeccompOperator::ScmpCmpMaskedEq => (
                    SeccompCmpArgLen::Qword,
                    SeccompCmpOp::MaskedEq(a.value()),
                    two,
                ),
                LinuxSeccompOperator::ScmpCmpNe => {
                    (SeccompCmpArgLen::Qword, SeccompCmpOp::Ne, a.value())
                }
                LinuxSeccompOperator::ScmpCmpLt => {
                    (SeccompCmpArgLen::Qword, SeccompCmpOp::Lt, a.value())
                }
                LinuxSeccompOperator::ScmpCmpLe => {
                    (SeccompCmpArgLen::Qword, SeccompCmpOp::Le, a.value())
                }
                LinuxSeccompOperator::ScmpCmpEq => {
                    (SeccompCmpArgLen::Qword, SeccompCmpOp::Eq, a.value())
                }
                LinuxSeccompOperator::ScmpCmpGe => {
                    (SeccompCmpArgLen::Qword, SeccompCmpOp::Ge, a.value())
                }
                LinuxSeccompOperator::ScmpCmpGt => {
                    (SeccompCmpArgLen::Qword, SeccompCmpOp::Gt, a.value())
                }
            };
            conds.push(
                SeccompCondition::new(index, len, op, value).map_err(|e| err(e.to_string()))?,
            );
        }
        for name in sc.names() {
            let Some(nr) = number(name) else {
                continue;
            };
            let alts = by_action
                .entry(key)
                .or_default()
                .entry(nr)
                .or_insert_with(|| Some(Vec::new()));
            match (alts.as_mut(), conds.is_empty()) {
                (None, _) => {}
                (Some(_), true) => *alts = None,
                (Some(v), false) => v.push(conds.clone()),
            }
        }
    }
    let mut programs = Vec::new();
    let mut build = |rules: BTreeMap<i64, Alternatives>,
                     mismatch: SeccompAction,
                     on_match: SeccompAction|
     -> Result<(), SetupError> {
        let mut map = BTreeMap::new();
        for (nr, alts) in rules {
            // seccompiler: an empty rule list is an unconditional match.
            let list = alts
                .unwrap_or_default()
                .into_iter()
                .map(|c| SeccompRule::new(c).map_err(|e| err(e.to_string())))
                .collect::<Result<Vec<_>, _>>()?;
            map.insert(nr, list);
        }
        let filter =
            SeccompFilter::new(map, mismatch, on_match, target).map_err(|e| err(e.to_string()))?;
        let prog: seccompiler::BpfProgram = filter
            .try_into()
            .map_err(|e: seccompiler::BackendError| err(e.to_string()))?;
        programs.push(
            prog.into_iter()
                .map(|i| libc::sock_filter {
                    code: i.code,
                    jt: i.jt,
                    jf: i.jf,
                    k: i.k,
                })
                .collect(),
        );
        Ok(())
    };
    let allow_rules = by_action.remove(&None).unwrap_or_default();
    if let Some(default) = default {
        build(allow_rules, default, SeccompAction::Allow)?;
    }
    for (errno, rules) in by_action {
        let errno = errno.unwrap_or(libc::EPERM as u32);
        build(rules, SeccompAction::Allow, SeccompAction::Errno(errno))?;
    }
    Ok(programs)
}

/// Installs the programs, in order, on the calling thread (for its exec).
pub fn install(programs: &Programs) -> Result<(), SetupError> {
    for p in programs {
        crate::sys::seccomp_set_filter(p)
            .map_err(|e| SetupError::setup(format!("install the seccomp filter: {e}")))?;
    }
    Ok(())
}

/// `libc::SYS_*` by name: the arms of a match on "SYS_" + the name.
macro_rules! numbers {
    ($name:expr; $($sys:ident),* $(,)?) => {
        match $name {
            $(stringify!($sys) => Some(libc::$sys as i64),)*
            _ => None,
        }
    };
}

/// The number of the system call `name` on this architecture.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub fn number(name: &str) -> Option<i64> {
    let full = format!("SYS_{name}");
    // The same number on both, not yet named by libc.
    if name == "fchmodat2" {
        return Some(452);
    }
    if let Some(n) = numbers!(full.as_str();
        SYS_accept, SYS_accept4, SYS_bind, SYS_brk, SYS_capget, SYS_capset, SYS_chdir,
        SYS_clock_adjtime, SYS_clock_getres, SYS_clock_gettime, SYS_clock_nanosleep, SYS_close,
        SYS_close_range, SYS_connect, SYS_copy_file_range, SYS_dup, SYS_dup3, SYS_epoll_create1,
        SYS_epoll_ctl, SYS_epoll_pwait, SYS_epoll_pwait2, SYS_eventfd2, SYS_execve, SYS_execveat,
        SYS_exit, SYS_exit_group, SYS_faccessat, SYS_faccessat2, SYS_fadvise64, SYS_fallocate,
        SYS_fanotify_mark, SYS_fchdir, SYS_fchmod, SYS_fchmodat, SYS_fchown, SYS_fchownat,
        SYS_fcntl, SYS_fdatasync, SYS_fgetxattr, SYS_flistxattr, SYS_flock, SYS_fremovexattr,
        SYS_fsetxattr, SYS_fstat, SYS_fstatfs, SYS_fsync, SYS_ftruncate, SYS_futex,
        SYS_futex_waitv, SYS_getcpu, SYS_getcwd, SYS_getdents64, SYS_getegid, SYS_geteuid,
        SYS_getgid, SYS_getgroups, SYS_getitimer, SYS_getpeername, SYS_getpgid, SYS_getpid,
        SYS_getppid, SYS_getpriority, SYS_getrandom, SYS_getresgid, SYS_getresuid,
        SYS_get_robust_list, SYS_getrusage, SYS_getsid, SYS_getsockname, SYS_getsockopt,
        SYS_gettid, SYS_gettimeofday, SYS_getuid, SYS_getxattr, SYS_inotify_add_watch,
        SYS_inotify_init1, SYS_inotify_rm_watch, SYS_io_cancel, SYS_ioctl, SYS_io_destroy,
        SYS_io_getevents, SYS_ioprio_get, SYS_ioprio_set, SYS_io_setup, SYS_io_submit, SYS_kill,
        SYS_landlock_add_rule, SYS_landlock_create_ruleset, SYS_landlock_restrict_self,
        SYS_lgetxattr, SYS_linkat, SYS_listen, SYS_listxattr, SYS_llistxattr, SYS_lremovexattr,
        SYS_lseek, SYS_lsetxattr, SYS_madvise, SYS_membarrier, SYS_memfd_create, SYS_memfd_secret,
        SYS_mincore, SYS_mkdirat, SYS_mknodat, SYS_mlock, SYS_mlock2, SYS_mlockall, SYS_mmap,
        SYS_mprotect, SYS_mq_getsetattr, SYS_mq_notify, SYS_mq_open, SYS_mq_timedreceive,
        SYS_mq_timedsend, SYS_mq_unlink, SYS_mremap, SYS_msgctl, SYS_msgget, SYS_msgrcv,
        SYS_msgsnd, SYS_msync, SYS_munlock, SYS_munlockall, SYS_munmap, SYS_name_to_handle_at,
        SYS_nanosleep, SYS_newfstatat, SYS_openat, SYS_openat2, SYS_pidfd_open,
        SYS_pidfd_send_signal, SYS_pipe2, SYS_pkey_alloc, SYS_pkey_free, SYS_pkey_mprotect,
        SYS_ppoll, SYS_prctl, SYS_pread64, SYS_preadv, SYS_preadv2, SYS_prlimit64,
        SYS_process_mrelease, SYS_pselect6, SYS_pwrite64, SYS_pwritev, SYS_pwritev2, SYS_read,
        SYS_readahead, SYS_readlinkat, SYS_readv, SYS_recvfrom, SYS_recvmmsg, SYS_recvmsg,
        SYS_remap_file_pages, SYS_removexattr, SYS_renameat2, SYS_restart_syscall, SYS_rseq,
        SYS_rt_sigaction, SYS_rt_sigpending, SYS_rt_sigprocmask, SYS_rt_sigqueueinfo,
        SYS_rt_sigreturn, SYS_rt_sigsuspend, SYS_rt_sigtimedwait, SYS_rt_tgsigqueueinfo,
        SYS_sched_getaffinity, SYS_sched_getattr, SYS_sched_getparam, SYS_sched_get_priority_max,
        SYS_sched_get_priority_min, SYS_sched_getscheduler, SYS_sched_rr_get_interval,
        SYS_sched_setaffinity, SYS_sched_setattr, SYS_sched_setparam, SYS_sched_setscheduler,
        SYS_sched_yield, SYS_seccomp, SYS_semctl, SYS_semget, SYS_semop, SYS_semtimedop,
        SYS_sendfile, SYS_sendmmsg, SYS_sendmsg, SYS_sendto, SYS_setfsgid, SYS_setfsuid,
        SYS_setgid, SYS_setgroups, SYS_setitimer, SYS_setpgid, SYS_setpriority, SYS_setregid,
        SYS_setresgid, SYS_setresuid, SYS_setreuid, SYS_set_robust_list, SYS_setsid,
        SYS_setsockopt, SYS_set_tid_address, SYS_setuid, SYS_setxattr, SYS_shmat, SYS_shmctl,
        SYS_shmdt, SYS_shmget, SYS_shutdown, SYS_sigaltstack, SYS_signalfd4, SYS_socket,
        SYS_socketpair, SYS_splice, SYS_statfs, SYS_statx, SYS_symlinkat, SYS_sync, SYS_syncfs,
        SYS_sysinfo, SYS_tee, SYS_tgkill, SYS_timer_create, SYS_timer_delete,
        SYS_timer_getoverrun, SYS_timer_gettime, SYS_timer_settime, SYS_timerfd_create,
        SYS_timerfd_gettime, SYS_timerfd_settime, SYS_times, SYS_tkill, SYS_truncate, SYS_umask,
        SYS_uname, SYS_unlinkat, SYS_utimensat, SYS_vmsplice, SYS_wait4, SYS_waitid, SYS_write,
        SYS_writev, SYS_personality, SYS_ptrace, SYS_process_vm_readv, SYS_process_vm_writev,
        SYS_clone, SYS_clone3, SYS_unshare, SYS_bpf, SYS_fanotify_init, SYS_fsconfig, SYS_fsmount,
        SYS_fsopen, SYS_fspick, SYS_lookup_dcookie, SYS_mount, SYS_mount_setattr, SYS_move_mount,
        SYS_open_tree, SYS_perf_event_open, SYS_quotactl, SYS_quotactl_fd, SYS_setdomainname,
        SYS_sethostname, SYS_setns, SYS_syslog, SYS_umount2, SYS_open_by_handle_at, SYS_reboot,
        SYS_chroot, SYS_delete_module, SYS_init_module, SYS_finit_module, SYS_acct, SYS_kcmp,
        SYS_pidfd_getfd, SYS_process_madvise, SYS_settimeofday, SYS_clock_settime, SYS_vhangup,
        SYS_get_mempolicy, SYS_mbind, SYS_set_mempolicy, SYS_set_mempolicy_home_node,
    ) {
        return Some(n);
    }
    arch_number(name, &full)
}

#[cfg(target_arch = "x86_64")]
fn arch_number(name: &str, full: &str) -> Option<i64> {
    if name == "io_pgetevents" {
        return Some(333);
    }
    numbers!(full;
        SYS_access, SYS_alarm, SYS_chmod, SYS_chown, SYS_creat, SYS_dup2, SYS_epoll_create,
        SYS_epoll_ctl_old, SYS_epoll_wait, SYS_epoll_wait_old, SYS_eventfd, SYS_fork,
        SYS_futimesat, SYS_getdents, SYS_getpgrp, SYS_inotify_init, SYS_lchown, SYS_link,
        SYS_lstat, SYS_mkdir, SYS_mknod, SYS_open, SYS_pause, SYS_pipe, SYS_poll, SYS_readlink,
        SYS_rename, SYS_rmdir, SYS_select, SYS_signalfd, SYS_stat, SYS_symlink, SYS_time,
        SYS_unlink, SYS_utime, SYS_utimes, SYS_vfork, SYS_arch_prctl, SYS_modify_ldt,
        SYS_get_thread_area, SYS_set_thread_area, SYS_iopl, SYS_ioperm, SYS_getrlimit,
        SYS_setrlimit, SYS_renameat, SYS_sync_file_range,
    )
}

/// asm-generic numbers libc does not name for aarch64.
#[cfg(target_arch = "aarch64")]
fn arch_number(name: &str, _full: &str) -> Option<i64> {
    match name {
        "renameat" => Some(38),
        "sync_file_range" => Some(84),
        "getrlimit" => Some(163),
        "setrlimit" => Some(164),
        "io_pgetevents" => Some(292),
        _ => None,
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub fn number(_name: &str) -> Option<i64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(names: &[&str]) -> HashSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn every_name_has_a_number_on_x86_64() {
        let all = ALLOWED
            .iter()
            .chain(BY_CAPABILITY.iter().flat_map(|(_, n)| n.iter()));
        for name in all {
            assert!(number(name).is_some(), "{name}");
        }
        assert_eq!(number("read"), Some(0));
        assert_eq!(number("clone3"), Some(435));
        assert_eq!(number("no_such_call"), None);
    }

    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    #[test]
    fn the_default_profile_is_a_stack_of_filters() {
        let p = default_profile(&caps(&["CAP_CHOWN"])).unwrap().unwrap();
        // allow-list, EPERM entries, clone3's ENOSYS.
        assert_eq!(compile(&p).unwrap().len(), 3);
        let names = |p: &LinuxSeccomp, action| -> Vec<String> {
            p.syscalls()
                .iter()
                .flatten()
                .filter(|s| s.action() == action && s.args().is_none())
                .flat_map(|s| s.names().clone())
                .collect()
        };
        let allowed = names(&p, LinuxSeccompAction::ScmpActAllow);
        for denied in [
            "keyctl",
            "mount",
            "io_uring_setup",
            "bpf",
            "clone",
            "unshare",
        ] {
            assert!(!allowed.iter().any(|n| n == denied), "{denied}");
        }
        // CAP_SYS_ADMIN: clone3 and the mount family, no ENOSYS filter.
        let p = default_profile(&caps(&["CAP_SYS_ADMIN"])).unwrap().unwrap();
        let allowed = names(&p, LinuxSeccompAction::ScmpActAllow);
        for a in ["mount", "clone", "clone3", "unshare", "setns"] {
            assert!(allowed.iter().any(|n| n == a), "{a}");
        }
        assert!(!allowed.iter().any(|n| n == "io_uring_setup"));
        assert_eq!(compile(&p).unwrap().len(), 2);
    }
}
