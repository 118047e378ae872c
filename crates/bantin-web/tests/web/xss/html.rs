//! Pages read the way a browser's tokenizer reads them (html5ever): their forms and links, and
//! a static check that no markup in them can run script. The check sees every captured
//! response, including those the browser does not render and handlers that need a click.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// A tag or a run of text, as the tokenizer saw it.
#[derive(Debug)]
pub enum Tok {
    Start {
        name: String,
        attrs: Vec<(String, String)>,
    },
    End {
        name: String,
    },
    Text(String),
}

#[derive(Default)]
struct Sink {
    toks: RefCell<Vec<Tok>>,
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut toks = self.toks.borrow_mut();
        match token {
            Token::TagToken(tag) => {
                let name = tag.name.to_string();
                if tag.kind == TagKind::EndTag {
                    toks.push(Tok::End { name });
                    return TokenSinkResult::Continue;
                }
                let attrs = tag
                    .attrs
                    .iter()
                    .map(|a| (a.name.local.to_string(), a.value.to_string()))
                    .collect();
                toks.push(Tok::Start {
                    name: name.clone(),
                    attrs,
                });
                // The tokenizer alone does not know which elements hold raw text; a browser
                // with scripting on treats these so (the tree builder's job, simplified).
                match name.as_str() {
                    "script" => TokenSinkResult::RawData(RawKind::ScriptData),
                    "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => {
                        TokenSinkResult::RawData(RawKind::Rawtext)
                    }
                    "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
                    "plaintext" => TokenSinkResult::Plaintext,
                    _ => TokenSinkResult::Continue,
                }
            }
            Token::CharacterTokens(t) => {
                if let Some(Tok::Text(s)) = toks.last_mut() {
                    s.push_str(&t);
                } else {
                    toks.push(Tok::Text(t.to_string()));
                }
                TokenSinkResult::Continue
            }
            _ => TokenSinkResult::Continue,
        }
    }
}

/// The tokens of a page.
pub fn tokens(html: &str) -> Vec<Tok> {
    let tok = Tokenizer::new(Sink::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let _ = tok.feed(&input);
    tok.end();
    tok.sink.toks.take()
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// One field of a form, as a browser would send it.
#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    /// `input` type, or `textarea`, `select`, `button`.
    pub kind: String,
    /// What the browser sends when nobody types.
    pub value: String,
    /// Whether a person (or an attacker's page) chooses the value: everything but the CSRF
    /// token, checkboxes and radio buttons.
    pub fuzz: bool,
}

/// A form on a page.
#[derive(Clone, Debug)]
pub struct Form {
    pub method: String,
    pub action: String,
    pub fields: Vec<Field>,
}

/// Input types whose value is typed or chosen freely; a request may carry any text in them.
const TEXT_LIKE: &[&str] = &[
    "text",
    "search",
    "email",
    "url",
    "tel",
    "password",
    "number",
    "date",
    "datetime-local",
    "month",
    "week",
    "time",
    "hidden",
];

/// The forms of a page, with the values a browser would send for them untouched.
pub fn forms(html: &str) -> Vec<Form> {
    let mut out: Vec<Form> = Vec::new();
    let mut current: Option<Form> = None;
    // The open `select` (name, first option, selected option) and `textarea` (name, text).
    let mut select: Option<(String, Option<String>, Option<String>)> = None;
    let mut textarea: Option<(String, String)> = None;
    let mut button_seen = false;
    for t in tokens(html) {
        match t {
            Tok::Start { name, attrs } => match name.as_str() {
                "form" => {
                    current = Some(Form {
                        method: attr(&attrs, "method").unwrap_or("get").to_uppercase(),
                        action: attr(&attrs, "action").unwrap_or_default().to_owned(),
                        fields: Vec::new(),
                    });
                    button_seen = false;
                }
                "input" => {
                    let (Some(f), Some(n)) = (current.as_mut(), attr(&attrs, "name")) else {
                        continue;
                    };
                    let kind = attr(&attrs, "type").unwrap_or("text").to_lowercase();
                    let value = attr(&attrs, "value").unwrap_or_default().to_owned();
                    if kind == "checkbox" || kind == "radio" {
                        if attr(&attrs, "checked").is_some() {
                            let value = if value.is_empty() { "on".into() } else { value };
                            f.fields.push(Field {
                                name: n.into(),
                                kind,
                                value,
                                fuzz: false,
                            });
                        }
                    } else if TEXT_LIKE.contains(&kind.as_str()) {
                        f.fields.push(Field {
                            name: n.into(),
                            fuzz: n != "csrf",
                            kind,
                            value,
                        });
                    }
                }
                "textarea" => {
                    if let Some(n) = attr(&attrs, "name") {
                        textarea = Some((n.to_owned(), String::new()));
                    }
                }
                "select" => {
                    if let Some(n) = attr(&attrs, "name") {
                        select = Some((n.to_owned(), None, None));
                    }
                }
                "option" => {
                    if let Some((_, first, selected)) = select.as_mut() {
                        let v = attr(&attrs, "value").unwrap_or_default().to_owned();
                        if attr(&attrs, "selected").is_some() {
                            *selected = Some(v.clone());
                        }
                        first.get_or_insert(v);
                    }
                }
                "button" => {
                    // The first named button stands for the click that sends the form.
                    if let (Some(f), Some(n), false) =
                        (current.as_mut(), attr(&attrs, "name"), button_seen)
                    {
                        button_seen = true;
                        f.fields.push(Field {
                            name: n.to_owned(),
                            kind: "button".into(),
                            value: attr(&attrs, "value").unwrap_or_default().to_owned(),
                            fuzz: true,
                        });
                    }
                }
                _ => {}
            },
            Tok::Text(s) => {
                if let Some((_, text)) = textarea.as_mut() {
                    text.push_str(&s);
                }
            }
            Tok::End { name } => match name.as_str() {
                "form" => out.extend(current.take()),
                "textarea" => {
                    if let (Some(f), Some((n, text))) = (current.as_mut(), textarea.take()) {
                        f.fields.push(Field {
                            name: n,
                            kind: "textarea".into(),
                            value: text,
                            fuzz: true,
                        });
                    }
                }
                "select" => {
                    if let (Some(f), Some((n, first, selected))) = (current.as_mut(), select.take())
                    {
                        f.fields.push(Field {
                            name: n,
                            kind: "select".into(),
                            value: selected.or(first).unwrap_or_default(),
                            fuzz: true,
                        });
                    }
                }
                _ => {}
            },
        }
    }
    out.extend(current);
    out
}

/// The `href` of every link.
pub fn links(html: &str) -> Vec<String> {
    tokens(html)
        .into_iter()
        .filter_map(|t| match t {
            Tok::Start { name, attrs } if name == "a" => attr(&attrs, "href").map(str::to_owned),
            _ => None,
        })
        .collect()
}

/// Attributes whose URL a browser follows as a document, so a script URL in them runs (on a
/// click for links and forms). Images, media and style sheets never run one.
const URL_ATTRS: &[&str] = &[
    "href",
    "action",
    "formaction",
    "data",
    "xlink:href",
    "to",
    "from",
    "values",
];

/// Elements whose `src` is loaded as a document or script.
const SRC_DOCUMENTS: &[&str] = &["iframe", "frame", "embed", "script"];

/// Every construct in `html` that can run script: event-handler attributes, scripts other
/// than the site's own files, script URLs, and the elements that load or redirect to them.
/// The site's own pages have none, so anything found came from input.
pub fn live_markup(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for t in tokens(html) {
        let Tok::Start { name, attrs } = t else {
            continue;
        };
        let show = || {
            let a: Vec<String> = attrs.iter().map(|(n, v)| format!("{n}={v:?}")).collect();
            format!("<{name} {}>", a.join(" "))
        };
        if let Some((n, _)) = attrs.iter().find(|(n, _)| n.starts_with("on")) {
            found.push(format!("event handler {n}: {}", show()));
        }
        match name.as_str() {
            // A JSON-LD block is data a browser never runs (not a JavaScript type).
            "script"
                if !attr(&attrs, "src").is_some_and(|s| s.starts_with("/assets/"))
                    && attr(&attrs, "type").is_none_or(|t| t != "application/ld+json") =>
            {
                found.push(format!("script: {}", show()));
            }
            "object" | "embed" | "applet" | "base" | "frame" | "frameset" => {
                found.push(format!("element: {}", show()));
            }
            "iframe" if attr(&attrs, "srcdoc").is_some() => {
                found.push(format!("srcdoc: {}", show()));
            }
            "meta" if attr(&attrs, "http-equiv").is_some() => {
                found.push(format!("meta http-equiv: {}", show()));
            }
            _ => {}
        }
        for (n, v) in &attrs {
            // Browsers drop whitespace and control characters inside a scheme.
            let squeezed: String = v
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control())
                .collect::<String>()
                .to_lowercase();
            let script_url = ["javascript:", "vbscript:", "livescript:", "data:text/html"]
                .iter()
                .any(|s| squeezed.starts_with(s) || squeezed.contains(&format!(",{s}")));
            let runs = URL_ATTRS.contains(&n.as_str())
                || (n == "src" && SRC_DOCUMENTS.contains(&name.as_str()));
            if runs && script_url {
                found.push(format!("script URL in {n}: {}", show()));
            }
            if n == "style"
                && (squeezed.contains("expression(") || squeezed.contains("javascript:"))
            {
                found.push(format!("script in style: {}", show()));
            }
        }
    }
    found
}

#[test]
fn the_static_check_finds_live_markup_and_reads_forms() {
    let page = r#"<p title="&quot;><img src=x onerror=alert(1)>">&lt;script&gt;alert(1)&lt;/script&gt;</p>
        <textarea><img src=x onerror=alert(1)></textarea><script src="/assets/a.js"></script>"#;
    assert_eq!(live_markup(page), Vec::<String>::new());
    // Browsers load an image's URL as an image, whatever its scheme.
    assert_eq!(
        live_markup("<img src='javascript:alert(1)'>"),
        Vec::<String>::new()
    );
    for bad in [
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
        "<a href=' jav&#x09;ascript:alert(1)'>x</a>",
        "<iframe srcdoc='&lt;script&gt;alert(1)&lt;/script&gt;'></iframe>",
        "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
        "<div style='width:expression(alert(1))'>",
        "<svg><animate attributeName=href values=javascript:alert(1) /></svg>",
        "<iframe src=javascript:alert(1)></iframe>",
    ] {
        assert!(!live_markup(bad).is_empty(), "{bad}");
    }
    let f = forms(
        r#"<form method="post" action="/a?x=1&amp;y=2"><input type="hidden" name="csrf" value="t">
        <input name="q" value="&lt;v&gt;"><input type="checkbox" name="c" value="1" checked>
        <input type="checkbox" name="d" value="1"><textarea name="body">b &amp; c</textarea>
        <select name="s"><option value="a">A</option><option value="b" selected>B</option></select>
        <button name="point" value="1">1</button><button name="point" value="2">2</button></form>"#,
    );
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].action, "/a?x=1&y=2");
    let got: Vec<(&str, &str, bool)> = f[0]
        .fields
        .iter()
        .map(|x| (x.name.as_str(), x.value.as_str(), x.fuzz))
        .collect();
    assert_eq!(
        got,
        [
            ("csrf", "t", false),
            ("q", "<v>", true),
            ("c", "1", false),
            ("body", "b & c", true),
            ("s", "b", true),
            ("point", "1", true),
        ]
    );
}
