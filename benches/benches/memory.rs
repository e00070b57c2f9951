//! Memory: the size of a `Flow`, and the heap each pending flow holds when 100,000 of them
//! wait in one thread, against the same for `oauth2` (its device authorization response,
//! which its poll borrows, plus its polling future parked in its sleep).
//!
//! A counting global allocator sees every byte. Prints a table and, when `BENCH_OUT` names
//! a directory, writes `memory.json` there.

#![allow(missing_docs)] // a bench binary

use std::alloc::System;
use std::convert::Infallible;
use std::future::Future;
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
    if let Ok(dir) = std::env::var("BENCH_OUT") {
        let json = serde_json::json!({
            "flows": FLOWS,
            "size_of": sizes.iter().map(|(n, s)| (n.to_string(), serde_json::Value::from(*s))).collect::<serde_json::Map<_, _>>(),
            "device-grant": { "inline": dg.inline, "heap": dg.heap, "blocks": dg.blocks },
            "oauth2": { "inline": o2.inline, "heap": o2.heap, "blocks": o2.blocks },
        });
        std::fs::create_dir_all(&dir).expect("BENCH_OUT is writable");
        std::fs::write(format!("{dir}/memory.json"), json.to_string()).expect("written");
    }
}
