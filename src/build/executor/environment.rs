//! The build's environment: what the commands see, in CodeBuild's order of precedence.
//!
//! # Layers (a later layer wins)
//! 1. The executor's own environment: the image's `ENV` and the pod's variables.
//! 2. The buildspec's `env.variables` (0.1: `environment_variables.plaintext`).
//! 3. `env.parameter-store`, read from the mounted ConfigMap.
//! 4. `env.secrets-manager`, read from the mounted Secret (values are masked in the log).
//! 5. The project's variables — the BuildRun's `spec.environment.env` (named to the executor
//!    with `--project-env`) or `--env K=V` of a local build — which beat the buildspec, as a
//!    CodeBuild project's variables do.
//! 6. The build variables below, which nothing overrides.
//!
//! # Build variables
//! Each `CODEBUILD_<X>` is also set as `SLIPWAY_<X>` with the same value.
//!
//! | variable | value |
//! | --- | --- |
//! | `CODEBUILD_CI` | `true` |
//! | `CODEBUILD_BUILD_ID` | `<project>:<uuid>` (`--build-id`; generated when absent) |
//! | `CODEBUILD_BUILD_ARN` | `slipway:<namespace>:build/<build id>` (`--build-arn` overrides) |
//! | `CODEBUILD_BUILD_NUMBER` | the BuildRun's build number (`1` when not given) |
//! | `CODEBUILD_BUILD_IMAGE` | the build image (`--image`; empty when unknown) |
//! | `CODEBUILD_BUILD_SUCCEEDING` | `1`, then `0` once a phase has failed (see `plan`) |
//! | `CODEBUILD_INITIATOR` | who started the build (`--initiator`, e.g. `pipeline/<name>`) |
//! | `CODEBUILD_LOG_PATH` | the uuid part of the build id (CodeBuild's log stream name) |
//! | `CODEBUILD_SOURCE_VERSION` | the revision asked for (branch, tag or commit) |
//! | `CODEBUILD_RESOLVED_SOURCE_VERSION` | the commit it resolved to |
//! | `CODEBUILD_SOURCE_REPO_URL` | the repository URL |
//! | `CODEBUILD_SRC_DIR` | the source directory (commands start there) |
//! | `CODEBUILD_START_TIME` | the build's start, milliseconds since the Unix epoch |
//! | `CODEBUILD_WEBHOOK_<X>` | for webhook builds: `EVENT`, `HEAD_REF`, `BASE_REF`, `TRIGGER`, `ACTOR_ACCOUNT_ID`, `PREV_COMMIT`, `MERGE_COMMIT` |
//!
//! Absent optional values are left unset rather than set empty, except the ones CodeBuild
//! always sets. `SLIPWAY_BUILDRUN` and `SLIPWAY_NAMESPACE` name the BuildRun when known.
//!
//! # Parameter Store and Secrets Manager names
//! As documented on `ParameterSources` in the API: a Parameter Store name `/app/db-host` is
//! the ConfigMap key `app.db-host` (leading `/` dropped, other `/` turned into `.`); a Secrets
//! Manager reference `prod/db:password` is the Secret key `prod.db.password` (the secret id
//! mapped the same way, then `.` and the JSON key). When `prod.db.password` is absent but the
//! key `prod.db` holds a JSON object, its `password` field is used (a whole JSON secret copied
//! into one key). `version-stage` and `version-id` are ignored with a warning: a Secret has one
//! version. The ConfigMap and the Secret are mounted as directories (one file per key, as
//! Kubernetes mounts them); values are used byte for byte (no trailing newline is removed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use k8s_openapi::jiff::Timestamp;

use crate::build::buildspec::{Env, SecretReference};

/// The webhook variables a build may carry (`CODEBUILD_WEBHOOK_<name>`).
pub const WEBHOOK_VARIABLES: [&str; 7] = [
    "EVENT",
    "HEAD_REF",
    "BASE_REF",
    "TRIGGER",
    "ACTOR_ACCOUNT_ID",
    "PREV_COMMIT",
    "MERGE_COMMIT",
];

/// Facts about the build that become `CODEBUILD_*` variables and the result.
#[derive(Clone, Debug, PartialEq)]
pub struct BuildMetadata {
    /// The project (BuildRun or pipeline action) name: the part before `:` in the build id.
    pub project: String,
    /// The build id, `<project>:<uuid>`.
    pub build_id: String,
    /// An ARN-like unique name; derived from the namespace and build id when `None`.
    pub build_arn: Option<String>,
    /// The BuildRun's namespace.
    pub namespace: Option<String>,
    /// The BuildRun's name.
    pub build_run: Option<String>,
    /// The build number.
    pub build_number: i64,
    /// The revision asked for.
    pub source_version: Option<String>,
    /// The commit it resolved to.
    pub resolved_source_version: Option<String>,
    /// The repository URL.
    pub source_repo_url: Option<String>,
    /// Who started the build.
    pub initiator: Option<String>,
    /// The build image.
    pub image: Option<String>,
    /// When the build started.
    pub start_time: Timestamp,
    /// Webhook facts by [`WEBHOOK_VARIABLES`] name.
    pub webhook: BTreeMap<String, String>,
}

impl BuildMetadata {
    /// Metadata for `project` with a new build id, started now.
    pub fn new(project: &str) -> BuildMetadata {
        BuildMetadata {
            project: project.to_owned(),
            build_id: format!("{project}:{}", random_uuid()),
            build_arn: None,
            namespace: None,
            build_run: None,
            build_number: 1,
            source_version: None,
            resolved_source_version: None,
            source_repo_url: None,
            initiator: None,
            image: None,
            start_time: Timestamp::now(),
            webhook: BTreeMap::new(),
        }
    }

    /// The build ARN: given, or `slipway:<namespace>:build/<build id>`.
    pub fn arn(&self) -> String {
        self.build_arn.clone().unwrap_or_else(|| {
            format!(
                "slipway:{}:build/{}",
                self.namespace.as_deref().unwrap_or("local"),
                self.build_id
            )
        })
    }

    /// The build variables (both spellings), `CODEBUILD_BUILD_SUCCEEDING` at `1`.
    pub fn variables(&self, src_dir: &Path) -> Vec<(String, String)> {
        let uuid = self
            .build_id
            .rsplit_once(':')
            .map_or(self.build_id.as_str(), |(_, uuid)| uuid);
        let mut codebuild: Vec<(String, String)> = vec![
            ("CI".into(), "true".into()),
            ("BUILD_ID".into(), self.build_id.clone()),
            ("BUILD_ARN".into(), self.arn()),
            ("BUILD_NUMBER".into(), self.build_number.to_string()),
            ("BUILD_IMAGE".into(), self.image.clone().unwrap_or_default()),
            ("BUILD_SUCCEEDING".into(), "1".into()),
            (
                "INITIATOR".into(),
                self.initiator.clone().unwrap_or_default(),
            ),
            ("LOG_PATH".into(), uuid.to_owned()),
            ("SRC_DIR".into(), src_dir.to_string_lossy().into_owned()),
            (
                "START_TIME".into(),
                self.start_time.as_millisecond().to_string(),
            ),
        ];
        let optional = [
            ("SOURCE_VERSION", &self.source_version),
            ("RESOLVED_SOURCE_VERSION", &self.resolved_source_version),
            ("SOURCE_REPO_URL", &self.source_repo_url),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                codebuild.push((name.into(), value.clone()));
            }
        }
        for (name, value) in &self.webhook {
            codebuild.push((format!("WEBHOOK_{name}"), value.clone()));
        }
        let mut variables = Vec::with_capacity(codebuild.len() * 2 + 2);
        for (name, value) in &codebuild {
            variables.push((format!("CODEBUILD_{name}"), value.clone()));
        }
        for (name, value) in codebuild {
            variables.push((format!("SLIPWAY_{name}"), value));
        }
        if let Some(name) = &self.build_run {
            variables.push(("SLIPWAY_BUILDRUN".into(), name.clone()));
        }
        if let Some(namespace) = &self.namespace {
            variables.push(("SLIPWAY_NAMESPACE".into(), namespace.clone()));
        }
        variables
    }
}

/// A random version-4 UUID (from the standard library's randomly seeded hasher: the executor
/// carries no RNG crate, and build ids need uniqueness, not cryptographic strength).
pub fn random_uuid() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut halves = [0_u64; 2];
    for (index, half) in halves.iter_mut().enumerate() {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_usize(index);
        hasher.write_u32(std::process::id());
        hasher.write_i128(Timestamp::now().as_nanosecond());
        *half = hasher.finish();
    }
    let bits =
        (u128::from(halves[0]) << 64 | u128::from(halves[1])) & !(0xf000 << 64) | (0x4000 << 64);
    let bits = bits & !(0xc << 60) | (0x8 << 60);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Where `parameter-store` and `secrets-manager` values are read from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParameterMounts {
    /// The mounted ConfigMap for `parameter-store`.
    pub parameter_store_dir: Option<PathBuf>,
    /// Its name, for messages.
    pub parameter_store_config_map: Option<String>,
    /// The mounted Secret for `secrets-manager`.
    pub secrets_manager_dir: Option<PathBuf>,
    /// Its name, for messages.
    pub secrets_manager_secret: Option<String>,
}

/// Everything the environment is made from, besides the buildspec and the metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvironmentSources {
    /// The executor's own environment (layer 1).
    pub inherited: Vec<(String, String)>,
    /// The project's variables (layer 5).
    pub project: Vec<(String, String)>,
    /// Names whose final values are secret (masked).
    pub secret_names: Vec<String>,
    /// The mounted ConfigMap and Secret.
    pub parameters: ParameterMounts,
}

/// The resolved environment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResolvedEnvironment {
    /// Every variable, each name once, sorted by name.
    pub variables: Vec<(String, String)>,
    /// The values to mask.
    pub secrets: Vec<String>,
    /// Things to tell the user (ignored settings).
    pub warnings: Vec<String>,
}

/// Why the environment could not be built (the build is then `FAULT`).
#[derive(Debug, thiserror::Error)]
pub enum EnvironmentError {
    /// A `parameter-store` or `secrets-manager` key is not in its ConfigMap or Secret.
    #[error(transparent)]
    MissingKey(Box<MissingKey>),
    /// No ConfigMap or Secret is mounted for a section the buildspec uses.
    #[error(
        "failed to resolve `env.{section}.{variable}`: no {source_kind} is configured for {section} names; set `spec.environment.parameters.{field}` on the BuildRun"
    )]
    NoSource {
        /// `parameter-store` or `secrets-manager`.
        section: &'static str,
        /// The environment variable.
        variable: String,
        /// `ConfigMap` or `Secret`.
        source_kind: &'static str,
        /// The BuildRun field to set.
        field: &'static str,
    },
    /// A name that maps to no valid ConfigMap or Secret key.
    #[error(
        "failed to resolve `env.{section}.{variable}`: `{reference}` maps to `{key}`, which is not a valid {source_kind} key (letters, digits, `-`, `_`, `.`)"
    )]
    InvalidKey {
        /// `parameter-store` or `secrets-manager`.
        section: &'static str,
        /// The environment variable.
        variable: String,
        /// The name written in the buildspec.
        reference: String,
        /// The key it maps to.
        key: String,
        /// `ConfigMap` or `Secret`.
        source_kind: &'static str,
    },
    /// A mounted file could not be read.
    #[error("failed to read {path}: {source}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A `parameter-store` or `secrets-manager` key that is not in its ConfigMap or Secret.
#[derive(Debug, thiserror::Error)]
#[error(
    "failed to resolve `env.{section}.{variable}`: key `{key}` (for `{reference}`) not found in {source_kind} `{source_name}` mounted at {dir}"
)]
pub struct MissingKey {
    /// `parameter-store` or `secrets-manager`.
    pub section: &'static str,
    /// The environment variable.
    pub variable: String,
    /// The name written in the buildspec.
    pub reference: String,
    /// The key looked up.
    pub key: String,
    /// `ConfigMap` or `Secret`.
    pub source_kind: &'static str,
    /// Its name (or `(unnamed)`).
    pub source_name: String,
    /// The mount directory.
    pub dir: String,
}

/// The ConfigMap key for a Parameter Store name: `/app/db-host` → `app.db-host`.
pub fn parameter_key(name: &str) -> String {
    name.trim_start_matches('/').replace('/', ".")
}

/// The Secret key for a Secrets Manager reference: `prod/db` + `password` → `prod.db.password`.
pub fn secret_key(reference: &SecretReference) -> String {
    let base = parameter_key(&reference.secret_id);
    match &reference.json_key {
        Some(json_key) => format!("{base}.{json_key}"),
        None => base,
    }
}

/// Whether `key` is a valid ConfigMap/Secret key.
fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 253
        && key != "."
        && key != ".."
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Builds the environment from its layers (see the module docs).
///
/// # Errors
/// [`EnvironmentError`] naming the variable, the key and the ConfigMap or Secret.
pub fn resolve_environment(
    env: &Env,
    metadata: &BuildMetadata,
    src_dir: &Path,
    sources: &EnvironmentSources,
) -> Result<ResolvedEnvironment, EnvironmentError> {
    let mut resolved = ResolvedEnvironment::default();
    let mut variables: BTreeMap<String, String> = sources.inherited.iter().cloned().collect();
    for variable in &env.variables {
        variables.insert(variable.name.clone(), variable.value.clone());
    }
    let mounts = &sources.parameters;
    for variable in &env.parameter_store {
        let key = parameter_key(&variable.value);
        let lookup = Lookup {
            section: "parameter-store",
            variable: &variable.name,
            reference: &variable.value,
            source_kind: "ConfigMap",
            source_name: mounts.parameter_store_config_map.as_deref(),
            field: "parameterStoreConfigMap",
            dir: mounts.parameter_store_dir.as_deref(),
        };
        let value = lookup.read(&key, None)?;
        variables.insert(variable.name.clone(), value);
    }
    for reference in &env.secrets_manager {
        if reference.version_stage.is_some() || reference.version_id.is_some() {
            resolved.warnings.push(format!(
                "env.secrets-manager.{}: version-stage and version-id are ignored (a Secret has one version)",
                reference.name
            ));
        }
        let lookup = Lookup {
            section: "secrets-manager",
            variable: &reference.name,
            reference: &reference.secret_id,
            source_kind: "Secret",
            source_name: mounts.secrets_manager_secret.as_deref(),
            field: "secretsManagerSecret",
            dir: mounts.secrets_manager_dir.as_deref(),
        };
        let json = reference
            .json_key
            .as_deref()
            .map(|json_key| (parameter_key(&reference.secret_id), json_key));
        let value = lookup.read(&secret_key(reference), json)?;
        resolved.secrets.push(value.clone());
        variables.insert(reference.name.clone(), value);
    }
    variables.extend(sources.project.iter().cloned());
    variables.extend(metadata.variables(src_dir));
    for name in &sources.secret_names {
        if let Some(value) = variables.get(name) {
            resolved.secrets.push(value.clone());
        }
    }
    resolved.variables = variables.into_iter().collect();
    Ok(resolved)
}

/// One `parameter-store`/`secrets-manager` lookup and what its errors name.
struct Lookup<'a> {
    section: &'static str,
    variable: &'a str,
    reference: &'a str,
    source_kind: &'static str,
    source_name: Option<&'a str>,
    field: &'static str,
    dir: Option<&'a Path>,
}

impl Lookup<'_> {
    /// Reads `key`; `json` names a key holding a JSON object and the field to fall back to.
    fn read(&self, key: &str, json: Option<(String, &str)>) -> Result<String, EnvironmentError> {
        let Some(dir) = self.dir else {
            return Err(EnvironmentError::NoSource {
                section: self.section,
                variable: self.variable.to_owned(),
                source_kind: self.source_kind,
                field: self.field,
            });
        };
        if !valid_key(key) {
            return Err(EnvironmentError::InvalidKey {
                section: self.section,
                variable: self.variable.to_owned(),
                reference: self.reference.to_owned(),
                key: key.to_owned(),
                source_kind: self.source_kind,
            });
        }
        if let Some(value) = read_key(dir, key)? {
            return Ok(value);
        }
        let from_json = match &json {
            Some((whole, field)) if valid_key(whole) => read_key(dir, whole)?
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                .and_then(|value| value.get(field).cloned())
                .map(|value| match value {
                    serde_json::Value::String(text) => text,
                    other => other.to_string(),
                }),
            _ => None,
        };
        from_json.ok_or_else(|| {
            EnvironmentError::MissingKey(Box::new(MissingKey {
                section: self.section,
                variable: self.variable.to_owned(),
                reference: self.reference.to_owned(),
                key: key.to_owned(),
                source_kind: self.source_kind,
                source_name: self.source_name.unwrap_or("(unnamed)").to_owned(),
                dir: dir.display().to_string(),
            }))
        })
    }
}

/// The content of the file `key` in `dir`, `None` when there is no such file.
fn read_key(dir: &Path, key: &str) -> Result<Option<String>, EnvironmentError> {
    let path = dir.join(key);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(EnvironmentError::Unreadable {
            path: path.display().to_string(),
            source,
        }),
    }
}
