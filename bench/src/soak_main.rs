//! `tapewatch-soak`: the long run under random faults (see the `soak` module
//! and BENCHMARKS.md); `scripts/soak` builds and runs it.

fn main() -> std::process::ExitCode {
    tapewatch_bench::soak::main()
}
