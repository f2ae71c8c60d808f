//! The README's walk-through runs, and runs again on the same database: its shell blocks
//! (those under "A walk through the API with curl" only) are run in order by one bash with
//! `set -euo pipefail` against an instance with the demo data, twice in a row. Any non-zero
//! exit (a `curl -fsS` that met an HTTP error included) fails with the block and its output.
use crate::helpers::*;

const HEADING: &str = "## A walk through the API with curl";

/// The ```sh / ```bash blocks between the walk-through's heading and the next `## ` heading.
fn walk_through_blocks() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README.md");
    let start = readme.find(HEADING).expect("the walk-through heading") + HEADING.len();
    let rest = &readme[start..];
    let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in section.lines() {
        match &mut current {
            None if matches!(line.trim(), "```sh" | "```bash") => current = Some(String::new()),
            Some(_) if line.trim() == "```" => blocks.extend(current.take()),
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    blocks
}

/// Runs the blocks in one bash; `Err` names the block that failed, with the output.
fn run(blocks: &[String], dir: &std::path::Path, base: &str) -> Result<(), String> {
    let mut script = String::from("set -euo pipefail\n");
    for (i, b) in blocks.iter().enumerate() {
        script.push_str(&format!("echo '::block {i}::'\n{b}\n"));
    }
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir)
        .env("BASE", base)
        .output()
        .map_err(|e| format!("could not run bash: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let failed = stdout
        .rsplit("::block ")
        .next()
        .and_then(|s| s.split("::").next())
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0);
    let tail: String = {
        let s = stdout
            .rsplit_once(&format!("::block {failed}::"))
            .map(|(_, t)| t)
            .unwrap_or(&stdout);
        s.chars()
            .rev()
            .take(4000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect()
    };
    Err(format!(
        "block {failed} exited with {}:\n```sh\n{}```\nstdout (end):\n{tail}\nstderr:\n{}",
        out.status,
        blocks.get(failed).map(String::as_str).unwrap_or(""),
        String::from_utf8_lossy(&out.stderr)
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_walk_through_runs_twice_on_the_same_database() {
    let blocks = walk_through_blocks();
    assert!(blocks.len() >= 5, "the walk-through has {} shell blocks", blocks.len());
    assert!(
        blocks.iter().any(|b| b.contains("/pledges")),
        "the walk-through pledges"
    );
    // Its working folder holds `data/mail/`, where the README says the emails are.
    let work = tempfile::tempdir().expect("temp dir");
    let mail = work.path().join("data").join("mail");
    std::fs::create_dir_all(&mail).expect("mail dir");
    let app = spawn_app_with(|s| {
        s.demo = Some(true);
        s.mail_dir = Some(mail.to_string_lossy().into_owned());
    })
    .await;
    let dir = work.path().to_path_buf();
    for round in 1..=2 {
        let (b, d, base) = (blocks.clone(), dir.clone(), app.addr.clone());
        let outcome = tokio::task::spawn_blocking(move || run(&b, &d, &base))
            .await
            .expect("bash");
        if let Err(e) = outcome {
            panic!("README walk-through, run {round}: {e}");
        }
    }
}
