//! Speed and reliability figures for the AI chain, against the fakes on 127.0.0.1. Not run by
//! the test suite (`cargo bench -p salesdesk-testkit --bench ai_chain` prints the figures).
//!
//! 1. Overhead: the chain vs a bare reqwest call to the same fake (fixed 20 ms answers),
//!    sequentially and with 200 requests in flight: p50 and p99 added latency.
//! 2. Chaos: 10,000 calls while each provider fails 10 % of requests with mixed faults:
//!    success rate, p99 latency, attempts per call.
//! 3. Hard-down primary: Gemini refusing connections: latency added once its breaker is open,
//!    and how many requests Gemini gets per minute while open (on a driven clock).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use salesdesk_core::ai::ProviderId;
use salesdesk_core::ai::chain::{Chain, ChainParts};
use salesdesk_core::ai::clock::{Clock, ManualClock, SystemClock};
use salesdesk_core::ai::settings::AiSettings;
use salesdesk_core::data::local::LocalStore;
use salesdesk_core::secrets::{Keys, SecretString, StaticKeys};
use salesdesk_testkit::fakes::{self, FakeServer, Fault, RetryHint};
use salesdesk_testkit::harness::{
    ANTHROPIC_KEY, GEMINI_KEY, OPENAI_KEY, request, test_client, test_settings,
};

struct Setup {
    gemini: FakeServer,
    openai: FakeServer,
    anthropic: FakeServer,
    _dir: tempfile::TempDir,
    chain: Arc<Chain>,
}

async fn setup(clock: Arc<dyn Clock>, tweak: impl FnOnce(&mut AiSettings)) -> Setup {
    let gemini = fakes::gemini::start(GEMINI_KEY).await;
    let openai = fakes::openai::start(OPENAI_KEY).await;
    let anthropic = fakes::anthropic::start(ANTHROPIC_KEY).await;
    let mut settings = test_settings(&gemini, &openai, &anthropic);
    tweak(&mut settings);
    let dir = tempfile::tempdir().expect("dir");
    let store = LocalStore::open(&dir.path().join("s.sqlite3"))
        .await
        .expect("store");
    let keys = Arc::new(StaticKeys::new([
        (ProviderId::Gemini, SecretString::new(GEMINI_KEY)),
        (ProviderId::OpenAi, SecretString::new(OPENAI_KEY)),
        (ProviderId::Anthropic, SecretString::new(ANTHROPIC_KEY)),
    ]));
    let mut parts = ChainParts::new(settings, Keys::single(keys), store);
    parts.clock = clock;
    parts.http = Some(test_client());
    let chain = Arc::new(Chain::build(parts).await.expect("chain"));
    Setup {
        gemini,
        openai,
        anthropic,
        _dir: dir,
        chain,
    }
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[i.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn signed_ms(a: Duration, b: Duration) -> String {
    format!("{:+.3} ms", (a.as_secs_f64() - b.as_secs_f64()) * 1000.0)
}

/// Runs `n` jobs with at most `in_flight` at once; returns each job's latency, sorted.
async fn run_many<F, Fut>(n: usize, in_flight: usize, job: F) -> Vec<Duration>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut lat: Vec<Duration> = futures_util::stream::iter(0..n)
        .map(|i| {
            let fut = job(i);
            async move {
                let t = Instant::now();
                fut.await;
                t.elapsed()
            }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    lat.sort();
    lat
}

async fn overhead() {
    println!("== 1. Overhead: chain vs bare reqwest, fake answering in a fixed 20 ms ==");
    let s = setup(Arc::new(SystemClock::default()), |st| {
        st.routes.call_analysis = vec![ProviderId::Gemini];
        st.timeouts.first_byte_ms = 5_000;
        st.timeouts.call_ms = 10_000;
    })
    .await;
    s.gemini
        .set_policy(|_| Fault::Ok.after(Duration::from_millis(20)));
    let client = test_client();
    let url = format!(
        "{}/v1beta/models/gemini-2.5-flash:generateContent",
        s.gemini.origin()
    );
    let template = request("x", false);
    let body = serde_json::json!({
        "systemInstruction": {"parts": [{"text": template.request.system}]},
        "contents": [{"role": "user", "parts": [{"text": "bench"}]}],
        "generationConfig": {"responseMimeType": "application/json", "responseJsonSchema": template.request.schema.as_ref(), "maxOutputTokens": 1024, "temperature": 0.2}
    })
    .to_string();
    let bare = |_: usize| {
        let client = client.clone();
        let url = url.clone();
        let body = body.clone();
        async move {
            let resp = client
                .post(url)
                .header("x-goog-api-key", GEMINI_KEY)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .expect("bare send");
            let bytes = resp.bytes().await.expect("bare body");
            let v: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
            let text = v["candidates"][0]["content"]["parts"][0]["text"]
                .as_str()
                .expect("text");
            let _: serde_json::Value = serde_json::from_str(text).expect("output");
        }
    };
    let counter = AtomicU64::new(0);
    let chained = |_: usize| {
        let chain = s.chain.clone();
        let n = counter.fetch_add(1, Ordering::Relaxed);
        async move {
            let reply = chain
                .run(&request(&format!("bench {n}"), false))
                .await
                .expect("chain");
            assert_eq!(reply.attempts.len(), 1);
        }
    };
    // Warm up connections and the store.
    run_many(50, 10, &bare).await;
    run_many(50, 10, &chained).await;
    // Rounds alternate bare and chain (and which goes first), so that both see the same
    // machine: on a shared 2-core box the load drifts more between two back-to-back runs than
    // the chain's own cost. CPU time (whole process: the fake, the client, the chain and its
    // writer) is the figure that does not depend on the load.
    for (label, n, in_flight, rounds) in
        [("sequential", 400, 1, 6), ("200 in flight", 1_000, 200, 4)]
    {
        let (mut b, mut c) = (Vec::new(), Vec::new());
        let (mut b_cpu, mut c_cpu) = (Duration::ZERO, Duration::ZERO);
        for round in 0..rounds {
            let order = if round % 2 == 0 {
                [false, true]
            } else {
                [true, false]
            };
            for chain_turn in order {
                let cpu0 = process_cpu();
                if chain_turn {
                    c.extend(run_many(n, in_flight, &chained).await);
                    // The writer's batch belongs to the chain's account.
                    s.chain.flush().await;
                    c_cpu += process_cpu().saturating_sub(cpu0);
                } else {
                    b.extend(run_many(n, in_flight, &bare).await);
                    b_cpu += process_cpu().saturating_sub(cpu0);
                }
            }
        }
        b.sort();
        c.sort();
        let calls = (n * rounds) as f64;
        println!(
            "{label:>14}: bare p50 {} p99 {} | chain p50 {} p99 {} | added p50 {} p99 {} | CPU per call bare {:.0} µs, chain {:.0} µs ({} calls each)",
            ms(pct(&b, 50.0)),
            ms(pct(&b, 99.0)),
            ms(pct(&c, 50.0)),
            ms(pct(&c, 99.0)),
            signed_ms(pct(&c, 50.0), pct(&b, 50.0)),
            signed_ms(pct(&c, 99.0), pct(&b, 99.0)),
            b_cpu.as_secs_f64() * 1e6 / calls,
            c_cpu.as_secs_f64() * 1e6 / calls,
            n * rounds,
        );
    }
    s.chain.flush().await;
}

/// CPU time used by this process so far (user + system, all threads), from /proc/self/stat in
/// clock ticks of 10 ms (Linux's USER_HZ); zero elsewhere. Averaged over thousands of calls,
/// the tick is fine enough; no crate here reads it without adding a dependency for a bench.
fn process_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name, which ends with ')': utime and stime are the 12th and 13th.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 10)
}

fn mix(n: u64, seed: u64) -> u64 {
    // splitmix64: independent, reproducible draws per request and provider.
    let mut z = n.wrapping_add(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn chaos_policy(seed: u64) -> impl Fn(u64) -> Fault + Send + Sync + 'static {
    move |n| {
        let r = mix(n, seed);
        if !r.is_multiple_of(10) {
            return Fault::Ok.after(Duration::from_millis(5));
        }
        match (r / 10) % 9 {
            0 => Fault::Status(500, RetryHint::None),
            1 => Fault::Status(503, RetryHint::Seconds(0)),
            2 => Fault::Status(429, RetryHint::Millis(30)),
            3 => Fault::Reset,
            4 => Fault::TruncatedBody,
            5 => Fault::InvalidJson,
            6 => Fault::SchemaInvalid,
            7 => Fault::Status(529, RetryHint::None),
            _ => Fault::Hang,
        }
    }
}

async fn chaos() {
    println!("== 2. Chaos: 10,000 calls, each provider failing 10 % of requests (mixed faults) ==");
    let s = setup(Arc::new(SystemClock::default()), |st| {
        st.timeouts.first_byte_ms = 250;
        st.timeouts.call_ms = 1_000;
        st.timeouts.deadline_ms = 10_000;
        st.retry.base_ms = 20;
        st.retry.cap_ms = 200;
    })
    .await;
    s.gemini.set_policy(chaos_policy(1));
    s.openai.set_policy(chaos_policy(2));
    s.anthropic.set_policy(chaos_policy(3));
    let ok = AtomicU64::new(0);
    let attempts = AtomicU64::new(0);
    let started = Instant::now();
    let lat = run_many(10_000, 100, |i| {
        let chain = s.chain.clone();
        let (ok, attempts) = (&ok, &attempts);
        async move {
            if let Ok(reply) = chain.run(&request(&format!("chaos {i}"), i % 2 == 0)).await {
                ok.fetch_add(1, Ordering::Relaxed);
                let real = reply
                    .attempts
                    .iter()
                    .filter(|a| !a.outcome.starts_with("skipped"))
                    .count();
                attempts.fetch_add(real as u64, Ordering::Relaxed);
            }
        }
    })
    .await;
    let ok = ok.load(Ordering::Relaxed);
    println!(
        "success {ok}/10000 = {:.2} % | latency p50 {} p99 {} max {} | attempts per successful call {:.3} | wall {:.1} s",
        ok as f64 / 100.0,
        ms(pct(&lat, 50.0)),
        ms(pct(&lat, 99.0)),
        ms(*lat.last().unwrap_or(&Duration::ZERO)),
        attempts.load(Ordering::Relaxed) as f64 / ok.max(1) as f64,
        started.elapsed().as_secs_f64()
    );
    println!(
        "requests received: gemini {} openai {} anthropic {}",
        s.gemini.generate_count(),
        s.openai.generate_count(),
        s.anthropic.generate_count()
    );
    s.chain.flush().await;
}

async fn hard_down() {
    println!("== 3. Hard-down primary: Gemini refusing all connections ==");
    // Real clock: latency added once the breaker is open.
    let s = setup(Arc::new(SystemClock::default()), |st| {
        st.routes.call_analysis = vec![ProviderId::Gemini, ProviderId::OpenAi]
    })
    .await;
    s.openai
        .set_policy(|_| Fault::Ok.after(Duration::from_millis(20)));
    s.gemini.stop();
    let t = Instant::now();
    let first = s
        .chain
        .run(&request("warm", false))
        .await
        .expect("openai answers");
    println!(
        "first call (Gemini refused, breaker opening): {} ms, attempts {:?}",
        t.elapsed().as_millis(),
        first
            .attempts
            .iter()
            .map(|a| a.outcome.as_str())
            .collect::<Vec<_>>()
    );
    let openai_bare = {
        let client = test_client();
        let url = format!("{}/v1/chat/completions", s.openai.origin());
        let body = serde_json::json!({"model": "gpt-5-mini", "messages": [{"role": "user", "content": "x"}]}).to_string();
        run_many(300, 1, |_| {
            let (client, url, body) = (client.clone(), url.clone(), body.clone());
            async move {
                let r = client
                    .post(url)
                    .bearer_auth(OPENAI_KEY)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("send");
                r.bytes().await.expect("body");
            }
        })
        .await
    };
    let chained = run_many(300, 1, |i| {
        let chain = s.chain.clone();
        async move {
            let reply = chain
                .run(&request(&format!("down {i}"), false))
                .await
                .expect("openai answers");
            assert_eq!(reply.provider, ProviderId::OpenAi);
        }
    })
    .await;
    println!(
        "breaker open: bare OpenAI p50 {} p99 {} | chain p50 {} p99 {} | added p50 {} p99 {}",
        ms(pct(&openai_bare, 50.0)),
        ms(pct(&openai_bare, 99.0)),
        ms(pct(&chained, 50.0)),
        ms(pct(&chained, 99.0)),
        signed_ms(pct(&chained, 50.0), pct(&openai_bare, 50.0)),
        signed_ms(pct(&chained, 99.0), pct(&openai_bare, 99.0)),
    );
    s.chain.flush().await;
    drop(s);

    // Driven clock: 20 virtual minutes at 10 calls per second.
    let clock = Arc::new(ManualClock::new());
    let s = setup(clock.clone(), |st| {
        st.routes.call_analysis = vec![ProviderId::Gemini, ProviderId::OpenAi]
    })
    .await;
    s.gemini.stop();
    let mut per_minute = vec![0u32; 20];
    for i in 0..(20 * 60 * 10) {
        let minute = i / 600;
        let reply = s
            .chain
            .run(&request(&format!("m {i}"), false))
            .await
            .expect("openai answers");
        per_minute[minute] += reply
            .attempts
            .iter()
            .filter(|a| a.provider == "gemini" && !a.outcome.starts_with("skipped"))
            .count() as u32;
        clock.advance(Duration::from_millis(100));
    }
    println!(
        "Gemini attempts per virtual minute (600 calls/min, cool-down 30 s doubling to 10 min): {per_minute:?}"
    );
    let _ = (&s.openai, &s.anthropic);
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        overhead().await;
        chaos().await;
        hard_down().await;
    });
}
