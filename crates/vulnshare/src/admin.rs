//! `vulnshare admin`: operator commands that act on the database directly (every change is
//! still audited, with no acting user).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::Subcommand;
use jiff::Timestamp;
use vulnshare_core::organization::{NewOrganization, OrganizationKind};
use vulnshare_core::token::{NewToken, TokenScope};
use vulnshare_core::user::{NewUser, Role};
use vulnshare_server::service::{self, TokenIssuer};
use vulnshare_store::{Store, StoreError};

use crate::config::DatabaseArgs;

/// Operator commands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create the platform operator's organization and its first platform administrator, and
    /// print an API token for them.
    Bootstrap {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Name of the operator's organization.
        #[arg(long, default_value = "Platform Operator")]
        org_name: String,
        /// Country code of the operator.
        #[arg(long, default_value = "CN")]
        country: String,
        /// E-mail of the first administrator.
        #[arg(long)]
        email: String,
        /// Their password (at least 12 characters); prefer the environment variable.
        #[arg(long, env = "VULNSHARE_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create an organization.
    CreateOrg {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Display name.
        #[arg(long)]
        name: String,
        /// provider, operator, researcher, monitoring_institution, regulator or coordinator.
        #[arg(long)]
        kind: String,
        /// ISO 3166-1 alpha-2 country code.
        #[arg(long)]
        country: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create a user in an organization (by name or id).
    CreateUser {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Organization name or id.
        #[arg(long)]
        org: String,
        /// Login e-mail.
        #[arg(long)]
        email: String,
        /// Name shown to others.
        #[arg(long)]
        display_name: String,
        /// Password (at least 12 characters); prefer the environment variable.
        #[arg(long, env = "VULNSHARE_USER_PASSWORD", hide_env_values = true)]
        password: String,
        /// Roles (repeatable): member, org_admin, analyst, regulator, platform_admin.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make an organization a CVE Numbering Authority for the CVE Services API (its short name
    /// is the CVE-API-ORG header), or change its short name or CVE id quota.
    SetCna {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Organization name or id.
        #[arg(long)]
        org: String,
        /// CVE Services short name: 2 to 32 letters, digits, _ or -.
        #[arg(long)]
        short_name: String,
        /// How many CVE ids the CNA may hold in the RESERVED state at once.
        #[arg(long, default_value_t = 100)]
        id_quota: i64,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Issue an API token for a user (the secret is printed once). A token named
    /// `cve-services` is what the CVE Services API's reset_secret replaces.
    CreateToken {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The user's e-mail.
        #[arg(long)]
        email: String,
        /// A label for the token.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Scopes (repeatable): read, write, admin. Default: read and write.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Lifetime in days.
        #[arg(long, default_value_t = 90)]
        days: i64,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a consistent, checksummed copy of the whole database (both engines; the server
    /// may keep running) to FILE. The file holds password hashes and signing keys: it is made
    /// readable by its owner only.
    Backup {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Where to write the backup (gzip JSON lines).
        file: PathBuf,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Restore a backup (from either engine) into this database, in one transaction. Stop the
    /// servers first. An empty database is required unless --force.
    Restore {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The backup file.
        file: PathBuf,
        /// Replace everything in a database that already holds data.
        #[arg(long)]
        force: bool,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn api_error(e: vulnshare_server::error::AppError) -> anyhow::Error {
    match e {
        vulnshare_server::error::AppError::Invalid(errors) => anyhow!(
            "invalid input: {}",
            errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow!("{other}"),
    }
}

async fn find_org(
    store: &Store,
    name_or_id: &str,
) -> Result<vulnshare_core::organization::Organization> {
    match store.organization(name_or_id).await {
        Ok(o) => Ok(o),
        Err(StoreError::NotFound(_)) => store
            .organization_by_name(name_or_id)
            .await
            .with_context(|| format!("no organization has the id or name {name_or_id:?}")),
        Err(e) => Err(e.into()),
    }
}

fn print(json: bool, value: &serde_json::Value, text: String) {
    if json {
        println!("{value}");
    } else {
        println!("{text}");
    }
}

/// Runs an admin command.
pub async fn run(cmd: AdminCommand) -> Result<ExitCode> {
    let now = Timestamp::now();
    match cmd {
        AdminCommand::Bootstrap {
            db,
            org_name,
            country,
            email,
            password,
            json,
        } => {
            let store = db.connect().await?;
            let org = service::create_organization(
                &store,
                None,
                NewOrganization {
                    name: org_name,
                    kind: OrganizationKind::Coordinator,
                    country,
                },
                now,
            )
            .await
            .map_err(api_error)?;
            let user = service::create_user(
                &store,
                None,
                &org.id,
                NewUser {
                    email,
                    display_name: "Platform administrator".into(),
                    password,
                    roles: vec![Role::PlatformAdmin, Role::Analyst],
                },
                now,
            )
            .await
            .map_err(api_error)?;
            let token = service::create_token(
                &store,
                TokenIssuer::Operator,
                &user,
                NewToken {
                    name: "bootstrap".into(),
                    scopes: vec![TokenScope::Read, TokenScope::Write, TokenScope::Admin],
                    expires_in_days: Some(30),
                },
                now,
            )
            .await
            .map_err(api_error)?;
            print(
                json,
                &serde_json::json!({"organization": org, "user": user, "token": token}),
                format!(
                    "organization {} ({})\nplatform administrator {} ({})\ntoken {}",
                    org.name, org.id, user.email, user.id, token.secret
                ),
            );
        }
        AdminCommand::CreateOrg {
            db,
            name,
            kind,
            country,
            json,
        } => {
            let store = db.connect().await?;
            let kind = OrganizationKind::parse(&kind).ok_or_else(|| {
                anyhow!("unknown kind {kind:?}: use provider, operator, researcher, monitoring_institution, regulator or coordinator")
            })?;
            let org = service::create_organization(
                &store,
                None,
                NewOrganization {
                    name,
                    kind,
                    country,
                },
                now,
            )
            .await
            .map_err(api_error)?;
            print(
                json,
                &serde_json::to_value(&org)?,
                format!("organization {} ({})", org.name, org.id),
            );
        }
        AdminCommand::CreateUser {
            db,
            org,
            email,
            display_name,
            password,
            roles,
            json,
        } => {
            let store = db.connect().await?;
            let org = find_org(&store, &org).await?;
            let roles = roles
                .iter()
                .map(|r| Role::parse(r).ok_or_else(|| anyhow!("unknown role {r:?}")))
                .collect::<Result<Vec<_>>>()?;
            let user = service::create_user(
                &store,
                None,
                &org.id,
                NewUser {
                    email,
                    display_name,
                    password,
                    roles,
                },
                now,
            )
            .await
            .map_err(api_error)?;
            print(
                json,
                &serde_json::to_value(&user)?,
                format!("user {} ({}) in {}", user.email, user.id, org.name),
            );
        }
        AdminCommand::SetCna {
            db,
            org,
            short_name,
            id_quota,
            json,
        } => {
            let store = db.connect().await?;
            let org = find_org(&store, &org).await?;
            service::cve::set_cna(&store, &org.id, &short_name, id_quota, now)
                .await
                .map_err(api_error)?;
            print(
                json,
                &serde_json::json!({"organization_id": org.id, "short_name": short_name, "id_quota": id_quota}),
                format!(
                    "{} is CNA {short_name} with a quota of {id_quota} reserved CVE ids",
                    org.name
                ),
            );
        }
        AdminCommand::CreateToken {
            db,
            email,
            name,
            scopes,
            days,
            json,
        } => {
            let store = db.connect().await?;
            let creds = store
                .credentials(&email.trim().to_ascii_lowercase())
                .await
                .with_context(|| format!("no user has the e-mail {email}"))?;
            let scopes = scopes
                .iter()
                .map(|s| {
                    TokenScope::parse(s)
                        .ok_or_else(|| anyhow!("unknown scope {s:?}: use read, write or admin"))
                })
                .collect::<Result<Vec<_>>>()?;
            let token = service::create_token(
                &store,
                TokenIssuer::Operator,
                &creds.user,
                NewToken {
                    name,
                    scopes,
                    expires_in_days: Some(days),
                },
                now,
            )
            .await
            .map_err(api_error)?;
            print(json, &serde_json::to_value(&token)?, token.secret.clone());
        }
        AdminCommand::Backup { db, file, json } => {
            let store = db.connect().await?;
            let summary = store.backup_to_file(&file, now).await?;
            print(
                json,
                &serde_json::to_value(&summary)?,
                format!(
                    "backup written to {}: {} rows in {} tables, schema version {}, SHA-256 {}",
                    file.display(),
                    summary.rows,
                    summary.tables.len(),
                    summary.schema_version,
                    summary.sha256
                ),
            );
        }
        AdminCommand::Restore {
            db,
            file,
            force,
            json,
        } => {
            // Check the file before touching (or even creating) the target database.
            Store::check_backup_file(&file)?;
            let store = db.connect().await?;
            let summary = store.restore_from_file(&file, force).await?;
            let audit = summary.audit.as_ref().expect("restore verifies the chain");
            print(
                json,
                &serde_json::to_value(&summary)?,
                format!(
                    "restored {} rows in {} tables from a {} backup of {}; audit chain {}",
                    summary.rows,
                    summary.tables.len(),
                    summary.source_backend,
                    summary.created_at,
                    match &audit.error {
                        None => format!("OK: {} entries", audit.entries),
                        Some(e) => format!("BROKEN: {e}"),
                    }
                ),
            );
            if audit.error.is_some() {
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
