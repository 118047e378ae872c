//! The rules a category's fields must meet, in one place for every door: the admin form and
//! the JSON API read their own formats into [`CategoryFields`], and
//! [`CategoryFields::validate`] decides and makes the [`CategoryEdit`] the services take.
//! Problems come back per field, as catalogue keys; the services add their own (a taken or
//! reserved address, a parent below the category itself).

use bantin_app::CategoryEdit;
use bantin_core::{CategoryId, CategoryStatus, Slug, nfc};
use bantin_store::Category;

use crate::article_input::FieldErrors;

/// Longest title, in characters.
pub(crate) const TITLE_MAX: usize = 200;
/// Longest description, in characters.
pub(crate) const DESCRIPTION_MAX: usize = 1000;

/// A category's fields, read from a form or a request body but not yet judged.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CategoryFields<'a> {
    pub title: &'a str,
    /// Empty: made from the title.
    pub slug: &'a str,
    /// One line; line breaks become spaces.
    pub description: &'a str,
    /// `Some(None)`: at the top; `None`: the client sent something that did not parse.
    pub parent: Option<Option<CategoryId>>,
    pub hidden: bool,
}

/// Trimmed, NFC, at most `max` characters, no control characters.
fn clean(s: &str, max: usize) -> Option<String> {
    let s = nfc(s.trim());
    (s.chars().count() <= max && !s.chars().any(char::is_control)).then_some(s)
}

impl CategoryFields<'_> {
    /// The category the fields describe, its parent one of `categories`; else each field's
    /// problem (keyed `title`, `slug`, `description`, `parent`).
    pub(crate) fn validate(&self, categories: &[Category]) -> Result<CategoryEdit, FieldErrors> {
        let mut errors = FieldErrors::new();
        let title = clean(self.title, TITLE_MAX).filter(|t| !t.is_empty());
        if title.is_none() {
            errors.insert("title", "categories.bad_title");
        }
        let slug = if self.slug.trim().is_empty() {
            title.as_deref().and_then(|t| Slug::from_title(t).ok())
        } else {
            Slug::parse(self.slug.trim()).ok()
        };
        if slug.is_none() {
            errors.insert("slug", "categories.bad_slug");
        }
        let description = clean(
            &self.description.replace(['\r', '\n'], " "),
            DESCRIPTION_MAX,
        );
        if description.is_none() {
            errors.insert("description", "categories.bad_description");
        }
        let parent = self
            .parent
            .filter(|p| p.is_none_or(|p| categories.iter().any(|c| c.id == p)));
        if parent.is_none() {
            errors.insert("parent", "categories.bad_parent");
        }
        match (title, slug, description, parent) {
            (Some(title), Some(slug), Some(description), Some(parent)) if errors.is_empty() => {
                Ok(CategoryEdit {
                    parent,
                    slug,
                    title,
                    description,
                    status: if self.hidden {
                        CategoryStatus::Hidden
                    } else {
                        CategoryStatus::Active
                    },
                })
            }
            _ => Err(errors),
        }
    }
}
