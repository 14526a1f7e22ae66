//! `UserError`: a problem the user can fix, returned in a payload's `userErrors`.
//! When a payload has one, the mutation changed nothing.

use async_graphql::{Enum, SimpleObject};

/// What kind of problem a `UserError` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum UserErrorCode {
    /// The e-mail address and password do not match an account. Deliberately the
    /// same for an unknown account and a wrong password.
    InvalidCredentials,
    /// A required value is missing or blank.
    Required,
    /// A value is shorter than allowed.
    TooShort,
    /// A value is longer than allowed.
    TooLong,
    /// A value is malformed (for example an e-mail address without `@`).
    InvalidFormat,
    /// A value is well-formed but not allowed here (a role, an organisation, a
    /// number out of range).
    InvalidValue,
    /// An account with this e-mail address exists already.
    EmailTaken,
    /// The invitation code is unknown, used, revoked or expired (deliberately
    /// not saying which).
    InvalidInvitation,
    /// The verified external identity (e-ID) is not linked to any account.
    ExternalIdentityNotLinked,
    /// Exactly one of several alternative fields must be given.
    ExactlyOneRequired,
    /// The object changed since the client read it (its `version` differs).
    StaleVersion,
    /// The proposed time clashes with a participant's busy time (the
    /// payload lists the conflicts); staff may book anyway with a reason.
    Clash,
}

/// A problem with the input that the user can fix; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct UserError {
    /// Machine-readable kind of problem.
    pub code: UserErrorCode,
    /// A readable explanation, fit to show to the user.
    pub message: String,
    /// Path to the input field at fault, e.g. `["input", "email"]`; null when the
    /// problem is not tied to one field.
    pub field: Option<Vec<String>>,
}

impl UserError {
    /// A user error on one input field (the path starts with `input`).
    pub fn on_field(code: UserErrorCode, field: &str, message: impl Into<String>) -> Self {
        UserError {
            code,
            message: message.into(),
            field: Some(vec!["input".to_owned(), field.to_owned()]),
        }
    }

    /// Checks a required free-text input field: `REQUIRED` (with `what_to_write`
    /// as the message) when blank, `TOO_LONG` past `max` characters.
    pub fn check_text(field: &str, text: &str, max: usize, what_to_write: &str) -> Option<Self> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Some(Self::on_field(
                UserErrorCode::Required,
                field,
                what_to_write,
            ));
        }
        if trimmed.chars().count() > max {
            return Some(Self::on_field(
                UserErrorCode::TooLong,
                field,
                format!("Use at most {max} characters."),
            ));
        }
        None
    }

    /// A user error not tied to one field.
    pub fn general(code: UserErrorCode, message: impl Into<String>) -> Self {
        UserError {
            code,
            message: message.into(),
            field: None,
        }
    }
}
