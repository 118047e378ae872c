//! The category tree in the newsroom: the tree with up/down buttons, a new category, and the
//! edit form (title, address, description, parent, hidden). A changed address keeps the old
//! one answering 301; the rules are the services', this module reads forms and renders.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use bantin_app::{AppError, CategoryEdit};
use bantin_core::{CategoryId, CategoryStatus};
use bantin_store::{Category, Direction};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::page::{Notice, StaleForm, refusal, render_status, stale_form};
use crate::auth::CurrentUser;
use crate::category_input::CategoryFields;
use crate::extract::{CsrfForm, CsrfProtected, Parsed};
use crate::layout::ser;
use crate::{AppState, WebError};

/// A row of the tree as the list shows it.
#[derive(Serialize)]
struct Row {
    id: i64,
    title: String,
    slug: String,
    depth: usize,
    /// The indentation class, deep levels sharing the deepest.
    indent: usize,
    hidden: bool,
    first: bool,
    last: bool,
}

/// The tree depth first, each category with its depth, whether it is first and last among
/// its siblings. Bounded by the number of categories, so corrupt data cannot loop.
fn tree(categories: &[Category]) -> Vec<(usize, &Category, bool, bool)> {
    fn walk<'a>(
        all: &'a [Category],
        parent: Option<CategoryId>,
        depth: usize,
        out: &mut Vec<(usize, &'a Category, bool, bool)>,
    ) {
        let children: Vec<&Category> = all.iter().filter(|c| c.parent_id == parent).collect();
        let n = children.len();
        for (i, c) in children.into_iter().enumerate() {
            if out.len() >= all.len() {
                return;
            }
            out.push((depth, c, i == 0, i + 1 == n));
            walk(all, Some(c.id), depth + 1, out);
        }
    }
    let mut out = Vec::new();
    walk(categories, None, 0, &mut out);
    out
}

/// `id` and the categories below it.
fn subtree(categories: &[Category], id: CategoryId) -> Vec<CategoryId> {
    let mut out = vec![id];
    let mut i = 0;
    while i < out.len() && out.len() <= categories.len() {
        let parent = out[i];
        out.extend(
            categories
                .iter()
                .filter(|c| c.parent_id == Some(parent) && c.id != id)
                .map(|c| c.id),
        );
        i += 1;
    }
    out
}

/// `GET /admin/categories`: the tree.
pub(crate) async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<Notice>,
) -> Result<Response, WebError> {
    let categories = state.store().categories().await?;
    let rows: Vec<Row> = tree(&categories)
        .into_iter()
        .map(|(depth, c, first, last)| Row {
            id: c.id.get(),
            title: c.title.clone(),
            slug: c.slug.clone(),
            depth,
            indent: depth.min(5),
            hidden: c.status() == CategoryStatus::Hidden,
            first,
            last,
        })
        .collect();
    render_status(
        &state,
        Some(&cu),
        StatusCode::OK,
        "admin/categories.html",
        state.catalog().get("categories.title"),
        context! { rows => ser(rows), notice => q.text(&state) },
    )
}

/// What the category form sends.
#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub(crate) struct CategoryForm {
    #[serde(skip_serializing)]
    csrf: String,
    title: String,
    slug: String,
    description: String,
    parent: String,
    hidden: String,
}

impl CsrfProtected for CategoryForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }

    /// The form again, everything typed kept.
    async fn refused(self, state: &AppState, parts: &Parts) -> Response {
        let StaleForm { cu, id, errors } =
            match stale_form::<CategoryId>(state, parts, "/admin/categories/") {
                Ok(shown) => shown,
                Err(plain) => return plain.into_response(),
            };
        edit_page(state, cu, id, &self, &errors, StatusCode::FORBIDDEN, None)
            .await
            .unwrap_or_else(IntoResponse::into_response)
    }
}

impl CategoryForm {
    fn of(c: &Category) -> Self {
        Self {
            csrf: String::new(),
            title: c.title.clone(),
            slug: c.slug.clone(),
            description: c.description.clone(),
            parent: c.parent_id.map(|p| p.to_string()).unwrap_or_default(),
            hidden: if c.status() == CategoryStatus::Hidden {
                "1"
            } else {
                ""
            }
            .to_owned(),
        }
    }

    /// The category the form describes, or each field's problem (keyed by field name): the
    /// form's own formats read here, the rules applied by [`CategoryFields::validate`].
    fn parse(
        &self,
        state: &AppState,
        categories: &[Category],
    ) -> Result<CategoryEdit, BTreeMap<String, String>> {
        let fields = CategoryFields {
            title: &self.title,
            slug: &self.slug,
            description: &self.description,
            parent: if self.parent.is_empty() {
                Some(None)
            } else {
                self.parent.parse::<CategoryId>().ok().map(Some)
            },
            hidden: self.hidden == "1",
        };
        fields.validate(categories).map_err(|errors| {
            let cat = state.catalog();
            errors
                .into_iter()
                .map(|(field, key)| (field.to_owned(), cat.get(key).to_owned()))
                .collect()
        })
    }
}

/// The form page (`id`: `None` for a new category) with what was typed and its problems.
async fn edit_page(
    state: &AppState,
    cu: &CurrentUser,
    id: Option<CategoryId>,
    form: &CategoryForm,
    errors: &BTreeMap<String, String>,
    status: StatusCode,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let cat = state.catalog();
    let categories = state.store().categories().await?;
    let current = match id {
        Some(id) => Some(
            categories
                .iter()
                .find(|c| c.id == id)
                .ok_or(WebError::NotFound)?,
        ),
        None => None,
    };
    // A category cannot go under itself or below: those are not offered.
    let excluded = id.map(|id| subtree(&categories, id)).unwrap_or_default();
    let parents: Vec<_> = tree(&categories)
        .into_iter()
        .filter(|(_, c, _, _)| !excluded.contains(&c.id))
        .map(|(depth, c, _, _)| {
            context! {
                id => c.id.get().to_string(),
                title => format!("{}{}", "— ".repeat(depth), c.title),
            }
        })
        .collect();
    let title = current.map_or_else(|| cat.get("categories.new").to_owned(), |c| c.title.clone());
    render_status(
        state,
        Some(cu),
        status,
        "admin/category_edit.html",
        &title,
        context! {
            id => id.map(CategoryId::get),
            url => current.map(crate::site::category_url),
            form => ser(form),
            errors => ser(errors),
            notice => notice,
            parents => parents,
        },
    )
}

/// A service refusal as the field it concerns and its message.
fn field_error(
    state: &AppState,
    e: AppError,
) -> Result<(StatusCode, BTreeMap<String, String>), WebError> {
    let cat = state.catalog();
    let one =
        |field: &str, key: &str| BTreeMap::from([(field.to_owned(), cat.get(key).to_owned())]);
    Ok(match e {
        AppError::SlugTaken => (StatusCode::CONFLICT, one("slug", "form.slug_taken")),
        AppError::CategoryCycle => (StatusCode::CONFLICT, one("parent", "categories.cycle")),
        AppError::UnknownCategory => (
            StatusCode::BAD_REQUEST,
            one("parent", "categories.bad_parent"),
        ),
        e => {
            let (status, m) = refusal(state, e)?;
            (status, BTreeMap::from([("form".to_owned(), m)]))
        }
    })
}

/// `GET /admin/categories/new`.
pub(crate) async fn new_form(
    State(state): State<AppState>,
    cu: CurrentUser,
) -> Result<Response, WebError> {
    edit_page(
        &state,
        &cu,
        None,
        &CategoryForm::default(),
        &BTreeMap::new(),
        StatusCode::OK,
        None,
    )
    .await
}

/// `POST /admin/categories`: a new category, last among its siblings.
pub(crate) async fn create(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(f): CsrfForm<CategoryForm>,
) -> Result<Response, WebError> {
    let categories = state.store().categories().await?;
    let c = match f.parse(&state, &categories) {
        Ok(c) => c,
        Err(errors) => {
            return edit_page(
                &state,
                &cu,
                None,
                &f,
                &errors,
                StatusCode::BAD_REQUEST,
                None,
            )
            .await;
        }
    };
    match state.app().add_category(&cu.actor(), &c).await {
        Ok(id) => Ok(Redirect::to(&format!("/admin/categories/{id}?tb=luu")).into_response()),
        Err(e) => {
            let (status, errors) = field_error(&state, e)?;
            edit_page(&state, &cu, None, &f, &errors, status, None).await
        }
    }
}

/// `GET /admin/categories/{id}`.
pub(crate) async fn edit_form(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<CategoryId>,
    Query(q): Query<Notice>,
) -> Result<Response, WebError> {
    let c = state
        .store()
        .category(id)
        .await?
        .ok_or(WebError::NotFound)?;
    edit_page(
        &state,
        &cu,
        Some(id),
        &CategoryForm::of(&c),
        &BTreeMap::new(),
        StatusCode::OK,
        q.text(&state),
    )
    .await
}

/// `POST /admin/categories/{id}`.
pub(crate) async fn save(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<CategoryId>,
    CsrfForm(f): CsrfForm<CategoryForm>,
) -> Result<Response, WebError> {
    let categories = state.store().categories().await?;
    if !categories.iter().any(|c| c.id == id) {
        return Err(WebError::NotFound);
    }
    let c = match f.parse(&state, &categories) {
        Ok(c) => c,
        Err(errors) => {
            return edit_page(
                &state,
                &cu,
                Some(id),
                &f,
                &errors,
                StatusCode::BAD_REQUEST,
                None,
            )
            .await;
        }
    };
    match state.app().update_category(&cu.actor(), id, &c).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/categories/{id}?tb=luu")).into_response()),
        Err(e) => {
            let (status, errors) = field_error(&state, e)?;
            edit_page(&state, &cu, Some(id), &f, &errors, status, None).await
        }
    }
}

/// What the up/down buttons send.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct MoveForm {
    csrf: String,
    direction: String,
}

impl CsrfProtected for MoveForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /admin/categories/{id}/move`: one step up or down among its siblings.
pub(crate) async fn move_category(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<CategoryId>,
    CsrfForm(f): CsrfForm<MoveForm>,
) -> Result<Response, WebError> {
    let direction = match f.direction.as_str() {
        "up" => Direction::Up,
        "down" => Direction::Down,
        _ => {
            return Err(WebError::BadRequest(
                state.catalog().get("form.malformed").to_owned(),
            ));
        }
    };
    state
        .app()
        .move_category(&cu.actor(), id, direction)
        .await
        .map_err(|e| WebError::from_app(e, state.catalog()))?;
    Ok(Redirect::to(&format!("/admin/categories?tb=da-doi-thu-tu#category-{id}")).into_response())
}
