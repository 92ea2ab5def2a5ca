//! The private network's packet path: frames from the container (as many
//! as the input holds, each prefixed with its 2-byte length) go through the
//! classifier, the NAT's UDP/ICMP handling and smoltcp. Nothing panics,
//! whatever the bytes; the stack is offline (no host sockets), so every
//! connection is refused, as one the egress rules deny.
#![no_main]

use coracle::net::stack;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut s = stack::offline();
    let mut rest = data;
    while rest.len() >= 2 {
        let n = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
        rest = &rest[2..];
        let frame = &rest[..n.min(rest.len())];
        let _ = stack::classify(frame);
        stack::fuzz_one(&mut s, frame);
        rest = &rest[frame.len()..];
    }
});
