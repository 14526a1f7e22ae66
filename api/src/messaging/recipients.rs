//! Who hears of a new message, and how: the rule in one place, as a plain
//! function of the case's people.

use entity::conversation::ConversationKind;
use uuid::Uuid;

use crate::events::service::Notify;

/// The people of a case who may hear of a message.
#[derive(Debug, Clone, Default)]
pub struct CasePeople {
    pub primary_caseworker: Uuid,
    pub partner_caseworker: Option<Uuid>,
    pub therapists: Vec<Uuid>,
    pub team_lead: Option<Uuid>,
    /// The family members the conversation lists.
    pub family_participants: Vec<Uuid>,
    /// Professionals with a live `MESSAGES` consent (care-team conversations).
    pub consented_professionals: Vec<Uuid>,
    /// Who of them is away now.
    pub away: Vec<Uuid>,
}

/// One person who gets the message in their event stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recipient {
    pub user_id: Uuid,
    pub notify: Notify,
    /// A partner caseworker hearing of it because the primary is away.
    pub covering: bool,
}

/// Who gets a new message of a conversation of `kind`, written by `author`.
///
/// - The family members the conversation lists, and the primary caseworker,
///   are notified (after their quiet hours). Family therapists too, except
///   in a young person's private conversation.
/// - The partner caseworker sees it in their stream, and is notified while
///   the primary caseworker is away (covering); an away primary is not.
/// - Care-team conversations also notify consented professionals.
/// - Urgent help notifies at once, whatever quiet hours or away periods say,
///   the primary and partner caseworker and the team lead included.
pub fn recipients(
    kind: ConversationKind,
    people: &CasePeople,
    author: Uuid,
    urgent: bool,
) -> Vec<Recipient> {
    let normal = if urgent {
        Notify::Now
    } else {
        Notify::RespectingQuietHours
    };
    let primary_away = people.away.contains(&people.primary_caseworker);
    let mut out: Vec<Recipient> = Vec::new();
    let mut add = |user_id: Uuid, notify: Notify, covering: bool| {
        if user_id != author && !out.iter().any(|r| r.user_id == user_id) {
            out.push(Recipient {
                user_id,
                notify,
                covering,
            });
        }
    };
    if kind != ConversationKind::CareTeam {
        for member in &people.family_participants {
            add(*member, normal, false);
        }
    }
    let primary_notify = if primary_away && !urgent {
        Notify::No
    } else {
        normal
    };
    add(people.primary_caseworker, primary_notify, false);
    if let Some(partner) = people.partner_caseworker {
        let (notify, covering) = match (urgent, primary_away) {
            (true, _) => (Notify::Now, primary_away),
            (false, true) => (Notify::RespectingQuietHours, true),
            (false, false) => (Notify::No, false),
        };
        add(partner, notify, covering);
    }
    if kind != ConversationKind::YoungPerson {
        for therapist in &people.therapists {
            add(*therapist, normal, false);
        }
    }
    if kind == ConversationKind::CareTeam {
        for professional in &people.consented_professionals {
            add(*professional, normal, false);
        }
    }
    if urgent && let Some(lead) = people.team_lead {
        add(lead, Notify::Now, false);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Ids {
        primary: Uuid,
        partner: Uuid,
        therapist: Uuid,
        lead: Uuid,
        guardian: Uuid,
        young: Uuid,
        school: Uuid,
    }

    fn people(away: Vec<Uuid>) -> (CasePeople, Ids) {
        let ids = Ids {
            primary: Uuid::now_v7(),
            partner: Uuid::now_v7(),
            therapist: Uuid::now_v7(),
            lead: Uuid::now_v7(),
            guardian: Uuid::now_v7(),
            young: Uuid::now_v7(),
            school: Uuid::now_v7(),
        };
        (
            CasePeople {
                primary_caseworker: ids.primary,
                partner_caseworker: Some(ids.partner),
                therapists: vec![ids.therapist],
                team_lead: Some(ids.lead),
                family_participants: vec![ids.guardian],
                consented_professionals: vec![ids.school],
                away,
            },
            ids,
        )
    }

    fn notify_of(list: &[Recipient], user: Uuid) -> Option<Notify> {
        list.iter().find(|r| r.user_id == user).map(|r| r.notify)
    }

    #[test]
    fn a_family_message_notifies_the_caseworker_and_therapist_not_the_partner_or_lead() {
        let (people, ids) = people(vec![]);
        let list = recipients(ConversationKind::Family, &people, ids.guardian, false);
        assert_eq!(notify_of(&list, ids.guardian), None, "not the author");
        assert_eq!(
            notify_of(&list, ids.primary),
            Some(Notify::RespectingQuietHours)
        );
        assert_eq!(
            notify_of(&list, ids.therapist),
            Some(Notify::RespectingQuietHours)
        );
        assert_eq!(notify_of(&list, ids.partner), Some(Notify::No));
        assert_eq!(notify_of(&list, ids.lead), None);
        assert_eq!(notify_of(&list, ids.school), None);
    }

    #[test]
    fn while_the_primary_is_away_the_partner_is_notified_as_cover() {
        let (mut people, ids) = people(vec![]);
        people.away = vec![ids.primary];
        let list = recipients(ConversationKind::Family, &people, ids.guardian, false);
        assert_eq!(notify_of(&list, ids.primary), Some(Notify::No));
        let partner = list.iter().find(|r| r.user_id == ids.partner);
        assert_eq!(
            partner.map(|r| (r.notify, r.covering)),
            Some((Notify::RespectingQuietHours, true))
        );
    }

    #[test]
    fn urgent_help_reaches_primary_partner_and_lead_at_once() {
        let (mut people, ids) = people(vec![]);
        people.away = vec![ids.primary];
        people.family_participants = vec![ids.young];
        let list = recipients(ConversationKind::YoungPerson, &people, ids.young, true);
        for user in [ids.primary, ids.partner, ids.lead] {
            assert_eq!(notify_of(&list, user), Some(Notify::Now));
        }
        assert_eq!(
            notify_of(&list, ids.therapist),
            None,
            "private from therapists"
        );
    }

    #[test]
    fn a_care_team_message_reaches_consented_professionals_not_the_family() {
        let (people, ids) = people(vec![]);
        let list = recipients(ConversationKind::CareTeam, &people, ids.primary, false);
        assert_eq!(
            notify_of(&list, ids.school),
            Some(Notify::RespectingQuietHours)
        );
        assert_eq!(notify_of(&list, ids.guardian), None);
        assert_eq!(notify_of(&list, ids.primary), None, "the author");
    }
}
