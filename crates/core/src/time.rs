//! Wall-clock helpers: Unix times and the UTC timestamps rollouts use.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    now_ms() / 1000
}

/// Calendar fields of a Unix time in milliseconds, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Utc {
    pub(crate) year: i64,
    pub(crate) month: u32,
    pub(crate) day: u32,
    pub(crate) hour: u32,
    pub(crate) minute: u32,
    pub(crate) second: u32,
    pub(crate) millis: u32,
}

impl Utc {
    pub(crate) fn from_ms(ms: i64) -> Self {
        let days = ms.div_euclid(86_400_000);
        let in_day = ms.rem_euclid(86_400_000);
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let field = |value: i64| u32::try_from(value).unwrap_or(0);
        Self {
            year,
            month: field(month),
            day: field(day),
            hour: field(in_day / 3_600_000),
            minute: field(in_day / 60_000 % 60),
            second: field(in_day / 1000 % 60),
            millis: field(in_day % 1000),
        }
    }

    /// `2026-11-21T05:50:31.853Z`.
    pub(crate) fn iso8601(self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.millis
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_timestamps() {
        assert_eq!(Utc::from_ms(0).iso8601(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Utc::from_ms(1_795_240_231_853).iso8601(),
            "2026-11-21T05:50:31.853Z"
        );
        assert_eq!(
            Utc::from_ms(951_782_400_000).iso8601(),
            "2000-02-29T00:00:00.000Z"
        );
    }
}
