//! The demo municipality: ready accounts of every role for newcomers and for
//! manual testing. Idempotent: running it again adds only what is missing.
//! Every later capability adds its demo data here.

use chrono::Utc;
use entity::{
    organisation, organisation::OrganisationKind, tenant, user_account, user_account::Role,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use uuid::Uuid;

use crate::auth::password;

/// The password of every demo account. Demo data only: never in production.
pub const DEMO_PASSWORD: &str = "demo-password-2026";

/// The demo municipality's fixed id (so re-seeding finds it).
pub const DEMO_TENANT_ID: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001);
/// A second municipality, so that cross-tenant isolation can be tried by hand.
pub const OTHER_TENANT_ID: Uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0002);

struct DemoOrganisation {
    id: u128,
    tenant: Uuid,
    name: &'static str,
    kind: OrganisationKind,
}

/// One demo login.
pub struct DemoAccount {
    pub email: &'static str,
    pub display_name: &'static str,
    pub role: Role,
    tenant: Uuid,
    organisation: Option<u128>,
}

const SOCIAL_SERVICES: u128 = 0x0193_0000_0000_7000_8000_0000_0001_0001;
const SCHOOL: u128 = 0x0193_0000_0000_7000_8000_0000_0001_0002;
const CHILD_PSYCHIATRY: u128 = 0x0193_0000_0000_7000_8000_0000_0001_0003;
const HABILITATION: u128 = 0x0193_0000_0000_7000_8000_0000_0001_0004;
const PRESCHOOL: u128 = 0x0193_0000_0000_7000_8000_0000_0001_0005;
const OTHER_SOCIAL_SERVICES: u128 = 0x0193_0000_0000_7000_8000_0000_0002_0001;

fn organisations() -> [DemoOrganisation; 6] {
    [
        DemoOrganisation {
            id: SOCIAL_SERVICES,
            tenant: DEMO_TENANT_ID,
            name: "Exempelby socialtjänst",
            kind: OrganisationKind::SocialServices,
        },
        DemoOrganisation {
            id: SCHOOL,
            tenant: DEMO_TENANT_ID,
            name: "Ekbackens skola",
            kind: OrganisationKind::School,
        },
        DemoOrganisation {
            id: CHILD_PSYCHIATRY,
            tenant: DEMO_TENANT_ID,
            name: "BUP Exempelby",
            kind: OrganisationKind::ChildPsychiatry,
        },
        DemoOrganisation {
            id: HABILITATION,
            tenant: DEMO_TENANT_ID,
            name: "Barn- och ungdomshabiliteringen",
            kind: OrganisationKind::Habilitation,
        },
        DemoOrganisation {
            id: PRESCHOOL,
            tenant: DEMO_TENANT_ID,
            name: "Solrosens förskola",
            kind: OrganisationKind::Preschool,
        },
        DemoOrganisation {
            id: OTHER_SOCIAL_SERVICES,
            tenant: OTHER_TENANT_ID,
            name: "Grannby socialtjänst",
            kind: OrganisationKind::SocialServices,
        },
    ]
}

/// Every demo login, as listed in the README.
pub fn accounts() -> Vec<DemoAccount> {
    let demo = DEMO_TENANT_ID;
    vec![
        DemoAccount {
            email: "admin@exempelby.example",
            display_name: "Eva Admin",
            role: Role::Admin,
            tenant: demo,
            organisation: Some(SOCIAL_SERVICES),
        },
        DemoAccount {
            email: "teamlead@exempelby.example",
            display_name: "Maria Lind",
            role: Role::TeamLead,
            tenant: demo,
            organisation: Some(SOCIAL_SERVICES),
        },
        DemoAccount {
            email: "caseworker@exempelby.example",
            display_name: "Anna Berg",
            role: Role::Caseworker,
            tenant: demo,
            organisation: Some(SOCIAL_SERVICES),
        },
        DemoAccount {
            email: "partner@exempelby.example",
            display_name: "Johan Ek",
            role: Role::Caseworker,
            tenant: demo,
            organisation: Some(SOCIAL_SERVICES),
        },
        DemoAccount {
            email: "therapist@exempelby.example",
            display_name: "Karin Holm",
            role: Role::FamilyTherapist,
            tenant: demo,
            organisation: Some(SOCIAL_SERVICES),
        },
        DemoAccount {
            email: "teacher@exempelby.example",
            display_name: "Lars Svensson",
            role: Role::AgencyProfessional,
            tenant: demo,
            organisation: Some(SCHOOL),
        },
        DemoAccount {
            email: "bup@exempelby.example",
            display_name: "Dr. Nadia Karimi",
            role: Role::AgencyProfessional,
            tenant: demo,
            organisation: Some(CHILD_PSYCHIATRY),
        },
        DemoAccount {
            email: "guardian@exempelby.example",
            display_name: "Sara Nilsson",
            role: Role::Guardian,
            tenant: demo,
            organisation: None,
        },
        DemoAccount {
            email: "guardian2@exempelby.example",
            display_name: "Ali Hassan",
            role: Role::Guardian,
            tenant: demo,
            organisation: None,
        },
        DemoAccount {
            email: "young@exempelby.example",
            display_name: "Elias Nilsson",
            role: Role::YoungPerson,
            tenant: demo,
            organisation: None,
        },
        DemoAccount {
            email: "network@exempelby.example",
            display_name: "Birgitta Nilsson",
            role: Role::NetworkMember,
            tenant: demo,
            organisation: None,
        },
        DemoAccount {
            email: "caseworker@grannby.example",
            display_name: "Per Grann",
            role: Role::Caseworker,
            tenant: OTHER_TENANT_ID,
            organisation: Some(OTHER_SOCIAL_SERVICES),
        },
    ]
}

/// What `seed` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub tenants_created: usize,
    pub organisations_created: usize,
    pub accounts_created: usize,
}

/// Loads the demo municipality; adds only what is missing, in one transaction.
pub async fn seed(db: &DatabaseConnection) -> anyhow::Result<SeedReport> {
    let mut report = SeedReport::default();
    let missing_accounts: Vec<DemoAccount> = {
        let mut missing = Vec::new();
        for account in accounts() {
            let exists = user_account::Entity::find()
                .filter(user_account::Column::Email.eq(account.email))
                .one(db)
                .await?
                .is_some();
            if !exists {
                missing.push(account);
            }
        }
        missing
    };
    // One hash for all demo accounts: argon2 is deliberately slow.
    let password_hash = if missing_accounts.is_empty() {
        String::new()
    } else {
        tokio::task::spawn_blocking(|| password::hash_password(DEMO_PASSWORD))
            .await?
            .map_err(|e| anyhow::anyhow!("hashing the demo password: {e}"))?
    };

    let now = Utc::now();
    let txn = db.begin().await?;
    for (id, name) in [
        (DEMO_TENANT_ID, "Exempelby kommun"),
        (OTHER_TENANT_ID, "Grannby kommun"),
    ] {
        if tenant::Entity::find_by_id(id).one(&txn).await?.is_none() {
            tenant::ActiveModel {
                id: Set(id),
                name: Set(name.to_owned()),
                time_zone: Set("Europe/Stockholm".to_owned()),
                created_at: Set(now),
            }
            .insert(&txn)
            .await?;
            report.tenants_created += 1;
        }
    }
    for org in organisations() {
        let id = Uuid::from_u128(org.id);
        if organisation::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .is_none()
        {
            organisation::ActiveModel {
                id: Set(id),
                tenant_id: Set(org.tenant),
                name: Set(org.name.to_owned()),
                kind: Set(org.kind),
                created_at: Set(now),
            }
            .insert(&txn)
            .await?;
            report.organisations_created += 1;
        }
    }
    for account in missing_accounts {
        user_account::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(account.tenant),
            organisation_id: Set(account.organisation.map(Uuid::from_u128)),
            email: Set(account.email.to_owned()),
            display_name: Set(account.display_name.to_owned()),
            role: Set(account.role),
            password_hash: Set(Some(password_hash.clone())),
            external_issuer: Set(None),
            external_subject: Set(None),
            created_at: Set(now),
            disabled_at: Set(None),
        }
        .insert(&txn)
        .await?;
        report.accounts_created += 1;
    }
    txn.commit().await?;
    Ok(report)
}
