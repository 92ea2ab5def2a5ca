//! `load`: arbitrary bytes as an image archive (docker-archive or
//! oci-archive; plain, gzip or zstd) into a fresh store. Never panics, and
//! an archive that does not load leaves no image, no layer and no blob in
//! the store (a partial load is never visible).
//!
//! The first input byte is flags: bit 0 fixes the checksum of every
//! non-zero 512-byte block (so that the fuzzer gets past the header
//! checksum of an uncompressed archive).
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};

use coracle::image::archive::load;
use coracle::image::store::Store;
use libfuzzer_sys::fuzz_target;

#[path = "tar_checksums.rs"]
mod tar_checksums;
use tar_checksums::fix_checksums;

fn entries(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

/// A fresh directory for this run (removed by the caller).
fn fresh_dir() -> std::path::PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let d =
        std::path::Path::new("/tmp/coracle-fuzz-load").join(format!("{}-{n}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut archive = rest.to_vec();
    if flags & 1 == 1 {
        fix_checksums(&mut archive);
    }
    let dir = fresh_dir();
    let store = Store::open(dir.join("storage")).unwrap();
    if load(&store, &archive[..]).is_err() {
        let index = store.read_index().unwrap();
        assert!(index.images.is_empty() && index.tags.is_empty());
        assert_eq!(entries(&store.root().join("layers")), 0);
    }
    std::fs::remove_dir_all(&dir).unwrap();
});
