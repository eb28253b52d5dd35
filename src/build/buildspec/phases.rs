//! `phases`: install, pre_build, build and post_build, each with `run-as`, `on-failure`,
//! `runtime-versions`, `commands` and `finally`.

use super::diagnostics::Position;
use super::model::{Command, OnFailure, Phase, PhaseName, Phases};
use super::parse::Walker;
use super::yaml::{Node, NodeKind};

/// The keys of one phase.
const PHASE_KEYS: &[&str] = &[
    "run-as",
    "on-failure",
    "runtime-versions",
    "commands",
    "finally",
];

/// The phase names, as written.
const PHASE_NAMES: &[&str] = &["install", "pre_build", "build", "post_build"];

/// `phases`, whose key is at `key_position`.
pub(crate) fn phases(walker: &mut Walker, key_position: Position, node: &Node) -> Phases {
    let mut phases = Phases::default();
    let Some(fields) = walker.fields(node, "phases", PHASE_NAMES) else {
        return phases;
    };
    for name in PhaseName::ALL {
        let Some((key, value)) = fields.entry(name.key()) else {
            continue;
        };
        let phase = Some(phase(walker, name, key.position, value));
        match name {
            PhaseName::Install => phases.install = phase,
            PhaseName::PreBuild => phases.pre_build = phase,
            PhaseName::Build => phases.build = phase,
            PhaseName::PostBuild => phases.post_build = phase,
        }
    }
    if phases.iter().next().is_none() {
        walker.diagnostics.error(
            key_position,
            "`phases` has none of install, pre_build, build, post_build, so the build would run nothing",
            "add a `build:` phase with `commands:` under `phases:`",
        );
    }
    phases
}

/// One phase.
fn phase(walker: &mut Walker, name: PhaseName, key_position: Position, node: &Node) -> Phase {
    let path = format!("phases.{}", name.key());
    if node.kind == NodeKind::Null {
        walker.diagnostics.warning(
            key_position,
            format!("`{path}` is empty, so the phase runs nothing"),
            format!("add `commands:` under `{path}`, or remove it"),
        );
        return Phase::default();
    }
    let Some(fields) = walker.fields(node, &path, PHASE_KEYS) else {
        return Phase::default();
    };
    let runtime_versions = match fields.entry("runtime-versions") {
        Some((key, value)) => {
            if name != PhaseName::Install {
                walker.diagnostics.warning(
                    key.position,
                    format!("`runtime-versions` is only read in the install phase; it is ignored in `{path}`"),
                    "move `runtime-versions` to `phases.install`",
                );
            }
            let versions = walker.variables(value, &format!("{path}.runtime-versions"));
            if versions.is_empty() && matches!(value.kind, NodeKind::Mapping(_) | NodeKind::Null) {
                walker.diagnostics.error(
                    key.position,
                    format!("`{path}.runtime-versions` names no runtime"),
                    "list at least one runtime, such as `nodejs: 18`, or remove `runtime-versions`",
                );
            }
            versions
        }
        None => Vec::new(),
    };
    let command_list = match fields.entry("commands") {
        Some((key, value)) => {
            if value.kind == NodeKind::Null {
                walker.diagnostics.warning(
                    key.position,
                    format!("`{path}.commands` is empty, so the phase runs no commands"),
                    format!(
                        "list commands under `{path}.commands`, or remove the `commands:` line"
                    ),
                );
            }
            commands(walker, value, &format!("{path}.commands"))
        }
        None => Vec::new(),
    };
    Phase {
        run_as: fields
            .get("run-as")
            .and_then(|value| walker.text(value, &format!("{path}.run-as"))),
        on_failure: fields
            .get("on-failure")
            .and_then(|value| on_failure(walker, value, &format!("{path}.on-failure"))),
        runtime_versions,
        commands: command_list,
        finally: fields
            .get("finally")
            .map(|value| commands(walker, value, &format!("{path}.finally")))
            .unwrap_or_default(),
    }
}

/// A list of commands; each is a string (a block scalar is one multi-line command).
fn commands(walker: &mut Walker, node: &Node, path: &str) -> Vec<Command> {
    let commands: Vec<Command> = walker
        .text_list(node, path)
        .into_iter()
        .map(|command| Command {
            text: command.value,
            position: command.position,
        })
        .collect();
    for command in &commands {
        warn_about_powershell(walker, command.position, &command.text, path);
    }
    commands
}

/// Warns when a value uses PowerShell's `$env:NAME`, a sign of a Windows buildspec without
/// `env.shell`: Slipway's Linux shell would expand `$env` (empty) followed by `:NAME`.
pub(crate) fn warn_about_powershell(walker: &mut Walker, at: Position, text: &str, path: &str) {
    let lowercase = text.to_ascii_lowercase();
    let Some(start) = lowercase
        .match_indices("$env:")
        .map(|(start, _)| start)
        .find(|start| {
            lowercase[start + 5..]
                .starts_with(|character: char| character == '_' || character.is_ascii_alphabetic())
        })
    else {
        return;
    };
    let reference: String = text[start..]
        .chars()
        .take_while(|character| !character.is_whitespace() && !"\"'/\\;)".contains(*character))
        .collect();
    walker.diagnostics.warning(
        at,
        format!("`{path}` uses `{reference}`, PowerShell syntax; Slipway runs commands in a Linux shell, where it expands to `:{}`", &reference[5..]),
        format!("write `${}` for a Linux shell", &reference[5..]),
    );
}

/// `on-failure`: `ABORT`, `CONTINUE`, `RETRY`, `RETRY-<count>`, `RETRY-<regex>` or
/// `RETRY-<count>-<regex>` (case-insensitive keyword).
fn on_failure(walker: &mut Walker, node: &Node, path: &str) -> Option<OnFailure> {
    let text = walker.text(node, path)?;
    let parsed = parse_on_failure(&text);
    if parsed.is_none() {
        walker.diagnostics.error(
            node.position,
            format!("`{path}` must be ABORT, CONTINUE or RETRY[-count][-regex], found `{text}`"),
            "write `on-failure: ABORT` or `on-failure: CONTINUE`",
        );
    }
    parsed
}

/// Parses an `on-failure` value; `None` when it is not one CodeBuild accepts.
pub(crate) fn parse_on_failure(text: &str) -> Option<OnFailure> {
    let text = text.trim();
    let upper = text.to_ascii_uppercase();
    match upper.as_str() {
        "ABORT" => return Some(OnFailure::Abort),
        "CONTINUE" => return Some(OnFailure::Continue),
        "RETRY" => {
            return Some(OnFailure::Retry {
                count: 3,
                pattern: None,
            });
        }
        _ => {}
    }
    if !upper.starts_with("RETRY-") {
        return None;
    }
    // Keep the pattern's original case: only the keyword is case-insensitive.
    let rest = &text["RETRY-".len()..];
    if rest.is_empty() {
        return None;
    }
    let (count, pattern) = match rest.split_once('-') {
        Some((count, pattern)) if count.parse::<u32>().is_ok() => {
            (count.parse().ok(), Some(pattern))
        }
        _ if rest.parse::<u32>().is_ok() => (rest.parse().ok(), None),
        _ => (None, Some(rest)),
    };
    let count = count.unwrap_or(3);
    let pattern = pattern
        .filter(|pattern| !pattern.is_empty())
        .map(str::to_owned);
    (count <= 100).then_some(OnFailure::Retry { count, pattern })
}
