//! The sync socket between coracle and the sandbox child (SOCK_SEQPACKET,
//! close-on-exec): the parent says when the id maps are written, the child
//! hands over the terminal and reports setup errors. End of stream without
//! an error means the command was executed.

use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// Parent -> child: the id maps are written, go on.
    Go,
    /// Child -> parent: the pty master is attached.
    Pty,
    /// Exec's intermediate -> coracle: the process that joined the
    /// container is `pid` (host pid); its pidfd travels with the message.
    Child { pid: i32 },
    /// Child -> parent: the private network's tap device travels with it.
    Tap,
    /// Child -> parent: the named network's tap device travels with it.
    NetTap,
    /// Child -> parent: setup failed; exit with `code`.
    Error { code: i32, message: String },
}

pub fn encode(m: &Msg) -> Vec<u8> {
    match m {
        Msg::Go => b"G".to_vec(),
        Msg::Pty => b"P".to_vec(),
        Msg::Tap => b"T".to_vec(),
        Msg::NetTap => b"N".to_vec(),
        Msg::Child { pid } => {
            let mut v = b"C".to_vec();
            v.extend_from_slice(&pid.to_le_bytes());
            v
        }
        Msg::Error { code, message } => {
            let mut v = b"E".to_vec();
            v.extend_from_slice(&code.to_le_bytes());
            v.extend_from_slice(message.as_bytes());
            v
        }
    }
}

pub fn decode(b: &[u8]) -> Option<Msg> {
    match b.first()? {
        b'G' if b.len() == 1 => Some(Msg::Go),
        b'P' if b.len() == 1 => Some(Msg::Pty),
        b'T' if b.len() == 1 => Some(Msg::Tap),
        b'N' if b.len() == 1 => Some(Msg::NetTap),
        b'C' if b.len() == 5 => Some(Msg::Child {
            pid: i32::from_le_bytes(b[1..5].try_into().ok()?),
        }),
        b'E' if b.len() >= 5 => Some(Msg::Error {
            code: i32::from_le_bytes(b[1..5].try_into().ok()?),
            message: String::from_utf8_lossy(&b[5..]).into_owned(),
        }),
        _ => None,
    }
}

pub fn send(sock: BorrowedFd<'_>, m: &Msg, fd: Option<BorrowedFd<'_>>) -> io::Result<()> {
    crate::sys::send_with_fd(sock, &encode(m), fd)
}

/// `Ok(None)` at end of stream.
pub fn recv(sock: BorrowedFd<'_>) -> io::Result<Option<(Msg, Option<OwnedFd>)>> {
    let mut buf = vec![0u8; 8192];
    let (n, fd) = crate::sys::recv_with_fd(sock, &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    let m = decode(&buf[..n]).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "malformed message from the sandbox",
        )
    })?;
    Ok(Some((m, fd)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        for m in [
            Msg::Go,
            Msg::Pty,
            Msg::Child { pid: 4242 },
            Msg::Error {
                code: 127,
                message: "exec x: nope".into(),
            },
        ] {
            assert_eq!(decode(&encode(&m)), Some(m));
        }
        for g in [&b""[..], b"X", b"E12", b"GG"] {
            assert_eq!(decode(g), None);
        }
    }
}
