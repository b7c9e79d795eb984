//! Opening the database: one direct connection first (so a refused connection or a bad
//! password fails at once with its real cause instead of a pool timeout), the target
//! schema created under an advisory lock, then the pool whose every connection has its
//! `search_path` set to that schema, and the migrations. Tables are created and used
//! unqualified, so everything of zoho-sync lives in the configured schema.
//!
//! Every session is pinned to `standard_conforming_strings = on` and `client_encoding =
//! UTF8` whatever the server, database or role default: DDL is built from server data
//! (custom field labels), and its quoting must mean what it says. sqlx's own statement and
//! pool logging is kept at TRACE: slow work is reported, briefly and throttled, by `slow`.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor, PgConnection, PgPool};
use tracing::log::LevelFilter;

use super::sql::quote_ident;
use super::{Loader, StoreError};
use crate::zoho::secret::Secret;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a statement waits for a free connection before failing (retryably).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(15);

/// Serialises `CREATE SCHEMA IF NOT EXISTS` across processes: run concurrently, it can
/// fail on the catalog's unique index.
const SCHEMA_LOCK_KEY: i64 = 0x7a6f_686f_5f73_6368; // "zoho_sch"

/// The session settings every connection is given before any other statement. Sent as
/// statements rather than startup options, which poolers such as PgBouncer refuse.
const SESSION_SETTINGS: &str = "SET standard_conforming_strings = on; SET client_encoding = 'UTF8'";

/// The slowest statement sqlx itself would report (at TRACE: see `quiet`).
const SQLX_SLOW_STATEMENT: Duration = Duration::from_secs(1);

impl Loader {
    /// Connects (pool), creates the target schema if missing, sets `search_path` to it on
    /// every connection and runs the migrations. Concurrent processes are safe: both the
    /// schema creation and sqlx's migrator take advisory locks.
    pub async fn connect(
        url: &Secret,
        schema: &str,
        max_connections: u32,
    ) -> Result<Loader, StoreError> {
        let quoted = quoted_schema(schema)?;
        let options = quiet(
            PgConnectOptions::from_str(url.expose()).map_err(|e| StoreError::connect(&e, url))?,
        );
        let mut first = PgConnection::connect_with(&options)
            .await
            .map_err(|e| StoreError::connect(&e, url))?;
        first.execute(SESSION_SETTINGS).await?;
        create_schema(&mut first, &quoted).await?;
        // A failed close only loses a connection we are done with.
        let _ = first.close().await;

        let settings = format!("{SESSION_SETTINGS}; SET search_path TO {quoted}");
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .acquire_time_level(LevelFilter::Off)
            .acquire_slow_level(LevelFilter::Trace)
            .after_connect(move |conn, _meta| {
                let settings = settings.clone();
                Box::pin(async move {
                    conn.execute(settings.as_str()).await?;
                    Ok(())
                })
            })
            .connect_lazy_with(options);
        let loader = Loader {
            pool,
            schema: schema.to_string(),
            known_fields: Default::default(),
            statistics: Default::default(),
            presence: Default::default(),
            desk_schema: super::DEFAULT_DESK_SCHEMA.into(),
            desk_ready: Default::default(),
        };
        loader.migrate().await?;
        // Creates the views of a new schema; a view that cannot be refreshed now (a
        // long reader holds it) is refreshed later and must not keep the command from
        // running.
        if let Err(error) = loader.refresh_views().await {
            tracing::warn!(%error, "the typed views could not be refreshed");
        }
        tracing::info!(schema, max_connections, "database ready");
        Ok(loader)
    }

    /// Applies the migrations not yet applied in the schema; a no-op when all are.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The schema every table lives in.
    pub fn schema(&self) -> &str {
        &self.schema
    }
}

/// sqlx logs every statement at DEBUG and a slow one at WARN, whole: down to TRACE.
fn quiet(options: PgConnectOptions) -> PgConnectOptions {
    options
        .log_statements(LevelFilter::Trace)
        .log_slow_statements(LevelFilter::Trace, SQLX_SLOW_STATEMENT)
}

async fn create_schema(conn: &mut PgConnection, quoted: &str) -> Result<(), StoreError> {
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SCHEMA_LOCK_KEY)
        .execute(&mut *tx)
        .await?;
    tx.execute(format!("CREATE SCHEMA IF NOT EXISTS {quoted}").as_str())
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The schema's name as `CREATE SCHEMA` and `search_path` take it.
fn quoted_schema(schema: &str) -> Result<String, StoreError> {
    quote_ident(schema).map_err(|_| StoreError::SchemaName(schema.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_name_is_quoted_or_refused_as_a_schema_name_error() {
        assert_eq!(quoted_schema("Zoho\"s").unwrap(), "\"Zoho\"\"s\"");
        for bad in ["", "a\0b", &"x".repeat(64)] {
            let error = quoted_schema(bad).unwrap_err();
            assert!(matches!(error, StoreError::SchemaName(_)), "{error}");
        }
    }
}
