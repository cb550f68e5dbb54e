use clap::{Parser, Subcommand};
use nuvem_server::config::{Config, ServeArgs};

/// Nuvem's API server.
#[derive(Parser)]
#[command(name = "nuvem-server", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve(Box<ServeArgs>),
    /// Print the OpenAPI document and exit.
    Openapi,
}

fn init_logging(filter: &str) {
    use std::io::IsTerminal;
    // s3s logs a span per signature check at info: quiet unless asked for by name.
    let filter = if filter.contains("s3s") {
        filter.to_owned()
    } else {
        format!("{filter},s3s=warn")
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,s3s=warn"));
    // At info, a request that only read and succeeded (the console and `launch --wait` poll)
    // writes no line; at debug every request does.
    let every_request = filter
        .max_level_hint()
        .is_some_and(|max| max >= tracing::level_filters::LevelFilter::DEBUG);
    // One line per request when its span closes: method, route, status, request id, latency.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        // Colours only on a terminal: a log file or the journal gets plain text.
        .with_ansi(std::io::stdout().is_terminal())
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .event_format(QuietPolls {
            inner: tracing_subscriber::fmt::format(),
            every_request,
        })
        .init();
}

/// The default line format, less the closing line of each successful GET or HEAD request when
/// `every_request` is off.
struct QuietPolls<F> {
    inner: F,
    every_request: bool,
}

impl<S, N, F> tracing_subscriber::fmt::FormatEvent<S, N> for QuietPolls<F>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
    F: tracing_subscriber::fmt::FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        if !self.every_request && is_successful_read(ctx, event) {
            return Ok(());
        }
        self.inner.format_event(ctx, writer, event)
    }
}

/// Whether `event` closes the span of a GET or HEAD request answered with 1xx, 2xx or 3xx.
fn is_successful_read<S, N>(
    ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
    event: &tracing::Event<'_>,
) -> bool
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    let meta = event.metadata();
    if !meta.is_span() || meta.name() != "HTTP request" {
        return false;
    }
    let Some(span) = event.parent().and_then(|id| ctx.span(id)) else {
        return false;
    };
    let extensions = span.extensions();
    let Some(fields) = extensions.get::<tracing_subscriber::fmt::FormattedFields<N>>() else {
        return false;
    };
    successful_read(fields.as_str())
}

/// The test on the request span's formatted fields (`http.method=GET ... http.status_code=200`).
fn successful_read(fields: &str) -> bool {
    let value = |name: &str| {
        fields
            .split_whitespace()
            .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
    };
    matches!(value("http.method"), Some("GET" | "HEAD"))
        && value("http.status_code")
            .is_some_and(|s| matches!(s.as_bytes().first(), Some(b'1'..=b'3')))
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Openapi) => {
            print!("{}", nuvem_server::http::openapi_json());
            return Ok(());
        }
        Some(Command::Serve(args)) => *args,
        None => cli.serve,
    };
    let config = Config::resolve(args)?;
    init_logging(&config.log);
    actix_web::rt::System::new().block_on(serve(config))
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let running = nuvem_server::server::start(config).await?;
    let url = running.url();
    tracing::info!(%url, data_dir = %running.data_dir.display(), "Nuvem is listening");
    println!("Nuvem is running at {url}  (API docs: {url}/docs, metrics: {url}/metrics)");
    if running.bootstrap == nuvem_server::iam::Bootstrap::CreatedWithGivenPassword {
        println!(
            "Created the operator account.  account: admin   user: root   password: from NUVEM_ADMIN_PASSWORD"
        );
    }
    if let Some(pw) = running.generated_admin_password() {
        let file = running
            .data_dir
            .join(nuvem_server::server::INITIAL_ADMIN_PASSWORD_FILE);
        // On a terminal only: standard output may be a log file or the journal, which must
        // never hold a password. The file (0600) has it either way.
        use std::io::IsTerminal;
        if std::io::stdout().is_terminal() {
            println!(
                "Created the operator account.  account: admin   user: root   password: {pw}\n\
                 (shown once; also saved in {})",
                file.display()
            );
        } else {
            println!(
                "Created the operator account.  account: admin   user: root   password: generated, saved only in {} (root's, mode 0600)",
                file.display()
            );
        }
    }
    running.wait().await?;
    tracing::info!("Nuvem stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::successful_read;

    #[test]
    fn only_successful_reads_are_quiet() {
        let span = |method: &str, status: &str| {
            format!(
                "http.method={method} http.route=/v1/instances otel.name={method} /v1/instances http.status_code={status} request_id=1"
            )
        };
        assert!(successful_read(&span("GET", "200")));
        assert!(successful_read(&span("HEAD", "304")));
        assert!(!successful_read(&span("GET", "404")));
        assert!(!successful_read(&span("GET", "500")));
        assert!(!successful_read(&span("POST", "200")));
        assert!(!successful_read(&span("DELETE", "204")));
        // A request whose span never got a status (the connection dropped) is logged.
        assert!(!successful_read("http.method=GET http.route=/v1/instances"));
    }
}
