//! A reconciliation's read of the archives (Zoho Desk's archived tickets, contract D25):
//! archived records are shown by neither the list nor the search a reconciliation walks,
//! so before its last page retires what the walk did not see, the pass lists the
//! organisation's departments and reads each one's archive, storing its records and
//! stamping them seen like the walk's. The walk's range is kept exhausted meanwhile, so a
//! pass stopped here resumes by reading the archives again (they hold few records).

use super::seek::advance;
use super::{fetch_end, split, Pass, PassEnd, Pipeline, PipelineError};
use crate::source::{Request, Row};
use crate::stream::seek::Seek;
use crate::stream::Checkpoint;

/// Archived records one request reads.
const ARCHIVE_PAGE: u32 = 100;

impl Pipeline {
    /// Ends a reconciliation whose walk is read (`last` its final page's rows): stores
    /// them, reads the archives, then commits the pass's last page, which retires what
    /// neither showed.
    pub(super) async fn end_with_archives(
        &self,
        pass: &Pass<'_>,
        mut checkpoint: Checkpoint,
        seek: Seek,
        last: Vec<Row>,
    ) -> Result<PassEnd, PipelineError> {
        let exhausted = seek.exhausted();
        advance(&mut checkpoint, exhausted, false);
        let served = last.len();
        self.commit_rows(pass, &checkpoint, &split(last, served), 0, false)
            .await?;
        if let Some(end) = self.read_archives(pass, &checkpoint).await? {
            return Ok(end);
        }
        advance(&mut checkpoint, exhausted, true);
        self.commit_rows(pass, &checkpoint, &split(Vec::new(), 0), 0, true)
            .await?;
        Ok(PassEnd::Completed)
    }

    /// Reads every department's archive into the reconciliation; `Some` when the pass
    /// ended before (a budget spent, a stop).
    async fn read_archives(
        &self,
        pass: &Pass<'_>,
        checkpoint: &Checkpoint,
    ) -> Result<Option<PassEnd>, PipelineError> {
        let departments = match self
            .listed_ids(pass, |from, limit| Request::Departments { from, limit })
            .await
        {
            Ok(ids) => ids,
            Err(e) => return fetch_end(e).map(Some),
        };
        for department in departments {
            let mut from = 1;
            loop {
                if self.cancel.is_cancelled() {
                    return Ok(Some(PassEnd::Cancelled));
                }
                let request = Request::Archived {
                    department,
                    from,
                    limit: ARCHIVE_PAGE,
                };
                let page = match self.fetcher.get_page(pass.stream.module, request).await {
                    Ok(page) => page,
                    Err(e) => return fetch_end(e).map(Some),
                };
                let served = page.rows.len();
                self.commit_rows(pass, checkpoint, &split(page.rows, served), from, false)
                    .await?;
                if served < ARCHIVE_PAGE as usize {
                    break;
                }
                // Each page starts on the last one's final record: one leaving the archive
                // ahead of the read shifts the rest by one, and none is skipped.
                from += ARCHIVE_PAGE - 1;
            }
        }
        Ok(None)
    }
}
