//! What the simulated user and server do during one device flow.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// The behaviour of one device flow: what the simulated user decides and
/// when, plus events (`slow_down`, faults) at chosen poll numbers.
///
/// Polls are numbered from 1 per flow, counting every token request that
/// carries the flow's device code, including early and faulted ones.
///
/// ```
/// use device_grant_sim::{Fault, Script};
/// use std::time::Duration;
///
/// // Pending, slow_down (GitHub-style with a new interval), a 503, then the token.
/// let script = Script::approve_after_polls(3)
///     .slow_down_at(1, Some(Duration::from_millis(100)))
///     .fault_at(2, Fault::ServiceUnavailable(None));
/// # let _ = script;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    pub(crate) decision: ScriptDecision,
    pub(crate) events: BTreeMap<u32, PollEvent>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ScriptDecision {
    ApproveAfterPolls(u32),
    ApproveAfter(Duration),
    DenyAfterPolls(u32),
    DenyAfter(Duration),
    Manual,
    ExpireAfterPolls(u32),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PollEvent {
    SlowDown(Option<Duration>),
    Fault(Fault),
}

impl Script {
    fn with(decision: ScriptDecision) -> Self {
        Script {
            decision,
            events: BTreeMap::new(),
        }
    }

    /// The user approves after the client's `n`-th poll: polls `1..=n` are
    /// pending, poll `n + 1` gets the token (`0`: the first poll does).
    pub fn approve_after_polls(n: u32) -> Self {
        Script::with(ScriptDecision::ApproveAfterPolls(n))
    }

    /// The user approves once `delay` has passed since the device
    /// authorization response (wall clock); the next poll gets the token.
    pub fn approve_after(delay: Duration) -> Self {
        Script::with(ScriptDecision::ApproveAfter(delay))
    }

    /// The user denies after the `n`-th poll: poll `n + 1` gets the
    /// dialect's denied error.
    pub fn deny_after_polls(n: u32) -> Self {
        Script::with(ScriptDecision::DenyAfterPolls(n))
    }

    /// The user denies once `delay` has passed (wall clock).
    pub fn deny_after(delay: Duration) -> Self {
        Script::with(ScriptDecision::DenyAfter(delay))
    }

    /// Nobody decides automatically: only the `/device` page or
    /// [`Server::approve`](crate::Server::approve) /
    /// [`Server::deny`](crate::Server::deny) do. Without them the flow ends
    /// when `expires_in` has passed.
    pub fn manual() -> Self {
        Script::with(ScriptDecision::Manual)
    }

    /// The user never approves, so the client runs into `expires_in`. The
    /// same as [`Script::manual`] with nobody visiting the page.
    pub fn never() -> Self {
        Script::manual()
    }

    /// The server expires the device code after `n` polls: poll `n + 1`
    /// gets the dialect's expired error, whatever `expires_in` said.
    pub fn expire_after_polls(n: u32) -> Self {
        Script::with(ScriptDecision::ExpireAfterPolls(n))
    }

    /// Poll number `poll` is answered with the dialect's `slow_down`,
    /// carrying `interval` when given (GitHub always carries one: the given
    /// interval, or the current one plus 5 s). The server then expects the
    /// given interval, or the current one plus 5 s, between later polls.
    pub fn slow_down_at(mut self, poll: u32, interval: Option<Duration>) -> Self {
        self.events.insert(poll, PollEvent::SlowDown(interval));
        self
    }

    /// Poll number `poll` is answered with `fault`. A faulted poll never
    /// reveals or changes the user's decision: where a fault sends a body it
    /// is the dialect's pending answer, mangled.
    pub fn fault_at(mut self, poll: u32, fault: Fault) -> Self {
        self.events.insert(poll, PollEvent::Fault(fault));
        self
    }
}

impl Default for Script {
    /// [`Script::approve_after_polls(1)`](Script::approve_after_polls).
    fn default() -> Self {
        Script::approve_after_polls(1)
    }
}

/// A `Retry-After` header value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: <n>` (delay-seconds).
    Seconds(u64),
    /// `Retry-After: <HTTP-date>` this far in the future, with a `Date`
    /// header from the same clock, so a client can compute the delay.
    Date(Duration),
}

/// A transport-level or gateway failure answered instead of the real
/// response. Inject it with [`Script::fault_at`] (token polls) or
/// [`Server::inject_fault`](crate::Server::inject_fault) (device and
/// refresh requests).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The status line, headers and part of a chunked body are sent, then
    /// the connection is reset (TCP RST).
    Reset,
    /// Nothing is sent for this long (set it beyond the client's timeout);
    /// then the normal pending answer follows if the client still listens.
    Stall(Duration),
    /// `502 Bad Gateway` with an HTML gateway page.
    BadGateway,
    /// `503 Service Unavailable` (HTML), with `Retry-After` when given.
    ServiceUnavailable(Option<RetryAfter>),
    /// `429 Too Many Requests` (plain text, no OAuth body), with
    /// `Retry-After` when given.
    TooManyRequests(Option<RetryAfter>),
    /// `Content-Length` announces the whole body, half of it is sent, then
    /// the connection is closed (FIN).
    TruncatedBody,
    /// A streamed (chunked) body of this many bytes, e.g. 4 MiB; a JSON
    /// pending error padded with spaces.
    OversizedBody(usize),
    /// The pending answer with invalid UTF-8 bytes in `error_description`.
    InvalidUtf8,
    /// The pending answer with a wrong `Content-Type`: a JSON body labelled
    /// `text/html`, a form body (GitHub) labelled `application/json`.
    WrongContentType,
    /// `302 Found` to `/redirected/<same path>` on the same server, which
    /// would also accept the request; the referee flags any request there.
    Redirect,
}

impl Fault {
    /// `Fault::OversizedBody` of 4 MiB.
    pub fn oversized() -> Self {
        Fault::OversizedBody(4 * 1024 * 1024)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Reset => f.write_str("connection reset mid-response"),
            Fault::Stall(d) => write!(f, "stall for {d:?}"),
            Fault::BadGateway => f.write_str("502 gateway page"),
            Fault::ServiceUnavailable(_) => f.write_str("503 service unavailable"),
            Fault::TooManyRequests(_) => f.write_str("429 too many requests"),
            Fault::TruncatedBody => f.write_str("truncated body"),
            Fault::OversizedBody(n) => write!(f, "{n}-byte body"),
            Fault::InvalidUtf8 => f.write_str("invalid UTF-8 body"),
            Fault::WrongContentType => f.write_str("wrong Content-Type"),
            Fault::Redirect => f.write_str("302 redirect"),
        }
    }
}

/// Where [`Server::inject_fault`](crate::Server::inject_fault) applies a
/// fault: to the next request of that kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultTarget {
    /// The next device authorization request. It creates no flow and
    /// consumes no queued script; bodies that are sent carry codes the
    /// server does not know.
    DeviceAuthorization,
    /// The next refresh-token grant request. The refresh token is not used
    /// up; bodies that are sent carry tokens the server does not know.
    Refresh,
}

/// The status line a fault sends, if it sends one.
pub(crate) fn fault_status(
    fault: &Fault,
    base: &crate::dialect::Reply,
) -> Option<http::StatusCode> {
    Some(match fault {
        Fault::BadGateway => http::StatusCode::BAD_GATEWAY,
        Fault::ServiceUnavailable(_) => http::StatusCode::SERVICE_UNAVAILABLE,
        Fault::TooManyRequests(_) => http::StatusCode::TOO_MANY_REQUESTS,
        Fault::Redirect => http::StatusCode::FOUND,
        _ => base.status,
    })
}
