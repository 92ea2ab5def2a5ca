//! Container logs in Docker's json-file format: one JSON object per line,
//! `{"log":"...\n","stream":"stdout","time":"RFC3339Nano"}`. A line longer
//! than [`MAX_LINE`] is split, as Docker does (the pieces lack the `\n`).

use std::io::Write;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

/// Longest log entry; longer lines are split (Docker's 16 KiB).
pub const MAX_LINE: usize = 16 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    pub log: String,
    pub stream: String,
    pub time: String,
}

/// Splits one stream's bytes into entries.
pub struct LineSplitter {
    stream: &'static str,
    buf: Vec<u8>,
}

impl LineSplitter {
    pub fn new(stream: &'static str) -> Self {
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    /// Feeds bytes; writes every complete line (or full piece) to `out`.
    pub fn feed(&mut self, data: &[u8], out: &mut dyn Write) -> std::io::Result<()> {
        let mut rest = data;
        while !rest.is_empty() {
            let room = MAX_LINE - self.buf.len();
            let take = rest.len().min(room);
            match rest[..take].iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.buf.extend_from_slice(&rest[..=i]);
                    rest = &rest[i + 1..];
                    self.emit(out)?;
                }
                None => {
                    self.buf.extend_from_slice(&rest[..take]);
                    rest = &rest[take..];
                    if self.buf.len() >= MAX_LINE {
                        self.emit(out)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes what is left (a last line without a newline).
    pub fn finish(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            self.emit(out)?;
        }
        Ok(())
    }

    fn emit(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        let e = Entry {
            log: String::from_utf8_lossy(&self.buf).into_owned(),
            stream: self.stream.to_string(),
            time: super::now(),
        };
        self.buf.clear();
        let mut line = serde_json::to_vec(&e).map_err(std::io::Error::other)?;
        line.push(b'\n');
        out.write_all(&line)
    }
}

/// A stream written into the log as entries of one stream: the splitter
/// and the log in one `Write` (what is left is written when dropped).
pub struct StreamLog {
    split: LineSplitter,
    log: RotatingLog,
}

impl StreamLog {
    pub fn new(stream: &'static str, log: RotatingLog) -> Self {
        Self {
            split: LineSplitter::new(stream),
            log,
        }
    }
}

impl Write for StreamLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.split.feed(buf, &mut self.log)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for StreamLog {
    fn drop(&mut self) {
        let _ = self.split.finish(&mut self.log);
    }
}

/// `--log-opt` values of the json-file log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogOpts {
    pub max_size: Option<u64>,
    pub max_file: Option<u32>,
}

impl LogOpts {
    /// `max-size=10m`, `max-file=3` (Docker's json-file options).
    pub fn parse(raw: &[String]) -> anyhow::Result<Self> {
        let mut o = LogOpts::default();
        for r in raw {
            let (k, v) = r.split_once('=').ok_or_else(|| {
                anyhow::anyhow!(
                    "invalid --log-opt \"{r}\": use KEY=VALUE (max-size=10m, max-file=3)"
                )
            })?;
            match k {
                "max-size" => {
                    let n = parse_size(v).filter(|&n| n > 0).ok_or_else(|| {
                        anyhow::anyhow!("invalid --log-opt max-size=\"{v}\": give a size such as 512k, 10m or 1g")
                    })?;
                    o.max_size = Some(n);
                }
                "max-file" => {
                    let n = v.parse::<u32>().ok().filter(|&n| (1..=100).contains(&n)).ok_or_else(|| {
                        anyhow::anyhow!("invalid --log-opt max-file=\"{v}\": give a number of files from 1 to 100")
                    })?;
                    o.max_file = Some(n);
                }
                _ => bail!(
                    "unknown --log-opt \"{k}\": the json-file log takes max-size and max-file"
                ),
            }
        }
        if o.max_file.is_some_and(|n| n > 1) && o.max_size.is_none() {
            bail!("--log-opt max-file needs max-size: give --log-opt max-size=SIZE too");
        }
        Ok(o)
    }
}

/// `10m`, `512k`, `1g`, `100` (bytes), with an optional `b`; 1k = 1024.
pub fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (num, mult) = match t.chars().last()? {
        'k' => (&t[..t.len() - 1], 1u64 << 10),
        'm' => (&t[..t.len() - 1], 1 << 20),
        'g' => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    let v: f64 = num.parse().ok()?;
    if !v.is_finite() || v < 0.0 {
        return None;
    }
    Some((v * mult as f64) as u64)
}

/// `PATH.N`: the Nth rotated log (1 is the newest).
pub fn rotated(path: &std::path::Path, n: u32) -> std::path::PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(format!(".{n}"));
    p.into()
}

/// The log files of a container, oldest first (rotated ones, then `path`).
pub fn log_files(path: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<std::path::PathBuf> = (1..=100)
        .map(|n| rotated(path, n))
        .take_while(|p| p.exists())
        .collect();
    v.reverse();
    v.push(path.to_path_buf());
    v
}

/// The log file the monitor appends to, rotated by size as Docker's
/// json-file driver does: each `write` is one whole entry.
pub struct RotatingLog {
    path: std::path::PathBuf,
    file: std::fs::File,
    size: u64,
    opts: LogOpts,
}

impl RotatingLog {
    pub fn open(path: &std::path::Path, opts: LogOpts) -> anyhow::Result<Self> {
        let file = Self::open_file(path)?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(Self {
            path: path.to_path_buf(),
            file,
            size,
            opts,
        })
    }

    fn open_file(path: &std::path::Path) -> anyhow::Result<std::fs::File> {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("open {}", path.display()))
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let keep = self.opts.max_file.unwrap_or(1);
        if keep <= 1 {
            self.file.set_len(0)?;
        } else {
            for n in (1..keep - 1).rev() {
                let from = rotated(&self.path, n);
                if from.exists() {
                    std::fs::rename(&from, rotated(&self.path, n + 1))?;
                }
            }
            std::fs::rename(&self.path, rotated(&self.path, 1))?;
            self.file = Self::open_file(&self.path).map_err(std::io::Error::other)?;
        }
        self.size = 0;
        Ok(())
    }
}

impl Write for RotatingLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(max) = self.opts.max_size {
            if self.size > 0 && self.size + buf.len() as u64 > max {
                self.rotate()?;
            }
        }
        self.file.write_all(buf)?;
        self.size += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Nanoseconds since the Unix epoch of an RFC 3339 time
/// (`2024-01-02T15:04:05.123Z`, `...+02:00`).
pub fn parse_rfc3339(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: i128 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = &s[start..i];
        if frac.is_empty() {
            return None;
        }
        let mut digits: String = frac.chars().take(9).collect();
        while digits.len() < 9 {
            digits.push('0');
        }
        nanos = digits.parse().ok()?;
    }
    let offset: i64 = match &s[i..] {
        "Z" | "z" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) && &o[3..4] == ":" => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let v = oh * 3600 + om * 60;
            if o.starts_with('-') {
                -v
            } else {
                v
            }
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let secs = days * 86400 + h * 3600 + mi * 60 + sec - offset;
    Some(secs as i128 * 1_000_000_000 + nanos)
}

/// A Go-style duration (`10m`, `1h30m`, `1.5s`, `300ms`) in nanoseconds.
pub fn parse_duration(s: &str) -> Option<i128> {
    if s.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if n == 0 {
            return None;
        }
        let v: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..u] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[u..];
        total += v * unit;
    }
    Some(total as i128)
}

/// Nanoseconds since the epoch of a `--since`/`--until` value: an RFC 3339
/// time, a Unix timestamp (`1700000000[.5]`), or a duration before `now`.
pub fn parse_time_arg(flag: &str, s: &str, now: i128) -> anyhow::Result<i128> {
    if let Some(t) = parse_rfc3339(s) {
        return Ok(t);
    }
    if let Some(d) = parse_duration(s) {
        return Ok(now - d);
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        if let Ok(v) = s.parse::<f64>() {
            return Ok((v * 1e9) as i128);
        }
    }
    bail!(
        "invalid value for {flag} \"{s}\": give an RFC 3339 time (2024-01-02T15:04:05Z), \
         a Unix timestamp, or a duration before now such as 10m"
    )
}

/// Now in nanoseconds since the epoch.
pub fn now_nanos() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

/// What `logs` prints and how.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub since: Option<i128>,
    pub until: Option<i128>,
    pub timestamps: bool,
}

impl Filter {
    fn keeps(&self, e: &Entry) -> bool {
        let t = parse_rfc3339(&e.time).unwrap_or(0);
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u)
    }
}

/// Writes one entry to stdout or stderr by its stream.
pub fn print_entry(
    e: &Entry,
    f: &Filter,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<()> {
    if !f.keeps(e) {
        return Ok(());
    }
    let w: &mut dyn Write = if e.stream == "stderr" { err } else { out };
    if f.timestamps {
        w.write_all(e.time.as_bytes())?;
        w.write_all(b" ")?;
    }
    w.write_all(e.log.as_bytes())?;
    w.flush()
}

/// Parses one log line; damaged lines (a torn write) are skipped.
pub fn parse_line(line: &[u8]) -> Option<Entry> {
    serde_json::from_slice(line).ok()
}

/// Reads complete lines of `path` starting at byte `from`; the offset after
/// the last complete line is returned (a partial last line is left for later).
pub fn read_lines(
    file: &mut std::fs::File,
    from: u64,
    mut each: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> anyhow::Result<u64> {
    use std::io::{BufRead, BufReader, Seek, SeekFrom};
    file.seek(SeekFrom::Start(from))
        .context("seek in the log")?;
    let mut r = BufReader::with_capacity(64 * 1024, &mut *file);
    let mut pos = from;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = r.read_until(b'\n', &mut line).context("read the log")?;
        if n == 0 || line.last() != Some(&b'\n') {
            return Ok(pos);
        }
        pos += n as u64;
        each(&line)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitter_makes_dockers_entries() {
        let mut s = LineSplitter::new("stdout");
        let mut out = Vec::new();
        s.feed(b"one\ntw", &mut out).unwrap();
        s.feed(b"o\nthree", &mut out).unwrap();
        s.finish(&mut out).unwrap();
        let entries: Vec<Entry> = out
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| parse_line(l).unwrap())
            .collect();
        let logs: Vec<&str> = entries.iter().map(|e| e.log.as_str()).collect();
        assert_eq!(logs, ["one\n", "two\n", "three"]);
        assert!(entries.iter().all(|e| e.stream == "stdout"));
        assert!(parse_rfc3339(&entries[0].time).is_some());
    }

    #[test]
    fn long_lines_are_split() {
        let mut s = LineSplitter::new("stderr");
        let mut out = Vec::new();
        let long = vec![b'x'; MAX_LINE * 2 + 10];
        s.feed(&long, &mut out).unwrap();
        s.feed(b"\n", &mut out).unwrap();
        let lens: Vec<usize> = out
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| parse_line(l).unwrap().log.len())
            .collect();
        assert_eq!(lens, [MAX_LINE, MAX_LINE, 11]);
    }

    #[test]
    fn log_opts_and_sizes() {
        assert_eq!(parse_size("10m"), Some(10 << 20));
        assert_eq!(parse_size("512KB"), Some(512 << 10));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("x"), None);
        let o = LogOpts::parse(&["max-size=1k".into(), "max-file=3".into()]).unwrap();
        assert_eq!((o.max_size, o.max_file), (Some(1024), Some(3)));
        for bad in ["max-size=0", "max-file=0", "colour=red", "max-size"] {
            assert!(LogOpts::parse(&[bad.into()]).is_err(), "{bad}");
        }
        assert!(LogOpts::parse(&["max-file=2".into()]).is_err());
    }

    #[test]
    fn rotation_keeps_max_file_files_of_max_size() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("log");
        let opts = LogOpts {
            max_size: Some(100),
            max_file: Some(3),
        };
        let mut log = RotatingLog::open(&p, opts).unwrap();
        let mut s = LineSplitter::new("stdout");
        for i in 0..50 {
            s.feed(format!("line {i}\n").as_bytes(), &mut log).unwrap();
        }
        let files = log_files(&p);
        assert_eq!(files.len(), 3, "{files:?}");
        let mut lines = Vec::new();
        for f in &files {
            assert!(std::fs::metadata(f).unwrap().len() <= 100);
            let mut file = std::fs::File::open(f).unwrap();
            read_lines(&mut file, 0, |l| {
                lines.push(parse_line(l).unwrap().log);
                Ok(())
            })
            .unwrap();
        }
        assert_eq!(lines.last().unwrap(), "line 49\n");
        let n: Vec<u32> = lines
            .iter()
            .map(|l| l.trim()[5..].parse().unwrap())
            .collect();
        assert!(n.windows(2).all(|w| w[1] == w[0] + 1), "in order: {n:?}");
        // One file: truncated in place.
        let p1 = d.path().join("one");
        let mut log = RotatingLog::open(
            &p1,
            LogOpts {
                max_size: Some(100),
                max_file: None,
            },
        )
        .unwrap();
        for i in 0..50 {
            s.feed(format!("line {i}\n").as_bytes(), &mut log).unwrap();
        }
        assert_eq!(log_files(&p1).len(), 1);
        assert!(std::fs::metadata(&p1).unwrap().len() <= 100);
    }

    #[test]
    fn rfc3339_round_trips() {
        let t = 1_795_392_000i64;
        let s = crate::container::rfc3339(t, 123_000_000);
        assert_eq!(
            parse_rfc3339(&s),
            Some(t as i128 * 1_000_000_000 + 123_000_000)
        );
        assert_eq!(
            parse_rfc3339("2026-11-23T02:00:00+02:00"),
            Some(t as i128 * 1_000_000_000)
        );
        for bad in [
            "",
            "2026-11-23",
            "2026-13-01T00:00:00Z",
            "2026-11-23T00:00:00",
            "x".repeat(25).as_str(),
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations_and_time_args() {
        assert_eq!(parse_duration("10m"), Some(600_000_000_000));
        assert_eq!(parse_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(parse_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(parse_duration("300ms"), Some(300_000_000));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("m"), None);
        let now = 1_000_000_000_000_000_000i128;
        assert_eq!(
            parse_time_arg("--since", "1s", now).unwrap(),
            now - 1_000_000_000
        );
        assert_eq!(
            parse_time_arg("--since", "1700000000", now).unwrap(),
            1_700_000_000_000_000_000
        );
        let e = parse_time_arg("--since", "yesterday", now).unwrap_err();
        assert!(e.to_string().contains("--since"), "{e}");
    }
}
