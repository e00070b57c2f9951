//! What can go wrong: the flow's terminal errors, OAuth error responses with every field the
//! server sent, invalid responses, configuration errors and API misuse.

use std::fmt;

use serde_json::{Map, Value};

use crate::request_id::RequestId;
use crate::safe_text::Safe;

/// Which endpoint a request went to or an answer came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// The device authorization endpoint (RFC 8628 §3.1).
    DeviceAuthorization,
    /// The token endpoint (device code polls and the refresh-token grant).
    Token,
    /// Zoho's `/oauth/serverinfo` of the configured accounts server, asked where the data
    /// centre named by an `other_dc` answer is.
    ServerInfo,
    /// A client registration endpoint (AWS's `/client/register`).
    Registration,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Endpoint::DeviceAuthorization => "device authorization endpoint",
            Endpoint::Token => "token endpoint",
            Endpoint::ServerInfo => "accounts server's /oauth/serverinfo",
            Endpoint::Registration => "client registration endpoint",
        })
    }
}

/// An OAuth error response (RFC 6749 §5.2), kept with every field the server sent.
///
/// Microsoft adds `error_codes`, `trace_id`, `correlation_id` and `timestamp`; GitHub adds
/// `interval` to `slow_down`. Those and any other members are in [`ErrorResponse::extra`].
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorResponse {
    pub(crate) endpoint: Endpoint,
    pub(crate) status: u16,
    pub(crate) error: String,
    pub(crate) description: Option<String>,
    pub(crate) uri: Option<String>,
    pub(crate) extra: Map<String, Value>,
}

impl ErrorResponse {
    /// The `error` code, exactly as sent (for example `invalid_client`).
    pub fn error(&self) -> &str {
        &self.error
    }

    /// `error_description`, if the server sent one.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// `error_uri`, if the server sent one.
    pub fn uri(&self) -> Option<&str> {
        self.uri.as_deref()
    }

    /// Every other member of the body (for Microsoft: `error_codes`, `trace_id`,
    /// `correlation_id`, `timestamp`). Values from form-encoded bodies are strings.
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }

    /// The HTTP status the error arrived with. Providers disagree (GitHub uses 200, Google
    /// 428 and 403, Auth0 403 and 429), which is why the core classifies by body.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The endpoint that answered.
    pub fn endpoint(&self) -> Endpoint {
        self.endpoint
    }
}

/// The code and the first line of the description, through
/// [`display_safe`](crate::display_safe).
impl fmt::Display for ErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", Safe(&self.error))?;
        if let Some(d) = &self.description {
            // Microsoft's descriptions end in "\r\nTrace ID: ..."; the first line is the message.
            let first = d.lines().next().unwrap_or("").trim();
            if !first.is_empty() {
                write!(f, ": {}", Safe(first))?;
            }
        }
        Ok(())
    }
}

/// What was wrong with a response that is neither a valid answer nor an OAuth error.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The body was larger than the configured limit.
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A non-success status without an OAuth error in the body.
    UnexpectedStatus,
    /// The body could not be read as JSON or form-encoded parameters.
    Unreadable {
        /// What the body looked like: "an empty body", "an HTML page", "malformed JSON", ...
        looked_like: &'static str,
    },
    /// A required member was missing.
    MissingField(&'static str),
    /// A required member was present but empty.
    EmptyField(&'static str),
    /// A member had the wrong type or an impossible value.
    InvalidField {
        /// The member.
        field: &'static str,
        /// What was expected instead.
        expected: &'static str,
    },
    /// A verification URI the user cannot safely be sent to.
    UnsafeUri {
        /// The member: `verification_uri` or `verification_uri_complete`.
        field: &'static str,
        /// What was wrong with it.
        reason: UriProblem,
    },
}

/// Why a verification URI was refused. The user opens it and types a code there, so it must
/// be a web page reached over https (or plain http that stays on this machine).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UriProblem {
    /// Not a URL, even relative to the device authorization endpoint.
    NotAUrl,
    /// A scheme other than `https` or `http` (`javascript:`, `file:`, `data:`, ...).
    Scheme,
    /// No host to go to.
    NoHost,
    /// A user name or password in the authority (`https://good.example@evil.example/`).
    Credentials,
    /// Plain `http` on a host that is not loopback, without
    /// [`allow_insecure_http`](crate::ConfigBuilder::allow_insecure_http).
    InsecureHttp,
    /// A data centre host that is not one of the provider's own (Zoho's `other_dc`).
    UnknownHost,
}

impl fmt::Display for UriProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UriProblem::NotAUrl => "not a URL",
            UriProblem::Scheme => "neither https nor http",
            UriProblem::NoHost => "without a host",
            UriProblem::Credentials => "carrying a user name or password",
            UriProblem::UnknownHost => "not one of the provider's own hosts",
            UriProblem::InsecureHttp => "plain http to a host that is not loopback",
        })
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::BodyTooLarge { limit } => {
                write!(f, "the body is larger than the limit of {limit} bytes")
            }
            Problem::UnexpectedStatus => {
                f.write_str("the status is not a success and the body holds no OAuth error")
            }
            Problem::Unreadable { looked_like } => {
                write!(
                    f,
                    "the body is {looked_like}, not JSON or form-encoded parameters"
                )
            }
            Problem::MissingField(name) => write!(f, "the member `{name}` is missing"),
            Problem::EmptyField(name) => write!(f, "the member `{name}` is empty"),
            Problem::InvalidField { field, expected } => {
                write!(f, "the member `{field}` is not {expected}")
            }
            Problem::UnsafeUri { field, reason } => {
                write!(f, "the member `{field}` is {reason}")
            }
        }
    }
}

/// A response the client could not use, with the endpoint, the HTTP status and what was wrong.
///
/// The body itself is not kept: it may hold a token or a code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidResponse {
    pub(crate) endpoint: Endpoint,
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    pub(crate) problem: Problem,
}

impl InvalidResponse {
    /// The endpoint that answered.
    pub fn endpoint(&self) -> Endpoint {
        self.endpoint
    }
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }
    /// The `Content-Type` header, when there was one.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }
    /// What was wrong.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }
}

impl fmt::Display for InvalidResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unusable answer from the {} (HTTP {}): {}",
            self.endpoint, self.status, self.problem
        )
    }
}

/// The kinds of transport failure an adapter reports with
/// [`Flow::handle_transport_error`](crate::Flow::handle_transport_error).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be made (refused, DNS, unreachable).
    Connect,
    /// The request or the response timed out.
    Timeout,
    /// The connection broke while sending or receiving (reset, closed early, truncated body).
    Io,
    /// Anything else (a TLS failure such as an unknown certificate authority, a protocol
    /// error). While polling this is retried like the others until the device code expires;
    /// before, it ends the flow at once.
    Other,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportErrorKind::Connect => "the connection could not be made",
            TransportErrorKind::Timeout => "the request timed out",
            TransportErrorKind::Io => "the connection broke",
            TransportErrorKind::Other => "the request failed",
        })
    }
}

/// Why a flow ended without a token.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum FlowError {
    /// The user (or a policy) denied the request: `access_denied`, or Microsoft's
    /// `authorization_declined`.
    Denied(ErrorResponse),
    /// The device code expired before anyone approved it. `Some` when the server said so
    /// (`expired_token`, Azure AD v1's `code_expired`), `None` when the local deadline passed.
    Expired(Option<ErrorResponse>),
    /// Any other OAuth error, with every field the server sent.
    OAuth(ErrorResponse),
    /// An answer that could not be used.
    InvalidResponse(InvalidResponse),
    /// The request for the device code, or the refresh request, could not be delivered.
    /// (While polling, transport failures are retried until the code expires.)
    Transport {
        /// The endpoint that could not be reached.
        endpoint: Endpoint,
        /// What went wrong.
        kind: TransportErrorKind,
    },
    /// The device authorization request kept failing in a way worth retrying (no answer,
    /// 429, 5xx, `slow_down`, `temporarily_unavailable`) until the attempts ran out, or the
    /// server asked to wait longer than the back-off cap.
    Unavailable {
        /// The endpoint.
        endpoint: Endpoint,
        /// Requests made.
        attempts: u32,
        /// The last failure.
        cause: crate::flow::BackOffCause,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<std::time::Duration>,
    },
    /// The server answered that this client talks to the wrong region (AWS's
    /// `InvalidRequestRegionException`: `invalid_request` with `region` and `endpoint`).
    WrongRegion {
        /// The region the server named.
        region: String,
        /// The endpoint the server named, when it did.
        endpoint: Option<String>,
        /// The whole answer.
        error: Box<ErrorResponse>,
    },
    /// The configuration cannot run this flow.
    Config(ConfigError),
    /// [`Flow::cancel`](crate::Flow::cancel) was called.
    Cancelled,
    /// DPoP failed: the signer could not sign, or (strict mode) the token is not bound.
    Dpop(crate::dpop::DpopError),
    /// The flow found itself in a state it cannot be in: a bug in this crate. Never expected;
    /// reported rather than guessed around.
    Internal,
}

impl FlowError {
    /// The OAuth error response behind this error, when there is one.
    pub fn error_response(&self) -> Option<&ErrorResponse> {
        match self {
            FlowError::Denied(e) | FlowError::OAuth(e) => Some(e),
            FlowError::WrongRegion { error, .. } => Some(error),
            FlowError::Expired(e) => e.as_ref(),
            _ => None,
        }
    }
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlowError::Denied(e) => write!(f, "the authorization request was denied ({e})"),
            FlowError::Expired(Some(e)) => write!(
                f,
                "the code expired before anyone approved it ({e}); start the sign-in again"
            ),
            FlowError::Expired(None) => {
                f.write_str("the code expired before anyone approved it; start the sign-in again")
            }
            FlowError::OAuth(e) => write!(f, "the {} refused the request: {e}", e.endpoint),
            FlowError::InvalidResponse(e) => e.fmt(f),
            FlowError::Transport { endpoint, kind } => {
                write!(f, "could not reach the {endpoint}: {kind}")
            }
            FlowError::Unavailable {
                endpoint,
                attempts,
                cause,
                retry_after,
            } => {
                write!(f, "the {endpoint} is unavailable ({cause}")?;
                if let Some(wait) = retry_after {
                    write!(f, "; it asks to wait {} s", wait.as_secs())?;
                }
                write!(
                    f,
                    "); gave up after {attempts} attempt{}: try again later",
                    if *attempts == 1 { "" } else { "s" }
                )
            }
            FlowError::WrongRegion {
                region, endpoint, ..
            } => {
                write!(
                    f,
                    "the server says this sign-in belongs to region {}",
                    crate::safe_text::Safe(region)
                )?;
                if let Some(e) = endpoint {
                    write!(f, " ({})", crate::safe_text::Safe(e))?;
                }
                f.write_str(": use that region's endpoints")
            }
            FlowError::Config(e) => write!(f, "invalid configuration: {e}"),
            FlowError::Cancelled => f.write_str("the flow was cancelled"),
            FlowError::Dpop(e) => e.fmt(f),
            FlowError::Internal => f.write_str("internal error in the device-grant flow"),
        }
    }
}

impl std::error::Error for FlowError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FlowError::Config(e) => Some(e),
            FlowError::Dpop(e) => Some(e),
            _ => None,
        }
    }
}

/// A configuration that cannot be used, found when it is built, before any request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// An endpoint is not a valid absolute URL.
    InvalidUrl {
        /// Which endpoint.
        endpoint: Endpoint,
        /// Why it was rejected.
        reason: String,
    },
    /// An endpoint uses plain `http` on a host that is not loopback.
    InsecureEndpoint {
        /// Which endpoint.
        endpoint: Endpoint,
        /// The host.
        host: String,
    },
    /// No token endpoint was given.
    MissingTokenEndpoint,
    /// [`Flow::device`](crate::Flow::device) needs a device authorization endpoint.
    MissingDeviceEndpoint,
    /// The client id is empty.
    EmptyClientId,
    /// A scope, parameter name or value cannot be sent (for example an empty name).
    InvalidParameter(String),
    /// The DPoP signer's key cannot be used.
    Dpop(crate::dpop::DpopError),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::InvalidUrl { endpoint, reason } => {
                write!(f, "the {endpoint} is not a valid URL: {reason}")
            }
            ConfigError::InsecureEndpoint { endpoint, host } => write!(
                f,
                "the {endpoint} uses plain http on {host}; use https (plain http is allowed only on loopback hosts, or after allow_insecure_http())"
            ),
            ConfigError::MissingTokenEndpoint => f.write_str("no token endpoint was given"),
            ConfigError::MissingDeviceEndpoint => {
                f.write_str("no device authorization endpoint was given")
            }
            ConfigError::EmptyClientId => f.write_str("the client id is empty"),
            ConfigError::InvalidParameter(what) => write!(f, "invalid parameter: {what}"),
            ConfigError::Dpop(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The caller used the flow in a way it cannot accept. The flow's state is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UsageError {
    /// The request id is not the one the flow is waiting for (unknown, stale, or answered
    /// already).
    UnknownRequest(RequestId),
    /// The flow has finished; its result stays available from `poll_output`.
    Finished,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::UnknownRequest(id) => {
                write!(f, "request {id:?} is not the one the flow is waiting for")
            }
            UsageError::Finished => f.write_str("the flow has already finished"),
        }
    }
}

impl std::error::Error for UsageError {}
