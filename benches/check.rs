//! Benchmarks of `chaosc check`: one generated file of 10,000 lines, and a
//! directory of 1,000 small files.

use std::fmt::Write;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};

/// Generates a valid file of about `lines` lines: proxy targets with labels,
/// and experiments of twelve lines that each act on one of them.
fn large_file(lines: usize) -> String {
    let mut text = String::from("use std::faults::{latency, blackhole}\n\n");
    let experiments = lines.div_ceil(14);
    for index in 0..experiments {
        let port = 20000 + index * 2;
        let _ = writeln!(
            text,
            "target t{index} = proxy {{ listen = 127.0.0.1:{port}, upstream = 127.0.0.1:{} }}",
            port + 1
        );
    }
    for index in 0..experiments {
        let _ = write!(
            text,
            "
experiment e{index} {{
    category = network
    severity = low
    duration = 5m
    safety {{ business_hours_only = false }}
    steady_state {{
        probe p = tcp 127.0.0.1:{}
    }}
    step slow = inject latency(100ms, jitter = 5ms) on t{index} for 1m
    step dark = inject blackhole() on t{index} for 30s after slow
    stop when p.failures > 3 in 30s
}}
",
            20000 + index * 2
        );
    }
    text
}

fn bench_large_file(c: &mut Criterion) {
    let text = large_file(10_000);
    assert!(text.lines().count() >= 10_000);
    let output = chaosc::check::check_source(&text).expect("the generated file parses");
    assert!(!output.has_errors(), "{:?}", output.diagnostics.first());
    c.bench_function("check 10000-line file", |b| {
        b.iter(|| chaosc::check::check_source(std::hint::black_box(&text)))
    });
}

fn bench_directory(c: &mut Criterion) {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let quickstart = include_str!("../scenarios/quickstart.chaos");
    for index in 0..1000 {
        std::fs::write(
            directory.path().join(format!("s{index:04}.chaos")),
            quickstart,
        )
        .unwrap();
    }
    let paths = vec![PathBuf::from(directory.path())];
    c.bench_function("check directory of 1000 files", |b| {
        b.iter(|| chaosc::cli::findings::check_paths(std::hint::black_box(&paths)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench_large_file, bench_directory
}
criterion_main!(benches);
