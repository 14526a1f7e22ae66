use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvent::Table)
                    .col(pk_uuid(AuditEvent::Id))
                    .col(uuid(AuditEvent::ChainId))
                    .col(big_integer(AuditEvent::Seq))
                    .col(uuid_null(AuditEvent::TenantId))
                    .col(timestamp_with_time_zone(AuditEvent::OccurredAt))
                    .col(uuid_null(AuditEvent::ActorUserId))
                    .col(string_len(AuditEvent::Action, 64))
                    .col(string_len_null(AuditEvent::SubjectType, 32))
                    .col(uuid_null(AuditEvent::SubjectId))
                    .col(uuid_null(AuditEvent::CaseId))
                    .col(string_len_null(AuditEvent::RequestId, 64))
                    .col(string_len_null(AuditEvent::Detail, 200))
                    .col(string_len(AuditEvent::PrevHash, 64))
                    .col(string_len(AuditEvent::Hash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_event_chain_seq")
                    .table(AuditEvent::Table)
                    .col(AuditEvent::ChainId)
                    .col(AuditEvent::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Paging a tenant's trail, newest first (ids are time-ordered UUIDv7).
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_event_tenant_id")
                    .table(AuditEvent::Table)
                    .col(AuditEvent::TenantId)
                    .col(AuditEvent::Id)
                    .to_owned(),
            )
            .await?;
        // A family's view of who accessed their case.
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_event_case_id")
                    .table(AuditEvent::Table)
                    .col(AuditEvent::CaseId)
                    .col(AuditEvent::Id)
                    .to_owned(),
            )
            .await?;

        // The head of each hash chain; the row is locked while appending so that
        // concurrent appends stay in one line.
        manager
            .create_table(
                Table::create()
                    .table(AuditChainHead::Table)
                    .col(pk_uuid(AuditChainHead::ChainId))
                    .col(big_integer(AuditChainHead::LastSeq))
                    .col(string_len(AuditChainHead::LastHash, 64))
                    .to_owned(),
            )
            .await?;

        // Append-only in the database too, not only in the application.
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION audit_event_is_append_only() RETURNS trigger AS $$
                     BEGIN RAISE EXCEPTION 'audit_event is append-only'; END;
                     $$ LANGUAGE plpgsql",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_event_no_update_or_delete
                     BEFORE UPDATE OR DELETE ON audit_event
                     FOR EACH ROW EXECUTE FUNCTION audit_event_is_append_only()",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
                     BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
                     BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditChainHead::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AuditEvent::Table).to_owned())
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS audit_event_is_append_only()")
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Id,
    ChainId,
    Seq,
    TenantId,
    OccurredAt,
    ActorUserId,
    Action,
    SubjectType,
    SubjectId,
    CaseId,
    RequestId,
    Detail,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditChainHead {
    Table,
    ChainId,
    LastSeq,
    LastHash,
}
