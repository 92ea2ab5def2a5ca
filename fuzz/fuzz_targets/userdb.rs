//! /etc/passwd and /etc/group of a container image plus a `--user` value:
//! parsing and resolution must never panic.
//!
//! Input: `passwd \0 group \0 user-spec` (a missing part is empty; with no
//! second NUL there is no user spec, i.e. the default `0`).
#![no_main]

use coracle::spec::userdb::{parse_group, parse_passwd, resolve};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0);
    let passwd = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let group = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let spec = parts.next().map(String::from_utf8_lossy);

    let passwd = parse_passwd(&passwd);
    let groups = parse_group(&group);
    if let Ok(u) = resolve(spec.as_deref(), &passwd, &groups) {
        // The primary group is never repeated among the supplementary ones,
        // and those are unique.
        assert!(!u.additional_gids.contains(&u.gid));
        let mut g = u.additional_gids.clone();
        g.sort_unstable();
        g.dedup();
        assert_eq!(g.len(), u.additional_gids.len());
        assert!(!u.home.is_empty());
    }
});
