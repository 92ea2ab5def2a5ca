//! String forms of `run` flags: --env-file contents, -e, -v, --tmpfs,
//! --hostname. No parser may panic; what they accept must be well formed.
#![no_main]

use coracle::spec::options::{env_entry, env_file, hostname, tmpfs, volume};
use libfuzzer_sys::fuzz_target;

/// A deterministic stand-in for the caller's environment.
fn host(k: &str) -> Option<String> {
    k.len().is_multiple_of(2).then(|| format!("v-{k}"))
}

fn check_name(k: &str) {
    assert!(!k.is_empty() && !k.contains(char::is_whitespace), "{k:?}");
    assert!(!k.contains('='), "{k:?}");
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the parser; the rest is its input.
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let s = String::from_utf8_lossy(rest);
    match which % 5 {
        0 => {
            if let Ok(env) = env_file("fuzz.env", &s, &host) {
                for (k, _) in &env {
                    check_name(k);
                }
            }
        }
        1 => {
            if let Ok(Some((k, _))) = env_entry(&s, &host) {
                check_name(&k);
            }
        }
        2 => {
            if let Ok(v) = volume(&s) {
                assert!(v.destination.is_absolute(), "{v:?}");
                assert!(!v.source.as_os_str().is_empty(), "{v:?}");
            }
        }
        3 => {
            if let Ok(t) = tmpfs(&s) {
                assert!(t.destination.is_absolute(), "{t:?}");
            }
        }
        _ => {
            if let Ok(h) = hostname(&s) {
                assert!(!h.is_empty() && h.len() <= 64, "{h:?}");
            }
        }
    }
});
