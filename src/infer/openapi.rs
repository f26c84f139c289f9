//! OpenAPI 3 specs beside the data: kinds from `GET` paths with one path parameter, links
//! from `links` objects, `format: uri` properties and `x-bacaudit-to` hints. The spec says
//! what may be there, the data what is: a proposal both support says so; one only the spec
//! makes is written commented out (or listed, for a kind).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::model::{LinkP, Proposal, Sel};
use super::shape::{hints_at, sanitize, singular};
use super::template::split;

/// One service's spec, read.
#[derive(Debug, Clone)]
pub struct Spec {
    pub service: String,
    pub file: PathBuf,
    pub doc: Value,
}

/// Reads an OpenAPI 3 document, JSON or YAML. Errors name the file (and line where the
/// parser knows it).
pub fn load(service: &str, file: &Path) -> Result<Spec, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("{}: cannot read the OpenAPI spec: {e}", file.display()))?;
    let doc = if text.trim_start().starts_with('{') {
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", file.display()))?
    } else {
        let docs = yaml_rust2::YamlLoader::load_from_str(&text)
            .map_err(|e| format!("{}: not YAML: {e}", file.display()))?;
        docs.first().map(yaml_to_json).unwrap_or(Value::Null)
    };
    let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("");
    if !version.starts_with("3.") {
        return Err(format!(
            "{}: not an OpenAPI 3 document (no `openapi: 3.x` at the top)",
            file.display()
        ));
    }
    if !doc.get("paths").is_some_and(Value::is_object) {
        return Err(format!(
            "{}: the spec has no `paths` object",
            file.display()
        ));
    }
    Ok(Spec {
        service: service.to_string(),
        file: file.to_path_buf(),
        doc,
    })
}

fn yaml_to_json(y: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match y {
        Yaml::Real(r) => r
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(yaml_to_json).collect()),
        Yaml::Hash(h) => Value::Object(
            h.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        other => format!("{other:?}"),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        Yaml::Alias(_) | Yaml::Null | Yaml::BadValue => Value::Null,
    }
}

/// An item operation of the spec: its rules path and the `GET` operation.
struct ItemOp<'s> {
    path: String,
    op: &'s Value,
}

/// The spec's item paths: `GET` on a path with exactly one whole-segment parameter, moved
/// under the first server's path.
fn item_ops(spec: &Spec) -> Vec<ItemOp<'_>> {
    let base = spec
        .doc
        .pointer("/servers/0/url")
        .and_then(Value::as_str)
        .map(|u| {
            let path = url::Url::parse(u)
                .map(|x| x.path().to_string())
                .unwrap_or_else(|_| u.to_string());
            path.trim_end_matches('/').to_string()
        })
        .unwrap_or_default();
    let mut out = Vec::new();
    for (path, item) in spec.doc["paths"].as_object().into_iter().flatten() {
        let Some(op) = item.get("get") else {
            continue;
        };
        let params: Vec<&str> = split(path)
            .into_iter()
            .filter(|s| s.starts_with('{') && s.ends_with('}'))
            .collect();
        if params.len() != 1 || path.matches('{').count() != 1 {
            continue;
        }
        out.push(ItemOp {
            path: format!("{base}{}", path.replace(params[0], "{id}")),
            op,
        });
    }
    out
}

/// Kinds: a spec path the data also shows gets the spec's word for it; one only the spec has
/// is listed among the notes.
pub fn kinds(p: &mut Proposal, specs: &[Spec]) {
    for spec in specs {
        let Some(si) = p.services.iter().position(|s| s.name == spec.service) else {
            continue;
        };
        for op in item_ops(spec) {
            match p
                .kinds
                .iter_mut()
                .find(|k| k.service == si && k.path == op.path)
            {
                Some(k) => k.evidence.push(format!(
                    "the OpenAPI spec {} declares `GET {}` too",
                    spec.file.display(),
                    op.path
                )),
                None => p.notes.push(format!(
                    "{}: the OpenAPI spec {} declares `GET {}`, but no such URL answered: \
                     not proposed (crawl it, or add the kind by hand)",
                    spec.service,
                    spec.file.display(),
                    op.path
                )),
            }
        }
    }
}

/// Links the spec declares on a kind's `GET` answer, confirmed against (or added beside) the
/// links the data showed.
pub fn links(p: &mut Proposal, specs: &[Spec]) {
    for spec in specs {
        let Some(si) = p.services.iter().position(|s| s.name == spec.service) else {
            continue;
        };
        let ops = item_ops(spec);
        for op in &ops {
            let Some(k) = p
                .kinds
                .iter()
                .position(|k| k.service == si && k.path == op.path)
            else {
                continue;
            };
            let mut found: Vec<(String, Option<usize>, String)> = Vec::new();
            let ok = op
                .op
                .pointer("/responses/200")
                .or_else(|| op.op.pointer("/responses/default"));
            if let Some(schema) = ok.and_then(json_schema) {
                properties(
                    &spec.doc,
                    schema,
                    &mut String::new(),
                    0,
                    &mut |ptr, prop| {
                        let hint = ["x-bacaudit-to", "x-references", "x-kind"]
                            .iter()
                            .find_map(|h| prop.get(*h).and_then(Value::as_str));
                        let uri = matches!(
                            prop.get("format").and_then(Value::as_str),
                            Some("uri" | "uri-reference" | "url")
                        );
                        let name = ptr.rsplit('/').find(|t| *t != "*").unwrap_or("");
                        let to = match hint {
                            Some(h) => p
                                .kinds
                                .iter()
                                .position(|x| x.name == sanitize(&singular(h)) || x.name == h),
                            None if uri => p.kinds.iter().position(|x| hints_at(name, &x.name)),
                            None => return,
                        };
                        let why = match hint {
                            Some(h) => format!("`{ptr}` is marked as a reference to `{h}`"),
                            None => format!("`{ptr}` is a `format: uri` property"),
                        };
                        found.push((ptr.to_string(), to, why));
                    },
                );
            }
            for (name, link) in ok
                .and_then(|r| r.get("links"))
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let target = link
                    .get("operationId")
                    .and_then(Value::as_str)
                    .and_then(|id| {
                        ops.iter()
                            .find(|o| o.op.get("operationId").and_then(Value::as_str) == Some(id))
                    })
                    .and_then(|o| {
                        p.kinds
                            .iter()
                            .position(|x| x.service == si && x.path == o.path)
                            .or_else(|| p.kinds.iter().position(|x| x.path == o.path))
                    });
                for expr in link
                    .get("parameters")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flat_map(|m| m.values())
                    .filter_map(Value::as_str)
                {
                    if let Some(ptr) = expr.strip_prefix("$response.body#") {
                        found.push((
                            ptr.to_string(),
                            target,
                            format!("the spec's link `{name}` fills its parameter from `{ptr}`"),
                        ));
                    }
                }
            }
            for (ptr, to, why) in found {
                merge(p, k, &ptr, to, &why, spec);
            }
        }
    }
}

/// One spec link: confirms a link the data proposed, or is written commented out.
fn merge(p: &mut Proposal, k: usize, ptr: &str, to: Option<usize>, why: &str, spec: &Spec) {
    let file = spec.file.display();
    if let Some(l) = p
        .links
        .iter_mut()
        .find(|l| l.kind == k && l.selector == Sel::Pointer(ptr.to_string()))
    {
        l.evidence
            .push_str(&format!("; the OpenAPI spec {file} agrees ({why})"));
        return;
    }
    let Some(to) = to else {
        p.notes.push(format!(
            "{}: {why} in {file}, but which kind it points at is not said",
            p.kinds[k].name
        ));
        return;
    };
    let base = sanitize(&super::shape::hint(super::shape::member_name(ptr)));
    let mut name = base.clone();
    let mut n = 1;
    while p.links.iter().any(|l| l.kind == k && l.name == name) {
        n += 1;
        name = format!("{base}-{n}");
    }
    p.links.push(LinkP {
        kind: k,
        name,
        selector: Sel::Pointer(ptr.to_string()),
        to,
        active: false,
        evidence: format!(
            "{why} in the OpenAPI spec {file}; no value in the sample shows it: the spec says \
             what may be there, the data what is"
        ),
        referenced: Default::default(),
    });
}

/// The JSON schema of a response (any `*json` media type).
fn json_schema(response: &Value) -> Option<&Value> {
    response
        .get("content")?
        .as_object()?
        .iter()
        .find(|(media, _)| media.contains("json"))
        .and_then(|(_, c)| c.get("schema"))
}

/// Every property of a schema with its pointer (`*` for array items), `$ref`s and `allOf`
/// followed inside the document.
fn properties(
    doc: &Value,
    schema: &Value,
    prefix: &mut String,
    depth: usize,
    out: &mut dyn FnMut(&str, &Value),
) {
    if depth > 12 {
        return;
    }
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => match r.strip_prefix('#').and_then(|ptr| doc.pointer(ptr)) {
            Some(s) => s,
            None => return,
        },
        None => schema,
    };
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        properties(doc, part, prefix, depth + 1, out);
    }
    if let Some(items) = schema.get("items") {
        let len = prefix.len();
        prefix.push_str("/*");
        properties(doc, items, prefix, depth + 1, out);
        prefix.truncate(len);
    }
    for (name, prop) in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let len = prefix.len();
        prefix.push('/');
        prefix.push_str(&crate::rules::escape_token(name));
        let resolved = prop
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|ptr| doc.pointer(ptr))
            .unwrap_or(prop);
        out(prefix, resolved);
        properties(doc, prop, prefix, depth + 1, out);
        prefix.truncate(len);
    }
}
