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
    /// Address of the git webhook receiver.
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
