//! The seek-by-timestamp walk of a module whose rows are found by their modification
//! time (Zoho Desk's search, contract §4.4): which time range and offset to ask for next,
//! and what a page says about where the pass stands. A pass reads the rows modified in
//! `[lo, hi]`, `hi` being the pass's start less the search index's lag. Every page is
//! asked from offset 0 of `[lo, hi]`, sorted by modification time, and `lo` then moves to
//! the last row's instant (inclusive: the rows sharing it are read again, and stored
//! again harmlessly). So a row modified while the pass runs leaves the range for a later
//! instant, which the next pass reads (it starts half an hour before this pass's `hi`),
//! and no unread row can shift out of reach. Only more than a page of rows sharing one
//! instant needs offsets: inside such a tie group the rows come in ascending id order and
//! are paged like the legacy API's windows, each page overlapping the last by its anchor
//! row, a page that does not follow on stepping back. The search's cap of 5,000 results
//! bounds that paging; a larger tie group is read by creation time within its instant
//! (`Within`), and only one whose rows also share a creation instant is refused loudly
//! rather than read in part.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::agents::AgentPlace;
use crate::zoho::record::RecordId;

/// How long a write takes to become searchable, at most: a pass reads up to its start
/// less this (contract D16).
pub const INDEX_LAG: TimeDelta = TimeDelta::minutes(10);

/// How far before the last pass's `hi` the next incremental pass starts (D16): rows the
/// index showed late are read again.
pub const OVERLAP: TimeDelta = TimeDelta::minutes(30);

/// The most results one search reaches: `from + limit` may not pass it (D9).
pub const SEARCH_CAP: u32 = 5_000;

/// The precision of the range bounds: the instant after a tie group.
const TICK: TimeDelta = TimeDelta::milliseconds(1);

/// Where a seek pass stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seek {
    /// The earliest modification time still to read (inclusive).
    pub lo: DateTime<Utc>,
    /// The latest modification time this pass reads (inclusive).
    pub hi: DateTime<Utc>,
    /// Paging inside a group of rows sharing one instant, when one fills a page.
    pub tie: Option<Tie>,
    /// Which of the pass's walks of `[lo, hi]` this is (absent from checkpoints written
    /// before there were two: the first).
    #[serde(default)]
    pub leg: Leg,
    /// For a module read per agent: the agent being read and where in its entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentPlace>,
    /// Inside a tie group past the search cap: the walk of its rows by creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<Within>,
}

/// A walk by creation time of the rows sharing one instant of the walk's order, for a
/// tie group larger than search can page by offset (more than 5,000 rows): a search
/// narrowed to that instant reaches them all by creation time, which is paged like any
/// range. Only when they also share one creation instant, past the cap again, is the
/// pass refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Within {
    /// The instant the rows share.
    pub at: DateTime<Utc>,
    /// The earliest creation time still to read.
    pub lo: DateTime<Utc>,
    /// Paging inside a group of rows created in one instant too.
    pub tie: Option<Tie>,
}

/// The walks of one incremental pass over its range: by modification time, then, for a
/// module whose records can change without their modification time moving (Zoho Desk
/// tickets: a customer's reply, hazard 5 of contract §4.3), by that other instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Leg {
    #[default]
    Modified,
    Responses,
}

/// Paging inside a tie group: its instant, the offset of the next page within it (on the
/// anchor row once one is read) and the largest id read so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tie {
    pub at: DateTime<Utc>,
    pub from: u32,
    pub last_id: Option<RecordId>,
}

/// One search to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeekRequest {
    pub lo: DateTime<Utc>,
    pub hi: DateTime<Utc>,
    /// 0-based offset within the range.
    pub from: u32,
    pub limit: u32,
    /// Set inside a tie group too large for search to page: only the rows whose instant
    /// of the walk's own order is this one, `lo..hi` then being their creation times.
    pub within: Option<DateTime<Utc>>,
}

/// A served row as the walk sees it: the instant the walk orders by (when it was
/// modified, or created for a walk by creation time; when it was deleted, for the recycle
/// bin) and its id, each when it could be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    pub at: Option<DateTime<Utc>>,
    pub id: Option<RecordId>,
}

/// Which instant of a record a walk orders by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TimeOrder {
    /// Its last modification: passes read what changed.
    #[default]
    Modified,
    /// Its creation, which never moves: a reconciliation reads every record once.
    Created,
    /// The customer's last response (Zoho Desk tickets), the second leg of a pass.
    Responded,
}

/// What a page did to the pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeekStep {
    /// Ask next from here.
    More(Seek),
    /// The range is read.
    Done,
}

/// A page no walk can make sense of: the pass stops rather than guess.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SeekFault {
    #[error("the server served {served} rows for a page of {asked}")]
    Overfull { served: u32, asked: u32 },
    #[error("the server served a row modified at {at}, outside the range asked for")]
    OutOfRange { at: DateTime<Utc> },
    #[error("the server served rows out of modification-time order ({at} after {after})")]
    OutOfOrder {
        at: DateTime<Utc>,
        after: DateTime<Utc>,
    },
    #[error(
        "a full page holds no readable modification time: the walk cannot tell where it stands"
    )]
    NoTime,
    #[error(
        "more than {SEARCH_CAP} rows share the instant {at}: the search cannot reach them all"
    )]
    TieTooLarge { at: DateTime<Utc> },
}

impl Seek {
    /// A pass over the rows modified from `lo` to `now` less the index lag.
    pub fn start(lo: DateTime<Utc>, now: DateTime<Utc>) -> Seek {
        Seek {
            lo,
            hi: now - INDEX_LAG,
            tie: None,
            leg: Leg::Modified,
            agent: None,
            within: None,
        }
    }

    /// The pass's second leg: the same range from `lo`, by the customer's last response.
    pub fn responses(&self, lo: DateTime<Utc>) -> Seek {
        Seek {
            lo,
            hi: self.hi,
            tie: None,
            leg: Leg::Responses,
            agent: None,
            within: None,
        }
    }

    /// The same range with nothing left to ask (the walk read it all).
    pub fn exhausted(&self) -> Seek {
        Seek {
            lo: self.hi + TICK,
            tie: None,
            within: None,
            ..*self
        }
    }

    /// Where the incremental pass after a completed one starts.
    pub fn next_lo(hi: DateTime<Utc>) -> DateTime<Utc> {
        hi - OVERLAP
    }

    /// Whether nothing is left to ask.
    pub fn is_empty(&self) -> bool {
        self.tie.is_none() && self.within.is_none() && self.lo > self.hi
    }

    /// The search to send for a page of `limit` rows.
    pub fn request(&self, limit: u32) -> SeekRequest {
        if let Some(within) = self.within {
            return SeekRequest {
                within: Some(within.at),
                ..inner(within).request(limit)
            };
        }
        match self.tie {
            Some(tie) => SeekRequest {
                lo: tie.at,
                hi: tie.at,
                from: tie.from,
                limit,
                within: None,
            },
            None => SeekRequest {
                lo: self.lo,
                hi: self.hi,
                from: 0,
                limit,
                within: None,
            },
        }
    }

    /// Judges the page served for `self.request(limit)`, its rows in the order served,
    /// the walk ordered by `order` (a walk by creation time has no finer order to turn to
    /// inside a tie group past the cap).
    pub fn step(&self, limit: u32, rows: &[Mark], order: TimeOrder) -> Result<SeekStep, SeekFault> {
        if let Some(within) = self.within {
            return self.step_within(within, limit, rows);
        }
        let nests = order != TimeOrder::Created;
        let served = u32::try_from(rows.len()).unwrap_or(u32::MAX);
        if served > limit {
            return Err(SeekFault::Overfull {
                served,
                asked: limit,
            });
        }
        let request = self.request(limit);
        check_times(rows, request.lo, request.hi)?;
        match self.tie {
            Some(tie) => self.step_in_tie(tie, limit, rows, nests),
            None => self.step_in_range(limit, rows, nests),
        }
    }

    /// A page of the walk by creation time inside a tie group: on inside it, or past its
    /// instant once it is read.
    fn step_within(
        &self,
        within: Within,
        limit: u32,
        rows: &[Mark],
    ) -> Result<SeekStep, SeekFault> {
        match inner(within).step(limit, rows, TimeOrder::Created)? {
            SeekStep::More(next) => Ok(SeekStep::More(Seek {
                within: Some(Within {
                    lo: next.lo,
                    tie: next.tie,
                    ..within
                }),
                ..*self
            })),
            SeekStep::Done => Ok(self.past(within.at)),
        }
    }

    /// The walk after the tie group at `at`.
    fn past(&self, at: DateTime<Utc>) -> SeekStep {
        let after = Seek {
            lo: at + TICK,
            tie: None,
            within: None,
            ..*self
        };
        if after.is_empty() {
            SeekStep::Done
        } else {
            SeekStep::More(after)
        }
    }

    /// A tie group at `at` that offsets cannot page further: read by creation time inside
    /// it (from its start: what was read of it is read again), or refused.
    fn past_the_cap(&self, at: DateTime<Utc>, nests: bool) -> Result<SeekStep, SeekFault> {
        if !nests {
            return Err(SeekFault::TieTooLarge { at });
        }
        Ok(SeekStep::More(Seek {
            tie: None,
            within: Some(Within {
                at,
                lo: DateTime::UNIX_EPOCH,
                tie: None,
            }),
            ..*self
        }))
    }

    fn step_in_range(&self, limit: u32, rows: &[Mark], nests: bool) -> Result<SeekStep, SeekFault> {
        if (rows.len() as u32) < limit {
            return Ok(SeekStep::Done);
        }
        let last = rows
            .iter()
            .rev()
            .find_map(|r| r.at)
            .ok_or(SeekFault::NoTime)?;
        if rows.iter().all(|r| r.at == Some(last)) {
            // The whole page shares one instant: its rows are the first of that instant
            // by id (the range holds none earlier), exactly the first page inside it, so
            // paging inside the instant goes on from this page's last row.
            let tie = Tie {
                at: last,
                from: limit - 1,
                last_id: rows.iter().filter_map(|r| r.id).max(),
            };
            if tie.from + limit > SEARCH_CAP {
                return self.past_the_cap(last, nests);
            }
            return Ok(SeekStep::More(Seek {
                lo: last,
                tie: Some(tie),
                ..*self
            }));
        }
        if last > self.lo {
            return Ok(SeekStep::More(Seek { lo: last, ..*self }));
        }
        // A whole page at the lower bound, some of its times unreadable: page inside that
        // instant, by id, from its start.
        let tie = Tie {
            at: last,
            from: 0,
            last_id: None,
        };
        Ok(SeekStep::More(Seek {
            tie: Some(tie),
            ..*self
        }))
    }

    fn step_in_tie(
        &self,
        tie: Tie,
        limit: u32,
        rows: &[Mark],
        nests: bool,
    ) -> Result<SeekStep, SeekFault> {
        let follows_on = tie.from == 0
            || match (tie.last_id, rows.iter().find_map(|r| r.id)) {
                (Some(last), Some(first)) => first <= last,
                (None, _) | (_, None) => !rows.is_empty(),
            };
        if !follows_on {
            // Rows before the anchor left the group: read a little earlier again.
            let back = Tie {
                from: tie.from.saturating_sub(limit / 4).min(tie.from),
                ..tie
            };
            return Ok(SeekStep::More(Seek {
                tie: Some(back),
                ..*self
            }));
        }
        if (rows.len() as u32) < limit {
            return Ok(self.past(tie.at));
        }
        // The next page starts on this page's last row (the anchor).
        let from = tie.from + limit - 1;
        if from + limit > SEARCH_CAP {
            return self.past_the_cap(tie.at, nests);
        }
        let last_id = rows.iter().filter_map(|r| r.id).max().max(tie.last_id);
        Ok(SeekStep::More(Seek {
            tie: Some(Tie {
                at: tie.at,
                from,
                last_id,
            }),
            ..*self
        }))
    }
}

/// The walk by creation time inside a tie group, as a walk of its own.
fn inner(within: Within) -> Seek {
    Seek {
        lo: within.lo,
        // Nothing is created after it is modified (or answered).
        hi: within.at,
        tie: within.tie,
        leg: Leg::Modified,
        agent: None,
        within: None,
    }
}

/// Every readable time lies in `[lo, hi]` and none is earlier than the one before.
fn check_times(rows: &[Mark], lo: DateTime<Utc>, hi: DateTime<Utc>) -> Result<(), SeekFault> {
    let mut previous: Option<DateTime<Utc>> = None;
    for at in rows.iter().filter_map(|r| r.at) {
        if at < lo || at > hi {
            return Err(SeekFault::OutOfRange { at });
        }
        if let Some(after) = previous.filter(|p| at < *p) {
            return Err(SeekFault::OutOfOrder { at, after });
        }
        previous = Some(at);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
