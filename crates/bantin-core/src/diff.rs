//! Comparing two versions of an article for the newsroom: the stored body HTML as readable
//! lines (one per paragraph, heading, list item, caption…), and a side-by-side line diff with
//! the changed words marked inside changed lines. Pure text in, pure text out: whoever shows
//! the result escapes it.

use std::time::Duration;

use similar::{ChangeTag, DiffOp, TextDiff};

/// Tags that end a line of text when they open or close.
const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "blockquote",
    "figure",
    "figcaption",
    "pre",
    "table",
    "thead",
    "tbody",
    "tr",
    "td",
    "th",
    "hr",
    "br",
    "section",
    "article",
];

/// Words that name embedded media in [`html_lines`]' output (from the UI catalogue).
#[derive(Clone, Copy, Debug)]
pub struct MediaWords<'a> {
    /// Names a picture: `[Ảnh: /media/a.jpg — alt]`.
    pub image: &'a str,
    /// Names an embedded frame (video).
    pub frame: &'a str,
}

impl Default for MediaWords<'_> {
    fn default() -> Self {
        Self {
            image: "Ảnh",
            frame: "Khung nhúng",
        }
    }
}

/// The value of attribute `name` in the inside of a tag (`img src="…" alt="…"`), decoded.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name) {
        let at = from + i;
        from = at + name.len();
        let before_ok = at == 0 || lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = tag[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let rest = rest[1..].trim_start();
        let value = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
            Some(_) => rest
                .split(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
                .next()
                .unwrap_or(""),
            None => "",
        };
        return Some(decode_entities(value));
    }
    None
}

/// Decodes character references: the named ones a sanitiser writes, and numeric ones.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .map(|j| j + 1);
        let decoded = end.filter(|&e| rest[e..].starts_with(';')).and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Body HTML as readable lines: text split at block tags and `<br>`, tags dropped, entities
/// decoded, white space collapsed, empty lines left out. Pictures and frames become a line
/// naming them and their address (and a picture's alt text), so changing one shows.
pub fn html_lines(html: &str, words: MediaWords<'_>) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let flush = |current: &mut String, lines: &mut Vec<String>| {
        let text = decode_entities(current);
        let text: Vec<&str> = text.split_whitespace().collect();
        if !text.is_empty() {
            lines.push(text.join(" "));
        }
        current.clear();
    };
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        current.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        let Some(end) = rest.find('>') else {
            // A lone '<' (never in sanitised HTML): keep it as text.
            current.push_str("&lt;");
            continue;
        };
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if BLOCK_TAGS.contains(&name.as_str()) {
            flush(&mut current, &mut lines);
        } else if (name == "img" || name == "iframe") && !tag.starts_with('/') {
            flush(&mut current, &mut lines);
            let src = attribute(tag, "src").unwrap_or_default();
            let line = if name == "img" {
                match attribute(tag, "alt").filter(|a| !a.trim().is_empty()) {
                    Some(alt) => format!("[{}: {src} — {}]", words.image, alt.trim()),
                    None => format!("[{}: {src}]", words.image),
                }
            } else {
                format!("[{}: {src}]", words.frame)
            };
            lines.push(line.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    current.push_str(rest);
    flush(&mut current, &mut lines);
    lines
}

/// A piece of one side of a changed line: its text, and whether it is what changed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Segment {
    /// The text.
    pub text: String,
    /// Part of what changed (removed on the left, added on the right).
    pub changed: bool,
}

/// One side of a row of a side-by-side diff.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Cell {
    /// 1-based line number on its side.
    pub line: usize,
    /// The line in pieces; a line that changed entirely is one changed piece.
    pub segments: Vec<Segment>,
}

/// What a row of a side-by-side diff shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RowKind {
    /// The same line on both sides.
    Same,
    /// A line removed, added or changed (either side may be empty).
    Changed,
    /// A run of unchanged lines left out; `skipped` says how many.
    Skipped,
}

/// A row of a side-by-side diff.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Row {
    /// What the row shows.
    pub kind: RowKind,
    /// The old line, if any.
    pub left: Option<Cell>,
    /// The new line, if any.
    pub right: Option<Cell>,
    /// Unchanged lines left out ([`RowKind::Skipped`] only).
    pub skipped: usize,
}

/// Unchanged lines kept around each change when a long unchanged run is collapsed.
pub const CONTEXT: usize = 2;

fn cell(line: usize, values: impl IntoIterator<Item = (bool, String)>) -> Cell {
    let mut segments: Vec<Segment> = Vec::new();
    for (changed, text) in values {
        let text = text.trim_end_matches('\n').to_owned();
        if text.is_empty() {
            continue;
        }
        match segments.last_mut() {
            Some(last) if last.changed == changed => last.text.push_str(&text),
            _ => segments.push(Segment { text, changed }),
        }
    }
    // White space between two changed words is part of the change: "<del>Bản nháp</del>",
    // not two marks.
    for i in 1..segments.len().saturating_sub(1) {
        if !segments[i].changed
            && segments[i].text.trim().is_empty()
            && segments[i - 1].changed
            && segments[i + 1].changed
        {
            segments[i].changed = true;
        }
    }
    let mut merged: Vec<Segment> = Vec::with_capacity(segments.len());
    for s in segments {
        match merged.last_mut() {
            Some(last) if last.changed == s.changed => last.text.push_str(&s.text),
            _ => merged.push(s),
        }
    }
    Cell {
        line,
        segments: merged,
    }
}

/// Marks every line of `cells` changed as a whole: a block removed or added, or lines too
/// different to compare word by word.
fn whole(cells: &mut [Cell]) {
    for c in cells {
        let text: String = c.segments.drain(..).map(|s| s.text).collect();
        c.segments = vec![Segment {
            text,
            changed: true,
        }];
    }
}

fn same(line_left: usize, line_right: usize, text: &str) -> Row {
    let seg = || {
        vec![Segment {
            text: text.trim_end_matches('\n').to_owned(),
            changed: false,
        }]
    };
    Row {
        kind: RowKind::Same,
        left: Some(Cell {
            line: line_left,
            segments: seg(),
        }),
        right: Some(Cell {
            line: line_right,
            segments: seg(),
        }),
        skipped: 0,
    }
}

/// A side-by-side diff of two lists of lines: unchanged lines on both sides, removed ones on
/// the left, added ones on the right, a changed line beside what replaced it with the changed
/// words marked. Unchanged runs longer than twice [`CONTEXT`] are collapsed into one
/// [`RowKind::Skipped`] row. Empty when the lines are equal.
pub fn side_by_side(old: &[String], new: &[String]) -> Vec<Row> {
    let old_text: String = old.iter().map(|l| format!("{l}\n")).collect();
    let new_text: String = new.iter().map(|l| format!("{l}\n")).collect();
    let diff = TextDiff::configure()
        .timeout(Duration::from_secs(2))
        .diff_lines(old_text.as_str(), new_text.as_str());
    let ops = diff.ops();
    if ops.iter().all(|op| matches!(op, DiffOp::Equal { .. })) {
        return Vec::new();
    }
    let mut rows = Vec::new();
    for (n, op) in ops.iter().enumerate() {
        match *op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => {
                let head = if n == 0 { 0 } else { CONTEXT.min(len) };
                let tail = if n + 1 == ops.len() {
                    0
                } else {
                    CONTEXT.min(len - head)
                };
                let line =
                    |i: usize| same(old_index + i + 1, new_index + i + 1, &old[old_index + i]);
                if len > head + tail + 1 {
                    rows.extend((0..head).map(line));
                    rows.push(Row {
                        kind: RowKind::Skipped,
                        left: None,
                        right: None,
                        skipped: len - head - tail,
                    });
                    rows.extend((len - tail..len).map(line));
                } else {
                    rows.extend((0..len).map(line));
                }
            }
            _ => {
                let mut left = Vec::new();
                let mut right = Vec::new();
                for change in diff.iter_inline_changes(op) {
                    let values = change
                        .iter_strings_lossy()
                        .map(|(e, s)| (e, s.into_owned()))
                        .collect::<Vec<_>>();
                    match change.tag() {
                        ChangeTag::Delete => {
                            left.push(cell(change.old_index().unwrap_or_default() + 1, values))
                        }
                        ChangeTag::Insert => {
                            right.push(cell(change.new_index().unwrap_or_default() + 1, values))
                        }
                        ChangeTag::Equal => {}
                    }
                }
                let marked =
                    |cells: &[Cell]| cells.iter().any(|c| c.segments.iter().any(|s| s.changed));
                if !marked(&left) && !marked(&right) {
                    whole(&mut left);
                    whole(&mut right);
                }
                let height = left.len().max(right.len());
                let mut left = left.into_iter();
                let mut right = right.into_iter();
                for _ in 0..height {
                    rows.push(Row {
                        kind: RowKind::Changed,
                        left: left.next(),
                        right: right.next(),
                        skipped: 0,
                    });
                }
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &[&str]) -> Vec<String> {
        s.iter().map(|l| (*l).to_owned()).collect()
    }

    #[test]
    fn html_becomes_a_line_per_block() {
        let html = "<p>Một &amp; hai</p><h2>Tiêu &lt;đề&gt;</h2><ul><li>a</li><li><strong>b</strong> c</li></ul>\
                    <p>dòng<br>mới &#7871; &#x1EBF;</p><figure><img src=\"/media/a.jpg\" alt=\"Ảnh &quot;đẹp&quot;\">\
                    <figcaption>Chú   thích</figcaption></figure><iframe src=\"https://www.youtube.com/embed/x\"></iframe>";
        assert_eq!(
            html_lines(html, MediaWords::default()),
            lines(&[
                "Một & hai",
                "Tiêu <đề>",
                "a",
                "b c",
                "dòng",
                "mới ế ế",
                "[Ảnh: /media/a.jpg — Ảnh \"đẹp\"]",
                "Chú thích",
                "[Khung nhúng: https://www.youtube.com/embed/x]",
            ])
        );
        assert_eq!(html_lines("", MediaWords::default()), Vec::<String>::new());
        assert_eq!(
            html_lines("a < b &bogus; &", MediaWords::default()),
            lines(&["a < b &bogus; &"])
        );
    }

    #[test]
    fn changed_words_are_marked_beside_each_other() {
        let old = lines(&["Một", "Hôm nay trời mưa to", "Ba"]);
        let new = lines(&["Một", "Hôm nay trời nắng to", "Ba", "Bốn"]);
        let rows = side_by_side(&old, &new);
        let changed: Vec<&Row> = rows.iter().filter(|r| r.kind == RowKind::Changed).collect();
        assert_eq!(changed.len(), 2);
        let left = changed[0].left.as_ref().unwrap();
        let right = changed[0].right.as_ref().unwrap();
        assert!(left.segments.contains(&Segment {
            text: "mưa".into(),
            changed: true
        }));
        assert!(right.segments.contains(&Segment {
            text: "nắng".into(),
            changed: true
        }));
        assert!(
            right
                .segments
                .iter()
                .any(|s| !s.changed && s.text.contains("Hôm nay trời"))
        );
        assert!(changed[1].left.is_none());
        assert_eq!(changed[1].right.as_ref().unwrap().segments[0].text, "Bốn");
        assert!(side_by_side(&old, &old).is_empty());
        // Words added at the end: nothing is marked on the left.
        let rows = side_by_side(&lines(&["Hội nghị"]), &lines(&["Hội nghị năm 2026"]));
        assert_eq!(
            rows[0].left.as_ref().unwrap().segments,
            vec![Segment {
                text: "Hội nghị".into(),
                changed: false
            }]
        );
        let rows = side_by_side(&lines(&["Bản nháp"]), &lines(&["Chờ duyệt"]));
        assert_eq!(
            rows[0].left.as_ref().unwrap().segments,
            vec![Segment {
                text: "Bản nháp".into(),
                changed: true
            }]
        );
    }

    #[test]
    fn long_unchanged_runs_are_collapsed() {
        let old: Vec<String> = (0..20).map(|i| format!("dòng {i}")).collect();
        let mut new = old.clone();
        new[10] = "khác".to_owned();
        let rows = side_by_side(&old, &new);
        let skipped: Vec<usize> = rows
            .iter()
            .filter(|r| r.kind == RowKind::Skipped)
            .map(|r| r.skipped)
            .collect();
        assert_eq!(skipped, vec![8, 7]);
        assert_eq!(rows.iter().filter(|r| r.kind == RowKind::Same).count(), 4);
    }
}
