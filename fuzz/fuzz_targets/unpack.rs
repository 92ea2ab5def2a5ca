//! Layer unpacking: arbitrary bytes as an uncompressed tar into a fresh
//! directory. Never panics, and never creates, changes or removes anything
//! outside that directory: checked in the work directory
//! `/tmp/coracle-fuzz-unpack` (in `fuzz/dict/unpack.dict`, so that symlinks
//! and names can aim at it), which holds one directory per fuzzing process
//! and, in it, the current run's. Run the fuzzer as an ordinary user, so
//! that an escape cannot harm the machine. When the unpack succeeds, the
//! layer is also applied onto a rootfs next to it.
//!
//! The first input byte is flags: bit 0 fixes the checksum of every
//! non-zero 512-byte block (so that the fuzzer gets past the header
//! checksum), bit 1 asks for a small path limit.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use coracle::image::unpack::{apply_layer, unpack_layer, Compression, Limits};
use libfuzzer_sys::fuzz_target;

#[path = "tar_checksums.rs"]
mod tar_checksums;
use tar_checksums::fix_checksums;

/// Where every run works; a fixed name so that inputs can target it.
const WORK: &str = "/tmp/coracle-fuzz-unpack";

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// This process's directory in WORK, and a fresh run directory in it.
fn dirs() -> (PathBuf, PathBuf) {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let mine = Path::new(WORK).join(std::process::id().to_string());
    let run = mine.join(n.to_string());
    (mine, run)
}

/// Only process directories (numeric names) may be in WORK: other
/// processes' runs come and go, anything else is an escape.
fn check_work() {
    for name in listing(Path::new(WORK)) {
        assert!(
            name.bytes().all(|b| b.is_ascii_digit()),
            "{name:?} appeared in {WORK}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut tar = rest.to_vec();
    if flags & 1 == 1 {
        fix_checksums(&mut tar);
    }
    let limits = Limits {
        max_unpacked_bytes: 1 << 20,
        max_entries: 1000,
        max_path_bytes: if flags & 2 == 2 { 64 } else { 4096 },
    };
    let (mine, base) = dirs();
    std::fs::create_dir_all(&mine).unwrap();
    let dest = base.join("dest");
    let rootfs = base.join("rootfs");
    std::fs::create_dir(&base).unwrap();
    std::fs::create_dir(&dest).unwrap();
    std::fs::create_dir(&rootfs).unwrap();
    std::fs::write(base.join("sentinel"), b"sentinel").unwrap();
    check_work();

    if unpack_layer(&tar[..], Compression::None, &dest, &limits).is_ok() {
        let _ = apply_layer(&dest, &rootfs);
    }

    check_work();
    let run = base.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(listing(&mine), [run]);
    assert_eq!(listing(&base), ["dest", "rootfs", "sentinel"]);
    assert_eq!(std::fs::read(base.join("sentinel")).unwrap(), b"sentinel");
    assert!(std::fs::symlink_metadata(&dest).unwrap().is_dir());
    assert!(std::fs::symlink_metadata(&rootfs).unwrap().is_dir());
    std::fs::remove_dir_all(&base).unwrap();
});
