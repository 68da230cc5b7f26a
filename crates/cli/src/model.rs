//! `claimscan model ...`: the layout crate's offline commands (`check`, `eval`) and the client
//! of a running worker's model admin API (`deploy`, `rollback`, `shadow`, `status`).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::{json, Value};

#[derive(Debug, Args)]
pub struct ModelCmd {
    #[command(subcommand)]
    pub command: ModelSub,
}

#[derive(Debug, Subcommand)]
pub enum ModelSub {
    #[command(flatten)]
    Offline(claimscan_layout::cli::ModelSub),
    /// What the program would pay: labelled invoices read, matched and decided as the worker
    /// does, each claim compared with the truth's (SKUs, quantities, points, fingerprint).
    Claims(crate::claims::ClaimsArgs),
    /// Make a model live in a running worker: it is loaded, checked, validated against the live
    /// model on the worker's validation data, and swapped in only if it does not regress.
    Deploy(DeployArgs),
    /// Put the worker's previous model back.
    Rollback(Remote),
    /// Shadow mode: a candidate reads every upload beside the live model; disagreements are
    /// recorded in `shadow_results`. `--off` stops it.
    Shadow(ShadowArgs),
    /// The worker's live, previous and shadow models.
    Status(Remote),
}

/// Where the worker's admin API is.
#[derive(Debug, Args)]
pub struct Remote {
    /// The worker's HTTP address (`http.listen`).
    #[arg(
        long,
        env = "CLAIMSCAN_WORKER_URL",
        default_value = "http://127.0.0.1:9464"
    )]
    pub worker: String,
    /// The worker's `http.admin_token`.
    #[arg(long, env = "CLAIMSCAN_ADMIN_TOKEN", hide_env_values = true)]
    pub token: String,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Model directory as the worker sees it (made absolute when it exists here), or `rules`.
    pub dir: String,
    #[command(flatten)]
    pub remote: Remote,
}

#[derive(Debug, Args)]
pub struct ShadowArgs {
    /// Model directory as the worker sees it, or `rules`.
    #[arg(required_unless_present = "off", conflicts_with = "off")]
    pub dir: Option<String>,
    /// Stop shadow mode.
    #[arg(long)]
    pub off: bool,
    #[command(flatten)]
    pub remote: Remote,
}

/// A model directory given on this machine is sent as an absolute path (the worker's working
/// directory is not ours); anything else is sent as given.
fn spec(dir: &str) -> String {
    if dir == "rules" {
        return dir.into();
    }
    std::fs::canonicalize(Path::new(dir))
        .map(|p: PathBuf| p.display().to_string())
        .unwrap_or_else(|_| dir.into())
}

impl ModelCmd {
    /// Runs the command; returns the exit status.
    pub fn run(self) -> anyhow::Result<u8> {
        let (remote, method, path, body) = match self.command {
            ModelSub::Offline(sub) => {
                claimscan_layout::cli::ModelCmd { command: sub }
                    .run()
                    .map_err(|e| anyhow::anyhow!(e))?;
                return Ok(crate::EXIT_OK);
            }
            ModelSub::Claims(a) => {
                crate::claims::run(&a)?;
                return Ok(crate::EXIT_OK);
            }
            ModelSub::Deploy(a) => (
                a.remote,
                "POST",
                "/admin/model",
                Some(json!({"reader": spec(&a.dir)})),
            ),
            ModelSub::Rollback(r) => (r, "POST", "/admin/model/rollback", None),
            ModelSub::Shadow(a) => match a.dir {
                Some(d) if !a.off => (
                    a.remote,
                    "POST",
                    "/admin/shadow",
                    Some(json!({"reader": spec(&d)})),
                ),
                _ => (a.remote, "DELETE", "/admin/shadow", None),
            },
            ModelSub::Status(r) => (r, "GET", "/admin/model", None),
        };
        let (status, value) = call(&remote, method, path, body)?;
        println!("{}", serde_json::to_string_pretty(&value)?);
        if (200..300).contains(&status) {
            Ok(crate::EXIT_OK)
        } else {
            let code = value.get("code").and_then(Value::as_str).unwrap_or("error");
            let msg = value.get("message").and_then(Value::as_str).unwrap_or("");
            eprintln!("claimscan model: refused by the worker (HTTP {status}): {code}: {msg}");
            Ok(crate::EXIT_SOME_FAILED)
        }
    }
}

fn call(
    remote: &Remote,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<(u16, Value)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(600)))
        .build()
        .into();
    let url = format!("{}{}", remote.worker.trim_end_matches('/'), path);
    let auth = format!("Bearer {}", remote.token);
    let resp = match (method, body) {
        ("GET", _) => agent.get(&url).header("Authorization", &auth).call(),
        ("DELETE", _) => agent.delete(&url).header("Authorization", &auth).call(),
        (_, Some(b)) => agent
            .post(&url)
            .header("Authorization", &auth)
            .send_json(&b),
        (_, None) => agent.post(&url).header("Authorization", &auth).send_empty(),
    };
    let mut resp = resp.map_err(|e| anyhow::anyhow!("cannot reach the worker at {url}: {e}"))?;
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let value = serde_json::from_str(&text).unwrap_or_else(|_| json!({ "message": text }));
    Ok((status, value))
}
