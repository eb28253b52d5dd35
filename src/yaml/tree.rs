//! A span-aware YAML tree: a buildspec's or appspec's text (YAML or JSON) loaded with serde-saphyr
//! into nodes that each know their line and column, so that every later diagnostic can point at
//! its source.
//!
//! Why a tree and not `#[derive(Deserialize)]` on a model: serde stops at the first error and
//! cannot report unknown keys as warnings, suggest spellings or accept CodeBuild's loose forms
//! (`discard-paths: yes`, numbers where strings are expected). Walking a tree gives all of that
//! and keeps every diagnostic in one pass.
//!
//! Scalars keep their *source spelling*: `python: 3.10` stays `"3.10"` and `CI: yes` stays
//! `"yes"`, because an author means the characters they typed, not the YAML number or boolean
//! they happen to resolve to (an appspec's `version: 0.0` stays `0.0`).

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DuplicateKeyPolicy, MessageFormatter, Spanned};

use super::diagnostics::Position;

/// One YAML node and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    /// What the node holds.
    pub kind: NodeKind,
    /// Where the node starts (1-based line and column).
    pub position: Position,
}

/// The shapes a YAML node can take once loaded.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum NodeKind {
    /// `~`, `null` or nothing at all (`key:` with no value, a bare `-`).
    Null,
    /// Any scalar, with its text and the type YAML resolved it to.
    Scalar(Scalar),
    /// A block or flow sequence.
    Sequence(Vec<Node>),
    /// A mapping; entries keep their order, and duplicates are kept for the walker to report.
    Mapping(Vec<(Node, Node)>),
}

/// A scalar's text and the type YAML resolved it to.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Scalar {
    /// The text: the string value, or the source spelling of a number or boolean.
    pub text: String,
    /// The YAML type the scalar resolved to.
    pub resolved: Resolved,
}

/// The YAML 1.2 core type of a scalar (YAML 1.1 `yes`/`no`/`on`/`off` count as booleans, as
/// CodeBuild reads them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// A string (quoted, block, or plain text that is not a number or boolean).
    String,
    /// A boolean.
    Bool(bool),
    /// An integer or a float.
    Number,
}

impl NodeKind {
    /// A short noun for messages: "a string", "a list", …
    pub fn describe(&self) -> &'static str {
        match self {
            NodeKind::Null => "empty (null)",
            NodeKind::Scalar(scalar) => match scalar.resolved {
                Resolved::String => "a string",
                Resolved::Bool(_) => "a boolean",
                Resolved::Number => "a number",
            },
            NodeKind::Sequence(_) => "a list",
            NodeKind::Mapping(_) => "a mapping",
        }
    }
}

/// A YAML syntax error with its position (if the parser knew it) and message.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SyntaxError {
    /// Where the parser stopped.
    pub position: Position,
    /// The parser's message, without location or snippet.
    pub message: String,
}

/// Loads `text` into a tree. `Ok(None)` is an empty document (only comments or nothing).
pub(crate) fn load(text: &str) -> Result<Option<Node>, SyntaxError> {
    let mut options = serde_saphyr::Options::default();
    // The walker reports duplicate keys itself, with both positions.
    options.duplicate_keys = DuplicateKeyPolicy::PassThrough;
    options.with_snippet = false;
    let raw: Option<Spanned<RawNode>> = serde_saphyr::from_str_with_options(text, options)
        .map_err(|error| {
            let position = error
                .location()
                .map(|location| Position::new(location.line(), location.column()))
                .unwrap_or(Position::START);
            let message = serde_saphyr::DefaultMessageFormatter
                .format_message(&error)
                .escape_debug()
                .to_string();
            SyntaxError { position, message }
        })?;
    Ok(raw.map(|raw| convert(raw, text)))
}

/// Turns serde-saphyr's spanned values into [`Node`]s, recovering source spellings.
fn convert(raw: Spanned<RawNode>, text: &str) -> Node {
    let location = raw.referenced;
    let position = Position::new(location.line(), location.column());
    let kind = match raw.value {
        RawNode::Null => NodeKind::Null,
        RawNode::String(value) => NodeKind::Scalar(Scalar {
            text: value,
            resolved: Resolved::String,
        }),
        RawNode::Bool(value, fallback) => NodeKind::Scalar(Scalar {
            text: source_spelling(text, &location).unwrap_or(fallback),
            resolved: Resolved::Bool(value),
        }),
        RawNode::Number(fallback) => NodeKind::Scalar(Scalar {
            text: source_spelling(text, &location).unwrap_or(fallback),
            resolved: Resolved::Number,
        }),
        RawNode::Sequence(items) => NodeKind::Sequence(
            items
                .into_iter()
                .map(|item| {
                    let mut node = convert(item, text);
                    if node.kind == NodeKind::Null {
                        // The parser places an empty item after its `-`; the dash is what to fix.
                        node.position = dash_before(text, node.position).unwrap_or(node.position);
                    }
                    node
                })
                .collect(),
        ),
        RawNode::Mapping(entries) => NodeKind::Mapping(
            entries
                .into_iter()
                .map(|(key, value)| (convert(key, text), convert(value, text)))
                .collect(),
        ),
    };
    Node { kind, position }
}

/// The position of the `-` that precedes `position` on its line, if only spaces lie between.
fn dash_before(text: &str, position: Position) -> Option<Position> {
    let line = text
        .lines()
        .nth(usize::try_from(position.line).ok()?.checked_sub(1)?)?;
    let before: Vec<char> = line
        .chars()
        .take(usize::try_from(position.column).ok()?.saturating_sub(1))
        .collect();
    let trimmed = before
        .iter()
        .rposition(|character| !character.is_whitespace())?;
    (before[trimmed] == '-').then(|| Position {
        line: position.line,
        column: u32::try_from(trimmed + 1).unwrap_or(u32::MAX),
    })
}

/// The characters of a plain scalar as written, from its span in the source.
fn source_spelling(text: &str, location: &serde_saphyr::Location) -> Option<String> {
    let span = location.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let length = usize::try_from(span.byte_len()?).ok()?;
    let spelling = text.get(start..start.checked_add(length)?)?.trim();
    (!spelling.is_empty()).then(|| spelling.to_owned())
}

/// What serde-saphyr hands over before spellings are recovered.
enum RawNode {
    Null,
    String(String),
    /// The value and a fallback spelling in case the span is unavailable.
    Bool(bool, String),
    /// A fallback spelling in case the span is unavailable.
    Number(String),
    Sequence(Vec<Spanned<RawNode>>),
    Mapping(Vec<(Spanned<RawNode>, Spanned<RawNode>)>),
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawNodeVisitor)
    }
}

struct RawNodeVisitor;

impl<'de> Visitor<'de> for RawNodeVisitor {
    type Value = RawNode;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("any YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawNode, D::Error> {
        RawNode::deserialize(deserializer)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<RawNode, E> {
        Ok(RawNode::Bool(value, value.to_string()))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<RawNode, E> {
        Ok(RawNode::Number(value.to_string()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<RawNode, E> {
        Ok(RawNode::Number(value.to_string()))
    }

    fn visit_i128<E: de::Error>(self, value: i128) -> Result<RawNode, E> {
        Ok(RawNode::Number(value.to_string()))
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<RawNode, E> {
        Ok(RawNode::Number(value.to_string()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<RawNode, E> {
        Ok(RawNode::Number(value.to_string()))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<RawNode, E> {
        Ok(RawNode::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<RawNode, E> {
        Ok(RawNode::String(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<RawNode, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = access.next_element()? {
            items.push(item);
        }
        Ok(RawNode::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<RawNode, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = access.next_key()? {
            entries.push((key, access.next_value()?));
        }
        Ok(RawNode::Mapping(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The (text, resolved type) of the value under the single key of a one-line document.
    fn scalar(document: &str) -> (String, Resolved) {
        let root = load(document).expect("valid YAML").expect("a document");
        let NodeKind::Mapping(entries) = root.kind else {
            panic!("not a mapping: {document}");
        };
        match &entries[0].1.kind {
            NodeKind::Scalar(scalar) => (scalar.text.clone(), scalar.resolved),
            other => panic!("not a scalar: {other:?}"),
        }
    }

    #[test]
    fn scalars_keep_their_source_spelling_and_resolved_type() {
        let cases = [
            ("v: 0.2", "0.2", Resolved::Number),
            ("v: 3.10", "3.10", Resolved::Number),
            ("v: 18", "18", Resolved::Number),
            ("v: -1", "-1", Resolved::Number),
            ("v: 1e3", "1e3", Resolved::Number),
            ("v: yes", "yes", Resolved::Bool(true)),
            ("v: No", "No", Resolved::Bool(false)),
            ("v: true   ", "true", Resolved::Bool(true)),
            ("v: '0.2'", "0.2", Resolved::String),
            ("v: \"yes\"", "yes", Resolved::String),
            ("v: echo hi # comment", "echo hi", Resolved::String),
            ("v: |\n  a\n  b\n", "a\nb\n", Resolved::String),
            ("v: >-\n  a\n  b\n", "a b", Resolved::String),
        ];
        for (document, text, resolved) in cases {
            assert_eq!(
                scalar(document),
                (text.to_owned(), resolved),
                "for {document:?}"
            );
        }
    }

    #[test]
    fn nodes_carry_line_and_column() {
        let root = load("a:\n  - x\n  -\n  - y: 1\n").unwrap().unwrap();
        let NodeKind::Mapping(entries) = &root.kind else {
            panic!("not a mapping");
        };
        let NodeKind::Sequence(items) = &entries[0].1.kind else {
            panic!("not a sequence");
        };
        let positions: Vec<(u32, u32)> = items
            .iter()
            .map(|item| (item.position.line, item.position.column))
            .collect();
        // The empty item points at its dash.
        assert_eq!(positions, [(2, 5), (3, 3), (4, 5)]);
        assert_eq!(items[1].kind, NodeKind::Null);
    }

    #[test]
    fn empty_documents_load_as_none_and_syntax_errors_have_positions() {
        assert_eq!(load("").unwrap(), None);
        assert_eq!(load("# only a comment\n").unwrap(), None);
        let cases = [
            ("a:\n\t- b\n", (2, 2), "tabs"),
            ("a: [1, 2\n", (1, 4), "unclosed bracket"),
            ("a: 1\n---\nb: 2\n", (3, 1), "multiple YAML documents"),
        ];
        for (document, (line, column), fragment) in cases {
            let error = load(document).unwrap_err();
            assert_eq!(
                (error.position.line, error.position.column),
                (line, column),
                "{document:?}"
            );
            assert!(error.message.contains(fragment), "{}", error.message);
        }
    }
}
