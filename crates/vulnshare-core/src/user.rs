//! Users: people acting for one organization, with the roles that policy checks.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::organization::OrganizationKind;
use crate::validation::{Collector, Invalid};

/// What a user may do. Several roles may be held at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Files and reads their organization's reports and products.
    Member,
    /// Manages their organization's users, tokens and products.
    OrgAdmin,
    /// Platform staff who triage and coordinate reports of every organization.
    Analyst,
    /// Staff of the regulator: sees everything, decides sanctions.
    Regulator,
    /// Operates the platform: creates organizations, grants platform roles.
    PlatformAdmin,
}

impl Role {
    /// Every role, in order.
    pub const ALL: [Role; 5] = [
        Role::Member,
        Role::OrgAdmin,
        Role::Analyst,
        Role::Regulator,
        Role::PlatformAdmin,
    ];

    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::OrgAdmin => "org_admin",
            Role::Analyst => "analyst",
            Role::Regulator => "regulator",
            Role::PlatformAdmin => "platform_admin",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether the role acts platform-wide rather than for its own organization.
    pub fn is_platform_role(self) -> bool {
        matches!(self, Role::Analyst | Role::Regulator | Role::PlatformAdmin)
    }

    /// Whether a user of an organization of `kind` may hold this role at all.
    pub fn allowed_for(self, kind: OrganizationKind) -> bool {
        match self {
            Role::Member | Role::OrgAdmin => true,
            Role::Regulator => kind == OrganizationKind::Regulator,
            Role::Analyst | Role::PlatformAdmin => kind == OrganizationKind::Coordinator,
        }
    }
}

/// Encodes roles as a comma-separated list for storage.
pub fn roles_to_string(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Decodes the stored comma-separated list; unknown names are skipped.
pub fn roles_from_string(s: &str) -> Vec<Role> {
    s.split(',').filter_map(Role::parse).collect()
}

/// A user as stored (without credentials).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Stable identifier.
    pub id: String,
    /// The organization the user acts for.
    pub organization_id: String,
    /// Login e-mail address, unique on the platform.
    pub email: String,
    /// Name shown to others.
    pub display_name: String,
    /// Roles held.
    pub roles: Vec<Role>,
    /// Whether the account may sign in.
    pub disabled: bool,
    /// When it was created.
    pub created_at: Timestamp,
}

impl User {
    /// Whether the user holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// Input to create a user.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Login e-mail address.
    pub email: String,
    /// Name shown to others.
    pub display_name: String,
    /// Initial password (at least 12 characters).
    pub password: String,
    /// Roles to grant; defaults to `member`.
    #[serde(default)]
    pub roles: Vec<Role>,
}

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted (argon2 input is bounded to keep hashing cheap to refuse).
pub const MAX_PASSWORD_CHARS: usize = 256;

impl NewUser {
    /// Validates and normalises the input; `org_kind` is the kind of the user's organization.
    pub fn validate(self, org_kind: OrganizationKind) -> Result<NewUser, Invalid> {
        let mut c = Collector::default();
        let email = self.email.trim().to_ascii_lowercase();
        if !is_email(&email) {
            c.push("email", "must be an e-mail address like name@example.org");
        }
        let display_name = c.text("display_name", &self.display_name, 200);
        check_password(&mut c, "password", &self.password);
        let mut roles = if self.roles.is_empty() {
            vec![Role::Member]
        } else {
            self.roles
        };
        roles.sort();
        roles.dedup();
        for role in &roles {
            if !role.allowed_for(org_kind) {
                c.push(
                    "roles",
                    format!(
                        "role {} cannot be held by a user of a {} organization",
                        role.as_str(),
                        org_kind.as_str()
                    ),
                );
            }
        }
        c.finish(NewUser {
            email,
            display_name,
            password: self.password,
            roles,
        })
    }
}

/// Checks the password policy.
pub fn check_password(c: &mut Collector, field: &str, password: &str) {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        c.push(
            field,
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        );
    } else if n > MAX_PASSWORD_CHARS {
        c.push(
            field,
            format!("must be at most {MAX_PASSWORD_CHARS} characters"),
        );
    }
}

/// A light check of e-mail address shape: one `@`, a dotted domain, no spaces, at most 254 bytes.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    s.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_user(roles: Vec<Role>) -> NewUser {
        NewUser {
            email: " Alice@Example.ORG ".into(),
            display_name: "Alice".into(),
            password: "correct horse battery".into(),
            roles,
        }
    }

    #[test]
    fn defaults_to_member_and_normalises_email() {
        let u = new_user(vec![])
            .validate(OrganizationKind::Provider)
            .unwrap();
        assert_eq!(u.email, "alice@example.org");
        assert_eq!(u.roles, vec![Role::Member]);
    }

    #[test]
    fn platform_roles_need_the_right_kind_of_organization() {
        let err = new_user(vec![Role::Regulator])
            .validate(OrganizationKind::Provider)
            .unwrap_err();
        assert_eq!(err.0[0].field, "roles");
        assert!(
            new_user(vec![Role::Regulator])
                .validate(OrganizationKind::Regulator)
                .is_ok()
        );
        assert!(
            new_user(vec![Role::PlatformAdmin])
                .validate(OrganizationKind::Operator)
                .is_err()
        );
    }

    #[test]
    fn short_passwords_and_bad_emails_are_refused() {
        let mut u = new_user(vec![]);
        u.password = "short".into();
        u.email = "not-an-email".into();
        let err = u.validate(OrganizationKind::Provider).unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "password"]);
    }

    #[test]
    fn roles_round_trip_through_storage_form() {
        let roles = vec![Role::Member, Role::OrgAdmin];
        assert_eq!(roles_from_string(&roles_to_string(&roles)), roles);
    }
}
