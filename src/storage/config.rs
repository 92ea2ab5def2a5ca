//! `$XDG_CONFIG_HOME/coracle/coracle.toml`: the user's defaults.
//!
//! ```toml
//! storage_driver = "vfs"   # or "overlay", "fuse-overlay"
//! ```

use std::path::PathBuf;

use anyhow::Context;
use serde::Deserialize;

use super::Driver;

#[derive(Debug, Default, Deserialize)]
pub struct Config {
    /// The storage driver for new containers.
    #[serde(default, deserialize_with = "driver")]
    pub storage_driver: Option<Driver>,
}

fn driver<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Driver>, D::Error> {
    let s = String::deserialize(d)?;
    Driver::parse(&s).map(Some).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "unknown storage_driver {s:?}: expected \"overlay\", \"fuse-overlay\" or \"vfs\""
        ))
    })
}

impl Config {
    /// The file: `$XDG_CONFIG_HOME/coracle/coracle.toml` (an absolute
    /// XDG_CONFIG_HOME), else `~/.config/coracle/coracle.toml`.
    pub fn path() -> Option<PathBuf> {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let config_home = var("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| {
                var("HOME")
                    .map(PathBuf::from)
                    .or_else(|| {
                        nix::unistd::User::from_uid(nix::unistd::Uid::current())
                            .ok()
                            .flatten()
                            .map(|u| u.dir)
                    })
                    .map(|h| h.join(".config"))
            })?;
        Some(config_home.join("coracle/coracle.toml"))
    }

    pub fn path_shown() -> String {
        Self::path()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "coracle.toml".into())
    }

    /// Reads the file; a missing one is the defaults.
    pub fn load() -> anyhow::Result<Self> {
        let Some(p) = Self::path() else {
            return Ok(Self::default());
        };
        match std::fs::read_to_string(&p) {
            Ok(text) => Self::parse(&text).with_context(|| format!("read {}", p.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e).with_context(|| format!("read {}", p.display())),
        }
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        toml::from_str(text).map_err(|e| anyhow::anyhow!("{}", e.message()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_driver_and_refuses_unknown_ones() {
        assert_eq!(
            Config::parse("storage_driver = \"vfs\"\n")
                .unwrap()
                .storage_driver,
            Some(Driver::Vfs)
        );
        assert_eq!(
            Config::parse("storage_driver = \"overlay\"")
                .unwrap()
                .storage_driver,
            Some(Driver::Overlay)
        );
        assert_eq!(
            Config::parse("storage_driver = \"fuse-overlay\"")
                .unwrap()
                .storage_driver,
            Some(Driver::FuseOverlay)
        );
        assert_eq!(Config::parse("").unwrap().storage_driver, None);
        let e = Config::parse("storage_driver = \"zfs\"").unwrap_err();
        assert!(format!("{e:#}").contains("unknown storage_driver"), "{e:#}");
    }
}
