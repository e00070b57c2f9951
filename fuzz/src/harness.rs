//! The fuzz harness: each target takes raw fuzz bytes, decodes them into driver inputs, and
//! drives a `Flow` through its public API while [`check::Run`] checks every output.
//!
//! This file and its modules depend only on `device-grant` (and the crates it re-exports),
//! `device-grant-sim` (its fixtures and rule checker) and `std`, so the core's test suite
//! includes them as they are and replays the committed corpus on a stable toolchain.

#![allow(dead_code)]

#[path = "check.rs"]
pub mod check;
#[path = "input.rs"]
pub mod input;
#[path = "seeds.rs"]
pub mod seeds;

use std::time::Duration;

/// The provider answers, from the simulator's one table.
pub use device_grant_sim::fixtures;

use check::{Answer, Grant, Polled, Run, Which};
use fixtures::{FIXTURES, Fixture};
use input::{CONTENT_TYPES, Reply, RetryAfter, Source};

/// Every target, by name (the directory names under `corpus/` and `regressions/`).
pub const TARGETS: [&str; 4] = [
    "device_response",
    "token_response",
    "error_response",
    "flow",
];

/// Runs target `name` on `data`; `false` when there is no such target.
pub fn run(name: &str, data: &[u8]) -> bool {
    match name {
        "device_response" => device_response(data),
        "token_response" => token_response(data),
        "error_response" => error_response(data),
        "flow" => flow(data),
        _ => return false,
    }
    true
}

/// How many operations of one `flow` input are run.
pub const MAX_OPS: usize = 64;
/// How many blocking outputs a scripted continuation runs through.
const ROUNDS: usize = 24;

/// The device response the token and error targets start from; its device code is checked
/// never to leak.
pub const DEVICE_FIXTURE: &str = "rfc-dc-01";
const DEVICE_CODE: &str = "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS";

fn fixture_reply(f: &Fixture) -> Reply {
    Reply::new(
        f.status,
        f.content_type.map(str::as_bytes),
        &RetryAfter::None,
        f.body.as_bytes().to_vec(),
    )
}

fn answer(name: &str) -> Answer {
    Answer::Reply(fixture_reply(fixtures::named(name)))
}

/// Reads the common prefix of the response targets: a configuration selector, flags, and a
/// reply whose body is the rest of the input.
fn response_input(data: &[u8]) -> (u8, u8, Reply) {
    let mut src = Source::new(data);
    let sel = src.u8();
    let flags = src.u8();
    let reply = input::reply(&mut src, |s| s.rest().to_vec());
    (sel, flags, reply)
}

/// Starts a device flow and brings it to its first poll with the fixture device response;
/// `None` (after ending the run) when the configuration rejects that response (a small body
/// limit).
fn to_first_poll(sel: u8) -> Option<Run> {
    let mut run = Run::new(Grant::Device, sel);
    run.add_secret(DEVICE_CODE);
    assert!(matches!(run.drain(), Polled::Send(_)));
    run.respond(
        Which::Current,
        &fixture_reply(fixtures::named(DEVICE_FIXTURE)),
    );
    loop {
        match run.drain() {
            Polled::Wait(at) => run.timeout(at),
            Polled::Send(_) => return Some(run),
            Polled::Done => {
                run.end();
                return None;
            }
            other => panic!("the fixture flow stopped at {other:?}"),
        }
    }
}

/// The fuzzed bytes answer the device authorization request; then the flow runs on against
/// a scripted server.
pub fn device_response(data: &[u8]) {
    let (sel, _flags, reply) = response_input(data);
    let mut run = Run::new(Grant::Device, sel);
    assert!(matches!(run.drain(), Polled::Send(_)));
    run.respond(Which::Current, &reply);
    let script = [
        answer("goog-pend-01"),
        Answer::Fail(device_grant::TransportErrorKind::Timeout),
        answer("html-502"),
        answer("gh-slow-01"),
        answer("msv2-tok-01"),
    ];
    run.script(&script, ROUNDS);
    run.end();
}

/// A refresh grant whose one request gets `reply`: it ends with that answer.
fn refresh_answered_by(sel: u8, reply: &Reply) {
    let mut run = Run::new(Grant::Refresh, sel);
    assert!(matches!(run.drain(), Polled::Send(_)));
    run.respond(Which::Current, reply);
    assert_eq!(run.drain(), Polled::Done, "a refresh ends with its answer");
    run.end();
}

/// The fuzzed bytes answer the first poll (flags bit 0 clear) or a refresh request (set);
/// later polls get a token.
pub fn token_response(data: &[u8]) {
    let (sel, flags, reply) = response_input(data);
    if flags & 1 == 1 {
        return refresh_answered_by(sel, &reply);
    }
    let Some(mut run) = to_first_poll(sel) else {
        return;
    };
    run.respond(Which::Current, &reply);
    run.script(&[answer("goog-tok-01")], ROUNDS);
    run.end();
}

/// The fuzzed bytes answer every poll (the error classifier, over and over: back-off
/// doubling, slow_down accumulating), or a refresh request when flags bit 0 is set.
pub fn error_response(data: &[u8]) {
    let (sel, flags, reply) = response_input(data);
    if flags & 1 == 1 {
        return refresh_answered_by(sel, &reply);
    }
    let Some(mut run) = to_first_poll(sel) else {
        return;
    };
    run.respond(Which::Current, &reply);
    let rounds = 2 + usize::from(flags >> 1) % 16;
    run.script(&[Answer::Reply(reply)], rounds);
    run.end();
}

/// Status codes the `flow` target picks from by index.
pub const STATUSES: [u16; 12] = [200, 400, 401, 403, 428, 429, 500, 502, 503, 504, 201, 404];

/// Reads a reply for the `flow` target: mostly fixtures, sometimes altered, sometimes raw.
///
/// Layout: status selector (0: the fixture's own; 1..=239: [`STATUSES`]; 240..: a raw `u16`),
/// header byte (low nibble: 0 the fixture's own content type, 1..=9 [`CONTENT_TYPES`], 10 raw
/// bytes; bits 4-5: `Retry-After` kind), its data, then a body selector (0..=199: a fixture;
/// 200..=231: raw bytes; 232..=243: a fixture cut short; 244..: a fixture with bytes added).
pub fn flow_reply(src: &mut Source<'_>) -> Reply {
    let status_sel = src.u8();
    let raw_status = if status_sel >= 240 {
        Some(100 + src.u16() % 900)
    } else {
        None
    };
    let headers = src.u8();
    let ct_sel = headers & 0x0f;
    let raw_ct = if ct_sel == 10 {
        Some(src.bytes().to_vec())
    } else {
        None
    };
    let ra = match (headers >> 4) & 3 {
        1 => RetryAfter::Seconds(u32::from(src.u16())),
        2 => RetryAfter::Date {
            date: src.u32(),
            at: src.u32(),
        },
        3 => RetryAfter::Raw(src.bytes().to_vec()),
        _ => RetryAfter::None,
    };
    let body_sel = src.u8();
    let pick = |i: u8| &FIXTURES[usize::from(i) % FIXTURES.len()];
    let (fixture, body) = match body_sel {
        0..=199 => {
            let f = pick(body_sel);
            (Some(f), f.body.as_bytes().to_vec())
        }
        200..=231 => (None, src.bytes().to_vec()),
        232..=243 => {
            let f = pick(src.u8());
            let cut = usize::from(src.u16()) % (f.body.len() + 1);
            (Some(f), f.body.as_bytes()[..cut].to_vec())
        }
        _ => {
            let f = pick(src.u8());
            let mut body = f.body.as_bytes().to_vec();
            body.extend_from_slice(src.bytes());
            (Some(f), body)
        }
    };
    let status = match (raw_status, status_sel) {
        (Some(s), _) => s,
        (None, 0) => fixture.map_or(200, |f| f.status),
        (None, s) => STATUSES[usize::from(s) % STATUSES.len()],
    };
    let content_type = match ct_sel {
        0 => fixture
            .and_then(|f| f.content_type)
            .map(|c| c.as_bytes().to_vec()),
        10 => raw_ct,
        n => CONTENT_TYPES
            .get(usize::from(n) - 1)
            .copied()
            .flatten()
            .map(|c| c.as_bytes().to_vec()),
    };
    Reply::new(status, content_type.as_deref(), &ra, body)
}

/// Operation codes of the `flow` target (the low 4 bits of an op byte; bit 7 set means "do not
/// drain the outputs after this input").
pub mod op {
    /// One `poll_output`.
    pub const POLL: u8 = 0;
    /// `poll_output` until the flow blocks.
    pub const DRAIN: u8 = 1;
    /// An answer: id selector, then a `flow_reply`.
    pub const RESPOND: u8 = 2;
    /// A transport failure: id selector, kind.
    pub const FAIL: u8 = 3;
    /// The clock moves: tick selector and its data.
    pub const TICK: u8 = 4;
    /// `cancel()`.
    pub const CANCEL: u8 = 5;
    /// `handle_timeout` with a `now` earlier than the last one: `u16` seconds back.
    pub const REWIND: u8 = 6;
    /// `handle_timeout` at the current `now`.
    pub const NUDGE: u8 = 7;
    /// Do not drain after this input.
    pub const HOLD: u8 = 0x80;

    /// Id selector: the request that is out.
    pub const ID_CURRENT: u8 = 0;
    /// Id selector: an old id (one more byte).
    pub const ID_STALE: u8 = 1;
    /// Id selector: an id never issued (one more byte).
    pub const ID_UNKNOWN: u8 = 2;

    /// Tick selector: `u16` milliseconds.
    pub const TICK_MILLIS: u8 = 0;
    /// Tick selector: `u8` seconds.
    pub const TICK_SECS: u8 = 1;
    /// Tick selector: `u32` seconds.
    pub const TICK_SECS32: u8 = 2;
    /// Tick selector: `u64` seconds (mostly beyond what `Instant` holds, then skipped).
    pub const TICK_SECS64: u8 = 3;
    /// Tick selector: to the last `WaitUntil`.
    pub const TICK_TO_WAIT: u8 = 4;
    /// Tick selector: to the deadline.
    pub const TICK_TO_DEADLINE: u8 = 5;
    /// Tick selector: to one nanosecond before the deadline.
    pub const TICK_BEFORE_DEADLINE: u8 = 6;
    /// Tick selector: `u32` nanoseconds.
    pub const TICK_NANOS: u8 = 7;
}

fn which(src: &mut Source<'_>) -> Which {
    match src.u8() % 8 {
        op::ID_STALE => Which::Stale(usize::from(src.u8())),
        op::ID_UNKNOWN => Which::Unknown(usize::from(src.u8())),
        _ => Which::Current,
    }
}

fn tick(src: &mut Source<'_>, run: &Run) -> Duration {
    let now = run.now();
    let until = |t: Option<std::time::Instant>| {
        t.map_or(Duration::ZERO, |t| t.saturating_duration_since(now))
    };
    match src.u8() % 8 {
        op::TICK_MILLIS => Duration::from_millis(u64::from(src.u16())),
        op::TICK_SECS => Duration::from_secs(u64::from(src.u8())),
        op::TICK_SECS32 => Duration::from_secs(u64::from(src.u32())),
        op::TICK_SECS64 => Duration::from_secs(src.u64()),
        op::TICK_TO_WAIT => until(run.last_wait()),
        op::TICK_TO_DEADLINE => until(run.deadline()),
        op::TICK_BEFORE_DEADLINE => until(run.deadline()).saturating_sub(Duration::from_nanos(1)),
        _ => Duration::from_nanos(u64::from(src.u32())),
    }
}

/// A sequence of inputs (answers of any kind, failures, clock ticks, cancel, misuse) driven
/// into `Flow::device` or `Flow::refresh`, checked after every step.
pub fn flow(data: &[u8]) {
    let mut src = Source::new(data);
    let sel = src.u8();
    let grant = if src.u8() & 1 == 1 {
        Grant::Refresh
    } else {
        Grant::Device
    };
    let mut run = Run::new(grant, sel);
    for _ in 0..MAX_OPS {
        if src.is_empty() {
            break;
        }
        let code = src.u8();
        let input = match code & 0x0f {
            op::POLL => {
                run.poll();
                false
            }
            op::DRAIN => {
                run.drain();
                false
            }
            op::RESPOND | 8 | 9 | 10 => {
                let which = which(&mut src);
                let reply = flow_reply(&mut src);
                run.respond(which, &reply);
                true
            }
            op::FAIL | 13 => {
                let which = which(&mut src);
                let kind = input::transport_kind(src.u8());
                run.transport(which, kind);
                true
            }
            op::TICK | 11 | 12 => {
                let by = tick(&mut src, &run);
                run.advance(by);
                true
            }
            op::CANCEL => {
                run.cancel();
                true
            }
            op::REWIND => {
                let back = Duration::from_secs(u64::from(src.u16()));
                let at = run.now().checked_sub(back).unwrap_or(run.now());
                run.timeout(at);
                true
            }
            _ => {
                run.timeout(run.now());
                true
            }
        };
        if input && code & op::HOLD == 0 {
            run.drain();
        }
    }
    run.end();
}
