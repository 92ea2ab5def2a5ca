//! coracle's minimal init (`--init`): pid 1 of the container. It forwards
//! the signals it receives to the command, reaps every zombie, and exits with
//! the command's status (128+N when the command died of signal N, since pid 1
//! cannot die of most signals itself).

use nix::sys::signal::{kill, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::FORWARDED_SIGNALS;

pub fn run(child: Pid) -> ! {
    // The signals are blocked since before the clone (inherited mask), so
    // none is lost between fork and here.
    let mut mask = nix::sys::signal::SigSet::empty();
    for s in FORWARDED_SIGNALS {
        mask.add(*s);
    }
    mask.add(Signal::SIGCHLD);
    let Ok(sfd) = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC) else {
        crate::sys::exit_now(crate::error::EXIT_CORACLE)
    };
    loop {
        // Reap first: the command may already be gone.
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) if pid == child => crate::sys::exit_now(code),
                Ok(WaitStatus::Signaled(pid, sig, _)) if pid == child => {
                    crate::sys::exit_now(128 + sig as i32)
                }
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(_) => continue,
            }
        }
        if let Ok(Some(info)) = sfd.read_signal() {
            if let Ok(sig) = Signal::try_from(info.ssi_signo as i32) {
                if sig != Signal::SIGCHLD {
                    let _ = kill(child, sig);
                }
            }
        }
    }
}
