//! The helpers every part of the appspec walk uses: mappings with known keys, scalars, lists.
//!
//! Keys are matched **without regard to ASCII case**: AWS's own appspec examples write the same
//! keys both ways (`Resources`/`resources`, `Name`/`name`, `CurrentVersion`/`currentversion`),
//! and CodeDeploy accepts both. A key that matches no known key in any case is a warning naming
//! the closest known one.
//!
//! Like the buildspec walker, this one never stops at the first problem: it records a
//! diagnostic, substitutes `None` or an empty list, and goes on. A wrong value points at the
//! value, an unknown or duplicate key at the key, and a missing key at the mapping's own key.

use crate::yaml::diagnostics::{Diagnostics, Fix, Position};
use crate::yaml::suggest::closest_key;
use crate::yaml::tree::{Node, NodeKind};

use super::model::Located;

/// Where findings go while the appspec is walked.
pub(crate) struct Walker<'d> {
    /// The findings.
    pub diagnostics: &'d mut Diagnostics,
}

/// One `key: value` entry of a mapping.
#[derive(Clone, Copy)]
pub(crate) struct Entry<'n> {
    /// The key as written.
    pub name: &'n str,
    /// The key's node (its position is the key's).
    pub key: &'n Node,
    /// The value.
    pub value: &'n Node,
}

/// A mapping's entries, looked up by key without regard to case.
#[derive(Default)]
pub(crate) struct Fields<'n> {
    entries: Vec<Entry<'n>>,
}

impl<'n> Fields<'n> {
    /// The entry under `key` (any case).
    pub fn entry(&self, key: &str) -> Option<Entry<'n>> {
        self.entries
            .iter()
            .find(|entry| entry.name.eq_ignore_ascii_case(key))
            .copied()
    }

    /// The value under `key` (any case).
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entry(key).map(|entry| entry.value)
    }

    /// All entries in file order.
    pub fn all(&self) -> &[Entry<'n>] {
        &self.entries
    }
}

impl Walker<'_> {
    /// A mapping's entries; errors on non-scalar and duplicate keys (in any case), and on
    /// anything that is not a mapping (`None`). A null value counts as an empty mapping.
    pub fn entries<'n>(&mut self, node: &'n Node, path: &str) -> Option<Fields<'n>> {
        let pairs = match &node.kind {
            NodeKind::Mapping(pairs) => pairs,
            NodeKind::Null => return Some(Fields::default()),
            other => {
                self.diagnostics.error(
                    node.position,
                    format!(
                        "`{path}` must be a mapping of `key: value` entries, found {}",
                        other.describe()
                    ),
                    format!("indent the entries of `{path}` under it as `key: value` lines"),
                );
                return None;
            }
        };
        let mut fields = Fields::default();
        for (key, value) in pairs {
            let NodeKind::Scalar(scalar) = &key.kind else {
                self.diagnostics.error(
                    key.position,
                    format!(
                        "a key {} must be a plain name, found {}",
                        place(path),
                        key.kind.describe()
                    ),
                    Fix::NONE,
                );
                continue;
            };
            let name = scalar.text.as_str();
            if let Some(first) = fields.entry(name) {
                self.diagnostics.error(
                    key.position,
                    format!(
                        "duplicate key `{name}` {} (first at {} as `{}`)",
                        place(path),
                        first.key.position,
                        first.name
                    ),
                    "keep one of them: keys must be unique, and CodeDeploy reads keys without regard to case",
                );
                continue;
            }
            fields.entries.push(Entry { name, key, value });
        }
        Some(fields)
    }

    /// Like [`Walker::entries`], and warns about keys not in `known` (in any case).
    pub fn fields<'n>(&mut self, node: &'n Node, path: &str, known: &[&str]) -> Option<Fields<'n>> {
        let fields = self.entries(node, path)?;
        for entry in fields.all() {
            if !is_known(entry.name, known) {
                self.unknown_key(entry.key.position, entry.name, path, known);
            }
        }
        Some(fields)
    }

    /// Warns about an unknown key, naming the closest known one when it looks like a typo.
    pub fn unknown_key(&mut self, at: Position, name: &str, path: &str, known: &[&str]) {
        match closest_key(name, known) {
            Some(suggestion) => self.diagnostics.warning(
                at,
                format!(
                    "unknown key `{name}` {} is ignored; did you mean `{suggestion}`?",
                    place(path)
                ),
                format!("rename `{name}` to `{suggestion}`"),
            ),
            None => self.diagnostics.warning(
                at,
                format!("unknown key `{name}` {} is ignored", place(path)),
                format!(
                    "remove it, or use one of the keys known here: {}",
                    quoted_list(known)
                ),
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

    /// A required, non-empty scalar under `key` of `fields`; a missing or empty one is an error
    /// at `parent` (the key of the mapping that should hold it).
    pub fn required_text(
        &mut self,
        fields: &Fields,
        key: &str,
        path: &str,
        parent: Position,
        fix: &str,
    ) -> Option<Located<String>> {
        let full = format!("{path}.{key}");
        let Some(node) = fields.get(key) else {
            self.diagnostics
                .error(parent, format!("missing `{full}`"), fix);
            return None;
        };
        match self.text(node, &full) {
            Some(text) if !text.trim().is_empty() => Some(Located {
                value: text,
                position: node.position,
            }),
            Some(_) => {
                self.diagnostics
                    .error(node.position, format!("`{full}` is empty"), fix);
                None
            }
            None if node.kind == NodeKind::Null => {
                self.diagnostics
                    .error(node.position, format!("`{full}` has no value"), fix);
                None
            }
            None => None,
        }
    }

    /// A list's items; `None` (after an error) for a scalar or mapping, empty for null.
    pub fn list<'n>(&mut self, node: &'n Node, path: &str, fix: &str) -> Option<&'n [Node]> {
        match &node.kind {
            NodeKind::Sequence(items) => Some(items),
            NodeKind::Null => Some(&[]),
            other => {
                self.diagnostics.error(
                    node.position,
                    format!("`{path}` must be a list, found {}", other.describe()),
                    fix,
                );
                None
            }
        }
    }

    /// A list of plain values (subnets, security groups); other items are errors.
    pub fn text_list(&mut self, node: &Node, path: &str) -> Vec<String> {
        let fix = format!("write `{path}` as a list: `[\"a\", \"b\"]` or one `- a` line each");
        let Some(items) = self.list(node, path, &fix) else {
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| self.text(item, &format!("{path}[{index}]")))
            .collect()
    }
}

/// Whether `name` is one of `known`, in any case.
pub(crate) fn is_known(name: &str, known: &[&str]) -> bool {
    known.iter().any(|key| key.eq_ignore_ascii_case(name))
}

/// `` `a`, `b`, `c` ``.
pub(crate) fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where a key sits, for messages: "in `Resources[0]`", or "at the top level" for `""`.
pub(crate) fn place(path: &str) -> String {
    if path.is_empty() {
        "at the top level".to_owned()
    } else {
        format!("in `{path}`")
    }
}
