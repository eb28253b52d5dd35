//! Label and field selectors, parsed and matched as the apiserver does
//! (`k8s.io/apimachinery/pkg/labels` and `…/fields`).

use serde_json::Value;

/// One label requirement.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
    GreaterThan(String, i64),
    LessThan(String, i64),
}

/// A parsed label selector (`app=web,tier in (a,b),!legacy`); empty matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

/// Splits on commas outside parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (index, character) in text.char_indices() {
        match character {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn parse_set(text: &str) -> Result<Vec<String>, String> {
    let inner = text
        .trim()
        .strip_prefix('(')
        .and_then(|rest| rest.strip_suffix(')'))
        .ok_or_else(|| format!("found '{text}', expected: '('"))?;
    Ok(inner
        .split(',')
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
        .collect())
}

/// Builds a set requirement from a key and values.
type SetBuilder = fn(String, Vec<String>) -> Requirement;
/// Builds an equality requirement from a key and a value.
type PairBuilder = fn(String, String) -> Requirement;

fn parse_requirement(text: &str) -> Result<Requirement, String> {
    let text = text.trim();
    if let Some(key) = text.strip_prefix('!') {
        return Ok(Requirement::DoesNotExist(key.trim().to_string()));
    }
    for (operator, build) in [
        (" notin ", Requirement::NotIn as SetBuilder),
        (" in ", Requirement::In),
    ] {
        if let Some((key, set)) = text.split_once(operator) {
            return Ok(build(key.trim().to_string(), parse_set(set)?));
        }
    }
    let pairs: [(&str, PairBuilder); 3] = [
        ("!=", Requirement::NotEquals),
        ("==", Requirement::Equals),
        ("=", Requirement::Equals),
    ];
    for (operator, build) in pairs {
        if let Some((key, value)) = text.split_once(operator) {
            return Ok(build(key.trim().to_string(), value.trim().to_string()));
        }
    }
    for (operator, greater) in [(">", true), ("<", false)] {
        if let Some((key, value)) = text.split_once(operator) {
            let number: i64 = value
                .trim()
                .parse()
                .map_err(|_| format!("invalid integer value {:?} for {operator}", value.trim()))?;
            let key = key.trim().to_string();
            return Ok(if greater {
                Requirement::GreaterThan(key, number)
            } else {
                Requirement::LessThan(key, number)
            });
        }
    }
    if text.contains(' ') || text.is_empty() {
        return Err(format!("unable to parse requirement: {text:?}"));
    }
    Ok(Requirement::Exists(text.to_string()))
}

impl LabelSelector {
    /// Parses the `labelSelector` query parameter.
    ///
    /// # Errors
    /// A message for a 400 answer when the text is not a selector.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let requirements = split_top_level(text)
            .into_iter()
            .map(parse_requirement)
            .collect::<Result<_, _>>()?;
        Ok(Self { requirements })
    }

    /// Whether the selector has no requirements.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether an object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = object.pointer("/metadata/labels");
        let label = |key: &str| {
            labels
                .and_then(|labels| labels.get(key))
                .and_then(Value::as_str)
        };
        self.requirements
            .iter()
            .all(|requirement| match requirement {
                Requirement::Equals(key, value) => label(key) == Some(value.as_str()),
                Requirement::NotEquals(key, value) => label(key) != Some(value.as_str()),
                Requirement::In(key, values) => {
                    label(key).is_some_and(|found| values.iter().any(|value| value == found))
                }
                Requirement::NotIn(key, values) => {
                    label(key).is_none_or(|found| values.iter().all(|value| value != found))
                }
                Requirement::Exists(key) => label(key).is_some(),
                Requirement::DoesNotExist(key) => label(key).is_none(),
                Requirement::GreaterThan(key, bound) => label(key)
                    .and_then(|found| found.parse::<i64>().ok())
                    .is_some_and(|found| found > *bound),
                Requirement::LessThan(key, bound) => label(key)
                    .and_then(|found| found.parse::<i64>().ok())
                    .is_some_and(|found| found < *bound),
            })
    }
}

/// Renders a `LabelSelector` object (`matchLabels`, `matchExpressions`) as selector text, as
/// `metav1.LabelSelectorAsSelector(...).String()` does (used by the scale subresource).
pub fn label_selector_text(selector: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
        for (key, value) in labels {
            parts.push(format!("{key}={}", value.as_str().unwrap_or_default()));
        }
    }
    if let Some(expressions) = selector.get("matchExpressions").and_then(Value::as_array) {
        for expression in expressions {
            let key = expression
                .get("key")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let values: Vec<&str> = expression
                .get("values")
                .and_then(Value::as_array)
                .map(|values| values.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match expression.get("operator").and_then(Value::as_str) {
                Some("In") => parts.push(format!("{key} in ({})", values.join(","))),
                Some("NotIn") => parts.push(format!("{key} notin ({})", values.join(","))),
                Some("Exists") => parts.push(key.to_string()),
                Some("DoesNotExist") => parts.push(format!("!{key}")),
                _ => {}
            }
        }
    }
    parts.sort();
    parts.join(",")
}

/// One field requirement: a dotted path, equal or not, to a value.
#[derive(Clone, Debug, PartialEq, Eq)]
struct FieldRequirement {
    path: String,
    value: String,
    equal: bool,
}

/// A parsed field selector (`metadata.name=demo,status.phase!=Running`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {
    requirements: Vec<FieldRequirement>,
}

/// Fields every resource can be selected by.
const COMMON_FIELDS: &[&str] = &["metadata.name", "metadata.namespace"];

/// Extra selectable fields of built-in kinds, by (group, resource).
fn extra_fields(group: &str, resource: &str) -> &'static [&'static str] {
    match (group, resource) {
        ("", "pods") => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        ("", "events") => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        ("", "secrets") => &["type"],
        ("", "namespaces") => &["status.phase"],
        ("batch", "jobs") => &["status.successful"],
        _ => &[],
    }
}

impl FieldSelector {
    /// Parses the `fieldSelector` query parameter for a resource.
    ///
    /// # Errors
    /// The apiserver's 400 text: `field label not supported: spec.foo`, or a parse error.
    pub fn parse(text: &str, group: &str, resource: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for part in text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
        {
            let (path, value, equal) = if let Some((path, value)) = part.split_once("!=") {
                (path, value, false)
            } else if let Some((path, value)) = part.split_once("==") {
                (path, value, true)
            } else if let Some((path, value)) = part.split_once('=') {
                (path, value, true)
            } else {
                return Err(format!(
                    "invalid selector: '{text}'; can't understand '{part}'"
                ));
            };
            let path = path.trim();
            if !COMMON_FIELDS.contains(&path) && !extra_fields(group, resource).contains(&path) {
                return Err(format!("field label not supported: {path}"));
            }
            requirements.push(FieldRequirement {
                path: path.to_string(),
                value: value.trim().to_string(),
                equal,
            });
        }
        Ok(Self { requirements })
    }

    /// Whether the selector has no requirements.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The name an equality on `metadata.name` pins, if any (lets lists skip a scan).
    pub fn pinned_name(&self) -> Option<&str> {
        self.requirements
            .iter()
            .find(|requirement| requirement.equal && requirement.path == "metadata.name")
            .map(|requirement| requirement.value.as_str())
    }

    /// Whether the object satisfies every requirement (absent fields compare as `""`).
    pub fn matches(&self, object: &Value) -> bool {
        self.requirements.iter().all(|requirement| {
            let found = requirement
                .path
                .split('.')
                .try_fold(object, |value, key| value.get(key));
            let found = match found {
                Some(Value::String(text)) => text.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (found == requirement.value) == requirement.equal
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn labelled(labels: Value) -> Value {
        json!({"metadata": {"labels": labels}})
    }

    #[test]
    fn equality_and_set_requirements_match_like_the_apiserver() {
        let selector =
            LabelSelector::parse("app=web,tier in (a, b),!legacy,env!=prod,zone").unwrap();
        assert!(selector.matches(&labelled(json!({"app": "web", "tier": "a", "zone": "x"}))));
        assert!(!selector.matches(&labelled(json!({"app": "web", "tier": "c", "zone": "x"}))));
        assert!(!selector.matches(&labelled(
            json!({"app": "web", "tier": "a", "zone": "x", "legacy": ""})
        )));
        assert!(!selector.matches(&labelled(
            json!({"app": "web", "tier": "a", "zone": "x", "env": "prod"})
        )));
        assert!(!selector.matches(&labelled(json!({"app": "web", "tier": "a"}))));
        let notin = LabelSelector::parse("tier notin (a)").unwrap();
        assert!(notin.matches(&labelled(json!({}))));
        assert!(!notin.matches(&labelled(json!({"tier": "a"}))));
        assert!(
            LabelSelector::parse("app==web")
                .unwrap()
                .matches(&labelled(json!({"app": "web"})))
        );
    }

    #[test]
    fn unsupported_field_labels_are_refused() {
        assert_eq!(
            FieldSelector::parse("spec.foo=x", "slipway.dev", "pipelines").unwrap_err(),
            "field label not supported: spec.foo"
        );
        let selector = FieldSelector::parse("status.phase!=Running", "", "pods").unwrap();
        assert!(selector.matches(&json!({"status": {"phase": "Pending"}})));
        assert!(!selector.matches(&json!({"status": {"phase": "Running"}})));
    }

    #[test]
    fn selector_objects_render_as_text() {
        let text = label_selector_text(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]
        }));
        assert_eq!(text, "app=web,tier in (a,b)");
    }
}
