//! Relay connections with keyset pagination: `first` (required, at most
//! `MAX_PAGE_SIZE`) and `after` (an opaque cursor). Never offsets.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// The largest page any list returns.
pub const MAX_PAGE_SIZE: i32 = 100;

/// Validates `first`: 1 to `MAX_PAGE_SIZE`.
pub fn page_size(first: i32) -> AppResult<u64> {
    if (1..=MAX_PAGE_SIZE).contains(&first) {
        Ok(first as u64)
    } else {
        Err(AppError::bad_input(
            &["first"],
            format!("first must be between 1 and {MAX_PAGE_SIZE}"),
        ))
    }
}

/// The most items a plain (unpaged) list returns: lists that can grow past
/// it are connections (`first` + `after`).
pub const MAX_LIST_SIZE: i32 = 500;

/// Validates a plain list's optional `first`: 1 to `max`; `max` when left out.
pub fn list_size(first: Option<i32>, max: i32) -> AppResult<usize> {
    match first {
        None => Ok(usize::try_from(max).unwrap_or(0)),
        Some(n) if (1..=max).contains(&n) => Ok(usize::try_from(n).unwrap_or(0)),
        Some(_) => Err(AppError::bad_input(
            &["first"],
            format!("first must be between 1 and {max}"),
        )),
    }
}

/// Encodes a cursor for a row keyed by a time-ordered UUID.
pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("cursor:{id}"))
}

/// Decodes an `after` cursor; `BAD_USER_INPUT` when it is not one of ours.
pub fn decode_cursor(cursor: &str) -> AppResult<Uuid> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("cursor:").map(str::to_owned))
        .and_then(|id| Uuid::parse_str(&id).ok())
        .ok_or_else(|| AppError::bad_input(&["after"], "not a valid cursor"))
}

/// Cuts the `limit + 1` rows fetched for a page down to `limit` and builds the
/// edges and page info; the extra row only tells whether another page follows.
pub fn page<Row, Node>(
    mut rows: Vec<Row>,
    limit: u64,
    cursor_of: impl Fn(&Row) -> Uuid,
    node_of: impl Fn(Row) -> Node,
) -> (Vec<(String, Node)>, async_graphql::connection::PageInfo) {
    let has_next_page = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let edges: Vec<(String, Node)> = rows
        .into_iter()
        .map(|row| (encode_cursor(cursor_of(&row)), node_of(row)))
        .collect();
    let page_info = async_graphql::connection::PageInfo {
        has_previous_page: false,
        has_next_page,
        start_cursor: edges.first().map(|(cursor, _)| cursor.clone()),
        end_cursor: edges.last().map(|(cursor, _)| cursor.clone()),
    };
    (edges, page_info)
}

/// Declares a described Relay connection type and its edge type for one node
/// type (async-graphql's generic `Connection` cannot carry a description).
#[macro_export]
macro_rules! connection_type {
    ($connection:ident, $edge:ident, $node:ty, $connection_doc:literal, $edge_doc:literal) => {
        #[doc = $connection_doc]
        #[derive(async_graphql::SimpleObject)]
        pub struct $connection {
            /// The entries of this page, each with its cursor.
            pub edges: Vec<$edge>,
            /// Whether another page follows, and the cursor to fetch it with.
            pub page_info: async_graphql::connection::PageInfo,
        }

        #[doc = $edge_doc]
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            /// Pass as `after` to fetch the entries that follow this one.
            pub cursor: String,
            /// The entry.
            pub node: $node,
        }

        impl $connection {
            /// Builds the connection from `pagination::page`'s output.
            pub fn new(
                (edges, page_info): (Vec<(String, $node)>, async_graphql::connection::PageInfo),
            ) -> Self {
                $connection {
                    edges: edges
                        .into_iter()
                        .map(|(cursor, node)| $edge { cursor, node })
                        .collect(),
                    page_info,
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_page_sizes_are_bounded() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(id)).unwrap(), id);
        assert!(decode_cursor("bogus").is_err());
        assert!(page_size(0).is_err());
        assert!(page_size(MAX_PAGE_SIZE + 1).is_err());
        assert_eq!(page_size(MAX_PAGE_SIZE).unwrap(), 100);
        assert_eq!(list_size(None, MAX_LIST_SIZE).unwrap(), 500);
        assert_eq!(list_size(Some(3), MAX_LIST_SIZE).unwrap(), 3);
        assert!(list_size(Some(0), MAX_LIST_SIZE).is_err());
        assert!(list_size(Some(MAX_LIST_SIZE + 1), MAX_LIST_SIZE).is_err());
    }
}
