//! Time as readers see it: instants are stored as UTC Unix seconds and shown in the site's
//! zone with Vietnamese weekday names and `dd/mm/yyyy HH:MM` dates.

use jiff::Timestamp;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;

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
    pub fn day_number(&self, unix_seconds: i64) -> i64 {
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
pub fn format_date_line(unix_seconds: i64, zone: &SiteZone) -> String {
    let zdt = timestamp(unix_seconds).to_zoned_datetime(zone.tz.clone());
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
pub fn format_date(unix_seconds: i64, zone: &SiteZone) -> String {
    let zdt = timestamp(unix_seconds).to_zoned_datetime(zone.tz.clone());
    format!("{:02}/{:02}/{:04}", zdt.day(), zdt.month(), zdt.year())
}

/// A date and time to the second: `25/10/2022 13:19:05`.
pub fn format_date_time(unix_seconds: i64, zone: &SiteZone) -> String {
    let zdt = timestamp(unix_seconds).to_zoned_datetime(zone.tz.clone());
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
pub fn day_start(date: &str, zone: &SiteZone) -> Option<i64> {
    let d: jiff::civil::Date = date.trim().parse().ok()?;
    Some(
        d.to_zoned_datetime(zone.tz.clone())
            .ok()?
            .timestamp()
            .as_second(),
    )
}

/// RFC 3339 with the zone's offset, for `<time datetime>` and metadata.
pub fn format_rfc3339(unix_seconds: i64, zone: &SiteZone) -> String {
    let zdt = timestamp(unix_seconds).to_zoned_datetime(zone.tz.clone());
    zdt.timestamp()
        .display_with_offset(zdt.offset())
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_second()
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
