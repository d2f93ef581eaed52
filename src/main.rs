//! The `wa1kpcap` command: glue over the library (see `cli`).

mod cli;

fn main() {
    std::process::exit(cli::run());
}
