//! The command line: parse, set up, run, and turn every failure into one line.

use std::process::ExitCode;

use clap::{Parser, error::ErrorKind};

use crate::{
    audit,
    config::{Cli, Command, Config, ServeArgs},
    db, demo, graphql, identity,
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
            let traces = telemetry::init_with_traces(
                config.log_format,
                config
                    .otel_exporter_otlp_endpoint
                    .clone()
                    .map(|endpoint| telemetry::TraceExport {
                        endpoint,
                        service_name: config.otel_service_name.clone(),
                    }),
            )?;
            let app = Application::build(&config, &serve).await?;
            let stopped = app.run_until_stopped().await;
            traces.shutdown().await;
            stopped
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
        Command::Bootstrap(args) => {
            telemetry::init(config.log_format);
            let db = db::connect(&config).await?;
            db::migrate(&db).await?;
            let (tenant, code) = identity::service::bootstrap(
                &db,
                &args.tenant,
                &args.time_zone,
                &args.admin_email,
                &args.admin_name,
            )
            .await?;
            // The code goes to standard output only, never into a log.
            eprintln!(
                "tenant \"{}\" created; give the admin this one-time invitation code (valid {} days), to redeem with acceptInvitation:",
                tenant.name,
                identity::service::DEFAULT_INVITATION_DAYS
            );
            println!("{code}");
            Ok(())
        }
        Command::VerifyAudit => {
            telemetry::init(config.log_format);
            let db = db::connect(&config).await?;
            let report = audit::service::verify(&db).await?;
            for problem in &report.problems {
                eprintln!("audit: {problem}");
            }
            anyhow::ensure!(
                report.problems.is_empty(),
                "the audit trail is broken: {} problem(s) in {} chains, {} entries",
                report.problems.len(),
                report.chains,
                report.events
            );
            eprintln!(
                "audit trail intact: {} chains, {} entries",
                report.chains, report.events
            );
            Ok(())
        }
    }
}

async fn seed_demo(config: &Config) -> anyhow::Result<()> {
    telemetry::init(config.log_format);
    let db = db::connect(config).await?;
    db::migrate(&db).await?;
    let report = demo::seed(&db).await?;
    eprintln!(
        "demo data: {} tenants, {} organisations, {} accounts, {} cases created (password for all: {})",
        report.tenants_created,
        report.organisations_created,
        report.accounts_created,
        report.cases_created,
        demo::DEMO_PASSWORD
    );
    Ok(())
}
