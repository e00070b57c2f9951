//! device-grant driven in memory: the canned server answers at once and the clock is
//! virtual, so a benchmark measures the library and nothing else.

use std::sync::Arc;
use std::time::{Duration, Instant};

use device_grant::{Config, Event, Flow, Output, RequestId, TokenResponse};
use http::Response;

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
/// `WaitUntil`: the plain loop every driver runs, and nothing else. (The simulator's driver,
/// which the tests below run with its rule checks on, also records every request and reads
/// the first one's form to tell the grant, even with the checks off: work no driver does,
/// which the floor's loop does not pay either.)
pub fn run(config: &Arc<Config>, server: &Canned, start: Instant) -> TokenResponse {
    let mut flow = Flow::device(Arc::clone(config), start);
    let mut now = start;
    // Far more steps than a flow of a few pending answers takes: a bug cannot spin forever.
    for _ in 0..10_000 {
        match flow.poll_output() {
            Output::Send { id, request } => {
                let answer = server.call(&request);
                drop(request);
                flow.handle_response(id, answer, now).expect("awaited");
            }
            Output::WaitUntil(at) => {
                now = at;
                flow.handle_timeout(at).expect("running");
            }
            Output::Event(event) => drop(std::hint::black_box(event)),
            Output::Done(result) => return result.expect("a token"),
            other => panic!("unexpected {other:?}"),
        }
    }
    panic!("the flow did not finish")
}

/// [`run`] through the lent requests of [`Flow::poll_output_lent`] and the answers in parts
/// of [`Flow::handle_answer`]: no `http::Request` or `http::Response` is built, as a driver
/// over an HTTP client that takes and gives parts runs it.
pub fn run_lent(config: &Arc<Config>, server: &Canned, start: Instant) -> TokenResponse {
    let mut flow = Flow::device(Arc::clone(config), start);
    let mut now = start;
    for _ in 0..10_000 {
        match flow.poll_output_lent() {
            Output::Lent(id) => {
                let request = flow.outgoing().expect("lent until answered");
                let (status, body) = server.answer_lent(&request);
                flow.handle_answer(id, status, server.headers(), &body, now)
                    .expect("awaited");
            }
            Output::WaitUntil(at) => {
                now = at;
                flow.handle_timeout(at).expect("running");
            }
            Output::Event(event) => drop(std::hint::black_box(event)),
            Output::Done(result) => return result.expect("a token"),
            other => panic!("unexpected {other:?}"),
        }
    }
    panic!("the flow did not finish")
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

/// [`poll_step`] through a lent request and an answer in parts; the answer's body comes in a
/// new `Vec`, as an HTTP client hands it over, with `headers`.
pub fn poll_step_lent(
    flow: &mut Flow,
    headers: &http::HeaderMap,
    answer: (http::StatusCode, Vec<u8>),
) -> Instant {
    let Output::WaitUntil(at) = flow.poll_output_lent() else {
        panic!("the flow is not waiting");
    };
    flow.handle_timeout(at).expect("running");
    let Output::Lent(id) = flow.poll_output_lent() else {
        panic!("no poll after the wait");
    };
    std::hint::black_box(flow.outgoing());
    let (status, body) = answer;
    flow.handle_answer(id, status, headers, &body, at)
        .expect("awaited");
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
    use device_grant_sim::{Answer, Options, Run};
    use http::Request;

    /// The simulator's driver, its rule checks on when `check`.
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

    #[test]
    fn a_complete_flow_gets_the_token_after_the_pending_answers() {
        let config = config();
        let server = Canned::new(2);
        let start = Instant::now();
        let checked = drive(&config, &server, start, true);
        checked.assert_clean();
        assert_eq!(checked.sent.len(), 4);
        let simulated = checked.outcome.expect("a token");
        assert_eq!(simulated.received_at(), start + Duration::from_secs(15));
        let token = run(&config, &server, start);
        assert_eq!(token.refresh_token().unwrap().secret().len(), 39);
        // The answer came after three intervals of 5 s of virtual time.
        assert_eq!(token.received_at(), start + Duration::from_secs(15));
    }

    #[test]
    fn lent_and_http_flows_end_with_the_same_token() {
        let config = config();
        let server = Canned::new(3);
        let start = Instant::now();
        let lent = run_lent(&config, &server, start);
        let http = run(&config, &server, start);
        assert_eq!(lent.access_token().secret(), http.access_token().secret());
        assert_eq!(lent.received_at(), start + Duration::from_secs(20));
        assert_eq!(lent.received_at(), http.received_at());
    }

    #[test]
    fn lent_poll_steps_keep_the_flow_waiting() {
        let config = config();
        let server = Canned::new(u32::MAX);
        let (mut flow, _) = waiting(&config, Instant::now(), LONG_LIVED_DEVICE_JSON);
        for _ in 0..3 {
            let answer = (http::StatusCode::BAD_REQUEST, canned::PENDING_JSON.to_vec());
            poll_step_lent(&mut flow, server.headers(), answer);
        }
        assert!(!flow.is_done());
        assert!(flow.outgoing().is_none(), "nothing is lent between polls");
        assert!(matches!(flow.poll_output_lent(), Output::WaitUntil(_)));
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
