//! The git credentials a build pod gets as files: a Secret mounted read-only at
//! `<credentials dir>/git/` with the keys `username` + `password` (HTTPS basic auth; a token
//! goes in `password`) or `ssh-privatekey` (SSH), optionally `known_hosts`.
//!
//! The controller, which reads the Secret through the API instead, builds the same credentials
//! from the Secret's values with [`GitCredentials::from_secret_values`].
//!
//! Values are read once, kept in memory, never printed: [`GitCredentials`]'s `Debug` shows
//! which kind is present, not the values.

use std::fmt;
use std::path::{Path, PathBuf};

/// The folder under the credentials dir that holds the git Secret's keys.
pub const GIT_CREDENTIALS_FOLDER: &str = "git";

/// HTTPS credentials from the `username` and `password` files.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    /// The user name (for token-only hosts, any non-empty name the host accepts).
    pub username: String,
    /// The password or access token.
    pub password: String,
}

impl fmt::Debug for BasicCredentials {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("BasicCredentials")
            .field("username", &"<redacted>")
            .field("password", &"<redacted>")
            .finish()
    }
}

/// What the git Secret provides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitCredentials {
    /// `username` + `password`, used for HTTP(S) URLs.
    pub basic: Option<BasicCredentials>,
    /// The `ssh-privatekey` file, used for SSH URLs.
    pub ssh_private_key: Option<PathBuf>,
    /// The `known_hosts` file pinning SSH host keys.
    pub ssh_known_hosts: Option<PathBuf>,
}

/// Why the credential files cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// A file exists but cannot be read.
    #[error("failed to read the git credential file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Only one of `username` and `password` exists.
    #[error(
        "the git credentials in {origin} have `{present}` but no `{missing}`: \
         the Secret needs both keys for HTTPS"
    )]
    Incomplete {
        /// Where the values come from (a folder, or a Secret's `namespace/name`).
        origin: String,
        /// The key present.
        present: &'static str,
        /// The key missing.
        missing: &'static str,
    },
    /// A value is not UTF-8 text.
    #[error(
        "the git credentials in {origin} have a `{key}` that is not UTF-8 text: \
         store the {key} as plain text in the Secret"
    )]
    NotText {
        /// Where the values come from (a folder, or a Secret's `namespace/name`).
        origin: String,
        /// The key.
        key: &'static str,
    },
}

impl GitCredentials {
    /// Reads `<credentials_dir>/git/`; a missing folder or missing files mean no credentials.
    ///
    /// # Errors
    /// A file that exists but cannot be read or is not UTF-8, or `username` without `password`
    /// (or the reverse).
    pub fn load(credentials_dir: &Path) -> Result<Self, CredentialsError> {
        let folder = credentials_dir.join(GIT_CREDENTIALS_FOLDER);
        let username = read_optional(&folder.join("username"))?;
        let password = read_optional(&folder.join("password"))?;
        let mut credentials = Self::from_secret_values(
            &folder.display().to_string(),
            username.as_deref(),
            password.as_deref(),
        )?;
        let existing = |name: &str| Some(folder.join(name)).filter(|path| path.is_file());
        credentials.ssh_private_key = existing("ssh-privatekey");
        credentials.ssh_known_hosts = existing("known_hosts");
        Ok(credentials)
    }

    /// HTTPS credentials from a Secret's `username` and `password` values (either absent means
    /// none), trailing line breaks removed as for the mounted files; `origin` names the Secret
    /// in errors.
    ///
    /// # Errors
    /// `username` without `password` (or the reverse), or a value that is not UTF-8.
    pub fn from_secret_values(
        origin: &str,
        username: Option<&[u8]>,
        password: Option<&[u8]>,
    ) -> Result<Self, CredentialsError> {
        let text = |key, value: Option<&[u8]>| {
            value
                .map(|bytes| {
                    std::str::from_utf8(bytes)
                        .map(|text| text.trim_end_matches(['\r', '\n']).to_owned())
                        .map_err(|_| CredentialsError::NotText {
                            origin: origin.to_owned(),
                            key,
                        })
                })
                .transpose()
        };
        let incomplete = |present, missing| CredentialsError::Incomplete {
            origin: origin.to_owned(),
            present,
            missing,
        };
        let basic = match (text("username", username)?, text("password", password)?) {
            (Some(username), Some(password)) => Some(BasicCredentials { username, password }),
            (None, None) => None,
            (Some(_), None) => return Err(incomplete("username", "password")),
            (None, Some(_)) => return Err(incomplete("password", "username")),
        };
        Ok(GitCredentials {
            basic,
            ..GitCredentials::default()
        })
    }
}

/// The file's bytes, or `None` when it does not exist.
fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, CredentialsError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CredentialsError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// The `core.sshCommand` for an SSH fetch: the private key (copied to a `0600` file, since
/// Secret volumes are usually group-readable and `ssh` refuses such keys), batch mode (never a
/// prompt), and host keys pinned by `known_hosts` when given, else accepted on first use.
pub fn ssh_command(private_key: Option<&Path>, known_hosts: Option<&Path>) -> String {
    let mut command = String::from("ssh -o BatchMode=yes");
    if let Some(key) = private_key {
        command.push_str(&format!(" -o IdentitiesOnly=yes -i {}", key.display()));
    }
    match known_hosts {
        Some(file) => command.push_str(&format!(
            " -o StrictHostKeyChecking=yes -o UserKnownHostsFile={}",
            file.display()
        )),
        None => command.push_str(" -o StrictHostKeyChecking=accept-new"),
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder_with(files: &[(&str, &str)]) -> PathBuf {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let root = std::env::temp_dir().join(format!(
            "slipway-git-credentials-{}-{count}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("git")).unwrap();
        for (name, text) in files {
            std::fs::write(root.join("git").join(name), text).unwrap();
        }
        root
    }

    #[test]
    fn username_and_password_files_give_basic_credentials_without_line_breaks() {
        let root = folder_with(&[("username", "builder\n"), ("password", "s3cret\r\n")]);
        let credentials = GitCredentials::load(&root).unwrap();
        assert_eq!(
            credentials.basic,
            Some(BasicCredentials {
                username: "builder".into(),
                password: "s3cret".into()
            })
        );
        assert_eq!(credentials.ssh_private_key, None);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_missing_folder_means_no_credentials() {
        let root = std::env::temp_dir().join("slipway-git-credentials-absent-folder");
        assert_eq!(
            GitCredentials::load(&root).unwrap(),
            GitCredentials::default()
        );
    }

    #[test]
    fn a_username_without_password_names_the_missing_key() {
        let root = folder_with(&[("username", "builder")]);
        let message = GitCredentials::load(&root).unwrap_err().to_string();
        assert!(message.contains("no `password`"), "{message}");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn ssh_key_and_known_hosts_files_are_found() {
        let root = folder_with(&[("ssh-privatekey", "KEY"), ("known_hosts", "host key")]);
        let credentials = GitCredentials::load(&root).unwrap();
        assert_eq!(
            credentials.ssh_private_key,
            Some(root.join("git/ssh-privatekey"))
        );
        assert_eq!(
            credentials.ssh_known_hosts,
            Some(root.join("git/known_hosts"))
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn secret_values_give_basic_credentials_without_line_breaks() {
        let credentials =
            GitCredentials::from_secret_values("ci/git", Some(b"builder"), Some(b"t0ken\n"))
                .unwrap();
        assert_eq!(
            credentials.basic,
            Some(BasicCredentials {
                username: "builder".into(),
                password: "t0ken".into()
            })
        );
        assert_eq!(credentials.ssh_private_key, None);
        assert_eq!(
            GitCredentials::from_secret_values("ci/git", None, None).unwrap(),
            GitCredentials::default()
        );
    }

    #[test]
    fn incomplete_or_binary_secret_values_name_the_secret_and_the_key() {
        let cases = [
            (
                None,
                Some(b"t0ken".as_slice()),
                "have `password` but no `username`",
            ),
            (
                Some(b"builder".as_slice()),
                None,
                "have `username` but no `password`",
            ),
            (
                Some(b"builder".as_slice()),
                Some(b"\xff\xfe".as_slice()),
                "a `password` that is not UTF-8",
            ),
        ];
        for (username, password, expected) in cases {
            let message = GitCredentials::from_secret_values("ci/git", username, password)
                .unwrap_err()
                .to_string();
            assert!(message.contains("in ci/git"), "{message}");
            assert!(message.contains(expected), "{message}");
            assert!(!message.contains("t0ken"), "{message}");
        }
    }

    #[test]
    fn debug_output_of_credentials_from_secret_values_never_shows_them() {
        let credentials =
            GitCredentials::from_secret_values("ci/git", Some(b"builder"), Some(b"s3cret"))
                .unwrap();
        let text = format!("{credentials:?}");
        assert!(
            !text.contains("s3cret") && !text.contains("builder"),
            "{text}"
        );
    }

    #[test]
    fn debug_output_never_shows_the_values() {
        let credentials = BasicCredentials {
            username: "builder".into(),
            password: "s3cret".into(),
        };
        let text = format!("{credentials:?}");
        assert!(
            !text.contains("s3cret") && !text.contains("builder"),
            "{text}"
        );
    }

    #[test]
    fn ssh_command_pins_host_keys_when_known_hosts_is_given() {
        let cases = [
            (
                Some(Path::new("/tmp/key")),
                Some(Path::new("/creds/known_hosts")),
                "ssh -o BatchMode=yes -o IdentitiesOnly=yes -i /tmp/key \
                 -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/creds/known_hosts",
            ),
            (
                Some(Path::new("/tmp/key")),
                None,
                "ssh -o BatchMode=yes -o IdentitiesOnly=yes -i /tmp/key \
                 -o StrictHostKeyChecking=accept-new",
            ),
            (
                None,
                None,
                "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
            ),
        ];
        for (key, known_hosts, expected) in cases {
            assert_eq!(ssh_command(key, known_hosts), expected);
        }
    }
}
