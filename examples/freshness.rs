//! The freshness benchmark (`bench/freshness.py` runs it): a Free portal's days on a
//! virtual clock, 8 modules changing at skewed rates (Poisson arrivals, seeded), polled by
//! the fixed hourly schedule and by the daemon's adaptive schedule (the same allocator,
//! rate estimator, interval rule and pacing the daemon runs, from `scheduler`). For every
//! change of the measured day it records when it was made and when a pass brought it to
//! the mirror, and prints the mean and 95th percentile staleness of each schedule against
//! the optimum computed in closed form from the true rates and the same budget.
//!
//! Usage: `cargo run --release --example freshness [-- --seed N --days N]`.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use zoho_sync::scheduler::estimate::pass_requests;
use zoho_sync::scheduler::freshness::{
    allocate, closed_form, interval, mean_staleness_secs, Bounds, Demand, RateEstimate,
    INCREMENTAL_SHARE,
};
use zoho_sync::scheduler::pacing::{pace, PaceInput};

/// The modules and their true changes a day (the example: one busy module, one
/// lively, the rest quiet).
const MODULES: [(&str, f64); 8] = [
    ("requests", 1_000.0),
    ("contacts", 200.0),
    ("accounts", 20.0),
    ("tasks", 15.0),
    ("timeentries", 12.0),
    ("contracts", 10.0),
    ("products", 8.0),
    ("solutions", 5.0),
];
/// A Free portal's daily limit.
const BUDGET: u32 = 250;
const DAY: i64 = 86_400;
/// The daemon's default bounds (`daemon.min_interval_secs`, `daemon.max_interval_secs`).
const BOUNDS: Bounds = Bounds {
    min_interval: Duration::from_secs(60),
    max_interval: Duration::from_secs(6 * 3_600),
};

struct Args {
    seed: u64,
    /// Days run before the measured one, for the adaptive schedule to learn the rates.
    warm_up: i64,
}

fn args() -> Args {
    let mut args = Args {
        seed: 7,
        warm_up: 2,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().and_then(|v| v.parse::<u64>().ok());
        match (flag.as_str(), value) {
            ("--seed", Some(v)) => args.seed = v,
            ("--warm-up-days", Some(v)) => args.warm_up = i64::try_from(v).unwrap_or(2),
            _ => {
                eprintln!("usage: freshness [--seed N] [--warm-up-days N]");
                std::process::exit(2);
            }
        }
    }
    args
}

/// Each module's change instants (seconds from the start), up to `end`.
fn changes(seed: u64, end: i64) -> Vec<Vec<f64>> {
    let mut rng = StdRng::seed_from_u64(seed);
    MODULES
        .iter()
        .map(|(_, per_day)| {
            let mut at = 0.0;
            let mut out = Vec::new();
            loop {
                let u: f64 = rng.gen_range(f64::EPSILON..1.0);
                at += -u.ln() / per_day * DAY as f64;
                if at >= end as f64 {
                    return out;
                }
                out.push(at);
            }
        })
        .collect()
}

/// What one schedule did: each measured change's wait, and requests per day.
#[derive(Default)]
struct Outcome {
    waits: Vec<f64>,
    requests_by_day: Vec<u32>,
}

impl Outcome {
    fn mean(&self) -> f64 {
        self.waits.iter().sum::<f64>() / self.waits.len().max(1) as f64
    }

    fn p95(&self) -> f64 {
        let mut w = self.waits.clone();
        w.sort_by(f64::total_cmp);
        w.get(w.len() * 95 / 100).copied().unwrap_or(0.0)
    }
}

/// The simulation's state: the changes, where each module's passes stand, the ledger.
struct Source<'c> {
    changes: &'c [Vec<f64>],
    next: Vec<usize>,
    measured: (f64, f64),
    outcome: Outcome,
}

impl<'c> Source<'c> {
    fn new(changes: &'c [Vec<f64>], measured_day: i64, days: i64) -> Source<'c> {
        let start = (measured_day * DAY) as f64;
        Source {
            changes,
            next: vec![0; changes.len()],
            measured: (start, start + DAY as f64),
            outcome: Outcome {
                waits: Vec::new(),
                requests_by_day: vec![0; usize::try_from(days).unwrap_or(0)],
            },
        }
    }

    fn used(&self, at: f64) -> u32 {
        let day = (at / DAY as f64) as usize;
        self.outcome.requests_by_day.get(day).copied().unwrap_or(0)
    }

    /// A pass of `module` at `at`: every change made before it reaches the mirror.
    /// Returns the changes it found.
    fn pass(&mut self, module: usize, at: f64) -> u64 {
        let list = &self.changes[module];
        let from = self.next[module];
        let mut to = from;
        while to < list.len() && list[to] <= at {
            let made = list[to];
            if made >= self.measured.0 && made < self.measured.1 {
                self.outcome.waits.push(at - made);
            }
            to += 1;
        }
        self.next[module] = to;
        let found = (to - from) as u64;
        let day = (at / DAY as f64) as usize;
        if let Some(used) = self.outcome.requests_by_day.get_mut(day) {
            *used += u32::try_from(pass_requests(found)).unwrap_or(u32::MAX);
        }
        found
    }
}

fn fixed_hourly(changes: &[Vec<f64>], measured_day: i64, days: i64) -> Outcome {
    let mut source = Source::new(changes, measured_day, days);
    for hour in 1..(days * 24) {
        let at = (hour * 3_600) as f64;
        for module in 0..MODULES.len() {
            source.pass(module, at);
        }
    }
    source.outcome
}

fn instant(secs: f64) -> DateTime<Utc> {
    let start = Utc.with_ymd_and_hms(2026, 7, 1, 7, 0, 0).unwrap();
    start + TimeDelta::milliseconds((secs * 1_000.0) as i64)
}

/// The daemon's adaptive schedule: after every pass, the allocator plans each module's
/// passes a day from the learned rates; a module is due its interval after its last
/// pass; pacing may hold a due pass back until the day's line allows it.
fn adaptive(changes: &[Vec<f64>], measured_day: i64, days: i64) -> (Outcome, Vec<f64>) {
    let mut source = Source::new(changes, measured_day, days);
    let incremental_budget = f64::from(BUDGET) * INCREMENTAL_SHARE;
    let mut estimates = vec![RateEstimate::default(); MODULES.len()];
    let mut last = vec![0.0_f64; MODULES.len()];
    let end = (days * DAY) as f64;
    loop {
        let demands: Vec<Demand> = estimates.iter().map(|e| legacy(e.per_day())).collect();
        let passes = allocate(&demands, incremental_budget, BOUNDS);
        let (module, due) = (0..MODULES.len())
            .map(|m| (m, last[m] + interval(passes[m], BOUNDS).as_secs_f64()))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("modules");
        let mut at = due;
        // The daemon checks the pace at every wake-up (each 2 s at most).
        while !paced(&source, at, &passes) {
            at += 2.0;
        }
        if at >= end {
            break;
        }
        let found = source.pass(module, at);
        let exposure = Duration::from_secs_f64(at - last[module]);
        estimates[module] = estimates[module].observe(found, exposure);
        last[module] = at;
    }
    let learned = estimates.iter().map(|e| e.per_day()).collect();
    (source.outcome, learned)
}

/// Whether pacing lets an incremental pass of one module run at `at` (the daemon's
/// `pace`, with this many passes still planned today).
fn paced(source: &Source<'_>, at: f64, passes: &[f64]) -> bool {
    let day = (at / DAY as f64).floor();
    let day_start = day * DAY as f64;
    let left = 1.0 - (at - day_start) / DAY as f64;
    let planned: f64 = passes.iter().sum();
    let input = PaceInput {
        budget: BUDGET,
        used: source.used(at),
        day_start: instant(day_start),
        day_end: instant(day_start + DAY as f64),
        now: instant(at),
        rounds_left: (planned * left) as u32,
        per_round: 1,
    };
    pace(&input).incremental
}

fn legacy(rate_per_day: f64) -> Demand {
    Demand {
        rate_per_day,
        pass_cost: 1.0,
        change_cost: 1.0 / 199.0,
    }
}

/// The 95th percentile of a change's wait when module `i` is polled every `Tᵢ` (each
/// change waits uniformly in `[0, Tᵢ)`, changes weighted by rate).
fn p95_of_uniforms(rates: &[f64], intervals: &[f64]) -> f64 {
    let total: f64 = rates.iter().sum();
    let over = |s: f64| -> f64 {
        rates
            .iter()
            .zip(intervals)
            .map(|(r, t)| r * (1.0 - s / t).max(0.0))
            .sum::<f64>()
            / total
    };
    let (mut lo, mut hi) = (0.0, intervals.iter().copied().fold(0.0, f64::max));
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if over(mid) > 0.05 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

fn minutes(secs: f64) -> f64 {
    secs / 60.0
}

fn main() {
    let args = args();
    let measured_day = args.warm_up;
    let days = measured_day + 2;
    let changes = changes(args.seed, days * DAY);
    let fixed = fixed_hourly(&changes, measured_day, days);
    let (adaptive, learned) = adaptive(&changes, measured_day, days);
    let rates: Vec<f64> = MODULES.iter().map(|(_, r)| *r).collect();
    let truth: Vec<Demand> = rates.iter().map(|r| legacy(*r)).collect();
    let budget = f64::from(BUDGET) * INCREMENTAL_SHARE;
    let best = closed_form(&truth, budget);
    let best_mean = mean_staleness_secs(&truth, &best).unwrap_or(f64::NAN);
    let best_intervals: Vec<f64> = best.iter().map(|f| DAY as f64 / f).collect();
    let best_p95 = p95_of_uniforms(&rates, &best_intervals);
    let best_cost: f64 = truth.iter().zip(&best).map(|(d, f)| d.daily_cost(*f)).sum();

    println!(
        "freshness: a Free portal ({BUDGET} requests a day, {:.0} planned for incremental passes), \
         8 modules, {} changes on the measured day (day {} after {} of learning), seed {}",
        budget,
        adaptive.waits.len(),
        measured_day + 1,
        measured_day,
        args.seed
    );
    println!("module        true/day  learned/day");
    for ((name, rate), learned) in MODULES.iter().zip(&learned) {
        println!("{name:<12} {rate:>9.0} {learned:>12.1}");
    }
    println!("schedule        mean (min)  p95 (min)  requests/day (most)");
    let most = |o: &Outcome| o.requests_by_day.iter().copied().max().unwrap_or(0);
    println!(
        "fixed hourly    {:>10.1} {:>10.1} {:>12}",
        minutes(fixed.mean()),
        minutes(fixed.p95()),
        most(&fixed)
    );
    println!(
        "adaptive        {:>10.1} {:>10.1} {:>12}",
        minutes(adaptive.mean()),
        minutes(adaptive.p95()),
        most(&adaptive)
    );
    println!(
        "optimum         {:>10.1} {:>10.1} {:>12.0}",
        minutes(best_mean),
        minutes(best_p95),
        best_cost
    );
    let vs_fixed = adaptive.mean() / fixed.mean();
    let vs_best = adaptive.mean() / best_mean;
    let over = most(&adaptive) > BUDGET || most(&fixed) > BUDGET;
    println!("adaptive/fixed mean staleness: {vs_fixed:.2} (target <= 0.50)");
    println!("adaptive/optimum mean staleness: {vs_best:.2} (target <= 1.15)");
    println!(
        "requests over the budget on any day: {}",
        if over { "yes" } else { "none" }
    );
    if vs_fixed > 0.5 || vs_best > 1.15 || over {
        std::process::exit(1);
    }
}
