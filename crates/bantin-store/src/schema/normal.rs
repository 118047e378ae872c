//! SQL expressions (CHECK constraints, column defaults) in one canonical text, whether they
//! come from SQLite, which keeps the text as written, or PostgreSQL, which prints its parsed
//! form (`x = ANY (ARRAY['a'::text])` for `x IN ('a')`, `(x >= 1) AND (x <= 5)` for
//! `x BETWEEN 1 AND 5`, casts everywhere). Only the expressions a portable schema uses are
//! understood; anything else is kept as `unparsed …`, so a comparison fails loudly instead of
//! silently calling two different constraints equal.

/// A lexical token. Unquoted words are lowercased (SQL folds them); quoted identifiers and
/// strings keep their case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Tok {
    Word(String),
    Quoted(String),
    Str(String),
    Num(String),
    Op(String),
}

/// Whose SQL is being read: SQLite quotes identifiers in `[…]` too, PostgreSQL writes arrays
/// with brackets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dialect {
    Sqlite,
    Postgres,
}

/// Splits SQL into tokens, dropping whitespace and comments; `None` on text it cannot read
/// (an unterminated string or comment).
pub(super) fn tokens(sql: &str, dialect: Dialect) -> Option<Vec<Tok>> {
    let s: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && s.get(i + 1) == Some(&'-') {
            while i < s.len() && s[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && s.get(i + 1) == Some(&'*') {
            let end =
                (i + 2..s.len().saturating_sub(1)).find(|&j| s[j] == '*' && s[j + 1] == '/')?;
            i = end + 2;
        } else if c == '\'' || c == '"' || c == '`' || (c == '[' && dialect == Dialect::Sqlite) {
            let close = if c == '[' { ']' } else { c };
            let mut text = String::new();
            i += 1;
            loop {
                let d = *s.get(i)?;
                i += 1;
                if d == close {
                    // A doubled quote is one quote inside the literal.
                    if close != ']' && s.get(i) == Some(&close) {
                        text.push(close);
                        i += 1;
                    } else {
                        break;
                    }
                } else {
                    text.push(d);
                }
            }
            out.push(if c == '\'' {
                Tok::Str(text)
            } else {
                Tok::Quoted(text)
            });
        } else if c.is_ascii_digit() || (c == '.' && s.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            while i < s.len() && (s[i].is_ascii_alphanumeric() || s[i] == '.') {
                // An exponent's sign belongs to the number.
                if (s[i] == 'e' || s[i] == 'E') && matches!(s.get(i + 1), Some('+' | '-')) {
                    i += 1;
                }
                i += 1;
            }
            out.push(Tok::Num(s[start..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < s.len() && (s[i].is_alphanumeric() || s[i] == '_' || s[i] == '$') {
                i += 1;
            }
            out.push(Tok::Word(
                s[start..i].iter().collect::<String>().to_lowercase(),
            ));
        } else {
            let rest: String = s[i..s.len().min(i + 4)].iter().collect();
            let op = [
                "!~~*", "!~~", "~~*", "::", "<=", ">=", "<>", "!=", "==", "||", "~~",
            ]
            .into_iter()
            .find(|op| rest.starts_with(op))
            .unwrap_or_else(|| &rest[..c.len_utf8()]);
            out.push(Tok::Op(op.to_owned()));
            i += op.chars().count();
        }
    }
    Some(out)
}

/// A parsed expression in canonical shape: AND/OR flattened, BETWEEN and `= ANY (ARRAY…)`
/// rewritten, casts dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Expr {
    Lit(String),
    Col(String),
    Call(String, Vec<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    /// `AND` or `OR` over two or more terms.
    Chain(&'static str, Vec<Expr>),
    /// A comparison or arithmetic operator.
    Bin(String, Box<Expr>, Box<Expr>),
    In(Box<Expr>, Vec<Expr>, bool),
    IsNull(Box<Expr>, bool),
}

impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |f: &mut std::fmt::Formatter<'_>, items: &[Expr], sep: &str| {
            for (i, e) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(sep)?;
                }
                write!(f, "{e}")?;
            }
            Ok(())
        };
        match self {
            Self::Lit(s) | Self::Col(s) => f.write_str(s),
            Self::Call(name, args) => {
                write!(f, "{name}(")?;
                list(f, args, ", ")?;
                f.write_str(")")
            }
            Self::Not(e) => write!(f, "(NOT {e})"),
            Self::Neg(e) => write!(f, "(-{e})"),
            Self::Chain(op, items) => {
                f.write_str("(")?;
                list(f, items, &format!(" {op} "))?;
                f.write_str(")")
            }
            Self::Bin(op, a, b) => write!(f, "({a} {op} {b})"),
            Self::In(e, items, negated) => {
                write!(f, "({e} {}IN (", if *negated { "NOT " } else { "" })?;
                list(f, items, ", ")?;
                f.write_str("))")
            }
            Self::IsNull(e, negated) => {
                write!(f, "({e} IS {}NULL)", if *negated { "NOT " } else { "" })
            }
        }
    }
}

struct Parser<'a> {
    t: &'a [Tok],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i)
    }

    fn peek_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }

    fn peek_op(&self, o: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(x)) if x == o)
    }

    fn word(&mut self, w: &str) -> bool {
        let yes = self.peek_word(w);
        if yes {
            self.i += 1;
        }
        yes
    }

    fn op(&mut self, o: &str) -> bool {
        let yes = self.peek_op(o);
        if yes {
            self.i += 1;
        }
        yes
    }

    fn expect_op(&mut self, o: &str) -> Option<()> {
        self.op(o).then_some(())
    }

    fn expr(&mut self) -> Option<Expr> {
        self.chain("OR", "or", Self::and)
    }

    fn and(&mut self) -> Option<Expr> {
        self.chain("AND", "and", Self::not)
    }

    fn chain(
        &mut self,
        name: &'static str,
        word: &str,
        next: fn(&mut Self) -> Option<Expr>,
    ) -> Option<Expr> {
        let mut items = Vec::new();
        loop {
            match next(self)? {
                // Nested chains of the same operator are one chain, however parenthesised.
                Expr::Chain(n, inner) if n == name => items.extend(inner),
                e => items.push(e),
            }
            if !self.word(word) {
                break;
            }
        }
        Some(if items.len() == 1 {
            items.pop()?
        } else {
            Expr::Chain(name, items)
        })
    }

    fn not(&mut self) -> Option<Expr> {
        if self.word("not") {
            return Some(Expr::Not(Box::new(self.not()?)));
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Option<Expr> {
        let left = self.additive()?;
        if self.word("is") {
            let negated = self.word("not");
            return self
                .word("null")
                .then(|| Expr::IsNull(Box::new(left), negated));
        }
        let negated = self.word("not");
        if self.word("in") {
            self.expect_op("(")?;
            let items = self.list(")")?;
            return Some(Expr::In(Box::new(left), items, negated));
        }
        if self.word("between") {
            let low = self.additive()?;
            if !self.word("and") {
                return None;
            }
            let high = self.additive()?;
            // PostgreSQL stores BETWEEN as the two comparisons, NOT BETWEEN as their negation.
            let (lo, hi, join) = if negated {
                ("<", ">", "OR")
            } else {
                (">=", "<=", "AND")
            };
            return Some(Expr::Chain(
                join,
                vec![
                    Expr::Bin(lo.to_owned(), Box::new(left.clone()), Box::new(low)),
                    Expr::Bin(hi.to_owned(), Box::new(left), Box::new(high)),
                ],
            ));
        }
        for like in ["like", "glob"] {
            if self.word(like) {
                let op = format!(
                    "{}{}",
                    if negated { "NOT " } else { "" },
                    like.to_uppercase()
                );
                return Some(Expr::Bin(op, Box::new(left), Box::new(self.additive()?)));
            }
        }
        if negated {
            return None;
        }
        let op = match self.peek() {
            Some(Tok::Op(o)) => match o.as_str() {
                "=" | "==" => "=",
                "<>" | "!=" => "<>",
                "<" => "<",
                ">" => ">",
                "<=" => "<=",
                ">=" => ">=",
                "~~" => "LIKE",
                "!~~" => "NOT LIKE",
                "~~*" => "ILIKE",
                "!~~*" => "NOT ILIKE",
                _ => return Some(left),
            },
            _ => return Some(left),
        };
        self.i += 1;
        // `x = ANY (ARRAY[…])` is how PostgreSQL prints `x IN (…)`; `x <> ALL (…)` is NOT IN.
        let quantified = match (op, self.peek()) {
            ("=", Some(Tok::Word(w))) if w == "any" => Some(false),
            ("<>", Some(Tok::Word(w))) if w == "all" => Some(true),
            _ => None,
        };
        if let Some(negated) = quantified {
            self.i += 1;
            self.expect_op("(")?;
            let items = self.array()?;
            self.expect_op(")")?;
            return Some(Expr::In(Box::new(left), items, negated));
        }
        let right = self.additive()?;
        Some(Expr::Bin(op.to_owned(), Box::new(left), Box::new(right)))
    }

    /// `ARRAY[…]`, possibly parenthesised and cast (`(ARRAY[…])::text[]`): its items.
    fn array(&mut self) -> Option<Vec<Expr>> {
        let items = if self.op("(") {
            let items = self.array()?;
            self.expect_op(")")?;
            items
        } else {
            if !self.word("array") {
                return None;
            }
            self.expect_op("[")?;
            self.list("]")?
        };
        self.casts()?;
        Some(items)
    }

    /// Expressions separated by commas up to the closing `close`.
    fn list(&mut self, close: &str) -> Option<Vec<Expr>> {
        let mut items = Vec::new();
        if self.op(close) {
            return Some(items);
        }
        loop {
            items.push(self.expr()?);
            if self.op(close) {
                return Some(items);
            }
            self.expect_op(",")?;
        }
    }

    fn additive(&mut self) -> Option<Expr> {
        let mut left = self.multiplicative()?;
        while let Some(op) = ["+", "-", "||"].into_iter().find(|o| self.peek_op(o)) {
            self.i += 1;
            let right = self.multiplicative()?;
            left = Expr::Bin(op.to_owned(), Box::new(left), Box::new(right));
        }
        Some(left)
    }

    fn multiplicative(&mut self) -> Option<Expr> {
        let mut left = self.unary()?;
        while let Some(op) = ["*", "/", "%"].into_iter().find(|o| self.peek_op(o)) {
            self.i += 1;
            let right = self.unary()?;
            left = Expr::Bin(op.to_owned(), Box::new(left), Box::new(right));
        }
        Some(left)
    }

    fn unary(&mut self) -> Option<Expr> {
        if self.op("+") {
            return self.unary();
        }
        if self.op("-") {
            return Some(match self.unary()? {
                // PostgreSQL prints a negative constant as `(- 1)` or `'-1'::integer`.
                Expr::Lit(n) if n.starts_with(|c: char| c.is_ascii_digit()) => {
                    Expr::Lit(format!("-{n}"))
                }
                e => Expr::Neg(Box::new(e)),
            });
        }
        let e = self.primary()?;
        match self.casts()? {
            // `'5'::integer` is the number 5.
            Some(ty) if is_numeric_type(&ty) => match e {
                Expr::Lit(s) if s.starts_with('\'') => {
                    let n = s.trim_matches('\'');
                    Some(if n.parse::<f64>().is_ok() {
                        Expr::Lit(n.to_owned())
                    } else {
                        Expr::Lit(s)
                    })
                }
                e => Some(e),
            },
            _ => Some(e),
        }
    }

    /// Skips `::type` casts (which only PostgreSQL prints); returns the last type cast to.
    fn casts(&mut self) -> Option<Option<String>> {
        let mut last = None;
        while self.op("::") {
            last = Some(self.type_name()?);
        }
        Some(last)
    }

    fn type_name(&mut self) -> Option<String> {
        let mut name = match self.peek()? {
            Tok::Word(w) | Tok::Quoted(w) => w.clone(),
            _ => return None,
        };
        self.i += 1;
        // Multi-word type names.
        while let Some(Tok::Word(w)) = self.peek() {
            if ["varying", "precision", "with", "without", "time", "zone"].contains(&w.as_str()) {
                name.push(' ');
                name.push_str(w);
                self.i += 1;
            } else {
                break;
            }
        }
        if self.op("(") {
            self.list(")")?;
        }
        while self.op("[") {
            self.expect_op("]")?;
        }
        Some(name)
    }

    fn primary(&mut self) -> Option<Expr> {
        let tok = self.peek()?.clone();
        self.i += 1;
        Some(match tok {
            Tok::Num(n) => Expr::Lit(canonical_number(&n)),
            Tok::Str(s) => Expr::Lit(format!("'{}'", s.replace('\'', "''"))),
            Tok::Op(o) if o == "(" => {
                let e = self.expr()?;
                self.expect_op(")")?;
                e
            }
            Tok::Word(w) if w == "true" || w == "false" || w == "null" => Expr::Lit(w),
            Tok::Word(w) if w == "cast" => {
                self.expect_op("(")?;
                let e = self.expr()?;
                if !self.word("as") {
                    return None;
                }
                self.type_name()?;
                self.expect_op(")")?;
                e
            }
            Tok::Word(w) | Tok::Quoted(w) => {
                if self.op("(") {
                    Expr::Call(w, self.list(")")?)
                } else if self.op(".") {
                    // A qualified column: the table is implied by where the constraint is.
                    self.primary()?
                } else {
                    Expr::Col(w)
                }
            }
            Tok::Op(_) => return None,
        })
    }
}

fn is_numeric_type(ty: &str) -> bool {
    [
        "integer",
        "int",
        "int2",
        "int4",
        "int8",
        "bigint",
        "smallint",
        "numeric",
        "real",
        "double precision",
    ]
    .contains(&ty)
}

/// `007` and `7` are the same number; `1.50` and `1.5` too.
fn canonical_number(n: &str) -> String {
    if let Ok(i) = n.parse::<i64>() {
        return i.to_string();
    }
    match n.parse::<f64>() {
        Ok(f) if f.is_finite() => format!("{f:?}"),
        _ => n.to_owned(),
    }
}

/// The canonical text of the expression in `tokens`, which must be exactly one expression.
pub(super) fn expression(tokens: &[Tok]) -> Option<String> {
    let mut p = Parser { t: tokens, i: 0 };
    let e = p.expr()?;
    (p.i == tokens.len()).then(|| e.to_string())
}

/// The canonical text of the SQL expression `sql`, or `unparsed …` with the original.
pub(super) fn canonical(sql: &str, dialect: Dialect) -> String {
    tokens(sql, dialect)
        .and_then(|t| expression(&t))
        .unwrap_or_else(|| format!("unparsed {}", sql.trim()))
}

/// The CHECK constraints in a SQLite `CREATE TABLE` statement (column and table constraints
/// alike), canonical.
pub(super) fn sqlite_checks(create_table: &str) -> Vec<String> {
    let Some(t) = tokens(create_table, Dialect::Sqlite) else {
        return vec![format!("unparsed {create_table}")];
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < t.len() {
        if t[i] == Tok::Word("check".into()) && t[i + 1] == Tok::Op("(".into()) {
            // The constraint is everything up to the matching parenthesis.
            let mut depth = 0usize;
            let mut end = None;
            for (j, tok) in t.iter().enumerate().skip(i + 1) {
                match tok {
                    Tok::Op(o) if o == "(" => depth += 1,
                    Tok::Op(o) if o == ")" => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(j);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let Some(end) = end else {
                out.push(format!("unparsed {create_table}"));
                break;
            };
            out.push(
                expression(&t[i + 2..end])
                    .unwrap_or_else(|| format!("unparsed CHECK at token {i} of {create_table}")),
            );
            i = end + 1;
        } else {
            i += 1;
        }
    }
    out
}

/// A PostgreSQL `pg_get_constraintdef` of a CHECK constraint, canonical.
pub(super) fn postgres_check(def: &str) -> String {
    let parsed = tokens(def, Dialect::Postgres).and_then(|t| {
        let mut t = t.as_slice();
        if t.first() != Some(&Tok::Word("check".into())) {
            return None;
        }
        // A constraint added NOT VALID still describes the intended schema.
        if t.ends_with(&[Tok::Word("not".into()), Tok::Word("valid".into())]) {
            t = &t[..t.len() - 2];
        }
        expression(&t[1..])
    });
    parsed.unwrap_or_else(|| format!("unparsed {def}"))
}

/// The timing and event of a SQLite `CREATE TRIGGER` (its body is not compared: the two
/// backends write trigger bodies in different languages).
pub(super) fn sqlite_trigger(sql: &str) -> Option<(String, String)> {
    let t = tokens(sql, Dialect::Sqlite)?;
    let on = t.iter().position(|x| *x == Tok::Word("on".into()))?;
    let header = &t[..on];
    // The event is the last of these words before ON (`UPDATE OF a, b` ends with columns,
    // which cannot be these keywords unquoted).
    let at = header.iter().rposition(
        |x| matches!(x, Tok::Word(w) if ["insert", "update", "delete"].contains(&w.as_str())),
    )?;
    let Tok::Word(event) = &header[at] else {
        return None;
    };
    let before_event = at.checked_sub(1).map(|i| &header[i]);
    let timing = match before_event {
        Some(Tok::Word(w)) if w == "after" => "after",
        Some(Tok::Word(w)) if w == "of" => "instead of",
        // BEFORE is SQLite's default when no timing is written.
        _ => "before",
    };
    Some((timing.to_owned(), event.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each pair: what SQLite keeps (as written) and what PostgreSQL prints for it.
    #[test]
    fn both_spellings_agree() {
        for (lite, pg) in [
            (
                "status IN ('active', 'hidden')",
                "CHECK ((status = ANY (ARRAY['active'::text, 'hidden'::text])))",
            ),
            (
                "points BETWEEN 1 AND 5",
                "CHECK (((points >= 1) AND (points <= 5)))",
            ),
            (
                "a NOT IN ('x') AND length(b) > 0 OR c IS NOT NULL",
                "CHECK ((((a <> ALL (ARRAY['x'::text])) AND (length(b) > 0)) OR (c IS NOT NULL)))",
            ),
            (
                "n >= -1 AND name != 'it''s' AND x NOT BETWEEN 2 AND 3",
                "CHECK ((n >= '-1'::integer) AND (name <> 'it''s'::text) AND ((x < 2) OR (x > 3))) NOT VALID",
            ),
            ("name NOT LIKE 'x%'", "CHECK ((name !~~ 'x%'::text))"),
            (
                "[kind] IN ('a', 'b')",
                "CHECK (((kind)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])))",
            ),
            (
                "slug LIKE 'a%' AND (\"Mixed\" = 1)",
                "CHECK (((slug ~~ 'a%'::text) AND (\"Mixed\" = 1)))",
            ),
        ] {
            let lite = sqlite_checks(&format!("CREATE TABLE t (x INTEGER CHECK ({lite}))"));
            assert_eq!(lite, vec![postgres_check(pg)], "{pg}");
            assert!(!lite[0].starts_with("unparsed"), "{lite:?}");
        }
    }

    #[test]
    fn different_constraints_stay_different() {
        let pairs = [
            ("points BETWEEN 1 AND 5", "points BETWEEN 1 AND 10"),
            ("status IN ('a', 'b')", "status IN ('a')"),
            ("a = 1 OR b = 2 AND c = 3", "(a = 1 OR b = 2) AND c = 3"),
            ("x > 1", "x >= 1"),
            ("x IN ('a')", "x NOT IN ('a')"),
        ];
        for (a, b) in pairs {
            assert_ne!(
                canonical(a, Dialect::Sqlite),
                canonical(b, Dialect::Sqlite),
                "{a} vs {b}"
            );
        }
    }

    #[test]
    fn defaults_agree() {
        for (lite, pg) in [
            ("''", "''::text"),
            ("0", "0"),
            ("TRUE", "true"),
            ("'active'", "'active'::text"),
            ("-5", "'-5'::integer"),
        ] {
            assert_eq!(
                canonical(lite, Dialect::Sqlite),
                canonical(pg, Dialect::Postgres)
            );
        }
    }

    #[test]
    fn checks_are_found_around_comments_and_strings() {
        let sql = "CREATE TABLE t (
            a TEXT NOT NULL DEFAULT 'check (' CHECK (a <> ''), -- check (not this)
            b INTEGER, CONSTRAINT b_small CHECK(b < 10)
        )";
        assert_eq!(sqlite_checks(sql), ["(a <> '')", "(b < 10)"]);
    }

    #[test]
    fn unknown_syntax_is_kept_visibly() {
        assert!(canonical("x = ANY (SELECT 1)", Dialect::Postgres).starts_with("unparsed"));
        assert!(postgres_check("CHECK (x @@ y)").starts_with("unparsed"));
    }

    #[test]
    fn trigger_headers() {
        assert_eq!(
            sqlite_trigger("CREATE TRIGGER t BEFORE UPDATE ON a BEGIN SELECT 1; END"),
            Some(("before".into(), "update".into()))
        );
        assert_eq!(
            sqlite_trigger("CREATE TRIGGER IF NOT EXISTS t AFTER UPDATE OF x, y ON a BEGIN END"),
            Some(("after".into(), "update".into()))
        );
        assert_eq!(
            sqlite_trigger(
                "create trigger t delete on a begin select raise(abort, 'OR INSERT'); end"
            ),
            Some(("before".into(), "delete".into()))
        );
    }
}
