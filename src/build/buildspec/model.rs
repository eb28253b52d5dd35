//! The typed buildspec: what a `buildspec.yml` says, once CodeBuild's loose YAML forms are
//! resolved (`yes`/`no`/`true`/`false` to booleans, numbers to strings, absent keys to defaults).
//!
//! The executor and the BuildRun controller read only this model, never YAML. Positions are kept
//! where a later stage must point back at the file: each command (for "command at line N
//! failed"), the shell and the `batch` section (for run-time rejection, see
//! [`BuildSpec::unsupported_features`]).

use serde::{Deserialize, Serialize};

use super::batch::Batch;
use super::diagnostics::Position;

/// A parsed buildspec.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildSpec {
    /// `version`: how commands share a shell.
    pub version: BuildSpecVersion,
    /// `run-as`: the Linux user for every phase that does not set its own (root when absent).
    pub run_as: Option<String>,
    /// `env` (0.2) or `environment_variables` (0.1).
    pub env: Env,
    /// `proxy`: CodeBuild's explicit-proxy switches, kept for completeness.
    pub proxy: Proxy,
    /// `phases`.
    pub phases: Phases,
    /// `reports`: report groups in file order.
    pub reports: Vec<ReportGroup>,
    /// `artifacts`.
    pub artifacts: Option<Artifacts>,
    /// `cache`.
    pub cache: Option<Cache>,
    /// `batch`: parsed, but a BuildRun refuses to run it (see [`Batch`]).
    pub batch: Option<Batch>,
}

/// The buildspec format version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BuildSpecVersion {
    /// `0.1`: every command runs in a fresh shell; variables come from `environment_variables`.
    #[serde(rename = "0.1")]
    V0_1,
    /// `0.2`: all commands of the build share one shell, so `cd` and variables carry over.
    #[serde(rename = "0.2")]
    V0_2,
}

impl BuildSpecVersion {
    /// The version as written in a buildspec.
    pub fn as_str(self) -> &'static str {
        match self {
            BuildSpecVersion::V0_1 => "0.1",
            BuildSpecVersion::V0_2 => "0.2",
        }
    }

    /// Whether all commands run in one shell instance (0.2) or each in its own (0.1).
    pub fn shares_one_shell(self) -> bool {
        self == BuildSpecVersion::V0_2
    }
}

/// A value with the position it was written at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub position: Position,
}

/// `env`: the build's shell and environment variables.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Env {
    /// `shell`: the shell that runs the commands (the image's `/bin/sh` when absent).
    pub shell: Option<Located<Shell>>,
    /// `variables` (0.1: `plaintext`): plain-text variables, in file order.
    pub variables: Vec<Variable>,
    /// `parameter-store`: variables read from a parameter store (Slipway maps them to ConfigMap
    /// keys; the executor documents how).
    pub parameter_store: Vec<Variable>,
    /// `secrets-manager`: variables read from a secret store (Slipway maps them to Secret keys).
    pub secrets_manager: Vec<SecretReference>,
    /// `exported-variables`: names whose values are captured after `post_build`.
    pub exported_variables: Vec<String>,
    /// `git-credential-helper`: whether git may use the build's source credentials.
    pub git_credential_helper: bool,
}

/// The shell tags CodeBuild knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Shell {
    /// `bash`.
    Bash,
    /// `/bin/sh` (also written `sh`).
    Sh,
    /// `powershell.exe` (Windows images only).
    PowerShell,
    /// `cmd.exe` (Windows images only).
    Cmd,
}

impl Shell {
    /// The tag as CodeBuild spells it.
    pub fn tag(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Sh => "/bin/sh",
            Shell::PowerShell => "powershell.exe",
            Shell::Cmd => "cmd.exe",
        }
    }

    /// Whether the shell exists in Linux containers, which are all Slipway runs.
    pub fn runs_on_linux(self) -> bool {
        matches!(self, Shell::Bash | Shell::Sh)
    }
}

/// A variable name and its value (a literal, or a parameter name for `parameter-store`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variable {
    /// The environment variable's name.
    pub name: String,
    /// Its value as written; numbers and booleans keep their spelling (`3.10`, `yes`).
    pub value: String,
}

/// One `secrets-manager` entry: `NAME: secret-id[:json-key[:version-stage[:version-id]]]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretReference {
    /// The environment variable's name.
    pub name: String,
    /// The secret's name or ARN (may itself contain `/`).
    pub secret_id: String,
    /// The key inside a JSON secret; the whole secret text when absent.
    pub json_key: Option<String>,
    /// The version stage (`AWSCURRENT` when absent and no version id is given).
    pub version_stage: Option<String>,
    /// The version id.
    pub version_id: Option<String>,
}

/// `proxy`: explicit-proxy settings (no effect in Slipway, whose pods use the cluster network).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Proxy {
    /// `upload-artifacts`.
    pub upload_artifacts: bool,
    /// `logs`.
    pub logs: bool,
}

/// `phases`: the four build phases CodeBuild runs in order; absent phases are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Phases {
    /// `install`.
    pub install: Option<Phase>,
    /// `pre_build`.
    pub pre_build: Option<Phase>,
    /// `build`.
    pub build: Option<Phase>,
    /// `post_build`.
    pub post_build: Option<Phase>,
}

impl Phases {
    /// The phases present, in the order they run.
    pub fn iter(&self) -> impl Iterator<Item = (PhaseName, &Phase)> {
        [
            (PhaseName::Install, &self.install),
            (PhaseName::PreBuild, &self.pre_build),
            (PhaseName::Build, &self.build),
            (PhaseName::PostBuild, &self.post_build),
        ]
        .into_iter()
        .filter_map(|(name, phase)| phase.as_ref().map(|phase| (name, phase)))
    }

    /// The phase called `name`, if present.
    pub fn get(&self, name: PhaseName) -> Option<&Phase> {
        match name {
            PhaseName::Install => self.install.as_ref(),
            PhaseName::PreBuild => self.pre_build.as_ref(),
            PhaseName::Build => self.build.as_ref(),
            PhaseName::PostBuild => self.post_build.as_ref(),
        }
    }
}

/// The names of the buildspec phases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PhaseName {
    /// `install` (build phase `INSTALL`).
    Install,
    /// `pre_build` (build phase `PRE_BUILD`).
    PreBuild,
    /// `build` (build phase `BUILD`).
    Build,
    /// `post_build` (build phase `POST_BUILD`).
    PostBuild,
}

impl PhaseName {
    /// All phases in run order.
    pub const ALL: [PhaseName; 4] = [
        PhaseName::Install,
        PhaseName::PreBuild,
        PhaseName::Build,
        PhaseName::PostBuild,
    ];

    /// The key in a buildspec: `install`, `pre_build`, `build`, `post_build`.
    pub fn key(self) -> &'static str {
        match self {
            PhaseName::Install => "install",
            PhaseName::PreBuild => "pre_build",
            PhaseName::Build => "build",
            PhaseName::PostBuild => "post_build",
        }
    }

    /// The CodeBuild build-phase type: `INSTALL`, `PRE_BUILD`, `BUILD`, `POST_BUILD`.
    pub fn build_phase_type(self) -> &'static str {
        match self {
            PhaseName::Install => "INSTALL",
            PhaseName::PreBuild => "PRE_BUILD",
            PhaseName::Build => "BUILD",
            PhaseName::PostBuild => "POST_BUILD",
        }
    }
}

/// One phase: its commands, the `finally` block and what happens when a command fails.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Phase {
    /// `run-as`: overrides the buildspec-wide user for this phase.
    pub run_as: Option<String>,
    /// `on-failure`: `None` keeps CodeBuild's default transitions.
    pub on_failure: Option<OnFailure>,
    /// `runtime-versions` (read in `install` only): runtime name and version, in file order.
    pub runtime_versions: Vec<Variable>,
    /// `commands`, in order.
    pub commands: Vec<Command>,
    /// `finally`: run after `commands`, even when one of them failed.
    pub finally: Vec<Command>,
}

/// A shell command and where it was written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// The command text; a block scalar keeps its newlines and is run as one script.
    pub text: String,
    /// Where the command starts in the buildspec.
    pub position: Position,
}

/// `on-failure`: what CodeBuild does after a phase fails.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OnFailure {
    /// `ABORT`: stop the build (no later phase runs, `post_build` included).
    Abort,
    /// `CONTINUE`: go on to the next phase as if the phase had succeeded.
    Continue,
    /// `RETRY`, `RETRY-<count>`, `RETRY-<regex>`, `RETRY-<count>-<regex>`: run the phase again.
    Retry {
        /// How many retries (0–100; 3 when not written).
        count: u32,
        /// Retry only when the failure output matches this regular expression (`None`: any).
        pattern: Option<String>,
    },
}

/// One `reports` entry: a report group and the test or coverage files it collects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportGroup {
    /// The report group's name or ARN (the mapping key).
    pub name: String,
    /// `files`: globs relative to `base-directory` (or the source directory).
    pub files: Vec<String>,
    /// `base-directory`.
    pub base_directory: Option<String>,
    /// `discard-paths`.
    pub discard_paths: bool,
    /// `file-format` (`JUNITXML` when absent).
    pub file_format: ReportFileFormat,
}

/// The report file formats CodeBuild reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReportFileFormat {
    /// `CUCUMBERJSON`.
    CucumberJson,
    /// `JUNITXML` (the default).
    #[default]
    JunitXml,
    /// `NUNITXML`.
    NunitXml,
    /// `NUNIT3XML`.
    Nunit3Xml,
    /// `TESTNGXML`.
    TestngXml,
    /// `VISUALSTUDIOTRX`.
    VisualStudioTrx,
    /// `CLOVERXML` (coverage).
    CloverXml,
    /// `COBERTURAXML` (coverage).
    CoberturaXml,
    /// `JACOCOXML` (coverage).
    JacocoXml,
    /// `SIMPLECOV` (coverage).
    SimpleCov,
}

impl ReportFileFormat {
    /// Every format with its buildspec spelling.
    pub const ALL: [(ReportFileFormat, &'static str); 10] = [
        (ReportFileFormat::CucumberJson, "CUCUMBERJSON"),
        (ReportFileFormat::JunitXml, "JUNITXML"),
        (ReportFileFormat::NunitXml, "NUNITXML"),
        (ReportFileFormat::Nunit3Xml, "NUNIT3XML"),
        (ReportFileFormat::TestngXml, "TESTNGXML"),
        (ReportFileFormat::VisualStudioTrx, "VISUALSTUDIOTRX"),
        (ReportFileFormat::CloverXml, "CLOVERXML"),
        (ReportFileFormat::CoberturaXml, "COBERTURAXML"),
        (ReportFileFormat::JacocoXml, "JACOCOXML"),
        (ReportFileFormat::SimpleCov, "SIMPLECOV"),
    ];
}

/// `artifacts`: the primary output and any `secondary-artifacts`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifacts {
    /// The primary artifact (`files`, `name`, `base-directory`, … at the top of `artifacts`).
    pub primary: ArtifactSet,
    /// `secondary-artifacts`, by identifier, in file order.
    pub secondary_artifacts: Vec<SecondaryArtifact>,
}

/// What goes into one artifact and how it is laid out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactSet {
    /// `files`: globs (`**/*`, `dir/*`) or paths, relative to `base-directory`; may hold
    /// `$VARIABLES`, which the executor expands in the build's shell.
    pub files: Vec<String>,
    /// `name`: evaluated by the shell at upload time (`$(date …)`, `$CODEBUILD_BUILD_NUMBER`).
    pub name: Option<String>,
    /// `base-directory`: the directory the `files` globs are relative to.
    pub base_directory: Option<String>,
    /// `discard-paths`: flatten matched files into the artifact's root.
    pub discard_paths: bool,
    /// `exclude-paths`: globs (relative to `base-directory`) to leave out.
    pub exclude_paths: Vec<String>,
    /// `enable-symlinks`: keep symbolic links as links in the archive.
    pub enable_symlinks: bool,
    /// `s3-prefix`: a key prefix in the artifact store.
    pub s3_prefix: Option<String>,
}

/// One `secondary-artifacts` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondaryArtifact {
    /// The artifact identifier (the mapping key).
    pub identifier: String,
    /// Its files and layout.
    pub set: ArtifactSet,
}

/// `cache`: paths kept between builds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cache {
    /// `paths`: globs or directories to cache.
    pub paths: Vec<String>,
    /// `key`: the cache entry's exact key (shell-evaluated); one shared entry when absent.
    pub key: Option<String>,
    /// `fallback-keys`: prefixes tried in order when `key` has no entry.
    pub fallback_keys: Vec<String>,
    /// `action`: restore, save, or both.
    pub action: CacheAction,
}

/// `cache.action`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CacheAction {
    /// Not written: restore before the build and save after it.
    #[default]
    RestoreAndSave,
    /// `restore`: only restore.
    Restore,
    /// `save`: only save.
    Save,
}
