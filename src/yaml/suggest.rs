//! "Did you mean …?": the closest known key to a misspelt one.
//!
//! Keys are compared case-insensitively and with `-` and `_` treated alike, because the usual
//! mistakes in buildspecs are `Commands` for `commands`, `pre-build` for `pre_build` and
//! `discard_paths` for `discard-paths`. Beyond those, a key is suggested when it is within an
//! edit distance of about a third of its length (at least 1, at most 3), so `comands` finds
//! `commands` but `foo` finds nothing.

/// The known key closest to `unknown`, if one is close enough to be a plausible typo.
pub fn closest_key<'k>(unknown: &str, known: &[&'k str]) -> Option<&'k str> {
    let unknown = normalize(unknown);
    known
        .iter()
        .map(|candidate| (edit_distance(&unknown, &normalize(candidate)), *candidate))
        .filter(|(distance, candidate)| *distance <= tolerance(candidate))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// How many edits still count as a typo of `key`.
fn tolerance(key: &str) -> usize {
    (key.chars().count() / 3).clamp(1, 3)
}

/// Lowercase, with `-` spelt `_`.
fn normalize(key: &str) -> Vec<char> {
    key.chars()
        .flat_map(char::to_lowercase)
        .map(|character| if character == '-' { '_' } else { character })
        .collect()
}

/// Levenshtein distance (insertions, deletions and substitutions each cost 1).
pub fn edit_distance(left: &[char], right: &[char]) -> usize {
    // One row of the dynamic-programming table is enough.
    let mut row: Vec<usize> = (0..=right.len()).collect();
    for (i, left_char) in left.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, right_char) in right.iter().enumerate() {
            let substitution = diagonal + usize::from(left_char != right_char);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[right.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHASE_KEYS: &[&str] = &[
        "run-as",
        "on-failure",
        "runtime-versions",
        "commands",
        "finally",
    ];
    const PHASE_NAMES: &[&str] = &["install", "pre_build", "build", "post_build"];

    #[test]
    fn closest_known_key_is_found_for_common_mistakes() {
        let cases: &[(&str, &[&str], Option<&str>)] = &[
            ("Commands", PHASE_KEYS, Some("commands")),
            ("COMMANDS", PHASE_KEYS, Some("commands")),
            ("comands", PHASE_KEYS, Some("commands")),
            ("command", PHASE_KEYS, Some("commands")),
            ("runtime_versions", PHASE_KEYS, Some("runtime-versions")),
            ("onfailure", PHASE_KEYS, Some("on-failure")),
            ("Finally", PHASE_KEYS, Some("finally")),
            ("pre-build", PHASE_NAMES, Some("pre_build")),
            ("prebuild", PHASE_NAMES, Some("pre_build")),
            ("post-build", PHASE_NAMES, Some("post_build")),
            ("postbuild", PHASE_NAMES, Some("post_build")),
            ("post_biuld", PHASE_NAMES, Some("post_build")),
            ("Build", PHASE_NAMES, Some("build")),
            ("foo", PHASE_KEYS, None),
            ("deploy", PHASE_NAMES, None),
            ("script", PHASE_KEYS, None),
        ];
        for (unknown, known, expected) in cases {
            assert_eq!(closest_key(unknown, known), *expected, "for `{unknown}`");
        }
    }

    #[test]
    fn edit_distance_counts_single_character_edits() {
        let chars = |text: &str| text.chars().collect::<Vec<_>>();
        let cases = [
            ("", "", 0),
            ("abc", "", 3),
            ("kitten", "sitting", 3),
            ("commands", "comands", 1),
            ("build", "build", 0),
        ];
        for (left, right, expected) in cases {
            assert_eq!(
                edit_distance(&chars(left), &chars(right)),
                expected,
                "{left} → {right}"
            );
        }
    }
}
