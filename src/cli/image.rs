//! `pull`, `images` / `image ls`, `tag`, `rmi`, `image inspect`, `history`,
//! `image prune`, `push`, `login` and `logout`.

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

#[derive(Debug, Clone, Args)]
pub struct TagArgs {
    /// Image to tag: name, id or id prefix
    #[arg(value_name = "SOURCE_IMAGE[:TAG]")]
    pub source: String,

    /// New name: [REGISTRY/]REPOSITORY[:TAG]
    #[arg(value_name = "TARGET_IMAGE[:TAG]")]
    pub target: String,
}

#[derive(Debug, Clone, Args)]
pub struct RmiArgs {
    /// Remove the image even when a container uses it or it has several names
    #[arg(short = 'f', long = "force")]
    pub force: bool,

    /// Images to remove: names, ids or id prefixes
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// Images to inspect: names, ids or id prefixes
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,

    /// Only show image ids
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,

    /// Image: name, id or id prefix
    #[arg(value_name = "IMAGE")]
    pub image: String,
}

#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Remove all images no container uses, not just dangling ones
    #[arg(short = 'a', long = "all")]
    pub all: bool,

    /// Do not prompt for confirmation
    #[arg(short = 'f', long = "force")]
    pub force: bool,
}

fn store_and_index() -> anyhow::Result<(Store, Index)> {
    let store = Store::open_default()?;
    let index = {
        let _lock = store.lock_index(false)?;
        store.read_index()?
    };
    Ok((store, index))
}

/// `Error: No such image: X` (Docker's wording); the exit status is 1.
fn no_such_image(name: &str) -> i32 {
    eprintln!("Error: No such image: {name}");
    1
}

/// The familiar form of a full tag from images.json.
fn familiar(tag: &str) -> String {
    tag.parse::<Reference>()
        .map(|r| r.familiar())
        .unwrap_or_else(|_| tag.to_string())
}

pub fn tag(args: &TagArgs) -> anyhow::Result<i32> {
    let target: Reference = args
        .target
        .parse()
        .map_err(|e| anyhow::anyhow!("invalid target name {:?}: {e}", args.target))?;
    if target.digest.is_some() {
        anyhow::bail!(
            "invalid target name {:?}: a tag cannot name a digest; give NAME[:TAG]",
            args.target
        );
    }
    let store = Store::open_default()?;
    let found = store.update_index(|index| {
        let Some(id) = index.find(&args.source).map(|i| i.id.clone()) else {
            return Ok(false);
        };
        index.tags.insert(target.to_string(), id);
        Ok(true)
    })?;
    Ok(if found {
        0
    } else {
        no_such_image(&args.source)
    })
}

/// What removing one image did, in Docker's words.
#[derive(Debug, Default)]
struct Removal {
    lines: Vec<String>,
    /// Bytes of unpacked layers no image uses any more.
    reclaimed: u64,
}

/// Deletes the record of `id` and its tags; then garbage is collected by
/// the caller. Lines are added to `out`.
fn delete_image(index: &mut Index, id: &Digest, out: &mut Removal) {
    for t in index.tags_of(id) {
        index.tags.remove(&t);
        out.lines.push(format!("Untagged: {}", familiar(&t)));
    }
    if let Some(img) = index.images.remove(id) {
        for rd in &img.repo_digests {
            let shown = match rd.split_once('@') {
                Some((n, d)) => format!(
                    "{}@{d}",
                    n.parse::<Reference>()
                        .map(|r| r.familiar_name())
                        .unwrap_or_else(|_| n.to_string())
                ),
                None => rd.clone(),
            };
            out.lines.push(format!("Untagged: {shown}"));
        }
        let (_, still) = index.in_use();
        let mut seen = std::collections::BTreeSet::new();
        for l in &img.layers {
            if !still.contains(&l.diff_id) && seen.insert(l.diff_id.clone()) {
                out.reclaimed += if l.unpacked > 0 { l.unpacked } else { l.size };
            }
        }
        out.lines.push(format!("Deleted: {id}"));
    }
}

pub fn rmi(args: &RmiArgs) -> anyhow::Result<i32> {
    let store = Store::open_default()?;
    let data = crate::container::data_dir()?;
    let users = crate::image::store::image_users(&data);
    let mut code = 0;
    let lines = store.update_index(|index| {
        let mut out = Removal::default();
        for name in &args.images {
            let Some(img) = index.find(name).cloned() else {
                code = no_such_image(name);
                continue;
            };
            let tags = index.tags_of(&img.id);
            // A name (not an id) that is one of several tags: untag only.
            let as_tag = name
                .parse::<Reference>()
                .ok()
                .filter(|r| r.digest.is_none())
                .map(|r| r.to_string())
                .filter(|t| index.tags.get(t) == Some(&img.id));
            if let Some(t) = &as_tag {
                if tags.len() > 1 {
                    index.tags.remove(t);
                    out.lines.push(format!("Untagged: {}", familiar(t)));
                    continue;
                }
            } else if tags.len() > 1 && !args.force {
                eprintln!(
                    "Error: conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                    &img.id.hex()[..12]
                );
                code = 1;
                continue;
            }
            let user = users.iter().find(|(_, d)| *d == img.id);
            if let (Some((container, _)), false) = (user, args.force) {
                let short = &container[..container.len().min(12)];
                eprintln!(
                    "Error: conflict: unable to remove image {name} (must be forced) - container {short} is using it; remove the container first, or pass -f",
                );
                code = 1;
                continue;
            }
            delete_image(index, &img.id, &mut out);
        }
        Ok(out.lines)
    });
    // Garbage is collected after the index is saved, so that a crash never
    // leaves a record without its blobs.
    let lines = lines?;
    {
        let _lock = store.lock_index(true)?;
        let index = store.read_index()?;
        store.collect_garbage(&index)?;
    }
    for l in lines {
        println!("{l}");
    }
    Ok(code)
}

fn read_config(store: &Store, img: &ImageRecord) -> anyhow::Result<serde_json::Value> {
    let bytes = store.read_blob(&img.id, crate::image::pull::MAX_CONFIG_BYTES)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| anyhow::anyhow!("the config of {} is not valid JSON: {e}", img.id))
}

fn image_size(img: &ImageRecord) -> u64 {
    img.layers
        .iter()
        .map(|l| if l.unpacked > 0 { l.unpacked } else { l.size })
        .sum()
}

/// `docker image inspect` of one image.
fn inspect_json(
    store: &Store,
    index: &Index,
    img: &ImageRecord,
) -> anyhow::Result<serde_json::Value> {
    use serde_json::{json, Value};
    let config = read_config(store, img)?;
    let c = config.get("config").cloned().unwrap_or(Value::Null);
    let field = |k: &str| c.get(k).cloned().unwrap_or(Value::Null);
    let text = |k: &str| c.get(k).cloned().unwrap_or_else(|| json!(""));
    let top = |k: &str| config.get(k).cloned().unwrap_or_else(|| json!(""));
    let repo_digests: Vec<String> = img
        .repo_digests
        .iter()
        .map(|rd| match rd.split_once('@') {
            Some((n, d)) => format!(
                "{}@{d}",
                n.parse::<Reference>()
                    .map(|r| r.familiar_name())
                    .unwrap_or_else(|_| n.to_string())
            ),
            None => rd.clone(),
        })
        .collect();
    let mut v = json!({
        "Id": img.id.to_string(),
        "RepoTags": index.tags_of(&img.id).iter().map(|t| familiar(t)).collect::<Vec<_>>(),
        "RepoDigests": repo_digests,
        "Parent": "",
        "Comment": config.get("comment").cloned().unwrap_or_else(|| json!("")),
        "Created": top("created"),
        "Author": top("author"),
        "Config": {
            "User": text("User"),
            "ExposedPorts": field("ExposedPorts"),
            "Env": field("Env"),
            "Cmd": field("Cmd"),
            "Volumes": field("Volumes"),
            "WorkingDir": text("WorkingDir"),
            "Entrypoint": field("Entrypoint"),
            "Labels": field("Labels"),
            "StopSignal": field("StopSignal"),
        },
        "Architecture": top("architecture"),
        "Os": top("os"),
        "Size": image_size(img),
        "RootFS": {
            "Type": config.pointer("/rootfs/type").cloned().unwrap_or_else(|| json!("layers")),
            "Layers": img.layers.iter().map(|l| l.diff_id.to_string()).collect::<Vec<_>>(),
        },
        "Metadata": { "LastTagTime": img.added },
    });
    if let Some(variant) = config.get("variant") {
        v["Variant"] = variant.clone();
    }
    for k in ["ExposedPorts", "Volumes", "StopSignal", "Labels"] {
        if v["Config"][k].is_null() {
            if let Some(o) = v["Config"].as_object_mut() {
                o.remove(k);
            }
        }
    }
    Ok(v)
}

pub fn inspect(args: &InspectArgs) -> anyhow::Result<i32> {
    let (store, index) = store_and_index()?;
    let mut out = Vec::new();
    let mut code = 0;
    for name in &args.images {
        match index.find(name) {
            Some(img) => out.push(inspect_json(&store, &index, img)?),
            None => code = no_such_image(name),
        }
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(code)
}

pub fn history(args: &HistoryArgs) -> anyhow::Result<i32> {
    let (store, index) = store_and_index()?;
    let Some(img) = index.find(&args.image) else {
        return Ok(no_such_image(&args.image));
    };
    let config = read_config(&store, img)?;
    let entries = config
        .get("history")
        .and_then(|h| h.as_array())
        .cloned()
        .unwrap_or_default();
    let mut layers = img.layers.iter();
    let mut rows = Vec::new();
    for e in &entries {
        let empty = e
            .get("empty_layer")
            .and_then(|b| b.as_bool())
            .unwrap_or(false);
        let size = if empty {
            0
        } else {
            layers
                .next()
                .map_or(0, |l| if l.unpacked > 0 { l.unpacked } else { l.size })
        };
        let s = |k: &str| e.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        rows.push((s("created"), s("created_by"), size, s("comment")));
    }
    rows.reverse();
    let id = if args.no_trunc {
        img.id.to_string()
    } else {
        img.id.hex()[..12].to_string()
    };
    let ids = (0..rows.len()).map(|i| {
        if i == 0 {
            id.clone()
        } else {
            "<missing>".to_string()
        }
    });
    if args.quiet {
        for i in ids {
            println!("{i}");
        }
        return Ok(0);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut lines = vec![["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()];
    for (i, (created, by, size, comment)) in ids.zip(rows) {
        let by = by.replace(['\n', '\t'], " ");
        let by = if args.no_trunc || by.chars().count() <= 45 {
            by
        } else {
            by.chars().take(44).collect::<String>() + "…"
        };
        lines.push(vec![i, ago(&created, now), by, human_size(size), comment]);
    }
    print_table(&lines);
    Ok(0)
}

/// Asks on the terminal; refuses when stdin is not one.
pub(crate) fn confirm(warning: &str) -> anyhow::Result<bool> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return Err(crate::error::ExitError::new(
            1,
            format!(
                "{warning} Standard input is not a terminal to confirm on: pass -f to go ahead"
            ),
        )
        .into());
    }
    print!("WARNING! {warning}\nAre you sure you want to continue? [y/N] ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "Yes" | "YES"))
}

pub fn prune(args: &PruneArgs) -> anyhow::Result<i32> {
    let warning = if args.all {
        "This will remove all images without at least one container associated to them."
    } else {
        "This will remove all dangling images."
    };
    if !args.force && !confirm(warning)? {
        return Ok(0);
    }
    let store = Store::open_default()?;
    let used = crate::image::store::images_in_use(&crate::container::data_dir()?);
    let removal = store.update_index(|index| {
        let victims: Vec<Digest> = if args.all {
            index.images.keys().cloned().collect()
        } else {
            index.untagged()
        };
        let mut out = Removal::default();
        for id in victims.iter().filter(|id| !used.contains(id)) {
            delete_image(index, id, &mut out);
        }
        Ok(out)
    })?;
    {
        let _lock = store.lock_index(true)?;
        let index = store.read_index()?;
        store.collect_garbage(&index)?;
    }
    if !removal.lines.is_empty() {
        println!("Deleted Images:");
        for l in &removal.lines {
            // Docker's prune lists them in lowercase.
            let l = l
                .replacen("Untagged: ", "untagged: ", 1)
                .replacen("Deleted: ", "deleted: ", 1);
            println!("{l}");
        }
        println!();
    }
    println!("Total reclaimed space: {}", human_size(removal.reclaimed));
    Ok(0)
}

#[derive(Debug, Clone, Args)]
pub struct PushArgs {
    /// Image to push: NAME[:TAG] (its registry is part of the name)
    #[arg(value_name = "NAME[:TAG]")]
    pub image: String,

    /// Print only the digest
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,

    /// Allow plain HTTP and unverified registries for this push (like Podman's --tls-verify=false)
    #[arg(long = "tls-verify", value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub tls_verify: bool,
}

#[derive(Debug, Clone, Args)]
pub struct LoginArgs {
    /// User name
    #[arg(short = 'u', long = "username", value_name = "USER")]
    pub username: Option<String>,

    /// Password (visible to other users in the process list: prefer --password-stdin)
    #[arg(short = 'p', long = "password", value_name = "PASSWORD")]
    pub password: Option<String>,

    /// Read the password from standard input
    #[arg(long = "password-stdin", conflicts_with = "password")]
    pub password_stdin: bool,

    /// Allow plain HTTP and unverified registries (like Podman's --tls-verify=false)
    #[arg(long = "tls-verify", value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub tls_verify: bool,

    /// Registry (default: docker.io)
    #[arg(value_name = "SERVER")]
    pub server: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct LogoutArgs {
    /// Registry (default: docker.io)
    #[arg(value_name = "SERVER")]
    pub server: Option<String>,
}

pub fn push(args: &PushArgs) -> anyhow::Result<i32> {
    let reference: Reference = args
        .image
        .parse()
        .map_err(|e| anyhow::anyhow!("invalid image name {:?}: {e}", args.image))?;
    if reference.digest.is_some() {
        anyhow::bail!(
            "push {}: push by tag (NAME[:TAG]); a digest names what is already in the registry",
            args.image
        );
    }
    let (store, index) = store_and_index()?;
    let Some(img) = index
        .tags
        .get(&reference.to_string())
        .and_then(|id| index.images.get(id))
        .cloned()
    else {
        eprintln!(
            "Error: No such image: {} (tag an image with that name first: coracle tag IMAGE {})",
            reference.familiar(),
            reference.familiar()
        );
        return Ok(1);
    };
    let client = client(args.tls_verify)?;
    let opts = crate::image::push::PushOptions { quiet: args.quiet };
    let digest = crate::image::push::push(&store, &client, &reference, &img, &opts)?;
    let rd = format!("{}@{digest}", reference.name());
    store.update_index(|index| {
        if let Some(rec) = index.images.get_mut(&img.id) {
            if !rec.repo_digests.contains(&rd) {
                rec.repo_digests.push(rd.clone());
            }
        }
        Ok(())
    })?;
    if args.quiet {
        println!("{digest}");
    }
    Ok(0)
}

/// Reads a line from the terminal, without echo when `secret`.
fn prompt(label: &str, secret: bool) -> anyhow::Result<String> {
    use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
    use std::io::{BufRead, Write};
    let stdin = std::io::stdin();
    let saved = if secret {
        let old =
            tcgetattr(&stdin).map_err(|e| anyhow::anyhow!("read the terminal settings: {e}"))?;
        let mut quiet = old.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        quiet.local_flags.insert(LocalFlags::ECHONL);
        tcsetattr(&stdin, SetArg::TCSAFLUSH, &quiet)
            .map_err(|e| anyhow::anyhow!("turn off the terminal echo: {e}"))?;
        Some(old)
    } else {
        None
    };
    // The prompt comes after echo is off: what is typed once it shows is hidden.
    eprint!("{label}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(old) = saved {
        let _ = tcsetattr(&stdin, SetArg::TCSAFLUSH, &old);
    }
    read?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

pub fn login(args: &LoginArgs) -> anyhow::Result<i32> {
    use std::io::{IsTerminal, Read};
    let server = args.server.as_deref().unwrap_or("docker.io");
    let key = crate::image::auth::registry_key(server)?;
    let path = crate::image::auth::default_path()?;
    let tty = std::io::stdin().is_terminal();
    if args.password.is_some() {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
    }
    let password = if args.password_stdin {
        anyhow::ensure!(
            args.username.is_some(),
            "--password-stdin needs the user name: give it with -u USER"
        );
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| anyhow::anyhow!("read the password from standard input: {e}"))?;
        Some(s.trim_end_matches(['\n', '\r']).to_string())
    } else {
        args.password.clone()
    };
    let user = match &args.username {
        Some(u) => u.clone(),
        None if tty => prompt("Username: ", false)?,
        None => anyhow::bail!(
            "cannot perform an interactive login from a non-terminal: give -u USER and --password-stdin"
        ),
    };
    let password = match password {
        Some(p) => p,
        None if tty => prompt("Password: ", true)?,
        None => anyhow::bail!(
            "cannot perform an interactive login from a non-terminal: give the password with --password-stdin"
        ),
    };
    anyhow::ensure!(!user.is_empty(), "the user name is empty");
    anyhow::ensure!(!password.is_empty(), "the password is empty");
    let client = client(args.tls_verify)?;
    if let Err(e) = client.check_login(&key, &user, &password) {
        eprintln!("Error: {e}");
        return Ok(1);
    }
    // As Docker: a credential helper configured for the registry keeps the
    // credentials; otherwise coracle's auth file does.
    match RegistryConfig::load()?.credential_helper(&key)? {
        Some((helper, file)) => {
            crate::image::auth::helper_store(&helper, &key, &user, &password, &file)?;
            // An entry of ours would hide the helper's.
            crate::image::auth::remove(&path, &key)?;
        }
        None => crate::image::auth::store(&path, &key, &user, &password)?,
    }
    println!("Login Succeeded");
    Ok(0)
}

pub fn logout(args: &LogoutArgs) -> anyhow::Result<i32> {
    let server = args.server.as_deref().unwrap_or("docker.io");
    let key = crate::image::auth::registry_key(server)?;
    let path = crate::image::auth::default_path()?;
    let mut removed = crate::image::auth::remove(&path, &key)?;
    // And what a Docker credential helper keeps for it, as Docker does.
    if let Some((helper, file)) = RegistryConfig::load()?.credential_helper(&key)? {
        removed |= crate::image::auth::helper_erase(&helper, &key, &file)?;
    }
    if removed {
        println!("Removed login credentials for {key}");
    } else {
        println!("Not logged in to {key}");
    }
    Ok(0)
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
