//! What each role of an organisation may do: the one matrix every function asks. The
//! README shows it as a table; the scenarios try each cell, allowed and refused.

use crate::domain::people::account::{Membership, Role};
use crate::{error::Error, error::ErrorCode, error::Result};

/// Something a member may be allowed to do in an organisation's space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// List the members, invite, resend or cancel invitations, change roles, remove a
    /// member, reset a member's second factor.
    ManageMembers,
    /// Change the entity's details and security settings.
    ManageOrganisation,
    /// See the members and their roles.
    SeeMembers,
    /// See and download the organisation's invoices and the renewals billed to it.
    ReadInvoices,
    /// Accept the terms for the organisation.
    AcceptTerms,
    /// Act for the organisation's subscriptions (all of them, not only one's own).
    ActForSubscriptions,
    /// See and use one's own subscriptions in the space.
    OwnSubscriptions,
}

impl Permission {
    /// Every permission, for the matrix and its tests.
    pub const ALL: [Permission; 7] = [
        Permission::ManageMembers,
        Permission::ManageOrganisation,
        Permission::SeeMembers,
        Permission::ReadInvoices,
        Permission::AcceptTerms,
        Permission::ActForSubscriptions,
        Permission::OwnSubscriptions,
    ];
}

/// Whether one role grants a permission.
pub fn grants(role: Role, permission: Permission) -> bool {
    use Permission::*;
    match role {
        Role::Administrator => matches!(permission, ManageMembers | ManageOrganisation | SeeMembers | OwnSubscriptions),
        Role::BillingContact => matches!(permission, ReadInvoices | OwnSubscriptions),
        Role::LegalRepresentative => matches!(permission, AcceptTerms | SeeMembers | OwnSubscriptions),
        Role::Agent => matches!(permission, ActForSubscriptions | OwnSubscriptions),
        Role::ServerCertificateContact | Role::User => matches!(permission, OwnSubscriptions),
    }
}

/// Whether any of `roles` grants `permission`.
pub fn allows(roles: &[Role], permission: Permission) -> bool {
    roles.iter().any(|r| grants(*r, permission))
}

/// `Ok` when the membership grants `permission`, `role_required` otherwise.
pub fn require(membership: &Membership, permission: Permission) -> Result<()> {
    if allows(&membership.roles, permission) {
        Ok(())
    } else {
        Err(Error::new(ErrorCode::RoleRequired))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_matches_the_readme() {
        let readme = include_str!("../../../../README.md");
        for permission in Permission::ALL {
            let granted: Vec<String> = [
                Role::Administrator,
                Role::LegalRepresentative,
                Role::BillingContact,
                Role::Agent,
                Role::ServerCertificateContact,
                Role::User,
            ]
            .into_iter()
            .map(|role| if grants(role, permission) { "yes" } else { "—" }.to_owned())
            .collect();
            let row = format!("| `{permission:?}` | {} |", granted.join(" | "));
            assert!(readme.contains(&row), "README lacks the row: {row}");
        }
    }
}
