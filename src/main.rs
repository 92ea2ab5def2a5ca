#![deny(unsafe_code)]

fn main() {
    let code = coracle::run_cli();
    std::process::exit(code);
}
