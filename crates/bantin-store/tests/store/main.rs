//! The store's own tests, run on SQLite or, with `BANTIN_TEST_DATABASE_URL`, on PostgreSQL
//! (the schema comparison then uses both): transactions, the change feed, the races
//! `Tx::lock` holds, and the kinds of `StoreError`.

mod categories;
mod changes;
mod errors;
mod helpers;
mod plans;
mod races;
mod schema;
mod transactions;
