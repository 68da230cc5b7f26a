//! Corrects OCR character confusions in line descriptions against a vocabulary: the words of the
//! program's catalog (product names and maker part numbers).
//!
//! Tesseract confuses shapes: `H05VV-F` is read `HOSVV-F`, `NYM-J` is read `NYM-)`, the series
//! `BORA 6S` is read `BORA 65`. Arithmetic cannot repair a description, but the catalog knows
//! how our products are written. A description word is changed only on evidence:
//!
//! - the word is not in the vocabulary, and exactly one spelling that differs from it by one or
//!   two confusable characters (`0/O/D`, `1/I/L`, `l` for `I`, `5/S`, `8/B`, `6/G`, `2/Z`,
//!   `)/]/J`) is; only for words of four characters or more, where such a match is no accident;
//! - a shorter word (`65`) is changed only beside the word before it: when that pair is not in
//!   the vocabulary but exactly one confusable spelling of it is (`BORA 6S`), and the word before
//!   is followed by few different words in the catalog (a series name, not `TYPE`);
//! - never on exact pages (a PDF's text layer, given words without doubt): what is printed there
//!   is what the distributor wrote, typos included.
//!
//! Words of other brands are left as they are unless one confusion turns them into a word of
//! ours. On 4,699 generated invoice lines (every kind, every split) the correction changes no
//! correctly read description; on held-out scans and photos it fixes 13 of the wrongly read ones
//! (see `pipelines/layout/README.md`).
//!
//! Words OCR glued together (`FITTINGELBOW`, `KALTMANNKALTEC`: a narrow gap read as none) are
//! split back with word frequencies: the catalog's, plus how often distributors print each word
//! (`Model::printed_words` of the matching model, learned from training distributors' lines).
//! Those printed words also keep distributors' own glued spellings (`AIRMAX`, `PRESSFITTING`)
//! whole; see [`Vocabulary::split_glued`] for the rule. Misread accents (`Flachheizkórper`,
//! `Liiftungsgitter`) take the one frequent printed spelling that reads the same without them.
//! On the same 4,699 lines these two change 7 descriptions, every one a distributor's own typo
//! that dropped a space (`CIRCAMAX`, `ELVOPRO`, `GFTHREADA`); on set-r's held-out scans and
//! photos wrongly read descriptions fall from 150 to 134 (line F1 81.6% -> 83.0%).
//!
//! Last, a word still unknown takes the frequent word that explains it under what OCR is known
//! to misread ([`crate::channel`], learned from read and printed words: `TALOREX` -> `CALOREX`,
//! `Pni` -> `Pnl`); letters added, dropped or swapped are never corrected, being distributors'
//! typos as often as OCR's.

use std::collections::{HashMap, HashSet};

use claimscan_doc::{Document, Invoice, PageSource};

use crate::channel::{Channel, Threshold};

/// Most distinct words that may follow a word for the pair rule to trust it: a series name is
/// followed by a handful of model names, a generic word (`TYPE`) by dozens.
const MAX_FOLLOWERS: usize = 8;

/// Shortest word (in letters, digits and the confusable marks) the single-word rule corrects.
const MIN_WORD: usize = 4;

/// Shortest word (in letters) the OCR channel corrects.
const MIN_CHANNEL_WORD: usize = 3;

/// Probability of each character of an unknown word, against which a split must win.
const UNKNOWN_CHAR: f64 = 0.1;

/// Fewest times each part of a split must be written (catalog plus distributors' lines).
const MIN_PART_COUNT: u32 = 10;

/// Longest part a glued word is split into, in characters.
const MAX_PART: usize = 20;

/// What a character (upper-cased) may have been printed as, when OCR read it.
fn confusions(c: char) -> &'static [char] {
    match c {
        '0' => &['O', 'D'],
        'O' => &['0', 'D'],
        'D' => &['0', 'O'],
        '1' => &['I', 'L'],
        'I' => &['1'],
        'L' => &['1', 'I'],
        '5' => &['S'],
        'S' => &['5'],
        '8' => &['B', 'S'],
        'B' => &['8'],
        '6' => &['G'],
        'G' => &['6'],
        '2' => &['Z'],
        'Z' => &['2'],
        ')' | ']' => &['J'],
        '|' => &['I', '1'],
        '$' => &['S'],
        '€' => &['C', 'E'],
        _ => &[],
    }
}

/// The words of a catalog, upper-cased, with the pairs in which they follow each other.
#[derive(Debug, Default, Clone)]
pub struct Vocabulary {
    words: HashSet<String>,
    pairs: HashSet<(String, String)>,
    followers: HashMap<String, usize>,
    /// How often each word without digits is written: catalog names, plus the words
    /// distributors print (learned from confirmed lines). What glued words are split into.
    counts: HashMap<String, u32>,
    /// Sum of `counts`.
    total: u64,
    /// Words without their accents (see [`fold`]) -> the frequent spellings that fold to them.
    folded: HashMap<String, Vec<String>>,
    /// What OCR does to printed characters (see [`crate::channel`]); empty: not used.
    channel: Channel,
    /// The known words (catalog and printed) by length in characters, with how often each is
    /// written; what the channel corrects unknown words to.
    by_len: Vec<Vec<(String, f64)>>,
}

impl Vocabulary {
    /// From texts that spell our products: catalog names, maker part numbers.
    pub fn from_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut v = Vocabulary::default();
        let mut follow: HashMap<String, HashSet<String>> = HashMap::new();
        for t in texts {
            let words: Vec<String> = t.split_whitespace().map(str::to_uppercase).collect();
            for w in &words {
                v.words.insert(w.clone());
            }
            for w in words
                .iter()
                .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
            {
                *v.counts.entry(w.clone()).or_default() += 1;
                v.total += 1;
            }
            for p in words.windows(2) {
                v.pairs.insert((p[0].clone(), p[1].clone()));
                follow.entry(p[0].clone()).or_default().insert(p[1].clone());
            }
        }
        v.followers = follow.into_iter().map(|(k, s)| (k, s.len())).collect();
        v
    }

    /// From a catalog: each product's name and maker part number.
    pub fn from_catalog(catalog: &claimscan_matching::Catalog) -> Self {
        Self::from_texts(
            catalog
                .products
                .iter()
                .flat_map(|p| std::iter::once(p.name.as_str()).chain(p.mpn.as_deref())),
        )
    }

    /// Adds the words distributors print, with how often (upper-cased, as learned by the
    /// matching model's training: `Model::printed_words`). They are what glued words are split
    /// into, and they keep their own glued spellings (`AIRMAX`, `PRESSFITTING`) whole.
    pub fn with_printed_words<'a>(
        mut self,
        words: impl IntoIterator<Item = (&'a String, &'a u32)>,
    ) -> Self {
        for (w, n) in words {
            *self.counts.entry(w.to_uppercase()).or_default() += *n;
            self.total += u64::from(*n);
        }
        self.folded.clear();
        for (w, n) in &self.counts {
            if *n >= MIN_PART_COUNT && !w.is_ascii() {
                self.folded.entry(fold(w)).or_default().push(w.clone());
            }
        }
        self
    }

    /// From a catalog and the words distributors print (`Model::printed_words`), with the OCR
    /// channel shipped with this crate ([`Channel::trained_default`]).
    pub fn from_catalog_and_model(
        catalog: &claimscan_matching::Catalog,
        model: &claimscan_matching::Model,
    ) -> Self {
        Self::from_catalog(catalog)
            .with_printed_words(&model.printed_words)
            .with_channel(Channel::trained_default())
    }

    /// Corrects unknown description words with what OCR is known to do to printed characters
    /// (see [`Vocabulary::correct_by_channel`]). Call after the words are complete.
    pub fn with_channel(mut self, channel: Channel) -> Self {
        let mut freq: HashMap<&str, f64> = HashMap::new();
        for (w, n) in &self.counts {
            *freq.entry(w).or_default() += f64::from(*n);
        }
        for w in &self.words {
            freq.entry(w).or_insert(1.0);
        }
        let mut by_len: Vec<Vec<(String, f64)>> = Vec::new();
        // a spelling written rarely is as likely a typo as the word meant
        for (w, f) in freq
            .into_iter()
            .filter(|(_, f)| *f >= f64::from(MIN_PART_COUNT))
        {
            let n = w.chars().count();
            if by_len.len() <= n {
                by_len.resize(n + 1, Vec::new());
            }
            by_len[n].push((w.to_string(), f));
        }
        for b in &mut by_len {
            b.sort_by(|x, y| x.0.cmp(&y.0));
        }
        self.channel = channel;
        self.by_len = by_len;
        self
    }

    /// Whether anyone writes the word (case aside): a catalog name or part number has it, or
    /// distributors print it.
    pub fn knows(&self, word: &str) -> bool {
        let u = word.to_uppercase();
        self.words.contains(&u) || self.counts.contains_key(&u)
    }

    /// Number of distinct words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The description with its confusions corrected, or `None` when nothing was changed.
    pub fn correct(&self, description: &str) -> Option<String> {
        let words: Vec<&str> = description.split_whitespace().collect();
        let mut out: Vec<String> = Vec::with_capacity(words.len());
        let mut changed = false;
        let quoted: Vec<Option<String>> = words.iter().map(|w| straight_quotes(w)).collect();
        changed |= quoted.iter().any(Option::is_some);
        let words: Vec<&str> = words
            .iter()
            .zip(&quoted)
            .map(|(w, q)| q.as_deref().unwrap_or(w))
            .collect();
        let n = words.len();
        for (i, w) in words.iter().enumerate() {
            if i + 1 == n {
                if let Some(bare) = self.speck_period(w) {
                    changed = true;
                    out.push(bare);
                    continue;
                }
            }
            if let Some(parts) = self.split_glued(w) {
                changed = true;
                out.extend(parts);
                continue;
            }
            let prev = i.checked_sub(1).map(|j| words[j].to_uppercase());
            let fixed = self
                .correct_accents(w)
                .or_else(|| self.correct_word(w))
                .or_else(|| self.join_split_stroke(w))
                .or_else(|| prev.and_then(|p| self.correct_after(&p, w)))
                .or_else(|| self.correct_by_channel(w, Threshold::default(), i + 1 == n));
            changed |= fixed.is_some();
            out.push(fixed.unwrap_or_else(|| w.to_string()));
        }
        changed.then(|| out.join(" "))
    }

    /// Corrects the descriptions of the invoice's lines that were read from OCR'd pages of
    /// `doc`. Returns how many lines changed.
    pub fn correct_invoice(&self, doc: &Document, inv: &mut Invoice) -> usize {
        if self.is_empty() {
            return 0;
        }
        let exact = exact_pages(doc);
        let mut n = 0;
        for line in &mut inv.lines {
            let page = line.boxes.get("description").map(|b| b.page);
            if page.is_none_or(|p| exact.get(p).copied().unwrap_or(false)) {
                continue;
            }
            if let Some(d) = line.description.as_deref().and_then(|d| self.correct(d)) {
                line.description = Some(d);
                n += 1;
            }
        }
        n
    }

    /// A word OCR glued together from known words (`FITTINGELBOW`, `VOLTARISSAFEGRID`), split
    /// back into them, in the case read; `None` when the word should stay as it is.
    ///
    /// The split is the most likely sequence of known words under word frequencies (a unigram
    /// model), taken only when it is far likelier than an unknown word of that length
    /// ([`UNKNOWN_CHAR`] per character), and only when every part is written at least
    /// [`MIN_PART_COUNT`] times. A word that starts a known word (a description cut short:
    /// `RADIAT`) or is one edit from a known word (a typo: `Circulatro`) is left alone: those
    /// are what distributors print, not OCR's glue. A word that is exactly two words following
    /// each other in a catalog name (`Panel radiator`, `CIRCA E`) is split on that alone.
    /// Catalog words, words printed [`MIN_PART_COUNT`] times or more, words with digits and
    /// words shorter than five letters are never split.
    pub fn split_glued(&self, w: &str) -> Option<Vec<String>> {
        let up = w.to_uppercase();
        let chars: Vec<char> = up.chars().collect();
        let n = chars.len();
        if n < 5
            || n != w.chars().count()
            || !chars
                .iter()
                .all(|c| c.is_alphabetic() || *c == '.' || *c == '-')
            || self.counts.get(&up).copied().unwrap_or(0) >= MIN_PART_COUNT
            || self.words.contains(&up)
            || self.total == 0
        {
            return None;
        }
        // two words that follow each other in the catalog (`Panel radiator`, `CIRCA E`)
        let mut pair = (1..n).filter(|&i| {
            let (a, b): (String, String) =
                (chars[..i].iter().collect(), chars[i..].iter().collect());
            self.pairs.contains(&(a, b))
        });
        if let (Some(i), None) = (pair.next(), pair.next()) {
            let read: Vec<char> = w.chars().collect();
            return Some(vec![read[..i].iter().collect(), read[i..].iter().collect()]);
        }
        let total = self.total as f64;
        // best[j]: (log-probability, start of the last part) of the best split of chars[..j]
        let mut best: Vec<(f64, Option<usize>)> = vec![(f64::NEG_INFINITY, None); n + 1];
        best[0] = (0.0, None);
        for j in 2..=n {
            for i in j.saturating_sub(MAX_PART)..=j - 2 {
                if best[i].0 == f64::NEG_INFINITY {
                    continue;
                }
                let part: String = chars[i..j].iter().collect();
                if let Some(&c) = self.counts.get(&part) {
                    let s = best[i].0 + (f64::from(c) / total).ln();
                    if s > best[j].0 {
                        best[j] = (s, Some(i));
                    }
                }
            }
        }
        let mut cuts = Vec::new();
        let mut j = n;
        while j > 0 {
            let i = best[j].1?;
            cuts.push((i, j));
            j = i;
        }
        cuts.reverse();
        if cuts.len() < 2 || best[n].0 <= n as f64 * UNKNOWN_CHAR.ln() {
            return None;
        }
        let part_of = |(i, j): (usize, usize)| chars[i..j].iter().collect::<String>();
        if cuts
            .iter()
            .any(|c| self.counts.get(&part_of(*c)).copied().unwrap_or(0) < MIN_PART_COUNT)
        {
            return None;
        }
        // a cut-short or misspelt known word is what was printed
        let head: String = chars[..2].iter().collect();
        let near = self
            .counts
            .keys()
            .filter(|k| k.starts_with(&head))
            .any(|k| k.starts_with(&up) || strsim::osa_distance(k, &up) <= 1);
        if near {
            return None;
        }
        let read: Vec<char> = w.chars().collect();
        Some(
            cuts.into_iter()
                .map(|(i, j)| read[i..j].iter().collect())
                .collect(),
        )
    }

    /// A word whose accents OCR misread (`Flachheizkórper`, `Liiftungsgitter`: `ü` read as
    /// `ii`), when it is not a frequent word itself and exactly one frequent accented spelling
    /// (printed [`MIN_PART_COUNT`] times or more) reads the same without accents.
    fn correct_accents(&self, w: &str) -> Option<String> {
        let up = w.to_uppercase();
        if up.chars().count() < MIN_WORD
            || up.chars().count() != w.chars().count()
            || self.counts.get(&up).copied().unwrap_or(0) >= MIN_PART_COUNT
            || self.words.contains(&up)
        {
            return None;
        }
        let lookup = |key: String| match self.folded.get(&key).map(Vec::as_slice) {
            Some([one]) if *one != up => Some(one.clone()),
            _ => None,
        };
        let one = lookup(fold(&up)).or_else(|| {
            up.contains("II")
                .then(|| lookup(fold(&up.replacen("II", "U", 1))))
                .flatten()
        })?;
        (one.chars().count() == w.chars().count() || up.contains("II")).then(|| {
            // in the case read: all lower after the first letter when so read
            if w.chars().skip(1).any(char::is_uppercase) {
                one
            } else {
                let mut c = one.chars();
                c.next()
                    .map(|f| f.to_string() + &c.as_str().to_lowercase())
                    .unwrap_or_default()
            }
        })
    }

    /// A word of [`MIN_CHANNEL_WORD`] or more letters that is neither ours nor printed by
    /// distributors, replaced by the known word that best explains it under the
    /// OCR channel: `cost(known -> read) - ln P(known)` (word frequencies: catalog and printed
    /// words) must beat keeping the word as an unknown word printed as read (`cost(read ->
    /// read) + unknown_word + unknown_char x length`) and every other known word by `margin`.
    ///
    /// Two letters swapped (`galvansied`) is a distributor's typo, not OCR's, and so never
    /// corrected; nor is the last letter of a description's `last` word, where distributors cut
    /// their wording short (`RADIATE`, not `RADIATO`).
    pub fn correct_by_channel(&self, w: &str, th: Threshold, last: bool) -> Option<String> {
        if self.channel.is_empty() {
            return None;
        }
        let up = w.to_uppercase();
        let n = up.chars().count();
        if n < MIN_CHANNEL_WORD
            || n != w.chars().count()
            || up.chars().filter(|c| c.is_alphabetic()).count() < MIN_CHANNEL_WORD
            || self.is_known(&up)
        {
            return None;
        }
        let keep = self.channel.cost(&up, &up) + th.unknown_word + th.unknown_char * n as f64;
        let total = self.total as f64 + self.words.len() as f64;
        let mut best: Option<(f64, &str)> = None;
        let mut second = f64::INFINITY;
        // substitutions keep the length; a two-character edit (`rn` read as `m`) changes it by one
        for len in n.saturating_sub(1)..=n + 1 {
            for (cand, f) in self.by_len.get(len).into_iter().flatten() {
                if last && cand.chars().last() != up.chars().last() {
                    continue;
                }
                if len == n {
                    // as many characters: at most three differ, and not two swapped
                    let diff: Vec<(char, char)> = cand
                        .chars()
                        .zip(up.chars())
                        .filter(|(a, b)| a != b)
                        .take(4)
                        .collect();
                    let swapped = matches!(diff.as_slice(), [(a, b), (c, d)] if a == d && b == c);
                    if diff.len() > 3 || swapped {
                        continue;
                    }
                } else if strsim::levenshtein(cand, &up) > 4 {
                    continue;
                }
                let s = self.channel.cost(cand, &up) + (total / f).ln();
                match best {
                    Some((b, _)) if s >= b => second = second.min(s),
                    _ => {
                        if let Some((b, _)) = best {
                            second = second.min(b);
                        }
                        best = Some((s, cand));
                    }
                }
            }
        }
        let (b, cand) = best?;
        (b < keep && second - b >= th.margin).then(|| in_case_of(w, cand))
    }

    /// The last word of an OCR'd description without the period a speck after it made
    /// (`COP.`, `anos.`: a description cut at its column's edge, a speck where the cut fell),
    /// when the word without it is a catalog word or written [`MIN_PART_COUNT`] times or more,
    /// and with it is not (`fl.`, `VERS.` and other abbreviations distributors print stay).
    fn speck_period(&self, w: &str) -> Option<String> {
        let bare = w.strip_suffix('.')?;
        if bare.is_empty() || bare.ends_with(|c: char| c.is_ascii_punctuation()) {
            return None;
        }
        // a number keeps it: a decimal cut at the column's edge (`BREAKER 4.` of `4.5KA`)
        if !bare.chars().any(char::is_alphabetic) {
            return None;
        }
        let count = |x: &str| self.counts.get(&x.to_uppercase()).copied().unwrap_or(0);
        let written = count(bare) >= MIN_PART_COUNT || self.words.contains(&bare.to_uppercase());
        (written && count(w) < MIN_PART_COUNT).then(|| bare.to_string())
    }

    /// A word in which OCR read one vertical stroke as two different thin glyphs (`ElIvo` and
    /// `Eilvocab` for `Elvo` and `Elvocab`, `UGRI19` for `UGR19`, `CI16961950` for the maker
    /// code `CI6961950`, `WIÏTH`), when it is not a known word and exactly one of the words
    /// left by dropping one glyph of such a pair is (a catalog word, or one printed
    /// [`MIN_PART_COUNT`] times or more). A glyph that doubles its other neighbour is never the
    /// one dropped: a distributor's doubled letter (`ventillation`, `Steeliine`) is what they
    /// printed. On the 114,217 truth description words of seeds 73, 89, 61 and 97 this changes
    /// none; see `pipelines/layout/README.md` for what it fixes.
    fn join_split_stroke(&self, w: &str) -> Option<String> {
        let thin = |c: char| {
            matches!(
                c,
                'I' | 'l' | 'i' | '1' | '|' | '!' | 'ı' | 'ï' | 'Ï' | 'í' | 'Í'
            )
        };
        let chars: Vec<char> = w.chars().collect();
        if chars.len() <= MIN_WORD || self.is_known(&w.to_uppercase()) {
            return None;
        }
        let written = |x: &str| {
            let up = x.to_uppercase();
            self.words.contains(&up) || self.counts.get(&up).copied().unwrap_or(0) >= MIN_PART_COUNT
        };
        let mut found: Vec<String> = Vec::new();
        for j in 0..chars.len() - 1 {
            let (a, b) = (chars[j], chars[j + 1]);
            if !(thin(a) && thin(b) && a != b) {
                continue;
            }
            // the glyph dropped and its neighbour on the other side of the pair
            for (k, other) in [(j, j.checked_sub(1)), (j + 1, Some(j + 2))] {
                if other.and_then(|o| chars.get(o)) == Some(&chars[k]) {
                    continue;
                }
                let cand: String = chars
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != k)
                    .map(|(_, c)| *c)
                    .collect();
                if written(&cand) && !found.contains(&cand) {
                    found.push(cand);
                }
            }
        }
        match found.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        }
    }

    /// A catalog word or a printed one, as read or without the punctuation around it.
    fn is_known(&self, up: &str) -> bool {
        let bare = up.trim_matches(|c: char| c.is_ascii_punctuation());
        [up, bare]
            .iter()
            .any(|x| self.words.contains(*x) || self.counts.contains_key(*x))
    }

    /// A word of [`MIN_WORD`] or more characters that is not ours, when exactly one confusable
    /// spelling of it is.
    fn correct_word(&self, w: &str) -> Option<String> {
        let core = w
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || !confusions(*c).is_empty())
            .count();
        if core < MIN_WORD || !confusable_text(w) || self.words.contains(&w.to_uppercase()) {
            return None;
        }
        let mut found = variants(w).filter(|v| self.words.contains(v));
        let one = found.next()?;
        found.next().is_none().then(|| with_case_of(w, &one))
    }

    /// A short word after `prev` (upper-cased) when the pair is not ours but exactly one
    /// confusable spelling of it is, and `prev` is followed by few different words.
    fn correct_after(&self, prev: &str, w: &str) -> Option<String> {
        if !confusable_text(w) || self.followers.get(prev).copied().unwrap_or(0) > MAX_FOLLOWERS {
            return None;
        }
        let key = |s: String| (prev.to_string(), s);
        if self.pairs.contains(&key(w.to_uppercase())) {
            return None;
        }
        let mut found = variants(w).filter(|v| self.pairs.contains(&key(v.clone())));
        let one = found.next()?;
        found.next().is_none().then(|| with_case_of(w, &one))
    }
}

/// Pages whose words are exactly what was printed: a PDF's text layer, or given words with no
/// recognition doubt (every confidence 1).
pub fn exact_pages(doc: &Document) -> Vec<bool> {
    doc.pages
        .iter()
        .map(|p| {
            p.source == PageSource::TextLayer
                || (p.source == PageSource::Input && p.words.iter().all(|w| w.confidence >= 1.0))
        })
        .collect()
}

/// ASCII, or the one non-ASCII mark OCR reads for a letter (`€` for `C`).
fn confusable_text(w: &str) -> bool {
    w.chars().all(|c| c.is_ascii() || c == '€')
}

/// Typographic quotes OCR reads for straight ones (`1/4”` for `1/4"`), made straight; `None`
/// when the word has none.
fn straight_quotes(w: &str) -> Option<String> {
    w.contains(['”', '“', '’', '‘']).then(|| {
        w.chars()
            .map(|c| match c {
                '”' | '“' => '"',
                '’' | '‘' => '\'',
                c => c,
            })
            .collect()
    })
}

/// Upper-cased spellings of an ASCII word with one or two of its characters replaced by what
/// they may have been printed as (distinct, the word itself excluded).
fn variants(w: &str) -> impl Iterator<Item = String> {
    let up: Vec<char> = w.to_ascii_uppercase().chars().collect();
    let spots: Vec<usize> = (0..up.len())
        .filter(|&i| !confusions(up[i]).is_empty())
        .collect();
    let mut out: Vec<String> = Vec::new();
    for (k, &i) in spots.iter().enumerate() {
        for &a in confusions(up[i]) {
            let mut one = up.clone();
            one[i] = a;
            out.push(one.iter().collect());
            for &j in &spots[k + 1..] {
                for &b in confusions(up[j]) {
                    let mut two = one.clone();
                    two[j] = b;
                    out.push(two.iter().collect());
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out.into_iter()
}

/// An upper-case word with its letters' accents dropped (`KÖRPER`, `KÓRPER` -> `KORPER`).
fn fold(w: &str) -> String {
    w.chars()
        .map(|c| match c {
            'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'A',
            'È' | 'É' | 'Ê' | 'Ë' => 'E',
            'Ì' | 'Í' | 'Î' | 'Ï' => 'I',
            'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => 'O',
            'Ù' | 'Ú' | 'Û' | 'Ü' => 'U',
            'Ç' => 'C',
            'Ñ' => 'N',
            c => c,
        })
        .collect()
}

/// `spelling` (upper case) in the case of `read`: letter by letter when both are as long
/// ([`with_case_of`]), else all small, capitalised or all capitals as `read` is.
pub(crate) fn in_case_of(read: &str, spelling: &str) -> String {
    if read.chars().count() == spelling.chars().count() {
        return with_case_of(read, spelling);
    }
    let letters: Vec<char> = read.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.iter().all(|c| c.is_lowercase()) {
        spelling.to_lowercase()
    } else if letters.iter().skip(1).all(|c| c.is_lowercase()) {
        let mut c = spelling.chars();
        c.next()
            .map(|f| f.to_string() + &c.as_str().to_lowercase())
            .unwrap_or_default()
    } else {
        spelling.to_string()
    }
}

/// `spelling` (upper case) written in the case of `read`, letter by letter. A letter OCR
/// confused (`l` read for `I` in `Cl2572642`) takes the case of the letter before it.
fn with_case_of(read: &str, spelling: &str) -> String {
    let mut prev_lower = false;
    read.chars()
        .zip(spelling.chars())
        .map(|(r, s)| {
            let lower = if r.to_uppercase().next() == Some(s) {
                r.is_lowercase()
            } else {
                prev_lower
            };
            if r.is_alphabetic() {
                prev_lower = lower;
            }
            if lower {
                s.to_lowercase().next().unwrap_or(s)
            } else {
                s
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimscan_doc::{LineItem, Page, ValueBox, Word};

    fn vocab() -> Vocabulary {
        Vocabulary::from_texts([
            "Installation cable ELVOCAB H05VV-F 3x1.5 100 m",
            "Installation cable BRIXO NYM-J 5x2.5",
            "Borehole pump BORA 6S 2-6 0.39 kW",
            "Borehole pump BORA 4S 2-12 0.54 kW",
            "Panel radiator RADIA V type 10 300x600 mm",
            "Panel radiator RADIA V type 11 300x600 mm",
            "Panel radiator RADIA C type 20 300x600 mm",
            "Panel radiator RADIA C type 21 300x600 mm",
            "Panel radiator RADIA VM type 22 300x600 mm",
            "Panel radiator RADIA VM type 33 300x600 mm",
            "Panel radiator RADIA VM type B 300x600 mm",
            "Panel radiator RADIA VM type 8S 300x600 mm",
            "Panel radiator RADIA VM type 1 300x600 mm",
            "Grille LINEAR 150x100 white",
            "LI1171413",
        ])
    }

    #[test]
    fn confusions_in_long_words_are_corrected_in_the_case_read() {
        let v = vocab();
        assert_eq!(
            v.correct("KABEL ELVOCAB HOSVV-F 2x0.75").as_deref(),
            Some("KABEL ELVOCAB H05VV-F 2x0.75")
        );
        assert_eq!(v.correct("cab NYM-) 4x").as_deref(), Some("cab NYM-J 4x"));
        assert_eq!(
            v.correct("INL PMP LINEA L11171413").as_deref(),
            Some("INL PMP LINEA LI1171413")
        );
        // a capital I read as a small l, in the case of the letter before it
        assert_eq!(
            v.correct("INL PMP Ll1171413").as_deref(),
            Some("INL PMP LI1171413")
        );
        assert_eq!(v.correct("cable elvocab").as_deref(), None);
    }

    #[test]
    fn short_words_only_beside_a_series() {
        let v = vocab();
        assert_eq!(
            v.correct("BORA 65 16-12 BOREHOLE PUMP").as_deref(),
            Some("BORA 6S 16-12 BOREHOLE PUMP")
        );
        assert_eq!(v.correct("Bora 45").as_deref(), Some("Bora 4S"));
        // TYPE is followed by many words: `type 8` stays, though `type B` is ours
        assert_eq!(v.correct("RADIA V type 8"), None);
        // short words alone are never corrected
        assert_eq!(v.correct("65 PUMP"), None);
    }

    #[test]
    fn words_that_are_ours_or_ambiguous_or_foreign_stay() {
        let v = vocab();
        // ours as printed
        assert_eq!(v.correct("BRIXO NYM-J 5x2.5 LINEAR"), None);
        // a typo that is not a shape confusion (generator-style swap) stays
        assert_eq!(v.correct("Grille Grlile"), None);
        // another brand's word stays
        assert_eq!(v.correct("AIRMAX FLOWAIR"), None);
        // non-ASCII words are not touched by the confusions (accents: see below)
        assert_eq!(v.correct("Flachheizkôrper"), None);
        // two spellings would fit: no change
        let two = Vocabulary::from_texts(["AB5S", "ABS5"]);
        assert_eq!(two.correct("AB55"), None);
        let one = Vocabulary::from_texts(["AB5S"]);
        assert_eq!(one.correct("AB55").as_deref(), Some("AB5S"));
    }

    #[test]
    fn a_stroke_read_as_two_thin_glyphs_is_one_again() {
        let words: std::collections::BTreeMap<String, u32> = [
            ("ELVO", 40),
            ("WITH", 300),
            ("VENTILATION", 50),
            ("STEELINE", 20),
        ]
        .into_iter()
        .map(|(w, n)| (w.to_string(), n))
        .collect();
        let v = Vocabulary::from_texts([
            "Elvo Line push button EW1504589",
            "Elvocab H05VV-F 3x1.5",
            "Circa E 25-40 circulator pump CI6961950",
            "LUMA UGR19 600x600 LED panel",
        ])
        .with_printed_words(&words);
        assert_eq!(v.correct("ElIvo Line").as_deref(), Some("Elvo Line"));
        assert_eq!(
            v.correct("Eilvocab H05VV-F").as_deref(),
            Some("Elvocab H05VV-F")
        );
        // a maker code and a series of the catalog, and a word printed often
        assert_eq!(
            v.correct("Circa E 25-40 pump CI16961950").as_deref(),
            Some("Circa E 25-40 pump CI6961950")
        );
        assert_eq!(
            v.correct("LUMA UGRI19 panel").as_deref(),
            Some("LUMA UGR19 panel")
        );
        assert_eq!(v.correct("VERSION WIÏTH").as_deref(), Some("VERSION WITH"));
        // a distributor's doubled letter stays, even beside another thin glyph
        assert_eq!(v.correct("ventillation grille"), None);
        assert_eq!(v.correct("Steeliine grille"), None);
        // a word known as read, and one that no dropped glyph makes known, stay
        assert_eq!(v.correct("CI6961950 panel"), None);
        assert_eq!(v.correct("Kilimanjaro grille"), None);
    }

    /// The test catalog plus words distributors print, with how often.
    fn printed() -> Vocabulary {
        let words: std::collections::BTreeMap<String, u32> = [
            ("FITTING", 400),
            ("ELBOW", 300),
            ("THREADED", 200),
            ("KALTMANN", 150),
            ("KALTEC", 60),
            ("AIR", 500),
            ("MAX", 300),
            ("AIRMAX", 120),
            ("RADIATOR", 900),
            ("CIRCULATOR", 80),
            ("PUMP", 400),
            ("FLACHHEIZKÖRPER", 90),
            ("LÜFTUNGSGITTER", 40),
            ("DÜSE", 30),
            ("DÚSE", 30),
            ("GF", 3),
            ("THREADA", 40),
        ]
        .into_iter()
        .map(|(w, n)| (w.to_string(), n))
        .collect();
        vocab().with_printed_words(&words)
    }

    #[test]
    fn a_period_after_the_last_word_is_a_speck_unless_distributors_print_it() {
        let words: std::collections::BTreeMap<String, u32> =
            [("FITTING", 400), ("COP", 30), ("FL.", 25), ("FL", 12)]
                .into_iter()
                .map(|(w, n)| (w.to_string(), n))
                .collect();
        let v = vocab().with_printed_words(&words);
        assert_eq!(
            v.correct("PRESS FITTING PRESSFIT COP.").as_deref(),
            Some("PRESS FITTING PRESSFIT COP")
        );
        // a decimal cut short keeps its point
        assert_eq!(v.correct("CIRCUIT BREAKER 4."), None);
        // an abbreviation distributors print with its period, a word nobody prints, a period
        // inside the description
        assert_eq!(v.correct("Schalter blk m fl."), None);
        assert_eq!(v.correct("FITTING XQZW."), None);
        assert_eq!(v.correct("COP. FITTING"), None);
    }

    #[test]
    fn glued_words_are_split_into_printed_words_in_the_case_read() {
        let v = printed();
        assert_eq!(
            v.correct("THREADED FITTINGELBOW 90").as_deref(),
            Some("THREADED FITTING ELBOW 90")
        );
        assert_eq!(
            v.correct("KaltmannKaltec").as_deref(),
            Some("Kaltmann Kaltec")
        );
        // two words that follow each other in the catalog
        assert_eq!(
            v.correct("Panelradiator RADIA V").as_deref(),
            Some("Panel radiator RADIA V")
        );
        assert_eq!(
            v.split_glued("RADIAVM"),
            Some(vec!["RADIA".to_string(), "VM".to_string()])
        );
    }

    #[test]
    fn printed_glued_words_cut_words_typos_and_numbers_stay() {
        let v = printed();
        // a distributor's own frequent glued spelling
        assert_eq!(v.correct("AIRMAX FLOWAIR"), None);
        // the start of a frequent word (a description cut short) or one edit from one (a
        // typo) is what was printed
        let w: std::collections::BTreeMap<String, u32> = [
            ("FITTINGELBOWS".to_string(), 20),
            ("KALTMANNKALTEK".to_string(), 20),
        ]
        .into();
        let cut = printed().with_printed_words(&w);
        assert_eq!(cut.correct("FITTINGELBOW"), None);
        assert_eq!(cut.correct("KALTMANNKALTEC"), None);
        // a part written too rarely (GF) is no evidence
        assert_eq!(v.correct("GFTHREADA"), None);
        // words with digits and short words are never split
        assert_eq!(v.correct("ELBOW90FF"), None);
        assert_eq!(v.correct("AIRM"), None);
        // without printed words, only catalog pairs are split
        assert_eq!(vocab().correct("FITTINGELBOW"), None);
    }

    #[test]
    fn misread_accents_take_the_one_frequent_spelling() {
        let v = printed();
        assert_eq!(
            v.correct("Flachheizkórper RADIA VM").as_deref(),
            Some("Flachheizkörper RADIA VM")
        );
        assert_eq!(
            v.correct("FLACHHEIZKORPER").as_deref(),
            Some("FLACHHEIZKÖRPER")
        );
        // `ü` read as `ii`
        assert_eq!(
            v.correct("Liiftungsgitter").as_deref(),
            Some("Lüftungsgitter")
        );
        // two frequent spellings fold the same: no change
        assert_eq!(v.correct("DUSE"), None);
        // without printed words nothing to go by
        assert_eq!(vocab().correct("Flachheizkórper"), None);
    }

    #[test]
    fn the_ocr_channel_corrects_what_ocr_does_and_leaves_typos() {
        let mut pairs = Vec::new();
        for _ in 0..30 {
            pairs.push(("CALOREX", "TALOREX"));
            pairs.push(("BLACK", "HLACK"));
            pairs.push(("PNL", "PNI"));
        }
        for _ in 0..3000 {
            pairs.push(("CALOREX", "CALOREX"));
            pairs.push(("BLACK", "BLACK"));
            pairs.push(("GRILLE", "GRILLE"));
            pairs.push(("PNL", "PNL"));
        }
        let words: std::collections::BTreeMap<String, u32> = [
            ("CALOREX", 1600),
            ("BLACK", 900),
            ("PNL", 700),
            ("GRILLE", 500),
        ]
        .into_iter()
        .map(|(w, n)| (w.to_string(), n))
        .collect();
        let v = printed()
            .with_printed_words(&words)
            .with_channel(Channel::learn(pairs, "test"));
        assert_eq!(
            v.correct("TALOREX WARMLINE hlack").as_deref(),
            Some("CALOREX WARMLINE Black")
        );
        assert_eq!(
            v.correct("Rad Pni type 22").as_deref(),
            Some("Rad Pnl type 22")
        );
        // letters doubled, dropped or cut short: a distributor's typo as likely as OCR's
        assert_eq!(v.correct("GRIILLE CALORE BLCK"), None);
        // without a channel, nothing of this
        assert_eq!(
            printed().with_printed_words(&words).correct("TALOREX"),
            None
        );
    }

    #[test]
    fn exact_pages_are_left_as_printed() {
        let v = vocab();
        let page = |i, source, conf: f32| {
            let words = vec![Word::new(
                "HOSVV-F",
                [10.0, 10.0, 90.0, 30.0],
                conf,
                1000.0,
                1000.0,
            )];
            Page::new(i, 1000.0, 1000.0, None, source, words)
        };
        let doc = Document::of_words(
            "t",
            vec![
                page(0, PageSource::TextLayer, 1.0),
                page(1, PageSource::Ocr, 0.6),
                page(2, PageSource::Input, 1.0),
            ],
        );
        let line = |p: usize| LineItem {
            description: Some("ELVOCAB HOSVV-F".into()),
            boxes: [(
                "description".to_string(),
                ValueBox {
                    page: p,
                    bbox: [0.0; 4],
                },
            )]
            .into(),
            ..LineItem::default()
        };
        let mut inv = Invoice {
            lines: vec![line(0), line(1), line(2)],
            ..Invoice::default()
        };
        assert_eq!(v.correct_invoice(&doc, &mut inv), 1);
        let got: Vec<_> = inv
            .lines
            .iter()
            .map(|l| l.description.clone().unwrap())
            .collect();
        assert_eq!(
            got,
            ["ELVOCAB HOSVV-F", "ELVOCAB H05VV-F", "ELVOCAB HOSVV-F"]
        );
    }
}
