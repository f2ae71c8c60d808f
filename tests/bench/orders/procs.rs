//! API processes of the release binary sharing one database (and Redis when given), and
//! CPU time read from `/proc`: the database server's processes, the API processes, this one.
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Api {
    pub base: String,
    child: Child,
}

impl Api {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// What every process shares: the database, Redis, the token secret and the ledger's key.
pub struct Shared {
    pub database_url: String,
    pub redis_url: Option<String>,
    pub redis_prefix: String,
    pub jwt_secret: String,
    pub ledger_key: String,
    pub db_max_connections: u32,
}

/// Starts `serve` on a free port with the jobs on (one of them leads the sequencer) but the
/// outbox worker idle (mail is not what is measured), and waits for `/readyz`.
pub async fn start(bin: &str, dir: &Path, n: usize, shared: &Shared) -> Api {
    let port = free_port();
    let data = dir.join(format!("api{n}"));
    std::fs::create_dir_all(&data).unwrap();
    let log = std::fs::File::create(data.join("serve.log")).unwrap();
    let mut cmd = Command::new(bin);
    cmd.arg("serve")
        .env_remove("ASSIST_CONFIG")
        .env("ASSIST_DATABASE_URL", &shared.database_url)
        .env("ASSIST_BIND", format!("127.0.0.1:{port}"))
        .env("ASSIST_DATA_DIR", &data)
        .env("ASSIST_MAIL_DIR", data.join("mail"))
        .env("ASSIST_JWT_SECRET", &shared.jwt_secret)
        .env("ASSIST_LEDGER_SIGNING_KEY", &shared.ledger_key)
        .env("ASSIST_DEMO", "false")
        .env("ASSIST_JOBS_ENABLED", "true")
        .env("ASSIST_OUTBOX_POLL_MS", "3600000")
        .env("ASSIST_ACCESS_TOKEN_TTL_SECS", "86400")
        .env("ASSIST_DB_MAX_CONNECTIONS", shared.db_max_connections.to_string())
        .env("ASSIST_DB_ACQUIRE_TIMEOUT_MS", "30000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log);
    match &shared.redis_url {
        Some(r) => {
            cmd.env("ASSIST_REDIS_URL", r)
                .env("ASSIST_REDIS_PREFIX", &shared.redis_prefix);
        }
        None => {
            cmd.env_remove("ASSIST_REDIS_URL");
        }
    }
    let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
    let api = Api {
        base: format!("http://127.0.0.1:{port}"),
        child,
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(format!("{}/readyz", api.base)).send().await {
            if r.status().is_success() {
                return api;
            }
        }
        assert!(
            Instant::now() < deadline,
            "API process {n} not ready; see {}",
            data.display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// utime + stime of a process, in clock ticks (0 once it is gone).
fn ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    f.get(11).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0)
}

fn ppid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// The PostgreSQL server's processes: the postmaster (the parent of a backend) and its children.
pub fn pg_processes(backend_pid: u32) -> Vec<u32> {
    let Some(postmaster) = ppid(backend_pid) else {
        return Vec::new();
    };
    let mut out = vec![postmaster];
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            if let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) {
                if ppid(pid) == Some(postmaster) {
                    out.push(pid);
                }
            }
        }
    }
    out
}

pub fn clock_ticks_per_sec() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// CPU seconds of the database server, the API processes and this process at one moment.
#[derive(Clone, Copy, Default)]
pub struct Cpu {
    pub db: f64,
    pub api: f64,
    pub client: f64,
    pub at: Option<Instant>,
}

pub struct CpuProbe {
    /// A PostgreSQL backend of ours, to find the server's processes (none on SQLite).
    pub pg_backend: Option<u32>,
    pub tck: f64,
}

impl CpuProbe {
    pub fn read(&self, apis: &[Api]) -> Cpu {
        // Backends come and go with the pools: list the server's processes at each reading.
        let db: u64 = self
            .pg_backend
            .map(|b| pg_processes(b).into_iter().map(ticks).sum())
            .unwrap_or(0);
        let api: u64 = apis.iter().map(|a| ticks(a.pid())).sum();
        Cpu {
            db: db as f64 / self.tck,
            api: api as f64 / self.tck,
            client: ticks(std::process::id()) as f64 / self.tck,
            at: Some(Instant::now()),
        }
    }
}

/// Cores used by each side between two readings, and the database's share of the three.
pub struct CpuUse {
    pub db: f64,
    pub api: f64,
    pub client: f64,
}

impl CpuUse {
    pub fn between(a: Cpu, b: Cpu) -> CpuUse {
        let secs = match (a.at, b.at) {
            (Some(x), Some(y)) => (y - x).as_secs_f64().max(1e-3),
            _ => 1.0,
        };
        CpuUse {
            db: (b.db - a.db).max(0.0) / secs,
            api: (b.api - a.api).max(0.0) / secs,
            client: (b.client - a.client).max(0.0) / secs,
        }
    }
    pub fn db_share(&self) -> f64 {
        let total = self.db + self.api + self.client;
        if total > 0.0 {
            self.db / total
        } else {
            0.0
        }
    }
}

/// Before a step, the previous step's debts are paid so that each process count starts from
/// the same state: the started processes' workers send every email queued before (the mail
/// of thousands of orders outlives the step that queued it, and sending it would otherwise
/// share the next step's CPU). Returns the seconds it took and the emails still queued after
/// `limit`. (A VACUUM or CHECKPOINT here made the following step slower, not fairer, so
/// autovacuum is left to run as it would in production.)
pub async fn settle(db: &sea_orm::DatabaseConnection, limit: Duration) -> (f64, i64) {
    use sea_orm::ConnectionTrait;
    let started = Instant::now();
    let pending = || async {
        db.query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'",
        ))
        .await
        .unwrap()
        .map(|r| r.try_get::<i64>("", "n").unwrap())
        .unwrap_or(0)
    };
    let mut left = pending().await;
    while left > 0 && started.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(250)).await;
        left = pending().await;
    }
    (started.elapsed().as_secs_f64(), left)
}
