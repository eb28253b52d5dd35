//! Registry credentials from a `kubernetes.io/dockerconfigjson` Secret mounted as a file.
//!
//! # Where they are found
//! The image output `NAME`'s Secret (`credentialsSecret`) is mounted at
//! `<credentials dir>/image-NAME/.dockerconfigjson` (executor flag `--credentials-dir`, default
//! `/slipway/credentials`). No file means anonymous access.
//!
//! # Format
//! `{"auths": {"REGISTRY": {"auth": base64("user:password")}}}` or with `username` and
//! `password` fields (an `identitytoken` is passed on to the Docker Engine). `REGISTRY` may be a
//! bare host (`127.0.0.1:5000`) or a URL (`https://index.docker.io/v1/`); it matches a
//! repository by host after [`canonical_host`] (scheme and path dropped, Docker Hub's aliases
//! folded together).
//!
//! Passwords never appear in `Debug` output or error messages.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Deserialize;

use super::reference::canonical_host;

/// The file name of the Secret key.
pub const DOCKER_CONFIG_KEY: &str = ".dockerconfigjson";

/// Credentials for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryCredentials {
    /// The registry as written in the file.
    pub server: String,
    /// The user name (empty with an identity token only).
    pub username: String,
    /// The password.
    pub password: String,
    /// An identity (refresh) token, when the file has one.
    pub identity_token: Option<String>,
}

impl std::fmt::Debug for RegistryCredentials {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RegistryCredentials")
            .field("server", &self.server)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl RegistryCredentials {
    /// The credentials in the Docker Engine's form.
    pub fn to_docker(&self) -> bollard::auth::DockerCredentials {
        bollard::auth::DockerCredentials {
            username: Some(self.username.clone()).filter(|name| !name.is_empty()),
            password: Some(self.password.clone()).filter(|password| !password.is_empty()),
            serveraddress: Some(self.server.clone()),
            identitytoken: self.identity_token.clone(),
            ..bollard::auth::DockerCredentials::default()
        }
    }

    /// The credentials in oci-client's form.
    pub fn to_oci(&self) -> oci_client::secrets::RegistryAuth {
        if self.username.is_empty() && self.password.is_empty() {
            oci_client::secrets::RegistryAuth::Anonymous
        } else {
            oci_client::secrets::RegistryAuth::Basic(self.username.clone(), self.password.clone())
        }
    }
}

/// The registries of one credentials file, keyed by canonical host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DockerConfig {
    registries: BTreeMap<String, RegistryCredentials>,
}

/// Why a credentials file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// The file exists but cannot be read.
    #[error("failed to read the registry credentials {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a dockerconfigjson document.
    #[error("failed to parse the registry credentials {path}: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong (never a secret value).
        reason: String,
    },
}

#[derive(Deserialize)]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
}

#[derive(Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default, rename = "identitytoken")]
    identity_token: Option<String>,
}

impl DockerConfig {
    /// Parses a dockerconfigjson document; `origin` names it in errors.
    ///
    /// # Errors
    /// When it is not JSON of that shape, or an `auth` value is not base64 of `user:password`.
    pub fn parse(text: &str, origin: &Path) -> Result<DockerConfig, CredentialsError> {
        let parse_error = |reason: String| CredentialsError::Parse {
            path: origin.to_owned(),
            reason,
        };
        let file: ConfigFile = serde_json::from_str(text).map_err(|error| {
            // serde_json's message names the position, not the value.
            parse_error(format!("not a dockerconfigjson document ({error})"))
        })?;
        let mut registries = BTreeMap::new();
        for (server, entry) in file.auths {
            let (username, password) = match (&entry.auth, entry.username, entry.password) {
                (Some(auth), _, _) if !auth.is_empty() => decode_auth(auth).ok_or_else(|| {
                    parse_error(format!(
                        "auths.\"{server}\".auth is not base64 of `user:password`"
                    ))
                })?,
                (_, username, password) => {
                    (username.unwrap_or_default(), password.unwrap_or_default())
                }
            };
            registries.insert(
                canonical_host(&server),
                RegistryCredentials {
                    server,
                    username,
                    password,
                    identity_token: entry.identity_token,
                },
            );
        }
        Ok(DockerConfig { registries })
    }

    /// Reads `path`; a missing file is an empty configuration (anonymous access).
    ///
    /// # Errors
    /// When the file exists but cannot be read or parsed.
    pub fn load(path: &Path) -> Result<DockerConfig, CredentialsError> {
        match std::fs::read_to_string(path) {
            Ok(text) => DockerConfig::parse(&text, path),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                Ok(DockerConfig::default())
            }
            Err(source) => Err(CredentialsError::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// The credentials for registry `host` (any spelling [`canonical_host`] understands).
    pub fn for_registry(&self, host: &str) -> Option<&RegistryCredentials> {
        self.registries.get(&canonical_host(host))
    }

    /// oci-client's credentials for registry `host`: anonymous when the file names none.
    pub fn registry_auth(&self, host: &str) -> oci_client::secrets::RegistryAuth {
        self.for_registry(host).map_or(
            oci_client::secrets::RegistryAuth::Anonymous,
            |credentials| credentials.to_oci(),
        )
    }

    /// Every registry's credentials in the Docker Engine's form, for pulls during a build
    /// (`FROM` a private image).
    pub fn to_docker_map(
        &self,
    ) -> std::collections::HashMap<String, bollard::auth::DockerCredentials> {
        self.registries
            .values()
            .map(|credentials| (credentials.server.clone(), credentials.to_docker()))
            .collect()
    }

    /// Whether the file named no registry.
    pub fn is_empty(&self) -> bool {
        self.registries.is_empty()
    }
}

/// The credentials file of image output `name` under `credentials_dir`.
pub fn credentials_path(credentials_dir: &Path, name: &str) -> PathBuf {
    credentials_dir
        .join(format!("image-{name}"))
        .join(DOCKER_CONFIG_KEY)
}

fn decode_auth(auth: &str) -> Option<(String, String)> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(auth.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (username, password) = text.split_once(':')?;
    Some((username.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<DockerConfig, CredentialsError> {
        DockerConfig::parse(text, Path::new("image-app/.dockerconfigjson"))
    }

    #[test]
    fn auth_and_username_password_forms_both_parse() {
        let config = parse(
            r#"{"auths": {
                "127.0.0.1:5000": {"auth": "dXNlcjpwYTpzcw=="},
                "https://index.docker.io/v1/": {"username": "hub", "password": "secret"}
            }}"#,
        )
        .unwrap();
        let local = config.for_registry("127.0.0.1:5000").unwrap();
        assert_eq!(
            (local.username.as_str(), local.password.as_str()),
            ("user", "pa:ss")
        );
        for alias in ["docker.io", "registry-1.docker.io", "index.docker.io"] {
            assert_eq!(
                config.for_registry(alias).unwrap().username,
                "hub",
                "{alias}"
            );
        }
        assert!(config.for_registry("127.0.0.1:5001").is_none());
    }

    #[test]
    fn url_keys_match_by_host() {
        let config =
            parse(r#"{"auths": {"http://127.0.0.1:5000/v2/": {"auth": "dTpw"}}}"#).unwrap();
        assert_eq!(config.for_registry("127.0.0.1:5000").unwrap().username, "u");
    }

    #[test]
    fn bad_files_name_the_problem_but_not_the_secret() {
        for (text, expected) in [
            ("not json", "not a dockerconfigjson document"),
            (
                r#"{"auths": {"r.example": {"auth": "bm9jb2xvbg=="}}}"#,
                "auths.\"r.example\".auth is not base64 of `user:password`",
            ),
            (
                r#"{"auths": {"r.example": {"auth": "%%%"}}}"#,
                "is not base64",
            ),
        ] {
            let message = parse(text).unwrap_err().to_string();
            assert!(message.contains(expected), "{message}");
            assert!(message.contains("image-app/.dockerconfigjson"), "{message}");
            assert!(!message.contains("nocolon"), "{message}");
        }
    }

    #[test]
    fn a_missing_file_means_anonymous_access() {
        let config = DockerConfig::load(Path::new("/nonexistent/slipway/.dockerconfigjson"));
        assert!(config.unwrap().is_empty());
    }

    #[test]
    fn debug_output_hides_the_password() {
        let config = parse(r#"{"auths": {"r.example": {"auth": "dTpodW50ZXIy"}}}"#).unwrap();
        let text = format!("{config:?}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn credentials_live_under_image_name() {
        assert_eq!(
            credentials_path(Path::new("/slipway/credentials"), "web"),
            Path::new("/slipway/credentials/image-web/.dockerconfigjson")
        );
    }
}
