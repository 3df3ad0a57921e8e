//! Every diagnostic code of chaosc has a page in `docs/diagnostics.md`, the
//! file `chaosc explain` prints from.

use chaosc::cli::explain::{find, pages};

/// Lists every `code(chaos::...)` written in the sources of the crate.
fn source_codes() -> Vec<String> {
    let mut codes = Vec::new();
    collect_codes(std::path::Path::new("src"), &mut codes);
    codes.sort();
    codes.dedup();
    codes
}

fn collect_codes(directory: &std::path::Path, codes: &mut Vec<String>) {
    for entry in std::fs::read_dir(directory).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_codes(&path, codes);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for rest in text.split("code(chaos::").skip(1) {
                codes.push(rest[..rest.find(')').unwrap()].to_owned());
            }
        }
    }
}

#[test]
fn every_code_has_a_page() {
    let codes = source_codes();
    assert!(codes.len() > 40, "found only {codes:?}");
    for code in codes {
        assert!(
            find(&code).is_some(),
            "docs/diagnostics.md has no page for {code}"
        );
    }
}

#[test]
fn pages_have_every_part() {
    for page in pages() {
        for part in ["**What.**", "**Why.**", "**Example.**", "**Fix.**"] {
            assert!(page.body.contains(part), "page {} has no {part}", page.code);
        }
    }
}

#[test]
fn codes_are_unique() {
    let mut codes: Vec<&str> = pages().iter().map(|page| page.code).collect();
    let count = codes.len();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), count);
}

#[test]
fn find_accepts_prefix_and_case() {
    assert_eq!(find("chaos::E0101").map(|page| page.code), Some("E0101"));
    assert_eq!(find("w0001").map(|page| page.code), Some("W0001"));
    assert!(find("E9999").is_none());
    assert_eq!(find("413").map(|page| page.code), Some("E0413"));
}
