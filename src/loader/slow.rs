//! Slow database work, reported by zoho-sync rather than by sqlx. sqlx's own statement
//! and pool logging is kept at TRACE (see `connect`): at WARN it printed every slow
//! statement whole (a view's DDL carries every custom label), once per statement, which is
//! how one run wrote gigabytes of log. Here slow work is reported by its kind, the first
//! line of its statement cut to 100 characters, and how long it took: at most once a
//! minute per kind, with the number of reports held back meanwhile.

use std::future::Future;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use crate::telemetry::Throttle;

/// Work that takes this long is reported.
const SLOW: Duration = Duration::from_secs(1);

/// One report per kind per this long.
const REPORT_EVERY: Duration = Duration::from_secs(60);

/// How much of a statement a report shows.
const SUMMARY_CHARS: usize = 100;

static THROTTLE: LazyLock<Throttle> = LazyLock::new(|| Throttle::new(REPORT_EVERY));

/// Awaits `work`, and reports it if it was slow.
pub(super) async fn timed<T>(
    kind: &'static str,
    statement: &str,
    work: impl Future<Output = T>,
) -> T {
    let started = Instant::now();
    let out = work.await;
    report_if_slow(kind, statement, started);
    out
}

/// Reports work of `kind` begun at `started` if it has taken `SLOW` or more.
pub(super) fn report_if_slow(kind: &'static str, statement: &str, started: Instant) {
    let took = started.elapsed();
    if took < SLOW {
        return;
    }
    if let Some(held_back) = THROTTLE.admit(kind, Instant::now()) {
        tracing::warn!(
            kind,
            statement = %summary(statement),
            took_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
            held_back,
            "slow database work (reported at most once a minute per kind)"
        );
    }
}

/// The statement's first non-empty line, cut to `SUMMARY_CHARS` characters.
fn summary(statement: &str) -> String {
    let line = statement
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let mut out: String = line.chars().take(SUMMARY_CHARS).collect();
    if out.len() < line.len() || statement.trim().lines().nth(1).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_is_summed_up_by_its_first_line_cut_to_100_characters() {
        assert_eq!(summary("SELECT 1"), "SELECT 1");
        assert_eq!(summary("\n  WITH a AS (\nSELECT 1)"), "WITH a AS (…");
        let long = format!("CREATE VIEW v AS SELECT {}", "x, ".repeat(1000));
        let cut = summary(&long);
        assert_eq!(cut.chars().count(), SUMMARY_CHARS + 1);
        assert!(cut.starts_with("CREATE VIEW v AS SELECT x, x") && cut.ends_with('…'));
    }
}
