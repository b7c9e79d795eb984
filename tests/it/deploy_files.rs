//! What ships in `deploy/` holds together: the Kubernetes manifests pass the Kubernetes
//! schemas (`kubernetes-validate --strict`, which `.ci/run` installs; without it this
//! test fails, it never skips), the ServiceMonitor scrapes the Service's port with the
//! Secret's token, and the Grafana dashboard queries exactly the metrics the README
//! documents (which `daemon_metrics` checks the daemon exports).

use std::collections::BTreeSet;
use std::path::Path;

fn read(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `zoho_sync_…` name in `text`, histogram and counter suffixes as written.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("zoho_sync_") {
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        rest = &rest[at + name.len()..];
        names.insert(name);
    }
    names
}

#[test]
fn the_kubernetes_manifests_pass_the_kubernetes_schemas() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("deploy/kubernetes")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    let output = std::process::Command::new("kubernetes-validate")
        .args(["--strict", "--quiet"])
        .args(&files)
        .output()
        .expect("kubernetes-validate (pip install kubernetes-validate; .ci/run does)");
    let said = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{said}");
    assert!(
        !said.contains("ERROR") && !said.contains("failed"),
        "{said}"
    );
}

#[test]
fn the_service_monitor_scrapes_the_services_port_with_the_secrets_token() {
    let monitor = read("deploy/kubernetes/servicemonitor.yaml");
    let service = read("deploy/kubernetes/service.yaml");
    let secret = read("deploy/kubernetes/secret.yaml");
    let deployment = read("deploy/kubernetes/deployment.yaml");
    assert!(monitor.contains("kind: ServiceMonitor"));
    assert!(monitor.contains("- port: http") && service.contains("- name: http"));
    assert!(monitor.contains("key: ZOHO_SYNC_METRICS_TOKEN"));
    assert!(secret.contains("ZOHO_SYNC_METRICS_TOKEN:"));
    assert!(deployment.contains("value: ZOHO_SYNC_METRICS_TOKEN"));
    for probe in ["path: /healthz", "path: /readyz"] {
        assert!(deployment.contains(probe), "{probe}");
    }
}

#[test]
fn the_grafana_dashboard_queries_exactly_the_documented_metrics() {
    let dashboard: serde_json::Value =
        serde_json::from_str(&read("deploy/grafana/zoho-sync.json")).expect("JSON");
    let exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().expect("an expr").to_string())
        .collect();
    let queried: BTreeSet<String> = metric_names(&exprs.join("\n"))
        .into_iter()
        .map(|n| n.trim_end_matches("_bucket").to_string())
        .collect();
    let readme = read("README.md");
    let documented: BTreeSet<String> = readme
        .lines()
        .filter(|l| l.starts_with("| `zoho_sync_"))
        .flat_map(metric_names)
        .collect();
    assert!(documented.len() >= 10, "{documented:?}");
    assert_eq!(queried, documented);
}
