//! `tapewatch-bench`: the benchmark program (see BENCHMARKS.md); everything is
//! in [`tapewatch::bench`].

fn main() -> std::process::ExitCode {
    tapewatch::bench::main()
}
