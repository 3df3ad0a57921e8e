//! Hostile input for the real binary: inputs built to crash, stall or
//! exhaust chaosc, shell metacharacters in every string that reaches a
//! command, and file faults aimed outside their declared root. Every case
//! must end within a few seconds, without a panic, with the exit code that
//! README.md documents.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::Sandbox;

const SUCCESS: i32 = 0;
const FILE_HAS_ERRORS: i32 = 1;
const CANNOT_START: i32 = 2;
const EXPERIMENT_FAILED: i32 = 3;

/// Shell syntax that would create `MARKER` if any part of chaosc handed a
/// string to a shell: command substitution in both forms, separators, pipes,
/// redirections, globs, a backslash and both quotes (`\"` is the `.chaos`
/// escape for `"`).
const PAYLOAD: &str = r#"$(touch MARKER); `touch MARKER`; touch MARKER | & > MARKER < * ~ \\ '\""#;

/// The payload as the program receives it, after `.chaos` unescaping.
const PAYLOAD_ARGV: &str =
    r#"$(touch MARKER); `touch MARKER`; touch MARKER | & > MARKER < * ~ \ '""#;

/// A Python program that writes its arguments after the first to the file
/// named by the first, one per line, so a test can compare argv exactly.
const WRITE_ARGV: &str = "import sys; open(sys.argv[1], 'w').write(chr(10).join(sys.argv[2:]))";

/// The exit code and standard error of a bounded command.
struct Bounded {
    code: Option<i32>,
    stderr: String,
}

impl Bounded {
    fn assert_no_panic(&self) {
        assert!(
            !self.stderr.contains("panicked"),
            "chaosc panicked:\n{}",
            tail(&self.stderr)
        );
    }
}

/// Returns the last 2000 bytes of `text`, so that a failure does not print
/// megabytes of echoed input.
fn tail(text: &str) -> &str {
    let mut start = text.len().saturating_sub(2000);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// Runs `command` with its output in files of the sandbox, so that a large
/// diagnostic never blocks it on a full pipe. Kills it (by its own pid)
/// when it runs longer than `limit`.
fn run_bounded(sandbox: &Sandbox, command: &mut Command, limit: Duration) -> Bounded {
    let stdout_path = sandbox.dir.path().join("bounded.stdout");
    let stderr_path = sandbox.dir.path().join("bounded.stderr");
    let mut child = command
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .expect("start chaosc");
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chaosc") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = String::from_utf8_lossy(&std::fs::read(&stderr_path).unwrap()).into_owned();
    let Some(status) = status else {
        panic!(
            "chaosc ran longer than {limit:?}; stderr:\n{}",
            tail(&stderr)
        );
    };
    Bounded {
        code: status.code(),
        stderr,
    }
}

/// Runs `chaosc check FILE`, bounded by `limit`.
fn check(sandbox: &Sandbox, file: &Path, limit: Duration) -> Bounded {
    let result = run_bounded(sandbox, sandbox.chaosc().arg("check").arg(file), limit);
    result.assert_no_panic();
    result
}

/// Runs `chaosc run FILE`, bounded by `limit`.
fn run(sandbox: &Sandbox, file: &Path, limit: Duration) -> Bounded {
    let result = run_bounded(sandbox, sandbox.chaosc().arg("run").arg(file), limit);
    result.assert_no_panic();
    result
}

fn write_bytes(sandbox: &Sandbox, name: &str, bytes: &[u8]) -> PathBuf {
    let path = sandbox.dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Returns an experiment that may run at any hour, with `body` inside it.
fn experiment(body: &str) -> String {
    format!(
        "experiment hostile {{
    category = storage
    severity = low
    duration = 1m
    safety {{ rollback = true, timeout = 30s, emergency_stop = true, business_hours_only = false }}
{body}
}}
"
    )
}

// Inputs that could crash, stall or exhaust the parser and the checker.

#[test]
fn deep_nesting_is_a_syntax_error() {
    let sandbox = Sandbox::new();
    let openers = [("[", "labels = "), ("{", "labels = "), ("(", "")];
    for (opener, prefix) in openers {
        let text = format!("experiment e {{ {prefix}{} }}", opener.repeat(100_000));
        let file = sandbox.write("deep.chaos", &text);
        let result = check(&sandbox, &file, Duration::from_secs(15));
        assert_eq!(
            result.code,
            Some(FILE_HAS_ERRORS),
            "100,000 nested `{opener}`: {}",
            tail(&result.stderr)
        );
        assert!(
            result.stderr.contains("E0002"),
            "100,000 nested `{opener}` gave no nesting error: {}",
            tail(&result.stderr)
        );
    }
}

#[test]
fn deep_closed_values_are_a_syntax_error() {
    // Closed nesting parses, so the recursion goes on into the syntax tree.
    let sandbox = Sandbox::new();
    let levels = 2300;
    let values = [
        (
            "lists",
            format!("{}{}", "[".repeat(levels), "]".repeat(levels)),
        ),
        (
            "calls",
            format!("{}1{}", "f(".repeat(levels), ")".repeat(levels)),
        ),
        (
            "maps",
            format!("{}1{}", "{ a = ".repeat(levels), " }".repeat(levels)),
        ),
    ];
    for (kind, value) in values {
        let text = format!("service s {{ description = {value} }}\n");
        let file = sandbox.write("deep.chaos", &text);
        let result = check(&sandbox, &file, Duration::from_secs(15));
        assert_eq!(
            result.code,
            Some(FILE_HAS_ERRORS),
            "nested {kind}: {}",
            tail(&result.stderr)
        );
        assert!(
            result.stderr.contains("E0002"),
            "nested {kind}: {}",
            tail(&result.stderr)
        );
        assert!(
            result.stderr.contains("nest at most 64 levels"),
            "nested {kind} has no help"
        );
    }
}

#[test]
fn deep_blocks_are_a_syntax_error() {
    let sandbox = Sandbox::new();
    let levels = 2300;
    let text = format!(
        "service s {}{}\n",
        "{ a ".repeat(levels) + "{",
        "}".repeat(levels + 1)
    );
    let file = sandbox.write("deep.chaos", &text);
    let result = check(&sandbox, &file, Duration::from_secs(15));
    assert_eq!(
        result.code,
        Some(FILE_HAS_ERRORS),
        "{}",
        tail(&result.stderr)
    );
    assert!(result.stderr.contains("E0002"), "{}", tail(&result.stderr));
}

#[test]
fn deep_block_comments_are_a_syntax_error() {
    // Block comments nest, so 100,000 unclosed openers are 100,000 levels.
    let sandbox = Sandbox::new();
    let file = sandbox.write("comments.chaos", &"/*".repeat(100_000));
    let result = check(&sandbox, &file, Duration::from_secs(15));
    assert_eq!(result.code, Some(FILE_HAS_ERRORS));
    assert!(result.stderr.contains("E0002"), "{}", tail(&result.stderr));
}

/// Returns a file that writes `duration` in the place named `place` and
/// short durations everywhere else.
fn file_with_duration(place: &str, duration: &str) -> String {
    let at = |name: &str, short: &str| {
        if name == place {
            duration.to_owned()
        } else {
            short.to_owned()
        }
    };
    format!(
        r#"use std::faults::{{latency, http_delay, reset_peer, slow_close}}

target web = process {{
    command = ["python3", "-m", "http.server", "18181", "--bind", "127.0.0.1"]
    ready = 127.0.0.1:18181
    ready_timeout = {ready}
}}

target front = proxy {{
    listen = 127.0.0.1:18180
    upstream = 127.0.0.1:18181
}}

experiment durations {{
    category = network
    severity = low
    duration = 1m
    safety {{ rollback = true, timeout = {safety}, emergency_stop = true, business_hours_only = false }}

    steady_state {{
        probe home = http GET "http://127.0.0.1:18180/" expect status == 200 within 2s every {every}
    }}

    step a = inject latency(delay = {latency}) on front for 1s
    step b = inject http_delay(delay = {http_delay}) on front for 1s after a
    step c = inject reset_peer(timeout = {reset_peer}) on front for 1s after b
    step d = inject slow_close(delay = {slow_close}) on front for 1s after c

    success {{
        home.success_rate >= 50%
    }}

    recovery plan restore (strategy = immediate_rollback, rto = 1m, rpo = 0s) {{
        action restart_web = restart web timeout 10s
        action verify = probe home timeout 10s after restart_web
    }}
}}
"#,
        ready = at("ready_timeout", "10s"),
        safety = at("safety timeout", "30s"),
        every = at("probe every", "500ms"),
        latency = at("latency delay", "200ms"),
        http_delay = at("http_delay delay", "200ms"),
        reset_peer = at("reset_peer timeout", "200ms"),
        slow_close = at("slow_close delay", "200ms"),
    )
}

#[test]
fn durations_over_a_year_are_rejected() {
    // Each of these durations is added to an instant at run time, which
    // overflows for durations of hundreds of billions of years.
    let places = [
        "ready_timeout",
        "safety timeout",
        "probe every",
        "latency delay",
        "http_delay delay",
        "reset_peer timeout",
        "slow_close delay",
    ];
    let sandbox = Sandbox::new();
    for place in places {
        let year = sandbox.write("year.chaos", &file_with_duration(place, "8760h"));
        let result = check(&sandbox, &year, Duration::from_secs(15));
        assert_eq!(
            result.code,
            Some(SUCCESS),
            "{place} = 8760h: {}",
            tail(&result.stderr)
        );

        for huge in ["8761h", "4000000000000000h"] {
            let file = sandbox.write("huge.chaos", &file_with_duration(place, huge));
            let result = check(&sandbox, &file, Duration::from_secs(15));
            assert_eq!(result.code, Some(FILE_HAS_ERRORS), "{place} = {huge}");
            assert!(
                result.stderr.contains("E0208"),
                "{place} = {huge}: {}",
                tail(&result.stderr)
            );
            assert!(
                result.stderr.contains("at most 365 days"),
                "{place} = {huge}: no help"
            );
        }
    }
}

#[test]
fn lone_carriage_return_is_a_syntax_error() {
    // A terminal shows only `service hidden { }`, which the comment hides.
    let sandbox = Sandbox::new();
    let text = format!("// note\rservice hidden {{ }}\n{}", experiment(""));
    let file = sandbox.write("cr.chaos", &text);
    let result = check(&sandbox, &file, Duration::from_secs(10));
    assert_eq!(
        result.code,
        Some(FILE_HAS_ERRORS),
        "{}",
        tail(&result.stderr)
    );
    assert!(result.stderr.contains("E0003"), "{}", tail(&result.stderr));

    let mut command = sandbox.chaosc();
    command.arg("fmt").arg(&file);
    let formatted = run_bounded(&sandbox, &mut command, Duration::from_secs(10));
    formatted.assert_no_panic();
    assert_eq!(
        formatted.code,
        Some(CANNOT_START),
        "{}",
        tail(&formatted.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        text,
        "fmt changed the file"
    );
}

#[test]
fn fmt_keeps_unusual_spaces_invalid() {
    let sandbox = Sandbox::new();
    for space in ['\u{a0}', '\u{c}', '\u{2028}', '\u{85}'] {
        let text = experiment(&format!("{space}labels = {{ app = \"web\" }}"));
        let file = sandbox.write("space.chaos", &text);
        let before = check(&sandbox, &file, Duration::from_secs(10));
        assert_eq!(before.code, Some(FILE_HAS_ERRORS), "{space:?} before fmt");

        let mut command = sandbox.chaosc();
        command.arg("fmt").arg(&file);
        let formatted = run_bounded(&sandbox, &mut command, Duration::from_secs(10));
        formatted.assert_no_panic();
        let after = check(&sandbox, &file, Duration::from_secs(10));
        assert_eq!(after.code, Some(FILE_HAS_ERRORS), "{space:?} after fmt");
    }
}

#[test]
fn ten_megabyte_line_is_too_large() {
    let sandbox = Sandbox::new();
    let text = format!("// {}\n", "a".repeat(10 * 1024 * 1024));
    let file = sandbox.write("long.chaos", &text);
    let result = check(&sandbox, &file, Duration::from_secs(10));
    assert_eq!(result.code, Some(CANNOT_START), "{}", tail(&result.stderr));
    assert!(result.stderr.contains("E0904"), "{}", tail(&result.stderr));
}

#[test]
fn one_megabyte_string_checks_clean() {
    // A long line under the 8 MiB limit is read and checked in full. The
    // debug build took about 2s per megabyte of one line on a loaded
    // two-core machine, so the line is kept at 1 MiB to fit the time limit.
    let sandbox = Sandbox::new();
    let description = "a".repeat(1024 * 1024);
    let text = experiment(&format!("    description = \"{description}\""));
    let file = sandbox.write("long.chaos", &text);
    let result = check(&sandbox, &file, Duration::from_secs(30));
    assert_eq!(result.code, Some(SUCCESS), "{}", tail(&result.stderr));
}

#[test]
fn file_over_limit_is_rejected() {
    let sandbox = Sandbox::new();
    let limit = 8 * 1024 * 1024;
    let file = write_bytes(&sandbox, "big.chaos", &vec![b' '; limit + 1]);
    let result = check(&sandbox, &file, Duration::from_secs(10));
    assert_eq!(result.code, Some(CANNOT_START));
    assert!(result.stderr.contains("E0904"), "{}", tail(&result.stderr));
    assert!(
        result.stderr.contains("8388609 bytes"),
        "the size is not named: {}",
        tail(&result.stderr)
    );
}

#[test]
fn stream_over_limit_is_rejected() {
    let sandbox = Sandbox::new();
    let text = format!("// {}\n", "a".repeat(9 * 1024 * 1024));
    let source = sandbox.write("big.txt", &text);
    let result = run_bounded(
        &sandbox,
        sandbox
            .chaosc()
            .args(["check", "/dev/stdin"])
            .stdin(std::fs::File::open(&source).unwrap()),
        Duration::from_secs(90),
    );
    result.assert_no_panic();
    assert_eq!(result.code, Some(CANNOT_START), "{}", tail(&result.stderr));
    assert!(result.stderr.contains("E0904"));
}

#[test]
fn invalid_utf8_is_rejected() {
    let sandbox = Sandbox::new();
    let cases: [&[u8]; 4] = [
        b"experiment e { \xff\xfe }",
        b"\xc3\x28",
        b"// \xed\xa0\x80 a UTF-16 surrogate\n",
        b"experiment e { description = \"\xf8\x88\x80\x80\x80\" }",
    ];
    for bytes in cases {
        let file = write_bytes(&sandbox, "bad.chaos", bytes);
        let result = check(&sandbox, &file, Duration::from_secs(10));
        assert_eq!(result.code, Some(CANNOT_START), "input {bytes:?}");
        assert!(result.stderr.contains("E0903"), "input {bytes:?}");
    }
}

#[test]
fn nul_bytes_are_syntax_errors() {
    let sandbox = Sandbox::new();
    let cases: [&[u8]; 3] = [
        b"experiment e {\0}",
        b"\0\0\0\0",
        b"experiment e { description = \"a\0b\" }",
    ];
    for bytes in cases {
        let file = write_bytes(&sandbox, "nul.chaos", bytes);
        let result = check(&sandbox, &file, Duration::from_secs(10));
        assert_eq!(
            result.code,
            Some(FILE_HAS_ERRORS),
            "input {bytes:?}: {}",
            result.stderr
        );
    }
}

#[test]
fn nul_byte_in_command_is_not_run() {
    // execve(2) cannot pass a NUL inside an argument, so the probe must
    // fail (or the checker reject it) rather than run a truncated argv.
    let sandbox = Sandbox::new();
    let marker = sandbox.dir.path().join("nul-marker");
    let text = experiment(&format!(
        "    steady_state {{ probe p = command [\"touch\", \"{}\0x\"] }}",
        marker.display()
    ));
    let file = sandbox.write("nul.chaos", &text);
    let result = run(&sandbox, &file, Duration::from_secs(20));
    assert!(
        matches!(result.code, Some(FILE_HAS_ERRORS | EXPERIMENT_FAILED)),
        "exit {:?}: {}",
        result.code,
        result.stderr
    );
    assert!(!marker.exists(), "a command with a NUL byte was run");
    sandbox.assert_no_journal();
}

#[test]
fn self_import_is_a_cycle() {
    let sandbox = Sandbox::new();
    let file = sandbox.write("self.chaos", "use \"./self.chaos\"\n");
    let result = check(&sandbox, &file, Duration::from_secs(10));
    assert_eq!(result.code, Some(FILE_HAS_ERRORS));
    assert!(result.stderr.contains("E0107"), "{}", result.stderr);
}

#[test]
fn mutual_import_is_a_cycle() {
    let sandbox = Sandbox::new();
    sandbox.write("b.chaos", "use \"./a.chaos\"\n");
    let file = sandbox.write("a.chaos", "use \"./b.chaos\"\n");
    let result = check(&sandbox, &file, Duration::from_secs(10));
    assert_eq!(result.code, Some(FILE_HAS_ERRORS));
    // The cycle is found inside `b.chaos`, so `a.chaos` reports it as an
    // import with errors.
    assert!(result.stderr.contains("E0108"), "{}", result.stderr);
}

#[test]
fn import_of_device_is_rejected() {
    let sandbox = Sandbox::new();
    let file = sandbox.write("zero.chaos", "use \"/dev/zero\"\n");
    let result = check(&sandbox, &file, Duration::from_secs(10));
    assert_eq!(result.code, Some(FILE_HAS_ERRORS), "{}", result.stderr);
    assert!(result.stderr.contains("E0109"), "{}", result.stderr);
    assert!(
        result.stderr.contains("not a regular file"),
        "{}",
        result.stderr
    );
}

#[test]
fn import_of_endless_proc_file_is_bounded() {
    // `/proc/self/pagemap` is a regular file that reports a size of 0, and
    // an unbounded read of it fills gigabytes of memory.
    let sandbox = Sandbox::new();
    let file = sandbox.write("pagemap.chaos", "use \"/proc/self/pagemap\"\n");
    let result = check(&sandbox, &file, Duration::from_secs(10));
    assert_eq!(result.code, Some(FILE_HAS_ERRORS), "{}", result.stderr);
    assert!(result.stderr.contains("E0109"), "{}", result.stderr);
}

#[test]
fn import_of_fifo_is_rejected() {
    let sandbox = Sandbox::new();
    let fifo = sandbox.dir.path().join("fifo.chaos");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success(), "mkfifo failed");
    let file = sandbox.write("main.chaos", "use \"./fifo.chaos\"\n");
    let result = check(&sandbox, &file, Duration::from_secs(10));
    assert_eq!(result.code, Some(FILE_HAS_ERRORS), "{}", result.stderr);
    assert!(result.stderr.contains("E0109"), "{}", result.stderr);
    assert!(!result.stderr.contains("not found"), "{}", result.stderr);
}

#[test]
fn check_of_fifo_is_rejected() {
    let sandbox = Sandbox::new();
    let fifo = sandbox.dir.path().join("fifo.chaos");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success(), "mkfifo failed");
    let result = check(&sandbox, &fifo, Duration::from_secs(10));
    assert_eq!(result.code, Some(CANNOT_START), "{}", result.stderr);
}

fn make_fifo(sandbox: &Sandbox, name: &str) -> PathBuf {
    let fifo = sandbox.dir.path().join(name);
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success(), "mkfifo failed");
    fifo
}

#[test]
fn import_of_fifo_or_device_is_rejected() {
    let sandbox = Sandbox::new();
    let fifo = make_fifo(&sandbox, "fifo.json");
    for input in [fifo.as_path(), Path::new("/dev/zero")] {
        let mut command = sandbox.chaosc();
        command.arg("import").arg(input);
        let result = run_bounded(&sandbox, &mut command, Duration::from_secs(10));
        result.assert_no_panic();
        let name = input.display();
        assert_eq!(
            result.code,
            Some(CANNOT_START),
            "{name}: {}",
            tail(&result.stderr)
        );
        assert!(
            result.stderr.contains("E0708"),
            "{name}: {}",
            tail(&result.stderr)
        );
        assert!(
            result.stderr.contains("not a regular file"),
            "{name}: {}",
            tail(&result.stderr)
        );
    }
}

#[test]
fn policy_of_fifo_or_device_is_rejected() {
    let sandbox = Sandbox::new();
    let fifo = make_fifo(&sandbox, "policy.toml");
    let file = sandbox.write("e.chaos", &experiment(""));
    for policy in [fifo.as_path(), Path::new("/dev/zero")] {
        let mut command = sandbox.chaosc();
        command.arg("--policy").arg(policy).arg("check").arg(&file);
        let result = run_bounded(&sandbox, &mut command, Duration::from_secs(10));
        result.assert_no_panic();
        let name = policy.display();
        assert_eq!(
            result.code,
            Some(CANNOT_START),
            "{name}: {}",
            tail(&result.stderr)
        );
        assert!(
            result.stderr.contains("E1000"),
            "{name}: {}",
            tail(&result.stderr)
        );
        assert!(
            result.stderr.contains("not a regular file"),
            "{name}: {}",
            tail(&result.stderr)
        );
    }
}

// Shell metacharacters in every string that reaches a command.

/// Reads the argv file a command wrote, waiting a moment for it to appear.
fn read_argv(path: &Path) -> Vec<String> {
    common::wait_until(Duration::from_secs(5), || path.exists());
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("{} was not written: {error}", path.display()));
    text.split('\n').map(str::to_owned).collect()
}

#[test]
fn metacharacters_reach_commands_verbatim() {
    let sandbox = Sandbox::new();
    let dir = sandbox.dir.path();
    let marker = dir.join("pwned");
    let payload = PAYLOAD.replace("MARKER", &marker.display().to_string());
    let expected = PAYLOAD_ARGV.replace("MARKER", &marker.display().to_string());
    let argv_file = |name: &str| dir.join(name).display().to_string();
    let (target_argv, probe_argv, action_argv) = (
        argv_file("target.argv"),
        argv_file("probe.argv"),
        argv_file("action.argv"),
    );
    // The launched target records its argv, then stays up to be paused.
    let target_program = format!("{WRITE_ARGV}; import time; time.sleep(60)");
    let body = format!(
        r#"    steady_state {{
        probe argv = command ["python3", "-c", "{WRITE_ARGV}", "{probe_argv}", "{payload}", "{payload}"] expect exit == 0
    }}

    step freeze = inject process_pause() on app for 1s

    recovery plan restore (strategy = immediate_rollback, rto = 1m) {{
        action record = command ["python3", "-c", "{WRITE_ARGV}", "{action_argv}", "{payload}"] timeout 10s
    }}"#
    );
    let text = format!(
        "use std::faults::{{process_pause}}

target app = process {{
    command = [\"python3\", \"-c\", \"{target_program}\", \"{target_argv}\", \"{payload}\"]
}}

{}",
        experiment(&body)
    );
    let file = sandbox.write("meta.chaos", &text);
    let result = run(&sandbox, &file, Duration::from_secs(40));

    assert_eq!(result.code, Some(SUCCESS), "stderr:\n{}", result.stderr);
    assert!(
        !marker.exists(),
        "a shell ran part of the payload and created {}",
        marker.display()
    );
    assert_eq!(read_argv(Path::new(&target_argv)), vec![expected.clone()]);
    assert_eq!(
        read_argv(Path::new(&probe_argv)),
        vec![expected.clone(), expected.clone()]
    );
    assert_eq!(read_argv(Path::new(&action_argv)), vec![expected]);
    sandbox.assert_no_journal();
}

#[test]
fn import_keeps_shell_strings_out() {
    // The toolkit hands string arguments to /bin/sh; the import must not
    // turn them into a command chaosc would run.
    let sandbox = Sandbox::new();
    let marker = sandbox.dir.path().join("pwned-import");
    let arguments = format!("$(touch {0}); `touch {0}`; touch {0}", marker.display());
    let experiment = serde_json::json!({
        "title": "hostile",
        "description": "shell in arguments",
        "method": [{
            "type": "action",
            "name": "spawn",
            "provider": { "type": "process", "path": "echo", "arguments": arguments }
        }]
    });
    let input = sandbox.write("hostile.json", &experiment.to_string());
    let output_path = sandbox.dir.path().join("hostile.chaos");
    let result = run_bounded(
        &sandbox,
        sandbox
            .chaosc()
            .arg("import")
            .arg(&input)
            .arg("-o")
            .arg(&output_path),
        Duration::from_secs(10),
    );
    result.assert_no_panic();
    assert_eq!(result.code, Some(SUCCESS), "{}", result.stderr);
    assert!(result.stderr.contains("need a shell"), "{}", result.stderr);
    let scenario = std::fs::read_to_string(&output_path).unwrap();
    let commands: Vec<&str> = scenario
        .lines()
        .filter(|line| !line.trim_start().starts_with("//") && line.contains("command"))
        .collect();
    assert!(
        commands.is_empty(),
        "the import wrote commands: {commands:?}"
    );

    let result = run(&sandbox, &output_path, Duration::from_secs(20));
    assert_eq!(result.code, Some(SUCCESS), "{}", result.stderr);
    assert!(!marker.exists(), "a shell ran the imported arguments");
    sandbox.assert_no_journal();
}

// File faults stay inside their declared root.

/// A root with `config.json` inside it and `secret.json` outside it.
struct Roots {
    root: PathBuf,
    outside: PathBuf,
}

const SECRET: &str = "{\"password\": \"hunter2\"}\n";

impl Roots {
    fn new(sandbox: &Sandbox) -> Self {
        let root = sandbox.dir.path().join("root");
        let outside = sandbox.dir.path().join("outside");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret.json"), SECRET).unwrap();
        Roots { root, outside }
    }

    fn assert_secret_untouched(&self) {
        let now = std::fs::read_to_string(self.outside.join("secret.json")).unwrap();
        assert_eq!(now, SECRET, "the file outside the root changed");
    }
}

/// A scenario that applies `fault` to a file target at `path` under `root`.
fn file_scenario(sandbox: &Sandbox, path: &Path, root: &Path, fault: &str) -> PathBuf {
    let text = format!(
        "use std::faults::{{corrupt_file, config_drift}}

target data = file {{ path = \"{}\", root = \"{}\" }}

{}",
        path.display(),
        root.display(),
        experiment(&format!("    step touch = inject {fault} on data for 1s"))
    );
    sandbox.write("escape.chaos", &text)
}

const FAULTS: [&str; 2] = [
    "corrupt_file(count = 8)",
    "config_drift(key = \"password\", value = \"changed\")",
];

/// Runs every fault of `FAULTS` on the file target at `path` and checks
/// that each run ends with `code`, names `reason`, leaves the file outside
/// the root untouched and leaves no journal.
fn assert_escape_rejected(sandbox: &Sandbox, roots: &Roots, path: &Path, code: i32, reason: &str) {
    for fault in FAULTS {
        let file = file_scenario(sandbox, path, &roots.root, fault);
        let result = run(sandbox, &file, Duration::from_secs(20));
        assert_eq!(result.code, Some(code), "{fault}: {}", result.stderr);
        assert!(result.stderr.contains(reason), "{fault}: {}", result.stderr);
        roots.assert_secret_untouched();
        sandbox.assert_no_journal();
    }
}

#[test]
fn symlink_out_of_root_is_refused() {
    let sandbox = Sandbox::new();
    let roots = Roots::new(&sandbox);
    let link = roots.root.join("config.json");
    std::os::unix::fs::symlink(roots.outside.join("secret.json"), &link).unwrap();
    assert_escape_rejected(&sandbox, &roots, &link, EXPERIMENT_FAILED, "symbolic link");
}

#[test]
fn symlinked_directory_in_root_is_refused() {
    let sandbox = Sandbox::new();
    let roots = Roots::new(&sandbox);
    std::os::unix::fs::symlink(&roots.outside, roots.root.join("escape")).unwrap();
    let path = roots.root.join("escape/secret.json");
    assert_escape_rejected(
        &sandbox,
        &roots,
        &path,
        EXPERIMENT_FAILED,
        "outside the root",
    );
}

#[test]
fn dot_dot_path_is_a_check_error() {
    let sandbox = Sandbox::new();
    let roots = Roots::new(&sandbox);
    let path = roots.root.join("../outside/secret.json");
    assert_escape_rejected(&sandbox, &roots, &path, FILE_HAS_ERRORS, "..");
}

#[test]
fn path_outside_root_is_a_check_error() {
    let sandbox = Sandbox::new();
    let roots = Roots::new(&sandbox);
    let path = roots.outside.join("secret.json");
    assert_escape_rejected(
        &sandbox,
        &roots,
        &path,
        FILE_HAS_ERRORS,
        "not inside `root`",
    );
}

#[test]
fn hard_link_out_of_root_is_refused() {
    let sandbox = Sandbox::new();
    let roots = Roots::new(&sandbox);
    let link = roots.root.join("config.json");
    std::fs::hard_link(roots.outside.join("secret.json"), &link).unwrap();
    assert_escape_rejected(&sandbox, &roots, &link, EXPERIMENT_FAILED, "hard links");
}

#[test]
fn symlinked_fill_directory_is_refused() {
    let sandbox = Sandbox::new();
    let roots = Roots::new(&sandbox);
    let link = roots.root.join("scratch");
    std::os::unix::fs::symlink(&roots.outside, &link).unwrap();
    let text = format!(
        "use std::faults::{{disk_fill}}

target scratch = directory {{ path = \"{}\" }}

{}",
        link.display(),
        experiment(
            "    step fill = inject disk_fill(size = 1MiB, keep_free = 1MiB) on scratch for 1s"
        )
    );
    let file = sandbox.write("fill.chaos", &text);
    let result = run(&sandbox, &file, Duration::from_secs(20));
    assert_eq!(result.code, Some(EXPERIMENT_FAILED), "{}", result.stderr);
    assert!(result.stderr.contains("symbolic link"), "{}", result.stderr);
    let entries: Vec<_> = std::fs::read_dir(&roots.outside)
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name())
        .collect();
    assert_eq!(
        entries.len(),
        1,
        "files appeared outside the root: {entries:?}"
    );
    roots.assert_secret_untouched();
    sandbox.assert_no_journal();
}

/// Writes a drill whose one recovery action restores the file target at
/// `path` from `from`.
fn restore_drill(sandbox: &Sandbox, path: &Path, root: &Path, from: &Path) -> PathBuf {
    let text = format!(
        "target data = file {{ path = \"{}\", root = \"{}\" }}

{}",
        path.display(),
        root.display(),
        experiment(&format!(
            "    recovery plan back (rto = 1m) {{\n        action put = restore data \"{}\" timeout 10s\n    }}",
            from.display()
        ))
    );
    sandbox.write("restore.chaos", &text)
}

#[test]
fn restore_stays_inside_root() {
    let sandbox = Sandbox::new();
    let roots = Roots::new(&sandbox);
    let evil = sandbox.write("evil.json", "{\"password\": \"attacker\"}\n");
    std::fs::write(roots.root.join("data.json"), "{}\n").unwrap();
    std::fs::create_dir(roots.root.join("sub")).unwrap();
    std::os::unix::fs::symlink(&roots.outside, roots.root.join("sub/out")).unwrap();
    // A link planted where the restore writes its temporary file.
    std::os::unix::fs::symlink(
        roots.outside.join("secret.json"),
        roots.root.join("data.chaosc-restore"),
    )
    .unwrap();

    for path in [
        roots.root.join("sub/out/secret.json"),
        roots.root.join("data.json"),
    ] {
        let file = restore_drill(&sandbox, &path, &roots.root, &evil);
        let drill = sandbox
            .chaosc()
            .args(["recover", "--format", "json", "--plan", "back"])
            .arg(&file)
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&drill.stdout);
        assert!(
            report.contains("\"failed\""),
            "{}: the restore did not fail: {report}",
            path.display()
        );
        roots.assert_secret_untouched();
    }
    assert_eq!(
        std::fs::read_to_string(roots.root.join("data.json")).unwrap(),
        "{}\n"
    );
}

#[test]
fn huge_scale_is_a_check_error() {
    let sandbox = Sandbox::new();
    let text = format!(
        "target worker = process {{ command = [\"sleep\", \"1\"] }}\n\n{}",
        experiment(
            "    recovery plan back (rto = 1m) {\n        action grow = scale worker 100000 timeout 10s\n    }"
        )
    );
    let file = sandbox.write("scale.chaos", &text);
    let checked = check(&sandbox, &file, Duration::from_secs(20));
    assert_eq!(checked.code, Some(1), "{}", checked.stderr);
    assert!(
        checked.stderr.contains("chaos::E0208"),
        "{}",
        checked.stderr
    );
    assert!(
        checked.stderr.contains("more than 64"),
        "{}",
        checked.stderr
    );
}
