//! The `api` command line, built inside the test crate so that tests which need a
//! real process (kill -9, signals, start-up errors) always run the current code.

fn main() -> std::process::ExitCode {
    api::cli::main()
}
