//! Rendering: `-o table` (default, for people) or `-o json` (for scripts: the API's own types).
//!
//! Each service's file says how its resources look, by implementing [`Tabular`] (a row of a
//! table) and [`Detail`] (label/value lines) beside its commands; this file only lays them out.

use chrono::{DateTime, Utc};
use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// A resource shown as one row of a table: `list`, and the answer of most other commands.
pub trait Tabular {
    /// The column headers, in order.
    const COLUMNS: &'static [&'static str];

    /// This resource's cells, one per column of [`Tabular::COLUMNS`].
    fn row(&self) -> Vec<String>;
}

/// A resource shown on its own as label/value lines: `get`, `describe`, `whoami`.
pub trait Detail {
    /// The labels and their values, in order.
    fn fields(&self) -> Vec<(&'static str, String)>;
}

/// A time as the tables show it: UTC, to the second.
pub fn timestamp(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// [`timestamp`], or `-` for a time that has not happened (never signed in, never used).
pub fn timestamp_or_dash(t: &Option<DateTime<Utc>>) -> String {
    t.as_ref().map(timestamp).unwrap_or_else(|| "-".into())
}

/// A bordered table; a header of only empty names is left out (label/value tables have none).
pub fn table_text(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY);
    if header.iter().any(|h| !h.is_empty()) {
        table.set_header(header.to_vec());
    }
    for row in rows {
        table.add_row(row);
    }
    table.to_string()
}

/// Resources as a table, one row each.
pub fn list_text<T: Tabular>(items: &[T]) -> String {
    table_text(T::COLUMNS, items.iter().map(Tabular::row).collect())
}

/// One resource as a two-column label/value table without a header.
pub fn detail_text<T: Detail>(item: &T) -> String {
    let rows = item
        .fields()
        .into_iter()
        .map(|(label, value)| vec![label.to_owned(), value])
        .collect();
    table_text(&["", ""], rows)
}

/// Where a command's answer goes: stdout, as tables or as JSON.
pub struct Out {
    format: Format,
}

impl Out {
    pub fn new(format: Format) -> Self {
        Out { format }
    }

    pub fn is_json(&self) -> bool {
        self.format == Format::Json
    }

    /// A status line: on stdout for tables, on stderr in JSON mode so stdout stays parseable.
    pub fn message(&self, text: &str) {
        match self.format {
            Format::Table => println!("{text}"),
            Format::Json => eprintln!("{text}"),
        }
    }

    fn json<T: Serialize + ?Sized>(&self, value: &T) -> anyhow::Result<()> {
        println!("{}", serde_json::to_string_pretty(value)?);
        Ok(())
    }

    /// `table` in table mode, `value` in JSON mode.
    fn table_or_json<T: Serialize + ?Sized>(
        &self,
        value: &T,
        table: impl FnOnce() -> String,
    ) -> anyhow::Result<()> {
        match self.format {
            Format::Json => self.json(value),
            Format::Table => {
                println!("{}", table());
                Ok(())
            }
        }
    }

    /// Resources as a table; in JSON mode, as an array (also for a single one).
    pub fn list<T: Tabular + Serialize>(&self, items: &[T]) -> anyhow::Result<()> {
        self.table_or_json(items, || list_text(items))
    }

    /// A table of `rows`, which are part of `whole` (a security group's rules, an account's
    /// quotas); in JSON mode, `whole`, so that scripts get the rest of it too.
    pub fn rows_of<W: Serialize, T: Tabular>(&self, whole: &W, rows: &[T]) -> anyhow::Result<()> {
        self.table_or_json(whole, || list_text(rows))
    }

    /// One resource as label/value lines; in JSON mode, as an object.
    pub fn detail<T: Detail + Serialize>(&self, item: &T) -> anyhow::Result<()> {
        self.table_or_json(item, || detail_text(item))
    }

    /// Names under one column header; in JSON mode, an array of strings.
    pub fn names(&self, header: &str, names: &[String]) -> anyhow::Result<()> {
        self.table_or_json(names, || {
            table_text(&[header], names.iter().map(|n| vec![n.clone()]).collect())
        })
    }

    /// Free-form text that `render` writes in full, final newline included (a trace, a console,
    /// a policy document); in JSON mode, `value`.
    pub fn text<T: Serialize>(
        &self,
        value: &T,
        render: impl FnOnce(&T) -> anyhow::Result<String>,
    ) -> anyhow::Result<()> {
        match self.format {
            Format::Json => self.json(value),
            Format::Table => {
                print!("{}", render(value)?);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Planet {
        name: &'static str,
        moons: u32,
    }

    impl Tabular for Planet {
        const COLUMNS: &'static [&'static str] = &["NAME", "MOONS"];

        fn row(&self) -> Vec<String> {
            vec![self.name.into(), self.moons.to_string()]
        }
    }

    impl Detail for Planet {
        fn fields(&self) -> Vec<(&'static str, String)> {
            vec![
                ("name", self.name.into()),
                ("moons", self.moons.to_string()),
            ]
        }
    }

    #[test]
    fn a_list_has_a_header_and_one_row_per_item_in_order() {
        let planets = [
            Planet {
                name: "Mars",
                moons: 2,
            },
            Planet {
                name: "Earth",
                moons: 1,
            },
        ];
        assert_eq!(
            list_text(&planets),
            "\
┌───────────────┐
│ NAME    MOONS │
╞═══════════════╡
│ Mars    2     │
│ Earth   1     │
└───────────────┘"
        );
    }

    #[test]
    fn a_detail_has_labels_and_no_header() {
        let mars = Planet {
            name: "Mars",
            moons: 2,
        };
        assert_eq!(
            detail_text(&mars),
            "\
┌──────────────┐
│ name    Mars │
│ moons   2    │
└──────────────┘"
        );
    }

    #[test]
    fn a_time_not_yet_happened_is_a_dash() {
        let t = DateTime::parse_from_rfc3339("2026-03-04T05:06:07Z")
            .expect("a valid time")
            .with_timezone(&Utc);
        assert_eq!(timestamp_or_dash(&Some(t)), "2026-03-04 05:06:07");
        assert_eq!(timestamp_or_dash(&None), "-");
    }
}
