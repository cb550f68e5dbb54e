//! Every string of the console, in English and Brazilian Portuguese, through three tables
//! (`table.rs`, `billing.rs` for the Billing pages, `storage.rs` for the Storage pages, `apps.rs`
//! for the Apps pages); and the formatting of numbers, money and dates per language. A test
//! fails when a key the console uses is missing, a key of the table is used nowhere, or a
//! translation is empty.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Lang {
    #[default]
    En,
    PtBr,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::PtBr => "pt-BR",
        }
    }

    pub fn from_code(s: &str) -> Lang {
        if s.eq_ignore_ascii_case("pt-BR") || s.starts_with("pt") {
            Lang::PtBr
        } else {
            Lang::En
        }
    }
}

mod apps;
mod billing;
mod storage;
mod table;

pub use apps::APPS;
pub use billing::BILLING;
pub use storage::STORAGE;
pub use table::TABLE;

/// Every entry of the tables.
pub fn entries() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    TABLE.iter().chain(BILLING).chain(STORAGE).chain(APPS)
}

/// The text of `key` in `lang`; the key itself when missing (a test keeps that from happening).
pub fn t(lang: Lang, key: &str) -> &'static str {
    match entries().find(|(k, _, _)| *k == key) {
        Some((_, en, pt)) => match lang {
            Lang::En => en,
            Lang::PtBr => pt,
        },
        None => "⚠ missing translation",
    }
}

/// Groups thousands and sets the decimal mark as each language writes numbers.
pub fn number(lang: Lang, value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let sign = if value < 0.0 { "-" } else { "" };
    format!("{sign}{}", localize(lang, &text))
}

/// `1234567.89` (digits, an optional `.` and decimals, no sign) as `lang` writes it:
/// `1,234,567.89` or `1.234.567,89`. Exact decimals (money) are written through this too.
pub fn localize(lang: Lang, digits: &str) -> String {
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let (group, mark) = match lang {
        Lang::En => (',', '.'),
        Lang::PtBr => ('.', ','),
    };
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(c);
    }
    if frac.is_empty() {
        grouped
    } else {
        format!("{grouped}{mark}{frac}")
    }
}

/// Prices of the catalog are in US dollars.
pub fn money(lang: Lang, usd: f64) -> String {
    match lang {
        Lang::En => format!("${}", number(lang, usd, 4)),
        Lang::PtBr => format!("US$ {}", number(lang, usd, 4)),
    }
}

/// `2026-11-29T18:05:00Z` → `2026-11-29 18:05` (en) or `29/11/2026 18:05` (pt-BR), in UTC.
pub fn date(lang: Lang, rfc3339: &str) -> String {
    let (d, rest) = rfc3339.split_once('T').unwrap_or((rfc3339, ""));
    let hm: String = rest.chars().take(5).collect();
    let parts: Vec<&str> = d.split('-').collect();
    match (lang, parts.as_slice()) {
        (Lang::PtBr, [y, m, day]) => format!("{day}/{m}/{y} {hm}"),
        _ => format!("{d} {hm}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_translated_once() {
        let mut seen = std::collections::BTreeSet::new();
        for (k, en, pt) in entries() {
            assert!(seen.insert(*k), "key {k} appears twice");
            assert!(
                !en.trim().is_empty() && !pt.trim().is_empty(),
                "key {k} has an empty translation"
            );
        }
    }

    /// The keys the console's source names, `tr("…")` (reactive) and `text("…")` (once), in every
    /// file under `src/` but this one (whose tests quote the patterns). Comments are skipped: they quote the
    /// pattern itself.
    fn keys_in_source() -> Vec<(String, std::path::PathBuf)> {
        fn walk(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, files);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        let mut files = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut keys = Vec::new();
        for file in files.into_iter().filter(|f| !f.ends_with("i18n.rs")) {
            let source = std::fs::read_to_string(&file).unwrap();
            for line in source.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for pattern in ["tr(\"", "text(\""] {
                    for (at, _) in line.match_indices(pattern) {
                        // A call of its own, not the end of another name (`attr("`).
                        let before = line[..at].chars().next_back();
                        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                            continue;
                        }
                        let rest = &line[at + pattern.len()..];
                        let key = rest.split('"').next().unwrap();
                        keys.push((key.to_owned(), file.clone()));
                    }
                }
            }
        }
        keys
    }

    /// Every key the console uses names an entry of the table.
    #[test]
    fn every_key_the_console_uses_exists() {
        let used = keys_in_source();
        for (key, file) in &used {
            assert!(
                entries().any(|(k, _, _)| k == key),
                "{} uses key {key:?}, which the table lacks",
                file.display()
            );
        }
        // The pages and components are scanned, not only the shell.
        for dir in ["pages", "components"] {
            assert!(
                used.iter()
                    .any(|(_, f)| f.parent().is_some_and(|p| p.ends_with(dir))),
                "no key found in src/{dir}: is the scan still right?"
            );
        }
        assert!(
            used.len() > 60,
            "only {} keys found: is the scan still right?",
            used.len()
        );
    }

    /// Every entry of the table is used, so none is translated for nothing; the quota names are
    /// looked up by the API's quota name (`quota.q.vcpus`), checked below.
    #[test]
    fn every_key_of_the_table_is_used() {
        let used = keys_in_source();
        for (k, _, _) in entries() {
            assert!(
                k.starts_with("quota.q.") || used.iter().any(|(u, _)| u == k),
                "key {k} is in the table but no console source uses it"
            );
        }
    }

    /// The quota bars name each quota of the API in both languages.
    #[test]
    fn every_quota_has_a_name() {
        for (name, _) in nuvem_api::iam::QUOTAS {
            let key = format!("quota.q.{name}");
            assert!(
                TABLE.iter().any(|(k, _, _)| *k == key),
                "quota {name} has no {key} in the table"
            );
        }
    }

    #[test]
    fn numbers_money_and_dates_per_language() {
        assert_eq!(number(Lang::En, 1234567.891, 2), "1,234,567.89");
        assert_eq!(number(Lang::PtBr, 1234567.891, 2), "1.234.567,89");
        assert_eq!(money(Lang::PtBr, 0.0052), "US$ 0,0052");
        assert_eq!(money(Lang::En, 0.0052), "$0.0052");
        assert_eq!(date(Lang::PtBr, "2026-11-29T18:05:31Z"), "29/11/2026 18:05");
        assert_eq!(date(Lang::En, "2026-11-29T18:05:31Z"), "2026-11-29 18:05");
        assert_eq!(Lang::from_code("pt-BR"), Lang::PtBr);
    }
}
