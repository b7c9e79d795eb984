//! Access tokens are kept in caches (the database, shared by every process) sealed:
//! encrypted and authenticated with ChaCha20-Poly1305 under a key derived (HKDF-SHA256)
//! from the organisation's refresh token and client secret, with the organisation and
//! client as associated data. Invariant: only a holder of those credentials, the very
//! ones that can mint a new access token anyway, can read a cached token; a reader of
//! the database alone learns nothing usable, and a token sealed under other credentials
//! (a rotated refresh token, another client) does not open: it reads as absent, so a
//! new refresh token takes effect at once instead of after the old token's hour.

use std::fmt;

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::hkdf::{Salt, HKDF_SHA256};
use ring::rand::{SecureRandom, SystemRandom};

use crate::desk::token_cache::TokenKey;
use crate::zoho::secret::Secret;

/// Versions the derivation: a change of scheme makes old sealed tokens read as absent.
const SALT: &[u8] = b"zoho-sync desk access token cache v1";

/// Seals and opens one organisation's cached access tokens.
pub struct Sealer {
    key: LessSafeKey,
    aad: Vec<u8>,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer").finish_non_exhaustive()
    }
}

impl Sealer {
    pub fn new(refresh_token: &Secret, client_secret: &Secret, key: &TokenKey) -> Sealer {
        let mut ikm =
            Vec::with_capacity(refresh_token.expose().len() + client_secret.expose().len() + 1);
        ikm.extend_from_slice(refresh_token.expose().as_bytes());
        // A separator: ("ab", "c") and ("a", "bc") must not derive the same key.
        ikm.push(0);
        ikm.extend_from_slice(client_secret.expose().as_bytes());
        let prk = Salt::new(HKDF_SHA256, SALT).extract(&ikm);
        let okm = prk
            .expand(&[b"chacha20poly1305"], &CHACHA20_POLY1305)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        let aad = format!("{}\0{}", key.org_id, key.client_id).into_bytes();
        Sealer {
            key: LessSafeKey::new(UnboundKey::from(okm)),
            aad,
        }
    }

    /// `nonce || ciphertext || tag`, under a fresh random nonce.
    pub fn seal(&self, token: &Secret) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("the operating system's random source works");
        let mut sealed = token.expose().as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&self.aad),
                &mut sealed,
            )
            .expect("a token is far below ChaCha20-Poly1305's size limit");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        out
    }

    /// The token, if `sealed` was sealed by a `Sealer` of the same credentials and key.
    pub fn open(&self, sealed: &[u8]) -> Option<Secret> {
        let (nonce, rest) = sealed.split_at_checked(NONCE_LEN)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buffer = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(&self.aad), &mut buffer)
            .ok()?;
        String::from_utf8(plain.to_vec()).ok().map(Secret::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(org: &str) -> TokenKey {
        TokenKey {
            org_id: org.into(),
            client_id: "1000.ABC".into(),
        }
    }

    fn sealer(refresh: &str, org: &str) -> Sealer {
        Sealer::new(
            &Secret::new(refresh),
            &Secret::new("client-secret"),
            &key(org),
        )
    }

    #[test]
    fn a_sealed_token_opens_with_the_same_credentials_and_hides_its_text() {
        let s = sealer("1000.refresh", "42");
        let token = Secret::new("1000.access-token-text");
        let sealed = s.seal(&token);
        assert!(!sealed.windows(6).any(|w| w == b"access"));
        assert_eq!(s.open(&sealed), Some(token.clone()));
        assert_ne!(s.seal(&token), sealed, "each seal draws a fresh nonce");
    }

    #[test]
    fn other_credentials_another_organisation_or_tampering_open_nothing() {
        let sealed = sealer("1000.refresh", "42").seal(&Secret::new("tok"));
        assert_eq!(sealer("1000.other", "42").open(&sealed), None);
        assert_eq!(sealer("1000.refresh", "43").open(&sealed), None);
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        let s = sealer("1000.refresh", "42");
        assert_eq!(s.open(&flipped), None);
        assert_eq!(s.open(&[]), None);
        assert_eq!(s.open(&sealed[..NONCE_LEN]), None);
        assert!(!format!("{s:?}").contains("refresh"));
    }
}
