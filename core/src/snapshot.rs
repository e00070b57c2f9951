//! Flows that outlive their process: a pending [`Flow`] as a [`Snapshot`] and back. The
//! format and how to protect it are documented on [`Snapshot`], where the published
//! documentation shows them.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::config::Config;
use crate::device::{MAX_EXPIRES_IN, Prompt, PromptMembers};
use crate::flow::{Authorize, Event, Flow, Polling, State};
use crate::request;
use crate::request_id::RequestId;
use crate::secret::{DeviceCode, RefreshToken};

/// The format version written by [`Snapshot::to_json`]; a newer one is refused.
pub const SNAPSHOT_VERSION: u32 = 1;

/// A pending flow as a value that outlives its process: [`Flow::snapshot`] turns a pending
/// flow into one, a plain value with wall-clock times that serializes to JSON, and
/// [`Flow::resume`] turns it back into a flow in another process, days later if need be.
///
/// The core still reads no clock: both calls take the caller's `Instant` and `SystemTime`
/// for the same moment. An `Instant` means nothing outside its process, so every time in
/// the snapshot (deadline, next poll) is a wall-clock time, in Unix milliseconds, rounded
/// up so that a resumed flow never polls earlier than the original would have.
///
/// # The serialized form
///
/// One JSON object, format `version` 1:
///
/// ```json
/// {
///   "version": 1,
///   "client_id": "my-client",
///   "token_endpoint": "https://login.example.com/token",
///   "next_request": 1,
///   "stage": "polling",
///   "device_code": "GmRh...",
///   "prompt": {"user_code": "WDJB-MJHT", "verification_uri": "https://example.com/device",
///              "expires_in": 1800},
///   "prompt_shown": true,
///   "deadline_ms": 1767225600000,
///   "next_poll_ms": 1767223805000,
///   "interval_ms": 5000,
///   "failures": 0
/// }
/// ```
///
/// - `stage`: `polling` (a device flow waiting for the user), `authorize` (a device flow that
///   has not asked for a code yet: it holds nothing else) or `refresh` (a refresh grant not
///   sent yet: `refresh_token` instead of the polling members).
/// - `client_id` and `token_endpoint` identify the configuration: [`Flow::resume`] must be
///   given a [`Config`] with the same two, or it refuses ([`SnapshotError::ConfigMismatch`]).
///   Nothing else of the configuration is stored; the client secret never is.
/// - `prompt`: the device authorization response's members for the user (`user_code`,
///   `verification_uri`, `verification_uri_complete`, `message`, `expires_in`, `extra`), so
///   the code can be shown again. `prompt_shown` is false when the snapshot was taken before
///   the [`Event::UserCode`] was taken out: the resumed flow emits it then.
/// - `deadline_ms`, `next_poll_ms`: Unix milliseconds. `interval_ms` includes every
///   `slow_down` increase; `failures` is the back-off count of failed polls in a row.
/// - `next_request`: the number of the next [`RequestId`].
///
/// Informational events still queued ([`Event::SlowDown`], [`Event::BackOff`]) are not kept:
/// their effect (the interval, the next poll time) is.
///
/// # Protect it like a token
///
/// The serialized snapshot contains the **device code** (or the refresh token): whoever has
/// it can finish the sign-in in the user's name once the user has approved. Store it where
/// the tokens go: a file only the user can read (mode 0600, in a directory others cannot
/// write; the `device-grant-store` crate's token set has a slot for it), the OS keyring, or
/// an encrypted database column. Never log it. `Debug` redacts the device code and the
/// refresh token.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    client_id: String,
    token_endpoint: String,
    next_request: u64,
    stage: Stage,
}

#[derive(Clone, Debug, PartialEq)]
enum Stage {
    Authorize,
    Refresh(RefreshToken),
    Polling(Box<Pending>),
}

#[derive(Clone, Debug, PartialEq)]
struct Pending {
    device_code: DeviceCode,
    prompt: StoredPrompt,
    prompt_shown: bool,
    deadline_ms: u64,
    next_poll_ms: u64,
    interval_ms: u64,
    failures: u32,
}

/// The prompt's members as stored: `None` and an empty `extra` are left out.
#[derive(Clone, Debug, PartialEq)]
struct StoredPrompt {
    user_code: String,
    verification_uri: String,
    verification_uri_complete: Option<String>,
    message: Option<String>,
    /// Seconds, as the server said.
    expires_in: u64,
    extra: Map<String, Value>,
}

/// Why a flow could not be snapshotted, or a snapshot not read or resumed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SnapshotError {
    /// A request is out: take the snapshot after its answer (or failure) was handed in.
    RequestOut,
    /// The flow has ended: there is nothing to resume.
    Finished,
    /// The snapshot was written by a newer version of this library.
    Version(u64),
    /// The text is not a snapshot. The message never quotes a value from it.
    Format(String),
    /// The configuration given to [`Flow::resume`] is not the one the flow ran with.
    ConfigMismatch {
        /// `client_id` or `token_endpoint`.
        field: &'static str,
    },
}

impl std::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SnapshotError::RequestOut => {
                f.write_str("a request is out; snapshot the flow after its answer")
            }
            SnapshotError::Finished => f.write_str("the flow has ended; there is nothing to keep"),
            SnapshotError::Version(v) => write!(
                f,
                "snapshot format version {v} is not supported (this library reads 1 to \
                 {SNAPSHOT_VERSION}); a newer program wrote it"
            ),
            SnapshotError::Format(why) => write!(f, "not a flow snapshot: {why}"),
            SnapshotError::ConfigMismatch { field } => write!(
                f,
                "the snapshot was taken with another configuration (its {field} differs)"
            ),
        }
    }
}

impl std::error::Error for SnapshotError {}

/// Unix milliseconds of `t`, an instant on the caller's clock where `now` is `wall`, rounded
/// up (a poll time never moves earlier).
fn to_unix_ms(t: Instant, now: Instant, wall: SystemTime) -> u64 {
    let at = if t >= now {
        wall.checked_add(t - now)
    } else {
        wall.checked_sub(now - t)
    };
    at.and_then(|at| at.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| {
            u64::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX)
        })
}

/// The instant of Unix milliseconds `ms` on the caller's clock; `None` when it is too far
/// ahead for this clock. A time too far back for it is `now`: it has passed either way.
fn from_unix_ms(ms: u64, now: Instant, wall: SystemTime) -> Option<Instant> {
    let at = UNIX_EPOCH.checked_add(Duration::from_millis(ms))?;
    match at.duration_since(wall) {
        Ok(ahead) => now.checked_add(ahead),
        Err(behind) => Some(now.checked_sub(behind.duration()).unwrap_or(now)),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Flow {
    /// The flow as a value that can leave the process: see [`Snapshot`]. `now` and `wall`
    /// are the same moment on the caller's monotonic and wall clocks.
    ///
    /// A flow can be snapshotted whenever no request is out; the flow itself is unchanged
    /// and can go on (or be dropped, to be resumed elsewhere).
    pub fn snapshot(&self, now: Instant, wall: SystemTime) -> Result<Snapshot, SnapshotError> {
        let stage = match &self.state {
            State::Authorize(a) if a.in_flight.is_none() => Stage::Authorize,
            State::Refresh(token, None) => Stage::Refresh(token.clone()),
            State::Polling(p) if p.in_flight.is_none() => {
                Stage::Polling(Box::new(self.pending(p, now, wall)?))
            }
            State::Authorize(_) | State::Refresh(_, Some(_)) | State::Polling(_) => {
                return Err(SnapshotError::RequestOut);
            }
            State::Done(_) | State::Transition => return Err(SnapshotError::Finished),
        };
        Ok(Snapshot {
            client_id: self.config.client_id.clone(),
            token_endpoint: self.config.token_endpoint.0.as_str().to_owned(),
            next_request: self.next_id.get(),
            stage,
        })
    }

    fn pending(
        &self,
        p: &Polling,
        now: Instant,
        wall: SystemTime,
    ) -> Result<Pending, SnapshotError> {
        let device_code = p.device_code.clone();
        let queued = self.events.iter().any(|e| matches!(e, Event::UserCode(_)));
        let prompt = &*p.prompt.0;
        Ok(Pending {
            device_code,
            prompt: StoredPrompt {
                user_code: prompt.user_code.clone(),
                verification_uri: prompt.verification_uri.clone(),
                verification_uri_complete: prompt.verification_uri_complete.clone(),
                message: prompt.message.clone(),
                expires_in: prompt.expires_in.as_secs(),
                extra: prompt.extra.clone(),
            },
            prompt_shown: !queued,
            deadline_ms: to_unix_ms(p.deadline, now, wall),
            next_poll_ms: to_unix_ms(p.next_at, now, wall),
            interval_ms: millis(p.interval),
            failures: p.failures,
        })
    }

    /// A flow from a snapshot, with the configuration it ran with (the same client id and
    /// token endpoint, or [`SnapshotError::ConfigMismatch`]); `now` and `wall` are the same
    /// moment on the caller's two clocks.
    ///
    /// A device flow whose deadline has passed ends with
    /// [`FlowError::Expired`](crate::FlowError::Expired) without sending anything; otherwise
    /// the next poll is at the stored time (or now, if that has passed), never earlier.
    /// If the user was not shown the code yet, [`Event::UserCode`] comes first.
    pub fn resume(
        config: impl Into<Arc<Config>>,
        snapshot: &Snapshot,
        now: Instant,
        wall: SystemTime,
    ) -> Result<Flow, SnapshotError> {
        let config = config.into();
        if snapshot.client_id != config.client_id {
            return Err(SnapshotError::ConfigMismatch { field: "client_id" });
        }
        if snapshot.token_endpoint != config.token_endpoint.0.as_str() {
            return Err(SnapshotError::ConfigMismatch {
                field: "token_endpoint",
            });
        }
        let (state, prompt) = match &snapshot.stage {
            Stage::Authorize => (State::Authorize(Authorize::default()), None),
            Stage::Refresh(token) => (State::Refresh(token.clone(), None), None),
            Stage::Polling(p) => {
                let deadline = from_unix_ms(p.deadline_ms, now, wall).ok_or_else(|| {
                    SnapshotError::Format("the deadline is beyond this clock's range".into())
                })?;
                let next_at = from_unix_ms(p.next_poll_ms, now, wall).unwrap_or(deadline);
                let prompt = p.prompt.to_prompt(deadline);
                let polling = Polling {
                    prompt: prompt.clone(),
                    request: request::poll(&config, &p.device_code, &p.prompt.user_code),
                    lookup: None,
                    moved: false,
                    device_code: p.device_code.clone(),
                    deadline,
                    interval: Duration::from_millis(p.interval_ms),
                    next_at,
                    in_flight: None,
                    failures: p.failures,
                };
                let queue = !p.prompt_shown && now < deadline;
                (State::Polling(polling), queue.then_some(prompt))
            }
        };
        let mut flow = Flow::new(config, now, state);
        flow.next_id = RequestId::from_number(snapshot.next_request);
        if let Some(prompt) = prompt {
            flow.events.push(Event::UserCode(prompt));
        }
        Ok(flow)
    }
}

impl StoredPrompt {
    fn to_prompt(&self, expires_at: Instant) -> Prompt {
        Prompt(Arc::new(PromptMembers {
            user_code: self.user_code.clone(),
            verification_uri: self.verification_uri.clone(),
            verification_uri_complete: self.verification_uri_complete.clone(),
            message: self.message.clone(),
            expires_in: Duration::from_secs(self.expires_in).min(MAX_EXPIRES_IN),
            expires_at,
            extra: self.extra.clone(),
        }))
    }
}

impl Snapshot {
    /// The client id of the configuration the flow ran with.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The token endpoint of the configuration the flow ran with.
    pub fn token_endpoint(&self) -> &str {
        &self.token_endpoint
    }

    /// Whether this is a device flow waiting for the user (not a flow that has not started,
    /// nor a refresh).
    pub fn is_pending_device_flow(&self) -> bool {
        matches!(self.stage, Stage::Polling(_))
    }

    /// What to show the user again, with its expiry on the caller's clock (`now` and `wall`
    /// the same moment). `None` before a code was issued.
    pub fn prompt(&self, now: Instant, wall: SystemTime) -> Option<Prompt> {
        let Stage::Polling(p) = &self.stage else {
            return None;
        };
        let expires_at = from_unix_ms(p.deadline_ms, now, wall).unwrap_or(now);
        Some(p.prompt.to_prompt(expires_at))
    }

    /// When the device code expires, on the wall clock.
    pub fn deadline(&self) -> Option<SystemTime> {
        self.polling()
            .and_then(|p| UNIX_EPOCH.checked_add(Duration::from_millis(p.deadline_ms)))
    }

    /// When the next poll is due, on the wall clock.
    pub fn next_poll(&self) -> Option<SystemTime> {
        self.polling()
            .and_then(|p| UNIX_EPOCH.checked_add(Duration::from_millis(p.next_poll_ms)))
    }

    /// The polling interval in force (`slow_down` increases included).
    pub fn interval(&self) -> Option<Duration> {
        self.polling().map(|p| Duration::from_millis(p.interval_ms))
    }

    fn polling(&self) -> Option<&Pending> {
        match &self.stage {
            Stage::Polling(p) => Some(p),
            _ => None,
        }
    }

    /// The serialized form (see [`Snapshot`]). It holds the device code
    /// or refresh token in clear: store it as you would a token.
    pub fn to_value(&self) -> Value {
        // The secret newtypes have no serde support on purpose: they become plain strings
        // only here. Members go in the order the first release wrote them, which shows only
        // where serde_json's `preserve_order` is on.
        let mut m = Map::new();
        m.insert("version".into(), SNAPSHOT_VERSION.into());
        m.insert("client_id".into(), self.client_id.as_str().into());
        m.insert("token_endpoint".into(), self.token_endpoint.as_str().into());
        m.insert("next_request".into(), self.next_request.into());
        match &self.stage {
            Stage::Authorize => {
                m.insert("stage".into(), "authorize".into());
            }
            Stage::Refresh(t) => {
                m.insert("stage".into(), "refresh".into());
                m.insert("refresh_token".into(), t.secret().into());
            }
            Stage::Polling(p) => {
                m.insert("stage".into(), "polling".into());
                m.insert("device_code".into(), p.device_code.secret().into());
                m.insert("prompt".into(), p.prompt.to_value());
                m.insert("prompt_shown".into(), p.prompt_shown.into());
                m.insert("deadline_ms".into(), p.deadline_ms.into());
                m.insert("next_poll_ms".into(), p.next_poll_ms.into());
                m.insert("interval_ms".into(), p.interval_ms.into());
                m.insert("failures".into(), p.failures.into());
            }
        }
        Value::Object(m)
    }

    /// [`to_value`](Self::to_value) as compact JSON text.
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }

    /// Reads a snapshot written by [`to_json`](Self::to_json). Error messages never quote
    /// the text.
    pub fn from_json(text: &str) -> Result<Snapshot, SnapshotError> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            SnapshotError::Format(format!(
                "not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        Snapshot::from_value(value)
    }

    /// Reads a snapshot written by [`to_value`](Self::to_value). Members it does not know
    /// are skipped; an optional member may be absent or null.
    pub fn from_value(value: Value) -> Result<Snapshot, SnapshotError> {
        match value.get("version").map(Value::as_u64) {
            None => return Err(SnapshotError::Format("no format `version` member".into())),
            Some(Some(v)) if (1..=u64::from(SNAPSHOT_VERSION)).contains(&v) => {}
            Some(Some(v)) => return Err(SnapshotError::Version(v)),
            Some(None) => return Err(SnapshotError::Format("`version` is not a number".into())),
        }
        let mut m = Members::of(value, "the snapshot")?;
        let client_id = m.required("client_id", text)?;
        let token_endpoint = m.required("token_endpoint", text)?;
        let next_request = m.required("next_request", |v| v.as_u64())?;
        let stage = match m.required("stage", text)?.as_str() {
            "authorize" => Stage::Authorize,
            "refresh" => Stage::Refresh(RefreshToken::new(m.required("refresh_token", text)?)),
            "polling" => Stage::Polling(Box::new(Pending::read(m)?)),
            _ => {
                return Err(SnapshotError::Format(
                    "`stage` is none of authorize, refresh, polling".into(),
                ));
            }
        };
        Ok(Snapshot {
            client_id,
            token_endpoint,
            next_request,
            stage,
        })
    }
}

impl Pending {
    /// The polling stage's members of a snapshot.
    fn read(mut m: Members) -> Result<Pending, SnapshotError> {
        let device_code = m.required("device_code", text)?;
        let prompt = StoredPrompt::read(Members(m.required("prompt", object)?))?;
        if device_code.is_empty() || prompt.user_code.is_empty() {
            return Err(SnapshotError::Format(
                "the device code or user code is empty".into(),
            ));
        }
        Ok(Pending {
            device_code: DeviceCode::new(device_code),
            prompt,
            prompt_shown: m.required("prompt_shown", |v| v.as_bool())?,
            deadline_ms: m.required("deadline_ms", |v| v.as_u64())?,
            next_poll_ms: m.required("next_poll_ms", |v| v.as_u64())?,
            interval_ms: m.required("interval_ms", |v| v.as_u64())?,
            failures: m.required("failures", |v| v.as_u64()?.try_into().ok())?,
        })
    }
}

impl StoredPrompt {
    fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("user_code".into(), self.user_code.as_str().into());
        m.insert(
            "verification_uri".into(),
            self.verification_uri.as_str().into(),
        );
        if let Some(complete) = &self.verification_uri_complete {
            m.insert("verification_uri_complete".into(), complete.as_str().into());
        }
        if let Some(message) = &self.message {
            m.insert("message".into(), message.as_str().into());
        }
        m.insert("expires_in".into(), self.expires_in.into());
        if !self.extra.is_empty() {
            m.insert("extra".into(), Value::Object(self.extra.clone()));
        }
        Value::Object(m)
    }

    fn read(mut m: Members) -> Result<StoredPrompt, SnapshotError> {
        Ok(StoredPrompt {
            user_code: m.required("user_code", text)?,
            verification_uri: m.required("verification_uri", text)?,
            verification_uri_complete: m.optional("verification_uri_complete", text)?,
            message: m.optional("message", text)?,
            expires_in: m.required("expires_in", |v| v.as_u64())?,
            extra: m.optional("extra", object)?.unwrap_or_default(),
        })
    }
}

/// The members of one object of a snapshot, taken out by name. Errors name the member but
/// never quote a value: a value in the wrong place could be the device code.
struct Members(Map<String, Value>);

impl Members {
    /// `value`'s members; `what` names it in the error if it is not an object.
    fn of(value: Value, what: &str) -> Result<Members, SnapshotError> {
        object(value)
            .map(Members)
            .ok_or_else(|| SnapshotError::Format(format!("{what} is not a JSON object")))
    }

    /// The member `name`, as `read` makes it; `None` from `read` is the wrong type.
    fn required<T>(
        &mut self,
        name: &str,
        read: impl FnOnce(Value) -> Option<T>,
    ) -> Result<T, SnapshotError> {
        let value = self
            .0
            .remove(name)
            .ok_or_else(|| SnapshotError::Format(format!("missing field `{name}`")))?;
        read(value).ok_or_else(|| wrong_type(name))
    }

    /// Like [`required`](Self::required), for a member that may be absent or null.
    fn optional<T>(
        &mut self,
        name: &str,
        read: impl FnOnce(Value) -> Option<T>,
    ) -> Result<Option<T>, SnapshotError> {
        match self.0.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => read(value).map(Some).ok_or_else(|| wrong_type(name)),
        }
    }
}

fn wrong_type(name: &str) -> SnapshotError {
    SnapshotError::Format(format!("`{name}` has the wrong type"))
}

fn text(value: Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s),
        _ => None,
    }
}

fn object(value: Value) -> Option<Map<String, Value>> {
    match value {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::builder("cid")
            .device_endpoint("https://as.example/device")
            .token_endpoint("https://as.example/token")
            .build()
            .unwrap()
    }

    #[test]
    fn wall_times_round_up_to_the_millisecond() {
        let now = Instant::now();
        let wall = UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(to_unix_ms(now, now, wall), 1_000_000);
        assert_eq!(
            to_unix_ms(now + Duration::from_micros(1), now, wall),
            1_000_001
        );
        assert_eq!(
            to_unix_ms(now.checked_sub(Duration::from_secs(1)).unwrap(), now, wall),
            999_000
        );
        let later = from_unix_ms(1_002_000, now, wall).unwrap();
        assert_eq!(later - now, Duration::from_secs(2));
        assert_eq!(
            from_unix_ms(0, now, wall),
            Some(now.checked_sub(Duration::from_secs(1000)).unwrap_or(now))
        );
    }

    #[test]
    fn a_refresh_not_yet_sent_round_trips_and_debug_hides_it() {
        let now = Instant::now();
        let wall = SystemTime::now();
        let flow = Flow::refresh(config(), RefreshToken::new("rt-secret"), now);
        let snap = flow.snapshot(now, wall).unwrap();
        assert!(!format!("{snap:?}").contains("rt-secret"));
        let back = Snapshot::from_json(&snap.to_json()).unwrap();
        assert_eq!(back, snap);
        let mut resumed = Flow::resume(config(), &back, now, wall).unwrap();
        let crate::Output::Send { request, .. } = resumed.poll_output() else {
            panic!("the refresh is sent");
        };
        assert!(String::from_utf8_lossy(request.body()).contains("refresh_token=rt-secret"));
    }

    #[test]
    fn format_errors_never_quote_the_text() {
        let bad = r#"{"version":1,"client_id":"c","token_endpoint":"t","next_request":0,"stage":"polling","device_code":42,"prompt":"dc-secret"}"#;
        let e = Snapshot::from_json(bad).unwrap_err();
        assert!(!e.to_string().contains("dc-secret"), "{e}");
        let e = Snapshot::from_json(r#"{"version":9}"#).unwrap_err();
        assert_eq!(e, SnapshotError::Version(9));
        assert!(
            Snapshot::from_json("{\"device_code\": \"dc-secret")
                .unwrap_err()
                .to_string()
                .contains("line 1")
        );
    }

    fn polling(prompt: StoredPrompt) -> Snapshot {
        Snapshot {
            client_id: "cid".into(),
            token_endpoint: "https://as.example/token".into(),
            next_request: 3,
            stage: Stage::Polling(Box::new(Pending {
                device_code: DeviceCode::new("dc-secret"),
                prompt,
                prompt_shown: true,
                deadline_ms: 1_767_225_600_000,
                next_poll_ms: 1_767_223_805_000,
                interval_ms: 10_000,
                failures: 2,
            })),
        }
    }

    fn full_prompt() -> StoredPrompt {
        let mut extra = Map::new();
        extra.insert("realm".into(), Value::from("corp"));
        extra.insert("hints".into(), serde_json::json!([1, {"a": null}]));
        StoredPrompt {
            user_code: "WDJB-MJHT".into(),
            verification_uri: "https://as.example/device".into(),
            verification_uri_complete: Some("https://as.example/device?c=WDJB-MJHT".into()),
            message: Some("Enter the code \"WDJB-MJHT\"".into()),
            expires_in: 1800,
            extra,
        }
    }

    fn bare_prompt() -> StoredPrompt {
        StoredPrompt {
            user_code: "WDJB-MJHT".into(),
            verification_uri: "https://as.example/device".into(),
            verification_uri_complete: None,
            message: None,
            expires_in: 1800,
            extra: Map::new(),
        }
    }

    /// Snapshots as the first release wrote them (its serde-derived form): they still load,
    /// and are written again byte for byte.
    #[test]
    fn stored_snapshots_load_and_are_written_the_same() {
        let authorize = Snapshot {
            client_id: "cid".into(),
            token_endpoint: "https://as.example/token".into(),
            next_request: 0,
            stage: Stage::Authorize,
        };
        let refresh = Snapshot {
            next_request: 7,
            stage: Stage::Refresh(RefreshToken::new("rt-secret")),
            ..authorize.clone()
        };
        let cases = [
            (authorize, STORED_AUTHORIZE),
            (refresh, STORED_REFRESH),
            (polling(full_prompt()), STORED_POLLING_FULL),
            (polling(bare_prompt()), STORED_POLLING_BARE),
        ];
        for (snap, stored) in cases {
            assert_eq!(Snapshot::from_json(stored).unwrap(), snap, "{stored}");
            assert_eq!(snap.to_json(), stored);
        }
    }

    /// `STORED_POLLING_BARE` with `edit` applied, read back.
    fn read_edited(edit: impl FnOnce(&mut Map<String, Value>)) -> Result<Snapshot, SnapshotError> {
        let Ok(Value::Object(mut stored)) = serde_json::from_str(STORED_POLLING_BARE) else {
            panic!("the stored snapshot is an object");
        };
        edit(&mut stored);
        Snapshot::from_value(Value::Object(stored))
    }

    #[test]
    fn the_reader_skips_unknown_members_and_absent_or_null_options() {
        let bare = polling(bare_prompt());
        let read = read_edited(|m| {
            m.insert("written_by".into(), Value::from("a later minor release"));
            m["prompt"]["message"] = Value::Null;
            m["prompt"]["verification_uri_complete"] = Value::Null;
        });
        assert_eq!(read.unwrap(), bare);
    }

    #[test]
    fn a_missing_or_mistyped_member_is_a_format_error_that_quotes_nothing() {
        let format_error = |r: Result<Snapshot, SnapshotError>| match r {
            Err(SnapshotError::Format(why)) => {
                assert!(!why.contains("dc-secret") && !why.contains("WDJB"), "{why}");
                why
            }
            other => panic!("expected a format error, got {other:?}"),
        };
        let why = format_error(read_edited(|m| {
            m.remove("device_code");
        }));
        assert!(why.contains("device_code"), "{why}");
        let why = format_error(read_edited(|m| {
            m["prompt"].as_object_mut().unwrap().remove("user_code");
        }));
        assert!(why.contains("user_code"), "{why}");
        let why = format_error(read_edited(|m| {
            m.remove("stage");
        }));
        assert!(why.contains("stage"), "{why}");
        format_error(read_edited(|m| m["stage"] = Value::from("dc-secret")));
        format_error(read_edited(|m| m["failures"] = Value::from(-1)));
        format_error(read_edited(|m| m["failures"] = Value::from(2.5)));
        format_error(read_edited(|m| {
            m["failures"] = Value::from(u64::from(u32::MAX) + 1)
        }));
        format_error(read_edited(|m| m["prompt_shown"] = Value::from("yes")));
        format_error(read_edited(|m| m["prompt"] = Value::from("WDJB-MJHT")));
        format_error(read_edited(|m| m["prompt"]["message"] = Value::from(1)));
        format_error(read_edited(|m| m["prompt"]["extra"] = Value::from("WDJB")));
        format_error(read_edited(|m| m["device_code"] = Value::from("")));
        format_error(read_edited(|m| m["prompt"]["user_code"] = Value::from("")));
        format_error(read_edited(|m| m["client_id"] = Value::from(1)));
        format_error(Snapshot::from_json("[1]"));
    }

    #[test]
    fn another_configuration_is_refused() {
        let now = Instant::now();
        let wall = SystemTime::now();
        let snap = Flow::device(config(), now).snapshot(now, wall).unwrap();
        let other = Config::builder("other")
            .device_endpoint("https://as.example/device")
            .token_endpoint("https://as.example/token")
            .build()
            .unwrap();
        assert_eq!(
            Flow::resume(other, &snap, now, wall).unwrap_err(),
            SnapshotError::ConfigMismatch { field: "client_id" }
        );
    }

    const STORED_AUTHORIZE: &str = r#"{"client_id":"cid","next_request":0,"stage":"authorize","token_endpoint":"https://as.example/token","version":1}"#;
    const STORED_REFRESH: &str = r#"{"client_id":"cid","next_request":7,"refresh_token":"rt-secret","stage":"refresh","token_endpoint":"https://as.example/token","version":1}"#;
    const STORED_POLLING_FULL: &str = r#"{"client_id":"cid","deadline_ms":1767225600000,"device_code":"dc-secret","failures":2,"interval_ms":10000,"next_poll_ms":1767223805000,"next_request":3,"prompt":{"expires_in":1800,"extra":{"hints":[1,{"a":null}],"realm":"corp"},"message":"Enter the code \"WDJB-MJHT\"","user_code":"WDJB-MJHT","verification_uri":"https://as.example/device","verification_uri_complete":"https://as.example/device?c=WDJB-MJHT"},"prompt_shown":true,"stage":"polling","token_endpoint":"https://as.example/token","version":1}"#;
    const STORED_POLLING_BARE: &str = r#"{"client_id":"cid","deadline_ms":1767225600000,"device_code":"dc-secret","failures":2,"interval_ms":10000,"next_poll_ms":1767223805000,"next_request":3,"prompt":{"expires_in":1800,"user_code":"WDJB-MJHT","verification_uri":"https://as.example/device"},"prompt_shown":true,"stage":"polling","token_endpoint":"https://as.example/token","version":1}"#;
}
