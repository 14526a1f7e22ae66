//! The `api` binary: `serve` (default), `migrate`, `export-schema`, `seed-demo`.

/// mimalloc: a GraphQL response is thousands of small allocations, and the
/// system allocator spent a fifth of the server's time on them (perf,
/// municipality bench).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    api::cli::main()
}
