//! The fixed facts of one Desk organisation that every record is generated against: its
//! seed, its ordinal (which picks its block of ids), its agents and departments, and how
//! many records each module started with (so a generated reference, a ticket's
//! `contactId`, names a record that was generated). Ids are digit strings of 18 digits:
//! `7` + a block per organisation + a block per module, ascending with creation, so the
//! module of any id is known without a lookup and no two modules or organisations share
//! one. Also the seeded dice every generated value is drawn with.

use crate::emulator::seeds;

use super::module::DeskModule;

const ID_BASE: u64 = 700_000_000_000_000_000;
const ORG_BLOCK: u64 = 1_000_000_000_000_000;
const MODULE_BLOCK: u64 = 10_000_000_000_000;
/// Initial ids step by 16 with a jitter below 16, so the k-th is computable at once.
const STRIDE: u64 = 16;
/// Blocks past the modules' for the organisation's fixed entities.
const AGENT_BLOCK: u64 = 20;
const DEPARTMENT_BLOCK: u64 = 21;

/// An agent of the organisation (non-light, active).
#[derive(Clone, Debug)]
pub struct Agent {
    pub id: u64,
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub email: String,
    pub zuid: u64,
}

#[derive(Clone, Debug)]
pub struct Department {
    pub id: u64,
    pub name: String,
}

/// What every store of one organisation shares.
#[derive(Clone, Debug)]
pub struct OrgFacts {
    pub seed: u64,
    pub ordinal: u64,
    /// The org id as configured (digits).
    pub org_id: String,
    /// For `webUrl`s.
    pub portal: String,
    pub agents: Vec<Agent>,
    pub departments: Vec<Department>,
    /// Initial records per module, in `DeskModule::ALL` order.
    pub initial: [u64; 9],
    /// The emulated time at generation, epoch seconds: the store's history ends here.
    pub born: i64,
}

impl OrgFacts {
    /// The id below every id of `module` in this organisation.
    pub fn floor(&self, module: DeskModule) -> u64 {
        block(self.ordinal, module.number() as u64)
    }

    /// The id of the `k`-th generated record of `module`.
    pub fn initial_id(&self, module: DeskModule, k: u64) -> u64 {
        let jitter = seeds::mix_all(&[self.seed, self.ordinal, module.number() as u64, k]) % STRIDE;
        self.floor(module) + 1 + k * STRIDE + jitter
    }

    /// The id a record created after `last` gets: a small deterministic gap above it.
    pub fn next_id(&self, module: DeskModule, last: u64) -> u64 {
        let gap = seeds::mix_all(&[self.seed, module.number() as u64, last, 0x1D]) % STRIDE;
        last.saturating_add(1 + gap)
    }

    /// A generated record of `module` drawn with `dice` (`None` when it started empty).
    pub fn reference(&self, module: DeskModule, dice: &mut Dice) -> Option<u64> {
        let count = self.initial.get(module.number()).copied().unwrap_or(0);
        (count > 0).then(|| self.initial_id(module, dice.below(count)))
    }

    /// Which module an id of this organisation belongs to.
    pub fn module_of(&self, id: u64) -> Option<DeskModule> {
        let offset = id.checked_sub(block(self.ordinal, 0))?;
        let number = usize::try_from(offset / MODULE_BLOCK).ok()?;
        DeskModule::ALL.get(number).copied()
    }

    pub fn agent(&self, dice: &mut Dice) -> &Agent {
        let at = dice.below(self.agents.len() as u64) as usize;
        // Config validation guarantees an agent; the first stands in otherwise.
        self.agents
            .get(at)
            .or(self.agents.first())
            .unwrap_or(&FALLBACK_AGENT)
    }

    pub fn department(&self, dice: &mut Dice) -> Option<&Department> {
        let at = dice.below(self.departments.len() as u64) as usize;
        self.departments.get(at)
    }
}

static FALLBACK_AGENT: Agent = Agent {
    id: 0,
    first_name: "",
    last_name: "",
    email: String::new(),
    zuid: 0,
};

fn block(ordinal: u64, number: u64) -> u64 {
    ID_BASE + ordinal * ORG_BLOCK + number * MODULE_BLOCK
}

/// The agents of an organisation: names from the vocabulary, ids in their own block.
pub fn agents(seed: u64, ordinal: u64, count: u32, portal: &str) -> Vec<Agent> {
    use crate::emulator::store::vocabulary::{FIRST_NAMES, LAST_NAMES};
    (0..u64::from(count))
        .map(|i| {
            let mut dice = Dice::new(&[seed, ordinal, 0xA6E7, i]);
            let first_name = dice.pick(&FIRST_NAMES);
            let last_name = dice.pick(&LAST_NAMES);
            let slug = |name: &str| -> String {
                name.chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect::<String>()
                    .to_lowercase()
            };
            let email = format!(
                "{}.{}{i}@{portal}.example",
                slug(first_name),
                slug(last_name)
            );
            Agent {
                id: block(ordinal, AGENT_BLOCK) + 1 + i,
                first_name,
                last_name,
                email,
                zuid: 60_000_000_000 + ordinal * 1_000_000 + i,
            }
        })
        .collect()
}

/// The departments of an organisation, in config order.
pub fn departments(ordinal: u64, names: &[String]) -> Vec<Department> {
    names
        .iter()
        .zip(0u64..)
        .map(|(name, i)| Department {
            id: block(ordinal, DEPARTMENT_BLOCK) + 1 + i,
            name: name.trim().to_string(),
        })
        .collect()
}

/// A splitmix64 stream keyed by several parts: the same draws on every machine and build.
pub struct Dice(u64);

impl Dice {
    pub fn new(parts: &[u64]) -> Dice {
        Dice(seeds::mix_all(parts))
    }

    pub fn draw(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        seeds::mix(self.0)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.draw()) * u128::from(n)) >> 64) as u64
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let at = self.below(items.len() as u64) as usize;
        items.get(at).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> OrgFacts {
        OrgFacts {
            seed: 3,
            ordinal: 2,
            org_id: "1".into(),
            portal: "demo".into(),
            agents: agents(3, 2, 4, "demo"),
            departments: departments(2, &["Support".into()]),
            initial: [10; 9],
            born: 0,
        }
    }

    #[test]
    fn initial_ids_ascend_inside_their_module_block_and_name_their_module() {
        let facts = facts();
        for module in DeskModule::ALL {
            let ids: Vec<u64> = (0..1000).map(|k| facts.initial_id(module, k)).collect();
            assert!(ids.windows(2).all(|w| w[0] < w[1]));
            assert!(ids.iter().all(|&id| facts.module_of(id) == Some(module)));
            assert_eq!(ids[0].to_string().len(), 18);
            let next = facts.next_id(module, ids[999]);
            assert!(next > ids[999] && facts.module_of(next) == Some(module));
        }
        assert_eq!(facts.module_of(5), None);
        assert_eq!(facts.module_of(facts.agents[0].id), None);
    }

    #[test]
    fn dice_are_reproducible_and_bounded() {
        let draw = |k| {
            let mut dice = Dice::new(&[k, 7]);
            (dice.draw(), dice.below(10))
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
        assert_eq!(Dice::new(&[1]).below(0), 0);
        assert_eq!(Dice::new(&[1]).pick(&[]), "");
    }
}
