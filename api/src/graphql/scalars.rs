//! Scalars of the API's own.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

/// A calendar date, `YYYY-MM-DD` (ISO 8601), in the municipality's time zone
/// where it stands for "a day".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

/// A calendar date, `YYYY-MM-DD` (ISO 8601), in the municipality's time zone
/// where it stands for "a day".
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => is_full_date(text)
                .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
                .flatten()
                .map(Date)
                .ok_or_else(|| InputValueError::custom("expected a date as YYYY-MM-DD")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// `YYYY-MM-DD` with a four-digit year (RFC 3339's full-date). chrono alone
/// also reads signed and longer years ("-5000-01-01"), which PostgreSQL's
/// `date` cannot hold (it begins in 4713 BC): the database would refuse the
/// request with an error instead of the client being told.
fn is_full_date(text: &str) -> bool {
    text.len() == 10
        && text.bytes().enumerate().all(|(index, byte)| match index {
            4 | 7 => byte == b'-',
            _ => byte.is_ascii_digit(),
        })
}

impl From<NaiveDate> for Date {
    fn from(date: NaiveDate) -> Self {
        Date(date)
    }
}

impl From<Date> for NaiveDate {
    fn from(date: Date) -> Self {
        date.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Option<NaiveDate> {
        Date::parse(Value::String(text.to_owned()))
            .ok()
            .map(|d| d.0)
    }

    #[test]
    fn dates_are_four_digit_years_months_and_days() {
        assert_eq!(parse("2026-06-19"), NaiveDate::from_ymd_opt(2026, 6, 19));
        assert_eq!(parse("0001-01-01"), NaiveDate::from_ymd_opt(1, 1, 1));
        for refused in [
            "-5000-01-01",
            "+2026-06-19",
            "12026-06-19",
            "2026-6-19",
            "2026-02-30",
            "2026-06-19T00:00",
            "",
        ] {
            assert_eq!(parse(refused), None, "{refused}");
        }
    }
}
