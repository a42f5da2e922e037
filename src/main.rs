//! The `tapewatch` command.

fn main() -> std::process::ExitCode {
    tapewatch::cli::main()
}
