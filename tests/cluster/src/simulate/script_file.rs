//! Pod scripts from a file (`slipway-testcluster serve --pod-scripts FILE`): name globs per
//! namespace mapped to [`PodScript`] fields, so a person scripts simulated pods without Rust
//! and without annotating the objects a controller creates.
//!
//! ```yaml
//! # namespace glob → name glob → script
//! shop:
//!   "*-build":                    # pods of Jobs (or ReplicaSets, Deployments, Pods) named *-build
//!     terminationMessage: '{"status": "ok"}'
//!     completeAfter: 2s
//! "*":                            # every namespace
//!   "flaky-*":
//!     outcome: fail
//!     exitCode: 3
//! ```
//!
//! # Fields
//! All optional, with the meaning of the annotations in [`super::script`]: `readyAfter`,
//! `unreadyAfter`, `completeAfter` (Go durations as strings: `"2s"`, `"1m30s"`),
//! `neverReady` (boolean), `outcome` (`succeed` | `fail`), `exitCode` (integer),
//! `terminationMessage` and `log` (strings), `run` (`simulated` | `local` | `docker`). An
//! unknown field, a malformed value or a key given twice is an error naming it: the file is
//! read once, at start, and a typo must not pass as "no script".
//!
//! # Matching and precedence
//! A rule applies to a pod when its namespace glob matches the pod's namespace and its name glob
//! matches the name of the pod or of one of its owners (ReplicaSet and Deployment, or Job), as
//! [`Simulation::script`](super::Simulation::script) does for exact names. Globs: `*` matches
//! any run of characters (also none), `?` one character, anything else itself. File rules
//! rank below Rust scripts and annotations and above the defaults; among them, rules matching
//! the pod's own name come first, then its owners' (nearest first), and for one name the rule
//! written first wins a field both set.

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};

use super::script::{PodOutcome, PodScript, RunMode};
use super::time::parse_duration;

/// The rules of a pod scripts file, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodScriptFile {
    rules: Vec<PodScriptRule>,
}

/// One rule: the pods it applies to and what it scripts.
#[derive(Debug, Clone, PartialEq)]
pub struct PodScriptRule {
    /// Glob over the pod's namespace.
    pub namespace: String,
    /// Glob over the name of the pod or one of its owners.
    pub name: String,
    /// What it scripts.
    pub script: PodScript,
}

/// Why a pod scripts file cannot be used; each message names the file and the entry.
#[derive(Debug, thiserror::Error)]
pub enum PodScriptFileError {
    /// The file cannot be read.
    #[error("failed to read the pod scripts file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not YAML of the documented shape.
    #[error(
        "failed to parse the pod scripts file {path}: {message} (expected namespace → name glob → \
         fields such as outcome, terminationMessage, completeAfter)"
    )]
    Parse {
        /// The file.
        path: String,
        /// The parser's message, with its location.
        message: String,
    },
    /// A field's value is malformed.
    #[error(
        "failed to parse the pod scripts file {path}: {namespace} → {name:?} → {field}: {message}"
    )]
    Field {
        /// The file.
        path: String,
        /// The namespace glob of the entry.
        namespace: String,
        /// The name glob of the entry.
        name: String,
        /// The field.
        field: &'static str,
        /// What is wrong and how to write it.
        message: String,
    },
}

impl PodScriptFile {
    /// Reads and checks the file at `path`.
    ///
    /// # Errors
    /// [`PodScriptFileError`] when the file cannot be read or any entry is malformed.
    pub fn read(path: &Path) -> Result<PodScriptFile, PodScriptFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| PodScriptFileError::Read {
            path: path.display().to_string(),
            source,
        })?;
        PodScriptFile::parse(&text, &path.display().to_string())
    }

    /// Parses `text`; `path` only names it in errors.
    ///
    /// # Errors
    /// [`PodScriptFileError`] when `text` is not of the documented shape.
    pub fn parse(text: &str, path: &str) -> Result<PodScriptFile, PodScriptFileError> {
        let parse_error = |message: String| PodScriptFileError::Parse {
            path: path.to_owned(),
            message,
        };
        // Options throughout: an empty file, or `shop:` with nothing under it, scripts nothing.
        let document: Option<Ordered<Option<Ordered<Option<RawScript>>>>> =
            serde_saphyr::from_str(text).map_err(|error| parse_error(error.to_string()))?;
        let mut rules = Vec::new();
        for (namespace, names) in document.map(|d| d.0).unwrap_or_default() {
            for (name, raw) in names.map(|n| n.0).unwrap_or_default() {
                let script =
                    raw.unwrap_or_default()
                        .into_script()
                        .map_err(|(field, message)| PodScriptFileError::Field {
                            path: path.to_owned(),
                            namespace: namespace.clone(),
                            name: name.clone(),
                            field,
                            message,
                        })?;
                rules.push(PodScriptRule {
                    namespace: namespace.clone(),
                    name: name.clone(),
                    script,
                });
            }
        }
        Ok(PodScriptFile { rules })
    }

    /// The rules, in file order.
    pub fn rules(&self) -> &[PodScriptRule] {
        &self.rules
    }

    /// The scripts that apply to a pod in `namespace` whose own name and owners' names are
    /// `names` (the pod's first, nearest owner next), most specific first.
    pub fn layers(&self, namespace: &str, names: &[&str]) -> Vec<PodScript> {
        names
            .iter()
            .flat_map(|name| {
                self.rules.iter().filter(move |rule| {
                    glob_matches(&rule.namespace, namespace) && glob_matches(&rule.name, name)
                })
            })
            .map(|rule| rule.script.clone())
            .collect()
    }
}

/// Whether `text` matches `pattern` (`*` any run of characters, `?` one, the rest literally).
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was and the text position it currently absorbs up to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// A script as written in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawScript {
    ready_after: Option<String>,
    never_ready: Option<bool>,
    unready_after: Option<String>,
    outcome: Option<RawOutcome>,
    termination_message: Option<String>,
    exit_code: Option<i32>,
    complete_after: Option<String>,
    run: Option<RawRunMode>,
    log: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawOutcome {
    Succeed,
    Fail,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawRunMode {
    Simulated,
    Local,
    Docker,
}

impl RawScript {
    /// The script, or the field that is malformed and why.
    fn into_script(self) -> Result<PodScript, (&'static str, String)> {
        let duration = |field: &'static str, text: Option<String>| {
            text.map(|text| parse_duration(&text).map_err(|message| (field, message)))
                .transpose()
        };
        Ok(PodScript {
            ready_after: duration("readyAfter", self.ready_after)?,
            never_ready: self.never_ready,
            unready_after: duration("unreadyAfter", self.unready_after)?,
            outcome: self.outcome.map(|outcome| match outcome {
                RawOutcome::Succeed => PodOutcome::Succeed,
                RawOutcome::Fail => PodOutcome::Fail,
            }),
            termination_message: self.termination_message,
            exit_code: self.exit_code,
            complete_after: duration("completeAfter", self.complete_after)?,
            run: self.run.map(|run| match run {
                RawRunMode::Simulated => RunMode::Simulated,
                RawRunMode::Local => RunMode::Local,
                RawRunMode::Docker => RunMode::Docker,
            }),
            log: self.log,
            // Replacing commands stays a Rust-only script: a file states behaviour, not programs.
            commands: Default::default(),
        })
    }
}

/// A YAML mapping with its keys in file order (precedence follows it).
#[derive(Debug)]
struct Ordered<V>(Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor<V>(PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for OrderedVisitor<V> {
            type Value = Ordered<V>;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a mapping")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries: Vec<(String, V)> = Vec::new();
                // The parser itself refuses a key given twice, with its location.
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Ordered(entries))
            }
        }

        deserializer.deserialize_map(OrderedVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn parse(text: &str) -> Result<PodScriptFile, PodScriptFileError> {
        PodScriptFile::parse(text, "scripts.yaml")
    }

    #[test]
    fn every_field_is_read_into_the_script() {
        let file = parse(
            r#"
shop:
  "*-build":
    readyAfter: 2s
    neverReady: false
    unreadyAfter: 1m
    outcome: fail
    terminationMessage: '{"a": 1}'
    exitCode: 3
    completeAfter: 10ms
    run: docker
    log: hello
"#,
        )
        .unwrap();
        assert_eq!(
            file.rules(),
            [PodScriptRule {
                namespace: "shop".into(),
                name: "*-build".into(),
                script: PodScript::default()
                    .ready_after(Duration::from_secs(2))
                    .never_ready(false)
                    .unready_after(Duration::from_secs(60))
                    .outcome(PodOutcome::Fail)
                    .termination_message(r#"{"a": 1}"#)
                    .exit_code(3)
                    .complete_after(Duration::from_millis(10))
                    .run(RunMode::Docker)
                    .log("hello"),
            }]
        );
    }

    #[test]
    fn globs_match_the_namespace_and_the_pod_or_an_owner() {
        let file = parse(
            r#"
shop:
  "*-build":
    terminationMessage: build
"*":
  "web-?":
    neverReady: true
"#,
        )
        .unwrap();
        let build = PodScript::default().termination_message("build");
        let web = PodScript::default().never_ready(true);
        // Pod web-7-build-x1z9q of Job web-7-build.
        assert_eq!(
            file.layers("shop", &["web-7-build-x1z9q", "web-7-build"]),
            [build]
        );
        assert_eq!(
            file.layers("other", &["web-7-build-x1z9q", "web-7-build"]),
            []
        );
        // Pod web-5d8f-abcde of ReplicaSet web-5d8f of Deployment web-1.
        assert_eq!(
            file.layers("any", &["web-5d8f-abcde", "web-5d8f", "web-1"]),
            [web]
        );
    }

    #[test]
    fn the_pods_own_name_beats_its_owners_and_earlier_rules_beat_later_ones() {
        let file = parse(
            r#"
shop:
  "job-*":
    log: from the job rule
  "*":
    log: from the catch-all
  "job-1-pod":
    log: from the pod rule
"#,
        )
        .unwrap();
        let logs: Vec<_> = file
            .layers("shop", &["job-1-pod", "job-1"])
            .into_iter()
            .map(|script| script.log.unwrap())
            .collect();
        assert_eq!(
            logs,
            [
                "from the job rule",
                "from the catch-all",
                "from the pod rule",
                "from the job rule",
                "from the catch-all"
            ]
        );
    }

    #[test]
    fn glob_syntax_is_star_question_mark_and_literals() {
        let table = [
            ("*", "", true),
            ("*", "anything", true),
            ("*-build", "web-1-build", true),
            ("*-build", "web-1-build-x", false),
            ("web-?", "web-1", true),
            ("web-?", "web-12", false),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("**", "x", true),
        ];
        for (pattern, text, expected) in table {
            assert_eq!(
                glob_matches(pattern, text),
                expected,
                "{pattern:?} ~ {text:?}"
            );
        }
    }

    #[test]
    fn an_empty_file_or_namespace_scripts_nothing() {
        assert_eq!(parse("").unwrap(), PodScriptFile::default());
        assert_eq!(parse("# nothing yet\n").unwrap(), PodScriptFile::default());
        assert_eq!(parse("shop:\n").unwrap(), PodScriptFile::default());
        assert_eq!(
            parse("shop:\n  web:\n").unwrap().layers("shop", &["web"]),
            [PodScript::default()]
        );
    }

    #[test]
    fn a_misspelt_field_is_an_error_naming_it() {
        let error = parse("shop:\n  web:\n    terminationMesage: x\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("scripts.yaml"), "{error}");
        assert!(error.contains("terminationMesage"), "{error}");
    }

    #[test]
    fn a_malformed_duration_names_the_entry_and_the_field() {
        let error = parse("shop:\n  \"*-build\":\n    completeAfter: soon\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(r#"shop → "*-build" → completeAfter: invalid duration "soon""#),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_outcome_is_an_error_listing_the_known_ones() {
        let error = parse("shop:\n  web:\n    outcome: maybe\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("maybe") && error.contains("succeed"),
            "{error}"
        );
    }

    #[test]
    fn a_name_given_twice_is_an_error() {
        let error = parse("shop:\n  web:\n    log: a\n  web:\n    log: b\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("duplicate mapping key: web"), "{error}");
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let error = PodScriptFile::read(Path::new("/nonexistent/scripts.yaml"))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("failed to read the pod scripts file /nonexistent/scripts.yaml"),
            "{error}"
        );
    }
}
