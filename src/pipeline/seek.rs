//! Passes of a source paged by modification time (Zoho Desk's search): the walk of
//! `stream::seek` asks for the rows modified in a range, and each page says where the
//! next starts, so pages follow one another strictly (no read-ahead: the next request is
//! unknown until this page is read). A backfill walks from the beginning of time; an
//! incremental pass from a little before the last pass's range ended. Every row a page
//! serves is stored (a row met again is stored again, harmlessly), and the walk's state
//! commits with the rows, so a stop resumes inside a range, even inside a tie group. An
//! incremental pass of Zoho Desk tickets walks its range twice: by modification time,
//! then by the customer's last response, which may move alone (contract §4.3).

use chrono::{DateTime, Utc};

use super::{fetch_end, split, Pass, PassEnd, Pipeline, PipelineError};
use crate::source::Request;
use crate::stream::seek::{Leg, Mark, Seek, SeekStep, TimeOrder};
use crate::stream::{Checkpoint, PassKind};

/// Where a backfill's walk starts: before any Zoho Desk record was written.
pub const BEGINNING: DateTime<Utc> = DateTime::UNIX_EPOCH;

impl Pipeline {
    pub(super) async fn seek_pages(
        &self,
        pass: &Pass<'_>,
        mut checkpoint: Checkpoint,
    ) -> Result<PassEnd, PipelineError> {
        let mut seek = self.walk_start(pass, &checkpoint)?;
        let limit = self.fetcher.page_rows(pass.stream.module);
        tracing::debug!(lo = %seek.lo, hi = %seek.hi, "pass starts");
        loop {
            if self.cancel.is_cancelled() {
                return Ok(PassEnd::Cancelled);
            }
            let (page, step) = if seek.is_empty() {
                (Vec::new(), SeekStep::Done)
            } else {
                let order = order_of(pass.kind, seek.leg);
                let request = Request::Seek {
                    range: seek.request(limit),
                    order,
                };
                let page = match self.fetcher.get_page(pass.stream.module, request).await {
                    Ok(page) => page,
                    Err(e) => return fetch_end(e),
                };
                checkpoint.pass_started_at = checkpoint.pass_started_at.or(Some(page.server_time));
                let marks: Vec<Mark> = page.rows.iter().map(|r| r.mark).collect();
                let step =
                    seek.step(limit, &marks, order)
                        .map_err(|fault| PipelineError::Seek {
                            stream: pass.stream.to_string(),
                            from: seek.lo,
                            fault,
                        })?;
                (page.rows, step)
            };
            let (next, done) = match step {
                SeekStep::More(next) => (next, false),
                SeekStep::Done => match self.second_leg(pass, &checkpoint, seek) {
                    Some(responses) => (responses, false),
                    None if self.reads_archives(pass) => {
                        return self.end_with_archives(pass, checkpoint, seek, page).await;
                    }
                    None => (seek, true),
                },
            };
            seek = next;
            advance(&mut checkpoint, seek, done);
            let served = page.len();
            self.commit_rows(pass, &checkpoint, &split(page, served), 0, done)
                .await?;
            if done {
                return Ok(PassEnd::Completed);
            }
        }
    }

    /// Whether the pass is a reconciliation that must read its module's archives too.
    fn reads_archives(&self, pass: &Pass<'_>) -> bool {
        pass.kind == PassKind::Sweep && self.fetcher.reads_archives(pass.stream.module)
    }

    /// The walk by the customer's response that follows a finished walk by modification
    /// time, for an incremental pass of a module that needs one: the same range, from
    /// the pass's start.
    fn second_leg(&self, pass: &Pass<'_>, checkpoint: &Checkpoint, seek: Seek) -> Option<Seek> {
        let needed = pass.kind == PassKind::Incremental
            && seek.leg == Leg::Modified
            && self.fetcher.reads_responses(pass.stream.module);
        // The watermark moves only when the pass completes: it is still where it began.
        let lo = checkpoint.watermark.filter(|_| needed)?;
        Some(seek.responses(lo))
    }

    /// Where a walk over a range stands as its pass starts: where it stopped, or at the
    /// start of a fresh range.
    pub(super) fn walk_start(
        &self,
        pass: &Pass<'_>,
        checkpoint: &Checkpoint,
    ) -> Result<Seek, PipelineError> {
        match checkpoint.seek.filter(|_| checkpoint.in_progress) {
            Some(seek) => Ok(seek),
            None => Ok(Seek::start(
                self.seek_from(pass, checkpoint)?,
                self.fetcher.server_now(),
            )),
        }
    }

    /// The lower end of a fresh pass's range.
    fn seek_from(
        &self,
        pass: &Pass<'_>,
        checkpoint: &Checkpoint,
    ) -> Result<DateTime<Utc>, PipelineError> {
        match pass.kind {
            PassKind::Backfill | PassKind::Sweep => Ok(BEGINNING),
            // `start` set it from the last pass, or from the completed backfill.
            PassKind::Incremental => checkpoint.watermark.ok_or(PipelineError::NoWatermark {
                stream: pass.stream.to_string(),
            }),
        }
    }
}

/// What a pass walks by: a reconciliation (the sweep of a source paged by time) reads
/// every record by creation time, which never moves, so none can slip past it; other
/// passes by modification time, then, on their second leg, by the customer's response.
fn order_of(kind: PassKind, leg: Leg) -> TimeOrder {
    match (kind, leg) {
        (PassKind::Sweep, _) => TimeOrder::Created,
        (_, Leg::Modified) => TimeOrder::Modified,
        (_, Leg::Responses) => TimeOrder::Responded,
    }
}

/// The checkpoint after a page: the walk's state, and on the last page the pass's end
/// and where the next incremental pass starts.
pub(super) fn advance(checkpoint: &mut Checkpoint, seek: Seek, done: bool) {
    checkpoint.seek = Some(seek);
    checkpoint.in_progress = !done;
    if done {
        checkpoint.completed_at = Some(Utc::now());
        checkpoint.passes += 1;
        checkpoint.watermark = Some(Seek::next_lo(seek.hi));
    }
}
