//! What a recording keeps of a fetch beyond its final answer: the earlier attempts the crawl
//! retried (status or error, and the `Retry-After` they gave) and the final failure's own
//! detail, so that a replay makes the same attempts and requests and says the same thing.

use serde_json::{json, Map, Value};

use crate::http::{classify_status, Verdict};
use crate::vocab::Reason;

/// One attempt before the final one: what made the crawl try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earlier {
    /// The status it answered, or why it got no answer.
    pub outcome: Result<u16, Reason>,
    /// The `Retry-After` it gave, as sent.
    pub retry_after: Option<String>,
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
        Value::Object(m)
    }

    /// Reads one element of a line's `earlier`; the error says what is wrong with it.
    pub fn from_json(v: &Value) -> Result<Earlier, String> {
        let Value::Object(m) = v else {
            return Err(format!("an attempt must be an object, not {v}"));
        };
        if let Some(key) = m
            .keys()
            .find(|k| !matches!(k.as_str(), "status" | "error" | "retry_after"))
        {
            return Err(format!("unknown key `{key}` in an attempt"));
        }
        let outcome = match (m.get("status"), m.get("error")) {
            (Some(s), None) => match s.as_u64() {
                Some(n @ 100..=599) => match classify_status(n as u16) {
                    Verdict::Failed(_) => Ok(n as u16),
                    _ => return Err(format!("status {n} did not fail (an earlier attempt did)")),
                },
                _ => return Err(format!("status {s} is not an HTTP status (100-599)")),
            },
            (None, Some(Value::String(e))) => match Reason::parse(e) {
                Some(Reason::ServiceUnavailable) => {
                    return Err("`service_unavailable` is never retried".into())
                }
                Some(r) => Err(r),
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
        })
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
}

impl History {
    /// Reads a line's `earlier` and `detail`; `None` when it has neither.
    pub fn from_line(
        earlier: Option<&Value>,
        detail: Option<&str>,
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
        if earlier.is_empty() && detail.is_none() {
            return Ok(None);
        }
        Ok(Some(History {
            earlier,
            detail: detail.map(str::to_string),
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
            },
            Earlier {
                outcome: Ok(429),
                retry_after: Some("2".into()),
            },
            Earlier {
                outcome: Err(Reason::Timeout),
                retry_after: None,
            },
        ] {
            assert_eq!(Earlier::from_json(&e.to_json()), Ok(e));
        }
    }

    #[test]
    fn attempts_that_cannot_have_been_retried_are_refused() {
        for (v, frag) in [
            (json!({"status": 200}), "did not fail"),
            (json!({"status": 302}), "did not fail"),
            (json!({"status": 700}), "not an HTTP status"),
            (json!({"error": "boom"}), "unknown error"),
            (json!({"error": "service_unavailable"}), "never retried"),
            (json!({"status": 503, "error": "timeout"}), "needs `status`"),
            (json!({"status": 503, "retry_after": 2}), "must be a string"),
            (json!({"status": 503, "when": 2}), "unknown key"),
            (json!(503), "must be an object"),
        ] {
            let e = Earlier::from_json(&v).unwrap_err();
            assert!(e.contains(frag), "{v}: {e}");
        }
        let e = History::from_line(Some(&json!({"status": 503})), None).unwrap_err();
        assert!(e.contains("must be an array"), "{e}");
        assert_eq!(History::from_line(Some(&json!([])), None), Ok(None));
    }
}
