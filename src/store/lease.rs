//! Leases in the store's words: who takes them (this process: host, pid and a tag),
//! what a taken lease is, and what an attempt to take one found.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::stream::StreamKey;

/// A lease this process holds on a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub stream: StreamKey,
    pub holder: String,
    pub ttl: Duration,
}

/// Who takes leases: a process's name in the lease table (`host:pid:tag`; the random tag
/// tells apart two processes that got the same pid, as after a crash), its host and pid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    pub name: String,
    pub host: String,
    pub pid: u32,
}

impl Holder {
    /// This process.
    pub fn this_process() -> &'static Holder {
        static HOLDER: std::sync::OnceLock<Holder> = std::sync::OnceLock::new();
        HOLDER.get_or_init(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "host".into());
            let pid = std::process::id();
            Holder {
                name: format!("{host}:{pid}:{:08x}", rand::random::<u32>()),
                host,
                pid,
            }
        })
    }
}

/// Who holds a stream, as its lease row says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holding {
    pub holder: String,
    /// `None` on a row written before hosts and pids were recorded.
    pub host: Option<String>,
    pub pid: Option<i32>,
    /// When it took the stream (renewals keep it).
    pub since: DateTime<Utc>,
}

impl std::fmt::Display for Holding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.host, self.pid) {
            (Some(host), Some(pid)) => write!(f, "host {host}, pid {pid}")?,
            _ => write!(f, "{}", self.holder)?,
        }
        write!(f, ", since {}", self.since.format("%Y-%m-%d %H:%M:%S UTC"))
    }
}

/// What an attempt to take a stream found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    Taken(Lease),
    /// A live process holds it.
    Held(Holding),
}
