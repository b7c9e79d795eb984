//! The words every layer uses for what is synced and where it stands: a stream (a
//! legacy portal, department and module, or a Zoho Desk organisation and module), the
//! kinds of pass over it, the checkpoint a pass resumes from, and the paging inside a
//! pass (`cursor` for offset windows, `seek` for ranges of modification time, `agents`
//! for a module read per agent within such a range). No I/O:
//! sources, the pipeline and the stores all speak these types, so none of them needs
//! another's module to say them.

pub mod agents;
pub mod cursor;
pub mod seek;

use std::fmt;

use chrono::{DateTime, Utc};

use crate::desk::module::DeskModule;
use crate::zoho::module::Module as SupportModule;
use cursor::Cursor;
use seek::Seek;

/// One stream: what one checkpoint tracks. A legacy stream is a portal's department's
/// module; a Zoho Desk stream is an organisation's module (its id in `portal`, and no
/// department: Desk departments are data, not a dimension of the sync). Legacy
/// departments are never empty, so the two never share a key in the control tables.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamKey {
    pub portal: String,
    pub department: String,
    pub module: Module,
}

/// A module of either API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Module {
    Support(SupportModule),
    Desk(DeskModule),
}

impl Module {
    /// Its name in the control tables, the change log and messages: the legacy URL name
    /// (`requests`) or the Desk name (`tickets`, `time_entries`).
    pub fn key(self) -> &'static str {
        match self {
            Module::Support(m) => m.url_name(),
            Module::Desk(m) => m.name(),
        }
    }

    /// Reads a module back from a control table's row: Desk when the row has no
    /// department.
    pub fn from_key(department: &str, key: &str) -> Option<Module> {
        if department.is_empty() {
            DeskModule::parse(key).map(Module::Desk)
        } else {
            SupportModule::parse(key).map(Module::Support)
        }
    }

    /// Every module of either API a user's name means (`contacts` is one of each).
    pub fn parse_any(name: &str) -> Vec<Module> {
        let support = SupportModule::parse(name).map(Module::Support);
        let desk = DeskModule::parse(name).map(Module::Desk);
        support.into_iter().chain(desk).collect()
    }

    /// The legacy module, for a legacy stream.
    pub fn support(self) -> Option<SupportModule> {
        match self {
            Module::Support(m) => Some(m),
            Module::Desk(_) => None,
        }
    }

    /// The Desk module, for a Desk stream.
    pub fn desk(self) -> Option<DeskModule> {
        match self {
            Module::Desk(m) => Some(m),
            Module::Support(_) => None,
        }
    }
}

impl From<SupportModule> for Module {
    fn from(m: SupportModule) -> Module {
        Module::Support(m)
    }
}

impl From<DeskModule> for Module {
    fn from(m: DeskModule) -> Module {
        Module::Desk(m)
    }
}

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl StreamKey {
    /// A legacy stream.
    pub fn support(portal: &str, department: &str, module: SupportModule) -> StreamKey {
        StreamKey {
            portal: portal.to_string(),
            department: department.to_string(),
            module: Module::Support(module),
        }
    }

    /// A Zoho Desk stream of organisation `org_id`.
    pub fn desk(org_id: &str, module: DeskModule) -> StreamKey {
        StreamKey {
            portal: org_id.to_string(),
            department: String::new(),
            module: Module::Desk(module),
        }
    }
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
        match self.module {
            Module::Support(m) => write!(f, "{}/{}/{}", self.portal, self.department, m),
            Module::Desk(m) => write!(f, "desk {}/{}", self.portal, m.name()),
        }
    }
}
