//! A backend-neutral description of the schema, so a test can check that the two migration
//! folders build the same thing: columns with their types and nullability, primary keys,
//! indexes (unique or not), foreign keys with their delete rule, and triggers.

use crate::{Db, Result, Store};

/// One fact about the schema, in a form both backends produce identically.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SchemaItem(pub String);

fn column(table: &str, name: &str, ty: &str, not_null: bool) -> SchemaItem {
    let ty = match ty.to_ascii_lowercase().as_str() {
        "integer" | "bigint" | "int8" => "integer",
        "text" => "text",
        "boolean" | "bool" => "boolean",
        other => return SchemaItem(format!("column {table}.{name} unknown type {other}")),
    };
    let null = if not_null { "not null" } else { "null" };
    SchemaItem(format!("column {table}.{name} {ty} {null}"))
}

fn delete_rule(rule: &str) -> &'static str {
    match rule.to_ascii_lowercase().as_str() {
        "cascade" | "c" => "cascade",
        "set null" | "n" => "set null",
        "restrict" | "r" => "restrict",
        "set default" | "d" => "set default",
        _ => "no action",
    }
}

impl Store {
    /// The schema of this database as [`SchemaItem`]s, sorted; migration bookkeeping tables
    /// left out.
    pub async fn schema(&self) -> Result<Vec<SchemaItem>> {
        let mut items = match &self.db {
            Db::Sqlite(p) => sqlite_schema(p).await?,
            Db::Postgres(p) => postgres_schema(p).await?,
        };
        items.sort();
        items.dedup();
        Ok(items)
    }
}

async fn sqlite_schema(p: &sqlx::SqlitePool) -> Result<Vec<SchemaItem>> {
    let mut out = Vec::new();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx_%'",
    )
    .fetch_all(p)
    .await?;
    for t in &tables {
        let cols: Vec<(String, String, bool, i64)> = sqlx::query_as(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid",
        )
        .bind(t)
        .fetch_all(p)
        .await?;
        let mut pk: Vec<(i64, String)> = Vec::new();
        for (name, ty, not_null, pk_pos) in cols {
            // A primary key column is NOT NULL whether or not SQLite records it.
            out.push(column(t, &name, &ty, not_null || pk_pos > 0));
            if pk_pos > 0 {
                pk.push((pk_pos, name));
            }
        }
        pk.sort();
        let pk: Vec<String> = pk.into_iter().map(|(_, n)| n).collect();
        out.push(SchemaItem(format!("primary key {t}({})", pk.join(","))));
        let indexes: Vec<(String, bool, String)> =
            sqlx::query_as("SELECT name, \"unique\", origin FROM pragma_index_list($1)")
                .bind(t)
                .fetch_all(p)
                .await?;
        for (name, unique, origin) in indexes {
            if origin == "pk" {
                continue;
            }
            let cols: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&name)
                    .fetch_all(p)
                    .await?;
            let kind = if unique { "unique index" } else { "index" };
            out.push(SchemaItem(format!("{kind} {t}({})", cols.join(","))));
        }
        let fks: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT \"from\", \"table\", \"to\", on_delete FROM pragma_foreign_key_list($1)",
        )
        .bind(t)
        .fetch_all(p)
        .await?;
        for (from, table, to, on_delete) in fks {
            out.push(SchemaItem(format!(
                "foreign key {t}.{from} -> {table}.{to} on delete {}",
                delete_rule(&on_delete)
            )));
        }
    }
    let triggers: Vec<(String, String)> =
        sqlx::query_as("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
            .fetch_all(p)
            .await?;
    for (table, sql) in triggers {
        let sql = sql.to_ascii_uppercase();
        for event in ["INSERT", "UPDATE", "DELETE"] {
            if sql.contains(&format!("BEFORE {event}")) || sql.contains(&format!("OR {event}")) {
                out.push(SchemaItem(format!(
                    "trigger {table} before {}",
                    event.to_ascii_lowercase()
                )));
            }
        }
    }
    Ok(out)
}

async fn postgres_schema(p: &sqlx::PgPool) -> Result<Vec<SchemaItem>> {
    let mut out = Vec::new();
    let cols: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT), CAST(data_type AS TEXT), CAST(is_nullable AS TEXT)
         FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx\\_%'",
    )
    .fetch_all(p)
    .await?;
    for (t, name, ty, nullable) in cols {
        out.push(column(&t, &name, &ty, nullable == "NO"));
    }
    let indexes: Vec<(String, bool, bool, Vec<String>)> = sqlx::query_as(
        "SELECT CAST(t.relname AS TEXT), i.indisunique, i.indisprimary,
                ARRAY(SELECT CAST(a.attname AS TEXT) FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n)
                      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n)
         FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
         WHERE t.relnamespace = CAST(current_schema() AS regnamespace) AND t.relname NOT LIKE '\\_sqlx\\_%'",
    )
    .fetch_all(p)
    .await?;
    for (t, unique, primary, cols) in indexes {
        let item = if primary {
            format!("primary key {t}({})", cols.join(","))
        } else if unique {
            format!("unique index {t}({})", cols.join(","))
        } else {
            format!("index {t}({})", cols.join(","))
        };
        out.push(SchemaItem(item));
    }
    let fks: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT CAST(cl.relname AS TEXT), CAST(a.attname AS TEXT), CAST(rcl.relname AS TEXT),
                CAST(ra.attname AS TEXT), CAST(c.confdeltype AS TEXT)
         FROM pg_constraint c
         JOIN pg_class cl ON cl.oid = c.conrelid
         JOIN pg_class rcl ON rcl.oid = c.confrelid
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
         JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
         WHERE c.contype = 'f' AND cl.relnamespace = CAST(current_schema() AS regnamespace)",
    )
    .fetch_all(p)
    .await?;
    for (t, from, table, to, rule) in fks {
        out.push(SchemaItem(format!(
            "foreign key {t}.{from} -> {table}.{to} on delete {}",
            delete_rule(&rule)
        )));
    }
    let triggers: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT CAST(event_object_table AS TEXT), CAST(action_timing AS TEXT), CAST(event_manipulation AS TEXT)
         FROM information_schema.triggers WHERE trigger_schema = current_schema()",
    )
    .fetch_all(p)
    .await?;
    for (table, timing, event) in triggers {
        out.push(SchemaItem(format!(
            "trigger {table} {} {}",
            timing.to_ascii_lowercase(),
            event.to_ascii_lowercase()
        )));
    }
    Ok(out)
}
