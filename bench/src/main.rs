//! `tapewatch-bench`: the benchmark program (see BENCHMARKS.md); everything is
//! in the `tapewatch_bench` library beside this file.

fn main() -> std::process::ExitCode {
    tapewatch_bench::main()
}
