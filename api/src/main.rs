//! The `api` binary: `serve` (default), `migrate`, `export-schema`, `seed-demo`.

fn main() -> std::process::ExitCode {
    api::cli::main()
}
