//! What the harness can predict about an answer without running the core: an independent,
//! deliberately partial reading of DESIGN rules 8-10. Where the reading is ambiguous (no
//! `Content-Type`, a header that lies, fractional seconds) the prediction is `Unknown` and only
//! the general invariants apply.

use std::time::Duration;

use device_grant::serde_json::{self, Map, Value};
use device_grant::url::form_urlencoded;
use device_grant::{Problem, http};

use super::input::Reply;

/// Which request an answer belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The device authorization request.
    Device,
    /// A device code poll.
    Poll,
    /// The refresh-token grant.
    Refresh,
}

/// What an answer must lead to.
#[derive(Clone, Debug)]
pub enum Prediction {
    /// The harness cannot tell.
    Unknown,
    /// Rejected for its size: `InvalidResponse` with `BodyTooLarge`.
    TooLarge,
    /// An OAuth error that ends the flow as `OAuth`.
    OAuth(ErrorBody),
    /// `access_denied` or `authorization_declined` while polling.
    Denied(ErrorBody),
    /// `expired_token` or `code_expired` while polling.
    Expired(ErrorBody),
    /// `authorization_pending` while polling: keep going, no event.
    Pending,
    /// `slow_down` while polling.
    SlowDown {
        /// The `interval` member, when it is present and a whole number of seconds;
        /// `Some(None)` when it is absent.
        sent: Option<Option<Duration>>,
    },
    /// `temporarily_unavailable` while polling: back off.
    TemporarilyUnavailable,
    /// A throttling or gateway status without an OAuth error while polling: back off.
    RetryStatus,
    /// A status that is neither success nor retryable, without an OAuth error, or a retryable
    /// one outside polling: `InvalidResponse` with `UnexpectedStatus`.
    UnexpectedStatus,
    /// A success body at the token endpoint.
    Token(Members),
    /// A success body at the device authorization endpoint.
    Device(Members),
}

/// An OAuth error body: its code and every member the server sent.
#[derive(Clone, Debug)]
pub struct ErrorBody {
    /// The `error` member (or Google's `error_code`).
    pub code: String,
    /// Every member.
    pub fields: Map<String, Value>,
}

/// The members of a success body.
pub type Members = Map<String, Value>;

/// Reads `reply` as an answer to `step`.
pub fn predict(step: Step, reply: &Reply, limit: usize) -> Prediction {
    if reply.body.len() > limit {
        return Prediction::TooLarge;
    }
    let Some(fields) = members(reply) else {
        return Prediction::Unknown;
    };
    let status = http::StatusCode::from_u16(reply.status).expect("100..=999");
    let retryable = matches!(reply.status, 429 | 502 | 503 | 504);
    if let Some(code) = error_code(&fields) {
        let body = ErrorBody { code, fields };
        if step != Step::Poll {
            return Prediction::OAuth(body);
        }
        return match body.code.as_str() {
            "authorization_pending" => Prediction::Pending,
            "slow_down" => Prediction::SlowDown {
                sent: match body.fields.get("interval") {
                    None | Some(Value::Null) => Some(None),
                    Some(v) => whole_seconds(v).map(|s| Some(Duration::from_secs(s))),
                },
            },
            "access_denied" | "authorization_declined" => Prediction::Denied(body),
            "expired_token" | "code_expired" => Prediction::Expired(body),
            "temporarily_unavailable" => Prediction::TemporarilyUnavailable,
            _ => Prediction::OAuth(body),
        };
    }
    if status.is_success() {
        match step {
            Step::Device => Prediction::Device(fields),
            Step::Poll | Step::Refresh => Prediction::Token(fields),
        }
    } else if retryable && step == Step::Poll {
        Prediction::RetryStatus
    } else {
        Prediction::UnexpectedStatus
    }
}

/// The members of the body when the declared `Content-Type` settles how it reads: JSON that
/// parses as an object, or a form body with at least one `=`.
fn members(reply: &Reply) -> Option<Map<String, Value>> {
    let media = reply
        .content_type()?
        .split(';')
        .next()?
        .trim()
        .to_ascii_lowercase();
    if media == "application/json" || media.ends_with("+json") {
        serde_json::from_slice::<Map<String, Value>>(&reply.body).ok()
    } else if media == "application/x-www-form-urlencoded" {
        let body = reply.body.trim_ascii();
        if body.is_empty() || !body.contains(&b'=') {
            return None;
        }
        let mut fields = Map::new();
        for (k, v) in form_urlencoded::parse(body) {
            fields
                .entry(k.into_owned())
                .or_insert_with(|| Value::String(v.into_owned()));
        }
        Some(fields)
    } else {
        None
    }
}

/// The `error` member when it is a non-empty string, else Google's `error_code`.
pub fn error_code(fields: &Map<String, Value>) -> Option<String> {
    ["error", "error_code"]
        .iter()
        .find_map(|name| match fields.get(*name) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        })
}

/// A whole number of seconds, as a JSON number or a numeric string.
pub fn whole_seconds(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// What `required_string` in the core reports for a member, if anything.
pub fn required_string_problem(fields: &Members, name: &'static str) -> Option<Problem> {
    match fields.get(name) {
        None | Some(Value::Null) => Some(Problem::MissingField(name)),
        Some(Value::String(s)) if s.is_empty() => Some(Problem::EmptyField(name)),
        Some(Value::String(_)) => None,
        Some(_) => Some(Problem::InvalidField {
            field: name,
            expected: "a string",
        }),
    }
}

/// A member that is a non-empty string.
pub fn non_empty<'a>(fields: &'a Members, name: &str) -> Option<&'a str> {
    match fields.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    }
}

/// Whether a member is absent (or `null`) or a string.
pub fn absent_or_string(fields: &Members, name: &str) -> bool {
    matches!(
        fields.get(name),
        None | Some(Value::Null | Value::String(_))
    )
}
