//! A `job` action's batch/v1 Job: the action's JobSpec (variables substituted), labelled and
//! owned like every child, its input artifacts fetched into `/workspace/<artifact>` first.
//!
//! - **Inputs**: one init container per input artifact runs the slipway executor image
//!   (`executor fetch git|artifact … --to /workspace/<name>`), with the source's or the artifact
//!   store's credentials Secret mounted read-only for that container only; an `emptyDir` named
//!   `slipway-workspace` is mounted at `/workspace` in every container of the template.
//! - **Output variables**: the Job's containers write `NAME=value` lines to their termination
//!   message (`/dev/termination-log`); [`output_variables`] keeps the names the action lists.
//! - The template's own `backoffLimit`, deadlines and pod spec are the user's; Slipway only adds
//!   labels, the owner and the workspace.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Container, EmptyDirVolumeSource, EnvVar, SecretVolumeSource, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::build::ResolvedInput;
use super::{ChildOwner, child_labels, child_metadata, dns_label_text};
use crate::api::common::SecretReference;
use crate::build::job::JobOptions;

/// Where input artifacts are unpacked in a job action's containers.
pub const WORKSPACE: &str = "/workspace";
const WORKSPACE_VOLUME: &str = "slipway-workspace";
const CREDENTIALS_DIR: &str = "/slipway/credentials";

/// One input of a job action: its artifact name, how to fetch it, the credentials to mount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobInput {
    /// The artifact's name (its folder under `/workspace`).
    pub name: String,
    /// Where it comes from.
    pub source: ResolvedInput,
    /// The artifact store's credentials, for stored artifacts.
    pub store_credentials: Option<SecretReference>,
}

/// The Job of a job action.
pub fn render_job(
    owner: &ChildOwner,
    name: &str,
    template: JobSpec,
    inputs: &[JobInput],
    options: &JobOptions,
) -> Job {
    let mut spec = template;
    let labels = child_labels(owner);
    let pod_metadata = spec
        .template
        .metadata
        .get_or_insert_with(ObjectMeta::default);
    pod_metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .extend(labels.clone());
    if !inputs.is_empty()
        && let Some(pod) = spec.template.spec.as_mut()
    {
        let volumes = pod.volumes.get_or_insert_with(Vec::new);
        volumes.push(Volume {
            name: WORKSPACE_VOLUME.into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        });
        let workspace = mount(WORKSPACE_VOLUME, WORKSPACE, false);
        for container in &mut pod.containers {
            container
                .volume_mounts
                .get_or_insert_with(Vec::new)
                .push(workspace.clone());
        }
        let mut fetchers = Vec::new();
        for (index, input) in inputs.iter().enumerate() {
            let (container, volume) = fetch_container(index, input, options);
            fetchers.push(container);
            volumes.extend(volume);
        }
        let init = pod.init_containers.get_or_insert_with(Vec::new);
        fetchers.append(init);
        *init = fetchers;
    }
    Job {
        metadata: child_metadata(owner, name),
        spec: Some(spec),
        status: None,
    }
}

fn fetch_container(
    index: usize,
    input: &JobInput,
    options: &JobOptions,
) -> (Container, Option<Volume>) {
    let target = format!("{WORKSPACE}/{}", input.name);
    let resolved = format!("{WORKSPACE}/.slipway/{}.resolved", input.name);
    let mut args: Vec<String> = vec!["executor".into(), "fetch".into()];
    let credentials = match &input.source {
        ResolvedInput::Git {
            url,
            commit,
            credentials_secret,
        } => {
            args.extend(
                ["git", "--url", url, "--revision", commit, "--depth", "1"].map(String::from),
            );
            credentials_secret.as_ref().map(|secret| (secret, "git"))
        }
        ResolvedInput::Stored { location, digest } => {
            args.extend(["artifact".into(), "--location".into(), location.clone()]);
            if let Some(digest) = digest {
                args.extend(["--digest".into(), digest.clone()]);
            }
            input
                .store_credentials
                .as_ref()
                .map(|secret| (secret, "artifact-store"))
        }
    };
    args.extend(["--to".into(), target, "--resolved-file".into(), resolved]);
    let mut mounts = vec![mount(WORKSPACE_VOLUME, WORKSPACE, false)];
    let volume = credentials.map(|(secret, folder)| {
        let volume_name = format!("slipway-credentials-{index}");
        mounts.push(mount(
            &volume_name,
            &format!("{CREDENTIALS_DIR}/{folder}"),
            true,
        ));
        Volume {
            name: volume_name,
            secret: Some(SecretVolumeSource {
                secret_name: Some(secret.name.clone()),
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        }
    });
    let container = Container {
        name: format!("fetch-{}", dns_label_text(&input.name))
            .chars()
            .take(63)
            .collect(),
        image: Some(options.executor_image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        command: Some(
            std::iter::once(options.executor_path.clone())
                .chain(args)
                .collect(),
        ),
        env: Some(vec![EnvVar {
            name: "SLIPWAY_EXECUTOR_CREDENTIALS_DIR".into(),
            value: Some(CREDENTIALS_DIR.into()),
            value_from: None,
        }]),
        volume_mounts: Some(mounts),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Container::default()
    };
    (container, volume)
}

fn mount(volume: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: volume.to_owned(),
        mount_path: path.to_owned(),
        read_only: read_only.then_some(true),
        ..VolumeMount::default()
    }
}

/// The `NAME=value` lines of `messages` whose names the action lists (later lines win).
pub fn output_variables<'a>(
    messages: impl IntoIterator<Item = &'a str>,
    wanted: &[String],
) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for message in messages {
        for line in message.lines() {
            if let Some((name, value)) = line.split_once('=')
                && wanted.iter().any(|wanted| wanted == name.trim())
            {
                found.insert(
                    name.trim().to_owned(),
                    value.trim_end_matches('\r').to_owned(),
                );
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodSpec, PodTemplateSpec};

    fn owner() -> ChildOwner {
        ChildOwner {
            execution: "run-1".into(),
            execution_uid: "uid".into(),
            namespace: "web".into(),
            pipeline: "web".into(),
            stage: "Test".into(),
            action: "Smoke".into(),
            attempt: 1,
        }
    }

    fn template() -> JobSpec {
        JobSpec {
            template: PodTemplateSpec {
                metadata: None,
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: "smoke".into(),
                        image: Some("busybox".into()),
                        ..Container::default()
                    }],
                    ..PodSpec::default()
                }),
            },
            ..JobSpec::default()
        }
    }

    #[test]
    fn pods_carry_the_execution_labels_and_no_workspace_without_inputs() {
        let job = render_job(
            &owner(),
            "run-1-test-smoke-1",
            template(),
            &[],
            &JobOptions::default(),
        );
        let pod = job.spec.unwrap().template;
        assert_eq!(
            pod.metadata.unwrap().labels.unwrap()[crate::runtime::labels::EXECUTION_UID_LABEL],
            "uid"
        );
        assert!(pod.spec.unwrap().volumes.is_none());
    }

    #[test]
    fn each_input_is_fetched_into_its_folder_before_the_users_containers() {
        let inputs = [
            JobInput {
                name: "SourceArtifact".into(),
                source: ResolvedInput::Git {
                    url: "https://git.test/a.git".into(),
                    commit: "c".repeat(40),
                    credentials_secret: Some(SecretReference {
                        name: "git-token".into(),
                    }),
                },
                store_credentials: None,
            },
            JobInput {
                name: "BuildArtifact".into(),
                source: ResolvedInput::Stored {
                    location: "oci://127.0.0.1:5000/a@sha256:0".into(),
                    digest: Some("sha256:1".into()),
                },
                store_credentials: None,
            },
        ];
        let job = render_job(&owner(), "j", template(), &inputs, &JobOptions::default());
        let pod = job.spec.unwrap().template.spec.unwrap();
        let init = pod.init_containers.unwrap();
        assert_eq!(init.len(), 2);
        let first = init[0].command.clone().unwrap().join(" ");
        assert!(
            first.contains("fetch git --url https://git.test/a.git"),
            "{first}"
        );
        assert!(first.contains("--to /workspace/SourceArtifact"), "{first}");
        let second = init[1].command.clone().unwrap().join(" ");
        assert!(second.contains("--digest sha256:1"), "{second}");
        assert_eq!(
            pod.containers[0].volume_mounts.as_ref().unwrap()[0].mount_path,
            WORKSPACE
        );
        assert_eq!(
            pod.volumes.unwrap().len(),
            2,
            "workspace and the git credentials"
        );
    }

    #[test]
    fn only_listed_output_variables_are_kept() {
        let wanted = vec!["LINT_ISSUES".to_owned(), "URL".to_owned()];
        let found = output_variables(
            ["LINT_ISSUES=3\nSECRET=x\nURL=http://a?b=c", "LINT_ISSUES=4"],
            &wanted,
        );
        assert_eq!(found["LINT_ISSUES"], "4");
        assert_eq!(found["URL"], "http://a?b=c");
        assert!(!found.contains_key("SECRET"));
    }
}
