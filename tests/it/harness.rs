//! The harness itself: each test's database is its own and starts empty.

use crate::support::database::TestDatabase;

#[tokio::test]
async fn each_test_gets_a_fresh_empty_database_of_its_own() {
    let a = TestDatabase::fresh().await;
    let b = TestDatabase::fresh().await;
    assert_ne!(a.url, b.url);
    sqlx::query("CREATE TABLE marker (id int)")
        .execute(&a.pool)
        .await
        .unwrap();
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_one(&b.pool)
    .await
    .unwrap();
    assert_eq!(tables, 0);
}
