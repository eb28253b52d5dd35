//! The process's one Prometheus registry. Metric names follow `slipway_<area>_<what>_<unit>` and
//! carry no per-object label values, so cardinality stays bounded.

use std::sync::{Arc, Mutex};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Labels naming a Slipway kind.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// The kind, e.g. `Pipeline`.
    pub kind: String,
}

/// The metrics the runtime itself records; controllers register theirs next to these.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    /// Objects of each kind currently known to the controller's watches.
    pub watched_objects: Family<KindLabels, Gauge>,
    /// 1 once a kind's watch has listed every object once, 0 before.
    pub watch_synced: Family<KindLabels, Gauge>,
}

impl Metrics {
    /// A registry with the runtime's metrics registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("slipway");
        let watched_objects = Family::<KindLabels, Gauge>::default();
        registry.register(
            "controller_watched_objects",
            "Objects of each kind currently known to the controller's watches",
            watched_objects.clone(),
        );
        let watch_synced = Family::<KindLabels, Gauge>::default();
        registry.register(
            "controller_watch_synced",
            "1 once the kind's watch has listed every object once",
            watch_synced.clone(),
        );
        let build_info = Family::<Vec<(String, String)>, Gauge>::default();
        build_info
            .get_or_create(&vec![(
                "version".to_owned(),
                env!("CARGO_PKG_VERSION").to_owned(),
            )])
            .set(1);
        registry.register(
            "build_info",
            "Slipway's version; the value is always 1",
            build_info,
        );
        Self {
            registry: Arc::new(Mutex::new(registry)),
            watched_objects,
            watch_synced,
        }
    }

    /// Registers a further metric (for controllers added later).
    pub fn register(
        &self,
        name: &str,
        help: &str,
        metric: impl prometheus_client::registry::Metric,
    ) {
        self.lock().register(name, help, metric);
    }

    /// The registry in Prometheus text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.lock());
        text
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        // A panic while holding the lock leaves the registry usable: metrics are plain counters.
        self.registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_names_metrics_with_the_slipway_prefix() {
        let metrics = Metrics::new();
        metrics
            .watched_objects
            .get_or_create(&KindLabels {
                kind: "Pipeline".into(),
            })
            .set(3);
        let text = metrics.encode();
        assert!(
            text.contains("slipway_controller_watched_objects{kind=\"Pipeline\"} 3"),
            "{text}"
        );
        assert!(text.contains("slipway_build_info{version="), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
