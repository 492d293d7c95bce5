//! W1/W2's PostgreSQL point-select driven from Rust, without Node, through
//! sqlx (one statement at a time per connection, as the addon runs it) and
//! through tokio-postgres (calls on one client are pipelined: sent without
//! waiting for the replies before them). Both spread their workers over
//! the same fixed connections. It measures how far each driver
//! can go on this host, next to pgbench, to tell the cost of Node and the
//! addon apart from the cost of the driver's protocol use.
//!
//! Usage: pg-driver-ceiling <sqlx|tokio-postgres> <connections> <in-flight> <queries>
//! `BENCH_POSTGRES_URL` overrides the server (default: the bench's).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

const SELECT: &str = "SELECT * FROM \"bench_session\" WHERE \"id\" = $1";

/// The ids of the bench's 10,000-row table, in turn.
fn session_id(n: usize) -> String {
    format!("offline_shop-{}.myshopify.com", n % 10_000 + 1)
}

/// Runs `in_flight` workers until `queries` point-selects are done, each
/// worker calling `select` with its own worker index; returns queries/s.
async fn drive<F, Fut>(in_flight: usize, queries: usize, select: F) -> f64
where
    F: Fn(usize, String) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let select = Arc::new(select);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..in_flight)
        .map(|worker| {
            let (select, next) = (select.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= queries {
                        break;
                    }
                    assert!(select(worker, session_id(n)).await, "row not found");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
    queries as f64 / started.elapsed().as_secs_f64()
}

async fn with_tokio_postgres(
    url: &str,
    connections: usize,
    in_flight: usize,
    queries: usize,
) -> f64 {
    let mut clients = Vec::new();
    for _ in 0..connections {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(connection);
        let statement = client.prepare(SELECT).await.expect("prepare");
        clients.push(Arc::new((client, statement)));
    }
    // Worker w always uses client w % connections: its calls queue behind
    // the other workers' on that client, pipelined.
    drive(in_flight, queries, move |worker, id| {
        let client = clients[worker % connections].clone();
        async move {
            let (client, statement) = &*client;
            client
                .query_opt(statement, &[&id])
                .await
                .expect("query")
                .is_some()
        }
    })
    .await
}

async fn with_sqlx(url: &str, connections: usize, in_flight: usize, queries: usize) -> f64 {
    use sqlx::Connection;
    // Plain connections rather than sqlx's own pool, which pings a
    // connection each time it lends it and each time it takes it back
    // (three round trips per query); the addon has its own pool and pings
    // only connections that sat idle. Worker w uses connection
    // w % connections, one statement at a time, as the tokio-postgres side
    // spreads its workers.
    let mut conns = Vec::new();
    for _ in 0..connections {
        let conn = sqlx::PgConnection::connect(url).await.expect("connect");
        conns.push(Arc::new(tokio::sync::Mutex::new(conn)));
    }
    drive(in_flight, queries, move |worker, id| {
        let conn = conns[worker % connections].clone();
        async move {
            let mut conn = conn.lock().await;
            let row = sqlx::query(SELECT)
                .bind(id)
                .fetch_optional(&mut *conn)
                .await;
            row.expect("query").is_some()
        }
    })
    .await
}

/// User + system CPU time of this process so far, in microseconds.
fn cpu_us() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 =
        fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
    ticks * 10_000.0 // 100 ticks per second
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!(
            "usage: pg-driver-ceiling <sqlx|tokio-postgres> <connections> <in-flight> <queries>"
        );
        std::process::exit(2);
    }
    let number = |i: usize| args[i].parse::<usize>().expect("a number");
    let (driver, connections, in_flight, queries) =
        (args[1].as_str(), number(2), number(3), number(4));
    let url = std::env::var("BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let url = if url.contains('?') {
        format!("{url}&sslmode=disable")
    } else {
        format!("{url}?sslmode=disable")
    };
    // One thread, as the addon's calls all run on the JS thread.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let cpu_before = cpu_us();
    let rate = runtime.block_on(async {
        match driver {
            "sqlx" => with_sqlx(&url, connections, in_flight, queries).await,
            "tokio-postgres" => with_tokio_postgres(&url, connections, in_flight, queries).await,
            other => panic!("unknown driver {other}"),
        }
    });
    let cpu_per_query = (cpu_us() - cpu_before) / queries as f64;
    println!(
        "{driver}: {connections} connections, {in_flight} in flight: {rate:.0} queries/s, \
         client CPU {cpu_per_query:.1} µs per query (connecting included)"
    );
}
