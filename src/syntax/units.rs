//! The units a quantity may carry, written right after its number
//! (`300ms`, `10MiB`), with the factor from each to its base unit.

/// Seconds.
pub const DURATION: &[(&str, f64)] = &[("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)];
/// A fraction of one.
pub const PERCENT: &[(&str, f64)] = &[("%", 0.01)];
/// Bytes.
pub const SIZE: &[(&str, f64)] = &[
    ("B", 1.0),
    ("KB", 1e3),
    ("MB", 1e6),
    ("GB", 1e9),
    ("KiB", 1024.0),
    ("MiB", 1048576.0),
    ("GiB", 1073741824.0),
    ("TiB", 1099511627776.0),
];
/// Bits per second.
pub const BANDWIDTH: &[(&str, f64)] = &[
    ("bit/s", 1.0),
    ("kbit/s", 1e3),
    ("Mbit/s", 1e6),
    ("Gbit/s", 1e9),
];
/// Events per second.
pub const RATE: &[(&str, f64)] = &[("/s", 1.0), ("/m", 1.0 / 60.0), ("/h", 1.0 / 3600.0)];

/// Tells whether `word` is the spelling of a unit of any quantity.
pub fn is_unit(word: &str) -> bool {
    [DURATION, PERCENT, SIZE, BANDWIDTH, RATE]
        .iter()
        .any(|units| units.iter().any(|(unit, _)| *unit == word))
}
