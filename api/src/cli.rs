//! The command line: parse, set up, run, and turn every failure into one line.

use std::process::ExitCode;

use clap::{Parser, error::ErrorKind};

use crate::{
    config::{Cli, Command, Config, ServeArgs},
    db, demo, graphql,
    startup::Application,
    telemetry,
};

/// Runs the `api` binary with the process's arguments and environment.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            return match error.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = error.print();
                    ExitCode::SUCCESS
                }
                _ => {
                    // One line that names the setting (flag and variable share a name).
                    let text = error.render().to_string();
                    let first = text.lines().next().unwrap_or("invalid configuration");
                    eprintln!("{first}");
                    ExitCode::from(2)
                }
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(serve) => {
            telemetry::init(config.log_format);
            let app = Application::build(&config, &serve).await?;
            app.run_until_stopped().await
        }
        Command::Migrate => {
            telemetry::init(config.log_format);
            let db = db::connect(&config).await?;
            db::migrate(&db).await?;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::ExportSchema => {
            print!("{}", graphql::export_sdl());
            Ok(())
        }
        Command::SeedDemo => seed_demo(&config).await,
    }
}

async fn seed_demo(config: &Config) -> anyhow::Result<()> {
    telemetry::init(config.log_format);
    let db = db::connect(config).await?;
    db::migrate(&db).await?;
    let report = demo::seed(&db).await?;
    eprintln!(
        "demo data: {} tenants, {} organisations, {} accounts created (password for all: {})",
        report.tenants_created,
        report.organisations_created,
        report.accounts_created,
        demo::DEMO_PASSWORD
    );
    Ok(())
}
