//! What `loader::sql` quotes, PostgreSQL reads back as the very string it was given,
//! under either setting of `standard_conforming_strings` (a role or database default we
//! do not choose may turn it off, and then a backslash escapes a quote).

use sqlx::{Column, Connection, PgConnection, Row};
use zoho_sync::loader::sql::{quote_ident, quote_literal, MAX_IDENT_BYTES};

use crate::support::database::TestDatabase;

const VALUES: [&str; 10] = [
    "plain",
    "",
    "it's",
    "\\",
    "\\'",
    "x'); DROP TABLE runs; --",
    "C:\\temp\\'s \"notes\" \\",
    "E'x'",
    "line\nbreak\ttab",
    "Prioridad Día ✓ 😀",
];

#[tokio::test]
async fn quoted_literals_and_identifiers_read_back_as_themselves_whatever_the_session() {
    let database = TestDatabase::fresh().await;
    let long = "n".repeat(MAX_IDENT_BYTES);
    let names = [
        "a\"b",
        "Select",
        "select",
        "x\"; DROP TABLE runs; --",
        "back\\slash'",
        &long,
    ];
    for setting in ["on", "off"] {
        let mut conn = PgConnection::connect(&database.url).await.unwrap();
        sqlx::query(&format!("SET standard_conforming_strings = {setting}"))
            .execute(&mut conn)
            .await
            .unwrap();
        for value in VALUES {
            let sql = format!("SELECT {}::text", quote_literal(value).unwrap());
            let read: String = sqlx::query_scalar(&sql)
                .fetch_one(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql} (standard_conforming_strings {setting}): {e}"));
            assert_eq!(read, value, "standard_conforming_strings {setting}");
        }
        for name in names {
            let sql = format!("SELECT 1 AS {}", quote_ident(name).unwrap());
            let row = sqlx::query(&sql).fetch_one(&mut conn).await.unwrap();
            assert_eq!(row.columns()[0].name(), name, "{sql}");
        }
    }
}
