//! The scenarios: what the server does, and what is checked afterwards.
//!
//! Every interval is a multiple of the run's tick (100 ms, or 1 s with
//! whole seconds), so the catalogue is quick; only the scenarios about the
//! RFC's own 5 s (`slow_down`, a missing or zero `interval`) take longer.

use std::time::Duration;

use super::judge::{Judged, Run};
use super::report::Level::{self, Must, Should};
use crate::{
    Client, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Dialect, Fault, FaultTarget, RetryAfter,
    Script, ServerConfig, Violation,
};

/// The RFC's `slow_down` increase.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// The RFC's default interval.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

type Judge = Box<dyn Fn(&Run) -> Judged>;

/// One check of a scenario.
pub(crate) struct Check {
    pub(crate) name: &'static str,
    pub(crate) section: &'static str,
    pub(crate) level: Level,
    pub(crate) judge: Judge,
}

/// One run of the client against one configured server.
pub(crate) struct Scenario {
    pub(crate) name: &'static str,
    pub(crate) setup: &'static str,
    pub(crate) config: ServerConfig,
    pub(crate) client: Client,
    pub(crate) refreshes: u32,
    pub(crate) faults: Vec<(FaultTarget, Fault)>,
    /// How long the client may run (tripled with whole seconds).
    pub(crate) limit: Duration,
    pub(crate) checks: Vec<Check>,
}

impl Scenario {
    fn new(name: &'static str, setup: &'static str, dialect: Dialect, tick: Duration) -> Self {
        let client = match dialect {
            Dialect::Google => Client::post(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
            _ => Client::public(DEFAULT_CLIENT_ID),
        };
        Scenario {
            name,
            setup,
            config: ServerConfig::new(dialect)
                .interval(tick)
                .client(client.clone()),
            client,
            refreshes: 0,
            faults: Vec::new(),
            limit: Duration::from_secs(20),
            checks: Vec::new(),
        }
    }

    fn script(mut self, script: Script) -> Self {
        self.config = self.config.script(script);
        self
    }

    fn config(mut self, f: impl FnOnce(ServerConfig) -> ServerConfig) -> Self {
        self.config = f(self.config);
        self
    }

    fn client(mut self, client: Client) -> Self {
        self.config = self.config.client(client.clone());
        self.client = client;
        self
    }

    fn limit(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }

    fn check(
        mut self,
        name: &'static str,
        section: &'static str,
        level: Level,
        judge: impl Fn(&Run) -> Judged + 'static,
    ) -> Self {
        self.checks.push(Check {
            name,
            section,
            level,
            judge: Box::new(judge),
        });
        self
    }

    /// Every scenario ends with the referee's verdict on the whole exchange.
    fn refereed(self) -> Self {
        self.check(
            "no rule broken on the wire",
            "8628 §3.4-3.5, 6749 §2.3",
            Must,
            |run| run.no_violation(|_| true),
        )
    }
}

fn signed_in(run: &Run) -> Judged {
    run.signed_in()
}

/// The client waited at least `at_least` (less the referee's tolerance:
/// 10 %, at least 20 ms) after poll `n` before the next one.
fn waited(run: &Run, n: usize, at_least: Duration, what: &str) -> Judged {
    let tolerance = (at_least / 10).max(Duration::from_millis(20));
    match run.gap_after(n) {
        None => Err(format!("no poll after poll {n}")),
        Some(gap) if gap + tolerance >= at_least => {
            Ok(format!("waited {} ms ({what})", gap.as_millis()))
        }
        Some(gap) => Err(format!(
            "waited {} ms after poll {n}, {what} needs {} ms",
            gap.as_millis(),
            at_least.as_millis()
        )),
    }
}

/// Waited the 1 s of `Retry-After`, or did not retry at all ("recovers"
/// judges giving up).
fn honoured_retry_after(run: &Run) -> Judged {
    match run.gap_after(1) {
        None => Ok("did not retry".to_owned()),
        Some(_) => waited(run, 1, Duration::from_secs(1), "Retry-After"),
    }
}

/// How long the server takes to cut a body short (the simulator's pause
/// before a reset), counted in the gap before the client's next poll.
const CUT_DELAY: Duration = Duration::from_millis(50);

/// A back-off longer than the interval: 1.5 intervals after the failure
/// (which itself took `failure`), where doubling the interval, the RFC's
/// recommendation, gives 2.
fn backed_off(run: &Run, n: usize, failure: Duration) -> Judged {
    let at_least = failure + run.tick * 3 / 2;
    match run.gap_after(n) {
        // Giving up is no retry too soon; "recovers" judges giving up.
        None => Ok("did not retry".to_owned()),
        Some(gap) if gap >= at_least => Ok(format!("waited {} ms", gap.as_millis())),
        Some(gap) => Err(format!(
            "retried {} ms after the failure, interval {} ms: no back-off",
            gap.as_millis(),
            run.tick.as_millis()
        )),
    }
}

fn shows_user_code(run: &Run) -> Judged {
    let Some(flow) = run.flow() else {
        return Err("no device authorization request".to_owned());
    };
    if run.stdout.contains(&flow.user_code) {
        Ok(format!("showed {}", flow.user_code))
    } else {
        Err(format!("the user code {} is not on stdout", flow.user_code))
    }
}

fn no_secret_printed(run: &Run) -> Judged {
    let printed = format!("{}\n{}", run.stdout, run.stderr);
    for (what, value) in run.secrets() {
        if printed.contains(&value) {
            return Err(format!("printed {what}"));
        }
    }
    Ok("no device code, refresh token or client secret in the output".to_owned())
}

fn refreshed(run: &Run) -> Judged {
    run.signed_in()?;
    let want = run.refreshes as usize;
    let refreshed = run.values("refreshed_access_token");
    let requests = run.refresh_requests();
    let refused = requests.iter().filter(|r| r.status != Some(200)).count();
    if refused > 0 {
        return Err(format!(
            "{refused} of {} refresh request(s) refused (an old refresh token?)",
            requests.len()
        ));
    }
    if requests.len() != want || refreshed.len() != want {
        return Err(format!(
            "expected {want} refreshes, the server saw {} and the client printed {}",
            requests.len(),
            refreshed.len()
        ));
    }
    Ok(format!("{want} refreshes"))
}

/// Polls arriving after the device code's lifetime (plus 20 ms for the
/// trip). The lifetime is no multiple of the interval, so a client without a
/// deadline sends its last poll well after it.
fn within_deadline(run: &Run, lifetime: Duration) -> Judged {
    let Some(flow) = run.flow() else {
        return Err("no device authorization request".to_owned());
    };
    let deadline = flow.created_at + lifetime + Duration::from_millis(20);
    let late = run.polls().iter().filter(|p| p.at > deadline).count();
    if late == 0 {
        Ok(format!(
            "{} poll(s), none after expires_in",
            run.polls().len()
        ))
    } else {
        Err(format!("{late} poll(s) after expires_in had passed"))
    }
}

fn no_busy_loop(run: &Run) -> Judged {
    let polls = run.polls();
    let shortest = polls
        .windows(2)
        .map(|w| w[1].at.saturating_duration_since(w[0].at))
        .min();
    match shortest {
        Some(gap) if gap < Duration::from_secs(1) => Err(format!(
            "{} polls, {} ms apart at the least: `interval: 0` taken literally",
            polls.len(),
            gap.as_millis()
        )),
        _ => Ok(format!("{} poll(s)", polls.len())),
    }
}

fn pick_redirect(v: &Violation) -> bool {
    matches!(
        v,
        Violation::RedirectFollowed { .. } | Violation::DeviceCodeExposed { .. }
    )
}

fn pick_auth(v: &Violation) -> bool {
    matches!(v, Violation::ClientAuth { .. })
}

/// The catalogue. Generic scenarios use `dialect`; the authentication and
/// dialect-specific ones run only in the default catalogue (RFC 8628).
pub(crate) fn all(tick: Duration, dialect: Dialect) -> Vec<Scenario> {
    let s = |name, setup| Scenario::new(name, setup, dialect, tick);
    let retry_after = RetryAfter::Seconds(1);
    let mut out = vec![
        s("approval-after-pending", "pending twice, then approved")
            .script(Script::approve_after_polls(2))
            .check("signs in", "8628 §3.4-3.5", Must, signed_in)
            .check("shows the user code", "8628 §3.3", Must, shows_user_code),
        s("slow-down", "slow_down at poll 1, approved after poll 2")
            .script(Script::approve_after_polls(2).slow_down_at(1, None))
            .limit(Duration::from_secs(30))
            .check(
                "interval + 5 s after slow_down",
                "8628 §3.5",
                Must,
                move |r| waited(r, 1, tick + SLOW_DOWN_STEP, "interval + 5 s"),
            )
            .check("+5 s kept for later polls", "8628 §3.5", Must, move |r| {
                waited(r, 2, tick + SLOW_DOWN_STEP, "interval + 5 s, for good")
            })
            .check("signs in", "8628 §3.5", Should, signed_in),
        s(
            "slow-down-interval",
            "slow_down carrying interval 3 ticks, then approved",
        )
        .script(Script::approve_after_polls(1).slow_down_at(1, Some(tick * 3)))
        .check(
            "waits the interval slow_down sent",
            "8628 §3.5",
            Must,
            move |r| waited(r, 1, tick * 3, "the slow_down interval"),
        )
        .check("signs in", "8628 §3.5", Should, signed_in),
        s("no-interval", "no interval in the device response")
            .script(Script::approve_after_polls(1))
            .config(ServerConfig::no_interval)
            .check("5 s default interval", "8628 §3.2", Must, |r| {
                waited(r, 1, DEFAULT_INTERVAL, "the 5 s default")
            })
            .check("signs in", "8628 §3.2", Should, signed_in),
        s("zero-interval", "interval 0, approved after 1.5 s")
            .script(Script::approve_after(Duration::from_millis(1500)))
            .config(|c| c.interval(Duration::ZERO))
            .check(
                "no busy loop on interval 0",
                "8628 §3.2, §3.5",
                Should,
                no_busy_loop,
            )
            .check("signs in", "8628 §3.2", Should, signed_in),
        s("denied", "the user denies after poll 1")
            .script(Script::deny_after_polls(1))
            .check("stops on access_denied, fails", "8628 §3.5", Must, |r| {
                r.gave_up("denied")
            }),
        s("expired", "the server expires the code after poll 1")
            .script(Script::expire_after_polls(1))
            .check("stops on expired_token, fails", "8628 §3.5", Must, |r| {
                r.gave_up("expired")
            }),
        s(
            "client-deadline",
            "nobody approves; interval 3 ticks, expires_in 10 ticks",
        )
        .script(Script::never())
        .config(move |c| c.interval(tick * 3).expires_in(tick * 10))
        .check("no poll after expires_in", "8628 §3.2", Should, move |r| {
            within_deadline(r, tick * 10)
        })
        .check("fails when the code expires", "8628 §3.5", Must, |r| {
            r.gave_up("expired")
        }),
        s(
            "connection-reset",
            "poll 1 reset mid-response, approved after poll 2",
        )
        .script(Script::approve_after_polls(2).fault_at(1, Fault::Reset))
        .check(
            "backs off after a connection failure",
            "8628 §3.5",
            Must,
            |r| backed_off(r, 1, CUT_DELAY),
        )
        .check("recovers", "8628 §3.5", Should, signed_in),
        s(
            "stall",
            "poll 1 answered after 15 ticks, approved after poll 2",
        )
        .script(Script::approve_after_polls(2).fault_at(1, Fault::Stall(tick * 15)))
        .check(
            "recovers from a slow answer",
            "8628 §3.5",
            Should,
            signed_in,
        ),
        s("gateway-502", "poll 1 gets a 502 HTML page")
            .script(Script::approve_after_polls(2).fault_at(1, Fault::BadGateway))
            .check(
                "backs off after a gateway page",
                "8628 §3.5",
                Should,
                |r| backed_off(r, 1, Duration::ZERO),
            )
            .check("recovers", "8628 §3.5", Should, signed_in),
        s("unavailable-503", "poll 1 gets a 503 HTML page")
            .script(Script::approve_after_polls(2).fault_at(1, Fault::ServiceUnavailable(None)))
            .check("backs off after a 503", "8628 §3.5", Should, |r| {
                backed_off(r, 1, Duration::ZERO)
            })
            .check("recovers", "8628 §3.5", Should, signed_in),
        s(
            "unavailable-503-retry-after",
            "poll 1 gets a 503 with Retry-After: 1",
        )
        .script(
            Script::approve_after_polls(2)
                .fault_at(1, Fault::ServiceUnavailable(Some(retry_after))),
        )
        .check("honours Retry-After", "9110 §10.2.3", Should, |r| {
            honoured_retry_after(r)
        })
        .check("recovers", "8628 §3.5", Should, signed_in),
        s("throttled-429", "poll 1 gets a plain-text 429")
            .script(Script::approve_after_polls(2).fault_at(1, Fault::TooManyRequests(None)))
            .check("backs off after a 429", "6585 §4", Should, |r| {
                backed_off(r, 1, Duration::ZERO)
            })
            .check("recovers", "8628 §3.5", Should, signed_in),
        s(
            "throttled-429-retry-after-date",
            "poll 1 gets a 429 with an HTTP-date Retry-After 2 s on",
        )
        .script(Script::approve_after_polls(2).fault_at(
            1,
            Fault::TooManyRequests(Some(RetryAfter::Date(Duration::from_secs(2)))),
        ))
        .check("honours Retry-After (date)", "9110 §10.2.3", Should, |r| {
            honoured_retry_after(r)
        })
        .check("recovers", "8628 §3.5", Should, signed_in),
        s("truncated-body", "poll 1's body cut short")
            .script(Script::approve_after_polls(2).fault_at(1, Fault::TruncatedBody))
            .check("recovers", "8628 §3.5", Should, signed_in),
        s(
            "wrong-content-type",
            "poll 1's pending body labelled text/html",
        )
        .script(Script::approve_after_polls(2).fault_at(1, Fault::WrongContentType))
        .check("ends cleanly", "6749 §5.2", Should, |r| r.survived()),
        s("oversized-body", "poll 1 answered with a 4 MiB body")
            .script(Script::approve_after_polls(2).fault_at(1, Fault::oversized()))
            .check("ends cleanly", "6749 §5.1-5.2", Should, |r| r.survived()),
        s("non-utf8-body", "poll 1's body is not UTF-8")
            .script(Script::approve_after_polls(2).fault_at(1, Fault::InvalidUtf8))
            .check("ends cleanly", "8259 §8.1", Should, |r| r.survived()),
        s("redirect", "poll 1 answered 302 to another path")
            .script(Script::approve_after_polls(2).fault_at(1, Fault::Redirect))
            .check(
                "device code only to the token endpoint",
                "8628 §3.4",
                Must,
                |r| r.no_violation(pick_redirect),
            )
            .check("ends cleanly", "8628 §3.4", Should, |r| r.survived()),
        s(
            "device-faults",
            "a 503 answers the device authorization request",
        )
        .script(Script::approve_after_polls(1))
        .check(
            "fails or retries, never a busy loop",
            "8628 §3.1",
            Should,
            |r| {
                if r.referee.requests().len() > 20 {
                    Err(format!("{} requests", r.referee.requests().len()))
                } else {
                    r.survived()
                }
            },
        ),
        s(
            "refresh-rotation",
            "two refreshes; each answer rotates the refresh token",
        )
        .script(Script::approve_after_polls(1))
        .config(|c| c.rotate_refresh_tokens(true))
        .check("uses the newest refresh token", "6749 §6", Must, refreshed),
        s(
            "refresh-no-rotation",
            "two refreshes; no new refresh token is sent",
        )
        .script(Script::approve_after_polls(1))
        .config(|c| c.rotate_refresh_tokens(false))
        .check("keeps the refresh token it has", "6749 §6", Must, refreshed),
        s("secrets-not-printed", "a confidential client; one refresh")
            .script(Script::approve_after_polls(1))
            .client(Client::post(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
            .check(
                "device code and secrets never printed",
                "8628 §3.3, 6749 §10.3-10.4",
                Should,
                no_secret_printed,
            )
            .check("signs in", "8628 §3.4", Should, signed_in),
    ];
    for sc in &mut out {
        match sc.name {
            "device-faults" => sc.faults.push((
                FaultTarget::DeviceAuthorization,
                Fault::ServiceUnavailable(None),
            )),
            "refresh-rotation" | "refresh-no-rotation" => sc.refreshes = 2,
            "secrets-not-printed" => sc.refreshes = 1,
            _ => {}
        }
    }
    if dialect == Dialect::Rfc8628 {
        out.extend(fixed(tick));
    }
    out.into_iter().map(Scenario::refereed).collect()
}

/// Client authentication and each provider's quirks.
fn fixed(tick: Duration) -> Vec<Scenario> {
    let d = |name, setup, dialect| Scenario::new(name, setup, dialect, tick);
    let pending = || Script::approve_after_polls(2);
    vec![
        d(
            "auth-client-secret-basic",
            "a confidential client_secret_basic client",
            Dialect::Rfc8628,
        )
        .script(pending())
        .client(Client::basic(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
        .check(
            "authenticates with HTTP Basic",
            "8628 §3.4, 6749 §2.3.1",
            Must,
            |r| r.no_violation(pick_auth),
        )
        .check("signs in", "8628 §3.4", Must, signed_in),
        d(
            "auth-client-secret-post",
            "a confidential client_secret_post client",
            Dialect::Rfc8628,
        )
        .script(pending())
        .client(Client::post(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
        .check(
            "authenticates in the form",
            "8628 §3.4, 6749 §2.3.1",
            Must,
            |r| r.no_violation(pick_auth),
        )
        .check("signs in", "8628 §3.4", Must, signed_in),
        d(
            "azure-ad-v1",
            "numbers as strings, code=, resource, Microsoft errors",
            Dialect::AzureAdV1,
        )
        .script(pending())
        .check("signs in", "8628 §3.4-3.5", Must, signed_in),
        d(
            "azure-ad-v1-expired",
            "code_expired after poll 1",
            Dialect::AzureAdV1,
        )
        .script(Script::expire_after_polls(1))
        .check("stops on code_expired, fails", "8628 §3.5", Must, |r| {
            r.gave_up("expired")
        }),
        d(
            "microsoft",
            "Microsoft v2: scope required, 400 pending",
            Dialect::MicrosoftV2,
        )
        .script(pending())
        .check("signs in", "8628 §3.4-3.5", Must, signed_in),
        d(
            "microsoft-declined",
            "authorization_declined after poll 1",
            Dialect::MicrosoftV2,
        )
        .script(Script::deny_after_polls(1))
        .check(
            "stops on authorization_declined, fails",
            "8628 §3.5",
            Must,
            |r| r.gave_up("declined"),
        ),
        d(
            "google",
            "Google: 428 pending, secret in the poll form",
            Dialect::Google,
        )
        .script(pending())
        .check("signs in", "8628 §3.4-3.5", Must, signed_in),
        d(
            "google-denied",
            "403 access_denied after poll 1",
            Dialect::Google,
        )
        .script(Script::deny_after_polls(1))
        .check(
            "stops on a 403 access_denied, fails",
            "8628 §3.5",
            Must,
            |r| r.gave_up("denied"),
        ),
        d(
            "github",
            "GitHub: every error with HTTP 200",
            Dialect::GitHub,
        )
        .script(pending())
        .check("signs in", "8628 §3.4-3.5", Must, signed_in),
        d(
            "github-denied",
            "access_denied with HTTP 200 after poll 1",
            Dialect::GitHub,
        )
        .script(Script::deny_after_polls(1))
        .check(
            "stops on a 200 access_denied, fails",
            "8628 §3.5",
            Must,
            |r| r.gave_up("denied"),
        ),
        d("auth0", "Auth0: 403 pending", Dialect::Auth0)
            .script(pending())
            .check("signs in", "8628 §3.4-3.5", Must, signed_in),
    ]
}
