//! Every scenario and standard library file checks without a finding.

use std::path::PathBuf;

use chaosc::cli::findings::check_paths;
use chaosc::cli::render::Style;

#[test]
fn scenarios_and_stdlib_check_clean() {
    let files = check_paths(&[PathBuf::from("scenarios"), PathBuf::from("stdlib")]);
    assert!(files.len() >= 4);
    for file in files {
        let text = file.render_human(Style {
            color: false,
            width: 100,
        });
        assert!(file.diagnostics.is_empty(), "{}:\n{text}", file.path);
    }
}
