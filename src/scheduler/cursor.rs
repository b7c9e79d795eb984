//! The paging cursor of one pass: which window to ask for next, and what a page says
//! about the data set having shifted under us. Pages are offset windows over a set that
//! can change between two requests; every window after the first overlaps the previous
//! page by one row (the anchor), so a page is trusted only when it provably follows the
//! last row we have: it starts at position 1, or its first row's id is at most that last
//! id. A page that fails the test means rows before the cursor vanished and the windows
//! slid forward; the cursor steps back instead of silently skipping rows. The overlap
//! costs one row in 200 (0.5% more requests), the price of never losing a record.

use crate::zoho::record::RecordId;

/// Rows per request: the API's maximum.
pub const PAGE_ROWS: u32 = 200;

/// How far the cursor steps back when rows before it vanished: enough for the deletions
/// of a page's time, yet little enough that the page read again brings mostly new rows.
/// Stepping back a whole page re-read only rows already read, so steady deletions ahead
/// of the cursor stalled a pass (one new row per two requests); a mass deletion now costs
/// one request per `STEP_BACK` rows instead of per page.
pub const STEP_BACK: u32 = PAGE_ROWS / 4;

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
            to: from + PAGE_ROWS - 1,
        }
    }
}

/// Where a pass stands: the position of the first row not yet read, and the largest id
/// read so far (ids ascend with position).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub next: u32,
    pub last_id: Option<RecordId>,
}

/// What to do with a page that came back for `Cursor::window`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The page follows on from the cursor. Rows with an id above the old `last_id` are
    /// new (the others were read before); `done` when the page was the set's last.
    Advance { cursor: Cursor, done: bool },
    /// Rows before the cursor disappeared and the page may have skipped some: nothing of
    /// it is trusted, read again from the earlier `cursor`.
    StepBack { cursor: Cursor },
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
    };

    /// The window to ask for: 200 rows, starting one row early (on the anchor) unless
    /// the pass is at its start.
    pub fn window(self) -> Window {
        let from = match self.last_id {
            Some(_) if self.next > 1 => self.next - 1,
            _ => 1,
        };
        Window {
            from,
            to: from + PAGE_ROWS - 1,
        }
    }

    /// Whether a row belongs to the pass's new rows.
    pub fn is_new(self, id: RecordId) -> bool {
        self.last_id.is_none_or(|last| id > last)
    }

    /// Judges the page `ids` (in the order served) that came back for `window`.
    pub fn step(self, window: Window, ids: &[RecordId]) -> Step {
        let follows_on = window.from == 1
            || match (self.last_id, ids.first()) {
                (None, _) => true,
                (Some(last), Some(first)) => *first <= last,
                (Some(_), None) => false,
            };
        if !follows_on {
            let next = self.next.saturating_sub(STEP_BACK).max(1);
            let cursor = Cursor {
                next,
                last_id: self.last_id,
            };
            // From the very start nothing can have been skipped: keep the last id so the
            // rows already read are still recognised, but the window starts at 1.
            return Step::StepBack { cursor };
        }
        let served = u32::try_from(ids.len()).unwrap_or(u32::MAX);
        let last_id = ids.iter().copied().max().max(self.last_id);
        let cursor = Cursor {
            next: window.from.saturating_add(served),
            last_id,
        };
        Step::Advance {
            cursor,
            done: served < window.len(),
        }
    }
}

#[cfg(test)]
mod tests;
