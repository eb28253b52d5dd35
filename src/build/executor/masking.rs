//! Secret values replaced by `***` in everything the executor prints or reports.
//!
//! The secrets are the values of `env.secrets-manager` variables and of every environment
//! variable the controller marks secret (`--secret-env`, for variables the BuildRun takes from
//! Secrets). The [`Masker`] is applied to each line of command output before it reaches the log,
//! to the executor's own log lines (a command's text may hold a value), and to phase messages and
//! exported variables before they reach the termination message or the result file.
//!
//! # Caveats
//! - Output is masked line by line, so a secret is found only when it does not span lines; a
//!   multi-line secret (a private key) is masked line by line: each of its lines is a secret too.
//! - Values shorter than [`MINIMUM_SECRET_LENGTH`] are not masked: replacing every `1` or `yes`
//!   would garble the log and reveal the value anyway.
//! - A command can still leak a transformed value (base64, reversed); masking is a safety net,
//!   not a sandbox, exactly as in CodeBuild.

/// The shortest value that is masked.
pub const MINIMUM_SECRET_LENGTH: usize = 4;

/// What replaces a secret.
pub const MASK: &str = "***";

/// Replaces known secret values by [`MASK`].
#[derive(Clone, Debug, Default)]
pub struct Masker {
    /// Longest first, so a secret that contains another is masked whole.
    secrets: Vec<String>,
}

impl Masker {
    /// A masker for `values` (empty and short values are ignored).
    pub fn new<I, S>(values: I) -> Masker
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut masker = Masker::default();
        for value in values {
            masker.add(value.as_ref());
        }
        masker
    }

    /// Adds a secret value (and each of its lines, when it has several).
    pub fn add(&mut self, value: &str) {
        let mut candidates = vec![value];
        if value.contains('\n') {
            candidates.extend(value.lines().map(str::trim_end));
        }
        for candidate in candidates {
            if candidate.len() >= MINIMUM_SECRET_LENGTH
                && !self.secrets.iter().any(|known| known == candidate)
            {
                self.secrets.push(candidate.to_owned());
            }
        }
        self.secrets
            .sort_by_key(|secret| std::cmp::Reverse(secret.len()));
    }

    /// Whether there is nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every secret replaced.
    pub fn mask(&self, text: &str) -> String {
        let mut masked = text.to_owned();
        for secret in &self.secrets {
            if masked.contains(secret.as_str()) {
                masked = masked.replace(secret.as_str(), MASK);
            }
        }
        masked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_occurrence_of_a_secret_is_masked() {
        let masker = Masker::new(["hunter22"]);
        assert_eq!(
            masker.mask("password=hunter22 again hunter22"),
            "password=*** again ***"
        );
    }

    #[test]
    fn the_longest_secret_wins_when_one_contains_another() {
        let masker = Masker::new(["abcd", "abcdefgh"]);
        assert_eq!(masker.mask("x abcdefgh y abcd"), "x *** y ***");
    }

    #[test]
    fn short_and_empty_values_are_not_masked() {
        let masker = Masker::new(["", "1", "yes"]);
        assert!(masker.is_empty());
        assert_eq!(masker.mask("yes 1"), "yes 1");
    }

    #[test]
    fn each_line_of_a_multi_line_secret_is_masked() {
        let masker = Masker::new(["-----BEGIN KEY-----\nMIIEsecretbody\n-----END KEY-----\n"]);
        assert_eq!(masker.mask("got MIIEsecretbody here"), "got *** here");
    }
}
