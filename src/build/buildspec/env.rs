//! `env` (0.2) and `environment_variables` (0.1): shell, variables, parameter and secret
//! references, exported variables and the git credential helper.

use super::model::{Env, Located, SecretReference, Shell, Variable};
use super::parse::{VariableEntry, Walker};
use super::yaml::Node;

/// The keys of `env`.
const ENV_KEYS: &[&str] = &[
    "shell",
    "variables",
    "parameter-store",
    "secrets-manager",
    "exported-variables",
    "git-credential-helper",
];

/// The keys of version 0.1's `environment_variables`.
const ENVIRONMENT_VARIABLES_KEYS: &[&str] = &["plaintext", "parameter-store"];

/// `env`.
pub(crate) fn env(walker: &mut Walker, node: &Node) -> Env {
    let Some(fields) = walker.fields(node, "env", ENV_KEYS) else {
        return Env::default();
    };
    let variables = fields
        .get("variables")
        .map(|node| checked_variables(walker, node, "env.variables"))
        .unwrap_or_default();
    let parameter_store = fields
        .get("parameter-store")
        .map(|node| checked_variables(walker, node, "env.parameter-store"))
        .unwrap_or_default();
    let secrets_manager = fields
        .get("secrets-manager")
        .map(|node| secrets(walker, node))
        .unwrap_or_default();
    let exported_variables = fields
        .get("exported-variables")
        .map(|node| exported(walker, node))
        .unwrap_or_default();
    Env {
        shell: fields.get("shell").and_then(|node| shell(walker, node)),
        variables,
        parameter_store,
        secrets_manager,
        exported_variables,
        git_credential_helper: fields
            .get("git-credential-helper")
            .and_then(|node| walker.boolean(node, "env.git-credential-helper"))
            .unwrap_or(false),
    }
}

/// Version 0.1's `environment_variables`: `plaintext` is 0.2's `variables`.
pub(crate) fn environment_variables(walker: &mut Walker, node: &Node) -> Env {
    let Some(fields) = walker.fields(node, "environment_variables", ENVIRONMENT_VARIABLES_KEYS)
    else {
        return Env::default();
    };
    Env {
        variables: fields
            .get("plaintext")
            .map(|node| checked_variables(walker, node, "environment_variables.plaintext"))
            .unwrap_or_default(),
        parameter_store: fields
            .get("parameter-store")
            .map(|node| checked_variables(walker, node, "environment_variables.parameter-store"))
            .unwrap_or_default(),
        ..Env::default()
    }
}

/// `env.shell`: a known tag; Windows shells are kept but warned about (Slipway runs Linux).
fn shell(walker: &mut Walker, node: &Node) -> Option<Located<Shell>> {
    let tag = walker.text(node, "env.shell")?;
    let shell = match tag.as_str() {
        "bash" | "/bin/bash" => Shell::Bash,
        "/bin/sh" | "sh" => Shell::Sh,
        "powershell.exe" | "powershell" | "pwsh" => Shell::PowerShell,
        "cmd.exe" | "cmd" => Shell::Cmd,
        _ => {
            walker.diagnostics.error(
                node.position,
                format!("unknown shell `{tag}`; CodeBuild's shell tags are `bash` and `/bin/sh` (Linux), `powershell.exe` and `cmd.exe` (Windows)"),
                "use `shell: bash`, or remove `shell` to use the image's /bin/sh",
            );
            return None;
        }
    };
    if !shell.runs_on_linux() {
        walker.diagnostics.warning(
            node.position,
            format!("`{tag}` is a Windows shell; Slipway runs Linux containers, so a BuildRun with this buildspec fails before it starts"),
            "use `shell: bash` (or remove `shell`) and write the commands for a Linux shell",
        );
    }
    Some(Located {
        value: shell,
        position: node.position,
    })
}

/// Variables with name checks: `CODEBUILD_` is reserved, and names a shell cannot read.
fn checked_variables(walker: &mut Walker, node: &Node, path: &str) -> Vec<Variable> {
    checked_entries(walker, node, path)
        .into_iter()
        .map(|entry| entry.variable)
        .collect()
}

/// [`checked_variables`] with positions.
fn checked_entries(walker: &mut Walker, node: &Node, path: &str) -> Vec<VariableEntry> {
    let entries = walker.variable_entries(node, path);
    for VariableEntry {
        variable,
        name_position,
        ..
    } in &entries
    {
        let name = &variable.name;
        if name.starts_with("CODEBUILD_") {
            walker.diagnostics.warning(
                *name_position,
                format!("`{name}` starts with `CODEBUILD_`, a prefix reserved for the build's own variables"),
                "choose a name without the `CODEBUILD_` prefix",
            );
        } else if !is_shell_name(name) {
            walker.diagnostics.warning(
                *name_position,
                format!("`{name}` is not a valid shell variable name, so commands cannot read it as `${name}`"),
                "use letters, digits and `_` only, not starting with a digit",
            );
        }
    }
    entries
}

/// Whether `name` is a POSIX shell variable name.
fn is_shell_name(name: &str) -> bool {
    let mut characters = name.chars();
    characters
        .next()
        .is_some_and(|first| first == '_' || first.is_ascii_alphabetic())
        && characters.all(|character| character == '_' || character.is_ascii_alphanumeric())
}

/// `env.secrets-manager`: `NAME: secret-id[:json-key[:version-stage[:version-id]]]`.
fn secrets(walker: &mut Walker, node: &Node) -> Vec<SecretReference> {
    checked_entries(walker, node, "env.secrets-manager")
        .into_iter()
        .filter_map(|entry| {
            let reference = split_secret_reference(&entry.variable.name, &entry.variable.value);
            if reference.is_none() {
                walker.diagnostics.error(
                    entry.value_position,
                    format!("`env.secrets-manager.{}` has no secret id", entry.variable.name),
                    "write `NAME: secret-id:json-key` (the json key, version stage and version id are optional)",
                );
            }
            reference
        })
        .collect()
}

/// Splits a secrets-manager reference. An ARN secret id keeps its own colons
/// (`arn:aws:secretsmanager:region:account:secret:name`), so it is the first seven fields.
pub(crate) fn split_secret_reference(name: &str, reference: &str) -> Option<SecretReference> {
    let fields: Vec<&str> = reference.split(':').collect();
    let id_fields = if reference.starts_with("arn:") {
        7.min(fields.len())
    } else {
        1
    };
    let secret_id = fields[..id_fields].join(":");
    if secret_id.trim().is_empty() {
        return None;
    }
    let optional = |index: usize| {
        fields
            .get(id_fields + index)
            .filter(|field| !field.is_empty())
            .map(|field| (*field).to_owned())
    };
    Some(SecretReference {
        name: name.to_owned(),
        secret_id,
        json_key: optional(0),
        version_stage: optional(1),
        version_id: optional(2),
    })
}

/// `env.exported-variables`: names; `AWS_` names and non-names are flagged.
fn exported(walker: &mut Walker, node: &Node) -> Vec<String> {
    let names = walker.text_list(node, "env.exported-variables");
    for name in &names {
        if name.value.starts_with("AWS_") {
            walker.diagnostics.warning(
                name.position,
                format!("`{}` cannot be exported: CodeBuild does not export variables starting with `AWS_`", name.value),
                "copy the value into a variable with another name and export that one",
            );
        } else if !is_shell_name(&name.value) {
            walker.diagnostics.error(
                name.position,
                format!("`{}` is not a variable name", name.value),
                "list only variable names (letters, digits and `_`) under `exported-variables`",
            );
        }
    }
    names.into_iter().map(|name| name.value).collect()
}
