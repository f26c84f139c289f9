//! Restore points: per service, when the backup it was restored from was taken — from the
//! rules' `restored_from`, overridden by `--restore-point SERVICE=TIME`.

use crate::rules::{Rules, ServiceId};
use crate::vocab::Timestamp;

/// When each service's backup was taken (indexed by [`ServiceId`]; `None`: not known).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestorePoints {
    points: Vec<Option<Timestamp>>,
}

impl RestorePoints {
    /// The restore points the rules declare.
    pub fn from_rules(rules: &Rules) -> RestorePoints {
        RestorePoints {
            points: rules.services.iter().map(|s| s.restored_from).collect(),
        }
    }

    /// The rules' restore points with `--restore-point SERVICE=TIME` arguments on top (the
    /// command line wins). An error names the argument and says what is wrong.
    pub fn with_overrides(rules: &Rules, args: &[String]) -> Result<RestorePoints, String> {
        let mut points = RestorePoints::from_rules(rules);
        for arg in args {
            let (service, at) = parse_arg(rules, arg)?;
            points.points[usize::from(service)] = Some(at);
        }
        Ok(points)
    }

    /// The restore point of a service.
    pub fn get(&self, service: ServiceId) -> Option<Timestamp> {
        self.points.get(usize::from(service)).copied().flatten()
    }

    /// Sets the restore point of a service (tests, callers that know better).
    pub fn set(&mut self, service: ServiceId, at: Option<Timestamp>) {
        let i = usize::from(service);
        if self.points.len() <= i {
            self.points.resize(i + 1, None);
        }
        self.points[i] = at;
    }

    /// Whether no service has a restore point (then nothing is explained and the report stays
    /// as it was).
    pub fn is_empty(&self) -> bool {
        self.points.iter().all(Option::is_none)
    }

    /// The services without a restore point, by name.
    pub fn missing<'r>(&self, rules: &'r Rules) -> Vec<&'r str> {
        rules
            .services
            .iter()
            .enumerate()
            .filter(|(i, _)| self.get(*i as ServiceId).is_none())
            .map(|(_, s)| s.name.as_str())
            .collect()
    }

    /// The oldest restore point, when every service has one.
    pub fn oldest(&self) -> Option<Timestamp> {
        self.points
            .iter()
            .copied()
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .min()
    }
}

/// Parses one `SERVICE=TIME` argument against the rules' services.
fn parse_arg(rules: &Rules, arg: &str) -> Result<(ServiceId, Timestamp), String> {
    let bad = |m: String| format!("--restore-point `{arg}`: {m}");
    let Some((name, time)) = arg.split_once('=') else {
        return Err(bad(
            "expected SERVICE=TIME (like customers=2026-11-20T10:00:00Z)".into(),
        ));
    };
    let name = name.trim();
    let Some(service) = rules.services.iter().position(|s| s.name == name) else {
        let known: Vec<&str> = rules.services.iter().map(|s| s.name.as_str()).collect();
        return Err(bad(format!(
            "unknown service `{name}` (known: {})",
            known.join(", ")
        )));
    };
    let at = Timestamp::parse(time).map_err(bad)?;
    Ok((service as ServiceId, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        crate::rules::parse(
            std::path::Path::new("r.toml"),
            "[services.customers]\nbase_url = \"http://h:1/\"\nrestored_from = 2026-11-20T10:00:00Z\n\
             [services.orders]\nbase_url = \"http://h:2/\"\n",
            &|_| None,
        )
        .unwrap()
    }

    #[test]
    fn command_line_overrides_rules() {
        let r = rules();
        let p = RestorePoints::from_rules(&r);
        assert_eq!(p.get(0).unwrap().to_string(), "2026-11-20T10:00:00Z");
        assert_eq!(p.missing(&r), ["orders"]);
        assert_eq!(p.oldest(), None);
        let p = RestorePoints::with_overrides(
            &r,
            &[
                "orders=2026-11-20T12:00:00Z".into(),
                "customers = 2026-11-20T09:00:00Z".into(),
            ],
        )
        .unwrap();
        assert_eq!(p.get(0).unwrap().to_string(), "2026-11-20T09:00:00Z");
        assert_eq!(p.oldest().unwrap().to_string(), "2026-11-20T09:00:00Z");
        assert!(!p.is_empty());
    }

    #[test]
    fn bad_arguments_are_named() {
        let r = rules();
        for (arg, frag) in [
            ("orders", "expected SERVICE=TIME"),
            (
                "order=2026-11-20T12:00:00Z",
                "unknown service `order` (known: customers, orders)",
            ),
            ("orders=noon", "`noon` is not an RFC 3339 date-time"),
            ("orders=2026-11-20T12:00:00", "has no offset"),
        ] {
            let e = RestorePoints::with_overrides(&r, &[arg.to_string()]).unwrap_err();
            assert!(e.starts_with(&format!("--restore-point `{arg}`: ")), "{e}");
            assert!(e.contains(frag), "{e}");
        }
    }
}
