//! The `assist-market` binary: serve | migrate | seed-demo | openapi | verify-ledger.
use assist_market::config::Settings;
use assist_market::startup::{self, Application};
use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "assist-market",
    about = "Assist Market: consumption-assistance marketplace and ledger",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service and its jobs (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load the demo data (idempotent) and print the demo logins.
    SeedDemo,
    /// Print the OpenAPI document.
    Openapi,
    /// Verify the ledger's tree against its signed checkpoints, from the last verified
    /// checkpoint on (recorded), or all of it with --full; exit 1 if it does not verify.
    VerifyLedger {
        #[arg(long)]
        full: bool,
    },
    /// Verify an export (GET /ledger/export) against a checkpoint offline, without the
    /// database or the service; exit 1 if it does not verify.
    VerifyExport {
        file: std::path::PathBuf,
        #[arg(long)]
        checkpoint: std::path::PathBuf,
        /// The verifier key string (name+keyid+base64), or a file holding it.
        #[arg(long)]
        verifier_key: String,
    },
}

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi = command {
        match serde_json::to_string_pretty(&assist_market::openapi::document()) {
            Ok(s) => {
                println!("{s}");
                return ExitCode::SUCCESS;
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if let Command::VerifyExport {
        file,
        checkpoint,
        verifier_key,
    } = &command
    {
        return verify_export(file, checkpoint, verifier_key);
    }
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    assist_market::telemetry::init(settings.log_json);
    match run(command, settings).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match command {
        Command::Serve => {
            let app = Application::build(settings).await?;
            println!(
                "Assist Market listening on http://{}:{}  (docs: /docs, database: {}, cache: {}, mail: {})",
                app.state.settings.bind.split(':').next().unwrap_or("127.0.0.1"),
                app.port(),
                if app.state.settings.is_embedded_default() {
                    "SQLite (embedded)"
                } else {
                    "configured"
                },
                if app.state.cache.is_redis() {
                    "Redis"
                } else {
                    "in-process"
                },
                app.state.mailer.describe(),
            );
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            startup::build_state(settings).await?;
            println!("migrations applied");
        }
        Command::SeedDemo => {
            let mut s = settings;
            s.demo = Some(true);
            let state = startup::build_state(s).await?;
            startup::bootstrap(&state).await?;
        }
        Command::VerifyLedger { full } => {
            let state = startup::build_state(settings).await?;
            let r = assist_market::services::ledger::verify::verify_recorded(&state, full).await?;
            println!("{}", serde_json::to_string_pretty(&r)?);
            if !r.ok {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Openapi | Command::VerifyExport { .. } => {}
    }
    Ok(ExitCode::SUCCESS)
}

fn verify_export(file: &std::path::Path, checkpoint: &std::path::Path, key: &str) -> ExitCode {
    use assist_market::services::ledger::{checkpoint as cp, offline};
    let read = |p: &std::path::Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let run = || -> Result<offline::OfflineReport, String> {
        let key = if std::path::Path::new(key).is_file() {
            read(std::path::Path::new(key))?
        } else {
            key.to_string()
        };
        let vk = cp::parse_verifier_key(&key)?;
        let export = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
        offline::verify_export_from(std::io::BufReader::new(export), &read(checkpoint)?, &vk)
    };
    match run() {
        Ok(r) => {
            println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
            if r.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
