//! The command line of the `emma` binary: serve locally (the default) and
//! the platform commands an operator runs on a fresh install.

use std::io::Write;

use clap::{Parser, Subcommand};

use crate::App;
use crate::domain::TenantName;
use crate::services::tenants;

#[derive(Debug, Parser)]
#[command(name = "emma", version, about = "EMMA, the e-mail marketing manager")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web UI, the API and the background steps (the default).
    Serve,
    /// Manage tenants (institutes).
    #[command(subcommand)]
    Tenant(TenantCommand),
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Register a new institute, e.g. `emma tenant create "Sparkasse Musterstadt"`.
    Create { name: String },
    /// List all institutes.
    List,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("invalid tenant name: {0}")]
    TenantName(#[from] crate::domain::TenantNameError),
    #[error(transparent)]
    Tenant(#[from] tenants::TenantError),
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}

/// Runs a platform command against the app, writing its result to `out`.
pub async fn run(app: &App, command: TenantCommand, out: &mut impl Write) -> Result<(), CliError> {
    match command {
        TenantCommand::Create { name } => {
            let tenant = tenants::create(app, TenantName::parse(&name)?).await?;
            writeln!(
                out,
                "created tenant {} ({})",
                tenant.id,
                tenant.name.as_str()
            )?;
        }
        TenantCommand::List => {
            for tenant in tenants::list(app).await? {
                let status = serde_json::to_value(tenant.status).unwrap_or_default();
                writeln!(
                    out,
                    "{}\t{}\t{}",
                    tenant.id,
                    status.as_str().unwrap_or_default(),
                    tenant.name.as_str()
                )?;
            }
        }
    }
    Ok(())
}
