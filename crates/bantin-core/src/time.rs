//! Time as readers see it: instants are stored as UTC Unix seconds and shown in the site's
//! zone with Vietnamese weekday names and `dd/mm/yyyy HH:MM` dates.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use jiff::Timestamp;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;

/// An instant in whole seconds since the Unix epoch, UTC: how every time is stored and
/// compared. Shown to people only through the `format_*` functions, in the site's zone.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
#[serde(transparent)]
pub struct UnixTime(i64);

impl UnixTime {
    /// The epoch itself.
    pub const EPOCH: Self = Self(0);

    /// The instant `seconds` after the epoch.
    pub const fn from_second(seconds: i64) -> Self {
        Self(seconds)
    }

    /// Seconds since the epoch.
    pub const fn as_second(self) -> i64 {
        self.0
    }

    /// `seconds` later (earlier when negative), saturating at the ends of the range.
    #[must_use]
    pub const fn plus(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds))
    }

    /// `seconds` earlier, saturating.
    #[must_use]
    pub const fn minus(self, seconds: i64) -> Self {
        Self(self.0.saturating_sub(seconds))
    }

    /// Whole seconds from `earlier` to `self` (negative when `earlier` is later).
    pub const fn since(self, earlier: Self) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// As a jiff timestamp (out-of-range values, only from corrupt rows, read as the epoch).
    pub fn timestamp(self) -> Timestamp {
        timestamp(self.0)
    }
}

impl std::ops::Add<i64> for UnixTime {
    type Output = Self;

    /// `seconds` later, saturating.
    fn add(self, seconds: i64) -> Self {
        self.plus(seconds)
    }
}

impl std::ops::Sub<i64> for UnixTime {
    type Output = Self;

    /// `seconds` earlier, saturating.
    fn sub(self, seconds: i64) -> Self {
        self.minus(seconds)
    }
}

impl From<Timestamp> for UnixTime {
    fn from(t: Timestamp) -> Self {
        Self(t.as_second())
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.timestamp().fmt(f)
    }
}

/// Where "now" comes from. Production reads the system clock; tests use a manual clock and
/// move it forward instead of sleeping. Cheap to clone; clones share the same time.
#[derive(Clone, Debug)]
pub struct Clock(Arc<Source>);

#[derive(Debug)]
enum Source {
    System,
    Manual(AtomicI64),
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(Arc::new(Source::System))
    }

    /// A clock that stands still at `start` until moved.
    pub fn manual(start: UnixTime) -> Self {
        Self(Arc::new(Source::Manual(AtomicI64::new(start.0))))
    }

    /// The current instant.
    pub fn now(&self) -> UnixTime {
        match &*self.0 {
            Source::System => UnixTime(Timestamp::now().as_second()),
            Source::Manual(t) => UnixTime(t.load(Ordering::Acquire)),
        }
    }

    /// Whether this clock only moves when told to.
    pub fn is_manual(&self) -> bool {
        matches!(&*self.0, Source::Manual(_))
    }

    /// Moves a manual clock `seconds` forward; the system clock cannot be moved, so this
    /// does nothing there.
    pub fn advance(&self, seconds: i64) {
        if let Source::Manual(t) = &*self.0 {
            t.fetch_add(seconds, Ordering::AcqRel);
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

/// The zone the site shows times in (default `Asia/Ho_Chi_Minh`).
#[derive(Clone, Debug)]
pub struct SiteZone {
    name: String,
    tz: TimeZone,
}

/// The zone name is not in the embedded time-zone database.
#[derive(Debug, thiserror::Error)]
#[error("unknown time zone {0:?} (expected an IANA name such as Asia/Ho_Chi_Minh)")]
pub struct UnknownZone(pub String);

impl SiteZone {
    /// The default zone of Vietnamese sites.
    pub const DEFAULT: &'static str = "Asia/Ho_Chi_Minh";

    /// Looks an IANA zone name up in the embedded database.
    pub fn parse(name: &str) -> Result<Self, UnknownZone> {
        let tz = TimeZone::get(name).map_err(|_| UnknownZone(name.to_owned()))?;
        Ok(Self {
            name: name.to_owned(),
            tz,
        })
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The underlying zone.
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// Days since the Unix epoch in this zone: the key for "once per visitor per day".
    pub fn day_number(&self, at: UnixTime) -> i64 {
        let unix_seconds = at.0;
        let zdt = timestamp(unix_seconds).to_zoned_datetime(self.tz.clone());
        let offset = i64::from(zdt.offset().seconds());
        (unix_seconds + offset).div_euclid(86_400)
    }
}

impl Default for SiteZone {
    fn default() -> Self {
        Self::parse(Self::DEFAULT).expect("the embedded tz database knows Asia/Ho_Chi_Minh")
    }
}

fn timestamp(unix_seconds: i64) -> Timestamp {
    // Out-of-range values only come from corrupt rows; show the epoch rather than fail a page.
    Timestamp::from_second(unix_seconds).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Vietnamese weekday name as used on date lines: `Thứ hai` … `Thứ bảy`, `Chủ nhật`.
pub fn weekday_vi(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Monday => "Thứ hai",
        Weekday::Tuesday => "Thứ ba",
        Weekday::Wednesday => "Thứ tư",
        Weekday::Thursday => "Thứ năm",
        Weekday::Friday => "Thứ sáu",
        Weekday::Saturday => "Thứ bảy",
        Weekday::Sunday => "Chủ nhật",
    }
}

/// The article date line: `Thứ ba - 25/10/2022 13:19`.
pub fn format_date_line(at: UnixTime, zone: &SiteZone) -> String {
    let zdt = at.timestamp().to_zoned_datetime(zone.tz.clone());
    format!(
        "{} - {:02}/{:02}/{:04} {:02}:{:02}",
        weekday_vi(zdt.weekday()),
        zdt.day(),
        zdt.month(),
        zdt.year(),
        zdt.hour(),
        zdt.minute()
    )
}

/// A short date: `25/10/2022`.
pub fn format_date(at: UnixTime, zone: &SiteZone) -> String {
    let zdt = at.timestamp().to_zoned_datetime(zone.tz.clone());
    format!("{:02}/{:02}/{:04}", zdt.day(), zdt.month(), zdt.year())
}

/// A date and time to the second: `25/10/2022 13:19:05`.
pub fn format_date_time(at: UnixTime, zone: &SiteZone) -> String {
    let zdt = at.timestamp().to_zoned_datetime(zone.tz.clone());
    format!(
        "{:02}/{:02}/{:04} {:02}:{:02}:{:02}",
        zdt.day(),
        zdt.month(),
        zdt.year(),
        zdt.hour(),
        zdt.minute(),
        zdt.second()
    )
}

/// The first second of a `yyyy-mm-dd` day in the zone (what a date field sends).
pub fn day_start(date: &str, zone: &SiteZone) -> Option<UnixTime> {
    let d: jiff::civil::Date = date.trim().parse().ok()?;
    Some(UnixTime(
        d.to_zoned_datetime(zone.tz.clone())
            .ok()?
            .timestamp()
            .as_second(),
    ))
}

/// The value of an `<input type="datetime-local">` for an instant, in the zone:
/// `2022-10-25T13:19`.
pub fn format_local_input(at: UnixTime, zone: &SiteZone) -> String {
    let zdt = at.timestamp().to_zoned_datetime(zone.tz.clone());
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        zdt.year(),
        zdt.month(),
        zdt.day(),
        zdt.hour(),
        zdt.minute()
    )
}

/// The instant an `<input type="datetime-local">` value names in the zone (`2022-10-25T13:19`,
/// seconds optional); `None` for anything else. In a gap of a daylight-saving change the later
/// instant is taken.
pub fn parse_local_input(s: &str, zone: &SiteZone) -> Option<UnixTime> {
    let s = s.trim();
    if s.is_empty() || s.len() > 32 {
        return None;
    }
    let dt: jiff::civil::DateTime = s.parse().ok()?;
    let zdt = dt.to_zoned_datetime(zone.tz.clone()).ok()?;
    Some(UnixTime(zdt.timestamp().as_second()))
}

/// RFC 3339 with the zone's offset, for `<time datetime>` and metadata.
pub fn format_rfc3339(at: UnixTime, zone: &SiteZone) -> String {
    let zdt = at.timestamp().to_zoned_datetime(zone.tz.clone());
    zdt.timestamp()
        .display_with_offset(zdt.offset())
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> UnixTime {
        s.parse::<Timestamp>().unwrap().into()
    }

    #[test]
    fn datetime_inputs_round_trip_in_the_site_zone() {
        let z = SiteZone::default();
        let t = at("2022-10-25T13:19:00+07:00");
        assert_eq!(format_local_input(t, &z), "2022-10-25T13:19");
        assert_eq!(parse_local_input("2022-10-25T13:19", &z), Some(t));
        assert_eq!(parse_local_input("2022-10-25T13:19:00", &z), Some(t));
        for bad in [
            "",
            "25/10/2022 13:19",
            "2022-13-01T00:00",
            "x".repeat(40).as_str(),
        ] {
            assert_eq!(parse_local_input(bad, &z), None, "{bad}");
        }
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = Clock::manual(UnixTime::from_second(100));
        let shared = c.clone();
        assert_eq!(c.now(), UnixTime::from_second(100));
        shared.advance(5);
        assert_eq!(c.now().since(UnixTime::from_second(100)), 5);
        assert!(Clock::system().now() > UnixTime::from_second(1_700_000_000));
    }

    #[test]
    fn date_times_and_day_starts() {
        let z = SiteZone::default();
        assert_eq!(
            format_date_time(at("2022-10-25T06:19:05Z"), &z),
            "25/10/2022 13:19:05"
        );
        assert_eq!(
            day_start("2022-10-25", &z),
            Some(at("2022-10-24T17:00:00Z"))
        );
        assert_eq!(day_start("25/10/2022", &z), None);
    }

    #[test]
    fn seed_date_line() {
        let zone = SiteZone::default();
        assert_eq!(
            format_date_line(at("2022-10-25T13:19:00+07:00"), &zone),
            "Thứ ba - 25/10/2022 13:19"
        );
        assert_eq!(
            format_date(at("2022-10-25T13:19:00+07:00"), &zone),
            "25/10/2022"
        );
    }

    #[test]
    fn all_seven_weekdays() {
        let zone = SiteZone::default();
        let expected = [
            ("2022-10-24T08:05:00+07:00", "Thứ hai - 24/10/2022 08:05"),
            ("2022-10-25T13:19:00+07:00", "Thứ ba - 25/10/2022 13:19"),
            ("2022-10-26T00:00:00+07:00", "Thứ tư - 26/10/2022 00:00"),
            ("2022-10-27T23:59:00+07:00", "Thứ năm - 27/10/2022 23:59"),
            ("2022-10-28T12:00:00+07:00", "Thứ sáu - 28/10/2022 12:00"),
            ("2022-10-29T07:30:00+07:00", "Thứ bảy - 29/10/2022 07:30"),
            ("2022-10-30T19:45:00+07:00", "Chủ nhật - 30/10/2022 19:45"),
        ];
        for (instant, line) in expected {
            assert_eq!(format_date_line(at(instant), &zone), line, "{instant}");
        }
    }

    #[test]
    fn utc_late_evening_is_next_day_in_vietnam() {
        let zone = SiteZone::default();
        // 20:00 UTC on a Monday is 03:00 on Tuesday in Hanoi.
        assert_eq!(
            format_date_line(at("2022-10-24T20:00:00Z"), &zone),
            "Thứ ba - 25/10/2022 03:00"
        );
        assert_eq!(
            zone.day_number(at("2022-10-24T20:00:00Z")),
            zone.day_number(at("2022-10-25T10:00:00Z"))
        );
    }

    #[test]
    fn other_zones_and_bad_names() {
        let utc = SiteZone::parse("UTC").unwrap();
        assert_eq!(
            format_date_line(at("2022-10-25T13:19:00+07:00"), &utc),
            "Thứ ba - 25/10/2022 06:19"
        );
        assert!(SiteZone::parse("Mars/Olympus").is_err());
        assert_eq!(
            format_rfc3339(at("2022-10-25T13:19:00+07:00"), &SiteZone::default()),
            "2022-10-25T13:19:00+07:00"
        );
    }
}
