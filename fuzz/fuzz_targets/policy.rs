//! Security policy files (TOML) and Docker/OCI seccomp profiles (JSON),
//! as `--policy FILE` and `--security-opt seccomp=FILE` read them. No
//! parser may panic; a profile the JSON parser accepts must compile.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the parser; the rest is its input.
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let s = String::from_utf8_lossy(rest);
    if which % 2 == 0 {
        let _ = coracle::policy::parse("fuzz.toml", &s);
    } else {
        let caps: HashSet<String> = ["CAP_CHOWN".to_string()].into_iter().collect();
        if let Ok(p) = coracle::policy::docker_json::parse(&s, &caps) {
            let _ = coracle::sandbox::seccomp::compile(&p);
        }
    }
});
