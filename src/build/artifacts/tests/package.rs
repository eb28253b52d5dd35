//! Packaging is deterministic and round-trips through unpacking.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::build::artifacts::package::package;
use crate::build::artifacts::selection::select_files;
use crate::build::artifacts::tree::DiskTree;
use crate::build::artifacts::unpack::{UnpackError, unpack};
use crate::build::buildspec::ArtifactSet;

/// A scratch folder removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let path = std::env::temp_dir().join(format!(
            "slipway-artifacts-{name}-{}",
            crate::build::executor::environment::random_uuid()
        ));
        std::fs::create_dir_all(&path).unwrap();
        Scratch(path)
    }

    fn write(&self, relative: &str, text: &str, mode: u32) {
        let path = self.0.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn source_tree(scratch: &Scratch) -> PathBuf {
    let source = scratch.0.join("src");
    std::fs::create_dir_all(&source).unwrap();
    let write = |relative: &str, text: &str, mode: u32| {
        let path = source.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    write("b.txt", "bee\n", 0o644);
    write("a/run.sh", "#!/bin/sh\necho hi\n", 0o755);
    write("a/deep/c.txt", &"c".repeat(10_000), 0o600);
    std::os::unix::fs::symlink("a/run.sh", source.join("run")).unwrap();
    source
}

fn everything(enable_symlinks: bool) -> ArtifactSet {
    ArtifactSet {
        files: vec!["**/*".into()],
        enable_symlinks,
        ..ArtifactSet::default()
    }
}

fn package_at(source: &Path, zip: &Path, enable_symlinks: bool) -> String {
    let selection = select_files(&DiskTree, source, &everything(enable_symlinks)).unwrap();
    package(&selection, zip).unwrap().digest
}

#[test]
fn same_files_give_the_same_digest_whatever_their_timestamps() {
    let scratch = Scratch::new("determinism");
    let source = source_tree(&scratch);
    let first = package_at(&source, &scratch.0.join("one.zip"), true);
    // New modification times, same content.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    scratch.write("src/b.txt", "bee\n", 0o644);
    let second = package_at(&source, &scratch.0.join("two.zip"), true);
    assert_eq!(first, second);
    assert!(first.starts_with("sha256:") && first.len() == 71, "{first}");
    scratch.write("src/b.txt", "bee!\n", 0o644);
    let third = package_at(&source, &scratch.0.join("three.zip"), true);
    assert_ne!(first, third, "a content change changes the digest");
    scratch.write("src/b.txt", "bee\n", 0o755);
    let fourth = package_at(&source, &scratch.0.join("four.zip"), true);
    assert_ne!(first, fourth, "a mode change changes the digest");
}

#[test]
fn unpacking_restores_contents_modes_and_links() {
    let scratch = Scratch::new("roundtrip");
    let source = source_tree(&scratch);
    let zip = scratch.0.join("out.zip");
    package_at(&source, &zip, true);
    let to = scratch.0.join("unpacked");
    let summary = unpack(&zip, &to).unwrap();
    assert_eq!((summary.files, summary.symlinks), (3, 1));
    assert_eq!(std::fs::read_to_string(to.join("b.txt")).unwrap(), "bee\n");
    assert_eq!(
        std::fs::read_to_string(to.join("a/deep/c.txt")).unwrap(),
        "c".repeat(10_000)
    );
    let mode = |p: &str| std::fs::metadata(to.join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        (mode("a/run.sh"), mode("a/deep/c.txt"), mode("b.txt")),
        (0o755, 0o600, 0o644)
    );
    assert_eq!(
        std::fs::read_link(to.join("run")).unwrap(),
        Path::new("a/run.sh")
    );
}

#[test]
fn links_become_copies_without_enable_symlinks() {
    let scratch = Scratch::new("copies");
    let source = source_tree(&scratch);
    let zip = scratch.0.join("out.zip");
    package_at(&source, &zip, false);
    let to = scratch.0.join("unpacked");
    let summary = unpack(&zip, &to).unwrap();
    assert_eq!((summary.files, summary.symlinks), (4, 0));
    assert!(
        !std::fs::symlink_metadata(to.join("run"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_to_string(to.join("run")).unwrap(),
        "#!/bin/sh\necho hi\n"
    );
}

#[test]
fn archives_with_escaping_names_are_rejected_before_writing() {
    use std::io::Write;
    let scratch = Scratch::new("traversal");
    for hostile in ["../escape.txt", "/etc/evil", "ok/../../escape.txt"] {
        let zip_path = scratch.0.join("hostile.zip");
        let mut writer = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        writer.start_file("fine.txt", options).unwrap();
        writer.write_all(b"fine").unwrap();
        writer.start_file(hostile, options).unwrap();
        writer.write_all(b"evil").unwrap();
        writer.finish().unwrap();
        let to = scratch.0.join("to");
        let error = unpack(&zip_path, &to).unwrap_err();
        assert!(
            matches!(error, UnpackError::Traversal { .. }),
            "{hostile}: {error}"
        );
        assert!(error.to_string().contains(hostile), "{error}");
        assert!(
            !to.join("fine.txt").exists(),
            "nothing is written for {hostile}"
        );
        assert!(!scratch.0.join("escape.txt").exists());
    }
}
