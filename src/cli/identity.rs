//! Who is calling, for `trigger.actor` (start) and `approvedBy` (approve, reject).
//!
//! The API server's own answer comes first: a `SelfSubjectReview` (`authentication.k8s.io/v1`,
//! served since Kubernetes 1.28) returns the user name RBAC sees. A server that does not serve it
//! (older clusters, the test cluster) gets the kubeconfig context's user name instead.
//!
//! # Caveats
//! The fallback is self-reported: anyone can give their kubeconfig user any name, so it labels an
//! answer rather than proving who gave it. Only the API server's audit log and `managedFields`
//! (field manager `kubectl-slipway`) are evidence.

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kube::Api;
use kube::api::PostParams;

use super::cluster::{Connection, explain};

/// The caller's name, and whether the API server vouched for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The user name.
    pub name: String,
    /// `true` when it came from a SelfSubjectReview, `false` when from the kubeconfig.
    pub verified: bool,
}

/// Asks the API server who the caller is, else takes the kubeconfig context's user; `None`
/// when neither names anyone.
///
/// # Errors
/// When the review fails for another reason than the server not serving it.
pub async fn caller(connection: &Connection) -> anyhow::Result<Option<Caller>> {
    let reviews: Api<SelfSubjectReview> = Api::all(connection.client.clone());
    match reviews
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
    {
        Ok(review) => Ok(choose(Some(&review), connection.kubeconfig_user.as_deref())),
        Err(kube::Error::Api(status)) if status.code == 404 => {
            Ok(choose(None, connection.kubeconfig_user.as_deref()))
        }
        Err(error) => Err(explain(error, &connection.server)
            .context("unable to ask the API server who you are (SelfSubjectReview)")),
    }
}

/// The reviewed user name when the review named one, else the kubeconfig's.
pub fn choose(review: Option<&SelfSubjectReview>, kubeconfig_user: Option<&str>) -> Option<Caller> {
    let reviewed = review
        .and_then(|review| review.status.as_ref())
        .and_then(|status| status.user_info.as_ref())
        .and_then(|user| user.username.clone())
        .filter(|name| !name.is_empty());
    match (reviewed, kubeconfig_user) {
        (Some(name), _) => Some(Caller {
            name,
            verified: true,
        }),
        (None, Some(name)) => Some(Caller {
            name: name.to_owned(),
            verified: false,
        }),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(username: &str) -> SelfSubjectReview {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview",
            "metadata": {},
            "status": {"userInfo": {"username": username, "groups": ["system:authenticated"]}}
        }))
        .expect("a valid review")
    }

    #[test]
    fn the_api_servers_answer_wins_over_the_kubeconfig() {
        assert_eq!(
            choose(Some(&review("jane@example.com")), Some("admin")),
            Some(Caller {
                name: "jane@example.com".into(),
                verified: true
            })
        );
    }

    #[test]
    fn without_a_review_the_kubeconfig_user_is_taken_as_self_reported() {
        assert_eq!(
            choose(None, Some("admin")),
            Some(Caller {
                name: "admin".into(),
                verified: false
            })
        );
        assert_eq!(
            choose(Some(&review("")), Some("admin")).map(|caller| caller.verified),
            Some(false)
        );
        assert_eq!(choose(None, None), None);
    }
}
