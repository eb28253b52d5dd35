//! What a webhook delivery says, in one shape for every provider: the event kind, the ref it is
//! about, the commit, the changed files (when the provider lists them) and who sent it.
//!
//! Payload parsers ([`super::payload`]) produce a [`SourceEvent`]; trigger filters
//! ([`super::filter`]) judge it. Nothing here holds a secret or the raw body.

/// A source event, parsed from a verified delivery.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceEvent {
    /// What happened.
    pub kind: EventKind,
    /// The provider's own event name (`push`, `pull_request`, `Push Hook`, `repo:push`), for
    /// records and messages.
    pub event_name: String,
    /// The commit the event points at: a push's new head, a tag's commit, a pull request's head.
    pub commit: Option<String>,
    /// Paths added, modified or removed by the pushed commits; `None` when the provider's payload
    /// does not list them (Bitbucket Cloud, pull requests).
    pub changed_files: Option<Vec<String>>,
    /// Who caused it (the pusher or the pull request's author), as the provider names them.
    pub actor: Option<String>,
    /// `owner/repository`.
    pub repository: Option<String>,
    /// First line of the head commit's message.
    pub commit_message: Option<String>,
    /// The head commit's author date, RFC 3339, as the provider gives it.
    pub author_date: Option<String>,
}

/// The kind of a source event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum EventKind {
    /// A provider's hook test (GitHub `ping`, Bitbucket `diagnostics:ping`): answered, runs nothing.
    #[default]
    Ping,
    /// Commits pushed to a branch (`deleted` when the push removed the branch).
    Push {
        /// The branch name, without `refs/heads/`.
        branch: String,
        /// The push deleted the branch.
        deleted: bool,
    },
    /// A tag pushed (`deleted` when the push removed it).
    Tag {
        /// The tag name, without `refs/tags/`.
        tag: String,
        /// The push deleted the tag.
        deleted: bool,
    },
    /// A pull (merge) request event.
    PullRequest {
        /// What happened to it.
        action: PullRequestAction,
        /// Its number (GitHub, Gitea) or IID (GitLab) or id (Bitbucket).
        number: Option<u64>,
        /// The branch the changes come from (`BranchName` of the run).
        source_branch: String,
        /// The branch it would merge into (what `branches` filters).
        target_branch: String,
    },
    /// An event Slipway does not run on (issues, comments, releases…): answered, runs nothing.
    Unsupported,
}

/// A pull request action, in CodePipeline's three kinds plus the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullRequestAction {
    /// Opened or reopened.
    Open,
    /// New commits pushed to it.
    Updated,
    /// Closed or merged.
    Closed,
    /// Labelled, assigned, edited, reviewed…: starts nothing.
    Other,
}
