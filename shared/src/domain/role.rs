//! Roles and permissions: who may do what. The matrix lives here, once;
//! every route names the permission it needs in `http::access`.

use serde::{Deserialize, Serialize};

/// A user's role. Platform roles (operator, product admin) belong to no
/// tenant; the others belong to exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the platform: tenants, health. Never sees tenant content.
    Operator,
    /// The product team: manages each tenant's admins, reads tenant settings.
    ProductAdmin,
    /// An institute's admin: its users, settings and audit log.
    TenantAdmin,
    /// Marketing staff: contacts, lists, templates, campaigns, sending.
    Editor,
    /// Reads reports and read-only views.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Operator,
        Role::ProductAdmin,
        Role::TenantAdmin,
        Role::Editor,
        Role::Viewer,
    ];

    /// Whether users of this role belong to a tenant.
    pub fn is_tenant_role(self) -> bool {
        matches!(self, Role::TenantAdmin | Role::Editor | Role::Viewer)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::ProductAdmin => "product_admin",
            Role::TenantAdmin => "tenant_admin",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(raw: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    /// Whether this role holds the permission.
    pub fn may(self, permission: Permission) -> bool {
        use Permission::*;
        use Role::*;
        match permission {
            Public | SignedIn => true,
            ManageTenants => self == Operator,
            ReadTenants => matches!(self, Operator | ProductAdmin),
            ReadPlatformAudit => self == Operator,
            ManageUsers => matches!(self, ProductAdmin | TenantAdmin),
            ReadAudit | ManageApiKeys => self == TenantAdmin,
            ViewOwnAuditLog => matches!(self, TenantAdmin | Operator),
            ReadContacts | ReadContent => matches!(self, TenantAdmin | Editor | Viewer),
            WriteContacts | SendTestMail | WriteContent => self == Editor,
        }
    }

    /// The roles a user of this role may give to others (and take away).
    pub fn may_grant(self, role: Role) -> bool {
        match self {
            Role::ProductAdmin => role == Role::TenantAdmin,
            Role::TenantAdmin => role.is_tenant_role(),
            _ => false,
        }
    }
}

/// What a route needs. Tenant-scoped permissions also need the tenant in
/// the path to be the user's own (product admins: any tenant, for admins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user (their own account, sign-out).
    SignedIn,
    /// Create, rename, suspend, resume and configure tenants.
    ManageTenants,
    /// Read tenants and their settings.
    ReadTenants,
    /// Read the platform's own audit log.
    ReadPlatformAudit,
    /// Manage the users of a tenant (product admins: its admins only).
    ManageUsers,
    /// Read the tenant's audit log.
    ReadAudit,
    /// Read the audit log of one's own scope: a tenant admin their
    /// tenant's, the operator the platform's (the audit page).
    ViewOwnAuditLog,
    /// Create, list and revoke the tenant's API keys (for integrations).
    ManageApiKeys,
    ReadContacts,
    WriteContacts,
    SendTestMail,
    /// Read templates, assets and campaigns, and preview them.
    ReadContent,
    /// Write templates, assets and campaigns.
    WriteContent,
}

impl Permission {
    /// Whether the permission is about one tenant's data, named in the path.
    pub fn is_tenant_scoped(self) -> bool {
        matches!(
            self,
            Permission::ManageUsers
                | Permission::ReadAudit
                | Permission::ManageApiKeys
                | Permission::ReadContacts
                | Permission::WriteContacts
                | Permission::SendTestMail
                | Permission::ReadContent
                | Permission::WriteContent
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operator_never_holds_a_permission_on_tenant_content() {
        for p in [
            Permission::ReadContacts,
            Permission::WriteContacts,
            Permission::SendTestMail,
            Permission::ReadContent,
            Permission::WriteContent,
            Permission::ReadAudit,
            Permission::ManageUsers,
            Permission::ManageApiKeys,
        ] {
            assert!(!Role::Operator.may(p), "{p:?}");
        }
        assert!(Role::Operator.may(Permission::ManageTenants));
    }

    #[test]
    fn only_a_tenant_admin_manages_api_keys() {
        for role in Role::ALL {
            assert_eq!(
                role.may(Permission::ManageApiKeys),
                role == Role::TenantAdmin,
                "{role:?}"
            );
        }
        assert!(Permission::ManageApiKeys.is_tenant_scoped());
    }

    #[test]
    fn a_tenant_admin_cannot_grant_platform_roles() {
        assert!(!Role::TenantAdmin.may_grant(Role::Operator));
        assert!(!Role::TenantAdmin.may_grant(Role::ProductAdmin));
        assert!(Role::TenantAdmin.may_grant(Role::Editor));
        assert!(Role::ProductAdmin.may_grant(Role::TenantAdmin));
        assert!(!Role::ProductAdmin.may_grant(Role::Editor));
        assert!(!Role::Editor.may_grant(Role::Viewer));
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
