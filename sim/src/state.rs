//! The server's mutable state, shared with the referee.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::encoding::normalize_user_code;
use crate::referee::{Decision, Ending, FlowId, FlowInfo, RecordedRequest, Violation};
use crate::script::{Fault, Script, ScriptDecision};

#[derive(Debug)]
pub(crate) struct Flow {
    pub(crate) id: FlowId,
    pub(crate) device_code: String,
    pub(crate) user_code: String,
    pub(crate) client_id: String,
    pub(crate) scope: Option<String>,
    pub(crate) resource: Option<String>,
    pub(crate) script: Script,
    pub(crate) created: Instant,
    pub(crate) expires_at: Instant,
    /// The interval the server currently expects between polls.
    pub(crate) interval: Duration,
    pub(crate) polls: u32,
    pub(crate) last_poll: Option<Instant>,
    pub(crate) decision: Decision,
    pub(crate) ending: Option<Ending>,
    /// How often the expired error was sent (Auth0 sends it once).
    pub(crate) expired_answers: u32,
}

impl Flow {
    pub(crate) fn info(&self) -> FlowInfo {
        FlowInfo {
            id: self.id,
            user_code: self.user_code.clone(),
            client_id: self.client_id.clone(),
            created_at: self.created,
            polls: self.polls,
            interval: self.interval,
            decision: self.decision,
            ending: self.ending,
        }
    }

    /// Applies the script's automatic decision as of poll `poll` at `now`.
    pub(crate) fn decide(&mut self, poll: u32, now: Instant) {
        if self.decision != Decision::Pending {
            return;
        }
        let elapsed = now.saturating_duration_since(self.created);
        self.decision = match self.script.decision {
            ScriptDecision::ApproveAfterPolls(n) if poll > n => Decision::Approved,
            ScriptDecision::ApproveAfter(d) if elapsed >= d => Decision::Approved,
            ScriptDecision::DenyAfterPolls(n) if poll > n => Decision::Denied,
            ScriptDecision::DenyAfter(d) if elapsed >= d => Decision::Denied,
            _ => Decision::Pending,
        };
    }

    /// Whether the server considers the code expired at poll `poll`.
    pub(crate) fn expired(&self, poll: u32, now: Instant) -> bool {
        now >= self.expires_at
            || matches!(self.script.decision, ScriptDecision::ExpireAfterPolls(n) if poll > n)
    }

    /// Whether a person can still approve or deny it at `now`.
    pub(crate) fn decidable(&self, now: Instant) -> bool {
        self.ending.is_none() && self.decision == Decision::Pending && now < self.expires_at
    }
}

#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) violations: Vec<Violation>,
    pub(crate) flows: Vec<Flow>,
    pub(crate) by_device_code: HashMap<String, usize>,
    /// Live refresh tokens and the flow index they belong to.
    pub(crate) refresh_tokens: HashMap<String, usize>,
    pub(crate) scripts: VecDeque<Script>,
    pub(crate) device_faults: VecDeque<Fault>,
    pub(crate) refresh_faults: VecDeque<Fault>,
    /// DPoP mode's proofs and bound tokens.
    pub(crate) dpop: crate::dpop::Ledger,
}

impl Shared {
    pub(crate) fn flow(&self, id: FlowId) -> Option<&Flow> {
        self.flows.get((id.0 as usize).checked_sub(1)?)
    }

    pub(crate) fn flow_by_user_code(&mut self, user_code: &str) -> Option<&mut Flow> {
        let wanted = normalize_user_code(user_code);
        if wanted.is_empty() {
            return None;
        }
        self.flows
            .iter_mut()
            .find(|f| normalize_user_code(&f.user_code) == wanted)
    }

    /// A person approves (`true`) or denies the flow with this user code.
    pub(crate) fn decide_by_user_code(
        &mut self,
        user_code: &str,
        approve: bool,
        now: Instant,
    ) -> Option<FlowId> {
        let flow = self.flow_by_user_code(user_code)?;
        if !flow.decidable(now) {
            return None;
        }
        flow.decision = if approve {
            Decision::Approved
        } else {
            Decision::Denied
        };
        Some(flow.id)
    }
}
