//! The parser and the checker never panic: not on generated token soup,
//! and not on real files with bytes deleted, inserted or replaced.

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

fn seed_files() -> Vec<String> {
    let mut texts = vec![include_str!("../scenarios/quickstart.chaos").to_owned()];
    for entry in std::fs::read_dir("tests/check").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "chaos") {
            texts.push(std::fs::read_to_string(path).unwrap());
        }
    }
    texts
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
    }

    #[test]
    fn mutated_files_never_panic(
        index in 0usize..64,
        at in 0.0f64..1.0,
        length in 0usize..40,
        insert in prop::sample::select(FRAGMENTS),
    ) {
        let seeds = seed_files();
        let seed = &seeds[index % seeds.len()];
        let _ = chaosc::check::check_source(&mutate(seed, at, length, insert));
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        let _ = chaosc::check::check_source(&text);
    }
}
