//! The paging cursor of one pass: which window to ask for next, and what a page says
//! about the data set having shifted under us. Pages are offset windows over a set that
//! can change between two requests; every window after the first overlaps the previous
//! page by one row (the anchor), so a page is trusted only when it provably follows the
//! last row we have: it starts at position 1, or its first row's id is at most that last
//! id. A page that fails the test means rows before the cursor vanished and the windows
//! slid forward; the cursor steps back instead of silently skipping rows. The overlap
//! costs one row a page (0.5% more requests at 200 rows a page, the page size being the
//! source's), the price of never losing a record. A
//! server that breaks the id order is not trusted with the short test: from the first
//! page out of order, only the anchor row met again proves a page follows on, and a page
//! that fails restarts the pass. Rows that failed to decode still count as served: the
//! server, not the decoder, says where a pass ends.

use crate::zoho::record::RecordId;

/// How far the cursor steps back when rows before it vanished, in pages: enough for the
/// deletions of a page's time, yet little enough that the page read again brings mostly
/// new rows. Stepping back a whole page re-read only rows already read, so steady
/// deletions ahead of the cursor stalled a pass (one new row per two requests); a mass
/// deletion now costs one request per quarter page instead of per page.
pub const STEP_BACK_DIVISOR: u32 = 4;

/// A `fromindex..=toindex` window (1-based, inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub from: u32,
    pub to: u32,
}

impl Window {
    pub fn len(self) -> u32 {
        self.to - self.from + 1
    }

    pub fn is_empty(self) -> bool {
        self.to < self.from
    }

    /// The window after this one if the data set does not move: it starts on this
    /// window's last row, the anchor.
    pub fn next(self) -> Window {
        let from = self.to;
        Window {
            from,
            to: from + self.len() - 1,
        }
    }
}

/// The order the server has served this pass's ids in so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    /// Ascending ids on every page, as the contract promises: a page that starts at or
    /// before the largest id read follows on.
    #[default]
    Ascending,
    /// Some page broke the order: only the anchor row itself, met again first, proves
    /// that a page follows on.
    Unordered,
}

/// Where a pass stands: the position of the first row not yet read, the id that proves
/// the next page follows on, and the order the ids came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub next: u32,
    /// `Ascending`: the largest id read. `Unordered`: the id of the row at `next - 1`
    /// (the anchor), when it could be read.
    pub last_id: Option<RecordId>,
    pub order: Order,
}

/// What to do with a page that came back for `Cursor::window`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The page follows on from the cursor; `done` when the page was the set's last
    /// (the server served fewer rows than the window holds).
    Advance { cursor: Cursor, done: bool },
    /// Rows before the cursor disappeared and the page may have skipped some: nothing of
    /// it is trusted, read again from the earlier `cursor`.
    StepBack { cursor: Cursor },
}

/// A page no paging can make sense of.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PageFault {
    #[error("the server served {served} rows for a window of {asked}")]
    Overfull { served: u32, asked: u32 },
}

impl Default for Cursor {
    fn default() -> Self {
        Cursor::START
    }
}

impl Cursor {
    pub const START: Cursor = Cursor {
        next: 1,
        last_id: None,
        order: Order::Ascending,
    };

    /// The window of `rows` rows (the source's page size) to ask for, starting one row
    /// early (on the anchor) unless the pass is at its start.
    pub fn window(self, rows: u32) -> Window {
        let from = self.next.saturating_sub(1).max(1);
        Window {
            from,
            to: from + rows.max(1) - 1,
        }
    }

    /// How many of a page's `served` rows for `window` lie past the cursor (are new to
    /// the pass rather than the anchor read again).
    pub fn new_rows(self, window: Window, served: usize) -> usize {
        let overlap = self.next.saturating_sub(window.from) as usize;
        served.saturating_sub(overlap)
    }

    /// Judges the page that came back for `window`: `ids` holds each served row's id in
    /// the order served (`None` for a row whose id could not be read). Whether the page
    /// ends the pass is decided by the rows served, never by the rows that decoded.
    pub fn step(self, window: Window, ids: &[Option<RecordId>]) -> Result<Step, PageFault> {
        let served = u32::try_from(ids.len()).unwrap_or(u32::MAX);
        if served > window.len() {
            return Err(PageFault::Overfull {
                served,
                asked: window.len(),
            });
        }
        let known = || ids.iter().flatten().copied();
        let ascending = known().zip(known().skip(1)).all(|(a, b)| a < b);
        let order = match (self.order, ascending) {
            (Order::Ascending, true) => Order::Ascending,
            _ => Order::Unordered,
        };
        if !(window.from == 1 || self.follows_on(order, ids)) {
            return Ok(Step::StepBack {
                cursor: self.back(order, window.len() / STEP_BACK_DIVISOR),
            });
        }
        let last_id = match order {
            Order::Ascending => known().max().max(self.last_id),
            Order::Unordered if ids.is_empty() => self.last_id,
            Order::Unordered => ids.last().copied().flatten(),
        };
        let cursor = Cursor {
            next: window.from.saturating_add(served),
            last_id,
            order,
        };
        Ok(Step::Advance {
            cursor,
            done: served < window.len(),
        })
    }

    /// Whether a page (not at the start) provably continues where the last one ended.
    fn follows_on(self, order: Order, ids: &[Option<RecordId>]) -> bool {
        let Some(last) = self.last_id else {
            return true; // nothing read yet can be judged by
        };
        if ids.is_empty() {
            return false; // the anchor row itself is gone
        }
        match order {
            // A row at or before the largest id read: nothing between was skipped.
            Order::Ascending => ids
                .iter()
                .flatten()
                .next()
                .is_none_or(|first| *first <= last),
            // Only the anchor met again proves it; an unreadable first row cannot judge.
            Order::Unordered => ids[0].is_none_or(|first| first == last),
        }
    }

    /// Where to read again from after a page that does not follow on: a little way back
    /// when ids ascend; from the start when they do not (no earlier row's id is known).
    fn back(self, order: Order, rows: u32) -> Cursor {
        match order {
            Order::Ascending => Cursor {
                next: self.next.saturating_sub(rows.max(1)).max(1),
                ..self
            },
            Order::Unordered => Cursor {
                order,
                ..Cursor::START
            },
        }
    }
}

#[cfg(test)]
mod tests;
