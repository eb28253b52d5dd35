//! The `slipway` binary: parses arguments and hands over to the library.
#![forbid(unsafe_code)]

use clap::Parser;

fn main() -> std::process::ExitCode {
    slipway::cli::main(slipway::cli::Cli::parse())
}
