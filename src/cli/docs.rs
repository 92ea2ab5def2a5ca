//! Man pages and shell completions, generated from the CLI definition.
//!
//! `cargo run --bin coracle-gendoc` rewrites `man/` and `completions/`; a test
//! fails when the committed copies are stale.

use std::fs;
use std::path::Path;

use anyhow::Context;
use clap_complete::Shell;

/// Writes `DIR/man/*.1` and `DIR/completions/{coracle.bash,_coracle,coracle.fish}`.
pub fn generate(dir: &Path) -> anyhow::Result<()> {
    let man = dir.join("man");
    let comp = dir.join("completions");
    fs::create_dir_all(&man).with_context(|| format!("create {}", man.display()))?;
    fs::create_dir_all(&comp).with_context(|| format!("create {}", comp.display()))?;
    let cmd = super::command();
    write_man(&cmd, "coracle", &man)?;
    for (shell, file) in [
        (Shell::Bash, "coracle.bash"),
        (Shell::Zsh, "_coracle"),
        (Shell::Fish, "coracle.fish"),
    ] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut super::command(), "coracle", &mut buf);
        let path = comp.join(file);
        fs::write(&path, buf).with_context(|| format!("write {}", path.display()))?;
    }
    Ok(())
}

/// One page per command, `coracle-container-run.1` style, recursively.
fn write_man(cmd: &clap::Command, name: &str, dir: &Path) -> anyhow::Result<()> {
    let cmd = cmd
        .clone()
        .name(name.to_string())
        .bin_name(name.replace('-', " "));
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut buf)
        .with_context(|| format!("render man page {name}"))?;
    let path = dir.join(format!("{name}.1"));
    fs::write(&path, buf).with_context(|| format!("write {}", path.display()))?;
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        write_man(sub, &format!("{name}-{}", sub.get_name()), dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The committed man pages and completions match the CLI definition.
    #[test]
    fn committed_docs_are_fresh() {
        let tmp = tempfile::tempdir().unwrap();
        super::generate(tmp.path()).unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for sub in ["man", "completions"] {
            let mut want: Vec<_> = std::fs::read_dir(tmp.path().join(sub))
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            want.sort();
            let mut have: Vec<_> = std::fs::read_dir(root.join(sub))
                .map(|rd| rd.map(|e| e.unwrap().file_name()).collect())
                .unwrap_or_default();
            have.sort();
            assert_eq!(
                want, have,
                "{sub}/ is stale: run `cargo run --bin coracle-gendoc`"
            );
            for f in want {
                let a = std::fs::read(tmp.path().join(sub).join(&f)).unwrap();
                let b = std::fs::read(root.join(sub).join(&f)).unwrap();
                assert!(
                    a == b,
                    "{sub}/{} is stale: run `cargo run --bin coracle-gendoc`",
                    f.to_string_lossy()
                );
            }
        }
    }
}
