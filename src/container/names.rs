//! Container names: Docker's rules, and generated `adjective_noun` names.

use anyhow::bail;

/// Docker's rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]*` (a leading `/` is dropped).
pub fn validate(name: &str) -> anyhow::Result<String> {
    let n = name.strip_prefix('/').unwrap_or(name);
    let mut chars = n.chars();
    let ok = match chars.next() {
        Some(c) if c.is_ascii_alphanumeric() => {
            chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        }
        _ => false,
    };
    if !ok {
        bail!("invalid container name \"{name}\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
    }
    if n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("invalid container name \"{name}\": a name cannot look like a container id");
    }
    Ok(n.to_string())
}

const ADJECTIVES: &[&str] = &[
    "admiring", "agile", "amazing", "bold", "brave", "busy", "calm", "clever", "cool", "crisp",
    "dazzling", "eager", "elated", "epic", "fervent", "focused", "gallant", "gentle", "happy",
    "hopeful", "jolly", "keen", "kind", "lively", "loving", "lucid", "merry", "modest", "nifty",
    "noble", "patient", "peaceful", "quiet", "quirky", "relaxed", "serene", "sharp", "silly",
    "steady", "sweet", "tender", "upbeat", "vibrant", "wizardly", "zealous",
];

const NOUNS: &[&str] = &[
    "albatross",
    "badger",
    "beaver",
    "bison",
    "cormorant",
    "crane",
    "dipper",
    "dolphin",
    "eel",
    "egret",
    "falcon",
    "ferret",
    "gannet",
    "grebe",
    "heron",
    "ibis",
    "kestrel",
    "kingfisher",
    "lapwing",
    "marten",
    "merganser",
    "moorhen",
    "newt",
    "osprey",
    "otter",
    "pelican",
    "pike",
    "plover",
    "puffin",
    "salmon",
    "sandpiper",
    "shag",
    "smew",
    "stork",
    "swan",
    "teal",
    "tern",
    "trout",
    "vole",
    "wagtail",
    "wigeon",
];

/// A generated name that `taken` does not reject: `adjective_noun` from
/// the random bytes of `id`, with a number appended if those are taken.
pub fn generate(id: &str, taken: impl Fn(&str) -> bool) -> String {
    let seed = u64::from_str_radix(&id[..16.min(id.len())], 16).unwrap_or(0);
    for i in 0..16u64 {
        let s = seed.rotate_left((i * 7) as u32) ^ i;
        let name = format!(
            "{}_{}",
            ADJECTIVES[(s % ADJECTIVES.len() as u64) as usize],
            NOUNS[((s >> 20) % NOUNS.len() as u64) as usize]
        );
        if !taken(&name) {
            return name;
        }
    }
    let base = format!(
        "{}_{}",
        ADJECTIVES[(seed % ADJECTIVES.len() as u64) as usize],
        NOUNS[((seed >> 20) % NOUNS.len() as u64) as usize]
    );
    (1u32..)
        .map(|n| format!("{base}{n}"))
        .find(|n| !taken(n))
        .unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dockers_rule() {
        assert_eq!(validate("web-1.a_b").unwrap(), "web-1.a_b");
        assert_eq!(validate("/db").unwrap(), "db");
        for bad in ["", "-x", ".x", "_x", "a b", "a/b", "é", "/"] {
            assert!(validate(bad).is_err(), "{bad:?} must be refused");
        }
        assert!(validate(&"a".repeat(64)).is_err());
    }

    #[test]
    fn generated_names_are_valid_and_avoid_taken_ones() {
        let id = "0123456789abcdef".repeat(4);
        let first = generate(&id, |_| false);
        assert!(validate(&first).is_ok(), "{first}");
        assert!(first.contains('_'));
        let second = generate(&id, |n| n == first);
        assert_ne!(first, second);
        let numbered = generate(&id, |n| !n.ends_with(char::is_numeric));
        assert!(validate(&numbered).is_ok(), "{numbered}");
    }
}
