//! device-grant driven in memory: the canned server answers at once and the clock is
//! virtual, so a benchmark measures the library and nothing else.

use std::sync::Arc;
use std::time::{Duration, Instant};

use device_grant::{Config, Event, Flow, Output, RequestId, TokenResponse};
use device_grant_sim::{Answer, Options, Run};
use http::{Request, Response};

use crate::canned::{self, Canned};

/// The configuration of every in-memory flow.
pub fn config() -> Arc<Config> {
    Arc::new(
        Config::builder(canned::CLIENT_ID)
            .device_endpoint(canned::DEVICE_URL)
            .token_endpoint(canned::TOKEN_URL)
            .scope(&canned::SCOPES.join(" "))
            .build()
            .expect("a valid configuration"),
    )
}

/// One complete flow against `server`, the clock starting at `start` and jumping to each
/// `WaitUntil`: the simulator's driver, with its rule checking off so that only the library
/// is measured (the tests below run it with the checks on).
pub fn run(config: &Arc<Config>, server: &Canned, start: Instant) -> TokenResponse {
    drive(config, server, start, false)
        .outcome
        .expect("a token")
}

fn drive(config: &Arc<Config>, server: &Canned, start: Instant, check: bool) -> Run {
    let flow = Flow::device(Arc::clone(config), start);
    let mut respond =
        |request: &Request<Vec<u8>>, _now: Instant| Answer::Response(server.call(request));
    let options = Options {
        check,
        ..Options::default()
    };
    device_grant_sim::drive_with(flow, &mut respond, start, options)
}

/// A flow whose device authorization request is out.
pub fn awaiting_authorization(config: &Arc<Config>, now: Instant) -> (Flow, RequestId) {
    let mut flow = Flow::device(Arc::clone(config), now);
    match flow.poll_output() {
        Output::Send { id, .. } => (flow, id),
        other => panic!("unexpected {other:?}"),
    }
}

/// A flow that has shown its user code and waits for its next poll: where every flow spends
/// its life. Returns when that poll is due.
pub fn waiting(config: &Arc<Config>, now: Instant, body: &[u8]) -> (Flow, Instant) {
    let (mut flow, id) = awaiting_authorization(config, now);
    let answer = canned::response(200, canned::JSON, body);
    flow.handle_response(id, answer, now).expect("awaited");
    match flow.poll_output() {
        Output::Event(Event::UserCode(prompt)) => drop(std::hint::black_box(prompt)),
        other => panic!("unexpected {other:?}"),
    }
    match flow.poll_output() {
        Output::WaitUntil(at) => (flow, at),
        other => panic!("unexpected {other:?}"),
    }
}

/// A flow whose poll is out; returns the request id and the time it went.
pub fn awaiting_poll(config: &Arc<Config>, now: Instant) -> (Flow, RequestId, Instant) {
    let (mut flow, at) = waiting(config, now, canned::DEVICE_JSON);
    flow.handle_timeout(at).expect("running");
    match flow.poll_output() {
        Output::Send { id, .. } => (flow, id, at),
        other => panic!("unexpected {other:?}"),
    }
}

/// One poll step of a waiting flow: the wait ends, the poll request is built, the pending
/// answer is handled. Returns the time of the answer.
pub fn poll_step(flow: &mut Flow, answer: Response<Vec<u8>>) -> Instant {
    let Output::WaitUntil(at) = flow.poll_output() else {
        panic!("the flow is not waiting");
    };
    flow.handle_timeout(at).expect("running");
    let Output::Send { id, request } = flow.poll_output() else {
        panic!("no poll after the wait");
    };
    std::hint::black_box(request);
    flow.handle_response(id, answer, at).expect("awaited");
    at
}

/// A device authorization answer with a lifetime of a year and a 1 ms interval, so that a
/// flow stepped in a benchmark loop never expires.
pub const LONG_LIVED_DEVICE_JSON: &[u8] = br#"{"device_code":"GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS","user_code":"WDJB-MJHT","verification_uri":"https://login.example.com/device","verification_uri_complete":"https://login.example.com/device?user_code=WDJB-MJHT","expires_in":31536000,"interval":0.001}"#;

/// The interval of a long-lived flow.
pub const LONG_LIVED_INTERVAL: Duration = Duration::from_millis(1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_complete_flow_gets_the_token_after_the_pending_answers() {
        let config = config();
        let server = Canned::new(2);
        let start = Instant::now();
        let checked = drive(&config, &server, start, true);
        checked.assert_clean();
        assert_eq!(checked.sent.len(), 4);
        let token = run(&config, &server, start);
        assert_eq!(token.refresh_token().unwrap().secret().len(), 39);
        // The answer came after three intervals of 5 s of virtual time.
        assert_eq!(token.received_at(), start + Duration::from_secs(15));
    }

    #[test]
    fn poll_steps_keep_the_flow_waiting() {
        let config = config();
        let (mut flow, _) = waiting(&config, Instant::now(), LONG_LIVED_DEVICE_JSON);
        assert_eq!(flow.interval(), Some(LONG_LIVED_INTERVAL));
        for _ in 0..3 {
            poll_step(
                &mut flow,
                canned::response(400, canned::JSON, canned::PENDING_JSON),
            );
        }
        assert!(!flow.is_done());
        assert!(matches!(flow.poll_output(), Output::WaitUntil(_)));
    }
}
