//! `cargo run -p signet-local -- [--port 3000] [--data-dir .signet] [--demo]`

use signet_shared::adapters::embedded;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

struct Args {
    port: u16,
    data_dir: PathBuf,
    demo: bool,
    portal_dir: PathBuf,
}

const USAGE: &str = "usage: signet-local [--port PORT] [--data-dir DIR] [--demo]\n\
  --port PORT      port on 127.0.0.1 (default 3000)\n\
  --data-dir DIR   database, key file (default .signet/)\n\
  --demo           load the demo data set\n\
  --portal-dir DIR the portal's files (default: the repository's portal/)";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 3000,
        data_dir: embedded::default_data_dir(),
        demo: false,
        portal_dir: signet_local::portal::DEFAULT_DIR.into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--port" => {
                args.port = it.next().and_then(|p| p.parse().ok()).ok_or("--port needs a number between 1 and 65535")?
            }
            "--data-dir" => args.data_dir = it.next().map(PathBuf::from).ok_or("--data-dir needs a directory")?,
            "--demo" => args.demo = true,
            "--portal-dir" => args.portal_dir = it.next().map(PathBuf::from).ok_or("--portal-dir needs a directory")?,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(args)
}

/// The demo company registry, shipped with the demo data.
const DEMO_REGISTRY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/registry.json");

/// The file of the local operator token, in the data directory.
const OPERATOR_TOKEN_FILE: &str = "signet-operator.token";

/// The local operator token: read from the data directory, or made there (readable by its
/// owner only) the first time. Never printed: the start-up banner says where it is.
fn operator_token(data_dir: &std::path::Path) -> Result<String, String> {
    let path = data_dir.join(OPERATOR_TOKEN_FILE);
    if let Ok(token) = std::fs::read_to_string(&path) {
        return Ok(token.trim().to_owned());
    }
    embedded::database_file::private_dir(data_dir)?;
    let bytes = signet_shared::domain::crypto::random_bytes::<32>(&signet_shared::ports::OsRandom);
    let token = signet_shared::domain::crypto::hex(&bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    std::io::Write::write_all(&mut file, token.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(token)
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("signet-local: {e}");
        std::process::exit(2);
    }
}

async fn run() -> Result<(), String> {
    let args = parse_args()?;
    signet_shared::app::telemetry::init_logs();
    let mut vars: std::collections::HashMap<String, String> = std::env::vars().collect();
    vars.entry("SIGNET_PORTAL_URL".into()).or_insert_with(|| format!("http://127.0.0.1:{}", args.port));
    vars.entry("SIGNET_METRICS".into()).or_insert_with(|| "false".into());
    if args.demo {
        // The demo company registry: a few establishments, by SIRET.
        vars.entry("SIGNET_REGISTRY_FILE".into()).or_insert_with(|| DEMO_REGISTRY.into());
    }
    // The operator API's stand-in for IAM: a token in the data directory (created once).
    let operator_token = operator_token(&args.data_dir)?;
    vars.entry("SIGNET_OPERATOR_TOKEN".into()).or_insert(operator_token);
    let config = signet_shared::app::configuration(&vars).map_err(|e| e.to_string())?;
    let portal = config.portal_url.clone();
    let backend = signet_shared::app::wiring::embedded(config, &args.data_dir)?;
    if args.demo {
        signet_local::demo::load(&backend.services).await.map_err(|e| format!("loading demo data: {e}"))?;
    }
    let sweeper = backend.store.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            let store = sweeper.clone();
            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || store.sweep_expired()).await {
                tracing::warn!(error = %e, "TTL sweep failed");
            }
        }
    });
    // Renewal reminders, as the daily schedule runs them in AWS (hourly here: a reminder is
    // claimed once, so extra runs send nothing twice).
    let reminders = backend.services.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let run = signet_shared::app::daily::run(&reminders).await;
            match run.reminders {
                Ok(sent) => tracing::info!(sent, "renewal reminders run"),
                Err(e) => tracing::warn!(error = %e, "renewal reminders run failed"),
            }
            if let Err(e) = run.notices {
                tracing::warn!(error = %e, "pending renewal notices run failed");
            }
        }
    });
    let timeouts = signet_local::serve::Timeouts::default();
    let app = signet_local::app_in(backend.services, backend.outbox, backend.store, timeouts, args.portal_dir);
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    eprintln!("Signet local portal on {portal}/  (data in {})", args.data_dir.display());
    eprintln!("  API:     {portal}/api/");
    eprintln!("  outbox:  {portal}/_dev/outbox   (JSON: {portal}/_dev/outbox.json)");
    eprintln!("  OpenAPI: {portal}/openapi.json");
    eprintln!(
        "  operator API: header x-signet-operator-token with the token in {}",
        args.data_dir.join(OPERATOR_TOKEN_FILE).display()
    );
    eprintln!(
        "  payments: the local hosted page (test card 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined)"
    );
    if args.demo {
        eprintln!("  {}; its password: {}", signet_local::demo::SUMMARY, signet_local::demo::DEMO_PASSWORD);
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    signet_local::serve::run(listener, app, timeouts, shutdown).await.map_err(|e| e.to_string())
}
