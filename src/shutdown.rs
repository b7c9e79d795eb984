//! Stopping: the one cancellation token every wait and retry honours, the signals that
//! fire it, and the grace a stop gets. The first SIGTERM or SIGINT (Ctrl-C) cancels the
//! token: no new page, request or retry starts, the work in flight (a request sent, a
//! page commit begun) gets `IN_FLIGHT` to finish before it is cut, and the leases are
//! released. If the command
//! has not finished `GRACE` after that signal, or at a second signal, `deadline`
//! resolves with what the command is still waiting for, so that the binary can leave
//! with a message and a non-zero code (the library never exits the process itself).
//! Nothing committed is lost either way: pages commit whole or not at all.
//!
//! What a command waits for is known through `waiting`: a guard that names a wait (a
//! page commit, a lease, a connection) for as long as it is held.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How long a command may take to stop after the first signal.
pub const GRACE: Duration = Duration::from_secs(10);

/// How long work in flight at a stop may go on: enough for an answer on its way or a
/// commit under way to land (a request already sent has been paid for), short enough
/// that the clean-up after it (`pipeline::run`, two bounded statements) fits in `GRACE`.
pub const IN_FLIGHT: Duration = Duration::from_secs(4);

/// Resolves `in_flight` after `cancel` fires (or after it is first polled, if it fired
/// before): the moment work in flight at a stop is cut.
pub async fn cut(cancel: &CancellationToken, in_flight: Duration) {
    cancel.cancelled().await;
    tokio::time::sleep(in_flight).await;
}

/// The stop of one process: cancelled by the first signal, forced by the second.
#[derive(Clone, Debug)]
pub struct Shutdown {
    cancel: CancellationToken,
    forced: CancellationToken,
    grace: Duration,
}

/// Why a command is left unfinished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Abandon {
    /// The grace after the first signal ran out.
    GraceOver {
        grace: Duration,
        waiting_for: Vec<String>,
    },
    /// A second signal asked to leave at once.
    SecondSignal { waiting_for: Vec<String> },
}

impl std::fmt::Display for Abandon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (what, waiting_for) = match self {
            Abandon::GraceOver { grace, waiting_for } => (
                format!("not stopped within the {} s grace", grace.as_secs()),
                waiting_for,
            ),
            Abandon::SecondSignal { waiting_for } => (
                "stopped at once by a second signal".to_string(),
                waiting_for,
            ),
        };
        let waits = if waiting_for.is_empty() {
            "the passes in flight".to_string()
        } else {
            waiting_for.join(", ")
        };
        write!(
            f,
            "{what}; still waiting for {waits}. Nothing committed is lost: the next run \
             continues from the checkpoints"
        )
    }
}

impl Shutdown {
    /// A stop nothing triggers but `stop` and `force` (tests; commands without signals).
    pub fn new(grace: Duration) -> Shutdown {
        Shutdown {
            cancel: CancellationToken::new(),
            forced: CancellationToken::new(),
            grace,
        }
    }

    /// A stop triggered by SIGTERM and SIGINT, with the default grace. Needs a runtime.
    pub fn on_signals() -> Shutdown {
        let shutdown = Shutdown::new(GRACE);
        let mut signals = Signals::install();
        let trigger = shutdown.clone();
        tokio::spawn(async move {
            signals.next().await;
            tracing::warn!(
                grace_secs = trigger.grace.as_secs(),
                "stopping after the pages in flight (signal again to quit at once)"
            );
            trigger.stop();
            signals.next().await;
            trigger.force();
        });
        shutdown
    }

    /// The token every wait honours.
    pub fn token(&self) -> &CancellationToken {
        &self.cancel
    }

    /// What the first signal does.
    pub fn stop(&self) {
        self.cancel.cancel();
    }

    /// What the second signal does.
    pub fn force(&self) {
        self.cancel.cancel();
        self.forced.cancel();
    }

    /// Resolves once the command should be left unfinished: `grace` after the first
    /// signal, or at the second; never if no signal comes.
    pub fn deadline(&self) -> impl std::future::Future<Output = Abandon> + Send + 'static {
        let (cancel, forced, grace) = (self.cancel.clone(), self.forced.clone(), self.grace);
        async move {
            cancel.cancelled().await;
            tokio::select! {
                () = tokio::time::sleep(grace) => Abandon::GraceOver {
                    grace,
                    waiting_for: pending(),
                },
                () = forced.cancelled() => Abandon::SecondSignal { waiting_for: pending() },
            }
        }
    }
}

/// SIGTERM and SIGINT as one stream (SIGINT alone where there is no SIGTERM).
struct Signals {
    #[cfg(unix)]
    unix: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    /// Registers the handlers now, so that a signal arriving before the first wait is
    /// not lost to the default action.
    fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let unix = match (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) {
                (Ok(term), Ok(int)) => Some((term, int)),
                (Err(error), _) | (_, Err(error)) => {
                    tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops cleanly");
                    None
                }
            };
            Signals { unix }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        if let Some((term, int)) = self.unix.as_mut() {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            return;
        }
        if tokio::signal::ctrl_c().await.is_err() {
            // No way to hear a signal: never stop on one.
            std::future::pending::<()>().await;
        }
    }
}

/// The waits in progress in this process, by name, with how many of each.
static WAITS: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());

/// A wait in progress, named until dropped.
#[must_use = "the wait is named only while the guard is held"]
pub struct Waiting {
    what: String,
}

/// Names a wait (`"a page commit"`) until the guard is dropped.
pub fn waiting(what: impl Into<String>) -> Waiting {
    let what = what.into();
    *WAITS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(what.clone())
        .or_default() += 1;
    Waiting { what }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let mut waits = WAITS.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = waits.get_mut(&self.what) {
            *count -= 1;
            if *count == 0 {
                waits.remove(&self.what);
            }
        }
    }
}

/// The waits in progress now, `what (×n)` when several.
pub fn pending() -> Vec<String> {
    WAITS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(what, &n)| {
            if n > 1 {
                format!("{what} (×{n})")
            } else {
                what.clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE_OF_TESTS: Duration = Duration::from_millis(300);

    #[tokio::test]
    async fn the_deadline_comes_a_grace_after_the_first_stop_and_names_the_waits() {
        let shutdown = Shutdown::new(GRACE_OF_TESTS);
        let mut deadline = Box::pin(shutdown.deadline());
        let _commit = waiting("a page commit in the deadline test");
        let early = tokio::time::timeout(GRACE_OF_TESTS * 2, &mut deadline).await;
        assert!(early.is_err(), "no signal, no deadline");
        shutdown.stop();
        let stopped = std::time::Instant::now();
        let abandon = tokio::time::timeout(Duration::from_secs(10), deadline)
            .await
            .expect("the deadline comes");
        assert!(stopped.elapsed() >= GRACE_OF_TESTS);
        let Abandon::GraceOver { waiting_for, .. } = &abandon else {
            panic!("{abandon:?}");
        };
        assert!(waiting_for.contains(&"a page commit in the deadline test".to_string()));
        assert!(abandon.to_string().contains("grace"), "{abandon}");
    }

    #[tokio::test]
    async fn a_second_signal_abandons_without_waiting_for_the_grace() {
        let shutdown = Shutdown::new(Duration::from_secs(3600));
        let deadline = shutdown.deadline();
        shutdown.stop();
        shutdown.force();
        let abandon = tokio::time::timeout(Duration::from_secs(10), deadline)
            .await
            .expect("the deadline comes at once");
        assert!(
            matches!(abandon, Abandon::SecondSignal { .. }),
            "{abandon:?}"
        );
    }

    #[test]
    fn a_wait_is_named_while_its_guard_lives() {
        let what = "a wait of the naming test";
        let first = waiting(what);
        let second = waiting(what);
        assert!(pending().contains(&format!("{what} (×2)")));
        drop(first);
        assert!(pending().contains(&what.to_string()));
        drop(second);
        assert!(!pending().iter().any(|w| w.starts_with(what)));
    }
}
