//! Regenerates `man/` and `completions/` from the CLI definition.
//!
//! Usage: `cargo run --bin coracle-gendoc [OUTDIR]` (default: the crate root).
#![deny(unsafe_code)]

fn main() {
    let root = std::env::args_os()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    if let Err(e) = coracle::cli::docs::generate(&root) {
        eprintln!("coracle-gendoc: {e:#}");
        std::process::exit(1);
    }
    println!(
        "wrote {}/man and {}/completions",
        root.display(),
        root.display()
    );
}
