//! Identity mutations.

use async_graphql::{Context, Object, Result};

use super::{
    service,
    types::{AuthTokens, LoginInput, LoginPayload, Viewer},
};
use crate::graphql::ContextExt;

/// `login`.
#[derive(Default)]
pub struct IdentityMutation;

#[Object]
impl IdentityMutation {
    /// Signs in with e-mail and password and opens a session for this device.
    /// A wrong e-mail or password gives the user error `INVALID_CREDENTIALS`.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "E-mail address, password and an optional device label.")]
        input: LoginInput,
    ) -> Result<LoginPayload> {
        let state = ctx.state();
        let meta = ctx.request_meta();
        let device_label = input.device_label.as_deref().or(meta.user_agent.as_deref());
        let outcome = service::login(
            &state.db,
            &state.keys,
            &input.email,
            &input.password,
            device_label,
        )
        .await?;
        Ok(match outcome {
            Ok(signed_in) => LoginPayload {
                tokens: Some(AuthTokens {
                    access_token: signed_in.access_token,
                    access_token_expires_at: signed_in.access_token_expires_at,
                    refresh_token: signed_in.refresh_token,
                    refresh_token_expires_at: signed_in.refresh_token_expires_at,
                }),
                viewer: Some(Viewer {
                    principal: signed_in.principal,
                }),
                user_errors: Vec::new(),
            },
            Err(user_error) => LoginPayload {
                tokens: None,
                viewer: None,
                user_errors: vec![user_error],
            },
        })
    }
}
