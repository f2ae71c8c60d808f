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
    /// Verify the ledger's hash chain; exit 1 if it is broken.
    VerifyLedger,
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
        Command::VerifyLedger => {
            let state = startup::build_state(settings).await?;
            let r = assist_market::services::ledger::verify(&state.db).await?;
            println!("{}", serde_json::to_string_pretty(&r)?);
            if !r.ok {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Openapi => {}
    }
    Ok(ExitCode::SUCCESS)
}
