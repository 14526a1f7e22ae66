//! Time arithmetic for scheduling meetings that must not clash with anyone's
//! busy time.
//!
//! Everything here is pure: no I/O, no clock reads, no database. Instants are
//! always `DateTime<Utc>`, because that is what is stored and compared; rules
//! that people state in local terms ("Mondays at 08:15", "open 08:00–17:00",
//! "closed on Christmas Eve") carry a `chrono_tz::Tz` and are expanded into
//! UTC intervals here, so daylight-saving changes are handled in exactly one
//! place.
//!
//! Local times that do not exist (the spring gap) move forward to the first
//! valid instant, and local times that occur twice (the autumn overlap) take
//! the earlier instant. All intervals are half-open, `[start, end)`, so a
//! meeting ending at 10:00 does not clash with one starting at 10:00.

use std::cmp::Reverse;

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;

/// A half-open span of time `[start, end)` in UTC.
///
/// An interval whose `end` is not after its `start` is empty: it overlaps
/// nothing and is dropped by [`merge`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    /// First instant inside the interval.
    pub start: DateTime<Utc>,
    /// First instant after the interval.
    pub end: DateTime<Utc>,
}

impl Interval {
    /// Whether the two intervals share at least one instant.
    ///
    /// Touching intervals (one ends exactly when the other starts) do not
    /// overlap, so back-to-back meetings are allowed. Empty intervals overlap
    /// nothing.
    pub fn overlaps(&self, other: &Interval) -> bool {
        // max(start) < min(end) also rejects empty intervals, which the
        // shorter `a.start < b.end && b.start < a.end` would not.
        self.start.max(other.start) < self.end.min(other.end)
    }

    /// Length of the interval (negative if `end` is before `start`).
    pub fn duration(&self) -> Duration {
        self.end - self.start
    }

    fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// The common part of both intervals, if any.
    pub fn intersection(&self, other: &Interval) -> Option<Interval> {
        let common = Interval {
            start: self.start.max(other.start),
            end: self.end.min(other.end),
        };
        (!common.is_empty()).then_some(common)
    }
}

/// Sorts intervals by start and merges those that overlap or touch.
///
/// Empty intervals are dropped. The result is sorted, pairwise disjoint and
/// non-touching, which is what the sweeps in this module rely on: with
/// disjoint intervals both the starts and the ends are increasing.
pub fn merge(mut intervals: Vec<Interval>) -> Vec<Interval> {
    intervals.retain(|i| !i.is_empty());
    // Busy lists usually arrive sorted already; pdqsort is linear on those.
    intervals.sort_unstable_by_key(|i| i.start);
    let mut merged: Vec<Interval> = Vec::with_capacity(intervals.len());
    for interval in intervals {
        match merged.last_mut() {
            // `<=` so that touching intervals become one busy block.
            Some(last) if interval.start <= last.end => last.end = last.end.max(interval.end),
            _ => merged.push(interval),
        }
    }
    merged
}

/// The busy intervals that overlap `proposed`, unchanged and in input order,
/// so the caller can match them back to the appointments they came from and
/// label them.
pub fn conflicts(busy: &[Interval], proposed: Interval) -> Vec<Interval> {
    busy.iter()
        .filter(|b| b.overlaps(&proposed))
        .copied()
        .collect()
}

/// A commitment that repeats every week on some weekdays at the same local
/// time, such as school hours or a standing therapy session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeeklyRule {
    /// Start of the first occurrence. Its local date (in `zone`) is the first
    /// date that can have an occurrence, and its local time of day is the
    /// start time of every occurrence.
    pub first_start: DateTime<Utc>,
    /// Length of each occurrence, in elapsed time.
    pub duration: Duration,
    /// Local weekdays on which the commitment takes place.
    pub weekdays: Vec<Weekday>,
    /// Last local date that can have an occurrence (inclusive); `None` means
    /// the rule never ends.
    pub until: Option<NaiveDate>,
    /// Local dates on which the commitment is cancelled.
    pub except: Vec<NaiveDate>,
    /// Zone in which weekdays, dates and the time of day are meant.
    pub zone: Tz,
}

impl WeeklyRule {
    /// The occurrences that overlap `window`, in chronological order.
    ///
    /// Each occurrence starts at the local time of day of `first_start` on
    /// its local date, so it stays at 08:15 local across daylight-saving
    /// changes (and therefore moves by an hour in UTC). Only the local days
    /// around `window` are visited, so the cost depends on the window's
    /// length, not on how long ago the rule started.
    pub fn occurrences(&self, window: Interval) -> Vec<Interval> {
        let mut found = Vec::new();
        if window.is_empty() || self.duration <= Duration::zero() || self.weekdays.is_empty() {
            return found;
        }
        let local_first = self.first_start.with_timezone(&self.zone);
        let time_of_day = local_first.time();
        let first_date = local_first.date_naive();

        // An occurrence reaches into the window if it starts less than one
        // duration before the window does. One extra day on each side covers
        // the zone offset and a start pushed forward out of the spring gap;
        // the exact overlap test below discards anything extra.
        let earliest_start = window
            .start
            .checked_sub_signed(self.duration)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let from = local_date(self.zone, earliest_start)
            .pred_opt()
            .unwrap_or(NaiveDate::MIN)
            .max(first_date);
        let mut to = local_date(self.zone, window.end)
            .succ_opt()
            .unwrap_or(NaiveDate::MAX);
        if let Some(until) = self.until {
            to = to.min(until);
        }

        let mut except = self.except.clone();
        except.sort_unstable();

        for date in days(from, to) {
            if !self.weekdays.contains(&date.weekday()) || except.binary_search(&date).is_ok() {
                continue;
            }
            let Some(start) = resolve_local(self.zone, date.and_time(time_of_day)) else {
                continue;
            };
            let Some(end) = start.checked_add_signed(self.duration) else {
                continue;
            };
            let occurrence = Interval { start, end };
            if occurrence.overlaps(&window) {
                found.push(occurrence);
            }
        }
        found
    }
}

/// The hours in which meetings may be booked, stated in local time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkingHours {
    /// Zone in which the weekdays and times are meant.
    pub zone: Tz,
    /// Working spans as `(weekday, from, to)`; a weekday may have several
    /// spans (e.g. a lunch break splits the day). A span whose `to` is not
    /// after its `from` runs past midnight into the next day, so
    /// `(Mon, 00:00, 00:00)` is the whole of Monday.
    pub days: Vec<(Weekday, NaiveTime, NaiveTime)>,
}

impl WorkingHours {
    /// The parts of `interval` that fall outside working hours, sorted and
    /// merged; empty when the interval lies entirely within working hours.
    pub fn outside(&self, interval: Interval) -> Vec<Interval> {
        if interval.is_empty() {
            return Vec::new();
        }
        // Start a day early because a span that runs past midnight on the
        // previous day can reach into the interval.
        let from = local_date(self.zone, interval.start)
            .pred_opt()
            .unwrap_or(NaiveDate::MIN);
        let to = local_date(self.zone, interval.end);
        let mut working = Vec::new();
        for date in days(from, to) {
            for &(weekday, span_from, span_to) in &self.days {
                if date.weekday() != weekday {
                    continue;
                }
                let end_date = if span_to <= span_from {
                    date.succ_opt().unwrap_or(NaiveDate::MAX)
                } else {
                    date
                };
                let start = resolve_local(self.zone, date.and_time(span_from));
                let end = resolve_local(self.zone, end_date.and_time(span_to));
                if let (Some(start), Some(end)) = (start, end) {
                    working.push(Interval { start, end });
                }
            }
        }
        subtract(interval, &merge(working))
    }
}

/// Whole local dates on which nothing may be booked (public holidays, office
/// closures).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosedDays {
    /// Zone in which the dates are meant.
    pub zone: Tz,
    /// The closed local dates.
    pub dates: Vec<NaiveDate>,
}

impl ClosedDays {
    /// The parts of `interval` that fall on closed local dates, sorted and
    /// merged (consecutive closed dates form one interval).
    pub fn closed_parts(&self, interval: Interval) -> Vec<Interval> {
        if interval.is_empty() || self.dates.is_empty() {
            return Vec::new();
        }
        let mut dates = self.dates.clone();
        dates.sort_unstable();
        let mut parts = Vec::new();
        let to = local_date(self.zone, interval.end);
        for date in days(local_date(self.zone, interval.start), to) {
            if dates.binary_search(&date).is_err() {
                continue;
            }
            // A local day is 23 or 25 hours long on change days, so its
            // bounds must come from local midnights, not from adding 24h.
            let next = date.succ_opt().unwrap_or(NaiveDate::MAX);
            let start = resolve_local(self.zone, date.and_time(NaiveTime::MIN));
            let end = resolve_local(self.zone, next.and_time(NaiveTime::MIN));
            let day = start.zip(end).map(|(start, end)| Interval { start, end });
            if let Some(part) = day.and_then(|d| d.intersection(&interval)) {
                parts.push(part);
            }
        }
        merge(parts)
    }
}

/// A person whose calendar a meeting has to fit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Caller's identifier for the person.
    pub id: u64,
    /// Whether the meeting cannot happen without this person. Optional
    /// people only influence the ranking.
    pub required: bool,
    /// Busy time, in any order; overlapping entries are fine.
    pub busy: Vec<Interval>,
}

/// Why a period is unavailable regardless of the participants' calendars.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlockReason {
    /// Outside the organisation's working hours.
    OutsideWorkingHours,
    /// A recurring commitment such as school hours.
    Routine,
    /// Too soon: within the minimum notice period.
    Notice,
    /// A closed day such as a public holiday.
    ClosedDay,
    /// Someone already has their maximum number of meetings that day.
    DailyCap,
    /// Travel or preparation buffer around another meeting.
    Buffer,
}

impl BlockReason {
    /// Every reason, in the order used to break ties in explanations.
    const ALL: [BlockReason; 6] = [
        BlockReason::OutsideWorkingHours,
        BlockReason::Routine,
        BlockReason::Notice,
        BlockReason::ClosedDay,
        BlockReason::DailyCap,
        BlockReason::Buffer,
    ];
}

/// What the caller is looking for.
#[derive(Clone, Debug, PartialEq)]
pub struct SlotRequest {
    /// Period in which the whole meeting has to take place.
    pub window: Interval,
    /// Length of the meeting.
    pub duration: Duration,
    /// Distance between candidate start times. The grid is aligned to the
    /// (UTC) hour, so a 15-minute step gives :00, :15, :30 and :45.
    pub step: Duration,
    /// Maximum number of suggestions to return.
    pub count: usize,
    /// Periods the organiser would rather use; a slot counts as preferred
    /// when it lies entirely within them (within their union, so 09–10 and
    /// 10–11 together cover a 09:30–10:30 slot).
    pub preferred: Vec<Interval>,
    /// Periods no meeting may overlap, each with the reason why; the reason
    /// is only used to explain an empty result.
    pub blocked: Vec<(BlockReason, Interval)>,
}

/// One suggested meeting time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    /// When the meeting would take place.
    pub interval: Interval,
    /// Ids of the optional candidates who are free then, in input order.
    pub optional_available: Vec<u64>,
    /// Whether the slot lies entirely within the preferred periods.
    pub in_preferred_time: bool,
    /// Higher is better: twice the number of free optional candidates, plus
    /// one if the slot is in preferred time. Equal scores are ordered by
    /// start time.
    pub score: i64,
}

/// One thing that rules out part of the window, reported when no slot fits.
///
/// Exactly one of `participant` and `reason` is set, except for the single
/// entry with neither, which means the window itself has no room for a
/// meeting of the requested duration (or the step or duration is not
/// positive).
#[derive(Clone, Debug, PartialEq)]
pub struct NoSlotReason {
    /// The required participant whose busy time is meant.
    pub participant: Option<u64>,
    /// The kind of blocked period that is meant.
    pub reason: Option<BlockReason>,
    /// Share (0.0–1.0] of the candidate start times this rules out.
    pub blocked_share: f64,
}

/// Suggests up to `request.count` non-overlapping meeting times, best first.
///
/// Candidate starts run from `window.start` rounded up to the step grid
/// every `step` while the meeting still ends within the window. A start is
/// valid when neither a required candidate's busy time nor a blocked period
/// overlaps the meeting. Valid starts are ranked by the number of free
/// optional candidates, then by lying in preferred time, then by earliness;
/// a start overlapping an already chosen slot is skipped so suggestions
/// spread out instead of offering 10:00, 10:15 and 10:30.
///
/// When nothing is valid, returns `Err` listing every required participant
/// and every block reason that rules out at least one start, with the share
/// of starts it rules out, largest first, so the caller can say "Dr X's
/// calendar rules out 80% of the window".
///
/// Busy lists need not be sorted or merged. Each busy interval is mapped
/// directly onto the range of grid starts it rules out, so the cost is
/// O(b + s) per person for b busy intervals and s starts, not O(b * s)
/// (and no O(b log b) sort either).
pub fn suggest(
    candidates: &[Candidate],
    request: &SlotRequest,
) -> Result<Vec<Slot>, Vec<NoSlotReason>> {
    let slots = candidate_slots(request.window, request.duration, request.step);
    if slots.is_empty() {
        return Err(vec![NoSlotReason {
            participant: None,
            reason: None,
            blocked_share: 1.0,
        }]);
    }
    let total = slots.len();
    let grid = Grid::new(&slots, request.step);
    let mut valid = vec![true; total];

    let mut explanations = Vec::new();
    let mut optional_free: Vec<(u64, Vec<bool>)> = Vec::new();
    for candidate in candidates {
        let blocked = grid.overlap_mask(candidate.busy.iter());
        if candidate.required {
            let ruled_out = apply(&mut valid, &blocked);
            if ruled_out > 0 {
                explanations.push(NoSlotReason {
                    participant: Some(candidate.id),
                    reason: None,
                    blocked_share: ruled_out as f64 / total as f64,
                });
            }
        } else {
            optional_free.push((candidate.id, blocked.iter().map(|b| !b).collect()));
        }
    }
    for reason in BlockReason::ALL {
        if !request.blocked.iter().any(|(r, _)| *r == reason) {
            continue;
        }
        let periods = request.blocked.iter().filter(|(r, _)| *r == reason);
        let blocked = grid.overlap_mask(periods.map(|(_, i)| i));
        let ruled_out = apply(&mut valid, &blocked);
        if ruled_out > 0 {
            explanations.push(NoSlotReason {
                participant: None,
                reason: Some(reason),
                blocked_share: ruled_out as f64 / total as f64,
            });
        }
    }

    if !valid.contains(&true) {
        // Stable sort: ties keep participants (in input order) before
        // reasons, which reads naturally in an explanation.
        explanations.sort_by(|a, b| b.blocked_share.total_cmp(&a.blocked_share));
        return Err(explanations);
    }

    let preferred = contained_mask(&slots, &merge(request.preferred.clone()));
    let score = |i: usize| -> i64 {
        let free = optional_free.iter().filter(|(_, m)| m[i]).count() as i64;
        2 * free + i64::from(preferred[i])
    };
    // Indices follow start order, so the index is the "earlier first" key.
    let mut ranked: Vec<(i64, usize)> = (0..total)
        .filter(|&i| valid[i])
        .map(|i| (score(i), i))
        .collect();
    ranked.sort_unstable_by_key(|&(s, i)| (Reverse(s), i));

    let mut chosen: Vec<Slot> = Vec::new();
    for (score, i) in ranked {
        if chosen.len() >= request.count {
            break;
        }
        let interval = slots[i];
        if chosen.iter().any(|c| c.interval.overlaps(&interval)) {
            continue;
        }
        chosen.push(Slot {
            interval,
            optional_available: optional_free
                .iter()
                .filter(|(_, m)| m[i])
                .map(|(id, _)| *id)
                .collect(),
            in_preferred_time: preferred[i],
            score,
        });
    }
    Ok(chosen)
}

/// Clears `valid` wherever `blocked` is set and returns how many starts
/// `blocked` rules out on its own (counted whether or not something else
/// already ruled them out, because each share is reported independently).
fn apply(valid: &mut [bool], blocked: &[bool]) -> usize {
    let mut count = 0;
    for (v, &b) in valid.iter_mut().zip(blocked) {
        if b {
            *v = false;
            count += 1;
        }
    }
    count
}

/// All meeting intervals with a start on the step grid inside `window`.
///
/// The grid is anchored at the start of `window.start`'s UTC hour, so the
/// suggestions land on round times whatever the window's start.
fn candidate_slots(window: Interval, duration: Duration, step: Duration) -> Vec<Interval> {
    let mut slots = Vec::new();
    if duration <= Duration::zero() || step <= Duration::zero() {
        return slots;
    }
    let Some(hour) = window
        .start
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
    else {
        return slots;
    };
    let offset = nanos(window.start - hour);
    let step_nanos = nanos(step);
    // Ceiling division; both are non-negative and i128 cannot overflow here.
    let steps = (offset + step_nanos - 1) / step_nanos;
    let Some(mut start) = from_nanos(steps * step_nanos).and_then(|d| hour.checked_add_signed(d))
    else {
        return slots;
    };
    while let Some(end) = start.checked_add_signed(duration) {
        if end > window.end {
            break;
        }
        slots.push(Interval { start, end });
        match start.checked_add_signed(step) {
            Some(next) => start = next,
            None => break,
        }
    }
    slots
}

/// The candidate starts as arithmetic: start `k` is `first + k * step` and
/// every meeting lasts `duration`, all in nanoseconds.
///
/// Because the starts form a regular grid, a busy interval maps straight to
/// the contiguous range of starts it rules out with two divisions. Marking
/// those ranges in a difference array costs O(b + s) for b busy intervals
/// and s starts, needs neither sorting nor merging (overlapping busy entries
/// just add up), and avoids comparing every interval with every start.
struct Grid {
    first_secs: i64,
    first_nanos: i64,
    step: i128,
    duration: i128,
    len: usize,
}

impl Grid {
    /// `slots` must come from [`candidate_slots`] with the same `step`.
    fn new(slots: &[Interval], step: Duration) -> Grid {
        let (first_secs, first_nanos, duration) = slots.first().map_or((0, 0, 0), |s| {
            (
                s.start.timestamp(),
                i64::from(s.start.timestamp_subsec_nanos()),
                nanos(s.duration()),
            )
        });
        Grid {
            first_secs,
            first_nanos,
            step: nanos(step),
            duration,
            len: slots.len(),
        }
    }

    /// Nanoseconds from the first start to `t`. `timestamp()` is used
    /// because it is much cheaper than subtracting two `DateTime`s.
    fn offset(&self, t: DateTime<Utc>) -> i128 {
        i128::from(t.timestamp() - self.first_secs) * 1_000_000_000
            + i128::from(i64::from(t.timestamp_subsec_nanos()) - self.first_nanos)
    }

    /// For each start, whether its meeting overlaps any of `busy`.
    fn overlap_mask<'a>(&self, busy: impl Iterator<Item = &'a Interval>) -> Vec<bool> {
        let mut diff = vec![0i64; self.len + 1];
        let len = i128::try_from(self.len).unwrap_or(i128::MAX);
        for b in busy {
            if b.is_empty() {
                continue;
            }
            // Meeting k overlaps [s, e) when k*step + duration > s and
            // k*step < e, i.e. k*step > s - duration and k*step <= e - 1ns.
            let from = floor_div(self.offset(b.start) - self.duration, self.step) + 1;
            let to = floor_div(self.offset(b.end) - 1, self.step) + 1;
            let (from, to) = (from.clamp(0, len), to.clamp(0, len));
            if from < to {
                // Both are within 0..=len, so the conversions cannot fail.
                if let (Ok(from), Ok(to)) = (usize::try_from(from), usize::try_from(to)) {
                    diff[from] += 1;
                    diff[to] -= 1;
                }
            }
        }
        let mut depth = 0;
        diff[..self.len]
            .iter()
            .map(|d| {
                depth += d;
                depth > 0
            })
            .collect()
    }
}

/// Division rounding towards negative infinity, on i64 when the values fit
/// since 128-bit division is several times slower. `divisor` is positive.
fn floor_div(value: i128, divisor: i128) -> i128 {
    match (i64::try_from(value), i64::try_from(divisor)) {
        (Ok(v), Ok(d)) => i128::from(v.div_euclid(d)),
        _ => value.div_euclid(divisor),
    }
}

/// For each slot, whether it lies entirely within one of the merged
/// `periods`. Merged periods are disjoint and non-touching, so a slot inside
/// their union is inside the first period that ends at or after the slot's
/// end.
fn contained_mask(slots: &[Interval], periods: &[Interval]) -> Vec<bool> {
    let mut cursor = 0;
    slots
        .iter()
        .map(|slot| {
            while cursor < periods.len() && periods[cursor].end < slot.end {
                cursor += 1;
            }
            periods.get(cursor).is_some_and(|p| p.start <= slot.start)
        })
        .collect()
}

/// `interval` minus the sorted, merged `covered` intervals.
fn subtract(interval: Interval, covered: &[Interval]) -> Vec<Interval> {
    let mut rest = Vec::new();
    let mut cursor = interval.start;
    for c in covered {
        if c.end <= cursor {
            continue;
        }
        if c.start >= interval.end {
            break;
        }
        if c.start > cursor {
            rest.push(Interval {
                start: cursor,
                end: c.start,
            });
        }
        cursor = c.end;
    }
    if cursor < interval.end {
        rest.push(Interval {
            start: cursor,
            end: interval.end,
        });
    }
    rest
}

/// Local dates from `from` to `to`, both inclusive.
fn days(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    from.iter_days().take_while(move |d| *d <= to)
}

/// The local calendar date of an instant.
///
/// Computed by hand rather than with `with_timezone(..).date_naive()`,
/// which panics when the offset pushes an extreme instant out of range.
fn local_date(zone: Tz, instant: DateTime<Utc>) -> NaiveDate {
    let offset = zone.offset_from_utc_datetime(&instant.naive_utc()).fix();
    instant
        .naive_utc()
        .checked_add_offset(offset)
        .map_or(instant.date_naive(), |local| local.date())
}

/// The instant at which the wall clock in `zone` shows `local`.
///
/// Ambiguous times (autumn overlap) take the earlier instant; times that do
/// not exist (spring gap) move forward to the first instant after the gap,
/// e.g. 02:30 on a spring-change night in Stockholm becomes 03:00 local.
fn resolve_local(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, _) => Some(earlier.with_timezone(&Utc)),
        LocalResult::None => first_instant_not_before(zone, local),
    }
}

/// The first instant whose local wall-clock time is at or after `local`.
///
/// Around a spring gap the wall clock only moves forward, so a binary search
/// over UTC seconds finds the transition. Real offsets stay within ±36h, so
/// the bounds below bracket the answer. Transitions fall on whole seconds.
fn first_instant_not_before(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    const MARGIN: i64 = 36 * 3600;
    let wall_clock = |secs: i64| -> Option<NaiveDateTime> {
        let instant = DateTime::from_timestamp(secs, 0)?;
        let offset = zone.offset_from_utc_datetime(&instant.naive_utc()).fix();
        instant.naive_utc().checked_add_offset(offset)
    };
    let guess = local.and_utc().timestamp();
    let mut before = guess.checked_sub(MARGIN)?;
    let mut after = guess.checked_add(MARGIN)?;
    while after - before > 1 {
        let mid = before + (after - before) / 2;
        if wall_clock(mid)? >= local {
            after = mid;
        } else {
            before = mid;
        }
    }
    DateTime::from_timestamp(after, 0)
}

fn nanos(d: Duration) -> i128 {
    i128::from(d.num_seconds()) * 1_000_000_000 + i128::from(d.subsec_nanos())
}

fn from_nanos(n: i128) -> Option<Duration> {
    let secs = i64::try_from(n.div_euclid(1_000_000_000)).ok()?;
    let sub = u32::try_from(n.rem_euclid(1_000_000_000)).ok()?;
    Duration::new(secs, sub)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Stockholm;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn iv(start: &str, end: &str) -> Interval {
        Interval {
            start: utc(start),
            end: utc(end),
        }
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn school_hours() -> WeeklyRule {
        WeeklyRule {
            // Monday 2026-01-05 08:15 CET.
            first_start: utc("2026-01-05T07:15:00Z"),
            duration: Duration::minutes(6 * 60 + 15),
            weekdays: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            until: None,
            except: vec![],
            zone: Stockholm,
        }
    }

    #[test]
    fn touching_intervals_do_not_overlap_and_merge_into_one() {
        let a = iv("2026-03-02T08:00:00Z", "2026-03-02T09:00:00Z");
        let b = iv("2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z");
        let c = iv("2026-03-02T09:30:00Z", "2026-03-02T11:00:00Z");
        let far = iv("2026-03-02T12:00:00Z", "2026-03-02T13:00:00Z");
        let empty = iv("2026-03-02T08:30:00Z", "2026-03-02T08:30:00Z");
        assert!(!a.overlaps(&b));
        assert!(b.overlaps(&c));
        assert!(!empty.overlaps(&a));
        assert_eq!(a.duration(), Duration::hours(1));
        assert_eq!(
            merge(vec![far, c, empty, b, a]),
            vec![iv("2026-03-02T08:00:00Z", "2026-03-02T11:00:00Z"), far]
        );
    }

    #[test]
    fn conflicts_lists_only_the_overlapping_busy_intervals_in_input_order() {
        let busy = vec![
            iv("2026-03-02T11:00:00Z", "2026-03-02T12:00:00Z"),
            iv("2026-03-02T08:00:00Z", "2026-03-02T09:00:00Z"),
            iv("2026-03-02T09:30:00Z", "2026-03-02T10:30:00Z"),
        ];
        let proposed = iv("2026-03-02T09:00:00Z", "2026-03-02T11:30:00Z");
        assert_eq!(conflicts(&busy, proposed), vec![busy[0], busy[2]]);
    }

    #[test]
    fn weekly_school_hours_keep_their_local_time_across_the_spring_change() {
        let window = iv("2026-03-27T00:00:00Z", "2026-03-31T00:00:00Z");
        assert_eq!(
            school_hours().occurrences(window),
            vec![
                // Friday, still CET (+01:00).
                iv("2026-03-27T07:15:00Z", "2026-03-27T13:30:00Z"),
                // Monday, now CEST (+02:00): same 08:15–14:30 local.
                iv("2026-03-30T06:15:00Z", "2026-03-30T12:30:00Z"),
            ]
        );
    }

    #[test]
    fn weekly_school_hours_keep_their_local_time_across_the_autumn_change() {
        let window = iv("2026-10-23T00:00:00Z", "2026-10-27T00:00:00Z");
        assert_eq!(
            school_hours().occurrences(window),
            vec![
                iv("2026-10-23T06:15:00Z", "2026-10-23T12:30:00Z"),
                iv("2026-10-26T07:15:00Z", "2026-10-26T13:30:00Z"),
            ]
        );
    }

    #[test]
    fn an_exception_skips_its_date_and_until_is_inclusive() {
        let rule = WeeklyRule {
            until: Some(date("2026-03-13")),
            except: vec![date("2026-03-11")],
            ..school_hours()
        };
        let window = iv("2026-03-09T00:00:00Z", "2026-03-21T00:00:00Z");
        let starts: Vec<_> = rule.occurrences(window).iter().map(|o| o.start).collect();
        assert_eq!(
            starts,
            vec![
                utc("2026-03-09T07:15:00Z"),
                utc("2026-03-10T07:15:00Z"),
                utc("2026-03-12T07:15:00Z"),
                utc("2026-03-13T07:15:00Z"),
            ]
        );
    }

    #[test]
    fn nothing_occurs_before_the_first_start_or_on_unlisted_weekdays() {
        let window = iv("2025-12-29T00:00:00Z", "2026-01-12T00:00:00Z");
        let occurrences = school_hours().occurrences(window);
        assert_eq!(occurrences.len(), 5);
        assert_eq!(occurrences[0].start, utc("2026-01-05T07:15:00Z"));
        assert_eq!(occurrences[4].start, utc("2026-01-09T07:15:00Z"));
    }

    #[test]
    fn an_occurrence_in_the_spring_gap_moves_to_the_first_valid_instant() {
        let rule = WeeklyRule {
            // Sunday 2026-03-22 02:30 CET.
            first_start: utc("2026-03-22T01:30:00Z"),
            duration: Duration::hours(1),
            weekdays: vec![Weekday::Sun],
            until: None,
            except: vec![],
            zone: Stockholm,
        };
        let window = iv("2026-03-20T00:00:00Z", "2026-04-06T00:00:00Z");
        assert_eq!(
            rule.occurrences(window),
            vec![
                iv("2026-03-22T01:30:00Z", "2026-03-22T02:30:00Z"),
                // 02:30 does not exist on 29 March; 03:00 CEST is 01:00Z.
                iv("2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"),
                // 02:30 CEST.
                iv("2026-04-05T00:30:00Z", "2026-04-05T01:30:00Z"),
            ]
        );
    }

    #[test]
    fn an_ambiguous_autumn_time_takes_the_earlier_instant() {
        let rule = WeeklyRule {
            first_start: utc("2026-10-18T00:30:00Z"), // Sunday 02:30 CEST.
            duration: Duration::minutes(30),
            weekdays: vec![Weekday::Sun],
            until: None,
            except: vec![],
            zone: Stockholm,
        };
        let window = iv("2026-10-24T00:00:00Z", "2026-10-26T00:00:00Z");
        assert_eq!(
            rule.occurrences(window),
            vec![iv("2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z")]
        );
    }

    #[test]
    fn a_year_long_window_visits_only_its_own_days_for_an_old_rule() {
        let rule = WeeklyRule {
            first_start: utc("1990-01-01T07:15:00Z"),
            ..school_hours()
        };
        let window = iv("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
        let occurrences = rule.occurrences(window);
        // 2026 has 261 weekdays.
        assert_eq!(occurrences.len(), 261);
        assert!(occurrences.windows(2).all(|w| w[0].end <= w[1].start));
    }

    #[test]
    fn an_occurrence_that_started_before_the_window_is_still_reported() {
        let window = iv("2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z");
        assert_eq!(
            school_hours().occurrences(window),
            vec![iv("2026-03-02T07:15:00Z", "2026-03-02T13:30:00Z")]
        );
    }

    fn office_hours() -> WorkingHours {
        let weekdays = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ];
        WorkingHours {
            zone: Stockholm,
            days: weekdays
                .iter()
                .flat_map(|&d| [(d, time(8, 0), time(12, 0)), (d, time(13, 0), time(17, 0))])
                .collect(),
        }
    }

    #[test]
    fn a_meeting_partly_outside_working_hours_reports_the_outside_parts() {
        // Monday 2026-03-30 (CEST): 11:00–18:00 local.
        let meeting = iv("2026-03-30T09:00:00Z", "2026-03-30T16:00:00Z");
        assert_eq!(
            office_hours().outside(meeting),
            vec![
                // Lunch 12:00–13:00 local.
                iv("2026-03-30T10:00:00Z", "2026-03-30T11:00:00Z"),
                // After 17:00 local.
                iv("2026-03-30T15:00:00Z", "2026-03-30T16:00:00Z"),
            ]
        );
    }

    #[test]
    fn a_meeting_inside_working_hours_has_nothing_outside() {
        // Friday 2026-03-27 (CET) 08:00–12:00 local.
        let meeting = iv("2026-03-27T07:00:00Z", "2026-03-27T11:00:00Z");
        assert!(office_hours().outside(meeting).is_empty());
    }

    #[test]
    fn a_weekend_meeting_is_entirely_outside_working_hours() {
        let meeting = iv("2026-03-28T09:00:00Z", "2026-03-28T10:00:00Z");
        assert_eq!(office_hours().outside(meeting), vec![meeting]);
    }

    #[test]
    fn a_span_ending_at_midnight_covers_the_rest_of_the_day() {
        let hours = WorkingHours {
            zone: Stockholm,
            days: vec![(Weekday::Mon, time(20, 0), time(0, 0))],
        };
        // Monday 2026-03-02 21:00 CET to Tuesday 01:00 CET.
        let meeting = iv("2026-03-02T20:00:00Z", "2026-03-03T00:00:00Z");
        assert_eq!(
            hours.outside(meeting),
            vec![iv("2026-03-02T23:00:00Z", "2026-03-03T00:00:00Z")]
        );
    }

    #[test]
    fn closed_days_cover_whole_local_days_and_join_when_consecutive() {
        let closed = ClosedDays {
            zone: Stockholm,
            dates: vec![date("2026-12-25"), date("2026-12-24"), date("2026-12-31")],
        };
        let interval = iv("2026-12-23T11:00:00Z", "2026-12-27T11:00:00Z");
        assert_eq!(
            closed.closed_parts(interval),
            vec![iv("2026-12-23T23:00:00Z", "2026-12-25T23:00:00Z")]
        );
        let open_day = iv("2026-12-28T08:00:00Z", "2026-12-28T09:00:00Z");
        assert!(closed.closed_parts(open_day).is_empty());
    }

    #[test]
    fn a_closed_spring_change_day_is_only_twenty_three_hours_long() {
        let closed = ClosedDays {
            zone: Stockholm,
            dates: vec![date("2026-03-29")],
        };
        let interval = iv("2026-03-27T00:00:00Z", "2026-04-01T00:00:00Z");
        let parts = closed.closed_parts(interval);
        assert_eq!(
            parts,
            vec![iv("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z")]
        );
        assert_eq!(parts[0].duration(), Duration::hours(23));
    }

    fn request(window: Interval, count: usize) -> SlotRequest {
        SlotRequest {
            window,
            duration: Duration::hours(1),
            step: Duration::minutes(30),
            count,
            preferred: vec![],
            blocked: vec![],
        }
    }

    fn person(id: u64, required: bool, busy: &[(&str, &str)]) -> Candidate {
        Candidate {
            id,
            required,
            busy: busy.iter().map(|(s, e)| iv(s, e)).collect(),
        }
    }

    #[test]
    fn suggestions_rank_optional_attendance_then_preference_then_time_without_overlap() {
        let people = [
            person(1, true, &[("2026-03-02T08:00:00Z", "2026-03-02T09:00:00Z")]),
            person(
                2,
                false,
                &[("2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z")],
            ),
            person(
                3,
                false,
                &[("2026-03-02T11:00:00Z", "2026-03-02T12:00:00Z")],
            ),
        ];
        let mut req = request(iv("2026-03-02T08:00:00Z", "2026-03-02T12:00:00Z"), 3);
        req.preferred = vec![iv("2026-03-02T10:30:00Z", "2026-03-02T12:00:00Z")];
        let slots = suggest(&people, &req).unwrap();
        assert_eq!(
            slots,
            vec![
                // Both optional people free.
                Slot {
                    interval: iv("2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z"),
                    optional_available: vec![2, 3],
                    in_preferred_time: false,
                    score: 4,
                },
                // One optional person, preferred time. 10:30 would rank the
                // same but overlaps the 10:00 suggestion.
                Slot {
                    interval: iv("2026-03-02T11:00:00Z", "2026-03-02T12:00:00Z"),
                    optional_available: vec![2],
                    in_preferred_time: true,
                    score: 3,
                },
                // One optional person, earliest remaining; touching 10:00 is fine.
                Slot {
                    interval: iv("2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z"),
                    optional_available: vec![3],
                    in_preferred_time: false,
                    score: 2,
                },
            ]
        );
    }

    #[test]
    fn a_slot_spanning_two_adjoining_preferred_periods_counts_as_preferred() {
        let mut req = request(iv("2026-03-02T09:30:00Z", "2026-03-02T10:30:00Z"), 1);
        req.preferred = vec![
            iv("2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z"),
            iv("2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z"),
        ];
        let slots = suggest(&[], &req).unwrap();
        assert!(slots[0].in_preferred_time);
        assert_eq!(slots[0].score, 1);
    }

    #[test]
    fn suggestions_never_overlap_each_other() {
        let req = SlotRequest {
            step: Duration::minutes(15),
            ..request(iv("2026-03-02T08:00:00Z", "2026-03-02T16:00:00Z"), 20)
        };
        let slots = suggest(&[], &req).unwrap();
        assert_eq!(slots.len(), 8);
        for (i, a) in slots.iter().enumerate() {
            for b in &slots[i + 1..] {
                assert!(!a.interval.overlaps(&b.interval));
            }
        }
    }

    #[test]
    fn the_first_start_is_rounded_up_to_the_step_grid() {
        let req = SlotRequest {
            step: Duration::minutes(15),
            ..request(iv("2026-03-02T08:07:00Z", "2026-03-02T09:30:00Z"), 1)
        };
        let slots = suggest(&[], &req).unwrap();
        assert_eq!(slots[0].interval.start, utc("2026-03-02T08:15:00Z"));
    }

    #[test]
    fn blocked_periods_rule_out_the_slots_they_overlap() {
        let mut req = request(iv("2026-03-02T08:00:00Z", "2026-03-02T10:00:00Z"), 5);
        req.blocked = vec![(
            BlockReason::Notice,
            iv("2026-03-02T07:00:00Z", "2026-03-02T08:30:00Z"),
        )];
        let slots = suggest(&[], &req).unwrap();
        let starts: Vec<_> = slots.iter().map(|s| s.interval.start).collect();
        assert_eq!(starts, vec![utc("2026-03-02T08:30:00Z")]);
    }

    #[test]
    fn when_nothing_fits_the_explanation_names_the_participant_who_blocks_most_first() {
        // Starts 08:00, 08:30, … 11:00: seven in all.
        let people = [
            person(7, true, &[("2026-03-02T10:30:00Z", "2026-03-02T12:00:00Z")]),
            person(
                42,
                true,
                &[("2026-03-02T08:00:00Z", "2026-03-02T10:00:00Z")],
            ),
            person(
                9,
                false,
                &[("2026-03-02T08:00:00Z", "2026-03-02T12:00:00Z")],
            ),
        ];
        let mut req = request(iv("2026-03-02T08:00:00Z", "2026-03-02T12:00:00Z"), 3);
        req.blocked = vec![(
            BlockReason::Buffer,
            iv("2026-03-02T10:00:00Z", "2026-03-02T10:15:00Z"),
        )];
        let reasons = suggest(&people, &req).unwrap_err();
        assert_eq!(
            reasons,
            vec![
                NoSlotReason {
                    participant: Some(42),
                    reason: None,
                    blocked_share: 4.0 / 7.0,
                },
                NoSlotReason {
                    participant: Some(7),
                    reason: None,
                    blocked_share: 3.0 / 7.0,
                },
                NoSlotReason {
                    participant: None,
                    reason: Some(BlockReason::Buffer),
                    blocked_share: 2.0 / 7.0,
                },
            ]
        );
    }

    #[test]
    fn a_window_too_short_for_the_meeting_is_explained_as_such() {
        let req = request(iv("2026-03-02T08:00:00Z", "2026-03-02T08:45:00Z"), 1);
        assert_eq!(
            suggest(&[], &req),
            Err(vec![NoSlotReason {
                participant: None,
                reason: None,
                blocked_share: 1.0,
            }])
        );
    }

    /// Deterministic pseudo-random numbers so the large test is repeatable
    /// without a dependency.
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % n
        }
    }

    /// The obvious quadratic version of `suggest`, to check the sweep.
    fn naive_suggest(
        candidates: &[Candidate],
        request: &SlotRequest,
    ) -> Result<Vec<Slot>, Vec<NoSlotReason>> {
        let mut starts = Vec::new();
        // Walk the grid up from the top of the hour.
        let mut s = request
            .window
            .start
            .with_minute(0)
            .and_then(|t| t.with_second(0))
            .and_then(|t| t.with_nanosecond(0))
            .unwrap();
        while s < request.window.start {
            s += request.step;
        }
        while s + request.duration <= request.window.end {
            starts.push(Interval {
                start: s,
                end: s + request.duration,
            });
            s += request.step;
        }
        let hits = |busy: &[Interval], slot: &Interval| busy.iter().any(|b| b.overlaps(slot));
        let valid: Vec<bool> = starts
            .iter()
            .map(|slot| {
                candidates
                    .iter()
                    .filter(|c| c.required)
                    .all(|c| !hits(&c.busy, slot))
                    && request.blocked.iter().all(|(_, b)| !b.overlaps(slot))
            })
            .collect();
        if !valid.contains(&true) {
            let mut reasons = Vec::new();
            for c in candidates.iter().filter(|c| c.required) {
                let n = starts.iter().filter(|slot| hits(&c.busy, slot)).count();
                if n > 0 {
                    reasons.push(NoSlotReason {
                        participant: Some(c.id),
                        reason: None,
                        blocked_share: n as f64 / starts.len() as f64,
                    });
                }
            }
            for reason in BlockReason::ALL {
                let n = starts
                    .iter()
                    .filter(|slot| {
                        request
                            .blocked
                            .iter()
                            .any(|(r, b)| *r == reason && b.overlaps(slot))
                    })
                    .count();
                if n > 0 {
                    reasons.push(NoSlotReason {
                        participant: None,
                        reason: Some(reason),
                        blocked_share: n as f64 / starts.len() as f64,
                    });
                }
            }
            reasons.sort_by(|a, b| b.blocked_share.total_cmp(&a.blocked_share));
            return Err(reasons);
        }
        let mut ranked: Vec<Slot> = starts
            .iter()
            .zip(&valid)
            .filter(|(_, v)| **v)
            .map(|(slot, _)| {
                let optional_available: Vec<u64> = candidates
                    .iter()
                    .filter(|c| !c.required && !hits(&c.busy, slot))
                    .map(|c| c.id)
                    .collect();
                // Covered by the union of preferred periods: hop from
                // period to period until the slot's end is reached.
                let mut reached = slot.start;
                while let Some(p) = request
                    .preferred
                    .iter()
                    .find(|p| p.start <= reached && reached < p.end)
                {
                    reached = p.end;
                    if reached >= slot.end {
                        break;
                    }
                }
                let in_preferred_time = reached >= slot.end;
                Slot {
                    interval: *slot,
                    score: 2 * optional_available.len() as i64 + i64::from(in_preferred_time),
                    optional_available,
                    in_preferred_time,
                }
            })
            .collect();
        ranked.sort_by_key(|s| (Reverse(s.score), s.interval.start));
        let mut chosen: Vec<Slot> = Vec::new();
        for slot in ranked {
            if chosen.len() < request.count
                && chosen.iter().all(|c| !c.interval.overlaps(&slot.interval))
            {
                chosen.push(slot);
            }
        }
        Ok(chosen)
    }

    fn large_input(required: usize) -> (Vec<Candidate>, SlotRequest) {
        let window = iv("2026-03-16T06:00:00Z", "2026-04-06T06:00:00Z");
        let minutes = window.duration().num_minutes() as u64;
        let mut rng = Lcg(2026);
        let candidates: Vec<Candidate> = (0..8)
            .map(|id| Candidate {
                id,
                required: (id as usize) < required,
                // Unsorted, overlapping, some reaching outside the window.
                busy: (0..2000)
                    .map(|_| {
                        let start = window.start - Duration::hours(2)
                            + Duration::minutes(rng.below(minutes + 240) as i64);
                        Interval {
                            start,
                            end: start + Duration::minutes(1 + rng.below(10) as i64),
                        }
                    })
                    .collect(),
            })
            .collect();
        // Preferred: 09:00–12:00 UTC every day of the window.
        let preferred = (0..21)
            .map(|d| {
                let day = window.start + Duration::days(d);
                Interval {
                    start: day + Duration::hours(3),
                    end: day + Duration::hours(6),
                }
            })
            .collect();
        let request = SlotRequest {
            window,
            duration: Duration::minutes(30),
            step: Duration::minutes(15),
            count: 5,
            preferred,
            blocked: vec![
                (
                    BlockReason::ClosedDay,
                    iv("2026-04-03T00:00:00Z", "2026-04-04T00:00:00Z"),
                ),
                (
                    BlockReason::Notice,
                    iv("2026-03-16T06:00:00Z", "2026-03-17T06:00:00Z"),
                ),
            ],
        };
        (candidates, request)
    }

    #[test]
    fn eight_people_with_two_thousand_busy_intervals_each_get_the_same_answer_as_a_brute_force_search()
     {
        let (candidates, request) = large_input(2);
        let expected = naive_suggest(&candidates, &request);
        let slots = expected.clone().unwrap();
        assert_eq!(slots.len(), request.count);
        assert_eq!(suggest(&candidates, &request), expected);
    }

    #[test]
    fn an_odd_step_and_ragged_busy_times_match_a_brute_force_search() {
        let mut rng = Lcg(7);
        let window = iv("2026-03-02T08:07:30Z", "2026-03-04T17:00:00Z");
        let millis = window.duration().num_milliseconds() as u64;
        let random_busy = |rng: &mut Lcg| -> Vec<Interval> {
            (0..40)
                .map(|_| {
                    let start = window.start - Duration::hours(1)
                        + Duration::milliseconds(rng.below(millis + 7_200_000) as i64);
                    Interval {
                        start,
                        end: start + Duration::milliseconds(rng.below(5_400_000) as i64),
                    }
                })
                .collect()
        };
        for round in 0..20u64 {
            let candidates: Vec<Candidate> = (0..4)
                .map(|id| Candidate {
                    id,
                    required: id < 1 + round % 3,
                    busy: random_busy(&mut rng),
                })
                .collect();
            let request = SlotRequest {
                window,
                duration: Duration::minutes(50),
                step: Duration::minutes(25),
                count: 4,
                preferred: random_busy(&mut rng),
                blocked: random_busy(&mut rng)
                    .into_iter()
                    .take(3)
                    .map(|i| (BlockReason::Routine, i))
                    .collect(),
            };
            assert_eq!(
                suggest(&candidates, &request),
                naive_suggest(&candidates, &request),
                "round {round}"
            );
        }
    }

    #[test]
    fn a_large_input_with_no_room_explains_itself_like_a_brute_force_search() {
        let (candidates, request) = large_input(8);
        let expected = naive_suggest(&candidates, &request);
        assert!(expected.is_err());
        assert_eq!(suggest(&candidates, &request), expected);
    }
}
