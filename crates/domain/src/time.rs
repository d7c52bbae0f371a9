//! Instants as integer microseconds since the Unix epoch, the form both databases store.

use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A point in time, UTC, with microsecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// A timestamp string that is not RFC 3339.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an RFC 3339 timestamp (expected e.g. 2024-02-06T15:36:35.251514+00:00)")]
pub struct BadTimestamp(pub String);

impl Timestamp {
    /// The current time.
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    /// From microseconds since the epoch.
    pub fn from_micros(micros: i64) -> Self {
        Timestamp(micros)
    }

    /// Microseconds since the epoch.
    pub fn micros(self) -> i64 {
        self.0
    }

    /// Parses any RFC 3339 form (`Z` or an offset, any fraction of a second).
    pub fn parse(text: &str) -> Result<Self, BadTimestamp> {
        OffsetDateTime::parse(text.trim(), &Rfc3339)
            .map(Self::from_datetime)
            .map_err(|_| BadTimestamp(text.to_owned()))
    }

    /// This instant moved by a number of whole days (negative for the past).
    pub fn plus_days(self, days: i64) -> Self {
        Timestamp(self.0.saturating_add(days.saturating_mul(86_400_000_000)))
    }

    fn from_datetime(dt: OffsetDateTime) -> Self {
        Timestamp((dt.unix_timestamp_nanos() / 1_000) as i64)
    }
}

impl fmt::Display for Timestamp {
    /// The wire form: `2024-02-06T15:36:35.251514+00:00`, always UTC and six fraction digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dt =
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+00:00",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.microsecond()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_microseconds_and_utc_offset() {
        let t = Timestamp::parse("2024-02-06T15:36:35.251514Z").unwrap();
        assert_eq!(t.to_string(), "2024-02-06T15:36:35.251514+00:00");
    }

    #[test]
    fn accepts_offsets_and_converts_to_utc() {
        let t = Timestamp::parse("2024-02-06T17:36:35+02:00").unwrap();
        assert_eq!(t.to_string(), "2024-02-06T15:36:35.000000+00:00");
    }

    #[test]
    fn rejects_dates_without_time() {
        assert!(Timestamp::parse("2024-02-06").is_err());
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn days_move_the_instant() {
        let t = Timestamp::from_micros(0).plus_days(1);
        assert_eq!(t.to_string(), "1970-01-02T00:00:00.000000+00:00");
    }
}
