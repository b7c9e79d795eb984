use proptest::prelude::*;

use super::*;

const LEGACY_CHANGE: f64 = 1.0 / 199.0;

fn demand(rate_per_day: f64) -> Demand {
    Demand {
        rate_per_day,
        pass_cost: 1.0,
        change_cost: LEGACY_CHANGE,
    }
}

fn loose() -> Bounds {
    Bounds {
        min_interval: Duration::from_secs(1),
        max_interval: Duration::from_secs(365 * 86_400),
    }
}

fn cost(demands: &[Demand], passes: &[f64]) -> f64 {
    demands
        .iter()
        .zip(passes)
        .map(|(d, f)| d.daily_cost(*f))
        .sum()
}

#[test]
fn passes_follow_the_square_root_of_the_change_rate() {
    let demands = [demand(1_600.0), demand(100.0)];
    let passes = allocate(&demands, 100.0, loose());
    // √1600 : √100 = 4 : 1.
    assert!((passes[0] / passes[1] - 4.0).abs() < 1e-6, "{passes:?}");
    assert!(cost(&demands, &passes) <= 100.0 + 1e-9);
}

#[test]
fn a_module_that_never_changes_is_still_checked_at_the_longest_interval() {
    let bounds = Bounds {
        min_interval: Duration::from_secs(60),
        max_interval: Duration::from_secs(6 * 3_600),
    };
    let passes = allocate(&[demand(1_000.0), demand(0.0)], 250.0, bounds);
    assert!((passes[1] - 4.0).abs() < 1e-9, "{passes:?}");
    assert!(passes[0] > 200.0, "{passes:?}");
}

#[test]
fn the_shortest_interval_caps_a_busy_module_and_the_rest_goes_to_the_others() {
    let bounds = Bounds {
        min_interval: Duration::from_secs(3_600),
        max_interval: Duration::from_secs(86_400),
    };
    // The changes cost 2000 / 199 ≈ 10.1 requests; 24 passes of the busy module leave
    // about 5.9 for the quiet one, which the square-root law alone would not give it.
    let demands = [demand(2_000.0), demand(10.0)];
    let passes = allocate(&demands, 40.0, bounds);
    assert!((passes[0] - 24.0).abs() < 1e-9, "{passes:?}");
    assert!((passes[1] - 5.9).abs() < 0.1, "{passes:?}");
    assert!(cost(&demands, &passes) <= 40.0 + 1e-9);
}

#[test]
fn a_budget_too_small_for_the_longest_interval_still_is_not_exceeded() {
    let bounds = Bounds {
        min_interval: Duration::from_secs(60),
        max_interval: Duration::from_secs(3_600),
    };
    let demands = [demand(50.0), demand(5.0), demand(1.0)];
    let passes = allocate(&demands, 10.0, bounds);
    assert!(cost(&demands, &passes) <= 10.0 + 1e-9, "{passes:?}");
    assert!(passes.iter().all(|f| *f > 0.0), "{passes:?}");
}

#[test]
fn a_budget_the_changes_alone_exceed_plans_nothing() {
    let passes = allocate(&[demand(10_000.0)], 20.0, loose());
    assert_eq!(passes, [0.0]);
}

#[test]
fn the_rate_estimate_starts_from_the_prior_and_follows_what_passes_find() {
    let fresh = RateEstimate::default();
    assert!((fresh.per_day() - PRIOR_PER_DAY).abs() < 1e-9);
    let mut busy = fresh;
    for _ in 0..96 {
        // 10 changes every 15 minutes: 960 a day.
        busy = busy.observe(10, Duration::from_secs(900));
    }
    // After a day, the prior (six hours at 24 a day) still weighs a fifth.
    let rate = busy.per_day();
    let expected = (960.0 + 24.0 / 4.0) / 1.25;
    assert!((rate - expected).abs() < 10.0, "{rate}");
    let mut quiet = busy;
    // Four weeks of quiet: four half-lives.
    for _ in 0..(8 * 28) {
        quiet = quiet.observe(0, Duration::from_secs(3 * 3_600));
    }
    assert!(quiet.per_day() < 20.0, "{}", quiet.per_day());
}

proptest! {
    #[test]
    fn the_allocator_never_exceeds_the_budget(
        rates in prop::collection::vec(0.0f64..5_000.0, 1..12),
        costs in prop::collection::vec(1.0f64..4.0, 12),
        budget in 0.0f64..20_000.0,
        min_secs in 1u64..3_600,
        spread in 1u64..100,
    ) {
        let demands: Vec<Demand> = rates
            .iter()
            .zip(&costs)
            .map(|(r, c)| Demand { rate_per_day: *r, pass_cost: *c, change_cost: LEGACY_CHANGE * c })
            .collect();
        let bounds = Bounds {
            min_interval: Duration::from_secs(min_secs),
            max_interval: Duration::from_secs(min_secs * spread),
        };
        let passes = allocate(&demands, budget, bounds);
        prop_assert!(passes.iter().all(|f| f.is_finite() && *f >= 0.0), "{passes:?}");
        prop_assert!(cost(&demands, &passes) <= budget * (1.0 + 1e-9) + 1e-9,
            "cost {} > {budget}: {passes:?}", cost(&demands, &passes));
    }

    #[test]
    fn where_no_bound_binds_the_allocator_is_within_one_percent_of_the_closed_form(
        rates in prop::collection::vec(1.0f64..5_000.0, 1..12),
        costs in prop::collection::vec(1.0f64..4.0, 12),
        budget in 50.0f64..20_000.0,
    ) {
        let demands: Vec<Demand> = rates
            .iter()
            .zip(&costs)
            .map(|(r, c)| Demand { rate_per_day: *r, pass_cost: *c, change_cost: LEGACY_CHANGE * c })
            .collect();
        let exact = closed_form(&demands, budget);
        // No bound binds: every module's passes a day within what `loose` allows (a
        // module changing once a day on a small budget may be due less than once a year).
        let (least, most) = (1.0 / 365.0, 86_400.0);
        prop_assume!(exact.iter().all(|f| *f > least && *f < most));
        let passes = allocate(&demands, budget, loose());
        let got = mean_staleness_secs(&demands, &passes).unwrap();
        let best = mean_staleness_secs(&demands, &exact).unwrap();
        prop_assert!(got <= best * 1.01, "{got} against {best}");
        for (f, e) in passes.iter().zip(&exact) {
            prop_assert!((f - e).abs() <= e * 0.01, "{passes:?} against {exact:?}");
        }
    }
}
