//! The seed corpora, built from the provider fixtures with the same encoding the targets
//! decode. The `seed` binary writes them under `corpus/<target>/seed-<name>`; the replay test
//! also runs them straight from here, so the fixtures stay covered even after the corpus is
//! minimised.

use super::fixtures::{self, FIXTURES, Fixture, Kind};
use super::input::{self, RetryAfter, Sink};
use super::op;

/// One seed: its target, a file name, and the bytes.
pub struct Seed {
    /// The target it is for.
    pub target: &'static str,
    /// The file name (without directory).
    pub name: String,
    /// The input.
    pub data: Vec<u8>,
}

/// The configuration selector that matches a fixture's provider.
fn provider_sel(name: &str) -> u8 {
    if name.starts_with("msv1") {
        1
    } else if name.starts_with("msv2") {
        2
    } else if name.starts_with("goog") {
        3 | (2 << 3) // Google sends the secret in the form
    } else if name.starts_with("gh") {
        4
    } else {
        0
    }
}

fn index(name: &str) -> u8 {
    FIXTURES
        .iter()
        .position(|f| f.name == name)
        .expect("a fixture with this name") as u8
}

fn response_seed(sel: u8, flags: u8, f: &Fixture, ra: &RetryAfter) -> Vec<u8> {
    let mut sink = Sink::default();
    sink.u8(sel).u8(flags);
    input::write_reply(&mut sink, f.status, input::ct_index(f.content_type), ra)
        .rest(f.body.as_bytes());
    sink.finish()
}

/// A `flow` input under construction.
struct Script(Sink);

impl Script {
    fn new(sel: u8, refresh: bool) -> Script {
        let mut sink = Sink::default();
        sink.u8(sel).u8(u8::from(refresh));
        Script(sink)
    }

    fn drain(&mut self) -> &mut Self {
        self.0.u8(op::DRAIN);
        self
    }

    /// Answers the request that is out with a fixture as it is.
    fn reply(&mut self, name: &str) -> &mut Self {
        self.0
            .u8(op::RESPOND)
            .u8(op::ID_CURRENT)
            .u8(0)
            .u8(0)
            .u8(index(name));
        self
    }

    /// Answers with a fixture, a status from the table and a `Retry-After` in seconds.
    fn reply_retry_after(&mut self, name: &str, status_sel: u8, secs: u16) -> &mut Self {
        self.0
            .u8(op::RESPOND)
            .u8(op::ID_CURRENT)
            .u8(status_sel)
            .u8(1 << 4)
            .u16(secs)
            .u8(index(name));
        self
    }

    /// Answers with a fixture, `Retry-After` as an HTTP-date against a `Date` header.
    fn reply_retry_date(&mut self, name: &str, date: u32, at: u32) -> &mut Self {
        self.0
            .u8(op::RESPOND)
            .u8(op::ID_CURRENT)
            .u8(0)
            .u8(2 << 4)
            .u32(date)
            .u32(at)
            .u8(index(name));
        self
    }

    /// Answers with raw bytes and a content type from the table.
    fn raw(&mut self, status_sel: u8, ct: u8, body: &[u8]) -> &mut Self {
        self.0
            .u8(op::RESPOND)
            .u8(op::ID_CURRENT)
            .u8(status_sel)
            .u8(ct)
            .u8(200)
            .bytes(body);
        self
    }

    /// Answers with a fixture, naming the request by `which` (and `n` for stale or unknown).
    fn reply_with(&mut self, which: u8, n: u8, name: &str) -> &mut Self {
        self.0.u8(op::RESPOND).u8(which);
        if which != op::ID_CURRENT {
            self.0.u8(n);
        }
        self.0.u8(0).u8(0).u8(index(name));
        self
    }

    fn fail(&mut self, kind: u8) -> &mut Self {
        self.0.u8(op::FAIL).u8(op::ID_CURRENT).u8(kind);
        self
    }

    fn sleep(&mut self) -> &mut Self {
        self.0.u8(op::TICK).u8(op::TICK_TO_WAIT);
        self
    }

    fn tick(&mut self, sel: u8, data: &[u8]) -> &mut Self {
        self.0.u8(op::TICK).u8(sel);
        for b in data {
            self.0.u8(*b);
        }
        self
    }

    fn code(&mut self, code: u8) -> &mut Self {
        self.0.u8(code);
        self
    }

    fn finish(&mut self) -> Vec<u8> {
        self.0.finish()
    }
}

/// Every seed.
pub fn all() -> Vec<Seed> {
    let mut seeds = Vec::new();
    let mut add = |target: &'static str, name: String, data: Vec<u8>| {
        seeds.push(Seed { target, name, data });
    };
    let none = RetryAfter::None;

    for f in FIXTURES {
        let sel = provider_sel(f.name);
        match f.kind {
            Kind::Device => {
                add(
                    "device_response",
                    f.name.into(),
                    response_seed(sel, 0, f, &none),
                );
            }
            Kind::Token => {
                add(
                    "token_response",
                    f.name.into(),
                    response_seed(sel, 0, f, &none),
                );
                add(
                    "token_response",
                    format!("refresh-{}", f.name),
                    response_seed(sel, 1, f, &none),
                );
            }
            Kind::Error => {
                add(
                    "error_response",
                    f.name.into(),
                    response_seed(sel, 6, f, &none),
                );
                add(
                    "device_response",
                    format!("error-{}", f.name),
                    response_seed(sel, 0, f, &none),
                );
                add(
                    "token_response",
                    format!("error-{}", f.name),
                    response_seed(sel, 0, f, &none),
                );
            }
            // Gateway pages and anything else not OAuth.
            _ => {
                add(
                    "error_response",
                    f.name.into(),
                    response_seed(sel, 8, f, &none),
                );
                add(
                    "device_response",
                    format!("other-{}", f.name),
                    response_seed(sel, 0, f, &none),
                );
            }
        }
    }
    for (name, ra) in [
        ("retry-after-secs", RetryAfter::Seconds(120)),
        (
            "retry-after-date",
            RetryAfter::Date {
                date: 784_111_777,
                at: 784_111_837,
            },
        ),
        (
            "retry-after-raw",
            RetryAfter::Raw(b"Sun, 06 Nov 1994 08:49:37 GMT".to_vec()),
        ),
    ] {
        let f = fixtures::named("html-502");
        add(
            "error_response",
            format!("html-502-{name}"),
            response_seed(0, 8, f, &ra),
        );
        let f = fixtures::named("auth0-slow");
        add(
            "error_response",
            format!("auth0-slow-{name}"),
            response_seed(0, 8, f, &ra),
        );
    }
    add(
        "error_response",
        "refresh-invalid-grant".into(),
        response_seed(0, 1, fixtures::named("keycloak-invalid-grant"), &none),
    );
    add(
        "error_response",
        "small-limit-msv2-pend".into(),
        response_seed(2 | (1 << 5), 6, fixtures::named("msv2-pend-01"), &none),
    );

    // Whole flows, one per provider: code, pending, slow_down, a lost request, a gateway page
    // with Retry-After, and the token.
    for (provider, dc, pend, slow, deny, tok) in [
        (
            "msv1",
            "msv1-dc-01",
            "msv1-pend-01",
            "msv1-slow-01",
            "msv1-deny-01",
            "msv1-tok-01",
        ),
        (
            "msv2",
            "msv2-dc-01",
            "msv2-pend-01",
            "rfc-pend-01",
            "msv2-decl-01",
            "msv2-tok-01",
        ),
        (
            "goog",
            "goog-dc-01",
            "goog-pend-01",
            "goog-slow-01",
            "goog-deny-01",
            "goog-tok-01",
        ),
        (
            "gh",
            "gh-dc-01",
            "gh-pend-01",
            "gh-slow-01",
            "gh-deny-01",
            "gh-tok-01",
        ),
        (
            "auth0",
            "auth0-dc",
            "auth0-pend",
            "auth0-slow",
            "goog-deny-01",
            "gh-tok-02",
        ),
    ] {
        let sel = provider_sel(dc);
        let mut s = Script::new(sel, false);
        s.drain()
            .reply(dc)
            .sleep()
            .reply(pend)
            .sleep()
            .reply(slow)
            .sleep()
            .fail(1);
        s.sleep()
            .reply_retry_after("html-502", 0, 30)
            .sleep()
            .reply(pend)
            .sleep()
            .reply(tok);
        add("flow", format!("{provider}-happy"), s.finish());
        let mut s = Script::new(sel, false);
        s.drain().reply(dc).sleep().reply(pend).sleep().reply(deny);
        add("flow", format!("{provider}-denied"), s.finish());
    }
    let mut s = Script::new(0, false);
    s.drain()
        .reply("lab-dc-fast")
        .sleep()
        .reply("rfc-pend-01")
        .tick(op::TICK_TO_DEADLINE, &[]);
    add("flow", "expires-locally".into(), s.finish());
    let mut s = Script::new(0, false);
    s.drain()
        .reply("lab-dc-fast")
        .tick(op::TICK_BEFORE_DEADLINE, &[])
        .sleep()
        .reply("msv2-exp-01");
    add("flow", "expired-by-server".into(), s.finish());
    let mut s = Script::new(0, false);
    s.drain()
        .reply("rfc-dc-01")
        .sleep()
        .reply("temp-unavailable")
        .sleep()
        .fail(0)
        .sleep()
        .fail(2);
    s.sleep()
        .reply_retry_date("text-429", 784_111_777, 784_111_900)
        .sleep()
        .reply("empty-504");
    s.sleep()
        .reply("html-503-json-label")
        .sleep()
        .reply("rfc-pend-01")
        .sleep()
        .reply("gh-slow-02");
    add("flow", "back-off-and-recover".into(), s.finish());
    let mut s = Script::new(0, false);
    s.drain()
        .reply_with(op::ID_UNKNOWN, 3, "rfc-dc-01")
        .reply("rfc-dc-01");
    s.reply_with(op::ID_STALE, 0, "rfc-pend-01")
        .sleep()
        .reply("rfc-pend-01");
    s.reply_with(op::ID_CURRENT, 0, "rfc-pend-01")
        .code(op::CANCEL)
        .reply("goog-tok-01")
        .code(op::NUDGE);
    add("flow", "misuse".into(), s.finish());
    let mut s = Script::new(0, false);
    s.drain()
        .reply("rfc-dc-01")
        .code(op::REWIND)
        .u16_after(600)
        .sleep()
        .code(op::POLL)
        .code(op::POLL);
    s.reply("rfc-pend-01")
        .tick(op::TICK_SECS64, &u64::MAX.to_le_bytes())
        .tick(op::TICK_SECS32, &[0, 0, 0, 0x40]);
    add("flow", "clock-extremes".into(), s.finish());
    let mut s = Script::new(0, false);
    s.drain()
        .code(op::HOLD | op::RESPOND)
        .code(op::ID_CURRENT)
        .code(0)
        .code(0)
        .code(index("gh-dc-02"));
    s.code(op::HOLD | op::CANCEL).code(op::POLL).code(op::POLL);
    add("flow", "cancel-with-events-queued".into(), s.finish());
    let mut s = Script::new(0, false);
    s.drain().raw(
        1,
        3,
        b"device_code=x&user_code=y&verification_uri=z&expires_in=10&interval=0.001",
    );
    s.sleep()
        .raw(6, 2, br#"{"error":"slow_down","interval":"1e400"}"#)
        .sleep();
    s.raw(
        6,
        2,
        br#"{"error":"slow_down","interval":18446744073709551615}"#,
    )
    .sleep();
    add("flow", "odd-intervals".into(), s.finish());
    for (name, sel, tok) in [
        ("refresh-rotates", 0, "msv1-tok-01"),
        ("refresh-keeps", 4 | (1 << 3), "gh-tok-01"),
        (
            "refresh-invalid-grant",
            2 | (2 << 3),
            "keycloak-invalid-grant",
        ),
    ] {
        let mut s = Script::new(sel, true);
        s.drain().reply(tok);
        add("flow", name.into(), s.finish());
    }
    let mut s = Script::new(0, true);
    s.drain().fail(1).code(op::NUDGE);
    add("flow", "refresh-unreachable".into(), s.finish());
    for seed in &mut seeds {
        seed.name = format!("seed-{}", seed.name);
    }
    seeds
}

impl Script {
    fn u16_after(&mut self, v: u16) -> &mut Self {
        self.0.u16(v);
        self
    }
}
