//! The parser, the checker, the formatter and the importer never panic: not
//! on generated token soup, and not on real files with bytes deleted,
//! inserted or replaced. The formatter's layout is also a fixed point. The
//! fuzz targets under fuzz/ run the same entry points for longer.

use chaosc::import::{InputFormat, import_experiment};
use proptest::prelude::*;

/// Tokens and fragments of the language, so that generated inputs get past
/// the first token often enough to reach the checker.
const FRAGMENTS: &[&str] = &[
    "experiment e {",
    "}",
    "{",
    "target t = process {",
    "target p = proxy {",
    "service s {",
    "use std::faults::{latency, process_kill}",
    "use \"./x.chaos\"",
    "step s = inject",
    "latency(100ms)",
    "process_kill()",
    "on t",
    "on p",
    "for 1m",
    "after s",
    "with probability 50%",
    "ramp 10s",
    "rate 2/s",
    "irreversible",
    "targets(app == \"a\") pick 50%",
    "severity = high",
    "category = network",
    "duration = 5m",
    "duration = 500",
    "safety { rollback = false }",
    "stop when h.failures > 3 in 30s",
    "probe h = http GET \"http://127.0.0.1:1/\"",
    "recovery plan r (rto = 1m) {",
    "action a = restart t timeout 30s",
    "action b = probe h after a",
    "alert x { threshold \"m\" gt 5% for 1m }",
    "channel c = slack { webhook = env(\"W\") }",
    "framework pci_dss { forbid { cardholder = [latency] } }",
    "compliance { frameworks = [sox] }",
    "command = [\"true\"]",
    "listen = 127.0.0.1:1",
    "upstream = 127.0.0.1:2",
    "labels = { app = \"a\" }",
    "service = \"s\"",
    "data = [cardholder]",
    "tier = critical",
    "rto = 1m",
    "mtd = 30s",
    "\n",
    ",",
    "=",
    "-1",
    "1e9",
    "999999999999999999999h",
    "\"",
    "/*",
    "*/",
    "//",
    "é",
    "SIGKILL",
    "[::1]:80",
];

fn fragment_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..60).prop_map(|parts| parts.join(" "))
}

/// Returns every scenario, stdlib module and checker test file: the seed
/// corpus the fuzz targets start from.
fn seed_files() -> Vec<String> {
    let mut texts = Vec::new();
    for folder in ["scenarios", "stdlib", "tests/check", "tests/bad"] {
        let mut paths: Vec<_> = std::fs::read_dir(folder)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "chaos"))
            .collect();
        paths.sort();
        texts.extend(
            paths
                .iter()
                .map(|path| std::fs::read_to_string(path).unwrap()),
        );
    }
    texts
}

/// Returns the Chaos Toolkit experiments that the importer tests read.
fn import_seeds() -> Vec<String> {
    let mut paths: Vec<_> = std::fs::read_dir("tests/import")
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| std::fs::read_to_string(path).unwrap())
        .collect()
}

/// Formats `text` and checks that formatting the result changes nothing.
fn format_is_fixed_point(text: &str) {
    if let Ok(formatted) = chaosc::lsp::format_source(text) {
        let again = chaosc::lsp::format_source(&formatted);
        assert_eq!(again.as_deref().ok(), Some(formatted.as_str()));
    }
}

/// Applies one edit at a position given as a fraction of the length, kept on
/// a character boundary.
fn mutate(text: &str, at: f64, length: usize, insert: &str) -> String {
    let mut start = ((text.len() as f64) * at) as usize;
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + length).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    format!("{}{}{}", &text[..start], insert, &text[end..])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn soup_never_panics(text in fragment_soup()) {
        let _ = chaosc::check::check_source(&text);
        format_is_fixed_point(&text);
    }

    #[test]
    fn mutated_files_never_panic(
        index in 0usize..64,
        at in 0.0f64..1.0,
        length in 0usize..40,
        insert in prop::sample::select(FRAGMENTS),
    ) {
        let seeds = seed_files();
        let text = mutate(&seeds[index % seeds.len()], at, length, insert);
        let _ = chaosc::check::check_source(&text);
        format_is_fixed_point(&text);
    }

    #[test]
    fn mutated_imports_never_panic(
        index in 0usize..64,
        at in 0.0f64..1.0,
        length in 0usize..40,
        insert in prop::sample::select(&["{", "}", "[", "]", "\"", ",", ":", "null", "-1e999", "\\u0000", "é"][..]),
    ) {
        let seeds = import_seeds();
        let text = mutate(&seeds[index % seeds.len()], at, length, insert);
        let _ = import_experiment(&text, InputFormat::Json, "mutated.json");
        let _ = import_experiment(&text, InputFormat::Yaml, "mutated.yaml");
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        let _ = chaosc::check::check_source(&text);
        format_is_fixed_point(&text);
        let _ = import_experiment(&text, InputFormat::Json, "arbitrary.json");
        let _ = import_experiment(&text, InputFormat::Yaml, "arbitrary.yaml");
    }
}
