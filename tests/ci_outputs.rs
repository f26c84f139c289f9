//! Reports where CI systems want them: `--report FORMAT:PATH` beside the extension rule,
//! `FORMAT:-` on stdout, and Markdown appended to GitHub's job summary within its 1 MiB.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn audit_shop() -> Command {
    let mut c = Command::cargo_bin("bacaudit").expect("binary built");
    c.current_dir(root())
        .env_remove("GITHUB_STEP_SUMMARY")
        .args(["audit", "--rules", "rules/shop.toml"])
        .args(["--snapshot", "fixtures/shop/shop.ndjson", "--quiet"]);
    c
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_named_format_writes_any_path_and_dash_is_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("results.out");
    let out = audit_shop()
        .arg("--report")
        .arg(format!("junit:{}", junit.display()))
        .args(["--report", "sarif:-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the shop has findings");
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is SARIF");
    assert_eq!(sarif["version"], "2.1.0");
    assert!(
        read(&junit).starts_with("<?xml"),
        "junit written without .xml"
    );
}

#[test]
fn an_unknown_format_name_or_two_reports_to_stdout_exit_2_naming_them() {
    let out = audit_shop()
        .args(["--report", "xlsx:out"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("xlsx:out") && err.contains("unknown format `xlsx`"),
        "{err}"
    );
    let out = audit_shop()
        .args(["--report", "json:-", "--report", "md:-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("only one report can go to stdout"), "{err}");
}

#[test]
fn the_job_summary_is_appended_to_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("step_summary_1");
    std::fs::write(&summary, "# Earlier step\n\nkept\n").unwrap();
    audit_shop()
        .env("GITHUB_STEP_SUMMARY", &summary)
        .arg("--report")
        .arg(format!("md:{}", summary.display()))
        .assert()
        .code(1);
    let text = read(&summary);
    assert!(
        text.starts_with("# Earlier step\n\nkept\n# bacaudit report"),
        "{text}"
    );
    assert!(text.contains("## Findings"));
}

#[test]
fn a_full_job_summary_gets_whole_findings_and_a_count_of_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("step_summary_2");
    // Earlier steps used all but 3 KiB of the 1 MiB.
    let used = 1024 * 1024 - 3 * 1024;
    std::fs::write(&summary, "x\n".repeat(used / 2)).unwrap();
    audit_shop()
        .env("GITHUB_STEP_SUMMARY", &summary)
        .arg("--report")
        .arg(format!("md:{}", summary.display()))
        .assert()
        .code(1);
    let text = read(&summary);
    assert!(text.len() <= 1024 * 1024, "{} bytes", text.len());
    let appended = &text[used..];
    let note = appended.lines().last().unwrap();
    assert!(
        note.contains("more findings left out here to stay within 3072 bytes"),
        "{note}"
    );
    let full = std::process::Command::new(env!("CARGO_BIN_EXE_bacaudit"))
        .current_dir(root())
        .args(["audit", "--rules", "rules/shop.toml"])
        .args([
            "--snapshot",
            "fixtures/shop/shop.ndjson",
            "--quiet",
            "--format",
            "md",
        ])
        .output()
        .unwrap();
    let full = String::from_utf8(full.stdout).unwrap();
    for line in appended.lines().filter(|l| *l != note) {
        assert!(full.lines().any(|f| f == line), "a cut line: {line:?}");
    }
}
