//! Mode `hash`: a keyed tag that stands for a secret.
//!
//! The tag is HMAC-SHA256 of the secret under the operator's key, truncated
//! to [`TAG_HEX_CHARS`] hex digits. The same secret gives the same tag in
//! every event, so a SIEM can tell that two agents used the same key, or one
//! customer's e-mail address came up twice, without seeing either. Without
//! the key nobody can compute a tag for a guessed secret, which matters for
//! low-entropy data: a plain SHA-256 of a phone number is reversed by trying
//! every phone number.
//!
//! Sixteen hex digits (64 bits) is the truncation: a tag must not collide by
//! chance across the distinct secrets a site ever sees, and by the birthday
//! bound the chance of any collision among a million distinct secrets is
//! about 3 in 100 million (among a billion, about 3 in 100). Correlation
//! needs nothing more; more digits only lengthen every event.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How many hex digits of the HMAC a tag keeps.
pub const TAG_HEX_CHARS: usize = 16;

/// The shortest key accepted, in bytes. `openssl rand -hex 16` (128 random
/// bits) gives exactly this; a shorter key is likely a word or a phrase, and
/// whoever guesses it can tag every phone number and e-mail address they can
/// think of and so unmask the tags.
pub const MIN_KEY_BYTES: usize = 32;

/// Computes tags under one key.
#[derive(Clone)]
pub struct Tagger {
    /// The keyed state, cloned for each tag so the key's pads are hashed once.
    keyed: Hmac<Sha256>,
}

impl Tagger {
    pub fn new(key: &[u8]) -> Tagger {
        Tagger { keyed: Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length") }
    }

    /// The tag of `secret`: [`TAG_HEX_CHARS`] lowercase hex digits.
    pub fn tag(&self, secret: &str) -> String {
        let mut mac = self.keyed.clone();
        mac.update(secret.as_bytes());
        let digest = mac.finalize().into_bytes();
        const HEX: &[u8; 16] = b"0123456789abcdef";
        digest[..TAG_HEX_CHARS / 2]
            .iter()
            .flat_map(|byte| [HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0xf)]])
            .map(char::from)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
    #[test]
    fn matches_the_rfc_4231_vector() {
        assert_eq!(Tagger::new(b"Jefe").tag("what do ya want for nothing?"), "5bdcc146bf60754e");
    }

    #[test]
    fn same_secret_same_tag_other_key_other_tag() {
        let a = Tagger::new(b"0123456789abcdef0123456789abcdef");
        let b = Tagger::new(b"fedcba9876543210fedcba9876543210");
        assert_eq!(a.tag("jane@example.com"), a.tag("jane@example.com"));
        assert_ne!(a.tag("jane@example.com"), a.tag("john@example.com"));
        assert_ne!(a.tag("jane@example.com"), b.tag("jane@example.com"));
        assert_eq!(a.tag("x").len(), TAG_HEX_CHARS);
    }
}
