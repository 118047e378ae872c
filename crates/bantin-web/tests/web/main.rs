//! Integration tests: the real router over a real database — a SQLite file in a temporary
//! folder, or a fresh PostgreSQL database when `BANTIN_TEST_DATABASE_URL` is set.

mod helpers;

mod layering;

mod accounts;
mod admin;
mod admin_browser;
mod article_page;
mod browser;
mod editor;
mod lists;
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
mod workflow;
mod xss;
