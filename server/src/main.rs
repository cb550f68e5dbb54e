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
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // One line per request when its span closes: method, route, status, request id, latency.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .init();
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
        println!(
            "Created the operator account.  account: admin   user: root   password: {pw}\n\
             (shown once; also saved in {}/{})",
            running.data_dir.display(),
            nuvem_server::server::INITIAL_ADMIN_PASSWORD_FILE
        );
    }
    running.wait().await?;
    tracing::info!("Nuvem stopped");
    Ok(())
}
