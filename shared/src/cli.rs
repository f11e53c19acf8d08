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
    /// Work with a local AWS emulator (moto, LocalStack).
    #[command(subcommand)]
    Emulator(EmulatorCommand),
}

#[derive(Debug, Subcommand)]
pub enum EmulatorCommand {
    /// Create the table, bucket and queues in the emulator at AWS_ENDPOINT_URL
    /// and print the variables that run EMMA on them.
    Provision {
        /// Names start with this, e.g. `emma-table`.
        #[arg(long, default_value = "emma")]
        prefix: String,
    },
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
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Provision(#[from] crate::adapters::emulator::ProvisionError),
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

/// Provisions EMMA's resources in the emulator and prints how to use them.
/// Runs before (and without) the app: the app needs these resources.
pub async fn provision_emulator(prefix: &str, out: &mut impl Write) -> Result<(), CliError> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|e| !e.is_empty());
    let sdk = crate::adapters::aws::sdk_config(endpoint.as_deref()).await;
    let sender = std::env::var("EMMA_MAIL_FROM")
        .unwrap_or_else(|_| crate::config::DEFAULT_MAIL_FROM.to_owned());
    let sender = crate::domain::EmailAddress::parse(&sender).map_err(|e| {
        crate::config::ConfigError::Invalid {
            name: "EMMA_MAIL_FROM",
            reason: e.to_string(),
        }
    })?;
    let resources = crate::adapters::emulator::provision(&sdk, prefix, sender.domain()).await?;
    writeln!(out, "export EMMA_BACKEND=aws")?;
    writeln!(out, "export EMMA_TABLE={}", resources.table)?;
    writeln!(out, "export EMMA_BUCKET={}", resources.bucket)?;
    writeln!(
        out,
        "export EMMA_JOBS_QUEUE_URL={}",
        resources.jobs_queue_url
    )?;
    Ok(())
}
