//! Each provider's webhook payload read into a [`SourceEvent`]. Runs only on a body whose
//! signature verified ([`super::signature`]), yet treats it as untrusted: every field is optional
//! until an event needs it, names and texts are bounded, commits must look like commits, and no
//! error quotes the body.
//!
//! # What each provider's payload gives
//! | provider | event header | push commit | changed files |
//! |---|---|---|---|
//! | GitHub (and Enterprise) | `X-GitHub-Event` | `head_commit.id`, else `after` | `commits[].added/modified/removed` |
//! | Gitea, Forgejo | `X-Gitea-Event` (`X-Forgejo-Event`) | `head_commit.id`, else `after` | `commits[]…` |
//! | GitLab | `X-Gitlab-Event` | `checkout_sha`, else `after` | `commits[]…` |
//! | Bitbucket Cloud | `X-Event-Key` | `push.changes[0].new.target.hash` | none listed |
//! | generic | none: the body's `event` | `commit` | `changedFiles` |
//!
//! A commit id of all zeros means the ref was deleted. Pull requests list no changed files.

use axum::http::HeaderMap;
use serde_json::Value;

use crate::api::pipeline::WebhookProvider;

use super::event::{EventKind, PullRequestAction, SourceEvent};

/// The most changed files kept; a push touching more lists none, so a `filePaths` filter says so
/// rather than judging part of the list.
pub const MAX_CHANGED_FILES: usize = 5000;

/// The longest branch or tag name taken (git allows more, hosts rarely do).
const MAX_REF_NAME: usize = 255;

/// Why a verified body could not be read. Messages name fields, never their values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The provider's event header is absent.
    #[error("the {header} header is missing: it names the event")]
    MissingHeader {
        /// The header expected.
        header: &'static str,
    },
    /// The body is not JSON.
    #[error("the body is not JSON (line {line}, column {column})")]
    NotJson {
        /// Where parsing stopped.
        line: usize,
        /// Where parsing stopped.
        column: usize,
    },
    /// A field the event needs is absent.
    #[error("the payload has no {field}")]
    Missing {
        /// The JSON path of the field.
        field: &'static str,
    },
    /// A field is present but not what the event needs.
    #[error("the payload's {field} is not {expected}")]
    Invalid {
        /// The JSON path of the field.
        field: &'static str,
        /// What it should be.
        expected: &'static str,
    },
}

/// Reads a verified delivery of `provider`.
pub fn parse(
    provider: WebhookProvider,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<SourceEvent, PayloadError> {
    let event_header = match provider {
        WebhookProvider::Github => Some(header(headers, &["X-GitHub-Event"], "X-GitHub-Event")?),
        WebhookProvider::Gitea => Some(header(headers, &["X-Gitea-Event"], "X-Gitea-Event")?),
        WebhookProvider::Forgejo => Some(header(
            headers,
            &["X-Forgejo-Event", "X-Gitea-Event"],
            "X-Forgejo-Event",
        )?),
        WebhookProvider::Gitlab => Some(header(headers, &["X-Gitlab-Event"], "X-Gitlab-Event")?),
        WebhookProvider::Bitbucket => Some(header(headers, &["X-Event-Key"], "X-Event-Key")?),
        WebhookProvider::Generic => None,
    };
    let body: Value = serde_json::from_slice(body).map_err(|error| PayloadError::NotJson {
        line: error.line(),
        column: error.column(),
    })?;
    if !body.is_object() {
        return Err(PayloadError::Invalid {
            field: "body",
            expected: "a JSON object",
        });
    }
    let event_name = event_header.unwrap_or_default();
    match provider {
        WebhookProvider::Github | WebhookProvider::Gitea | WebhookProvider::Forgejo => {
            github_like(event_name, &body)
        }
        WebhookProvider::Gitlab => gitlab(event_name, &body),
        WebhookProvider::Bitbucket => bitbucket(event_name, &body),
        WebhookProvider::Generic => generic(&body),
    }
}

/// The first of `names` present, printable and short.
fn header(
    headers: &HeaderMap,
    names: &[&str],
    expected: &'static str,
) -> Result<String, PayloadError> {
    names
        .iter()
        .find_map(|name| headers.get(*name))
        .and_then(|value| value.to_str().ok())
        .map(|value| text(value, 64))
        .filter(|value| !value.is_empty())
        .ok_or(PayloadError::MissingHeader { header: expected })
}

/// GitHub, GitHub Enterprise, Gitea and Forgejo: the same payload shapes.
fn github_like(event_name: String, body: &Value) -> Result<SourceEvent, PayloadError> {
    let repository = string_at(body, &["repository", "full_name"]).map(|name| text(name, 255));
    match event_name.as_str() {
        "ping" => Ok(SourceEvent {
            kind: EventKind::Ping,
            event_name,
            repository,
            ..SourceEvent::default()
        }),
        "push" => {
            let reference =
                string_at(body, &["ref"]).ok_or(PayloadError::Missing { field: "ref" })?;
            let after = commit_at(body, &["after"], "after")?;
            let head = body.get("head_commit").filter(|head| head.is_object());
            let commits = body.get("commits").and_then(Value::as_array);
            // Gitea sends no head_commit: the pushed head is the commit whose id is `after`.
            let head = head.or_else(|| {
                commits.and_then(|commits| {
                    commits
                        .iter()
                        .find(|c| string_at(c, &["id"]) == after.as_deref())
                        .or(commits.last())
                })
            });
            let commit = match head {
                Some(head) => commit_at(head, &["id"], "head_commit.id")?.or(after.clone()),
                None => after.clone(),
            };
            let deleted = body
                .get("deleted")
                .and_then(Value::as_bool)
                .unwrap_or(false)
                || after.is_none();
            let kind = ref_kind(reference, deleted)?;
            Ok(SourceEvent {
                kind,
                event_name,
                commit: if deleted { None } else { commit },
                changed_files: commits
                    .map(|commits| changed_files(commits))
                    .transpose()?
                    .flatten(),
                actor: first_string(
                    body,
                    &[
                        &["pusher", "name"],
                        &["pusher", "login"],
                        &["pusher", "username"],
                        &["sender", "login"],
                    ],
                ),
                repository,
                commit_message: message_of(head),
                author_date: date_of(head, "timestamp"),
            })
        }
        "pull_request" => {
            let action = match string_at(body, &["action"]) {
                Some("opened" | "reopened") => PullRequestAction::Open,
                Some("synchronize" | "synchronized") => PullRequestAction::Updated,
                Some("closed") => PullRequestAction::Closed,
                Some(_) => PullRequestAction::Other,
                None => return Err(PayloadError::Missing { field: "action" }),
            };
            let pull_request = body.get("pull_request").filter(|pr| pr.is_object()).ok_or(
                PayloadError::Missing {
                    field: "pull_request",
                },
            )?;
            Ok(SourceEvent {
                kind: EventKind::PullRequest {
                    action,
                    number: pull_request
                        .get("number")
                        .or(body.get("number"))
                        .and_then(Value::as_u64),
                    source_branch: ref_name_at(
                        pull_request,
                        &["head", "ref"],
                        "pull_request.head.ref",
                    )?,
                    target_branch: ref_name_at(
                        pull_request,
                        &["base", "ref"],
                        "pull_request.base.ref",
                    )?,
                },
                event_name,
                commit: commit_at(pull_request, &["head", "sha"], "pull_request.head.sha")?,
                changed_files: None,
                actor: first_string(
                    body,
                    &[&["pull_request", "user", "login"], &["sender", "login"]],
                ),
                repository,
                commit_message: None,
                author_date: None,
            })
        }
        _ => Ok(unsupported(event_name, repository)),
    }
}

/// GitLab's push, tag push and merge request hooks.
fn gitlab(event_name: String, body: &Value) -> Result<SourceEvent, PayloadError> {
    let repository =
        string_at(body, &["project", "path_with_namespace"]).map(|name| text(name, 255));
    let actor = first_string(
        body,
        &[
            &["user_username"],
            &["user_name"],
            &["user", "username"],
            &["user", "name"],
        ],
    );
    match event_name.as_str() {
        "Push Hook" | "Tag Push Hook" => {
            let reference =
                string_at(body, &["ref"]).ok_or(PayloadError::Missing { field: "ref" })?;
            let after = commit_at(body, &["after"], "after")?;
            // A tag's `after` may be the tag object; `checkout_sha` is the commit either way.
            let commit = commit_at(body, &["checkout_sha"], "checkout_sha")?.or(after.clone());
            let deleted = after.is_none();
            let commits = body.get("commits").and_then(Value::as_array);
            let head = commits.and_then(|commits| {
                commits
                    .iter()
                    .find(|c| string_at(c, &["id"]) == commit.as_deref())
            });
            Ok(SourceEvent {
                kind: ref_kind(reference, deleted)?,
                event_name,
                commit: if deleted { None } else { commit },
                changed_files: commits
                    .map(|commits| changed_files(commits))
                    .transpose()?
                    .flatten(),
                actor,
                repository,
                commit_message: message_of(head),
                author_date: date_of(head, "timestamp"),
            })
        }
        "Merge Request Hook" => {
            let attributes = body
                .get("object_attributes")
                .filter(|a| a.is_object())
                .ok_or(PayloadError::Missing {
                    field: "object_attributes",
                })?;
            let action = match string_at(attributes, &["action"]) {
                Some("open" | "reopen") => PullRequestAction::Open,
                // An update without `oldrev` changed the description or labels, not the code.
                Some("update") if attributes.get("oldrev").is_some_and(Value::is_string) => {
                    PullRequestAction::Updated
                }
                Some("close" | "merge") => PullRequestAction::Closed,
                _ => PullRequestAction::Other,
            };
            Ok(SourceEvent {
                kind: EventKind::PullRequest {
                    action,
                    number: attributes.get("iid").and_then(Value::as_u64),
                    source_branch: ref_name_at(
                        attributes,
                        &["source_branch"],
                        "object_attributes.source_branch",
                    )?,
                    target_branch: ref_name_at(
                        attributes,
                        &["target_branch"],
                        "object_attributes.target_branch",
                    )?,
                },
                event_name,
                commit: commit_at(
                    attributes,
                    &["last_commit", "id"],
                    "object_attributes.last_commit.id",
                )?,
                changed_files: None,
                actor,
                repository,
                commit_message: message_of(attributes.get("last_commit")),
                author_date: date_of(attributes.get("last_commit"), "timestamp"),
            })
        }
        _ => Ok(unsupported(event_name, repository)),
    }
}

/// Bitbucket Cloud's repository push and pull request events.
fn bitbucket(event_name: String, body: &Value) -> Result<SourceEvent, PayloadError> {
    let repository = string_at(body, &["repository", "full_name"]).map(|name| text(name, 255));
    let actor = first_string(
        body,
        &[
            &["actor", "display_name"],
            &["actor", "nickname"],
            &["actor", "username"],
        ],
    );
    match event_name.as_str() {
        "diagnostics:ping" => Ok(SourceEvent {
            kind: EventKind::Ping,
            event_name,
            repository,
            ..SourceEvent::default()
        }),
        "repo:push" => {
            // One delivery may carry several refs; the first is the event (see the README).
            let change = body
                .get("push")
                .and_then(|push| push.get("changes"))
                .and_then(Value::as_array)
                .and_then(|changes| changes.first())
                .ok_or(PayloadError::Missing {
                    field: "push.changes",
                })?;
            let new = change.get("new").filter(|new| new.is_object());
            let side = new
                .or(change.get("old").filter(|old| old.is_object()))
                .ok_or(PayloadError::Missing {
                    field: "push.changes[0].new",
                })?;
            let name = ref_name_at(side, &["name"], "push.changes[0].new.name")?;
            let deleted = new.is_none();
            let kind = match string_at(side, &["type"]) {
                Some("branch" | "named_branch") => EventKind::Push {
                    branch: name,
                    deleted,
                },
                Some("tag") => EventKind::Tag { tag: name, deleted },
                _ => EventKind::Unsupported,
            };
            let target = new.and_then(|new| new.get("target"));
            Ok(SourceEvent {
                kind,
                event_name,
                commit: match target {
                    Some(target) => {
                        commit_at(target, &["hash"], "push.changes[0].new.target.hash")?
                    }
                    None => None,
                },
                changed_files: None,
                actor,
                repository,
                commit_message: message_of(target),
                author_date: date_of(target, "date"),
            })
        }
        key if key.starts_with("pullrequest:") => {
            let action = match key {
                "pullrequest:created" => PullRequestAction::Open,
                "pullrequest:updated" => PullRequestAction::Updated,
                "pullrequest:fulfilled" | "pullrequest:rejected" => PullRequestAction::Closed,
                _ => PullRequestAction::Other,
            };
            let pull_request = body.get("pullrequest").filter(|pr| pr.is_object()).ok_or(
                PayloadError::Missing {
                    field: "pullrequest",
                },
            )?;
            Ok(SourceEvent {
                kind: EventKind::PullRequest {
                    action,
                    number: pull_request.get("id").and_then(Value::as_u64),
                    source_branch: ref_name_at(
                        pull_request,
                        &["source", "branch", "name"],
                        "pullrequest.source.branch.name",
                    )?,
                    target_branch: ref_name_at(
                        pull_request,
                        &["destination", "branch", "name"],
                        "pullrequest.destination.branch.name",
                    )?,
                },
                event_name,
                commit: commit_at(
                    pull_request,
                    &["source", "commit", "hash"],
                    "pullrequest.source.commit.hash",
                )?,
                changed_files: None,
                actor,
                repository,
                commit_message: None,
                author_date: None,
            })
        }
        _ => Ok(unsupported(event_name, repository)),
    }
}

/// Slipway's generic JSON: `{"event": "push" | "tag" | "pullRequest" | "ping", …}`.
fn generic(body: &Value) -> Result<SourceEvent, PayloadError> {
    let event_name = string_at(body, &["event"])
        .map(|name| text(name, 64))
        .ok_or(PayloadError::Missing { field: "event" })?;
    let deleted = body
        .get("deleted")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let commit = commit_at(body, &["commit"], "commit")?;
    let kind = match event_name.as_str() {
        "ping" => EventKind::Ping,
        "push" => EventKind::Push {
            branch: ref_name_at(body, &["branch"], "branch")?,
            deleted,
        },
        "tag" => EventKind::Tag {
            tag: ref_name_at(body, &["tag"], "tag")?,
            deleted,
        },
        "pullRequest" => {
            let pull_request = body.get("pullRequest").filter(|pr| pr.is_object()).ok_or(
                PayloadError::Missing {
                    field: "pullRequest",
                },
            )?;
            EventKind::PullRequest {
                action: match string_at(pull_request, &["action"]) {
                    Some("opened") => PullRequestAction::Open,
                    Some("updated") => PullRequestAction::Updated,
                    Some("closed") => PullRequestAction::Closed,
                    Some(_) => PullRequestAction::Other,
                    None => {
                        return Err(PayloadError::Missing {
                            field: "pullRequest.action",
                        });
                    }
                },
                number: pull_request.get("number").and_then(Value::as_u64),
                source_branch: ref_name_at(
                    pull_request,
                    &["sourceBranch"],
                    "pullRequest.sourceBranch",
                )?,
                target_branch: ref_name_at(
                    pull_request,
                    &["targetBranch"],
                    "pullRequest.targetBranch",
                )?,
            }
        }
        _ => EventKind::Unsupported,
    };
    let changed_files = match body.get("changedFiles") {
        None | Some(Value::Null) => None,
        Some(Value::Array(files)) => paths(files, "changedFiles")?,
        Some(_) => {
            return Err(PayloadError::Invalid {
                field: "changedFiles",
                expected: "a list of paths",
            });
        }
    };
    Ok(SourceEvent {
        kind,
        event_name,
        commit: if deleted { None } else { commit },
        changed_files,
        actor: first_string(body, &[&["actor"]]),
        repository: string_at(body, &["repository"]).map(|name| text(name, 255)),
        commit_message: string_at(body, &["message"]).map(first_line),
        author_date: None,
    })
}

fn unsupported(event_name: String, repository: Option<String>) -> SourceEvent {
    SourceEvent {
        kind: EventKind::Unsupported,
        event_name,
        repository,
        ..SourceEvent::default()
    }
}

/// `refs/heads/x` or `refs/tags/x`; any other ref is an event Slipway does not run.
fn ref_kind(reference: &str, deleted: bool) -> Result<EventKind, PayloadError> {
    let kind = if let Some(branch) = reference.strip_prefix("refs/heads/") {
        EventKind::Push {
            branch: ref_name(branch, "ref")?,
            deleted,
        }
    } else if let Some(tag) = reference.strip_prefix("refs/tags/") {
        EventKind::Tag {
            tag: ref_name(tag, "ref")?,
            deleted,
        }
    } else {
        EventKind::Unsupported
    };
    Ok(kind)
}

/// The union of the commits' added, modified and removed paths, first seen first; `None` past
/// [`MAX_CHANGED_FILES`].
fn changed_files(commits: &[Value]) -> Result<Option<Vec<String>>, PayloadError> {
    let mut all = Vec::new();
    for commit in commits {
        for (list, field) in [
            ("added", "commits[].added"),
            ("modified", "commits[].modified"),
            ("removed", "commits[].removed"),
        ] {
            match commit.get(list) {
                None | Some(Value::Null) => {}
                Some(Value::Array(files)) => match paths(files, field)? {
                    Some(files) => all.extend(files),
                    None => return Ok(None),
                },
                Some(_) => {
                    return Err(PayloadError::Invalid {
                        field,
                        expected: "a list of paths",
                    });
                }
            }
            if all.len() > MAX_CHANGED_FILES {
                return Ok(None);
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    all.retain(|file| seen.insert(file.clone()));
    Ok(Some(all))
}

/// A list of paths; `None` past [`MAX_CHANGED_FILES`].
fn paths(files: &[Value], field: &'static str) -> Result<Option<Vec<String>>, PayloadError> {
    if files.len() > MAX_CHANGED_FILES {
        return Ok(None);
    }
    files
        .iter()
        .map(|file| {
            file.as_str()
                .filter(|path| !path.is_empty() && path.len() <= 4096)
                .map(str::to_owned)
                .ok_or(PayloadError::Invalid {
                    field,
                    expected: "a list of paths",
                })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// A commit id at `path`: `None` when absent, null or all zeros (a deleted ref); an error when it
/// is not 7–64 hex digits.
fn commit_at(
    value: &Value,
    path: &[&str],
    field: &'static str,
) -> Result<Option<String>, PayloadError> {
    let Some(found) = at(value, path).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let id = found
        .as_str()
        .filter(|id| (7..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or(PayloadError::Invalid {
            field,
            expected: "a commit id (7 to 64 hex digits)",
        })?;
    Ok((!id.bytes().all(|b| b == b'0')).then(|| id.to_ascii_lowercase()))
}

/// A branch or tag name at `path`, required.
fn ref_name_at(value: &Value, path: &[&str], field: &'static str) -> Result<String, PayloadError> {
    let name = at(value, path)
        .and_then(Value::as_str)
        .ok_or(PayloadError::Missing { field })?;
    ref_name(name, field)
}

/// A branch or tag name: non-empty, bounded, no control characters.
fn ref_name(name: &str, field: &'static str) -> Result<String, PayloadError> {
    if name.is_empty() || name.len() > MAX_REF_NAME || name.chars().any(char::is_control) {
        return Err(PayloadError::Invalid {
            field,
            expected: "a branch or tag name (1 to 255 bytes, no control characters)",
        });
    }
    Ok(name.to_owned())
}

fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |value, key| value.get(key))
}

fn string_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(value, path).and_then(Value::as_str)
}

/// The first non-empty string among `paths`, bounded.
fn first_string(value: &Value, paths: &[&[&str]]) -> Option<String> {
    paths
        .iter()
        .filter_map(|path| string_at(value, path))
        .map(|found| text(found, 256))
        .find(|found| !found.is_empty())
}

/// The first line of `commit`'s message.
fn message_of(commit: Option<&Value>) -> Option<String> {
    commit
        .and_then(|commit| string_at(commit, &["message"]))
        .map(first_line)
}

/// `commit`'s date under `key`, bounded.
fn date_of(commit: Option<&Value>, key: &str) -> Option<String> {
    commit
        .and_then(|commit| string_at(commit, &[key]))
        .map(|date| text(date, 64))
}

/// A message's first line, bounded.
fn first_line(message: &str) -> String {
    text(message.lines().next().unwrap_or_default(), 1024)
}

/// `value` without control characters, cut to `limit` characters.
fn text(value: &str, limit: usize) -> String {
    value
        .chars()
        .filter(|c| !c.is_control())
        .take(limit)
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
#[path = "payload_tests.rs"]
mod tests;
