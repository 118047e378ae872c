//! Templates: loaded once at start-up, rendered with the UI catalogue as `t(...)`.

use std::sync::Arc;

use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error};

use crate::assets::Assets;
use crate::{Catalog, WebSettings};

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("home.html", include_str!("../templates/home.html")),
    ("category.html", include_str!("../templates/category.html")),
    ("article.html", include_str!("../templates/article.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("idle.html", include_str!("../templates/idle.html")),
    ("list.html", include_str!("../templates/list.html")),
    ("print.html", include_str!("../templates/print.html")),
    ("api.html", include_str!("../templates/api.html")),
    ("search.html", include_str!("../templates/search.html")),
    (
        "admin/base.html",
        include_str!("../templates/admin/base.html"),
    ),
    (
        "admin/login.html",
        include_str!("../templates/admin/login.html"),
    ),
    (
        "admin/dashboard.html",
        include_str!("../templates/admin/dashboard.html"),
    ),
    (
        "admin/media.html",
        include_str!("../templates/admin/media.html"),
    ),
    (
        "admin/media_item.html",
        include_str!("../templates/admin/media_item.html"),
    ),
    (
        "admin/sessions.html",
        include_str!("../templates/admin/sessions.html"),
    ),
    (
        "admin/account.html",
        include_str!("../templates/admin/account.html"),
    ),
    (
        "admin/two_step.html",
        include_str!("../templates/admin/two_step.html"),
    ),
    (
        "admin/audit.html",
        include_str!("../templates/admin/audit.html"),
    ),
    (
        "admin/users.html",
        include_str!("../templates/admin/users.html"),
    ),
    (
        "admin/user.html",
        include_str!("../templates/admin/user.html"),
    ),
    (
        "admin/user_fields.html",
        include_str!("../templates/admin/user_fields.html"),
    ),
    (
        "admin/articles.html",
        include_str!("../templates/admin/articles.html"),
    ),
    (
        "admin/article_edit.html",
        include_str!("../templates/admin/article_edit.html"),
    ),
    (
        "admin/article_history.html",
        include_str!("../templates/admin/article_history.html"),
    ),
    (
        "admin/article_diff.html",
        include_str!("../templates/admin/article_diff.html"),
    ),
    (
        "admin/categories.html",
        include_str!("../templates/admin/categories.html"),
    ),
    (
        "admin/category_edit.html",
        include_str!("../templates/admin/category_edit.html"),
    ),
    (
        "admin/tags.html",
        include_str!("../templates/admin/tags.html"),
    ),
    (
        "admin/message.html",
        include_str!("../templates/admin/message.html"),
    ),
    (
        "admin/forgot.html",
        include_str!("../templates/admin/forgot.html"),
    ),
    (
        "admin/reset.html",
        include_str!("../templates/admin/reset.html"),
    ),
    (
        "admin/tokens.html",
        include_str!("../templates/admin/tokens.html"),
    ),
    (
        "admin/webhooks.html",
        include_str!("../templates/admin/webhooks.html"),
    ),
];

/// The template environment.
#[derive(Clone)]
pub(crate) struct Renderer {
    env: Arc<Environment<'static>>,
}

impl Renderer {
    pub(crate) fn new(catalog: Catalog, settings: &WebSettings, assets: &Assets) -> Self {
        let mut env = Environment::new();
        for (name, src) in TEMPLATES {
            env.add_template(name, src)
                .expect("bundled templates parse (checked by tests)");
        }
        env.add_function(
            "t",
            move |key: &str, kwargs: Kwargs| -> Result<String, Error> {
                let mut args: Vec<(String, String)> = Vec::new();
                for name in kwargs.args() {
                    let v: Value = kwargs.get(name)?;
                    args.push((name.to_owned(), v.to_string()));
                }
                kwargs.assert_all_used()?;
                let refs: Vec<(&str, &str)> =
                    args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                Ok(catalog.format(key, &refs))
            },
        );
        env.add_global("site_name", settings.site_name.clone());
        env.add_global("css_url", assets.url("site.css").to_owned());
        env.add_global("rating_js_url", assets.url("rating.js").to_owned());
        env.add_global("share_js_url", assets.url("share.js").to_owned());
        env.add_global("print_css_url", assets.url("print.css").to_owned());
        env.add_global("tags_js_url", assets.url("tags.js").to_owned());
        env.add_global("media_js_url", assets.url("media.js").to_owned());
        env.add_filter("thousands", |n: i64| -> String { format_thousands(n) });
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        // minijinja also escapes `/`, which bloats every URL in a page; the five characters
        // below are all HTML needs in text and quoted attributes.
        env.set_formatter(|out, state, value| {
            if *state.auto_escape() == minijinja::AutoEscape::Html
                && !value.is_safe()
                && let Some(s) = value.as_str()
            {
                return out.write_str(&escape_html(s)).map_err(Error::from);
            }
            minijinja::escape_formatter(out, state, value)
        });
        Self { env: Arc::new(env) }
    }

    /// Renders a template with `ctx`.
    pub(crate) fn render(&self, name: &str, ctx: Value) -> Result<String, Error> {
        self.env.get_template(name)?.render(ctx)
    }
}

/// Escapes text for HTML content and double- or single-quoted attributes.
pub(crate) fn escape_html(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Groups digits with dots, the Vietnamese convention: 1234567 → `1.234.567`.
pub(crate) fn format_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_file_is_bundled() {
        fn walk(dir: &std::path::Path, root: &std::path::Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, root, out);
                } else {
                    out.push(
                        p.strip_prefix(root)
                            .unwrap()
                            .to_string_lossy()
                            .replace('\\', "/"),
                    );
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut files = Vec::new();
        walk(&root, &root, &mut files);
        for f in files {
            assert!(
                TEMPLATES.iter().any(|(n, _)| *n == f),
                "{f} is not in TEMPLATES"
            );
        }
    }

    #[test]
    fn escapes_the_five() {
        assert_eq!(escape_html("/a/b"), "/a/b");
        assert_eq!(
            escape_html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn vietnamese_thousands() {
        assert_eq!(format_thousands(0), "0");
        assert_eq!(format_thousands(999), "999");
        assert_eq!(format_thousands(1000), "1.000");
        assert_eq!(format_thousands(1234567), "1.234.567");
        assert_eq!(format_thousands(-12345), "-12.345");
    }
}
