//! A `build` action's BuildRun: the action's build configuration (variables substituted) with
//! its input artifact as the source.
//!
//! - The source is the action's first input artifact: the pipeline's source artifact becomes a
//!   git source at the run's commit (with the source's credentials Secret), an earlier build's
//!   artifact an artifact source at its recorded location and digest. A build reads one input
//!   (CodeBuild's secondary sources are not supported; the spec check refuses more).
//! - The artifact store is the action's own, else the pipeline's.
//! - Builds of one action share a project label, so `CODEBUILD_BUILD_NUMBER` counts the builds
//!   of that action (as CodeBuild counts per project).

use crate::api::buildrun::{
    ArtifactSource, BuildConfig, BuildRun, BuildRunSpec, BuildSource, GitRevision,
};
use crate::api::common::{ArtifactStore, SecretReference};
use crate::runtime::labels::PROJECT_LABEL;
use crate::runtime::names::label_value;

use super::{ChildOwner, child_metadata, dns_label_text};

/// Where an input artifact comes from, as the run resolved it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResolvedInput {
    /// The pipeline's git source at the run's commit.
    Git {
        /// Clone URL.
        url: String,
        /// Commit.
        commit: String,
        /// Credentials Secret of the source.
        credentials_secret: Option<SecretReference>,
    },
    /// An artifact in the artifact store.
    Stored {
        /// Recorded location.
        location: String,
        /// Recorded digest.
        digest: Option<String>,
    },
}

/// The BuildRun of a build action.
pub fn render_build_run(
    owner: &ChildOwner,
    name: &str,
    config: BuildConfig,
    input: Option<&ResolvedInput>,
    pipeline_store: Option<&ArtifactStore>,
) -> BuildRun {
    let mut config = config;
    if config.artifact_store.is_none() {
        config.artifact_store = pipeline_store.cloned();
    }
    let source = input.map(|input| match input {
        ResolvedInput::Git {
            url,
            commit,
            credentials_secret,
        } => BuildSource {
            git: Some(GitRevision {
                url: url.clone(),
                revision: commit.clone(),
                credentials_secret: credentials_secret.clone(),
                depth: 1,
                submodules: false,
            }),
            artifact: None,
        },
        ResolvedInput::Stored { location, digest } => BuildSource {
            git: None,
            artifact: Some(ArtifactSource {
                location: location.clone(),
                digest: digest.clone(),
            }),
        },
    });
    let mut build_run = BuildRun::new(
        name,
        BuildRunSpec {
            source,
            config,
            stop: None,
        },
    );
    let mut metadata = child_metadata(owner, name);
    if let Some(labels) = metadata.labels.as_mut() {
        labels.insert(PROJECT_LABEL.to_owned(), project_label(owner));
    }
    build_run.metadata = metadata;
    build_run
}

/// The project label value of an action's builds: `<pipeline>.<stage>.<action>`, fitted.
pub fn project_label(owner: &ChildOwner) -> String {
    label_value(&format!(
        "{}.{}.{}",
        dns_label_text(&owner.pipeline),
        dns_label_text(&owner.stage),
        dns_label_text(&owner.action)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::buildrun::BuildEnvironment;
    use crate::api::common::OciArtifactStore;

    fn owner() -> ChildOwner {
        ChildOwner {
            execution: "webapp-abc12".into(),
            execution_uid: "uid-1".into(),
            namespace: "web".into(),
            pipeline: "webapp".into(),
            stage: "Build".into(),
            action: "BuildImage".into(),
            attempt: 1,
        }
    }

    fn config() -> BuildConfig {
        BuildConfig {
            environment: BuildEnvironment {
                image: "busybox".into(),
                ..BuildEnvironment::default()
            },
            ..BuildConfig::default()
        }
    }

    #[test]
    fn the_source_artifact_becomes_a_git_source_at_the_runs_commit() {
        let input = ResolvedInput::Git {
            url: "https://git.test/acme/web.git".into(),
            commit: "a".repeat(40),
            credentials_secret: Some(SecretReference { name: "git".into() }),
        };
        let build = render_build_run(&owner(), "child", config(), Some(&input), None);
        let git = build.spec.source.unwrap().git.unwrap();
        assert_eq!(git.revision, "a".repeat(40));
        assert_eq!(git.credentials_secret.unwrap().name, "git");
        let labels = build.metadata.labels.unwrap();
        assert_eq!(labels[PROJECT_LABEL], "webapp.build.buildimage");
        assert_eq!(
            build.metadata.owner_references.unwrap()[0].uid,
            "uid-1",
            "owned by the execution"
        );
    }

    #[test]
    fn an_earlier_artifact_is_fetched_by_location_and_digest_and_the_pipeline_store_is_the_default()
    {
        let store = ArtifactStore {
            oci: Some(OciArtifactStore {
                repository: "127.0.0.1:5000/artifacts".into(),
                ..OciArtifactStore::default()
            }),
            object_store: None,
        };
        let input = ResolvedInput::Stored {
            location: "oci://127.0.0.1:5000/artifacts@sha256:00".into(),
            digest: Some("sha256:11".into()),
        };
        let build = render_build_run(&owner(), "child", config(), Some(&input), Some(&store));
        let artifact = build.spec.source.unwrap().artifact.unwrap();
        assert_eq!(artifact.digest.as_deref(), Some("sha256:11"));
        assert_eq!(build.spec.config.artifact_store, Some(store));
    }
}
