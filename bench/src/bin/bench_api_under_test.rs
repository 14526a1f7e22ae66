//! The `api` command line, built inside the bench crate so that the suite's
//! smoke test (`tests/smoke.rs`) runs the benches against the current server.

fn main() -> std::process::ExitCode {
    api::cli::main()
}
