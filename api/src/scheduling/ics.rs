//! Busy time from iCalendar (RFC 5545) feeds.
//!
//! [`busy_blocks`] reads the text of a calendar feed (for example a shared Google, Outlook or
//! iCloud calendar) and returns the periods in a time window during which its owner is busy.
//!
//! It is written for real-world feeds rather than for the letter of the RFC:
//!
//! * Content lines are read by a small tolerant reader: a BOM, CRLF or LF line endings, folded
//!   lines, quoted parameter values and lowercase names are accepted; a line that cannot be read
//!   is skipped; a component that is never closed (a truncated download) is dropped while the
//!   complete components before it are kept.
//! * `VEVENT`s give busy time unless they are cancelled, transparent (free) or have no length.
//!   Recurrences (`RRULE`, `RDATE`, `EXDATE`, `RECURRENCE-ID` overrides) are expanded in the
//!   event's local wall time, so that a weekly 08:15 meeting stays at 08:15 across DST changes.
//!   `RRULE`s are expanded by the [`rrule`] crate.
//! * `VFREEBUSY` components give their busy `FREEBUSY` periods.
//! * Time zones: an IANA `TZID` is used as is; common Windows zone names (Outlook, Exchange)
//!   and prefixed names such as `/mozilla.org/20050126_1/Europe/Stockholm` are mapped to IANA
//!   zones; other names are looked up in the feed's own `VTIMEZONE` definitions; anything else,
//!   floating times and all-day dates use the caller's default zone.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;

use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;
use rrule::{Frequency, RRule, Unvalidated};

/// The most blocks [`busy_blocks`] returns; when a feed has more in the window, the earliest
/// ones are kept and expansion stops there.
pub const MAX_BLOCKS: usize = 20_000;

/// One busy period taken from a feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusyBlock {
    /// Start of the busy period (inclusive).
    pub start: DateTime<Utc>,
    /// End of the busy period (exclusive); always after `start`.
    pub end: DateTime<Utc>,
}

/// Why a text could not be read as an iCalendar feed: a readable one-line reason such as
/// `not an iCalendar feed (no BEGIN:VCALENDAR)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IcsError(pub String);

impl fmt::Display for IcsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for IcsError {}

/// Parses `text` and returns every busy period that overlaps `[from, to)`, sorted by start, not
/// merged and not clipped to the window.
///
/// `default_zone` is used for floating times (no TZID, no Z), for unknown TZIDs and for all-day
/// events (DATE values: busy from local midnight of the first day to local midnight after the
/// last day, DST-correct).
///
/// At most [`MAX_BLOCKS`] blocks are returned (the earliest ones). Malformed events are skipped.
///
/// # Errors
///
/// Returns an [`IcsError`] when `text` is not an iCalendar feed at all (empty, an HTML page,
/// no `BEGIN:VCALENDAR`).
pub fn busy_blocks(
    text: &str,
    default_zone: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<BusyBlock>, IcsError> {
    let lines = unfold(text);
    let roots = read_components(&lines);
    let calendars: Vec<&Component<'_>> = roots.iter().filter(|c| c.is("VCALENDAR")).collect();
    if calendars.is_empty() {
        return Err(not_a_feed(text));
    }
    let mut out = Collector::new(from, to);
    for calendar in calendars {
        Feed::new(calendar, default_zone).collect(calendar, &mut out);
    }
    Ok(out.finish())
}

fn not_a_feed(text: &str) -> IcsError {
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let why = if text.is_empty() {
        "empty text"
    } else if text.starts_with('<') {
        "looks like an HTML or XML page, no BEGIN:VCALENDAR"
    } else {
        "no BEGIN:VCALENDAR"
    };
    IcsError(format!("not an iCalendar feed ({why})"))
}

// ---------------------------------------------------------------------------------------------
// Content lines and components
// ---------------------------------------------------------------------------------------------

/// Splits the text into logical content lines: strips a BOM, accepts CRLF and LF, and joins
/// folded lines (a line break followed by a space or tab).
fn unfold(text: &str) -> Vec<Cow<'_, str>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines: Vec<Cow<'_, str>> = Vec::new();
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match (raw.strip_prefix([' ', '\t']), lines.last_mut()) {
            (Some(continued), Some(last)) => last.to_mut().push_str(continued),
            _ if raw.trim().is_empty() => {}
            _ => lines.push(Cow::Borrowed(raw)),
        }
    }
    lines
}

/// One content line: `NAME;PARAM=value;...:value`.
struct ContentLine<'a> {
    name: &'a str,
    params: Vec<(&'a str, &'a str)>,
    value: &'a str,
}

impl<'a> ContentLine<'a> {
    /// Reads a line; `None` when it is not a content line (no name, no `:`).
    fn parse(line: &'a str) -> Option<Self> {
        let name_end = line.find([';', ':'])?;
        let name = line[..name_end].trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return None;
        }
        let mut rest = &line[name_end..];
        let mut params = Vec::new();
        while let Some(param) = rest.strip_prefix(';') {
            let key_end = param.find(['=', ';', ':'])?;
            let (value, after) = match param[key_end..].strip_prefix('=') {
                Some(value) => value.split_at(param_value_len(value)?),
                None => ("", &param[key_end..]),
            };
            params.push((param[..key_end].trim(), value.trim().trim_matches('"')));
            rest = after;
        }
        let value = rest.strip_prefix(':')?;
        Some(Self {
            name,
            params,
            value,
        })
    }

    /// The value of parameter `name` (quotes removed), if present.
    fn param(&self, name: &str) -> Option<&'a str> {
        self.params
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| *value)
    }

    /// The `TZID` parameter.
    fn tzid(&self) -> Option<&'a str> {
        self.param("TZID")
    }
}

/// Length of a parameter value: up to the first `;` or `:` outside double quotes.
fn param_value_len(text: &str) -> Option<usize> {
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' | ':' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// A `BEGIN:NAME` … `END:NAME` block with its properties and sub-components.
struct Component<'a> {
    name: &'a str,
    props: Vec<ContentLine<'a>>,
    children: Vec<Component<'a>>,
    /// Whether the matching `END` line was seen.
    complete: bool,
}

impl<'a> Component<'a> {
    fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    fn props<'s>(&'s self, name: &str) -> impl Iterator<Item = &'s ContentLine<'a>> {
        self.props
            .iter()
            .filter(move |p| p.name.eq_ignore_ascii_case(name))
    }

    fn prop(&self, name: &str) -> Option<&ContentLine<'a>> {
        self.props(name).next()
    }

    fn value(&self, name: &str) -> Option<&'a str> {
        self.prop(name).map(|p| p.value.trim())
    }

    /// Complete sub-components called `name`.
    fn complete_children<'s>(&'s self, name: &str) -> impl Iterator<Item = &'s Component<'a>> {
        self.children
            .iter()
            .filter(move |c| c.complete && c.is(name))
    }
}

/// Builds the component tree. Unreadable lines are skipped; an `END` closes the innermost
/// component of that name (components left open inside it are kept but marked incomplete), and
/// components still open at the end of the text are marked incomplete.
fn read_components<'a>(lines: &'a [Cow<'a, str>]) -> Vec<Component<'a>> {
    let mut roots = Vec::new();
    let mut open: Vec<Component<'a>> = Vec::new();
    let mut close = |open: &mut Vec<Component<'a>>, complete: bool| {
        if let Some(mut done) = open.pop() {
            done.complete = complete;
            match open.last_mut() {
                Some(parent) => parent.children.push(done),
                None => roots.push(done),
            }
        }
    };
    for line in lines.iter().filter_map(|l| ContentLine::parse(l)) {
        let value = line.value.trim();
        if line.name.eq_ignore_ascii_case("BEGIN") {
            open.push(Component {
                name: value,
                props: Vec::new(),
                children: Vec::new(),
                complete: false,
            });
        } else if line.name.eq_ignore_ascii_case("END") {
            if let Some(pos) = open.iter().rposition(|c| c.is(value)) {
                while open.len() > pos + 1 {
                    close(&mut open, false);
                }
                close(&mut open, true);
            }
        } else if let Some(current) = open.last_mut() {
            current.props.push(line);
        }
    }
    while !open.is_empty() {
        close(&mut open, false);
    }
    roots
}

// ---------------------------------------------------------------------------------------------
// Values: dates, times, durations, offsets
// ---------------------------------------------------------------------------------------------

/// A DATE or DATE-TIME value before its time zone is applied.
#[derive(Clone, Copy)]
enum Stamp {
    Date(NaiveDate),
    Floating(NaiveDateTime),
    Utc(NaiveDateTime),
}

impl Stamp {
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Some(date) = parse_date(text) {
            return Some(Self::Date(date));
        }
        let (body, utc) = match text.strip_suffix(['Z', 'z']) {
            Some(body) => (body, true),
            None => (text, false),
        };
        let (date, time) = body.split_once(['T', 't'])?;
        let time = parse_time(time)?;
        let at = parse_date(date)?.and_time(time);
        Some(if utc {
            Self::Utc(at)
        } else {
            Self::Floating(at)
        })
    }
}

fn all_digits(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_digit())
}

/// `YYYYMMDD`.
fn parse_date(text: &str) -> Option<NaiveDate> {
    if !all_digits(text, 8) {
        return None;
    }
    NaiveDate::from_ymd_opt(
        text[..4].parse().ok()?,
        text[4..6].parse().ok()?,
        text[6..].parse().ok()?,
    )
}

/// `HHMMSS` (a leap second is read as :59); `HHMM` is tolerated.
fn parse_time(text: &str) -> Option<NaiveTime> {
    let seconds = match text.len() {
        4 if all_digits(text, 4) => 0,
        6 if all_digits(text, 6) => text[4..].parse::<u32>().ok()?.min(59),
        _ => return None,
    };
    NaiveTime::from_hms_opt(text[..2].parse().ok()?, text[2..4].parse().ok()?, seconds)
}

/// A UTC offset such as `+0100`, `-0500` or `+013045`, in seconds.
fn parse_offset(text: &str) -> Option<i32> {
    let text = text.trim();
    let (sign, digits) = match text.split_at_checked(1)? {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return None,
    };
    if !(all_digits(digits, 4) || all_digits(digits, 6)) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..4].parse().ok()?;
    let seconds: i32 = digits
        .get(4..)
        .filter(|s| !s.is_empty())
        .map_or(Ok(0), str::parse)
        .ok()?;
    Some(sign * (hours * 3600 + minutes * 60 + seconds))
}

/// How long an event lasts: `days` are nominal (local calendar days, so 23 or 25 hours across a
/// DST change), `seconds` are exact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Span {
    days: i64,
    seconds: i64,
}

impl Span {
    /// An RFC 5545 DURATION such as `PT1H30M`, `P1D`, `P2W` or `P1DT12H`.
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (sign, text) = match text.strip_prefix('-') {
            Some(rest) => (-1, rest),
            None => (1, text.strip_prefix('+').unwrap_or(text)),
        };
        let body = text.strip_prefix(['P', 'p'])?;
        let mut span = Self::default();
        let (mut number, mut digits, mut in_time, mut any) = (0i64, false, false, false);
        for c in body.chars().map(|c| c.to_ascii_uppercase()) {
            if let Some(d) = c.to_digit(10) {
                number = number.checked_mul(10)?.checked_add(i64::from(d))?;
                digits = true;
                continue;
            }
            if c == 'T' && !digits {
                in_time = true;
                continue;
            }
            let (days, seconds) = match (c, in_time) {
                ('W', false) => (7, 0),
                ('D', false) => (1, 0),
                ('H', true) => (0, 3600),
                ('M', true) => (0, 60),
                ('S', true) => (0, 1),
                _ => return None,
            };
            if !digits {
                return None;
            }
            span.days = span.days.checked_add(number.checked_mul(days)?)?;
            span.seconds = span.seconds.checked_add(number.checked_mul(seconds)?)?;
            (number, digits, any) = (0, false, true);
        }
        (any && !digits).then_some(Self {
            days: sign * span.days,
            seconds: sign * span.seconds,
        })
    }

    /// The span from DTSTART to DTEND: calendar days for all-day events (at least one), exact
    /// time otherwise.
    fn between(start: Moment<'_>, end: Moment<'_>) -> Self {
        if start.all_day {
            let days = (end.local.date() - start.local.date()).num_days();
            Self {
                days: days.max(1),
                seconds: 0,
            }
        } else {
            Self {
                days: 0,
                seconds: (end.utc() - start.utc()).num_seconds(),
            }
        }
    }

    /// Whether the event takes no time (or negative time).
    fn is_empty(self) -> bool {
        self.days <= 0 && self.seconds <= 0
    }

    /// Rough length in whole days, rounded up.
    fn whole_days(self) -> i64 {
        self.days
            .saturating_add(self.seconds.div_euclid(86_400))
            .saturating_add(1)
    }

    /// End of an occurrence that starts at `local` wall time in `zone` (= `start` in UTC).
    fn end(
        self,
        zone: Zone<'_>,
        local: NaiveDateTime,
        start: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let base = if self.days == 0 {
            start
        } else {
            zone.to_utc(local.checked_add_signed(TimeDelta::try_days(self.days)?)?)
        };
        base.checked_add_signed(TimeDelta::try_seconds(self.seconds)?)
    }
}

// ---------------------------------------------------------------------------------------------
// Time zones
// ---------------------------------------------------------------------------------------------

/// Windows time zone names (as used by Outlook and Exchange) and their IANA equivalents,
/// following the CLDR `windowsZones` table.
const WINDOWS_ZONES: &[(&str, Tz)] = &[
    ("UTC", Tz::UTC),
    ("Coordinated Universal Time", Tz::UTC),
    ("tzone://Microsoft/Utc", Tz::UTC),
    ("W. Europe Standard Time", Tz::Europe__Berlin),
    ("Central Europe Standard Time", Tz::Europe__Budapest),
    ("Central European Standard Time", Tz::Europe__Warsaw),
    ("Romance Standard Time", Tz::Europe__Paris),
    ("GMT Standard Time", Tz::Europe__London),
    ("Greenwich Standard Time", Tz::Atlantic__Reykjavik),
    ("FLE Standard Time", Tz::Europe__Kyiv),
    ("GTB Standard Time", Tz::Europe__Bucharest),
    ("E. Europe Standard Time", Tz::Europe__Chisinau),
    ("Russian Standard Time", Tz::Europe__Moscow),
    ("Turkey Standard Time", Tz::Europe__Istanbul),
    ("Israel Standard Time", Tz::Asia__Jerusalem),
    ("South Africa Standard Time", Tz::Africa__Johannesburg),
    ("Arabian Standard Time", Tz::Asia__Dubai),
    ("India Standard Time", Tz::Asia__Kolkata),
    ("China Standard Time", Tz::Asia__Shanghai),
    ("Singapore Standard Time", Tz::Asia__Singapore),
    ("Tokyo Standard Time", Tz::Asia__Tokyo),
    ("Korea Standard Time", Tz::Asia__Seoul),
    ("AUS Eastern Standard Time", Tz::Australia__Sydney),
    ("New Zealand Standard Time", Tz::Pacific__Auckland),
    ("Eastern Standard Time", Tz::America__New_York),
    ("Central Standard Time", Tz::America__Chicago),
    ("Mountain Standard Time", Tz::America__Denver),
    ("US Mountain Standard Time", Tz::America__Phoenix),
    ("Pacific Standard Time", Tz::America__Los_Angeles),
    ("Alaskan Standard Time", Tz::America__Anchorage),
    ("Hawaiian Standard Time", Tz::Pacific__Honolulu),
    ("Atlantic Standard Time", Tz::America__Halifax),
    ("Canada Central Standard Time", Tz::America__Regina),
    ("SA Pacific Standard Time", Tz::America__Bogota),
    ("E. South America Standard Time", Tz::America__Sao_Paulo),
];

/// An IANA zone for a TZID: an IANA name, a Windows name, or an IANA name behind a prefix
/// (`/mozilla.org/20050126_1/Europe/Stockholm`).
fn iana_zone(name: &str) -> Option<Tz> {
    if let Ok(tz) = name.parse::<Tz>() {
        return Some(tz);
    }
    if let Some((_, tz)) = WINDOWS_ZONES
        .iter()
        .find(|(windows, _)| windows.eq_ignore_ascii_case(name))
    {
        return Some(*tz);
    }
    name.match_indices('/')
        .find_map(|(i, _)| name[i + 1..].parse::<Tz>().ok())
}

/// Normal form of a TZID for lookups: without surrounding quotes, blanks and TEXT escapes.
fn clean_tzid(tzid: &str) -> Cow<'_, str> {
    let tzid = tzid.trim().trim_matches('"').trim();
    if tzid.contains('\\') {
        Cow::Owned(tzid.replace('\\', ""))
    } else {
        Cow::Borrowed(tzid)
    }
}

/// The time zone a wall-clock time is read in.
#[derive(Clone, Copy)]
enum Zone<'f> {
    Iana(Tz),
    /// A fixed offset from UTC, in seconds.
    Fixed(i32),
    /// A zone defined by a `VTIMEZONE` in the feed.
    Custom(&'f CustomZone),
}

impl Zone<'_> {
    /// The instant of a wall-clock time. An ambiguous time (DST end) is the first of the two;
    /// a time in a DST gap is read with the offset before the gap (RFC 5545 §3.3.5).
    fn to_utc(self, local: NaiveDateTime) -> DateTime<Utc> {
        let offset = match self {
            Zone::Iana(tz) => {
                if let Some(at) = tz.from_local_datetime(&local).earliest() {
                    return at.to_utc();
                }
                let before = local
                    .checked_sub_signed(TimeDelta::days(1))
                    .unwrap_or(local);
                tz.offset_from_utc_datetime(&before).fix().local_minus_utc()
            }
            Zone::Fixed(offset) => offset,
            Zone::Custom(zone) => zone.offset_for_local(local),
        };
        Utc.from_utc_datetime(&shift_seconds(local, -i64::from(offset)))
    }

    /// The wall-clock time of an instant.
    fn to_local(self, at: DateTime<Utc>) -> NaiveDateTime {
        let at = at.naive_utc();
        let offset = match self {
            Zone::Iana(tz) => tz.offset_from_utc_datetime(&at).fix().local_minus_utc(),
            Zone::Fixed(offset) => offset,
            Zone::Custom(zone) => zone.offset_at(at),
        };
        shift_seconds(at, i64::from(offset))
    }
}

/// `at` moved by `seconds`, or `at` itself at the edge of the representable range.
fn shift_seconds(at: NaiveDateTime, seconds: i64) -> NaiveDateTime {
    TimeDelta::try_seconds(seconds)
        .and_then(|delta| at.checked_add_signed(delta))
        .unwrap_or(at)
}

/// One `STANDARD` or `DAYLIGHT` part of a `VTIMEZONE`.
struct Observance {
    /// First onset, in the wall time of `offset_from`.
    start: NaiveDateTime,
    offset_from: i32,
    offset_to: i32,
    rule: Option<Rule>,
    /// Further onsets (`RDATE`), in the wall time of `offset_from`.
    rdates: Vec<NaiveDateTime>,
}

impl Observance {
    fn parse(c: &Component<'_>) -> Option<Self> {
        let offset_to = parse_offset(c.value("TZOFFSETTO")?)?;
        Some(Self {
            start: stamp_wall_time(Stamp::parse(c.value("DTSTART")?)?),
            offset_from: c
                .value("TZOFFSETFROM")
                .and_then(parse_offset)
                .unwrap_or(offset_to),
            offset_to,
            rule: c.value("RRULE").and_then(Rule::parse),
            rdates: c
                .props("RDATE")
                .flat_map(|p| p.value.split(','))
                .filter_map(Stamp::parse)
                .map(stamp_wall_time)
                .collect(),
        })
    }

    /// The UTC instant of an onset given in this observance's "from" wall time.
    fn onset(&self, local: NaiveDateTime) -> (NaiveDateTime, i32) {
        (
            shift_seconds(local, -i64::from(self.offset_from)),
            self.offset_to,
        )
    }

    /// Onsets generated by the rule in wall-clock `year`, as (UTC instant, new offset).
    fn rule_onsets(&self, year: i32) -> Vec<(NaiveDateTime, i32)> {
        let (Some(rule), Some(year_start)) = (&self.rule, NaiveDate::from_ymd_opt(year, 1, 1))
        else {
            return Vec::new();
        };
        let until = rule.until_local(Zone::Fixed(self.offset_from), false);
        rule.occurrences(self.start, year_start.and_time(NaiveTime::MIN), until)
            .take_while(|at| at.year() <= year)
            .filter(|at| at.year() == year)
            .map(|at| self.onset(at))
            .collect()
    }
}

/// The wall-clock time of a value, ignoring any zone marker.
fn stamp_wall_time(stamp: Stamp) -> NaiveDateTime {
    match stamp {
        Stamp::Date(date) => date.and_time(NaiveTime::MIN),
        Stamp::Floating(at) | Stamp::Utc(at) => at,
    }
}

/// A time zone defined by a `VTIMEZONE` component.
struct CustomZone {
    observances: Vec<Observance>,
    /// Rule-generated onsets per wall-clock year, computed on demand.
    onsets_by_year: RefCell<HashMap<i32, Vec<(NaiveDateTime, i32)>>>,
}

impl CustomZone {
    fn parse(c: &Component<'_>) -> Option<Self> {
        let observances: Vec<Observance> = c
            .children
            .iter()
            .filter(|o| o.complete && (o.is("STANDARD") || o.is("DAYLIGHT")))
            .filter_map(Observance::parse)
            .collect();
        (!observances.is_empty()).then(|| Self {
            observances,
            onsets_by_year: RefCell::default(),
        })
    }

    /// The UTC offset (seconds) in force at the UTC instant `at`: that of the latest onset at or
    /// before it, or before any onset the offset the earliest observance starts from.
    fn offset_at(&self, at: NaiveDateTime) -> i32 {
        let mut latest: Option<(NaiveDateTime, i32)> = None;
        let mut consider = |(onset, offset): (NaiveDateTime, i32)| {
            if onset <= at && latest.is_none_or(|(best, _)| onset > best) {
                latest = Some((onset, offset));
            }
        };
        for observance in &self.observances {
            std::iter::once(&observance.start)
                .chain(&observance.rdates)
                .for_each(|&local| consider(observance.onset(local)));
        }
        let mut cache = self.onsets_by_year.borrow_mut();
        for year in [at.year() - 1, at.year()] {
            let onsets = cache.entry(year).or_insert_with(|| {
                self.observances
                    .iter()
                    .flat_map(|o| o.rule_onsets(year))
                    .collect()
            });
            onsets.iter().copied().for_each(&mut consider);
        }
        latest.map_or_else(
            || {
                self.observances
                    .iter()
                    .min_by_key(|o| o.start)
                    .map_or(0, |o| o.offset_from)
            },
            |(_, offset)| offset,
        )
    }

    /// The UTC offset (seconds) for a wall-clock time (approximate inside DST gaps and overlaps).
    fn offset_for_local(&self, local: NaiveDateTime) -> i32 {
        let guess = self.offset_at(local);
        self.offset_at(shift_seconds(local, -i64::from(guess)))
    }
}

// ---------------------------------------------------------------------------------------------
// Recurrence rules
// ---------------------------------------------------------------------------------------------

/// Rule parts the `rrule` crate understands; others (X- parts) are dropped.
const RULE_PARTS: &[&str] = &[
    "FREQ",
    "COUNT",
    "INTERVAL",
    "BYSECOND",
    "BYMINUTE",
    "BYHOUR",
    "BYDAY",
    "BYMONTHDAY",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYMONTH",
    "BYSETPOS",
    "WKST",
];

/// A parsed `RRULE`. Expansion happens in naive wall-clock time (carried by the `rrule` crate
/// as UTC), so that occurrences keep their local time across DST changes.
struct Rule {
    rule: RRule<Unvalidated>,
    until: Option<Stamp>,
}

impl Rule {
    fn parse(value: &str) -> Option<Self> {
        let mut until = None;
        let mut parts = Vec::new();
        for part in value.split(';') {
            let Some((key, val)) = part.split_once('=') else {
                continue;
            };
            let key = key.trim().to_ascii_uppercase();
            if key == "UNTIL" {
                until = Some(Stamp::parse(val)?);
            } else if RULE_PARTS.contains(&key.as_str()) {
                parts.push(format!("{key}={}", val.trim().to_ascii_uppercase()));
            }
        }
        let rule = parts.join(";").parse().ok()?;
        Some(Self { rule, until })
    }

    /// `UNTIL` as a wall-clock time in `zone`; a DATE includes the whole day for timed events.
    fn until_local(&self, zone: Zone<'_>, all_day: bool) -> Option<NaiveDateTime> {
        Some(match self.until? {
            Stamp::Utc(at) => zone.to_local(Utc.from_utc_datetime(&at)),
            Stamp::Floating(at) => at,
            Stamp::Date(date) if all_day => date.and_time(NaiveTime::MIN),
            Stamp::Date(date) => date.and_hms_opt(23, 59, 59)?,
        })
    }

    /// Occurrence starts (wall-clock, ascending) of a series whose first start is `start`. Whole
    /// periods before `not_before` may be skipped; starts before `not_before` may still appear.
    fn occurrences(
        &self,
        start: NaiveDateTime,
        not_before: NaiveDateTime,
        until: Option<NaiveDateTime>,
    ) -> impl Iterator<Item = NaiveDateTime> + use<> {
        let carrier = |at: NaiveDateTime| rrule::Tz::UTC.from_utc_datetime(&at);
        let mut rule = self.rule.clone();
        if let Some(until) = until {
            rule = rule.until(carrier(until));
        }
        let set = rule.build(carrier(self.skip_ahead(start, not_before))).ok();
        set.into_iter()
            .flat_map(|set| {
                let set = set.limit();
                (&set).into_iter()
            })
            .map(|at| at.naive_utc())
    }

    /// A later series start that generates the same occurrences from there on: `start` moved by
    /// whole rule periods to shortly before `target`, when that is safe (no COUNT, and no
    /// BYWEEKNO for month and year steps).
    fn skip_ahead(&self, start: NaiveDateTime, target: NaiveDateTime) -> NaiveDateTime {
        let interval = i64::from(self.rule.get_interval().max(1));
        if self.rule.get_count().is_some() || target <= start {
            return start;
        }
        let unit = match self.rule.get_freq() {
            Frequency::Secondly => 1,
            Frequency::Minutely => 60,
            Frequency::Hourly => 3_600,
            Frequency::Daily => 86_400,
            Frequency::Weekly => 604_800,
            Frequency::Monthly | Frequency::Yearly if !self.rule.get_by_week_no().is_empty() => {
                return start;
            }
            Frequency::Monthly => return skip_years(start, target, interval / gcd(interval, 12)),
            Frequency::Yearly => return skip_years(start, target, interval),
        };
        let step = unit * interval;
        let periods = (target - start).num_seconds() / step;
        shift_seconds(start, periods.saturating_mul(step))
    }
}

/// `start` moved by a multiple of `step` years to the year before `target` or earlier.
fn skip_years(start: NaiveDateTime, target: NaiveDateTime, step: i64) -> NaiveDateTime {
    let years = i64::from(target.year()) - i64::from(start.year()) - 1;
    i32::try_from(years / step * step)
        .ok()
        .filter(|years| *years > 0)
        .and_then(|years| start.with_year(start.year() + years))
        .unwrap_or(start)
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

// ---------------------------------------------------------------------------------------------
// Events and feeds
// ---------------------------------------------------------------------------------------------

/// A date or time read in its zone.
#[derive(Clone, Copy)]
struct Moment<'f> {
    local: NaiveDateTime,
    zone: Zone<'f>,
    all_day: bool,
}

impl Moment<'_> {
    fn utc(self) -> DateTime<Utc> {
        self.zone.to_utc(self.local)
    }
}

/// An extra occurrence from `RDATE`: a start, or a whole period.
enum ExtraDate {
    Start(NaiveDateTime),
    Period(DateTime<Utc>, DateTime<Utc>),
}

/// A `VEVENT`, with its recurrence data.
struct Event<'a, 'f> {
    uid: Option<&'a str>,
    start: Moment<'f>,
    span: Span,
    /// Not cancelled, not transparent, not empty.
    busy: bool,
    /// For an override of one occurrence: the original start of that occurrence.
    recurrence_id: Option<DateTime<Utc>>,
    rules: Vec<Rule>,
    rdates: Vec<ExtraDate>,
    exdates: HashSet<DateTime<Utc>>,
    /// Whole days excluded (DATE-valued `EXDATE`s and all `EXDATE`s of all-day events).
    exdays: HashSet<NaiveDate>,
}

/// One calendar's time zones and reading context.
struct Feed<'a> {
    default_zone: Tz,
    zones: HashMap<Cow<'a, str>, CustomZone>,
}

impl<'a> Feed<'a> {
    fn new(calendar: &Component<'a>, default_zone: Tz) -> Self {
        let zones = calendar
            .complete_children("VTIMEZONE")
            .filter_map(|c| Some((clean_tzid(c.value("TZID")?), CustomZone::parse(c)?)))
            .collect();
        Self {
            default_zone,
            zones,
        }
    }

    /// The zone for a TZID parameter (see the module documentation for the order of lookups).
    fn zone(&self, tzid: Option<&str>) -> Zone<'_> {
        let Some(name) = tzid.map(clean_tzid) else {
            return Zone::Iana(self.default_zone);
        };
        iana_zone(&name)
            .map(Zone::Iana)
            .or_else(|| self.zones.get(name.as_ref()).map(Zone::Custom))
            .unwrap_or(Zone::Iana(self.default_zone))
    }

    /// Reads a DATE or DATE-TIME value; DATE values are days in the default zone.
    fn moment(&self, text: &str, tzid: Option<&str>) -> Option<Moment<'_>> {
        let (local, zone, all_day) = match Stamp::parse(text)? {
            Stamp::Date(date) => (date.and_time(NaiveTime::MIN), self.zone(None), true),
            Stamp::Utc(at) => (at, Zone::Fixed(0), false),
            Stamp::Floating(at) => (at, self.zone(tzid), false),
        };
        Some(Moment {
            local,
            zone,
            all_day,
        })
    }

    fn moment_of(&self, line: &ContentLine<'_>) -> Option<Moment<'_>> {
        self.moment(line.value, line.tzid())
    }

    /// A PERIOD value: `start/end` or `start/duration`.
    fn period(&self, text: &str, tzid: Option<&str>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let (start, end) = text.split_once('/')?;
        let start = self.moment(start, tzid)?;
        let start_utc = start.utc();
        let end = match Span::parse(end) {
            Some(span) => span.end(start.zone, start.local, start_utc)?,
            None => self.moment(end, tzid)?.utc(),
        };
        Some((start_utc, end))
    }

    /// Adds the calendar's busy blocks to `out`.
    fn collect(&self, calendar: &Component<'a>, out: &mut Collector) {
        let events: Vec<Event<'a, '_>> = calendar
            .complete_children("VEVENT")
            .filter_map(|c| self.event(c))
            .collect();
        let overridden: HashSet<(&str, DateTime<Utc>)> = events
            .iter()
            .filter_map(|e| Some((e.uid?, e.recurrence_id?)))
            .collect();
        for event in events.iter().filter(|e| e.busy) {
            expand(event, &overridden, out);
        }
        for freebusy in calendar.complete_children("VFREEBUSY") {
            for line in freebusy.props("FREEBUSY") {
                if line
                    .param("FBTYPE")
                    .is_some_and(|t| t.eq_ignore_ascii_case("FREE"))
                {
                    continue;
                }
                for (start, end) in line
                    .value
                    .split(',')
                    .filter_map(|p| self.period(p, line.tzid()))
                {
                    out.push(start, end);
                }
            }
        }
    }

    /// Reads a `VEVENT`; `None` when it has no readable start or a malformed end.
    fn event(&self, c: &Component<'a>) -> Option<Event<'a, '_>> {
        let start = self.moment_of(c.prop("DTSTART")?)?;
        let span = match (c.prop("DTEND"), c.value("DURATION")) {
            (Some(end), _) => Span::between(start, self.moment_of(end)?),
            (None, Some(duration)) => Span::parse(duration)?,
            (None, None) => Span {
                days: i64::from(start.all_day),
                seconds: 0,
            },
        };
        let is =
            |name: &str, value: &str| c.value(name).is_some_and(|v| v.eq_ignore_ascii_case(value));
        let mut event = Event {
            uid: c.value("UID"),
            start,
            span,
            busy: !is("STATUS", "CANCELLED") && !is("TRANSP", "TRANSPARENT") && !span.is_empty(),
            recurrence_id: c
                .prop("RECURRENCE-ID")
                .and_then(|p| self.moment_of(p))
                .map(Moment::utc),
            rules: c
                .props("RRULE")
                .filter_map(|p| Rule::parse(p.value))
                .collect(),
            rdates: Vec::new(),
            exdates: HashSet::new(),
            exdays: HashSet::new(),
        };
        for line in c.props("RDATE") {
            for value in line.value.split(',') {
                if let Some((from, to)) = self.period(value, line.tzid()) {
                    event.rdates.push(ExtraDate::Period(from, to));
                } else if let Some(at) = self.moment(value, line.tzid()) {
                    event
                        .rdates
                        .push(ExtraDate::Start(start.zone.to_local(at.utc())));
                }
            }
        }
        for line in c.props("EXDATE") {
            for at in line
                .value
                .split(',')
                .filter_map(|v| self.moment(v, line.tzid()))
            {
                if at.all_day {
                    event.exdays.insert(at.local.date());
                } else if start.all_day {
                    event.exdays.insert(start.zone.to_local(at.utc()).date());
                } else {
                    event.exdates.insert(at.utc());
                }
            }
        }
        Some(event)
    }
}

/// Adds the busy blocks of one event (all its occurrences in the window) to `out`.
fn expand(event: &Event<'_, '_>, overridden: &HashSet<(&str, DateTime<Utc>)>, out: &mut Collector) {
    let zone = event.start.zone;
    let margin = TimeDelta::try_days(event.span.whole_days().saturating_add(1));
    let not_before = margin
        .and_then(|margin| zone.to_local(out.from).checked_sub_signed(margin))
        .unwrap_or(NaiveDateTime::MIN);
    let mut seen = HashSet::new();
    // Emits one occurrence; returns false once occurrences are past the horizon.
    let mut emit = |local: NaiveDateTime, end: Option<DateTime<Utc>>| -> bool {
        if local < not_before || !seen.insert(local) {
            return true;
        }
        let start = zone.to_utc(local);
        if start
            .checked_sub_signed(TimeDelta::days(1))
            .is_none_or(|s| s >= out.horizon)
        {
            return false;
        }
        let excluded = event.exdates.contains(&start)
            || event.exdays.contains(&local.date())
            || (event.recurrence_id.is_none()
                && event
                    .uid
                    .is_some_and(|uid| overridden.contains(&(uid, start))));
        if let Some(end) = end.or_else(|| event.span.end(zone, local, start))
            && !excluded
        {
            out.push(start, end);
        }
        true
    };
    emit(event.start.local, None);
    for rdate in &event.rdates {
        match *rdate {
            ExtraDate::Start(local) => emit(local, None),
            ExtraDate::Period(start, end) => emit(zone.to_local(start), Some(end)),
        };
    }
    for rule in &event.rules {
        let until = rule.until_local(zone, event.start.all_day);
        for local in rule.occurrences(event.start.local, not_before, until) {
            if !emit(local, None) {
                break;
            }
        }
    }
}

/// Gathers blocks that overlap the window, keeping at most [`MAX_BLOCKS`] earliest ones.
struct Collector {
    from: DateTime<Utc>,
    /// Blocks starting at or after this are not wanted: the window end, brought forward once
    /// [`MAX_BLOCKS`] earlier blocks are known.
    horizon: DateTime<Utc>,
    blocks: Vec<BusyBlock>,
}

impl Collector {
    fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        Self {
            from,
            horizon: to,
            blocks: Vec::new(),
        }
    }

    fn push(&mut self, start: DateTime<Utc>, end: DateTime<Utc>) {
        if start < end && start < self.horizon && end > self.from {
            self.blocks.push(BusyBlock { start, end });
            if self.blocks.len() >= 2 * MAX_BLOCKS {
                self.compact();
            }
        }
    }

    /// Sorts, keeps the earliest [`MAX_BLOCKS`] and moves the horizon to the last kept start.
    fn compact(&mut self) {
        self.blocks.sort_by_key(|b| (b.start, b.end));
        self.blocks.truncate(MAX_BLOCKS);
        if self.blocks.len() == MAX_BLOCKS
            && let Some(last) = self.blocks.last()
        {
            self.horizon = self.horizon.min(last.start);
        }
    }

    fn finish(mut self) -> Vec<BusyBlock> {
        self.compact();
        self.blocks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("test timestamp")
            .to_utc()
    }

    const STOCKHOLM: Tz = Tz::Europe__Stockholm;

    /// Wraps `body` in a VCALENDAR with CRLF line endings, like most servers send.
    fn calendar(body: &str) -> String {
        let body = body.trim().replace("\r\n", "\n").replace('\n', "\r\n");
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Test//EN\r\n{body}\r\nEND:VCALENDAR\r\n"
        )
    }

    /// Busy blocks of `text` in 2026 as RFC 3339 pairs, default zone Stockholm.
    fn busy_in(text: &str, from: &str, to: &str) -> Vec<(String, String)> {
        busy_blocks(text, STOCKHOLM, utc(from), utc(to))
            .expect("feed parses")
            .into_iter()
            .map(|b| (b.start.to_rfc3339(), b.end.to_rfc3339()))
            .collect()
    }

    fn busy_2026(text: &str) -> Vec<(String, String)> {
        busy_in(text, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z")
    }

    /// The starts of `blocks`, in `YYYY-MM-DDTHH:MM:SSZ` form.
    fn starts(blocks: &[(String, String)]) -> Vec<String> {
        blocks
            .iter()
            .map(|(start, _)| utc(start).format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .collect()
    }

    fn pair(start: &str, end: &str) -> (String, String) {
        (utc(start).to_rfc3339(), utc(end).to_rfc3339())
    }

    fn event(lines: &str) -> String {
        calendar(&format!(
            "BEGIN:VEVENT\nUID:test-event@example.com\nDTSTAMP:20260101T000000Z\n{}\nEND:VEVENT",
            lines.trim()
        ))
    }

    #[test]
    fn utc_tzid_and_floating_times() {
        let text = calendar(
            "BEGIN:VEVENT\nUID:a\nDTSTART:20260310T090000Z\nDTEND:20260310T100000Z\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:b\nDTSTART;TZID=Europe/Stockholm:20260710T090000\n\
             DTEND;TZID=Europe/Stockholm:20260710T103000\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:c\nDTSTART:20261110T090000\nDTEND:20261110T091500\nEND:VEVENT",
        );
        assert_eq!(
            busy_2026(&text),
            vec![
                pair("2026-03-10T09:00:00Z", "2026-03-10T10:00:00Z"),
                pair("2026-07-10T07:00:00Z", "2026-07-10T08:30:00Z"),
                pair("2026-11-10T08:00:00Z", "2026-11-10T08:15:00Z"),
            ]
        );
    }

    #[test]
    fn duration_or_missing_end() {
        let text = calendar(
            "BEGIN:VEVENT\nUID:a\nDTSTART:20260310T090000Z\nDURATION:PT1H30M\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:b\nDTSTART;TZID=Europe/Stockholm:20260328T120000\nDURATION:P1D\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:c\nDTSTART;VALUE=DATE:20260501\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:d\nDTSTART:20260601T090000Z\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:e\nDTSTART:20260602T090000Z\nDURATION:P1W\nEND:VEVENT",
        );
        assert_eq!(
            busy_2026(&text),
            vec![
                pair("2026-03-10T09:00:00Z", "2026-03-10T10:30:00Z"),
                // P1D is a calendar day: 12:00 to 12:00 local across the spring change (23 h).
                pair("2026-03-28T11:00:00Z", "2026-03-29T10:00:00Z"),
                pair("2026-04-30T22:00:00Z", "2026-05-01T22:00:00Z"),
                pair("2026-06-02T09:00:00Z", "2026-06-09T09:00:00Z"),
            ]
        );
    }

    #[test]
    fn duration_values() {
        let span = |days, seconds| Some(Span { days, seconds });
        assert_eq!(Span::parse("PT1H30M"), span(0, 5400));
        assert_eq!(Span::parse("P1DT2H3M4S"), span(1, 7384));
        assert_eq!(Span::parse("P2W"), span(14, 0));
        assert_eq!(Span::parse("-PT15M"), span(0, -900));
        assert_eq!(Span::parse("PT"), None);
        assert_eq!(Span::parse("P1H"), None);
        assert_eq!(Span::parse("20260101T000000Z"), None);
        assert_eq!(parse_offset("+0100"), Some(3600));
        assert_eq!(parse_offset("-0330"), Some(-12_600));
        assert_eq!(parse_offset("+013045"), Some(5445));
        assert_eq!(parse_offset("0100"), None);
    }

    #[test]
    fn windows_zone_names() {
        let text = event(
            "DTSTART;TZID=W. Europe Standard Time:20260115T100000\n\
             DTEND;TZID=\"W. Europe Standard Time\":20260115T110000\n\
             RRULE:FREQ=YEARLY;COUNT=2\n",
        );
        assert_eq!(
            busy_in(&text, "2026-01-01T00:00:00Z", "2028-01-01T00:00:00Z"),
            vec![
                pair("2026-01-15T09:00:00Z", "2026-01-15T10:00:00Z"),
                pair("2027-01-15T09:00:00Z", "2027-01-15T10:00:00Z"),
            ]
        );
        for (name, offset_in_july) in [
            ("Central Europe Standard Time", 2),
            ("Romance Standard Time", 2),
            ("GMT Standard Time", 1),
            ("FLE Standard Time", 3),
            ("UTC", 0),
            ("Eastern Standard Time", -4),
            ("Central Standard Time", -5),
            ("Pacific Standard Time", -7),
        ] {
            let text = event(&format!(
                "DTSTART;TZID={name}:20260701T120000\nDTEND;TZID={name}:20260701T130000"
            ));
            let start = utc("2026-07-01T12:00:00Z") - TimeDelta::hours(offset_in_july);
            let blocks = busy_blocks(
                &text,
                STOCKHOLM,
                utc("2026-01-01T00:00:00Z"),
                utc("2027-01-01T00:00:00Z"),
            )
            .expect("feed parses");
            assert_eq!(blocks.first().map(|b| b.start), Some(start), "{name}");
        }
    }

    /// Outlook style: a custom TZID defined by a VTIMEZONE with yearly rules.
    #[test]
    fn vtimezone_definitions() {
        let text = calendar(
            "BEGIN:VTIMEZONE\nTZID:(UTC+01:00) Amsterdam\\, Berlin\\, Bern\\, Rome\\, Stockholm\\, Vienna\n\
             BEGIN:STANDARD\nDTSTART:16010101T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\n\
             RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\nEND:STANDARD\n\
             BEGIN:DAYLIGHT\nDTSTART:16010101T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\n\
             RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\nEND:DAYLIGHT\nEND:VTIMEZONE\n\
             BEGIN:VTIMEZONE\nTZID:Customized Time Zone\nBEGIN:STANDARD\nDTSTART:16010101T000000\n\
             TZOFFSETFROM:+0530\nTZOFFSETTO:+0530\nEND:STANDARD\nEND:VTIMEZONE\n\
             BEGIN:VEVENT\nUID:w\n\
             DTSTART;TZID=\"(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna\":20260112T081500\n\
             DTEND;TZID=\"(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna\":20260112T090000\n\
             RRULE:FREQ=WEEKLY;BYDAY=MO\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:i\nDTSTART;TZID=Customized Time Zone:20260701T120000\n\
             DURATION:PT1H\nEND:VEVENT",
        );
        let at = |from: &str, to: &str| busy_in(&text, from, to);
        // Winter (+01:00), summer (+02:00), and back in winter after the October change.
        assert_eq!(
            at("2026-01-12T00:00:00Z", "2026-01-13T00:00:00Z"),
            vec![pair("2026-01-12T07:15:00Z", "2026-01-12T08:00:00Z")]
        );
        assert_eq!(
            at("2026-03-30T00:00:00Z", "2026-03-31T00:00:00Z"),
            vec![pair("2026-03-30T06:15:00Z", "2026-03-30T07:00:00Z")]
        );
        assert_eq!(
            at("2026-10-19T00:00:00Z", "2026-10-27T00:00:00Z"),
            vec![
                pair("2026-10-19T06:15:00Z", "2026-10-19T07:00:00Z"),
                pair("2026-10-26T07:15:00Z", "2026-10-26T08:00:00Z"),
            ]
        );
        assert_eq!(
            at("2026-07-01T00:00:00Z", "2026-07-02T00:00:00Z"),
            vec![pair("2026-07-01T06:30:00Z", "2026-07-01T07:30:00Z")]
        );
    }

    #[test]
    fn prefixed_quoted_and_unknown_zone_names() {
        let text = calendar(
            "BEGIN:VEVENT\nUID:a\nDTSTART;TZID=/mozilla.org/20050126_1/America/New_York:20260701T090000\n\
             DURATION:PT1H\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:b\nDTSTART;TZID=\"Europe/London\":20260702T090000\nDURATION:PT1H\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:c\nDTSTART;TZID=Mars/Olympus_Mons:20260703T090000\nDURATION:PT1H\nEND:VEVENT",
        );
        assert_eq!(
            busy_2026(&text),
            vec![
                pair("2026-07-01T13:00:00Z", "2026-07-01T14:00:00Z"),
                pair("2026-07-02T08:00:00Z", "2026-07-02T09:00:00Z"),
                // Unknown zone: the default zone (Stockholm, +02:00 in summer).
                pair("2026-07-03T07:00:00Z", "2026-07-03T08:00:00Z"),
            ]
        );
    }

    #[test]
    fn all_day_events() {
        let text = calendar(
            "BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20261224\nDTEND;VALUE=DATE:20261225\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:b\nDTSTART;VALUE=DATE:20260706\nDTEND;VALUE=DATE:20260711\nEND:VEVENT",
        );
        assert_eq!(
            busy_2026(&text),
            vec![
                pair("2026-07-05T22:00:00Z", "2026-07-10T22:00:00Z"),
                pair("2026-12-23T23:00:00Z", "2026-12-24T23:00:00Z"),
            ]
        );
        // The same feed read for a family in New York.
        let blocks = busy_blocks(
            &text,
            Tz::America__New_York,
            utc("2026-12-01T00:00:00Z"),
            utc("2027-01-01T00:00:00Z"),
        )
        .expect("feed parses");
        assert_eq!(
            blocks,
            vec![BusyBlock {
                start: utc("2026-12-24T05:00:00Z"),
                end: utc("2026-12-25T05:00:00Z")
            }]
        );
    }

    #[test]
    fn all_day_events_across_dst_changes() {
        let text = calendar(
            "BEGIN:VEVENT\nUID:spring\nDTSTART;VALUE=DATE:20260329\nDTEND;VALUE=DATE:20260330\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:autumn\nDTSTART;VALUE=DATE:20261024\nDTEND;VALUE=DATE:20261026\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:birthday\nDTSTART;VALUE=DATE:20100325\nRRULE:FREQ=YEARLY\nEND:VEVENT",
        );
        assert_eq!(
            busy_2026(&text),
            vec![
                pair("2026-03-24T23:00:00Z", "2026-03-25T23:00:00Z"),
                // 23-hour day.
                pair("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"),
                // 24 + 25 hours.
                pair("2026-10-23T22:00:00Z", "2026-10-25T23:00:00Z"),
            ]
        );
    }

    #[test]
    fn weekly_rules_with_until_and_wall_time_across_dst() {
        let text = event(
            "DTSTART;TZID=Europe/Stockholm:20261012T081500\nDTEND;TZID=Europe/Stockholm:20261012T090000\n\
             RRULE:FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20261028T230000Z",
        );
        assert_eq!(
            starts(&busy_2026(&text)),
            [
                "2026-10-12T06:15:00Z",
                "2026-10-14T06:15:00Z",
                "2026-10-19T06:15:00Z",
                "2026-10-21T06:15:00Z",
                // Still 08:15 local after the change to winter time on 25 October.
                "2026-10-26T07:15:00Z",
                "2026-10-28T07:15:00Z",
            ]
        );
    }

    /// A local time that does not exist (spring) is read with the offset before the gap; one
    /// that exists twice (autumn) is the first of the two.
    #[test]
    fn dst_gap_and_overlap() {
        let text = calendar(
            "BEGIN:VEVENT\nUID:gap\nDTSTART;TZID=Europe/Stockholm:20260329T023000\nDURATION:PT30M\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:twice\nDTSTART;TZID=Europe/Stockholm:20261025T023000\nDURATION:PT30M\nEND:VEVENT",
        );
        assert_eq!(
            busy_2026(&text),
            vec![
                pair("2026-03-29T01:30:00Z", "2026-03-29T02:00:00Z"),
                pair("2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z"),
            ]
        );
    }

    #[test]
    fn daily_count_interval_and_local_until() {
        let text = calendar(
            "BEGIN:VEVENT\nUID:a\nDTSTART:20260105T170000Z\nDTEND:20260105T180000Z\n\
             RRULE:FREQ=DAILY;COUNT=3;INTERVAL=2\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:b\nDTSTART;TZID=Europe/Stockholm:20260201T070000\nDURATION:PT30M\n\
             rrule:freq=daily;until=20260203T070000;x-custom=1\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:c\nDTSTART;TZID=Europe/Stockholm:20260301T070000\nDURATION:PT30M\n\
             RRULE:FREQ=DAILY;UNTIL=20260302\nEND:VEVENT",
        );
        assert_eq!(
            starts(&busy_2026(&text)),
            [
                "2026-01-05T17:00:00Z",
                "2026-01-07T17:00:00Z",
                "2026-01-09T17:00:00Z",
                "2026-02-01T06:00:00Z",
                "2026-02-02T06:00:00Z",
                "2026-02-03T06:00:00Z",
                "2026-03-01T06:00:00Z",
                "2026-03-02T06:00:00Z",
            ]
        );
    }

    #[test]
    fn monthly_rules() {
        let text = calendar(
            "BEGIN:VEVENT\nUID:rent\nDTSTART:20260115T100000Z\nDURATION:PT1H\n\
             RRULE:FREQ=MONTHLY;BYMONTHDAY=15;COUNT=3\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:club\nDTSTART;TZID=Europe/Stockholm:20260113T180000\nDURATION:PT2H\n\
             RRULE:FREQ=MONTHLY;BYDAY=2TU;UNTIL=20260331T000000Z\nEND:VEVENT",
        );
        assert_eq!(
            busy_2026(&text),
            vec![
                pair("2026-01-13T17:00:00Z", "2026-01-13T19:00:00Z"),
                pair("2026-01-15T10:00:00Z", "2026-01-15T11:00:00Z"),
                pair("2026-02-10T17:00:00Z", "2026-02-10T19:00:00Z"),
                pair("2026-02-15T10:00:00Z", "2026-02-15T11:00:00Z"),
                pair("2026-03-10T17:00:00Z", "2026-03-10T19:00:00Z"),
                pair("2026-03-15T10:00:00Z", "2026-03-15T11:00:00Z"),
            ]
        );
    }

    #[test]
    fn exdates_in_all_forms() {
        let text = calendar(
            "BEGIN:VEVENT\nUID:a\nDTSTART;TZID=Europe/Stockholm:20260105T081500\nDURATION:PT45M\n\
             RRULE:FREQ=DAILY;COUNT=8\n\
             EXDATE;TZID=Europe/Stockholm:20260106T081500\n\
             EXDATE:20260107T071500Z,20260108T071500Z\n\
             EXDATE;VALUE=DATE:20260110\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:b\nDTSTART;VALUE=DATE:20260601\nRRULE:FREQ=WEEKLY;COUNT=3\n\
             EXDATE;VALUE=DATE:20260608\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:c\nDTSTART;VALUE=DATE:20260701\nRRULE:FREQ=DAILY;COUNT=2\n\
             EXDATE:20260701T220000Z\nEND:VEVENT",
        );
        assert_eq!(
            starts(&busy_2026(&text)),
            [
                "2026-01-05T07:15:00Z",
                "2026-01-09T07:15:00Z",
                "2026-01-11T07:15:00Z",
                "2026-01-12T07:15:00Z",
                "2026-05-31T22:00:00Z",
                "2026-06-14T22:00:00Z",
                // 2 July local is 1 July 22:00 UTC.
                "2026-06-30T22:00:00Z",
            ]
        );
    }

    #[test]
    fn rdates_add_occurrences() {
        let text = event(
            "DTSTART;TZID=Europe/Stockholm:20260302T100000\nDTEND;TZID=Europe/Stockholm:20260302T110000\n\
             RRULE:FREQ=WEEKLY;COUNT=2\n\
             RDATE;TZID=Europe/Stockholm:20260304T150000,20260309T100000\n\
             RDATE;VALUE=PERIOD:20260320T120000Z/PT3H",
        );
        assert_eq!(
            busy_2026(&text),
            vec![
                pair("2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z"),
                pair("2026-03-04T14:00:00Z", "2026-03-04T15:00:00Z"),
                // Listed by both the rule and RDATE: one block.
                pair("2026-03-09T09:00:00Z", "2026-03-09T10:00:00Z"),
                pair("2026-03-20T12:00:00Z", "2026-03-20T15:00:00Z"),
            ]
        );
    }

    #[test]
    fn recurrence_id_overrides() {
        let text = calendar(
            "BEGIN:VEVENT\nUID:swim@example.com\nDTSTART;TZID=Europe/Stockholm:20260907T170000\n\
             DTEND;TZID=Europe/Stockholm:20260907T180000\nRRULE:FREQ=WEEKLY;COUNT=4\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:swim@example.com\nRECURRENCE-ID;TZID=Europe/Stockholm:20260914T170000\n\
             DTSTART;TZID=Europe/Stockholm:20260915T190000\nDTEND;TZID=Europe/Stockholm:20260915T200000\n\
             END:VEVENT\n\
             BEGIN:VEVENT\nUID:swim@example.com\nRECURRENCE-ID:20260921T150000Z\nSTATUS:CANCELLED\n\
             DTSTART;TZID=Europe/Stockholm:20260921T170000\nDTEND;TZID=Europe/Stockholm:20260921T180000\n\
             END:VEVENT",
        );
        assert_eq!(
            busy_2026(&text),
            vec![
                pair("2026-09-07T15:00:00Z", "2026-09-07T16:00:00Z"),
                pair("2026-09-15T17:00:00Z", "2026-09-15T18:00:00Z"),
                pair("2026-09-28T15:00:00Z", "2026-09-28T16:00:00Z"),
            ]
        );
    }

    #[test]
    fn cancelled_and_transparent_events_are_free() {
        let text = calendar(
            "BEGIN:VEVENT\nUID:a\nDTSTART:20260310T090000Z\nDTEND:20260310T100000Z\nSTATUS:CANCELLED\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:b\nDTSTART:20260311T090000Z\nDTEND:20260311T100000Z\nTRANSP:TRANSPARENT\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:c\nDTSTART:20260312T090000Z\nDTEND:20260312T100000Z\nTRANSP:OPAQUE\n\
             STATUS:TENTATIVE\nEND:VEVENT",
        );
        assert_eq!(
            busy_2026(&text),
            vec![pair("2026-03-12T09:00:00Z", "2026-03-12T10:00:00Z")]
        );
    }

    #[test]
    fn freebusy_components() {
        let text = calendar(
            "BEGIN:VFREEBUSY\nUID:fb\nDTSTART:19980415T000000Z\nDTEND:19980420T000000Z\n\
             FREEBUSY;FBTYPE=BUSY:19980415T133000Z/19980415T170000Z,19980416T150000Z/PT1H\n\
             FREEBUSY;FBTYPE=FREE:19980417T090000Z/19980417T120000Z\n\
             FREEBUSY;FBTYPE=BUSY-TENTATIVE:19980418T090000Z/PT30M\n\
             FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:19980419T090000Z/PT1H\n\
             FREEBUSY:19980419T200000Z/19980419T210000Z\nEND:VFREEBUSY",
        );
        assert_eq!(
            busy_in(&text, "1998-04-01T00:00:00Z", "1998-05-01T00:00:00Z"),
            vec![
                pair("1998-04-15T13:30:00Z", "1998-04-15T17:00:00Z"),
                pair("1998-04-16T15:00:00Z", "1998-04-16T16:00:00Z"),
                pair("1998-04-18T09:00:00Z", "1998-04-18T09:30:00Z"),
                pair("1998-04-19T09:00:00Z", "1998-04-19T10:00:00Z"),
                pair("1998-04-19T20:00:00Z", "1998-04-19T21:00:00Z"),
            ]
        );
    }

    #[test]
    fn lexical_quirks() {
        // BOM, LF endings, folding with space and tab, quoted parameter values holding ':' and
        // ';', lowercase names, X- properties, VALARM inside the event, a VTODO.
        let text = "\u{feff}BEGIN:VCALENDAR\nVERSION:2.0\nX-WR-CALNAME:Family\n\
             BEGIN:VTODO\nUID:t\nDTSTART:20260310T090000Z\nDUE:20260310T100000Z\nEND:VTODO\n\
             begin:vevent\nuid:a\nX-ALT-DESC;FMTTYPE=text/html:<b>x</b>\n\
             ORGANIZER;CN=\"Doe; Jane: Parent\";SENT-BY=\"mailto:a@b.c\":mailto:jane@example.com\n\
             ATTENDEE;MEMBER=\"mailto:a@b.c\",\"mailto:d@e.f\";CN=Kid:mailto:kid@example.com\n\
             dtstart;tzid=Europe/\n Stockholm:20260310T\n\t090000\n\
             dtend;tzid=\"Europe/Stockholm\":20260310T100000\n\
             BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT15M\nEND:VALARM\nend:vevent\nEND:VCALENDAR\n";
        assert_eq!(
            busy_2026(text),
            vec![pair("2026-03-10T08:00:00Z", "2026-03-10T09:00:00Z")]
        );
        let line =
            ContentLine::parse("ORGANIZER;CN=\"Doe; Jane: Parent\";ROLE=CHAIR:mailto:j@x.org")
                .expect("content line");
        assert_eq!(line.param("cn"), Some("Doe; Jane: Parent"));
        assert_eq!(line.param("ROLE"), Some("CHAIR"));
        assert_eq!(line.value, "mailto:j@x.org");
        let crlf = text.replace('\n', "\r\n");
        assert_eq!(busy_2026(&crlf), busy_2026(text));
    }

    #[test]
    fn garbage_is_rejected() {
        let reason = |text: &str| {
            busy_blocks(
                text,
                STOCKHOLM,
                utc("2026-01-01T00:00:00Z"),
                utc("2027-01-01T00:00:00Z"),
            )
            .expect_err("not a feed")
            .to_string()
        };
        assert_eq!(reason(""), "not an iCalendar feed (empty text)");
        assert_eq!(
            reason("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>"),
            "not an iCalendar feed (looks like an HTML or XML page, no BEGIN:VCALENDAR)"
        );
        assert_eq!(
            reason("{\"error\": \"unauthorized\"}"),
            "not an iCalendar feed (no BEGIN:VCALENDAR)"
        );
    }

    #[test]
    fn truncated_feeds_and_malformed_events() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n\
             BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260310T090000Z\r\nDTEND:20260310T100000Z\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:bad\r\nDTSTART:2026-03-11 09:00\r\nDTEND:20260311T100000Z\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:bad-end\r\nDTSTART:20260312T090000Z\r\nDTEND:20261345T100000Z\r\nEND:VEVENT\r\n\
             this line is noise\r\n\
             BEGIN:VEVENT\r\nUID:c\r\nDTSTART:20260313T090000Z\r\nDURATION:PT1H\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:cut\r\nDTSTART:20260314T090000Z\r\nDTEND:2026031";
        assert_eq!(
            busy_2026(text),
            vec![
                pair("2026-03-10T09:00:00Z", "2026-03-10T10:00:00Z"),
                pair("2026-03-13T09:00:00Z", "2026-03-13T10:00:00Z"),
            ]
        );
    }

    #[test]
    fn window_filtering() {
        let text = calendar(
            "BEGIN:VEVENT\nUID:before\nDTSTART:20260309T090000Z\nDTEND:20260310T000000Z\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:overlap\nDTSTART:20260309T220000Z\nDTEND:20260310T020000Z\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:inside\nDTSTART:20260310T090000Z\nDTEND:20260310T100000Z\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:at-end\nDTSTART:20260311T000000Z\nDTEND:20260311T010000Z\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:weekly\nDTSTART;VALUE=DATE:20260102\nDTEND;VALUE=DATE:20260110\n\
             RRULE:FREQ=WEEKLY\nEND:VEVENT",
        );
        assert_eq!(
            busy_in(&text, "2026-03-10T00:00:00Z", "2026-03-11T00:00:00Z"),
            vec![
                // The 8-day all-day event repeated weekly from Friday 6 March.
                pair("2026-03-05T23:00:00Z", "2026-03-13T23:00:00Z"),
                pair("2026-03-09T22:00:00Z", "2026-03-10T02:00:00Z"),
                pair("2026-03-10T09:00:00Z", "2026-03-10T10:00:00Z"),
            ]
        );
    }

    /// Old series are skipped ahead by whole periods without changing which days they hit.
    #[test]
    fn long_running_series() {
        let text = calendar(
            "BEGIN:VEVENT\nUID:biweekly\nDTSTART;TZID=Europe/Stockholm:20100104T181500\nDURATION:PT1H\n\
             RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:every-3-days\nDTSTART:20000101T060000Z\nDURATION:PT10M\n\
             RRULE:FREQ=DAILY;INTERVAL=3\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:every-5-months\nDTSTART:20000510T120000Z\nDURATION:PT10M\n\
             RRULE:FREQ=MONTHLY;INTERVAL=5\nEND:VEVENT",
        );
        // 2026-08-03 is 865 weeks after Monday 2010-01-04 (odd), 2026-08-10 is 866 (even).
        // 2026-08-03 is day 9711 = 3 * 3237 after 2000-01-01.
        // 2026-08 is 315 = 5 * 63 months after 2000-05.
        assert_eq!(
            starts(&busy_in(
                &text,
                "2026-08-01T00:00:00Z",
                "2026-08-15T00:00:00Z"
            )),
            [
                "2026-08-03T06:00:00Z",
                "2026-08-06T06:00:00Z",
                "2026-08-09T06:00:00Z",
                "2026-08-10T12:00:00Z",
                "2026-08-10T16:15:00Z",
                "2026-08-12T06:00:00Z",
                "2026-08-13T16:15:00Z",
            ]
        );
        // Skipping ahead gives what a full expansion from the first occurrence gives.
        let windows = [
            ("2026-08-01T00:00:00Z", "2026-08-15T00:00:00Z"),
            ("2026-08-03T06:05:00Z", "2026-08-10T16:15:00Z"),
            ("2026-08-06T06:10:00Z", "2026-08-13T16:20:00Z"),
        ];
        let everything = busy_in(&text, "2000-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
        for (from, to) in windows {
            let (from_rfc, to_rfc) = pair(from, to);
            let expected: Vec<_> = everything
                .iter()
                .filter(|(start, end)| utc(end) > utc(&from_rfc) && utc(start) < utc(&to_rfc))
                .cloned()
                .collect();
            assert_eq!(busy_in(&text, from, to), expected, "{from} - {to}");
        }
    }

    #[test]
    fn at_most_max_blocks_earliest_first() {
        let text = event("DTSTART:20260101T000000Z\nDURATION:PT30M\nRRULE:FREQ=HOURLY");
        let blocks = busy_blocks(
            &text,
            STOCKHOLM,
            utc("2026-01-01T00:00:00Z"),
            utc("2030-01-01T00:00:00Z"),
        )
        .expect("feed parses");
        assert_eq!(blocks.len(), MAX_BLOCKS);
        assert_eq!(
            blocks.first().map(|b| b.start),
            Some(utc("2026-01-01T00:00:00Z"))
        );
        let last = utc("2026-01-01T00:00:00Z")
            + TimeDelta::hours(i64::try_from(MAX_BLOCKS).expect("small") - 1);
        assert_eq!(blocks.last().map(|b| b.start), Some(last));
        assert!(blocks.windows(2).all(|w| w[0].start < w[1].start));
    }

    /// About 5 MB of events, most of them recurring for years: must stay fast.
    #[test]
    fn large_feed() {
        let mut body = String::new();
        for i in 0..6_000 {
            let day = 1 + i % 28;
            body.push_str(&format!(
                "BEGIN:VEVENT\nUID:event-{i}@example.com\nDTSTAMP:20260101T000000Z\n\
                 SUMMARY:Practice number {i} with a longish title to make the feed realistic\n\
                 DESCRIPTION:{}\n\
                 DTSTART;TZID=Europe/Stockholm:2015{:02}{day:02}T1{}0000\n\
                 DTEND;TZID=Europe/Stockholm:2015{:02}{day:02}T1{}3000\n\
                 RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR\nEXDATE;TZID=Europe/Stockholm:2016{:02}{day:02}T1{}0000\n\
                 END:VEVENT\n",
                "Lorem ipsum dolor sit amet. ".repeat(20),
                1 + i % 12,
                i % 10,
                1 + i % 12,
                i % 10,
                1 + i % 12,
                i % 10,
            ));
        }
        let text = calendar(&body);
        assert!(text.len() > 5_000_000, "{}", text.len());
        let started = std::time::Instant::now();
        let blocks = busy_blocks(
            &text,
            STOCKHOLM,
            utc("2026-03-02T00:00:00Z"),
            utc("2026-03-09T00:00:00Z"),
        )
        .expect("feed parses");
        let took = started.elapsed();
        assert_eq!(blocks.len(), 6_000 * 3);
        // Unoptimised test build on a busy machine; release builds are several times faster.
        assert!(took.as_secs_f64() < 10.0, "took {took:?}");
        println!("5 MB feed: {} blocks in {took:?}", blocks.len());
    }
}
