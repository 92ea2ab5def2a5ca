//! The caller's side of `-t`: raw mode on the caller's terminal, copying
//! between it and the container's pty master, window size on SIGWINCH, and
//! the terminal restored on every way out.

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::sys::termios::{self, SetArg, Termios};

/// Restores the caller's terminal mode when dropped.
pub struct RawGuard {
    saved: Option<Termios>,
}

impl RawGuard {
    /// Puts stdin into raw mode when it is a terminal.
    pub fn enter() -> Self {
        let stdin = std::io::stdin();
        if !nix::unistd::isatty(stdin.as_raw_fd()).unwrap_or(false) {
            return Self { saved: None };
        }
        let Ok(saved) = termios::tcgetattr(stdin.as_fd()) else {
            return Self { saved: None };
        };
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        if termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).is_err() {
            return Self { saved: None };
        }
        Self { saved: Some(saved) }
    }
}

impl Drop for RawGuard {
    fn drop(&mut self) {
        if let Some(t) = &self.saved {
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSADRAIN, t);
        }
    }
}

/// Copies the caller's window size to the pty.
pub fn sync_winsize(master: &OwnedFd) {
    for fd in [0, 1, 2] {
        if let Ok(ws) = crate::sys::get_winsize(fd) {
            let _ = crate::sys::set_winsize(master.as_raw_fd(), &ws);
            return;
        }
    }
}

/// Starts the copy threads; the returned handle finishes when the container
/// side of the pty is closed (all its processes are gone).
/// Relays the pty: the caller's stdin to the master (with `stdin`), the
/// master's output to the caller's stdout and to `copy` (the container's
/// log, for a foreground `run -t`).
pub fn relay(
    master: &OwnedFd,
    stdin: bool,
    mut copy: Option<Box<dyn Write + Send>>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let mut out = std::fs::File::from(master.try_clone()?);
    if stdin {
        let mut inp = std::fs::File::from(master.try_clone()?);
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            let mut stdin = std::io::stdin().lock();
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) => {
                        // End of input: send the terminal's EOF character.
                        let _ = inp.write_all(&[4]);
                        break;
                    }
                    Ok(n) => {
                        if inp.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        });
    }
    Ok(std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
        let mut stdout = std::io::stdout().lock();
        loop {
            match out.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if let Some(c) = copy.as_mut() {
                        // A full disk must not stop the terminal.
                        let _ = c.write_all(&buf[..n]);
                    }
                    if stdout.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    let _ = stdout.flush();
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // EIO: every slave fd is closed.
                Err(_) => break,
            }
        }
    }))
}

/// Writes `pid` to `path` (temp + rename, no newline, as runc does).
pub fn write_pid_file(path: &std::path::Path, pid: i32) -> anyhow::Result<()> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    let name = abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = abs.with_file_name(format!(".{name}.tmp.{}", std::process::id()));
    std::fs::write(&tmp, pid.to_string())
        .and_then(|_| std::fs::rename(&tmp, &abs))
        .map_err(|e| anyhow::anyhow!("write the pid file {}: {e}", abs.display()))
}

/// Sends a pty master to an OCI engine's console socket as runc does: one
/// message whose payload is the terminal's name, the fd in SCM_RIGHTS.
pub fn send_to_console_socket(
    socket: &std::path::Path,
    master: std::os::fd::BorrowedFd<'_>,
) -> anyhow::Result<()> {
    let stream = std::os::unix::net::UnixStream::connect(socket)
        .map_err(|e| anyhow::anyhow!("connect to the console socket {}: {e}", socket.display()))?;
    let name = std::fs::read_link(format!("/proc/self/fd/{}", master.as_raw_fd()))
        .unwrap_or_else(|_| std::path::PathBuf::from("/dev/ptmx"));
    crate::sys::send_with_fd(
        stream.as_fd(),
        name.to_string_lossy().as_bytes(),
        Some(master),
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "send the terminal to the console socket {}: {e}",
            socket.display()
        )
    })
}
