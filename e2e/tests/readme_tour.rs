//! The README's tour, run exactly as written against a fresh server, so that it cannot drift from
//! the product.
//!
//! **What is run.** The section of `README.md` headed `## A five-minute tour with cloudctl`, up
//! to the next `## ` heading: each of its fenced code blocks marked `bash` or `sh`, in order.
//! A block is cut into commands: blank lines and lines starting with `#` are skipped; a line
//! ending in `\` goes on on the next one; a here-document (`<<'WORD'`, `<<WORD`, not the
//! here-string `<<<`) takes the lines up to `WORD` with it. Each command runs on its own in
//! `bash -o pipefail -c`, in a fresh home directory (also its working directory), with the
//! built `cloudctl` first on `PATH` and no `NUVEM_*` variable but those the tour exports: a
//! command `export NAME=VALUE` is not run, it sets `NAME` for the commands after it.
//!
//! **The installation's two facts.** The test's server listens on a free port and keeps its data
//! in a temporary directory, so `http://127.0.0.1:8080` (up.sh's address) and `/var/lib/nuvem`
//! (its data directory) are replaced by the server's.
//!
//! **Comments say what a command does.** The comment after a command (from the first ` #`
//! outside quotes) may say:
//! - `→ <name>, <other-name>`: the command prints the values of these placeholders, which later
//!   commands use as `<name>`. A placeholder is `<` + lowercase words joined by `-` + `>`; its
//!   value is taken from the command's standard output by the first rule that applies:
//!   1. a line holding its words as a label (`<root-password>` → the line `root password  …`):
//!      the word after the label;
//!   2. a name ending in `-ip`: the first IPv4 address that is not a CIDR block;
//!   3. a name ending in `-id`: the first word starting with the prefix of that kind of id
//!      (`<vpc-id>` → `vpc-…`, `<sg-id>` → `sg-…`, `<instance-id>` → `i-…`, `<image-id>` →
//!      `ami-…`).
//! - `refused (CODE)`: the command must fail, with `CODE` (e.g. `AccessDenied`) on standard error.
//!
//! Otherwise a command must succeed. The test fails if a command does otherwise, if a command
//! uses a placeholder no earlier command defined, if a defined placeholder cannot be found in
//! its command's output (or is never used), or if a placeholder is defined twice.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nuvem_e2e::*;

const POOL: &str = "10.125.0.0/16";
const SECTION: &str = "## A five-minute tour with cloudctl";
const TOUR_ENDPOINT: &str = "http://127.0.0.1:8080";
const TOUR_DATA_DIR: &str = "/var/lib/nuvem";

/// One command of the tour, as written.
#[derive(Debug, Clone, PartialEq)]
struct Step {
    /// The command, with its here-document if it has one; without its comment.
    command: String,
    /// The README line it starts on, for messages.
    line: usize,
    /// Placeholders its output defines (`→ <name>`).
    defines: Vec<String>,
    /// `refused (CODE)`: the error code it must fail with.
    refused: Option<String>,
}

fn readme() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The tour's fenced `bash`/`sh` blocks: (README line of the first line, lines).
fn tour_blocks(readme: &str) -> Vec<(usize, Vec<&str>)> {
    let lines: Vec<&str> = readme.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim_end() == SECTION)
        .unwrap_or_else(|| panic!("README.md has no section `{SECTION}`"));
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.starts_with("## "))
        .map_or(lines.len(), |n| start + 1 + n);
    let mut blocks = Vec::new();
    let mut i = start + 1;
    while i < end {
        let fence = lines[i].trim_start();
        if let Some(info) = fence.strip_prefix("```") {
            let info = info.trim();
            let close = lines[i + 1..end]
                .iter()
                .position(|l| l.trim_start().starts_with("```"))
                .map(|n| i + 1 + n)
                .unwrap_or_else(|| panic!("README.md:{}: unclosed code block", i + 1));
            if matches!(info, "bash" | "sh") {
                blocks.push((i + 2, lines[i + 1..close].to_vec()));
            }
            i = close + 1;
        } else {
            i += 1;
        }
    }
    blocks
}

/// Where the comment of a shell line starts: the first ` #` (or a leading `#`) outside quotes.
fn comment_start(line: &str) -> Option<usize> {
    let (mut single, mut double) = (false, false);
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && prev.is_whitespace() => return Some(i),
            _ => {}
        }
        prev = c;
    }
    None
}

/// The word ending a here-document started on `line` (`<<'JSON'` → `JSON`), if one is.
fn heredoc_word(line: &str) -> Option<String> {
    let mut rest = line;
    while let Some(at) = rest.find("<<") {
        let after = &rest[at + 2..];
        if let Some(after_here_string) = after.strip_prefix('<') {
            // A here-string, `<<<`.
            rest = after_here_string;
            continue;
        }
        let word: String = after
            .trim_start_matches('-')
            .trim_start()
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, ';' | '|' | '&' | '>'))
            .filter(|c| !matches!(c, '\'' | '"'))
            .collect();
        return (!word.is_empty()).then_some(word);
    }
    None
}

/// The placeholders in `text`: `<` + lowercase words joined by `-` + `>`.
fn placeholders(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
            .collect();
        if name.starts_with(|c: char| c.is_ascii_lowercase())
            && !name.ends_with('-')
            && rest[name.len()..].starts_with('>')
        {
            found.push(name);
        }
    }
    found
}

/// The tour's commands, in order.
fn steps(readme: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    for (first_line, lines) in tour_blocks(readme) {
        let mut i = 0;
        while i < lines.len() {
            let line_no = first_line + i;
            let line = lines[i];
            i += 1;
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            // The command's first line, continued by trailing backslashes.
            let mut head = line.to_owned();
            while head.trim_end().ends_with('\\') && i < lines.len() {
                head = format!("{}\n{}", head.trim_end(), lines[i]);
                i += 1;
            }
            let (mut command, comment) = match comment_start(&head) {
                Some(at) => (head[..at].trim_end().to_owned(), head[at + 1..].trim()),
                None => (head.trim_end().to_owned(), ""),
            };
            if let Some(word) = heredoc_word(&command) {
                let close = lines[i..]
                    .iter()
                    .position(|l| l.trim() == word)
                    .unwrap_or_else(|| {
                        panic!("README.md:{line_no}: here-document without its `{word}` line")
                    });
                for body in &lines[i..=i + close] {
                    command.push('\n');
                    command.push_str(body);
                }
                i += close + 1;
            }
            let defines = comment
                .split_once('→')
                .map(|(_, names)| placeholders(names))
                .unwrap_or_default();
            let refused = comment
                .strip_prefix("refused (")
                .and_then(|r| r.split_once(')'))
                .map(|(code, _)| code.to_owned());
            steps.push(Step {
                command,
                line: line_no,
                defines,
                refused,
            });
        }
    }
    steps
}

/// The value of placeholder `name` in a command's standard output, by the rules of this file's
/// documentation.
fn extract(name: &str, stdout: &str) -> Option<String> {
    let words = |line: &str| -> Vec<String> {
        line.split(|c: char| c.is_whitespace() || matches!(c, '│' | '┆' | ',' | '"'))
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    };
    // 1. A label: the placeholder's words, then the value.
    let label: Vec<&str> = name.split('-').collect();
    for line in stdout.lines() {
        let w = words(line);
        if let Some(at) = w
            .windows(label.len())
            .position(|win| win.iter().zip(&label).all(|(a, b)| a == b))
            && let Some(value) = w.get(at + label.len())
        {
            return Some(value.clone());
        }
    }
    // 2. An address.
    if name.ends_with("-ip") {
        return stdout.lines().flat_map(words).find(|w| {
            let parts: Vec<&str> = w.split('.').collect();
            parts.len() == 4 && parts.iter().all(|p| p.parse::<u8>().is_ok())
        });
    }
    // 3. An id.
    let kind = name.strip_suffix("-id")?;
    let prefix = match kind {
        "instance" => "i-".to_owned(),
        "image" => "ami-".to_owned(),
        other => format!("{other}-"),
    };
    stdout
        .lines()
        .flat_map(words)
        .find(|w| w.len() > prefix.len() && w.starts_with(&prefix))
}

/// Checks the tour without running it: every placeholder is defined once, before its first use,
/// and used; every command ends up with a concrete text.
fn check_placeholders(steps: &[Step]) -> Result<(), String> {
    let mut defined: BTreeMap<&str, usize> = BTreeMap::new();
    let mut used = std::collections::BTreeSet::new();
    for s in steps {
        for p in placeholders(&s.command) {
            if !defined.contains_key(p.as_str()) {
                return Err(format!(
                    "README.md:{}: <{p}> is used before a command defines it (`# → <{p}>`)",
                    s.line
                ));
            }
            used.insert(p);
        }
        for d in &s.defines {
            if let Some(first) = defined.insert(d, s.line) {
                return Err(format!(
                    "README.md:{}: <{d}> is defined again (first on line {first})",
                    s.line
                ));
            }
        }
    }
    match defined.keys().find(|d| !used.contains(**d)) {
        Some(d) => Err(format!("<{d}> is defined but no command uses it")),
        None => Ok(()),
    }
}

#[test]
fn the_tour_is_well_formed() {
    let steps = steps(&readme());
    assert!(
        steps.len() > 20,
        "the tour has only {} commands",
        steps.len()
    );
    check_placeholders(&steps).unwrap();
    let text: String = steps.iter().map(|s| s.command.as_str()).collect();
    for fact in [TOUR_ENDPOINT, TOUR_DATA_DIR] {
        assert!(text.contains(fact), "the tour no longer names {fact}");
    }
    // The here-document is one command with its body.
    let heredoc = steps
        .iter()
        .find(|s| s.command.starts_with("cat > readers.json"))
        .expect("the policy file is written");
    assert!(heredoc.command.ends_with("\nJSON"), "{}", heredoc.command);
}

#[test]
fn the_rules_cut_commands_and_find_values() {
    let md = "## A five-minute tour with cloudctl\n\ntext\n\n```bash\n# a comment\ncloudctl vpc list   # → <vpc-id>\ncloudctl sg create --vpc <vpc-id> \\\n  --name 'a # b'  # → <sg-id>\ncat > f <<'END'\n# not a comment\nEND\ncloudctl host list  # refused (AccessDenied): operator\n```\n\n```text\nnot run\n```\n\n## Next\n```bash\nnot in the tour\n```\n";
    let steps = steps(md);
    let commands: Vec<&str> = steps.iter().map(|s| s.command.as_str()).collect();
    assert_eq!(
        commands,
        [
            "cloudctl vpc list",
            "cloudctl sg create --vpc <vpc-id> \\\n  --name 'a # b'",
            "cat > f <<'END'\n# not a comment\nEND",
            "cloudctl host list",
        ]
    );
    assert_eq!(steps[0].defines, ["vpc-id"]);
    assert_eq!(steps[1].defines, ["sg-id"]);
    assert_eq!(steps[3].refused.as_deref(), Some("AccessDenied"));
    assert_eq!(steps[0].line, 7);
    check_placeholders(&steps).unwrap_err();

    let created = "┌───┐\n│ account         turma-a                                    │\n│ root password   abcDEF234   (shown once: store it now) │\n└───┘";
    assert_eq!(
        extract("root-password", created).as_deref(),
        Some("abcDEF234")
    );
    let table = "│ ID           SUBNET       CIDR          PRIVATE IP   │\n╞═══╡\n│ eni-0a1b     subnet-9f    10.64.0.0/24  10.64.0.5    │";
    assert_eq!(extract("eni-id", table).as_deref(), Some("eni-0a1b"));
    assert_eq!(extract("eni-ip", table).as_deref(), Some("10.64.0.5"));
    assert_eq!(extract("instance-id", table), None);
    assert_eq!(
        extract("instance-id", "│ i-123abc  web  running │").as_deref(),
        Some("i-123abc")
    );
}

/// What one command did.
struct Outcome {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run_step(command: &str, home: &Path, env: &BTreeMap<String, String>) -> Outcome {
    let bin_dir = bin("cloudctl").parent().expect("a directory").to_owned();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin_dir];
    dirs.extend(std::env::split_paths(&path));
    let mut cmd = Command::new("timeout");
    cmd.args(["900", "bash", "-o", "pipefail", "-c", command])
        .current_dir(home)
        .env("HOME", home)
        .env("PATH", std::env::join_paths(dirs).expect("a PATH"))
        .stdin(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("NUVEM_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env);
    let out = cmd.output().expect("run bash");
    Outcome {
        status: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
#[ignore = "needs root, libvirt/QEMU and the nuvem-tiny image: run infra/test.sh"]
fn the_readme_tour_runs_as_written() {
    if !is_root() {
        assert!(!in_ci(), "CI must run the README tour as root");
        eprintln!("SKIPPED the_readme_tour_runs_as_written: needs root");
        return;
    }
    let Some(images) = nuvem_tiny_images("the README tour") else {
        return;
    };
    let steps = steps(&readme());
    check_placeholders(&steps).unwrap();

    // A fresh server as up.sh starts it: the operator's password generated, the default log.
    let data = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let images = images.display().to_string();
    let server = launch_server(
        data.path(),
        POOL,
        &["--hypervisor", "libvirt", "--images-dir", &images],
        None,
        "info",
    );
    let cell = std::fs::read_to_string(data.path().join("net/cell"))
        .unwrap()
        .trim()
        .to_owned();
    let _guard = HostGuard {
        cell,
        servers: vec![server.child],
        data: Some(data.path().to_owned()),
    };
    let data_dir: PathBuf = data.path().to_owned();
    let password = std::fs::read_to_string(data_dir.join("initial-admin-password"))
        .expect("the first start saves the operator's password")
        .trim()
        .to_owned();

    let mut env: BTreeMap<String, String> = BTreeMap::new();
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    let mut host_list_refusal = None;
    for step in &steps {
        let mut command = step
            .command
            .replace(TOUR_ENDPOINT, &server.url)
            .replace(TOUR_DATA_DIR, &data_dir.display().to_string());
        for name in placeholders(&step.command) {
            let value = values.get(&name).unwrap_or_else(|| {
                panic!(
                    "README.md:{}: <{name}> has no value (no earlier command defined it)",
                    step.line
                )
            });
            command = command.replace(&format!("<{name}>"), value);
        }
        if let Some(assignment) = command.strip_prefix("export ") {
            let (k, v) = assignment.split_once('=').unwrap_or_else(|| {
                panic!("README.md:{}: `{command}` is not NAME=VALUE", step.line)
            });
            env.insert(k.trim().to_owned(), v.trim().trim_matches('\'').to_owned());
            continue;
        }
        eprintln!("README.md:{}: {command}", step.line);
        let out = run_step(&command, home.path(), &env);
        let shown = format!(
            "README.md:{}: `{command}` exited with {:?}\n--- stdout\n{}\n--- stderr\n{}",
            step.line, out.status, out.stdout, out.stderr
        );
        match &step.refused {
            None => assert_eq!(out.status, Some(0), "{shown}"),
            Some(code) => {
                assert!(
                    out.status.is_some_and(|s| s != 0),
                    "should be refused: {shown}"
                );
                assert!(out.stderr.contains(code.as_str()), "no {code}: {shown}");
                if command == "cloudctl host list" {
                    host_list_refusal = Some(out.stderr.clone());
                }
            }
        }
        for name in &step.defines {
            let value = extract(name, &out.stdout)
                .unwrap_or_else(|| panic!("<{name}> is not in the output: {shown}"));
            values.insert(name.clone(), value);
        }
    }

    // The refused operator command named the profile to use.
    let refusal = host_list_refusal.expect("the tour runs `cloudctl host list` as the class");
    assert!(refusal.contains("--profile admin"), "{refusal}");

    // The server's output, a log as up.sh keeps it: no password, no colours, and no line for
    // each read the tour's commands polled with (launch --wait asks every half second).
    let log = server.output.lock().unwrap().join("\n");
    assert!(!log.contains(&password), "the password is in the log");
    assert!(!log.contains('\u{1b}'), "colour codes in the log");
    let reads = log
        .lines()
        .filter(|l| l.contains("http.method=GET") && l.contains("http.status_code=200"))
        .count();
    assert_eq!(reads, 0, "successful GETs are logged at info:\n{log}");
    assert!(
        log.contains("http.method=POST"),
        "the changes are logged:\n{log}"
    );
}
