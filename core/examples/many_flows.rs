//! 100,000 pending sign-ins in one thread: one timer heap, no task or thread per flow.
//!
//! A backend that signs in many devices (or keeps pending sign-ins for many users) needs no
//! runtime to wait: each flow says when it next wants to run (`WaitUntil`), and a binary
//! heap of those instants tells the single loop which flow is due. Here the simulated
//! authorization server answers in memory and the clock is virtual, so the run takes
//! seconds of CPU for hours of simulated polling.
//!
//! Two servers can answer: by default a small in-memory server written below (each user
//! approves after three polls), which keeps the run about the client; with `peer`, the
//! simulator's in-memory peer with its referee. The peer records every request and checks
//! each new one against that record, so its cost grows with the run: use a smaller count.
//!
//! ```text
//! cargo run --release -p device-grant --example many_flows [FLOWS]
//! cargo run --release -p device-grant --example many_flows peer [FLOWS]
//! ```

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use device_grant::{Config, Flow, Output};
use device_grant_sim::{Answer, Dialect, Peer, Responder, Script, ServerConfig};

/// A server that remembers one counter per device code: pending three times, then a token.
#[derive(Default)]
struct Small {
    issued: u64,
    polls: HashMap<String, u32>,
}

impl Responder for Small {
    fn respond(&mut self, request: &http::Request<Vec<u8>>, _now: Instant) -> Answer {
        let code = url::form_urlencoded::parse(request.body())
            .find(|(k, _)| k == "device_code")
            .map(|(_, v)| v.into_owned());
        let Some(code) = code else {
            self.issued += 1;
            let n = self.issued;
            return Answer::json(
                200,
                &format!(
                    r#"{{"device_code":"dc-{n:016x}-Qm9vbGVhbiBzZWNyZXQ","user_code":"U{n:07X}","verification_uri":"http://127.0.0.1:1/device","expires_in":900,"interval":5}}"#
                ),
            );
        };
        let polls = self.polls.entry(code).or_insert(0);
        *polls += 1;
        if *polls <= 3 {
            Answer::json(400, r#"{"error":"authorization_pending"}"#)
        } else {
            Answer::json(
                200,
                r#"{"access_token":"at","token_type":"Bearer","expires_in":3600}"#,
            )
        }
    }
}

/// The simulator's peer, answering at the virtual time.
struct Simulated(Peer);

impl Responder for Simulated {
    fn respond(&mut self, request: &http::Request<Vec<u8>>, now: Instant) -> Answer {
        self.0.handle(request, now)
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let use_peer = args.first().is_some_and(|a| a == "peer");
    if use_peer {
        args.remove(0);
    }
    let count: usize = args
        .first()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if use_peer { 5_000 } else { 100_000 });
    // With the peer, every user approves after three pending polls, as with `Small`.
    let peer =
        Peer::new(ServerConfig::new(Dialect::Rfc8628).script(Script::approve_after_polls(3)));
    let config = Arc::new(
        Config::builder(peer.client_id())
            .device_endpoint(peer.device_endpoint())
            .token_endpoint(peer.token_endpoint())
            .build()
            .expect("the peer's endpoints are loopback"),
    );
    let mut server: Box<dyn Responder> = if use_peer {
        Box::new(Simulated(peer))
    } else {
        Box::new(Small::default())
    };

    let start = Instant::now();
    let cpu = Instant::now();
    let mut now = start;
    let mut flows: Vec<Option<Flow>> = Vec::with_capacity(count);
    // Min-heap of (due instant, flow index).
    let mut timers: BinaryHeap<Reverse<(Instant, usize)>> = BinaryHeap::with_capacity(count);
    let (mut sent, mut signed_in, mut failed, mut snapshot_bytes) = (0u64, 0usize, 0usize, 0usize);

    for index in 0..count {
        flows.push(Some(Flow::device(Arc::clone(&config), now)));
        timers.push(Reverse((now, index)));
    }

    while let Some(Reverse((due, index))) = timers.pop() {
        now = now.max(due);
        let Some(flow) = flows[index].as_mut() else {
            continue;
        };
        if flow.handle_timeout(now).is_err() {
            continue;
        }
        // Run the flow until it waits again or ends.
        loop {
            match flow.poll_output() {
                Output::Send { id, request } => {
                    sent += 1;
                    match server.respond(&request, now) {
                        Answer::Response(r) => flow.handle_response(id, r, now),
                        Answer::Transport(kind) => flow.handle_transport_error(id, kind, now),
                        _ => break,
                    }
                    .expect("the answer to the request just sent");
                }
                // A real service would show (or send) the prompt to its user here.
                Output::Event(_) => {}
                Output::WaitUntil(at) => {
                    // A pending flow could equally be parked in a database as a snapshot.
                    if index == 0 && snapshot_bytes == 0 {
                        let wall = SystemTime::now();
                        if let Ok(s) = flow.snapshot(now, wall) {
                            snapshot_bytes = s.to_json().len();
                        }
                    }
                    timers.push(Reverse((at, index)));
                    break;
                }
                Output::Done(result) => {
                    if result.is_ok() {
                        signed_in += 1;
                    } else {
                        failed += 1;
                    }
                    flows[index] = None;
                    break;
                }
                _ => break,
            }
        }
    }

    let took = cpu.elapsed();
    println!("{count} flows in one thread: {signed_in} signed in, {failed} failed");
    println!(
        "{sent} requests over {:.0} s of virtual time, in {:.2} s of real time ({:.2} µs per request, server included)",
        (now - start).as_secs_f64(),
        took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / sent.max(1) as f64
    );
    println!("one pending flow as a JSON snapshot: {snapshot_bytes} bytes");
    assert_eq!(signed_in, count, "every simulated user approves");
}
