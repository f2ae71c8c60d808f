//! Driving the order path over HTTP: concurrent clients spread round-robin over the API
//! processes; placing orders for a time, then confirming, shipping, delivering and
//! accepting what was placed. Latencies of the successful requests, failures counted.
use super::seed::World;
use rand::Rng;
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A supplier order as placed: who buys, who supplies, its lines `(id, quantity)`.
#[derive(Clone, Debug)]
pub struct So {
    pub id: String,
    pub buyer: usize,
    pub supplier: usize,
    pub lines: Vec<(String, String)>,
}

pub struct Ctx {
    pub client: reqwest::Client,
    pub bases: Vec<String>,
    pub buyers: Vec<String>,
    pub suppliers: Vec<String>,
    pub world: World,
    next: AtomicU64,
}

impl Ctx {
    pub fn new(
        client: reqwest::Client,
        bases: Vec<String>,
        buyers: Vec<String>,
        suppliers: Vec<String>,
        world: World,
    ) -> Ctx {
        Ctx {
            client,
            bases,
            buyers,
            suppliers,
            world,
            next: AtomicU64::new(0),
        }
    }

    /// The next API process, round-robin.
    fn base(&self) -> &str {
        let n = self.next.fetch_add(1, Ordering::Relaxed) as usize;
        &self.bases[n % self.bases.len()]
    }

    /// POST; Ok(body) on 2xx, Err("status body") otherwise.
    async fn post(&self, path: &str, token: &str, body: Value, key: Option<String>) -> Result<Value, String> {
        let mut req = self
            .client
            .post(format!("{}/api/v1{path}", self.base()))
            .bearer_auth(token)
            .json(&body);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        let r = req.send().await.map_err(|e| e.to_string())?;
        let status = r.status();
        let text = r.text().await.map_err(|e| e.to_string())?;
        if status.is_success() {
            serde_json::from_str(&text).map_err(|e| e.to_string())
        } else {
            Err(format!("{status} {text}"))
        }
    }
}

/// What one unit of work gave: its latency when it succeeded, or the error.
pub struct Outcome {
    pub result: Result<f64, String>,
    pub lines: usize,
    pub placed: Vec<So>,
}

#[derive(Default)]
pub struct Stats {
    pub ok: usize,
    pub failed: usize,
    pub lines: usize,
    pub secs: f64,
    pub lat_ms: Vec<f64>,
    pub first_error: Option<String>,
    pub placed: Vec<So>,
}

impl Stats {
    pub fn per_sec(&self) -> f64 {
        self.ok as f64 / self.secs.max(1e-9)
    }
    pub fn lines_per_sec(&self) -> f64 {
        self.lines as f64 / self.secs.max(1e-9)
    }
    pub fn pct(&self, p: f64) -> f64 {
        if self.lat_ms.is_empty() {
            return 0.0;
        }
        self.lat_ms[((self.lat_ms.len() as f64 * p) as usize).min(self.lat_ms.len() - 1)]
    }
}

type Fut = Pin<Box<dyn Future<Output = Option<Outcome>> + Send>>;
type Work = Arc<dyn Fn(usize, usize) -> Fut + Send + Sync>;

/// Runs `work(task, n)` from `clients` tasks (n counts per task) until it returns None or
/// `secs` pass.
async fn drive(clients: usize, secs: Option<u64>, work: Work) -> Stats {
    let stop = Arc::new(AtomicBool::new(false));
    let all = Arc::new(Mutex::new(Stats::default()));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..clients {
        let (stop, all, work) = (stop.clone(), all.clone(), work.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let Some(o) = work(task, n).await else { break };
                n += 1;
                let mut s = all.lock().unwrap();
                match o.result {
                    Ok(ms) => {
                        s.ok += 1;
                        s.lines += o.lines;
                        s.lat_ms.push(ms);
                        s.placed.extend(o.placed);
                    }
                    Err(e) => {
                        s.failed += 1;
                        s.first_error.get_or_insert(e);
                    }
                }
            }
        }));
    }
    if let Some(secs) = secs {
        tokio::time::sleep(Duration::from_secs(secs)).await;
        stop.store(true, Ordering::Relaxed);
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut s = std::mem::take(&mut *all.lock().unwrap());
    s.secs = start.elapsed().as_secs_f64();
    s.lat_ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    s
}

fn index_of(id: &str) -> usize {
    id.rsplit('-').next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// Places bulk orders for `secs`: 2 lines from one supplier, 1 from another, 1-5 units each.
pub async fn place(ctx: Arc<Ctx>, clients: usize, secs: u64) -> Stats {
    let date = (chrono::Utc::now().date_naive() + chrono::Days::new(3)).to_string();
    let work: Work = Arc::new(move |task: usize, n: usize| -> Fut {
        let ctx = ctx.clone();
        let date = date.clone();
        Box::pin(async move {
            let w = ctx.world;
            let buyer = (task + n * clients) % w.buyers;
            let (s1, s2, ja, jb, jc, q) = {
                let mut rng = rand::thread_rng();
                let s1 = rng.gen_range(0..w.suppliers);
                let s2 = (s1 + rng.gen_range(1..w.suppliers)) % w.suppliers;
                let ja = rng.gen_range(0..w.per);
                let jb = (ja + rng.gen_range(1..w.per)) % w.per;
                let q: Vec<u32> = (0..3).map(|_| rng.gen_range(1..=5)).collect();
                (s1, s2, ja, jb, rng.gen_range(0..w.per), q)
            };
            let body = json!({
                "lines": [
                    {"product_id": w.product(s1, ja), "quantity": q[0].to_string()},
                    {"product_id": w.product(s1, jb), "quantity": q[1].to_string()},
                    {"product_id": w.product(s2, jc), "quantity": q[2].to_string()},
                ],
                "credit_category": "purchase",
                "deliver_to": "省直机关第一食堂",
                "requested_date": date,
            });
            let t = Instant::now();
            let key = uuid::Uuid::new_v4().to_string();
            let r = ctx.post("/orders", &ctx.buyers[buyer], body, Some(key)).await;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            Some(match r {
                Ok(order) => {
                    let placed = order["supplier_orders"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|so| So {
                            id: so["id"].as_str().unwrap_or_default().into(),
                            buyer,
                            supplier: index_of(so["supplier_org_id"].as_str().unwrap_or_default()),
                            lines: so["lines"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .map(|l| {
                                    (
                                        l["id"].as_str().unwrap_or_default().into(),
                                        l["quantity"].as_str().unwrap_or_default().into(),
                                    )
                                })
                                .collect(),
                        })
                        .collect();
                    Outcome {
                        result: Ok(ms),
                        lines: 3,
                        placed,
                    }
                }
                Err(e) => Outcome {
                    result: Err(e),
                    lines: 0,
                    placed: vec![],
                },
            })
        })
    });
    drive(clients, Some(secs), work).await
}

/// Each supplier order in turn through confirm, ship and deliver (three requests, each
/// counted); then `accept` accepts them all.
pub async fn lifecycle(ctx: Arc<Ctx>, clients: usize, sos: Arc<Vec<So>>) -> Stats {
    let work: Work = Arc::new(move |task: usize, n: usize| -> Fut {
        let (ctx, sos) = (ctx.clone(), sos.clone());
        Box::pin(async move {
            let so = sos.get(task + n / 3 * clients)?;
            let action = ["confirm", "ship", "deliver"][n % 3];
            let t = Instant::now();
            let r = ctx
                .post(
                    &format!("/supplier-orders/{}/{action}", so.id),
                    &ctx.suppliers[so.supplier],
                    json!({}),
                    None,
                )
                .await;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            Some(Outcome {
                result: r.map(|_| ms),
                lines: 0,
                placed: vec![],
            })
        })
    });
    drive(clients, None, work).await
}

pub async fn accept(ctx: Arc<Ctx>, clients: usize, sos: Arc<Vec<So>>) -> Stats {
    let work: Work = Arc::new(move |task: usize, n: usize| -> Fut {
        let (ctx, sos) = (ctx.clone(), sos.clone());
        Box::pin(async move {
            let so = sos.get(task + n * clients)?;
            let lines: Vec<Value> = so
                .lines
                .iter()
                .map(|(id, q)| json!({"line_id": id, "accepted_quantity": q}))
                .collect();
            let body = json!({"lines": lines, "invoice_number": format!("INV-{}", &so.id[..8])});
            let t = Instant::now();
            let r = ctx
                .post(
                    &format!("/supplier-orders/{}/accept", so.id),
                    &ctx.buyers[so.buyer],
                    body,
                    None,
                )
                .await;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            Some(Outcome {
                result: r.map(|_| ms),
                lines: so.lines.len(),
                placed: vec![],
            })
        })
    });
    drive(clients, None, work).await
}

/// Sends the request and reads its JSON body (setup and checks: any failure is fatal).
pub async fn json_of(req: reqwest::RequestBuilder) -> Value {
    req.send().await.unwrap().json().await.unwrap()
}

/// Access tokens of every buyer and supplier (index order), and the evaluator's.
pub async fn login_all(client: &reqwest::Client, base: &str, w: World) -> (Vec<String>, Vec<String>, String) {
    let login = |email: String| {
        let client = client.clone();
        let url = format!("{base}/api/v1/auth/login");
        async move {
            let r = json_of(
                client
                    .post(url)
                    .json(&json!({"email": email.clone(), "password": super::seed::PASSWORD})),
            )
            .await;
            r["access_token"]
                .as_str()
                .unwrap_or_else(|| panic!("login {email}: {r}"))
                .to_string()
        }
    };
    let mut buyers = Vec::new();
    for i in 0..w.buyers {
        buyers.push(login(super::seed::buyer_email(i)).await);
    }
    let mut suppliers = Vec::new();
    for i in 0..w.suppliers {
        suppliers.push(login(super::seed::supplier_email(i)).await);
    }
    let evaluator = login(super::seed::EVALUATOR_EMAIL.into()).await;
    (buyers, suppliers, evaluator)
}
