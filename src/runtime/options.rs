//! `slipway controller` options; each flag can also be set through its environment variable
//! (the Helm chart and the kustomize base use the variables).

use std::net::SocketAddr;

use clap::{Args, ValueEnum};

/// Options of `slipway controller`.
#[derive(Clone, Debug, Args)]
pub struct ControllerOptions {
    /// Address of the health and metrics server (`/healthz`, `/readyz`, `/metrics`).
    #[arg(long, env = "SLIPWAY_HTTP_ADDR", default_value = "0.0.0.0:8080")]
    pub http_addr: SocketAddr,
    /// Address of the git webhook receiver (`POST /webhooks/<token>`; each Pipeline's path is in its `status.webhookPath`).
    #[arg(long, env = "SLIPWAY_WEBHOOK_ADDR", default_value = "0.0.0.0:8090")]
    pub webhook_addr: SocketAddr,
    /// Namespaces to watch, comma-separated; all namespaces when empty.
    #[arg(
        long,
        env = "SLIPWAY_NAMESPACES",
        value_delimiter = ',',
        default_value = ""
    )]
    pub namespaces: Vec<String>,
    /// Take a Lease before reconciling, so only one replica acts at a time.
    #[arg(long, env = "SLIPWAY_LEADER_ELECT", default_value_t = false, action = clap::ArgAction::Set)]
    pub leader_elect: bool,
    /// Namespace of the leader-election Lease; defaults to the pod's namespace (`POD_NAMESPACE`).
    #[arg(long, env = "SLIPWAY_LEADER_ELECTION_NAMESPACE")]
    pub leader_election_namespace: Option<String>,
    /// Log filter in `tracing` EnvFilter syntax, e.g. `info` or `info,slipway=debug`.
    #[arg(long, env = "SLIPWAY_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
    /// Log format: `json`, `text`, or `auto` (JSON unless stderr is a terminal).
    #[arg(long, env = "SLIPWAY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,
    /// How builds run (the BuildRun controller).
    #[command(flatten)]
    pub build: BuildOptions,
}

/// Options of the BuildRun controller.
#[derive(Clone, Debug, Args, PartialEq, Eq)]
pub struct BuildOptions {
    /// Image with the slipway binary, used by the build pods' init containers (executor copy,
    /// source fetch); use the controller's own image.
    #[arg(long, env = "SLIPWAY_EXECUTOR_IMAGE", default_value_t = crate::build::job::default_executor_image())]
    pub executor_image: String,
    /// Path of the slipway binary inside the executor image.
    #[arg(long, env = "SLIPWAY_EXECUTOR_PATH", default_value = "/slipway")]
    pub executor_path: String,
    /// Image of the Docker daemon sidecar (builds with `privileged` or image outputs).
    #[arg(long, env = "SLIPWAY_DOCKER_IMAGE", default_value = "docker:28-dind")]
    pub docker_image: String,
    /// Seconds a finished build Job (and its pod, with the logs) is kept.
    #[arg(long, env = "SLIPWAY_BUILD_JOB_TTL_SECONDS", default_value_t = 86_400, value_parser = clap::value_parser!(i32).range(0..))]
    pub build_job_ttl_seconds: i32,
    /// Finished BuildRuns kept per namespace (BuildRuns of a PipelineExecution excepted); 0 keeps all.
    #[arg(long, env = "SLIPWAY_BUILD_HISTORY_LIMIT", default_value_t = 50)]
    pub build_history_limit: usize,
}

impl Default for BuildOptions {
    fn default() -> Self {
        let job = crate::build::job::JobOptions::default();
        Self {
            executor_image: job.executor_image,
            executor_path: job.executor_path,
            docker_image: job.docker_image,
            build_job_ttl_seconds: job.job_ttl_seconds.unwrap_or(86_400),
            build_history_limit: 50,
        }
    }
}

impl BuildOptions {
    /// The BuildRun controller's settings.
    pub fn settings(&self) -> crate::build::controller::BuildSettings {
        crate::build::controller::BuildSettings {
            job: crate::build::job::JobOptions {
                executor_image: self.executor_image.clone(),
                executor_path: self.executor_path.clone(),
                docker_image: self.docker_image.clone(),
                job_ttl_seconds: Some(self.build_job_ttl_seconds),
            },
            history_limit: self.build_history_limit,
        }
    }
}

impl ControllerOptions {
    /// The namespaces to watch, without empty entries; empty means all namespaces.
    pub fn watched_namespaces(&self) -> Vec<String> {
        let mut namespaces: Vec<String> = self
            .namespaces
            .iter()
            .map(|namespace| namespace.trim().to_owned())
            .filter(|namespace| !namespace.is_empty())
            .collect();
        namespaces.sort();
        namespaces.dedup();
        namespaces
    }
}

/// How logs are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// JSON unless stderr is a terminal.
    Auto,
    /// One JSON object per line.
    Json,
    /// Human-readable text.
    Text,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        options: ControllerOptions,
    }

    fn parse(args: &[&str]) -> ControllerOptions {
        let mut all = vec!["slipway"];
        all.extend_from_slice(args);
        Wrapper::try_parse_from(all)
            .expect("arguments parse")
            .options
    }

    #[test]
    fn defaults_watch_all_namespaces_on_port_8080() {
        let options = parse(&[]);
        assert!(options.watched_namespaces().is_empty());
        assert_eq!(options.http_addr.port(), 8080);
        assert_eq!(options.webhook_addr.port(), 8090);
        assert!(!options.leader_elect);
    }

    #[test]
    fn build_options_default_to_the_versioned_executor_image_and_a_bounded_history() {
        let options = parse(&[]);
        assert_eq!(options.build, BuildOptions::default());
        assert_eq!(
            options.build.executor_image,
            format!("slipway:{}", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(options.build.executor_path, "/slipway");
        assert_eq!(options.build.docker_image, "docker:28-dind");
        assert_eq!(options.build.build_job_ttl_seconds, 86_400);
        assert_eq!(options.build.build_history_limit, 50);
        let custom = parse(&[
            "--executor-image",
            "r/slipway:1",
            "--build-history-limit",
            "0",
        ]);
        assert_eq!(custom.build.executor_image, "r/slipway:1");
        assert_eq!(custom.build.settings().history_limit, 0);
    }

    #[test]
    fn namespaces_are_split_trimmed_and_deduplicated() {
        let options = parse(&["--namespaces", "team-b, team-a,,team-b"]);
        assert_eq!(options.watched_namespaces(), vec!["team-a", "team-b"]);
    }

    #[test]
    fn leader_election_takes_an_explicit_boolean() {
        assert!(parse(&["--leader-elect", "true"]).leader_elect);
        assert!(!parse(&["--leader-elect", "false"]).leader_elect);
    }
}
