//! Jenkins addresses (pure): the base URL a user gave, job paths, and URLs Jenkins answers with.
//!
//! # Why every URL is rebased
//! Jenkins writes absolute URLs from its configured root URL (Manage Jenkins → System → Jenkins
//! URL), which often differs from the address the controller reaches it at (an in-cluster
//! Service in front of a public name). And those URLs come from the server: following them
//! as given would send the credentials to whatever host the answer names. So the client only
//! ever talks to the origin of `spec.url`: a URL from Jenkins keeps its path and query and is
//! put on that origin ([`JenkinsBase::rebase`]). URLs are recorded in status as Jenkins wrote
//! them (they are the links people can open; the queue list's relative ones are made absolute on
//! `spec.url`) and rebased again whenever they are read.

use hyper::Uri;

use super::error::JenkinsError;

/// A validated Jenkins base URL: `http(s)://host[:port][/prefix]`, no credentials, no query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JenkinsBase {
    /// `http://host:port`, without a trailing slash.
    origin: String,
    /// The path prefix Jenkins is served under (`/jenkins`), empty at the root.
    prefix: String,
}

impl JenkinsBase {
    /// Validates `url` (the action's `url`).
    ///
    /// # Errors
    /// [`JenkinsError::InvalidUrl`] for anything but an absolute `http(s)://` URL without
    /// credentials, query or fragment.
    pub fn parse(url: &str) -> Result<Self, JenkinsError> {
        let invalid = |reason: &str| JenkinsError::InvalidUrl {
            url: redact_credentials(url),
            reason: reason.to_owned(),
        };
        if url.contains('#') {
            return Err(invalid("it must not have a fragment"));
        }
        let uri: Uri = url
            .parse()
            .map_err(|_| invalid("it is not a URL: write e.g. `https://jenkins.example.com`"))?;
        let scheme = match uri.scheme_str() {
            Some(scheme @ ("http" | "https")) => scheme,
            _ => return Err(invalid("only http:// and https:// URLs are allowed")),
        };
        let authority = uri.authority().ok_or_else(|| invalid("it names no host"))?;
        if authority.as_str().contains('@') {
            return Err(invalid(
                "it must not carry credentials: put the username and API token in the credentials Secret",
            ));
        }
        if uri.query().is_some() {
            return Err(invalid("it must not have a query"));
        }
        Ok(Self {
            origin: format!("{scheme}://{authority}"),
            prefix: uri.path().trim_end_matches('/').to_owned(),
        })
    }

    /// The base URL with a trailing slash, e.g. `http://jenkins:8080/jenkins/`.
    pub fn root(&self) -> String {
        format!("{}{}/", self.origin, self.prefix)
    }

    /// The URL of `path`, which starts with `/` and is relative to the base (`/queue/api/json`).
    pub fn at(&self, path: &str) -> String {
        format!("{}{}{path}", self.origin, self.prefix)
    }

    /// The URL of the job `job_name`, with a trailing slash.
    ///
    /// # Errors
    /// [`JenkinsError::InvalidJobName`] (see [`job_path`]).
    pub fn job(&self, job_name: &str) -> Result<String, JenkinsError> {
        Ok(self.at(&format!("{}/", job_path(job_name)?)))
    }

    /// A URL Jenkins answered with, put on this base's origin (see the module docs): absolute
    /// URLs keep their path and query, `/path` URLs are on the origin, other relative ones
    /// (`queue/item/7/`, as the queue list writes them) are below the base.
    ///
    /// # Errors
    /// [`JenkinsError::UnexpectedAnswer`] when the text is not a URL.
    pub fn rebase(&self, url: &str) -> Result<String, JenkinsError> {
        let unexpected = || JenkinsError::UnexpectedAnswer {
            url: self.root(),
            reason: format!("Jenkins answered with {url:?}, which is not a URL"),
        };
        if url.contains("://") {
            let uri: Uri = url.parse().map_err(|_| unexpected())?;
            let path = uri
                .path_and_query()
                .map_or("/", |path_and_query| path_and_query.as_str());
            Ok(format!("{}{path}", self.origin))
        } else if url.starts_with('/') {
            Ok(format!("{}{url}", self.origin))
        } else if url.chars().any(char::is_whitespace) {
            Err(unexpected())
        } else {
            Ok(format!("{}{url}", self.root()))
        }
    }
}

/// The path of a job below the base: `folder/my-job` → `/job/folder/job/my-job`, each name
/// percent-encoded.
///
/// # Errors
/// [`JenkinsError::InvalidJobName`] for empty names, empty segments, `.` and `..`.
pub fn job_path(job_name: &str) -> Result<String, JenkinsError> {
    let invalid = |reason: &str| JenkinsError::InvalidJobName {
        job: job_name.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = job_name.trim_matches('/');
    if trimmed.is_empty() {
        return Err(invalid("it is empty"));
    }
    let mut path = String::new();
    for segment in trimmed.split('/') {
        match segment {
            "" => return Err(invalid("it has an empty segment (`//`)")),
            "." | ".." => return Err(invalid("`.` and `..` are not job names")),
            name => {
                path.push_str("/job/");
                path.push_str(&percent_encode(name, ""));
            }
        }
    }
    Ok(path)
}

/// Percent-encodes every byte of `text` except unreserved characters and `keep`.
pub fn percent_encode(text: &str, keep: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        let character = char::from(byte);
        if byte.is_ascii_alphanumeric() || "-._~".contains(character) || keep.contains(character) {
            encoded.push(character);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// `url` with any `user:password@` replaced, for messages about a URL that was refused.
fn redact_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://<credentials>@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_names_become_nested_job_paths_with_names_encoded() {
        let cases = [
            ("my-job", "/job/my-job"),
            ("folder/my-job", "/job/folder/job/my-job"),
            ("a/b/c", "/job/a/job/b/job/c"),
            ("/folder/my-job/", "/job/folder/job/my-job"),
            ("Team A/deploy prod", "/job/Team%20A/job/deploy%20prod"),
            ("release?x#y", "/job/release%3Fx%23y"),
        ];
        for (name, path) in cases {
            assert_eq!(job_path(name).unwrap(), path, "{name}");
        }
        for bad in ["", "/", "a//b", "../admin", "a/./b"] {
            assert!(
                matches!(job_path(bad), Err(JenkinsError::InvalidJobName { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn base_urls_are_http_without_credentials() {
        let base = JenkinsBase::parse("https://ci.example.com/jenkins/").unwrap();
        assert_eq!(base.root(), "https://ci.example.com/jenkins/");
        assert_eq!(
            base.job("folder/app").unwrap(),
            "https://ci.example.com/jenkins/job/folder/job/app/"
        );
        assert_eq!(
            JenkinsBase::parse("http://jenkins:8080").unwrap().root(),
            "http://jenkins:8080/"
        );
        for (bad, reason) in [
            ("ftp://jenkins/", "only http"),
            ("jenkins:8080", "only http"),
            (
                "https://admin:s3cr3t@jenkins/",
                "must not carry credentials",
            ),
            ("https://jenkins/?token=x", "must not have a query"),
            ("https://jenkins/#top", "fragment"),
        ] {
            let error = JenkinsBase::parse(bad).unwrap_err().to_string();
            assert!(error.contains(reason), "{bad}: {error}");
            assert!(!error.contains("s3cr3t"), "{error}");
        }
    }

    #[test]
    fn urls_from_jenkins_are_put_on_the_configured_origin() {
        let base = JenkinsBase::parse("http://jenkins.ci.svc:8080/jenkins").unwrap();
        let cases = [
            (
                "https://jenkins.example.com/jenkins/queue/item/42/",
                "http://jenkins.ci.svc:8080/jenkins/queue/item/42/",
            ),
            (
                "http://evil.example.net/jenkins/job/app/7/",
                "http://jenkins.ci.svc:8080/jenkins/job/app/7/",
            ),
            (
                "/jenkins/job/app/7/",
                "http://jenkins.ci.svc:8080/jenkins/job/app/7/",
            ),
            (
                "queue/item/42/",
                "http://jenkins.ci.svc:8080/jenkins/queue/item/42/",
            ),
        ];
        for (answered, used) in cases {
            assert_eq!(base.rebase(answered).unwrap(), used, "{answered}");
        }
        assert!(base.rebase("not a url").is_err());
    }
}
