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
    /// Manage users: the first operator of a fresh install, product admins,
    /// or a tenant's first admin.
    #[command(subcommand)]
    User(UserCommand),
    /// Single sign-on with the local development issuer.
    #[command(subcommand)]
    Sso(SsoCommand),
    /// Work with a local AWS emulator (moto, LocalStack).
    #[command(subcommand)]
    Emulator(EmulatorCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user with a one-time password, printed once, e.g.
    /// `emma user create admin@example.de --role operator`.
    Create {
        email: String,
        /// operator, product_admin, tenant_admin, editor or viewer.
        #[arg(long)]
        role: String,
        /// The tenant, for tenant roles.
        #[arg(long)]
        tenant: Option<String>,
        /// The name shown in EMMA; the address when absent.
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SsoCommand {
    /// Mint a bearer token of the local development issuer, e.g.
    /// `emma sso token anna@example.de --tenant sparkasse-x-1a2b3c --role editor`.
    Token {
        email: String,
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        role: Option<String>,
        #[arg(long)]
        name: Option<String>,
        /// Minutes the token is valid.
        #[arg(long, default_value_t = 60)]
        minutes: i64,
    },
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
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error(transparent)]
    User(#[from] crate::services::users::UserError),
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

/// Creates a user with a one-time password and prints it.
pub async fn run_user(
    app: &App,
    command: UserCommand,
    out: &mut impl Write,
) -> Result<(), CliError> {
    use crate::domain::{EmailAddress, PersonName, Role, TenantId};
    use crate::services::users::{self, NewUser};
    let UserCommand::Create {
        email,
        role,
        tenant,
        name,
    } = command;
    let invalid = |field, reason: String| CliError::Invalid { field, reason };
    let email = EmailAddress::parse(&email).map_err(|e| invalid("email", e.to_string()))?;
    let role = Role::parse(&role).ok_or_else(|| {
        invalid(
            "--role",
            "operator, product_admin, tenant_admin, editor or viewer".to_owned(),
        )
    })?;
    let tenant = match tenant {
        Some(raw) => {
            let id = TenantId::parse(&raw).map_err(|e| invalid("--tenant", e.to_string()))?;
            tenants::get(app, &id).await?;
            Some(id)
        }
        None => None,
    };
    if role.is_tenant_role() != tenant.is_some() {
        return Err(invalid(
            "--tenant",
            format!(
                "the role {} needs --tenant exactly when it is a tenant role",
                role.as_str()
            ),
        ));
    }
    let name = PersonName::parse(name.as_deref().unwrap_or(email.as_str()))
        .map_err(|e| invalid("--name", e.to_owned()))?;
    let (user, password) = users::create_with_one_time_password(
        app,
        NewUser {
            tenant,
            email,
            name,
            role,
            password_hash: None,
        },
    )
    .await?;
    writeln!(
        out,
        "created {} {} ({})",
        role.as_str(),
        user.email,
        user.id
    )?;
    writeln!(out, "one-time password: {password}")?;
    writeln!(
        out,
        "It is shown only now; it must be changed at the first sign-in."
    )?;
    Ok(())
}

/// Mints a development token and prints it (local mode without a corporate issuer).
pub fn run_sso(
    runtime: &crate::bootstrap::Runtime,
    command: SsoCommand,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let SsoCommand::Token {
        email,
        tenant,
        role,
        name,
        minutes,
    } = command;
    let issuer = runtime
        .dev_issuer
        .as_ref()
        .ok_or_else(|| CliError::Invalid {
            field: "sso",
            reason: "the development issuer runs only locally without EMMA_OIDC_ISSUER".to_owned(),
        })?;
    let mut claims = crate::auth::dev_issuer::DevClaims::new(email.clone());
    claims.email = Some(email);
    claims.tenant = tenant;
    claims.role = role;
    claims.name = name;
    claims.ttl = chrono::TimeDelta::minutes(minutes);
    let token = issuer
        .mint(claims, runtime.app.clock.now())
        .map_err(|e| CliError::Invalid {
            field: "sso",
            reason: e.to_string(),
        })?;
    writeln!(out, "{token}")?;
    Ok(())
}
