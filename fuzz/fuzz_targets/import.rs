//! Feeds arbitrary text to the Chaos Toolkit importer as JSON and as YAML;
//! it must return a scenario or import errors and never panic.

#![no_main]

use chaosc::import::{InputFormat, import_experiment};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = import_experiment(text, InputFormat::Json, "fuzz.json");
        let _ = import_experiment(text, InputFormat::Yaml, "fuzz.yaml");
    }
});
