//! The catalogue of bad input, through the real binary: malformed rules files and snapshot
//! lines each end with exit code 2, one `error:` line naming the file, the line and (for rules)
//! the key, no report, and never a panic. The rules parser's own unit tests
//! (`src/rules/parse/tests.rs`) go deeper; this is what a user sees.

use std::path::Path;
use std::time::Duration;

/// A valid rules file; each case edits one thing.
const RULES: &str = r#"version = 1

[services.customers]
base_url = "http://127.0.0.1:8081/"
seeds = ["/customers"]

[services.orders]
base_url = "http://127.0.0.1:8082/api/"
seeds = ["/api/orders"]

[kinds.customer]
service = "customers"
path = "/customers/{id}"
must_be_referenced_by = ["order.customer"]
on_orphan = "delete"

[kinds.order]
service = "orders"
path = "/api/orders/{id}"
collection = "/api/orders"

[kinds.order.links.customer]
pointer = "/customer_id"
to = "customer"
on_broken = "cascade"
"#;

/// A valid snapshot line.
const LINE: &str = r#"{"url":"http://127.0.0.1:8081/customers/1","status":200,"body":{"id":1}}"#;

/// The environment variable the auth cases read (set to a valid value for them).
const TOKEN_ENV: &str = "BACAUDIT_CATALOGUE_TOKEN";

/// One bad input and what the user must be told.
struct Case {
    name: &'static str,
    /// The rules file's bytes.
    rules: Vec<u8>,
    /// The snapshot file's bytes (`None`: a valid one).
    snapshot: Option<Vec<u8>>,
    /// Which file is at fault, and where: `(line, key)`; `None` for a whole-file error.
    at: Option<(usize, Option<&'static str>)>,
    /// The snapshot is the culprit (else the rules file).
    in_snapshot: bool,
    /// The message says this.
    says: &'static str,
    /// The message never says this (a secret, say).
    never: Option<&'static str>,
}

/// `RULES` with `from` replaced by `to` (which must be there).
fn edit(from: &str, to: &str) -> Vec<u8> {
    assert!(RULES.contains(from), "{from:?} not in RULES");
    RULES.replacen(from, to, 1).into_bytes()
}

/// The 1-based line of the first occurrence of `marker` in `text`.
fn line_of(text: &[u8], marker: &str) -> usize {
    let text = String::from_utf8_lossy(text);
    let at = text
        .find(marker)
        .unwrap_or_else(|| panic!("{marker:?} not in {text}"));
    text[..at].matches('\n').count() + 1
}

fn rules_case(
    name: &'static str,
    rules: Vec<u8>,
    marker: &str,
    key: Option<&'static str>,
    says: &'static str,
) -> Case {
    let line = line_of(&rules, marker);
    Case {
        name,
        rules,
        snapshot: None,
        at: Some((line, key)),
        in_snapshot: false,
        says,
        never: None,
    }
}

fn snapshot_case(name: &'static str, lines: &[&str], line: usize, says: &'static str) -> Case {
    Case {
        name,
        rules: RULES.as_bytes().to_vec(),
        snapshot: Some(lines.join("\n").into_bytes()),
        at: Some((line, None)),
        in_snapshot: true,
        says,
        never: None,
    }
}

fn rules_cases() -> Vec<Case> {
    let mut v = vec![
        rules_case(
            "unknown top-level key",
            format!("servics = {{}}\n{RULES}").into_bytes(),
            "servics",
            Some("servics"),
            "unknown key `servics`, expected one of `version`, `services`, `kinds`",
        ),
        rules_case(
            "unknown key in a service",
            edit("seeds = [\"/customers\"]\n", "seeds = [\"/customers\"]\nseed = \"/x\"\n"),
            "seed = ",
            Some("services.customers.seed"),
            "unknown key `seed`",
        ),
        rules_case(
            "unknown key in auth",
            edit(
                "seeds = [\"/customers\"]\n",
                "seeds = [\"/customers\"]\nauth = { header = \"A\", env = \"T\", value = \"x\" }\n",
            ),
            "auth = ",
            Some("services.customers.auth.value"),
            "unknown key `value`, expected one of `header`, `env`, `bearer_env`",
        ),
        rules_case(
            "unknown key in a kind",
            edit("path = \"/customers/{id}\"\n", "path = \"/customers/{id}\"\npaht = \"/c\"\n"),
            "paht",
            Some("kinds.customer.paht"),
            "unknown key `paht`",
        ),
        rules_case(
            "unknown key in a link",
            format!("{RULES}too = \"customer\"\n").into_bytes(),
            "too = ",
            Some("kinds.order.links.customer.too"),
            "unknown key `too`",
        ),
        rules_case(
            "TOML syntax error",
            edit("path = \"/customers/{id}\"", "path = \"/customers/{id}"),
            "path = \"/customers/",
            None,
            "TOML syntax error",
        ),
        rules_case(
            "duplicate key",
            edit("to = \"customer\"", "to = \"customer\"\nto = \"order\""),
            "to = \"order\"",
            None,
            "duplicate key `to`",
        ),
        rules_case(
            "a string where a number goes",
            edit("seeds = [\"/customers\"]\n", "seeds = [\"/customers\"]\nconcurrency = \"many\"\n"),
            "concurrency",
            Some("services.customers.concurrency"),
            "invalid type: string \"many\", expected an integer",
        ),
        rules_case(
            "a table where a string goes",
            edit("to = \"customer\"", "to = { kind = \"customer\" }"),
            "to = {",
            Some("kinds.order.links.customer.to"),
            "invalid type: table, expected a string",
        ),
        rules_case(
            "missing base_url",
            edit("base_url = \"http://127.0.0.1:8082/api/\"\n", ""),
            "[services.orders]",
            Some("services.orders"),
            "missing key `base_url`",
        ),
        rules_case(
            "missing to",
            edit("to = \"customer\"\n", ""),
            "[kinds.order.links.customer]",
            Some("kinds.order.links.customer"),
            "missing key `to`",
        ),
        rules_case(
            "unsupported version",
            edit("version = 1", "version = 2"),
            "version",
            Some("version"),
            "unsupported rules version 2 (expected 1)",
        ),
        rules_case(
            "base_url is not a URL",
            edit("http://127.0.0.1:8081/", "garbage"),
            "garbage",
            Some("services.customers.base_url"),
            "`garbage` is not an absolute URL",
        ),
        rules_case(
            "base_url in another scheme",
            edit("http://127.0.0.1:8081/", "ftp://127.0.0.1:8081/"),
            "ftp://",
            Some("services.customers.base_url"),
            "has scheme `ftp` (expected http or https)",
        ),
        Case {
            never: Some("hunter2"),
            ..rules_case(
                "base_url with credentials (never echoed)",
                edit("http://127.0.0.1:8081/", "http://admin:hunter2@127.0.0.1:8081/"),
                "admin",
                Some("services.customers.base_url"),
                "must not contain credentials",
            )
        },
        rules_case(
            "seed outside the base path",
            edit("seeds = [\"/api/orders\"]", "seeds = [\"/orders\"]"),
            "seeds = [\"/orders\"]",
            Some("services.orders.seeds"),
            "seed `/orders` is not under the service's base path `/api/`",
        ),
        rules_case(
            "seed on another origin",
            edit("seeds = [\"/customers\"]", "seeds = [\"http://127.0.0.1:9999/customers\"]"),
            "9999",
            Some("services.customers.seeds"),
            "seed `http://127.0.0.1:9999/customers` is not on the service's origin",
        ),
        rules_case(
            "relative seed",
            edit("seeds = [\"/customers\"]", "seeds = [\"customers\"]"),
            "seeds = [\"customers\"]",
            Some("services.customers.seeds"),
            "must be an absolute path (`/customers`) or a full http(s) URL",
        ),
        rules_case(
            "auth from an unset variable",
            edit(
                "seeds = [\"/customers\"]\n",
                "seeds = [\"/customers\"]\nauth = { header = \"Authorization\", env = \"BACAUDIT_CATALOGUE_UNSET\" }\n",
            ),
            "auth = ",
            Some("services.customers.auth.env"),
            "environment variable `BACAUDIT_CATALOGUE_UNSET` is not set",
        ),
        rules_case(
            "auth header name that cannot be sent",
            edit(
                "seeds = [\"/customers\"]\n",
                &format!("seeds = [\"/customers\"]\nauth = {{ header = \"Bad Header:\", env = \"{TOKEN_ENV}\" }}\n"),
            ),
            "auth = ",
            Some("services.customers.auth.header"),
            "`Bad Header:` is not a valid HTTP header name",
        ),
        rules_case(
            "zero concurrency",
            edit("seeds = [\"/customers\"]\n", "seeds = [\"/customers\"]\nconcurrency = 0\n"),
            "concurrency",
            Some("services.customers.concurrency"),
            "must be at least 1 (got 0)",
        ),
        rules_case(
            "rate limit not a number",
            edit("seeds = [\"/customers\"]\n", "seeds = [\"/customers\"]\nrate_limit = nan\n"),
            "rate_limit",
            Some("services.customers.rate_limit"),
            "greater than 0 (got NaN)",
        ),
        rules_case(
            "unknown service",
            edit("service = \"customers\"", "service = \"custmers\""),
            "custmers",
            Some("kinds.customer.service"),
            "unknown service `custmers` (known: customers, orders)",
        ),
        rules_case(
            "path without {id}",
            edit("path = \"/customers/{id}\"", "path = \"/customers/all\""),
            "/customers/all",
            Some("kinds.customer.path"),
            "must contain exactly one `{id}` (found 0)",
        ),
        rules_case(
            "path with two {id}",
            edit("path = \"/customers/{id}\"", "path = \"/customers/{id}/{id}\""),
            "{id}/{id}",
            Some("kinds.customer.path"),
            "must contain exactly one `{id}` (found 2)",
        ),
        rules_case(
            "path outside the base path",
            edit("path = \"/api/orders/{id}\"", "path = \"/orders/{id}\""),
            "path = \"/orders/",
            Some("kinds.order.path"),
            "path `/orders/{id}` is not under the service's base path `/api/`",
        ),
        rules_case(
            "collection with {id}",
            edit("collection = \"/api/orders\"", "collection = \"/api/orders/{id}\""),
            "collection",
            Some("kinds.order.collection"),
            "must not contain `{id}`",
        ),
        rules_case(
            "pointer without a slash",
            edit("pointer = \"/customer_id\"", "pointer = \"customer_id\""),
            "pointer",
            Some("kinds.order.links.customer.pointer"),
            "JSON pointer `customer_id` must start with `/`",
        ),
        rules_case(
            "pointer with a bad escape",
            edit("pointer = \"/customer_id\"", "pointer = \"/customer~2id\""),
            "pointer",
            Some("kinds.order.links.customer.pointer"),
            "bad escape",
        ),
        rules_case(
            "pointer and rel",
            edit("to = \"customer\"", "rel = \"customer\"\nto = \"customer\""),
            "rel = ",
            Some("kinds.order.links.customer.rel"),
            "either `pointer` or `rel`, not both",
        ),
        rules_case(
            "neither pointer nor rel",
            edit("pointer = \"/customer_id\"\n", ""),
            "[kinds.order.links.customer]",
            Some("kinds.order.links.customer"),
            "a link needs `pointer` (a JSON pointer) or `rel`",
        ),
        rules_case(
            "unknown kind in to",
            edit("to = \"customer\"", "to = \"custmer\""),
            "custmer",
            Some("kinds.order.links.customer.to"),
            "unknown kind `custmer` (known: customer, order)",
        ),
        rules_case(
            "unknown link in must_be_referenced_by",
            edit("[\"order.customer\"]", "[\"order.custmer\"]"),
            "order.custmer",
            Some("kinds.customer.must_be_referenced_by"),
            "unknown link `order.custmer` (known: order.customer)",
        ),
        rules_case(
            "unknown on_orphan",
            edit("on_orphan = \"delete\"", "on_orphan = \"remove\""),
            "on_orphan",
            Some("kinds.customer.on_orphan"),
            "unknown on_orphan `remove` (expected one of: delete, manual)",
        ),
        rules_case(
            "unknown on_broken",
            edit("on_broken = \"cascade\"", "on_broken = \"delete\""),
            "on_broken",
            Some("kinds.order.links.customer.on_broken"),
            "unknown on_broken `delete` (expected one of: cascade, set-null, recreate, manual)",
        ),
        rules_case(
            "nested ten thousand deep",
            format!("a = {}{}\n", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
            "a = ",
            None,
            "TOML syntax error",
        ),
    ];
    v.push(Case {
        name: "no services",
        rules: b"version = 1\n".to_vec(),
        snapshot: None,
        at: None,
        in_snapshot: false,
        says: "no services declared",
        never: None,
    });
    v.push(Case {
        name: "not UTF-8",
        rules: {
            let mut b = RULES.as_bytes().to_vec();
            b.extend_from_slice(b"# caf\xe9\n");
            b
        },
        snapshot: None,
        at: None,
        in_snapshot: false,
        says: "UTF-8",
        never: None,
    });
    v
}

fn snapshot_cases() -> Vec<Case> {
    let mut v = vec![
        snapshot_case(
            "not JSON",
            &[LINE, "not json", LINE],
            2,
            "not a JSON object",
        ),
        snapshot_case(
            "cut short, but not the last line",
            &[
                LINE,
                r#"{"url":"http://127.0.0.1:8081/customers/2","sta"#,
                LINE,
            ],
            2,
            "not a JSON object",
        ),
        snapshot_case(
            "cut short, followed by its newline",
            &[
                LINE,
                r#"{"url":"http://127.0.0.1:8081/customers/2","sta"#,
                "",
            ],
            2,
            "not a JSON object",
        ),
        snapshot_case("an array", &["[1,2]"], 1, "not a JSON object"),
        snapshot_case("null", &[LINE, "null"], 2, "not a JSON object"),
        snapshot_case("missing url", &[r#"{"status":200}"#], 1, "missing `url`"),
        snapshot_case(
            "null url",
            &[r#"{"url":null,"status":200}"#],
            1,
            "missing `url`",
        ),
        snapshot_case(
            "relative url",
            &[r#"{"url":"/customers/1","status":200}"#],
            1,
            "`url` \"/customers/1\" is not an absolute http(s) URL",
        ),
        snapshot_case(
            "url in another scheme",
            &[r#"{"url":"ftp://127.0.0.1/x","status":200}"#],
            1,
            "is not an absolute http(s) URL",
        ),
        snapshot_case(
            "status below 100",
            &[r#"{"url":"http://127.0.0.1:8081/a","status":99}"#],
            1,
            "`status` 99 is not an HTTP status (100-599)",
        ),
        snapshot_case(
            "status above 599",
            &[r#"{"url":"http://127.0.0.1:8081/a","status":600}"#],
            1,
            "`status` 600 is not an HTTP status (100-599)",
        ),
        snapshot_case(
            "status as a string",
            &[r#"{"url":"http://127.0.0.1:8081/a","status":"200"}"#],
            1,
            "is not an HTTP status (100-599)",
        ),
        snapshot_case(
            "status with a fraction",
            &[r#"{"url":"http://127.0.0.1:8081/a","status":200.5}"#],
            1,
            "is not an HTTP status (100-599)",
        ),
        snapshot_case(
            "unknown error code",
            &[r#"{"url":"http://127.0.0.1:8081/a","error":"boom"}"#],
            1,
            "unknown `error` \"boom\" (known: not_found,",
        ),
        snapshot_case(
            "header not a string",
            &[r#"{"url":"http://127.0.0.1:8081/a","status":200,"headers":{"x-count":1}}"#],
            1,
            "header `x-count` must be a string",
        ),
        snapshot_case(
            "headers not an object",
            &[r#"{"url":"http://127.0.0.1:8081/a","status":200,"headers":"text/html"}"#],
            1,
            "not a JSON object: invalid type",
        ),
        snapshot_case(
            "status and error",
            &[r#"{"url":"http://127.0.0.1:8081/a","status":200,"error":"timeout"}"#],
            1,
            "has both `status` and `error` \"timeout\"",
        ),
        snapshot_case(
            "neither status nor error",
            &[r#"{"url":"http://127.0.0.1:8081/a"}"#],
            1,
            "needs `status` (a number) or `error` (a reason code)",
        ),
    ];
    v.push(Case {
        snapshot: Some({
            let mut b = format!("{LINE}\n").into_bytes();
            b.extend_from_slice(b"{\"url\":\"http://127.0.0.1:8081/\xff\",\"status\":200}\n");
            b
        }),
        ..snapshot_case("not UTF-8", &[], 2, "not a JSON object")
    });
    v
}

struct Outcome {
    code: Option<i32>,
    stderr: String,
}

fn run(args: &[&std::ffi::OsStr], dir: &Path) -> Outcome {
    let out = assert_cmd::Command::cargo_bin("bacaudit")
        .unwrap()
        .args(args)
        .current_dir(dir)
        .env(TOKEN_ENV, "Bearer catalogue")
        .env_remove("BACAUDIT_CATALOGUE_UNSET")
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    Outcome {
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// What is wrong with the outcome of a bad-input run (`None`: it is as it must be): exit 2,
/// no panic, no report, and an `error:` line that names the place and says what.
fn judge(
    out: &Outcome,
    dir: &Path,
    expected_prefix: &str,
    says: &str,
    never: Option<&str>,
) -> Option<String> {
    let mut wrong = Vec::new();
    if out.code != Some(2) {
        wrong.push(format!("exit code {:?}, expected 2", out.code));
    }
    if out.stderr.contains("panicked") {
        wrong.push("it panicked".into());
    }
    let error = out.stderr.lines().find(|l| l.starts_with("error: "));
    match error {
        None => wrong.push("no `error:` line".into()),
        Some(e) => {
            if !e.starts_with(expected_prefix) {
                wrong.push(format!(
                    "expected the line to start with {expected_prefix:?}"
                ));
            }
            if !e.contains(says) {
                wrong.push(format!("expected it to say {says:?}"));
            }
        }
    }
    if let Some(n) = never {
        if out.stderr.contains(n) {
            wrong.push(format!("it echoes {n:?}"));
        }
    }
    if dir.join("report.json").exists() {
        wrong.push("a report was written".into());
    }
    (!wrong.is_empty()).then(|| format!("{}\n    stderr: {}", wrong.join("; "), out.stderr.trim()))
}

fn location(path: &Path, at: Option<(usize, Option<&str>)>) -> String {
    match at {
        None => format!("error: {}: ", path.display()),
        Some((line, None)) => format!("error: {}:{line}: ", path.display()),
        Some((line, Some(key))) => format!("error: {}:{line}: key `{key}`: ", path.display()),
    }
}

/// Every case through `audit` (and the rules cases through `crawl` too, which must fail
/// before any request: the base URLs point at ports nobody listens on).
#[test]
fn every_bad_rules_file_and_snapshot_line_is_exit_2_with_where_and_what() {
    let mut failures = Vec::new();
    let (rules_cases, snapshot_cases) = (rules_cases(), snapshot_cases());
    assert!(rules_cases.len() >= 30, "{} rules cases", rules_cases.len());
    assert!(
        snapshot_cases.len() >= 15,
        "{} snapshot cases",
        snapshot_cases.len()
    );
    for case in rules_cases.iter().chain(&snapshot_cases) {
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("rules.toml");
        let snapshot = dir.path().join("snap.ndjson");
        std::fs::write(&rules, &case.rules).unwrap();
        std::fs::write(
            &snapshot,
            case.snapshot.as_deref().unwrap_or(LINE.as_bytes()),
        )
        .unwrap();
        let culprit = if case.in_snapshot { &snapshot } else { &rules };
        let prefix = location(culprit, case.at);
        let report = dir.path().join("report.json");
        let mut commands: Vec<Vec<&std::ffi::OsStr>> = vec![vec![
            "audit".as_ref(),
            "--rules".as_ref(),
            rules.as_os_str(),
            "--snapshot".as_ref(),
            snapshot.as_os_str(),
            "--report".as_ref(),
            report.as_os_str(),
        ]];
        if !case.in_snapshot {
            commands.push(vec![
                "crawl".as_ref(),
                "--rules".as_ref(),
                rules.as_os_str(),
                "--report".as_ref(),
                report.as_os_str(),
                "--timeout".as_ref(),
                "1".as_ref(),
            ]);
        } else {
            // A recording to resume is a snapshot too: read the same way, refused the same way.
            commands.push(vec![
                "crawl".as_ref(),
                "--rules".as_ref(),
                rules.as_os_str(),
                "--resume".as_ref(),
                snapshot.as_os_str(),
                "--report".as_ref(),
                report.as_os_str(),
            ]);
        }
        for args in commands {
            let out = run(&args, dir.path());
            if let Some(why) = judge(&out, dir.path(), &prefix, case.says, case.never) {
                failures.push(format!("{} ({:?}): {why}", case.name, args[0]));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Inputs that cannot be read at all: missing, a folder, a folder without snapshots, a
/// broken link, a path through a file; and a bad line in the second file of a folder, or in
/// `--previous-snapshot`.
#[test]
fn unreadable_inputs_are_exit_2_and_say_which() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rules = d.join("rules.toml");
    std::fs::write(&rules, RULES).unwrap();
    let good = d.join("good.ndjson");
    std::fs::write(&good, LINE).unwrap();
    let empty_folder = d.join("empty");
    std::fs::create_dir(&empty_folder).unwrap();
    std::fs::write(empty_folder.join("notes.txt"), "not a snapshot").unwrap();
    let folder = d.join("folder");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("a.ndjson"), LINE).unwrap();
    std::fs::write(
        folder.join("b.ndjson"),
        format!("{LINE}\n{{\"status\":200}}\n"),
    )
    .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(d.join("nowhere.ndjson"), d.join("dangling.ndjson")).unwrap();
    let missing = d.join("missing.ndjson");
    let through_file = good.join("x.ndjson");

    let audit = |rules: &Path, snapshot: &Path, extra: &[&std::ffi::OsStr]| {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "audit".as_ref(),
            "--rules".as_ref(),
            rules.as_os_str(),
            "--snapshot".as_ref(),
            snapshot.as_os_str(),
            "--report".as_ref(),
            "report.json".as_ref(),
        ];
        args.extend_from_slice(extra);
        run(&args, d)
    };
    let p = |path: &Path| -> String { path.display().to_string() };
    let mut cases: Vec<(String, Outcome, String, &str)> = vec![
        (
            "missing rules file".into(),
            audit(&d.join("nope.toml"), &good, &[]),
            format!("error: {}: ", p(&d.join("nope.toml"))),
            "cannot read rules file",
        ),
        (
            "rules file is a folder".into(),
            audit(d, &good, &[]),
            format!("error: {}: ", p(d)),
            "cannot read rules file",
        ),
        (
            "missing snapshot".into(),
            audit(&rules, &missing, &[]),
            format!("error: {}: ", p(&missing)),
            "cannot read snapshot",
        ),
        (
            "snapshot path through a file".into(),
            audit(&rules, &through_file, &[]),
            format!("error: {}: ", p(&through_file)),
            "cannot read snapshot",
        ),
        (
            "folder without snapshots".into(),
            audit(&rules, &empty_folder, &[]),
            format!("error: {}: ", p(&empty_folder)),
            "no snapshot files (*.ndjson, *.jsonl) in this folder",
        ),
        (
            "bad line in the second file of a folder".into(),
            audit(&rules, &folder, &[]),
            format!("error: {}:2: ", p(&folder.join("b.ndjson"))),
            "missing `url`",
        ),
        (
            "bad line in --previous-snapshot".into(),
            audit(
                &rules,
                &good,
                &[
                    "--previous-snapshot".as_ref(),
                    folder.join("b.ndjson").as_os_str(),
                ],
            ),
            format!("error: {}:2: ", p(&folder.join("b.ndjson"))),
            "missing `url`",
        ),
    ];
    #[cfg(unix)]
    cases.push((
        "dangling symlink".into(),
        audit(&rules, &d.join("dangling.ndjson"), &[]),
        format!("error: {}: ", p(&d.join("dangling.ndjson"))),
        "cannot read snapshot",
    ));
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(name, out, prefix, says)| {
            judge(out, d, prefix, says, None).map(|why| format!("{name}: {why}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
