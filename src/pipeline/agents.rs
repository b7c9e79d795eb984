//! Passes of a module read per agent (Zoho Desk's ticket time entries, contract D15): the
//! pass's range of modification time is fixed as for a walk by modification time (a
//! backfill from the beginning of time, an incremental pass from a little before the
//! last one's end, up to the server's time less the index lag), the organisation's agents
//! are listed in ascending id order, and each agent's entries within the range are read
//! by the anchored windows of `stream::agents`. The range and the agent being read
//! commit with each page, so a stop resumes with that agent; an agent whose entries keep
//! moving under the walk fails the pass after a few readings from its start.

use super::seek::advance;
use super::{fetch_end, split, Pass, PassEnd, Pipeline, PipelineError};
use crate::fetcher::FetchError;
use crate::source::Request;
use crate::stream::agents::{next_agent, resume, AgentPlace, AgentStep};
use crate::stream::seek::SeekRequest;
use crate::stream::{Checkpoint, PassKind};

/// How many times one agent's entries may be read again from their start in one run.
const MAX_RESTARTS: u32 = 3;

/// Entries of a directory (agents, departments) one request lists.
const DIRECTORY_PAGE: u32 = 100;

impl Pipeline {
    pub(super) async fn agent_pages(
        &self,
        pass: &Pass<'_>,
        mut checkpoint: Checkpoint,
    ) -> Result<PassEnd, PipelineError> {
        if pass.kind == PassKind::Sweep {
            return Err(PipelineError::Unsupported {
                stream: pass.stream.to_string(),
                kind: pass.kind,
            });
        }
        let mut seek = self.walk_start(pass, &checkpoint)?;
        let agents = match self.agent_ids(pass).await {
            Ok(agents) => agents,
            Err(e) => return fetch_end(e),
        };
        let limit = self.fetcher.page_rows(pass.stream.module);
        let mut place = resume(seek.agent, &agents);
        let mut restarts = 0;
        loop {
            if self.cancel.is_cancelled() {
                return Ok(PassEnd::Cancelled);
            }
            let (rows, next) = match place {
                None => (Vec::new(), None),
                Some(current) => {
                    let request = Request::AgentRows {
                        agent: current.agent,
                        range: SeekRequest {
                            lo: seek.lo,
                            hi: seek.hi,
                            from: current.from,
                            limit,
                            within: None,
                        },
                    };
                    let page = match self.fetcher.get_page(pass.stream.module, request).await {
                        Ok(page) => page,
                        Err(e) => return fetch_end(e),
                    };
                    checkpoint.pass_started_at =
                        checkpoint.pass_started_at.or(Some(page.server_time));
                    let ids: Vec<_> = page.rows.iter().map(|r| r.mark.id).collect();
                    let step = current
                        .step(limit, &ids)
                        .map_err(|fault| PipelineError::Agent {
                            stream: pass.stream.to_string(),
                            agent: current.agent,
                            fault,
                        })?;
                    let next = after(pass, current, step, &agents, &mut restarts)?;
                    (page.rows, next)
                }
            };
            let done = next.is_none();
            seek.agent = next;
            advance(&mut checkpoint, seek, done);
            // Every row served is stored, a moved window's too: each is a record as it is.
            let served = rows.len();
            self.commit_rows(pass, &checkpoint, &split(rows, served), 0, done)
                .await?;
            if done {
                return Ok(PassEnd::Completed);
            }
            place = next;
        }
    }

    /// The organisation's agents' ids, ascending.
    async fn agent_ids(&self, pass: &Pass<'_>) -> Result<Vec<u64>, FetchError> {
        self.listed_ids(pass, |from, limit| Request::Agents { from, limit })
            .await
    }

    /// The ids of a directory the organisation lists whole (agents, departments), by pages
    /// from position 1, ascending.
    pub(super) async fn listed_ids(
        &self,
        pass: &Pass<'_>,
        page_of: impl Fn(u32, u32) -> Request,
    ) -> Result<Vec<u64>, FetchError> {
        let mut ids = Vec::new();
        let mut from = 1;
        loop {
            let request = page_of(from, DIRECTORY_PAGE);
            let page = self.fetcher.get_page(pass.stream.module, request).await?;
            let served = page.rows.len();
            ids.extend(page.rows.iter().filter_map(|r| r.mark.id).map(|id| id.0));
            if served < DIRECTORY_PAGE as usize {
                break;
            }
            from += DIRECTORY_PAGE;
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }
}

/// Where the walk goes after a window of `current`: on, to the next agent (`None` after
/// the last), or back to this agent's start, `restarts` times at most per agent.
fn after(
    pass: &Pass<'_>,
    current: AgentPlace,
    step: AgentStep,
    agents: &[u64],
    restarts: &mut u32,
) -> Result<Option<AgentPlace>, PipelineError> {
    match step {
        AgentStep::More(next) => Ok(Some(next)),
        AgentStep::AgentDone => {
            *restarts = 0;
            Ok(next_agent(current.agent, agents))
        }
        AgentStep::Restart => {
            *restarts += 1;
            if *restarts > MAX_RESTARTS {
                return Err(PipelineError::AgentMoving {
                    stream: pass.stream.to_string(),
                    agent: current.agent,
                });
            }
            tracing::info!(
                agent = current.agent,
                "entries moved ahead of the walk; reading the agent again"
            );
            Ok(Some(AgentPlace::first(current.agent)))
        }
    }
}
