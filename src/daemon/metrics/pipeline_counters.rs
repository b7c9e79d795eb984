//! The pipelines' counters as Prometheus counters: a `prometheus-client` collector that
//! reads each organisation's `telemetry::Progress` at scrape time. `Progress` stays the
//! one count (the pipelines and the command line's progress display update it); nothing
//! here counts anything. Like the crate's own families, a family with no sample yet is
//! left out (`zoho_sync_requests_total` appears with the first request).

use std::sync::atomic::Ordering;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::MetricType;

use super::{lock, Orgs};
use crate::telemetry::Progress;

/// A counter read from `Progress`: its name (the crate adds `_total`), its help text
/// (written as is: the crate adds a period only to what is registered) and its reading.
type ProgressCounter = (&'static str, &'static str, fn(&Progress) -> u64);

const PROGRESS_COUNTERS: [ProgressCounter; 4] = [
    (
        "zoho_sync_records_loaded",
        "Records committed to the mirror.",
        |p| p.records.load(Ordering::Relaxed),
    ),
    ("zoho_sync_pages", "Pages committed.", |p| {
        p.pages.load(Ordering::Relaxed)
    }),
    (
        "zoho_sync_dead_letters",
        "Rows set aside as dead letters.",
        |p| p.dead_letters.load(Ordering::Relaxed),
    ),
    (
        "zoho_sync_retries",
        "Requests retried after a transient failure.",
        |p| p.retries.load(Ordering::Relaxed),
    ),
];

#[derive(Debug)]
pub(super) struct PipelineCounters {
    orgs: Orgs,
}

impl PipelineCounters {
    pub(super) fn new(orgs: Orgs) -> PipelineCounters {
        PipelineCounters { orgs }
    }
}

impl Collector for PipelineCounters {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let orgs = lock(&self.orgs);
        let mut requests = Vec::new();
        for (org, state) in orgs.iter() {
            for (&(method, outcome), &n) in lock(&state.progress.outcomes).iter() {
                let labels = [
                    ("organisation", org.as_str()),
                    ("method", method),
                    ("outcome", outcome),
                ];
                requests.push((labels, n));
            }
        }
        let help = "API requests sent, by method and outcome.";
        encode_counters(&mut encoder, "zoho_sync_requests", help, &requests)?;
        for (name, help, read) in PROGRESS_COUNTERS {
            let samples: Vec<_> = orgs
                .iter()
                .map(|(org, state)| ([("organisation", org.as_str())], read(&state.progress)))
                .collect();
            encode_counters(&mut encoder, name, help, &samples)?;
        }
        Ok(())
    }
}

/// One counter family: its description, then a sample per label set.
fn encode_counters<L: EncodeLabelSet>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: &[(L, u64)],
) -> Result<(), std::fmt::Error> {
    if samples.is_empty() {
        return Ok(());
    }
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, value) in samples {
        ConstCounter::new(*value).encode(family.encode_family(labels)?)?;
    }
    Ok(())
}
