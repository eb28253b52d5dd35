//! The object storage store (`object_store` crate): S3 and S3-compatible stores, GCS, Azure.
//!
//! # Keys
//! `<url prefix>/[<s3-prefix>/]<namespace>/<build run>/<name>.zip` (see
//! [`Placement::object_key`]); the record's location is `s3://bucket/<that key>` (`gs://`,
//! `az://` alike) and its digest the ZIP's sha256.
//!
//! # Credentials (files under `<credentials-dir>/artifact-store/`)
//! - `s3://`: `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (both or neither), optional
//!   `AWS_SESSION_TOKEN`. `endpoint` selects an S3-compatible store (path-style requests; an
//!   `http://` endpoint allows plain HTTP), `region` defaults to `us-east-1`.
//! - `gs://`: `service-account.json` (a service-account key file).
//! - `az://`: `AZURE_STORAGE_ACCOUNT_NAME` and `AZURE_STORAGE_ACCOUNT_KEY`; `endpoint` for
//!   Azurite-style endpoints.
//!
//! Without files the pod's ambient identity applies (the provider's usual environment
//! variables and metadata endpoints, as `object_store`'s `from_env` builders read them).
//!
//! `file:///absolute/dir` is accepted by the executor for tests and local builds; the CRD's
//! pattern only admits `s3`, `gs` and `az`.
//!
//! Archives up to 16 MiB are sent in one request; larger ones stream as a multipart upload.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};

use super::package::PackagedArtifact;
use super::store::{
    ArtifactStorage, Placement, StoreError, credentials_folder, describe_error, runtime,
    write_chunks,
};
use crate::api::common::ObjectArtifactStore;

/// Archives up to this size go up in one request.
const SINGLE_PUT_LIMIT: u64 = 16 * 1024 * 1024;
/// The part size of multipart uploads.
const PART_SIZE: usize = 8 * 1024 * 1024;

/// A bucket (and prefix) as an artifact store.
pub struct ObjectStorage {
    scheme: String,
    bucket: String,
    prefix: String,
    store: Arc<dyn ObjectStore>,
    runtime: tokio::runtime::Runtime,
}

/// Splits a location into the store URL (`s3://bucket`, `file:///`) and the key.
///
/// # Errors
/// When the location is not `scheme://bucket/key`.
pub fn split_location(location: &str) -> Result<(String, String), StoreError> {
    let invalid = || {
        StoreError::Config(format!(
            "the artifact location `{location}` is not scheme://bucket/key"
        ))
    };
    let (scheme, rest) = location.split_once("://").ok_or_else(invalid)?;
    if scheme == "file" {
        let key = rest.strip_prefix('/').ok_or_else(invalid)?;
        return Ok(("file:///".to_owned(), key.to_owned()));
    }
    let (bucket, key) = rest.split_once('/').ok_or_else(invalid)?;
    if bucket.is_empty() || key.is_empty() {
        return Err(invalid());
    }
    Ok((format!("{scheme}://{bucket}"), key.to_owned()))
}

/// Where a store's credentials come from: the files of a mounted Secret (the executor), or a
/// Secret's values read through the API (the controller's source check).
pub enum StoreCredentials<'a> {
    /// One file per key under this folder.
    Folder(std::path::PathBuf),
    /// A Secret's keys and values; `origin` names the Secret in errors.
    Values {
        /// `Secret NAME`, for messages.
        origin: &'a str,
        /// The Secret's data.
        values: &'a std::collections::BTreeMap<String, Vec<u8>>,
    },
}

impl StoreCredentials<'_> {
    /// One credential, trimmed; `None` when absent.
    fn get(&self, name: &str) -> Result<Option<String>, StoreError> {
        match self {
            StoreCredentials::Folder(folder) => {
                let path = folder.join(name);
                match std::fs::read_to_string(&path) {
                    Ok(text) => Ok(Some(text.trim().to_owned())),
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(error) => Err(StoreError::Credentials {
                        path: path.display().to_string(),
                        message: error.to_string(),
                    }),
                }
            }
            StoreCredentials::Values { origin, values } => values
                .get(name)
                .map(|value| {
                    std::str::from_utf8(value)
                        .map(|text| text.trim().to_owned())
                        .map_err(|_| StoreError::Credentials {
                            path: format!("{origin} key {name}"),
                            message: "not UTF-8 text".to_owned(),
                        })
                })
                .transpose(),
        }
    }

    /// Where the credentials are, for messages.
    fn origin(&self) -> String {
        match self {
            StoreCredentials::Folder(folder) => folder.display().to_string(),
            StoreCredentials::Values { origin, .. } => (*origin).to_owned(),
        }
    }

    /// Both of a pair, or neither.
    fn pair(&self, first: &str, second: &str) -> Result<Option<(String, String)>, StoreError> {
        match (self.get(first)?, self.get(second)?) {
            (Some(a), Some(b)) => Ok(Some((a, b))),
            (None, None) => Ok(None),
            (Some(_), None) | (None, Some(_)) => Err(StoreError::Credentials {
                path: self.origin(),
                message: format!("{first} and {second} must be given together"),
            }),
        }
    }
}

/// A store opened from `settings`: its scheme, bucket, key prefix and client.
pub struct OpenedStore {
    /// `s3`, `gs`, `az` or `file`.
    pub scheme: String,
    /// The bucket (container); empty for `file`.
    pub bucket: String,
    /// The key prefix from the URL's path.
    pub prefix: String,
    /// The client.
    pub store: Arc<dyn ObjectStore>,
}

/// Opens the store `settings` names with `credentials` (the pod's ambient identity where they
/// hold none).
///
/// # Errors
/// When the URL or the credentials are unusable.
pub fn open_store(
    settings: &ObjectArtifactStore,
    credentials: &StoreCredentials<'_>,
) -> Result<OpenedStore, StoreError> {
    let url = settings.url.trim();
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| StoreError::Config(format!("the object store URL `{url}` has no scheme")))?;
    let build_error = |error: object_store::Error| {
        StoreError::Config(format!(
            "unable to set up the {scheme} store: {}",
            describe_error(&error)
        ))
    };
    let (bucket, prefix) = match scheme {
        "file" => (String::new(), rest.trim_matches('/').to_owned()),
        _ => {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(StoreError::Config(format!(
                    "the object store URL `{url}` names no bucket"
                )));
            }
            (bucket.to_owned(), prefix.trim_matches('/').to_owned())
        }
    };
    let endpoint = settings.endpoint.as_deref().map(str::trim);
    let allow_http = endpoint.is_some_and(|endpoint| endpoint.starts_with("http://"));
    let store: Arc<dyn ObjectStore> = match scheme {
        "s3" => {
            let mut builder = object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(&bucket)
                .with_allow_http(allow_http);
            builder = builder.with_region(settings.region.as_deref().unwrap_or("us-east-1"));
            if let Some(endpoint) = endpoint {
                builder = builder.with_endpoint(endpoint);
            }
            if let Some((id, secret)) =
                credentials.pair("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")?
            {
                builder = builder
                    .with_access_key_id(id)
                    .with_secret_access_key(secret);
            }
            if let Some(token) = credentials.get("AWS_SESSION_TOKEN")? {
                builder = builder.with_token(token);
            }
            Arc::new(builder.build().map_err(build_error)?)
        }
        "gs" => {
            let mut builder =
                object_store::gcp::GoogleCloudStorageBuilder::from_env().with_bucket_name(&bucket);
            match credentials {
                StoreCredentials::Folder(folder) => {
                    let key_file = folder.join("service-account.json");
                    if key_file.exists() {
                        builder = builder.with_service_account_path(key_file.display().to_string());
                    }
                }
                StoreCredentials::Values { .. } => {
                    if let Some(key) = credentials.get("service-account.json")? {
                        builder = builder.with_service_account_key(key);
                    }
                }
            }
            Arc::new(builder.build().map_err(build_error)?)
        }
        "az" => {
            let mut builder = object_store::azure::MicrosoftAzureBuilder::from_env()
                .with_container_name(&bucket)
                .with_allow_http(allow_http);
            if let Some(endpoint) = endpoint {
                builder = builder.with_endpoint(endpoint.to_owned());
            }
            if let Some((account, key)) =
                credentials.pair("AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_ACCOUNT_KEY")?
            {
                builder = builder.with_account(account).with_access_key(key);
            }
            Arc::new(builder.build().map_err(build_error)?)
        }
        "file" => Arc::new(
            object_store::local::LocalFileSystem::new_with_prefix("/").map_err(build_error)?,
        ),
        other => {
            return Err(StoreError::Config(format!(
                "the object store scheme `{other}` is not one of s3, gs, az"
            )));
        }
    };
    Ok(OpenedStore {
        scheme: scheme.to_owned(),
        bucket,
        prefix,
        store,
    })
}

impl ObjectStorage {
    /// The store for `settings`, with credentials under `credentials_dir`.
    ///
    /// # Errors
    /// When the URL or the credentials are unusable.
    pub fn new(
        settings: &ObjectArtifactStore,
        credentials_dir: &Path,
    ) -> Result<ObjectStorage, StoreError> {
        let opened = open_store(
            settings,
            &StoreCredentials::Folder(credentials_folder(credentials_dir)),
        )?;
        Ok(ObjectStorage {
            scheme: opened.scheme,
            bucket: opened.bucket,
            prefix: opened.prefix,
            store: opened.store,
            runtime: runtime()?,
        })
    }

    /// The location of `key` (a key below the bucket).
    fn location(&self, key: &str) -> String {
        if self.scheme == "file" {
            format!("file:///{key}")
        } else {
            format!("{}://{}/{key}", self.scheme, self.bucket)
        }
    }

    fn full_key(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }

    async fn put_file(&self, path: &Path, key: &ObjectPath, size: u64) -> Result<(), String> {
        let mut file = std::fs::File::open(path)
            .map_err(|error| format!("unable to read {}: {error}", path.display()))?;
        if size <= SINGLE_PUT_LIMIT {
            let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            file.read_to_end(&mut data)
                .map_err(|error| format!("unable to read {}: {error}", path.display()))?;
            self.store
                .put(key, PutPayload::from(data))
                .await
                .map_err(|error| describe_error(&error))?;
            return Ok(());
        }
        let upload = self
            .store
            .put_multipart(key)
            .await
            .map_err(|error| describe_error(&error))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut buffer = vec![0_u8; PART_SIZE];
        loop {
            let count = match file.read(&mut buffer) {
                Ok(count) => count,
                Err(error) => {
                    let _ = writer.abort().await;
                    return Err(format!("unable to read {}: {error}", path.display()));
                }
            };
            if count == 0 {
                break;
            }
            writer
                .wait_for_capacity(4)
                .await
                .map_err(|error| describe_error(&error))?;
            writer.write(&buffer[..count]);
        }
        writer
            .finish()
            .await
            .map_err(|error| describe_error(&error))?;
        Ok(())
    }

    /// The location and object path of `placement`; `what` names the object in the error.
    fn target(
        &self,
        placement: &Placement,
        what: &str,
    ) -> Result<(String, ObjectPath), StoreError> {
        let key = self.full_key(&placement.object_key()?);
        let object_path = ObjectPath::parse(&key).map_err(|error| {
            StoreError::Config(format!("the {what} key `{key}` is not valid: {error}"))
        })?;
        Ok((self.location(&key), object_path))
    }
}

impl ArtifactStorage for ObjectStorage {
    fn describe(&self) -> String {
        self.location(&self.prefix).trim_end_matches('/').to_owned()
    }

    fn upload(
        &self,
        artifact: &PackagedArtifact,
        placement: &Placement,
    ) -> Result<String, StoreError> {
        let (location, object_path) = self.target(placement, "artifact")?;
        self.runtime
            .block_on(self.put_file(&artifact.path, &object_path, artifact.size))
            .map_err(|message| StoreError::Upload {
                destination: location.clone(),
                message,
            })?;
        Ok(location)
    }

    fn upload_result(&self, json: &[u8], placement: &Placement) -> Result<String, StoreError> {
        let (location, object_path) = self.target(placement, "result")?;
        self.runtime
            .block_on(
                self.store
                    .put(&object_path, PutPayload::from(json.to_vec())),
            )
            .map_err(|error| StoreError::Upload {
                destination: location.clone(),
                message: describe_error(&error),
            })?;
        Ok(location)
    }

    fn download(&self, location: &str, destination: &Path) -> Result<(), StoreError> {
        let download_error = |message: String| StoreError::Download {
            location: location.to_owned(),
            message,
        };
        let (_, key) = split_location(location)?;
        let object_path = ObjectPath::parse(&key).map_err(|error| {
            StoreError::Config(format!("the artifact key `{key}` is not valid: {error}"))
        })?;
        let mut output = std::fs::File::create(destination).map_err(|error| {
            download_error(format!(
                "unable to write {}: {error}",
                destination.display()
            ))
        })?;
        self.runtime.block_on(async {
            let result = self
                .store
                .get(&object_path)
                .await
                .map_err(|error| download_error(describe_error(&error)))?;
            write_chunks(result.into_stream(), &mut output, destination)
                .await
                .map_err(download_error)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::split_location;

    #[test]
    fn locations_split_into_store_and_key() {
        let table = [
            ("s3://bucket/a/b.zip", Some(("s3://bucket", "a/b.zip"))),
            ("gs://b/k.zip", Some(("gs://b", "k.zip"))),
            (
                "file:///tmp/store/k.zip",
                Some(("file:///", "tmp/store/k.zip")),
            ),
            ("s3://bucket", None),
            ("s3:///key", None),
            ("bucket/key", None),
        ];
        for (location, expected) in table {
            let split = split_location(location).ok();
            assert_eq!(
                split.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
                expected,
                "{location}"
            );
        }
    }
}
