//! Every string of the console, in English and Brazilian Portuguese, through one table; and the
//! formatting of numbers, money and dates per language. A test fails when a key the console uses is
//! missing, a key of the table is used nowhere, or a translation is empty.

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

/// (key, English, Português).
pub const TABLE: &[(&str, &str, &str)] = &[
    ("app.title", "Nuvem console", "Console da Nuvem"),
    (
        "app.tagline",
        "A cloud you can look inside",
        "Uma nuvem que você pode ver por dentro",
    ),
    ("nav.home", "Home", "Início"),
    ("nav.iam", "IAM", "IAM"),
    ("nav.network", "Networking", "Redes"),
    ("nav.instances", "Instances", "Instâncias"),
    ("signin.account", "Account", "Conta"),
    ("signin.user", "User name", "Nome de usuário"),
    ("signin.password", "Password", "Senha"),
    ("signin.submit", "Sign in", "Entrar"),
    (
        "signin.expired",
        "Your session has ended. Please sign in again.",
        "Sua sessão terminou. Entre novamente.",
    ),
    ("signout", "Sign out", "Sair"),
    (
        "quota.title",
        "Your account's quotas",
        "As cotas da sua conta",
    ),
    (
        "quota.intro",
        "Everyone shares this host: each account may hold this much. The operator can raise a limit.",
        "Todos compartilham este host: cada conta pode ter até isto. O operador pode aumentar um limite.",
    ),
    ("quota.name", "Quota", "Cota"),
    ("quota.usage", "Usage", "Uso"),
    ("quota.used", "Used / limit", "Usado / limite"),
    ("quota.q.vpcs", "VPCs", "VPCs"),
    ("quota.q.vpc_addresses", "VPC addresses", "Endereços de VPC"),
    ("quota.q.subnets", "Subnets", "Sub-redes"),
    (
        "quota.q.security_groups",
        "Security groups",
        "Grupos de segurança",
    ),
    (
        "quota.q.network_interfaces",
        "Network interfaces",
        "Interfaces de rede",
    ),
    (
        "quota.q.port_forwards",
        "Port forwards",
        "Redirecionamentos de porta",
    ),
    ("quota.q.instances", "Instances", "Instâncias"),
    ("quota.q.vcpus", "vCPUs", "vCPUs"),
    ("quota.q.memory_mib", "Memory (MiB)", "Memória (MiB)"),
    ("lang.label", "Language", "Idioma"),
    ("acct.switch", "Account", "Conta"),
    ("acct.back", "Back to the operator", "Voltar ao operador"),
    ("common.create", "Create", "Criar"),
    ("common.delete", "Delete", "Excluir"),
    ("common.name", "Name", "Nome"),
    ("common.created", "Created", "Criado em"),
    ("common.actions", "Actions", "Ações"),
    ("common.loading", "Loading…", "Carregando…"),
    ("common.none", "Nothing here yet.", "Nada aqui ainda."),
    (
        "common.confirm_delete",
        "Delete this? This cannot be undone.",
        "Excluir? Isto não pode ser desfeito.",
    ),
    ("common.copy", "Copy", "Copiar"),
    ("common.copied", "Copied", "Copiado"),
    ("common.state", "State", "Estado"),
    ("home.title", "Services", "Serviços"),
    (
        "home.intro",
        "Each service shows one of NIST's essential characteristics of cloud computing.",
        "Cada serviço mostra uma das características essenciais da computação em nuvem segundo o NIST.",
    ),
    (
        "home.characteristic",
        "NIST characteristic",
        "Característica NIST",
    ),
    ("home.model", "Model", "Modelo"),
    (
        "svc.iam",
        "Identity and access (IAM)",
        "Identidade e acesso (IAM)",
    ),
    (
        "svc.iam.nist",
        "Measured service & multi-tenancy: every call is authorised and scoped to your account",
        "Serviço medido e multilocação: toda chamada é autorizada e restrita à sua conta",
    ),
    ("svc.vpc", "Virtual networks (VPC)", "Redes virtuais (VPC)"),
    (
        "svc.vpc.nist",
        "Resource pooling: one host's network shared by isolated tenants",
        "Agrupamento de recursos: a rede de um host compartilhada por inquilinos isolados",
    ),
    (
        "svc.ec2",
        "Virtual machines (instances)",
        "Máquinas virtuais (instâncias)",
    ),
    (
        "svc.ec2.nist",
        "On-demand self-service and rapid elasticity: launch and terminate in seconds",
        "Autosserviço sob demanda e elasticidade rápida: crie e encerre em segundos",
    ),
    ("model.iaas", "IaaS", "IaaS"),
    ("model.platform", "Platform", "Plataforma"),
    ("iam.users", "Users", "Usuários"),
    ("iam.groups", "Groups", "Grupos"),
    ("iam.policies", "Policies", "Políticas"),
    ("iam.user_name", "User name", "Nome do usuário"),
    (
        "iam.password_optional",
        "Password (optional)",
        "Senha (opcional)",
    ),
    ("iam.has_password", "Console password", "Senha do console"),
    ("iam.access_keys", "Access keys", "Chaves de acesso"),
    ("iam.new_key", "New access key", "Nova chave de acesso"),
    (
        "iam.secret_once",
        "The secret is shown only now. Store it.",
        "O segredo é mostrado só agora. Guarde-o.",
    ),
    (
        "iam.policy_document",
        "Policy document (JSON)",
        "Documento da política (JSON)",
    ),
    ("iam.policy_valid", "Valid policy", "Política válida"),
    ("net.vpcs", "VPCs", "VPCs"),
    ("net.subnets", "Subnets", "Sub-redes"),
    ("net.groups", "Security groups", "Grupos de segurança"),
    ("net.rules", "Rules", "Regras"),
    ("net.add_rule", "Add rule", "Adicionar regra"),
    ("net.direction", "Direction", "Direção"),
    ("net.protocol", "Protocol", "Protocolo"),
    ("net.port", "Port", "Porta"),
    (
        "net.port_number",
        "A port is a whole number, 0 to 65535.",
        "Uma porta é um número inteiro, de 0 a 65535.",
    ),
    ("net.source", "Source (CIDR)", "Origem (CIDR)"),
    (
        "net.iptables",
        "Generated iptables rules",
        "Regras iptables geradas",
    ),
    (
        "net.iptables_none",
        "No interface uses this group yet, so no rules are generated for it.",
        "Nenhuma interface usa este grupo ainda; por isso não há regras geradas para ele.",
    ),
    ("net.trace", "Trace a connection", "Rastrear uma conexão"),
    ("net.from", "From", "De"),
    ("net.to", "To", "Para"),
    ("ec2.launch", "Launch instance", "Criar instância"),
    ("ec2.image", "Image", "Imagem"),
    ("ec2.type", "Instance type", "Tipo de instância"),
    ("ec2.key", "Key pair", "Par de chaves"),
    (
        "ec2.user_data",
        "User data (script)",
        "Dados do usuário (script)",
    ),
    ("ec2.private_ip", "Private IP", "IP privado"),
    ("ec2.console", "Console output", "Saída do console"),
    ("ec2.stop", "Stop", "Parar"),
    ("ec2.start", "Start", "Iniciar"),
    ("ec2.terminate", "Terminate", "Encerrar"),
];

/// The text of `key` in `lang`; the key itself when missing (a test keeps that from happening).
pub fn t(lang: Lang, key: &str) -> &'static str {
    match TABLE.iter().find(|(k, _, _)| *k == key) {
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
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
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
    let sign = if value < 0.0 { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}{mark}{frac}")
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
        for (k, en, pt) in TABLE {
            assert!(seen.insert(*k), "key {k} appears twice");
            assert!(
                !en.trim().is_empty() && !pt.trim().is_empty(),
                "key {k} has an empty translation"
            );
        }
    }

    /// The keys the console's source names, `tr("…")` (reactive) and `text("…")` (once), in every
    /// file under `src/` but this one (which defines them). Comments are skipped: they quote the
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
                TABLE.iter().any(|(k, _, _)| k == key),
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
        for (k, _, _) in TABLE {
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
