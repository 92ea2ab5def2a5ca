//! Everything the registry client parses from a registry: challenges,
//! error bodies, token responses, indexes and manifests. Never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    coracle::image::registry::fuzz_untrusted(data);
});
