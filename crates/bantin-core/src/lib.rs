//! Domain types and rules of bantin, free of I/O: Vietnamese text, dates, slugs, articles,
//! categories, ratings and the reading of reader URLs. Every other crate builds on these; this
//! one depends on none of ours.

pub mod access;
pub mod account;
pub mod article;
pub mod diff;
pub mod html;
pub mod ids;
pub mod rating;
pub mod text;
pub mod time;
pub mod totp;
pub mod url;
pub mod workflow;

pub use article::{ArticleStatus, CategoryStatus, Visibility};
pub use html::{EmbedHosts, HtmlPolicy, SanitizedHtml};
pub use ids::{ArticleId, CategoryId, ChangeId, InvalidId, SessionId, TagId, UserId};
pub use rating::{Rating, RatingSummary};
pub use text::{Slug, alt_from_filename, fold, nfc};
pub use time::{
    Clock, SiteZone, UnixTime, day_start, format_date, format_date_line, format_date_time,
};
pub use url::{PageQuery, QueryError, RatingNotice, parse_article_file};
