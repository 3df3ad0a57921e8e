//! The golden corpus: every file in `tests/bad/` is checked, and its human
//! and JSON diagnostics are compared with the snapshots in
//! `tests/snapshots/`.

mod common;

use common::{Sandbox, output, repo};

#[test]
fn bad_files_match_snapshots() {
    let sandbox = Sandbox::new();
    let mut files: Vec<_> = std::fs::read_dir(repo().join("tests/bad"))
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "chaos"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 12,
        "the corpus has only {} files",
        files.len()
    );

    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let relative = path.strip_prefix(repo()).unwrap();
        let human = output(
            sandbox
                .chaosc()
                .current_dir(repo())
                .arg("check")
                .arg(relative),
        );
        let json = output(
            sandbox
                .chaosc()
                .current_dir(repo())
                .args(["check", "--format", "json"])
                .arg(relative),
        );
        let expected_code = if name.starts_with("unused") { 0 } else { 1 };
        assert_eq!(
            human.status.code(),
            Some(expected_code),
            "exit code of {name}"
        );
        assert_eq!(
            json.status.code(),
            Some(expected_code),
            "exit code of {name} with JSON"
        );

        let snapshot = format!(
            "{}\n---- json ----\n{}",
            String::from_utf8_lossy(&human.stderr),
            String::from_utf8_lossy(&json.stdout)
        );
        insta::assert_snapshot!(name, snapshot);
    }
}
