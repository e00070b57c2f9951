//! What a scenario's checks look at: the client's exit and output, and the
//! referee's record.

use std::time::Duration;

use crate::{Ending, FlowInfo, RecordedRequest, Referee, RequestKind, Violation};

/// Everything seen of one client run.
pub(crate) struct Run {
    /// The exit code; `None` when killed (time limit) or ended by a signal.
    pub(crate) exit: Option<i32>,
    /// Why the kit stopped the client, if it did (time limit, runaway).
    pub(crate) cut_short: Option<String>,
    pub(crate) stdout: String,
    /// The captured stderr and the `CLIENT_STDERR_FILE` copy, together.
    pub(crate) stderr: String,
    pub(crate) referee: Referee,
    /// The advertised interval of the scenario.
    pub(crate) tick: Duration,
    pub(crate) secret: Option<String>,
    pub(crate) refreshes: u32,
}

/// A check's answer: `Ok(note)` or `Err(why)`.
pub(crate) type Judged = Result<String, String>;

impl Run {
    fn ended(&self) -> String {
        match (&self.cut_short, self.exit) {
            (Some(why), _) => why.clone(),
            (None, Some(code)) => format!("exited {code}"),
            (None, None) => "was killed by a signal".to_owned(),
        }
    }

    /// The client's last stderr line (secrets masked, at most 100
    /// characters), so that a failure explains itself in the table.
    fn last_words(&self) -> String {
        let Some(line) = self.stderr.lines().rev().find(|l| !l.trim().is_empty()) else {
            return String::new();
        };
        let mut line = line.trim().to_owned();
        for (_, secret) in self.secrets() {
            line = line.replace(&secret, "[secret]");
        }
        let short: String = line.chars().take(100).collect();
        format!(": {short}")
    }

    /// The values of `key=...` lines on stdout.
    pub(crate) fn values(&self, key: &str) -> Vec<&str> {
        self.stdout
            .lines()
            .filter_map(|l| l.trim_end_matches('\r').strip_prefix(key))
            .filter_map(|rest| rest.strip_prefix('='))
            .map(str::trim)
            .collect()
    }

    pub(crate) fn flow(&self) -> Option<FlowInfo> {
        self.referee.flows().into_iter().next()
    }

    pub(crate) fn polls(&self) -> Vec<RecordedRequest> {
        self.flow()
            .map(|f| self.referee.polls(f.id))
            .unwrap_or_default()
    }

    pub(crate) fn refresh_requests(&self) -> Vec<RecordedRequest> {
        self.referee
            .requests()
            .into_iter()
            .filter(|r| r.kind == RequestKind::Refresh)
            .collect()
    }

    /// Time between the arrival of poll `n` (from 1) and the next one.
    pub(crate) fn gap_after(&self, n: usize) -> Option<Duration> {
        let polls = self.polls();
        let a = polls.get(n.checked_sub(1)?)?;
        let b = polls.get(n)?;
        Some(b.at.saturating_duration_since(a.at))
    }

    /// The secrets the server saw from this client: device codes, refresh
    /// tokens it sent, the client secret.
    pub(crate) fn secrets(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for r in self.referee.requests() {
            for field in ["device_code", "code"] {
                if r.kind == RequestKind::DevicePoll
                    && let Some(v) = r.form_value(field)
                {
                    out.push(("the device code", v.to_owned()));
                }
            }
            if r.kind == RequestKind::Refresh
                && let Some(v) = r.form_value("refresh_token")
            {
                out.push(("a refresh token", v.to_owned()));
            }
        }
        if let Some(s) = &self.secret {
            out.push(("the client secret", s.clone()));
        }
        out.retain(|(_, v)| v.len() >= 8);
        out
    }

    /// The client signed in: exit 0, an `access_token=` line, and the server
    /// issued a token for the flow.
    pub(crate) fn signed_in(&self) -> Judged {
        let tokens = self.values("access_token");
        let ending = self.flow().and_then(|f| f.ending);
        if self.exit != Some(0) {
            return Err(format!(
                "expected a token, the client {}{}",
                self.ended(),
                self.last_words()
            ));
        }
        match (tokens.iter().find(|t| !t.is_empty()), ending) {
            (None, _) => Err("exit 0 without an access_token= line".to_owned()),
            (Some(_), Some(Ending::Succeeded)) => {
                Ok(format!("token after {} poll(s)", self.polls().len()))
            }
            (Some(_), _) => Err("printed a token the server never issued".to_owned()),
        }
    }

    /// The client gave up without a token: a non-zero exit, no token line.
    pub(crate) fn gave_up(&self, what: &str) -> Judged {
        if let Some(why) = &self.cut_short {
            return Err(format!("{what}, but the client {why}"));
        }
        if !self.values("access_token").is_empty() {
            return Err(format!("{what}, the client printed an access token"));
        }
        match self.exit {
            Some(0) => Err(format!("{what}, the client exited 0")),
            _ => Ok(format!("{what}: {}", self.ended())),
        }
    }

    /// Ended on its own (either way) without a token the server did not issue.
    pub(crate) fn survived(&self) -> Judged {
        if let Some(why) = &self.cut_short {
            return Err(format!("the client {why}"));
        }
        if self.exit.is_none() {
            return Err("killed by a signal".to_owned());
        }
        if self.exit == Some(0) {
            self.signed_in()
        } else {
            Ok(format!("gave up cleanly ({})", self.ended()))
        }
    }

    /// The referee's violations matching `pick`, as a judgement.
    pub(crate) fn no_violation(&self, pick: fn(&Violation) -> bool) -> Judged {
        let found: Vec<String> = self
            .referee
            .violations()
            .into_iter()
            .filter(pick)
            .map(|v| describe(&v))
            .collect();
        match found.as_slice() {
            [] => Ok(String::new()),
            [one] => Err(one.clone()),
            [first, rest @ ..] => Err(format!("{first} (+{} more)", rest.len())),
        }
    }
}

/// A violation in a table cell: without request numbers, durations in ms.
fn describe(v: &Violation) -> String {
    let ms = |d: &Duration| format!("{} ms", d.as_millis());
    match v {
        Violation::EarlyPoll {
            poll,
            gap,
            interval,
            ..
        } => format!(
            "poll {poll} came {} after the previous one, interval {}",
            ms(gap),
            ms(interval)
        ),
        Violation::AfterEnd { ending, .. } => format!("polled again after the flow {ending}"),
        Violation::ClientAuth {
            problem, expected, ..
        } => match expected {
            Some(m) => format!("client authentication: {problem} (registered: {m})"),
            None => format!("client authentication: {problem}"),
        },
        Violation::DeviceCodeExposed { place, .. } => {
            format!("the device code was sent in {place}")
        }
        Violation::RedirectFollowed { target, .. } => format!("followed a redirect to {target}"),
        Violation::DpopProof { problem, .. } => format!("DPoP proof refused: {problem}"),
    }
}
