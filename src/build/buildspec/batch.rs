//! `batch`: CodeBuild batch builds (build-list, build-graph, build-matrix, build-fanout).
//!
//! # Decision: Slipway parses batch buildspecs but does not run them
//! A batch turns one build into many (a matrix of 3×3×2 environments, a graph of dependent
//! builds, each possibly on another image, compute type or reserved fleet). In Slipway those
//! are separate BuildRuns, and fanning out, ordering and failing fast are the Pipeline's job
//! (parallel actions, `runOrder`, stage failure). So `slipway buildspec check` accepts a batch
//! buildspec with a warning, the model keeps everything the batch says (so a later converter
//! can turn it into Pipeline actions), and a BuildRun whose buildspec has `batch` fails before
//! creating a Job, with a message naming `batch` and its line (see
//! [`BuildSpec::unsupported_features`](super::BuildSpec::unsupported_features)).

use serde::{Deserialize, Serialize};

use super::diagnostics::Position;
use super::model::Variable;
use super::parse::Walker;
use super::yaml::{Node, NodeKind};

/// The `batch` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Batch {
    /// Where the `batch` key is, for the run-time rejection message.
    pub position: Position,
    /// `fast-fail`: stop the other builds when one fails.
    pub fast_fail: Option<bool>,
    /// The kind of batch; `None` when the section names none.
    pub kind: Option<BatchKind>,
}

/// How a batch fans out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BatchKind {
    /// `build-list`: independent builds run in parallel.
    BuildList(Vec<BatchTask>),
    /// `build-graph`: builds that wait for the builds they `depend-on`.
    BuildGraph(Vec<BatchTask>),
    /// `build-matrix`: one build per combination of the dynamic values (boxed: it is large).
    BuildMatrix(Box<BuildMatrix>),
    /// `build-fanout`: one build split into parallel shards (test splitting).
    BuildFanout(BuildFanout),
}

/// One build of a list or graph (also the matrix's `static` part).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchTask {
    /// `identifier`.
    pub identifier: Option<String>,
    /// `buildspec`: another buildspec file for this build (this file when absent).
    pub buildspec: Option<String>,
    /// `depend-on`: identifiers this build waits for (graphs).
    pub depend_on: Vec<String>,
    /// `ignore-failure`: the batch does not fail when this build fails.
    pub ignore_failure: bool,
    /// `debug-session`: CodeBuild's interactive debugging switch.
    pub debug_session: bool,
    /// `env`: environment overrides.
    pub env: BatchEnvironment,
}

/// Environment overrides for one batch build.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchEnvironment {
    /// `type` (`LINUX_CONTAINER`, …).
    pub environment_type: Option<String>,
    /// `image`.
    pub image: Option<String>,
    /// `compute-type`.
    pub compute_type: Option<String>,
    /// `privileged-mode`.
    pub privileged_mode: Option<bool>,
    /// `fleet`: a reserved-capacity fleet.
    pub fleet: Option<String>,
    /// `variables`.
    pub variables: Vec<Variable>,
}

/// `build-matrix`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildMatrix {
    /// `static`: settings shared by every build.
    pub static_settings: BatchTask,
    /// `dynamic.buildspec`: buildspec files to vary over.
    pub buildspecs: Vec<String>,
    /// `dynamic.env.image`: images to vary over.
    pub images: Vec<String>,
    /// `dynamic.env.compute-type`: compute types to vary over.
    pub compute_types: Vec<String>,
    /// `dynamic.env.variables`: each variable with the values to vary over.
    pub variables: Vec<(String, Vec<String>)>,
}

impl BuildMatrix {
    /// How many builds the matrix makes: the product of every dimension's size.
    pub fn build_count(&self) -> usize {
        let dimensions = [
            self.buildspecs.len(),
            self.images.len(),
            self.compute_types.len(),
        ];
        dimensions
            .into_iter()
            .chain(self.variables.iter().map(|(_, values)| values.len()))
            .filter(|size| *size > 0)
            .product()
    }
}

/// `build-fanout`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildFanout {
    /// `parallelism`: how many shards.
    pub parallelism: Option<u32>,
    /// `ignore-failure`.
    pub ignore_failure: bool,
}

const BATCH_KEYS: &[&str] = &[
    "fast-fail",
    "build-list",
    "build-graph",
    "build-matrix",
    "build-fanout",
];
const KIND_KEYS: &[&str] = &["build-list", "build-graph", "build-matrix", "build-fanout"];
const TASK_KEYS: &[&str] = &[
    "identifier",
    "buildspec",
    "depend-on",
    "ignore-failure",
    "debug-session",
    "env",
];
const ENV_KEYS: &[&str] = &[
    "type",
    "image",
    "compute-type",
    "privileged-mode",
    "fleet",
    "variables",
];
const MATRIX_KEYS: &[&str] = &["static", "dynamic"];
const DYNAMIC_KEYS: &[&str] = &["buildspec", "env"];
const DYNAMIC_ENV_KEYS: &[&str] = &["image", "compute-type", "variables"];
const FANOUT_KEYS: &[&str] = &["parallelism", "ignore-failure"];

/// `batch`, whose key is at `key_position`. Warns that Slipway does not run batches.
pub(crate) fn batch(walker: &mut Walker, key_position: Position, node: &Node) -> Option<Batch> {
    walker.diagnostics.warning(
        key_position,
        "batch builds are not run by Slipway: `batch` is checked, but a BuildRun with this buildspec fails before it starts",
        "run each batch entry as its own BuildRun (Pipeline actions in one stage run in parallel), or remove `batch`",
    );
    let fields = walker.fields(node, "batch", BATCH_KEYS)?;
    let kinds: Vec<(&str, &Node, &Node)> = KIND_KEYS
        .iter()
        .filter_map(|name| fields.entry(name).map(|(key, value)| (*name, key, value)))
        .collect();
    if let [_, (second, key, _), ..] = kinds.as_slice() {
        walker.diagnostics.error(
            key.position,
            format!(
                "`batch` names more than one kind of batch (`{}` and `{second}`)",
                kinds[0].0
            ),
            "keep one of build-list, build-graph, build-matrix and build-fanout",
        );
    }
    let kind = kinds.first().map(|(name, _, value)| match *name {
        "build-list" => BatchKind::BuildList(tasks(walker, value, "batch.build-list")),
        "build-graph" => BatchKind::BuildGraph(graph(walker, value)),
        "build-matrix" => BatchKind::BuildMatrix(Box::new(matrix(walker, value))),
        _ => BatchKind::BuildFanout(fanout(walker, value)),
    });
    Some(Batch {
        position: key_position,
        fast_fail: fields
            .get("fast-fail")
            .and_then(|node| walker.boolean(node, "batch.fast-fail")),
        kind,
    })
}

/// A list of tasks.
fn tasks(walker: &mut Walker, node: &Node, path: &str) -> Vec<BatchTask> {
    let NodeKind::Sequence(items) = &node.kind else {
        walker.diagnostics.error(
            node.position,
            format!(
                "`{path}` must be a list of builds, found {}",
                node.kind.describe()
            ),
            "start each build with `- identifier: name`",
        );
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| task(walker, item, &format!("{path}[{index}]")))
        .collect()
}

/// A graph: tasks whose `depend-on` must name other tasks' identifiers.
fn graph(walker: &mut Walker, node: &Node) -> Vec<BatchTask> {
    let tasks = tasks(walker, node, "batch.build-graph");
    let NodeKind::Sequence(items) = &node.kind else {
        return tasks;
    };
    for (task, item) in tasks.iter().zip(items) {
        if task.identifier.is_none() {
            walker.diagnostics.error(
                item.position,
                "a build-graph entry needs an `identifier`",
                "add `identifier: name`",
            );
        }
        for dependency in &task.depend_on {
            if !tasks
                .iter()
                .any(|other| other.identifier.as_deref() == Some(dependency.as_str()))
            {
                walker.diagnostics.error(
                    item.position,
                    format!("`depend-on` names `{dependency}`, which no build-graph entry has as its identifier"),
                    "spell the identifier as the entry it refers to does",
                );
            }
        }
    }
    tasks
}

/// One task.
fn task(walker: &mut Walker, node: &Node, path: &str) -> BatchTask {
    let Some(fields) = walker.fields(node, path, TASK_KEYS) else {
        return BatchTask::default();
    };
    let text = |walker: &mut Walker, key: &str| {
        fields
            .get(key)
            .and_then(|node| walker.text(node, &format!("{path}.{key}")))
    };
    let flag = |walker: &mut Walker, key: &str| {
        fields
            .get(key)
            .and_then(|node| walker.boolean(node, &format!("{path}.{key}")))
            .unwrap_or(false)
    };
    BatchTask {
        identifier: text(walker, "identifier"),
        buildspec: text(walker, "buildspec"),
        depend_on: fields
            .get("depend-on")
            .map(|node| {
                walker
                    .text_list(node, &format!("{path}.depend-on"))
                    .into_iter()
                    .map(|name| name.value)
                    .collect()
            })
            .unwrap_or_default(),
        ignore_failure: flag(walker, "ignore-failure"),
        debug_session: flag(walker, "debug-session"),
        env: fields
            .get("env")
            .map(|node| environment(walker, node, &format!("{path}.env")))
            .unwrap_or_default(),
    }
}

/// Environment overrides.
fn environment(walker: &mut Walker, node: &Node, path: &str) -> BatchEnvironment {
    let Some(fields) = walker.fields(node, path, ENV_KEYS) else {
        return BatchEnvironment::default();
    };
    let text = |walker: &mut Walker, key: &str| {
        fields
            .get(key)
            .and_then(|node| walker.text(node, &format!("{path}.{key}")))
    };
    BatchEnvironment {
        environment_type: text(walker, "type"),
        image: text(walker, "image"),
        compute_type: text(walker, "compute-type"),
        privileged_mode: fields
            .get("privileged-mode")
            .and_then(|node| walker.boolean(node, &format!("{path}.privileged-mode"))),
        fleet: text(walker, "fleet"),
        variables: fields
            .get("variables")
            .map(|node| walker.variables(node, &format!("{path}.variables")))
            .unwrap_or_default(),
    }
}

/// `build-matrix`.
fn matrix(walker: &mut Walker, node: &Node) -> BuildMatrix {
    let mut matrix = BuildMatrix::default();
    let Some(fields) = walker.fields(node, "batch.build-matrix", MATRIX_KEYS) else {
        return matrix;
    };
    if let Some(node) = fields.get("static") {
        matrix.static_settings = task(walker, node, "batch.build-matrix.static");
    }
    let Some(dynamic) = fields
        .get("dynamic")
        .and_then(|node| walker.fields(node, "batch.build-matrix.dynamic", DYNAMIC_KEYS))
    else {
        return matrix;
    };
    if let Some(node) = dynamic.get("buildspec") {
        matrix.buildspecs = values(walker, node, "batch.build-matrix.dynamic.buildspec");
    }
    let path = "batch.build-matrix.dynamic.env";
    let Some(env) = dynamic
        .get("env")
        .and_then(|node| walker.fields(node, path, DYNAMIC_ENV_KEYS))
    else {
        return matrix;
    };
    if let Some(node) = env.get("image") {
        matrix.images = values(walker, node, &format!("{path}.image"));
    }
    if let Some(node) = env.get("compute-type") {
        matrix.compute_types = values(walker, node, &format!("{path}.compute-type"));
    }
    if let Some(node) = env.get("variables") {
        for (name, _, value) in walker
            .entries(node, &format!("{path}.variables"))
            .unwrap_or_default()
        {
            let variable_values = values(walker, value, &format!("{path}.variables.{name}"));
            matrix.variables.push((name.to_owned(), variable_values));
        }
    }
    matrix
}

/// A dimension of the matrix: a list of values, or one value.
fn values(walker: &mut Walker, node: &Node, path: &str) -> Vec<String> {
    match &node.kind {
        NodeKind::Sequence(_) => walker
            .text_list(node, path)
            .into_iter()
            .map(|value| value.value)
            .collect(),
        _ => walker.text(node, path).into_iter().collect(),
    }
}

/// `build-fanout`.
fn fanout(walker: &mut Walker, node: &Node) -> BuildFanout {
    let Some(fields) = walker.fields(node, "batch.build-fanout", FANOUT_KEYS) else {
        return BuildFanout::default();
    };
    let parallelism = fields.get("parallelism").and_then(|node| {
        let text = walker.text(node, "batch.build-fanout.parallelism")?;
        let parsed = text.parse::<u32>().ok().filter(|count| *count > 0);
        if parsed.is_none() {
            walker.diagnostics.error(
                node.position,
                format!("`batch.build-fanout.parallelism` must be a positive whole number, found `{text}`"),
                "write `parallelism: 4`, for example",
            );
        }
        parsed
    });
    BuildFanout {
        parallelism,
        ignore_failure: fields
            .get("ignore-failure")
            .and_then(|node| walker.boolean(node, "batch.build-fanout.ignore-failure"))
            .unwrap_or(false),
    }
}
