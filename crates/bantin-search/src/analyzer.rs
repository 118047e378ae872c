//! The Vietnamese analyser: syllables kept whole whatever the Unicode form, an exact form (NFC,
//! lower case, one tone-mark placement), a folded form without diacritics (`bantin_core::fold`),
//! pairs of neighbouring syllables, and official document numbers (`05-CT/TW`) as whole tokens.

use std::collections::HashMap;

use bantin_core::fold;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Longest token kept, in bytes; longer runs are not words anyone searches for.
const MAX_TOKEN: usize = 60;

/// What a [`ViTokenizer`] emits for each syllable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// NFC, lower case, tone mark in one canonical place: matches the reader's diacritics.
    Exact,
    /// Folded to letters without marks (`đ` → `d`): matches text typed without diacritics.
    Folded,
    /// Folded pairs of neighbouring syllables (`"hoc tap"`), only across plain spaces.
    Pairs,
    /// Document numbers such as `05-CT/TW` or `123/QĐ-UBND`, folded, kept whole.
    DocNo,
}

/// A tantivy tokenizer for Vietnamese text in one of the [`Mode`]s. Offsets point into the
/// original text, so highlighting works on what was stored.
///
/// Each copy (one per indexing thread) remembers the forms of the syllables it has seen:
/// Vietnamese has a few thousand syllables in common use, so a full reindex normalises each
/// of them about once instead of once per occurrence.
#[derive(Clone, Debug)]
pub struct ViTokenizer {
    mode: Mode,
    cache: HashMap<Box<str>, Box<str>>,
}

/// Syllables remembered per tokenizer before it starts afresh.
const CACHE_MAX: usize = 200_000;

impl ViTokenizer {
    /// A tokenizer emitting `mode` tokens.
    pub fn new(mode: Mode) -> Self {
        Self {
            mode,
            cache: HashMap::new(),
        }
    }
}

/// A character that belongs to a word: letters, digits and combining marks (so decomposed
/// text, `e` + U+0323 + U+0302, stays one syllable).
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// The runs of word characters of `text`, as byte ranges.
pub fn words(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (is_word_char(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
    out
}

/// The five tone marks (as combining characters); vowel marks (ˆ, ˘, horn) are not tones.
fn is_tone(c: char) -> bool {
    matches!(c, '\u{300}' | '\u{301}' | '\u{303}' | '\u{309}' | '\u{323}')
}

fn is_vowel(c: char) -> bool {
    matches!(
        c,
        'a' | 'ă' | 'â' | 'e' | 'ê' | 'i' | 'o' | 'ô' | 'ơ' | 'u' | 'ư' | 'y'
    )
}

/// Where the tone mark of a toneless, lower-case syllable goes, by one fixed rule (the
/// "new" placement: `hoà`, `thuý`), so both placements people type index alike.
pub(crate) fn tone_position(s: &[char]) -> Option<usize> {
    let mut start = 0;
    if s.len() > 2
        && ((s[0] == 'q' && s[1] == 'u') || (s[0] == 'g' && s[1] == 'i'))
        && is_vowel(s[2])
    {
        start = 2;
    }
    let first = (start..s.len()).find(|&i| is_vowel(s[i]))?;
    let end = (first..s.len())
        .find(|&i| !is_vowel(s[i]))
        .unwrap_or(s.len());
    let nucleus = &s[first..end];
    if let Some(i) = nucleus
        .iter()
        .rposition(|c| matches!(c, 'ă' | 'â' | 'ê' | 'ô' | 'ơ' | 'ư'))
    {
        return Some(first + i);
    }
    Some(match nucleus.len() {
        1 => first,
        _ if end < s.len() => end - 1,
        2 if matches!(nucleus, ['o', 'a'] | ['o', 'e'] | ['u', 'y']) => end - 1,
        2 => first,
        _ => first + 1,
    })
}

/// A syllable in NFC and lower case with its tone mark in the canonical place: `hòa` and `hoà`
/// both become `hoà`. Words with no tone or several are only lower-cased.
pub fn exact(word: &str) -> String {
    let lower: String = word.nfd().flat_map(char::to_lowercase).collect();
    let mut tones = lower.chars().filter(|c| is_tone(*c));
    let (Some(tone), None) = (tones.next(), tones.next()) else {
        return lower.nfc().collect();
    };
    let toneless: Vec<char> = lower.chars().filter(|c| !is_tone(*c)).nfc().collect();
    match tone_position(&toneless) {
        Some(at) => {
            let mut out = String::with_capacity(lower.len());
            for (i, c) in toneless.iter().enumerate() {
                out.push(*c);
                if i == at {
                    out.push(tone);
                }
            }
            out.nfc().collect()
        }
        None => lower.nfc().collect(),
    }
}

/// Whether `word` (one whitespace-separated piece, surrounding punctuation trimmed) is an
/// official document number: letter and digit groups joined by `-` or `/`, with at least one
/// digit group and one letter group (`05-CT/TW`, `07-NQ/TU`, `123/QĐ-UBND`).
pub fn is_doc_number(word: &str) -> bool {
    if word.len() > MAX_TOKEN || !word.contains(['-', '/']) {
        return false;
    }
    let mut digits = false;
    let mut letters = false;
    for part in word.split(['-', '/']) {
        if part.is_empty()
            || !part
                .chars()
                .all(|c| c.is_alphanumeric() || is_combining_mark(c))
        {
            return false;
        }
        if part.chars().all(|c| c.is_ascii_digit()) {
            digits = true;
        } else if part.chars().all(|c| !c.is_ascii_digit()) {
            letters = true;
        }
    }
    digits && letters
}

/// The document numbers in `text`, as byte ranges.
pub fn doc_numbers(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    let bytes_end = text.len();
    let is_part = |c: char| is_word_char(c) || c == '-' || c == '/';
    let check = |s: usize, e: usize, out: &mut Vec<(usize, usize)>| {
        let piece = text[s..e].trim_end_matches(['-', '/']);
        let piece_start = s + (piece.len() - piece.trim_start_matches(['-', '/']).len());
        let piece = piece.trim_start_matches(['-', '/']);
        if is_doc_number(piece) {
            out.push((piece_start, piece_start + piece.len()));
        }
    };
    for (i, c) in text.char_indices() {
        match (is_part(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                check(s, i, &mut out);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        check(s, bytes_end, &mut out);
    }
    out
}

/// The key a document number is indexed and searched under: folded, lower case.
pub fn doc_number_key(word: &str) -> String {
    fold(word)
}

/// The tokens of `text` in `mode`.
pub fn tokens(mode: Mode, text: &str) -> Vec<Token> {
    tokens_with(mode, text, &mut |exact_form, w| {
        if exact_form { exact(w) } else { fold(w) }
    })
}

/// The tokens of `text` in `mode`, syllables normalised by `norm(exact?, word)`.
fn tokens_with(mode: Mode, text: &str, norm: &mut dyn FnMut(bool, &str) -> String) -> Vec<Token> {
    let mut out = Vec::new();
    match mode {
        Mode::Exact | Mode::Folded => {
            for (position, (from, to)) in words(text)
                .into_iter()
                .filter(|(f, t)| t - f <= MAX_TOKEN)
                .enumerate()
            {
                let w = &text[from..to];
                out.push(Token {
                    offset_from: from,
                    offset_to: to,
                    position,
                    text: if mode == Mode::Exact {
                        exact(w)
                    } else {
                        fold(w)
                    },
                    position_length: 1,
                });
            }
        }
        Mode::Pairs => {
            let ws = words(text);
            for (position, pair) in ws.windows(2).enumerate() {
                let (a, b) = (pair[0], pair[1]);
                if b.0 - a.0 > 2 * MAX_TOKEN || !text[a.1..b.0].chars().all(char::is_whitespace) {
                    continue;
                }
                out.push(Token {
                    offset_from: a.0,
                    offset_to: b.1,
                    position,
                    text: format!(
                        "{} {}",
                        norm(false, &text[a.0..a.1]),
                        norm(false, &text[b.0..b.1])
                    ),
                    position_length: 1,
                });
            }
        }
        Mode::DocNo => {
            for (position, (from, to)) in doc_numbers(text).into_iter().enumerate() {
                out.push(Token {
                    offset_from: from,
                    offset_to: to,
                    position,
                    text: doc_number_key(&text[from..to]),
                    position_length: 1,
                });
            }
        }
    }
    out
}

/// The tokens of one text, handed out one by one.
#[derive(Debug)]
pub struct ViTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for ViTokenStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

impl Tokenizer for ViTokenizer {
    type TokenStream<'a> = ViTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> ViTokenStream {
        let cache = &mut self.cache;
        let tokens = tokens_with(self.mode, text, &mut |exact_form, w| {
            // Exact and folded forms never share a cache: one tokenizer has one mode, and
            // pairs use only folded forms.
            if let Some(v) = cache.get(w) {
                return v.to_string();
            }
            let v = if exact_form { exact(w) } else { fold(w) };
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
            cache.insert(w.into(), v.as_str().into());
            v
        });
        ViTokenStream { tokens, next: 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(mode: Mode, s: &str) -> Vec<String> {
        tokens(mode, s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn both_tone_placements_index_alike() {
        for (a, b) in [
            ("hòa", "hoà"),
            ("Thúy", "thuý"),
            ("khỏe", "khoẻ"),
            ("HÓA", "hoá"),
            ("tùy", "tuỳ"),
        ] {
            assert_eq!(exact(a), exact(b), "{a} {b}");
        }
        // Placement that does not vary stays where it is.
        for w in [
            "hoàng", "quý", "của", "giữa", "người", "việt", "thuyền", "học",
        ] {
            assert_eq!(exact(w), w, "{w}");
        }
        assert_ne!(exact("hòa"), exact("hoa"));
    }

    #[test]
    fn decomposed_text_stays_whole() {
        let nfd: String = "Hội nghị ở Đà Nẵng, Việt Nam.".nfd().collect();
        assert_eq!(
            texts(Mode::Folded, &nfd),
            ["hoi", "nghi", "o", "da", "nang", "viet", "nam"]
        );
        assert_eq!(
            texts(Mode::Exact, &nfd),
            ["hội", "nghị", "ở", "đà", "nẵng", "việt", "nam"]
        );
    }

    #[test]
    fn pairs_stop_at_punctuation() {
        assert_eq!(
            texts(Mode::Pairs, "Học tập, làm theo gương Bác"),
            ["hoc tap", "lam theo", "theo guong", "guong bac"]
        );
    }

    #[test]
    fn document_numbers_stay_whole() {
        assert_eq!(
            texts(
                Mode::DocNo,
                "Chỉ thị số 05-CT/TW ngày 15/5/2016, Nghị quyết 07-NQ/TU và Quyết định 123/QĐ-UBND."
            ),
            ["05-ct/tw", "07-nq/tu", "123/qd-ubnd"]
        );
        assert!(!is_doc_number("15/5/2016"));
        assert!(!is_doc_number("kinh-te"));
        assert!(is_doc_number("21-KL/TW"));
    }

    #[test]
    fn offsets_point_into_the_original() {
        let s = "Đảng bộ";
        let t = tokens(Mode::Folded, s);
        assert_eq!(&s[t[0].offset_from..t[0].offset_to], "Đảng");
        assert_eq!(t[0].text, "dang");
    }
}
