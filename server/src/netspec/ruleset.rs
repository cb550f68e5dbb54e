//! A rendered firewall: for each iptables table, the chains Nuvem owns and the rules that fill
//! them, as the text `iptables-restore` reads. Kept apart from the renderer because the drivers
//! apply it (and the simulated twin records it) without knowing how it was made.

/// Rules for one table: the chains it owns and the `-A` lines that fill them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub chains: Vec<String>,
    pub rules: Vec<String>,
}

impl Table {
    /// `iptables-restore --noflush` input: declaring a chain flushes it, so the whole of Nuvem's
    /// state is replaced in one atomic commit while other chains stay untouched.
    pub fn restore_text(&self, table: &str) -> String {
        let mut out = format!("*{table}\n");
        for c in &self.chains {
            out.push_str(&format!(":{c} - [0:0]\n"));
        }
        for r in &self.rules {
            out.push_str(r);
            out.push('\n');
        }
        out.push_str("COMMIT\n");
        out
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ruleset {
    pub filter: Table,
    pub nat: Table,
}

impl Ruleset {
    pub fn rule_count(&self) -> usize {
        self.filter.rules.len() + self.nat.rules.len()
    }
}
