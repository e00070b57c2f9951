//! The strictness referee: every request recorded, every rule breach kept.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::config::ClientAuthMethod;
use crate::script::Fault;
use crate::state::Shared;

/// Identifies one device flow (one successful device authorization
/// request); numbered from 1 in creation order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlowId(pub u32);

impl fmt::Display for FlowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flow #{}", self.0)
    }
}

/// What a recorded request was taken to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestKind {
    /// A request to the device authorization endpoint.
    DeviceAuthorization,
    /// A token request with the device-code grant (a poll).
    DevicePoll,
    /// A token request with the refresh-token grant.
    Refresh,
    /// Any other token endpoint request (unknown or missing grant type).
    OtherToken,
    /// The `/device` page a person uses.
    VerificationPage,
    /// A discovery document.
    Discovery,
    /// A token revocation request (RFC 7009) at `/revoke`.
    Revocation,
    /// Nothing is served at that path.
    Unknown,
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// Position in arrival order, from 0.
    pub index: usize,
    /// When it arrived (after its body was read).
    pub at: Instant,
    /// `POST`, `GET`, ...
    pub method: String,
    /// Path and query as sent, e.g. `/token` or `/device?user_code=X`.
    pub target: String,
    /// Header names (lowercase) and values (lossy UTF-8), in order.
    pub headers: Vec<(String, String)>,
    /// The parsed body: form fields, or a JSON object's members.
    pub form: Vec<(String, String)>,
    /// What the request was handled as.
    pub kind: RequestKind,
    /// Whether it came to the redirect target (`/redirected/...`).
    pub redirected: bool,
    /// The flow it belongs to: polls by device code, refreshes by token,
    /// device authorization requests by the flow they created.
    pub flow: Option<FlowId>,
    /// For polls: the poll number within its flow, from 1.
    pub poll: Option<u32>,
    /// The status sent (also for mangled responses); `None` if none was.
    pub status: Option<u16>,
    /// The injected fault that answered it, if any.
    pub fault: Option<Fault>,
}

impl RecordedRequest {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a body field.
    pub fn form_value(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

/// The user's decision on a flow, as of the last poll or page action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Not decided yet.
    Pending,
    /// Approved.
    Approved,
    /// Denied.
    Denied,
}

/// How a flow ended, from the client's point of view: the final answer it
/// was sent for the device code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ending {
    /// A token was issued.
    Succeeded,
    /// The denied error was sent.
    Denied,
    /// The expired error was sent.
    Expired,
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ending::Succeeded => "succeeded",
            Ending::Denied => "was denied",
            Ending::Expired => "expired",
        })
    }
}

/// A snapshot of one flow.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FlowInfo {
    /// Its id.
    pub id: FlowId,
    /// The user code as issued.
    pub user_code: String,
    /// The client it was issued to.
    pub client_id: String,
    /// When the device authorization response was built.
    pub created_at: Instant,
    /// Polls seen so far.
    pub polls: u32,
    /// The interval the server currently expects between polls.
    pub interval: Duration,
    /// The user's decision.
    pub decision: Decision,
    /// How it ended, if it did.
    pub ending: Option<Ending>,
}

/// What was wrong with a client's authentication.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthProblem {
    /// No `client_id` in the form and no Basic header.
    MissingClientId,
    /// The client id is not registered.
    UnknownClient(String),
    /// The Basic header is not `Basic base64(urlencode(id):urlencode(secret))`.
    MalformedBasic,
    /// The id in the Basic header differs from the form's `client_id`.
    ClientIdMismatch,
    /// Both a Basic header and a `client_secret` form field.
    MultipleMethods,
    /// Authenticated with another method than the configured one.
    WrongMethod(ClientAuthMethod),
    /// A public client sent a secret.
    SecretFromPublicClient,
    /// No secret where one is required.
    MissingSecret,
    /// The secret does not match.
    WrongSecret,
}

impl fmt::Display for AuthProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthProblem::MissingClientId => f.write_str("no client_id"),
            AuthProblem::UnknownClient(id) => write!(f, "unknown client {id:?}"),
            AuthProblem::MalformedBasic => f.write_str("malformed Basic credentials"),
            AuthProblem::ClientIdMismatch => {
                f.write_str("Basic header and client_id name different clients")
            }
            AuthProblem::MultipleMethods => {
                f.write_str("secret sent both in the Basic header and the form")
            }
            AuthProblem::WrongMethod(m) => write!(f, "authenticated with {m}"),
            AuthProblem::SecretFromPublicClient => f.write_str("a public client sent a secret"),
            AuthProblem::MissingSecret => f.write_str("no client secret"),
            AuthProblem::WrongSecret => f.write_str("wrong client secret"),
        }
    }
}

/// Where a device code showed up outside a token request's form body.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exposure {
    /// In the path or query string.
    Url,
    /// In a header value (the header's name).
    Header(String),
    /// In the body of a request that is not a token endpoint request.
    Body,
}

impl fmt::Display for Exposure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exposure::Url => f.write_str("the URL"),
            Exposure::Header(h) => write!(f, "header {h}"),
            Exposure::Body => f.write_str("the body"),
        }
    }
}

/// A rule the client broke. `request` is the
/// [`RecordedRequest::index`] of the offending request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// A poll arrived sooner than the current interval after the previous
    /// poll's arrival (minus the tolerance: 10 % of the interval, at least
    /// 20 ms). After a `slow_down` the interval is the increased one.
    EarlyPoll {
        /// Offending request.
        request: usize,
        /// Its flow.
        flow: FlowId,
        /// Its poll number.
        poll: u32,
        /// Time since the previous poll arrived.
        gap: Duration,
        /// The interval in force.
        interval: Duration,
    },
    /// A poll for a flow that had already ended.
    AfterEnd {
        /// Offending request.
        request: usize,
        /// Its flow.
        flow: FlowId,
        /// How the flow had ended.
        ending: Ending,
    },
    /// Client authentication other than configured (or simply wrong).
    ClientAuth {
        /// Offending request.
        request: usize,
        /// What the registered client must use (`None` if unknown client).
        expected: Option<ClientAuthMethod>,
        /// What was wrong.
        problem: AuthProblem,
    },
    /// A device code appeared outside a token endpoint form body: in a URL,
    /// a header, or the body of another request (the device endpoint, the
    /// verification page, the redirect target).
    DeviceCodeExposed {
        /// Offending request.
        request: usize,
        /// The flow whose code it was.
        flow: FlowId,
        /// Where.
        place: Exposure,
    },
    /// A request reached the redirect target: the client followed a redirect.
    RedirectFollowed {
        /// Offending request.
        request: usize,
        /// The target it requested.
        target: String,
    },
    /// In DPoP mode, a request without a valid DPoP proof (RFC 9449 §4.3).
    DpopProof {
        /// Offending request.
        request: usize,
        /// What is wrong with it.
        problem: String,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::EarlyPoll {
                request,
                flow,
                poll,
                gap,
                interval,
            } => write!(
                f,
                "request {request}: {flow} poll {poll} came {gap:?} after the previous poll, interval is {interval:?}"
            ),
            Violation::AfterEnd {
                request,
                flow,
                ending,
            } => write!(f, "request {request}: {flow} polled after it {ending}"),
            Violation::ClientAuth {
                request,
                expected,
                problem,
            } => match expected {
                Some(m) => write!(
                    f,
                    "request {request}: client authentication: {problem} (configured: {m})"
                ),
                None => write!(f, "request {request}: client authentication: {problem}"),
            },
            Violation::DeviceCodeExposed {
                request,
                flow,
                place,
            } => write!(
                f,
                "request {request}: the device code of {flow} appeared in {place}"
            ),
            Violation::RedirectFollowed { request, target } => {
                write!(f, "request {request}: followed a redirect to {target}")
            }
            Violation::DpopProof { request, problem } => {
                write!(f, "request {request}: DPoP proof refused: {problem}")
            }
        }
    }
}

impl std::error::Error for Violation {}

/// Read access to what the server recorded. Cheap to clone; stays usable
/// after the server stopped.
#[derive(Clone, Debug)]
pub struct Referee {
    pub(crate) shared: Arc<Mutex<Shared>>,
}

impl Referee {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every request, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// The polls (device-code token requests) of one flow, in order.
    pub fn polls(&self, flow: FlowId) -> Vec<RecordedRequest> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.kind == RequestKind::DevicePoll && r.flow == Some(flow))
            .cloned()
            .collect()
    }

    /// Every flow, in creation order.
    pub fn flows(&self) -> Vec<FlowInfo> {
        self.lock().flows.iter().map(|f| f.info()).collect()
    }

    /// One flow.
    pub fn flow(&self, id: FlowId) -> Option<FlowInfo> {
        self.lock().flow(id).map(|f| f.info())
    }

    /// The most recently created flow.
    pub fn last_flow(&self) -> Option<FlowInfo> {
        self.lock().flows.last().map(|f| f.info())
    }

    /// How many requests reached the redirect target.
    pub fn redirect_hits(&self) -> usize {
        self.lock().requests.iter().filter(|r| r.redirected).count()
    }

    /// Every violation so far, in order.
    pub fn violations(&self) -> Vec<Violation> {
        self.lock().violations.clone()
    }

    /// `Ok` when the client broke no rule, else every violation.
    pub fn check(&self) -> Result<(), Vec<Violation>> {
        let v = self.violations();
        if v.is_empty() { Ok(()) } else { Err(v) }
    }

    /// Panics with every violation listed, one a line, unless there are none.
    #[track_caller]
    pub fn assert_clean(&self) {
        if let Err(v) = self.check() {
            let lines: Vec<String> = v.iter().map(|v| format!("  {v}")).collect();
            panic!(
                "the client broke {} rule(s):\n{}",
                v.len(),
                lines.join("\n")
            );
        }
    }
}
