//! Server-side apply and the ownership bookkeeping of every other write, as kube-apiserver's field
//! manager chain runs them (`structuredMergeManager`, `stripMetaManager`,
//! `managedFieldsUpdater`, `capManagersManager`, `skipNonAppliedManager`) over
//! structured-merge-diff's `Updater`.

use serde_json::{Map, Value};

use super::fieldset::{FieldSet, path_to_string};
use super::managed::{self, Entry, Operation};
use super::rules::{MergeRules, Node};
use super::typed::{self, Comparison};
use super::{ApplyError, ApplyRequest, Conflict};

/// Updaters beyond this many are merged, oldest first, into `ancient-changes` entries.
const MAX_UPDATE_MANAGERS: usize = 10;
/// The bucket of old updates (`oldUpdatesManagerName`).
const ANCIENT_CHANGES: &str = "ancient-changes";
/// The updater that owns the fields of an object that had no managedFields before its first apply.
const BEFORE_FIRST_APPLY: &str = "before-first-apply";

/// Which part of the object a write may touch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// Everything (kinds without a status subresource, other subresources).
    All,
    /// Everything but `status` (the main resource of a kind with a status subresource).
    WithoutStatus,
    /// Only `status` (the status subresource).
    OnlyStatus,
}

fn scope(subresource: Option<&str>, rules: &MergeRules) -> Scope {
    match subresource {
        Some("status") => Scope::OnlyStatus,
        Some(_) => Scope::All,
        None if rules.status_subresource => Scope::WithoutStatus,
        None => Scope::All,
    }
}

fn scoped(mut comparison: Comparison, scope: Scope) -> Comparison {
    match scope {
        Scope::All => {}
        Scope::WithoutStatus => comparison.scope("status", false),
        Scope::OnlyStatus => comparison.scope("status", true),
    }
    comparison
}

/// The applied configuration reduced to what the request may write: without `status` on the main
/// resource of a kind with a status subresource; only `status` (plus `apiVersion`, `kind` and the
/// object's name and namespace) on the status subresource.
fn scope_config(applied: &Map<String, Value>, scope: Scope) -> Value {
    let mut config = applied.clone();
    match scope {
        Scope::All => {}
        Scope::WithoutStatus => {
            config.remove("status");
        }
        Scope::OnlyStatus => {
            config.retain(|key, _| {
                matches!(key.as_str(), "apiVersion" | "kind" | "metadata" | "status")
            });
            if let Some(Value::Object(metadata)) = config.get_mut("metadata") {
                metadata.retain(|key, _| matches!(key.as_str(), "name" | "namespace"));
            }
        }
    }
    if let Some(Value::Object(metadata)) = config.get_mut("metadata") {
        metadata.remove("managedFields");
    }
    Value::Object(config)
}

/// The apiserver's text for an applied configuration structured-merge-diff cannot type:
/// `failed to create typed patch object (ns/name; apps/v1, Kind=Deployment): .spec…: …`.
fn typed_patch_error(applied: &Map<String, Value>, error: String) -> ApplyError {
    let text = |value: Option<&Value>| value.and_then(Value::as_str).unwrap_or("").to_owned();
    let api_version = text(applied.get("apiVersion"));
    let kind = text(applied.get("kind"));
    let metadata = applied.get("metadata");
    let namespace = text(metadata.and_then(|m| m.get("namespace")));
    let name = text(metadata.and_then(|m| m.get("name")));
    let group_version = if api_version.contains('/') {
        api_version
    } else {
        format!("/{api_version}")
    };
    ApplyError::Invalid(format!(
        "failed to create typed patch object ({namespace}/{name}; {group_version}, Kind={kind}): {error}"
    ))
}

pub(crate) fn server_side_apply(
    live: Option<&Value>,
    applied: &Value,
    request: &ApplyRequest<'_>,
    rules: &MergeRules,
) -> Result<Value, ApplyError> {
    let Value::Object(applied) = applied else {
        return Err(ApplyError::Invalid(
            "the applied configuration must be a JSON object".to_owned(),
        ));
    };
    if applied
        .get("metadata")
        .and_then(|m| m.get("managedFields"))
        .is_some_and(|m| !m.is_null())
    {
        return Err(ApplyError::Invalid(
            super::MANAGED_FIELDS_MUST_BE_NIL.to_owned(),
        ));
    }
    if let Some(version) = applied.get("apiVersion").and_then(Value::as_str)
        && version != request.api_version
    {
        return Err(ApplyError::Invalid(format!(
            "Incorrect version specified in apply patch. Specified patch version: {version}, expected: {}",
            request.api_version
        )));
    }
    let node = &rules.root;
    let scope = scope(request.subresource, rules);
    let config = scope_config(applied, scope);

    let mut entries = match live {
        Some(live) => managed::decode(live)
            .map_err(|e| ApplyError::Invalid(format!("failed to decode managed fields: {e}")))?,
        None => Vec::new(),
    };
    let mut live_object = live.cloned().unwrap_or_else(|| Value::Object(Map::new()));
    managed::strip(&mut live_object);

    if live.is_some() && entries.is_empty() {
        // skipNonAppliedManager: the fields of an object nobody tracked yet belong to an updater.
        let comparison = scoped(
            typed::compare(&Value::Object(Map::new()), &live_object, node),
            scope,
        );
        let first = template(
            BEFORE_FIRST_APPLY,
            Operation::Update,
            request.api_version,
            request.subresource,
        );
        record(&mut entries, first, &comparison, request.now);
    }

    let merged =
        typed::merge(&live_object, &config, node).map_err(|e| typed_patch_error(applied, e))?;
    let applied_set =
        typed::field_set(&config, node, true).map_err(|e| typed_patch_error(applied, e))?;

    let mut me = template(
        request.manager,
        Operation::Apply,
        request.api_version,
        request.subresource,
    );
    let position = entries.iter().position(|e| e.same_manager(&me));
    let (last_set, last_time) = match position {
        Some(index) => (entries[index].fields.clone(), entries[index].time.clone()),
        None => (FieldSet::new(), None),
    };
    me.fields = applied_set;
    let owned_by_anyone = entries
        .iter()
        .filter(|e| !e.same_manager(&me))
        .fold(me.fields.clone(), |all, e| all.union(&e.fields));
    let result = prune(&merged, &owned_by_anyone, &last_set, node);

    let comparison = scoped(typed::compare(&live_object, &result, node), scope);
    let changed = comparison.modified.union(&comparison.added);
    let mut conflicts = Vec::new();
    for entry in entries.iter().filter(|e| !e.same_manager(&me)) {
        let overlap = entry.fields.intersection(&changed);
        for path in overlap.paths() {
            conflicts.push((
                entry.identity(),
                Conflict {
                    manager: entry.manager.clone(),
                    owner: entry.describe(),
                    field: path_to_string(&path),
                },
            ));
        }
    }
    if !conflicts.is_empty() && !request.force {
        conflicts.sort_by(|a, b| a.0.cmp(&b.0));
        return Err(ApplyError::Conflicts(
            conflicts.into_iter().map(|(_, c)| c).collect(),
        ));
    }
    for entry in entries.iter_mut().filter(|e| !e.same_manager(&me)) {
        entry.fields = entry
            .fields
            .difference(&changed)
            .difference(&comparison.removed);
    }
    me.fields = me.fields.difference(&managed::strip_set());
    me.time = if position.is_none() || !comparison.is_same() {
        Some(request.now.to_owned())
    } else {
        last_time
    };
    match position {
        Some(index) => entries[index] = me,
        None => entries.push(me),
    }
    cap_update_managers(&mut entries);

    let mut result = result;
    managed::encode_into(&mut result, &entries);
    Ok(result)
}

/// Removes what the applier applied last time and no longer applies, unless someone (the applier
/// included, through its new configuration) still owns it (`Updater.prune`,
/// `addBackOwnedItems`, `addBackDanglingItems`).
fn prune(merged: &Value, owned_by_anyone: &FieldSet, last_set: &FieldSet, node: &Node) -> Value {
    if last_set.is_empty() {
        return merged.clone();
    }
    let ensure = |set: &FieldSet| typed::ensure_named_fields_are_members(set, node);
    let set_of = |value: &Value| ensure(&typed::field_set(value, node, false).unwrap_or_default());
    let last = ensure(last_set);
    let merged_set = set_of(merged);

    let pruned = typed::remove_items(merged, &last, node);
    // Add back what anyone owns.
    let owned = ensure(owned_by_anyone);
    let pruned_set = set_of(&pruned);
    let pruned = typed::remove_items(
        merged,
        &merged_set.difference(&pruned_set.union(&owned)),
        node,
    );
    // Add back what the applier did not own before (unowned or owned by updaters only).
    let pruned_set = set_of(&pruned);
    typed::remove_items(
        merged,
        &merged_set.difference(&pruned_set).intersection(&last),
        node,
    )
}

fn template(
    manager: &str,
    operation: Operation,
    api_version: &str,
    subresource: Option<&str>,
) -> Entry {
    Entry {
        manager: manager.to_owned(),
        operation,
        api_version: api_version.to_owned(),
        time: None,
        subresource: subresource.filter(|s| !s.is_empty()).map(str::to_owned),
        fields: FieldSet::new(),
    }
}

/// An updater's write: it takes every added or changed field from everyone, nobody keeps removed
/// fields, and its entry's time moves when it gained fields.
fn record(entries: &mut Vec<Entry>, me: Entry, comparison: &Comparison, now: &str) {
    let changed = comparison.modified.union(&comparison.added);
    for entry in entries.iter_mut() {
        entry.fields = entry
            .fields
            .difference(&changed)
            .difference(&comparison.removed);
    }
    let gained = changed.difference(&managed::strip_set());
    if !gained.is_empty() {
        match entries.iter_mut().find(|e| e.same_manager(&me)) {
            Some(entry) => {
                entry.fields = entry.fields.union(&gained);
                entry.time = Some(now.to_owned());
            }
            None => entries.push(Entry {
                fields: gained,
                time: Some(now.to_owned()),
                ..me
            }),
        }
    }
    entries.retain(|e| !e.fields.is_empty());
    cap_update_managers(entries);
}

/// `capManagersManager`: past ten updaters, the oldest merge into one `ancient-changes` entry per
/// API version.
fn cap_update_managers(entries: &mut Vec<Entry>) {
    let mut updaters: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].operation == Operation::Update)
        .collect();
    if updaters.len() <= MAX_UPDATE_MANAGERS {
        return;
    }
    let seconds = |e: &Entry| managed::seconds(e.time.as_deref());
    updaters.sort_by(|&a, &b| {
        seconds(&entries[a])
            .cmp(&seconds(&entries[b]))
            .then_with(|| entries[a].identity().cmp(&entries[b].identity()))
    });
    let mut remove = Vec::new();
    let mut first_of_version: Vec<(String, usize)> = Vec::new();
    let mut length = updaters.len();
    for &index in &updaters {
        if length <= MAX_UPDATE_MANAGERS {
            break;
        }
        let version = entries[index].api_version.clone();
        let Some(&(_, first)) = first_of_version.iter().find(|(v, _)| *v == version) else {
            first_of_version.push((version, index));
            continue;
        };
        let bucket_identity =
            template(ANCIENT_CHANGES, Operation::Update, &version, None).identity();
        let existing = (0..entries.len())
            .find(|&i| !remove.contains(&i) && entries[i].identity() == bucket_identity);
        // Merge into the existing bucket, else turn the version's oldest updater into it.
        let (bucket, merged_away) = match existing {
            Some(bucket) if bucket == index => (bucket, first),
            Some(bucket) => (bucket, index),
            None => (first, index),
        };
        let merged = entries[bucket].fields.union(&entries[merged_away].fields);
        let time = entries[index].time.clone();
        let target = &mut entries[bucket];
        target.manager = ANCIENT_CHANGES.to_owned();
        target.subresource = None;
        target.fields = merged;
        target.time = time;
        remove.push(merged_away);
        length -= 1;
    }
    remove.sort_unstable();
    for index in remove.into_iter().rev() {
        entries.remove(index);
    }
}

pub(crate) struct UpdateWrite<'a> {
    pub manager: &'a str,
    pub api_version: &'a str,
    pub subresource: Option<&'a str>,
    pub now: &'a str,
}

pub(crate) fn record_update(
    old: Option<&Value>,
    new: &mut Value,
    write: &UpdateWrite<'_>,
    rules: &MergeRules,
) {
    let from_old = || {
        old.and_then(|o| managed::decode(o).ok())
            .unwrap_or_default()
    };
    let subresource = write.subresource.filter(|s| !s.is_empty());
    let mut entries = if subresource.is_some() {
        // Subresource writes cannot set managedFields.
        from_old()
    } else if managed::is_reset_marker(new) {
        Vec::new()
    } else {
        match managed::decode(new) {
            Ok(entries) if !entries.is_empty() => entries,
            _ => from_old(),
        }
    };
    managed::strip(new);
    let mut old_object = old.cloned().unwrap_or_else(|| Value::Object(Map::new()));
    managed::strip(&mut old_object);
    let comparison = scoped(
        typed::compare(&old_object, new, &rules.root),
        scope(subresource, rules),
    );
    let me = template(
        write.manager,
        Operation::Update,
        write.api_version,
        subresource,
    );
    record(&mut entries, me, &comparison, write.now);
    managed::encode_into(new, &entries);
}
