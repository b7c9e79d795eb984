//! Where a pass of a module read per agent stands inside its range (Zoho Desk's ticket
//! time entries, contract D15): the organisation's agents are read in ascending id order,
//! and each agent's entries modified within the pass's range by offset windows, sorted as
//! the server sorts them (by when the work was done, not by modification). Rows only ever
//! leave such a range while the pass runs (a row modified again moves past its end), so
//! an unread row can shift below a window's offset: each window after an agent's first
//! starts on the last one's final row, its anchor, and a window that does not start on it
//! means rows left ahead of the walk, which then reads that agent again from its start.
//! No I/O: the pipeline asks, this judges.

use serde::{Deserialize, Serialize};

use crate::zoho::record::RecordId;

/// The agent being read and the next window of its entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentPlace {
    pub agent: u64,
    /// The 0-based offset of the next window within the agent's entries.
    pub from: u32,
    /// The row the next window must start on (the last one read), after a first window.
    pub anchor: Option<RecordId>,
}

/// What a window of an agent's entries did to the walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentStep {
    /// The agent has more: ask from here.
    More(AgentPlace),
    /// The agent's entries are read.
    AgentDone,
    /// Rows left the range ahead of the walk: read this agent again from its start.
    Restart,
}

/// A window no walk can make sense of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AgentFault {
    #[error("the server served {served} rows for a page of {asked}")]
    Overfull { served: u32, asked: u32 },
    #[error("a full page ends on a row without a readable id: the next page cannot be anchored")]
    NoAnchor,
}

impl AgentPlace {
    /// The first window of an agent's entries.
    pub fn first(agent: u64) -> AgentPlace {
        AgentPlace {
            agent,
            from: 0,
            anchor: None,
        }
    }

    /// Judges the window served for this place, its rows' ids in the order served.
    pub fn step(&self, limit: u32, ids: &[Option<RecordId>]) -> Result<AgentStep, AgentFault> {
        let served = u32::try_from(ids.len()).unwrap_or(u32::MAX);
        if served > limit {
            return Err(AgentFault::Overfull {
                served,
                asked: limit,
            });
        }
        if self.anchor.is_some() && ids.first().copied().flatten() != self.anchor {
            return Ok(AgentStep::Restart);
        }
        if served < limit {
            return Ok(AgentStep::AgentDone);
        }
        let anchor = ids.last().copied().flatten().ok_or(AgentFault::NoAnchor)?;
        Ok(AgentStep::More(AgentPlace {
            agent: self.agent,
            from: self.from + limit - 1,
            anchor: Some(anchor),
        }))
    }
}

/// Where to go on with a saved place among the agents listed now (ascending): the same
/// place if its agent is still listed, else the first agent after it.
pub fn resume(saved: Option<AgentPlace>, agents: &[u64]) -> Option<AgentPlace> {
    match saved {
        None => agents.first().map(|a| AgentPlace::first(*a)),
        Some(place) if agents.contains(&place.agent) => Some(place),
        Some(place) => next_agent(place.agent, agents),
    }
}

/// The first window of the agent after `agent`, if any.
pub fn next_agent(agent: u64, agents: &[u64]) -> Option<AgentPlace> {
    agents
        .iter()
        .find(|a| **a > agent)
        .map(|a| AgentPlace::first(*a))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(range: std::ops::RangeInclusive<u64>) -> Vec<Option<RecordId>> {
        range.map(|i| Some(RecordId(i))).collect()
    }

    #[test]
    fn full_windows_go_on_from_their_last_row_and_a_short_one_ends_the_agent() {
        let first = AgentPlace::first(7);
        let Ok(AgentStep::More(next)) = first.step(3, &ids(10..=12)) else {
            panic!("more");
        };
        assert_eq!((next.from, next.anchor), (2, Some(RecordId(12))));
        assert_eq!(next.step(3, &ids(12..=13)), Ok(AgentStep::AgentDone));
    }

    #[test]
    fn a_window_not_starting_on_its_anchor_reads_the_agent_again() {
        let place = AgentPlace {
            agent: 7,
            from: 2,
            anchor: Some(RecordId(12)),
        };
        assert_eq!(place.step(3, &ids(13..=14)), Ok(AgentStep::Restart));
        assert_eq!(place.step(3, &[]), Ok(AgentStep::Restart));
    }

    #[test]
    fn an_overfull_window_or_an_unanchorable_one_is_a_fault() {
        let first = AgentPlace::first(1);
        assert!(matches!(
            first.step(2, &ids(1..=3)),
            Err(AgentFault::Overfull { .. })
        ));
        assert_eq!(
            first.step(2, &[Some(RecordId(1)), None]),
            Err(AgentFault::NoAnchor)
        );
    }

    #[test]
    fn a_saved_place_resumes_on_its_agent_or_the_next_one_listed() {
        let saved = AgentPlace {
            agent: 5,
            from: 99,
            anchor: Some(RecordId(3)),
        };
        assert_eq!(resume(Some(saved), &[1, 5, 9]), Some(saved));
        assert_eq!(resume(Some(saved), &[1, 9]), Some(AgentPlace::first(9)));
        assert_eq!(resume(Some(saved), &[1, 2]), None);
        assert_eq!(resume(None, &[4, 8]), Some(AgentPlace::first(4)));
        assert_eq!(next_agent(4, &[4, 8]), Some(AgentPlace::first(8)));
    }
}
