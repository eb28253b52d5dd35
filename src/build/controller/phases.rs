//! The controller's own phase records — `SUBMITTED`, `QUEUED`, `PROVISIONING`,
//! `DOWNLOAD_SOURCE` and the open `INSTALL` while the buildspec runs — built from the Job's and
//! pod's timestamps only, so the same facts always give the same records.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use super::world::{ContainerState, JobState, PodFacts, World};
use crate::api::buildrun::{BuildPhase, BuildPhaseType, BuildRunStatus, BuildStatus};
use crate::build::job::{BUILD_CONTAINER, FETCH_CONTAINER, TOOLS_CONTAINER};

/// The controller's phase records (SUBMITTED … the build container's start) from the facts;
/// returns the current phase.
pub(super) fn infrastructure_phases(
    world: &World,
    pod: Option<&PodFacts>,
    status: &mut BuildRunStatus,
) -> BuildPhaseType {
    let job_created = match &world.job {
        JobState::Owned(job) => job.created,
        _ => None,
    };
    let succeeded = Some(BuildStatus::Succeeded);
    let mut phases = vec![phase(
        BuildPhaseType::Submitted,
        world.created,
        job_created,
        job_created.and(succeeded),
        None,
    )];
    if let Some(queued_at) = job_created {
        let pod_started = pod.and_then(|pod| pod.started);
        phases.push(phase(
            BuildPhaseType::Queued,
            Some(queued_at),
            pod_started,
            pod_started.and(succeeded),
            None,
        ));
        if let (Some(pod), Some(pod_started)) = (pod, pod_started) {
            let has_source = world.spec.source.is_some();
            let tools = pod.container(TOOLS_CONTAINER);
            let build_started = pod
                .container(BUILD_CONTAINER)
                .and_then(ContainerState::started);
            let (provisioned, provisioning_status) = match tools {
                Some(ContainerState::Terminated {
                    exit_code,
                    finished,
                    ..
                }) if has_source => (
                    *finished,
                    Some(if *exit_code == 0 {
                        BuildStatus::Succeeded
                    } else {
                        BuildStatus::Fault
                    }),
                ),
                _ => (build_started, build_started.and(succeeded)),
            };
            phases.push(phase(
                BuildPhaseType::Provisioning,
                Some(pod_started),
                provisioned,
                provisioning_status,
                None,
            ));
            if has_source
                && let Some(fetch) = pod.container(FETCH_CONTAINER)
                && let Some(fetch_started) = fetch.started()
            {
                let (end, fetch_status) = match fetch {
                    ContainerState::Terminated {
                        exit_code,
                        finished,
                        ..
                    } => (
                        *finished,
                        Some(if *exit_code == 0 {
                            BuildStatus::Succeeded
                        } else {
                            BuildStatus::Failed
                        }),
                    ),
                    _ => (None, None),
                };
                phases.push(phase(
                    BuildPhaseType::DownloadSource,
                    Some(fetch_started),
                    end,
                    fetch_status,
                    None,
                ));
            }
            if let Some(ContainerState::Running { started }) = pod.container(BUILD_CONTAINER) {
                phases.push(phase(BuildPhaseType::Install, *started, None, None, None));
            }
        }
    }
    let current = phases
        .iter()
        .rev()
        .find(|phase| phase.phase_status.is_none())
        .or(phases.last())
        .map_or(BuildPhaseType::Submitted, |phase| phase.phase_type);
    // Keep the stored records where they say the same (their messages, for one).
    status.phases = phases;
    status.current_phase = Some(current);
    current
}

pub(super) fn seconds_between(from: Timestamp, to: Timestamp) -> i64 {
    to.duration_since(from).as_secs().max(0)
}

/// A phase record.
pub(super) fn phase(
    phase_type: BuildPhaseType,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    phase_status: Option<BuildStatus>,
    message: Option<String>,
) -> BuildPhase {
    let duration_in_seconds = start
        .zip(end)
        .map(|(start, end)| seconds_between(start, end));
    BuildPhase {
        phase_type,
        phase_status: if end.is_some() { phase_status } else { None },
        start_time: start.map(Time),
        end_time: end.map(Time),
        duration_in_seconds,
        message,
    }
}

pub(super) fn close(
    phase: &mut BuildPhase,
    end: Timestamp,
    status: BuildStatus,
    message: Option<String>,
) {
    phase.end_time = Some(Time(end));
    phase.phase_status = Some(status);
    phase.duration_in_seconds = phase
        .start_time
        .as_ref()
        .map(|start| seconds_between(start.0, end));
    phase.message = message;
}
