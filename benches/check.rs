//! Benchmarks of `chaosc check`; filled in with the checker's workloads.

fn main() {}
