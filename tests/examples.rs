//! `examples/` run as written, as far as this machine allows: every YAML file parses; the
//! GitHub Actions workflow's and the GitLab job's shell steps run against the bundled fixtures
//! (their install steps and the marketplace actions cannot run here); the Kubernetes Job's and
//! the Velero hook's command lines crawl a served world through the ConfigMap's rules with the
//! Secret's credentials. The container image is not built (no container daemon here).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bacaudit::serve::{self, OriginMap, ServeOptions};
use bacaudit::source::Snapshot;
use yaml_rust2::{Yaml, YamlLoader};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load_yaml(rel: &str) -> Vec<Yaml> {
    let path = root().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn string(y: &Yaml) -> String {
    match y {
        Yaml::String(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        other => panic!("not a string: {other:?}"),
    }
}

/// A scratch folder holding the repository's rules and fixtures, as a checkout would.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["rules", "fixtures"] {
        std::os::unix::fs::symlink(root().join(name), dir.path().join(name)).unwrap();
    }
    dir
}

/// PATH with the built binary first, as an installed `bacaudit`.
fn path_with_bacaudit() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_bacaudit")).parent().unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs a shell step the way the CI runs it (bash, stop at the first failure); its exit code.
fn run_step(script: &str, cwd: &Path, env: &HashMap<String, String>) -> i32 {
    let out = std::process::Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(cwd)
        .env_clear()
        .envs(env)
        .env("PATH", path_with_bacaudit())
        .env("HOME", cwd)
        .output()
        .expect("bash runs");
    let code = out.status.code().expect("exited");
    assert!(
        code != 2 && !String::from_utf8_lossy(&out.stderr).contains("error:"),
        "step failed as a usage error ({code}):\n{script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    code
}

fn vars(map: &Yaml) -> HashMap<String, String> {
    map.as_hash()
        .map(|h| h.iter().map(|(k, v)| (string(k), string(v))).collect())
        .unwrap_or_default()
}

#[test]
fn every_example_yaml_parses_and_names_its_kind() {
    for rel in [
        "examples/github-actions/bacaudit.yml",
        "examples/gitlab-ci/.gitlab-ci.yml",
    ] {
        assert!(!load_yaml(rel).is_empty(), "{rel}");
    }
    for rel in [
        "examples/kubernetes/configmap.yaml",
        "examples/kubernetes/secret.yaml",
        "examples/kubernetes/job.yaml",
        "examples/kubernetes/velero-restore-hook.yaml",
    ] {
        for doc in load_yaml(rel) {
            assert!(doc["apiVersion"].as_str().is_some(), "{rel}: apiVersion");
            assert!(doc["kind"].as_str().is_some(), "{rel}: kind");
        }
    }
}

/// The workflow's `run` steps in order, with whether each runs only on `workflow_dispatch`.
fn workflow_steps(workflow: &Yaml) -> Vec<(String, String, bool)> {
    let steps = workflow["jobs"]["audit"]["steps"]
        .as_vec()
        .expect("jobs.audit.steps");
    let mut runs = Vec::new();
    for step in steps {
        let Some(run) = step["run"].as_str() else {
            continue;
        };
        let id = step["id"]
            .as_str()
            .expect("every run step has an id")
            .to_string();
        let dispatch_only = step["if"]
            .as_str()
            .is_some_and(|c| c.contains("workflow_dispatch"));
        runs.push((id, run.to_string(), dispatch_only));
    }
    runs
}

#[test]
fn the_github_workflow_audits_uploads_and_accepts_a_baseline() {
    let workflow = &load_yaml("examples/github-actions/bacaudit.yml")[0];
    let dir = workspace();
    let summary = dir.path().join("step_summary");
    let mut env = vars(&workflow["env"]);
    env.insert("GITHUB_STEP_SUMMARY".into(), summary.display().to_string());
    // One run per event: a push (no baseline yet), a dispatch (writes one), a push again.
    let mut codes = Vec::new();
    for event in ["push", "workflow_dispatch", "push"] {
        for (id, run, dispatch_only) in workflow_steps(workflow) {
            if id == "install" || (dispatch_only && event != "workflow_dispatch") {
                continue; // installing needs the network; bacaudit is on PATH here
            }
            let code = run_step(&run, dir.path(), &env);
            if id == "audit" {
                codes.push(code);
            } else {
                assert_eq!(code, 0, "step {id}");
            }
        }
    }
    assert_eq!(
        codes,
        [1, 1, 0],
        "findings fail the job until the baseline accepts them"
    );
    // What the marketplace actions read is there.
    let steps = workflow["jobs"]["audit"]["steps"].as_vec().unwrap();
    for step in steps {
        for key in ["sarif_file", "report_paths"] {
            if let Some(file) = step["with"][key].as_str() {
                assert!(dir.path().join(file).is_file(), "{key}: {file}");
            }
        }
    }
    let text = std::fs::read_to_string(&summary).unwrap();
    assert_eq!(
        text.matches("# bacaudit report").count(),
        3,
        "appended per run"
    );
    assert!(dir.path().join(&env["BASELINE"]).is_file());
}

/// A GitLab job's `script` lines, run in one shell as the runner does.
fn gitlab_job(ci: &Yaml, job: &str, cwd: &Path, env: &HashMap<String, String>) -> i32 {
    let lines: Vec<String> = ci[job]["script"]
        .as_vec()
        .expect("script")
        .iter()
        .map(string)
        .collect();
    run_step(&lines.join("\n"), cwd, env)
}

#[test]
fn the_gitlab_jobs_write_junit_and_code_quality_and_accept_a_baseline() {
    let ci = &load_yaml("examples/gitlab-ci/.gitlab-ci.yml")[0];
    let env = vars(&ci["variables"]);
    let dir = workspace();
    assert_eq!(gitlab_job(ci, "bacaudit", dir.path(), &env), 1);
    for kind in ["junit", "codequality"] {
        let file = ci["bacaudit"]["artifacts"]["reports"][kind]
            .as_str()
            .unwrap();
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(text.len() > 100, "{kind}: {file}");
    }
    let quality: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("gl-code-quality-report.json")).unwrap(),
    )
    .unwrap();
    assert!(!quality.as_array().unwrap().is_empty());
    assert_eq!(gitlab_job(ci, "bacaudit-baseline", dir.path(), &env), 0);
    assert_eq!(gitlab_job(ci, "bacaudit", dir.path(), &env), 0);
}

/// The container command of a Kubernetes object, its env (the Secret's values included) and
/// the ConfigMap's rules moved onto the served world.
struct Pod {
    env: HashMap<String, String>,
    rules: String,
}

fn pod(served: &OriginMap) -> Pod {
    let config = &load_yaml("examples/kubernetes/configmap.yaml")[0];
    let secret = &load_yaml("examples/kubernetes/secret.yaml")[0];
    let rules = served
        .rules_toml(config["data"]["rules.toml"].as_str().unwrap())
        .unwrap();
    Pod {
        env: vars(&secret["stringData"]),
        rules,
    }
}

/// Runs `argv` with the pod's mounts mapped into `dir`: /etc/bacaudit and /reports.
fn run_in_pod(argv: &[String], pod: &Pod, dir: &Path, env: &[Yaml]) -> i32 {
    let etc = dir.join("etc");
    let reports = dir.join("reports");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::create_dir_all(&reports).unwrap();
    std::fs::write(etc.join("rules.toml"), &pod.rules).unwrap();
    let mut envs = pod.env.clone();
    for e in env {
        envs.insert(string(&e["name"]), string(&e["value"]));
    }
    let args: Vec<String> = argv
        .iter()
        .map(|a| {
            a.replace("/etc/bacaudit", &etc.display().to_string())
                .replace("/reports", &reports.display().to_string())
        })
        .collect();
    let script = format!("bacaudit {}", shell_words(&args));
    run_step(&script, dir, &envs)
}

fn shell_words(args: &[String]) -> String {
    args.iter()
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The bac-talk restore with one broken link, served on loopback under the origins the
/// ConfigMap's rules name.
async fn serve_cluster() -> (serve::ServeHandle, OriginMap) {
    let talk = bacaudit::rules::load(&root().join("rules/bac-talk.toml")).unwrap();
    let snapshot = Snapshot::load(&root().join("fixtures/bac-talk/independent-backup.ndjson"));
    let opts = ServeOptions {
        rebase: true,
        ..ServeOptions::default()
    };
    let handle = serve::serve(&talk, Arc::new(snapshot.unwrap()), opts)
        .await
        .unwrap();
    let config = &load_yaml("examples/kubernetes/configmap.yaml")[0];
    let text = config["data"]["rules.toml"].as_str().unwrap();
    let cluster = bacaudit::rules::parse(Path::new("rules.toml"), text, &|_| Some("x".into()))
        .expect("the ConfigMap's rules load");
    let pairs = cluster
        .services
        .iter()
        .map(|s| {
            let served = handle.services().iter().find(|h| h.name == s.name).unwrap();
            (origin(&s.base_url), origin(&served.base_url))
        })
        .collect();
    (handle, OriginMap::new(pairs))
}

fn origin(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kubernetes_job_and_the_velero_hook_crawl_with_the_configmap_and_the_secret() {
    let (handle, served) = serve_cluster().await;
    let pod = pod(&served);
    let job = &load_yaml("examples/kubernetes/job.yaml")[0];
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    let job_argv: Vec<String> = container["args"]
        .as_vec()
        .unwrap()
        .iter()
        .map(string)
        .collect();
    let job_env = container["env"].as_vec().cloned().unwrap_or_default();
    let restore = &load_yaml("examples/kubernetes/velero-restore-hook.yaml")[1];
    let hook = &restore["spec"]["hooks"]["resources"][0]["postHooks"][0]["exec"]["command"];
    let hook_argv: Vec<String> = hook.as_vec().unwrap().iter().skip(1).map(string).collect();
    let codes = tokio::task::spawn_blocking(move || {
        [job_argv, hook_argv].map(|argv| {
            let dir = tempfile::tempdir().unwrap();
            let code = run_in_pod(&argv, &pod, dir.path(), &job_env);
            let report = dir.path().join("reports/report.json");
            let report: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
            assert!(dir.path().join("reports/snapshot.ndjson").is_file());
            (code, report["summary"]["broken_link"].clone())
        })
    })
    .await
    .unwrap();
    handle.shutdown().await;
    for (code, broken) in codes {
        assert_eq!(
            (code, broken),
            (1, serde_json::json!(1)),
            "the restore's broken link"
        );
    }
}
