//! `metadata.managedFields`: decoding, encoding (in the apiserver's order) and manager identity.

use serde_json::{Map, Value};

use super::fieldset::{FieldSet, PathElement};

/// `Apply` or `Update`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Operation {
    Apply,
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Self::Apply => "Apply",
            Self::Update => "Update",
        }
    }
}

/// One `managedFields` entry.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub manager: String,
    pub operation: Operation,
    pub api_version: String,
    pub time: Option<String>,
    pub subresource: Option<String>,
    pub fields: FieldSet,
}

impl Entry {
    /// Whether both entries are the same manager as the apiserver counts them: manager,
    /// operation and subresource, plus the API version for `Update` entries
    /// (`BuildManagerIdentifier`).
    pub fn same_manager(&self, other: &Entry) -> bool {
        self.identity() == other.identity()
    }

    /// The apiserver's manager identifier: the entry without fields and time as JSON (and, for
    /// appliers, without the API version).
    pub fn identity(&self) -> String {
        // The field order of `metav1.ManagedFieldsEntry`.
        let mut out = String::from("{");
        out.push_str(&format!(
            "\"manager\":{}",
            Value::String(self.manager.clone())
        ));
        out.push_str(&format!(",\"operation\":\"{}\"", self.operation.as_str()));
        if self.operation == Operation::Update && !self.api_version.is_empty() {
            out.push_str(&format!(
                ",\"apiVersion\":{}",
                Value::String(self.api_version.clone())
            ));
        }
        if let Some(subresource) = &self.subresource {
            out.push_str(&format!(
                ",\"subresource\":{}",
                Value::String(subresource.clone())
            ));
        }
        out.push('}');
        out
    }

    /// The manager as conflict messages print it (`printManager`): `"name"`, with
    /// ` with subresource "status"`, and ` using apps/v1` for updaters.
    pub fn describe(&self) -> String {
        let mut out = Value::String(self.manager.clone()).to_string();
        if let Some(subresource) = &self.subresource {
            out.push_str(&format!(
                " with subresource {}",
                Value::String(subresource.clone())
            ));
        }
        if self.operation == Operation::Update {
            out.push_str(&format!(" using {}", self.api_version));
        }
        out
    }

    fn encode(&self) -> Value {
        let mut entry = Map::new();
        entry.insert("manager".to_owned(), Value::String(self.manager.clone()));
        entry.insert(
            "operation".to_owned(),
            Value::String(self.operation.as_str().to_owned()),
        );
        entry.insert(
            "apiVersion".to_owned(),
            Value::String(self.api_version.clone()),
        );
        if let Some(time) = &self.time {
            entry.insert("time".to_owned(), Value::String(time.clone()));
        }
        entry.insert(
            "fieldsType".to_owned(),
            Value::String("FieldsV1".to_owned()),
        );
        entry.insert("fieldsV1".to_owned(), self.fields.to_fields_v1());
        if let Some(subresource) = &self.subresource {
            entry.insert("subresource".to_owned(), Value::String(subresource.clone()));
        }
        Value::Object(entry)
    }

    fn decode(value: &Value) -> Result<Entry, String> {
        let Value::Object(entry) = value else {
            return Err("managedFields entries must be objects".to_owned());
        };
        let text = |key: &str| entry.get(key).and_then(Value::as_str).unwrap_or("");
        let operation = match text("operation") {
            "Apply" => Operation::Apply,
            "Update" => Operation::Update,
            _ => return Err("operation must be `Apply` or `Update`".to_owned()),
        };
        if text("apiVersion").is_empty() {
            return Err("apiVersion must not be empty".to_owned());
        }
        match text("fieldsType") {
            "FieldsV1" => {}
            other => return Err(format!("invalid fieldsType {other:?}")),
        }
        let fields = match entry.get("fieldsV1") {
            Some(fields) => FieldSet::from_fields_v1(fields)?,
            None => FieldSet::new(),
        };
        Ok(Entry {
            manager: text("manager").to_owned(),
            operation,
            api_version: text("apiVersion").to_owned(),
            time: entry.get("time").and_then(Value::as_str).map(str::to_owned),
            subresource: Some(text("subresource"))
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            fields,
        })
    }
}

/// The `metadata.managedFields` of `object` (absent or `null`: none).
///
/// # Errors
/// The apiserver's decoding texts.
pub(crate) fn decode(object: &Value) -> Result<Vec<Entry>, String> {
    let Some(list) = object
        .pointer("/metadata/managedFields")
        .filter(|v| !v.is_null())
    else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = list else {
        return Err("managedFields must be a list".to_owned());
    };
    let mut entries: Vec<Entry> = Vec::with_capacity(items.len());
    for item in items {
        let entry = Entry::decode(item)?;
        // A later duplicate replaces an earlier one, as the apiserver's decoding does.
        entries.retain(|e| !e.same_manager(&entry));
        entries.push(entry);
    }
    Ok(entries)
}

/// Whether `object` carries the `[{}]` reset marker: `managedFields` set to entries that are all
/// empty, which clears ownership on non-apply writes.
pub(crate) fn is_reset_marker(object: &Value) -> bool {
    match object.pointer("/metadata/managedFields") {
        Some(Value::Array(items)) => {
            !items.is_empty()
                && items
                    .iter()
                    .all(|i| i.as_object().is_some_and(Map::is_empty))
        }
        _ => false,
    }
}

/// Writes `entries` into `object`'s `metadata.managedFields` sorted as the apiserver sorts them
/// (operation, time, manager, API version, subresource; `Apply` before `Update`), dropping empty
/// entries; removes the field when none are left.
pub(crate) fn encode_into(object: &mut Value, entries: &[Entry]) {
    let mut entries: Vec<&Entry> = entries.iter().filter(|e| !e.fields.is_empty()).collect();
    entries.sort_by(|p, q| {
        p.operation
            .cmp(&q.operation)
            .then_with(|| seconds(p.time.as_deref()).cmp(&seconds(q.time.as_deref())))
            .then_with(|| p.manager.cmp(&q.manager))
            .then_with(|| p.api_version.cmp(&q.api_version))
            .then_with(|| {
                let sub = |e: &Entry| e.subresource.clone().unwrap_or_default();
                sub(p).cmp(&sub(q))
            })
    });
    let Value::Object(root) = object else { return };
    let metadata = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(metadata) = metadata else {
        return;
    };
    if entries.is_empty() {
        metadata.remove("managedFields");
    } else {
        let encoded = entries.iter().map(|e| e.encode()).collect();
        metadata.insert("managedFields".to_owned(), Value::Array(encoded));
    }
}

/// Removes `metadata.managedFields` from `object`.
pub(crate) fn strip(object: &mut Value) {
    if let Some(Value::Object(metadata)) = object.get_mut("metadata") {
        metadata.remove("managedFields");
    }
}

/// The fields never recorded as owned (`stripMetaManager`): type meta and server-set metadata.
pub(crate) fn strip_set() -> FieldSet {
    let mut set = FieldSet::new();
    let field = |name: &str| PathElement::Field(name.to_owned());
    set.insert(&[field("apiVersion")]);
    set.insert(&[field("kind")]);
    set.insert(&[field("metadata")]);
    for name in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    ] {
        set.insert(&[field("metadata"), field(name)]);
    }
    set
}

/// Seconds since the epoch of an RFC 3339 time (absent or unreadable: 0, as a nil time).
pub(crate) fn seconds(time: Option<&str>) -> i64 {
    time.and_then(parse_rfc3339).unwrap_or(0)
}

fn parse_rfc3339(text: &str) -> Option<i64> {
    let number = |s: &str| s.parse::<i64>().ok();
    let (date, rest) = text.split_once(['T', 't'])?;
    let mut date_parts = date.splitn(3, '-');
    let (year, month, day) = (
        number(date_parts.next()?)?,
        number(date_parts.next()?)?,
        number(date_parts.next()?)?,
    );
    let hour = number(rest.get(0..2)?)?;
    let minute = number(rest.get(3..5)?)?;
    let second = number(rest.get(6..8)?)?;
    let mut zone = rest.get(8..)?;
    if let Some(fraction) = zone.strip_prefix('.') {
        zone = fraction.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = match zone.get(0..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            sign * (number(zone.get(1..3)?)? * 3600 + number(zone.get(4..6)?)? * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc3339_times_parse_to_epoch_seconds() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2026-11-26T02:53:00Z"), Some(1_795_661_580));
        assert_eq!(
            parse_rfc3339("2026-11-26T03:53:00.5+01:00"),
            Some(1_795_661_580)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn entries_are_sorted_apply_first_then_by_time_and_manager() {
        let entry = |manager: &str, operation, time: &str| Entry {
            manager: manager.to_owned(),
            operation,
            api_version: "v1".to_owned(),
            time: Some(time.to_owned()),
            subresource: None,
            fields: FieldSet::from_fields_v1(&json!({"f:data": {}})).unwrap(),
        };
        let mut object = json!({"metadata": {}});
        encode_into(
            &mut object,
            &[
                entry("b", Operation::Update, "2026-01-01T00:00:02Z"),
                entry("z", Operation::Apply, "2026-01-01T00:00:05Z"),
                entry("a", Operation::Update, "2026-01-01T00:00:02Z"),
                entry("c", Operation::Update, "2026-01-01T00:00:01Z"),
            ],
        );
        let managers: Vec<&str> = object["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["manager"].as_str().unwrap())
            .collect();
        assert_eq!(managers, ["z", "c", "a", "b"]);
        let decoded = decode(&object).unwrap();
        assert_eq!(decoded.len(), 4);
        assert_eq!(
            decoded[0].identity(),
            "{\"manager\":\"z\",\"operation\":\"Apply\"}"
        );
        assert_eq!(decoded[1].describe(), "\"c\" using v1");
    }

    #[test]
    fn malformed_entries_are_refused() {
        for bad in [
            json!({"metadata": {"managedFields": [{"manager": "a", "operation": "Patch", "apiVersion": "v1", "fieldsType": "FieldsV1"}]}}),
            json!({"metadata": {"managedFields": [{"manager": "a", "operation": "Apply", "fieldsType": "FieldsV1"}]}}),
            json!({"metadata": {"managedFields": "x"}}),
        ] {
            assert!(decode(&bad).is_err(), "{bad}");
        }
        assert!(is_reset_marker(
            &json!({"metadata": {"managedFields": [{}]}})
        ));
        assert!(!is_reset_marker(
            &json!({"metadata": {"managedFields": []}})
        ));
    }
}
