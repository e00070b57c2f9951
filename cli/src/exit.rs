//! Exit statuses and the errors that lead to them.
//!
//! Scripts branch on the status, people read the message: every message names the cause and
//! what to do next, and never carries a secret.

use std::fmt;
use std::process::ExitCode;

use device_grant::{Endpoint, FlowError};

/// What kind of failure ended the command; each kind has its own exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Something unexpected, such as stdout closed early.
    Other,
    /// The command line or the configuration cannot work.
    Usage,
    /// The user or a policy denied the sign-in.
    Denied,
    /// The device code expired before anyone approved it.
    Expired,
    /// The server refused a request or sent an answer that cannot be used.
    Server,
    /// A server could not be reached.
    Network,
    /// The cache file is missing, unreadable, or cannot be written.
    Cache,
    /// The user pressed Ctrl-C (SIGINT); the shell convention is 128 + 2.
    Interrupted,
}

impl Failure {
    /// The process exit status.
    pub fn status(self) -> u8 {
        match self {
            Failure::Other => 1,
            Failure::Usage => 2,
            Failure::Denied => 3,
            Failure::Expired => 4,
            Failure::Server => 5,
            Failure::Network => 6,
            Failure::Cache => 7,
            Failure::Interrupted => 130,
        }
    }

    /// The name of the kind in JSON errors.
    pub fn name(self) -> &'static str {
        match self {
            Failure::Other => "other",
            Failure::Usage => "usage",
            Failure::Denied => "denied",
            Failure::Expired => "expired",
            Failure::Server => "server",
            Failure::Network => "network",
            Failure::Cache => "cache",
            Failure::Interrupted => "interrupted",
        }
    }
}

/// The exit status table shown at the end of `--help`.
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  success
  1  unexpected failure (for example, stdout was closed)
  2  usage error: bad arguments or configuration
  3  the sign-in was denied
  4  the code expired before anyone approved it
  5  the server refused the request or answered something unusable
  6  a server could not be reached
  7  the cache file is missing, unreadable or could not be written
130  interrupted (Ctrl-C); nothing was stored";

/// A failure with the message for the user.
#[derive(Debug)]
pub struct CliError {
    failure: Failure,
    message: String,
}

impl CliError {
    /// A failure of this kind with a message that says what to do next.
    pub fn new(failure: Failure, message: impl Into<String>) -> Self {
        Self {
            failure,
            message: message.into(),
        }
    }

    /// A usage error.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Failure::Usage, message)
    }

    /// A cache error.
    pub fn cache(message: impl Into<String>) -> Self {
        Self::new(Failure::Cache, message)
    }

    /// The kind of failure.
    #[cfg(test)]
    pub fn failure(&self) -> Failure {
        self.failure
    }

    /// `{"kind": ..., "message": ..., "exit_code": ...}`, the `error` member of the JSON
    /// errors on stdout and of the `done` event.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": self.failure.name(),
            "message": self.message,
            "exit_code": self.failure.status(),
        })
    }

    /// The exit code for the process.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.failure.status())
    }

    /// Turns the end of a flow into an error with advice for the command that ran it.
    /// `cause` is the HTTP client's last error, when requests could not be delivered.
    pub fn from_flow(error: FlowError, grant: Grant, cause: Option<String>) -> Self {
        from_flow(error, grant, cause)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Which grant ended, for the advice that follows the message.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// The device flow of `login`.
    Device,
    /// The refresh of `refresh` and `token`.
    Refresh,
}

fn from_flow(error: FlowError, grant: Grant, cause: Option<String>) -> CliError {
    // The core's messages already name the cause without secrets; this adds the next step.
    let (failure, advice) = match &error {
        FlowError::Denied(_) => (
            Failure::Denied,
            "if that was a mistake, run login again and approve the request".to_owned(),
        ),
        FlowError::Expired(_) => (Failure::Expired, "run login again".to_owned()),
        FlowError::OAuth(e) => (Failure::Server, oauth_advice(e.error(), grant)),
        FlowError::InvalidResponse(_) => (
            Failure::Server,
            "check that the endpoints belong to an OAuth server and that --provider matches it"
                .to_owned(),
        ),
        FlowError::Transport { endpoint, .. } => (
            Failure::Network,
            format!(
                "check the {} URL and the network connection, then try again",
                match endpoint {
                    Endpoint::DeviceAuthorization => "device endpoint",
                    _ => "token endpoint",
                }
            ),
        ),
        FlowError::Unavailable {
            cause: device_grant::BackOffCause::Transport(_),
            ..
        } => (
            Failure::Network,
            "check the device endpoint URL and the network connection, then try again".to_owned(),
        ),
        FlowError::Unavailable { .. } => (
            Failure::Server,
            "the server is busy or rate-limiting sign-ins; try again later".to_owned(),
        ),
        FlowError::WrongRegion { region, .. } => (
            Failure::Server,
            format!(
                "run it again for region {}",
                device_grant::display_safe(region)
            ),
        ),
        FlowError::Config(_) => (Failure::Usage, "fix the arguments".to_owned()),
        FlowError::Cancelled => (Failure::Interrupted, "nothing was stored".to_owned()),
        _ => (Failure::Other, String::new()),
    };
    let mut message = match &error {
        // The core says "start the sign-in again"; the advice names the command instead.
        FlowError::Expired(Some(e)) => format!("the code expired before anyone approved it ({e})"),
        FlowError::Expired(None) => "the code expired before anyone approved it".to_owned(),
        _ => error.to_string(),
    };
    match (cause, &error) {
        (Some(cause), FlowError::Expired(_)) => {
            message.push_str(&format!(" and the last poll failed ({cause})"));
        }
        (Some(cause), _) => message.push_str(&format!(" ({cause})")),
        (None, _) => {}
    }
    if !advice.is_empty() {
        // Server descriptions often end in a full stop.
        message.truncate(message.trim_end_matches(['.', ' ']).len());
        message.push_str("; ");
        message.push_str(&advice);
    }
    CliError::new(failure, message)
}

fn oauth_advice(code: &str, grant: Grant) -> String {
    match (code, grant) {
        ("invalid_grant", Grant::Refresh) => {
            "the refresh token is no longer valid; run login again".into()
        }
        ("invalid_client" | "unauthorized_client", _) => {
            "check --client-id, the client secret and --auth-method, and that the app may use the device flow".into()
        }
        ("invalid_scope", _) => "check the --scope values".into(),
        ("invalid_request", _) => {
            "check --provider (it chooses the request format), --scope and --resource".into()
        }
        (_, Grant::Refresh) => "run login again if this persists".into(),
        (_, Grant::Device) => "check the client settings, then run login again".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use device_grant::TransportErrorKind;

    #[test]
    fn statuses_are_distinct() {
        let all = [
            Failure::Other,
            Failure::Usage,
            Failure::Denied,
            Failure::Expired,
            Failure::Server,
            Failure::Network,
            Failure::Cache,
        ];
        for (i, a) in all.iter().enumerate() {
            assert_ne!(a.status(), 0);
            assert!(
                EXIT_STATUS_HELP.contains(&format!("  {}  ", a.status())),
                "{a:?} is not documented"
            );
            for b in &all[i + 1..] {
                assert_ne!(a.status(), b.status(), "{a:?} and {b:?}");
            }
        }
    }

    #[test]
    fn expiry_names_the_next_step() {
        let e = CliError::from_flow(FlowError::Expired(None), Grant::Device, None);
        assert_eq!(e.failure(), Failure::Expired);
        assert!(e.to_string().contains("run login again"), "{e}");
    }

    #[test]
    fn transport_failures_are_network_errors() {
        let e = CliError::from_flow(
            FlowError::Transport {
                endpoint: Endpoint::Token,
                kind: TransportErrorKind::Connect,
            },
            Grant::Refresh,
            Some("Connection refused".into()),
        );
        assert_eq!(e.failure(), Failure::Network);
        let shown = e.to_string();
        assert!(
            shown.contains("(Connection refused); check the token endpoint URL"),
            "{shown}"
        );
    }
}
