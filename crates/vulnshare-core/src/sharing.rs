//! Who may see and act on shared material: cases and advisories, under TLP 2.0, embargoes and
//! membership state. Builds on [`Actor::can_read_shared`].

use jiff::Timestamp;

use crate::advisory::Advisory;
use crate::case::{Case, ParticipantRole};
use crate::policy::{Actor, Denied};
use crate::tlp::Tlp;
use crate::token::TokenScope;
use crate::user::Role;

/// TLP rules for a caller who is (or is not) a participant; for TLP:RED, `participant` means a
/// named participant. Extends [`Actor::can_read_shared`], which leaves RED to the sharing rules.
fn read_shared(actor: &Actor, tlp: Tlp, participant: bool) -> Result<(), Denied> {
    if tlp != Tlp::Red {
        return actor.can_read_shared(tlp, participant);
    }
    if !participant {
        return Err(Denied::Hidden);
    }
    // The same membership rule as every other label: only CLEAR for suspended members.
    actor.can_read_shared(Tlp::Green, true)
}

/// Whether the caller may read `case` at `now`: staff always; participants while their
/// membership is active (TLP:RED only for named users); nobody else, and during an embargo
/// certainly nobody else.
pub fn can_read_case(actor: &Actor, case: &Case, _now: Timestamp) -> Result<(), Denied> {
    actor.require_scope(TokenScope::Read)?;
    if actor.is_staff() {
        return Ok(());
    }
    if !case.is_participant(&actor.org_id) {
        return Err(Denied::Hidden);
    }
    let participant = if case.tlp == Tlp::Red {
        case.may_read_red(&actor.org_id, &actor.user_id)
    } else {
        true
    };
    // Case material is never wider than AMBER for participants: it is not public until an
    // advisory publishes it.
    let tlp = if case.tlp < Tlp::Amber {
        Tlp::Amber
    } else {
        case.tlp
    };
    read_shared(actor, tlp, participant)
}

/// Coordinating a case (adding participants, setting the embargo, publishing): platform
/// analysts, the regulator, or the case's coordinator organization.
pub fn can_coordinate(actor: &Actor, case: &Case) -> Result<(), Denied> {
    actor.require_scope(TokenScope::Write)?;
    if actor.has(Role::Analyst) || actor.has(Role::Regulator) || actor.has(Role::PlatformAdmin) {
        return Ok(());
    }
    match case.participant(&actor.org_id) {
        Some(p) if p.role == ParticipantRole::Coordinator && actor.membership_active => Ok(()),
        Some(_) => Err(Denied::Forbidden(
            "only the case's coordinator or platform analysts do this",
        )),
        None => Err(Denied::Hidden),
    }
}

/// Stating a vendor's status: the vendor itself, or staff on its behalf.
pub fn can_respond_for(actor: &Actor, case: &Case, vendor_org_id: &str) -> Result<(), Denied> {
    actor.require_scope(TokenScope::Write)?;
    if actor.is_staff() {
        return Ok(());
    }
    if !case.is_participant(&actor.org_id) {
        return Err(Denied::Hidden);
    }
    if actor.org_id == vendor_org_id {
        Ok(())
    } else {
        Err(Denied::Forbidden("a vendor states only its own status"))
    }
}

/// The decision of [`can_read_advisory`] when it does not depend on the case (TLP:CLEAR, an
/// anonymous caller, a missing scope, platform staff); `None` when the case's participants
/// decide, so callers read the case only then.
pub fn advisory_read_without_case(
    actor: Option<&Actor>,
    advisory: &Advisory,
) -> Option<Result<(), Denied>> {
    if advisory.tlp == Tlp::Clear {
        return Some(Ok(()));
    }
    let Some(actor) = actor else {
        return Some(Err(Denied::Hidden));
    };
    if let Err(denied) = actor.require_scope(TokenScope::Read) {
        return Some(Err(denied));
    }
    actor.is_staff().then_some(Ok(()))
}

/// Whether `actor` (or an anonymous caller) may read `advisory` published from `case`.
pub fn can_read_advisory(
    actor: Option<&Actor>,
    advisory: &Advisory,
    case: &Case,
) -> Result<(), Denied> {
    if let Some(decided) = advisory_read_without_case(actor, advisory) {
        return decided;
    }
    let Some(actor) = actor else {
        return Err(Denied::Hidden);
    };
    let participant = match advisory.tlp {
        Tlp::Red => case.may_read_red(&actor.org_id, &actor.user_id),
        _ => case.is_participant(&actor.org_id),
    };
    read_shared(actor, advisory.tlp, participant)
}

/// Whether `actor` (or an anonymous caller) may see a TAXII collection labelled `tlp` at all:
/// TLP:CLEAR is public; every other collection is for members whose membership is active.
pub fn can_open_collection(actor: Option<&Actor>, tlp: Tlp) -> Result<(), Denied> {
    if tlp == Tlp::Clear {
        return Ok(());
    }
    let Some(actor) = actor else {
        return Err(Denied::Hidden);
    };
    actor.require_scope(TokenScope::Read)?;
    if actor.membership_active {
        Ok(())
    } else {
        Err(Denied::Hidden)
    }
}

/// Whether `actor` (or an anonymous caller) may read a STIX object labelled `tlp` that
/// `owner_org_id` shared: TLP:AMBER(+STRICT) with the owner's organization and platform staff,
/// TLP:RED with the owner's organization only (never staff: RED leaves the platform only to
/// whoever put it there), suspended members TLP:CLEAR only, like every other shared material.
pub fn can_read_shared_object(
    actor: Option<&Actor>,
    tlp: Tlp,
    owner_org_id: &str,
) -> Result<(), Denied> {
    if tlp == Tlp::Clear {
        return Ok(());
    }
    let Some(actor) = actor else {
        return Err(Denied::Hidden);
    };
    let owner = actor.org_id == owner_org_id;
    if tlp == Tlp::Red {
        return if owner {
            actor.can_read_shared(Tlp::Green, true)
        } else {
            Err(Denied::Hidden)
        };
    }
    actor.can_read_shared(tlp, owner || actor.is_staff())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::AdvisoryState;
    use crate::case::{CaseState, Participant};
    use crate::organization::OrganizationKind;

    fn t() -> Timestamp {
        "2021-12-09T00:00:00Z".parse().unwrap()
    }

    fn actor(org: &str, user: &str, roles: &[Role], active: bool) -> Actor {
        Actor {
            user_id: user.into(),
            org_id: org.into(),
            org_kind: OrganizationKind::Provider,
            membership_active: active,
            roles: roles.to_vec(),
            scopes: vec![TokenScope::Read, TokenScope::Write],
        }
    }

    fn case(tlp: Tlp) -> Case {
        let p = |org: &str, role, named: &[&str]| Participant {
            org_id: org.into(),
            role,
            named_users: named.iter().map(|s| s.to_string()).collect(),
            tracking_id: None,
            joined_at: t(),
        };
        Case {
            id: "c".into(),
            title: "t".into(),
            tlp,
            state: CaseState::Open,
            report_ids: vec![],
            restricted_until: None,
            early_publication_approved_at: None,
            created_at: t(),
            participants: vec![
                p("reporter", ParticipantRole::Reporter, &[]),
                p("vendor", ParticipantRole::Vendor, &["alice"]),
                p("coord", ParticipantRole::Coordinator, &[]),
            ],
            vendor_responses: vec![],
            embargo: None,
        }
    }

    fn advisory(tlp: Tlp) -> Advisory {
        Advisory {
            id: "VSA-2021-00001".into(),
            case_id: "c".into(),
            version: 1,
            tlp,
            state: AdvisoryState::Published,
            summary: "s".into(),
            details: "d".into(),
            remediation: "r".into(),
            aliases: vec![],
            affected_packages: vec![],
            affected_products: vec![],
            cvss_vector: None,
            cwes: vec![],
            credits: vec![],
            published_at: t(),
            updated_at: t(),
            withdrawn_reason: None,
            attachments: vec![],
        }
    }

    /// Every cell of (who x TLP x membership) for advisories.
    #[test]
    fn advisory_matrix() {
        let staff = actor("platform", "s", &[Role::Analyst], true);
        let participant = actor("reporter", "r", &[Role::Member], true);
        let named = actor("vendor", "alice", &[Role::Member], true);
        let unnamed = actor("vendor", "bob", &[Role::Member], true);
        let member = actor("other", "o", &[Role::Member], true);
        let suspended_participant = actor("reporter", "r", &[Role::Member], false);
        let suspended_member = actor("other", "o", &[Role::Member], false);
        let c = case(Tlp::Amber);
        // (caller, CLEAR, GREEN, AMBER, AMBER+STRICT, RED)
        let rows: [(Option<&Actor>, [bool; 5]); 8] = [
            (None, [true, false, false, false, false]),
            (Some(&staff), [true, true, true, true, true]),
            (Some(&participant), [true, true, true, true, true]),
            (Some(&named), [true, true, true, true, true]),
            (Some(&unnamed), [true, true, true, true, false]),
            (Some(&member), [true, true, false, false, false]),
            (
                Some(&suspended_participant),
                [true, false, false, false, false],
            ),
            (Some(&suspended_member), [true, false, false, false, false]),
        ];
        let tlps = [
            Tlp::Clear,
            Tlp::Green,
            Tlp::Amber,
            Tlp::AmberStrict,
            Tlp::Red,
        ];
        for (i, (who, expected)) in rows.iter().enumerate() {
            for (j, tlp) in tlps.iter().enumerate() {
                let got = can_read_advisory(*who, &advisory(*tlp), &c).is_ok();
                assert_eq!(got, expected[j], "row {i}, {}", tlp.as_str());
                // Deciding without the case, where that is possible, agrees with the case.
                if let Some(early) = advisory_read_without_case(*who, &advisory(*tlp)) {
                    assert_eq!(early.is_ok(), expected[j], "row {i}, {}", tlp.as_str());
                }
            }
        }
    }

    #[test]
    fn only_members_reading_beyond_clear_need_the_case() {
        let member = actor("other", "o", &[Role::Member], true);
        let staff = actor("platform", "s", &[Role::Analyst], true);
        assert_eq!(
            advisory_read_without_case(None, &advisory(Tlp::Clear)),
            Some(Ok(()))
        );
        assert_eq!(
            advisory_read_without_case(Some(&member), &advisory(Tlp::Clear)),
            Some(Ok(()))
        );
        assert_eq!(
            advisory_read_without_case(None, &advisory(Tlp::Amber)),
            Some(Err(Denied::Hidden))
        );
        assert_eq!(
            advisory_read_without_case(Some(&staff), &advisory(Tlp::Red)),
            Some(Ok(()))
        );
        assert_eq!(
            advisory_read_without_case(Some(&member), &advisory(Tlp::Amber)),
            None
        );
        let mut no_read = member.clone();
        no_read.scopes = vec![TokenScope::Write];
        assert!(matches!(
            advisory_read_without_case(Some(&no_read), &advisory(Tlp::Green)),
            Some(Err(_))
        ));
    }

    #[test]
    fn cases_are_for_participants_and_staff_and_never_for_suspended_members() {
        let c = case(Tlp::Green);
        assert!(can_read_case(&actor("platform", "s", &[Role::Regulator], true), &c, t()).is_ok());
        assert!(can_read_case(&actor("reporter", "r", &[Role::Member], true), &c, t()).is_ok());
        assert_eq!(
            can_read_case(&actor("other", "o", &[Role::Member], true), &c, t()),
            Err(Denied::Hidden)
        );
        assert!(can_read_case(&actor("reporter", "r", &[Role::Member], false), &c, t()).is_err());
        let red = case(Tlp::Red);
        assert!(can_read_case(&actor("vendor", "alice", &[Role::Member], true), &red, t()).is_ok());
        assert!(can_read_case(&actor("vendor", "bob", &[Role::Member], true), &red, t()).is_err());
    }

    #[test]
    fn coordination_and_vendor_statements_are_role_bound() {
        let c = case(Tlp::Amber);
        assert!(can_coordinate(&actor("coord", "c", &[Role::Member], true), &c).is_ok());
        assert!(matches!(
            can_coordinate(&actor("vendor", "alice", &[Role::Member], true), &c),
            Err(Denied::Forbidden(_))
        ));
        assert_eq!(
            can_coordinate(&actor("other", "o", &[Role::Member], true), &c),
            Err(Denied::Hidden)
        );
        assert!(
            can_respond_for(
                &actor("vendor", "alice", &[Role::Member], true),
                &c,
                "vendor"
            )
            .is_ok()
        );
        assert!(
            can_respond_for(&actor("reporter", "r", &[Role::Member], true), &c, "vendor").is_err()
        );
    }

    /// Every cell of (who x TLP x membership) for objects shared through TAXII.
    #[test]
    fn shared_object_matrix() {
        let staff = actor("platform", "s", &[Role::Analyst], true);
        let owner = actor("owner", "o", &[Role::Member], true);
        let member = actor("other", "m", &[Role::Member], true);
        let suspended_owner = actor("owner", "o", &[Role::Member], false);
        // (caller, CLEAR, GREEN, AMBER, AMBER+STRICT, RED)
        let rows: [(Option<&Actor>, [bool; 5]); 5] = [
            (None, [true, false, false, false, false]),
            (Some(&staff), [true, true, true, true, false]),
            (Some(&owner), [true, true, true, true, true]),
            (Some(&member), [true, true, false, false, false]),
            (Some(&suspended_owner), [true, false, false, false, false]),
        ];
        let tlps = [
            Tlp::Clear,
            Tlp::Green,
            Tlp::Amber,
            Tlp::AmberStrict,
            Tlp::Red,
        ];
        for (i, (who, expected)) in rows.iter().enumerate() {
            for (j, tlp) in tlps.iter().enumerate() {
                let got = can_read_shared_object(*who, *tlp, "owner").is_ok();
                assert_eq!(got, expected[j], "row {i}, {}", tlp.as_str());
            }
        }
        assert!(can_open_collection(None, Tlp::Clear).is_ok());
        assert!(can_open_collection(None, Tlp::Green).is_err());
        assert!(can_open_collection(Some(&member), Tlp::Red).is_ok());
        assert!(can_open_collection(Some(&suspended_owner), Tlp::Green).is_err());
    }
}
