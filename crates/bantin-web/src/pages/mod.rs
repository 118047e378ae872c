//! Reader pages: home, category lists, the article page, static files, errors and the health
//! check. Each page tells the page cache what it shows ([`crate::page_cache::CacheTags`]).

pub(crate) mod article;
pub(crate) mod category;
pub(crate) mod feeds;
pub(crate) mod home;
pub(crate) mod other;
pub(crate) mod pictures;
pub(crate) mod search;
pub(crate) mod tag;
