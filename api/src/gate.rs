//! The request gate in front of GraphQL over HTTP. The engine's own limits
//! (depth, complexity) run on a parsed request; this gate refuses, before
//! anything is parsed or executed, what a client of this API never needs to
//! send: another content type than JSON (a `text/plain` or form POST is how
//! a browser is tricked into a cross-site mutation), operations by `GET`,
//! batches, oversized bodies and query texts, and documents with more
//! aliases than any screen of the apps uses (aliases multiply work inside
//! one request). Every refusal is a JSON body with `errors[0].extensions.code`.
//!
//! The document checks are also run inside the engine
//! (`graphql::request_limits`, with the sign-in field and points limits), so
//! they hold over WebSocket; [`engine_refusal`] recognises what those refuse,
//! for the HTTP status and the WebSocket `error` message. The check of text
//! for control characters ([`check_text_input`]) runs only there, on the
//! parsed document and the variables, and is answered like the engine's own
//! malformed-input errors (`BAD_USER_INPUT`, status 200).

use async_graphql::parser::types::{ExecutableDocument, Field, Selection, SelectionSet};
use poem::{
    Body, Response,
    http::{StatusCode, header},
};
use serde_json::json;

use crate::error::code;

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

    /// The refusal as a GraphQL error, for checks made inside the engine
    /// (which apply over WebSocket too).
    pub fn into_server_error(self) -> async_graphql::ServerError {
        let mut error = async_graphql::ServerError::new(self.message, None);
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", self.code);
        error.extensions = Some(extensions);
        error
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
    check_query_size(query)?;
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return Ok(None);
    };
    check_aliases(&document)?;
    Ok(document
        .operations
        .iter()
        .find_map(|(name, _)| name.map(|n| n.to_string())))
}

/// Refuses a query text longer than [`MAX_QUERY_BYTES`].
pub fn check_query_size(query: &str) -> Result<(), Refusal> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "QUERY_TOO_LARGE",
            format!("The query is longer than {} KiB.", MAX_QUERY_BYTES / 1024),
        ));
    }
    Ok(())
}

/// Refuses a document with more than [`MAX_ALIASES`] aliases.
pub fn check_aliases(document: &ExecutableDocument) -> Result<(), Refusal> {
    if aliases(document) > MAX_ALIASES {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "TOO_MANY_ALIASES",
            format!("Use at most {MAX_ALIASES} aliases in one request."),
        ));
    }
    Ok(())
}

/// The fields that sign in or hand out tokens: each occurrence is one
/// attempt, counted against the client address's limit.
pub const SIGN_IN_FIELDS: &[&str] = &[
    "login",
    "loginWithIdToken",
    "refreshSession",
    "acceptInvitation",
];

/// How many sign-in fields ([`SIGN_IN_FIELDS`]) a document holds, in every
/// operation and fragment: aliases cannot multiply attempts.
pub fn sign_in_fields(document: &ExecutableDocument) -> usize {
    count_fields(document, &|field| {
        SIGN_IN_FIELDS.contains(&field.name.node.as_str())
    })
}

/// Refuses a document with more than one sign-in field.
pub fn check_sign_in_fields(document: &ExecutableDocument) -> Result<usize, Refusal> {
    let count = sign_in_fields(document);
    if count > 1 {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "TOO_MANY_SIGN_IN_FIELDS",
            format!(
                "Send at most one of {} per request.",
                SIGN_IN_FIELDS.join(", ")
            ),
        ));
    }
    Ok(count)
}

/// Aliased fields in every operation and fragment of a document.
fn aliases(document: &ExecutableDocument) -> usize {
    count_fields(document, &|field| field.alias.is_some())
}

/// The fields matching `counted` in every operation and fragment of a document.
fn count_fields(document: &ExecutableDocument, counted: &dyn Fn(&Field) -> bool) -> usize {
    fn count(set: &SelectionSet, counted: &dyn Fn(&Field) -> bool) -> usize {
        set.items
            .iter()
            .map(|selection| match &selection.node {
                Selection::Field(field) => {
                    usize::from(counted(&field.node))
                        + count(&field.node.selection_set.node, counted)
                }
                Selection::InlineFragment(fragment) => {
                    count(&fragment.node.selection_set.node, counted)
                }
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    document
        .operations
        .iter()
        .map(|(_, operation)| count(&operation.node.selection_set.node, counted))
        .chain(
            document
                .fragments
                .values()
                .map(|fragment| count(&fragment.node.selection_set.node, counted)),
        )
        .sum()
}

/// The first character of `text` that no text sent to this API may hold:
/// the C0 control characters (U+0000–U+001F) but tab, line feed and
/// carriage return, which multi-line text needs. PostgreSQL refuses U+0000
/// in text outright ("invalid byte sequence"), SQLite would store it; the
/// others belong in no name, note or address and break what shows or
/// exports them (calendars, logs, terminals).
pub fn refused_control_character(text: &str) -> Option<char> {
    text.chars()
        .find(|c| *c < ' ' && !matches!(c, '\t' | '\n' | '\r'))
}

/// A string in a request with a refused control character (see
/// [`refused_control_character`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedText {
    /// Where the string is: for a variable `$name` and then the keys and
    /// list indices inside it (`["$input", "email"]`); for a literal in the
    /// query the argument's name and then the keys and indices inside it
    /// (`["input", "email"]`), as `UserError.field` names input fields.
    pub field: Vec<String>,
    /// The position of a literal argument in the query text.
    pub pos: Option<async_graphql::Pos>,
    /// The refused character.
    pub character: char,
}

impl RefusedText {
    /// The refusal as a GraphQL error: `BAD_USER_INPUT` with `field`, like
    /// the engine's own errors about malformed input (the request runs not
    /// at all, so nothing is changed).
    pub fn into_server_error(self) -> async_graphql::ServerError {
        let message = format!(
            "Text may not contain control characters other than tab, line feed and \
             carriage return; {} contains U+{:04X}.",
            self.field.join("."),
            u32::from(self.character)
        );
        let mut error = async_graphql::ServerError::new(message, self.pos);
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", code::BAD_USER_INPUT);
        extensions.set("field", self.field);
        error.extensions = Some(extensions);
        error
    }
}

/// Refuses a request any of whose strings holds a refused control character
/// ([`refused_control_character`]): every variable (values and object keys,
/// at any depth), and every literal argument of a field or directive and
/// every variable default in the document's operations and fragments. One
/// rule before anything runs, so that no resolver, present or future, hands
/// such text to the database (where PostgreSQL answers it with an error).
pub fn check_text_input(
    document: &ExecutableDocument,
    variables: &async_graphql::Variables,
) -> Result<(), RefusedText> {
    for (name, value) in variables.iter() {
        check_value(value, &mut vec![format!("${name}")], None)?;
    }
    for (_, operation) in document.operations.iter() {
        let operation = &operation.node;
        for definition in &operation.variable_definitions {
            let definition = &definition.node;
            if let Some(default) = &definition.default_value {
                let mut path = vec![format!("${}", definition.name.node)];
                check_value(&default.node, &mut path, Some(default.pos))?;
            }
            check_directives(&definition.directives)?;
        }
        check_directives(&operation.directives)?;
        check_selection_set(&operation.selection_set.node)?;
    }
    for fragment in document.fragments.values() {
        check_directives(&fragment.node.directives)?;
        check_selection_set(&fragment.node.selection_set.node)?;
    }
    Ok(())
}

/// Checks a string: `Err` with `path` and `pos` when it holds a refused
/// control character.
fn check_string(
    text: &str,
    path: &[String],
    pos: Option<async_graphql::Pos>,
) -> Result<(), RefusedText> {
    match refused_control_character(text) {
        Some(character) => Err(RefusedText {
            field: path.to_vec(),
            pos,
            character,
        }),
        None => Ok(()),
    }
}

/// Checks every string in a value: strings, object keys, nested lists and
/// objects.
fn check_value(
    value: &async_graphql::Value,
    path: &mut Vec<String>,
    pos: Option<async_graphql::Pos>,
) -> Result<(), RefusedText> {
    match value {
        async_graphql::Value::String(text) => check_string(text, path, pos),
        async_graphql::Value::List(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(index.to_string());
                check_value(item, path, pos)?;
                path.pop();
            }
            Ok(())
        }
        async_graphql::Value::Object(fields) => {
            for (key, item) in fields {
                path.push(key.to_string());
                check_string(key, path, pos)?;
                check_value(item, path, pos)?;
                path.pop();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Checks literal arguments (a field's or a directive's). References to
/// variables are checked with the variables.
fn check_arguments<V: Clone>(
    arguments: &[(
        async_graphql::Positioned<async_graphql::Name>,
        async_graphql::Positioned<V>,
    )],
    prefix: &[String],
    to_const: impl Fn(V) -> async_graphql::Value,
) -> Result<(), RefusedText> {
    for (name, value) in arguments {
        let mut path = prefix.to_vec();
        path.push(name.node.to_string());
        check_value(&to_const(value.node.clone()), &mut path, Some(value.pos))?;
    }
    Ok(())
}

/// A variable inside a literal: checked with the variables, so null here.
fn unchecked_variable(
    _: async_graphql::Name,
) -> Result<async_graphql::Value, std::convert::Infallible> {
    Ok(async_graphql::Value::Null)
}

fn check_directives(
    directives: &[async_graphql::Positioned<async_graphql::parser::types::Directive>],
) -> Result<(), RefusedText> {
    for directive in directives {
        let prefix = [format!("@{}", directive.node.name.node)];
        check_arguments(&directive.node.arguments, &prefix, |value| {
            value
                .into_const_with(unchecked_variable)
                .unwrap_or_default()
        })?;
    }
    Ok(())
}

fn check_selection_set(set: &SelectionSet) -> Result<(), RefusedText> {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                check_arguments(&field.node.arguments, &[], |value| {
                    value
                        .into_const_with(unchecked_variable)
                        .unwrap_or_default()
                })?;
                check_directives(&field.node.directives)?;
                check_selection_set(&field.node.selection_set.node)?;
            }
            Selection::InlineFragment(fragment) => {
                check_directives(&fragment.node.directives)?;
                check_selection_set(&fragment.node.selection_set.node)?;
            }
            Selection::FragmentSpread(spread) => check_directives(&spread.node.directives)?,
        }
    }
    Ok(())
}

/// Codes of the errors that refuse a request as a whole before it runs,
/// raised inside the engine (`graphql::request_limits`), so that they apply
/// over WebSocket too.
const ENGINE_REFUSALS: &[(&str, StatusCode)] = &[
    ("QUERY_TOO_LARGE", StatusCode::PAYLOAD_TOO_LARGE),
    ("TOO_MANY_ALIASES", StatusCode::BAD_REQUEST),
    ("TOO_MANY_SIGN_IN_FIELDS", StatusCode::BAD_REQUEST),
    (code::RATE_LIMITED, StatusCode::TOO_MANY_REQUESTS),
];

/// A response refusing the request as a whole before it ran: no data, and a
/// first error without a path carrying one of the gate's codes. A field's
/// own error (the sign-in throttle's `RATE_LIMITED` on `login`) has a path
/// and is not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineRefusal {
    /// The HTTP status it is answered with.
    pub status: StatusCode,
    /// Seconds to wait (`RATE_LIMITED` only): the `Retry-After` header.
    pub retry_after: Option<u64>,
}

/// Whether `response` is a refusal by the gate's checks inside the engine.
pub fn engine_refusal(response: &async_graphql::Response) -> Option<EngineRefusal> {
    if !matches!(response.data, async_graphql::Value::Null) {
        return None;
    }
    let first = response.errors.first()?;
    if !first.path.is_empty() {
        return None;
    }
    let extensions = first.extensions.as_ref()?;
    let Some(async_graphql::Value::String(code)) = extensions.get("code") else {
        return None;
    };
    let status = ENGINE_REFUSALS
        .iter()
        .find(|(known, _)| known == code)
        .map(|(_, status)| *status)?;
    let retry_after = match extensions.get("retryAfter") {
        Some(async_graphql::Value::Number(seconds)) => seconds.as_u64(),
        _ => None,
    };
    Some(EngineRefusal {
        status,
        retry_after,
    })
}

/// A `graphql-transport-ws` `next` message refusing an operation before it
/// ran, as the protocol's `error` message (`{"type":"error","id","payload":
/// [errors]}`); `None` for any other message. The text is parsed only when it
/// carries errors.
pub fn websocket_refusal(text: &str) -> Option<(String, String)> {
    if !text.contains(r#""errors""#) {
        return None;
    }
    #[derive(serde::Deserialize)]
    struct Next {
        #[serde(rename = "type")]
        kind: String,
        id: String,
        payload: async_graphql::Response,
    }
    let next: Next = serde_json::from_str(text).ok()?;
    if next.kind != "next" {
        return None;
    }
    engine_refusal(&next.payload)?;
    let error = json!({ "type": "error", "id": next.id, "payload": next.payload.errors });
    Some((next.id, error.to_string()))
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
    fn sign_in_fields_are_counted_per_occurrence_whatever_their_aliases() {
        let parse =
            |q: &str| async_graphql::parser::parse_query(q).unwrap_or_else(|e| panic!("{e}"));
        let one = parse("mutation { login(input: {}) { tokens { accessToken } } }");
        assert_eq!(check_sign_in_fields(&one).map_err(|e| e.code), Ok(1));
        let aliased = parse(
            "mutation { a: login(input: {}) { __typename } b: login(input: {}) { __typename } }",
        );
        assert_eq!(
            check_sign_in_fields(&aliased).err().map(|e| e.code),
            Some("TOO_MANY_SIGN_IN_FIELDS")
        );
        let mixed = parse(
            "mutation { ...F refreshSession(input: {}) { __typename } } fragment F on Mutation { acceptInvitation(input: {}) { __typename } }",
        );
        assert_eq!(sign_in_fields(&mixed), 2);
        assert_eq!(sign_in_fields(&parse("{ viewer { role } }")), 0);
    }

    #[test]
    fn only_pathless_refusals_without_data_are_engine_refusals() {
        let error = |code: &str, path: bool| {
            let mut error = async_graphql::ServerError::new("no", None);
            let mut extensions = async_graphql::ErrorExtensionValues::default();
            extensions.set("code", code);
            extensions.set("retryAfter", 7);
            error.extensions = Some(extensions);
            if path {
                error.path = vec![async_graphql::PathSegment::Field("login".into())];
            }
            error
        };
        let refused = async_graphql::Response::from_errors(vec![error("RATE_LIMITED", false)]);
        assert_eq!(
            engine_refusal(&refused),
            Some(EngineRefusal {
                status: StatusCode::TOO_MANY_REQUESTS,
                retry_after: Some(7)
            })
        );
        let throttled_field =
            async_graphql::Response::from_errors(vec![error("RATE_LIMITED", true)]);
        assert_eq!(engine_refusal(&throttled_field), None);
        let forbidden = async_graphql::Response::from_errors(vec![error("FORBIDDEN", false)]);
        assert_eq!(engine_refusal(&forbidden), None);
        let aliases = async_graphql::Response::from_errors(vec![error("TOO_MANY_ALIASES", false)]);
        assert_eq!(
            engine_refusal(&aliases).map(|r| r.status),
            Some(StatusCode::BAD_REQUEST)
        );

        let next = json!({ "type": "next", "id": "7", "payload": refused }).to_string();
        let (id, text) = websocket_refusal(&next).unwrap_or_default();
        assert_eq!(id, "7");
        let message: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(message["type"], "error");
        assert_eq!(message["payload"][0]["extensions"]["code"], "RATE_LIMITED");
        let data = json!({ "type": "next", "id": "8", "payload": { "data": { "a": 1 } } });
        assert_eq!(websocket_refusal(&data.to_string()), None);
    }

    #[test]
    fn control_characters_but_tab_and_line_breaks_are_refused_in_text() {
        assert_eq!(refused_control_character("a\u{0}b"), Some('\u{0}'));
        assert_eq!(refused_control_character("bell\u{7}"), Some('\u{7}'));
        assert_eq!(refused_control_character("\u{1f}"), Some('\u{1f}'));
        assert_eq!(refused_control_character("Line one\r\n\tline two"), None);
        assert_eq!(refused_control_character("Midsommarafton 🌼, «é»"), None);
    }

    #[test]
    fn every_string_of_the_variables_and_the_documents_literals_is_checked() {
        let parse =
            |q: &str| async_graphql::parser::parse_query(q).unwrap_or_else(|e| panic!("{e}"));
        let variables = |value: serde_json::Value| async_graphql::Variables::from_json(value);
        let refused = |q: &str, v: serde_json::Value| {
            check_text_input(&parse(q), &variables(v))
                .err()
                .map(|r| (r.field, r.character))
        };
        let field = |path: &[&str]| path.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
        let query = "mutation($input: OpenCaseInput!) { openCase(input: $input) { __typename } }";

        let nested = json!({ "input": { "members": [
            { "displayName": "Sara" }, { "displayName": "Eli\u{0}as" } ] } });
        assert_eq!(
            refused(query, nested),
            Some((field(&["$input", "members", "1", "displayName"]), '\u{0}'))
        );
        assert_eq!(
            refused(query, json!({ "input": { "bad\u{2}key": "x" } })),
            Some((field(&["$input", "bad\u{2}key"]), '\u{2}'))
        );
        assert_eq!(
            refused(
                query,
                json!({ "input": { "note": "two\nlines\tand a tab" } })
            ),
            None
        );
        assert_eq!(
            refused(
                r#"mutation { a { ...F } } fragment F on Mutation { addClosedDay(input: { date: "2000-01-01", names: ["ok", "a\u0000b"] }) { __typename } }"#,
                json!({})
            ),
            Some((field(&["input", "names", "1"]), '\u{0}'))
        );
        assert_eq!(
            refused(
                r#"query($d: String = "x\u0001") { viewer @skip(if: false) { role } }"#,
                json!({})
            ),
            Some((field(&["$d"]), '\u{1}'))
        );
        assert_eq!(
            refused(
                r#"{ viewer { ... on Viewer @custom(reason: "\u0008") { role } } }"#,
                json!({})
            ),
            Some((field(&["@custom", "reason"]), '\u{8}'))
        );
        let error = check_text_input(
            &parse(r#"mutation { login(input: { email: "a\u0000b" }) { __typename } }"#),
            &variables(json!({})),
        )
        .err()
        .map(RefusedText::into_server_error);
        let error = error.unwrap_or_else(|| panic!("refused"));
        assert_eq!(
            error.message,
            "Text may not contain control characters other than tab, line feed and \
             carriage return; input.email contains U+0000."
        );
        assert_eq!(error.locations.len(), 1);
        let code = error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .cloned();
        assert_eq!(code, Some(async_graphql::Value::from("BAD_USER_INPUT")));
    }

    #[test]
    fn get_with_an_operation_is_refused_and_plain_get_is_not() {
        assert!(refuse_get_operation("query=%7B__typename%7D").is_some());
        assert!(refuse_get_operation("extensions=%7B%7D").is_some());
        assert!(refuse_get_operation("").is_none());
        assert!(refuse_get_operation("theme=dark").is_none());
    }
}
