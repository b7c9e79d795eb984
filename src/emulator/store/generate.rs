//! Deterministic generation: the initial index of a store and every generated field value.
//! A value is a pure function of (seed, module, record id, field salt, version), computed
//! with splitmix64, so nothing but the compact index has to be kept in memory and the same
//! seed always yields the same data on every machine and build.

use chrono::DateTime;
use chrono_tz::Tz;

use super::schema::{FieldSpec, Gen};
use super::vocabulary as words;
use super::Entry;
use crate::zoho::module::Module;

/// The wire's date-time layout (contract 4.4).
pub(super) const DATETIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";
/// The layout of date-only values in answers.
pub(super) const DATE_FORMAT: &str = "%Y-%m-%d";

const DAY: i64 = 86_400;
/// Created times spread over this many seconds before `now`.
const HISTORY: i64 = 5 * 365 * DAY;
/// Ids step by 1..=MAX_GAP.
const MAX_GAP: u64 = 16;
/// The first `Request Id` of a store.
const FIRST_REQUEST_NO: u32 = 101;

/// A splitmix64 stream: tiny, fast and the same on every platform.
pub(super) struct Mix(u64);

impl Mix {
    pub fn new(key: u64) -> Mix {
        Mix(key)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        finalize(self.0)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        let width = hi.saturating_sub(lo).max(0) as u64;
        lo.saturating_add(self.below(width.saturating_add(1)) as i64)
    }

    pub fn chance(&mut self, percent: u8) -> bool {
        self.below(100) < u64::from(percent)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let at = self.below(items.len() as u64) as usize;
        items.get(at).copied().unwrap_or_default()
    }
}

fn finalize(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Mixes the parts of a key into one well-spread seed.
pub(super) fn key(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x243F_6A88_85A3_08D3, |acc, &p| finalize(acc ^ finalize(p)))
}

fn module_number(module: Module) -> u64 {
    Module::ALL.iter().position(|m| *m == module).unwrap_or(0) as u64
}

/// The salt of a module's streams.
pub(super) fn module_salt(module: Module) -> u64 {
    finalize(0x6D6F_6475_6C65 ^ module_number(module))
}

/// The id just below a store's first record: each module has its own block of 10^11 ids
/// and each seed modulo 1000 its own sub-block of 10^8, so stores never collide unless
/// their seeds agree modulo 1000.
pub(super) fn id_floor(seed: u64, module: Module) -> u64 {
    2_000_000_012_000 + module_number(module) * 100_000_000_000 + (seed % 1000) * 100_000_000
}

/// The id that follows `last`, a small deterministic gap above it.
pub(super) fn next_id(seed: u64, module: Module, last: u64) -> u64 {
    let mut rng = Mix::new(key(&[seed, module_salt(module), last, 0x1D]));
    last.saturating_add(1 + rng.below(MAX_GAP))
}

/// `count` records created over the five years before `now`, more of them recently (as a
/// help desk grows), ids and created times ascending together.
pub(super) fn initial_index(seed: u64, module: Module, count: usize, now: i64) -> Vec<Entry> {
    let mut rng = Mix::new(key(&[seed, module_salt(module), 0x1DE7]));
    let start = now - HISTORY;
    let mut entries = Vec::with_capacity(count);
    let mut id = id_floor(seed, module);
    for i in 0..count {
        id = next_id(seed, module, id);
        let share = (i as f64 + rng.unit()) / count as f64;
        let created = start + (HISTORY as f64 * share.sqrt()) as i64;
        let modified = if rng.chance(40) {
            created
        } else {
            // Cubed, so most changes come soon after creation; plain products keep the
            // result bit-identical across platforms and optimisation levels (powi is not).
            let u = rng.unit();
            created + ((now - created) as f64 * (u * u * u)) as i64
        };
        let seq = FIRST_REQUEST_NO.saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
        entries.push(Entry {
            id,
            created,
            modified: modified.min(now),
            seq,
            version: 0,
        });
    }
    entries
}

/// The first `Request Id` after `last`.
pub(super) fn next_request_no(last: Option<u32>) -> u32 {
    last.map_or(FIRST_REQUEST_NO, |n| n.saturating_add(1))
}

/// Renders epoch seconds in the data zone as `format` (`DATETIME_FORMAT` or
/// `DATE_FORMAT`), `None` outside chrono's range. Four-digit years are written directly:
/// parsing the format string again for every value was a tenth of the emulator's reads.
pub(super) fn render_time(zone: Tz, secs: i64, format: &str) -> Option<String> {
    use chrono::{Datelike, Timelike};
    let at = DateTime::from_timestamp(secs, 0)?.with_timezone(&zone);
    let (y, mo, d) = (at.year(), at.month(), at.day());
    Some(match format {
        _ if !(0..=9999).contains(&y) => at.format(format).to_string(),
        DATE_FORMAT => format!("{y:04}-{mo:02}-{d:02}"),
        DATETIME_FORMAT => {
            let (h, mi, s) = (at.hour(), at.minute(), at.second());
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
        }
        _ => at.format(format).to_string(),
    })
}

/// What a generated value depends on besides the field.
pub(super) struct Context<'a> {
    pub seed: u64,
    pub module: Module,
    pub department: &'a str,
    pub zone: Tz,
}

/// The generated value of `spec` (whose source is `gen`) for `entry`.
pub(super) fn value(
    ctx: &Context<'_>,
    spec: &FieldSpec,
    gen: &Gen,
    entry: &Entry,
) -> Option<String> {
    let version = if spec.volatile { entry.version } else { 0 };
    let mut rng = Mix::new(key(&[
        ctx.seed,
        module_salt(ctx.module),
        entry.id,
        spec.salt,
        u64::from(version),
    ]));
    if rng.chance(spec.empty_pct) {
        return None;
    }
    let text = match gen {
        Gen::Pick(items) => rng.pick(items).to_string(),
        Gen::Options(options) => options
            .get(rng.below(options.len() as u64) as usize)?
            .clone(),
        Gen::Agent => rng.pick(&words::AGENTS).to_string(),
        Gen::ContactName => contact_name(&mut rng),
        Gen::FirstName => rng.pick(&words::FIRST_NAMES).to_string(),
        Gen::LastName => rng.pick(&words::LAST_NAMES).to_string(),
        Gen::Email => email(&mut rng),
        Gen::Phone => phone(&mut rng),
        Gen::Company => rng.pick(&words::COMPANIES).to_string(),
        Gen::Website => format!("https://www.{}.example", rng.pick(&words::WEB_SLUGS)),
        Gen::Product => rng.pick(&words::PRODUCTS).to_string(),
        Gen::ProductCode => format!("PRD-{:05}", rng.below(100_000)),
        Gen::ContractName => contract_name(&mut rng),
        Gen::RequestSubject => numbered(&mut rng, &words::REQUEST_SUBJECTS),
        Gen::TaskSubject => rng.pick(&words::TASK_SUBJECTS).to_string(),
        Gen::SolutionTitle => rng.pick(&words::SOLUTION_TITLES).to_string(),
        Gen::Paragraphs => paragraphs(&mut rng),
        Gen::ShortText => rng.pick(&words::SHORT_TEXTS).to_string(),
        Gen::Category => category(&mut rng).0.to_string(),
        Gen::SubCategory => category(&mut rng).1.to_string(),
        Gen::Department => ctx.department.to_string(),
        Gen::Integer(lo, hi) => rng.between(i64::from(*lo), i64::from(*hi)).to_string(),
        Gen::Decimal => format!("{}.{:02}", rng.below(100_000), rng.below(100)),
        Gen::Boolean => (rng.below(2) == 1).to_string(),
        Gen::ParentCase => {
            (id_floor(ctx.seed, Module::Requests) + 1 + rng.below(1_000_000)).to_string()
        }
        Gen::DueTime => time_near(ctx, &mut rng, entry.created, 3_600, 14 * DAY)?,
        Gen::ExecutedTime => time_near(ctx, &mut rng, entry.created, -3 * DAY, 0)?,
        Gen::AnyDateTime => time_near(ctx, &mut rng, entry.created, -365 * DAY, 365 * DAY)?,
        Gen::AnyDate => date_near(ctx, &mut rng, entry.created, -365 * DAY, 365 * DAY)?,
        Gen::TermStart => date_near(ctx, &mut rng, entry.created, -60 * DAY, 0)?,
        Gen::TermEnd => term_end(ctx, &mut rng, entry.created)?,
    };
    Some(text)
}

fn contact_name(rng: &mut Mix) -> String {
    let first = rng.pick(&words::FIRST_NAMES);
    let last = rng.pick(&words::LAST_NAMES);
    format!("{first} {last}")
}

fn email(rng: &mut Mix) -> String {
    let name = rng.pick(&words::MAIL_NAMES);
    let domain = rng.pick(&words::MAIL_DOMAINS);
    match rng.below(3) {
        0 => format!("{name}@{domain}"),
        _ => format!("{name}{}@{domain}", rng.below(1000)),
    }
}

fn phone(rng: &mut Mix) -> String {
    let code = words::COUNTRY_CODES
        .get(rng.below(words::COUNTRY_CODES.len() as u64) as usize)
        .copied()
        .unwrap_or(1);
    format!("+{code} {:03} {:04}", rng.below(1000), rng.below(10_000))
}

fn contract_name(rng: &mut Mix) -> String {
    let company = rng.pick(&words::COMPANIES);
    let kind = rng.pick(&words::CONTRACT_KINDS);
    format!("{company} — {kind}")
}

/// A pool entry, sometimes followed by an order or invoice number.
fn numbered(rng: &mut Mix, pool: &[&str]) -> String {
    let text = rng.pick(pool);
    if rng.chance(30) {
        format!("{text} (#{})", 1000 + rng.below(9000))
    } else {
        text.to_string()
    }
}

/// One to four lines, joined with `\n`.
fn paragraphs(rng: &mut Mix) -> String {
    let lines = 1 + rng.below(4);
    let mut text = String::new();
    for n in 0..lines {
        if n > 0 {
            text.push('\n');
        }
        text.push_str(rng.pick(&words::SENTENCES));
    }
    text
}

fn category(rng: &mut Mix) -> (&'static str, &'static str) {
    let at = rng.below(words::CATEGORIES.len() as u64) as usize;
    let Some((name, subs)) = words::CATEGORIES.get(at) else {
        return ("", "");
    };
    (name, rng.pick(subs))
}

fn time_near(ctx: &Context<'_>, rng: &mut Mix, base: i64, lo: i64, hi: i64) -> Option<String> {
    render_time(ctx.zone, base + rng.between(lo, hi), DATETIME_FORMAT)
}

fn date_near(ctx: &Context<'_>, rng: &mut Mix, base: i64, lo: i64, hi: i64) -> Option<String> {
    render_time(ctx.zone, base + rng.between(lo, hi), DATE_FORMAT)
}

/// Draws the same start as `TermStart` (the two share a salt), then one to three years on.
fn term_end(ctx: &Context<'_>, rng: &mut Mix, created: i64) -> Option<String> {
    let start = created + rng.between(-60 * DAY, 0);
    let end = start + 365 * DAY * (1 + rng.below(3) as i64) - DAY;
    render_time(ctx.zone, end, DATE_FORMAT)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{all, field, now, spec, store};
    use super::super::{ModuleStore, StoreSpec};
    use super::*;

    #[test]
    fn rendered_times_are_what_chrono_formats() {
        let zone: Tz = "America/Los_Angeles".parse().unwrap();
        for secs in [
            0,
            1_425_000_000,
            1_446_368_400,
            253_402_300_799,
            -62_135_596_800,
        ] {
            let at = DateTime::from_timestamp(secs, 0)
                .unwrap()
                .with_timezone(&zone);
            for format in [DATETIME_FORMAT, DATE_FORMAT] {
                let expected = at.format(format).to_string();
                assert_eq!(render_time(zone, secs, format), Some(expected), "{secs}");
            }
        }
    }

    #[test]
    fn the_stream_is_the_same_for_the_same_key() {
        let draw = |k| {
            let mut rng = Mix::new(key(&[k, 7]));
            (rng.next(), rng.below(10), rng.unit())
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
    }

    #[test]
    fn bounded_draws_stay_in_their_range() {
        let mut rng = Mix::new(3);
        for _ in 0..10_000 {
            assert!(rng.below(7) < 7);
            assert!((-5..=5).contains(&rng.between(-5, 5)));
            assert!((0.0..1.0).contains(&rng.unit()));
        }
        assert_eq!(rng.below(0), 0);
        assert_eq!(rng.pick(&[]), "");
    }

    #[test]
    fn the_initial_index_ascends_in_id_and_created_time_and_stays_before_now() {
        let now = 1_700_000_000;
        let index = initial_index(9, Module::Tasks, 5_000, now);
        assert_eq!(index.len(), 5_000);
        for pair in index.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            assert!(a.id < b.id && b.id - a.id <= MAX_GAP);
            assert!(a.created <= b.created && a.seq + 1 == b.seq);
        }
        for e in &index {
            assert!(e.created >= now - HISTORY && e.created <= e.modified && e.modified <= now);
        }
    }

    #[test]
    fn date_times_are_rendered_in_the_data_zone() {
        let tokyo = StoreSpec {
            zone: chrono_tz::Asia::Tokyo,
            ..spec(Module::Tasks)
        };
        let (utc, jst) = (
            store(Module::Tasks, 1),
            ModuleStore::generate(tokyo, 1, now()),
        );
        let time = |s: &ModuleStore| {
            s.rows()
                .next()
                .and_then(|r| field(&r, "Created Time").map(str::to_string))
        };
        let parse = |t: Option<String>| {
            t.and_then(|t| chrono::NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M:%S").ok())
        };
        let shift = parse(time(&jst)).zip(parse(time(&utc))).map(|(a, b)| a - b);
        assert_eq!(shift, Some(chrono::Duration::hours(9)));
    }

    #[test]
    fn generated_text_includes_hostile_unicode_xml_specials_cdata_ends_and_empties() {
        let values: Vec<Option<String>> = Module::ALL
            .iter()
            .flat_map(|m| all(&store(*m, 400)))
            .flat_map(|row| row.fields.into_iter().map(|(_, v)| v))
            .collect();
        let any = |test: &dyn Fn(&str) -> bool| values.iter().flatten().any(|v| test(v));
        assert!(values.iter().any(Option::is_none));
        assert!(any(&|v| v.contains("]]>")));
        assert!(any(&|v| v.contains('\n')));
        for special in ['<', '&', '>', '"', '\'', 'é', '山', '🔥'] {
            assert!(any(&|v| v.contains(special)), "no value holds {special}");
        }
        assert!(!any(&|v| v == "null" || v.contains('\r') || v.trim() != v));
    }
}
