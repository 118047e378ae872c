//! Integration tests: the real router over a real database — a SQLite file in a temporary
//! folder, or a fresh PostgreSQL database when `BANTIN_TEST_DATABASE_URL` is set.

mod helpers;

mod layering;

mod accounts;
mod admin;
mod admin_browser;
mod api;
mod article_page;
mod browser;
mod categories;
mod discovery;
mod editor;
mod history;
mod lists;
mod media;
mod media_browser;
mod media_pull;
mod newsroom;
mod newsroom_browser;
mod newsroom_list;
mod page_cache;
mod rating;
mod robustness;
mod search;
mod security;
mod views;
mod visibility;
mod webhooks;
mod workflow;
mod xss;
