//! Identity mutations: sign-in, sessions, passwords, invitations, accounts.

use async_graphql::{Context, Object, Result};

use super::{
    service::{self, InvitationKind, NewInvitation},
    types::*,
};
use crate::graphql::{ContextExt, UserError, UserErrorCode, node::GlobalId, node::NodeKind};

/// Identity mutations.
#[derive(Default)]
pub struct IdentityMutation;

#[Object]
impl IdentityMutation {
    /// Signs in with e-mail and password and opens a session for this device.
    /// A wrong e-mail or password gives the user error `INVALID_CREDENTIALS`;
    /// repeated failures give `RATE_LIMITED` with `retryAfterSeconds`.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "E-mail address, password and an optional device label.")]
        input: LoginInput,
    ) -> Result<SignInPayload> {
        let state = ctx.state();
        let meta = ctx.request_meta();
        let device_label = input.device_label.as_deref().or(meta.user_agent.as_deref());
        let outcome = service::login(
            &state.db,
            &state.keys,
            &meta,
            &input.email,
            &input.password,
            device_label,
        )
        .await?;
        Ok(SignInPayload::from_outcome(outcome))
    }

    /// Exchanges a refresh token for a new access token and a new refresh token.
    /// `UNAUTHENTICATED` when the session has ended; presenting an already-used
    /// refresh token ends the session (reuse detection).
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token.")] input: RefreshSessionInput,
    ) -> Result<SignInPayload> {
        let state = ctx.state();
        let meta = ctx.request_meta();
        let issued =
            service::refresh_session(&state.db, &state.keys, &meta, &input.refresh_token).await?;
        Ok(SignInPayload::from_outcome(Ok(issued)))
    }

    /// Signs this device out: its session ends.
    async fn logout(&self, ctx: &Context<'_>) -> Result<LogoutPayload> {
        let principal = ctx.viewer().principal()?;
        let count = service::logout(&ctx.state().db, principal, &ctx.request_meta()).await?;
        Ok(LogoutPayload {
            ended_session_count: count,
            user_errors: Vec::new(),
        })
    }

    /// Signs the viewer out on every device, this one included.
    async fn logout_everywhere(&self, ctx: &Context<'_>) -> Result<LogoutPayload> {
        let principal = ctx.viewer().principal()?;
        let count =
            service::logout_everywhere(&ctx.state().db, principal, &ctx.request_meta()).await?;
        Ok(LogoutPayload {
            ended_session_count: count,
            user_errors: Vec::new(),
        })
    }

    /// Ends one of the viewer's sessions (for example a lost phone).
    async fn revoke_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session to end.")] input: RevokeSessionInput,
    ) -> Result<RevokeSessionPayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(
            &input.session_id,
            NodeKind::Session,
            &["input", "sessionId"],
        )?;
        let ended =
            service::revoke_session(&ctx.state().db, principal, &ctx.request_meta(), id).await?;
        Ok(RevokeSessionPayload {
            session: Some(Session::new(ended, principal.session_id)),
            user_errors: Vec::new(),
        })
    }

    /// Changes the viewer's password. Every other session ends; this one stays.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The current and the new password.")] input: ChangePasswordInput,
    ) -> Result<ChangePasswordPayload> {
        let principal = ctx.viewer().principal()?;
        let outcome = service::change_password(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            &input.current_password,
            &input.new_password,
        )
        .await?;
        Ok(match outcome {
            Ok(count) => ChangePasswordPayload {
                ended_session_count: Some(count),
                user_errors: Vec::new(),
            },
            Err(problem) => ChangePasswordPayload {
                ended_session_count: None,
                user_errors: vec![problem],
            },
        })
    }

    /// Invites a staff member (admins only). Returns the one-time code to hand over.
    async fn invite_staff(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Whom to invite, with which role and organisation.")]
        input: InviteStaffInput,
    ) -> Result<InvitePayload> {
        let principal = ctx.viewer().principal()?;
        let organisation_id = GlobalId::expect(
            &input.organisation_id,
            NodeKind::Organisation,
            &["input", "organisationId"],
        )?;
        let outcome = service::invite(
            &ctx.state().db,
            principal,
            &ctx.request_meta(),
            InvitationKind::Staff,
            NewInvitation {
                email: input.email,
                display_name: input.display_name,
                role: input.role.into(),
                organisation_id: Some(organisation_id),
                family_member_id: None,
                expires_in_days: input.expires_in_days,
            },
        )
        .await?;
        Ok(invite_payload(outcome))
    }

    /// Invites a family member of a case the viewer works (primary or partner
    /// caseworker, team lead) to get a login. Returns the one-time code to hand over.
    async fn invite_family_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which family member, and their e-mail address.")]
        input: InviteFamilyMemberInput,
    ) -> Result<InvitePayload> {
        let principal = ctx.viewer().principal()?;
        let member_id = GlobalId::expect(
            &input.family_member_id,
            NodeKind::FamilyMember,
            &["input", "familyMemberId"],
        )?;
        let db = &ctx.state().db;
        let meta = ctx.request_meta();
        let outcome =
            match crate::case::service::member_for_invitation(db, principal, &meta, member_id)
                .await?
            {
                Err(problem) => Err(problem),
                Ok(member) => {
                    service::invite(
                        db,
                        principal,
                        &meta,
                        InvitationKind::FamilyMember,
                        NewInvitation {
                            email: input.email,
                            display_name: member.display_name.clone(),
                            role: member_role(member.kind),
                            organisation_id: None,
                            family_member_id: Some(member.id),
                            expires_in_days: input.expires_in_days,
                        },
                    )
                    .await?
                }
            };
        Ok(invite_payload(outcome))
    }

    /// Revokes an unused invitation (its creator or an admin).
    async fn revoke_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The invitation to revoke.")] input: RevokeInvitationInput,
    ) -> Result<RevokeInvitationPayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(
            &input.invitation_id,
            NodeKind::Invitation,
            &["input", "invitationId"],
        )?;
        let outcome =
            service::revoke_invitation(&ctx.state().db, principal, &ctx.request_meta(), id).await?;
        Ok(match outcome {
            Ok(invitation) => RevokeInvitationPayload {
                invitation: Some(invitation.into()),
                user_errors: Vec::new(),
            },
            Err(problem) => RevokeInvitationPayload {
                invitation: None,
                user_errors: vec![problem],
            },
        })
    }

    /// Redeems an invitation code: creates the account with the chosen password
    /// and signs it in. Needs no access token.
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The code and the password to set.")] input: AcceptInvitationInput,
    ) -> Result<SignInPayload> {
        let state = ctx.state();
        let meta = ctx.request_meta();
        let device_label = input.device_label.as_deref().or(meta.user_agent.as_deref());
        let credential = match (input.password, input.id_token) {
            (Some(password), None) => service::Credential::Password(password),
            (None, Some(id_token)) => {
                let nonce = input.nonce.unwrap_or_default();
                match service::verify_id_token_for_link(state.oidc.as_deref(), &id_token, &nonce)
                    .await?
                {
                    Ok(credential) => credential,
                    Err(problem) => return Ok(SignInPayload::from_outcome(Err(problem))),
                }
            }
            _ => {
                return Ok(SignInPayload::from_outcome(Err(UserError::general(
                    UserErrorCode::ExactlyOneRequired,
                    "Give either a password or an idToken.",
                ))));
            }
        };
        let outcome = service::accept_invitation(
            &state.db,
            &state.keys,
            &meta,
            &input.code,
            credential,
            device_label,
        )
        .await?;
        Ok(SignInPayload::from_outcome(outcome))
    }

    /// Signs in with an ID token from the municipality's e-ID broker, as the
    /// account linked to that identity. Needs no access token.
    async fn login_with_id_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ID token and the nonce the app sent.")] input: LoginWithIdTokenInput,
    ) -> Result<SignInPayload> {
        let state = ctx.state();
        let meta = ctx.request_meta();
        let device_label = input.device_label.as_deref().or(meta.user_agent.as_deref());
        let outcome = service::login_with_id_token(
            &state.db,
            &state.keys,
            state.oidc.as_deref(),
            &meta,
            &input.id_token,
            &input.nonce,
            device_label,
        )
        .await?;
        Ok(SignInPayload::from_outcome(outcome))
    }

    /// Deactivates an account (admins of its tenant). Its sessions end at once.
    async fn deactivate_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account to deactivate.")] input: DeactivateUserInput,
    ) -> Result<DeactivateUserPayload> {
        let principal = ctx.viewer().principal()?;
        let id = GlobalId::expect(&input.user_id, NodeKind::User, &["input", "userId"])?;
        let user =
            service::deactivate_user(&ctx.state().db, principal, &ctx.request_meta(), id).await?;
        Ok(DeactivateUserPayload {
            user: Some(user.into()),
            user_errors: Vec::new(),
        })
    }
}

fn invite_payload(
    outcome: Result<(entity::invitation::Model, String), crate::graphql::UserError>,
) -> InvitePayload {
    match outcome {
        Ok((invitation, code)) => InvitePayload {
            invitation: Some(invitation.into()),
            code: Some(code),
            user_errors: Vec::new(),
        },
        Err(problem) => InvitePayload {
            invitation: None,
            code: None,
            user_errors: vec![problem],
        },
    }
}

/// The role a family member's login gets.
fn member_role(kind: entity::family_member::MemberKind) -> entity::user_account::Role {
    use entity::{family_member::MemberKind, user_account::Role};
    match kind {
        MemberKind::Guardian => Role::Guardian,
        MemberKind::Child => Role::YoungPerson,
        MemberKind::NetworkMember => Role::NetworkMember,
    }
}
