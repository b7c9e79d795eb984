//! A fresh PostgreSQL database per test: created on the server named by `DATABASE_URL`
//! (or, where Docker exists and no URL is set, in a testcontainers PostgreSQL), dropped
//! when the test's `TestDatabase` goes away. A test that needs PostgreSQL and finds none
//! fails loudly; it never skips.

use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use url::Url;
use zoho_sync::loader::sql::quote_ident;

pub struct TestDatabase {
    pub url: String,
    pub pool: PgPool,
    name: String,
    admin_url: String,
    _container: Option<Box<dyn std::any::Any + Send>>,
}

impl TestDatabase {
    pub async fn fresh() -> TestDatabase {
        let (admin_url, container) = server_url().await;
        let name = format!("zs_test_{}_{}", std::process::id(), rand::random::<u32>());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to PostgreSQL at {admin_url}: {e}"));
        sqlx::query(&format!("CREATE DATABASE {}", quoted(&name)))
            .execute(&mut admin)
            .await
            .expect("create the test database");
        let mut url = Url::parse(&admin_url).expect("DATABASE_URL is a URL");
        url.set_path(&format!("/{name}"));
        let url = url.to_string();
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect(&url)
            .await
            .expect("connect to the test database");
        TestDatabase {
            url,
            pool,
            name,
            admin_url,
            _container: container,
        }
    }
}

/// A database's name as DDL takes it.
fn quoted(name: &str) -> String {
    quote_ident(name).expect("a test database's name is a plain identifier")
}

async fn server_url() -> (String, Option<Box<dyn std::any::Any + Send>>) {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        return (url, None);
    }
    if std::path::Path::new("/var/run/docker.sock").exists() {
        use testcontainers_modules::testcontainers::runners::AsyncRunner;
        let container = testcontainers_modules::postgres::Postgres::default()
            .start()
            .await
            .expect("start a PostgreSQL container");
        let port = container
            .get_host_port_ipv4(5432)
            .await
            .expect("container port");
        let url = format!("postgres://postgres:postgres@127.0.0.1:{port}/postgres");
        return (url, Some(Box::new(container)));
    }
    panic!(
        "this test needs PostgreSQL: set DATABASE_URL (e.g. \
         postgres://postgres@127.0.0.1:5432/postgres) or run where Docker is available"
    );
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside any runtime guarantee; a short-lived thread with its own
        // runtime cleans up without blocking the test's runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                        let drop =
                            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quoted(&name));
                        let _ = sqlx::query(&drop).execute(&mut admin).await;
                    }
                });
            }
        })
        .join();
    }
}
