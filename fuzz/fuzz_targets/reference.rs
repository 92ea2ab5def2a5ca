//! Image references: parsing arbitrary text never panics, and what parses
//! round-trips through its full form (`Display`) to an equal reference; the
//! familiar form does too, except where Docker's own familiar form is
//! ambiguous (a Hub repository whose first component looks like a host,
//! `docker.io/localhost/x` -> `localhost/x`).
#![no_main]

use coracle::image::reference::{Reference, DEFAULT_REGISTRY, NAME_MAX, TAG_MAX};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let normalized = Reference::parse_normalized(s);
    let Ok(r) = Reference::parse(s) else {
        assert!(
            normalized.is_err(),
            "{s:?}: parse fails, parse_normalized not"
        );
        return;
    };
    let n = normalized.expect("parse_normalized fails where parse succeeds");
    assert_eq!(
        (&n.registry, &n.repository, &n.digest),
        (&r.registry, &r.repository, &r.digest)
    );
    assert!(
        r.tag.is_some() || r.digest.is_some(),
        "{s:?}: no tag nor digest"
    );

    let full = r.to_string();
    assert_eq!(
        Reference::parse(&full).as_ref(),
        Ok(&r),
        "{s:?} -> {full:?}"
    );
    assert!(full.is_ascii(), "{full:?}");
    assert!(r.name().len() <= NAME_MAX, "{full:?}");
    assert!(
        r.tag.as_ref().is_none_or(|t| t.len() <= TAG_MAX),
        "{full:?}"
    );

    // Docker's familiar form drops `docker.io/`, so a Hub repository whose
    // first component looks like a host reads back as that host.
    let familiar = r.familiar();
    let name = r.familiar_name();
    let ambiguous = r.registry == DEFAULT_REGISTRY
        && name
            .split_once('/')
            .is_some_and(|(first, _)| first == "localhost" || first.contains(['.', ':']));
    if !ambiguous {
        assert_eq!(
            Reference::parse(&familiar).as_ref(),
            Ok(&r),
            "{s:?} -> {familiar:?}"
        );
    }

    if let Some(t) = &r.tag {
        assert_eq!(r.with_tag(t).as_ref(), Ok(&r));
    }
    let _ = (r.api_host(), r.api_reference(), r.is_loopback());
});
