//! CodeBuild's selection rules, one row per rule, over a tree held in memory.

use std::path::Path;

use crate::build::artifacts::selection::{EntryContent, select_files};
use crate::build::artifacts::tree::MemoryTree;
use crate::build::buildspec::ArtifactSet;

fn tree() -> MemoryTree {
    MemoryTree::new()
        .file("/src/buildspec.yml")
        .file("/src/README.md")
        .file("/src/master-stack.yml")
        .file("/src/config-a.json")
        .file("/src/config-b.json")
        .file("/src/dist/app.js")
        .file_with_mode("/src/dist/bin/run.sh", 0o755)
        .file("/src/dist/css/site.css")
        .file("/src/dist2/other.js")
        .file("/src/params/dev.json")
        .file("/src/params/prod.yml")
        .file("/src/node_modules/x/index.js")
        .file("/src/logs/a/x_results.txt")
        .file("/src/logs/b/x_results.txt")
        .directory("/src/empty")
        .symlink("/src/link-to-file", "dist/app.js")
        .symlink("/src/link-to-dir", "dist")
        .symlink("/src/dangling", "missing")
        .file("/tmp/build.json")
}

/// A set with `files` and tweaks.
fn set(files: &[&str], tweak: impl FnOnce(&mut ArtifactSet)) -> ArtifactSet {
    let mut set = ArtifactSet {
        files: files.iter().map(|f| (*f).to_owned()).collect(),
        ..ArtifactSet::default()
    };
    tweak(&mut set);
    set
}

fn none(_: &mut ArtifactSet) {}

/// One row: the rule, the set, and the archive names or the error it gives.
type Row = (
    &'static str,
    ArtifactSet,
    Result<Vec<&'static str>, &'static str>,
);

fn select(set: &ArtifactSet) -> Result<Vec<String>, String> {
    select_files(&tree(), Path::new("/src"), set)
        .map(|selection| selection.names().into_iter().map(str::to_owned).collect())
        .map_err(|error| error.to_string())
}

const ALL_SOURCE_FILES: &[&str] = &[
    "README.md",
    "buildspec.yml",
    "config-a.json",
    "config-b.json",
    "dist/app.js",
    "dist/bin/run.sh",
    "dist/css/site.css",
    "dist2/other.js",
    "link-to-file",
    "logs/a/x_results.txt",
    "logs/b/x_results.txt",
    "master-stack.yml",
    "node_modules/x/index.js",
    "params/dev.json",
    "params/prod.yml",
];

#[test]
fn selection_follows_codebuild_rules() {
    let table: Vec<Row> = vec![
        (
            "double star selects everything recursively",
            set(&["**/*"], none),
            Ok(ALL_SOURCE_FILES.to_vec()),
        ),
        (
            "single star selects the base's own files",
            set(&["*"], none),
            Ok(vec![
                "README.md",
                "buildspec.yml",
                "config-a.json",
                "config-b.json",
                "link-to-file",
                "master-stack.yml",
            ]),
        ),
        (
            "dir/* selects only that directory's files",
            set(&["dist/*"], none),
            Ok(vec!["dist/app.js"]),
        ),
        (
            "dir/**/* selects a directory recursively",
            set(&["dist/**/*"], none),
            Ok(vec!["dist/app.js", "dist/bin/run.sh", "dist/css/site.css"]),
        ),
        (
            "a directory named alone is taken whole",
            set(&["dist"], none),
            Ok(vec!["dist/app.js", "dist/bin/run.sh", "dist/css/site.css"]),
        ),
        (
            "a single file",
            set(&["master-stack.yml"], none),
            Ok(vec!["master-stack.yml"]),
        ),
        (
            "a leading ./ is ignored",
            set(&["./dist/app.js"], none),
            Ok(vec!["dist/app.js"]),
        ),
        (
            "several patterns add up without duplicates",
            set(
                &["config-*.json", "config-a.json", "master-stack.yml"],
                none,
            ),
            Ok(vec!["config-a.json", "config-b.json", "master-stack.yml"]),
        ),
        (
            "globs do not cross directories with one star",
            set(&["*/*.json"], none),
            Ok(vec!["params/dev.json"]),
        ),
        (
            "base-directory makes names relative to it",
            set(&["**/*"], |s| s.base_directory = Some("dist".into())),
            Ok(vec!["app.js", "bin/run.sh", "css/site.css"]),
        ),
        (
            "base-directory ./dist/ is the same directory",
            set(&["*"], |s| s.base_directory = Some("./dist/".into())),
            Ok(vec!["app.js"]),
        ),
        (
            "a globbed base-directory takes every matching directory",
            set(&["*.js"], |s| s.base_directory = Some("dist*".into())),
            Ok(vec!["app.js", "other.js"]),
        ),
        (
            "an absolute base-directory",
            set(&["*.json"], |s| s.base_directory = Some("/tmp".into())),
            Ok(vec!["build.json"]),
        ),
        (
            "a missing base-directory is CodeBuild's error",
            set(&["**/*"], |s| s.base_directory = Some("out".into())),
            Err("no matching base directory path found for out"),
        ),
        (
            "a globbed base-directory matching nothing is the same error",
            set(&["**/*"], |s| s.base_directory = Some("build*".into())),
            Err("no matching base directory path found for build*"),
        ),
        (
            "nothing matched is CodeBuild's error",
            set(&["target/*.jar"], none),
            Err("no matching artifact paths found"),
        ),
        (
            "an empty directory is no match",
            set(&["empty"], none),
            Err("no matching artifact paths found"),
        ),
        (
            "exclude-paths with a double star",
            set(&["**/*"], |s| {
                s.exclude_paths = vec!["node_modules/**/*".into(), "logs/**/*".into()]
            }),
            Ok(ALL_SOURCE_FILES
                .iter()
                .copied()
                .filter(|f| !f.starts_with("node_modules") && !f.starts_with("logs"))
                .collect()),
        ),
        (
            "exclude-paths naming a directory excludes what is under it",
            set(&["dist/**/*"], |s| {
                s.exclude_paths = vec!["dist/css".into()]
            }),
            Ok(vec!["dist/app.js", "dist/bin/run.sh"]),
        ),
        (
            "an exclude star stays within one directory",
            set(&["*", "params/*"], |s| {
                s.exclude_paths = vec!["*.json".into()]
            }),
            Ok(vec![
                "README.md",
                "buildspec.yml",
                "link-to-file",
                "master-stack.yml",
                "params/dev.json",
                "params/prod.yml",
            ]),
        ),
        (
            "exclude-paths are relative to base-directory",
            set(&["**/*"], |s| {
                s.base_directory = Some("dist".into());
                s.exclude_paths = vec!["**/*.sh".into()];
            }),
            Ok(vec!["app.js", "css/site.css"]),
        ),
        (
            "excluding everything leaves no match",
            set(&["dist/*"], |s| s.exclude_paths = vec!["**/*.js".into()]),
            Err("no matching artifact paths found"),
        ),
        (
            "discard-paths keeps file names only",
            set(&["dist/**/*"], |s| s.discard_paths = true),
            Ok(vec!["app.js", "run.sh", "site.css"]),
        ),
        (
            "discard-paths with two files of one name is an error",
            set(&["logs/**/*"], |s| s.discard_paths = true),
            Err(
                "unable to package the artifact: /src/logs/a/x_results.txt and /src/logs/b/x_results.txt would both be stored as `x_results.txt` (discard-paths: yes keeps only file names)",
            ),
        ),
        (
            "an absolute file keeps its full path",
            set(&["/tmp/build.json", "imageDetail.json"], none),
            Ok(vec!["tmp/build.json"]),
        ),
        (
            "an absolute file with discard-paths keeps its name",
            set(&["/tmp/build.json"], |s| s.discard_paths = true),
            Ok(vec!["build.json"]),
        ),
        (
            "a pattern climbing out of the base is stored from the file system root",
            set(&["../tmp/*.json"], none),
            Ok(vec!["tmp/build.json"]),
        ),
        (
            "an invalid glob names itself",
            set(&["dist/[a"], none),
            Err("invalid glob `dist/[a` in artifacts files: unclosed character class; missing ']'"),
        ),
        (
            "links are copied as files, directory links and dangling links skipped",
            set(&["link-to-file", "link-to-dir", "dangling"], none),
            Ok(vec!["link-to-file"]),
        ),
        (
            "enable-symlinks keeps every link as a link",
            set(&["link-to-file", "link-to-dir", "dangling"], |s| {
                s.enable_symlinks = true
            }),
            Ok(vec!["dangling", "link-to-dir", "link-to-file"]),
        ),
    ];
    for (rule, set, expected) in table {
        let expected = expected
            .map(|names| names.into_iter().map(str::to_owned).collect::<Vec<_>>())
            .map_err(str::to_owned);
        assert_eq!(select(&set), expected, "{rule}");
    }
}

#[test]
fn links_keep_their_kind_and_files_their_mode() {
    let links = set(&["link-to-file", "link-to-dir", "dist/bin/run.sh"], |s| {
        s.enable_symlinks = true
    });
    let selection = select_files(&tree(), Path::new("/src"), &links).unwrap();
    let contents: Vec<_> = selection
        .entries
        .iter()
        .map(|entry| (entry.name.as_str(), entry.content.clone()))
        .collect();
    assert_eq!(
        contents,
        vec![
            ("dist/bin/run.sh", EntryContent::File { mode: 0o755 }),
            (
                "link-to-dir",
                EntryContent::Symlink {
                    target: "dist".into()
                }
            ),
            (
                "link-to-file",
                EntryContent::Symlink {
                    target: "dist/app.js".into()
                }
            ),
        ]
    );
    let followed = select_files(
        &tree(),
        Path::new("/src"),
        &set(&["link-to-file", "link-to-dir", "dangling"], none),
    )
    .unwrap();
    assert_eq!(
        followed.entries[0].content,
        EntryContent::File { mode: 0o644 }
    );
    assert_eq!(followed.entries[0].source, Path::new("/src/link-to-file"));
    assert_eq!(
        followed.warnings,
        vec![
            "symbolic link /src/link-to-dir points to a directory and is not followed (set enable-symlinks: yes to keep it as a link)".to_owned(),
            "symbolic link /src/dangling points to nothing and is skipped".to_owned(),
        ]
    );
}
