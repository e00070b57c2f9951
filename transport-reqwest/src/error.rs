//! The one error type of this crate: why a run ended without a token.

use std::fmt;

use device_grant::FlowError;

/// Why [`run`](crate::run), [`authorize`](crate::authorize) or [`refresh`](crate::refresh)
/// returned no token.
///
/// Nothing in it holds a device code, a token or a client secret: the core keeps the bodies it
/// reads to itself, and the URLs of HTTP errors are endpoint addresses without their query.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The flow ended without a token: the user denied it, the code expired, the server
    /// refused the request (with every field it sent), an answer could not be used, the
    /// configuration cannot run this flow, or the flow was cancelled.
    Flow(FlowError),
    /// A request could not be delivered and the flow could not go on without it: the device
    /// authorization request, the refresh request, or the polls up to the moment the code
    /// expired. `error` says what the flow made of it ([`FlowError::Transport`], or
    /// [`FlowError::Expired`] when polling failed until the end); `source` is the last
    /// failure, and [`std::error::Error::source`] leads to it.
    Transport {
        /// How the flow ended.
        error: FlowError,
        /// The last failure of the HTTP client.
        source: reqwest::Error,
    },
    /// The preset HTTP client could not be built (for example the TLS backend could not load
    /// the platform's certificates).
    Client(reqwest::Error),
    /// This driver and the flow disagreed about what comes next. That is a bug in
    /// `device-grant-reqwest` or `device-grant`; please report it with this message.
    Internal(String),
}

impl Error {
    /// The flow's own account of how it ended, when it ended (everything but
    /// [`Error::Client`] and [`Error::Internal`]).
    pub fn flow_error(&self) -> Option<&FlowError> {
        match self {
            Error::Flow(e) | Error::Transport { error: e, .. } => Some(e),
            Error::Client(_) | Error::Internal(_) => None,
        }
    }

    /// The HTTP client's error behind this one, if any.
    pub fn reqwest_error(&self) -> Option<&reqwest::Error> {
        match self {
            Error::Transport { source, .. } | Error::Client(source) => Some(source),
            Error::Flow(_) | Error::Internal(_) => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Flow(e) => e.fmt(f),
            Error::Transport {
                error: error @ FlowError::Expired(_),
                ..
            } => write!(
                f,
                "{error} (the server could not be reached when it was last polled; check the network)"
            ),
            Error::Transport { error, .. } => {
                write!(f, "{error}; check the network and the endpoint address")
            }
            Error::Client(_) => f.write_str("the HTTP client could not be set up"),
            Error::Internal(e) => write!(
                f,
                "internal error in the device-grant driver ({e}); please report it"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            // Transparent: the flow error's Display is ours, so its source comes next.
            Error::Flow(e) => e.source(),
            Error::Transport { source, .. } | Error::Client(source) => Some(source),
            // Already in the message.
            Error::Internal(_) => None,
        }
    }
}

impl From<FlowError> for Error {
    fn from(e: FlowError) -> Self {
        Error::Flow(e)
    }
}
