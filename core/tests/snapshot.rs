//! Snapshot and resume: a flow taken out of its process at any step, serialized, read back
//! and resumed in a "new process" (another monotonic clock origin) sends the same requests
//! at the same times and ends the same way as the flow that was never interrupted.
//!
//! The in-memory peer (the simulated server with its scripts and faults) answers; the
//! driver below is `drive`'s loop with a hook that replaces the flow at a chosen step.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use device_grant::{Config, Event, Flow, FlowError, Output, Profile, Snapshot};
use device_grant_sim::{Answer, Dialect, Fault, Peer, RetryAfter, Script, ServerConfig};
use proptest::prelude::*;

/// The virtual wall-clock time of the run's start.
fn wall_start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_225_600)
}

/// One process's clock: its monotonic origin maps to the run's start.
#[derive(Clone, Copy)]
struct Process {
    origin: Instant,
}

#[derive(Debug, PartialEq)]
struct Request {
    at: Duration,
    uri: String,
    body: String,
}

#[derive(Debug)]
struct Outcome {
    requests: Vec<Request>,
    result: String,
    prompts: usize,
}

fn describe(result: &Result<device_grant::TokenResponse, FlowError>) -> String {
    match result {
        // Each peer issues random tokens: compare what the flow made of them.
        Ok(t) => format!(
            "token {} {:?} {:?} refresh: {}",
            t.token_type(),
            t.expires_in(),
            t.scopes(),
            t.refresh_token().is_some()
        ),
        Err(e) => format!("{e:?}"),
    }
}

/// The form with the device code replaced: each peer issues a random one.
fn same_code(body: &[u8]) -> String {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| {
            if k == "device_code" {
                format!("{k}=<code>")
            } else {
                format!("{k}={v}")
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn config(peer: &Peer, dialect: Dialect) -> Config {
    let mut b = Config::builder(peer.client_id())
        .device_endpoint(peer.device_endpoint())
        .token_endpoint(peer.token_endpoint());
    if dialect == Dialect::GitHub {
        b = b.profile(Profile::GitHub);
    }
    b.build().expect("loopback endpoints")
}

/// Drives a device flow against `peer`; before step `snapshot_at` (if given) the flow is
/// snapshotted, serialized, read back and resumed in a process whose clock origin is
/// elsewhere, `gap` later on the wall clock (the peer's time moves on by the same gap).
fn run(peer: &Peer, dialect: Dialect, snapshot_at: Option<usize>, gap: Duration) -> Outcome {
    let start = Instant::now();
    let mut process = Process { origin: start };
    let mut offset = Duration::ZERO; // true time since start
    let mut flow = Flow::device(config(peer, dialect), start);
    let mut requests = Vec::new();
    let mut prompts = 0;
    for step in 0..10_000 {
        if snapshot_at == Some(step) {
            let now = process.origin + offset;
            let wall = wall_start() + offset;
            if let Ok(snap) = flow.snapshot(now, wall) {
                let text = snap.to_json();
                let back = Snapshot::from_json(&text).expect("reads its own output");
                assert_eq!(back, snap);
                offset += gap;
                // Another process: its monotonic clock has nothing to do with the first's.
                process = Process {
                    origin: start
                        + Duration::from_secs(1_000_000)
                        + Duration::from_millis(step as u64 * 7),
                };
                flow = Flow::resume(
                    config(peer, dialect),
                    &back,
                    process.origin + offset,
                    wall_start() + offset,
                )
                .expect("same configuration");
            }
        }
        let now = process.origin + offset;
        match flow.poll_output() {
            Output::Send { id, request } => {
                requests.push(Request {
                    at: offset,
                    uri: request.uri().to_string(),
                    body: same_code(request.body()),
                });
                match peer.handle(&request, start + offset) {
                    Answer::Response(r) => flow.handle_response(id, r, now).expect("awaited"),
                    Answer::Transport(kind) => {
                        flow.handle_transport_error(id, kind, now).expect("awaited");
                    }
                    _ => unreachable!("the peer answers or fails"),
                }
            }
            Output::Event(Event::UserCode(_)) => prompts += 1,
            Output::Event(_) => {}
            Output::WaitUntil(at) => {
                offset = offset.max(at - process.origin);
                flow.handle_timeout(process.origin + offset)
                    .expect("pending");
            }
            Output::Done(result) => {
                return Outcome {
                    requests,
                    result: describe(&result),
                    prompts,
                };
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    panic!("the flow did not finish");
}

#[derive(Clone, Debug)]
enum Decision {
    Approve(u32),
    Deny(u32),
    Expire(u32),
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        Just(Fault::Reset),
        Just(Fault::Stall(Duration::from_secs(30))),
        Just(Fault::BadGateway),
        prop::option::of(0u64..20)
            .prop_map(|s| Fault::ServiceUnavailable(s.map(RetryAfter::Seconds))),
        prop::option::of(0u64..20).prop_map(|s| Fault::TooManyRequests(s.map(RetryAfter::Seconds))),
    ]
}

#[derive(Clone, Debug)]
struct Case {
    dialect: Dialect,
    interval: Option<u64>,
    decision: Decision,
    slow_downs: Vec<u32>,
    faults: Vec<(u32, Fault)>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::sample::select(&[Dialect::Rfc8628, Dialect::GitHub][..]),
        prop::option::of(1u64..8),
        prop_oneof![
            (0u32..8).prop_map(Decision::Approve),
            (0u32..6).prop_map(Decision::Deny),
            (0u32..6).prop_map(Decision::Expire),
        ],
        prop::collection::vec(1u32..8, 0..3),
        prop::collection::vec((1u32..8, fault()), 0..3),
    )
        .prop_map(|(dialect, interval, decision, slow_downs, faults)| Case {
            dialect,
            interval,
            decision,
            slow_downs,
            faults,
        })
}

fn peer(case: &Case) -> Peer {
    let mut script = match case.decision {
        Decision::Approve(n) => Script::approve_after_polls(n),
        Decision::Deny(n) => Script::deny_after_polls(n),
        Decision::Expire(n) => Script::expire_after_polls(n),
    };
    for &poll in &case.slow_downs {
        script = script.slow_down_at(poll, None);
    }
    for (poll, fault) in &case.faults {
        script = script.fault_at(*poll, fault.clone());
    }
    let mut config = ServerConfig::new(case.dialect).script(script);
    if let Some(i) = case.interval {
        config = config.interval(Duration::from_secs(i));
    }
    Peer::new(config)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn resuming_at_any_step_changes_nothing(case in case(), at in 0usize..30) {
        let straight = run(&peer(&case), case.dialect, None, Duration::ZERO);
        let interrupted = run(&peer(&case), case.dialect, Some(at), Duration::ZERO);
        prop_assert_eq!(&interrupted.requests, &straight.requests);
        prop_assert_eq!(&interrupted.result, &straight.result);
        // The code is shown once: again after a resume only if it had not been taken out.
        prop_assert_eq!(straight.prompts, 1);
        prop_assert_eq!(interrupted.prompts, 1);
    }

    #[test]
    fn a_later_resume_never_polls_early(case in case(), at in 1usize..30, gap_ms in 0u64..20_000) {
        let straight = run(&peer(&case), case.dialect, None, Duration::ZERO);
        let late = run(&peer(&case), case.dialect, Some(at), Duration::from_millis(gap_ms));
        // Up to the snapshot the runs agree; the first poll after it is no earlier than the
        // uninterrupted run's, and consecutive polls keep at least the interval apart
        // (what the rule checker of the simulator's referee enforces on the server side).
        let common = late.requests.iter().zip(&straight.requests).take_while(|(a, b)| a == b).count();
        if let (Some(a), Some(b)) = (late.requests.get(common), straight.requests.get(common)) {
            prop_assert!(a.at >= b.at, "polled at {:?}, before {:?}", a.at, b.at);
        }
        prop_assert!(late.prompts <= 1);
    }
}

#[test]
fn a_resumed_flow_past_its_deadline_expires_without_a_request() {
    let peer = Peer::new(
        ServerConfig::new(Dialect::Rfc8628)
            .script(Script::manual())
            .expires_in(Duration::from_secs(60)),
    );
    let start = Instant::now();
    let wall = wall_start();
    let mut flow = Flow::device(config(&peer, Dialect::Rfc8628), start);
    let Output::Send { id, request } = flow.poll_output() else {
        panic!("the device request first")
    };
    let Answer::Response(r) = peer.handle(&request, start) else {
        panic!("answered")
    };
    flow.handle_response(id, r, start).unwrap();
    let Output::Event(Event::UserCode(shown)) = flow.poll_output() else {
        panic!("the prompt comes next")
    };
    let snap = flow.snapshot(start, wall).unwrap();
    assert!(snap.is_pending_device_flow());
    assert_eq!(snap.deadline(), Some(wall + Duration::from_secs(60)));
    assert_eq!(snap.next_poll(), Some(wall + Duration::from_secs(5)));
    let text = snap.to_json();
    assert!(text.contains("\"version\":1"), "{text}");
    // The prompt can be shown again from the snapshot alone.
    let later = Instant::now();
    let prompt = snap.prompt(later, wall).unwrap();
    assert_eq!(prompt.user_code(), shown.user_code());
    assert_eq!(prompt.verification_uri(), shown.verification_uri());
    assert_eq!(prompt.expires_at() - later, Duration::from_secs(60));

    let back = Snapshot::from_json(&text).unwrap();
    let mut resumed = Flow::resume(
        config(&peer, Dialect::Rfc8628),
        &back,
        later,
        wall + Duration::from_secs(61),
    )
    .unwrap();
    // Not even the prompt: the code is dead.
    match resumed.poll_output() {
        Output::Done(Err(FlowError::Expired(None))) => {}
        other => panic!("expected Expired, got {other:?}"),
    }
}

#[test]
fn a_resume_before_the_next_poll_waits_for_it_and_keeps_slow_down() {
    let peer = Peer::new(
        ServerConfig::new(Dialect::Rfc8628)
            .script(Script::approve_after_polls(3).slow_down_at(1, None)),
    );
    let start = Instant::now();
    let wall = wall_start();
    let cfg = config(&peer, Dialect::Rfc8628);
    let mut flow = Flow::device(cfg.clone(), start);
    let mut now = start;
    // Device request, then the first poll (slow_down): the interval becomes 10 s.
    let mut polls = 0;
    while polls < 1 {
        match flow.poll_output() {
            Output::Send { id, request } => {
                let Answer::Response(r) = peer.handle(&request, now) else {
                    panic!()
                };
                if request.uri().path().ends_with("token") {
                    polls += 1;
                }
                flow.handle_response(id, r, now).unwrap();
            }
            Output::WaitUntil(at) => {
                now = at;
                flow.handle_timeout(now).unwrap();
            }
            _ => {}
        }
    }
    let snap = flow.snapshot(now, wall + (now - start)).unwrap();
    assert_eq!(snap.interval(), Some(Duration::from_secs(10)));
    drop(flow);
    // Resumed 3 s later in another process: the next poll is 7 s away, not now.
    let other = Instant::now() + Duration::from_secs(5_000);
    let resumed_wall = wall + (now - start) + Duration::from_secs(3);
    let mut resumed = Flow::resume(
        cfg,
        &Snapshot::from_json(&snap.to_json()).unwrap(),
        other,
        resumed_wall,
    )
    .unwrap();
    assert_eq!(resumed.interval(), Some(Duration::from_secs(10)));
    // No prompt (it was shown) and nothing else queued: the wait, 7 s from now.
    match resumed.poll_output() {
        Output::WaitUntil(at) => assert_eq!(at - other, Duration::from_secs(7)),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn snapshots_of_pending_flows_stay_small_and_hide_the_device_code() {
    let peer = Peer::new(ServerConfig::new(Dialect::Rfc8628).script(Script::manual()));
    let start = Instant::now();
    let mut flow = Flow::device(config(&peer, Dialect::Rfc8628), start);
    let Output::Send { id, request } = flow.poll_output() else {
        panic!()
    };
    let Answer::Response(r) = peer.handle(&request, start) else {
        panic!()
    };
    flow.handle_response(id, r, start).unwrap();
    let snap = flow.snapshot(start, wall_start()).unwrap();
    let value = snap.to_value();
    let code = value["device_code"].as_str().unwrap().to_owned();
    assert!(!code.is_empty());
    assert!(!format!("{snap:?}").contains(&code));
    // A request is out: no snapshot until its answer is in.
    let mut flow2 = Flow::device(config(&peer, Dialect::Rfc8628), start);
    let _ = flow2.poll_output();
    assert_eq!(
        flow2.snapshot(start, wall_start()).unwrap_err(),
        device_grant::SnapshotError::RequestOut
    );
}
