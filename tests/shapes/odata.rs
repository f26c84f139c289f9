//! A real OData v4 server (`odata-v4-server`, tests/odata/server.js): entities addressed as
//! `/Customers('ALFKI')` and `/Orders(2)`, listed in `value` with `@odata.id`; one order points
//! at a customer that is gone.

use std::path::Path;
use std::process::Command;

use super::{available, compensations, crawl, findings, start, Server};

fn server() -> Option<Server> {
    if !available(Path::new("node"), "OData") {
        return None;
    }
    let dir = super::root().join("tests/odata");
    assert!(
        dir.join("node_modules/odata-v4-server").is_dir(),
        "tests/odata/node_modules is missing: run `npm ci` in tests/odata (scripts/test.sh does)"
    );
    let mut cmd = Command::new("node");
    cmd.arg("server.js").current_dir(dir);
    Some(start(cmd, |line| {
        line.starts_with("http://127.0.0.1:")
            .then(|| line.trim().to_string())
    }))
}

#[test]
fn a_broken_reference_between_entity_sets_is_found_with_its_repair() {
    let Some(od) = server() else { return };
    let b = &od.base;
    let rules = format!(
        r#"
[services.shop]
base_url = "{b}/"
seeds = ["/Customers", "/Orders"]

[kinds.customer]
service = "shop"
path = "/Customers('{{id}}')"
collection = "/Customers"
items_pointer = "/value"
id_pointer = "/Id"
must_be_referenced_by = ["order.customer"]
on_orphan = "delete"

[kinds.order]
service = "shop"
path = "/Orders({{id}})"
collection = "/Orders"
items_pointer = "/value"
id_pointer = "/Id"

[kinds.order.links.customer]
pointer = "/CustomerId"
to = "customer"
on_broken = "cascade"
"#
    );
    let (code, report, stderr) = crawl(&rules);
    assert_eq!(code, 1, "{stderr}\n{report}");
    let s = |x: &str| x.to_string();
    assert_eq!(
        findings(&report),
        vec![
            (
                s("broken_link"),
                format!("{b}/Orders(2)"),
                format!("{b}/Customers('GONE')"),
                s("not_found"),
            ),
            (s("orphan"), format!("{b}/Customers('BONAP')"), s(""), s("")),
        ]
    );
    assert_eq!(
        compensations(&report),
        vec![
            (s("DELETE"), format!("{b}/Orders(2)")),
            (s("DELETE"), format!("{b}/Customers('BONAP')")),
        ]
    );
    // O'NEIL is reached as Customers('O''NEIL'), so it is neither broken nor an orphan; the
    // `$metadata` document of `@odata.context` is not a resource: 2 sets + 3 customers +
    // 3 orders.
    assert_eq!(report["summary"]["resources"], 8, "{report}");
    assert_eq!(report["summary"]["out_of_scope"], 0);
    assert!(report["warnings"].as_array().unwrap().is_empty());
}
