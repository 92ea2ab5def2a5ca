//! `pull`, `images` / `image ls`.

use clap::{Args, ValueEnum};

use crate::image::digest::Digest;
use crate::image::reference::Reference;
use crate::image::registry::{Client, Platform, RegistryConfig};
use crate::image::store::{ImageRecord, Index, Store};

#[derive(Debug, Clone, Args)]
pub struct PullArgs {
    /// Image to pull: NAME[:TAG] or NAME@DIGEST
    #[arg(value_name = "IMAGE")]
    pub image: String,

    /// Platform to pull from a multi-platform image: os/arch[/variant] (default: this host's)
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,

    /// Print only the image name
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,

    /// Allow plain HTTP and unverified registries for this pull (like Podman's --tls-verify=false)
    #[arg(long = "tls-verify", value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub tls_verify: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct ImagesArgs {
    /// Show all images (coracle keeps no intermediate images, so the same as without)
    #[arg(short = 'a', long = "all")]
    pub all: bool,

    /// Only show image ids
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,

    /// Show digests
    #[arg(long = "digests")]
    pub digests: bool,

    /// Don't truncate ids
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,

    /// Output format
    #[arg(long = "format", value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Only images whose name matches this repository[:tag]
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub filter: Option<String>,
}

/// The platform asked for, or the host's.
pub fn platform(arg: Option<&str>) -> anyhow::Result<Platform> {
    match arg {
        Some(p) => p
            .parse()
            .map_err(|e| anyhow::anyhow!("--platform {p:?}: {e}")),
        None => Ok(Platform::host()),
    }
}

/// A registry client from the user's configuration.
pub fn client(tls_verify: bool) -> anyhow::Result<Client> {
    let mut cfg = RegistryConfig::load()?;
    cfg.tls_verify = cfg.tls_verify && tls_verify;
    Ok(Client::new(cfg))
}

/// Pulls `image` into `store` and returns its record.
pub fn pull_image(
    store: &Store,
    image: &str,
    platform: Platform,
    quiet: bool,
    tls_verify: bool,
) -> anyhow::Result<ImageRecord> {
    let reference: Reference = image
        .parse()
        .map_err(|e| anyhow::anyhow!("invalid image name {image:?}: {e}"))?;
    let client = client(tls_verify)?;
    let opts = crate::image::pull::PullOptions { platform, quiet };
    crate::image::pull::pull(store, &client, &reference, &opts)
}

pub fn pull(args: &PullArgs) -> anyhow::Result<i32> {
    let store = Store::open_default()?;
    let reference: Reference = args
        .image
        .parse()
        .map_err(|e| anyhow::anyhow!("invalid image name {:?}: {e}", args.image))?;
    pull_image(
        &store,
        &args.image,
        platform(args.platform.as_deref())?,
        args.quiet,
        args.tls_verify,
    )?;
    println!("{reference}");
    Ok(0)
}

/// One row of `images`.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct Row {
    repository: String,
    tag: String,
    id: String,
    digest: String,
    created: String,
    size: u64,
}

fn rows(store: &Store, index: &Index, filter: Option<&str>) -> Vec<Row> {
    let mut out = Vec::new();
    for img in index.images.values() {
        let config = store
            .read_blob(&img.id, crate::image::pull::MAX_CONFIG_BYTES)
            .ok();
        let created = config
            .as_deref()
            .and_then(|c| serde_json::from_slice::<serde_json::Value>(c).ok())
            .and_then(|v| {
                v.get("created")
                    .and_then(|c| c.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_default();
        let size = img
            .layers
            .iter()
            .map(|l| if l.unpacked > 0 { l.unpacked } else { l.size })
            .sum();
        let digest = img.manifest.to_string();
        let tags = index.tags_of(&img.id);
        let names: Vec<(String, String)> = if tags.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            tags.iter()
                .filter_map(|t| t.parse::<Reference>().ok())
                .map(|r| {
                    let fam = r.familiar();
                    let repo = match fam.rsplit_once(':') {
                        Some((repo, tag)) if !tag.contains('/') => repo.to_string(),
                        _ => fam.clone(),
                    };
                    (repo, r.tag.clone().unwrap_or_else(|| "<none>".into()))
                })
                .collect()
        };
        for (repository, tag) in names {
            if let Some(f) = filter {
                let (frepo, ftag) = match f.rsplit_once(':') {
                    Some((r, t)) if !t.contains('/') => (r, Some(t)),
                    _ => (f, None),
                };
                let full = frepo
                    .parse::<Reference>()
                    .map(|r| r.familiar())
                    .unwrap_or_default();
                let frepo_norm = full.rsplit_once(':').map_or(full.as_str(), |(r, _)| r);
                if repository != frepo && repository != frepo_norm {
                    continue;
                }
                if ftag.is_some_and(|t| t != tag) {
                    continue;
                }
            }
            out.push(Row {
                repository,
                tag,
                id: img.id.to_string(),
                digest: digest.clone(),
                created: created.clone(),
                size,
            });
        }
    }
    out.sort_by(|a, b| {
        b.created
            .cmp(&a.created)
            .then(a.repository.cmp(&b.repository))
    });
    out
}

/// "3 days ago", as Docker prints creation times.
pub fn ago(rfc3339: &str, now_secs: i64) -> String {
    let Some(t) = parse_rfc3339(rfc3339) else {
        return "N/A".into();
    };
    let d = (now_secs - t).max(0);
    let (n, unit) = match d {
        0..=59 => (d, "second"),
        60..=3599 => (d / 60, "minute"),
        3600..=86399 => (d / 3600, "hour"),
        86400..=1209599 => (d / 86400, "day"),
        1209600..=5183999 => (d / 604800, "week"),
        5184000..=63071999 => (d / 2592000, "month"),
        _ => (d / 31536000, "year"),
    };
    if n == 1 {
        format!("{} {unit} ago", if unit == "hour" { "An" } else { "1" })
    } else {
        format!("{n} {unit}s ago")
    }
}

/// Seconds since the epoch of an RFC 3339 time (fraction and offset allowed).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ')
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Days from civil (Howard Hinnant).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let mut secs = days * 86400 + h * 3600 + mi * 60 + se;
    let rest = &s[19..];
    let rest = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    if let Some(off) = rest.strip_prefix(['+', '-']) {
        let sign = if rest.starts_with('-') { -1 } else { 1 };
        let oh: i64 = off.get(0..2)?.parse().ok()?;
        let om: i64 = off.get(3..5)?.parse().ok()?;
        secs -= sign * (oh * 3600 + om * 60);
    }
    Some(secs)
}

/// Sizes as Docker prints them (powers of 1000).
pub fn human_size(n: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1000.0 && i < units.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{n}B")
    } else {
        format!("{:.3}", v)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
            + units[i]
    }
}

pub fn images(args: &ImagesArgs) -> anyhow::Result<i32> {
    let store = Store::open_default()?;
    let index = {
        let _lock = store.lock_index(false)?;
        store.read_index()?
    };
    let rows = rows(&store, &index, args.filter.as_deref());
    let short = |d: &str| -> String {
        let d: Digest = match d.parse() {
            Ok(d) => d,
            Err(_) => return d.to_string(),
        };
        if args.no_trunc {
            d.to_string()
        } else {
            d.hex()[..12].to_string()
        }
    };
    if args.quiet {
        let mut seen = std::collections::BTreeSet::new();
        for r in &rows {
            if seen.insert(r.id.clone()) {
                println!("{}", short(&r.id));
            }
        }
        return Ok(0);
    }
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Table => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            let mut lines = vec![{
                let mut h = vec!["REPOSITORY", "TAG"];
                if args.digests {
                    h.push("DIGEST");
                }
                h.extend(["IMAGE ID", "CREATED", "SIZE"]);
                h.iter().map(|s| s.to_string()).collect::<Vec<_>>()
            }];
            for r in &rows {
                let mut l = vec![r.repository.clone(), r.tag.clone()];
                if args.digests {
                    l.push(r.digest.clone());
                }
                l.extend([short(&r.id), ago(&r.created, now), human_size(r.size)]);
                lines.push(l);
            }
            print_table(&lines);
        }
    }
    Ok(0)
}

/// Left-aligned columns separated by three spaces, as Docker prints them.
pub fn print_table(lines: &[Vec<String>]) {
    let cols = lines.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            lines
                .iter()
                .filter_map(|l| l.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for l in lines {
        let mut out = String::new();
        for (i, cell) in l.iter().enumerate() {
            if i + 1 == l.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}   ", w = widths[i]));
            }
        }
        println!("{}", out.trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_sizes_as_docker_prints_them() {
        let t = parse_rfc3339("2026-11-23T00:00:00Z").unwrap();
        assert_eq!(t, 1795392000);
        assert_eq!(parse_rfc3339("2026-11-23T01:00:00.123+01:00").unwrap(), t);
        assert_eq!(ago("2026-11-23T00:00:00Z", t + 3 * 86400), "3 days ago");
        assert_eq!(ago("2026-11-23T00:00:00Z", t + 3600), "An hour ago");
        assert_eq!(ago("garbage", t), "N/A");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(4_260_000), "4.26MB");
        assert_eq!(human_size(1_000_000), "1MB");
        assert!(parse_rfc3339("2026-11-2").is_none());
        assert!(parse_rfc3339("2026-11-23T00:00:0é").is_none());
    }
}
