//! The recovery actions that change targets: scale and redeploy launched
//! processes, and restore a file from the copy taken before the run.

mod common;

use common::{Sandbox, output, pids_with};

#[test]
fn scale_redeploy_and_restore_act_on_real_targets() {
    let sandbox = Sandbox::new();
    let data = sandbox.write("data.json", r#"{"replicas": 3}"#);
    let root = sandbox.dir.path();
    // A unique duration marks this test's processes on their command line.
    let marker = format!("{}", 100_000 + std::process::id() % 100_000);
    let text = format!(
        r#"target worker = process {{ command = ["sleep", "{marker}"] }}
target data = file {{ path = "{data}", root = "{root}" }}
experiment drill {{
    category = application
    severity = low
    duration = 5m
    recovery plan restore (rto = 30m) {{
        action up = scale worker 3 timeout 10s
        action count_up = command ["true"] after up
        action down = scale worker 1 timeout 10s after count_up
        action fresh = redeploy worker {{ env = {{ RELEASE = "2" }} }} timeout 10s after down
        action damage = command ["python3", "-c", "import sys; open(sys.argv[1], 'w').write('broken')", "{data}"] after fresh
        action repair = restore data timeout 10s after damage
    }}
}}
"#,
        data = data.display(),
        root = root.display()
    );
    let file = sandbox.write("drill.chaos", &text);
    let result = output(
        sandbox
            .chaosc()
            .args(["recover", "--format", "json", "--plan", "restore"])
            .arg(&file),
    );
    let json = common::json(&result);
    assert_eq!(json["status"], "completed", "{json}");

    let outputs: Vec<String> = json["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|action| action["output"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(
        outputs[0].starts_with("`worker` runs 3 instances"),
        "{}",
        outputs[0]
    );
    assert!(
        outputs[2].starts_with("`worker` runs 1 instances"),
        "{}",
        outputs[2]
    );
    assert!(
        outputs[3].contains("stopped") && outputs[3].contains("started and ready"),
        "{}",
        outputs[3]
    );
    assert!(
        outputs[3].contains("with 1 changed variables"),
        "{}",
        outputs[3]
    );
    assert!(outputs[5].contains("sha256"), "{}", outputs[5]);

    // The file has its original bytes again, and no instance outlived the drill.
    assert_eq!(
        std::fs::read_to_string(&data).unwrap(),
        r#"{"replicas": 3}"#
    );
    assert!(
        pids_with(&format!("sleep {marker}")).is_empty(),
        "instances left running"
    );
    sandbox.assert_no_journal();
}
