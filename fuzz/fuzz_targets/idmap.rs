//! /etc/subuid parsing and the id maps computed from it: no panic, and every
//! map is well formed (sorted, no overlaps, no empty or overflowing entries,
//! at most MAX_MAP_LINES lines, the caller mapped where the mode says).
#![no_main]

use coracle::sandbox::idmap::{
    compute_map, parse_subid, to_host, IdMapEntry, UsernsMode, MAX_MAP_LINES,
};
use libfuzzer_sys::fuzz_target;

/// Input: a header line `OWN ID USER` (numbers in decimal; a missing or
/// unparsable number is 0), then the subid file. `OWN` is the caller's host
/// id; `ID`/`USER` the owner looked up in the file. Text, so that the
/// dictionary (`fuzz/dict/idmap.dict`) and readable reproducers work.
struct Input<'a> {
    own: u32,
    id: u32,
    user: &'a str,
    content: &'a str,
}

fn split(s: &str) -> Input<'_> {
    let (header, content) = s.split_once('\n').unwrap_or((s, ""));
    let mut h = header.split(' ');
    let num = |f: Option<&str>| f.and_then(|x| x.parse().ok()).unwrap_or(0);
    Input {
        own: num(h.next()),
        id: num(h.next()),
        user: h.next().unwrap_or(""),
        content,
    }
}

fn check(mode: UsernsMode, own: u32, map: &[IdMapEntry]) {
    assert!(!map.is_empty(), "{mode:?}: empty map");
    assert!(map.len() <= MAX_MAP_LINES, "{mode:?}: {} lines", map.len());
    for e in map {
        assert!(e.size > 0, "{mode:?}: empty entry {e:?} in {map:?}");
        assert!(
            u64::from(e.container) + u64::from(e.size) <= 1 << 32,
            "{mode:?}: container range overflows in {e:?}"
        );
        assert!(
            u64::from(e.host) + u64::from(e.size) <= 1 << 32,
            "{mode:?}: host range overflows in {e:?}"
        );
    }
    for w in map.windows(2) {
        assert!(
            w[0].container < w[1].container,
            "{mode:?}: not sorted by container id: {map:?}"
        );
        assert!(
            u64::from(w[0].container) + u64::from(w[0].size) <= u64::from(w[1].container),
            "{mode:?}: overlapping container ranges {:?} and {:?}",
            w[0],
            w[1]
        );
    }
    let own_inside = match mode {
        UsernsMode::Default => 0,
        UsernsMode::KeepId => own,
    };
    assert_eq!(to_host(map, own_inside), Some(own), "{mode:?}: {map:?}");
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let input = split(&text);
    let subs = parse_subid(input.content, input.user, input.id);
    for r in &subs {
        assert!(r.count > 0);
        assert!(r.start.checked_add(r.count - 1).is_some());
    }
    for mode in [UsernsMode::Default, UsernsMode::KeepId] {
        let map = compute_map(mode, input.own, &subs);
        check(mode, input.own, &map);
    }
});
