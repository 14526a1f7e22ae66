//! `AppError`: the one error type of the API, mapped to GraphQL once.
//!
//! Services return `Result<_, AppError>`. A resolver turns it into a GraphQL error
//! with `extensions.code`; database and other internal failures are logged with the
//! request id and reach the client only as `INTERNAL` with that id.

/// Machine-readable codes of top-level GraphQL errors (`extensions.code`).
pub mod code {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const CONFLICT: &str = "CONFLICT";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const INTERNAL: &str = "INTERNAL";
}

/// Everything that can go wrong while serving a request.
///
/// Deliberately not `Display`: async-graphql converts any `Display` type into an
/// error without `extensions.code`, and `?` would pick that conversion silently.
/// `From<AppError> for async_graphql::Error` below is the one mapping.
#[derive(Debug)]
pub enum AppError {
    /// No valid access token was presented.
    Unauthenticated(&'static str),
    /// The viewer is known but may not do this.
    Forbidden,
    /// The object does not exist, or exists but the viewer may not see it.
    NotFound(&'static str),
    /// Input the client must correct; `field` is the path of the input field at fault.
    BadUserInput { message: String, field: Vec<String> },
    /// The request conflicts with the current state (for example a reused idempotency key).
    Conflict(String),
    /// Too many attempts; retry after the given number of seconds.
    RateLimited { retry_after_seconds: u64 },
    /// A database failure; its text never reaches a client.
    Database(sea_orm::DbErr),
    /// Any other internal failure; its text never reaches a client.
    Internal(String),
}

impl From<sea_orm::DbErr> for AppError {
    fn from(error: sea_orm::DbErr) -> Self {
        AppError::Database(error)
    }
}

impl AppError {
    /// The message shown to the client; internal details never appear in it.
    pub fn message(&self) -> String {
        match self {
            AppError::Unauthenticated(message) => (*message).to_owned(),
            AppError::Forbidden => "you are not allowed to do this".to_owned(),
            AppError::NotFound(what) => format!("{what} not found"),
            AppError::BadUserInput { message, .. } | AppError::Conflict(message) => message.clone(),
            AppError::RateLimited {
                retry_after_seconds,
            } => format!("too many attempts, try again in {retry_after_seconds} seconds"),
            AppError::Database(_) | AppError::Internal(_) => "internal error".to_owned(),
        }
    }

    /// The `extensions.code` this error is reported with.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => code::UNAUTHENTICATED,
            AppError::Forbidden => code::FORBIDDEN,
            AppError::NotFound(_) => code::NOT_FOUND,
            AppError::BadUserInput { .. } => code::BAD_USER_INPUT,
            AppError::Conflict(_) => code::CONFLICT,
            AppError::RateLimited { .. } => code::RATE_LIMITED,
            AppError::Database(_) | AppError::Internal(_) => code::INTERNAL,
        }
    }

    /// Shorthand for a `BAD_USER_INPUT` error on one input field.
    pub fn bad_input(field: &[&str], message: impl Into<String>) -> Self {
        AppError::BadUserInput {
            message: message.into(),
            field: field.iter().map(|f| (*f).to_owned()).collect(),
        }
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(error: AppError) -> Self {
        match &error {
            AppError::Database(inner) => {
                tracing::error!(error = %inner, "database error");
            }
            AppError::Internal(inner) => {
                tracing::error!(error = %inner, "internal error");
            }
            _ => {}
        }
        // The request id of INTERNAL errors is added to the response by the HTTP
        // and WebSocket handlers (see `graphql::finish_response`), which know it.
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", error.code());
        match &error {
            AppError::BadUserInput { field, .. } if !field.is_empty() => {
                extensions.set("field", field.clone());
            }
            AppError::RateLimited {
                retry_after_seconds,
            } => {
                // `retryAfter` as the request limits say it (see `gate`);
                // `retryAfterSeconds` as the sign-in throttle always has.
                extensions.set("retryAfter", *retry_after_seconds);
                extensions.set("retryAfterSeconds", *retry_after_seconds);
            }
            _ => {}
        }
        async_graphql::Error {
            message: error.message(),
            source: None,
            extensions: Some(extensions),
        }
    }
}

/// The result type of services.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_errors_reach_the_client_only_as_internal() {
        let err: async_graphql::Error = AppError::Database(sea_orm::DbErr::Custom(
            "relation \"x\" does not exist".into(),
        ))
        .into();
        assert_eq!(err.message, "internal error");
        let code = err.extensions.as_ref().and_then(|e| e.get("code")).cloned();
        assert_eq!(code, Some(async_graphql::Value::from("INTERNAL")));
    }

    #[test]
    fn bad_user_input_names_the_field() {
        let err: async_graphql::Error = AppError::bad_input(&["input", "email"], "too long").into();
        let field = err
            .extensions
            .as_ref()
            .and_then(|e| e.get("field"))
            .cloned();
        assert_eq!(
            field,
            Some(async_graphql::Value::List(vec![
                "input".into(),
                "email".into()
            ]))
        );
    }
}
