//! What `dead-letters --retry` prints, and what its exit says. A table per stream (letters,
//! tried, loaded, still bad, gone, without an id, untried, requests) on stdout, or with
//! `--format ndjson` one JSON object per letter on stdout and the table on stderr, so a
//! program reads only outcomes. Letters still bad are no failure of the process, and are
//! said to be so; a failure, a spent budget and a held stream end the command with their
//! exit codes, in that order of precedence.

use std::io::Write;

use serde::Serialize;

use super::{LettersError, LettersFormat};
use crate::cli::sync::describe_reset;
use crate::letters::{OrgRetry, Outcome, StreamEnd, StreamRetry};

/// One letter's outcome as NDJSON.
#[derive(Serialize)]
struct Line<'a> {
    portal: &'a str,
    department: &'a str,
    module: &'a str,
    id: i64,
    record_id: Option<u64>,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

/// Prints the outcomes and turns what could not be done into the command's error.
pub(super) fn report(done: &[OrgRetry], format: LettersFormat) -> Result<(), LettersError> {
    if format == LettersFormat::Ndjson {
        let mut out = std::io::stdout().lock();
        for stream in done.iter().flat_map(|o| &o.streams) {
            lines(&mut out, stream)?;
        }
        out.flush()?;
        summary(&mut std::io::stderr().lock(), done)?;
    } else {
        summary(&mut std::io::stdout().lock(), done)?;
    }
    verdict(done)
}

fn lines(out: &mut impl Write, retry: &StreamRetry) -> Result<(), LettersError> {
    let stream = &retry.stream;
    for letter in &retry.letters {
        let line = Line {
            portal: &stream.portal,
            department: &stream.department,
            module: stream.module.key(),
            id: letter.letter,
            record_id: letter.record_id.map(|r| r.0),
            outcome: letter.outcome.as_str(),
            error: letter.error.as_deref(),
        };
        serde_json::to_writer(&mut *out, &line).map_err(std::io::Error::from)?;
        writeln!(out)?;
    }
    Ok(())
}

fn summary(out: &mut impl Write, done: &[OrgRetry]) -> Result<(), LettersError> {
    if done.iter().all(|o| o.streams.is_empty()) {
        writeln!(out, "no dead letters to retry")?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<32} {:>7} {:>6} {:>6} {:>9} {:>5} {:>5} {:>7} {:>8}",
        "STREAM", "LETTERS", "TRIED", "LOADED", "STILL BAD", "GONE", "NO ID", "UNTRIED", "REQUESTS"
    )?;
    for org in done {
        for retry in &org.streams {
            let n = |o: Outcome| retry.count(o);
            writeln!(
                out,
                "{:<32} {:>7} {:>6} {:>6} {:>9} {:>5} {:>5} {:>7} {:>8}",
                retry.stream.to_string(),
                retry.letters.len(),
                retry.tried(),
                n(Outcome::Loaded),
                n(Outcome::StillBad),
                n(Outcome::Gone),
                n(Outcome::NoId),
                n(Outcome::Untried),
                retry.requests
            )?;
            if let Some(why) = end_note(&retry.end) {
                writeln!(out, "  {why}")?;
            }
        }
        let requests: u64 = org.streams.iter().map(|s| s.requests).sum();
        writeln!(
            out,
            "{}: run {}, {requests} requests",
            org.organisation, org.run_id
        )?;
    }
    let still_bad = count(done, Outcome::StillBad);
    if still_bad > 0 {
        writeln!(
            out,
            "{still_bad} letters are still bad: their records are still refused and the \
             letters kept (not a failure of this command)"
        )?;
    }
    Ok(())
}

/// Why a stream stopped short, if it did.
fn end_note(end: &StreamEnd) -> Option<String> {
    match end {
        StreamEnd::Done => None,
        StreamEnd::BudgetSpent { resets_at } => Some(format!(
            "today's budget is spent; resets {}",
            describe_reset(*resets_at)
        )),
        StreamEnd::Held(holding) => Some(format!("held by {holding}; not retried")),
        StreamEnd::Stopped => Some("stopped".into()),
        StreamEnd::AuthFailed(e) | StreamEnd::Failed(e) => Some(format!("failed: {e}")),
    }
}

fn count(done: &[OrgRetry], outcome: Outcome) -> usize {
    done.iter()
        .flat_map(|o| &o.streams)
        .map(|s| s.count(outcome))
        .sum()
}

/// The command's end: a failure, then a spent budget, then held streams; a stop is not a
/// failure (the letters untried wait for the next retry).
fn verdict(done: &[OrgRetry]) -> Result<(), LettersError> {
    let streams = || done.iter().flat_map(|o| &o.streams);
    let failures: Vec<String> = streams()
        .filter_map(|s| match &s.end {
            StreamEnd::Failed(e) | StreamEnd::AuthFailed(e) => Some(format!("{}: {e}", s.stream)),
            _ => None,
        })
        .collect();
    if !failures.is_empty() {
        return Err(LettersError::Failed(failures.join("; ")));
    }
    let spent = streams().find_map(|s| match s.end {
        StreamEnd::BudgetSpent { resets_at } => Some(resets_at),
        _ => None,
    });
    if let Some(resets_at) = spent {
        return Err(LettersError::BudgetSpent {
            untried: count(done, Outcome::Untried),
            resets_at: describe_reset(resets_at),
        });
    }
    let held: Vec<String> = streams()
        .filter_map(|s| match &s.end {
            StreamEnd::Held(holding) => Some(format!("{} (held by {holding})", s.stream)),
            _ => None,
        })
        .collect();
    if !held.is_empty() {
        return Err(LettersError::Held(held.join("; ")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::letters::LetterOutcome;
    use crate::store::Holding;
    use crate::stream::StreamKey;
    use crate::zoho::record::RecordId;
    use crate::zoho::Module;

    fn stream(end: StreamEnd, outcomes: &[Outcome]) -> StreamRetry {
        let letters = outcomes
            .iter()
            .enumerate()
            .map(|(i, outcome)| LetterOutcome {
                letter: i as i64,
                record_id: Some(RecordId(i as u64)),
                outcome: *outcome,
                error: None,
            })
            .collect();
        StreamRetry {
            stream: StreamKey {
                portal: "p".into(),
                department: "d".into(),
                module: Module::Requests.into(),
            },
            letters,
            requests: 0,
            end,
        }
    }

    fn org(streams: Vec<StreamRetry>) -> Vec<OrgRetry> {
        vec![OrgRetry {
            organisation: "demo".into(),
            run_id: 1,
            streams,
        }]
    }

    fn held() -> StreamEnd {
        StreamEnd::Held(Holding {
            holder: "h".into(),
            host: None,
            pid: None,
            since: Utc::now(),
        })
    }

    #[test]
    fn letters_still_bad_or_stopped_short_by_a_signal_are_no_failure() {
        let done = org(vec![
            stream(StreamEnd::Done, &[Outcome::StillBad, Outcome::NoId]),
            stream(StreamEnd::Stopped, &[Outcome::Loaded, Outcome::Untried]),
        ]);
        assert!(verdict(&done).is_ok());
    }

    #[test]
    fn a_failure_outranks_a_spent_budget_which_outranks_a_held_stream() {
        let spent = StreamEnd::BudgetSpent {
            resets_at: Utc::now(),
        };
        let failed = StreamEnd::Failed("boom".into());
        let all = org(vec![
            stream(held(), &[Outcome::Untried]),
            stream(spent.clone(), &[Outcome::Loaded, Outcome::Untried]),
            stream(failed, &[Outcome::Untried]),
        ]);
        assert_eq!(verdict(&all).unwrap_err().exit_code(), 1);
        let no_failure = org(vec![
            stream(held(), &[Outcome::Untried]),
            stream(spent, &[Outcome::Loaded, Outcome::Untried]),
        ]);
        let error = verdict(&no_failure).unwrap_err();
        assert_eq!(error.exit_code(), crate::cli::EXIT_BUDGET_SPENT);
        assert!(error.to_string().contains("2 letters untried"), "{error}");
        let held_only = org(vec![stream(held(), &[Outcome::Untried])]);
        assert_eq!(
            verdict(&held_only).unwrap_err().exit_code(),
            crate::cli::EXIT_HELD
        );
    }
}
