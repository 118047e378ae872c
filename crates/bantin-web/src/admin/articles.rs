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
use bantin_core::time::{day_start, format_local_input, parse_local_input};
use bantin_core::workflow::{Action, ExpiryAction, Subject, next_status};
use bantin_core::{ArticleId, ArticleStatus, CategoryId, format_date_time};
use bantin_store::{Article, ArticleFilter, ArticleOptions, ArticleSort, NewArticle};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::page::{Notice, StaleForm, refusal, render_status, stale, stale_form};
use crate::article_input::{self, ArticleFields, FieldErrors};
use crate::auth::CurrentUser;
use crate::extract::{CsrfForm, CsrfProtected, Parsed};
use crate::layout::ser;
use crate::{AppState, WebError};

/// Rows per page of the list.
const PAGE: i64 = 50;

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub(crate) struct ListQuery {
    status: String,
    category: String,
    mine: String,
    author: String,
    from: String,
    to: String,
    sort: String,
    q: String,
    trang: String,
}

impl ListQuery {
    fn too_long(&self) -> bool {
        [
            &self.status,
            &self.category,
            &self.mine,
            &self.author,
            &self.from,
            &self.to,
            &self.sort,
            &self.q,
            &self.trang,
        ]
        .iter()
        .any(|s| s.len() > 200)
    }

    /// The filter as understood; values that mean nothing are dropped, never guessed at.
    fn filter(&self, state: &AppState, cu: &CurrentUser) -> ArticleFilter {
        let zone = &state.settings().zone;
        ArticleFilter {
            status: self.status.parse().ok(),
            scope: cu.rights.category_scope().map(<[CategoryId]>::to_vec),
            category: self.category.parse().ok(),
            author: if self.mine == "1" {
                Some(cu.user.id)
            } else {
                self.author.parse().ok()
            },
            title: Some(self.q.trim().to_owned()).filter(|t| !t.is_empty()),
            from: day_start(&self.from, zone),
            // The "to" day is included: the filter ends where the next day starts.
            until: day_start(&self.to, zone).map(|t| t.plus(86_400)),
            sort: ArticleSort::parse(&self.sort).unwrap_or_default(),
        }
    }

    /// The query string of `filter` at page `page`, echoing what was understood only.
    fn echo(&self, filter: &ArticleFilter, mine: bool, page: i64) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        let mut pair = |k: &str, v: &str| {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        };
        pair("status", filter.status.map_or("", ArticleStatus::as_str));
        pair(
            "category",
            &filter.category.map(|c| c.to_string()).unwrap_or_default(),
        );
        if mine {
            pair("mine", "1");
        } else {
            pair(
                "author",
                &filter.author.map(|a| a.to_string()).unwrap_or_default(),
            );
        }
        if filter.from.is_some() {
            pair("from", self.from.trim());
        }
        if filter.until.is_some() {
            pair("to", self.to.trim());
        }
        if filter.sort != ArticleSort::default() {
            pair("sort", filter.sort.as_str());
        }
        pair("q", self.q.trim());
        if page > 1 {
            pair("trang", &page.to_string());
        }
        q.finish()
    }
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

/// The actions the list offers for several articles at once.
const BULK_ACTIONS: [Action; 5] = [
    Action::Submit,
    Action::Approve,
    Action::Unpublish,
    Action::Trash,
    Action::Restore,
];

/// `GET /admin/articles`.
pub(crate) async fn list(
    State(state): State<AppState>,
    cu: CurrentUser,
    Query(q): Query<ListQuery>,
    Query(notice): Query<BulkNotice>,
) -> Result<Response, WebError> {
    let cat = state.catalog();
    if q.too_long() {
        return Err(WebError::BadRequest(cat.get("form.malformed").to_owned()));
    }
    let page: i64 = q.trang.parse().unwrap_or(1).clamp(1, 10_000);
    let filter = q.filter(&state, &cu);
    let mine = q.mine == "1";
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
    let authors: Vec<_> = state
        .store()
        .users()
        .await?
        .into_iter()
        .map(|u| {
            let name = if u.display_name.is_empty() {
                u.username
            } else {
                u.display_name
            };
            context! { id => u.id.get(), name => name }
        })
        .collect();
    let sorts: Vec<_> = ArticleSort::ALL
        .iter()
        .map(|s| context! { value => s.as_str(), label => cat.get(&format!("articles.sort.{}", s.as_str())) })
        .collect();
    let reviewer = cu.rights.allows(Capability::Publish, None);
    let bulk: Vec<_> = BULK_ACTIONS
        .iter()
        .filter(|a| reviewer || matches!(a, Action::Submit | Action::Trash))
        .map(|a| context! { value => a.as_str(), label => cat.get(&format!("action.{}", a.as_str())) })
        .collect();
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
            authors => authors,
            sorts => sorts,
            bulk => bulk,
            done => notice.text(cat),
            f => context! {
                status => filter.status.map_or("", ArticleStatus::as_str),
                category => filter.category.map(|c| c.to_string()).unwrap_or_default(),
                mine => mine,
                author => if mine { String::new() } else { filter.author.map(|a| a.to_string()).unwrap_or_default() },
                from => if filter.from.is_some() { q.from.trim() } else { "" },
                to => if filter.until.is_some() { q.to.trim() } else { "" },
                sort => filter.sort.as_str(),
                q => q.q.clone(),
            },
            here => q.echo(&filter, mine, page),
            next => more.then(|| q.echo(&filter, mine, page + 1)),
            prev => (page > 1).then(|| q.echo(&filter, mine, page - 1)),
        },
    )
}

/// The outcome of a bulk action, carried to the list in its query string.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct BulkNotice {
    xong: String,
    loi: String,
}

impl BulkNotice {
    fn text(&self, cat: &crate::i18n::Catalog) -> Option<String> {
        let done: u32 = self.xong.parse().ok()?;
        let refused: u32 = self.loi.parse().unwrap_or(0);
        Some(
            cat.get("articles.bulk_done")
                .replace("{done}", &done.to_string())
                .replace("{refused}", &refused.to_string()),
        )
    }
}

/// The bulk action form: an action for the ticked articles.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct BulkForm {
    csrf: String,
    action: String,
    id: Vec<String>,
    /// The list's query string, to go back to the same view.
    back: String,
}

impl CsrfProtected for BulkForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /admin/articles/bulk`: the same workflow action on each ticked article, each
/// decided by the rules on its own; reports how many were done and how many refused.
pub(crate) async fn bulk(
    State(state): State<AppState>,
    cu: CurrentUser,
    CsrfForm(f): CsrfForm<BulkForm>,
) -> Result<Response, WebError> {
    let cat = state.catalog();
    let action = f
        .action
        .parse::<Action>()
        .ok()
        .filter(|a| BULK_ACTIONS.contains(a));
    let ids: Option<Vec<ArticleId>> = f.id.iter().map(|s| s.parse().ok()).collect();
    let (Some(action), Some(mut ids)) = (action, ids) else {
        return Err(WebError::BadRequest(cat.get("form.malformed").to_owned()));
    };
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > PAGE as usize {
        return Err(WebError::BadRequest(cat.get("form.malformed").to_owned()));
    }
    let (mut done, mut refused) = (0u32, 0u32);
    for id in ids {
        match state
            .app()
            .transition(&cu.actor(), &cu.rights, id, action, "")
            .await
        {
            Ok(_) => done += 1,
            Err(AppError::Workflow(_) | AppError::NotFound) => refused += 1,
            Err(e) => return Err(WebError::from_app(e, cat)),
        }
    }
    // Back to the same view: the list's own filter keys, re-encoded, never another address.
    let mut back = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(f.back.trim_start_matches('?').as_bytes()).take(16) {
        if [
            "status", "category", "mine", "author", "from", "to", "sort", "q", "trang",
        ]
        .contains(&k.as_ref())
            && v.len() <= 200
        {
            back.append_pair(&k, &v);
        }
    }
    back.append_pair("xong", &done.to_string())
        .append_pair("loi", &refused.to_string());
    Ok(Redirect::to(&format!("/admin/articles?{}", back.finish())).into_response())
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
    meta_description: String,
    publish_at: String,
    expire_at: String,
    expiry_action: String,
    allow_rating: String,
    show_on_home: String,
    revision: String,
    /// A new-article form's own random key: sent twice, it still makes one article.
    form_key: String,
    /// `1`: pull the body's remote pictures into the library before saving.
    #[serde(skip_serializing)]
    pull_images: String,
}

impl ArticleForm {
    /// The form key, if it is one this server could have made.
    fn form_key(&self) -> Option<&str> {
        let k = self.form_key.as_str();
        (k.len() == 32 && k.bytes().all(|b| b.is_ascii_hexdigit())).then_some(k)
    }
}

impl CsrfProtected for ArticleForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }

    /// The form again, everything typed kept.
    async fn refused(self, state: &AppState, parts: &Parts) -> Response {
        let StaleForm { cu, id, errors } =
            match stale_form::<ArticleId>(state, parts, "/admin/articles/") {
                Ok(shown) => shown,
                Err(plain) => return plain.into_response(),
            };
        edit_page(state, cu, id, &self, &errors, StatusCode::FORBIDDEN, None)
            .await
            .unwrap_or_else(IntoResponse::into_response)
    }
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
            meta_description: a.meta_description.clone(),
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
            form_key: String::new(),
            pull_images: String::new(),
        }
    }

    /// The article the form describes, or each field's problem (keyed by field name): the
    /// form's own formats read here, the rules applied by [`ArticleFields::validate`].
    fn parse(
        &self,
        state: &AppState,
        cu: &CurrentUser,
        status: ArticleStatus,
    ) -> Result<NewArticle, BTreeMap<String, String>> {
        let zone = &state.settings().zone;
        let fields = ArticleFields {
            title: &self.title,
            slug: &self.slug,
            lead: &self.lead,
            body: &self.body,
            category: self.category.parse().ok(),
            extra: self
                .extra
                .iter()
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().ok())
                .collect(),
            tags: self.tags.split(',').map(str::to_owned).collect(),
            author: &self.author,
            source: &self.source,
            image_url: &self.image_url,
            image_alt: &self.image_alt,
            image_caption: &self.image_caption,
            meta_description: &self.meta_description,
            publish_at: if self.publish_at.trim().is_empty() {
                Some(state.now())
            } else {
                parse_local_input(&self.publish_at, zone)
            },
            expire_at: if self.expire_at.trim().is_empty() {
                Some(None)
            } else {
                parse_local_input(&self.expire_at, zone).map(Some)
            },
            options: ArticleOptions {
                expiry_action: match self.expiry_action.as_str() {
                    "unpublish" => ExpiryAction::Unpublish,
                    _ => ExpiryAction::Archive,
                },
                allow_rating: self.allow_rating == "1",
                show_on_home: self.show_on_home == "1",
            },
        };
        fields
            .validate(&cu.rights, state.html(), status)
            .map_err(|errors| messages(state, &errors))
    }
}

/// Field problems worded from the catalogue.
fn messages(state: &AppState, errors: &FieldErrors) -> BTreeMap<String, String> {
    errors
        .iter()
        .map(|(field, key)| ((*field).to_owned(), state.catalog().get(key).to_owned()))
        .collect()
}

/// Makes `a`'s slug unique among articles (see [`article_input::settle_slug`]), the problem
/// worded for the form.
async fn settle_slug(
    state: &AppState,
    f: &ArticleForm,
    a: &mut NewArticle,
    current: Option<(ArticleId, &str)>,
) -> Result<Option<BTreeMap<String, String>>, WebError> {
    let typed = !f.slug.trim().is_empty();
    Ok(article_input::settle_slug(state.store(), typed, a, current)
        .await?
        .map(|errors| messages(state, &errors)))
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
    let mut autosave = None;
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
        // Text autosaved and never saved (a timeout, a crash, a forced sign-out) is offered
        // back when the stored version is shown; restored, it keeps the revision it started
        // from, so that saving it over a newer version is refused as stale, never silent.
        if errors.is_empty()
            && let Ok(Some(kept)) = state.app().autosaved(&cu.actor(), a.id).await
        {
            autosave = Some(context! {
                content => kept.content,
                base => kept.base_revision,
                at => format_date_time(kept.at, &state.settings().zone),
            });
        }
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
            autosave => autosave,
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
        form_key: bantin_app::random_hex(16).map_err(|e| WebError::from_app(e, state.catalog()))?,
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
    let parsed = f.parse(&state, &cu, ArticleStatus::Draft);
    let a = match parsed {
        Ok(mut a) => match settle_slug(&state, &f, &mut a, None).await? {
            None => a,
            Some(errors) => {
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
        },
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
    match state
        .app()
        .create_article_once(&cu.actor(), &a, f.form_key())
        .await
    {
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
    CsrfForm(mut f): CsrfForm<ArticleForm>,
) -> Result<Response, WebError> {
    let current = state.store().article(id).await?.ok_or(WebError::NotFound)?;
    // "Pull remote pictures": the body's pictures on other sites are taken into the library
    // and the body pointed at them, then the article is saved as usual.
    let mut pulled = None;
    if f.pull_images == "1" {
        match state
            .app()
            .pull_remote_images(
                &cu.actor(),
                &cu.rights,
                id,
                &f.body,
                state.html(),
                &state.settings().media_fetch,
            )
            .await
        {
            Ok(p) => {
                f.body = p.body.as_str().to_owned();
                pulled = Some(crate::media_errors::pull_report(state.catalog(), &p));
            }
            Err(e) => {
                let (status, m) = refusal(&state, e)?;
                let errors = BTreeMap::from([("form".to_owned(), m)]);
                return edit_page(&state, &cu, Some(id), &f, &errors, status, None).await;
            }
        }
    }
    let a = match f.parse(&state, &cu, current.status()) {
        Ok(mut a) => match settle_slug(&state, &f, &mut a, Some((id, &current.slug))).await? {
            None => a,
            Some(errors) => {
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
        },
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
        Ok(_) if pulled.is_some() => {
            // What was pulled in and what was not is shown with the saved form.
            let saved = state.store().article(id).await?.ok_or(WebError::NotFound)?;
            let tags = state.store().article_tags(id).await?;
            let extra = state.store().extra_categories(id).await?;
            let form = ArticleForm::of(&saved, &tags, &extra, &state);
            let errors = BTreeMap::new();
            edit_page(
                &state,
                &cu,
                Some(id),
                &form,
                &errors,
                StatusCode::OK,
                pulled,
            )
            .await
        }
        Ok(_) => Ok(Redirect::to(&format!("/admin/articles/{id}?tb=luu")).into_response()),
        Err(AppError::Stale(now)) => {
            let errors = BTreeMap::from([(
                "stale".to_owned(),
                state.catalog().get("article.stale").to_owned(),
            )]);
            // The form now stands on the version shown beside it: once the user has merged
            // what they need, saving it again is a save, not the same conflict forever.
            let f = ArticleForm {
                revision: now.to_string(),
                ..f
            };
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
