//! The git credentials a build pod gets as files: a Secret mounted read-only at
//! `<credentials dir>/git/` with the keys `username` + `password` (HTTPS basic auth; a token
//! goes in `password`) or `ssh-privatekey` (SSH), optionally `known_hosts`.
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
        "the git credentials in {folder} have `{present}` but no `{missing}`: \
         the Secret needs both keys for HTTPS"
    )]
    Incomplete {
        /// The folder.
        folder: PathBuf,
        /// The key present.
        present: &'static str,
        /// The key missing.
        missing: &'static str,
    },
}

impl GitCredentials {
    /// Reads `<credentials_dir>/git/`; a missing folder or missing files mean no credentials.
    ///
    /// # Errors
    /// A file that exists but cannot be read, or `username` without `password` (or the reverse).
    pub fn load(credentials_dir: &Path) -> Result<Self, CredentialsError> {
        let folder = credentials_dir.join(GIT_CREDENTIALS_FOLDER);
        let username = read_optional(&folder.join("username"))?;
        let password = read_optional(&folder.join("password"))?;
        let basic = match (username, password) {
            (Some(username), Some(password)) => Some(BasicCredentials { username, password }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(CredentialsError::Incomplete {
                    folder,
                    present: "username",
                    missing: "password",
                });
            }
            (None, Some(_)) => {
                return Err(CredentialsError::Incomplete {
                    folder,
                    present: "password",
                    missing: "username",
                });
            }
        };
        let existing = |name: &str| Some(folder.join(name)).filter(|path| path.is_file());
        Ok(GitCredentials {
            basic,
            ssh_private_key: existing("ssh-privatekey"),
            ssh_known_hosts: existing("known_hosts"),
        })
    }
}

/// The file's text without its trailing line break, or `None` when it does not exist.
fn read_optional(path: &Path) -> Result<Option<String>, CredentialsError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned())),
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
