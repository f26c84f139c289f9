//! A real datasette (tests/datasette/requirements.txt, in target/test-venv) over a SQLite
//! database the test writes: rows at `/shop/orders/{id}.json`, table pages with their rows
//! under `rows`, HTML row pages with an unbracketed `Link` header. The findings must be what
//! SQL over the same database says.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{available, crawl, findings, start, Server};

fn venv(program: &str) -> PathBuf {
    super::root().join("target/test-venv/bin").join(program)
}

/// Runs Python (the venv's) on `script` with `db` as its argument; returns its stdout.
fn python(script: &str, db: &Path) -> String {
    let out = Command::new(venv("python"))
        .arg("-c")
        .arg(script)
        .arg(db)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Customers 1–5 and orders that point at them; customer 3 is then lost (a restore from an
/// older backup), so orders 2 and 4 point at nothing, and nobody orders from 4 and 5.
const SCHEMA: &str = r#"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript('''
create table customers (id integer primary key, name text);
create table orders (id integer primary key, customer_id integer references customers(id));
insert into customers values (1, 'Ada'), (2, 'Grace'), (3, 'Edsger'), (4, 'Barbara'), (5, 'Tony');
insert into orders values (1, 1), (2, 3), (3, 2), (4, 3), (5, 1), (6, 2);
delete from customers where id = 3;
''')
c.commit()
"#;

/// What SQL says: `broken ORDER CUSTOMER` and `orphan CUSTOMER` lines.
const TRUTH: &str = r#"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for o, cu in c.execute('select o.id, o.customer_id from orders o left join customers c on c.id = o.customer_id where c.id is null'):
    print('broken', o, cu)
for (cu,) in c.execute('select id from customers where id not in (select customer_id from orders)'):
    print('orphan', cu)
"#;

fn server(db: &Path) -> Option<Server> {
    let bin = venv("datasette");
    if !available(&bin, "datasette") {
        return None;
    }
    let mut cmd = Command::new(bin);
    cmd.args(["serve", "-h", "127.0.0.1", "-p", "0"]).arg(db);
    Some(start(cmd, |line| {
        let at = line.find("http://127.0.0.1:")?;
        let url = line[at..].split_whitespace().next()?;
        Some(url.trim_end_matches('/').to_string())
    }))
}

#[test]
fn findings_over_a_real_datasette_are_what_sql_says() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    if !available(&venv("python"), "datasette") {
        return;
    }
    python(SCHEMA, &db);
    let Some(ds) = server(&db) else { return };
    let b = &ds.base;
    // Rows are arrays in column order: the id is column 0, an order's customer column 1.
    let rules = format!(
        r#"
[services.ds]
base_url = "{b}/"
seeds = ["/shop/customers.json?_size=2", "/shop/orders.json?_size=2"]

[kinds.customer]
service = "ds"
path = "/shop/customers/{{id}}.json"
collection = "/shop/customers.json"
items_pointer = "/rows"
id_pointer = "/0"
must_be_referenced_by = ["order.customer"]
on_orphan = "delete"

[kinds.order]
service = "ds"
path = "/shop/orders/{{id}}.json"
collection = "/shop/orders.json"
items_pointer = "/rows"
id_pointer = "/0"

[kinds.order.links.customer]
pointer = "/rows/0/1"
to = "customer"
on_broken = "cascade"
"#
    );
    let (code, report, stderr) = crawl(&rules);
    assert_eq!(code, 1, "{stderr}\n{report}");

    let mut want = BTreeSet::new();
    for line in python(TRUTH, &db).lines() {
        let w: Vec<&str> = line.split(' ').collect();
        let customer = |id: &str| format!("{b}/shop/customers/{id}.json");
        want.insert(match w[..] {
            ["broken", order, c] => (
                "broken_link".to_string(),
                format!("{b}/shop/orders/{order}.json"),
                customer(c),
                "not_found".to_string(),
            ),
            ["orphan", c] => ("orphan".into(), customer(c), String::new(), String::new()),
            _ => panic!("{line}"),
        });
    }
    assert_eq!(
        want.len(),
        4,
        "the database holds 2 broken links and 2 orphans"
    );
    let got: BTreeSet<_> = findings(&report).into_iter().collect();
    assert_eq!(got, want, "{report}");

    // An HTML row page sends `Link: http://…/1.json; rel="alternate"`: read, with a
    // warning. (Crawled on its own: an HTML body has unknown links, so with it in the crawl
    // above orphan detection would rightly be skipped.)
    let html = format!(
        "[services.ds]\nbase_url = \"{b}/\"\nseeds = [\"/shop/orders/1\"]\n\
         [kinds.order]\nservice = \"ds\"\npath = \"/shop/orders/{{id}}.json\"\n"
    );
    let (code, report, stderr) = crawl(&html);
    assert_eq!(code, 3, "{stderr}\n{report}");
    assert_eq!(report["summary"]["resources"], 2, "{report}");
    let warnings: Vec<&str> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(&format!("first at {b}/shop/orders/1:"))
            && warnings[0].contains(&format!("`Link: {b}/shop/orders/1.json; rel=\"alternate\"")),
        "{}",
        warnings[0]
    );
}
