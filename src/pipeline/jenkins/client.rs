//! The Jenkins REST calls: trigger, search by action id, read a queue item, read a build, and
//! [`JenkinsClient::poll`], which runs the steps [`super::follow`] decides.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use hyper::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::address::{JenkinsBase, percent_encode};
use super::error::JenkinsError;
use super::follow::{
    BuildState, FoundRun, NextStep, Observation, Progress, QueueItem, Triggered, decide_next_step,
};
use super::{ACTION_ID_PARAMETER, RECENT_BUILDS};
use crate::api::execution::ExternalRun;
use crate::rollout::http_call::{self, HttpRequest, HttpResponse};

/// Bound on each call to Jenkins.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// Steps one poll may take (search, trigger, then one read).
const MAX_STEPS_PER_POLL: usize = 4;

/// A Jenkins user and API token, read from the action's Secret.
#[derive(Clone, PartialEq, Eq)]
pub struct JenkinsCredentials {
    /// The user name.
    pub username: String,
    /// The API token (or password).
    pub token: String,
}

impl fmt::Debug for JenkinsCredentials {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("JenkinsCredentials")
            .field("username", &self.username)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// The job an action runs, with its parameters (variables already substituted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JenkinsJob<'a> {
    /// The job path, e.g. `folder/my-job`.
    pub name: &'a str,
    /// Build parameters, in order.
    pub parameters: &'a [(String, String)],
    /// The action's id, sent as `SLIPWAY_ACTION_ID` (unique per action attempt).
    pub action_id: &'a str,
}

/// A client for one Jenkins, authenticated as one user.
#[derive(Clone, Debug)]
pub struct JenkinsClient {
    base: JenkinsBase,
    credentials: JenkinsCredentials,
    secret: String,
    timeout: Duration,
}

/// `parameterDefinitions` of a job, as `…/api/json?tree=property[parameterDefinitions[name]]`.
#[derive(Debug, Default, Deserialize)]
struct JobDefinition {
    #[serde(default)]
    property: Vec<JobProperty>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobProperty {
    #[serde(default)]
    parameter_definitions: Vec<NamedParameter>,
}

#[derive(Debug, Default, Deserialize)]
struct NamedParameter {
    name: String,
    #[serde(default)]
    value: serde_json::Value,
}

/// An action list entry; parameters sit in the `ParametersAction` one.
#[derive(Debug, Default, Deserialize)]
struct RunAction {
    #[serde(default)]
    parameters: Vec<NamedParameter>,
}

#[derive(Debug, Default, Deserialize)]
struct QueueList {
    #[serde(default)]
    items: Vec<QueuedItem>,
}

#[derive(Debug, Default, Deserialize)]
struct QueuedItem {
    url: String,
    #[serde(default)]
    task: Option<QueuedTask>,
    #[serde(default)]
    actions: Vec<RunAction>,
}

#[derive(Debug, Default, Deserialize)]
struct QueuedTask {
    #[serde(default)]
    url: String,
}

#[derive(Debug, Default, Deserialize)]
struct BuildList {
    #[serde(default)]
    builds: Vec<ListedBuild>,
}

#[derive(Debug, Default, Deserialize)]
struct ListedBuild {
    #[serde(flatten)]
    state: BuildState,
    #[serde(default)]
    actions: Vec<RunAction>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Crumb {
    crumb: String,
    crumb_request_field: String,
}

/// What a call's status means, before its body is read.
enum Answer {
    Ok(HttpResponse),
    NotFound,
}

impl JenkinsClient {
    /// A client for the Jenkins at `url`, authenticating with `credentials` read from the
    /// Secret named `secret` (named in messages).
    ///
    /// # Errors
    /// [`JenkinsError::InvalidUrl`].
    pub fn new(
        url: &str,
        credentials: JenkinsCredentials,
        secret: impl Into<String>,
    ) -> Result<Self, JenkinsError> {
        Ok(Self {
            base: JenkinsBase::parse(url)?,
            credentials,
            secret: secret.into(),
            timeout: CALL_TIMEOUT,
        })
    }

    /// The same client with another bound on each call.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs the steps from `recorded` until the run waits on Jenkins, ends, or was just
    /// triggered (see [`super::follow`]); the caller writes [`Progress::record`] and the message
    /// to the action's status and polls again later unless [`NextStep::Finished`].
    ///
    /// # Errors
    /// [`JenkinsError`]; the record is unchanged then, so the next poll repeats the step.
    pub async fn poll(
        &self,
        job: &JenkinsJob<'_>,
        recorded: &ExternalRun,
    ) -> Result<Progress, JenkinsError> {
        let mut progress = decide_next_step(recorded, None);
        for _ in 0..MAX_STEPS_PER_POLL {
            let observed = match &progress.next {
                NextStep::Finished(_) => return Ok(progress),
                NextStep::Search => {
                    Observation::Search(self.find_run(job.name, job.action_id).await?)
                }
                NextStep::Trigger => Observation::Triggered(self.trigger(job).await?),
                NextStep::ReadQueue { queue_url } => match self.read_queue_item(queue_url).await? {
                    Some(item) => Observation::Queue(item),
                    None => Observation::QueueGone,
                },
                NextStep::ReadBuild { build_url } => match self.read_build(build_url).await? {
                    Some(build) => Observation::Build(build),
                    None => Observation::BuildGone,
                },
            };
            let triggered = matches!(observed, Observation::Triggered(_));
            let before = progress.record.clone();
            progress = decide_next_step(&before, Some(observed));
            let must_continue = matches!(progress.next, NextStep::Search | NextStep::Trigger);
            // After a trigger, return at once: the sooner its queue URL is in the status, the
            // narrower the window in which a restart relies on the search by action id.
            if triggered || (!must_continue && progress.record == before) {
                break;
            }
        }
        Ok(progress)
    }

    /// Triggers `job` once: `buildWithParameters` with the parameters and
    /// `SLIPWAY_ACTION_ID`, or `build` when the job declares no parameters at all.
    ///
    /// # Errors
    /// [`JenkinsError::ParametersNotDeclared`] when the job would drop some of
    /// `job.parameters`, and the errors of any call.
    pub async fn trigger(&self, job: &JenkinsJob<'_>) -> Result<Triggered, JenkinsError> {
        let job_url = self.base.job(job.name)?;
        let declared = self.declared_parameters(job.name, &job_url).await?;
        let undeclared: Vec<&str> = job
            .parameters
            .iter()
            .map(|(name, _)| name.as_str())
            .filter(|name| !declared.iter().any(|known| known == name))
            .collect();
        if !undeclared.is_empty() {
            return Err(JenkinsError::ParametersNotDeclared {
                job: job.name.to_owned(),
                names: undeclared.join(", "),
            });
        }
        let findable = declared.iter().any(|name| name == ACTION_ID_PARAMETER);
        let (url, body) = if declared.is_empty() {
            (format!("{job_url}build"), None)
        } else {
            let mut form = form_urlencoded::Serializer::new(String::new());
            for (name, value) in job.parameters {
                form.append_pair(name, value);
            }
            form.append_pair(ACTION_ID_PARAMETER, job.action_id);
            (format!("{job_url}buildWithParameters"), Some(form.finish()))
        };

        let mut request = self.request(Method::POST, &url);
        if let Some(body) = body {
            request.body = Some((
                "application/x-www-form-urlencoded".to_owned(),
                body.into_bytes(),
            ));
        }
        request.headers.extend(self.crumb_headers().await?);
        let Answer::Ok(response) = self.call(&request).await? else {
            return Err(self.job_not_found(job.name, &job_url));
        };
        let location =
            response
                .header("location")
                .ok_or_else(|| JenkinsError::UnexpectedAnswer {
                    url: url.clone(),
                    reason: format!(
                        "HTTP {} without a Location header naming the queue item",
                        response.status
                    ),
                })?;
        Ok(Triggered {
            queue_url: location.to_owned(),
            findable,
        })
    }

    /// Looks for a run triggered with `SLIPWAY_ACTION_ID=action_id`: in the queue first, then
    /// in the job's most recent builds (the oldest match, should a rebuild have copied the
    /// parameters).
    ///
    /// # Errors
    /// The errors of the calls; a missing job is [`JenkinsError::JobNotFound`].
    pub async fn find_run(
        &self,
        job_name: &str,
        action_id: &str,
    ) -> Result<Option<FoundRun>, JenkinsError> {
        let job_url = self.base.job(job_name)?;
        let tree = "items[url,task[url],actions[parameters[name,value]]]";
        let queue: QueueList = self
            .read_json(
                &self
                    .base
                    .at(&format!("/queue/api/json?tree={}", encode_tree(tree))),
            )
            .await?
            .unwrap_or_default();
        for item in queue.items {
            let same_job = match &item.task {
                Some(task) => self.base.rebase(&task.url)? == job_url,
                None => false,
            };
            if same_job && carries(&item.actions, action_id) {
                return Ok(Some(FoundRun::Queued {
                    queue_url: self.base.rebase(&item.url)?,
                }));
            }
        }
        let tree = format!(
            "builds[number,url,building,result,actions[parameters[name,value]]]{{0,{RECENT_BUILDS}}}"
        );
        let builds: BuildList = self
            .read_json(&format!("{job_url}api/json?tree={}", encode_tree(&tree)))
            .await?
            .ok_or_else(|| self.job_not_found(job_name, &job_url))?;
        Ok(builds
            .builds
            .into_iter()
            .rev()
            .find(|build| carries(&build.actions, action_id))
            .map(|build| FoundRun::Build(build.state)))
    }

    /// Reads a queue item; `None` when Jenkins no longer knows it.
    ///
    /// # Errors
    /// The errors of the call.
    pub async fn read_queue_item(
        &self,
        queue_url: &str,
    ) -> Result<Option<QueueItem>, JenkinsError> {
        let url = format!("{}api/json", with_slash(&self.base.rebase(queue_url)?));
        self.read_json(&url).await
    }

    /// Reads a build; `None` when it no longer exists.
    ///
    /// # Errors
    /// The errors of the call.
    pub async fn read_build(&self, build_url: &str) -> Result<Option<BuildState>, JenkinsError> {
        let url = format!(
            "{}api/json?tree={}",
            with_slash(&self.base.rebase(build_url)?),
            encode_tree("number,url,building,result")
        );
        self.read_json(&url).await
    }

    /// The names of the parameters `job` declares.
    async fn declared_parameters(
        &self,
        job_name: &str,
        job_url: &str,
    ) -> Result<Vec<String>, JenkinsError> {
        let url = format!(
            "{job_url}api/json?tree={}",
            encode_tree("property[parameterDefinitions[name]]")
        );
        let definition: JobDefinition = self
            .read_json(&url)
            .await?
            .ok_or_else(|| self.job_not_found(job_name, job_url))?;
        Ok(definition
            .property
            .into_iter()
            .flat_map(|property| property.parameter_definitions)
            .map(|parameter| parameter.name)
            .collect())
    }

    /// The crumb header and session cookie for a POST, when Jenkins issues crumbs (CSRF
    /// protection on); Jenkins ties a crumb to the session it was issued in.
    async fn crumb_headers(&self) -> Result<Vec<(String, String)>, JenkinsError> {
        let url = self.base.at("/crumbIssuer/api/json");
        let Answer::Ok(response) = self.call(&self.request(Method::GET, &url)).await? else {
            return Ok(Vec::new());
        };
        let crumb: Crumb = parse(&url, &response)?;
        let cookies: Vec<&str> = response
            .headers
            .iter()
            .filter(|(name, _)| name == "set-cookie")
            .filter_map(|(_, value)| value.split(';').next())
            .map(str::trim)
            .filter(|cookie| !cookie.is_empty())
            .collect();
        let mut headers = vec![(crumb.crumb_request_field, crumb.crumb)];
        if !cookies.is_empty() {
            headers.push(("cookie".to_owned(), cookies.join("; ")));
        }
        Ok(headers)
    }

    async fn read_json<T: DeserializeOwned>(&self, url: &str) -> Result<Option<T>, JenkinsError> {
        match self.call(&self.request(Method::GET, url)).await? {
            Answer::Ok(response) => parse(url, &response).map(Some),
            Answer::NotFound => Ok(None),
        }
    }

    fn request(&self, method: Method, url: &str) -> HttpRequest {
        let mut request = HttpRequest::get(url, self.timeout);
        request.method = method;
        let pair = format!("{}:{}", self.credentials.username, self.credentials.token);
        request.headers = vec![
            (
                "authorization".to_owned(),
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                ),
            ),
            ("accept".to_owned(), "application/json".to_owned()),
        ];
        request
    }

    /// Sends `request` and sorts its status into an answer or an error.
    async fn call(&self, request: &HttpRequest) -> Result<Answer, JenkinsError> {
        let response = http_call::send(request).await?;
        let url = request.url.clone();
        match response.status {
            200..=299 => Ok(Answer::Ok(response)),
            404 => Ok(Answer::NotFound),
            401 | 403 => Err(JenkinsError::CredentialsRefused {
                secret: self.secret.clone(),
                url,
                status: response.status,
            }),
            status @ 300..=399 => Err(JenkinsError::Redirected {
                url,
                status,
                location: response.header("location").unwrap_or("nowhere").to_owned(),
            }),
            status @ 500..=599 => Err(JenkinsError::Unavailable { url, status }),
            status => Err(JenkinsError::Rejected { url, status }),
        }
    }

    fn job_not_found(&self, job_name: &str, job_url: &str) -> JenkinsError {
        JenkinsError::JobNotFound {
            job: job_name.to_owned(),
            url: job_url.to_owned(),
            secret: self.secret.clone(),
        }
    }
}

fn parse<T: DeserializeOwned>(url: &str, response: &HttpResponse) -> Result<T, JenkinsError> {
    serde_json::from_str(&response.body).map_err(|error| JenkinsError::UnexpectedAnswer {
        url: url.to_owned(),
        reason: format!("not the JSON of the Jenkins API ({error})"),
    })
}

/// Whether some action of a queue item or build carries `SLIPWAY_ACTION_ID=action_id`.
fn carries(actions: &[RunAction], action_id: &str) -> bool {
    actions
        .iter()
        .flat_map(|action| &action.parameters)
        .any(|parameter| {
            parameter.name == ACTION_ID_PARAMETER && parameter.value.as_str() == Some(action_id)
        })
}

/// A `tree` query value: brackets and braces are not allowed unencoded in a URI.
fn encode_tree(tree: &str) -> String {
    percent_encode(tree, ",")
}

fn with_slash(url: &str) -> String {
    if url.ends_with('/') {
        url.to_owned()
    } else {
        format!("{url}/")
    }
}
