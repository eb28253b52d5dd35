//! The health and metrics server: `/healthz` (the process is alive), `/readyz` (every watch has
//! synced once) and `/metrics` (Prometheus text format).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::Metrics;

/// What `/readyz` waits for: named parts that each report when they have synced.
#[derive(Clone, Debug, Default)]
pub struct Readiness {
    parts: Arc<Mutex<BTreeMap<String, bool>>>,
}

impl Readiness {
    /// Registers a part that is not ready yet.
    pub fn register(&self, part: &str) {
        self.lock().entry(part.to_owned()).or_insert(false);
    }

    /// Marks a part ready (or not ready again, e.g. while its watch relists).
    pub fn set(&self, part: &str, ready: bool) {
        self.lock().insert(part.to_owned(), ready);
    }

    /// The parts not ready yet; ready overall when empty and at least one part is registered.
    pub fn waiting_for(&self) -> Option<Vec<String>> {
        let parts = self.lock();
        if parts.is_empty() {
            return Some(vec!["start-up".to_owned()]);
        }
        let waiting: Vec<String> = parts
            .iter()
            .filter(|(_, ready)| !**ready)
            .map(|(part, _)| part.clone())
            .collect();
        (!waiting.is_empty()).then_some(waiting)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, bool>> {
        self.parts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Clone)]
struct AppState {
    readiness: Readiness,
    metrics: Metrics,
}

/// The server's routes.
pub fn router(readiness: Readiness, metrics: Metrics) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .with_state(AppState { readiness, metrics })
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.readiness.waiting_for() {
        None => (StatusCode::OK, "ok\n".to_owned()),
        Some(waiting) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("waiting for: {}\n", waiting.join(", ")),
        ),
    }
}

async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get_text(app: &Router, path: &str) -> (StatusCode, String) {
        use tower::ServiceExt;
        let request = axum::http::Request::get(path)
            .body(axum::body::Body::empty())
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn readyz_waits_for_every_registered_watch() {
        let readiness = Readiness::default();
        let app = router(readiness.clone(), Metrics::new());
        assert_eq!(
            get_text(&app, "/readyz").await.0,
            StatusCode::SERVICE_UNAVAILABLE
        );

        readiness.register("Pipeline");
        readiness.register("BuildRun");
        readiness.set("Pipeline", true);
        let (status, body) = get_text(&app, "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body, "waiting for: BuildRun\n");

        readiness.set("BuildRun", true);
        assert_eq!(
            get_text(&app, "/readyz").await,
            (StatusCode::OK, "ok\n".to_owned())
        );
    }

    #[tokio::test]
    async fn healthz_answers_before_readiness() {
        let app = router(Readiness::default(), Metrics::new());
        assert_eq!(
            get_text(&app, "/healthz").await,
            (StatusCode::OK, "ok\n".to_owned())
        );
    }

    #[tokio::test]
    async fn metrics_are_served_in_openmetrics_text() {
        let app = router(Readiness::default(), Metrics::new());
        let (status, body) = get_text(&app, "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("slipway_build_info"), "{body}");
    }
}
