//! Loading CRD manifests from files (the repository's `crds/`, the HTTPRoute fixture).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::cluster::Cluster;
use crate::error::ApiError;
use crate::gvr::Gvr;
use crate::meta;

/// Why CRDs could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum CrdFileError {
    /// A file or directory could not be read.
    #[error("unable to read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not YAML.
    #[error("unable to parse {path}: {message}")]
    Yaml {
        /// The path.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The cluster refused a CRD.
    #[error("unable to apply CRD {name} from {path}: {source}")]
    Api {
        /// The path.
        path: PathBuf,
        /// The CRD name.
        name: String,
        /// The API error.
        source: ApiError,
    },
}

/// The HTTPRoute CRD fixture (gateway.networking.k8s.io/v1, trimmed to what Slipway touches).
pub const HTTPROUTE_CRD: &str = include_str!("../fixtures/httproute-crd.yaml");

fn crds_gvr() -> Gvr {
    Gvr::new("apiextensions.k8s.io", "v1", "customresourcedefinitions")
}

/// The YAML documents of a text (empty documents skipped).
///
/// # Errors
/// The parser's message.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    let documents: Vec<Value> =
        serde_saphyr::from_multiple(text).map_err(|error| error.to_string())?;
    Ok(documents
        .into_iter()
        .filter(|document| !document.is_null())
        .collect())
}

/// Creates or replaces the CRDs among `documents`; returns their names.
///
/// # Errors
/// The API error of the first CRD refused.
pub fn apply_crd_documents(
    cluster: &Cluster,
    documents: Vec<Value>,
) -> Result<Vec<String>, (String, ApiError)> {
    let mut names = Vec::new();
    for mut document in documents {
        if document.get("kind").and_then(Value::as_str) != Some("CustomResourceDefinition") {
            continue;
        }
        let name = meta::name(&document).to_string();
        let outcome = match cluster.get(&crds_gvr(), None, &name) {
            None => cluster.create(&crds_gvr(), document, "slipway-testcluster"),
            Some(current) => {
                document["metadata"]["resourceVersion"] =
                    current["metadata"]["resourceVersion"].clone();
                cluster.update(&crds_gvr(), document, "slipway-testcluster")
            }
        };
        outcome.map_err(|error| (name.clone(), error))?;
        names.push(name);
    }
    Ok(names)
}

/// Applies every CRD in the `.yaml`/`.yml`/`.json` files of `directory` (sorted by name).
///
/// # Errors
/// [`CrdFileError`] for unreadable files and refused CRDs.
pub fn apply_crds_from(cluster: &Cluster, directory: &Path) -> Result<Vec<String>, CrdFileError> {
    let io = |source| CrdFileError::Io {
        path: directory.to_path_buf(),
        source,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(directory)
        .map_err(io)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .and_then(|extension| extension.to_str())
                .is_some_and(|extension| matches!(extension, "yaml" | "yml" | "json"))
        })
        .collect();
    files.sort();
    let mut names = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(|source| CrdFileError::Io {
            path: path.clone(),
            source,
        })?;
        let documents = parse_documents(&text).map_err(|message| CrdFileError::Yaml {
            path: path.clone(),
            message,
        })?;
        let applied = apply_crd_documents(cluster, documents).map_err(|(name, source)| {
            CrdFileError::Api {
                path: path.clone(),
                name,
                source,
            }
        })?;
        names.extend(applied);
    }
    Ok(names)
}
