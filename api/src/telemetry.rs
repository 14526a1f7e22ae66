//! Structured logging with `tracing`. Logs never contain personal data: no
//! variables, message bodies, tokens, names or e-mail addresses.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::LogFormat;

/// Installs the global subscriber; `RUST_LOG` overrides the default `info` level.
/// Calling it twice is harmless (the second call does nothing).
pub fn init(format: LogFormat) {
    install(format, None);
}

/// Where traces go, when they are exported.
#[derive(Debug, Clone)]
pub struct TraceExport {
    /// The collector's base address (`/v1/traces` is appended).
    pub endpoint: String,
    /// The `service.name` resource attribute.
    pub service_name: String,
}

/// Sends the spans of this process to an OpenTelemetry collector until
/// `shutdown` (which sends what is still queued).
pub struct Tracing(Option<opentelemetry_sdk::trace::SdkTracerProvider>);

impl Tracing {
    /// Flushes and stops the exporter (off the async runtime: it blocks).
    pub async fn shutdown(self) {
        if let Some(provider) = self.0 {
            let stopped = tokio::task::spawn_blocking(move || provider.shutdown()).await;
            if !matches!(stopped, Ok(Ok(()))) {
                tracing::warn!("the trace exporter did not stop cleanly");
            }
        }
    }
}

/// Installs the global subscriber as `init` does and, with `export`, an
/// OTLP/HTTP trace exporter beside the logs.
pub fn init_with_traces(format: LogFormat, export: Option<TraceExport>) -> anyhow::Result<Tracing> {
    let provider = match export {
        Some(export) => Some(tracer_provider(&export)?),
        None => None,
    };
    install(format, provider.clone());
    Ok(Tracing(provider))
}

fn tracer_provider(
    export: &TraceExport,
) -> anyhow::Result<opentelemetry_sdk::trace::SdkTracerProvider> {
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    let endpoint = export.endpoint.trim().trim_end_matches('/');
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
        anyhow::bail!("OTEL_EXPORTER_OTLP_ENDPOINT must start with http:// or https://");
    }
    // The blocking HTTP client may not be built on an async runtime's thread.
    let endpoint = format!("{endpoint}/v1/traces");
    let exporter = std::thread::spawn(move || {
        opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint)
            .build()
    })
    .join()
    .map_err(|_| anyhow::anyhow!("OTEL_EXPORTER_OTLP_ENDPOINT: the exporter could not start"))?
    .map_err(|e| anyhow::anyhow!("OTEL_EXPORTER_OTLP_ENDPOINT: {e}"))?;
    Ok(opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(export.service_name.clone())
                .build(),
        )
        .build())
}

fn install(format: LogFormat, provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>) {
    use opentelemetry::trace::TracerProvider as _;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,poem=warn"));
    let traces = provider
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("family-services-api")));
    let registry = tracing_subscriber::registry().with(filter).with(traces);
    let result = match format {
        LogFormat::Text => registry
            .with(
                fmt::layer()
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
    // Already initialised (tests, embedding): keep the existing subscriber.
    let _ = result;
}
