//! YAML tree → [`BuildSpec`]: the top level of the walk and the helpers every section uses.
//!
//! The walker never stops at the first problem: it records a diagnostic, substitutes a neutral
//! value (an empty list, `None`) and carries on, so one `check` run shows everything to fix.
//! Conventions for positions: a wrong value points at the value, an unknown or duplicate key at
//! the key, and a missing key at the key of the mapping that should hold it.

use super::diagnostics::{Diagnostics, Fix, Position};
use super::model::{BuildSpec, BuildSpecVersion, Env, Located, Phases, Proxy, Variable};
use super::suggest::closest_key;
use super::yaml::{Node, NodeKind, Resolved};
use super::{batch, env, outputs, phases};

/// The top-level keys of a buildspec.
const TOP_LEVEL_KEYS: &[&str] = &[
    "version",
    "run-as",
    "env",
    "environment_variables",
    "proxy",
    "batch",
    "phases",
    "reports",
    "artifacts",
    "cache",
];

/// Walks a loaded document into a [`BuildSpec`], recording diagnostics on the way.
pub(crate) fn document(root: &Node, diagnostics: &mut Diagnostics) -> BuildSpec {
    let NodeKind::Mapping(_) = root.kind else {
        diagnostics.error(
            root.position,
            format!(
                "a buildspec must be a mapping of keys (`version`, `phases`, …), found {}",
                root.kind.describe()
            ),
            "start the file with `version: 0.2` followed by `phases:`",
        );
        return empty(BuildSpecVersion::V0_2);
    };
    // The version decides how later keys are read, so it is settled first.
    let mut walker = Walker {
        diagnostics,
        version: BuildSpecVersion::V0_2,
    };
    let fields = walker.fields(root, "", TOP_LEVEL_KEYS).unwrap_or_default();
    walker.version = version(&mut walker, &fields);

    let env = match (
        walker.version,
        fields.get("env"),
        fields.entry("environment_variables"),
    ) {
        (_, Some(node), _) => env::env(&mut walker, node),
        (BuildSpecVersion::V0_1, None, Some((_, node))) => {
            env::environment_variables(&mut walker, node)
        }
        _ => Env::default(),
    };
    if let (BuildSpecVersion::V0_2, Some((key, _))) =
        (walker.version, fields.entry("environment_variables"))
    {
        walker.diagnostics.warning(
            key.position,
            "`environment_variables` is the version 0.1 spelling of `env`; version 0.2 ignores it, so these variables are not set",
            "rename `environment_variables` to `env` and its `plaintext` to `variables`",
        );
    }
    let batch = fields
        .entry("batch")
        .and_then(|(key, node)| batch::batch(&mut walker, key.position, node));
    let phases = match fields.entry("phases") {
        Some((key, node)) => phases::phases(&mut walker, key.position, node),
        None if batch.is_some() => Phases::default(),
        None => {
            walker.diagnostics.error(
                Position::START,
                "missing `phases`: a buildspec needs at least one of install, pre_build, build, post_build",
                "add `phases:` with a `build:` phase holding `commands:`",
            );
            Phases::default()
        }
    };
    BuildSpec {
        version: walker.version,
        run_as: fields
            .get("run-as")
            .and_then(|node| walker.text(node, "run-as")),
        env,
        proxy: fields
            .get("proxy")
            .map(|node| outputs::proxy(&mut walker, node))
            .unwrap_or_default(),
        phases,
        reports: fields
            .get("reports")
            .map(|node| outputs::reports(&mut walker, node))
            .unwrap_or_default(),
        artifacts: fields
            .entry("artifacts")
            .and_then(|(key, node)| outputs::artifacts(&mut walker, key.position, node)),
        cache: fields
            .entry("cache")
            .and_then(|(key, node)| outputs::cache(&mut walker, key.position, node)),
        batch,
    }
}

/// A buildspec with nothing in it, returned alongside errors when the root is unusable.
fn empty(version: BuildSpecVersion) -> BuildSpec {
    BuildSpec {
        version,
        run_as: None,
        env: Env::default(),
        proxy: Proxy::default(),
        phases: Phases::default(),
        reports: Vec::new(),
        artifacts: None,
        cache: None,
        batch: None,
    }
}

/// `version`: required, `0.1` or `0.2`. Falls back to 0.2 after an error so checking goes on.
fn version(walker: &mut Walker, fields: &Fields) -> BuildSpecVersion {
    let Some(node) = fields.get("version") else {
        walker.diagnostics.error(
            Position::START,
            "missing `version`",
            "add `version: 0.2` as the first line",
        );
        return BuildSpecVersion::V0_2;
    };
    match walker.text(node, "version").as_deref() {
        Some("0.2") => BuildSpecVersion::V0_2,
        Some("0.1") => BuildSpecVersion::V0_1,
        Some(other) => {
            walker.diagnostics.error(
                node.position,
                format!("unsupported buildspec version `{other}`; CodeBuild knows 0.1 and 0.2"),
                "use `version: 0.2`",
            );
            BuildSpecVersion::V0_2
        }
        None if node.kind == NodeKind::Null => {
            walker.diagnostics.error(
                node.position,
                "`version` has no value",
                "use `version: 0.2`",
            );
            BuildSpecVersion::V0_2
        }
        // A list or mapping: `text` has reported it.
        None => BuildSpecVersion::V0_2,
    }
}

/// The walk's state: where diagnostics go and which buildspec version rules apply.
pub(crate) struct Walker<'d> {
    /// Where findings are recorded.
    pub diagnostics: &'d mut Diagnostics,
    /// The buildspec's version (0.2 until `version` has been read).
    pub version: BuildSpecVersion,
}

/// The entries of a mapping whose keys are known names: lookup by key, with key positions.
#[derive(Default)]
pub(crate) struct Fields<'n> {
    entries: Vec<(&'n str, &'n Node, &'n Node)>,
}

impl<'n> Fields<'n> {
    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entry(key).map(|(_, value)| value)
    }

    /// The key node and value under `key`.
    pub fn entry(&self, key: &str) -> Option<(&'n Node, &'n Node)> {
        self.entries
            .iter()
            .find(|(name, _, _)| *name == key)
            .map(|(_, key, value)| (*key, *value))
    }
}

impl Walker<'_> {
    /// A mapping's entries as (key text, key node, value node); errors on duplicate keys and on
    /// anything that is not a mapping (`None`). A null value counts as an empty mapping.
    pub fn entries<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
    ) -> Option<Vec<(&'n str, &'n Node, &'n Node)>> {
        let entries = match &node.kind {
            NodeKind::Mapping(entries) => entries,
            NodeKind::Null => return Some(Vec::new()),
            other => {
                self.diagnostics.error(
                    node.position,
                    format!(
                        "`{path}` must be a mapping of `key: value` lines, found {}",
                        other.describe()
                    ),
                    format!("indent the entries of `{path}` under it as `key: value` lines"),
                );
                return None;
            }
        };
        let mut seen: Vec<(&'n str, &'n Node, &'n Node)> = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let name = match &key.kind {
                NodeKind::Scalar(scalar) => scalar.text.as_str(),
                other => {
                    self.diagnostics.error(
                        key.position,
                        format!(
                            "a key {} must be a plain name, found {}",
                            place(path),
                            other.describe()
                        ),
                        Fix::NONE,
                    );
                    continue;
                }
            };
            if let Some((_, first, _)) = seen.iter().find(|(seen_name, _, _)| *seen_name == name) {
                self.diagnostics.error(
                    key.position,
                    format!(
                        "duplicate key `{name}` {} (first at {})",
                        place(path),
                        first.position
                    ),
                    "keep one of them: YAML keys must be unique, and CodeBuild would read only one",
                );
                continue;
            }
            seen.push((name, key, value));
        }
        Some(seen)
    }

    /// Like [`Walker::entries`], and warns about keys not in `known`, suggesting the closest.
    pub fn fields<'n>(&mut self, node: &'n Node, path: &str, known: &[&str]) -> Option<Fields<'n>> {
        let entries = self.entries(node, path)?;
        for (name, key, _) in &entries {
            if !known.contains(name) {
                self.unknown_key(key.position, name, path, known);
            }
        }
        Some(Fields { entries })
    }

    /// Warns about an unknown key, naming the closest known one when it looks like a typo.
    pub fn unknown_key(&mut self, at: Position, name: &str, path: &str, known: &[&str]) {
        let listed = known
            .iter()
            .map(|key| format!("`{key}`"))
            .collect::<Vec<_>>()
            .join(", ");
        match closest_key(name, known) {
            Some(suggestion) => self.diagnostics.warning(
                at,
                format!(
                    "unknown key `{name}` {} is ignored; did you mean `{suggestion}`?",
                    place(path)
                ),
                format!("rename `{name}` to `{suggestion}` (keys are case-sensitive)"),
            ),
            None => self.diagnostics.warning(
                at,
                format!("unknown key `{name}` {} is ignored", place(path)),
                format!("remove it, or use one of the keys known here: {listed}"),
            ),
        }
    }

    /// A scalar as text (numbers and booleans keep their spelling); `None` for null, and an
    /// error for a list or mapping.
    pub fn text(&mut self, node: &Node, path: &str) -> Option<String> {
        match &node.kind {
            NodeKind::Scalar(scalar) => Some(scalar.text.clone()),
            NodeKind::Null => None,
            other => {
                self.diagnostics.error(
                    node.position,
                    format!(
                        "`{path}` must be a single value, found {}",
                        other.describe()
                    ),
                    format!("write `{path}` as one value on the same line as its key"),
                );
                None
            }
        }
    }

    /// A yes/no switch: YAML booleans, or `yes`/`no`/`true`/`false` in any case and quoting.
    pub fn boolean(&mut self, node: &Node, path: &str) -> Option<bool> {
        if let NodeKind::Scalar(scalar) = &node.kind {
            if let Resolved::Bool(value) = scalar.resolved {
                return Some(value);
            }
            match scalar.text.to_ascii_lowercase().as_str() {
                "yes" | "true" => return Some(true),
                "no" | "false" => return Some(false),
                _ => {}
            }
        }
        if node.kind == NodeKind::Null {
            return None;
        }
        let found = match &node.kind {
            NodeKind::Scalar(scalar) => format!("`{}`", scalar.text),
            other => other.describe().to_owned(),
        };
        self.diagnostics.error(
            node.position,
            format!("`{path}` must be yes or no, found {found}"),
            format!("write `{path}: yes` or `{path}: no`"),
        );
        None
    }

    /// A list of plain values (paths, names, commands); numbers and booleans keep their spelling.
    /// A single value where a list belongs, and null or nested items, are errors.
    pub fn text_list(&mut self, node: &Node, path: &str) -> Vec<Located<String>> {
        let items = match &node.kind {
            NodeKind::Sequence(items) => items,
            NodeKind::Null => return Vec::new(),
            NodeKind::Scalar(scalar) => {
                self.diagnostics.error(
                    node.position,
                    format!("`{path}` must be a list, found a single value"),
                    format!(
                        "write each entry on its own line as `- {}`",
                        first_line(&scalar.text)
                    ),
                );
                return Vec::new();
            }
            NodeKind::Mapping(_) => {
                self.diagnostics.error(
                    node.position,
                    format!("`{path}` must be a list, found a mapping"),
                    "write each entry on its own line starting with `- `",
                );
                return Vec::new();
            }
        };
        let mut values = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{index}]");
            match &item.kind {
                NodeKind::Scalar(scalar) => values.push(Located {
                    value: scalar.text.clone(),
                    position: item.position,
                }),
                NodeKind::Null => self.diagnostics.error(
                    item.position,
                    format!("`{item_path}` is empty: a `-` with nothing after it"),
                    "remove the empty `-` line or write the value after it",
                ),
                NodeKind::Mapping(entries) => self.diagnostics.error(
                    item.position,
                    format!("`{item_path}` is a mapping, not a string: an unquoted `: ` turns the line into `key: value`"),
                    match entries.as_slice() {
                        [(key, value)] => format!("quote the whole line: `- \"{}\"`", rejoin(key, value)),
                        _ => "quote the whole line in double quotes".to_owned(),
                    },
                ),
                NodeKind::Sequence(_) => self.diagnostics.error(
                    item.position,
                    format!("`{item_path}` is a nested list, not a string"),
                    "write one value per `- ` line, without a second `-`",
                ),
            }
        }
        values
    }

    /// A `NAME: value` mapping (variables, runtime versions); values keep their spelling, and a
    /// null value becomes the empty string with a warning.
    pub fn variables(&mut self, node: &Node, path: &str) -> Vec<Variable> {
        self.variable_entries(node, path)
            .into_iter()
            .map(|entry| entry.variable)
            .collect()
    }

    /// Like [`Walker::variables`], with the position of each name and value.
    pub fn variable_entries(&mut self, node: &Node, path: &str) -> Vec<VariableEntry> {
        let Some(entries) = self.entries(node, path) else {
            return Vec::new();
        };
        let mut variables = Vec::with_capacity(entries.len());
        for (name, key, value) in entries {
            let text = match &value.kind {
                NodeKind::Scalar(scalar) => scalar.text.clone(),
                NodeKind::Null => {
                    self.diagnostics.warning(
                        key.position,
                        format!("`{path}.{name}` has no value and is set to the empty string"),
                        format!("write `{name}: \"\"` to say so"),
                    );
                    String::new()
                }
                other => {
                    self.diagnostics.error(
                        value.position,
                        format!(
                            "`{path}.{name}` must be a single value, found {}",
                            other.describe()
                        ),
                        "quote the value, or use a `|` block for multi-line text",
                    );
                    continue;
                }
            };
            variables.push(VariableEntry {
                variable: Variable {
                    name: name.to_owned(),
                    value: text,
                },
                name_position: key.position,
                value_position: value.position,
            });
        }
        variables
    }
}

/// A variable with the positions of its name and value.
pub(crate) struct VariableEntry {
    /// The name and value.
    pub variable: Variable,
    /// Where the name is written.
    pub name_position: Position,
    /// Where the value is written.
    pub value_position: Position,
}

/// Where a key sits, for messages: "in `phases.build`", or "at the top level" for `""`.
fn place(path: &str) -> String {
    if path.is_empty() {
        "at the top level".to_owned()
    } else {
        format!("in `{path}`")
    }
}

/// The first line of a text, for fix suggestions.
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// `key: value` as the author probably meant it, for the quoting fix.
fn rejoin(key: &Node, value: &Node) -> String {
    let text = |node: &Node| match &node.kind {
        NodeKind::Scalar(scalar) => scalar.text.clone(),
        _ => "…".to_owned(),
    };
    format!("{}: {}", text(key), text(value)).replace('"', "\\\"")
}
