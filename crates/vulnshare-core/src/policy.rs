//! Authorization policy: who may read or change what. Every server route asks one of these
//! questions before touching an object; the answers never depend on I/O.

use crate::organization::OrganizationKind;
use crate::report::{ReportState, TransitionActor};
use crate::tlp::Tlp;
use crate::token::TokenScope;
use crate::user::Role;

/// The authenticated caller, as policy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user.
    pub user_id: String,
    /// The user's organization.
    pub org_id: String,
    /// Its kind.
    pub org_kind: OrganizationKind,
    /// Whether its membership is active (not suspended or expelled).
    pub membership_active: bool,
    /// The user's roles.
    pub roles: Vec<Role>,
    /// The scopes of the credential used.
    pub scopes: Vec<TokenScope>,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The credential lacks a scope.
    #[error("this token lacks the {} scope", .0.as_str())]
    Scope(TokenScope),
    /// The caller lacks a role or relationship to the object.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The object is not visible to the caller; answer as if it did not exist.
    #[error("not found")]
    Hidden,
}

impl Actor {
    /// Whether the caller holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Platform staff: analysts, the regulator and platform administrators act on every
    /// organization's submitted reports.
    pub fn is_staff(&self) -> bool {
        self.has(Role::Analyst) || self.has(Role::Regulator) || self.has(Role::PlatformAdmin)
    }

    /// Requires a token scope.
    pub fn require_scope(&self, scope: TokenScope) -> Result<(), Denied> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(Denied::Scope(scope))
        }
    }

    /// Creating organizations and changing memberships: platform administrators.
    pub fn can_manage_organizations(&self) -> Result<(), Denied> {
        self.require_scope(TokenScope::Admin)?;
        if self.has(Role::PlatformAdmin) {
            Ok(())
        } else {
            Err(Denied::Forbidden(
                "only platform administrators manage organizations",
            ))
        }
    }

    /// Seeing an organization's users.
    pub fn can_view_members(&self, org_id: &str) -> Result<(), Denied> {
        self.require_scope(TokenScope::Read)?;
        if self.org_id == org_id || self.has(Role::PlatformAdmin) || self.has(Role::Regulator) {
            Ok(())
        } else {
            Err(Denied::Hidden)
        }
    }

    /// Creating or disabling an organization's users.
    pub fn can_manage_users(&self, org_id: &str) -> Result<(), Denied> {
        self.require_scope(TokenScope::Admin)?;
        if self.has(Role::PlatformAdmin) {
            return Ok(());
        }
        if self.org_id != org_id {
            return Err(Denied::Hidden);
        }
        if self.has(Role::OrgAdmin) && self.membership_active {
            Ok(())
        } else {
            Err(Denied::Forbidden(
                "only the organization's administrators manage its users",
            ))
        }
    }

    /// Granting `role`: platform roles only by platform administrators.
    pub fn can_grant(&self, role: Role) -> Result<(), Denied> {
        if role.is_platform_role() && !self.has(Role::PlatformAdmin) {
            Err(Denied::Forbidden(
                "only platform administrators grant platform roles",
            ))
        } else {
            Ok(())
        }
    }

    /// Reading an organization's products.
    pub fn can_read_products(&self, org_id: &str) -> Result<(), Denied> {
        self.require_scope(TokenScope::Read)?;
        if self.org_id == org_id || self.is_staff() {
            Ok(())
        } else {
            Err(Denied::Hidden)
        }
    }

    /// Registering or changing an organization's products.
    pub fn can_write_products(&self, org_id: &str) -> Result<(), Denied> {
        self.require_scope(TokenScope::Write)?;
        if self.org_id != org_id {
            return Err(Denied::Hidden);
        }
        if !self.membership_active {
            return Err(Denied::Forbidden(
                "a suspended or expelled member cannot change products",
            ));
        }
        if !matches!(
            self.org_kind,
            OrganizationKind::Provider | OrganizationKind::Operator
        ) {
            return Err(Denied::Forbidden(
                "only providers and operators register products",
            ));
        }
        if self.has(Role::OrgAdmin) || self.has(Role::Member) {
            Ok(())
        } else {
            Err(Denied::Forbidden(
                "registering products needs the member or org_admin role",
            ))
        }
    }

    /// Filing a report. Suspended members keep this duty (and right): the platform must still
    /// receive what they know.
    pub fn can_file_reports(&self) -> Result<(), Denied> {
        self.require_scope(TokenScope::Write)?;
        if self.has(Role::Member) || self.has(Role::OrgAdmin) {
            Ok(())
        } else {
            Err(Denied::Forbidden(
                "filing reports needs the member or org_admin role",
            ))
        }
    }

    /// Reading a report filed by `reporter_org_id` in `state`. Drafts are the reporter's own;
    /// staff see everything submitted. (TLP-based sharing with other members is decided by
    /// the sharing rules, which build on this.)
    pub fn can_read_report(&self, reporter_org_id: &str, state: ReportState) -> Result<(), Denied> {
        self.require_scope(TokenScope::Read)?;
        if self.org_id == reporter_org_id || (self.is_staff() && state != ReportState::Draft) {
            Ok(())
        } else {
            Err(Denied::Hidden)
        }
    }

    /// Editing a draft.
    pub fn can_edit_report(&self, reporter_org_id: &str) -> Result<(), Denied> {
        self.require_scope(TokenScope::Write)?;
        if self.org_id != reporter_org_id {
            return Err(Denied::Hidden);
        }
        self.can_file_reports()
    }

    /// How the caller relates to a report for state transitions; `None` when it cannot see it.
    pub fn transition_actor(
        &self,
        reporter_org_id: &str,
        state: ReportState,
    ) -> Result<TransitionActor, Denied> {
        self.require_scope(TokenScope::Write)?;
        if self.has(Role::Analyst) || self.has(Role::Regulator) {
            if self.org_id == reporter_org_id && state == ReportState::Draft {
                return Ok(TransitionActor::Reporter);
            }
            if state != ReportState::Draft {
                return Ok(TransitionActor::Staff);
            }
        }
        if self.org_id == reporter_org_id && (self.has(Role::Member) || self.has(Role::OrgAdmin)) {
            return Ok(TransitionActor::Reporter);
        }
        self.can_read_report(reporter_org_id, state)?;
        Err(Denied::Forbidden(
            "you may read this report but not change its state",
        ))
    }

    /// Reading the audit log: the regulator and platform administrators.
    pub fn can_read_audit(&self) -> Result<(), Denied> {
        self.require_scope(TokenScope::Read)?;
        if self.has(Role::Regulator) || self.has(Role::PlatformAdmin) {
            Ok(())
        } else {
            Err(Denied::Forbidden(
                "only the regulator and platform administrators read the audit log",
            ))
        }
    }
}

impl Actor {
    /// Reading a report shared with the caller's organization (not its own, not as staff),
    /// under the TLP rules: CLEAR to everyone; GREEN to active members; AMBER and AMBER+STRICT
    /// to active members whose organization takes part (e.g. owns an affected product); RED
    /// only to named participants, which sharing rules decide elsewhere. Suspended and expelled
    /// members see TLP:CLEAR only.
    pub fn can_read_shared(&self, tlp: Tlp, participant: bool) -> Result<(), Denied> {
        self.require_scope(TokenScope::Read)?;
        let allowed = match tlp {
            Tlp::Clear => return Ok(()),
            Tlp::Green => true,
            Tlp::Amber | Tlp::AmberStrict => participant,
            Tlp::Red => false,
        };
        if !allowed {
            return Err(Denied::Hidden);
        }
        if self.membership_active {
            Ok(())
        } else {
            Err(Denied::Forbidden(
                "your organization's membership is suspended or expelled: it sees TLP:CLEAR information only",
            ))
        }
    }

    /// Reading an organization's obligations: its own members, the regulator and platform
    /// administrators.
    pub fn can_read_obligations(&self, org_id: &str) -> Result<(), Denied> {
        self.require_scope(TokenScope::Read)?;
        if self.org_id == org_id || self.has(Role::Regulator) || self.has(Role::PlatformAdmin) {
            Ok(())
        } else {
            Err(Denied::Hidden)
        }
    }

    /// The platform-wide compliance view and the list of violations: the regulator.
    pub fn can_read_compliance(&self) -> Result<(), Denied> {
        self.require_scope(TokenScope::Read)?;
        if self.has(Role::Regulator) {
            Ok(())
        } else {
            Err(Denied::Forbidden(
                "only the regulator sees platform-wide compliance and violations",
            ))
        }
    }

    /// Deciding a warning, suspension, expulsion or reinstatement: the regulator.
    pub fn can_decide_sanctions(&self) -> Result<(), Denied> {
        self.require_scope(TokenScope::Write)?;
        if self.has(Role::Regulator) {
            Ok(())
        } else {
            Err(Denied::Forbidden("only the regulator decides sanctions"))
        }
    }

    /// Choosing the regimes an organization is under: platform administrators, or that
    /// organization's administrators.
    pub fn can_manage_regimes(&self, org_id: &str) -> Result<(), Denied> {
        self.require_scope(TokenScope::Admin)?;
        if self.has(Role::PlatformAdmin) {
            return Ok(());
        }
        if self.org_id != org_id {
            return Err(Denied::Hidden);
        }
        if self.has(Role::OrgAdmin) {
            Ok(())
        } else {
            Err(Denied::Forbidden(
                "only the organization's administrators choose its regimes",
            ))
        }
    }

    /// Uploading a custom regime: platform administrators.
    pub fn can_upload_regimes(&self) -> Result<(), Denied> {
        self.require_scope(TokenScope::Admin)?;
        if self.has(Role::PlatformAdmin) {
            Ok(())
        } else {
            Err(Denied::Forbidden(
                "only platform administrators upload regimes",
            ))
        }
    }
}

#[cfg(test)]
mod obligation_policy_tests {
    use super::*;

    fn actor(org: &str, roles: &[Role], active: bool) -> Actor {
        Actor {
            user_id: "u".into(),
            org_id: org.into(),
            org_kind: OrganizationKind::Provider,
            membership_active: active,
            roles: roles.to_vec(),
            scopes: vec![TokenScope::Read, TokenScope::Write, TokenScope::Admin],
        }
    }

    #[test]
    fn suspended_members_see_clear_only() {
        let active = actor("a", &[Role::Member], true);
        let suspended = actor("a", &[Role::Member], false);
        assert!(active.can_read_shared(Tlp::Amber, true).is_ok());
        assert!(active.can_read_shared(Tlp::Green, false).is_ok());
        assert_eq!(
            active.can_read_shared(Tlp::Amber, false),
            Err(Denied::Hidden)
        );
        assert_eq!(active.can_read_shared(Tlp::Red, true), Err(Denied::Hidden));
        assert!(suspended.can_read_shared(Tlp::Clear, false).is_ok());
        assert!(matches!(
            suspended.can_read_shared(Tlp::Amber, true),
            Err(Denied::Forbidden(_))
        ));
        assert!(matches!(
            suspended.can_read_shared(Tlp::Green, false),
            Err(Denied::Forbidden(_))
        ));
    }

    #[test]
    fn only_the_regulator_sanctions_and_sees_compliance() {
        let regulator = actor("r", &[Role::Regulator], true);
        let admin = actor("p", &[Role::PlatformAdmin], true);
        let member = actor("a", &[Role::OrgAdmin, Role::Member], true);
        assert!(regulator.can_decide_sanctions().is_ok());
        assert!(regulator.can_read_compliance().is_ok());
        assert!(admin.can_decide_sanctions().is_err());
        assert!(member.can_read_compliance().is_err());
        assert!(member.can_read_obligations("a").is_ok());
        assert_eq!(member.can_read_obligations("b"), Err(Denied::Hidden));
        assert!(regulator.can_read_obligations("a").is_ok());
        assert!(member.can_manage_regimes("a").is_ok());
        assert_eq!(member.can_manage_regimes("b"), Err(Denied::Hidden));
        assert!(admin.can_manage_regimes("b").is_ok());
        assert!(member.can_upload_regimes().is_err());
        assert!(admin.can_upload_regimes().is_ok());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(org: &str, kind: OrganizationKind, roles: &[Role]) -> Actor {
        Actor {
            user_id: "u".into(),
            org_id: org.into(),
            org_kind: kind,
            membership_active: true,
            roles: roles.to_vec(),
            scopes: vec![TokenScope::Read, TokenScope::Write, TokenScope::Admin],
        }
    }

    #[test]
    fn other_organizations_cannot_see_drafts_or_products() {
        let a = actor("a", OrganizationKind::Provider, &[Role::Member]);
        assert_eq!(
            a.can_read_report("b", ReportState::Submitted),
            Err(Denied::Hidden)
        );
        assert_eq!(a.can_read_products("b"), Err(Denied::Hidden));
        assert!(a.can_read_report("a", ReportState::Draft).is_ok());
    }

    #[test]
    fn staff_see_submitted_reports_but_not_drafts() {
        let s = actor("p", OrganizationKind::Coordinator, &[Role::Analyst]);
        assert!(s.can_read_report("a", ReportState::Submitted).is_ok());
        assert_eq!(
            s.can_read_report("a", ReportState::Draft),
            Err(Denied::Hidden)
        );
        assert_eq!(
            s.transition_actor("a", ReportState::Submitted),
            Ok(TransitionActor::Staff)
        );
    }

    #[test]
    fn scopes_narrow_roles() {
        let mut a = actor("a", OrganizationKind::Provider, &[Role::OrgAdmin]);
        a.scopes = vec![TokenScope::Read];
        assert_eq!(a.can_file_reports(), Err(Denied::Scope(TokenScope::Write)));
        assert_eq!(
            a.can_manage_users("a"),
            Err(Denied::Scope(TokenScope::Admin))
        );
    }

    #[test]
    fn org_admins_manage_only_their_own_users_and_grant_no_platform_roles() {
        let a = actor("a", OrganizationKind::Provider, &[Role::OrgAdmin]);
        assert!(a.can_manage_users("a").is_ok());
        assert_eq!(a.can_manage_users("b"), Err(Denied::Hidden));
        assert!(a.can_grant(Role::Regulator).is_err());
        let m = actor("a", OrganizationKind::Provider, &[Role::Member]);
        assert!(matches!(m.can_manage_users("a"), Err(Denied::Forbidden(_))));
    }

    #[test]
    fn suspended_members_cannot_change_products_but_can_still_report() {
        let mut a = actor("a", OrganizationKind::Provider, &[Role::Member]);
        a.membership_active = false;
        assert!(a.can_write_products("a").is_err());
        assert!(a.can_file_reports().is_ok());
    }

    #[test]
    fn researchers_cannot_register_products() {
        let a = actor("a", OrganizationKind::Researcher, &[Role::OrgAdmin]);
        assert!(matches!(
            a.can_write_products("a"),
            Err(Denied::Forbidden(_))
        ));
    }
}
