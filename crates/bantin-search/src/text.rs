//! Plain text of sanitised article HTML, and highlighting of the words a query matched in
//! a title or a snippet, whether or not the query had diacritics.

use std::collections::HashSet;

use crate::analyzer::{Mode, for_each_token};

/// Elements after which text does not run on into the next word.
const BLOCKS: &[&str] = &[
    "p",
    "br",
    "div",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "td",
    "th",
    "tr",
    "table",
    "blockquote",
    "figure",
    "figcaption",
    "img",
    "hr",
    "pre",
];

/// The text of sanitised HTML (what the store keeps: tags well formed, `<`, `>` and `&`
/// escaped in text), block boundaries turned into line breaks.
pub fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        push_decoded(&mut out, &rest[..lt]);
        let Some(gt) = rest[lt..].find('>') else {
            rest = "";
            break;
        };
        let tag = &rest[lt + 1..lt + gt];
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if BLOCKS.contains(&name.as_str()) && !out.ends_with('\n') {
            out.push('\n');
        }
        rest = &rest[lt + gt + 1..];
    }
    push_decoded(&mut out, rest);
    out
}

/// Appends `text` with its character references decoded (the few a sanitiser writes, and
/// numeric ones).
fn push_decoded(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let name = &after[..e];
            match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            }
        });
        match (decoded, end) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            _ => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

/// What a query matched, for highlighting: folded syllables and document-number keys.
#[derive(Clone, Debug, Default)]
pub struct Marks {
    /// Folded syllables.
    pub words: HashSet<String>,
    /// Folded document numbers.
    pub doc_numbers: HashSet<String>,
}

fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
}

/// Byte ranges of `text` to mark, in order, not overlapping.
fn ranges(text: &str, marks: &Marks) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    if !marks.doc_numbers.is_empty() {
        for_each_token(Mode::DocNo, text, |t| {
            if marks.doc_numbers.contains(&t.text) {
                out.push((t.offset_from, t.offset_to));
            }
        });
    }
    let numbers = out.len();
    for_each_token(Mode::Folded, text, |t| {
        if marks.words.contains(&t.text)
            && !out[..numbers]
                .iter()
                .any(|&(f, e)| t.offset_from < e && t.offset_to > f)
        {
            out.push((t.offset_from, t.offset_to));
        }
    });
    out.sort_unstable();
    out
}

/// `text[from..to]` as HTML with the marked words in `<mark>`.
fn render(text: &str, from: usize, to: usize, marked: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(to - from + 32);
    let mut at = from;
    for &(f, e) in marked {
        if f < from || e > to {
            continue;
        }
        escape(&mut out, &text[at..f]);
        out.push_str("<mark>");
        escape(&mut out, &text[f..e]);
        out.push_str("</mark>");
        at = e;
    }
    escape(&mut out, &text[at..to]);
    out
}

/// The whole of `text` as HTML with matched words marked (titles).
pub fn highlight(text: &str, marks: &Marks) -> String {
    render(text, 0, text.len(), &ranges(text, marks))
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// About `max` bytes of `text` around where the most matched words are, as HTML with them
/// marked, with `…` where text was cut. Without a match, the start of the text.
pub fn snippet(text: &str, marks: &Marks, max: usize) -> String {
    let text = text.trim();
    let marked = ranges(text, marks);
    if text.len() <= max {
        return render(text, 0, text.len(), &marked);
    }
    // The window starting at some match that holds the most matches.
    let mut best = (0usize, 0usize);
    for (i, &(f, _)) in marked.iter().enumerate() {
        let n = marked[i..]
            .iter()
            .take_while(|&&(_, e)| e <= f + max)
            .count();
        if n > best.1 {
            best = (f, n);
        }
    }
    // A little context before the first match, from a word boundary.
    let mut from = floor_char(text, best.0.saturating_sub(max / 5));
    if from > 0 {
        from = text[from..]
            .find(char::is_whitespace)
            .map_or(from, |i| from + i + 1)
            .min(best.0);
    }
    let mut to = floor_char(text, (from + max).min(text.len()));
    if to < text.len() {
        to = text[..to]
            .rfind(char::is_whitespace)
            .filter(|&i| i > from)
            .unwrap_or(to);
    }
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.push_str(&render(text, from, to, &marked));
    if to < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(words: &[&str]) -> Marks {
        Marks {
            words: words.iter().map(|w| (*w).to_owned()).collect(),
            doc_numbers: HashSet::new(),
        }
    }

    #[test]
    fn text_of_html() {
        assert_eq!(
            html_text("<p>Học&nbsp;tập &amp; làm theo</p><p>gương <strong>Bác</strong></p>"),
            "\nHọc tập & làm theo\ngương Bác\n"
        );
        assert_eq!(html_text("a &#7899; &#x1EDB; &bogus b"), "a ớ ớ &bogus b");
    }

    #[test]
    fn highlights_whatever_the_diacritics() {
        assert_eq!(
            highlight("Đảng bộ <Thành phố>", &marks(&["dang", "bo"])),
            "<mark>Đảng</mark> <mark>bộ</mark> &lt;Thành phố&gt;"
        );
    }

    #[test]
    fn snippets_go_to_the_match() {
        let text = format!(
            "{} học tập và làm theo {}",
            "chữ ".repeat(100),
            "đuôi ".repeat(100)
        );
        let s = snippet(&text, &marks(&["hoc", "tap"]), 120);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<mark>học</mark> <mark>tập</mark>"), "{s}");
    }
}
