//! The daemon's self-confinement once mounted: landlock (files beneath the
//! upper and work directories read-write, the lowers read-only, /dev/fuse
//! for the extra request channels, nothing else) and a seccomp filter that
//! refuses what a file server never needs (exec, ptrace, sockets, mounts
//! and namespaces, module and key management, io_uring, bpf...). The
//! filter is a deny-list, not an allow-list: the daemon's own system calls
//! come from std, nix and fuser and vary with their versions.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;

use landlock::{
    path_beneath_rules, Access, AccessFs, Ruleset, RulesetAttr, RulesetCreatedAttr, ABI,
};

use super::Config;

/// Applies both; returns what could not be enforced (for the log).
pub fn confine(cfg: &Config) -> io::Result<Vec<String>> {
    let mut notes = Vec::new();
    let abi = ABI::V5;
    let all = AccessFs::from_all(abi);
    let read = AccessFs::from_read(abi);
    let rw: Vec<PathBuf> = vec![cfg.upper.clone(), cfg.work.clone()];
    let status = Ruleset::default()
        .handle_access(all)
        .and_then(|r| r.create())
        .and_then(|r| r.add_rules(path_beneath_rules(&rw, all)))
        .and_then(|r| r.add_rules(path_beneath_rules(&cfg.lowers, read)))
        .and_then(|r| {
            r.add_rules(path_beneath_rules(
                ["/dev/fuse"],
                AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::IoctlDev,
            ))
        })
        .and_then(|r| r.restrict_self())
        .map_err(|e| io::Error::other(format!("landlock: {e}")))?;
    if status.ruleset != landlock::RulesetStatus::FullyEnforced {
        notes.push(format!("landlock: {:?}", status.ruleset));
    }
    if let Err(e) = seccomp() {
        return Err(io::Error::other(format!("seccomp: {e}")));
    }
    Ok(notes)
}

fn seccomp() -> Result<(), String> {
    #[cfg(target_arch = "x86_64")]
    let arch = seccompiler::TargetArch::x86_64;
    #[cfg(target_arch = "aarch64")]
    let arch = seccompiler::TargetArch::aarch64;
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    return Ok(());
    let denied: &[libc::c_long] = &[
        libc::SYS_execve,
        libc::SYS_execveat,
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_socket,
        libc::SYS_socketpair,
        libc::SYS_connect,
        libc::SYS_bind,
        libc::SYS_listen,
        libc::SYS_accept,
        libc::SYS_accept4,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_chroot,
        libc::SYS_setns,
        libc::SYS_unshare,
        libc::SYS_fsopen,
        libc::SYS_fsmount,
        libc::SYS_fsconfig,
        libc::SYS_move_mount,
        libc::SYS_open_tree,
        libc::SYS_mount_setattr,
        libc::SYS_open_by_handle_at,
        libc::SYS_name_to_handle_at,
        libc::SYS_bpf,
        libc::SYS_keyctl,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
        libc::SYS_kexec_load,
        libc::SYS_kexec_file_load,
        libc::SYS_perf_event_open,
        libc::SYS_userfaultfd,
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_reboot,
        libc::SYS_swapon,
        libc::SYS_swapoff,
        libc::SYS_acct,
        libc::SYS_quotactl,
        libc::SYS_syslog,
        libc::SYS_personality,
        libc::SYS_pidfd_getfd,
        libc::SYS_setuid,
        libc::SYS_setgid,
        libc::SYS_setreuid,
        libc::SYS_setregid,
        libc::SYS_setresuid,
        libc::SYS_setresgid,
        libc::SYS_setgroups,
    ];
    let mut map = BTreeMap::new();
    for nr in denied {
        #[allow(clippy::unnecessary_cast)] // c_long is i64 only on 64-bit targets
        map.insert(*nr as i64, Vec::new());
    }
    let filter = seccompiler::SeccompFilter::new(
        map,
        seccompiler::SeccompAction::Allow,
        seccompiler::SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(|e| e.to_string())?;
    let prog: seccompiler::BpfProgram = filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| e.to_string())?;
    let prog: Vec<libc::sock_filter> = prog
        .into_iter()
        .map(|i| libc::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect();
    nix::sys::prctl::set_no_new_privs().map_err(|e| e.to_string())?;
    crate::sys::seccomp_set_filter(&prog).map_err(|e| e.to_string())
}
