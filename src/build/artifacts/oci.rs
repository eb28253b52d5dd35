//! The OCI registry store (the default): each artifact is one OCI artifact manifest.
//!
//! # Layout
//! - Manifest `application/vnd.oci.image.manifest.v1+json` with `artifactType`
//!   [`ARTIFACT_TYPE`], the empty config ([`EMPTY_CONFIG_MEDIA_TYPE`], content `{}`), and one
//!   layer: the ZIP, media type [`LAYER_MEDIA_TYPE`], annotated with
//!   `org.opencontainers.image.title` = the archive's file name. The manifest carries
//!   `dev.slipway.artifact.identifier` and `dev.slipway.build.id` annotations (no timestamps,
//!   so the same ZIP from the same build gives the same manifest digest).
//! - Tag: [`Placement::oci_tag`] (`<build id>-<name>`), for people and garbage collection; the
//!   record names the manifest by digest: `oci://<registry>/<repository>@sha256:…`. The
//!   record's `digest` is the ZIP's (the layer's) digest. `s3-prefix` does not apply here.
//!
//! A build result too large for the termination message is stored the same way, with
//! `artifactType` [`RESULT_ARTIFACT_TYPE`], one `application/json` layer, tag
//! `<build id>-result.json`.
//!
//! # Credentials and transport
//! `<credentials-dir>/artifact-store/.dockerconfigjson` (a `kubernetes.io/dockerconfigjson`
//! Secret): the `auths` entry whose key names the registry host (`host`, `host:port`,
//! `https://host/v1/` all match), with `auth` (base64 `user:password`) or `username` and
//! `password`. No file, or no entry: anonymous. Plain HTTP when the store says `insecure` or
//! the registry is on loopback (`localhost`, `127.0.0.0/8`, `[::1]`), as Docker does.
//!
//! # Large artifacts
//! A ZIP up to 16 MiB is pushed from memory; a larger one streams from its file in 4 MiB
//! chunks (chunked blob upload). Downloads always stream to a file, and the layer digest is
//! checked against the manifest before the file is used.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::manifest::{OciDescriptor, OciImageManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use super::package::{PackagedArtifact, file_digest};
use super::store::{
    ArtifactStorage, Placement, StoreError, credentials_folder, describe_error, runtime,
    write_chunks,
};
use crate::api::common::OciArtifactStore;
use crate::build::image::credentials::DockerConfig;

/// The manifest's `artifactType`.
pub const ARTIFACT_TYPE: &str = "application/vnd.slipway.artifact.v1+zip";
/// The media type of the one layer (the ZIP).
pub const LAYER_MEDIA_TYPE: &str = "application/zip";
/// The OCI empty config descriptor's media type.
pub const EMPTY_CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// The manifest's media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The `artifactType` of a stored build result (the full result when the termination message
/// could not hold it).
pub const RESULT_ARTIFACT_TYPE: &str = "application/vnd.slipway.build-result.v1+json";
/// The media type of a stored build result's layer.
pub const RESULT_LAYER_MEDIA_TYPE: &str = "application/json";
/// Artifacts up to this size are pushed from memory in one go; larger ones are streamed.
const IN_MEMORY_LIMIT: u64 = 16 * 1024 * 1024;
/// The chunk size of streamed pushes.
const STREAM_CHUNK: usize = 4 * 1024 * 1024;
/// The annotation naming the file.
const TITLE_ANNOTATION: &str = "org.opencontainers.image.title";

/// A registry repository as an artifact store.
pub struct OciStorage {
    registry: String,
    repository: String,
    client: Client,
    auth: RegistryAuth,
    runtime: tokio::runtime::Runtime,
}

impl OciStorage {
    /// The store for `settings`, with credentials under `credentials_dir`.
    ///
    /// # Errors
    /// When the repository does not parse or the credentials file is unreadable.
    pub fn new(
        settings: &OciArtifactStore,
        credentials_dir: &Path,
    ) -> Result<OciStorage, StoreError> {
        let repository = settings.repository.trim().trim_start_matches("oci://");
        let reference: Reference = repository.parse().map_err(|error| {
            StoreError::Config(format!(
                "the OCI repository `{}` is not valid: {error}",
                settings.repository
            ))
        })?;
        let registry = reference.registry().to_owned();
        let protocol = if settings.insecure || is_loopback(&registry) {
            ClientProtocol::HttpsExcept(vec![registry.clone()])
        } else {
            ClientProtocol::Https
        };
        let client = Client::new(ClientConfig {
            protocol,
            ..ClientConfig::default()
        });
        let auth = registry_auth(
            &credentials_folder(credentials_dir).join(".dockerconfigjson"),
            &registry,
        )?;
        Ok(OciStorage {
            registry,
            repository: reference.repository().to_owned(),
            client,
            auth,
            runtime: runtime()?,
        })
    }

    fn reference_with_tag(&self, tag: String) -> Reference {
        Reference::with_tag(self.registry.clone(), self.repository.clone(), tag)
    }

    fn destination(&self, placement: &Placement) -> String {
        format!("{}:{}", self.describe(), placement.oci_tag())
    }

    /// The error of a failed upload of `placement`, in the registry's words.
    fn upload_error<'a>(
        &'a self,
        placement: &'a Placement,
    ) -> impl Fn(String) -> StoreError + Copy + 'a {
        move |message| StoreError::Upload {
            destination: self.destination(placement),
            message: registry_message(&message),
        }
    }

    /// Pushes a large ZIP as a stream of chunks read from its file (never whole in memory),
    /// then the empty config and the manifest; returns the location by digest.
    fn push_streamed(
        &self,
        artifact: &PackagedArtifact,
        placement: &Placement,
    ) -> Result<String, StoreError> {
        let upload_error = self.upload_error(placement);
        let file = std::fs::File::open(&artifact.path).map_err(|error| {
            upload_error(format!(
                "unable to read {}: {error}",
                artifact.path.display()
            ))
        })?;
        let chunks = futures::stream::unfold(file, |mut file| async move {
            let mut buffer = vec![0_u8; STREAM_CHUNK];
            match file.read(&mut buffer) {
                Ok(0) => None,
                Ok(count) => {
                    buffer.truncate(count);
                    Some((Ok(bytes::Bytes::from(buffer)), file))
                }
                Err(error) => Some((Err(error.into()), file)),
            }
        });
        let config_data = b"{}".to_vec();
        let config = OciDescriptor {
            media_type: EMPTY_CONFIG_MEDIA_TYPE.to_owned(),
            digest: super::package::bytes_digest(&config_data),
            size: 2,
            ..OciDescriptor::default()
        };
        let layer = OciDescriptor {
            media_type: LAYER_MEDIA_TYPE.to_owned(),
            digest: artifact.digest.clone(),
            size: i64::try_from(artifact.size).unwrap_or(i64::MAX),
            annotations: Some(BTreeMap::from([(
                TITLE_ANNOTATION.to_owned(),
                placement.file_name.clone(),
            )])),
            ..OciDescriptor::default()
        };
        let manifest = OciImageManifest {
            media_type: Some(MANIFEST_MEDIA_TYPE.to_owned()),
            config: config.clone(),
            layers: vec![layer],
            artifact_type: Some(ARTIFACT_TYPE.to_owned()),
            annotations: Some(manifest_annotations(placement)),
            ..OciImageManifest::default()
        };
        let reference = self.reference_with_tag(placement.oci_tag());
        self.runtime.block_on(async {
            self.client
                .store_auth_if_needed(reference.resolve_registry(), &self.auth)
                .await;
            self.client
                .push_blob_stream(&reference, chunks, &artifact.digest, Some(artifact.size))
                .await
                .map_err(|error| upload_error(describe_error(&error)))?;
            self.client
                .push_blob(&reference, config_data, &config.digest)
                .await
                .map_err(|error| upload_error(describe_error(&error)))?;
            self.client
                .push_manifest(&reference, &manifest.into())
                .await
                .map_err(|error| upload_error(describe_error(&error)))?;
            self.pushed_location(&reference).await.map_err(upload_error)
        })
    }

    /// The location, by digest, of the manifest just pushed under `reference`.
    async fn pushed_location(&self, reference: &Reference) -> Result<String, String> {
        let digest = self
            .client
            .fetch_manifest_digest(reference, &self.auth)
            .await
            .map_err(|error| describe_error(&error))?;
        Ok(format!("{}@{digest}", self.describe()))
    }

    /// Pushes `data` as the one layer of an artifact manifest; returns the location by digest.
    fn push(
        &self,
        data: Vec<u8>,
        artifact_type: &str,
        layer_media_type: &str,
        placement: &Placement,
    ) -> Result<String, StoreError> {
        let upload_error = self.upload_error(placement);
        let layer = ImageLayer::new(
            data,
            layer_media_type.to_owned(),
            Some(BTreeMap::from([(
                TITLE_ANNOTATION.to_owned(),
                placement.file_name.clone(),
            )])),
        );
        let config = Config::new(b"{}".to_vec(), EMPTY_CONFIG_MEDIA_TYPE.to_owned(), None);
        let layers = [layer];
        let mut manifest =
            OciImageManifest::build(&layers, &config, Some(manifest_annotations(placement)));
        manifest.media_type = Some(MANIFEST_MEDIA_TYPE.to_owned());
        manifest.artifact_type = Some(artifact_type.to_owned());
        let reference = self.reference_with_tag(placement.oci_tag());
        self.runtime.block_on(async {
            self.client
                .push(&reference, &layers, config, &self.auth, Some(manifest))
                .await
                .map_err(|error| upload_error(describe_error(&error)))?;
            self.pushed_location(&reference).await.map_err(upload_error)
        })
    }
}

impl ArtifactStorage for OciStorage {
    fn describe(&self) -> String {
        format!("oci://{}/{}", self.registry, self.repository)
    }

    fn upload(
        &self,
        artifact: &PackagedArtifact,
        placement: &Placement,
    ) -> Result<String, StoreError> {
        if artifact.size > IN_MEMORY_LIMIT {
            return self.push_streamed(artifact, placement);
        }
        let data = std::fs::read(&artifact.path).map_err(|error| StoreError::Upload {
            destination: self.destination(placement),
            message: format!("unable to read {}: {error}", artifact.path.display()),
        })?;
        self.push(data, ARTIFACT_TYPE, LAYER_MEDIA_TYPE, placement)
    }

    fn upload_result(&self, json: &[u8], placement: &Placement) -> Result<String, StoreError> {
        self.push(
            json.to_vec(),
            RESULT_ARTIFACT_TYPE,
            RESULT_LAYER_MEDIA_TYPE,
            placement,
        )
    }

    fn download(&self, location: &str, destination: &Path) -> Result<(), StoreError> {
        let download_error = |message: String| StoreError::Download {
            location: location.to_owned(),
            message: registry_message(&message),
        };
        let reference = parse_location(location)?;
        let mut output = std::fs::File::create(destination).map_err(|error| {
            download_error(format!(
                "unable to write {}: {error}",
                destination.display()
            ))
        })?;
        let layer_digest = self.runtime.block_on(async {
            let (manifest, _) = self
                .client
                .pull_image_manifest(&reference, &self.auth)
                .await
                .map_err(|error| download_error(describe_error(&error)))?;
            let layer = artifact_layer(&manifest).map_err(download_error)?;
            let stream = self
                .client
                .pull_blob_stream(&reference, layer)
                .await
                .map_err(|error| download_error(describe_error(&error)))?;
            write_chunks(stream, &mut output, destination)
                .await
                .map_err(download_error)?;
            Ok::<_, StoreError>(layer.digest.clone())
        })?;
        drop(output);
        // The client does not check a stream: the layer digest is checked here.
        let (digest, _) = file_digest(destination).map_err(|error| {
            download_error(format!("unable to read {}: {error}", destination.display()))
        })?;
        if digest != layer_digest {
            return Err(download_error(format!(
                "the downloaded layer's digest is {digest}, the manifest says {layer_digest}"
            )));
        }
        Ok(())
    }
}

/// The manifest's annotations (no timestamps: the same artifact gives the same manifest).
fn manifest_annotations(placement: &Placement) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "dev.slipway.artifact.identifier".to_owned(),
            placement.identifier.clone(),
        ),
        (
            "dev.slipway.build.id".to_owned(),
            placement.build_id.clone(),
        ),
    ])
}

/// The ZIP layer of a Slipway artifact manifest.
fn artifact_layer(
    manifest: &OciImageManifest,
) -> Result<&oci_client::manifest::OciDescriptor, String> {
    if manifest.artifact_type.as_deref() != Some(ARTIFACT_TYPE) {
        return Err(format!(
            "the manifest's artifactType is {:?}, not {ARTIFACT_TYPE}",
            manifest.artifact_type.as_deref().unwrap_or("absent")
        ));
    }
    match manifest.layers.as_slice() {
        [layer] if layer.media_type == LAYER_MEDIA_TYPE => Ok(layer),
        layers => Err(format!(
            "expected one {LAYER_MEDIA_TYPE} layer, found {} layer(s)",
            layers.len()
        )),
    }
}

/// The reference in an `oci://registry/repository@sha256:…` location.
///
/// # Errors
/// When it does not parse or names no digest.
pub fn parse_location(location: &str) -> Result<Reference, StoreError> {
    let text = location.strip_prefix("oci://").unwrap_or(location);
    let reference: Reference = text.parse().map_err(|error| {
        StoreError::Config(format!(
            "the artifact location `{location}` is not valid: {error}"
        ))
    })?;
    if reference.digest().is_none() {
        return Err(StoreError::Config(format!(
            "the artifact location `{location}` names no digest (oci://repository@sha256:…)"
        )));
    }
    Ok(reference)
}

/// `message` with a registry's JSON error envelope (`{"errors":[{"code":…,"message":…}]}`)
/// reduced to its words: `UNAUTHORIZED: authentication required`.
pub fn registry_message(message: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Envelope {
        errors: Vec<RegistryError>,
    }
    #[derive(serde::Deserialize)]
    struct RegistryError {
        code: String,
        #[serde(default)]
        message: String,
    }
    let Some(start) = message.find("{\"errors\"") else {
        return message.to_owned();
    };
    let mut stream = serde_json::Deserializer::from_str(&message[start..]).into_iter::<Envelope>();
    let Some(Ok(envelope)) = stream.next() else {
        return message.to_owned();
    };
    let end = start + stream.byte_offset();
    let words: Vec<String> = envelope
        .errors
        .iter()
        .map(|error| format!("{}: {}", error.code, error.message))
        .collect();
    format!(
        "{}{}{}",
        &message[..start],
        words.join("; "),
        &message[end..]
    )
    .trim_end()
    .to_owned()
}

/// Whether `registry` (`host[:port]`) is a loopback address.
pub fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        registry.rsplit_once(':').map_or(registry, |(host, _)| host)
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// The credentials for `registry` in a dockerconfigjson file (anonymous when none), read as
/// image builds read theirs ([`DockerConfig`]).
///
/// # Errors
/// When the file exists but is not a readable docker config.
pub fn registry_auth(path: &Path, registry: &str) -> Result<RegistryAuth, StoreError> {
    let config = DockerConfig::load(path).map_err(|error| StoreError::Credentials {
        path: path.display().to_string(),
        message: error.to_string(),
    })?;
    Ok(config.registry_auth(registry))
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::*;

    #[test]
    fn loopback_registries_are_recognised() {
        for registry in [
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
            "localhost",
        ] {
            assert!(is_loopback(registry), "{registry}");
        }
        for registry in ["registry.internal:5000", "10.0.0.1:5000", "[fe80::1]:5000"] {
            assert!(!is_loopback(registry), "{registry}");
        }
    }

    #[test]
    fn docker_config_entries_match_by_host_and_a_missing_file_is_anonymous() {
        let folder = std::env::temp_dir().join(format!("slipway-oci-auth-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join(".dockerconfigjson");
        let encoded = base64::engine::general_purpose::STANDARD.encode("robot:s3cret");
        std::fs::write(
            &path,
            format!(
                r#"{{"auths": {{"https://127.0.0.1:5000/v1/": {{"auth": "{encoded}"}},
                    "other:5000": {{"username": "u", "password": "p"}}}}}}"#
            ),
        )
        .unwrap();
        let pair = |auth: RegistryAuth| match auth {
            RegistryAuth::Basic(user, password) => Some((user, password)),
            _ => None,
        };
        let found = |registry: &str| pair(registry_auth(&path, registry).unwrap());
        assert_eq!(
            found("127.0.0.1:5000"),
            Some(("robot".into(), "s3cret".into()))
        );
        assert_eq!(found("other:5000"), Some(("u".into(), "p".into())));
        assert_eq!(found("missing:5000"), None);
        let absent = registry_auth(&folder.join("absent"), "127.0.0.1:5000").unwrap();
        assert_eq!(pair(absent), None, "no file: anonymous");
        std::fs::write(&path, "not json").unwrap();
        assert!(registry_auth(&path, "x").is_err());
        std::fs::remove_dir_all(&folder).unwrap();
    }

    #[test]
    fn registry_error_envelopes_read_as_words() {
        let raw = r#"Server error: url http://r/v2/, code: 401, message: {"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository"}]},{"code":"DENIED","message":"no"}]}"#;
        assert_eq!(
            registry_message(raw),
            "Server error: url http://r/v2/, code: 401, message: UNAUTHORIZED: authentication required; DENIED: no"
        );
        assert_eq!(registry_message("connection refused"), "connection refused");
        assert_eq!(
            registry_message(r#"bad {"errors": oops"#),
            r#"bad {"errors": oops"#
        );
    }

    #[test]
    fn locations_must_name_a_digest() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let reference =
            parse_location(&format!("oci://127.0.0.1:5000/team/artifacts@{digest}")).unwrap();
        assert_eq!(reference.registry(), "127.0.0.1:5000");
        assert_eq!(reference.repository(), "team/artifacts");
        assert_eq!(reference.digest(), Some(digest.as_str()));
        assert!(parse_location("oci://127.0.0.1:5000/team/artifacts:latest").is_err());
    }
}
