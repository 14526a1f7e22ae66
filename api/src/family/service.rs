//! Family logic: validating new members. Families are reached through cases.

use chrono::NaiveDate;
use entity::family_member::{MemberKind, NetworkRelation};

use crate::graphql::{UserError, UserErrorCode};

/// Longest name of a family or a person.
pub const MAX_NAME_CHARS: usize = 100;
/// Oldest date of birth accepted (120 years).
const MAX_AGE_YEARS: i32 = 120;

/// A person to add to a family.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub kind: MemberKind,
    pub display_name: String,
    pub date_of_birth: Option<NaiveDate>,
    pub network_relation: Option<NetworkRelation>,
}

/// Checks a name field: required and not too long.
pub fn validate_name(field: &[String], name: &str) -> Result<(), UserError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(UserError {
            code: UserErrorCode::Required,
            message: "Enter a name.".into(),
            field: Some(field.to_vec()),
        });
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(UserError {
            code: UserErrorCode::TooLong,
            message: format!("Use at most {MAX_NAME_CHARS} characters."),
            field: Some(field.to_vec()),
        });
    }
    Ok(())
}

/// Checks a new member: a name; children need a date of birth that is not in the
/// future nor absurdly old; network members need their relation.
pub fn validate_member(
    field: &[String],
    member: &NewMember,
    today: NaiveDate,
) -> Result<(), UserError> {
    let at = |name: &str| {
        let mut path = field.to_vec();
        path.push(name.to_owned());
        path
    };
    validate_name(&at("displayName"), &member.display_name)?;
    if let Some(born) = member.date_of_birth {
        if born > today {
            return Err(UserError {
                code: UserErrorCode::InvalidValue,
                message: "The date of birth is in the future.".into(),
                field: Some(at("dateOfBirth")),
            });
        }
        if today
            .years_since(born)
            .is_some_and(|years| years as i32 > MAX_AGE_YEARS)
        {
            return Err(UserError {
                code: UserErrorCode::InvalidValue,
                message: "The date of birth is too far in the past.".into(),
                field: Some(at("dateOfBirth")),
            });
        }
    }
    if member.kind == MemberKind::Child && member.date_of_birth.is_none() {
        return Err(UserError {
            code: UserErrorCode::Required,
            message: "Enter the child's date of birth.".into(),
            field: Some(at("dateOfBirth")),
        });
    }
    if member.kind == MemberKind::NetworkMember && member.network_relation.is_none() {
        return Err(UserError {
            code: UserErrorCode::Required,
            message: "Say how the person is related to the family.".into(),
            field: Some(at("networkRelation")),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(born: Option<NaiveDate>) -> NewMember {
        NewMember {
            kind: MemberKind::Child,
            display_name: "Elias".into(),
            date_of_birth: born,
            network_relation: None,
        }
    }

    #[test]
    fn a_child_born_in_the_future_or_without_a_birth_date_is_refused() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let field = vec!["input".to_owned(), "members".to_owned(), "0".to_owned()];
        let future = validate_member(&field, &child(NaiveDate::from_ymd_opt(2027, 1, 1)), today)
            .unwrap_err();
        assert_eq!(future.code, UserErrorCode::InvalidValue);
        assert_eq!(future.field.unwrap().last().unwrap(), "dateOfBirth");
        assert_eq!(
            validate_member(&field, &child(None), today)
                .unwrap_err()
                .code,
            UserErrorCode::Required
        );
        assert!(
            validate_member(&field, &child(NaiveDate::from_ymd_opt(2012, 5, 1)), today).is_ok()
        );
    }
}
