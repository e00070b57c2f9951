//! Hands one kind of answer to a flow N times, for counting the instructions of
//! `Flow::handle_response` under callgrind (only `measured_section` is counted):
//!
//! ```text
//! cargo build --release -p device-grant --example answer_cost
//! valgrind --tool=callgrind '--toggle-collect=*measured_section*' \
//!     target/release/examples/answer_cost <pending|slow_down|token|device> 10000
//! ```
//!
//! Divide the collected instructions by N for the cost of one answer. `step N` times N poll
//! steps of one flow (wait over, poll built, `authorization_pending` handled) and prints the
//! mean time of one.

use std::time::Instant;

use device_grant::{Config, Flow, Output, RequestId};
use http::Response;
use http::header::{CONTENT_TYPE, HeaderValue};

const DEVICE: &[u8] = br#"{"device_code":"GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS","user_code":"WDJB-MJHT","verification_uri":"https://example.com/device","verification_uri_complete":"https://example.com/device?user_code=WDJB-MJHT","expires_in":1800,"interval":5}"#;
const PENDING: &[u8] = br#"{"error":"authorization_pending"}"#;
const SLOW_DOWN: &[u8] = br#"{"error":"slow_down"}"#;
const TOKEN: &[u8] = br#"{"access_token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.c2lnbmF0dXJlLXBsYWNlaG9sZGVy","token_type":"Bearer","expires_in":3600,"refresh_token":"8xLOxBtZp8Rr-QzWcNVxcBmRd7yKuVd2Kb_3Fj4","scope":"openid offline_access"}"#;

/// Runs `work` where callgrind counts it; never inlined, so it keeps its name.
#[inline(never)]
fn measured_section<R>(work: impl FnOnce() -> R) -> R {
    std::hint::black_box(work())
}

fn answer(status: u16, body: &[u8]) -> Response<Vec<u8>> {
    let mut response = Response::new(body.to_vec());
    *response.status_mut() = http::StatusCode::from_u16(status).expect("a valid status");
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn sent(flow: &mut Flow) -> RequestId {
    loop {
        match flow.poll_output() {
            Output::Send { id, .. } => return id,
            Output::WaitUntil(at) => flow.handle_timeout(at).expect("running"),
            Output::Done(r) => panic!("finished early: {r:?}"),
            _ => {}
        }
    }
}

fn steps(config: &std::sync::Arc<Config>, now: Instant, n: u32) {
    // A year-long code with a 1 ms interval, so that the flow never expires.
    const LONG: &[u8] = br#"{"device_code":"GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS","user_code":"WDJB-MJHT","verification_uri":"https://example.com/device","expires_in":31536000,"interval":0.001}"#;
    let mut flow = Flow::device(std::sync::Arc::clone(config), now);
    let id = sent(&mut flow);
    flow.handle_response(id, answer(200, LONG), now)
        .expect("awaited");
    let answers: Vec<_> = (0..n).map(|_| answer(400, PENDING)).collect();
    let started = Instant::now();
    for response in answers {
        let id = sent(&mut flow);
        flow.handle_response(id, response, now).expect("awaited");
    }
    let took = started.elapsed();
    assert!(!flow.is_done());
    println!(
        "{:.0} ns per poll step",
        took.as_nanos() as f64 / f64::from(n)
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_default();
    let n: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let config = std::sync::Arc::new(
        Config::builder("bench-client")
            .device_endpoint("https://login.example.com/oauth2/device")
            .token_endpoint("https://login.example.com/oauth2/token")
            .build()
            .expect("a valid configuration"),
    );
    let now = Instant::now();
    if what == "step" {
        return steps(&config, now, n);
    }
    for _ in 0..n {
        let mut flow = Flow::device(std::sync::Arc::clone(&config), now);
        let id = sent(&mut flow);
        let (id, status, body) = if what == "device" {
            (id, 200, DEVICE)
        } else {
            flow.handle_response(id, answer(200, DEVICE), now)
                .expect("awaited");
            let id = sent(&mut flow);
            match what.as_str() {
                "pending" => (id, 400, PENDING),
                "slow_down" => (id, 400, SLOW_DOWN),
                "token" => (id, 200, TOKEN),
                _ => panic!("usage: answer_cost <pending|slow_down|token|device> [n]"),
            }
        };
        let response = answer(status, body);
        measured_section(|| flow.handle_response(id, response, now).expect("awaited"));
        assert_eq!(flow.is_done(), what == "token");
    }
}
