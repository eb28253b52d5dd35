//! The `slipway` binary: parses arguments and hands over to the library.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    slipway::cli::main(slipway::cli::parse())
}
