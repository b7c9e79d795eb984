//! Stream leases: one holder at a time, taken over after expiry or at once when the
//! holder's presence session is gone, a page committed under a lost lease refused whole,
//! and a holder that lost its session proving itself alive again once it is back.

use std::time::{Duration, Instant};

use zoho_sync::loader::Loader;
use zoho_sync::store::{Claim, Holder, Lease, PageCommit, RunKind, StoreError};
use zoho_sync::stream::StreamKey;
use zoho_sync::zoho::Module;

use crate::loader_fixtures::{checkpoint_after, loader, page, request, stream};
use crate::support::database::TestDatabase;

fn holder(name: &str, pid: u32) -> Holder {
    Holder {
        name: name.into(),
        host: format!("host-{name}"),
        pid,
    }
}

fn taken(claim: Claim) -> Lease {
    match claim {
        Claim::Taken(lease) => lease,
        Claim::Held(holding) => panic!("the stream is held by {holding}"),
    }
}

/// A page committed under `lease` (one record), or why it was refused.
async fn commit_under(loader: &Loader, lease: &Lease) -> Result<(), StoreError> {
    let run = loader.start_run(RunKind::Backfill, "demo").await.unwrap();
    let records = [request(1, "late", "2024-01-01 00:00:00")];
    let checkpoint = checkpoint_after(1, 1);
    let commit = PageCommit {
        lease: Some(lease),
        ..page(&lease.stream, run, &records, &[], &checkpoint)
    };
    loader.commit_page(&commit).await.map(|_| ())
}

#[tokio::test]
async fn a_stream_is_leased_to_one_holder_until_the_lease_expires() {
    let db = TestDatabase::fresh().await;
    let loader = loader(&db).await;
    let key = stream(Module::Requests);
    let ttl = Duration::from_secs(1);
    let (a, b) = (holder("a", 1), holder("b", 2));
    let a_lease = taken(loader.take_lease(&key, &a, ttl).await.unwrap());
    let Claim::Held(holding) = loader.take_lease(&key, &b, ttl).await.unwrap() else {
        panic!("b took a's stream");
    };
    assert_eq!(
        (holding.host.as_deref(), holding.pid),
        (Some("host-a"), Some(1))
    );
    taken(loader.take_lease(&key, &a, ttl).await.unwrap());
    assert_eq!(
        loader.lease_holders().await.unwrap(),
        vec![(key.clone(), "a".to_string())]
    );

    // Both holders live in this process (one presence lock): only expiry frees the stream.
    let deadline = Instant::now() + Duration::from_secs(10);
    let b_lease = loop {
        if let Claim::Taken(lease) = loader.take_lease(&key, &b, ttl).await.unwrap() {
            break lease;
        }
        assert!(Instant::now() < deadline, "a's lease never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(b_lease.holder, "b");

    // a stalled past its lease: its page is refused and leaves nothing behind.
    let err = commit_under(&loader, &a_lease).await.unwrap_err();
    assert!(matches!(err, StoreError::LeaseLost { .. }), "{err}");
    assert_eq!(loader.mirror_count(&key).await.unwrap(), 0);
    assert!(
        !loader
            .checkpoint(&key, zoho_sync::stream::PassKind::Backfill)
            .await
            .unwrap()
            .in_progress
    );

    commit_under(&loader, &b_lease).await.unwrap();
    assert_eq!(loader.mirror_count(&key).await.unwrap(), 1);
    loader.release_lease(&b_lease).await.unwrap();
    assert!(loader.lease_holders().await.unwrap().is_empty());
}

/// The backend holding the presence lock named by `stream`'s lease row, if any.
async fn presence_backend(db: &TestDatabase, stream: &StreamKey) -> Option<i32> {
    sqlx::query_scalar(
        "SELECT k.pid FROM zoho.stream_leases s \
         JOIN pg_locks k ON k.locktype = 'advisory' AND k.granted AND k.objsubid = 1 \
          AND k.classid = ((s.holder_key >> 32) & 4294967295)::oid \
          AND k.objid = (s.holder_key & 4294967295)::oid \
         WHERE s.department = $1 AND s.module = $2",
    )
    .bind(&stream.department)
    .bind(stream.module.key())
    .fetch_optional(&db.pool)
    .await
    .expect("pg_locks")
}

/// Ends the session holding the presence lock of `stream`'s holder, as a database
/// restart or a cut network would; returns its backend's pid.
async fn end_presence_session(db: &TestDatabase, stream: &StreamKey) -> i32 {
    let backend = presence_backend(db, stream)
        .await
        .expect("the holder's presence session");
    let ended: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(backend)
        .fetch_one(&db.pool)
        .await
        .expect("terminate the session");
    assert!(ended, "the presence session was not ended");
    backend
}

#[tokio::test]
async fn a_holder_whose_session_is_gone_loses_its_stream_at_once_and_cannot_commit_after() {
    let db = TestDatabase::fresh().await;
    let (first, second) = (loader(&db).await, loader(&db).await);
    let key = stream(Module::Requests);
    // The default lease: only the lost session can free the stream in this test's time.
    let ttl = Duration::from_secs(120);
    let a_lease = taken(first.take_lease(&key, &holder("a", 1), ttl).await.unwrap());
    let b = holder("b", 2);
    assert!(matches!(
        second.take_lease(&key, &b, ttl).await.unwrap(),
        Claim::Held(_)
    ));

    let ended = end_presence_session(&db, &key).await;
    let started = Instant::now();
    let b_lease = loop {
        if let Claim::Taken(lease) = second.take_lease(&key, &b, ttl).await.unwrap() {
            break lease;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the stream stayed held"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(b_lease.holder, "b");

    // The fencing holds: a's page, committed after the takeover, is refused whole.
    let err = commit_under(&first, &a_lease).await.unwrap_err();
    assert!(matches!(err, StoreError::LeaseLost { .. }), "{err}");
    assert_eq!(first.mirror_count(&key).await.unwrap(), 0);

    // a takes its key again on a new session, and its leases are a live process's again.
    let other = StreamKey {
        department: "Other".into(),
        ..stream(Module::Requests)
    };
    let back = Instant::now();
    let a_other = loop {
        match first.take_lease(&other, &holder("a", 1), ttl).await {
            Ok(claim) => break taken(claim),
            Err(e) => assert!(e.is_retryable(), "{e}"),
        }
        assert!(
            back.elapsed() < Duration::from_secs(20),
            "a's presence never came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    while presence_backend(&db, &other)
        .await
        .is_none_or(|backend| backend == ended)
    {
        assert!(
            back.elapsed() < Duration::from_secs(20),
            "a never took its key again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(matches!(
        second.take_lease(&other, &b, ttl).await.unwrap(),
        Claim::Held(_)
    ));
    commit_under(&first, &a_other).await.unwrap();
}
