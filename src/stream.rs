//! The words every layer uses for what is synced and where it stands: a stream (portal,
//! department, module), the kinds of pass over it, the checkpoint a pass resumes from,
//! and the paging cursor inside a pass (`cursor`). No I/O: sources, the pipeline and the
//! stores all speak these types, so none of them needs another's module to say them.

pub mod cursor;
pub mod seek;

use std::fmt;

use chrono::{DateTime, Utc};

use crate::zoho::module::Module;
use cursor::Cursor;
use seek::Seek;

/// One stream: what one checkpoint tracks.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamKey {
    pub portal: String,
    pub department: String,
    pub module: Module,
}

/// The kind of pass a checkpoint belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PassKind {
    /// Reads the module's whole history, no filter.
    Backfill,
    /// Reads rows modified strictly after the watermark.
    Incremental,
    /// Reads only the ids of the whole module, to find the records deleted at the source.
    Sweep,
}

impl PassKind {
    /// The spelling in the `checkpoints.kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            PassKind::Backfill => "backfill",
            PassKind::Incremental => "incremental",
            PassKind::Sweep => "sweep",
        }
    }

    pub fn parse(text: &str) -> Option<PassKind> {
        match text {
            "backfill" => Some(PassKind::Backfill),
            "incremental" => Some(PassKind::Incremental),
            "sweep" => Some(PassKind::Sweep),
            _ => None,
        }
    }
}

/// The saved state of one (stream, pass kind); the default is "never run".
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Checkpoint {
    /// Where the pass in progress stands (`Cursor::START` when none is), for a source
    /// paged by offsets.
    pub cursor: Cursor,
    /// Where the pass stands for a source paged by modification time; kept once the pass
    /// completes (its `hi` says where the next incremental pass starts).
    pub seek: Option<Seek>,
    /// Whether a pass is in progress (its cursor is meaningful).
    pub in_progress: bool,
    /// Incremental: rows modified strictly after this instant are read by the pass.
    pub watermark: Option<DateTime<Utc>>,
    /// The server's time at the first answer of the pass in progress.
    pub pass_started_at: Option<DateTime<Utc>>,
    /// When the last pass of this kind completed (our clock).
    pub completed_at: Option<DateTime<Utc>>,
    /// Passes of this kind completed so far.
    pub passes: i64,
}

impl fmt::Display for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.portal, self.department, self.module)
    }
}
