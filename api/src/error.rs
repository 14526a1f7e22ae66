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

/// Hides the text of database errors that reached a response without
/// passing through [`AppError`]: a `?` on a `DbErr` in a resolver returning
/// `async_graphql::Result` converts it by its `Display`, SQL and driver text
/// included, and `finish_response` would then label it `BAD_USER_INPUT`.
/// Such an error is logged and answered as `AppError::Database` is:
/// `INTERNAL`, "internal error". A safety net (the schema's telemetry
/// extension applies it to every response): code should still map database
/// errors through `AppError`.
pub fn conceal_database_errors(errors: &mut [async_graphql::ServerError]) {
    for error in errors {
        let text = if let Some(inner) = error.source::<sea_orm::DbErr>() {
            inner.to_string()
        } else if let Some(inner) = error.source::<sea_orm::TransactionError<sea_orm::DbErr>>() {
            inner.to_string()
        } else {
            continue;
        };
        tracing::error!(error = %text, "database error outside AppError");
        let hidden = AppError::Database(sea_orm::DbErr::Custom(String::new()));
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", hidden.code());
        error.message = hidden.message();
        error.extensions = Some(extensions);
        error.source = None;
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
    fn a_database_error_that_bypassed_app_error_is_concealed_as_internal() {
        fn resolver() -> async_graphql::Result<()> {
            // What `.await?` on a sea-orm call does in such a resolver.
            Err(sea_orm::DbErr::Custom(
                "invalid byte sequence for encoding \"UTF8\": 0x00".into(),
            ))?;
            Ok(())
        }
        let leaked = resolver()
            .err()
            .map(|e| e.into_server_error(async_graphql::Pos::default()));
        let mut errors: Vec<_> = leaked.into_iter().collect();
        assert!(errors[0].message.contains("0x00"), "the bypass leaks");
        let mapped = async_graphql::Error::from(AppError::bad_input(&["input"], "too long"))
            .into_server_error(async_graphql::Pos::default());
        errors.push(mapped);
        conceal_database_errors(&mut errors);
        assert_eq!(errors[0].message, "internal error");
        let code = |e: &async_graphql::ServerError| {
            e.extensions.as_ref().and_then(|x| x.get("code")).cloned()
        };
        assert_eq!(
            code(&errors[0]),
            Some(async_graphql::Value::from("INTERNAL"))
        );
        assert_eq!(
            errors[1].message, "too long",
            "mapped errors stay as they are"
        );
        assert_eq!(
            code(&errors[1]),
            Some(async_graphql::Value::from("BAD_USER_INPUT"))
        );
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
