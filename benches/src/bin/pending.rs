//! Heap per pending flow through each driver and through the floor on the same HTTP client
//! major: `n` flows started one after the other against a `device-grant-sim serve
//! --no-interval`, each parked in its wait before its first poll (default interval 300 s,
//! shorter than the server's `expires_in`), having shown its code. The HTTP client, its pooled
//! connection and the runtime are set up (and one flow parked) before the count starts.
//!
//! ```text
//! pending <reqwest|ureq> <device-grant|floor> <n> <device URL> <token URL> <client id>
//! ```
//!
//! reqwest: every flow is a local task on one current-thread runtime, so its figure is the task
//! (with the future inline) plus what the flow holds. ureq: every flow is a thread blocked in
//! its sleep; the figure is the heap it holds (the thread's stack is not heap). Prints one
//! JSON object, with `size_of` of the future for reqwest.

use std::alloc::System;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use device_grant::{Event, Flow};
use device_grant_benches::floor;
use device_grant_benches::loopback::{self, Target};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const INTERVAL: Duration = Duration::from_secs(300);

fn live() -> (i64, i64) {
    let s = GLOBAL.stats();
    (
        s.bytes_allocated as i64 - s.bytes_deallocated as i64,
        s.allocations as i64 - s.deallocations as i64,
    )
}

fn usage() -> ! {
    eprintln!(
        "usage: pending <reqwest|ureq> <device-grant|floor> <n> <device URL> <token URL> <client id>"
    );
    std::process::exit(2)
}

/// Starts flow number `i` with `start`, then waits until it has shown its code.
fn counted(shown: &AtomicUsize, i: usize) -> bool {
    shown.load(Ordering::SeqCst) > i
}

/// Heap bytes and blocks per flow for `n` flows parked one after the other, after one parked
/// first so that the client and its pooled connection are not counted.
fn parked(n: usize, spawn: impl Fn(), wait_shown: impl Fn(usize)) -> (f64, f64) {
    spawn();
    wait_shown(0);
    let before = live();
    for i in 1..=n {
        spawn();
        wait_shown(i);
    }
    let after = live();
    let per = |a: i64, b: i64| (a - b) as f64 / n as f64;
    (per(after.0, before.0), per(after.1, before.1))
}

fn reqwest_pending(imp: &str, n: usize, target: &Target) -> (f64, f64, usize, usize) {
    let rt = loopback::reqwest_runtime();
    // Local tasks for both: the floor's async closures make its future `!Send`.
    let local = tokio::task::LocalSet::new();
    let shown = Arc::new(AtomicUsize::new(0));
    let config = target.dg_config(INTERVAL);
    let ep = Arc::new(target.endpoints(INTERVAL));
    let urls = Arc::new(loopback::floor_urls(target));
    let dg_client = rt
        .block_on(async { device_grant_reqwest::client() })
        .expect("a client");
    let floor_client = rt.block_on(async { loopback::floor_client() });
    // `size_of` of the flow's own future and of the whole task, from a flow that is never
    // polled; the spawned tasks await theirs in place (a future first bound to a variable
    // and then awaited takes room twice in the task).
    let notify = |shown: &Arc<AtomicUsize>| {
        let shown = Arc::clone(shown);
        move || {
            shown.fetch_add(1, Ordering::SeqCst);
        }
    };
    let dg_task = || {
        let (client, config, shown) = (dg_client.clone(), Arc::clone(&config), notify(&shown));
        async move {
            let flow = Flow::device(config, tokio::time::Instant::now().into_std());
            let on_event = |e: &Event| {
                if matches!(e, Event::UserCode(_)) {
                    shown();
                }
            };
            drop(device_grant_reqwest::run(flow, &client, on_event).await);
        }
    };
    let floor_task = || {
        let (client, ep, urls, shown) = (
            floor_client.clone(),
            Arc::clone(&ep),
            Arc::clone(&urls),
            notify(&shown),
        );
        async move {
            drop(
                floor::run_async(
                    &ep,
                    async |to, body| loopback::floor_reqwest_send(&client, &urls, to, body).await,
                    |_| shown(),
                    async |d| tokio::time::sleep(d).await,
                )
                .await,
            );
        }
    };
    let (run_size, task_size) = match imp {
        "device-grant" => {
            let flow = Flow::device(Arc::clone(&config), Instant::now());
            let run = device_grant_reqwest::run(flow, &dg_client, |_| {});
            (
                std::mem::size_of_val(&run),
                std::mem::size_of_val(&dg_task()),
            )
        }
        "floor" => {
            let run = floor::run_async(
                &ep,
                async |to, body| loopback::floor_reqwest_send(&floor_client, &urls, to, body).await,
                |_| {},
                async |d| tokio::time::sleep(d).await,
            );
            (
                std::mem::size_of_val(&run),
                std::mem::size_of_val(&floor_task()),
            )
        }
        _ => usage(),
    };
    let spawn = || {
        if imp == "device-grant" {
            drop(local.spawn_local(dg_task()));
        } else {
            drop(local.spawn_local(floor_task()));
        }
    };
    let wait_shown = |i: usize| {
        local.block_on(&rt, async {
            let deadline = Instant::now() + Duration::from_secs(30);
            while !counted(&shown, i) {
                assert!(Instant::now() < deadline, "flow {i} never showed its code");
                tokio::task::yield_now().await;
            }
            // The flow task runs on to its sleep in the same poll that showed the code; one
            // more turn of the scheduler makes sure it is parked.
            tokio::task::yield_now().await;
        })
    };
    let (bytes, blocks) = parked(n, spawn, wait_shown);
    (bytes, blocks, run_size, task_size)
}

fn ureq_pending(imp: &str, n: usize, target: &Target) -> (f64, f64, usize, usize) {
    let shown = Arc::new(AtomicUsize::new(0));
    let config = target.dg_config(INTERVAL);
    let ep = Arc::new(target.endpoints(INTERVAL));
    let urls = Arc::new(loopback::floor_uris(target));
    let dg_agent = device_grant_ureq::agent();
    let floor_agent = loopback::floor_agent();
    let spawn = || match imp {
        "device-grant" => {
            let (agent, shown, config) =
                (dg_agent.clone(), Arc::clone(&shown), Arc::clone(&config));
            drop(std::thread::spawn(move || {
                let flow = Flow::device(config, Instant::now());
                drop(device_grant_ureq::run(flow, &agent, |e| {
                    if matches!(e, Event::UserCode(_)) {
                        shown.fetch_add(1, Ordering::SeqCst);
                    }
                }));
            }));
        }
        "floor" => {
            let (agent, shown, ep, urls) = (
                floor_agent.clone(),
                Arc::clone(&shown),
                Arc::clone(&ep),
                Arc::clone(&urls),
            );
            drop(std::thread::spawn(move || {
                drop(floor::run(
                    &ep,
                    loopback::floor_ureq_send(&agent, &urls),
                    |_| {
                        shown.fetch_add(1, Ordering::SeqCst);
                    },
                    std::thread::sleep,
                ));
            }));
        }
        _ => usage(),
    };
    let wait_shown = |i: usize| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !counted(&shown, i) {
            assert!(Instant::now() < deadline, "flow {i} never showed its code");
            std::thread::sleep(Duration::from_micros(200));
        }
        // Let the flow's thread go on from showing the code to its sleep.
        std::thread::sleep(Duration::from_millis(5));
    };
    let (bytes, blocks) = parked(n, spawn, wait_shown);
    (bytes, blocks, 0, 0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [client, imp, n, device, token, client_id] = &args[..] else {
        usage()
    };
    let n: usize = n.parse().unwrap_or_else(|_| usage());
    let target = Target {
        device: device.clone(),
        token: token.clone(),
        client_id: client_id.clone(),
    };
    let (heap, blocks, run_size, task_size) = match client.as_str() {
        "reqwest" => reqwest_pending(imp, n, &target),
        "ureq" => ureq_pending(imp, n, &target),
        _ => usage(),
    };
    println!(
        "{}",
        serde_json::json!({
            "what": "pending", "client": client, "impl": imp, "n": n,
            "heap_per_flow": heap, "blocks_per_flow": blocks, "run_future_size": run_size, "task_future_size": task_size,
        })
    );
    // The parked flows would wait for minutes: leave them.
    std::process::exit(0);
}
