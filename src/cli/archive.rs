//! `save`, `load`, `import`: images to and from tar archives.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};

use crate::image::archive::{self, ArchiveFormat};
use crate::image::reference::Reference;
use crate::image::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    DockerArchive,
    OciArchive,
}

#[derive(Debug, Clone, Args)]
pub struct SaveArgs {
    /// Images to save (names or ids)
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,

    /// Write to a file instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Archive format
    #[arg(long = "format", value_enum, default_value_t = FormatArg::DockerArchive)]
    pub format: FormatArg,
}

#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// Read from a file instead of standard input (docker-archive or oci-archive, plain, gzip or zstd)
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    pub input: Option<PathBuf>,

    /// Print only the loaded names
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// A root file system tarball (plain, gzip or zstd), or - for standard input
    #[arg(value_name = "FILE|-")]
    pub file: String,

    /// Name of the new image
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub name: Option<String>,

    /// Apply a Dockerfile instruction to the image's config (CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL)
    #[arg(short = 'c', long = "change", value_name = "INSTRUCTION")]
    pub change: Vec<String>,
}

pub fn save(args: &SaveArgs) -> anyhow::Result<i32> {
    let store = Store::open_default()?;
    let index = {
        let _lock = store.lock_index(false)?;
        store.read_index()?
    };
    let mut images = Vec::new();
    for name in &args.images {
        let Some(rec) = index.find(name) else {
            bail!("no such image: {name} (see `coracle images`)");
        };
        // The names to record: the one asked for when it is a name, else
        // every tag of the image.
        let names = match name.parse::<Reference>() {
            Ok(r) if index.tags.get(&r.to_string()) == Some(&rec.id) => vec![r.to_string()],
            _ => index.tags_of(&rec.id),
        };
        images.push((rec.clone(), names));
    }
    let format = match args.format {
        FormatArg::DockerArchive => ArchiveFormat::DockerArchive,
        FormatArg::OciArchive => ArchiveFormat::OciArchive,
    };
    write_archive(args.output.as_deref(), "save", |w| {
        archive::save(&store, &images, format, w)?;
        Ok(())
    })?;
    Ok(0)
}

/// Writes an archive to `output`, or to stdout (never to a terminal).
/// A file is written next to its target and renamed: a failed `what`
/// never leaves a truncated archive under the asked-for name.
pub(crate) fn write_archive(
    output: Option<&std::path::Path>,
    what: &str,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let tmp = dir.join(format!(
                ".{}.coracle-{what}-{}",
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                std::process::id()
            ));
            let file =
                std::fs::File::create(&tmp).with_context(|| format!("create {}", tmp.display()))?;
            let result = (|| {
                let mut w = std::io::BufWriter::new(file);
                write(&mut w)?;
                w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
                std::fs::rename(&tmp, path).with_context(|| format!("write {}", path.display()))
            })();
            if result.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            result
        }
        None => {
            let stdout = std::io::stdout();
            if stdout.is_terminal() {
                bail!("refusing to write an archive to a terminal: use -o FILE or redirect the output");
            }
            let mut w = std::io::BufWriter::new(stdout.lock());
            write(&mut w)?;
            w.flush()?;
            Ok(())
        }
    }
}

pub fn load(args: &LoadArgs) -> anyhow::Result<i32> {
    let store = Store::open_default()?;
    let input: Box<dyn Read> = match &args.input {
        Some(p) => {
            Box::new(std::fs::File::open(p).with_context(|| format!("open {}", p.display()))?)
        }
        None => {
            if std::io::stdin().is_terminal() {
                bail!("no archive on standard input: use -i FILE or redirect an archive into coracle load");
            }
            Box::new(std::io::stdin().lock())
        }
    };
    let loaded = archive::load(&store, std::io::BufReader::new(input))?;
    for (rec, names) in loaded {
        if names.is_empty() {
            println!("Loaded image ID: {}", rec.id);
        }
        for n in names {
            let shown = n.parse::<Reference>().map(|r| r.familiar()).unwrap_or(n);
            if args.quiet {
                println!("{shown}");
            } else {
                println!("Loaded image: {shown}");
            }
        }
    }
    Ok(0)
}

pub fn import(args: &ImportArgs) -> anyhow::Result<i32> {
    let store = Store::open_default()?;
    let name = match &args.name {
        Some(n) => Some(
            n.parse::<Reference>()
                .map_err(|e| anyhow::anyhow!("invalid image name {n:?}: {e}"))?,
        ),
        None => None,
    };
    // Check the changes before reading anything.
    archive::apply_changes(&mut serde_json::Map::new(), &args.change)?;
    let input: Box<dyn Read> = if args.file == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(&args.file).with_context(|| format!("open {}", args.file))?)
    };
    let rec = archive::import(
        &store,
        std::io::BufReader::new(input),
        &args.change,
        name.as_ref(),
    )?;
    println!("{}", rec.id);
    Ok(0)
}
