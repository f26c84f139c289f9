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

fn bacaudit(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_bacaudit"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap()
}

/// Completes `words` (the last one partial) with the generated bash script sourced in bash.
fn complete_in_bash(script: &Path, words: &[&str]) -> String {
    let line = words.join(" ");
    let program = format!(
        "source '{}'; COMP_WORDS=({line}); COMP_CWORD={}; COMP_LINE='{line}'; \
         COMP_POINT=${{#COMP_LINE}}; _bacaudit bacaudit '{}' '{}'; echo \"${{COMPREPLY[*]}}\"",
        script.display(),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "-c", &program])
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn the_bash_completion_completes_subcommands_and_their_options() {
    let out = bacaudit(&["completions", "bash"]);
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("bacaudit.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    assert_eq!(complete_in_bash(&script, &["bacaudit", "au"]), "audit");
    assert_eq!(
        complete_in_bash(&script, &["bacaudit", "audit", "--snap"]),
        "--snapshot"
    );
    for shell in ["zsh", "fish", "powershell"] {
        let out = bacaudit(&["completions", shell]);
        assert!(out.status.success() && out.stdout.len() > 1000, "{shell}");
    }
    let out = bacaudit(&["completions", "tcsh"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn man_prints_the_pages_and_writes_them_all_with_dir() {
    let out = bacaudit(&["man"]);
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains(".TH bacaudit 1") && page.contains("bacaudit\\-audit(1)"));
    let out = bacaudit(&["man", "audit"]);
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains(".TH bacaudit-audit 1") && page.contains("\\-\\-snapshot"));
    let out = bacaudit(&["man", "nosuch"]);
    assert_eq!(out.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let out = bacaudit(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success());
    for name in [
        "bacaudit.1",
        "bacaudit-crawl.1",
        "bacaudit-audit.1",
        "bacaudit-apply.1",
    ] {
        assert!(dir.path().join(name).is_file(), "{name}");
    }
}

#[test]
fn options_set_once_per_environment_come_from_bacaudit_variables() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bacaudit"))
        .current_dir(root())
        .env("BACAUDIT_RULES", "rules/shop.toml")
        .env("BACAUDIT_FAIL_ON", "none")
        .args([
            "audit",
            "--snapshot",
            "fixtures/shop/shop.ndjson",
            "--quiet",
        ])
        .output()
        .unwrap();
    // 1 with the default --fail-on; 3: nothing fails, a few links of the shop are unresolved.
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("broken"));
    let help = String::from_utf8(bacaudit(&["crawl", "--help"]).stdout).unwrap();
    for var in [
        "BACAUDIT_RULES",
        "BACAUDIT_CONCURRENCY",
        "BACAUDIT_TIMEOUT",
        "BACAUDIT_RETRIES",
    ] {
        assert!(
            help.contains(&format!("[env: {var}=")),
            "{var} not in --help"
        );
    }
}
