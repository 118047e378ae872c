//! Words typed with the Vietnamese keyboard switched off: the Telex (`hocj taapj`) or VNI
//! (`ho5c ta6p5`) keys stay in the text. A word is read as Telex or VNI only when the keys turn
//! it into a well-formed Vietnamese syllable; the caller searches that form beside the word as
//! typed, so ordinary words that merely look like Telex lose nothing.

use unicode_normalization::UnicodeNormalization;

use crate::analyzer::tone_position;

const ACUTE: char = '\u{301}';
const GRAVE: char = '\u{300}';
const HOOK: char = '\u{309}';
const TILDE: char = '\u{303}';
const DOT: char = '\u{323}';

/// Initial consonants, longest first.
const INITIALS: &[&str] = &[
    "ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr", "b", "c", "d", "đ", "g",
    "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
];

/// Final consonants, longest first.
const FINALS: &[&str] = &["ng", "nh", "ch", "c", "m", "n", "p", "t", ""];

/// Vowel groups a syllable may have.
const NUCLEI: &[&str] = &[
    "a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "ai", "ao", "au", "âu", "ay", "ây",
    "eo", "êu", "ia", "iê", "iu", "oa", "oă", "oe", "oi", "ôi", "ơi", "oo", "ua", "uâ", "uê", "ui",
    "uô", "uơ", "uy", "ưa", "ưi", "ươ", "ưu", "yê", "iêu", "yêu", "oai", "oay", "oeo", "uây",
    "uôi", "ươi", "ươu", "uya", "uyê", "uyu",
];

fn is_vowel(c: char) -> bool {
    matches!(
        c,
        'a' | 'ă' | 'â' | 'e' | 'ê' | 'i' | 'o' | 'ô' | 'ơ' | 'u' | 'ư' | 'y'
    )
}

/// Whether toneless lower-case `s` with `tone` is a well-formed Vietnamese syllable.
fn is_syllable(s: &str, tone: Option<char>) -> bool {
    INITIALS.iter().any(|i| {
        let Some(rest) = s.strip_prefix(i) else {
            return false;
        };
        // `gi` and `qu` are initials only before another vowel (`gì` is g + i).
        if (*i == "gi" || *i == "qu") && !rest.starts_with(is_vowel) {
            return false;
        }
        let vowels = rest.len() - rest.trim_start_matches(is_vowel).len();
        let (nucleus, fin) = rest.split_at(vowels);
        NUCLEI.contains(&nucleus)
            && FINALS.contains(&fin)
            // Stopped finals take only the rising and the heavy tone.
            && (!matches!(fin, "c" | "ch" | "p" | "t") || matches!(tone, Some(ACUTE | DOT)))
    })
}

/// Puts `tone` on toneless `chars` (canonical place) and returns the NFC syllable, if it is
/// one.
fn finish(chars: &[char], tone: Option<char>) -> Option<String> {
    let toneless: String = chars.iter().collect();
    if !is_syllable(&toneless, tone) {
        return None;
    }
    let mut out = String::new();
    let at = tone.and_then(|_| tone_position(chars));
    if tone.is_some() && at.is_none() {
        return None;
    }
    for (i, c) in chars.iter().enumerate() {
        out.push(*c);
        if Some(i) == at
            && let Some(t) = tone
        {
            out.push(t);
        }
    }
    Some(out.nfc().collect())
}

/// The Vietnamese syllable a Telex-typed lower-case ASCII word stands for (`hocj` → `học`,
/// `dduwowngf` → `đường`), or `None` when it has no Telex keys or makes no syllable.
pub fn telex(word: &str) -> Option<String> {
    if word.is_empty() || word.len() > 12 || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let mut out: Vec<char> = Vec::with_capacity(word.len());
    let mut tone = None;
    let mut changed = false;
    for c in word.chars() {
        let last = out.last().copied();
        let n = out.len();
        match (c, last) {
            ('d', Some('d')) if n == 1 => out[0] = 'đ',
            ('a', Some('a')) => out[n - 1] = 'â',
            ('e', Some('e')) => out[n - 1] = 'ê',
            ('o', Some('o')) => out[n - 1] = 'ô',
            ('w', Some('a')) => out[n - 1] = 'ă',
            ('w', Some('u')) => out[n - 1] = 'ư',
            ('w', Some('o')) => {
                out[n - 1] = 'ơ';
                if n >= 2 && out[n - 2] == 'u' {
                    out[n - 2] = 'ư';
                }
            }
            ('w', _) => return None,
            ('s' | 'f' | 'r' | 'x' | 'j', _)
                if tone.is_none() && out.iter().any(|c| is_vowel(*c)) =>
            {
                tone = Some(match c {
                    's' => ACUTE,
                    'f' => GRAVE,
                    'r' => HOOK,
                    'x' => TILDE,
                    _ => DOT,
                });
            }
            _ => {
                out.push(c);
                continue;
            }
        }
        changed = true;
    }
    if !changed {
        return None;
    }
    finish(&out, tone)
}

/// The Vietnamese syllable a VNI-typed word stands for (`ho5c` → `học`, `d9u7o7ng2` →
/// `đường`): digits 1–5 are tones, 6 a circumflex, 7 a horn, 8 a breve, 9 the stroke of `đ`.
pub fn vni(word: &str) -> Option<String> {
    if word.is_empty()
        || word.len() > 14
        || !word
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        || !word.starts_with(|c: char| c.is_ascii_lowercase())
        || !word.bytes().any(|b| (b'1'..=b'9').contains(&b))
    {
        return None;
    }
    let mut out: Vec<char> = Vec::with_capacity(word.len());
    let mut tone = None;
    for c in word.chars() {
        let mark = |from: &[char], to: fn(char) -> char, out: &mut Vec<char>| -> bool {
            match out.iter().rposition(|c| from.contains(c)) {
                Some(i) => {
                    out[i] = to(out[i]);
                    true
                }
                None => false,
            }
        };
        let ok = match c {
            '1'..='5' if tone.is_none() => {
                tone = Some(match c {
                    '1' => ACUTE,
                    '2' => GRAVE,
                    '3' => HOOK,
                    '4' => TILDE,
                    _ => DOT,
                });
                true
            }
            '6' => mark(
                &['a', 'e', 'o'],
                |c| match c {
                    'a' => 'â',
                    'e' => 'ê',
                    _ => 'ô',
                },
                &mut out,
            ),
            '7' => {
                let ok = mark(&['o', 'u'], |c| if c == 'o' { 'ơ' } else { 'ư' }, &mut out);
                // `uo7` is `ươ`, as input methods make it.
                if let Some(i) = out.iter().position(|c| *c == 'ơ')
                    && i > 0
                    && out[i - 1] == 'u'
                {
                    out[i - 1] = 'ư';
                }
                ok
            }
            '8' => mark(&['a'], |_| 'ă', &mut out),
            '9' => mark(&['d'], |_| 'đ', &mut out),
            c if c.is_ascii_lowercase() => {
                out.push(c);
                true
            }
            _ => false,
        };
        if !ok {
            return None;
        }
    }
    finish(&out, tone)
}

/// The Vietnamese reading of a word typed with the input method off, Telex first, then VNI.
pub fn vietnamese_form(word: &str) -> Option<String> {
    telex(word).or_else(|| vni(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telex_words() {
        for (typed, meant) in [
            ("hocj", "học"),
            ("taapj", "tập"),
            ("dduwowngf", "đường"),
            ("vieetj", "việt"),
            ("nguwowif", "người"),
            ("hoaf", "hoà"),
            ("bacs", "bác"),
            ("guwowng", "gương"),
            ("lamf", "làm"),
            ("ddangr", "đảng"),
        ] {
            assert_eq!(telex(typed).as_deref(), Some(meant), "{typed}");
        }
    }

    #[test]
    fn ordinary_words_are_not_telex() {
        for w in [
            "hoc", "tap", "nam", "the", "class", "report", "www", "window", "strong", "x", "",
            "process", "github",
        ] {
            assert_eq!(telex(w), None, "{w}");
        }
    }

    #[test]
    fn vni_words() {
        assert_eq!(vni("ho5c").as_deref(), Some("học"));
        assert_eq!(vni("ta6p5").as_deref(), Some("tập"));
        assert_eq!(vni("d9u7o7ng2").as_deref(), Some("đường"));
        assert_eq!(vni("duong92").as_deref(), None);
        assert_eq!(vni("mp3"), None);
        assert_eq!(vni("2024"), None);
        assert_eq!(vni("h264"), None);
    }
}
