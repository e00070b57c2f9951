//! Memory: the size of a `Flow`, and the heap each pending flow holds when 100,000 of them
//! wait in one thread, against the same for `oauth2` (its device authorization response,
//! which its poll borrows, plus its polling future parked in its sleep).
//!
//! Separately, what the HTTP clients themselves hold: the heap of a preset ureq agent or
//! reqwest client, and what one kept-alive connection adds to it.
//!
//! A counting global allocator sees every byte. Prints a table and, when `BENCH_OUT` names
//! a directory, writes `memory.json` there.

#![allow(missing_docs)] // a bench binary

use std::alloc::System;
use std::convert::Infallible;
use std::future::Future;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::pin::Pin;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use device_grant::{Flow, Output, TokenResponse};
use device_grant_benches::canned::{self, Canned};
use device_grant_benches::{core_flow, oauth2_flow};
use oauth2::{HttpRequest, HttpResponse, StandardDeviceAuthorizationResponse};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const FLOWS: usize = 100_000;

/// Bytes live on the heap now (a reallocation is already counted in both totals).
fn live() -> i64 {
    let s = GLOBAL.stats();
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

/// Allocations live on the heap now.
fn blocks() -> i64 {
    let s = GLOBAL.stats();
    s.allocations as i64 - s.deallocations as i64
}

struct Held {
    inline: usize,
    heap: f64,
    blocks: f64,
}

fn device_grant_pending() -> Held {
    let config = core_flow::config();
    let now = Instant::now();
    let mut flows: Vec<Flow> = Vec::with_capacity(FLOWS);
    let (bytes, count) = (live(), blocks());
    for _ in 0..FLOWS {
        let (mut flow, _) = core_flow::waiting(&config, now, canned::DEVICE_JSON);
        // One poll answered `authorization_pending`: the flow now waits for the next one.
        core_flow::poll_step(
            &mut flow,
            canned::response(400, canned::JSON, canned::PENDING_JSON),
        );
        assert!(matches!(flow.poll_output(), Output::WaitUntil(_)));
        flows.push(flow);
    }
    let held = Held {
        inline: std::mem::size_of::<Flow>(),
        heap: (live() - bytes) as f64 / FLOWS as f64,
        blocks: (blocks() - count) as f64 / FLOWS as f64,
    };
    drop(flows);
    held
}

type PollFuture<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

fn oauth2_pending() -> Held {
    let server = Canned::new(u32::MAX);
    let client = oauth2_flow::client(canned::CLIENT_ID, canned::DEVICE_URL, canned::TOKEN_URL);
    let sync_http =
        |request: HttpRequest| -> Result<HttpResponse, Infallible> { Ok(server.call(&request)) };
    let async_http = |request: HttpRequest| std::future::ready(sync_http(request));
    let mut details: Vec<StandardDeviceAuthorizationResponse> = Vec::with_capacity(FLOWS);
    let mut futures: Vec<PollFuture<'_>> = Vec::with_capacity(FLOWS);
    let (bytes, count) = (live(), blocks());
    for _ in 0..FLOWS {
        details.push(
            client
                .exchange_device_code()
                .add_scopes(oauth2_flow::scopes())
                .request(&sync_http)
                .expect("device authorization"),
        );
    }
    let mut cx = Context::from_waker(Waker::noop());
    for d in &details {
        let mut future: PollFuture<'_> = Box::pin(async {
            let _ = client
                .exchange_device_access_token(d)
                .request_async(
                    &async_http,
                    |_: Duration| std::future::pending::<()>(),
                    None,
                )
                .await;
        });
        // The first poll is answered `authorization_pending`; the future then sleeps.
        assert!(future.as_mut().poll(&mut cx).is_pending());
        futures.push(future);
    }
    let held = Held {
        inline: std::mem::size_of::<StandardDeviceAuthorizationResponse>()
            + std::mem::size_of::<PollFuture<'_>>(),
        heap: (live() - bytes) as f64 / FLOWS as f64,
        blocks: (blocks() - count) as f64 / FLOWS as f64,
    };
    drop(futures);
    held
}

/// A keep-alive HTTP/1.1 server on 127.0.0.1 that answers every request with a pending
/// error and allocates nothing per request, so that the counting allocator sees only the
/// client.
fn pending_server() -> SocketAddr {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("a port");
    let addr = listener.local_addr().expect("an address");
    std::thread::spawn(move || {
        const ANSWER: &[u8] = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 33\r\n\r\n{\"error\":\"authorization_pending\"}";
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 8192];
            let mut have = 0;
            while let Ok(n) = stream.read(&mut buf[have..]) {
                if n == 0 {
                    break;
                }
                have += n;
                // A whole request: the head, and as many body bytes as it announces.
                let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") else {
                    continue;
                };
                let head = std::str::from_utf8(&buf[..end]).unwrap_or("");
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                if have < end + 4 + length {
                    continue;
                }
                have = 0;
                if stream.write_all(ANSWER).is_err() {
                    break;
                }
            }
        }
    });
    addr
}

/// Heap bytes held by an HTTP client: the client alone, and what its first request adds
/// (the pooled connection and its buffers) once the response is dropped.
struct ClientMemory {
    client: i64,
    connection: i64,
}

fn poll_request(addr: SocketAddr) -> http::Request<Vec<u8>> {
    let mut request = http::Request::new(b"grant_type=x&device_code=y&client_id=z".to_vec());
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = format!("http://{addr}/token").parse().expect("a URI");
    request
}

fn ureq_memory(addr: SocketAddr) -> ClientMemory {
    let start = live();
    let agent = device_grant_ureq::agent();
    let client = live() - start;
    let before = live();
    let response = device_grant_ureq::send(&agent, poll_request(addr), 1 << 20).expect("an answer");
    assert_eq!(response.status(), 400);
    drop(response);
    let connection = live() - before;
    drop(agent);
    ClientMemory { client, connection }
}

fn reqwest_memory(addr: SocketAddr) -> ClientMemory {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let start = live();
        let client = device_grant_reqwest::client().expect("a client");
        let client_bytes = live() - start;
        let before = live();
        let request = reqwest::Request::try_from(poll_request(addr)).expect("a request");
        let response = client.execute(request).await.expect("an answer");
        assert_eq!(response.status(), 400);
        let body = response.bytes().await.expect("a body");
        drop(body);
        let connection = live() - before;
        drop(client);
        ClientMemory {
            client: client_bytes,
            connection,
        }
    })
}

fn main() {
    // `cargo bench` passes `--bench`; any filter that is not ours means "not this one".
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"memory".contains(a.as_str()))
    {
        return;
    }
    let dg = device_grant_pending();
    let o2 = oauth2_pending();
    let addr = pending_server();
    let clients = [
        ("ureq", ureq_memory(addr)),
        ("reqwest", reqwest_memory(addr)),
    ];
    let sizes = [
        ("Flow", std::mem::size_of::<Flow>()),
        ("Output", std::mem::size_of::<Output>()),
        ("TokenResponse", std::mem::size_of::<TokenResponse>()),
    ];
    println!("{FLOWS} pending flows in one thread:");
    for (name, h) in [("device-grant", &dg), ("oauth2", &o2)] {
        println!(
            "  {name:<13} inline {:>4} B + heap {:>7.1} B in {:>4.1} blocks = {:>7.1} B per flow",
            h.inline,
            h.heap,
            h.blocks,
            h.inline as f64 + h.heap
        );
    }
    for (name, size) in sizes {
        println!("  size_of::<{name}>() = {size} B");
    }
    println!("HTTP clients (device-grant's presets), heap:");
    for (name, m) in &clients {
        println!(
            "  {name:<8} client {:>7} B, + {:>6} B for one kept-alive connection",
            m.client, m.connection
        );
    }
    if let Ok(dir) = std::env::var("BENCH_OUT") {
        let json = serde_json::json!({
            "flows": FLOWS,
            "size_of": sizes.iter().map(|(n, s)| (n.to_string(), serde_json::Value::from(*s))).collect::<serde_json::Map<_, _>>(),
            "device-grant": { "inline": dg.inline, "heap": dg.heap, "blocks": dg.blocks },
            "oauth2": { "inline": o2.inline, "heap": o2.heap, "blocks": o2.blocks },
            "clients": clients.iter().map(|(n, m)| (n.to_string(), serde_json::json!({
                "client": m.client, "connection": m.connection,
            }))).collect::<serde_json::Map<_, _>>(),
        });
        std::fs::create_dir_all(&dir).expect("BENCH_OUT is writable");
        std::fs::write(format!("{dir}/memory.json"), json.to_string()).expect("written");
    }
}
