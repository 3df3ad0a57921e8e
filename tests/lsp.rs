//! `chaosc lsp` driven as an editor drives it: the real binary, framed
//! JSON-RPC messages over its stdin and stdout, and exact expectations on
//! every response.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::{Value, json};

/// How long a test waits for one message before it fails.
const TIMEOUT: Duration = Duration::from_secs(20);

const URI: &str = "file:///tmp/chaosc-lsp-test/demo.chaos";

/// A clean, formatted document.
const CANONICAL: &str = r#"use std::faults::{latency, process_kill}

target web = process {
    command = ["python3", "-m", "http.server", "18181"]
}
target front = proxy { listen = 127.0.0.1:18180, upstream = 127.0.0.1:18181 }

experiment demo {
    category = network
    severity = low
    duration = 1m
    steady_state {
        probe home = http GET "http://127.0.0.1:18180/" expect status == 200
    }
    step slow = inject latency(delay = 200ms) on front for 4s
    step crash = inject process_kill() on web for 2s after slow
    success { home.success_rate >= 50% }
    recovery plan restore (rto = 5m) {
        action restart_web = restart web
    }
}
"#;

/// The language server as a child process, with a reader thread that turns
/// its output into JSON messages.
struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    messages: Receiver<Value>,
    /// Notifications that arrived while a response was awaited.
    skipped: VecDeque<Value>,
    next_id: i64,
}

impl Client {
    fn start(cache_dir: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chaosc"))
            .args(["lsp", "--stdio"])
            .env("XDG_CACHE_HOME", cache_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chaosc lsp");
        let stdout = child.stdout.take().unwrap();
        let (sender, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        Client {
            stdin: child.stdin.take(),
            child,
            messages,
            skipped: VecDeque::new(),
            next_id: 1,
        }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        let stdin = self.stdin.as_mut().expect("stdin is open");
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns its response, skipping notifications.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.next_from_server();
            if message["id"] == json!(id) {
                return message;
            }
            self.skipped.push_back(message);
        }
    }

    /// Returns the result of a request that must succeed.
    fn result(&mut self, method: &str, params: Value) -> Value {
        let response = self.request(method, params);
        assert_eq!(response.get("error"), None, "{method} failed: {response}");
        response["result"].clone()
    }

    /// Returns the next message not yet seen, skipped ones first.
    fn receive(&mut self) -> Value {
        match self.skipped.pop_front() {
            Some(message) => message,
            None => self.next_from_server(),
        }
    }

    fn next_from_server(&self) -> Value {
        self.messages
            .recv_timeout(TIMEOUT)
            .expect("a message from chaosc lsp in time")
    }

    /// Waits for the next `textDocument/publishDiagnostics`.
    fn diagnostics(&mut self) -> Value {
        loop {
            let message = self.receive();
            if message["method"] == "textDocument/publishDiagnostics" {
                return message["params"].clone();
            }
        }
    }

    fn initialize(&mut self, root_uri: Value) -> Value {
        let result = self.result(
            "initialize",
            json!({"processId": null, "rootUri": root_uri, "capabilities": {}}),
        );
        self.notify("initialized", json!({}));
        result
    }

    fn open(&mut self, text: &str) {
        let document = json!({"uri": URI, "languageId": "chaos", "version": 1, "text": text});
        self.notify("textDocument/didOpen", json!({"textDocument": document}));
    }

    fn change(&mut self, version: i32, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": URI, "version": version},
                "contentChanges": [{"text": text}],
            }),
        );
    }

    fn at(&mut self, method: &str, line: u32, character: u32) -> Value {
        self.result(
            method,
            json!({
                "textDocument": {"uri": URI},
                "position": {"line": line, "character": character},
            }),
        )
    }

    /// Ends the session with `shutdown` and `exit` and returns the exit code.
    fn shut_down(mut self) -> Option<i32> {
        assert_eq!(self.result("shutdown", Value::Null), Value::Null);
        self.notify("exit", Value::Null);
        self.wait()
    }

    fn wait(&mut self) -> Option<i32> {
        drop(self.stdin.take());
        self.child.wait().expect("wait for chaosc lsp").code()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // A failed test must not leave the server running; kill fails only
        // when the child has already exited, which is the expected case.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some(value) = header.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn range(start: (u32, u32), end: (u32, u32)) -> Value {
    json!({
        "start": {"line": start.0, "character": start.1},
        "end": {"line": end.0, "character": end.1},
    })
}

fn replace_line(text: &str, number: usize, line: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines[number] = line;
    lines.join("\n") + "\n"
}

/// Flattens document symbols into `depth name kind detail range selection`
/// lines.
fn outline(symbols: &Value, depth: usize, lines: &mut Vec<String>) {
    let position = |value: &Value| format!("{}:{}", value["line"], value["character"]);
    for symbol in symbols.as_array().unwrap() {
        lines.push(format!(
            "{depth} {} {} {} {}-{} {}-{}",
            symbol["name"].as_str().unwrap(),
            symbol["kind"],
            symbol["detail"],
            position(&symbol["range"]["start"]),
            position(&symbol["range"]["end"]),
            position(&symbol["selectionRange"]["start"]),
            position(&symbol["selectionRange"]["end"]),
        ));
        if let Some(children) = symbol.get("children") {
            outline(children, depth + 1, lines);
        }
    }
}

fn labels(items: &Value) -> Vec<&str> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["label"].as_str().unwrap())
        .collect()
}

/// The fault kinds of `std::faults`, in declaration order.
const ALL_FAULTS: [&str; 25] = [
    "latency",
    "blackhole",
    "process_kill",
    "process_pause",
    "bandwidth",
    "slow_close",
    "timeout",
    "reset_peer",
    "slicer",
    "limit_data",
    "http_error",
    "http_abort",
    "http_delay",
    "auth_failure",
    "corrupt_file",
    "config_drift",
    "disk_fill",
    "netem",
    "link_bandwidth",
    "partition",
    "time_skew",
    "cpu_stress",
    "memory_stress",
    "io_stress",
    "cgroup_limit",
];

const LATENCY_HOVER: &str = "```chaos\n\
    fault latency(delay: duration, jitter: duration = 0ms, \
    direction: direction = downstream)\n```\n\n\
    Delays the data a chaosc proxy forwards by `delay`, plus or minus a random \
    `jitter`, in one direction or both.\n\n\
    Parameters:\n\n\
    - `delay`: duration, required\n\
    - `jitter`: duration, default `0ms`\n\
    - `direction`: direction (one of `upstream`, `downstream`, `both`), \
    default `downstream`\n\n\
    Applies to: `proxy`. Failure mode: `dependency_failure`. Category: `network`. \
    Privilege: `user`.\n\n\
    Defined in `std::faults`.";

#[test]
fn lsp_session_end_to_end() {
    let cache = tempfile::tempdir().unwrap();
    let mut client = Client::start(cache.path());

    // The handshake announces every feature.
    let result = client.initialize(Value::Null);
    let capabilities = &result["capabilities"];
    assert_eq!(capabilities["textDocumentSync"], json!(1));
    assert_eq!(capabilities["hoverProvider"], json!(true));
    assert_eq!(capabilities["definitionProvider"], json!(true));
    assert_eq!(
        capabilities["completionProvider"]["triggerCharacters"],
        json!(["(", ",", ":", ".", "{"])
    );
    assert_eq!(capabilities["documentFormattingProvider"], json!(true));
    assert_eq!(capabilities["documentSymbolProvider"], json!(true));
    assert_eq!(result["serverInfo"]["name"], json!("chaosc"));

    // A missing unit, after characters of two and four UTF-8 bytes that
    // take one and two UTF-16 units.
    let broken = replace_line(
        CANONICAL,
        14,
        "    step slow = inject /* é𝄞 */ latency(delay = 200) on front for 4s",
    );
    client.open(&broken);
    let expected = json!({
        "uri": URI,
        "version": 1,
        "diagnostics": [{
            "range": range((14, 49), (14, 52)),
            "severity": 1,
            "code": "chaos::E0204",
            "source": "chaosc",
            "message": "`200` has no unit, but a duration (such as `500ms`, `30s`, `5m`, \
                        `1h`) needs one\nhelp: write `200ms` or `200s`",
        }],
    });
    assert_eq!(client.diagnostics(), expected);

    // Fixing it clears the diagnostics; the new text is clean but indented
    // badly on one line.
    let misindented = replace_line(CANONICAL, 8, "  category = network  ");
    client.change(2, &misindented);
    let expected = json!({"uri": URI, "version": 2, "diagnostics": []});
    assert_eq!(client.diagnostics(), expected);

    // Hover on a fault shows the catalog entry.
    let hover = client.at("textDocument/hover", 14, 24);
    let expected = json!({
        "contents": {"kind": "markdown", "value": LATENCY_HOVER},
        "range": range((14, 23), (14, 30)),
    });
    assert_eq!(hover, expected);

    // Hover on a target or probe shows its declaration.
    let hover = client.at("textDocument/hover", 14, 50);
    let expected = "```chaos\ntarget front = proxy { listen = 127.0.0.1:18180, \
                    upstream = 127.0.0.1:18181 }\n```";
    assert_eq!(hover["contents"]["value"], json!(expected));
    assert_eq!(hover["range"], range((14, 49), (14, 54)));
    let hover = client.at("textDocument/hover", 16, 14);
    let expected = "```chaos\nprobe home = http GET \"http://127.0.0.1:18180/\" \
                    expect status == 200\n```";
    assert_eq!(hover["contents"]["value"], json!(expected));

    // Hover on a keyword has nothing to show.
    assert_eq!(client.at("textDocument/hover", 7, 3), Value::Null);

    // Definitions in the document.
    let definition = client.at("textDocument/definition", 15, 59);
    assert_eq!(
        definition,
        json!({"uri": URI, "range": range((14, 9), (14, 13))})
    );
    let definition = client.at("textDocument/definition", 15, 44);
    assert_eq!(
        definition,
        json!({"uri": URI, "range": range((2, 7), (2, 10))})
    );

    // A fault jumps into the stdlib, copied into the cache directory.
    let stdlib_path = cache.path().join("chaosc/0.1.0/stdlib/faults.chaos");
    let stdlib_uri = format!("file://{}", stdlib_path.display());
    let definition = client.at("textDocument/definition", 0, 20);
    assert_eq!(
        definition,
        json!({"uri": stdlib_uri, "range": range((8, 6), (8, 13))})
    );
    let copy = std::fs::read_to_string(&stdlib_path).unwrap();
    let original =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("stdlib/faults.chaos"))
            .unwrap();
    assert_eq!(copy, original);
    let definition = client.at("textDocument/definition", 15, 25);
    assert_eq!(
        definition,
        json!({"uri": stdlib_uri, "range": range((26, 6), (26, 18))})
    );

    // Formatting re-indents the one bad line and trims its trailing spaces.
    let edits = client.result(
        "textDocument/formatting",
        json!({
            "textDocument": {"uri": URI},
            "options": {"tabSize": 4, "insertSpaces": true},
        }),
    );
    let expected = json!([{"range": range((0, 0), (21, 0)), "newText": CANONICAL}]);
    assert_eq!(edits, expected);

    // The outline nests probes and steps in their experiment.
    let symbols = client.result(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": URI}}),
    );
    let mut lines = Vec::new();
    outline(&symbols, 0, &mut lines);
    let expected = [
        r#"0 web 19 "process target" 2:0-4:1 2:7-2:10"#,
        r#"0 front 19 "proxy target" 5:0-5:77 5:7-5:12"#,
        r#"0 demo 5 "experiment" 7:0-20:1 7:11-7:15"#,
        r#"1 home 7 "http probe" 12:8-12:76 12:14-12:18"#,
        r#"1 slow 24 "step injecting latency" 14:4-14:61 14:9-14:13"#,
        r#"1 crash 24 "step injecting process_kill" 15:4-15:63 15:9-15:14"#,
        r#"1 restore 3 "recovery plan" 17:4-19:5 17:18-17:25"#,
        r#"2 restart_web 6 "restart action" 18:8-18:40 18:15-18:26"#,
    ];
    assert_eq!(lines, expected);

    // Completion works while a new step is typed and the text does not
    // parse.
    let typing = replace_line(
        CANONICAL,
        16,
        "    step extra = inject latency(delay = 1ms, \n    success { home.success_rate >= 50% }",
    );
    client.change(3, &typing);
    let diagnostics = client.diagnostics();
    assert_eq!(diagnostics["version"], json!(3));
    assert_eq!(diagnostics["diagnostics"][0]["code"], json!("chaos::E0001"));

    let items = client.at("textDocument/completion", 16, 45);
    assert_eq!(labels(&items), ["jitter", "direction"]);
    assert_eq!(items[0]["insertText"], json!("jitter = "));
    assert_eq!(items[0]["detail"], json!("duration = 0ms"));

    let items = client.at("textDocument/completion", 16, 24);
    assert_eq!(labels(&items), ALL_FAULTS);
    assert_eq!(items[0]["documentation"]["value"], json!(LATENCY_HOVER));

    let items = client.at("textDocument/completion", 15, 42);
    assert_eq!(labels(&items), ["web", "front"]);
    let items = client.at("textDocument/completion", 15, 59);
    assert_eq!(labels(&items), ["slow", "crash", "extra"]);

    assert_eq!(client.shut_down(), Some(0));
}

#[test]
fn exit_before_shutdown_fails() {
    let cache = tempfile::tempdir().unwrap();
    let mut client = Client::start(cache.path());
    client.initialize(Value::Null);
    client.notify("exit", Value::Null);
    assert_eq!(client.wait(), Some(1));
}

#[test]
fn definition_uses_workspace_stdlib() {
    let cache = tempfile::tempdir().unwrap();
    let mut client = Client::start(cache.path());
    let root = env!("CARGO_MANIFEST_DIR");
    client.initialize(json!(format!("file://{root}")));
    client.open(CANONICAL);
    client.diagnostics();

    let definition = client.at("textDocument/definition", 0, 20);
    let expected = json!({
        "uri": format!("file://{root}/stdlib/faults.chaos"),
        "range": range((8, 6), (8, 13)),
    });
    assert_eq!(definition, expected);
    let definition = client.at("textDocument/definition", 0, 10);
    let expected = json!({
        "uri": format!("file://{root}/stdlib/faults.chaos"),
        "range": range((0, 0), (0, 0)),
    });
    assert_eq!(definition, expected);
    let cached: Vec<_> = std::fs::read_dir(cache.path()).unwrap().collect();
    assert!(cached.is_empty(), "the cache was written: {cached:?}");
    assert_eq!(client.shut_down(), Some(0));
}

#[test]
fn duplicate_has_related_information() {
    let cache = tempfile::tempdir().unwrap();
    let mut client = Client::start(cache.path());
    client.initialize(Value::Null);
    let text = "target web = process { command = [\"a\"] }\n\
                target web = process { command = [\"b\"] }\n";
    client.open(text);
    let expected = json!([{
        "range": range((1, 7), (1, 10)),
        "severity": 1,
        "code": "chaos::E0102",
        "source": "chaosc",
        "message": "target `web` is declared twice\n\
                    help: rename one of them; names must be unique within a file",
        "relatedInformation": [{
            "location": {"uri": URI, "range": range((0, 7), (0, 10))},
            "message": "first declared here",
        }],
    }]);
    assert_eq!(client.diagnostics()["diagnostics"], expected);
    assert_eq!(client.shut_down(), Some(0));
}

#[test]
fn hover_on_parameter_and_module() {
    let cache = tempfile::tempdir().unwrap();
    let mut client = Client::start(cache.path());
    client.initialize(Value::Null);
    client.open(CANONICAL);
    client.diagnostics();

    let hover = client.at("textDocument/hover", 14, 33);
    let expected = "`delay`: duration, required\n\nParameter of `latency`.";
    assert_eq!(hover["contents"]["value"], json!(expected));
    let hover = client.at("textDocument/hover", 0, 10);
    let faults: Vec<String> = ALL_FAULTS.iter().map(|name| format!("`{name}`")).collect();
    let expected = format!(
        "module `std::faults`, from `stdlib/faults.chaos`\n\nFaults: {}.",
        faults.join(", ")
    );
    assert_eq!(hover["contents"]["value"], json!(expected));
    assert_eq!(client.shut_down(), Some(0));
}

#[test]
fn compliance_and_alert_imports() {
    let cache = tempfile::tempdir().unwrap();
    let mut client = Client::start(cache.path());
    client.initialize(Value::Null);
    client.open("use std::compliance::sox\nuse std::alerts::{recovery_slow}\n");
    client.diagnostics();

    // Each import jumps to its declaration in its own module's file.
    let stdlib = cache.path().join("chaosc/0.1.0/stdlib");
    let line = include_str!("../stdlib/compliance.chaos")
        .lines()
        .position(|line| line.starts_with("framework sox "))
        .unwrap() as u32;
    let definition = client.at("textDocument/definition", 0, 22);
    let expected = json!({
        "uri": format!("file://{}", stdlib.join("compliance.chaos").display()),
        "range": range((line, 10), (line, 13)),
    });
    assert_eq!(definition, expected);
    let definition = client.at("textDocument/definition", 1, 20);
    let expected = json!({
        "uri": format!("file://{}", stdlib.join("alerts.chaos").display()),
        "range": range((16, 6), (16, 19)),
    });
    assert_eq!(definition, expected);

    // Hover shows the declaration, its documentation and its module.
    let hover = client.at("textDocument/hover", 1, 20);
    let expected = "```chaos\nalert recovery_slow {\n    \
                    description = \"recovery takes longer than 5 minutes\"\n    \
                    severity = critical\n    \
                    threshold \"chaosc_recovery_seconds\" gt 5m\n}\n```\n\n\
                    Recovery takes longer than five minutes.\n\n\
                    Alert rule defined in `std::alerts`.";
    assert_eq!(hover["contents"]["value"], json!(expected));
    assert_eq!(hover["range"], range((1, 18), (1, 31)));
    let hover = client.at("textDocument/hover", 0, 12);
    let expected = "module `std::compliance`, from `stdlib/compliance.chaos`\n\n\
                    Compliance frameworks: `sox`, `pci_dss`, `hipaa`, `gdpr`, `nist`, \
                    `iso27001`.";
    assert_eq!(hover["contents"]["value"], json!(expected));
    assert_eq!(client.shut_down(), Some(0));
}

#[test]
fn unbalanced_text_is_not_formatted() {
    let cache = tempfile::tempdir().unwrap();
    let mut client = Client::start(cache.path());
    client.initialize(Value::Null);
    client.open("experiment e {\n  severity = low\n");
    client.diagnostics();

    let edits = client.result(
        "textDocument/formatting",
        json!({
            "textDocument": {"uri": URI},
            "options": {"tabSize": 4, "insertSpaces": true},
        }),
    );
    assert_eq!(edits, Value::Null);
    let log = client.receive();
    assert_eq!(log["method"], json!("window/logMessage"));
    let expected = format!("{URI} not formatted: line 1: `{{` is never closed");
    assert_eq!(log["params"], json!({"type": 2, "message": expected}));
    assert_eq!(client.shut_down(), Some(0));
}

#[test]
fn unknown_method_is_an_error() {
    let cache = tempfile::tempdir().unwrap();
    let mut client = Client::start(cache.path());
    client.initialize(Value::Null);
    let response = client.request("textDocument/rename", json!({}));
    let expected = json!({"code": -32601, "message": "unknown method `textDocument/rename`"});
    assert_eq!(response["error"], expected);
    assert_eq!(client.shut_down(), Some(0));
}

#[test]
fn recovery_template_hover_and_definition() {
    let cache = tempfile::tempdir().unwrap();
    let mut client = Client::start(cache.path());
    client.initialize(Value::Null);
    let text = r#"use std::recovery::restart_and_verify
target web = process { command = ["true"] }
template plan local_restart(app: target) (rto = 1m) {
    action restart = restart app
}
experiment e {
    category = compute
    severity = low
    duration = 1m
    probe home = tcp 127.0.0.1:1
    recovery plan back = restart_and_verify(app = web, health = home)
    recovery plan again = local_restart(app = web)
}
"#;
    client.open(text);
    client.diagnostics();

    // An instance of a stdlib template jumps to the template's name in
    // `stdlib/recovery.chaos`, as the import does.
    let source = include_str!("../stdlib/recovery.chaos");
    let line = source
        .lines()
        .position(|line| line.starts_with("template plan restart_and_verify("))
        .unwrap() as u32;
    let stdlib = cache.path().join("chaosc/0.1.0/stdlib");
    let expected = json!({
        "uri": format!("file://{}", stdlib.join("recovery.chaos").display()),
        "range": range((line, 14), (line, 32)),
    });
    assert_eq!(client.at("textDocument/definition", 10, 30), expected);
    assert_eq!(client.at("textDocument/definition", 0, 25), expected);

    // Hover shows the template as written, its documentation and its module.
    let hover = client.at("textDocument/hover", 10, 30);
    let value = hover["contents"]["value"].as_str().unwrap();
    assert!(
        value.starts_with("```chaos\ntemplate plan restart_and_verify(\n    app: target,"),
        "{value}"
    );
    assert!(
        value.contains("Immediate rollback: restarts the target"),
        "{value}"
    );
    assert!(
        value.ends_with("Recovery plan template defined in `std::recovery`."),
        "{value}"
    );
    let hover = client.at("textDocument/hover", 0, 10);
    let module = hover["contents"]["value"].as_str().unwrap();
    assert!(
        module.starts_with("module `std::recovery`, from `stdlib/recovery.chaos`"),
        "{module}"
    );
    assert!(
        module.contains("Recovery plan templates: `restart_and_verify`"),
        "{module}"
    );

    // An instance of a template of the same file jumps to its declaration.
    let definition = client.at("textDocument/definition", 11, 28);
    let expected = json!({"uri": URI, "range": range((2, 14), (2, 27))});
    assert_eq!(definition, expected);
    assert_eq!(client.shut_down(), Some(0));
}
