//! Relay `Node`: opaque global ids and `node(id:)` / `nodes(ids:)`.

use async_graphql::{Context, ID, Interface, Object, Result};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sea_orm::EntityTrait;
use uuid::Uuid;

use super::ContextExt;
use crate::{
    audit::types::AuditEvent,
    case::{
        query::read_audit,
        service as cases,
        types::{Case, CaseworkerChangeRequest, Consent, Family, FamilyMember, Team},
    },
    error::AppError,
    identity::{
        self,
        types::{Invitation, Organisation, Session, Tenant, User},
    },
};

/// Most ids accepted by one `nodes` call.
pub const MAX_NODES: usize = 100;

/// The kinds of object a global id can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Tenant,
    Organisation,
    User,
    Session,
    AuditEvent,
    Invitation,
    Case,
    Family,
    FamilyMember,
    Team,
    Consent,
    CaseworkerChangeRequest,
    CoordinatedPlan,
    Goal,
    GoalStep,
    Conversation,
    Message,
    Notification,
    PushDevice,
    Appointment,
    Commitment,
    CalendarFeed,
    CalendarSubscription,
}

impl NodeKind {
    fn prefix(self) -> &'static str {
        match self {
            NodeKind::Tenant => "Tenant",
            NodeKind::Organisation => "Organisation",
            NodeKind::User => "User",
            NodeKind::Session => "Session",
            NodeKind::AuditEvent => "AuditEvent",
            NodeKind::Invitation => "Invitation",
            NodeKind::Case => "Case",
            NodeKind::Family => "Family",
            NodeKind::FamilyMember => "FamilyMember",
            NodeKind::Team => "Team",
            NodeKind::Consent => "Consent",
            NodeKind::CaseworkerChangeRequest => "CaseworkerChangeRequest",
            NodeKind::CoordinatedPlan => "CoordinatedPlan",
            NodeKind::Goal => "Goal",
            NodeKind::GoalStep => "GoalStep",
            NodeKind::Conversation => "Conversation",
            NodeKind::Message => "Message",
            NodeKind::Notification => "Notification",
            NodeKind::PushDevice => "PushDevice",
            NodeKind::Appointment => "Appointment",
            NodeKind::Commitment => "Commitment",
            NodeKind::CalendarFeed => "CalendarFeed",
            NodeKind::CalendarSubscription => "CalendarSubscription",
        }
    }

    /// The kind named by a type name, e.g. `User`.
    pub fn from_prefix(prefix: &str) -> Option<Self> {
        Some(match prefix {
            "Tenant" => NodeKind::Tenant,
            "Organisation" => NodeKind::Organisation,
            "User" => NodeKind::User,
            "Session" => NodeKind::Session,
            "AuditEvent" => NodeKind::AuditEvent,
            "Invitation" => NodeKind::Invitation,
            "Case" => NodeKind::Case,
            "Family" => NodeKind::Family,
            "FamilyMember" => NodeKind::FamilyMember,
            "Team" => NodeKind::Team,
            "Consent" => NodeKind::Consent,
            "CaseworkerChangeRequest" => NodeKind::CaseworkerChangeRequest,
            "CoordinatedPlan" => NodeKind::CoordinatedPlan,
            "Goal" => NodeKind::Goal,
            "GoalStep" => NodeKind::GoalStep,
            "Conversation" => NodeKind::Conversation,
            "Message" => NodeKind::Message,
            "Notification" => NodeKind::Notification,
            "PushDevice" => NodeKind::PushDevice,
            "Appointment" => NodeKind::Appointment,
            "Commitment" => NodeKind::Commitment,
            "CalendarFeed" => NodeKind::CalendarFeed,
            "CalendarSubscription" => NodeKind::CalendarSubscription,
            _ => return None,
        })
    }
}

/// A decoded global id: the kind of object and its primary key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalId {
    pub kind: NodeKind,
    pub uuid: Uuid,
}

impl GlobalId {
    /// Encodes an id: base64url of `Kind:uuid`. Clients must treat it as opaque.
    pub fn encode(kind: NodeKind, uuid: Uuid) -> ID {
        ID(URL_SAFE_NO_PAD.encode(format!("{}:{}", kind.prefix(), uuid)))
    }

    /// Decodes an id; `None` when it is not one of ours.
    pub fn decode(id: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(id).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (prefix, uuid) = text.split_once(':')?;
        Some(GlobalId {
            kind: NodeKind::from_prefix(prefix)?,
            uuid: Uuid::parse_str(uuid).ok()?,
        })
    }

    /// Decodes an id that must be of `kind`; `BAD_USER_INPUT` on `field` otherwise.
    pub fn expect(id: &ID, kind: NodeKind, field: &[&str]) -> Result<Uuid, AppError> {
        match Self::decode(id) {
            Some(global) if global.kind == kind => Ok(global.uuid),
            _ => Err(AppError::bad_input(
                field,
                format!("not a valid {} id", kind.prefix()),
            )),
        }
    }
}

/// An object with a globally unique, opaque id that `node(id:)` can fetch again.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "Globally unique, opaque id; pass it to `node(id:)` to fetch the object again."
))]
pub enum Node {
    Tenant(Tenant),
    Organisation(Organisation),
    User(User),
    Session(Session),
    AuditEvent(AuditEvent),
    Invitation(Invitation),
    Case(Case),
    Family(Family),
    FamilyMember(FamilyMember),
    Team(Team),
    Consent(Consent),
    CaseworkerChangeRequest(CaseworkerChangeRequest),
    CoordinatedPlan(crate::plan::types::CoordinatedPlan),
    Goal(crate::goal::types::Goal),
    GoalStep(crate::goal::types::GoalStep),
    Conversation(crate::messaging::types::Conversation),
    Message(crate::messaging::types::Message),
    Notification(crate::events::types::Notification),
    PushDevice(crate::events::types::PushDevice),
    Appointment(crate::scheduling::types::Appointment),
    Commitment(crate::scheduling::types::Commitment),
    CalendarFeed(crate::scheduling::feeds_api::CalendarFeed),
    CalendarSubscription(crate::scheduling::phone_calendar::CalendarSubscription),
}

/// `node` and `nodes`.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Fetches any object by its global id. `NOT_FOUND` when it does not exist or
    /// the viewer may not see it.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id.")] id: ID,
    ) -> Result<Option<Node>> {
        Ok(Some(load_node(ctx, &id).await?))
    }

    /// Fetches several objects by global id, in the order given (at most 100). An
    /// entry is null when that object does not exist or the viewer may not see it.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ids, at most 100.")] ids: Vec<ID>,
    ) -> Result<Vec<Option<Node>>> {
        // As `node` does: without a (valid) token the answer is
        // `UNAUTHENTICATED`, not a list of nulls.
        ctx.viewer().principal()?;
        if ids.len() > MAX_NODES {
            return Err(
                AppError::bad_input(&["ids"], format!("at most {MAX_NODES} ids per call")).into(),
            );
        }
        let mut nodes = Vec::with_capacity(ids.len());
        for id in &ids {
            // A small, bounded list of mixed kinds: per-id loading is acceptable;
            // each lookup is by primary key.
            match load_node(ctx, id).await {
                Ok(node) => nodes.push(Some(node)),
                // A failure of the server is not an id the viewer may not see.
                Err(error @ (AppError::Database(_) | AppError::Internal(_))) => {
                    return Err(error.into());
                }
                Err(_) => nodes.push(None),
            }
        }
        Ok(nodes)
    }
}

async fn load_node(ctx: &Context<'_>, id: &ID) -> Result<Node, AppError> {
    let global =
        GlobalId::decode(id).ok_or_else(|| AppError::bad_input(&["id"], "not a valid id"))?;
    let principal = ctx.viewer().principal()?;
    let db = &ctx.state().db;
    Ok(match global.kind {
        NodeKind::Tenant => Node::Tenant(
            identity::service::tenant(db, principal, global.uuid)
                .await?
                .into(),
        ),
        NodeKind::Organisation => Node::Organisation(
            identity::service::organisation(db, principal, global.uuid)
                .await?
                .into(),
        ),
        NodeKind::User => Node::User(
            identity::service::user(db, principal, global.uuid)
                .await?
                .into(),
        ),
        NodeKind::Session => Node::Session(Session::new(
            identity::service::session(db, principal, global.uuid).await?,
            principal.session_id,
        )),
        NodeKind::AuditEvent => Node::AuditEvent(AuditEvent(
            identity::service::audit_event(db, principal, global.uuid).await?,
        )),
        NodeKind::Invitation => Node::Invitation(
            identity::service::invitation(db, principal, global.uuid)
                .await?
                .into(),
        ),
        NodeKind::Case => Node::Case(Case(
            cases::case(
                db,
                principal,
                &ctx.request_meta(),
                &read_audit(ctx),
                global.uuid,
            )
            .await?,
        )),
        NodeKind::Family => {
            let (model, view) = cases::family(
                db,
                principal,
                &ctx.request_meta(),
                &read_audit(ctx),
                global.uuid,
            )
            .await?;
            Node::Family(Family {
                model,
                categories: view.access.categories,
                today: view.today(),
                prefetched: None,
            })
        }
        NodeKind::FamilyMember => {
            let (model, view) = cases::family_member(
                db,
                principal,
                &ctx.request_meta(),
                &read_audit(ctx),
                global.uuid,
            )
            .await?;
            Node::FamilyMember(FamilyMember {
                model,
                categories: view.access.categories,
                today: view.today(),
            })
        }
        NodeKind::Team => Node::Team(Team {
            model: cases::team(db, principal, global.uuid).await?,
            prefetched_lead: None,
        }),
        NodeKind::CaseworkerChangeRequest => {
            Node::CaseworkerChangeRequest(CaseworkerChangeRequest(
                cases::change_request(
                    db,
                    principal,
                    &ctx.request_meta(),
                    &read_audit(ctx),
                    global.uuid,
                )
                .await?,
            ))
        }
        NodeKind::CoordinatedPlan => {
            let plan = entity::coordinated_plan::Entity::find_by_id(global.uuid)
                .one(db)
                .await?
                .filter(|p| p.tenant_id == principal.tenant_id)
                .ok_or(AppError::NotFound("coordinated plan"))?;
            let view = cases::case(
                db,
                principal,
                &ctx.request_meta(),
                &read_audit(ctx),
                plan.case_id,
            )
            .await
            .map_err(|_| AppError::NotFound("coordinated plan"))?;
            view.require(crate::auth::case_policy::Category::CaseDetails)
                .map_err(|_| AppError::NotFound("coordinated plan"))?;
            Node::CoordinatedPlan(crate::plan::types::CoordinatedPlan {
                model: plan,
                zone: view.zone,
            })
        }
        NodeKind::Goal => {
            let (model, view) = crate::goal::service::goal(
                db,
                principal,
                &ctx.request_meta(),
                &read_audit(ctx),
                global.uuid,
            )
            .await?;
            Node::Goal(crate::goal::types::Goal {
                model,
                case: std::sync::Arc::new(view),
            })
        }
        NodeKind::GoalStep => {
            let step = entity::goal_step::Entity::find_by_id(global.uuid)
                .one(db)
                .await?
                .ok_or(AppError::NotFound("goal step"))?;
            // Visible exactly when its goal is.
            crate::goal::service::goal(
                db,
                principal,
                &ctx.request_meta(),
                &read_audit(ctx),
                step.goal_id,
            )
            .await
            .map_err(|_| AppError::NotFound("goal step"))?;
            Node::GoalStep(crate::goal::types::GoalStep(step))
        }
        NodeKind::Conversation => {
            let view = crate::messaging::service::conversation(
                db,
                principal,
                &ctx.request_meta(),
                &read_audit(ctx),
                global.uuid,
            )
            .await?;
            Node::Conversation(crate::messaging::types::Conversation {
                model: view.model,
                case: std::sync::Arc::new(view.case),
            })
        }
        NodeKind::Message => {
            let row = entity::message::Entity::find_by_id(global.uuid)
                .one(db)
                .await?
                .ok_or(AppError::NotFound("message"))?;
            let view = crate::messaging::service::conversation(
                db,
                principal,
                &ctx.request_meta(),
                &read_audit(ctx),
                row.conversation_id,
            )
            .await
            .map_err(|_| AppError::NotFound("message"))?;
            Node::Message(crate::messaging::types::Message {
                model: row,
                sees_record: view.case.access.relation.works_the_case(),
                viewer_id: principal.user_id,
            })
        }
        NodeKind::Notification => Node::Notification(crate::events::types::Notification(
            crate::events::service::own_event(db, principal, global.uuid).await?,
        )),
        NodeKind::PushDevice => Node::PushDevice(crate::events::types::PushDevice(
            entity::push_device::Entity::find_by_id(global.uuid)
                .one(db)
                .await?
                .filter(|d| d.user_id == principal.user_id)
                .ok_or(AppError::NotFound("push device"))?,
        )),
        NodeKind::Appointment => {
            let (model, view) = crate::scheduling::service::appointment(
                db,
                principal,
                &ctx.request_meta(),
                global.uuid,
            )
            .await?;
            let staff =
                view.is_some_and(|v| crate::auth::case_policy::manages_goals(v.access.relation));
            let mut participants =
                crate::scheduling::service::participants_of(db, &[model.id]).await?;
            Node::Appointment(crate::scheduling::types::Appointment {
                participants: participants.remove(&model.id).unwrap_or_default(),
                staff_view: staff,
                viewer_id: principal.user_id,
                model,
            })
        }
        NodeKind::Commitment => Node::Commitment(crate::scheduling::types::Commitment(
            entity::commitment::Entity::find_by_id(global.uuid)
                .one(db)
                .await?
                .filter(|c| c.owner_id == principal.user_id)
                .ok_or(AppError::NotFound("commitment"))?,
        )),
        NodeKind::CalendarFeed => Node::CalendarFeed(
            crate::scheduling::feeds_api::node(ctx.state(), principal, global.uuid).await?,
        ),
        NodeKind::CalendarSubscription => Node::CalendarSubscription(
            crate::scheduling::phone_calendar::own_subscription(db, principal, global.uuid)
                .await?
                .into(),
        ),
        NodeKind::Consent => Node::Consent(Consent(
            cases::consent(
                db,
                principal,
                &ctx.request_meta(),
                &read_audit(ctx),
                global.uuid,
            )
            .await?,
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_round_trip_and_reject_garbage() {
        let uuid = Uuid::now_v7();
        let id = GlobalId::encode(NodeKind::User, uuid);
        assert_eq!(
            GlobalId::decode(&id),
            Some(GlobalId {
                kind: NodeKind::User,
                uuid
            })
        );
        assert_eq!(GlobalId::decode("not-an-id"), None);
        assert_eq!(
            GlobalId::decode(&URL_SAFE_NO_PAD.encode(format!("Planet:{uuid}"))),
            None
        );
        assert!(GlobalId::expect(&id, NodeKind::Tenant, &["id"]).is_err());
    }
}
