//! The container's log, byte for byte as `coracle::container::logs` writes
//! it: Docker's json-file format, one `{"log","stream","time"}` object per
//! line (serde_json's compact form and string escapes), lines split at 16
//! KiB, one `write` per entry on an O_APPEND file, rotated by size.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Longest log entry (Docker's 16 KiB), as `logs::MAX_LINE`.
pub const MAX_LINE: usize = 16 * 1024;

/// Splits one stream's bytes into entries.
pub struct Splitter {
    stream: &'static str,
    buf: Vec<u8>,
}

impl Splitter {
    pub fn new(stream: &'static str) -> Self {
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    /// Feeds bytes; writes every complete line (or full piece) to `log`.
    pub fn feed(&mut self, data: &[u8], log: &mut Log) {
        let mut rest = data;
        while !rest.is_empty() {
            let room = MAX_LINE - self.buf.len();
            let take = rest.len().min(room);
            match rest[..take].iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.buf.extend_from_slice(&rest[..=i]);
                    rest = &rest[i + 1..];
                    self.emit(log);
                }
                None => {
                    self.buf.extend_from_slice(&rest[..take]);
                    rest = &rest[take..];
                    if self.buf.len() >= MAX_LINE {
                        self.emit(log);
                    }
                }
            }
        }
        if self.buf.is_empty() && self.buf.capacity() > 4096 {
            // Idle most of its life: give a long line's memory back.
            self.buf = Vec::new();
        }
    }

    /// Writes what is left (a last line without a newline).
    pub fn finish(&mut self, log: &mut Log) {
        if !self.buf.is_empty() {
            self.emit(log);
        }
    }

    fn emit(&mut self, log: &mut Log) {
        let line = entry(&self.buf, self.stream, &now());
        self.buf.clear();
        // A full disk must not stop the container.
        let _ = log.write_entry(&line);
    }
}

/// One json-file line: what `serde_json::to_vec(&Entry)` + `\n` gives.
pub fn entry(data: &[u8], stream: &str, time: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(data);
    let mut out = Vec::with_capacity(text.len() + 48 + time.len());
    out.extend_from_slice(b"{\"log\":");
    json_string(&text, &mut out);
    out.extend_from_slice(b",\"stream\":");
    json_string(stream, &mut out);
    out.extend_from_slice(b",\"time\":");
    json_string(time, &mut out);
    out.extend_from_slice(b"}\n");
    out
}

/// A JSON string as serde_json writes it: `"` and `\` escaped, control
/// characters as `\b \t \n \f \r` or `\u00xx`, everything else as is.
fn json_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 15) as usize]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// RFC 3339 UTC time with nanoseconds, as `coracle::container::now`.
pub fn now() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(t.as_secs() as i64, t.subsec_nanos())
}

pub fn rfc3339(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `PATH.N`: the Nth rotated log (1 is the newest).
fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(format!(".{n}"));
    p.into()
}

/// The log file, rotated by size as `logs::RotatingLog`.
pub struct Log {
    path: PathBuf,
    file: Option<File>,
    size: u64,
    max_size: Option<u64>,
    max_file: u32,
}

impl Log {
    pub fn open(path: PathBuf, max_size: Option<u64>, max_file: u32) -> Self {
        let file = open_file(&path).ok();
        let size = file
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .map_or(0, |m| m.len());
        Self {
            path,
            file,
            size,
            max_size,
            max_file,
        }
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let keep = self.max_file.max(1);
        if keep <= 1 {
            if let Some(f) = &self.file {
                f.set_len(0)?;
            }
        } else {
            for n in (1..keep - 1).rev() {
                let from = rotated(&self.path, n);
                if from.exists() {
                    std::fs::rename(&from, rotated(&self.path, n + 1))?;
                }
            }
            std::fs::rename(&self.path, rotated(&self.path, 1))?;
            self.file = Some(open_file(&self.path)?);
        }
        self.size = 0;
        Ok(())
    }

    /// Appends one entry with one `write`.
    pub fn write_entry(&mut self, line: &[u8]) -> std::io::Result<()> {
        if let Some(max) = self.max_size {
            if self.size > 0 && self.size + line.len() as u64 > max {
                self.rotate()?;
            }
        }
        let Some(f) = self.file.as_mut() else {
            return Ok(());
        };
        f.write_all(line)?;
        self.size += line.len() as u64;
        Ok(())
    }
}

fn open_file(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Entry<'a> {
        log: String,
        stream: &'a str,
        time: &'a str,
    }

    #[test]
    fn entries_are_what_serde_json_writes() {
        let mut all: Vec<u8> = (0u8..=255).collect();
        all.extend_from_slice("é ü \u{2028} \u{7f} \"q\" \\ / end\n".as_bytes());
        let samples: Vec<&[u8]> = vec![b"", b"hello\n", b"\x1b[0m\r\n", &all, b"\xff\xfe bad utf8"];
        for s in samples {
            let e = Entry {
                log: String::from_utf8_lossy(s).into_owned(),
                stream: "stderr",
                time: "2026-12-01T11:00:00.000000001Z",
            };
            let mut want = serde_json::to_vec(&e).unwrap();
            want.push(b'\n');
            assert_eq!(entry(s, e.stream, e.time), want);
        }
    }

    #[test]
    fn times_match_the_library() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(rfc3339(951782400, 5), "2000-02-29T00:00:00.000000005Z");
    }

    #[test]
    fn long_lines_are_split_and_rotation_keeps_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("log");
        let mut log = Log::open(p.clone(), Some(40 * 1024), 3);
        let mut s = Splitter::new("stdout");
        s.feed(&vec![b'a'; MAX_LINE + 10], &mut log);
        s.feed(b"\n", &mut log);
        for _ in 0..4 {
            s.feed(&vec![b'b'; 20 * 1024], &mut log);
        }
        s.finish(&mut log);
        assert!(rotated(&p, 1).exists());
        assert!(rotated(&p, 2).exists());
        assert!(!rotated(&p, 3).exists());
        let first = std::fs::read_to_string(rotated(&p, 2)).unwrap();
        let line: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
        assert_eq!(line["log"].as_str().unwrap().len(), MAX_LINE);
    }
}
