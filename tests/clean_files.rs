//! Every shipped `.chaos` file checks clean: no error and no warning.

mod common;

use common::{Sandbox, output, repo};

fn assert_clean(folder: &str) {
    let sandbox = Sandbox::new();
    let result =
        output(
            sandbox
                .chaosc()
                .current_dir(repo())
                .args(["check", "--deny-warnings", folder]),
        );
    assert_eq!(
        result.status.code(),
        Some(0),
        "{folder} does not check clean:\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
}

#[test]
fn scenarios_check_clean() {
    assert_clean("scenarios");
}

#[test]
fn stdlib_checks_clean() {
    assert_clean("stdlib");
}
