//! Rendering: `-o table` (default, for people) or `-o json` (for scripts: the API's own types).

use chrono::{DateTime, Utc};
use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
use nuvem_api::ec2::*;
use nuvem_api::iam::*;
use nuvem_api::vpc::*;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

pub struct Out {
    format: Format,
}

fn when(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn maybe(t: &Option<DateTime<Utc>>) -> String {
    t.as_ref().map(when).unwrap_or_else(|| "-".into())
}

impl Out {
    pub fn new(format: Format) -> Self {
        Out { format }
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

    fn table(&self, header: &[&str], rows: Vec<Vec<String>>) {
        let mut t = Table::new();
        t.load_preset(UTF8_BORDERS_ONLY);
        if header.iter().any(|h| !h.is_empty()) {
            t.set_header(header.to_vec());
        }
        for r in rows {
            t.add_row(r);
        }
        println!("{t}");
    }

    pub fn value<T: Serialize>(
        &self,
        value: &T,
        rows: impl FnOnce(&T) -> Vec<Vec<String>>,
        header: &[&str],
    ) -> anyhow::Result<()> {
        match self.format {
            Format::Json => self.json(value),
            Format::Table => {
                self.table(header, rows(value));
                Ok(())
            }
        }
    }

    pub fn identity(&self, id: &Identity) -> anyhow::Result<()> {
        self.value(
            id,
            |id| {
                vec![
                    vec![
                        "account".into(),
                        format!("{} ({})", id.account_name, id.account_id),
                    ],
                    vec!["user".into(), id.user.clone()],
                    vec!["nrn".into(), id.user_nrn.clone()],
                    vec!["root".into(), id.is_root.to_string()],
                    vec!["operator".into(), id.is_operator.to_string()],
                    vec![
                        "signed in with".into(),
                        match (&id.assumed_by, &id.access_key_id) {
                            (Some(who), _) => format!("assumed by {who}"),
                            (None, Some(k)) => format!("access key {k}"),
                            (None, None) => "password".into(),
                        },
                    ],
                ]
            },
            &["", ""],
        )
    }

    pub fn account_created(&self, c: &AccountCreated) -> anyhow::Result<()> {
        self.value(
            c,
            |c| {
                let mut rows = vec![
                    vec!["account".into(), c.account.name.clone()],
                    vec!["id".into(), c.account.id.clone()],
                    vec!["root user".into(), c.root_user.clone()],
                ];
                if let Some(pw) = &c.generated_root_password {
                    rows.push(vec![
                        "root password".into(),
                        format!("{pw}   (shown once: store it now)"),
                    ]);
                }
                rows
            },
            &["", ""],
        )
    }

    pub fn quotas(&self, q: &QuotaList) -> anyhow::Result<()> {
        self.value(
            q,
            |q| {
                q.items
                    .iter()
                    .map(|i| {
                        vec![
                            i.name.clone(),
                            i.used.to_string(),
                            format!("{}{}", i.limit, if i.is_default { "" } else { " (set)" }),
                            i.description.clone(),
                        ]
                    })
                    .collect()
            },
            &["QUOTA", "USED", "LIMIT", "WHAT IT COUNTS"],
        )
    }

    pub fn accounts(&self, items: &[Account]) -> anyhow::Result<()> {
        self.value(
            &items,
            |items| {
                items
                    .iter()
                    .map(|a| {
                        vec![
                            a.name.clone(),
                            a.id.clone(),
                            if a.is_operator { "yes" } else { "" }.into(),
                            when(&a.created_at),
                        ]
                    })
                    .collect()
            },
            &["NAME", "ID", "OPERATOR", "CREATED"],
        )
    }

    pub fn users(&self, items: &[User]) -> anyhow::Result<()> {
        self.value(
            &items,
            |items| {
                items
                    .iter()
                    .map(|u| {
                        vec![
                            u.name.clone(),
                            if u.is_root { "root" } else { "user" }.into(),
                            if u.has_password { "yes" } else { "no" }.into(),
                            when(&u.created_at),
                            maybe(&u.last_login_at),
                            u.nrn.clone(),
                        ]
                    })
                    .collect()
            },
            &["NAME", "KIND", "PASSWORD", "CREATED", "LAST SIGN-IN", "NRN"],
        )
    }

    pub fn groups(&self, items: &[Group]) -> anyhow::Result<()> {
        self.value(
            &items,
            |items| {
                items
                    .iter()
                    .map(|g| vec![g.name.clone(), when(&g.created_at), g.nrn.clone()])
                    .collect()
            },
            &["NAME", "CREATED", "NRN"],
        )
    }

    pub fn group_detail(&self, g: &GroupDetail) -> anyhow::Result<()> {
        self.value(
            g,
            |g| {
                vec![
                    vec!["name".into(), g.group.name.clone()],
                    vec!["nrn".into(), g.group.nrn.clone()],
                    vec!["members".into(), g.members.join(", ")],
                    vec!["policies".into(), g.policies.join(", ")],
                ]
            },
            &["", ""],
        )
    }

    pub fn policies(&self, items: &[Policy]) -> anyhow::Result<()> {
        self.value(
            &items,
            |items| {
                items
                    .iter()
                    .map(|p| {
                        vec![
                            p.name.clone(),
                            p.attachment_count.to_string(),
                            when(&p.updated_at),
                            p.description.clone(),
                        ]
                    })
                    .collect()
            },
            &["NAME", "ATTACHED", "UPDATED", "DESCRIPTION"],
        )
    }

    pub fn policy_detail(&self, p: &Policy) -> anyhow::Result<()> {
        match self.format {
            Format::Json => self.json(p),
            Format::Table => {
                println!("{}  ({})", p.name, p.nrn);
                if !p.description.is_empty() {
                    println!("{}", p.description);
                }
                println!(
                    "attached to {} user(s)/group(s); updated {}",
                    p.attachment_count,
                    when(&p.updated_at)
                );
                println!("{}", serde_json::to_string_pretty(&p.document)?);
                Ok(())
            }
        }
    }

    pub fn names(&self, header: &str, names: &[String]) -> anyhow::Result<()> {
        self.value(
            &names,
            |n| n.iter().map(|s| vec![s.clone()]).collect(),
            &[header],
        )
    }

    pub fn access_key_created(&self, k: &AccessKeyCreated) -> anyhow::Result<()> {
        self.value(
            k,
            |k| {
                vec![
                    vec!["user".into(), k.user.clone()],
                    vec!["access key id".into(), k.access_key_id.clone()],
                    vec!["secret access key".into(), k.secret_access_key.clone()],
                    vec![
                        "".into(),
                        "the secret is shown only now: store it (cloudctl configure)".into(),
                    ],
                ]
            },
            &["", ""],
        )
    }

    pub fn access_keys(&self, items: &[AccessKey]) -> anyhow::Result<()> {
        self.value(
            &items,
            |items| {
                items
                    .iter()
                    .map(|k| {
                        vec![
                            k.access_key_id.clone(),
                            k.user.clone(),
                            k.status.as_str().into(),
                            when(&k.created_at),
                            maybe(&k.last_used_at),
                        ]
                    })
                    .collect()
            },
            &["ACCESS KEY ID", "USER", "STATUS", "CREATED", "LAST USED"],
        )
    }

    pub fn vpcs(&self, items: &[Vpc]) -> anyhow::Result<()> {
        self.value(
            &items,
            |items| {
                items
                    .iter()
                    .map(|v| {
                        vec![
                            v.id.clone(),
                            v.name.clone(),
                            v.cidr.clone(),
                            if v.is_default { "yes" } else { "" }.into(),
                            if v.internet_gateway { "on" } else { "off" }.into(),
                        ]
                    })
                    .collect()
            },
            &["ID", "NAME", "CIDR", "DEFAULT", "INTERNET GATEWAY"],
        )
    }

    pub fn subnets(&self, items: &[Subnet]) -> anyhow::Result<()> {
        self.value(
            &items,
            |items| {
                items
                    .iter()
                    .map(|s| {
                        vec![
                            s.id.clone(),
                            s.vpc_id.clone(),
                            s.cidr.clone(),
                            s.gateway.clone(),
                            s.bridge.clone(),
                            s.available_addresses.to_string(),
                        ]
                    })
                    .collect()
            },
            &["ID", "VPC", "CIDR", "GATEWAY", "BRIDGE", "FREE"],
        )
    }

    pub fn security_groups(&self, items: &[SecurityGroup]) -> anyhow::Result<()> {
        self.value(
            &items,
            |items| {
                items
                    .iter()
                    .map(|g| {
                        vec![
                            g.id.clone(),
                            g.vpc_id.clone(),
                            g.name.clone(),
                            g.rules.len().to_string(),
                            g.description.clone(),
                        ]
                    })
                    .collect()
            },
            &["ID", "VPC", "NAME", "RULES", "DESCRIPTION"],
        )
    }

    pub fn sg_rules(&self, g: &SecurityGroup) -> anyhow::Result<()> {
        self.value(
            g,
            |g| {
                g.rules
                    .iter()
                    .map(|r| {
                        let ports = match (r.from_port, r.to_port) {
                            (Some(a), Some(b)) if a == b => a.to_string(),
                            (Some(a), Some(b)) => format!("{a}-{b}"),
                            _ => "all".into(),
                        };
                        let peer = r
                            .cidr
                            .clone()
                            .or_else(|| r.source_group_id.as_ref().map(|s| format!("group {s}")))
                            .unwrap_or_default();
                        vec![
                            r.id.clone(),
                            format!("{:?}", r.direction).to_lowercase(),
                            r.protocol.as_str().into(),
                            ports,
                            peer,
                            r.description.clone(),
                        ]
                    })
                    .collect()
            },
            &[
                "RULE",
                "DIRECTION",
                "PROTOCOL",
                "PORTS",
                "PEER",
                "DESCRIPTION",
            ],
        )
    }

    pub fn generated(&self, g: &GeneratedRules) -> anyhow::Result<()> {
        match self.format {
            Format::Json => self.json(g),
            Format::Table => {
                println!(
                    "# iptables rules enforcing {} (filter table)",
                    g.security_group_id
                );
                for r in &g.rules {
                    println!("{r}");
                }
                Ok(())
            }
        }
    }

    pub fn interfaces(&self, items: &[NetworkInterface]) -> anyhow::Result<()> {
        self.value(
            &items,
            |items| {
                items
                    .iter()
                    .map(|e| {
                        vec![
                            e.id.clone(),
                            e.subnet_id.clone(),
                            e.private_ip.clone(),
                            e.mac.clone(),
                            e.device.clone(),
                            e.security_group_ids.join(","),
                            e.attached_to.clone(),
                        ]
                    })
                    .collect()
            },
            &[
                "ID",
                "SUBNET",
                "PRIVATE IP",
                "MAC",
                "DEVICE",
                "GROUPS",
                "ATTACHED TO",
            ],
        )
    }

    pub fn port_forwards(&self, items: &[PortForward]) -> anyhow::Result<()> {
        self.value(
            &items,
            |items| {
                items
                    .iter()
                    .map(|f| {
                        vec![
                            f.id.clone(),
                            format!("{}:{}/{}", f.host_address, f.host_port, f.protocol.as_str()),
                            format!("{}:{}", f.private_ip, f.private_port),
                            f.interface_id.clone(),
                        ]
                    })
                    .collect()
            },
            &["ID", "PUBLISHED ON", "TO", "INTERFACE"],
        )
    }

    pub fn trace(&self, t: &TraceResult) -> anyhow::Result<()> {
        match self.format {
            Format::Json => self.json(t),
            Format::Table => {
                println!(
                    "{}: {}",
                    format!("{:?}", t.verdict).to_uppercase(),
                    t.reason
                );
                for s in &t.steps {
                    println!(
                        "  {:<26} {:<5} {}",
                        s.stage,
                        format!("{:?}", s.verdict).to_uppercase(),
                        s.reason
                    );
                }
                Ok(())
            }
        }
    }

    pub fn reconcile(&self, r: &ReconcileReport) -> anyhow::Result<()> {
        self.value(
            r,
            |r| {
                vec![
                    vec!["bridges created".into(), r.bridges_created.join(", ")],
                    vec!["bridges removed".into(), r.bridges_removed.join(", ")],
                    vec!["DHCP started".into(), r.dhcp_started.join(", ")],
                    vec!["DHCP stopped".into(), r.dhcp_stopped.join(", ")],
                    vec!["firewall rules".into(), r.firewall_rules.to_string()],
                    vec!["took".into(), format!("{} ms", r.duration_ms)],
                ]
            },
            &["", ""],
        )
    }

    pub fn instances(&self, items: &[Instance]) -> anyhow::Result<()> {
        self.value(
            &items,
            |items| {
                items
                    .iter()
                    .map(|i| {
                        vec![
                            i.id.clone(),
                            i.name.clone(),
                            i.state.as_str().into(),
                            i.instance_type.clone(),
                            i.private_ip.clone().unwrap_or_default(),
                            i.accelerator.clone(),
                            i.state_reason.clone(),
                        ]
                    })
                    .collect()
            },
            &[
                "ID",
                "NAME",
                "STATE",
                "TYPE",
                "PRIVATE IP",
                "ACCEL",
                "REASON",
            ],
        )
    }

    pub fn instance_detail(&self, i: &Instance) -> anyhow::Result<()> {
        self.value(
            i,
            |i| {
                let pins = if i.pinned_cpus.is_empty() {
                    "shared".into()
                } else {
                    i.pinned_cpus
                        .iter()
                        .enumerate()
                        .map(|(v, c)| format!("vCPU {v} → core {c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                vec![
                    vec!["id".into(), i.id.clone()],
                    vec!["name".into(), i.name.clone()],
                    vec![
                        "state".into(),
                        format!("{} {}", i.state.as_str(), i.state_reason),
                    ],
                    vec![
                        "type".into(),
                        format!(
                            "{} ({} vCPU, {} MiB)",
                            i.instance_type, i.vcpus, i.memory_mib
                        ),
                    ],
                    vec!["image".into(), i.image_id.clone()],
                    vec!["key pair".into(), i.key_name.clone().unwrap_or_default()],
                    vec![
                        "network".into(),
                        format!(
                            "{} in {} / {}",
                            i.private_ip.clone().unwrap_or_default(),
                            i.subnet_id,
                            i.vpc_id
                        ),
                    ],
                    vec!["security groups".into(), i.security_group_ids.join(", ")],
                    vec!["host".into(), i.host.clone()],
                    vec!["accelerator".into(), i.accelerator.clone()],
                    vec!["cpus".into(), pins],
                    vec!["launched".into(), maybe(&i.launched_at)],
                ]
            },
            &["", ""],
        )
    }

    pub fn console(&self, c: &ConsoleOutput) -> anyhow::Result<()> {
        match self.format {
            Format::Json => self.json(c),
            Format::Table => {
                print!("{}", c.output);
                Ok(())
            }
        }
    }

    pub fn images(&self, items: &[Image]) -> anyhow::Result<()> {
        self.value(
            &items,
            |items| {
                items
                    .iter()
                    .map(|i| {
                        vec![
                            i.id.clone(),
                            i.name.clone(),
                            format!("{:?}", i.format).to_lowercase(),
                            if i.public {
                                "public".into()
                            } else {
                                i.owner_account_id.clone().unwrap_or_default()
                            },
                            i.description.clone(),
                        ]
                    })
                    .collect()
            },
            &["ID", "NAME", "FORMAT", "VISIBILITY", "DESCRIPTION"],
        )
    }

    pub fn key_pairs(&self, items: &[KeyPair]) -> anyhow::Result<()> {
        self.value(
            &items,
            |items| {
                items
                    .iter()
                    .map(|k| {
                        vec![
                            k.name.clone(),
                            k.key_type.clone(),
                            k.fingerprint.clone(),
                            when(&k.created_at),
                        ]
                    })
                    .collect()
            },
            &["NAME", "TYPE", "FINGERPRINT", "CREATED"],
        )
    }

    pub fn instance_types(&self, items: &[InstanceType]) -> anyhow::Result<()> {
        self.value(
            &items,
            |items| {
                items
                    .iter()
                    .map(|t| {
                        vec![
                            t.name.clone(),
                            t.vcpus.to_string(),
                            t.memory_mib.to_string(),
                            t.disk_gib.to_string(),
                            format!("{:.4}", t.price_per_hour),
                        ]
                    })
                    .collect()
            },
            &["TYPE", "VCPUS", "MEMORY MIB", "DISK GIB", "PRICE/HOUR"],
        )
    }

    pub fn hosts(&self, items: &[Host]) -> anyhow::Result<()> {
        self.value(
            &items,
            |items| {
                items
                    .iter()
                    .map(|h| {
                        vec![
                            h.name.clone(),
                            h.uri.clone(),
                            format!(
                                "{}/{} (cores {} × ratio {})",
                                h.vcpus_used, h.vcpus_capacity, h.cores, h.cpu_ratio
                            ),
                            format!("{}/{} MiB", h.memory_used_mib, h.memory_mib),
                            format!("{:?}", h.pinned_cores),
                            h.accelerator.clone(),
                        ]
                    })
                    .collect()
            },
            &[
                "HOST",
                "URI",
                "VCPUS USED",
                "MEMORY",
                "DEDICATED CORES",
                "ACCEL",
            ],
        )
    }
}
