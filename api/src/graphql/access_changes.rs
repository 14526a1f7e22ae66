//! After a mutation that may change who sees what (a consent withdrawn, a
//! case closed or handed over, a sign-out, a deactivation, …), tell every
//! live subscription to re-check access before its next delivery — in this
//! process at once, in the others through PostgreSQL `NOTIFY`.
//!
//! The list here is of the mutations known *not* to change access, the
//! frequent ones; anything else (including mutations added later) counts as
//! a possible change, so forgetting to list one costs a re-check, never a
//! leak.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use async_graphql::{
    Response, ServerResult, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery},
    parser::types::{ExecutableDocument, OperationType, Selection},
};

use super::AppState;

/// Mutations that never change anyone's access to a case or conversation.
const LEAVE_ACCESS_AS_IT_IS: &[&str] = &[
    "sendMessage",
    "editMessage",
    "withdrawMessage",
    "markConversationRead",
    "markNotificationsRead",
    "updateContactSettings",
    "setAwayPeriod",
    "endAwayPeriod",
    "registerPushDevice",
    "unregisterPushDevice",
    "startConversation",
    "login",
    "loginWithIdToken",
    "createGoal",
    "updateGoal",
    "changeGoalStatus",
    "addGoalStep",
    "setGoalStepDone",
    "addGoalProgress",
    "recordFollowUp",
    "recordSafetyAssessment",
    "addFamilyStrength",
    "setSchedulingRoutine",
    "addClosedDay",
    "removeClosedDay",
    "registerCalendarFeed",
    "refreshCalendarFeed",
    "removeCalendarFeed",
    "createCalendarSubscription",
    "revokeCalendarSubscription",
];

/// Mutations that change access only when they fail: a refresh with a
/// reused token revokes the whole session (phones refresh every few minutes,
/// so a successful refresh must not make every subscription re-check).
const CHANGE_ACCESS_ONLY_WHEN_FAILING: &[&str] = &["refreshSession"];

/// What a document's mutations may do to access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Effect {
    None,
    WhenFailing,
    Always,
}

/// The strongest effect of the mutations in a document.
fn effect_on_access(document: &ExecutableDocument) -> Effect {
    let mut effect = Effect::None;
    for (_, operation) in document.operations.iter() {
        if operation.node.ty != OperationType::Mutation {
            continue;
        }
        for selection in &operation.node.selection_set.node.items {
            let this = match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    if LEAVE_ACCESS_AS_IT_IS.contains(&name) {
                        Effect::None
                    } else if CHANGE_ACCESS_ONLY_WHEN_FAILING.contains(&name) {
                        Effect::WhenFailing
                    } else {
                        Effect::Always
                    }
                }
                // Fragments on the mutation root: assume the worst.
                _ => Effect::Always,
            };
            effect = effect.max(this);
        }
    }
    effect
}

/// Whether a document holds a mutation operation.
fn has_mutation(document: &ExecutableDocument) -> bool {
    document
        .operations
        .iter()
        .any(|(_, operation)| operation.node.ty == OperationType::Mutation)
}

/// Whether a document holds a mutation that may change access whatever happens.
#[cfg(test)]
fn may_change_access(document: &ExecutableDocument) -> bool {
    effect_on_access(document) == Effect::Always
}

/// The extension factory.
pub struct AccessChanges;

impl ExtensionFactory for AccessChanges {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AccessChangesExtension {
            always: AtomicBool::new(false),
            when_failing: AtomicBool::new(false),
        })
    }
}

struct AccessChangesExtension {
    always: AtomicBool,
    when_failing: AtomicBool,
}

#[async_graphql::async_trait::async_trait]
impl Extension for AccessChangesExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        // A request that changes nothing may take access facts kept since
        // the last access change (`auth::access_cache`).
        if !has_mutation(&document)
            && let (Some(read_audit), Some(state)) = (
                ctx.data_opt::<Arc<crate::case::service::ReadAudit>>(),
                ctx.data_opt::<AppState>(),
            )
        {
            read_audit.use_cache(state.access_cache.clone());
        }
        match effect_on_access(&document) {
            Effect::Always => self.always.store(true, Ordering::SeqCst),
            Effect::WhenFailing => self.when_failing.store(true, Ordering::SeqCst),
            Effect::None => {}
        }
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let response = next.run(ctx, operation_name).await;
        // The mutation's transactions have committed (or rolled back) by now.
        let changed = self.always.load(Ordering::SeqCst)
            || (self.when_failing.load(Ordering::SeqCst) && !response.errors.is_empty());
        if changed && let Ok(state) = ctx.data::<AppState>() {
            state.hub.access_changed(&state.db).await;
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn only_listed_mutations_leave_access_as_it_is() {
        assert!(!may_change_access(&parse("{ viewer { role } }")));
        assert!(!may_change_access(&parse(
            "mutation { sendMessage(input: {}) { userErrors { code } } }"
        )));
        assert!(may_change_access(&parse(
            "mutation { withdrawConsent(input: {}) { consent { id } } }"
        )));
        assert!(may_change_access(&parse(
            "mutation { a: sendMessage(input: {}) { message { id } } logout { endedSessionCount } }"
        )));
        assert!(may_change_access(&parse(
            "mutation { somethingAddedLater { id } }"
        )));
        assert_eq!(
            effect_on_access(&parse(
                "mutation { refreshSession(input: {}) { tokens { accessToken } } }"
            )),
            Effect::WhenFailing
        );
    }
}
