//! Messages on the sync socket from the sandbox child: decoding never panics
//! and what decodes re-encodes to the same message.
#![no_main]

use coracle::sandbox::channel::{decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(m) = decode(data) {
        assert_eq!(decode(&encode(&m)), Some(m));
    }
});
