//! What work costs in budget units, for `zoho-sync plan` and the progress display's ETA:
//! pure arithmetic over record counts and the day's budget, using the same page
//! arithmetic as the passes. Legacy: 200 rows per request, one of them the anchor after
//! the first page. Zoho Desk: 100 rows per search at 3 credits, each page starting on the
//! last page's final instant (at least one row read again).

// The legacy API's page size: the plan and the progress display speak of its passes.
use crate::config::{OrganisationConfig, SourceConfig};
use crate::desk::module::IncrementalRead;
use crate::stream::Module;
use crate::zoho::client::MAX_WINDOW as PAGE_ROWS;

/// What a pass costs on one API: rows a request brings that are new, units a request
/// costs, and the units' name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CostModel {
    pub rows_per_request: u64,
    pub request_cost: u64,
    pub unit: &'static str,
}

impl CostModel {
    /// The legacy API: requests.
    pub const SUPPORT: CostModel = CostModel {
        rows_per_request: PAGE_ROWS as u64 - 1,
        request_cost: 1,
        unit: "requests",
    };

    /// Zoho Desk's search: credits (3 a search while its offset stays under 2,000).
    pub const DESK: CostModel = CostModel {
        rows_per_request: 99,
        request_cost: 3,
        unit: "credits",
    };

    /// A Zoho Desk module without a time filter (D15): a list of `limit` rows at 3 credits
    /// while its offset stays under 2,000, each window starting on the last one's final row.
    pub const fn desk_list(limit: u32) -> CostModel {
        CostModel {
            rows_per_request: limit as u64 - 1,
            request_cost: 3,
            unit: "credits",
        }
    }

    /// Units a pass over `rows` rows costs when the data holds still.
    pub fn pass(self, rows: u64) -> u64 {
        (rows / self.rows_per_request + 1) * self.request_cost
    }

    /// Units a day of `passes` incremental passes sharing `changes` changes costs.
    pub fn per_day(self, changes: u64, passes: u64) -> u64 {
        if passes == 0 {
            return 0;
        }
        passes * self.pass(changes.div_ceil(passes))
    }
}

/// Requests a pass over `rows` rows costs when the data holds still: `rows / 199 + 1`.
/// A sweep's id-only pass costs the same. Against the ideal `rows / 200 + 1` of windows
/// without an anchor, the anchor costs at most `rows / 39,800 + 1` more requests (the
/// two agree, e.g., for 10,000 rows: 51).
pub fn pass_requests(rows: u64) -> u64 {
    rows / u64::from(PAGE_ROWS - 1) + 1
}

/// Requests a day of incremental passes costs: `passes` passes sharing `changes` changes.
pub fn incremental_requests_per_day(changes: u64, passes: u64) -> u64 {
    if passes == 0 {
        return 0;
    }
    let per_pass = changes.div_ceil(passes);
    passes * pass_requests(per_pass)
}

/// Pacific days to spend `requests` when `per_day` requests are free each day (after the
/// incremental passes); `None` when no request is ever free for it.
pub fn days_needed(requests: u64, per_day: u64) -> Option<u64> {
    if requests == 0 {
        return Some(0);
    }
    (per_day > 0).then(|| requests.div_ceil(per_day))
}

/// What the organisation's API charges for a module's passes, and in which units.
pub fn cost_model(org: &OrganisationConfig, module: Module) -> CostModel {
    match (&org.source, module.desk()) {
        (SourceConfig::Desk(_), Some(m)) if reads_whole(module) => CostModel::desk_list(m.limit()),
        _ => org_model(org),
    }
}

/// What the organisation's API charges for its usual read (for its units, and what a
/// day's spare budget would read).
pub fn org_model(org: &OrganisationConfig) -> CostModel {
    match org.source {
        SourceConfig::Support(_) => CostModel::SUPPORT,
        SourceConfig::Desk(_) => CostModel::DESK,
    }
}

/// Whether every incremental pass of the module reads it whole (a Desk module without a
/// time filter, D15).
fn reads_whole(module: Module) -> bool {
    module
        .desk()
        .is_some_and(|m| m.incremental() == IncrementalRead::FullList)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_costs_one_request_per_199_rows_plus_the_last() {
        assert_eq!(pass_requests(0), 1);
        assert_eq!(pass_requests(199), 2);
        assert_eq!(pass_requests(10_000), 51);
    }

    #[test]
    fn the_anchor_costs_at_most_one_request_per_39800_rows_plus_one() {
        for rows in (0..200_000).step_by(97) {
            let ideal = rows / 200 + 1;
            assert!(pass_requests(rows) >= ideal);
            assert!(pass_requests(rows) - ideal <= rows / 39_800 + 1, "{rows}");
        }
    }

    #[test]
    fn a_day_of_incremental_passes_sums_its_passes() {
        assert_eq!(incremental_requests_per_day(0, 24), 24);
        assert_eq!(incremental_requests_per_day(1_000, 1), 6);
        assert_eq!(incremental_requests_per_day(5, 0), 0);
    }

    #[test]
    fn days_needed_rounds_up_and_knows_when_it_never_ends() {
        assert_eq!(days_needed(501, 250), Some(3));
        assert_eq!(days_needed(0, 0), Some(0));
        assert_eq!(days_needed(10, 0), None);
    }
}
