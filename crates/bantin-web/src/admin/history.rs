//! An article's history in the newsroom: every revision (who, when, status then, why: a save,
//! a workflow action with a rejection's reason, a restore) as a timeline; two revisions side
//! by side with what changed marked; and bringing an earlier revision back as a new one.
//! Whoever may open the article's edit page may see its history; restoring is a save, with a
//! save's rights and its stale-revision check. The rules are the services'.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use bantin_app::{AppError, restored_from};
use bantin_core::access::Capability;
use bantin_core::diff::{MediaWords, Row, html_lines, side_by_side};
use bantin_core::workflow::{Action, Subject, next_status};
use bantin_core::{ArticleId, ArticleStatus, CategoryId, UnixTime, format_date_time};
use bantin_store::{Article, Revision, RevisionSummary};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::page::{Notice, render_status};
use crate::auth::CurrentUser;
use crate::extract::{CsrfForm, CsrfProtected, Parsed};
use crate::layout::ser;
use crate::{AppState, WebError};

/// The `?tb=` code of the notice after a restore.
const RESTORED: &str = "khoi-phuc";

/// The article, if `cu` may open its edit page (the same check as that page): 404 when there
/// is none, 403 when its category is not theirs.
async fn viewable(state: &AppState, cu: &CurrentUser, id: ArticleId) -> Result<Article, WebError> {
    let a = state.store().article(id).await?.ok_or(WebError::NotFound)?;
    if !cu.rights.allows(Capability::Write, Some(a.category_id)) {
        return Err(WebError::Refused(
            StatusCode::FORBIDDEN,
            state.catalog().get("admin.forbidden").to_owned(),
        ));
    }
    Ok(a)
}

/// Whether `cu` may save the article now (what a restore needs).
fn may_save(state: &AppState, cu: &CurrentUser, a: &Article) -> bool {
    let subject = Subject {
        status: a.status(),
        category: a.category_id,
        own: a.created_by == Some(cu.user.id),
        publish_at: a.publish_at,
    };
    next_status(&cu.rights, &subject, Action::Save, false, state.now()).is_ok()
}

fn status_label(state: &AppState, s: ArticleStatus) -> String {
    state
        .catalog()
        .get(&format!("status.{}", s.as_str()))
        .to_owned()
}

/// What a revision's note says, in words: a save, the article's creation, a workflow action,
/// the scheduler, a restore.
fn note_label(state: &AppState, r: &RevisionSummary) -> String {
    let cat = state.catalog();
    let note = r.note.as_str();
    if note.is_empty() {
        return cat
            .get(if r.revision == 1 {
                "history.note.created"
            } else {
                "history.note.saved"
            })
            .to_owned();
    }
    if let Some(from) = restored_from(note) {
        return cat.format("history.note.restored", &[("revision", &from.to_string())]);
    }
    let key = match note {
        "article.published_on_schedule" => "history.note.published_on_schedule".to_owned(),
        "article.expired" => "history.note.expired".to_owned(),
        a if a.parse::<Action>().is_ok() => format!("history.note.{a}"),
        _ => return note.to_owned(),
    };
    cat.get(&key).to_owned()
}

/// A line of the history page.
#[derive(Serialize)]
struct Entry {
    /// Revision number; `None` for a status change no revision records.
    revision: Option<i64>,
    #[serde(skip)]
    at: UnixTime,
    when: String,
    who: String,
    status: String,
    note: String,
    reason: Option<String>,
    title: String,
    current: bool,
}

/// The reason in a rejection's audit detail (`pending → rejected: reason`).
fn reason_of(detail: &str) -> Option<String> {
    detail
        .split_once(": ")
        .map(|(_, r)| r.trim().to_owned())
        .filter(|r| !r.is_empty())
}

/// The history page, with a notice or an error (a refused restore) and its status.
async fn history_page(
    state: &AppState,
    cu: &CurrentUser,
    a: &Article,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let cat = state.catalog();
    let zone = &state.settings().zone;
    let system = cat.get("history.system");
    let revisions = state.store().article_history(a.id).await?;
    let mut events = state.store().article_events(a.id).await?;
    let mut entries: Vec<Entry> = revisions
        .iter()
        .map(|r| {
            // A rejection's reason is in the audit entry written with its revision.
            let reason = (r.note == Action::Reject.as_str())
                .then(|| {
                    let i = events.iter().position(|e| {
                        e.action == "article.reject" && e.at == r.at && e.user_id == r.user_id
                    })?;
                    reason_of(&events.remove(i).detail)
                })
                .flatten();
            Entry {
                revision: Some(r.revision),
                at: r.at,
                when: format_date_time(r.at, zone),
                who: r.who().unwrap_or(system).to_owned(),
                status: status_label(state, r.status()),
                note: note_label(state, r),
                reason,
                title: r.title.clone(),
                current: r.revision == a.revision,
            }
        })
        .collect();
    // Status changes made outside the workflow (no revision records them), and any rejection
    // whose revision is older than the history keeps.
    for e in events {
        let (note, status, reason) = if e.action == "article.reject" {
            (
                cat.get("history.note.reject").to_owned(),
                status_label(state, ArticleStatus::Rejected),
                reason_of(&e.detail),
            )
        } else {
            let s = e.detail.parse::<ArticleStatus>().ok();
            (
                cat.get("history.note.status").to_owned(),
                s.map(|s| status_label(state, s)).unwrap_or_default(),
                None,
            )
        };
        entries.push(Entry {
            revision: None,
            at: e.at,
            when: format_date_time(e.at, zone),
            who: if e.username.is_empty() {
                system.to_owned()
            } else {
                e.username.clone()
            },
            status,
            note,
            reason,
            title: String::new(),
            current: false,
        });
    }
    entries.sort_by(|x, y| y.at.cmp(&x.at).then(y.revision.cmp(&x.revision)));
    let numbers: Vec<i64> = revisions.iter().map(|r| r.revision).collect();
    let title = cat.format("history.title", &[("title", &a.title)]);
    let mut res = render_status(
        state,
        Some(cu),
        status,
        "admin/article_history.html",
        &title,
        context! {
            id => a.id.get(),
            article_title => a.title.clone(),
            revision => a.revision,
            entries => ser(entries),
            pick_a => numbers.get(1).or(numbers.first()).copied(),
            pick_b => numbers.first().copied(),
            can_restore => may_save(state, cu, a),
            notice => notice,
            error => error,
        },
    )?;
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// `GET /admin/articles/{id}/history`.
pub(crate) async fn history(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<ArticleId>,
    Query(q): Query<Notice>,
) -> Result<Response, WebError> {
    let a = viewable(&state, &cu, id).await?;
    let notice = if q.notice == RESTORED {
        Some(state.catalog().get("history.restored").to_owned())
    } else {
        q.text(&state)
    };
    history_page(&state, &cu, &a, StatusCode::OK, notice, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct DiffQuery {
    a: String,
    b: String,
}

/// One field that differs between the two revisions.
#[derive(Serialize)]
struct FieldDiff {
    label: String,
    rows: Vec<Row>,
}

/// A revision's fields as lines of text to compare (label key, lines), the body last.
fn field_lines(
    state: &AppState,
    r: &Revision,
    category_title: &dyn Fn(CategoryId) -> String,
) -> Vec<(&'static str, Vec<String>)> {
    let zone = &state.settings().zone;
    let cat = state.catalog();
    let line = |s: &str| {
        let s = s.trim();
        if s.is_empty() {
            Vec::new()
        } else {
            s.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        }
    };
    let words = MediaWords {
        image: cat.get("history.image"),
        frame: cat.get("history.frame"),
    };
    vec![
        ("articles.field.title", line(&r.title)),
        ("articles.field.lead", line(&r.lead)),
        ("articles.field.meta_description", line(&r.meta_description)),
        ("articles.field.author", line(&r.author)),
        ("articles.field.source", line(&r.source)),
        (
            "articles.field.image_url",
            line(r.image_url.as_deref().unwrap_or_default()),
        ),
        ("articles.field.image_alt", line(&r.image_alt)),
        ("articles.field.image_caption", line(&r.image_caption)),
        ("articles.category", vec![category_title(r.category_id)]),
        (
            "articles.field.publish_at",
            vec![format_date_time(r.publish_at, zone)],
        ),
        (
            "history.expire_at",
            r.expire_at
                .map(|t| vec![format_date_time(t, zone)])
                .unwrap_or_default(),
        ),
        ("articles.status", vec![status_label(state, r.status())]),
        ("articles.field.body", html_lines(r.body().as_str(), words)),
    ]
}

/// A revision as the diff page names it.
fn describe(state: &AppState, r: &Revision, who: Option<String>) -> minijinja::Value {
    context! {
        revision => r.revision,
        when => format_date_time(r.at, &state.settings().zone),
        who => who.unwrap_or_else(|| state.catalog().get("history.system").to_owned()),
    }
}

/// `GET /admin/articles/{id}/diff?a=N&b=M`: revisions `a` (left) and `b` (right) side by
/// side, field by field, only what differs.
pub(crate) async fn diff(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<ArticleId>,
    Query(q): Query<DiffQuery>,
) -> Result<Response, WebError> {
    let article = viewable(&state, &cu, id).await?;
    let (Ok(na), Ok(nb)) = (q.a.trim().parse::<i64>(), q.b.trim().parse::<i64>()) else {
        return Err(WebError::BadRequest(
            state.catalog().get("history.pick_two").to_owned(),
        ));
    };
    let store = state.store();
    let ra = store
        .article_revision_content(id, na)
        .await?
        .ok_or(WebError::NotFound)?;
    let rb = store
        .article_revision_content(id, nb)
        .await?
        .ok_or(WebError::NotFound)?;
    let categories = store.categories().await?;
    let category_title = |c: CategoryId| {
        categories
            .iter()
            .find(|x| x.id == c)
            .map_or_else(|| format!("#{c}"), |x| x.title.clone())
    };
    let cat = state.catalog();
    let fields: Vec<FieldDiff> = field_lines(&state, &ra, &category_title)
        .into_iter()
        .zip(field_lines(&state, &rb, &category_title))
        .filter_map(|((key, old), (_, new))| {
            let rows = side_by_side(&old, &new);
            (!rows.is_empty()).then(|| FieldDiff {
                label: cat.get(key).to_owned(),
                rows,
            })
        })
        .collect();
    let name = async |u: Option<bantin_core::UserId>| -> Result<Option<String>, WebError> {
        let Some(u) = u else { return Ok(None) };
        Ok(store.user(u).await?.map(|u| {
            if u.display_name.trim().is_empty() {
                u.username
            } else {
                u.display_name
            }
        }))
    };
    let (who_a, who_b) = (name(ra.user_id).await?, name(rb.user_id).await?);
    let title = cat.format("history.diff_title", &[("title", &article.title)]);
    let mut res = render_status(
        &state,
        Some(&cu),
        StatusCode::OK,
        "admin/article_diff.html",
        &title,
        context! {
            id => id.get(),
            article_title => article.title.clone(),
            revision => article.revision,
            a => describe(&state, &ra, who_a),
            b => describe(&state, &rb, who_b),
            fields => ser(fields),
            can_restore => may_save(&state, &cu, &article),
        },
    )?;
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// What the restore form sends: the revision to bring back, and the article's revision the
/// page showed (a restore over a change made since is refused, as a save is).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct RestoreForm {
    csrf: String,
    revision: String,
    base: String,
}

impl CsrfProtected for RestoreForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /admin/articles/{id}/restore`.
pub(crate) async fn restore(
    State(state): State<AppState>,
    cu: CurrentUser,
    Parsed(id): Parsed<ArticleId>,
    CsrfForm(f): CsrfForm<RestoreForm>,
) -> Result<Response, WebError> {
    let a = viewable(&state, &cu, id).await?;
    let (Ok(revision), Ok(base)) = (
        f.revision.trim().parse::<i64>(),
        f.base.trim().parse::<i64>(),
    ) else {
        return Err(WebError::BadRequest(
            state.catalog().get("form.malformed").to_owned(),
        ));
    };
    match state
        .app()
        .restore_revision(&cu.actor(), &cu.rights, id, revision, base)
        .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/admin/articles/{id}/history?tb={RESTORED}")).into_response(),
        ),
        Err(AppError::Stale(_)) => {
            // The page shows the article as it is now; the user looks again and decides.
            let a = state.store().article(id).await?.unwrap_or(a);
            let message = state.catalog().get("history.stale").to_owned();
            history_page(&state, &cu, &a, StatusCode::CONFLICT, None, Some(message)).await
        }
        Err(e) => Err(WebError::from_app(e, state.catalog())),
    }
}
