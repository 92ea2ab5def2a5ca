//! `diff`, `commit`, `export` and `cp`: a container's file system.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde_json::{json, Value};

use crate::container::changes::{self, Root};
use crate::container::cp::{self, ContainerFs};
use crate::image::reference::Reference;

#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// Container name or id (prefix)
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

#[derive(Debug, Clone, Args)]
pub struct CommitArgs {
    /// Author (e.g. "Jane Doe <jane@example.com>")
    #[arg(short = 'a', long = "author", value_name = "AUTHOR")]
    pub author: Option<String>,

    /// Apply a Dockerfile instruction to the image's config (CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL)
    #[arg(short = 'c', long = "change", value_name = "INSTRUCTION")]
    pub change: Vec<String>,

    /// Commit message
    #[arg(short = 'm', long = "message", value_name = "MESSAGE")]
    pub message: Option<String>,

    /// Pause the container during commit (accepted for Docker compatibility;
    /// the container's files are read as they are)
    #[arg(short = 'p', long = "pause", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub pause: bool,

    /// Container name or id (prefix)
    #[arg(value_name = "CONTAINER")]
    pub container: String,

    /// Name of the new image
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Write to a file instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Container name or id (prefix)
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Use '-' as the source to read a tar archive from standard input and \
                  extract it to a directory destination in a container. Use '-' as the \
                  destination to write a tar archive of the container source to standard output."
)]
pub struct CpArgs {
    /// Archive mode (copy all uid/gid information)
    #[arg(short = 'a', long = "archive")]
    pub archive: bool,

    /// Always follow symbol link in SRC_PATH
    #[arg(short = 'L', long = "follow-link")]
    pub follow: bool,

    /// CONTAINER:SRC_PATH, a host path or -
    #[arg(value_name = "SRC")]
    pub src: String,

    /// CONTAINER:DEST_PATH, a host path or -
    #[arg(value_name = "DEST")]
    pub dest: String,
}

pub fn diff(args: &DiffArgs) -> anyhow::Result<i32> {
    let c = crate::container::resolve(&args.container)?;
    let root = Root::open(&c)?;
    let (_, _, layers) = changes::image_layers(&c)?;
    let list = root.diff(&layers)?;
    let mut out = std::io::stdout().lock();
    for ch in list {
        writeln!(out, "{} {}", ch.kind.letter(), ch.shown())?;
    }
    Ok(0)
}

pub fn commit(args: &CommitArgs) -> anyhow::Result<i32> {
    let name = match &args.name {
        Some(n) => Some(
            n.parse::<Reference>()
                .map_err(|e| anyhow::anyhow!("invalid image name {n:?}: {e}"))?,
        ),
        None => None,
    };
    // Check the changes before reading anything.
    crate::image::archive::apply_changes(&mut serde_json::Map::new(), &args.change)?;
    let c = crate::container::resolve(&args.container)?;
    let root = Root::open(&c)?;
    let (store, base, layers) = changes::image_layers(&c)?;
    let base_config = store.read_blob(&base.id, crate::image::pull::MAX_CONFIG_BYTES)?;
    let mut config: Value = serde_json::from_slice(&base_config)
        .with_context(|| format!("the config of image {} is not valid JSON", base.id))?;
    let now = crate::container::now();
    // As Docker: the container's own config becomes the image's, then
    // the changes apply.
    let mut cfg = config["config"].as_object().cloned().unwrap_or_default();
    let r = &c.record;
    if !r.cmd.is_empty() {
        cfg.insert("Cmd".into(), json!(r.cmd));
    }
    if !r.entrypoint.is_empty() {
        cfg.insert("Entrypoint".into(), json!(r.entrypoint));
    }
    if !r.env.is_empty() {
        cfg.insert("Env".into(), json!(r.env));
    }
    if !r.working_dir.is_empty() {
        cfg.insert("WorkingDir".into(), json!(r.working_dir));
    }
    if !r.user.is_empty() {
        cfg.insert("User".into(), json!(r.user));
    }
    if !r.labels.is_empty() {
        let labels = cfg.entry("Labels").or_insert_with(|| json!({}));
        if !labels.is_object() {
            *labels = json!({});
        }
        for (k, v) in &r.labels {
            labels[k] = json!(v);
        }
    }
    crate::image::archive::apply_changes(&mut cfg, &args.change)?;
    config["config"] = Value::Object(cfg);
    config["created"] = json!(now);
    config["container"] = json!(r.id);
    match &args.author {
        Some(a) => config["author"] = json!(a),
        None => {
            if let Some(o) = config.as_object_mut() {
                o.remove("author");
            }
        }
    }
    let mut entry = json!({
        "created": now,
        "created_by": std::iter::once(r.path.clone()).chain(r.args.iter().cloned()).collect::<Vec<_>>().join(" "),
    });
    if let Some(a) = &args.author {
        entry["author"] = json!(a);
    }
    if let Some(m) = &args.message {
        entry["comment"] = json!(m);
    }
    if !config["history"].is_array() {
        config["history"] = json!([]);
    }
    if let Some(h) = config["history"].as_array_mut() {
        h.push(entry);
    }
    let list = root.diff(&layers)?;
    let rec = crate::image::archive::commit(
        &store,
        &base,
        |w| {
            root.write_layer(&list, w)?;
            Ok(())
        },
        config,
        name.as_ref(),
    )?;
    println!("{}", rec.id);
    Ok(0)
}

pub fn export(args: &ExportArgs) -> anyhow::Result<i32> {
    let c = crate::container::resolve(&args.container)?;
    super::archive::write_archive(args.output.as_deref(), "export", |w| {
        changes::export(&c, w)?;
        Ok(())
    })?;
    Ok(0)
}

/// `CONTAINER:PATH` → (container, path); a host path otherwise. As Docker:
/// a path with a `/` before the first `:` (or starting with `.`) is local.
fn split_container(s: &str) -> Option<(&str, &str)> {
    if s == "-" || s.starts_with('/') || s.starts_with('.') {
        return None;
    }
    let (c, p) = s.split_once(':')?;
    if c.is_empty() || c.contains('/') {
        return None;
    }
    Some((c, if p.is_empty() { "/" } else { p }))
}

pub fn cp(args: &CpArgs) -> anyhow::Result<i32> {
    let src = split_container(&args.src);
    let dest = split_container(&args.dest);
    match (src, dest) {
        // Docker's CLI refuses both before looking anything up, exit 1.
        (Some(_), Some(_)) => {
            return Err(crate::error::ExitError::new(
                1,
                "copying between containers is not supported: copy to the host first",
            )
            .into())
        }
        (None, None) => {
            return Err(crate::error::ExitError::new(
                1,
                "must specify at least one container source: SRC or DEST must be CONTAINER:PATH",
            )
            .into())
        }
        (Some((c, p)), None) => {
            let c = crate::container::resolve(c)?;
            let fs = ContainerFs::open(&c)?;
            cp::copy_out(&fs, p, &args.dest, args.follow)?;
        }
        (None, Some((c, p))) => {
            let c = crate::container::resolve(c)?;
            if c.running()
                && crate::storage::StorageRecord::read(&c.dir)?
                    .is_some_and(|r| r.driver == crate::storage::Driver::FuseOverlay)
            {
                anyhow::bail!(
                    "container {} runs on the fuse-overlay storage driver, whose daemon would not see files copied in while it runs: stop it first (coracle stop {}), or copy from inside it",
                    c.record.name,
                    c.record.name
                );
            }
            let fs = ContainerFs::open(&c)?;
            cp::copy_in(&fs, &args.src, p, args.archive, args.follow)?;
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_paths_are_told_from_host_paths() {
        assert_eq!(split_container("c:/etc"), Some(("c", "/etc")));
        assert_eq!(split_container("c:"), Some(("c", "/")));
        assert_eq!(split_container("c:rel"), Some(("c", "rel")));
        assert_eq!(split_container("./c:/etc"), None);
        assert_eq!(split_container("/tmp/c:x"), None);
        assert_eq!(split_container("dir/c:x"), None);
        assert_eq!(split_container("-"), None);
        assert_eq!(split_container("plain"), None);
    }
}
