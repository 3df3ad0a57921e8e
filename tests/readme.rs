//! The `.chaos` examples in README.md check clean, so that a reader who
//! copies one starts from a file chaosc accepts.

mod common;

use common::{Sandbox, output, repo};

/// Returns the text of every fenced block of `language` in `markdown`.
fn fenced_blocks(markdown: &str, language: &str) -> Vec<String> {
    let opening = format!("```{language}");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match &mut current {
            None if line.trim_end() == opening => current = Some(String::new()),
            None => {}
            Some(_) if line.trim_end() == "```" => blocks.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    blocks
}

#[test]
fn readme_examples_check_clean() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let blocks = fenced_blocks(&readme, "chaos");
    assert!(!blocks.is_empty(), "README.md has no chaos example");

    let sandbox = Sandbox::new();
    for (index, block) in blocks.iter().enumerate() {
        let file = sandbox.write(&format!("readme_{index}.chaos"), block);
        let checked = output(sandbox.chaosc().arg("check").arg(&file));
        assert_eq!(
            checked.status.code(),
            Some(0),
            "README example {index} does not check:\n{}\n{}",
            String::from_utf8_lossy(&checked.stderr),
            block
        );
    }
}
