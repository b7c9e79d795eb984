//! What the daemon reports: counters kept by its organisations' pipelines, gauges it
//! sets after each round, and lag, rendered in the Prometheus text exposition format.
//! Label values are escaped; no secret is a label. A scrape stays cheap whatever the size
//! of the mirror: lag comes from `stream_stats`, one row per stream that every page's
//! commit keeps (never a scan of a mirror table), read with a short timeout. Lag is
//! measured in the server's clock (as the daemon last read it), the clock the Modified
//! Times are written in, so a skewed local clock does not skew it.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::config::Config;
use crate::loader::Loader;
use crate::stream::StreamKey;
use crate::telemetry::Progress;
use crate::telemetry::Throttle;

/// How long a scrape waits for the database: it must answer well inside a scraper's (or
/// a health check's) timeout even when the database does not.
pub const DATABASE_WAIT: Duration = Duration::from_secs(2);

/// At most one warning a minute about a scrape that could not read the lag.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// Per organisation.
#[derive(Default)]
struct OrgState {
    progress: Arc<Progress>,
    auth_failures: u64,
    rounds: u64,
    round_seconds: f64,
    quota: Option<(u32, u32)>,
    portal: String,
    /// The server's clock less ours, as last read.
    clock_offset: TimeDelta,
}

pub struct Telemetry {
    orgs: Mutex<BTreeMap<String, OrgState>>,
    loader: OnceLock<Loader>,
    warnings: Throttle,
}

impl Telemetry {
    pub fn new(config: &Config) -> Telemetry {
        let orgs = config
            .organisations
            .iter()
            .map(|o| {
                let state = OrgState {
                    portal: o.portal.clone(),
                    ..OrgState::default()
                };
                (o.name.clone(), state)
            })
            .collect();
        Telemetry {
            orgs: Mutex::new(orgs),
            loader: OnceLock::new(),
            warnings: Throttle::new(WARN_EVERY),
        }
    }

    fn orgs(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, OrgState>> {
        self.orgs.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_loader(&self, loader: Loader) {
        let _ = self.loader.set(loader);
    }

    pub fn loader(&self) -> Option<&Loader> {
        self.loader.get()
    }

    /// The counters an organisation's pipelines update.
    pub fn progress(&self, org: &str) -> Arc<Progress> {
        Arc::clone(&self.orgs().entry(org.to_string()).or_default().progress)
    }

    pub fn round_finished(&self, org: &str, took: Duration) {
        let mut orgs = self.orgs();
        let state = orgs.entry(org.to_string()).or_default();
        state.rounds += 1;
        state.round_seconds += took.as_secs_f64();
    }

    pub fn auth_failed(&self, org: &str) {
        self.orgs()
            .entry(org.to_string())
            .or_default()
            .auth_failures += 1;
    }

    pub fn set_quota(&self, org: &str, used: u32, left: u32) {
        self.orgs().entry(org.to_string()).or_default().quota = Some((used, left));
    }

    /// Records the organisation's reading of its server's clock.
    pub fn set_server_clock(&self, org: &str, server_now: DateTime<Utc>) {
        self.orgs().entry(org.to_string()).or_default().clock_offset = server_now - Utc::now();
    }

    /// The server's clock now for a portal (ours if no organisation reads it).
    fn server_now(&self, portal: &str) -> DateTime<Utc> {
        let offset = self
            .orgs()
            .values()
            .find(|state| state.portal == portal)
            .map_or_else(TimeDelta::zero, |state| state.clock_offset);
        Utc::now() + offset
    }

    /// The Prometheus text of everything known now.
    pub async fn render(&self) -> String {
        let mut out = String::new();
        self.render_counters(&mut out);
        if let Some(newest) = self.newest_modified().await {
            header(
                &mut out,
                "zoho_sync_lag_seconds",
                "gauge",
                "Age of the newest mirrored Modified Time per stream.",
            );
            for (stream, at) in newest {
                let now = self.server_now(&stream.portal);
                let lag = (now - at).num_milliseconds() as f64 / 1000.0;
                let _ = writeln!(
                    out,
                    "zoho_sync_lag_seconds{{portal=\"{}\",department=\"{}\",module=\"{}\"}} {lag}",
                    escape(&stream.portal),
                    escape(&stream.department),
                    stream.module
                );
            }
        }
        out
    }

    /// Each stream's newest mirrored Modified Time; `None` (and a throttled warning) when
    /// the database does not say within `DATABASE_WAIT`.
    async fn newest_modified(&self) -> Option<Vec<(StreamKey, DateTime<Utc>)>> {
        let loader = self.loader()?;
        match tokio::time::timeout(DATABASE_WAIT, loader.newest_modified()).await {
            Ok(Ok(newest)) => return Some(newest),
            Ok(Err(error)) => self.lag_unread(&error),
            Err(_) => self.lag_unread(&format_args!("no answer within {DATABASE_WAIT:?}")),
        }
        None
    }

    fn lag_unread(&self, error: &dyn std::fmt::Display) {
        if let Some(held_back) = self.warnings.admit("lag", std::time::Instant::now()) {
            tracing::warn!(%error, held_back, "cannot read the mirror's lag for metrics");
        }
    }

    fn render_counters(&self, out: &mut String) {
        let orgs = self.orgs();
        header(
            out,
            "zoho_sync_requests_total",
            "counter",
            "API requests sent, by method and outcome.",
        );
        for (org, state) in orgs.iter() {
            let outcomes = state
                .progress
                .outcomes
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            for ((method, outcome), n) in outcomes.iter() {
                let _ = writeln!(
                    out,
                    "zoho_sync_requests_total{{organisation=\"{}\",method=\"{method}\",outcome=\"{outcome}\"}} {n}",
                    escape(org)
                );
            }
        }
        let counters: [Counter; 4] = [
            (
                "zoho_sync_records_loaded_total",
                "Records committed to the mirror.",
                |p| p.records.load(Ordering::Relaxed),
            ),
            ("zoho_sync_pages_total", "Pages committed.", |p| {
                p.pages.load(Ordering::Relaxed)
            }),
            (
                "zoho_sync_dead_letters_total",
                "Rows set aside as dead letters.",
                |p| p.dead_letters.load(Ordering::Relaxed),
            ),
            (
                "zoho_sync_retries_total",
                "Requests retried after a transient failure.",
                |p| p.retries.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, read) in counters {
            header(out, name, "counter", help);
            for (org, state) in orgs.iter() {
                let _ = writeln!(
                    out,
                    "{name}{{organisation=\"{}\"}} {}",
                    escape(org),
                    read(&state.progress)
                );
            }
        }
        header(
            out,
            "zoho_sync_auth_failures_total",
            "counter",
            "Rounds stopped by a refused authtoken.",
        );
        for (org, state) in orgs.iter() {
            let _ = writeln!(
                out,
                "zoho_sync_auth_failures_total{{organisation=\"{}\"}} {}",
                escape(org),
                state.auth_failures
            );
        }
        header(
            out,
            "zoho_sync_round_duration_seconds",
            "summary",
            "Duration of the daemon's rounds.",
        );
        for (org, state) in orgs.iter() {
            let org = escape(org);
            let _ = writeln!(
                out,
                "zoho_sync_round_duration_seconds_sum{{organisation=\"{org}\"}} {}",
                state.round_seconds
            );
            let _ = writeln!(
                out,
                "zoho_sync_round_duration_seconds_count{{organisation=\"{org}\"}} {}",
                state.rounds
            );
        }
        header(
            out,
            "zoho_sync_quota_used",
            "gauge",
            "Requests the ledger counts today.",
        );
        header_only_values(out, &orgs, "zoho_sync_quota_used", |q| q.0);
        header(
            out,
            "zoho_sync_quota_left",
            "gauge",
            "Requests left of today's budget.",
        );
        header_only_values(out, &orgs, "zoho_sync_quota_left", |q| q.1);
    }
}

/// A counter's name, help text, and how to read it from an organisation's progress.
type Counter = (&'static str, &'static str, fn(&Progress) -> u64);

fn header_only_values(
    out: &mut String,
    orgs: &BTreeMap<String, OrgState>,
    name: &str,
    pick: fn((u32, u32)) -> u32,
) {
    for (org, state) in orgs {
        if let Some(quota) = state.quota {
            let _ = writeln!(
                out,
                "{name}{{organisation=\"{}\"}} {}",
                escape(org),
                pick(quota)
            );
        }
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value as the exposition format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
