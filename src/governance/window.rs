//! Time zones, business hours and blackout windows: the parts a calendar is
//! made of, each parsed from the text a user writes.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, Local, NaiveDate, NaiveDateTime, Offset,
    SecondsFormat, TimeZone, Timelike, Utc,
};
use jiff::tz::{AmbiguousOffset, TimeZone as IanaZone};

/// The zone that business hours and blackout windows are written in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Zone {
    /// The host's local time.
    Local,
    /// An IANA time zone such as `Europe/Paris`, read from the host's
    /// zoneinfo files, or from the copy built into chaosc when they lack it.
    Named(IanaZone),
}

/// Names in a zoneinfo directory that stand for the host's own settings,
/// not for a zone.
const HOST_ALIASES: &[&str] = &["localtime", "posixrules"];

/// The maximum number of characters of a rejected name that a message repeats.
const SHOWN_NAME_CHARS: usize = 64;

/// Returns user text as a message may repeat it: control characters
/// escaped, so that they cannot act on a terminal, and cut to
/// [`SHOWN_NAME_CHARS`] characters.
pub fn shown(text: &str) -> String {
    let mut escaped: String = text
        .chars()
        .take(SHOWN_NAME_CHARS)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().nth(SHOWN_NAME_CHARS).is_some() {
        escaped.push_str("...");
    }
    escaped
}

impl Zone {
    /// Parses an IANA zone name.
    pub fn parse(text: &str) -> Result<Zone, String> {
        let unknown = || {
            format!(
                "`{}` is not in the IANA time zone database; names look like `Europe/Paris`",
                shown(text)
            )
        };
        if HOST_ALIASES
            .iter()
            .any(|alias| alias.eq_ignore_ascii_case(text))
        {
            return Err(unknown());
        }
        IanaZone::get(text)
            .or_else(|_| jiff::tz::TimeZoneDatabase::bundled().get(text))
            .map(Zone::Named)
            .map_err(|_| unknown())
    }

    /// Returns UTC as a named zone.
    pub fn utc() -> Zone {
        Zone::Named(IanaZone::UTC)
    }

    /// Returns the zone's name for messages.
    pub fn name(&self) -> String {
        match self {
            Zone::Local => "local time".to_owned(),
            Zone::Named(zone) => zone.iana_name().unwrap_or("UTC").to_owned(),
        }
    }

    /// Returns the wall-clock time of an instant in this zone.
    pub fn to_local(&self, instant: DateTime<Utc>) -> NaiveDateTime {
        match self {
            Zone::Local => instant.with_timezone(&Local).naive_local(),
            Zone::Named(zone) => instant
                .with_timezone(&offset_at(zone, instant))
                .naive_local(),
        }
    }

    /// Returns the instant of a wall-clock time in this zone. A time that a
    /// daylight-saving change skips maps to the first minute after the gap,
    /// and a time that occurs twice to its first occurrence.
    pub fn to_instant(&self, wall: NaiveDateTime) -> DateTime<Utc> {
        // A gap lasts at most a few hours, so a day of minutes always ends it.
        for minutes in 0..=24 * 60 {
            let Some(candidate) = wall.checked_add_signed(Duration::minutes(minutes)) else {
                break;
            };
            let found = match self {
                Zone::Local => Local
                    .from_local_datetime(&candidate)
                    .earliest()
                    .map(|t| t.to_utc()),
                Zone::Named(zone) => earliest_instant(zone, candidate),
            };
            if let Some(instant) = found {
                return instant;
            }
        }
        wall.and_utc()
    }

    /// Formats an instant as RFC 3339 in this zone, to the second.
    pub fn format(&self, instant: DateTime<Utc>) -> String {
        match self {
            Zone::Local => instant
                .with_timezone(&Local)
                .to_rfc3339_opts(SecondsFormat::Secs, false),
            Zone::Named(zone) => instant
                .with_timezone(&offset_at(zone, instant))
                .to_rfc3339_opts(SecondsFormat::Secs, false),
        }
    }
}

/// Returns the UTC offset of `zone` at `instant`. Instants outside the years
/// -9999 to 9999, which the zone database does not cover, get offset zero.
fn offset_at(zone: &IanaZone, instant: DateTime<Utc>) -> FixedOffset {
    jiff::Timestamp::from_second(instant.timestamp())
        .ok()
        .and_then(|timestamp| FixedOffset::east_opt(zone.to_offset(timestamp).seconds()))
        .unwrap_or(Utc.fix())
}

/// Returns the first instant that shows `wall` on the clocks of `zone`, or
/// `None` when a daylight-saving change skips it.
fn earliest_instant(zone: &IanaZone, wall: NaiveDateTime) -> Option<DateTime<Utc>> {
    let civil = jiff::civil::DateTime::new(
        i16::try_from(wall.year()).ok()?,
        wall.month() as i8,
        wall.day() as i8,
        wall.hour() as i8,
        wall.minute() as i8,
        wall.second() as i8,
        0,
    )
    .ok()?;
    let offset = match zone.to_ambiguous_timestamp(civil).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset,
        // Of the two instants a repeated hour names, the first is the one
        // before the clocks go back.
        AmbiguousOffset::Fold { before, .. } => before,
        AmbiguousOffset::Gap { .. } => return None,
    };
    Some(wall.and_utc() - Duration::seconds(i64::from(offset.seconds())))
}

/// The days and hours when experiments that ask for them may run, such as
/// `Mon-Fri 09:00-17:00`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    /// Monday first.
    days: [bool; 7],
    /// Minutes since midnight; the end is excluded and may be 24:00.
    start: u32,
    end: u32,
    pub text: String,
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl BusinessHours {
    /// Parses `DAYS HH:MM-HH:MM`, where DAYS is a range (`Mon-Fri`) or a
    /// list (`Mon,Wed,Fri`) of day names.
    pub fn parse(text: &str) -> Result<BusinessHours, String> {
        let (days_text, hours_text) = text
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(|| "expected days and hours, such as `Mon-Fri 09:00-17:00`".to_owned())?;
        let days = parse_days(days_text)?;
        let (start, end) = hours_text.trim().split_once('-').ok_or_else(|| {
            format!(
                "`{}` is not an hour range such as `09:00-17:00`",
                shown(hours_text)
            )
        })?;
        let (start, end) = (parse_clock(start)?, parse_clock(end)?);
        if start >= end || start >= 24 * 60 {
            return Err(format!(
                "`{}` ends before it starts; hours over midnight are not supported",
                shown(hours_text)
            ));
        }
        Ok(BusinessHours {
            days,
            start,
            end,
            text: text.trim().to_owned(),
        })
    }

    /// Tells whether a wall-clock time falls in business hours.
    pub fn contains(&self, wall: NaiveDateTime) -> bool {
        let day = wall.weekday().num_days_from_monday() as usize;
        let minute = minute_of_day(wall);
        self.days[day] && self.start <= minute && minute < self.end
    }

    /// Returns the next wall-clock time after `wall` when business hours
    /// begin, or `None` when no day is a business day.
    pub fn next_start(&self, wall: NaiveDateTime) -> Option<NaiveDateTime> {
        (0..=7).find_map(|offset| {
            let date = wall.date() + Duration::days(offset);
            let day = date.weekday().num_days_from_monday() as usize;
            let start = date.and_hms_opt(0, 0, 0)? + Duration::minutes(i64::from(self.start));
            (self.days[day] && start > wall).then_some(start)
        })
    }
}

fn parse_days(text: &str) -> Result<[bool; 7], String> {
    let index = |name: &str| {
        let lower = name.trim().to_ascii_lowercase();
        DAY_NAMES
            .iter()
            .position(|day| lower.get(..3).is_some_and(|prefix| day.starts_with(prefix)))
            .ok_or_else(|| format!("`{}` is not a day name such as `Mon`", shown(name)))
    };
    let mut days = [false; 7];
    for part in text.split(',') {
        match part.split_once('-') {
            Some((first, last)) => {
                let (first, last) = (index(first)?, index(last)?);
                let mut day = first;
                loop {
                    days[day] = true;
                    if day == last {
                        break;
                    }
                    day = (day + 1) % 7;
                }
            }
            None => days[index(part)?] = true,
        }
    }
    Ok(days)
}

/// Parses `HH:MM` into minutes since midnight; `24:00` is the end of a day.
fn parse_clock(text: &str) -> Result<u32, String> {
    let invalid = || format!("`{}` is not a time of day such as `09:30`", shown(text));
    let (hours, minutes) = text.trim().split_once(':').ok_or_else(invalid)?;
    let (hours, minutes) = (
        parse_digits(hours).ok_or_else(invalid)?,
        parse_digits(minutes).ok_or_else(invalid)?,
    );
    let total = hours * 60 + minutes;
    if minutes >= 60 || total > 24 * 60 {
        return Err(invalid());
    }
    Ok(total)
}

/// Parses one or two decimal digits, with no sign.
fn parse_digits(text: &str) -> Option<u32> {
    let is_digits = (1..=2).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    is_digits.then(|| text.parse().ok()).flatten()
}

fn minute_of_day(wall: NaiveDateTime) -> u32 {
    use chrono::Timelike;
    wall.hour() * 60 + wall.minute()
}

/// A time when no experiment may start.
#[derive(Debug, Clone, PartialEq)]
pub struct Blackout {
    /// The window as written.
    pub text: String,
    /// The source of the window: `policy`, `experiment` or `framework sox`.
    pub source: String,
    kind: BlackoutKind,
    zone: Zone,
}

#[derive(Debug, Clone, PartialEq)]
enum BlackoutKind {
    /// Every year from the first day to the last, both whole.
    Annual { first: (u32, u32), last: (u32, u32) },
    /// Once, from `start` included to `end` excluded.
    Once {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
}

impl Blackout {
    /// Parses `MM-DD..MM-DD` (every year, whole days) or `START..END`, where
    /// each side is an RFC 3339 time, a wall-clock time `YYYY-MM-DDTHH:MM`
    /// in `zone`, or a date (its whole day).
    pub fn parse(text: &str, zone: &Zone, source: &str) -> Result<Blackout, String> {
        let (start, end) = text
            .split_once("..")
            .ok_or_else(|| "expected a range `START..END`".to_owned())?;
        let kind = match (parse_month_day(start), parse_month_day(end)) {
            (Some(first), Some(last)) => BlackoutKind::Annual { first, last },
            (first, last) => {
                if let Some(problem) = [start, end].into_iter().find_map(month_day_problem) {
                    return Err(problem);
                }
                if first.is_some() || last.is_some() {
                    // The side that is not `MM-DD` may be wrong in itself.
                    let other = if first.is_some() { end } else { start };
                    parse_instant(other, zone, false)?;
                    return Err(format!(
                        "`{}` joins a day of every year (`MM-DD`) and a date; write both sides \
                         in one form",
                        shown(text.trim())
                    ));
                }
                parse_once(start, end, zone)?
            }
        };
        Ok(Blackout {
            text: text.to_owned(),
            source: source.to_owned(),
            kind,
            zone: zone.clone(),
        })
    }

    /// Returns when the window ends if `instant` falls in it.
    pub fn end_if_active(&self, instant: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.kind {
            BlackoutKind::Once { start, end } => (start <= instant && instant < end).then_some(end),
            BlackoutKind::Annual { first, last } => {
                let wall = self.zone.to_local(instant);
                let year = wall.year();
                // A window over the new year that contains a January date
                // began in the year before.
                [year - 1, year].into_iter().find_map(|from_year| {
                    let to_year = if last < first {
                        from_year + 1
                    } else {
                        from_year
                    };
                    let start = month_day(from_year, first)?.and_hms_opt(0, 0, 0)?;
                    let end =
                        (month_day(to_year, last)? + Duration::days(1)).and_hms_opt(0, 0, 0)?;
                    (start <= wall && wall < end).then(|| self.zone.to_instant(end))
                })
            }
        }
    }
}

/// Tells why `text`, written like `MM-DD`, is no day of the year; `None`
/// when it is one or is not written like `MM-DD`.
pub fn month_day_problem(text: &str) -> Option<String> {
    let text = text.trim();
    let (month, day) = text.split_once('-')?;
    let (Some(month), Some(day)) = (parse_digits(month), parse_digits(day)) else {
        return None;
    };
    if parse_month_day(text).is_some() {
        return None;
    }
    let longest = usize::try_from(month)
        .ok()
        .and_then(|index| MONTH_DAYS.get(index.checked_sub(1)?));
    let problem = match longest {
        None => "months run from 01 to 12".to_owned(),
        Some(_) if day == 0 => "days start at 01".to_owned(),
        Some(longest) => format!("month {month} has at most {longest} days"),
    };
    Some(format!(
        "`{}` is not a day of the year: {problem}",
        shown(text)
    ))
}

/// Parses a window that happens once, `START..END`.
fn parse_once(start: &str, end: &str, zone: &Zone) -> Result<BlackoutKind, String> {
    let start_at = parse_instant(start, zone, false)?;
    let end_at = parse_instant(end, zone, true)?;
    if start_at < end_at {
        return Ok(BlackoutKind::Once {
            start: start_at,
            end: end_at,
        });
    }
    // No hour is skipped in UTC, so a window in order there lies in an hour
    // that a daylight-saving change skips in `zone`.
    let utc = Zone::utc();
    let (utc_start, utc_end) = (
        parse_instant(start, &utc, false)?,
        parse_instant(end, &utc, true)?,
    );
    if utc_start < utc_end {
        return Err(format!(
            "the window lies in an hour that a daylight-saving change skips in {}, so it never \
             occurs",
            zone.name()
        ));
    }
    if utc_start == utc_end {
        return Err("the window is empty: it ends where it starts".to_owned());
    }
    Err("the window ends before it starts".to_owned())
}

/// The maximum number of days of each month, February in a leap year.
const MONTH_DAYS: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// Parses `MM-DD`, one or two digits each (`3-1` is `03-01`), into a
/// (month, day) pair that some year has: `02-29` is one, `02-30` is not.
pub fn parse_month_day(text: &str) -> Option<(u32, u32)> {
    let (month, day) = text.trim().split_once('-')?;
    let (month, day) = (parse_digits(month)?, parse_digits(day)?);
    let longest = *MONTH_DAYS.get(usize::try_from(month).ok()?.checked_sub(1)?)?;
    (1..=longest).contains(&day).then_some((month, day))
}

/// Returns the date of (month, day) in `year`; February 29 falls back to
/// February 28 in common years.
fn month_day(year: i32, (month, day): (u32, u32)) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
        .or_else(|| NaiveDate::from_ymd_opt(year, month, day.saturating_sub(1)))
}

/// The years a window may name: those the zone database covers.
const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// Parses one side of a window. A bare date is its day's start, or the next
/// day's start when it ends the window, so that the day counts whole.
fn parse_instant(text: &str, zone: &Zone, is_end: bool) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    let outside = || Err(format!("`{}` is outside the years 1 to 9999", shown(text)));
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        if !YEARS.contains(&time.year()) {
            return outside();
        }
        return Ok(time.to_utc());
    }
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(wall) = NaiveDateTime::parse_from_str(text, format) {
            if !YEARS.contains(&wall.year()) {
                return outside();
            }
            return Ok(zone.to_instant(wall));
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        if !YEARS.contains(&date.year()) {
            return outside();
        }
        let date = if is_end {
            date + Duration::days(1)
        } else {
            date
        };
        let wall = date.and_hms_opt(0, 0, 0).expect("midnight exists");
        return Ok(zone.to_instant(wall));
    }
    if let Some(problem) = date_problem(text) {
        return Err(problem);
    }
    Err(format!(
        "`{}` is not `MM-DD`, a date, `YYYY-MM-DDTHH:MM` or an RFC 3339 time",
        shown(text)
    ))
}

/// Tells why `text`, which starts like a date `YYYY-MM-DD`, names no day;
/// `None` when it does not start like a date.
fn date_problem(text: &str) -> Option<String> {
    let year_digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if year_digits > 4 && text.as_bytes().get(year_digits) == Some(&b'-') {
        return Some(format!("`{}` is outside the years 1 to 9999", shown(text)));
    }
    let date = text.get(..10)?;
    let shape = date.bytes().enumerate().all(|(index, byte)| match index {
        4 | 7 => byte == b'-',
        _ => byte.is_ascii_digit(),
    });
    if !shape {
        return None;
    }
    let (year, month, day): (i32, u32, u32) = (
        date[..4].parse().ok()?,
        date[5..7].parse().ok()?,
        date[8..].parse().ok()?,
    );
    let problem = if !(1..=12).contains(&month) {
        "months run from 01 to 12".to_owned()
    } else {
        let longest = (28..=31)
            .rev()
            .find(|&last| NaiveDate::from_ymd_opt(year, month, last).is_some())?;
        if (1..=longest).contains(&day) {
            return None;
        }
        format!("month {month} of {year} has {longest} days")
    };
    Some(format!("`{date}` is not a day of the calendar: {problem}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paris() -> Zone {
        Zone::parse("Europe/Paris").unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn wall(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").unwrap()
    }

    #[test]
    fn zone_rejects_paths() {
        // Zone names are looked up among the zoneinfo files, never opened
        // as paths.
        for name in [
            "../../../etc/passwd",
            "/etc/localtime",
            "Europe/../Europe/Paris",
        ] {
            assert!(Zone::parse(name).is_err(), "{name}");
        }
    }

    #[test]
    fn zone_rejects_host_aliases() {
        assert!(Zone::parse("localtime").is_err());
        assert!(Zone::parse("PosixRules").is_err());
    }

    #[test]
    fn zone_message_escapes_and_shortens_name() {
        let reason = Zone::parse("Europe/Paris\u{1b}]0;x\u{7}").unwrap_err();
        assert!(!reason.contains('\u{1b}'), "{reason}");
        assert!(reason.contains("\\u{1b}"), "{reason}");
        let reason = Zone::parse(&"A/".repeat(5000)).unwrap_err();
        assert!(reason.len() < 200, "{reason}");
    }

    #[test]
    fn window_outside_years_is_rejected() {
        for text in [
            "+262142-12-31T12:00..+262142-12-31T13:00",
            "2026-01-01..+262142-12-31",
            "2026-01-01T00:00..+10000-01-01T00:00",
        ] {
            let reason = Blackout::parse(text, &paris(), "x").unwrap_err();
            assert!(reason.contains("outside the years"), "{text}: {reason}");
        }
    }

    #[test]
    fn bundled_zones_cover_paris() {
        // Zones missing from the host's zoneinfo files come from this copy.
        let bundled = jiff::tz::TimeZoneDatabase::bundled();
        assert!(bundled.get("Europe/Paris").is_ok());
    }

    #[test]
    fn zone_rejects_unknown_names() {
        assert!(Zone::parse("Mars/Olympus").is_err());
        assert_eq!(paris().name(), "Europe/Paris");
    }

    #[test]
    fn zone_skips_daylight_saving_gap() {
        // Clocks in Paris jump from 02:00 to 03:00 on 2026-03-29.
        let instant = paris().to_instant(wall("2026-03-29T02:30"));
        assert_eq!(instant, utc("2026-03-29T01:00:00Z"));
    }

    #[test]
    fn hours_parse_ranges_and_lists() {
        let hours = BusinessHours::parse("Mon-Fri 09:00-17:00").unwrap();
        // 2026-03-02 is a Monday.
        assert!(hours.contains(wall("2026-03-02T09:00")));
        assert!(!hours.contains(wall("2026-03-02T17:00")));
        assert!(!hours.contains(wall("2026-03-07T10:00")));
        let list = BusinessHours::parse("sat,Sun 10:00-24:00").unwrap();
        assert!(list.contains(wall("2026-03-07T23:59")));
        assert!(!list.contains(wall("2026-03-06T12:00")));
    }

    #[test]
    fn hours_reject_bad_text() {
        assert!(BusinessHours::parse("Mon-Fri").is_err());
        assert!(BusinessHours::parse("Funday 09:00-17:00").is_err());
        assert!(BusinessHours::parse("Mon 17:00-09:00").is_err());
        assert!(BusinessHours::parse("Mon 09:00-25:00").is_err());
    }

    #[test]
    fn hours_find_next_start() {
        let hours = BusinessHours::parse("Mon-Fri 09:00-17:00").unwrap();
        // Friday evening opens on Monday morning.
        let next = hours.next_start(wall("2026-03-06T18:00"));
        assert_eq!(next, Some(wall("2026-03-09T09:00")));
        let early = hours.next_start(wall("2026-03-03T07:00"));
        assert_eq!(early, Some(wall("2026-03-03T09:00")));
    }

    #[test]
    fn annual_window_wraps_new_year() {
        let window = Blackout::parse("12-20..01-05", &paris(), "policy").unwrap();
        let end = window.end_if_active(utc("2027-01-02T12:00:00Z"));
        assert_eq!(end, Some(utc("2027-01-05T23:00:00Z")));
        assert!(window.end_if_active(utc("2026-12-19T22:59:00Z")).is_none());
        assert!(window.end_if_active(utc("2026-12-19T23:00:00Z")).is_some());
        assert!(window.end_if_active(utc("2026-06-01T00:00:00Z")).is_none());
    }

    #[test]
    fn once_window_reads_each_form() {
        let zone = paris();
        let wall_clock = Blackout::parse("2026-03-02T10:00..2026-03-02T12:00", &zone, "x").unwrap();
        assert!(
            wall_clock
                .end_if_active(utc("2026-03-02T09:00:00Z"))
                .is_some()
        );
        assert!(
            wall_clock
                .end_if_active(utc("2026-03-02T11:00:00Z"))
                .is_none()
        );
        let dates = Blackout::parse("2026-03-02..2026-03-02", &zone, "x").unwrap();
        let end = dates.end_if_active(utc("2026-03-02T20:00:00Z"));
        assert_eq!(end, Some(utc("2026-03-02T23:00:00Z")));
        let offsets =
            Blackout::parse("2026-03-02T10:00:00Z..2026-03-02T11:00:00Z", &zone, "x").unwrap();
        assert!(offsets.end_if_active(utc("2026-03-02T10:30:00Z")).is_some());
    }

    #[test]
    fn window_rejects_bad_text() {
        let zone = Zone::Local;
        assert!(Blackout::parse("tomorrow", &zone, "x").is_err());
        assert!(Blackout::parse("2026-03-02..2026-03-01", &zone, "x").is_err());
        assert!(Blackout::parse("13-01..01-05", &zone, "x").is_err());
    }

    #[test]
    fn window_rejects_impossible_days() {
        let zone = Zone::utc();
        let reason = Blackout::parse("02-31..03-05", &zone, "x").unwrap_err();
        assert!(reason.contains("month 2 has at most 29 days"), "{reason}");
        let reason = Blackout::parse("12-24..04-31", &zone, "x").unwrap_err();
        assert!(reason.contains("`04-31`"), "{reason}");
        let reason = Blackout::parse("13-01..01-05", &zone, "x").unwrap_err();
        assert!(reason.contains("months run from 01 to 12"), "{reason}");
        let reason = Blackout::parse("05-00..05-03", &zone, "x").unwrap_err();
        assert!(reason.contains("days start at 01"), "{reason}");
        assert!(Blackout::parse("02-29..03-01", &zone, "x").is_ok());
    }

    #[test]
    fn window_rejects_impossible_dates() {
        let zone = Zone::utc();
        let reason = Blackout::parse("2026-02-29..2026-03-01", &zone, "x").unwrap_err();
        assert!(reason.contains("month 2 of 2026 has 28 days"), "{reason}");
        let reason = Blackout::parse("2026-04-31T10:00..2026-05-01", &zone, "x").unwrap_err();
        assert!(reason.contains("month 4 of 2026 has 30 days"), "{reason}");
        let reason = Blackout::parse("2026-13-01..2026-13-02", &zone, "x").unwrap_err();
        assert!(reason.contains("months run from 01 to 12"), "{reason}");
        let reason = Blackout::parse("10000-01-01..10000-01-02", &zone, "x").unwrap_err();
        assert!(reason.contains("outside the years"), "{reason}");
        assert!(Blackout::parse("2028-02-29..2028-03-01", &zone, "x").is_ok());
    }

    #[test]
    fn window_rejects_mixed_and_empty_forms() {
        let zone = Zone::utc();
        let reason = Blackout::parse("03-01..2026-03-05", &zone, "x").unwrap_err();
        assert!(reason.contains("joins a day of every year"), "{reason}");
        let reason = Blackout::parse("03-01..03-05..04-01", &zone, "x").unwrap_err();
        assert!(reason.contains("`03-05..04-01`"), "{reason}");
        let reason = Blackout::parse("2026-03-02T10:00..2026-03-02T10:00", &zone, "x").unwrap_err();
        assert!(reason.contains("empty"), "{reason}");
        assert!(Blackout::parse("+1-+1..12-31", &zone, "x").is_err());
    }

    #[test]
    fn messages_escape_control_characters() {
        let zone = Zone::utc();
        let reason = Blackout::parse("\u{1b}]0;x\u{7}..03-05", &zone, "x").unwrap_err();
        assert!(!reason.contains('\u{1b}'), "{reason}");
        let long = format!("{}..03-05", "x".repeat(200_000));
        let reason = Blackout::parse(&long, &zone, "x").unwrap_err();
        assert!(reason.len() < 300, "{} characters", reason.len());
        let reason = BusinessHours::parse("Mon-Fri \u{1b}[2J").unwrap_err();
        assert!(!reason.contains('\u{1b}'), "{reason}");
    }

    #[test]
    fn business_hours_reject_odd_input() {
        // A name whose first three bytes end inside a multi-byte character.
        assert!(BusinessHours::parse("a\u{20ac}-Fri 09:00-17:00").is_err());
        assert!(BusinessHours::parse("Mon-Fri 99999999:00-17:00").is_err());
        assert!(BusinessHours::parse("Mon-Fri +9:00-17:00").is_err());
        assert!(BusinessHours::parse("Mon-Fri 09:00-24:00").is_ok());
    }

    #[test]
    fn window_in_dst_gap_is_reported() {
        // Clocks in Paris skip 02:00 to 03:00 on 2026-03-29.
        let reason =
            Blackout::parse("2026-03-29T02:10..2026-03-29T02:50", &paris(), "x").unwrap_err();
        assert!(reason.contains("daylight-saving"), "{reason}");
        let reason =
            Blackout::parse("2026-03-29T04:00..2026-03-29T02:50", &paris(), "x").unwrap_err();
        assert!(reason.contains("ends before it starts"), "{reason}");
    }
}
