//! Many pending flows in one thread: heap bytes per pending flow, bytes per serialized
//! snapshot, and CPU per poll step.
//!
//! - Heap: 100,000 flows, each past its device authorization and one `authorization_pending`
//!   poll, held in a `Vec`; a counting global allocator gives the live heap they add,
//!   divided by the count (the `Flow` value itself, `size_of::<Flow>()`, is reported apart:
//!   it lives wherever the caller keeps it).
//! - Snapshot: each of those flows snapshotted and serialized to JSON; mean and largest.
//! - CPU per poll step: the same flows driven by one timer heap (a `BinaryHeap` of due
//!   instants), each step being `handle_timeout`, `poll_output` (the poll), the canned
//!   `authorization_pending` answer into `handle_response`, and `poll_output` (the next
//!   `WaitUntil`). Process CPU time over all steps, divided by the steps. Then the same with
//!   the simulator's in-memory peer answering (its request handling included), for fewer
//!   flows.
//!
//! Targets (reported, not asserted): at most 512 B of heap per pending flow and at most 512 B
//! per serialized snapshot. Prints a table and, when `BENCH_OUT` names a directory, writes
//! `many_flows.json` there.

#![allow(missing_docs)] // a bench binary

use std::alloc::System;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use device_grant::{Config, Flow, Output};
use device_grant_benches::canned;
use device_grant_benches::core_flow;
use device_grant_benches::cpu::process_cpu;
use device_grant_sim::{Answer, Dialect, Peer, Script, ServerConfig};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const FLOWS: usize = 100_000;
/// The peer records every request and checks each new one against that record, so its
/// cost grows with the run: fewer flows for it.
const PEER_FLOWS: usize = 5_000;
const ROUNDS: usize = 5;
const TARGET: f64 = 512.0;

fn live() -> i64 {
    let s = GLOBAL.stats();
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

/// Pending flows from canned answers, and the heap they hold per flow.
fn pending(config: &Arc<Config>, now: Instant) -> (Vec<Flow>, f64) {
    let mut flows = Vec::with_capacity(FLOWS);
    let before = live();
    for _ in 0..FLOWS {
        let (mut flow, _) = core_flow::waiting(config, now, canned::DEVICE_JSON);
        core_flow::poll_step(
            &mut flow,
            canned::response(400, canned::JSON, canned::PENDING_JSON),
        );
        assert!(matches!(flow.poll_output(), Output::WaitUntil(_)));
        flows.push(flow);
    }
    // The Vec's own buffer (inline `Flow`s) was allocated before `before`.
    let heap = (live() - before) as f64 / FLOWS as f64;
    (flows, heap)
}

/// Mean and largest serialized snapshot.
fn snapshots(flows: &[Flow], now: Instant) -> (f64, usize) {
    let wall = SystemTime::now();
    let mut total = 0usize;
    let mut largest = 0usize;
    for flow in flows {
        let n = flow
            .snapshot(now, wall)
            .expect("a pending flow")
            .to_json()
            .len();
        total += n;
        largest = largest.max(n);
    }
    (total as f64 / flows.len() as f64, largest)
}

/// Drives every flow through `ROUNDS` poll steps from one timer heap; `answer` gives the
/// answer to each poll. Returns CPU per step.
fn timer_heap(
    flows: &mut [Flow],
    start: Instant,
    mut answer: impl FnMut(&http::Request<Vec<u8>>, Instant) -> Answer,
) -> (Duration, u64) {
    let mut timers: BinaryHeap<Reverse<(Instant, usize)>> = flows
        .iter_mut()
        .enumerate()
        .map(|(i, f)| match f.poll_output() {
            Output::WaitUntil(at) => Reverse((at, i)),
            other => panic!("a pending flow waits, not {other:?}"),
        })
        .collect();
    let mut rounds = vec![0usize; flows.len()];
    let mut steps = 0u64;
    let mut now = start;
    let cpu = process_cpu();
    while let Some(Reverse((due, i))) = timers.pop() {
        now = now.max(due);
        let flow = &mut flows[i];
        flow.handle_timeout(now).expect("pending");
        let Output::Send { id, request } = flow.poll_output() else {
            panic!("a poll is due")
        };
        match answer(&request, now) {
            Answer::Response(r) => flow.handle_response(id, r, now),
            Answer::Transport(kind) => flow.handle_transport_error(id, kind, now),
            _ => unreachable!(),
        }
        .expect("awaited");
        steps += 1;
        loop {
            match flow.poll_output() {
                Output::WaitUntil(at) => {
                    rounds[i] += 1;
                    if rounds[i] < ROUNDS {
                        timers.push(Reverse((at, i)));
                    }
                    break;
                }
                Output::Event(_) => {}
                other => panic!("still pending, not {other:?}"),
            }
        }
    }
    let took = process_cpu() - cpu;
    (took / u32::try_from(steps).unwrap_or(u32::MAX), steps)
}

/// Pending flows against the in-memory peer (a user who never answers).
fn peer_flows(peer: &Peer, now: Instant) -> Vec<Flow> {
    let config = Arc::new(
        Config::builder(peer.client_id())
            .device_endpoint(peer.device_endpoint())
            .token_endpoint(peer.token_endpoint())
            .build()
            .expect("loopback"),
    );
    (0..PEER_FLOWS)
        .map(|_| {
            let mut flow = Flow::device(Arc::clone(&config), now);
            let Output::Send { id, request } = flow.poll_output() else {
                panic!("the device request")
            };
            let Answer::Response(r) = peer.handle(&request, now) else {
                panic!("answered")
            };
            flow.handle_response(id, r, now).expect("awaited");
            while let Output::Event(_) = flow.poll_output() {}
            flow
        })
        .collect()
}

fn main() {
    let config = core_flow::config();
    let now = Instant::now();
    let (mut flows, heap) = pending(&config, now);
    let (snap_mean, snap_max) = snapshots(&flows, now);
    let canned_answer = |_: &http::Request<Vec<u8>>, _: Instant| {
        Answer::Response(canned::response(400, canned::JSON, canned::PENDING_JSON))
    };
    let (cpu_core, steps_core) = timer_heap(&mut flows, now, canned_answer);
    drop(flows);

    let peer = Peer::new(ServerConfig::new(Dialect::Rfc8628).script(Script::never()));
    let mut flows = peer_flows(&peer, now);
    let (peer_mean, peer_max) = snapshots(&flows, now);
    let (cpu_peer, steps_peer) = timer_heap(&mut flows, now, |r, at| peer.handle(r, at));

    let verdict = |v: f64| if v <= TARGET { "ok" } else { "OVER" };
    println!("many pending flows ({FLOWS}), one thread, timer heap");
    println!(
        "  Flow value (inline)               {:>8} B",
        std::mem::size_of::<Flow>()
    );
    println!(
        "  heap per pending flow             {heap:>8.1} B   target <= 512 B: {}",
        verdict(heap)
    );
    println!(
        "  snapshot JSON, canned RFC answer  {snap_mean:>8.1} B mean, {snap_max} B max   target <= 512 B: {}",
        verdict(snap_max as f64)
    );
    println!(
        "  snapshot JSON, simulator's answer {peer_mean:>8.1} B mean, {peer_max} B max   target <= 512 B: {}",
        verdict(peer_max as f64)
    );
    println!(
        "  CPU per poll step, core only      {:>8.0} ns ({steps_core} steps)",
        cpu_core.as_nanos()
    );
    println!(
        "  CPU per poll step, with the peer  {:>8.0} ns ({steps_peer} steps, the simulator's handling included)",
        cpu_peer.as_nanos()
    );
    if let Some(dir) = std::env::var_os("BENCH_OUT") {
        let json = serde_json::json!({
            "flows": FLOWS,
            "flow_inline_bytes": std::mem::size_of::<Flow>(),
            "heap_bytes_per_pending_flow": heap,
            "snapshot_bytes_mean": snap_mean,
            "snapshot_bytes_max": snap_max,
            "snapshot_bytes_mean_simulator": peer_mean,
            "snapshot_bytes_max_simulator": peer_max,
            "cpu_ns_per_poll_step_core": cpu_core.as_nanos() as u64,
            "cpu_ns_per_poll_step_with_peer": cpu_peer.as_nanos() as u64,
        });
        let path = std::path::Path::new(&dir).join("many_flows.json");
        if let Err(e) = std::fs::write(&path, json.to_string()) {
            eprintln!("could not write {}: {e}", path.display());
        }
    }
}
