//! The policy: the one place that decides who may read or change what.
//!
//! Resolvers never compare roles or tenants themselves; they ask the policy. A
//! refusal to read is reported as `NOT_FOUND`, so that nobody learns that an
//! object of another family or tenant exists.

use entity::user_account::Role;
use uuid::Uuid;

use super::Principal;
use crate::error::{AppError, AppResult};

/// Something a viewer may want to read, described by what the policy needs to know.
#[derive(Debug, Clone, Copy)]
pub enum Resource {
    /// A tenant (municipality).
    Tenant { id: Uuid },
    /// An organisation (agency) in a tenant.
    Organisation { tenant_id: Uuid },
    /// A user account.
    User {
        id: Uuid,
        tenant_id: Uuid,
        role: Role,
    },
    /// A signed-in device of a user.
    Session { user_id: Uuid },
    /// One entry of a tenant's audit trail.
    AuditEvent { tenant_id: Uuid },
    /// An invitation to create an account.
    Invitation {
        tenant_id: Uuid,
        invited_by: Option<Uuid>,
    },
}

/// Something a viewer may want to do other than reading one object.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    /// Page through a tenant's audit trail.
    ReadAuditTrail { tenant_id: Uuid },
    /// Invite a staff member (any staff role) to a tenant.
    InviteStaff { tenant_id: Uuid },
    /// Invite a family member (guardian, young person, network member).
    InviteFamilyMember { tenant_id: Uuid },
    /// Revoke an invitation before it is used.
    RevokeInvitation {
        tenant_id: Uuid,
        invited_by: Option<Uuid>,
    },
    /// Deactivate an account (ends its sessions at once).
    DeactivateUser { tenant_id: Uuid, user_id: Uuid },
    /// List the tenant's deviations (no-shows, late declines, overrides):
    /// the cooperation follow-up, for team leads.
    ReadDeviations,
    /// Mark oneself away (caseworkers, therapists, team leads: the people
    /// families write to, whose partner covers).
    SetAwayPeriod,
    /// Read the scheduling routines and closed days of a tenant (staff).
    ReadSchedulingRules { tenant_id: Uuid },
    /// Set an organisation's scheduling routine: the tenant's admins, and
    /// the team leads of that organisation.
    SetSchedulingRoutine {
        tenant_id: Uuid,
        organisation_id: Uuid,
    },
    /// Add or remove the tenant's closed days (admins).
    ManageClosedDays { tenant_id: Uuid },
    /// Register, read, fetch or remove an external calendar feed: a
    /// person's own feed by that person; an organisation's by those who set
    /// its routine.
    ManageCalendarFeed {
        tenant_id: Uuid,
        user_id: Option<Uuid>,
        organisation_id: Option<Uuid>,
    },
}

/// Authorization decisions. Stateless; every check is a pure function of the
/// principal and the resource, so it is unit-tested exhaustively.
pub struct Policy;

impl Policy {
    /// Whether `principal` may read `resource`.
    pub fn can_read(principal: &Principal, resource: Resource) -> bool {
        match resource {
            Resource::Tenant { id } => principal.tenant_id == id,
            Resource::Organisation { tenant_id } => principal.tenant_id == tenant_id,
            Resource::User {
                id,
                tenant_id,
                role,
            } => {
                if principal.user_id == id {
                    return true;
                }
                if principal.tenant_id != tenant_id {
                    return false;
                }
                // Admins manage every account of their tenant.
                if principal.role == Role::Admin {
                    return true;
                }
                // Staff may see who their colleagues are; who may see family
                // members comes from their relation to a case (cases issue).
                is_staff(principal.role) && is_staff(role)
            }
            Resource::Session { user_id } => principal.user_id == user_id,
            Resource::AuditEvent { tenant_id } => {
                principal.role == Role::Admin && principal.tenant_id == tenant_id
            }
            Resource::Invitation {
                tenant_id,
                invited_by,
            } => {
                principal.tenant_id == tenant_id
                    && (principal.role == Role::Admin || invited_by == Some(principal.user_id))
            }
        }
    }

    /// Whether `principal` may do `action`.
    pub fn can(principal: &Principal, action: Action) -> bool {
        match action {
            Action::ReadAuditTrail { tenant_id } | Action::InviteStaff { tenant_id } => {
                principal.role == Role::Admin && principal.tenant_id == tenant_id
            }
            Action::InviteFamilyMember { tenant_id } => {
                principal.tenant_id == tenant_id
                    && matches!(principal.role, Role::Caseworker | Role::TeamLead)
            }
            Action::RevokeInvitation {
                tenant_id,
                invited_by,
            } => Self::can_read(
                principal,
                Resource::Invitation {
                    tenant_id,
                    invited_by,
                },
            ),
            Action::DeactivateUser { tenant_id, user_id } => {
                principal.role == Role::Admin
                    && principal.tenant_id == tenant_id
                    && principal.user_id != user_id
            }
            Action::ReadDeviations => principal.role == Role::TeamLead,
            Action::SetAwayPeriod => matches!(
                principal.role,
                Role::Caseworker | Role::TeamLead | Role::FamilyTherapist
            ),
            Action::ReadSchedulingRules { tenant_id } => {
                principal.tenant_id == tenant_id && is_staff(principal.role)
            }
            Action::SetSchedulingRoutine {
                tenant_id,
                organisation_id,
            } => {
                principal.tenant_id == tenant_id
                    && (principal.role == Role::Admin
                        || (principal.role == Role::TeamLead
                            && principal.organisation_id == Some(organisation_id)))
            }
            Action::ManageClosedDays { tenant_id } => {
                principal.tenant_id == tenant_id && principal.role == Role::Admin
            }
            Action::ManageCalendarFeed {
                tenant_id,
                user_id,
                organisation_id,
            } => match (user_id, organisation_id) {
                (Some(user_id), None) => {
                    principal.tenant_id == tenant_id && principal.user_id == user_id
                }
                (None, Some(organisation_id)) => Self::can(
                    principal,
                    Action::SetSchedulingRoutine {
                        tenant_id,
                        organisation_id,
                    },
                ),
                _ => false,
            },
        }
    }

    /// `Ok` when `principal` may do `action`, `FORBIDDEN` otherwise.
    pub fn ensure_allowed(principal: &Principal, action: Action) -> AppResult<()> {
        if Self::can(principal, action) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// `Ok` when `principal` may read `resource`, `NOT_FOUND` otherwise.
    pub fn ensure_read(
        principal: &Principal,
        resource: Resource,
        what: &'static str,
    ) -> AppResult<()> {
        if Self::can_read(principal, resource) {
            Ok(())
        } else {
            Err(AppError::NotFound(what))
        }
    }
}

/// Whether a role belongs to the municipality's or an agency's staff (not a family).
pub fn is_staff(role: Role) -> bool {
    !matches!(
        role,
        Role::Guardian | Role::YoungPerson | Role::NetworkMember
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Iterable;

    fn principal(role: Role, tenant_id: Uuid) -> Principal {
        Principal {
            user_id: Uuid::now_v7(),
            tenant_id,
            organisation_id: None,
            role,
            session_id: Uuid::now_v7(),
        }
    }

    #[test]
    fn nobody_reads_another_tenant() {
        let ours = Uuid::now_v7();
        let theirs = Uuid::now_v7();
        for role in Role::iter() {
            let p = principal(role, ours);
            assert!(!Policy::can_read(&p, Resource::Tenant { id: theirs }));
            assert!(!Policy::can_read(
                &p,
                Resource::Organisation { tenant_id: theirs }
            ));
            for other_role in Role::iter() {
                assert!(!Policy::can_read(
                    &p,
                    Resource::User {
                        id: Uuid::now_v7(),
                        tenant_id: theirs,
                        role: other_role
                    }
                ));
            }
        }
    }

    #[test]
    fn family_members_see_only_themselves_among_users() {
        let tenant = Uuid::now_v7();
        for role in [Role::Guardian, Role::YoungPerson, Role::NetworkMember] {
            let p = principal(role, tenant);
            assert!(Policy::can_read(
                &p,
                Resource::User {
                    id: p.user_id,
                    tenant_id: tenant,
                    role
                }
            ));
            for other_role in Role::iter() {
                assert!(!Policy::can_read(
                    &p,
                    Resource::User {
                        id: Uuid::now_v7(),
                        tenant_id: tenant,
                        role: other_role
                    }
                ));
            }
        }
    }

    #[test]
    fn only_a_tenants_admins_read_its_audit_trail_and_invite_staff() {
        let tenant = Uuid::now_v7();
        for role in Role::iter() {
            let p = principal(role, tenant);
            let admin = role == Role::Admin;
            assert_eq!(
                Policy::can(&p, Action::ReadAuditTrail { tenant_id: tenant }),
                admin
            );
            assert_eq!(
                Policy::can(&p, Action::InviteStaff { tenant_id: tenant }),
                admin
            );
            assert!(!Policy::can(
                &p,
                Action::ReadAuditTrail {
                    tenant_id: Uuid::now_v7()
                }
            ));
            assert_eq!(
                Policy::can(&p, Action::InviteFamilyMember { tenant_id: tenant }),
                matches!(role, Role::Caseworker | Role::TeamLead)
            );
        }
    }

    #[test]
    fn routines_are_set_by_admins_and_the_organisations_team_leads_only() {
        let tenant = Uuid::now_v7();
        let own = Uuid::now_v7();
        let other = Uuid::now_v7();
        for role in Role::iter() {
            let mut p = principal(role, tenant);
            p.organisation_id = Some(own);
            let set = |organisation_id, tenant_id| {
                Policy::can(
                    &p,
                    Action::SetSchedulingRoutine {
                        tenant_id,
                        organisation_id,
                    },
                )
            };
            let lead_or_admin = matches!(role, Role::Admin | Role::TeamLead);
            assert_eq!(set(own, tenant), lead_or_admin, "{role:?}");
            assert_eq!(set(other, tenant), role == Role::Admin, "{role:?}");
            assert!(!set(own, Uuid::now_v7()), "{role:?}");
            assert_eq!(
                Policy::can(&p, Action::ManageClosedDays { tenant_id: tenant }),
                role == Role::Admin
            );
            assert_eq!(
                Policy::can(&p, Action::ReadSchedulingRules { tenant_id: tenant }),
                is_staff(role)
            );
            assert!(!Policy::can(
                &p,
                Action::ReadSchedulingRules {
                    tenant_id: Uuid::now_v7()
                }
            ));
        }
    }

    #[test]
    fn an_admin_cannot_deactivate_themself_or_another_tenants_users() {
        let tenant = Uuid::now_v7();
        let admin = principal(Role::Admin, tenant);
        assert!(Policy::can(
            &admin,
            Action::DeactivateUser {
                tenant_id: tenant,
                user_id: Uuid::now_v7()
            }
        ));
        assert!(!Policy::can(
            &admin,
            Action::DeactivateUser {
                tenant_id: tenant,
                user_id: admin.user_id
            }
        ));
        assert!(!Policy::can(
            &admin,
            Action::DeactivateUser {
                tenant_id: Uuid::now_v7(),
                user_id: Uuid::now_v7()
            }
        ));
    }

    #[test]
    fn staff_see_colleagues_but_not_family_accounts() {
        let tenant = Uuid::now_v7();
        let p = principal(Role::Caseworker, tenant);
        let colleague = Resource::User {
            id: Uuid::now_v7(),
            tenant_id: tenant,
            role: Role::TeamLead,
        };
        let guardian = Resource::User {
            id: Uuid::now_v7(),
            tenant_id: tenant,
            role: Role::Guardian,
        };
        assert!(Policy::can_read(&p, colleague));
        assert!(!Policy::can_read(&p, guardian));
        let admin = principal(Role::Admin, tenant);
        assert!(
            Policy::can_read(&admin, guardian),
            "admins manage every account"
        );
    }

    #[test]
    fn sessions_are_private_to_their_user() {
        let tenant = Uuid::now_v7();
        for role in Role::iter() {
            let p = principal(role, tenant);
            assert!(Policy::can_read(
                &p,
                Resource::Session { user_id: p.user_id }
            ));
            assert!(!Policy::can_read(
                &p,
                Resource::Session {
                    user_id: Uuid::now_v7()
                }
            ));
        }
    }
}
