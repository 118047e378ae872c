//! A backend-neutral description of the schema, so a test can check that the two migration
//! folders build the same thing: columns with their types, nullability, defaults and whether
//! the database generates them, primary keys, indexes (unique, partial or not), foreign keys
//! with their update and delete rules, CHECK constraints, and triggers (timing, event, level;
//! not their bodies, which are written in each backend's own language).

mod normal;

use crate::{Db, Result, Store};

/// One fact about the schema, in a form both backends produce identically.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SchemaItem(pub String);

/// A column as both backends describe it.
struct Column<'a> {
    table: &'a str,
    name: &'a str,
    ty: &'a str,
    not_null: bool,
    /// The default expression as the backend reports it.
    default: Option<&'a str>,
    /// Filled in by the database (SQLite's rowid alias, PostgreSQL's identity or serial).
    generated: bool,
}

fn column(c: &Column<'_>, dialect: normal::Dialect) -> SchemaItem {
    let Column { table, name, .. } = c;
    let ty = match c.ty.to_ascii_lowercase().as_str() {
        "integer" | "bigint" | "int8" => "integer",
        "text" => "text",
        "boolean" | "bool" => "boolean",
        other => return SchemaItem(format!("column {table}.{name} unknown type {other}")),
    };
    let null = if c.not_null { "not null" } else { "null" };
    let mut item = format!("column {table}.{name} {ty} {null}");
    // An explicit DEFAULT NULL is no default at all.
    if let Some(d) = c
        .default
        .map(|d| normal::canonical(d, dialect))
        .filter(|d| d != "null")
    {
        item.push_str(&format!(" default {d}"));
    }
    if c.generated {
        item.push_str(" generated");
    }
    SchemaItem(item)
}

fn rule(rule: &str) -> &'static str {
    match rule.to_ascii_lowercase().as_str() {
        "cascade" | "c" => "cascade",
        "set null" | "n" => "set null",
        "restrict" | "r" => "restrict",
        "set default" | "d" => "set default",
        _ => "no action",
    }
}

fn foreign_key(
    table: &str,
    from: &[String],
    to_table: &str,
    to: &[String],
    on_update: &str,
    on_delete: &str,
) -> SchemaItem {
    SchemaItem(format!(
        "foreign key {table}({}) -> {to_table}({}) on update {} on delete {}",
        from.join(","),
        to.join(","),
        rule(on_update),
        rule(on_delete)
    ))
}

fn index(table: &str, unique: bool, partial: bool, columns: &[String]) -> SchemaItem {
    let kind = if unique { "unique index" } else { "index" };
    let partial = if partial { " partial" } else { "" };
    SchemaItem(format!("{kind} {table}({}){partial}", columns.join(",")))
}

/// How an index column that is an expression, not a column, is listed.
const EXPRESSION: &str = "(expression)";

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
    // `_` is a LIKE wildcard: escape it, so only the real bookkeeping tables are left out.
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_sqlx\\_%' ESCAPE '\\'",
    )
    .fetch_all(p)
    .await?;
    for (t, sql) in &tables {
        let cols: Vec<(String, String, bool, Option<String>, i64)> = sqlx::query_as(
            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info($1) ORDER BY cid",
        )
        .bind(t)
        .fetch_all(p)
        .await?;
        let mut pk: Vec<(i64, &str)> = cols
            .iter()
            .filter(|c| c.4 > 0)
            .map(|c| (c.4, c.0.as_str()))
            .collect();
        pk.sort_unstable();
        let pk: Vec<String> = pk.into_iter().map(|(_, n)| n.to_owned()).collect();
        // A lone INTEGER PRIMARY KEY is the rowid: SQLite assigns it like an identity column.
        // (`WITHOUT ROWID` may be followed by `, STRICT`, so look for the pair anywhere.)
        let without_rowid = normal::tokens(sql, normal::Dialect::Sqlite).is_some_and(|tokens| {
            tokens.windows(2).any(|w| {
                w == [
                    normal::Tok::Word("without".into()),
                    normal::Tok::Word("rowid".into()),
                ]
            })
        });
        for (name, ty, not_null, default, pk_pos) in &cols {
            let generated = *pk_pos > 0
                && pk.len() == 1
                && ty.eq_ignore_ascii_case("integer")
                && !without_rowid;
            out.push(column(
                &Column {
                    table: t,
                    name,
                    ty,
                    // A primary key column is NOT NULL whether or not SQLite records it.
                    not_null: *not_null || *pk_pos > 0,
                    default: default.as_deref(),
                    generated,
                },
                normal::Dialect::Sqlite,
            ));
        }
        // A table without a declared primary key has none to describe (its rowid is
        // SQLite's own, like PostgreSQL's ctid).
        if !pk.is_empty() {
            out.push(SchemaItem(format!("primary key {t}({})", pk.join(","))));
        }
        let indexes: Vec<(String, bool, String, bool)> =
            sqlx::query_as("SELECT name, \"unique\", origin, partial FROM pragma_index_list($1)")
                .bind(t)
                .fetch_all(p)
                .await?;
        for (name, unique, origin, partial) in indexes {
            if origin == "pk" {
                continue;
            }
            let cols: Vec<Option<String>> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&name)
                    .fetch_all(p)
                    .await?;
            let cols: Vec<String> = cols
                .into_iter()
                .map(|c| c.unwrap_or_else(|| EXPRESSION.to_owned()))
                .collect();
            out.push(index(t, unique, partial, &cols));
        }
        let fks: Vec<(i64, String, String, Option<String>, String, String)> = sqlx::query_as(
            "SELECT id, \"from\", \"table\", \"to\", on_update, on_delete
             FROM pragma_foreign_key_list($1) ORDER BY id, seq",
        )
        .bind(t)
        .fetch_all(p)
        .await?;
        for group in fks.chunk_by(|a, b| a.0 == b.0) {
            let (_, _, to_table, _, on_update, on_delete) = &group[0];
            let from: Vec<String> = group.iter().map(|f| f.1.clone()).collect();
            let mut to: Vec<String> = group.iter().filter_map(|f| f.3.clone()).collect();
            if to.len() != from.len() {
                // `REFERENCES t` without columns means t's primary key.
                to = sqlx::query_scalar(
                    "SELECT name FROM pragma_table_info($1) WHERE pk > 0 ORDER BY pk",
                )
                .bind(to_table)
                .fetch_all(p)
                .await?;
            }
            out.push(foreign_key(t, &from, to_table, &to, on_update, on_delete));
        }
        for check in normal::sqlite_checks(sql) {
            out.push(SchemaItem(format!("check {t}: {check}")));
        }
    }
    let triggers: Vec<(String, String)> =
        sqlx::query_as("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
            .fetch_all(p)
            .await?;
    for (table, sql) in triggers {
        out.push(SchemaItem(match normal::sqlite_trigger(&sql) {
            // SQLite has only row-level triggers.
            Some((timing, event)) => format!("trigger {table} {timing} {event} for each row"),
            None => format!("trigger {table} unparsed {sql}"),
        }));
    }
    Ok(out)
}

async fn postgres_schema(p: &sqlx::PgPool) -> Result<Vec<SchemaItem>> {
    let mut out = Vec::new();
    let cols: Vec<(String, String, String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT), CAST(data_type AS TEXT),
                CAST(is_nullable AS TEXT), CAST(column_default AS TEXT), CAST(is_identity AS TEXT)
         FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx\\_%'",
    )
    .fetch_all(p)
    .await?;
    for (t, name, ty, nullable, default, identity) in &cols {
        // Identity columns have no default; serial columns default to their sequence.
        let serial = default
            .as_deref()
            .is_some_and(|d| d.starts_with("nextval("));
        out.push(column(
            &Column {
                table: t,
                name,
                ty,
                not_null: nullable == "NO",
                default: default.as_deref().filter(|_| !serial),
                generated: identity == "YES" || serial,
            },
            normal::Dialect::Postgres,
        ));
    }
    // Index columns by position; an expression has attnum 0 and no pg_attribute row.
    let indexes: Vec<(String, bool, bool, bool, String)> = sqlx::query_as(
        "SELECT CAST(t.relname AS TEXT), i.indisunique, i.indisprimary, i.indpred IS NOT NULL,
                (SELECT string_agg(COALESCE(CAST(a.attname AS TEXT), $1), ',' ORDER BY k.n)
                 FROM unnest(CAST(i.indkey AS int2[])) WITH ORDINALITY k(attnum, n)
                 LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum)
         FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
         WHERE t.relnamespace = CAST(current_schema() AS regnamespace)
           AND t.relname NOT LIKE '\\_sqlx\\_%'",
    )
    .bind(EXPRESSION)
    .fetch_all(p)
    .await?;
    for (t, unique, primary, partial, cols) in indexes {
        let cols: Vec<String> = cols.split(',').map(str::to_owned).collect();
        out.push(if primary {
            SchemaItem(format!("primary key {t}({})", cols.join(",")))
        } else {
            index(&t, unique, partial, &cols)
        });
    }
    let fks: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
        "SELECT CAST(cl.relname AS TEXT),
                (SELECT string_agg(CAST(a.attname AS TEXT), ',' ORDER BY k.n)
                 FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum),
                CAST(rcl.relname AS TEXT),
                (SELECT string_agg(CAST(a.attname AS TEXT), ',' ORDER BY k.n)
                 FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum),
                CAST(c.confupdtype AS TEXT), CAST(c.confdeltype AS TEXT)
         FROM pg_constraint c
         JOIN pg_class cl ON cl.oid = c.conrelid
         JOIN pg_class rcl ON rcl.oid = c.confrelid
         WHERE c.contype = 'f' AND c.connamespace = CAST(current_schema() AS regnamespace)",
    )
    .fetch_all(p)
    .await?;
    for (t, from, to_table, to, on_update, on_delete) in fks {
        let from: Vec<String> = from.split(',').map(str::to_owned).collect();
        let to: Vec<String> = to.split(',').map(str::to_owned).collect();
        out.push(foreign_key(
            &t, &from, &to_table, &to, &on_update, &on_delete,
        ));
    }
    let checks: Vec<(String, String)> = sqlx::query_as(
        "SELECT CAST(cl.relname AS TEXT), pg_get_constraintdef(c.oid)
         FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid
         WHERE c.contype = 'c' AND c.connamespace = CAST(current_schema() AS regnamespace)
           AND cl.relname NOT LIKE '\\_sqlx\\_%'",
    )
    .fetch_all(p)
    .await?;
    for (t, def) in checks {
        out.push(SchemaItem(format!(
            "check {t}: {}",
            normal::postgres_check(&def)
        )));
    }
    // One row per event of each trigger (`BEFORE UPDATE OR DELETE` is two).
    let triggers: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT CAST(event_object_table AS TEXT), CAST(action_timing AS TEXT),
                CAST(event_manipulation AS TEXT), CAST(action_orientation AS TEXT)
         FROM information_schema.triggers WHERE trigger_schema = current_schema()",
    )
    .fetch_all(p)
    .await?;
    for (table, timing, event, level) in triggers {
        out.push(SchemaItem(format!(
            "trigger {table} {} {} for each {}",
            timing.to_ascii_lowercase(),
            event.to_ascii_lowercase(),
            level.to_ascii_lowercase()
        )));
    }
    Ok(out)
}
