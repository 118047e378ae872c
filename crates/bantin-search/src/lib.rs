//! Full-text search for bantin: a tantivy index with a Vietnamese analyser (exact and folded
//! syllables, syllable pairs, document numbers), queries read as people type them (without
//! diacritics, either tone placement, Telex or VNI left in), kept in step by the change feed.

mod analyzer;
mod index;
mod query;
mod telex;
mod text;

pub use analyzer::{Mode, ViTokenizer, exact};
pub use index::{Hit, Request, Results, Search, SearchError, SearchSettings};
pub use query::Parsed;
pub use telex::{telex, vietnamese_form, vni};
pub use text::{Marks, highlight, html_text, snippet};
