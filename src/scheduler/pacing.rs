//! Pacing the day: how much of the day's budget a daemon round may spend, so that the
//! budget lasts until Pacific midnight instead of going in the first hour. Spending may
//! follow a straight line from the start of the quota day to its end (plus one round's
//! worth of burst); the incremental rounds still to come today are kept back from the
//! backfills, so incremental passes keep running in the day's last hours. A backfill's
//! share comes in bursts of at least `MIN_BURST` requests: a paused backfill that resumes
//! after rows were deleted spends its first request finding the set moved and its second
//! reading back, so a lone request a round would never get anywhere. Pure: the time and
//! the ledger's count are passed in.

use chrono::{DateTime, Utc};

/// The smallest backfill allowance handed out; less is kept back until the line has grown.
pub const MIN_BURST: u32 = 4;

/// What is kept back for incremental rounds to come when the schedule asks more of them
/// than the day's budget can pay for: this share of what is left. The rounds are then
/// thinned by the line, and backfills get the rest instead of starving.
pub const MAX_KEPT_PERCENT: u32 = 50;

/// What the pacing knows at the start of a round.
#[derive(Clone, Copy, Debug)]
pub struct PaceInput {
    /// Requests zoho-sync may send today (limit less reserve).
    pub budget: u32,
    /// Requests the ledger counts today so far.
    pub used: u32,
    pub day_start: DateTime<Utc>,
    pub day_end: DateTime<Utc>,
    pub now: DateTime<Utc>,
    /// Rounds of the schedule still to come today after this one.
    pub rounds_left: u32,
    /// What a round's incremental passes cost (at least one request per stream).
    pub per_round: u32,
}

/// What a round may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pace {
    /// Whether to run the incremental passes now (false: the day's line is reached).
    pub incremental: bool,
    /// Requests the backfills may send in this round.
    pub backfill_allowance: u32,
}

/// The spending line: what may be used by `now`, out of `budget`.
fn line(input: &PaceInput) -> u32 {
    let length = (input.day_end - input.day_start).num_seconds().max(1);
    let elapsed = (input.now - input.day_start).num_seconds().clamp(0, length);
    let share = u64::from(input.budget) * u64::try_from(elapsed).unwrap_or(0)
        / u64::try_from(length).unwrap_or(1);
    u32::try_from(share).unwrap_or(input.budget)
}

pub fn pace(input: &PaceInput) -> Pace {
    let budget_left = input.budget.saturating_sub(input.used);
    let cap = line(input)
        .saturating_add(input.per_round)
        .min(input.budget);
    let incremental = input.used < cap && budget_left >= input.per_round.min(1);
    let this_round = if incremental { input.per_round } else { 0 };
    let by_line = cap.saturating_sub(input.used).saturating_sub(this_round);
    let room = budget_left.saturating_sub(this_round);
    let need = input.rounds_left.saturating_mul(input.per_round);
    let kept_for_rounds = if need <= room {
        need
    } else {
        u32::try_from(u64::from(room) * u64::from(MAX_KEPT_PERCENT) / 100).unwrap_or(room)
    };
    let by_day = room.saturating_sub(kept_for_rounds);
    let allowance = by_line.min(by_day);
    Pace {
        incremental,
        backfill_allowance: if allowance < MIN_BURST { 0 } else { allowance },
    }
}

/// Fires of `schedule` strictly after `now` and before `end` (at most `cap`).
pub fn rounds_between(
    schedule: &cron::Schedule,
    now: DateTime<Utc>,
    end: DateTime<Utc>,
    cap: u32,
) -> u32 {
    let count = schedule
        .after(&now)
        .take_while(|t| *t < end)
        .take(cap as usize)
        .count();
    u32::try_from(count).unwrap_or(cap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn input(hour: u32, used: u32, rounds_left: u32) -> PaceInput {
        let start = Utc.with_ymd_and_hms(2026, 7, 1, 7, 0, 0).unwrap();
        PaceInput {
            budget: 240,
            used,
            day_start: start,
            day_end: start + chrono::Duration::hours(24),
            now: start + chrono::Duration::hours(i64::from(hour)),
            rounds_left,
            per_round: 4,
        }
    }

    #[test]
    fn the_first_round_of_the_day_runs_incremental_passes_but_no_backfill() {
        let pace = pace(&input(0, 0, 23));
        assert!(pace.incremental);
        assert_eq!(pace.backfill_allowance, 0);
    }

    #[test]
    fn at_noon_backfills_may_catch_up_to_the_line_less_the_rounds_to_come() {
        // The line allows 120 by noon (+4 burst); 12 rounds of 4 stay kept back.
        let pace = pace(&input(12, 20, 12));
        assert!(pace.incremental);
        assert_eq!(pace.backfill_allowance, 124 - 20 - 4);
        let late = super::pace(&input(12, 200, 12));
        assert_eq!(
            late.backfill_allowance, 0,
            "ahead of the line: nothing for backfills"
        );
    }

    #[test]
    fn the_last_hours_keep_budget_for_the_incremental_rounds() {
        // At 20:00 the line allows 204 and 150 are used, but 15 more rounds of 4 must
        // fit in the 90 left: backfills get 90 - 4 - 60.
        let pace = pace(&input(20, 150, 15));
        assert!(pace.incremental);
        assert_eq!(pace.backfill_allowance, 26);
    }

    #[test]
    fn a_backfill_share_smaller_than_a_burst_waits_for_the_line_to_grow() {
        // At 01:00 the line allows 10 (+4 burst): 4 for this round's incremental passes,
        // 10 - 7 used = 3 left for backfills, too few to get past a moved data set.
        let small = pace(&input(1, 7, 0));
        assert!(small.incremental);
        assert_eq!(small.backfill_allowance, 0);
        let grown = pace(&input(1, 6, 0));
        assert_eq!(grown.backfill_allowance, MIN_BURST);
    }

    #[test]
    fn an_oversubscribed_schedule_keeps_back_at_most_half_of_what_is_left() {
        // At noon 95 rounds of 7 would need 665 of the 213 left after this round: half
        // (106) is kept back, and the line (120 + 7) allows 100 more.
        let mut over = input(12, 20, 95);
        over.per_round = 7;
        let pace = pace(&over);
        assert!(pace.incremental);
        assert_eq!(pace.backfill_allowance, 100);
    }

    #[test]
    fn a_spent_budget_runs_nothing() {
        let pace = pace(&input(23, 240, 0));
        assert!(!pace.incremental);
        assert_eq!(pace.backfill_allowance, 0);
    }

    #[test]
    fn rounds_are_counted_until_the_end_of_the_day() {
        let schedule: cron::Schedule = "0 0 * * * *".parse().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 7, 1, 20, 30, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2026, 7, 2, 0, 0, 0).unwrap();
        assert_eq!(rounds_between(&schedule, now, end, 1000), 3);
    }
}
