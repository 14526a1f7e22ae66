//! The request gate in front of GraphQL over HTTP. The engine's own limits
//! (depth, complexity) run on a parsed request; this gate refuses, before
//! anything is parsed or executed, what a client of this API never needs to
//! send: another content type than JSON (a `text/plain` or form POST is how
//! a browser is tricked into a cross-site mutation), operations by `GET`,
//! batches, oversized bodies and query texts, and documents with more
//! aliases than any screen of the apps uses (aliases multiply work inside
//! one request). Every refusal is a JSON body with `errors[0].extensions.code`.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use poem::{
    Body, Response,
    http::{StatusCode, header},
};
use serde_json::json;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest query text accepted.
pub const MAX_QUERY_BYTES: usize = 16 * 1024;
/// Most aliased fields in one document.
pub const MAX_ALIASES: usize = 30;

/// A refused request: the HTTP status and the error the client reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            status,
            code,
            message: message.into(),
        }
    }

    /// The response: `{"errors":[{"message", "extensions": {"code"}}]}`.
    pub fn into_response(self, request_id: &str) -> Response {
        let mut response = Response::builder()
            .status(self.status)
            .content_type("application/json")
            .body(
                json!({ "errors": [{ "message": self.message,
                    "extensions": { "code": self.code, "requestId": request_id } }] })
                .to_string(),
            );
        if self.status == StatusCode::METHOD_NOT_ALLOWED
            && let Ok(post) = "POST".parse()
        {
            response.headers_mut().insert(header::ALLOW, post);
        }
        response
    }
}

/// `GET /graphql` with an operation: refused (only GraphiQL is served by GET).
pub fn refuse_get_operation(query_string: &str) -> Option<Refusal> {
    let has_operation = query_string
        .split('&')
        .filter_map(|pair| pair.split('=').next())
        .any(|name| matches!(name, "query" | "extensions" | "operationName" | "variables"));
    has_operation.then(|| {
        Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "Send operations with POST and a JSON body.",
        )
    })
}

/// A checked request and its operation's name (for metrics and logs).
pub type Checked = (async_graphql::Request, Option<String>);

/// Reads and checks a POSTed GraphQL request.
pub async fn read_post(content_type: Option<&str>, body: Body) -> Result<Checked, Refusal> {
    let is_json = content_type
        .and_then(|c| c.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "Send GraphQL requests as application/json.",
        ));
    }
    let bytes = body.into_bytes_limit(MAX_BODY_BYTES).await.map_err(|_| {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!(
                "The request body is larger than {} KiB.",
                MAX_BODY_BYTES / 1024
            ),
        )
    })?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "The body is not JSON.",
        )
    })?;
    if value.is_array() {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "BATCH_NOT_SUPPORTED",
            "Send one operation per request.",
        ));
    }
    let request: async_graphql::Request = serde_json::from_value(value).map_err(|_| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "The body is not a GraphQL request ({\"query\", \"variables\", \"operationName\"}).",
        )
    })?;
    let name = check_document(&request.query)?;
    let name = request.operation_name.clone().or(name);
    Ok((request, name))
}

/// Checks a query text's size and its aliases, and returns the name of its
/// first named operation. A text that does not parse is left to the engine,
/// which says what is wrong with it.
pub fn check_document(query: &str) -> Result<Option<String>, Refusal> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "QUERY_TOO_LARGE",
            format!("The query is longer than {} KiB.", MAX_QUERY_BYTES / 1024),
        ));
    }
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return Ok(None);
    };
    if aliases(&document) > MAX_ALIASES {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "TOO_MANY_ALIASES",
            format!("Use at most {MAX_ALIASES} aliases in one request."),
        ));
    }
    Ok(document
        .operations
        .iter()
        .find_map(|(name, _)| name.map(|n| n.to_string())))
}

/// Aliased fields in every operation and fragment of a document.
fn aliases(document: &ExecutableDocument) -> usize {
    fn count(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|selection| match &selection.node {
                Selection::Field(field) => {
                    usize::from(field.node.alias.is_some()) + count(&field.node.selection_set.node)
                }
                Selection::InlineFragment(fragment) => count(&fragment.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    document
        .operations
        .iter()
        .map(|(_, operation)| count(&operation.node.selection_set.node))
        .chain(
            document
                .fragments
                .values()
                .map(|fragment| count(&fragment.node.selection_set.node)),
        )
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_single_json_operations_of_bounded_size_pass() {
        let json = Some("application/json; charset=utf-8");
        let ok = read_post(
            json,
            Body::from_string(r#"{"query":"{ __typename }"}"#.into()),
        )
        .await;
        assert_eq!(ok.map(|r| r.0.query), Ok("{ __typename }".to_owned()));
        let named = read_post(
            json,
            Body::from_string(r#"{"query":"query Home { __typename }"}"#.into()),
        )
        .await;
        assert_eq!(named.map(|r| r.1), Ok(Some("Home".to_owned())));
        let code = |r: Result<Checked, Refusal>| r.err().map(|e| e.code);
        let body = || Body::from_string(r#"{"query":"mutation { logout { ok } }"}"#.into());
        assert_eq!(
            code(read_post(Some("text/plain"), body()).await),
            Some("UNSUPPORTED_MEDIA_TYPE")
        );
        assert_eq!(
            code(read_post(Some("application/x-www-form-urlencoded"), body()).await),
            Some("UNSUPPORTED_MEDIA_TYPE")
        );
        assert_eq!(
            code(read_post(None, body()).await),
            Some("UNSUPPORTED_MEDIA_TYPE")
        );
        let batch = Body::from_string(r#"[{"query":"{ a }"},{"query":"{ b }"}]"#.into());
        assert_eq!(
            code(read_post(json, batch).await),
            Some("BATCH_NOT_SUPPORTED")
        );
        let huge = Body::from_string(format!(r#"{{"query":"{}"}}"#, "a".repeat(MAX_BODY_BYTES)));
        assert_eq!(code(read_post(json, huge).await), Some("PAYLOAD_TOO_LARGE"));
        let long = format!("{{ __typename {} }}", " ".repeat(MAX_QUERY_BYTES));
        assert_eq!(
            check_document(&long).err().map(|e| e.code),
            Some("QUERY_TOO_LARGE")
        );
    }

    #[test]
    fn aliases_are_counted_in_operations_and_fragments() {
        let many = (0..=MAX_ALIASES)
            .map(|n| format!("a{n}: __typename"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(
            check_document(&format!("{{ {many} }}"))
                .err()
                .map(|e| e.code),
            Some("TOO_MANY_ALIASES")
        );
        let half = (0..20)
            .map(|n| format!("a{n}: __typename"))
            .collect::<Vec<_>>()
            .join(" ");
        let split = format!("query {{ ...F {half} }} fragment F on Query {{ {half} }}");
        assert!(check_document(&split).is_err());
        assert!(check_document(&format!("{{ {half} }}")).is_ok());
    }

    #[test]
    fn get_with_an_operation_is_refused_and_plain_get_is_not() {
        assert!(refuse_get_operation("query=%7B__typename%7D").is_some());
        assert!(refuse_get_operation("extensions=%7B%7D").is_some());
        assert!(refuse_get_operation("").is_none());
        assert!(refuse_get_operation("theme=dark").is_none());
    }
}
