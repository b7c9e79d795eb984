//! Adaptive polling: how often each module's incremental pass runs, so that a change at
//! the source waits as little as possible on average before it reaches the mirror, within
//! the day's incremental budget. Pure arithmetic; the daemon feeds it learned change
//! rates (`RateEstimate`) and turns its answer into due times.
//!
//! A module polled `f` times a day leaves a change waiting `1 / 2f` of a day on average,
//! so the mean staleness of a change is `Σ λᵢ / 2fᵢ ÷ Σ λᵢ` for change rates `λᵢ`. A pass
//! costs `w` units when nothing changed (one request per department, three credits a
//! Desk search) plus its pages of changes, which cost the same however the changes are
//! split between passes (`floor(n / rows) + 1` requests, counted here as `n / rows + 1`,
//! never less). Minimising `Σ λᵢ / fᵢ` under `Σ wᵢ fᵢ ≤ B` gives `fᵢ ∝ √(λᵢ / wᵢ)`: the
//! square-root law of Cho and Garcia-Molina. With bounds on the interval, the optimum is
//! the same law clamped to them, scaled until the budget is spent (`allocate`).
//!
//! Invariant: what `allocate` plans never costs more than the budget it is given, unless
//! the budget cannot pay even for the changes themselves, when it plans nothing.

use std::time::Duration;

const DAY_SECS: f64 = 86_400.0;

/// One module as the allocator sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Demand {
    /// Changes a day (learned; never negative).
    pub rate_per_day: f64,
    /// Units a pass costs when nothing changed: one request per stream of the module
    /// (three credits a stream on Zoho Desk).
    pub pass_cost: f64,
    /// Units each change costs in pages (one request per 199 rows on the legacy API).
    pub change_cost: f64,
}

impl Demand {
    /// Units a day of `passes` passes costs, at most.
    pub fn daily_cost(self, passes: f64) -> f64 {
        if passes <= 0.0 {
            return 0.0;
        }
        passes * self.pass_cost + self.rate_per_day * self.change_cost
    }
}

/// The shortest and longest interval between two passes of a module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    pub min_interval: Duration,
    pub max_interval: Duration,
}

impl Bounds {
    fn most_passes(self) -> f64 {
        DAY_SECS / self.min_interval.as_secs_f64().max(1.0)
    }

    fn fewest_passes(self) -> f64 {
        DAY_SECS / self.max_interval.as_secs_f64().max(1.0)
    }
}

/// Passes a day for each module, in the order given, costing at most `budget` units a
/// day. Within the bounds when the budget allows; when it cannot pay for every module's
/// longest interval, the longest interval gives way (the budget is the hard limit).
pub fn allocate(demands: &[Demand], budget: f64, bounds: Bounds) -> Vec<f64> {
    let for_changes: f64 = demands.iter().map(|d| d.rate_per_day * d.change_cost).sum();
    let for_passes = budget - for_changes;
    if demands.is_empty() || for_passes.is_nan() || for_passes <= 0.0 {
        return vec![0.0; demands.len()];
    }
    let (lo, hi) = (bounds.fewest_passes(), bounds.most_passes().max(0.0));
    let weight = |d: &Demand| d.pass_cost.max(f64::MIN_POSITIVE);
    let cost_at = |lo: f64, scale: f64| -> f64 {
        demands
            .iter()
            .map(|d| weight(d) * passes_at(d, scale, lo, hi))
            .sum()
    };
    let lo = if cost_at(lo, 0.0) > for_passes {
        0.0
    } else {
        lo.min(hi)
    };
    if cost_at(lo, f64::INFINITY) <= for_passes {
        return demands
            .iter()
            .map(|d| passes_at(d, f64::INFINITY, lo, hi))
            .collect();
    }
    // The cost grows with the scale: find the largest scale within the budget.
    let (mut below, mut above) = (0.0_f64, 1.0_f64);
    while cost_at(lo, above) <= for_passes {
        above *= 2.0;
    }
    for _ in 0..200 {
        let mid = (below + above) / 2.0;
        if cost_at(lo, mid) <= for_passes {
            below = mid;
        } else {
            above = mid;
        }
    }
    demands
        .iter()
        .map(|d| passes_at(d, below, lo, hi))
        .collect()
}

/// `scale · √(λ / w)`, clamped to `[lo, hi]`.
fn passes_at(d: &Demand, scale: f64, lo: f64, hi: f64) -> f64 {
    if d.rate_per_day.is_nan() || d.rate_per_day <= 0.0 {
        return lo; // nothing to catch: checked as seldom as allowed
    }
    let ideal = scale * (d.rate_per_day / d.pass_cost.max(f64::MIN_POSITIVE)).sqrt();
    ideal.clamp(lo, hi.max(lo))
}

/// The unbounded optimum in closed form: `fᵢ = B' √(λᵢ / wᵢ) / Σ √(λⱼ wⱼ)`, where `B'` is
/// the budget less what the changes cost.
pub fn closed_form(demands: &[Demand], budget: f64) -> Vec<f64> {
    let for_changes: f64 = demands.iter().map(|d| d.rate_per_day * d.change_cost).sum();
    let for_passes = (budget - for_changes).max(0.0);
    let norm: f64 = demands
        .iter()
        .map(|d| (d.rate_per_day * d.pass_cost).sqrt())
        .sum();
    demands
        .iter()
        .map(|d| {
            if norm > 0.0 {
                for_passes * (d.rate_per_day / d.pass_cost).sqrt() / norm
            } else {
                0.0
            }
        })
        .collect()
}

/// The mean time a change waits for the next pass, in seconds, for these passes a day
/// (`None` when nothing changes, or something that changes is never polled).
pub fn mean_staleness_secs(demands: &[Demand], passes: &[f64]) -> Option<f64> {
    let total: f64 = demands.iter().map(|d| d.rate_per_day).sum();
    if total <= 0.0 {
        return None;
    }
    let mut weighted = 0.0;
    for (d, f) in demands.iter().zip(passes) {
        if d.rate_per_day > 0.0 {
            if *f <= 0.0 {
                return None;
            }
            weighted += d.rate_per_day * interval_secs(*f) / 2.0;
        }
    }
    Some(weighted / total)
}

/// Seconds between passes at `passes` a day.
pub fn interval_secs(passes: f64) -> f64 {
    DAY_SECS / passes
}

/// The interval between two passes of a module planned `passes` times a day, within the
/// bounds (the longest when nothing could be planned: pacing then decides).
pub fn interval(passes: f64, bounds: Bounds) -> Duration {
    if passes.is_nan() || passes <= 0.0 {
        return bounds.max_interval;
    }
    Duration::from_secs_f64(interval_secs(passes).min(bounds.max_interval.as_secs_f64()))
        .max(bounds.min_interval)
}

/// The share of a day's budget the adaptive schedule plans for incremental passes by
/// default; the rest is left to backfills and to the sweeps that find deleted records.
pub const INCREMENTAL_SHARE: f64 = 0.8;

/// A stream's change rate, learned from its incremental passes: changes seen over the
/// time they were seen in, both decayed with a half-life so that the estimate follows a
/// module whose activity moves, plus a prior worth `PRIOR_EXPOSURE` at `PRIOR_PER_DAY`
/// so that a new stream starts from a modest guess instead of zero or infinity.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RateEstimate {
    pub changes: f64,
    pub exposure_secs: f64,
}

/// How fast old observations fade.
pub const HALF_LIFE: Duration = Duration::from_secs(7 * 86_400);
/// What a stream nothing is known of is assumed to change: once an hour…
pub const PRIOR_PER_DAY: f64 = 24.0;
/// …with the weight of six hours of observation.
pub const PRIOR_EXPOSURE: Duration = Duration::from_secs(6 * 3_600);

impl RateEstimate {
    /// The estimate after a pass that found `changes` changes made over `exposure`.
    pub fn observe(self, changes: u64, exposure: Duration) -> RateEstimate {
        let secs = exposure.as_secs_f64();
        let keep = 0.5_f64.powf(secs / HALF_LIFE.as_secs_f64());
        RateEstimate {
            changes: self.changes * keep + changes as f64,
            exposure_secs: self.exposure_secs * keep + secs,
        }
    }

    /// Changes a day.
    pub fn per_day(self) -> f64 {
        let prior_secs = PRIOR_EXPOSURE.as_secs_f64();
        let prior_changes = PRIOR_PER_DAY * prior_secs / DAY_SECS;
        (self.changes + prior_changes) / (self.exposure_secs + prior_secs) * DAY_SECS
    }
}

#[cfg(test)]
mod tests;
