//! File names as uploaders send them, made safe to show and to keep: the last path component
//! only, no control or invisible characters, no leading dots, at most 120 characters with the
//! extension kept. Storage names never come from here (they are content addresses).

/// Longest name kept, in characters.
pub const MAX_NAME_CHARS: usize = 120;

/// A safe display name for an uploaded `raw` name; `"tep"` when nothing usable is left.
pub fn safe_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'))
        .map(|c| if matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') { '_' } else { c })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_owned();
    let cleaned = cleaned.replace("..", ".");
    if cleaned.is_empty() {
        return "tep".to_owned();
    }
    if cleaned.chars().count() <= MAX_NAME_CHARS {
        return cleaned;
    }
    let (stem, ext) = match cleaned.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && e.chars().count() <= 10 => (s.to_owned(), format!(".{e}")),
        _ => (cleaned.clone(), String::new()),
    };
    let keep = MAX_NAME_CHARS - ext.chars().count();
    let stem: String = stem.chars().take(keep).collect();
    format!("{}{ext}", stem.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_made_safe() {
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("C:\\Users\\a\\DSC_5191.JPG"), "DSC_5191.JPG");
        assert_eq!(safe_file_name("a\u{0}b\nc\u{202E}gpj.exe"), "abcgpj.exe");
        assert_eq!(safe_file_name("..."), "tep");
        assert_eq!(safe_file_name(".htaccess"), "htaccess");
        assert_eq!(safe_file_name("a..jpg"), "a.jpg");
        let long = format!("{}.jpg", "ả".repeat(300));
        let safe = safe_file_name(&long);
        assert_eq!(safe.chars().count(), MAX_NAME_CHARS);
        assert!(safe.ends_with(".jpg"));
        assert_eq!(safe_file_name("Ảnh <script>.png"), "Ảnh _script_.png");
    }
}
