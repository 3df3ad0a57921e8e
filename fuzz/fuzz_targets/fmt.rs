//! Feeds arbitrary text to the formatter, which must return an error or a
//! layout that formatting again leaves unchanged, and never panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(formatted) = chaosc::lsp::format_source(text) {
        let again = chaosc::lsp::format_source(&formatted).expect("formatted text formats");
        assert_eq!(again, formatted, "formatting is not idempotent");
    }
});
