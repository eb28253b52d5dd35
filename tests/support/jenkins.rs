//! A fake Jenkins on 127.0.0.1:0 that speaks the part of the REST API Slipway uses.
//!
//! Faithful where the client depends on it: served under a path prefix (`/ci`) and writing
//! every URL from a configured root URL on another host (as a Jenkins behind a proxy does),
//! basic auth (401 for unknown credentials, 403 for a user without Build permission), a crumb
//! issuer whose crumb is valid only with its session cookie, folders (`/job/a/job/b`),
//! undeclared parameters dropped, queue items that become builds, are cancelled or are
//! forgotten, and builds that end with a result. The test drives time: nothing starts or ends
//! until it says so.
#![allow(dead_code, reason = "each test uses a different subset")]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

/// The path Jenkins is served under.
pub const PREFIX: &str = "/ci";
/// The root URL Jenkins writes into its answers (not the address it is reached at).
pub const PUBLIC_ROOT: &str = "https://jenkins.example.com/ci/";
/// A user who may build.
pub const USER: (&str, &str) = ("slipway", "t0ken-s3cret");
/// A user who may only read.
pub const READER: (&str, &str) = ("reader", "r3ader-s3cret");
const CRUMB: &str = "crumb-7e1";
const SESSION: &str = "JSESSIONID.node0=session-42";

#[derive(Debug, Default)]
struct FakeJob {
    declared: Vec<String>,
    redirects: bool,
    builds: Vec<FakeBuild>,
}

#[derive(Debug)]
struct FakeBuild {
    number: i64,
    parameters: Vec<(String, String)>,
    building: bool,
    result: Option<String>,
}

#[derive(Debug)]
struct FakeQueueItem {
    id: i64,
    job: String,
    parameters: Vec<(String, String)>,
    cancelled: bool,
    build: Option<i64>,
    forgotten: bool,
}

/// One accepted trigger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trigger {
    /// The job path (`folder/app`).
    pub job: String,
    /// The parameters Jenkins kept.
    pub parameters: Vec<(String, String)>,
    /// `build` or `buildWithParameters`.
    pub endpoint: String,
}

#[derive(Debug, Default)]
struct State {
    crumbs: bool,
    unavailable: bool,
    jobs: BTreeMap<String, FakeJob>,
    queue: Vec<FakeQueueItem>,
    triggers: Vec<Trigger>,
}

/// A running fake Jenkins.
#[derive(Clone)]
pub struct FakeJenkins {
    /// The address to configure (`http://127.0.0.1:PORT/ci`).
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl FakeJenkins {
    /// Starts a fake with CSRF protection on and no jobs.
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State {
            crumbs: true,
            ..State::default()
        }));
        let shared = state.clone();
        let router = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = shared.clone();
                async move { handle(&state, &method, &uri, &headers, &body) }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            url: format!("http://{address}{PREFIX}"),
            state,
        }
    }

    /// Adds a job at `path` (`folder/app`) declaring the string parameters `declared`.
    pub fn add_job(&self, path: &str, declared: &[&str]) {
        self.state.lock().unwrap().jobs.insert(
            path.to_owned(),
            FakeJob {
                declared: declared.iter().map(|name| (*name).to_owned()).collect(),
                ..FakeJob::default()
            },
        );
    }

    /// Adds a job whose every URL redirects to another host.
    pub fn add_redirecting_job(&self, path: &str) {
        self.state.lock().unwrap().jobs.insert(
            path.to_owned(),
            FakeJob {
                redirects: true,
                ..FakeJob::default()
            },
        );
    }

    /// Turns CSRF protection (the crumb issuer) on or off.
    pub fn set_crumbs(&self, enabled: bool) {
        self.state.lock().unwrap().crumbs = enabled;
    }

    /// Makes every request answer 503 (or not).
    pub fn set_unavailable(&self, unavailable: bool) {
        self.state.lock().unwrap().unavailable = unavailable;
    }

    /// Starts the oldest waiting queue item of `job`; returns the build number.
    pub fn start_next(&self, job: &str) -> i64 {
        let mut state = self.state.lock().unwrap();
        let state = &mut *state;
        let item = state
            .queue
            .iter_mut()
            .find(|item| item.job == job && item.build.is_none() && !item.cancelled)
            .expect("a waiting queue item");
        let builds = &mut state.jobs.get_mut(job).unwrap().builds;
        let number = builds.len() as i64 + 1;
        builds.push(FakeBuild {
            number,
            parameters: item.parameters.clone(),
            building: true,
            result: None,
        });
        item.build = Some(number);
        number
    }

    /// Ends build `number` of `job` with `result`.
    pub fn finish(&self, job: &str, number: i64, result: &str) {
        let mut state = self.state.lock().unwrap();
        let build = &mut state.jobs.get_mut(job).unwrap().builds[(number - 1) as usize];
        build.building = false;
        build.result = Some(result.to_owned());
    }

    /// Cancels the oldest waiting queue item of `job`.
    pub fn cancel_next(&self, job: &str) {
        let mut state = self.state.lock().unwrap();
        let item = state
            .queue
            .iter_mut()
            .find(|item| item.job == job && item.build.is_none() && !item.cancelled)
            .expect("a waiting queue item");
        item.cancelled = true;
    }

    /// Forgets every queue item that left the queue (Jenkins does after about five minutes).
    pub fn forget_left_items(&self) {
        for item in &mut self.state.lock().unwrap().queue {
            if item.build.is_some() || item.cancelled {
                item.forgotten = true;
            }
        }
    }

    /// The triggers accepted so far.
    pub fn triggers(&self) -> Vec<Trigger> {
        self.state.lock().unwrap().triggers.clone()
    }
}

fn json_response(value: Value) -> Response {
    axum::Json(value).into_response()
}

fn status(code: StatusCode, text: &str) -> Response {
    (code, text.to_owned()).into_response()
}

/// Which known user the request authenticates as, if any.
fn user(headers: &HeaderMap) -> Option<&'static str> {
    let header = headers.get("authorization")?.to_str().ok()?;
    let encoded = header.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let pair = String::from_utf8(decoded).ok()?;
    [USER, READER]
        .into_iter()
        .find(|(name, token)| pair == format!("{name}:{token}"))
        .map(|(name, _)| name)
}

fn handle(
    state: &Mutex<State>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let mut state = state.lock().unwrap();
    if state.unavailable {
        return status(StatusCode::SERVICE_UNAVAILABLE, "Jenkins is restarting");
    }
    let Some(path) = uri.path().strip_prefix(PREFIX) else {
        return status(StatusCode::NOT_FOUND, "not under the prefix");
    };
    let Some(user) = user(headers) else {
        return status(StatusCode::UNAUTHORIZED, "Invalid password/token for user");
    };
    match (method.as_str(), path) {
        ("GET", "/crumbIssuer/api/json") if state.crumbs => (
            [("set-cookie", format!("{SESSION}; Path=/; HttpOnly"))],
            axum::Json(json!({
                "_class": "hudson.security.csrf.DefaultCrumbIssuer",
                "crumb": CRUMB,
                "crumbRequestField": "Jenkins-Crumb"
            })),
        )
            .into_response(),
        ("GET", "/queue/api/json") => json_response(queue_list(&state)),
        _ if path.starts_with("/queue/item/") => queue_item(&state, path),
        _ if path.starts_with("/job/") => {
            job_request(&mut state, method, path, headers, body, user)
        }
        _ => status(StatusCode::NOT_FOUND, "no such page"),
    }
}

fn parameters_action(parameters: &[(String, String)]) -> Value {
    json!([
        {"_class": "hudson.model.CauseAction"},
        {
            "_class": "hudson.model.ParametersAction",
            "parameters": parameters.iter().map(|(name, value)| json!({
                "_class": "hudson.model.StringParameterValue", "name": name, "value": value
            })).collect::<Vec<_>>()
        }
    ])
}

fn job_url(job: &str) -> String {
    let path: Vec<String> = job.split('/').map(|name| format!("job/{name}/")).collect();
    format!("{PUBLIC_ROOT}{}", path.concat())
}

fn queue_list(state: &State) -> Value {
    let items: Vec<Value> = state
        .queue
        .iter()
        .filter(|item| item.build.is_none() && !item.cancelled)
        .map(|item| {
            json!({
                "_class": "hudson.model.Queue$BuildableItem",
                "id": item.id,
                "url": format!("queue/item/{}/", item.id),
                "task": {"_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob", "url": job_url(&item.job)},
                "actions": parameters_action(&item.parameters),
                "why": "Waiting for next available executor"
            })
        })
        .collect();
    json!({"_class": "hudson.model.Queue", "items": items})
}

fn queue_item(state: &State, path: &str) -> Response {
    let id: Option<i64> = path
        .strip_prefix("/queue/item/")
        .and_then(|rest| rest.strip_suffix("/api/json"))
        .and_then(|id| id.parse().ok());
    let Some(item) = id.and_then(|id| {
        state
            .queue
            .iter()
            .find(|item| item.id == id && !item.forgotten)
    }) else {
        return status(StatusCode::NOT_FOUND, "no such queue item");
    };
    json_response(match (item.cancelled, item.build) {
        (true, _) => {
            json!({"_class": "hudson.model.Queue$LeftItem", "id": item.id, "cancelled": true, "executable": null})
        }
        (false, Some(number)) => json!({
            "_class": "hudson.model.Queue$LeftItem", "id": item.id, "cancelled": false,
            "executable": {"_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun", "number": number, "url": format!("{}{number}/", job_url(&item.job))}
        }),
        (false, None) => json!({
            "_class": "hudson.model.Queue$BuildableItem", "id": item.id,
            "why": "Waiting for next available executor", "executable": null
        }),
    })
}

fn build_json(job: &str, build: &FakeBuild) -> Value {
    json!({
        "_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun",
        "number": build.number,
        "url": format!("{}{}/", job_url(job), build.number),
        "building": build.building,
        "result": build.result,
        "actions": parameters_action(&build.parameters),
    })
}

fn job_request(
    state: &mut State,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    user: &str,
) -> Response {
    // `/job/a/job/b/rest…` → job "a/b" and the rest.
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut names = Vec::new();
    let mut index = 0;
    while index + 1 < segments.len() && segments[index] == "job" {
        names.push(segments[index + 1]);
        index += 2;
    }
    let job_name = names.join("/");
    let rest = &segments[index..];
    let crumbs = state.crumbs;
    let Some(job) = state.jobs.get_mut(&job_name) else {
        return status(StatusCode::NOT_FOUND, "no such job");
    };
    if job.redirects {
        return (
            StatusCode::FOUND,
            [("location", "http://login.example.net/sso")],
        )
            .into_response();
    }
    match (method.as_str(), rest) {
        ("GET", ["api", "json"]) => {
            let mut property = vec![json!({"_class": "jenkins.model.BuildDiscarderProperty"})];
            if !job.declared.is_empty() {
                property.push(json!({
                    "_class": "hudson.model.ParametersDefinitionProperty",
                    "parameterDefinitions": job.declared.iter().map(|name| json!({"name": name})).collect::<Vec<_>>()
                }));
            }
            let builds: Vec<Value> = job
                .builds
                .iter()
                .rev()
                .map(|build| build_json(&job_name, build))
                .collect();
            json_response(json!({"property": property, "builds": builds}))
        }
        ("GET", [number, "api", "json"]) => {
            match number
                .parse::<usize>()
                .ok()
                .and_then(|number| job.builds.get(number.wrapping_sub(1)))
            {
                Some(build) => json_response(build_json(&job_name, build)),
                None => status(StatusCode::NOT_FOUND, "no such build"),
            }
        }
        ("POST", [endpoint @ ("build" | "buildWithParameters")]) => {
            if user != USER.0 {
                return status(
                    StatusCode::FORBIDDEN,
                    "reader is missing the Job/Build permission",
                );
            }
            let crumb_ok = headers
                .get("jenkins-crumb")
                .is_some_and(|value| value == CRUMB)
                && headers
                    .get("cookie")
                    .and_then(|value| value.to_str().ok())
                    .is_some_and(|cookie| cookie.contains(SESSION));
            if crumbs && !crumb_ok {
                return status(
                    StatusCode::FORBIDDEN,
                    "No valid crumb was included in the request",
                );
            }
            let parameters: Vec<(String, String)> = form_urlencoded::parse(body)
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .filter(|(name, _)| job.declared.contains(name))
                .collect();
            let id = state.queue.len() as i64 + 100;
            state.queue.push(FakeQueueItem {
                id,
                job: job_name.clone(),
                parameters: parameters.clone(),
                cancelled: false,
                build: None,
                forgotten: false,
            });
            state.triggers.push(Trigger {
                job: job_name,
                parameters,
                endpoint: (*endpoint).to_owned(),
            });
            (
                StatusCode::CREATED,
                [("location", format!("{PUBLIC_ROOT}queue/item/{id}/"))],
            )
                .into_response()
        }
        _ => status(StatusCode::NOT_FOUND, "no such page"),
    }
}
