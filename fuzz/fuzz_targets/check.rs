//! Feeds arbitrary text to the checker, which must return diagnostics and
//! never panic. `use "./x.chaos"` imports resolve against the current
//! directory, so run the target from a directory without `.chaos` files
//! worth reading (scripts/security runs it from `fuzz/`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = chaosc::check::check_source(text);
    }
});
