//! The newsroom's articles: the list (filters, counts by status, "mine"), writing a new one,
//! the edit form (content, categories, times and options; saved with the revision it started
//! from, so a stale save is refused and the text kept), workflow actions, the edit lock's
//! heartbeat and autosave. The rules are the services'; this module reads forms and renders.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Json, Redirect, Response};
use bantin_app::{AppError, Editing};
use bantin_core::access::Capability;
use bantin_core::time::{format_local_input, parse_local_input};
use bantin_core::workflow::{Action, ExpiryAction, Subject, next_status};
use bantin_core::{
    ArticleId, ArticleStatus, CategoryId, SanitizedHtml, Slug, format_date_time, nfc,
};
use bantin_store::{Article, ArticleFilter, ArticleOptions, NewArticle};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::page::{Notice, refusal, render_status, stale};
use crate::auth::CurrentUser;
use crate::extract::{CsrfForm, CsrfProtected, Parsed, user_of};
use crate::layout::ser;
use crate::{AppState, WebError};

/// Rows per page of the list.
const PAGE: i64 = 50;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ListQuery {
    status: String,
    category: String,
    mine: String,
    q: String,
    trang: String,
}

#[derive(Serialize)]
struct Row {
    id: i64,
    title: String,
    status: String,
    status_label: String,
    category: String,
    publish: String,
    updated: String,
}

/// The categories an account may write in, for the forms.
async fn writable_categories(
    state: &AppState,
    cu: &CurrentUser,
) -> Result<Vec<minijinja::Value>, WebError> {
    Ok(state
        .store()
        .categories()
        .await?
        .into_iter()
        .filter(|c| cu.rights.allows(Capability::Write, Some(c.id)))
        .map(|c| context! { id => c.id.get(), title => c.title })
        .collect())
}

/// `GET /admin/articles`.
pub(crate) async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let cat = state.catalog();
    if [&q.status, &q.category, &q.mine, &q.q, &q.trang]
        .iter()
        .any(|s| s.len() > 200)
    {
        return Err(WebError::BadRequest(cat.get("form.malformed").to_owned()));
    }
    let page: i64 = q.trang.parse().unwrap_or(1).clamp(1, 10_000);
    let filter = ArticleFilter {
        status: q.status.parse().ok(),
        scope: cu.rights.category_scope().map(<[CategoryId]>::to_vec),
        category: q.category.parse().ok(),
        author: (q.mine == "1").then_some(cu.user.id),
        title: Some(q.q.trim().to_owned()).filter(|t| !t.is_empty()),
        ..ArticleFilter::default()
    };
    let rows = state
        .store()
        .newsroom_articles(&filter, PAGE + 1, (page - 1) * PAGE)
        .await?;
    let more = rows.len() as i64 > PAGE;
    let categories = state.store().categories().await?;
    let zone = &state.settings().zone;
    let title_of = |id: CategoryId| {
        categories
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.title.clone())
            .unwrap_or_default()
    };
    let rows: Vec<Row> = rows
        .iter()
        .take(PAGE as usize)
        .map(|a| Row {
            id: a.id.get(),
            title: a.title.clone(),
            status: a.status().as_str().to_owned(),
            status_label: cat
                .get(&format!("status.{}", a.status().as_str()))
                .to_owned(),
            category: title_of(a.category_id),
            publish: format_date_time(a.publish_at, zone),
            updated: format_date_time(a.updated_at, zone),
        })
        .collect();
    let scope = cu.rights.category_scope();
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for (c, status, n) in state.store().article_counts().await? {
        if scope.is_none_or(|s| s.contains(&c)) {
            *counts.entry(status).or_default() += n;
        }
    }
    let statuses: Vec<_> = ArticleStatus::ALL
        .iter()
        .map(|s| {
            context! {
                value => s.as_str(),
                label => cat.get(&format!("status.{}", s.as_str())),
                n => counts.get(s.as_str()).copied().unwrap_or(0),
            }
        })
        .collect();
    // Links and the form echo the filter as understood, never unknown values as sent.
    let status_value = filter.status.map_or("", ArticleStatus::as_str).to_owned();
    let category_value = filter.category.map(|c| c.to_string()).unwrap_or_default();
    let mine_value = if filter.author.is_some() { "1" } else { "" };
    let query = |p: i64| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("status", &status_value)
            .append_pair("category", &category_value)
            .append_pair("mine", mine_value)
            .append_pair("q", &q.q)
            .append_pair("trang", &p.to_string())
            .finish()
    };
    render_status(
        &state,
        Some(&cu),
        StatusCode::OK,
        "admin/articles.html",
        cat.get("articles.title"),
        context! {
            rows => ser(rows),
            statuses => statuses,
            categories => writable_categories(&state, &cu).await?,
            f => context! { status => status_value.clone(), category => category_value.clone(), mine => filter.author.is_some(), q => q.q.clone() },
            next => more.then(|| query(page + 1)),
            prev => (page > 1).then(|| query(page - 1)),
        },
    )
}

/// What the edit form sends. Fields not typed arrive empty.
#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub(crate) struct ArticleForm {
    #[serde(skip_serializing)]
    csrf: String,
    title: String,
    slug: String,
    lead: String,
    body: String,
    category: String,
    #[serde(rename = "extra")]
    extra: Vec<String>,
    tags: String,
    author: String,
    source: String,
    image_url: String,
    image_alt: String,
    image_caption: String,
    publish_at: String,
    expire_at: String,
    expiry_action: String,
    allow_rating: String,
    show_on_home: String,
    revision: String,
}

impl CsrfProtected for ArticleForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }

    /// The form again, everything typed kept.
    async fn refused(self, state: &AppState, parts: &Parts) -> Response {
        let Some(cu) = user_of(parts) else {
            return WebError::Refused(StatusCode::FORBIDDEN, stale(state)).into_response();
        };
        let id = parts
            .uri
            .path()
            .trim_start_matches("/admin/articles/")
            .parse::<ArticleId>()
            .ok();
        let errors = BTreeMap::from([("form".to_owned(), stale(state))]);
        edit_page(state, cu, id, &self, &errors, StatusCode::FORBIDDEN, None)
            .await
            .unwrap_or_else(IntoResponse::into_response)
    }
}

/// Longest title, in characters.
const TITLE_MAX: usize = 300;

fn clean(s: &str, max: usize) -> Option<String> {
    let s = nfc(s.trim());
    (s.chars().count() <= max && !s.chars().any(|c| c.is_control() && c != '\n' && c != '\r'))
        .then_some(s)
}

/// A picture address an article may use: our media, or http(s).
fn image_url_ok(u: &str) -> bool {
    u.len() <= 2048
        && !u.chars().any(|c| c.is_control() || c.is_whitespace())
        && (u.starts_with("/media/") || u.starts_with("https://") || u.starts_with("http://"))
}

impl ArticleForm {
    fn of(a: &Article, tags: &[String], extra: &[CategoryId], state: &AppState) -> Self {
        let zone = &state.settings().zone;
        let o = a.options();
        Self {
            csrf: String::new(),
            title: a.title.clone(),
            slug: a.slug.clone(),
            lead: a.lead.clone(),
            body: a.body().into_string(),
            category: a.category_id.to_string(),
            extra: extra.iter().map(ToString::to_string).collect(),
            tags: tags.join(", "),
            author: a.author.clone(),
            source: a.source.clone(),
            image_url: a.image_url.clone().unwrap_or_default(),
            image_alt: a.image_alt.clone(),
            image_caption: a.image_caption.clone(),
            publish_at: format_local_input(a.publish_at, zone),
            expire_at: a
                .expire_at
                .map(|t| format_local_input(t, zone))
                .unwrap_or_default(),
            expiry_action: match o.expiry_action {
                ExpiryAction::Archive => "archive",
                ExpiryAction::Unpublish => "unpublish",
            }
            .to_owned(),
            allow_rating: if o.allow_rating { "1" } else { "" }.to_owned(),
            show_on_home: if o.show_on_home { "1" } else { "" }.to_owned(),
            revision: a.revision.to_string(),
        }
    }

    /// The article the form describes, or each field's problem (keyed by field name).
    fn parse(
        &self,
        state: &AppState,
        cu: &CurrentUser,
        status: ArticleStatus,
    ) -> Result<NewArticle, BTreeMap<String, String>> {
        let cat = state.catalog();
        let zone = &state.settings().zone;
        let mut errors = BTreeMap::new();
        let mut bad = |field: &str, key: &str| {
            errors.insert(field.to_owned(), cat.get(key).to_owned());
        };
        let title = clean(&self.title, TITLE_MAX).filter(|t| !t.is_empty());
        if title.is_none() {
            bad("title", "article.bad_title");
        }
        let slug = if self.slug.trim().is_empty() {
            title.as_deref().and_then(|t| Slug::from_title(t).ok())
        } else {
            Slug::parse(self.slug.trim()).ok()
        };
        if slug.is_none() {
            bad("slug", "article.bad_slug");
        }
        let text = |s: &str, max| clean(s, max);
        let (lead, author, source, alt, caption) = (
            text(&self.lead, 2000),
            text(&self.author, 300),
            text(&self.source, 300),
            text(&self.image_alt, 300),
            text(&self.image_caption, 1000),
        );
        for (v, field) in [
            (&lead, "lead"),
            (&author, "author"),
            (&source, "source"),
            (&alt, "image_alt"),
            (&caption, "image_caption"),
        ] {
            if v.is_none() {
                bad(field, "article.too_long");
            }
        }
        if self.body.len() > 2 * 1024 * 1024 {
            bad("body", "article.too_long");
        }
        let image_url = self.image_url.trim();
        if !image_url.is_empty() && !image_url_ok(image_url) {
            bad("image_url", "article.bad_image_url");
        }
        let category = self
            .category
            .parse::<CategoryId>()
            .ok()
            .filter(|c| cu.rights.allows(Capability::Write, Some(*c)));
        if category.is_none() {
            bad("category", "article.bad_category");
        }
        let extra: Option<Vec<CategoryId>> = self
            .extra
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<CategoryId>()
                    .ok()
                    .filter(|c| cu.rights.allows(Capability::Write, Some(*c)))
            })
            .collect();
        if extra.is_none() {
            bad("extra", "article.bad_category");
        }
        let tags: Vec<String> = self
            .tags
            .split(',')
            .map(|t| nfc(t.trim()))
            .filter(|t| !t.is_empty())
            .collect();
        if tags.len() > 20 || tags.iter().any(|t| t.chars().count() > 60) {
            bad("tags", "article.bad_tags");
        }
        let publish_at = if self.publish_at.trim().is_empty() {
            Some(state.now())
        } else {
            parse_local_input(&self.publish_at, zone)
        };
        if publish_at.is_none() {
            bad("publish_at", "article.bad_time");
        }
        let expire_at = if self.expire_at.trim().is_empty() {
            Some(None)
        } else {
            parse_local_input(&self.expire_at, zone).map(Some)
        };
        match (publish_at, expire_at) {
            (_, None) => bad("expire_at", "article.bad_time"),
            (Some(p), Some(Some(e))) if e <= p => bad("expire_at", "article.expiry_before_publish"),
            _ => {}
        }
        let expiry_action = match self.expiry_action.as_str() {
            "unpublish" => ExpiryAction::Unpublish,
            _ => ExpiryAction::Archive,
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let (
            Some(title),
            Some(slug),
            Some(category_id),
            Some(extra),
            Some(publish_at),
            Some(expire_at),
        ) = (title, slug, category, extra, publish_at, expire_at)
        else {
            return Err(errors);
        };
        Ok(NewArticle {
            title,
            slug,
            lead: lead.unwrap_or_default(),
            body: SanitizedHtml::sanitize(&self.body),
            image_url: Some(image_url.to_owned()).filter(|u| !u.is_empty()),
            image_alt: alt.unwrap_or_default(),
            image_caption: caption.unwrap_or_default(),
            author: author.unwrap_or_default(),
            source: source.unwrap_or_default(),
            tags,
            status,
            publish_at,
            expire_at,
            category_id,
            extra_category_ids: extra.into_iter().filter(|c| *c != category_id).collect(),
            options: ArticleOptions {
                expiry_action,
                allow_rating: self.allow_rating == "1",
                show_on_home: self.show_on_home == "1",
            },
        })
    }
}

/// The edit page (`id`: `None` for a new article), with the form as typed and its problems.
async fn edit_page(
    state: &AppState,
    cu: &CurrentUser,
    id: Option<ArticleId>,
    form: &ArticleForm,
    errors: &BTreeMap<String, String>,
    status: StatusCode,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let cat = state.catalog();
    let article = match id {
        Some(id) => Some(state.store().article(id).await?.ok_or(WebError::NotFound)?),
        None => None,
    };
    let mut actions = Vec::new();
    let mut lock = None;
    let mut current = None;
    if let Some(a) = &article {
        let subject = Subject {
            status: a.status(),
            category: a.category_id,
            own: a.created_by == Some(cu.user.id),
            publish_at: a.publish_at,
        };
        for action in Action::ALL {
            if action != Action::Save
                && next_status(&cu.rights, &subject, action, true, state.now()).is_ok()
            {
                actions.push(context! {
                    value => action.as_str(),
                    label => cat.get(&format!("action.{}", action.as_str())),
                });
            }
        }
        lock = match state
            .app()
            .open_for_editing(&cu.actor(), &cu.rights, a.id, false)
            .await
        {
            Ok(Editing::Mine(_)) => None,
            Ok(Editing::HeldBy(l)) => {
                let who = state.store().user(l.user_id).await?;
                Some(context! {
                    who => who.map(|u| if u.display_name.is_empty() { u.username } else { u.display_name }),
                    since => format_date_time(l.acquired_at, &state.settings().zone),
                    can_take_over => cu.rights.allows(Capability::Publish, Some(a.category_id)),
                })
            }
            Err(_) => None,
        };
        // A stale save shows the version saved meanwhile beside the user's text.
        if errors.contains_key("stale") {
            current = Some(context! {
                title => a.title.clone(),
                lead => a.lead.clone(),
                body => a.body().into_string(),
                revision => a.revision,
            });
        }
    }
    let title = article
        .as_ref()
        .map_or_else(|| cat.get("articles.new").to_owned(), |a| a.title.clone());
    let mut res = render_status(
        state,
        Some(cu),
        status,
        "admin/article_edit.html",
        &title,
        context! {
            id => id.map(ArticleId::get),
            form => ser(form),
            errors => ser(errors),
            notice => notice,
            status => article.as_ref().map(|a| cat.get(&format!("status.{}", a.status().as_str())).to_owned()),
            rejection => article.as_ref().map(|a| a.rejection_reason.clone()).filter(|r| !r.is_empty()),
            categories => writable_categories(state, cu).await?,
            actions => actions,
            lock => lock,
            current => current,
            editor_js => state.assets().url("editor.js"),
            editor_css => state.assets().url("editor.css"),
            article_js => state.assets().url("article.js"),
        },
    )?;
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// `GET /admin/articles/new`.
pub(crate) async fn new_form(
    State(state): State<AppState>,
    cu: CurrentUser,
) -> Result<Response, WebError> {
    let form = ArticleForm {
        publish_at: format_local_input(state.now(), &state.settings().zone),
        allow_rating: "1".to_owned(),
        show_on_home: "1".to_owned(),
        expiry_action: "archive".to_owned(),
        ..ArticleForm::default()
    };
    edit_page(
        &state,
        &cu,
        None,
        &form,
        &BTreeMap::new(),
        StatusCode::OK,
        None,
    )
    .await
}

/// `POST /admin/articles`: a new draft.
pub(crate) async fn create(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(f): CsrfForm<ArticleForm>,
) -> Result<Response, WebError> {
    let a = match f.parse(&state, &cu, ArticleStatus::Draft) {
        Ok(a) => a,
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
    match state.app().create_article(&cu.actor(), &a).await {
        Ok(id) => Ok(Redirect::to(&format!("/admin/articles/{id}?tb=luu")).into_response()),
        Err(e) => {
            let (status, m) = refusal(&state, e)?;
            let errors = BTreeMap::from([("form".to_owned(), m)]);
            edit_page(&state, &cu, None, &f, &errors, status, None).await
        }
    }
}

/// `GET /admin/articles/{id}`: the edit form (and the edit lock).
pub(crate) async fn edit_form(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<ArticleId>,
    Query(q): Query<Notice>,
) -> Result<Response, WebError> {
    let a = state.store().article(id).await?.ok_or(WebError::NotFound)?;
    if !cu.rights.allows(Capability::Write, Some(a.category_id)) {
        return Err(WebError::Refused(
            StatusCode::FORBIDDEN,
            state.catalog().get("admin.forbidden").to_owned(),
        ));
    }
    let tags = state.store().article_tags(id).await?;
    let extra = state.store().extra_categories(id).await?;
    let form = ArticleForm::of(&a, &tags, &extra, &state);
    edit_page(
        &state,
        &cu,
        Some(id),
        &form,
        &BTreeMap::new(),
        StatusCode::OK,
        q.text(&state),
    )
    .await
}

/// `POST /admin/articles/{id}`: saves the form from the revision it names.
pub(crate) async fn save(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<ArticleId>,
    CsrfForm(f): CsrfForm<ArticleForm>,
) -> Result<Response, WebError> {
    let status = state
        .store()
        .article(id)
        .await?
        .ok_or(WebError::NotFound)?
        .status();
    let a = match f.parse(&state, &cu, status) {
        Ok(a) => a,
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
    let Ok(base) = f.revision.parse::<i64>() else {
        return Err(WebError::BadRequest(
            state.catalog().get("form.malformed").to_owned(),
        ));
    };
    match state
        .app()
        .save_article(&cu.actor(), &cu.rights, id, &a, base)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/admin/articles/{id}?tb=luu")).into_response()),
        Err(AppError::Stale(_)) => {
            let errors = BTreeMap::from([(
                "stale".to_owned(),
                state.catalog().get("article.stale").to_owned(),
            )]);
            edit_page(
                &state,
                &cu,
                Some(id),
                &f,
                &errors,
                StatusCode::CONFLICT,
                None,
            )
            .await
        }
        Err(e) => {
            let (status, m) = refusal(&state, e)?;
            let errors = BTreeMap::from([("form".to_owned(), m)]);
            edit_page(&state, &cu, Some(id), &f, &errors, status, None).await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ActionForm {
    csrf: String,
    action: String,
    reason: String,
}

impl CsrfProtected for ActionForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /admin/articles/{id}/action`: submit, approve, reject (with a reason), unpublish,
/// trash, restore.
pub(crate) async fn action(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<ArticleId>,
    CsrfForm(f): CsrfForm<ActionForm>,
) -> Result<Response, WebError> {
    let action: Action = f
        .action
        .parse()
        .map_err(|e: bantin_core::workflow::WorkflowError| WebError::BadRequest(e.to_string()))?;
    if f.reason.chars().count() > 1000 {
        return Err(WebError::BadRequest(
            state.catalog().get("article.too_long").to_owned(),
        ));
    }
    state
        .app()
        .transition(&cu.actor(), &cu.rights, id, action, &f.reason)
        .await
        .map_err(|e| WebError::from_app(e, state.catalog()))?;
    Ok(Redirect::to(&format!("/admin/articles/{id}?tb=luu")).into_response())
}

/// `POST /admin/articles/{id}/take-over`: an editor-in-chief takes the edit lock.
pub(crate) async fn take_over(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<ArticleId>,
    CsrfForm(_): CsrfForm<crate::extract::TokenOnly>,
) -> Result<Response, WebError> {
    state
        .app()
        .open_for_editing(&cu.actor(), &cu.rights, id, true)
        .await
        .map_err(|e| WebError::from_app(e, state.catalog()))?;
    Ok(Redirect::to(&format!("/admin/articles/{id}")).into_response())
}

/// The CSRF token of a script's request (`X-CSRF-Token`).
fn header_token_ok(state: &AppState, cu: &CurrentUser, headers: &axum::http::HeaderMap) -> bool {
    headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| cu.csrf_ok(state, t))
}

/// `POST /admin/articles/{id}/lock`: the open editor's heartbeat; says who holds the lock.
pub(crate) async fn heartbeat(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<ArticleId>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    if !header_token_ok(&state, &cu, &headers) {
        return Err(WebError::Refused(StatusCode::FORBIDDEN, stale(&state)));
    }
    let editing = state
        .app()
        .open_for_editing(&cu.actor(), &cu.rights, id, false)
        .await
        .map_err(|e| WebError::from_app(e, state.catalog()))?;
    let (mine, holder) = match editing {
        Editing::Mine(_) => (true, None),
        Editing::HeldBy(l) => (false, Some(l.user_id.get())),
    };
    Ok(Json(serde_json::json!({ "mine": mine, "holder": holder })).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct AutosaveForm {
    revision: String,
    content: String,
}

/// `POST /admin/articles/{id}/autosave`: keeps the editor's unsaved fields (JSON in
/// `content`) on the server.
pub(crate) async fn autosave(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<ArticleId>,
    headers: axum::http::HeaderMap,
    crate::extract::StrictForm(f): crate::extract::StrictForm<AutosaveForm>,
) -> Result<Response, WebError> {
    if !header_token_ok(&state, &cu, &headers) {
        return Err(WebError::Refused(StatusCode::FORBIDDEN, stale(&state)));
    }
    let base: i64 = f
        .revision
        .parse()
        .map_err(|_| WebError::BadRequest(state.catalog().get("form.malformed").to_owned()))?;
    if serde_json::from_str::<serde_json::Value>(&f.content).is_err() {
        return Err(WebError::BadRequest(
            state.catalog().get("form.malformed").to_owned(),
        ));
    }
    let at = state
        .app()
        .autosave(&cu.actor(), id, base, &f.content)
        .await
        .map_err(|e| WebError::from_app(e, state.catalog()))?;
    Ok(Json(serde_json::json!({ "ok": true, "at": at.as_second() })).into_response())
}
