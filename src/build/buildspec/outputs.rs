//! What a build leaves behind: `artifacts` (with `secondary-artifacts`), `reports`, `cache`,
//! and the `proxy` switches.

use super::diagnostics::Position;
use super::model::{
    ArtifactSet, Artifacts, BuildSpecVersion, Cache, CacheAction, Proxy, ReportFileFormat,
    ReportGroup, SecondaryArtifact,
};
use super::parse::{Fields, Walker};
use super::phases::warn_about_powershell;
use super::suggest::closest_key;
use super::yaml::Node;

/// The keys of `artifacts` (`type` is version 0.1's packaging switch, ignored since 0.2).
const ARTIFACT_KEYS: &[&str] = &[
    "files",
    "name",
    "discard-paths",
    "base-directory",
    "exclude-paths",
    "enable-symlinks",
    "s3-prefix",
    "secondary-artifacts",
    "type",
];

/// The keys of one secondary artifact: those of `artifacts` without nesting.
const SECONDARY_ARTIFACT_KEYS: &[&str] = &[
    "files",
    "name",
    "discard-paths",
    "base-directory",
    "exclude-paths",
    "enable-symlinks",
    "s3-prefix",
];

/// The keys of one report group.
const REPORT_KEYS: &[&str] = &["files", "base-directory", "discard-paths", "file-format"];

/// The keys of `cache`.
const CACHE_KEYS: &[&str] = &["paths", "key", "fallback-keys", "action"];

/// The keys of `proxy`.
const PROXY_KEYS: &[&str] = &["upload-artifacts", "logs"];

/// `artifacts`, whose key is at `key_position`.
pub(crate) fn artifacts(
    walker: &mut Walker,
    key_position: Position,
    node: &Node,
) -> Option<Artifacts> {
    let fields = walker.fields(node, "artifacts", ARTIFACT_KEYS)?;
    if let (BuildSpecVersion::V0_2, Some((key, _))) = (walker.version, fields.entry("type")) {
        walker.diagnostics.warning(
            key.position,
            "`artifacts.type` is a version 0.1 setting and is ignored in version 0.2",
            "remove `type`; the artifact store decides the packaging",
        );
    }
    let primary = artifact_set(walker, key_position, &fields, "artifacts");
    let mut secondary_artifacts = Vec::new();
    if let Some(node) = fields.get("secondary-artifacts") {
        for (identifier, key, value) in walker
            .entries(node, "artifacts.secondary-artifacts")
            .unwrap_or_default()
        {
            let path = format!("artifacts.secondary-artifacts.{identifier}");
            let Some(fields) = walker.fields(value, &path, SECONDARY_ARTIFACT_KEYS) else {
                continue;
            };
            secondary_artifacts.push(SecondaryArtifact {
                identifier: identifier.to_owned(),
                set: artifact_set(walker, key.position, &fields, &path),
            });
        }
    }
    Some(Artifacts {
        primary,
        secondary_artifacts,
    })
}

/// The settings shared by the primary and each secondary artifact.
fn artifact_set(
    walker: &mut Walker,
    key_position: Position,
    fields: &Fields,
    path: &str,
) -> ArtifactSet {
    let files = match fields.get("files") {
        Some(node) => texts(walker, node, &format!("{path}.files")),
        None => {
            walker.diagnostics.error(
                key_position,
                format!("`{path}` has no `files`; CodeBuild requires it even when only secondary artifacts are defined"),
                format!("add `files:` under `{path}` with `- '**/*'` or the paths to keep"),
            );
            Vec::new()
        }
    };
    let exclude_paths = match fields.get("exclude-paths") {
        // A single glob is common enough here to accept without a list.
        Some(node) if !matches!(node.kind, super::yaml::NodeKind::Sequence(_)) => walker
            .text(node, &format!("{path}.exclude-paths"))
            .into_iter()
            .collect(),
        Some(node) => texts(walker, node, &format!("{path}.exclude-paths")),
        None => Vec::new(),
    };
    ArtifactSet {
        files,
        name: optional_text(walker, fields, "name", path),
        base_directory: optional_path(walker, fields, "base-directory", path),
        discard_paths: switch(walker, fields, "discard-paths", path),
        exclude_paths,
        enable_symlinks: switch(walker, fields, "enable-symlinks", path),
        s3_prefix: optional_text(walker, fields, "s3-prefix", path),
    }
}

/// `reports`: report groups by name or ARN.
pub(crate) fn reports(walker: &mut Walker, node: &Node) -> Vec<ReportGroup> {
    let mut groups = Vec::new();
    for (name, key, value) in walker.entries(node, "reports").unwrap_or_default() {
        let path = format!("reports.{name}");
        let Some(fields) = walker.fields(value, &path, REPORT_KEYS) else {
            continue;
        };
        let files = match fields.get("files") {
            Some(node) => texts(walker, node, &format!("{path}.files")),
            None => {
                walker.diagnostics.error(
                    key.position,
                    format!("report group `{name}` has no `files`"),
                    format!("add `files:` under `{path}` listing the report files, such as `- '**/*.xml'`"),
                );
                Vec::new()
            }
        };
        groups.push(ReportGroup {
            name: name.to_owned(),
            files,
            base_directory: optional_path(walker, &fields, "base-directory", &path),
            discard_paths: switch(walker, &fields, "discard-paths", &path),
            file_format: fields
                .get("file-format")
                .and_then(|node| file_format(walker, node, &format!("{path}.file-format")))
                .unwrap_or_default(),
        });
    }
    groups
}

/// `file-format`, case-insensitive.
fn file_format(walker: &mut Walker, node: &Node, path: &str) -> Option<ReportFileFormat> {
    let text = walker.text(node, path)?;
    let upper = text.to_ascii_uppercase();
    if let Some((format, _)) = ReportFileFormat::ALL
        .iter()
        .find(|(_, name)| *name == upper)
    {
        return Some(*format);
    }
    let names: Vec<&str> = ReportFileFormat::ALL
        .iter()
        .map(|(_, name)| *name)
        .collect();
    let fix = match closest_key(&text, &names) {
        Some(name) => format!("write `file-format: {name}`"),
        None => format!("use one of {}", names.join(", ")),
    };
    walker.diagnostics.error(
        node.position,
        format!("unknown report file format `{text}`"),
        fix,
    );
    None
}

/// `cache`, whose key is at `key_position`.
pub(crate) fn cache(walker: &mut Walker, key_position: Position, node: &Node) -> Option<Cache> {
    let fields = walker.fields(node, "cache", CACHE_KEYS)?;
    let paths = match fields.get("paths") {
        Some(node) => texts(walker, node, "cache.paths"),
        None => {
            walker.diagnostics.error(
                key_position,
                "`cache` has no `paths`",
                "add `paths:` under `cache` listing the directories to keep, such as `- '/root/.m2/**/*'`",
            );
            Vec::new()
        }
    };
    let key = optional_text(walker, &fields, "key", "cache");
    let fallback_keys = match fields.entry("fallback-keys") {
        Some((fallback_key, node)) => {
            if key.is_none() {
                walker.diagnostics.warning(
                    fallback_key.position,
                    "`cache.fallback-keys` is ignored without `cache.key`",
                    "add `key:` under `cache`, or remove `fallback-keys`",
                );
            }
            texts(walker, node, "cache.fallback-keys")
        }
        None => Vec::new(),
    };
    let action = match fields.get("action") {
        Some(node) => match walker.text(node, "cache.action").as_deref() {
            Some("restore") => CacheAction::Restore,
            Some("save") => CacheAction::Save,
            None => CacheAction::RestoreAndSave,
            Some(other) => {
                walker.diagnostics.error(
                    node.position,
                    format!("`cache.action` must be `restore` or `save`, found `{other}`"),
                    "write `action: restore` or `action: save`, or remove it to do both",
                );
                CacheAction::RestoreAndSave
            }
        },
        None => CacheAction::RestoreAndSave,
    };
    Some(Cache {
        paths,
        key,
        fallback_keys,
        action,
    })
}

/// `proxy`.
pub(crate) fn proxy(walker: &mut Walker, node: &Node) -> Proxy {
    let Some(fields) = walker.fields(node, "proxy", PROXY_KEYS) else {
        return Proxy::default();
    };
    Proxy {
        upload_artifacts: switch(walker, &fields, "upload-artifacts", "proxy"),
        logs: switch(walker, &fields, "logs", "proxy"),
    }
}

/// A list of paths or globs, as plain strings.
fn texts(walker: &mut Walker, node: &Node, path: &str) -> Vec<String> {
    walker
        .text_list(node, path)
        .into_iter()
        .map(|text| text.value)
        .collect()
}

/// An optional single value under `key`.
fn optional_text(walker: &mut Walker, fields: &Fields, key: &str, path: &str) -> Option<String> {
    fields
        .get(key)
        .and_then(|node| walker.text(node, &format!("{path}.{key}")))
}

/// An optional directory, checked for Windows-only syntax.
fn optional_path(walker: &mut Walker, fields: &Fields, key: &str, path: &str) -> Option<String> {
    let node = fields.get(key)?;
    let path = format!("{path}.{key}");
    let text = walker.text(node, &path)?;
    warn_about_powershell(walker, node.position, &text, &path);
    Some(text)
}

/// A yes/no switch under `key`, `false` when absent.
fn switch(walker: &mut Walker, fields: &Fields, key: &str, path: &str) -> bool {
    fields
        .get(key)
        .and_then(|node| walker.boolean(node, &format!("{path}.{key}")))
        .unwrap_or(false)
}
