//! Why a call to Jenkins failed, and whether retrying can help.

use crate::rollout::http_call::HttpCallError;

/// A failed call to Jenkins. [`JenkinsError::is_permanent`] tells a spec or Jenkins-side
/// problem (fail the action, tell the user) from a passing one (requeue with backoff).
///
/// No message ever holds the API token: URLs with credentials are refused before any call,
/// and the token only travels in the `Authorization` header.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JenkinsError {
    /// The action's `url` is unusable.
    #[error("failed to use Jenkins URL {url:?} from spec url: {reason}")]
    InvalidUrl {
        /// The URL, credentials redacted.
        url: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The action's `jobName` is unusable.
    #[error(
        "failed to use Jenkins job {job:?} from spec jobName: {reason}; write e.g. `folder/my-job`"
    )]
    InvalidJobName {
        /// The job name.
        job: String,
        /// What is wrong.
        reason: String,
    },
    /// 401 or 403.
    #[error(
        "failed to call Jenkins: Jenkins refused the credentials in Secret {secret} (HTTP {status} from {url}): check its username and token, and that the user may build the job"
    )]
    CredentialsRefused {
        /// The Secret's name.
        secret: String,
        /// The URL called.
        url: String,
        /// 401 or 403.
        status: u16,
    },
    /// 404 on the job.
    #[error(
        "failed to find Jenkins job {job}: {url} answered HTTP 404; check spec jobName and url (Jenkins also answers 404 for jobs the user in Secret {secret} may not read)"
    )]
    JobNotFound {
        /// The job name.
        job: String,
        /// The job's URL.
        url: String,
        /// The Secret's name.
        secret: String,
    },
    /// The action passes parameters the job does not declare (Jenkins would drop them).
    #[error(
        "failed to trigger Jenkins job {job}: it does not declare the parameters {names}, and Jenkins drops undeclared parameters, so declare them in the job (a Jenkinsfile's `parameters` block only registers after one run) or remove them from spec parameters"
    )]
    ParametersNotDeclared {
        /// The job name.
        job: String,
        /// The undeclared names, comma-separated.
        names: String,
    },
    /// A 3xx: redirects are not followed, so that credentials never go to another address.
    #[error(
        "failed to call Jenkins: {url} redirected (HTTP {status}) to {location}; redirects are not followed; set spec url to the address Jenkins serves its API at"
    )]
    Redirected {
        /// The URL called.
        url: String,
        /// The 3xx status.
        status: u16,
        /// Where it pointed.
        location: String,
    },
    /// Another 4xx.
    #[error("failed to call Jenkins: {url} rejected the request with HTTP {status}")]
    Rejected {
        /// The URL called.
        url: String,
        /// The status.
        status: u16,
    },
    /// A 5xx.
    #[error("unable to reach Jenkins: {url} answered HTTP {status}; retrying")]
    Unavailable {
        /// The URL called.
        url: String,
        /// The status.
        status: u16,
    },
    /// Connection, TLS or timeout.
    #[error("unable to reach Jenkins: {0}; retrying")]
    Transport(String),
    /// A 2xx whose content is not what the Jenkins API returns.
    #[error("unable to read Jenkins' answer from {url}: {reason}; retrying")]
    UnexpectedAnswer {
        /// The URL called.
        url: String,
        /// What was wrong.
        reason: String,
    },
}

impl JenkinsError {
    /// Whether retrying cannot help: the spec, the Secret or the Jenkins job must change.
    pub fn is_permanent(&self) -> bool {
        !matches!(
            self,
            Self::Unavailable { .. } | Self::Transport(_) | Self::UnexpectedAnswer { .. }
        )
    }

    /// A PascalCase reason for Events and metrics.
    pub fn category(&self) -> &'static str {
        match self {
            Self::InvalidUrl { .. } => "JenkinsInvalidUrl",
            Self::InvalidJobName { .. } => "JenkinsInvalidJobName",
            Self::CredentialsRefused { .. } => "JenkinsCredentialsRefused",
            Self::JobNotFound { .. } => "JenkinsJobNotFound",
            Self::ParametersNotDeclared { .. } => "JenkinsParametersNotDeclared",
            Self::Redirected { .. } => "JenkinsRedirected",
            Self::Rejected { .. } => "JenkinsRejected",
            Self::Unavailable { .. } => "JenkinsUnavailable",
            Self::Transport(_) => "JenkinsUnreachable",
            Self::UnexpectedAnswer { .. } => "JenkinsUnexpectedAnswer",
        }
    }
}

impl From<HttpCallError> for JenkinsError {
    fn from(error: HttpCallError) -> Self {
        match error {
            HttpCallError::InvalidRequest { url, message } => Self::InvalidUrl {
                url,
                reason: message,
            },
            other => Self::Transport(other.to_string()),
        }
    }
}
