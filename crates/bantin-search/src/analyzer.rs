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
/// of them about once instead of once per occurrence (normalising was most of its time).
#[derive(Clone, Debug)]
pub struct ViTokenizer {
    mode: Mode,
    cache: Forms,
}

/// Syllables remembered per tokenizer before it starts afresh.
const CACHE_MAX: usize = 200_000;

impl ViTokenizer {
    /// A tokenizer emitting `mode` tokens.
    pub fn new(mode: Mode) -> Self {
        Self {
            mode,
            cache: Forms::default(),
        }
    }
}

/// Syllables as written → their exact or folded form (one mode per cache: a tokenizer has one
/// mode, and pairs use only folded forms).
#[derive(Clone, Debug, Default)]
struct Forms(HashMap<Box<str>, Box<str>, foldhash::fast::RandomState>);

impl Forms {
    /// Appends the exact (`exact_form`) or folded form of `word` to `out`.
    fn push(&mut self, exact_form: bool, word: &str, out: &mut String) {
        if word.is_ascii() {
            // Both forms of a plain-ASCII word are its lower case: no need to remember it.
            out.extend(word.bytes().map(|b| char::from(b.to_ascii_lowercase())));
            return;
        }
        if let Some(form) = self.0.get(word) {
            out.push_str(form);
            return;
        }
        let form = if exact_form { exact(word) } else { fold(word) };
        out.push_str(&form);
        if self.0.len() >= CACHE_MAX {
            self.0.clear();
        }
        self.0.insert(word.into(), form.into_boxed_str());
    }
}

/// A character that belongs to a word: letters, digits and combining marks (so decomposed
/// text, `e` + U+0323 + U+0302, stays one syllable).
pub fn is_word_char(c: char) -> bool {
    match c {
        // The scripts Vietnamese is written in, answered without Unicode's tables (the
        // general lookup was the costliest single step of indexing): every character of
        // Latin-1's letters, Latin Extended-A and -B and Latin Extended Additional is a
        // letter, save × and ÷.
        _ if c.is_ascii() => c.is_ascii_alphanumeric(),
        '\u{C0}'..='\u{24F}' => c != '×' && c != '÷',
        '\u{1E00}'..='\u{1EFF}' => true,
        _ => c.is_alphanumeric() || is_combining_mark(c),
    }
}

/// The runs of word characters of a text, as byte ranges, in order.
#[derive(Clone, Debug)]
pub struct Words<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Words<'a> {
    /// The words of `text`.
    pub fn new(text: &'a str) -> Self {
        Self { text, at: 0 }
    }
}

impl Iterator for Words<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let rest = &self.text[self.at..];
        let start = self.at + rest.find(is_word_char)?;
        let end = self.text[start..]
            .find(|c| !is_word_char(c))
            .map_or(self.text.len(), |i| start + i);
        self.at = end;
        Some((start, end))
    }
}

/// The runs of word characters of `text`, as byte ranges.
pub fn words(text: &str) -> Vec<(usize, usize)> {
    Words::new(text).collect()
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
    if word.is_ascii() {
        return word.to_ascii_lowercase();
    }
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
#[cfg(test)]
pub fn tokens(mode: Mode, text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    for_each_token(mode, text, |t| out.push(t.clone()));
    out
}

thread_local! {
    /// Syllable forms for highlighting, kept between searches on this thread (one cache per
    /// mode that uses one).
    static FORMS: std::cell::RefCell<[Forms; 2]> = std::cell::RefCell::default();
}

/// Calls `f` with each token of `text` in `mode`, in order (highlighting: no copies).
pub fn for_each_token(mode: Mode, text: &str, mut f: impl FnMut(&Token)) {
    FORMS.with_borrow_mut(|forms| {
        let cache = &mut forms[usize::from(mode == Mode::Exact)];
        let mut stream = ViTokenStream::new(mode, text, cache);
        while stream.advance() {
            f(&stream.token);
        }
    });
}

/// The tokens of one text, worked out one at a time into one reused token (tantivy copies
/// each token's text as it indexes it).
#[derive(Debug)]
pub struct ViTokenStream<'a> {
    mode: Mode,
    text: &'a str,
    cache: &'a mut Forms,
    words: Words<'a>,
    /// Words read so far (pairs: the number of the pair ending at the next word).
    read: usize,
    /// Tokens given so far (exact and folded syllables).
    given: usize,
    /// The word before (pairs).
    previous: Option<(usize, usize)>,
    /// Document numbers, worked out at once (they are rare).
    doc_numbers: std::vec::IntoIter<(usize, usize)>,
    token: Token,
}

impl<'a> ViTokenStream<'a> {
    fn new(mode: Mode, text: &'a str, cache: &'a mut Forms) -> Self {
        let doc_numbers = if mode == Mode::DocNo {
            doc_numbers(text)
        } else {
            Vec::new()
        };
        Self {
            mode,
            text,
            cache,
            words: Words::new(text),
            read: 0,
            given: 0,
            previous: None,
            doc_numbers: doc_numbers.into_iter(),
            token: Token::default(),
        }
    }

    fn set(&mut self, from: usize, to: usize, position: usize) {
        self.token.offset_from = from;
        self.token.offset_to = to;
        self.token.position = position;
        self.token.position_length = 1;
        self.token.text.clear();
    }
}

impl TokenStream for ViTokenStream<'_> {
    fn advance(&mut self) -> bool {
        match self.mode {
            Mode::Exact | Mode::Folded => {
                // Overlong runs are skipped without taking a position.
                let Some((from, to)) = self.words.find(|(f, t)| t - f <= MAX_TOKEN) else {
                    return false;
                };
                let position = self.given;
                self.given += 1;
                self.set(from, to, position);
                let exact_form = self.mode == Mode::Exact;
                self.cache
                    .push(exact_form, &self.text[from..to], &mut self.token.text);
                true
            }
            Mode::Pairs => loop {
                // Pair n joins words n and n + 1, when only white space lies between them.
                let Some(b) = self.words.next() else {
                    return false;
                };
                let a = self.previous.replace(b);
                self.read += 1;
                let Some(a) = a else { continue };
                if b.0 - a.0 > 2 * MAX_TOKEN
                    || !self.text[a.1..b.0].chars().all(char::is_whitespace)
                {
                    continue;
                }
                self.set(a.0, b.1, self.read - 2);
                self.cache
                    .push(false, &self.text[a.0..a.1], &mut self.token.text);
                self.token.text.push(' ');
                self.cache
                    .push(false, &self.text[b.0..b.1], &mut self.token.text);
                return true;
            },
            Mode::DocNo => {
                let Some((from, to)) = self.doc_numbers.next() else {
                    return false;
                };
                let position = self.given;
                self.given += 1;
                self.set(from, to, position);
                self.token
                    .text
                    .push_str(&doc_number_key(&self.text[from..to]));
                true
            }
        }
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

impl Tokenizer for ViTokenizer {
    type TokenStream<'a> = ViTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> ViTokenStream<'a> {
        ViTokenStream::new(self.mode, text, &mut self.cache)
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
    fn word_characters_as_unicode_has_them() {
        for c in ('\0'..='\u{2FFF}').chain(['\u{FF21}', '\u{3042}', '\u{1F600}']) {
            assert_eq!(
                is_word_char(c),
                c.is_alphanumeric() || is_combining_mark(c),
                "{c:?} U+{:04X}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn remembered_forms_are_the_forms() {
        use tantivy::tokenizer::{TokenStream, Tokenizer};
        let text = "Hòa bình ĐÀ NẴNG hoà Bình, HỌC tập; học tập 05-CT/TW xyz";
        for mode in [Mode::Exact, Mode::Folded, Mode::Pairs, Mode::DocNo] {
            let mut tokenizer = ViTokenizer::new(mode);
            let mut runs = Vec::new();
            for _ in 0..2 {
                let mut stream = tokenizer.token_stream(text);
                let mut got = Vec::new();
                while stream.advance() {
                    let t = stream.token();
                    got.push((t.text.clone(), t.position, t.offset_from, t.offset_to));
                }
                runs.push(got);
            }
            assert_eq!(runs[0], runs[1], "{mode:?}");
            for (form, _, from, to) in &runs[0] {
                let original = &text[*from..*to];
                let expected = match mode {
                    Mode::Exact => exact(original),
                    Mode::Folded => fold(original),
                    Mode::Pairs => {
                        let (a, b) = original.split_once(' ').unwrap();
                        format!("{} {}", fold(a), fold(b))
                    }
                    Mode::DocNo => doc_number_key(original),
                };
                assert_eq!(form, &expected, "{mode:?}");
            }
        }
        assert_eq!(
            texts(Mode::Exact, "Hòa bình ĐÀ NẴNG"),
            ["hoà", "bình", "đà", "nẵng"]
        );
    }

    #[test]
    fn overlong_runs_take_no_position() {
        let long = "a".repeat(MAX_TOKEN + 1);
        let t = tokens(Mode::Folded, &format!("học {long} tập"));
        let got: Vec<_> = t.iter().map(|t| (t.text.as_str(), t.position)).collect();
        assert_eq!(got, [("hoc", 0), ("tap", 1)]);
        // Pairs are numbered by their first word, those not made (punctuation) included.
        let t = tokens(Mode::Pairs, "học tập, làm theo");
        let got: Vec<_> = t.iter().map(|t| (t.text.as_str(), t.position)).collect();
        assert_eq!(got, [("hoc tap", 0), ("lam theo", 2)]);
    }

    #[test]
    fn offsets_point_into_the_original() {
        let s = "Đảng bộ";
        let t = tokens(Mode::Folded, s);
        assert_eq!(&s[t[0].offset_from..t[0].offset_to], "Đảng");
        assert_eq!(t[0].text, "dang");
    }
}
