//! `emma`: the whole of EMMA on one machine — every route group in one
//! server on http://127.0.0.1:8080 and the background steps as tasks — and
//! the platform commands (`emma tenant create "Sparkasse Musterstadt"`).

use clap::Parser;
use emma::cli::{Cli, Command};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match emma::bootstrap::from_env().await {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("emma: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let listen = runtime.config.listen;
            let shutdown = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            emma::local::serve(runtime, listen, shutdown)
                .await
                .map_err(|e| e.to_string())
        }
        Command::Tenant(command) => emma::cli::run(&runtime.app, command, &mut std::io::stdout())
            .await
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("emma: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
