//! What a recording keeps of a fetch beyond its final answer: the earlier attempts the crawl
//! retried (status or error, and the `Retry-After` they gave), the final failure's own detail,
//! and whether its end opened the service's circuit breaker, so that a replay makes the same
//! attempts and requests, says the same thing and marks the same services unavailable.

use serde_json::{json, Map, Value};

use crate::http::{classify_status, Verdict};
use crate::vocab::{Class, Reason};

/// One attempt before the final one: what made the crawl try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earlier {
    /// The status it answered, or why it got no answer.
    pub outcome: Result<u16, Reason>,
    /// The `Retry-After` it gave, as sent.
    pub retry_after: Option<String>,
    /// The URLs it was redirected to before it failed, in order (each one more request).
    pub hops: Vec<String>,
}

impl Earlier {
    /// The failure reason of this attempt.
    pub fn reason(&self) -> Reason {
        match self.outcome {
            Ok(status) => match classify_status(status) {
                Verdict::Failed(r) => r,
                // Refused when loaded: an earlier attempt failed.
                Verdict::Ok | Verdict::Redirect => Reason::ClientError,
            },
            Err(r) => r,
        }
    }

    /// The attempt as a snapshot writes it: `{"status":503,"retry_after":"2"}` or
    /// `{"error":"timeout"}`.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        match self.outcome {
            Ok(status) => m.insert("status".into(), json!(status)),
            Err(reason) => m.insert("error".into(), json!(reason.as_str())),
        };
        if let Some(ra) = &self.retry_after {
            m.insert("retry_after".into(), json!(ra));
        }
        if !self.hops.is_empty() {
            m.insert("hops".into(), json!(self.hops));
        }
        Value::Object(m)
    }

    /// Reads one element of a line's `earlier`; the error says what is wrong with it.
    pub fn from_json(v: &Value) -> Result<Earlier, String> {
        let Value::Object(m) = v else {
            return Err(format!("an attempt must be an object, not {v}"));
        };
        if let Some(key) = m
            .keys()
            .find(|k| !matches!(k.as_str(), "status" | "error" | "retry_after" | "hops"))
        {
            return Err(format!("unknown key `{key}` in an attempt"));
        }
        let outcome = match (m.get("status"), m.get("error")) {
            (Some(s), None) => match s.as_u64() {
                Some(n @ 100..=599) => match classify_status(n as u16) {
                    Verdict::Failed(r) if r.class() == Class::Transient => Ok(n as u16),
                    _ => {
                        return Err(format!(
                            "status {n} is not retried (an earlier attempt was)"
                        ))
                    }
                },
                _ => return Err(format!("status {s} is not an HTTP status (100-599)")),
            },
            (None, Some(Value::String(e))) => match Reason::parse(e) {
                Some(Reason::ServiceUnavailable) => {
                    return Err("`service_unavailable` is never retried".into())
                }
                Some(r) if r.class() == Class::Transient => Err(r),
                Some(r) => {
                    return Err(format!(
                        "`{}` is not retried (an earlier attempt was)",
                        r.as_str()
                    ))
                }
                None => return Err(format!("unknown error {e:?}")),
            },
            _ => {
                return Err(
                    "an attempt needs `status` (a number) or `error` (a reason code)".into(),
                )
            }
        };
        let retry_after = match m.get("retry_after") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => return Err(format!("`retry_after` {other} must be a string")),
        };
        Ok(Earlier {
            outcome,
            retry_after,
            hops: hops_of(m.get("hops")).map_err(|e| format!("`hops`: {e}"))?,
        })
    }
}

/// Reads a list of redirect hops: an array of absolute http(s) URLs.
fn hops_of(v: Option<&Value>) -> Result<Vec<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(
                |u| match u.as_str().and_then(crate::canon::parse_absolute) {
                    Some(url) => Ok(url.to_string()),
                    None => Err(format!("{u} is not an absolute http(s) URL")),
                },
            )
            .collect(),
        Some(other) => Err(format!("must be an array of URLs, not {other}")),
    }
}

/// A fetch's history beyond its final answer, as recorded on its snapshot line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// The attempts before the final one, in order (`earlier` on the line).
    pub earlier: Vec<Earlier>,
    /// The final failure's detail as the live crawl gave it, before `after N attempts`
    /// (`detail` on the line; recorded errors only).
    pub detail: Option<String>,
    /// For a fetch that ended transient: whether its end opened the service's circuit
    /// breaker (`breaker` on the line). A replay opens the breaker where this says so and
    /// does not count such a fetch toward it.
    pub breaker: Option<bool>,
    /// The URLs the final attempt was redirected to, in order (`hops` on the line): a replay
    /// counts these requests rather than the ones its recorded lines lead to.
    pub hops: Option<Vec<String>>,
}

impl History {
    /// Reads a line's `earlier`, `detail`, `breaker` and `hops`; `None` when it has none of
    /// them.
    pub fn from_line(
        earlier: Option<&Value>,
        detail: Option<&str>,
        breaker: Option<bool>,
        hops: Option<&Value>,
    ) -> Result<Option<History>, String> {
        let earlier = match earlier {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, v)| Earlier::from_json(v).map_err(|e| format!("`earlier[{i}]`: {e}")))
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(format!("`earlier` must be an array, not {other}")),
        };
        let hops = match hops {
            None | Some(Value::Null) => None,
            v => Some(hops_of(v).map_err(|e| format!("`hops`: {e}"))?),
        };
        if earlier.is_empty() && detail.is_none() && breaker.is_none() && hops.is_none() {
            return Ok(None);
        }
        Ok(Some(History {
            earlier,
            detail: detail.map(str::to_string),
            breaker,
            hops,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_read_back_what_they_write() {
        for e in [
            Earlier {
                outcome: Ok(503),
                retry_after: None,
                hops: vec!["http://h/b".into()],
            },
            Earlier {
                outcome: Ok(429),
                retry_after: Some("2".into()),
                hops: Vec::new(),
            },
            Earlier {
                outcome: Err(Reason::Timeout),
                retry_after: None,
                hops: Vec::new(),
            },
        ] {
            assert_eq!(Earlier::from_json(&e.to_json()), Ok(e));
        }
    }

    #[test]
    fn attempts_that_cannot_have_been_retried_are_refused() {
        for (v, frag) in [
            (json!({"status": 200}), "is not retried"),
            (json!({"status": 302}), "is not retried"),
            (json!({"status": 404}), "is not retried"),
            (json!({"error": "tls_error"}), "is not retried"),
            (json!({"status": 700}), "not an HTTP status"),
            (json!({"error": "boom"}), "unknown error"),
            (json!({"error": "service_unavailable"}), "never retried"),
            (json!({"status": 503, "error": "timeout"}), "needs `status`"),
            (json!({"status": 503, "retry_after": 2}), "must be a string"),
            (json!({"status": 503, "when": 2}), "unknown key"),
            (
                json!({"status": 503, "hops": ["/b"]}),
                "`hops`: \"/b\" is not an absolute",
            ),
            (json!(503), "must be an object"),
        ] {
            let e = Earlier::from_json(&v).unwrap_err();
            assert!(e.contains(frag), "{v}: {e}");
        }
        let e = History::from_line(Some(&json!({"status": 503})), None, None, None).unwrap_err();
        assert!(e.contains("must be an array"), "{e}");
        assert_eq!(
            History::from_line(Some(&json!([])), None, None, None),
            Ok(None)
        );
        let h = History::from_line(None, None, None, Some(&json!(["HTTP://H:80/c"]))).unwrap();
        assert_eq!(h.unwrap().hops, Some(vec!["http://h/c".to_string()]));
    }
}
