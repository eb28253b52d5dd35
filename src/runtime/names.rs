//! Names and label values of the objects Slipway creates, fitted to Kubernetes' length limits
//! with one rule and one hash, so no two controllers shorten differently.
//!
//! # The rule
//! `base + suffix` when it fits `limit`; otherwise the head of `base` (trimmed to end in an
//! alphanumeric character), `-`, the [`short_hash`] of the whole untruncated `base + suffix`,
//! then `suffix`. Two long names that share a prefix therefore never fit to the same name, and
//! the same input always fits to the same output (children found again after a restart).
//!
//! The hash is FNV-1a 64 (stable across releases and platforms, no dependency), printed as its
//! first [`HASH_LENGTH`] lowercase hex digits. It is also the content hash of a rollout
//! revision's pod template ([`crate::rollout::revision::revision_hash`]).

/// Hex digits of [`short_hash`].
pub const HASH_LENGTH: usize = 10;
/// Longest label value (and DNS-1123 label: Service names, a Job's name in its pods' label).
pub const LABEL_VALUE_MAX: usize = 63;
/// Longest object name (DNS-1123 subdomain).
pub const NAME_MAX: usize = 253;

/// The first [`HASH_LENGTH`] lowercase hex digits of the FNV-1a 64-bit hash of `bytes`.
pub fn short_hash(bytes: &[u8]) -> String {
    format!("{:016x}", fnv1a_64(bytes))[..HASH_LENGTH].to_owned()
}

/// `base + suffix` within `limit` characters, shortened with a hash as the module docs say.
///
/// `suffix` must leave room for at least one character of `base`, `-` and the hash.
pub fn fit_name(base: &str, suffix: &str, limit: usize) -> String {
    let full = format!("{base}{suffix}");
    if full.len() <= limit {
        return full;
    }
    let keep = limit.saturating_sub(suffix.len() + HASH_LENGTH + 1);
    let head: String = base.chars().take(keep).collect();
    let head = head.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
    let hash = short_hash(full.as_bytes());
    if head.is_empty() {
        format!("{hash}{suffix}")
    } else {
        format!("{head}-{hash}{suffix}")
    }
}

/// An object name used as a label value: as it is up to 63 characters, else fitted.
pub fn label_value(name: &str) -> String {
    fit_name(name, "", LABEL_VALUE_MAX)
}

/// FNV-1a, 64-bit.
fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        for (input, expected) in [
            ("", 0xcbf2_9ce4_8422_2325_u64),
            ("a", 0xaf63_dc4c_8601_ec8c),
            ("foobar", 0x8594_4171_f739_67e8),
        ] {
            assert_eq!(fnv1a_64(input.as_bytes()), expected, "{input:?}");
        }
    }

    #[test]
    fn a_name_that_fits_is_kept() {
        assert_eq!(fit_name("web", "-build", 63), "web-build");
        assert_eq!(label_value("web"), "web");
    }

    #[test]
    fn a_long_name_keeps_its_head_a_hash_and_the_suffix_within_the_limit() {
        let base = "a".repeat(80);
        let fitted = fit_name(&base, "-build", 63);
        assert_eq!(fitted.len(), 63);
        assert!(fitted.ends_with("-build"), "{fitted}");
        assert!(fitted.starts_with(&"a".repeat(46)), "{fitted}");
        assert_eq!(fitted, fit_name(&base, "-build", 63), "deterministic");
    }

    #[test]
    fn two_long_names_sharing_a_prefix_fit_to_different_names() {
        let left = format!("{}-left", "x".repeat(60));
        let right = format!("{}-right", "x".repeat(60));
        assert_ne!(
            fit_name(&left, "-canary", 63),
            fit_name(&right, "-canary", 63)
        );
        assert_ne!(label_value(&left), label_value(&right));
    }

    #[test]
    fn the_head_ends_in_an_alphanumeric_character() {
        let base = format!("{}-.-{}", "b".repeat(44), "c".repeat(30));
        let fitted = fit_name(&base, "-x", 63);
        let head = fitted.split('-').next().unwrap();
        assert!(
            head.chars().last().unwrap().is_ascii_alphanumeric(),
            "{fitted}"
        );
        assert!(fitted.len() <= 63);
    }

    #[test]
    fn a_suffix_too_long_for_any_head_still_fits_with_the_hash() {
        let fitted = fit_name("abcdef", &"-s".repeat(26), 63);
        assert!(fitted.len() <= 63, "{fitted}");
    }
}
