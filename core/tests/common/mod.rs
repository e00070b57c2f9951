//! Canned answers and a virtual clock for driving flows through the public API only (a
//! 15-minute flow runs in microseconds): thin wrappers over the simulator's `drive`, which
//! also checks the design's rules on every step.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use device_grant::Flow;
use device_grant_sim::{Options, Scripted};

/// One scripted answer.
pub use device_grant_sim::Answer as Reply;
pub use device_grant_sim::Run;

pub fn json(status: u16, body: &str) -> Reply {
    Reply::json(status, body)
}

pub fn form(status: u16, body: &str) -> Reply {
    Reply::form(status, body)
}

pub fn http_reply(status: u16, content_type: &str, body: &[u8]) -> Reply {
    Reply::http(status, content_type, body)
}

pub fn with_header(reply: Reply, name: &str, value: &str) -> Reply {
    reply.with_header(name, value)
}

/// Drives `flow` against the scripted replies, answering each request after `latency` of
/// virtual time, jumping the clock to every `WaitUntil`. Fails if a rule breaks, if the
/// script runs out or if answers are left unused.
pub fn drive(
    flow: Flow,
    start: Instant,
    replies: impl IntoIterator<Item = Reply>,
    latency: Duration,
) -> Run {
    let mut script = Scripted::new(replies);
    let options = Options {
        latency,
        ..Options::default()
    };
    let run = device_grant_sim::drive_with(flow, &mut script, start, options);
    run.assert_clean();
    assert_eq!(
        script.remaining(),
        0,
        "{} scripted replies left unused",
        script.remaining()
    );
    run
}
