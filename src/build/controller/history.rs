//! Build numbers and the bounded history: pure choices over the BuildRuns of a namespace.
//!
//! # Build numbers
//! `status.buildNumber` is assigned once, before the Job is created (the Job's
//! `SLIPWAY_EXECUTOR_BUILD_NUMBER` carries it): the highest number among the BuildRuns of the same
//! project (the `slipway.dev/project` label; BuildRuns without it share one sequence per
//! namespace) plus one. The number is derived from the stored statuses, so it survives restarts;
//! the controller assigns numbers one at a time (a process-wide lock held from the list to the
//! status write), and only the leader assigns. A BuildRun whose Job exists but whose status lost
//! the number takes it back from the Job.
//!
//! # History
//! With `--build-history-limit N` (N > 0), when a build ends the controller keeps the newest N
//! finished BuildRuns of that namespace (by completion time) and deletes the older ones. BuildRuns
//! owned by a PipelineExecution are never deleted here: their execution keeps them (and is pruned
//! by its own pipeline's history). Running builds are never deleted. Their Jobs and pods go with
//! them (owner references).

use k8s_openapi::jiff::Timestamp;

/// What the history rules need to know of one BuildRun.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Name.
    pub name: String,
    /// `slipway.dev/project` label.
    pub project: Option<String>,
    /// `status.buildNumber`.
    pub build_number: Option<i64>,
    /// Whether the build ended.
    pub finished: bool,
    /// When it ended.
    pub completed: Option<Timestamp>,
    /// Owned by a PipelineExecution.
    pub owned_by_pipeline: bool,
}

/// The next build number for a build of `project` among `entries`.
pub fn next_build_number(entries: &[HistoryEntry], project: Option<&str>) -> i64 {
    entries
        .iter()
        .filter(|entry| entry.project.as_deref() == project)
        .filter_map(|entry| entry.build_number)
        .max()
        .unwrap_or(0)
        + 1
}

/// The finished BuildRuns to delete so that at most `limit` remain (0: keep everything).
pub fn history_to_delete(entries: &[HistoryEntry], limit: usize) -> Vec<String> {
    if limit == 0 {
        return Vec::new();
    }
    let mut finished: Vec<&HistoryEntry> = entries
        .iter()
        .filter(|entry| entry.finished && !entry.owned_by_pipeline)
        .collect();
    // Newest first; equal times by name so the choice is stable.
    finished.sort_by(|a, b| {
        b.completed
            .cmp(&a.completed)
            .then_with(|| a.name.cmp(&b.name))
    });
    finished
        .into_iter()
        .skip(limit)
        .map(|entry| entry.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(
        name: &str,
        project: Option<&str>,
        number: Option<i64>,
        completed: Option<i64>,
    ) -> HistoryEntry {
        HistoryEntry {
            name: name.into(),
            project: project.map(Into::into),
            build_number: number,
            finished: completed.is_some(),
            completed: completed.map(|seconds| Timestamp::from_second(seconds).unwrap()),
            owned_by_pipeline: false,
        }
    }

    #[test]
    fn numbers_continue_each_projects_sequence() {
        let entries = [
            entry("a", Some("web"), Some(4), None),
            entry("b", Some("web"), Some(9), Some(1)),
            entry("c", Some("api"), Some(20), None),
            entry("d", None, Some(2), None),
            entry("e", Some("web"), None, None),
        ];
        assert_eq!(next_build_number(&entries, Some("web")), 10);
        assert_eq!(next_build_number(&entries, Some("api")), 21);
        assert_eq!(next_build_number(&entries, None), 3);
        assert_eq!(next_build_number(&entries, Some("new")), 1);
    }

    #[test]
    fn history_keeps_the_newest_finished_builds() {
        let entries = [
            entry("old", None, None, Some(10)),
            entry("newest", None, None, Some(30)),
            entry("running", None, None, None),
            entry("middle", None, None, Some(20)),
        ];
        assert_eq!(history_to_delete(&entries, 2), vec!["old"]);
        assert_eq!(history_to_delete(&entries, 1), vec!["middle", "old"]);
        assert!(history_to_delete(&entries, 3).is_empty());
        assert!(
            history_to_delete(&entries, 0).is_empty(),
            "0 keeps everything"
        );
    }

    #[test]
    fn history_never_deletes_builds_of_a_pipeline() {
        let mut owned = entry("pipeline-build", None, None, Some(1));
        owned.owned_by_pipeline = true;
        let entries = [
            owned,
            entry("mine", None, None, Some(2)),
            entry("newer", None, None, Some(3)),
        ];
        assert_eq!(history_to_delete(&entries, 1), vec!["mine"]);
    }
}
