//! Data sovereignty: with `data_sovereignty_check` on, an experiment under a
//! framework that restricts the regions of a class of data acts on that
//! data, or sends its traffic, only in allowed regions.

use chaosc::check::{CheckOutput, check_source};
use miette::Diagnostic;

/// An experiment under `frameworks` on a service holding `data`, with a
/// front proxy and two processes in the regions set here. `None` leaves a
/// region out. The recovery plan moves the traffic to `standby`.
struct Fixture<'a> {
    frameworks: &'a str,
    data: &'a str,
    service_region: Option<&'a str>,
    api_region: Option<&'a str>,
    standby_region: Option<&'a str>,
    front_region: Option<&'a str>,
    /// Extra settings of `compliance { ... }`.
    compliance: &'a str,
    /// Declarations written before the targets, such as a framework.
    preamble: &'a str,
}

impl Default for Fixture<'_> {
    fn default() -> Self {
        Fixture {
            frameworks: "gdpr",
            data: "pii",
            service_region: None,
            api_region: Some("eu-west-1"),
            standby_region: Some("eu-central-1"),
            front_region: Some("eu-west-1"),
            compliance: "",
            preamble: "",
        }
    }
}

fn region(region: Option<&str>) -> String {
    region.map_or(String::new(), |region| format!(", region = \"{region}\""))
}

impl Fixture<'_> {
    fn source(&self) -> String {
        format!(
            r#"use std::faults::process_kill
use std::recovery::blue_green_switch
{preamble}
service accounts {{ data = [{data}]{service_region} }}

target api = process {{
    command = ["python3", "-m", "http.server", "18181"], ready = 127.0.0.1:18181
    service = "accounts"{api_region}
}}
target standby = process {{
    command = ["python3", "-m", "http.server", "18182"], ready = 127.0.0.1:18182
    service = "accounts"{standby_region}
}}
target front = proxy {{
    listen = 127.0.0.1:18180, upstream = 127.0.0.1:18181
    service = "accounts"{front_region}
}}

experiment e {{
    category = application
    severity = low
    duration = 5m
    safety {{ business_hours_only = false }}
    blast_radius {{ services = [accounts] }}
    compliance {{
        frameworks = [{frameworks}]
        required_approvals = ["data_protection_officer", "privacy_officer", "security_officer"]
        {compliance}
    }}
    steady_state {{
        probe home = http GET "http://127.0.0.1:18180/" expect status == 200
    }}
    step crash = inject process_kill() on api for 5s
    recovery plan failover = blue_green_switch(
        blue = api,
        front = front,
        green = 127.0.0.1:18182,
        health = home,
    )
}}
"#,
            preamble = self.preamble,
            data = self.data,
            service_region = region(self.service_region),
            api_region = region(self.api_region),
            standby_region = region(self.standby_region),
            front_region = region(self.front_region),
            frameworks = self.frameworks,
            compliance = self.compliance,
        )
    }

    fn check(&self) -> (String, CheckOutput) {
        let source = self.source();
        let output = check_source(&source).unwrap_or_else(|errors| panic!("{errors:?}"));
        (source, output)
    }
}

fn codes(output: &CheckOutput) -> Vec<String> {
    output
        .diagnostics
        .iter()
        .map(|diagnostic| diagnostic.code().unwrap().to_string())
        .collect()
}

/// Returns the text under the first label of each finding.
fn labels<'a>(output: &CheckOutput, source: &'a str) -> Vec<&'a str> {
    output
        .diagnostics
        .iter()
        .map(|diagnostic| {
            let label = diagnostic.labels().unwrap().next().unwrap();
            &source[label.offset()..label.offset() + label.len()]
        })
        .collect()
}

#[test]
fn allowed_regions_check_clean() {
    let (_, output) = Fixture::default().check();
    assert!(output.diagnostics.is_empty(), "{:?}", output.diagnostics);
    assert_eq!(
        output.model.unwrap().targets[0].region.as_deref(),
        Some("eu-west-1")
    );
}

#[test]
fn service_region_covers_its_targets() {
    let fixture = Fixture {
        service_region: Some("westeurope"),
        api_region: None,
        standby_region: None,
        front_region: None,
        ..Fixture::default()
    };
    let (_, output) = fixture.check();
    assert!(output.diagnostics.is_empty(), "{:?}", output.diagnostics);
}

#[test]
fn target_region_overrides_service_region() {
    let fixture = Fixture {
        service_region: Some("eu-west-1"),
        api_region: Some("us-east-1"),
        ..Fixture::default()
    };
    let (source, output) = fixture.check();
    assert_eq!(codes(&output), ["chaos::E0506"]);
    assert_eq!(labels(&output, &source), ["\"us-east-1\""]);
    assert_eq!(
        output.diagnostics[0].to_string(),
        "step `crash` acts on target `api` in region `us-east-1`, where gdpr does not allow \
         pii data"
    );
}

#[test]
fn switch_to_disallowed_region_is_reported() {
    let fixture = Fixture {
        standby_region: Some("us-west-2"),
        ..Fixture::default()
    };
    let (source, output) = fixture.check();
    assert_eq!(codes(&output), ["chaos::E0506"]);
    assert_eq!(labels(&output, &source), ["\"us-west-2\""]);
    assert!(
        output.diagnostics[0].to_string().starts_with(
            "recovery action `switch` sends the traffic of `front` to target `standby`"
        ),
        "{}",
        output.diagnostics[0]
    );
}

#[test]
fn undeclared_region_is_reported() {
    let fixture = Fixture {
        api_region: None,
        ..Fixture::default()
    };
    let (source, output) = fixture.check();
    assert_eq!(codes(&output), ["chaos::E0507"]);
    assert_eq!(labels(&output, &source), ["api"]);
}

#[test]
fn check_turned_off_reports_nothing() {
    let fixture = Fixture {
        api_region: None,
        standby_region: Some("us-west-2"),
        front_region: Some("us-east-1"),
        compliance: "data_sovereignty_check = false",
        ..Fixture::default()
    };
    let (_, output) = fixture.check();
    assert!(output.diagnostics.is_empty(), "{:?}", output.diagnostics);
}

#[test]
fn frameworks_without_region_rule_report_nothing() {
    let fixture = Fixture {
        frameworks: "pci_dss",
        data: "cardholder",
        api_region: Some("us-east-1"),
        standby_region: None,
        front_region: None,
        ..Fixture::default()
    };
    let (_, output) = fixture.check();
    assert!(output.diagnostics.is_empty(), "{:?}", output.diagnostics);
}

#[test]
fn unrestricted_data_class_reports_nothing() {
    let fixture = Fixture {
        data: "internal",
        api_region: Some("us-east-1"),
        ..Fixture::default()
    };
    let (_, output) = fixture.check();
    assert!(output.diagnostics.is_empty(), "{:?}", output.diagnostics);
}

#[test]
fn local_framework_adds_region_rule() {
    let fixture = Fixture {
        frameworks: "hipaa",
        data: "phi",
        preamble: "framework hipaa {\n    approval_roles = [\"privacy_officer\"]\n    \
                   regions { phi = [\"us-*\"] }\n}\n",
        api_region: Some("us-east-1"),
        standby_region: Some("us-east-2"),
        front_region: Some("eu-west-1"),
        ..Fixture::default()
    };
    let (source, output) = fixture.check();
    assert_eq!(codes(&output), ["chaos::E0506"]);
    assert_eq!(labels(&output, &source), ["\"eu-west-1\""]);
}

#[test]
fn invalid_regions_are_rejected() {
    let fixture = Fixture {
        api_region: Some("EU West"),
        ..Fixture::default()
    };
    let (source, output) = fixture.check();
    assert_eq!(codes(&output), ["chaos::E0208"]);
    assert_eq!(labels(&output, &source), ["\"EU West\""]);

    let fixture = Fixture {
        preamble: "framework gdpr {\n    approval_roles = [\"data_protection_officer\"]\n    \
                   regions { pii = [\"*-west-1\"] }\n}\n",
        ..Fixture::default()
    };
    let (source, output) = fixture.check();
    assert_eq!(codes(&output), ["chaos::E0208"]);
    assert_eq!(labels(&output, &source), ["\"*-west-1\""]);
}

#[test]
fn template_switch_points_at_argument() {
    // The plan comes from `blue_green_switch`; an address that no target
    // serves is reported at the argument that gave it, not in the template.
    let source = Fixture::default()
        .source()
        .replace("green = 127.0.0.1:18182", "green = 127.0.0.1:18190");
    let output = check_source(&source).unwrap_or_else(|errors| panic!("{errors:?}"));
    let codes: Vec<String> = codes(&output)
        .into_iter()
        .filter(|code| code != "chaos::W0001")
        .collect();
    assert_eq!(codes, ["chaos::E0507"]);
    let label = labels(&output, &source)
        .into_iter()
        .find(|label| label.starts_with("127.0.0.1"));
    assert_eq!(label, Some("127.0.0.1:18190"));
}

#[test]
fn every_restricted_class_must_allow_region() {
    // `eu-west-1` is allowed for pii but not for phi, so a target holding
    // both is outside the regions its data may be in.
    let fixture = Fixture {
        data: "pii, phi",
        preamble: "framework gdpr {\n    approval_roles = [\"data_protection_officer\"]\n    \
                   regions { pii = [\"eu-*\"], phi = [\"eu-central-1\"] }\n}\n",
        api_region: Some("eu-west-1"),
        standby_region: Some("eu-central-1"),
        front_region: Some("eu-central-1"),
        ..Fixture::default()
    };
    let (source, output) = fixture.check();
    assert_eq!(codes(&output), ["chaos::E0506"]);
    assert_eq!(labels(&output, &source), ["\"eu-west-1\""]);
    assert!(
        output.diagnostics[0]
            .to_string()
            .ends_with("where gdpr does not allow phi data"),
        "{}",
        output.diagnostics[0]
    );
}
