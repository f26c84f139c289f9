//! Points in time for restore points and resource timestamps: RFC 3339 date-times with an
//! offset, compared in UTC (no time-zone database, no dependency).

use std::fmt;
use std::str::FromStr;

use toml::value::{Datetime, Offset};

/// An instant, UTC, to the nanosecond. Ordered in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    secs: i64,
    nanos: u32,
}

impl Timestamp {
    /// Parses an RFC 3339 date-time with an offset (`2026-11-20T10:00:00Z`,
    /// `2026-11-20T12:00:00+02:00`, fractions of a second allowed). Errors say what is wrong.
    pub fn parse(s: &str) -> Result<Timestamp, String> {
        let dt = Datetime::from_str(s.trim()).map_err(|e| {
            format!("`{s}` is not an RFC 3339 date-time like 2026-11-20T10:00:00Z ({e})")
        })?;
        Timestamp::from_toml(&dt).map_err(|m| format!("`{s}` {m}"))
    }

    /// Converts a TOML date-time; it must be an offset date-time (date, time and offset), as
    /// a local one names no instant. The error is a fragment to follow the value.
    pub fn from_toml(dt: &Datetime) -> Result<Timestamp, String> {
        let (Some(date), Some(time)) = (dt.date, dt.time) else {
            return Err("needs a date and a time of day (like 2026-11-20T10:00:00Z)".to_string());
        };
        let Some(offset) = dt.offset else {
            return Err(
                "has no offset: add `Z` for UTC or `+HH:MM` (a local time names no instant)"
                    .to_string(),
            );
        };
        let offset_minutes = match offset {
            Offset::Z => 0i64,
            Offset::Custom { minutes } => i64::from(minutes),
        };
        let days = days_from_civil(
            i64::from(date.year),
            u32::from(date.month),
            u32::from(date.day),
        );
        // A leap second (:60) counts as the next second.
        let secs = days * 86_400
            + i64::from(time.hour) * 3_600
            + i64::from(time.minute) * 60
            + i64::from(time.second)
            - offset_minutes * 60;
        Ok(Timestamp {
            secs,
            nanos: time.nanosecond,
        })
    }

    /// Builds a timestamp from seconds since the Unix epoch (tests, fixtures).
    pub fn from_unix(secs: i64) -> Timestamp {
        Timestamp { secs, nanos: 0 }
    }

    /// Seconds since the Unix epoch.
    pub fn unix(self) -> i64 {
        self.secs
    }

    /// The short UTC form used in sentences: `2026-11-20T10:00Z` when the seconds are zero,
    /// else the full form.
    pub fn short(self) -> String {
        if self.nanos == 0 && self.secs.rem_euclid(60) == 0 {
            let (date, h, m, _) = self.parts();
            format!("{date}T{h:02}:{m:02}Z")
        } else {
            self.to_string()
        }
    }

    fn parts(self) -> (String, i64, i64, i64) {
        let days = self.secs.div_euclid(86_400);
        let rest = self.secs.rem_euclid(86_400);
        let (y, mo, d) = civil_from_days(days);
        (
            format!("{y:04}-{mo:02}-{d:02}"),
            rest / 3_600,
            rest % 3_600 / 60,
            rest % 60,
        )
    }
}

/// RFC 3339 in UTC: `2026-11-20T10:00:00Z`, with the fraction of a second when there is one.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (date, h, m, s) = self.parts();
        write!(f, "{date}T{h:02}:{m:02}:{s:02}")?;
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01 (inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offsets_and_orders_in_utc() {
        let z = Timestamp::parse("2026-11-20T10:00:00Z").unwrap();
        let plus2 = Timestamp::parse("2026-11-20T12:00:00+02:00").unwrap();
        assert_eq!(z, plus2);
        assert_eq!(z.unix(), 1_795_168_800);
        let later = Timestamp::parse("2026-11-20T10:00:00.5Z").unwrap();
        assert!(later > z);
        assert_eq!(later.to_string(), "2026-11-20T10:00:00.5Z");
        assert_eq!(z.to_string(), "2026-11-20T10:00:00Z");
        assert_eq!(z.short(), "2026-11-20T10:00Z");
        assert_eq!(Timestamp::parse("1969-12-31T23:59:59Z").unwrap().unix(), -1);
        assert_eq!(
            Timestamp::parse("2024-02-29T00:00:00-00:30")
                .unwrap()
                .to_string(),
            "2024-02-29T00:30:00Z"
        );
    }

    #[test]
    fn rejects_what_names_no_instant() {
        for (s, frag) in [
            ("2026-11-20T10:00:00", "no offset"),
            ("2026-11-20", "needs a date and a time"),
            ("10:00:00", "needs a date and a time"),
            ("yesterday", "not an RFC 3339"),
            ("2026-02-30T10:00:00Z", "not an RFC 3339"),
        ] {
            let e = Timestamp::parse(s).unwrap_err();
            assert!(e.contains(frag), "{s}: {e}");
        }
    }

    #[test]
    fn civil_round_trips() {
        for days in [-800_000, -1, 0, 1, 59, 11_016, 20_412, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m as u32, d as u32), days);
        }
    }
}
