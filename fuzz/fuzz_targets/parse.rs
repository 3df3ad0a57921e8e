//! Feeds arbitrary text to the `.chaos` parser, which must return a syntax
//! tree or syntax errors and never panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The command-line tools reject non-UTF-8 input before parsing
    // (E0903), so only text reaches the parser.
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = chaosc::syntax::parse_file(text);
    }
});
