//! The sweep's page commit. A sweep pages through a module's ids with the same anchored
//! cursor as any pass (ids ascend, so the cursor's test works on id-only pages), and
//! commits each page's ids with its checkpoint; the page that ends the sweep also
//! applies the deletions it found (see `loader::sweep`). A page holding a row whose id
//! cannot be read stops the sweep: concluding from it would mark that record deleted.

use std::sync::atomic::Ordering;

use chrono::Utc;

use super::{Pass, Pipeline, PipelineError};
use crate::store::{patiently, SweepCommit};
use crate::stream::Checkpoint;
use crate::zoho::codec::BadRow;
use crate::zoho::record::RecordId;

impl Pipeline {
    /// Commits the ids of one sweep page (the checkpoint already moved past it).
    pub(super) async fn commit_sweep(
        &self,
        pass: &Pass<'_>,
        checkpoint: &Checkpoint,
        ids: &[RecordId],
        bad_rows: &[BadRow],
        from: u32,
        starts: bool,
    ) -> Result<(), PipelineError> {
        if !bad_rows.is_empty() {
            for bad in bad_rows {
                tracing::warn!(from, error = %bad.error, "a sweep row has no readable id");
            }
            return Err(PipelineError::SweepUnreadable {
                stream: pass.stream.to_string(),
                rows: bad_rows.len(),
            });
        }
        let commit = SweepCommit {
            stream: pass.stream,
            run_id: pass.run_id,
            ids,
            checkpoint,
            starts,
            deletes: self.deletes,
            synced_at: Utc::now(),
            lease: pass.lease,
        };
        let stats = patiently("a sweep page commit", &self.cancel, || {
            self.store.commit_sweep_page(&commit)
        })
        .await?;
        self.progress.pages.fetch_add(1, Ordering::Relaxed);
        let done = !checkpoint.in_progress;
        if done {
            tracing::info!(deleted = stats.deleted, "sweep complete");
        }
        tracing::debug!(
            from,
            ids = ids.len(),
            seen = stats.seen,
            done,
            "sweep page committed"
        );
        Ok(())
    }
}
