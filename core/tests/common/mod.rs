//! A scripted authorization server and a virtual clock for driving flows through the public
//! API only: a 15-minute flow runs in microseconds.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use device_grant::{Event, Flow, FlowError, Output, TokenResponse, TransportErrorKind};

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Reply {
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    Transport(TransportErrorKind),
}

pub fn json(status: u16, body: &str) -> Reply {
    http_reply(status, "application/json; charset=utf-8", body.as_bytes())
}

pub fn form(status: u16, body: &str) -> Reply {
    http_reply(
        status,
        "application/x-www-form-urlencoded; charset=utf-8",
        body.as_bytes(),
    )
}

pub fn http_reply(status: u16, content_type: &str, body: &[u8]) -> Reply {
    Reply::Http {
        status,
        headers: vec![("content-type".into(), content_type.into())],
        body: body.to_vec(),
    }
}

pub fn with_header(reply: Reply, name: &str, value: &str) -> Reply {
    match reply {
        Reply::Http {
            status,
            mut headers,
            body,
        } => {
            headers.push((name.into(), value.into()));
            Reply::Http {
                status,
                headers,
                body,
            }
        }
        other => other,
    }
}

/// A request the flow sent, with the virtual time it left.
#[derive(Debug)]
pub struct Sent {
    pub at: Instant,
    pub request: http::Request<Vec<u8>>,
}

impl Sent {
    pub fn form(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(self.request.body())
            .into_owned()
            .collect()
    }
    pub fn path(&self) -> &str {
        self.request.uri().path()
    }
}

#[derive(Debug)]
pub struct Run {
    pub start: Instant,
    pub end: Instant,
    pub sent: Vec<Sent>,
    pub events: Vec<(Instant, Event)>,
    pub result: Result<TokenResponse, FlowError>,
}

impl Run {
    pub fn polls(&self) -> Vec<&Sent> {
        self.sent.iter().skip(1).collect()
    }
    pub fn err(&self) -> &FlowError {
        self.result
            .as_ref()
            .expect_err("the flow should have failed")
    }
    pub fn token(&self) -> &TokenResponse {
        match &self.result {
            Ok(t) => t,
            Err(e) => panic!("the flow failed: {e} ({e:?})"),
        }
    }
    /// Seconds between the start and each send.
    pub fn send_times(&self) -> Vec<f64> {
        self.sent
            .iter()
            .map(|s| (s.at - self.start).as_secs_f64())
            .collect()
    }
}

/// Drives `flow` against the scripted replies, answering each request after `latency` of
/// virtual time, jumping the clock to every `WaitUntil`. Checks the no-busy-loop rule on the
/// way and fails if the script runs out.
pub fn drive(
    mut flow: Flow,
    start: Instant,
    replies: impl IntoIterator<Item = Reply>,
    latency: Duration,
) -> Run {
    let mut replies: VecDeque<Reply> = replies.into_iter().collect();
    let mut now = start;
    let mut sent = Vec::new();
    let mut events = Vec::new();
    for _ in 0..100_000 {
        match flow.poll_output() {
            Output::Send { id, request } => {
                sent.push(Sent { at: now, request });
                let reply = replies
                    .pop_front()
                    .unwrap_or_else(|| panic!("the script ran out after {} requests", sent.len()));
                now += latency;
                match reply {
                    Reply::Http {
                        status,
                        headers,
                        body,
                    } => {
                        let mut b = http::Response::builder().status(status);
                        for (k, v) in headers {
                            b = b.header(k, v);
                        }
                        flow.handle_response(id, b.body(body).unwrap(), now)
                            .unwrap();
                    }
                    Reply::Transport(kind) => flow.handle_transport_error(id, kind, now).unwrap(),
                }
            }
            Output::Event(e) => events.push((now, e)),
            Output::WaitUntil(at) => {
                assert!(
                    at > now,
                    "WaitUntil({at:?}) is not later than now ({now:?})"
                );
                now = at;
                flow.handle_timeout(now).unwrap();
            }
            Output::AwaitResponse(id) => panic!("{id:?} is out but this driver answers at once"),
            Output::Done(result) => {
                // Sticky.
                assert!(matches!(flow.poll_output(), Output::Done(_)));
                assert!(
                    replies.is_empty(),
                    "{} scripted replies left unused",
                    replies.len()
                );
                return Run {
                    start,
                    end: now,
                    sent,
                    events,
                    result,
                };
            }
            _ => panic!("unexpected output"),
        }
    }
    panic!("the flow did not finish in 100000 steps");
}
