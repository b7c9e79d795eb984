//! Stream leases: one holder at a time, taken over after expiry, and a page committed
//! under a lost lease is refused whole.

use std::time::{Duration, Instant};

use zoho_sync::loader::{LoaderError, PageCommit, RunKind};
use zoho_sync::zoho::Module;

use crate::loader_fixtures::{checkpoint_after, loader, page, request, stream};
use crate::support::database::TestDatabase;

#[tokio::test]
async fn a_stream_is_leased_to_one_holder_until_the_lease_expires() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    let key = stream(Module::Requests);
    let ttl = Duration::from_secs(1);
    let a = loader
        .take_lease(&key, "a", ttl)
        .await
        .unwrap()
        .expect("a takes the free stream");
    assert!(loader.take_lease(&key, "b", ttl).await.unwrap().is_none());
    assert!(
        loader.take_lease(&key, "a", ttl).await.unwrap().is_some(),
        "a renews its own"
    );
    assert_eq!(
        loader.lease_holders().await.unwrap(),
        vec![(key.clone(), "a".to_string())]
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    let b = loop {
        if let Some(b) = loader.take_lease(&key, "b", ttl).await.unwrap() {
            break b;
        }
        assert!(Instant::now() < deadline, "a's lease never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(b.holder, "b");

    // a stalled past its lease: its page is refused and leaves nothing behind.
    let run = loader.start_run(RunKind::Backfill, "demo").await.unwrap();
    let records = [request(1, "late", "2024-01-01 00:00:00")];
    let checkpoint = checkpoint_after(1, 1);
    let commit = PageCommit {
        lease: Some(&a),
        ..page(&key, run, &records, &[], &checkpoint)
    };
    let err = loader.commit_page(&commit).await.unwrap_err();
    assert!(matches!(err, LoaderError::LeaseLost { .. }), "{err}");
    assert_eq!(loader.mirror_count(&key).await.unwrap(), 0);
    assert!(
        !loader
            .checkpoint(&key, zoho_sync::loader::PassKind::Backfill)
            .await
            .unwrap()
            .in_progress
    );

    let commit = PageCommit {
        lease: Some(&b),
        ..page(&key, run, &records, &[], &checkpoint)
    };
    loader.commit_page(&commit).await.unwrap();
    assert_eq!(loader.mirror_count(&key).await.unwrap(), 1);
    loader.release_lease(&b).await.unwrap();
    assert!(loader.lease_holders().await.unwrap().is_empty());
}
