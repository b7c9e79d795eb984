//! One stream's retry: its lease taken (a live holder's stream is left to it), each record
//! its letters name read once by id through the fetcher (reserved first, retried under
//! the one policy, cut short by a stop) and settled by the loader before the next is
//! read, then the lease given back within a bounded wait. A record whose request or
//! settling failed stays untried, with every record after it: the stream ends there.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono_tz::Tz;
use tokio_util::sync::CancellationToken;

use super::verdict::{group, judge, Groups};
use super::{LetterOutcome, Outcome, StreamEnd, StreamRetry};
use crate::fetcher::{FetchError, Fetcher};
use crate::loader::{DeadLetter, Loader, Reread, Settle};
use crate::pipeline::run::CLEANUP_TIMEOUT;
use crate::source::{Failure, Request};
use crate::store::{patiently, Claim, DeleteMode, Holder, Lease, StoreError};
use crate::stream::StreamKey;

/// What a stream's retry works with.
pub(super) struct StreamRun<'a> {
    pub loader: &'a Loader,
    pub fetcher: &'a Fetcher,
    pub run_id: i64,
    pub zone: Tz,
    pub lease_ttl: Duration,
    pub deletes: DeleteMode,
    pub cancel: &'a CancellationToken,
}

/// The outcome each letter has so far, by letter id: no id, or untried until settled.
type Outcomes = BTreeMap<i64, (Outcome, Option<String>)>;

impl StreamRun<'_> {
    /// Retries `letters` (the stream's, oldest first).
    pub(super) async fn retry(&self, stream: StreamKey, letters: &[DeadLetter]) -> StreamRetry {
        let groups = group(letters);
        let mut outcomes = initial(&groups);
        if groups.records.is_empty() {
            return finish(stream, letters, outcomes, 0, StreamEnd::Done);
        }
        let before = self.fetcher.requests();
        let end = match self.take(&stream).await {
            Ok(lease) => {
                let end = self.settle_all(&groups, &lease, &mut outcomes).await;
                self.release(&lease).await;
                end
            }
            Err(end) => end,
        };
        let requests = self.fetcher.requests() - before;
        finish(stream, letters, outcomes, requests, end)
    }

    /// Takes the stream's lease, or says why the stream cannot be retried now.
    async fn take(&self, stream: &StreamKey) -> Result<Lease, StreamEnd> {
        let claim = patiently("taking a lease", self.cancel, || {
            self.loader
                .take_lease(stream, Holder::this_process(), self.lease_ttl)
        })
        .await;
        match claim {
            Ok(Claim::Taken(lease)) => Ok(lease),
            Ok(Claim::Held(holding)) => {
                tracing::info!(
                    %stream, host = holding.host.as_deref().unwrap_or("?"),
                    pid = holding.pid.unwrap_or(0), since = %holding.since,
                    "a live process holds this stream; its letters are left for later"
                );
                Err(StreamEnd::Held(holding))
            }
            Err(e) => Err(store_end(e)),
        }
    }

    async fn release(&self, lease: &Lease) {
        let stream = &lease.stream;
        match tokio::time::timeout(CLEANUP_TIMEOUT, self.loader.release_lease(lease)).await {
            Ok(Ok(())) => {}
            // The lease expires by itself, or goes with this process's presence.
            Ok(Err(error)) => {
                tracing::warn!(%stream, %error, "cannot release the stream's lease")
            }
            Err(_) => tracing::warn!(%stream, "releasing the stream's lease timed out"),
        }
    }

    /// Reads and settles each record in turn, until done or something stops the stream.
    async fn settle_all(
        &self,
        groups: &Groups,
        lease: &Lease,
        outcomes: &mut Outcomes,
    ) -> StreamEnd {
        let stream = &lease.stream;
        for (id, letters) in &groups.records {
            if self.cancel.is_cancelled() {
                return StreamEnd::Stopped;
            }
            let request = Request::ById { id: *id };
            let page = match self.fetcher.get_page(stream.module, request).await {
                Ok(page) => page,
                Err(e) => return self.fetch_end(e),
            };
            let reread = judge(*id, page.rows);
            let settle = Settle {
                stream,
                record_id: *id,
                reread: &reread,
                run_id: self.run_id,
                lease,
                zone: self.zone,
                synced_at: page.server_time,
                deletes: self.deletes,
            };
            if let Err(e) = self.loader.settle_letters(&settle).await {
                return store_end(e);
            }
            let (outcome, error) = match reread {
                Reread::Loaded(_) => (Outcome::Loaded, None),
                Reread::StillBad(error) => (Outcome::StillBad, Some(error)),
                Reread::Gone => (Outcome::Gone, None),
            };
            tracing::info!(
                %stream, record = %id, outcome = outcome.as_str(), letters = letters.len(),
                "dead letter retried"
            );
            for letter in letters {
                outcomes.insert(*letter, (outcome, error.clone()));
            }
        }
        StreamEnd::Done
    }
}

impl StreamRun<'_> {
    /// How a failed fetch ends the stream.
    fn fetch_end(&self, error: FetchError) -> StreamEnd {
        match error {
            FetchError::BudgetSpent { resets_at } => StreamEnd::BudgetSpent { resets_at },
            // No allowance is set on a retry's fetchers; were one, it is a budget too.
            FetchError::AllowanceSpent => StreamEnd::BudgetSpent {
                resets_at: self.fetcher.quota_day().1,
            },
            FetchError::Cancelled => StreamEnd::Stopped,
            FetchError::Source(e) if e.failure == Failure::Auth => StreamEnd::AuthFailed(e.detail),
            FetchError::Source(e) => StreamEnd::Failed(e.detail),
            FetchError::Store(e) => store_end(e),
        }
    }
}

/// A stream not tried at all (`end` says why): its letters with ids untried.
pub(super) fn untried(stream: StreamKey, letters: &[DeadLetter], end: StreamEnd) -> StreamRetry {
    let outcomes = initial(&group(letters));
    finish(stream, letters, outcomes, 0, end)
}

fn initial(groups: &Groups) -> Outcomes {
    let no_id = groups.no_id.iter().map(|l| (*l, (Outcome::NoId, None)));
    let with_id = groups
        .records
        .iter()
        .flat_map(|(_, letters)| letters)
        .map(|l| (*l, (Outcome::Untried, None)));
    no_id.chain(with_id).collect()
}

fn finish(
    stream: StreamKey,
    letters: &[DeadLetter],
    mut outcomes: Outcomes,
    requests: u64,
    end: StreamEnd,
) -> StreamRetry {
    let letters = letters
        .iter()
        .map(|l| {
            let (outcome, error) = outcomes.remove(&l.id).unwrap_or((Outcome::NoId, None));
            LetterOutcome {
                letter: l.id,
                record_id: l.record_id,
                outcome,
                error,
            }
        })
        .collect();
    StreamRetry {
        stream,
        letters,
        requests,
        end,
    }
}

fn store_end(error: StoreError) -> StreamEnd {
    match error {
        StoreError::Cancelled { .. } => StreamEnd::Stopped,
        e => StreamEnd::Failed(e.to_string()),
    }
}
