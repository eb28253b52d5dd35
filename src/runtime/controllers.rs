//! Where controllers plug in. Each controller is a task started with the shared
//! [`ControllerContext`] and a stop signal; [`Controllers::join`] waits for all of them after the
//! signal fires.
//!
//! Every kind has its controller ([`crate::pipeline::controller`] for Pipelines and
//! PipelineExecutions, [`crate::build::controller`], [`crate::rollout::controller`]); each
//! reports its own readiness (`/readyz` turns 200 once every watch has listed) and object counts.
//! Watches read objects through `DeserializeGuard`, so one object that does not deserialize is
//! logged and skipped instead of stalling the watch.

use kube::Client;
use kube::core::DeserializeGuard;
use kube::runtime::reflector::Store;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{ControllerOptions, Leadership, Metrics, Readiness};
use crate::api::pipeline::Pipeline;

/// What every controller shares: the client, the watched namespaces, metrics and readiness.
#[derive(Clone)]
pub struct ControllerContext {
    /// The Kubernetes client.
    pub client: Client,
    /// Namespaces to watch; all namespaces when empty.
    pub namespaces: Vec<String>,
    /// The process's metrics.
    pub metrics: Metrics,
    /// What `/readyz` waits for.
    pub readiness: Readiness,
    /// Whether this replica may act (holds the leader Lease, or runs without election).
    pub leadership: Leadership,
}

impl ControllerContext {
    /// Builds the context from the controller's options.
    pub fn new(
        client: Client,
        options: &ControllerOptions,
        metrics: Metrics,
        readiness: Readiness,
        leadership: Leadership,
    ) -> Self {
        Self {
            client,
            namespaces: options.watched_namespaces(),
            metrics,
            readiness,
            leadership,
        }
    }
}

/// The running controller tasks.
pub struct Controllers {
    tasks: Vec<JoinHandle<()>>,
    /// The Pipeline stores (one per watched scope), for the webhook receiver.
    pub pipelines: Vec<Store<DeserializeGuard<Pipeline>>>,
}

impl Controllers {
    /// Starts every controller; they run until `stop` turns true.
    pub fn start(
        context: ControllerContext,
        build: crate::build::controller::BuildSettings,
        stop: watch::Receiver<bool>,
    ) -> Self {
        let mut tasks = Vec::new();
        let plan = crate::pipeline::plan::PlanSettings {
            job: build.job.clone(),
        };
        let pipelines = crate::pipeline::controller::start(&context, plan, &stop);
        tasks.extend(pipelines.tasks);
        tasks.push(crate::notify::sender::start(
            &context,
            pipelines.executions,
            &stop,
        ));
        tasks.extend(crate::build::controller::start(&context, build, &stop));
        tasks.extend(crate::rollout::controller::start(&context, &stop));
        Self {
            tasks,
            pipelines: pipelines.pipelines,
        }
    }

    /// Waits for every task to end (after the stop signal).
    pub async fn join(self) {
        for task in self.tasks {
            if let Err(error) = task.await {
                tracing::error!(%error, "controller task panicked");
            }
        }
    }
}
