//! Everything the emulator makes up is derived here from its seed: the seed of each store
//! and the authtokens it issues. Splitmix64 keeps the derivations identical on every
//! machine and build, so the same seed always yields the same data and the same tokens.
//! The demo token alone comes from a fixed phrase, so it stays the same whatever the seed.

/// The phrase the fixed demo token is hashed from.
const DEMO_PHRASE: &str = "zoho-sync-demo";

/// Splitmix64's finaliser over a step of the golden gamma: a well-spread 64-bit hash.
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Mixes several parts, in order, into one key.
pub fn mix_all(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x243F_6A88_85A3_08D3, |acc, &p| mix(acc ^ mix(p)))
}

/// A key for a piece of text (FNV-1a, then mixed).
pub fn text_key(text: &str) -> u64 {
    let fnv = text.bytes().fold(0xCBF2_9CE4_8422_2325_u64, |acc, b| {
        (acc ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    });
    mix(fnv)
}

/// 32 lower-case hex characters, the shape of a real authtoken.
pub fn token_hex(key: u64) -> String {
    format!("{:016x}{:016x}", mix(key), mix(key ^ 0x5A5A_5A5A_5A5A_5A5A))
}

/// The token of the built-in demo admin, the same on every run.
pub fn demo_token() -> String {
    token_hex(text_key(DEMO_PHRASE))
}

/// The `attempt`-th candidate for the `issued`-th token the auth endpoint hands out.
pub fn issued_token(seed: u64, email: &str, issued: u64, attempt: u64) -> String {
    token_hex(mix_all(&[
        seed,
        text_key(&email.to_lowercase()),
        issued,
        attempt,
    ]))
}

/// The seed of the stores of the `ordinal`-th (portal, department) pair. The store gives
/// disjoint ids to seeds that differ modulo 1000, so the ordinal goes into the last three
/// digits and the mixed seed into the rest.
pub fn store_seed(seed: u64, ordinal: u64) -> u64 {
    let high = mix_all(&[seed, ordinal]);
    high - high % 1000 + ordinal % 1000
}

/// The seed of the fault dice.
pub fn fault_seed(seed: u64) -> u64 {
    mix_all(&[seed, text_key("faults")])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_token(text: &str) -> bool {
        text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }

    #[test]
    fn the_demo_token_is_fixed_lower_case_hex() {
        assert!(is_token(&demo_token()));
        assert_eq!(demo_token(), demo_token());
    }

    #[test]
    fn issued_tokens_depend_on_seed_user_and_count() {
        let a = issued_token(1, "a@x", 0, 0);
        assert!(is_token(&a));
        assert_eq!(a, issued_token(1, "A@X", 0, 0));
        assert_ne!(a, issued_token(2, "a@x", 0, 0));
        assert_ne!(a, issued_token(1, "b@x", 0, 0));
        assert_ne!(a, issued_token(1, "a@x", 1, 0));
    }

    #[test]
    fn store_seeds_keep_the_ordinal_in_the_last_three_digits() {
        for ordinal in [0, 1, 999] {
            assert_eq!(store_seed(42, ordinal) % 1000, ordinal);
        }
        assert_ne!(store_seed(42, 0), store_seed(43, 0));
    }
}
