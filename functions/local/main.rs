//! `emma`: the whole of EMMA on one machine — every route group in one
//! server on http://127.0.0.1:8080 and the background steps as tasks — and
//! the platform commands (`emma tenant create "Sparkasse Musterstadt"`).

use clap::Parser;
use emma::cli::{Cli, Command, EmulatorCommand};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let command = Cli::parse().command.unwrap_or(Command::Serve);
    let result = match command {
        // Creates what start-up needs, so it runs without the app.
        Command::Emulator(EmulatorCommand::Provision { prefix }) => {
            emma::telemetry::init_logging();
            emma::cli::provision_emulator(&prefix, &mut std::io::stdout())
                .await
                .map_err(|e| e.to_string())
        }
        command => with_app(command).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("emma: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn with_app(command: Command) -> Result<(), String> {
    let runtime = emma::bootstrap::from_env()
        .await
        .map_err(|e| e.to_string())?;
    match command {
        Command::Tenant(command) => emma::cli::run(&runtime.app, command, &mut std::io::stdout())
            .await
            .map_err(|e| e.to_string()),
        Command::Sso(command) => {
            emma::cli::run_sso(&runtime, command, &mut std::io::stdout()).map_err(|e| e.to_string())
        }
        Command::User(command) => {
            emma::cli::run_user(&runtime.app, command, &mut std::io::stdout())
                .await
                .map_err(|e| e.to_string())
        }
        _ => {
            let listen = runtime.config.listen;
            let shutdown = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            emma::local::serve(runtime, listen, shutdown)
                .await
                .map_err(|e| e.to_string())
        }
    }
}
