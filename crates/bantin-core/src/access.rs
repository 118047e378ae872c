//! Who may do what: roles, capabilities and per-category rights, decided in one place so
//! every admin route and API call asks the same question.

use crate::account::Role;
use crate::ids::CategoryId;

/// Something an account may be allowed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Use the admin area at all: dashboard, own sessions and account.
    SignIn,
    /// Create, edit, disable accounts and assign roles.
    ManageUsers,
    /// Read the audit log.
    ViewAudit,
    /// Change site settings.
    ManageSettings,
    /// Edit the category tree (titles, addresses, order, parents, hiding) and tags (rename,
    /// merge).
    ManageCategories,
    /// Review, approve, schedule, publish and unpublish articles (in a category).
    Publish,
    /// Write articles, edit one's own drafts and submit them for review (in a category).
    Write,
}

impl Role {
    /// Whether the role grants `cap` anywhere (categories aside).
    pub fn grants(self, cap: Capability) -> bool {
        use Capability::*;
        match self {
            Role::Administrator => true,
            Role::EditorInChief => matches!(cap, SignIn | Publish | Write | ManageCategories),
            Role::Editor => matches!(cap, SignIn | Write),
        }
    }
}

/// An account's rights: its role and the categories it may act in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rights {
    /// The role.
    pub role: Role,
    /// Every category (administrators always).
    pub all_categories: bool,
    /// The assigned categories when not `all_categories`.
    pub categories: Vec<CategoryId>,
}

impl Rights {
    /// Whether `cap` is allowed; `category` is the category acted in, for content actions.
    pub fn allows(&self, cap: Capability, category: Option<CategoryId>) -> bool {
        if !self.role.grants(cap) {
            return false;
        }
        match (cap, category) {
            (Capability::Publish | Capability::Write, Some(c)) => {
                self.role == Role::Administrator
                    || self.all_categories
                    || self.categories.contains(&c)
            }
            _ => true,
        }
    }

    /// The categories content actions are limited to, `None` meaning all.
    pub fn category_scope(&self) -> Option<&[CategoryId]> {
        (!(self.role == Role::Administrator || self.all_categories))
            .then_some(self.categories.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rights(role: Role, all: bool, cats: &[i64]) -> Rights {
        Rights {
            role,
            all_categories: all,
            categories: cats.iter().copied().map(CategoryId::new).collect(),
        }
    }

    fn c(id: i64) -> Option<CategoryId> {
        Some(CategoryId::new(id))
    }

    #[test]
    fn roles_and_categories() {
        let admin = rights(Role::Administrator, false, &[]);
        let chief = rights(Role::EditorInChief, false, &[3]);
        let editor = rights(Role::Editor, true, &[]);
        assert!(admin.allows(Capability::ManageUsers, None));
        assert!(admin.allows(Capability::Publish, c(9)));
        assert!(!chief.allows(Capability::ManageUsers, None));
        assert!(!chief.allows(Capability::ViewAudit, None));
        assert!(chief.allows(Capability::ManageCategories, None));
        assert!(admin.allows(Capability::ManageCategories, None));
        assert!(!editor.allows(Capability::ManageCategories, None));
        assert!(chief.allows(Capability::Publish, c(3)));
        assert!(!chief.allows(Capability::Publish, c(4)));
        assert!(editor.allows(Capability::Write, c(4)));
        assert!(!editor.allows(Capability::Publish, c(4)));
        assert!(editor.allows(Capability::SignIn, None));
        assert_eq!(chief.category_scope(), Some(&[CategoryId::new(3)][..]));
        assert_eq!(admin.category_scope(), None);
    }
}
