//! Reading a query as people type it: plain text only (no query syntax), syllables in their
//! exact and folded forms, a Telex or VNI reading of words typed with the input method off,
//! and document numbers kept whole.

use bantin_core::{fold, nfc};

use crate::analyzer::{doc_number_key, exact, is_doc_number, words};
use crate::telex::vietnamese_form;
use crate::text::Marks;

/// Most syllables of a query that count; the rest are ignored.
pub const MAX_WORDS: usize = 24;

/// One form of a syllable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form {
    /// NFC, lower case, canonical tone placement.
    pub exact: String,
    /// Folded.
    pub folded: String,
}

impl Form {
    fn of(word: &str) -> Self {
        Self {
            exact: exact(word),
            folded: fold(word),
        }
    }
}

/// A syllable of the query: as typed, and as Telex/VNI if it reads as such.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    /// As typed.
    pub typed: Form,
    /// Its Vietnamese reading when typed with the input method off.
    pub vietnamese: Option<Form>,
}

impl Word {
    /// Every form, typed first.
    pub fn forms(&self) -> impl Iterator<Item = &Form> {
        std::iter::once(&self.typed).chain(self.vietnamese.iter())
    }

    /// The form that most likely meant: the Vietnamese reading if any.
    pub fn meant(&self) -> &Form {
        self.vietnamese.as_ref().unwrap_or(&self.typed)
    }
}

/// A parsed query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Syllables, in order.
    pub words: Vec<Word>,
    /// Document numbers (folded keys).
    pub doc_numbers: Vec<String>,
}

impl Parsed {
    /// Reads `q` as plain text: control characters and query syntax are only separators.
    pub fn new(q: &str) -> Self {
        let q: String = q
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let q = nfc(&q);
        let mut out = Self::default();
        for piece in q.split_whitespace() {
            let trimmed = piece.trim_matches(|c: char| !crate::analyzer::is_word_char(c));
            if is_doc_number(trimmed) {
                let key = doc_number_key(trimmed);
                if !out.doc_numbers.contains(&key) {
                    out.doc_numbers.push(key);
                }
                continue;
            }
            for (f, t) in words(piece) {
                if out.words.len() >= MAX_WORDS {
                    break;
                }
                let w = &piece[f..t];
                let lower = w.to_lowercase();
                let vietnamese = vietnamese_form(&lower).map(|v| Form::of(&v));
                out.words.push(Word {
                    typed: Form::of(w),
                    vietnamese,
                });
            }
        }
        out
    }

    /// Nothing to search for.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.doc_numbers.is_empty()
    }

    /// What to highlight in results.
    pub fn marks(&self) -> Marks {
        Marks {
            words: self
                .words
                .iter()
                .flat_map(|w| w.forms().map(|f| f.folded.clone()))
                .collect(),
            doc_numbers: self.doc_numbers.iter().cloned().collect(),
        }
    }

    /// Words for a `LIKE` search: the syllables as meant (exact forms), and document numbers.
    pub fn like_words(&self) -> Vec<String> {
        self.words
            .iter()
            .map(|w| w.meant().exact.clone())
            .chain(self.doc_numbers.iter().cloned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_is_plain_text() {
        let p = Parsed::new("title:học AND (tập* ~2 \"làm\u{0}theo");
        let typed: Vec<_> = p.words.iter().map(|w| w.typed.folded.as_str()).collect();
        assert_eq!(typed, ["title", "hoc", "and", "tap", "2", "lam", "theo"]);
    }

    #[test]
    fn telex_and_document_numbers() {
        let p = Parsed::new("hocj taapj 05-CT/TW,");
        assert_eq!(p.doc_numbers, ["05-ct/tw"]);
        assert_eq!(p.words[0].meant().exact, "học");
        assert_eq!(p.words[1].meant().exact, "tập");
        assert_eq!(Parsed::new("hoc tap").words[0].vietnamese, None);
    }

    #[test]
    fn long_queries_are_capped() {
        assert_eq!(Parsed::new(&"a ".repeat(5000)).words.len(), MAX_WORDS);
    }
}
