//! The device authorization response (RFC 8628 §3.2) and what the user is shown.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use url::Url;

use crate::config::is_loopback;
use crate::error::{Problem, UriProblem};
use crate::safe_text::Safe;
use crate::secret::DeviceCode;
use crate::wire::{self, Fields};

/// What to show the user: where to go and which code to type (RFC 8628 §3.3).
///
/// The device code is deliberately not here: it is never displayed.
///
/// Cloning is cheap: the flow keeps the prompt (for snapshots) and hands the same members to
/// the caller in [`Event::UserCode`](crate::Event::UserCode).
#[derive(Clone, PartialEq)]
pub struct Prompt(pub(crate) Arc<PromptMembers>);

/// What a [`Prompt`] holds.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PromptMembers {
    pub(crate) user_code: String,
    pub(crate) verification_uri: String,
    pub(crate) verification_uri_complete: Option<String>,
    pub(crate) message: Option<String>,
    pub(crate) expires_in: Duration,
    pub(crate) expires_at: Instant,
    pub(crate) extra: Map<String, Value>,
}

impl std::fmt::Debug for Prompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let m = &*self.0;
        f.debug_struct("Prompt")
            .field("user_code", &m.user_code)
            .field("verification_uri", &m.verification_uri)
            .field("verification_uri_complete", &m.verification_uri_complete)
            .field("message", &m.message)
            .field("expires_in", &m.expires_in)
            .field("expires_at", &m.expires_at)
            .field("extra", &m.extra)
            .finish()
    }
}

impl Prompt {
    /// The code the user types, exactly as the server sent it: do not recase or reformat it
    /// (Google's codes are case-sensitive; GitHub users must type the hyphen).
    pub fn user_code(&self) -> &str {
        &self.0.user_code
    }

    /// Where the user goes (`verification_uri`, or `verification_url` from Google and
    /// Azure AD v1).
    pub fn verification_uri(&self) -> &str {
        &self.0.verification_uri
    }

    /// A URI with the code already in it, for a QR code or a link. RFC 8628 §3.3.1: show the
    /// user code as well, so the user can check it against the page.
    pub fn verification_uri_complete(&self) -> Option<&str> {
        self.0.verification_uri_complete.as_deref()
    }

    /// Microsoft's ready-made sentence, when sent.
    pub fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }

    /// How long the code is valid, as the server said (numbers and numeric strings are read).
    pub fn expires_in(&self) -> Duration {
        self.0.expires_in
    }

    /// When the flow gives up: the response's arrival plus `expires_in`.
    pub fn expires_at(&self) -> Instant {
        self.0.expires_at
    }

    /// Other members of the response.
    pub fn extra(&self) -> &Map<String, Value> {
        &self.0.extra
    }
}

/// RFC 8628 §3.3: where to go and the code, always both, even next to a link that already
/// holds the code (§3.3.1: the user checks it against the page). Never the device code.
/// Server text goes through [`display_safe`](crate::display_safe).
impl std::fmt::Display for Prompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let code = Safe(&self.0.user_code);
        write!(
            f,
            "To sign in, open {} and enter the code {code}",
            Safe(&self.0.verification_uri)
        )?;
        if let Some(complete) = &self.0.verification_uri_complete {
            write!(
                f,
                "\n(or open {} and check that it shows the code {code})",
                Safe(complete)
            )?;
        }
        write!(
            f,
            "\nThe code expires in {} min.",
            self.0.expires_in.as_secs().div_ceil(60)
        )
    }
}

/// The longest code lifetime taken from a server. RFC 8628 suggests minutes; a year is far
/// beyond any real value and keeps every deadline representable.
pub(crate) const MAX_EXPIRES_IN: Duration = Duration::from_secs(365 * 24 * 3600);

pub(crate) struct DeviceAuthorization {
    pub(crate) device_code: DeviceCode,
    /// `None` when absent, zero, or unreadable: the caller applies its default.
    pub(crate) interval: Option<Duration>,
    pub(crate) prompt: Prompt,
}

/// Where the verification URIs are checked against: relative ones are resolved against the
/// device authorization endpoint.
pub(crate) struct UriRules<'a> {
    pub(crate) base: &'a Url,
    pub(crate) allow_insecure_http: bool,
    /// The lifetime taken when the response has no `expires_in` (Salesforce promises none).
    pub(crate) default_expires_in: Option<Duration>,
}

impl UriRules<'_> {
    /// The absolute URI to show, or why it cannot be shown.
    fn check(&self, raw: String, field: &'static str) -> Result<String, Problem> {
        // Nearly every server sends a plain `https://host/path`: recognising it costs a
        // scan, where building a `Url` costs more than reading the rest of the answer.
        if plainly_acceptable(&raw, self.allow_insecure_http) {
            return Ok(raw);
        }
        self.check_parsed(raw, field)
    }

    /// [`UriRules::check`] the long way: what `url` makes of `raw`.
    fn check_parsed(&self, raw: String, field: &'static str) -> Result<String, Problem> {
        let refuse = |reason| Problem::UnsafeUri { field, reason };
        let (url, resolved) = match Url::parse(&raw) {
            Ok(url) => (url, false),
            Err(url::ParseError::RelativeUrlWithoutBase) => (
                self.base
                    .join(&raw)
                    .map_err(|_| refuse(UriProblem::NotAUrl))?,
                true,
            ),
            Err(_) => return Err(refuse(UriProblem::NotAUrl)),
        };
        match url.scheme() {
            "https" => {}
            "http" if self.allow_insecure_http || is_loopback(&url) => {}
            "http" => return Err(refuse(UriProblem::InsecureHttp)),
            _ => return Err(refuse(UriProblem::Scheme)),
        }
        if url.host().is_none() {
            return Err(refuse(UriProblem::NoHost));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse(UriProblem::Credentials));
        }
        // What the server sent, unless it had to be resolved: the user compares it with
        // the page, and normalising could change how it reads.
        Ok(if resolved { url.into() } else { raw })
    }
}

/// Whether `raw` is an absolute URI that [`UriRules::check`] would accept as sent, told by
/// looking at its bytes only. It answers `true` only for a form simple enough that `url`
/// certainly parses it, with the same scheme, host and lack of credentials: `https://` (or
/// `http://` where insecure or loopback `http` is allowed), then a host of lowercase letters,
/// digits, `-` and `.` in non-empty labels, none of them Punycode (`xn--`), whose last label
/// starts with a letter (so it is a domain, never read as an IPv4 number) or which is an IPv4
/// address in its canonical dotted form; an optional port of at most five digits up to 65535;
/// then nothing else before `/`, `?`, `#` or the end. What follows is a path, query or
/// fragment, which `url` reads whatever it holds. Everything else (rejections included) goes
/// through `url`, so this changes no answer, only its cost; a test compares the two.
fn plainly_acceptable(raw: &str, allow_insecure_http: bool) -> bool {
    let (rest, https) = if let Some(rest) = raw.strip_prefix("https://") {
        (rest, true)
    } else if let Some(rest) = raw.strip_prefix("http://") {
        (rest, false)
    } else {
        return false;
    };
    // `url` refuses URLs longer than `u32::MAX`; a verification URI is never near that.
    if raw.len() > usize::from(u16::MAX) {
        return false;
    }
    // Byte by byte: this runs on every device answer, and `str` patterns cost more per call
    // than these short strings take to scan.
    let authority = rest.as_bytes();
    let authority = authority
        .iter()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .map_or(authority, |end| &authority[..end]);
    let (host, port) = match authority.iter().position(|&b| b == b':') {
        Some(colon) => (&authority[..colon], Some(&authority[colon + 1..])),
        None => (authority, None),
    };
    if let Some(port) = port
        && !(matches!(port.len(), 1..=5)
            && port.iter().all(u8::is_ascii_digit)
            && port.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')) <= u32::from(u16::MAX))
    {
        return false;
    }
    let name = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-';
    let mut last: &[u8] = &[];
    for label in host.split(|&b| b == b'.') {
        if label.is_empty() || label.starts_with(b"xn--") || !label.iter().all(name) {
            return false;
        }
        last = label;
    }
    let domain = last.first().is_some_and(u8::is_ascii_lowercase);
    let ipv4 = if domain { None } else { canonical_ipv4(host) };
    if !domain && ipv4.is_none() {
        return false;
    }
    https || allow_insecure_http || host == b"localhost" || ipv4.is_some_and(|ip| ip.is_loopback())
}

/// `host` as an IPv4 address when written as four decimal numbers up to 255 without leading
/// zeros: the one form every reader takes the same way.
fn canonical_ipv4(host: &[u8]) -> Option<std::net::Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = host.split(|&b| b == b'.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty()
            || part.len() > 3
            || (part.len() > 1 && part[0] == b'0')
            || !part.iter().all(u8::is_ascii_digit)
        {
            return None;
        }
        let value = part.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
        *octet = u8::try_from(value).ok()?;
    }
    parts
        .next()
        .is_none()
        .then(|| std::net::Ipv4Addr::from(octets))
}

/// Reads and validates a device authorization body (DESIGN rule 9).
pub(crate) fn parse(
    mut fields: Fields<'_>,
    received_at: Instant,
    uris: &UriRules<'_>,
) -> Result<DeviceAuthorization, Problem> {
    // Members are moved out, not copied; what is left over becomes `extra`.
    let device_code = DeviceCode::new(wire::take_required_string(&mut fields, "device_code")?);
    let user_code = wire::take_required_string(&mut fields, "user_code")?;
    let verification_uri = match wire::take_string(&mut fields, "verification_uri")? {
        Some(s) if !s.is_empty() => s,
        // Google and Azure AD v1 spell it `verification_url`.
        _ => match wire::take_string(&mut fields, "verification_url")? {
            Some(s) if !s.is_empty() => s,
            Some(_) => return Err(Problem::EmptyField("verification_uri")),
            None => return Err(Problem::MissingField("verification_uri")),
        },
    };
    let verification_uri = uris.check(verification_uri, "verification_uri")?;
    let verification_uri_complete =
        wire::take_optional_string(&mut fields, "verification_uri_complete")
            .filter(|s| !s.is_empty())
            .map(|s| uris.check(s, "verification_uri_complete"))
            .transpose()?;
    let message = wire::take_optional_string(&mut fields, "message");
    let expires_in = wire::seconds(&fields, "expires_in")?
        .or(uris.default_expires_in)
        .ok_or(Problem::MissingField("expires_in"))?;
    if expires_in.is_zero() {
        return Err(Problem::InvalidField {
            field: "expires_in",
            expected: "a positive number of seconds",
        });
    }
    let expires_in = expires_in.min(MAX_EXPIRES_IN);
    // DESIGN rule 1: a 0 or unreadable interval is treated like a missing one.
    let read_interval = wire::seconds(&fields, "interval");
    let interval = read_interval
        .clone()
        .ok()
        .flatten()
        .filter(|d| !d.is_zero());
    let expires_at = received_at
        .checked_add(expires_in)
        .ok_or(Problem::InvalidField {
            field: "expires_in",
            expected: "a lifetime this clock can represent",
        })?;
    // One pass over what is left rather than a search per known name.
    // An interval that does not read stays in `extra` for the curious.
    let took_interval = read_interval.is_ok();
    fields.retain(|name| match name {
        "verification_url" | "expires_in" => false,
        "interval" => !took_interval,
        _ => true,
    });
    Ok(DeviceAuthorization {
        device_code,
        interval,
        prompt: Prompt(Arc::new(PromptMembers {
            user_code,
            verification_uri,
            verification_uri_complete,
            message,
            expires_in,
            expires_at,
            extra: fields.into_map(),
        })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<DeviceAuthorization, Problem> {
        let base = Url::parse("https://as.example/oauth/device").unwrap();
        let rules = UriRules {
            base: &base,
            allow_insecure_http: false,
            default_expires_in: None,
        };
        parse(
            crate::wire::parse_json(s.as_bytes()).unwrap(),
            Instant::now(),
            &rules,
        )
    }

    #[test]
    fn the_prompt_shows_the_code_next_to_the_complete_link() {
        let d = parse_str(r#"{"device_code":"secret-dc","user_code":"WDJB-MJHT","verification_uri":"https://e/device","verification_uri_complete":"https://e/device?user_code=WDJB-MJHT","expires_in":1800}"#).unwrap();
        let shown = d.prompt.to_string();
        assert!(
            shown.contains("open https://e/device and enter the code WDJB-MJHT"),
            "{shown}"
        );
        assert!(
            shown.contains(
                "https://e/device?user_code=WDJB-MJHT and check that it shows the code WDJB-MJHT"
            ),
            "{shown}"
        );
        assert!(shown.ends_with("expires in 30 min."));
        assert!(!shown.contains("secret-dc"));
    }

    #[test]
    fn intervals_that_do_not_count() {
        for body in [
            r#"{"device_code":"d","user_code":"u","verification_uri":"v","expires_in":10}"#,
            r#"{"device_code":"d","user_code":"u","verification_uri":"v","expires_in":10,"interval":0}"#,
            r#"{"device_code":"d","user_code":"u","verification_uri":"v","expires_in":10,"interval":"soon"}"#,
            r#"{"device_code":"d","user_code":"u","verification_uri":"v","expires_in":10,"interval":-5}"#,
        ] {
            assert_eq!(parse_str(body).unwrap().interval, None, "{body}");
        }
    }

    #[test]
    fn validation() {
        let cases: [(&str, Problem); 6] = [
            (
                r#"{"user_code":"u","verification_uri":"v","expires_in":10}"#,
                Problem::MissingField("device_code"),
            ),
            (
                r#"{"device_code":"","user_code":"u","verification_uri":"v","expires_in":10}"#,
                Problem::EmptyField("device_code"),
            ),
            (
                r#"{"device_code":"d","user_code":"","verification_uri":"v","expires_in":10}"#,
                Problem::EmptyField("user_code"),
            ),
            (
                r#"{"device_code":"d","user_code":"u","expires_in":10}"#,
                Problem::MissingField("verification_uri"),
            ),
            (
                r#"{"device_code":"d","user_code":"u","verification_uri":"v"}"#,
                Problem::MissingField("expires_in"),
            ),
            (
                r#"{"device_code":"d","user_code":"u","verification_uri":"v","expires_in":0}"#,
                Problem::InvalidField {
                    field: "expires_in",
                    expected: "a positive number of seconds",
                },
            ),
        ];
        for (body, want) in cases {
            assert_eq!(parse_str(body).err(), Some(want), "{body}");
        }
    }

    /// Every URI the quick look accepts is one `url` accepts too, unchanged; the quick look
    /// takes the common forms.
    #[test]
    fn the_quick_look_at_verification_uris_agrees_with_url() {
        let base = Url::parse("https://as.example/oauth/device").unwrap();
        let schemes = [
            "https://", "http://", "HTTPS://", "https:/", "https:", "ftp://", "",
        ];
        let hosts = [
            "as.example",
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.1",
            "0177.0.0.1",
            "127.0.0.01",
            "10.0.0.1",
            "256.0.0.1",
            "1.2.3.4.5",
            "1.2.3",
            "0x7f.0.0.1",
            "example.com.",
            ".example.com",
            "a..b",
            "xn--nxasmq6b.com",
            "xn--a.com",
            "a.xn--b",
            "example.123",
            "example.0x1",
            "123",
            "a-.-b",
            "-a",
            "exa mple.com",
            "exa\tmple.com",
            "ex%41mple.com",
            "user@as.example",
            "u:p@as.example",
            "[::1]",
            "[::1",
            "as.example\\evil",
            "",
            "ex_ample.com",
            "Example.com",
            "1a.example",
            "example.1a",
            "a",
            "0",
            "0.0.0.0",
        ];
        let ports = [
            "", ":", ":0", ":443", ":8080", ":65535", ":65536", ":99999", ":000080", ":-1", ":8a",
            ":1:2",
        ];
        let rests = [
            "",
            "/",
            "/device",
            "?user_code=WDJB-MJHT",
            "#x",
            "/d?c=\u{1b}[31m",
            "/a b",
            "\\evil",
            "/@evil",
            "/%zz",
            " ",
            "\t",
        ];
        let mut quick = 0;
        for scheme in schemes {
            for host in hosts {
                for port in ports {
                    for rest in rests {
                        let raw = format!("{scheme}{host}{port}{rest}");
                        for allow_insecure_http in [false, true] {
                            let rules = UriRules {
                                base: &base,
                                allow_insecure_http,
                                default_expires_in: None,
                            };
                            if plainly_acceptable(&raw, allow_insecure_http) {
                                quick += 1;
                                assert_eq!(
                                    rules.check_parsed(raw.clone(), "verification_uri"),
                                    Ok(raw.clone()),
                                    "{raw:?}"
                                );
                            }
                        }
                    }
                }
            }
        }
        assert!(quick > 1000, "{quick}");
        for common in [
            "https://github.com/login/device",
            "https://www.microsoft.com/link",
            "https://example.com/device?user_code=WDJB-MJHT",
            "http://127.0.0.1:8080/device",
            "http://localhost:3000/activate",
        ] {
            assert!(plainly_acceptable(common, false), "{common}");
        }
        for other in [
            "http://evil.example/device",
            "http://127.0.0.1.example/device",
            "https://as.example@evil.example/device",
            "https://xn--nxasmq6b.com/",
            "javascript:alert(1)",
        ] {
            assert!(!plainly_acceptable(other, false), "{other}");
        }
    }

    #[test]
    fn huge_lifetimes_are_capped() {
        let d = parse_str(r#"{"device_code":"d","user_code":"u","verification_uri":"v","expires_in":18446744073709551615,"interval":18446744073709551615}"#).unwrap();
        assert_eq!(d.prompt.expires_in(), MAX_EXPIRES_IN);
        assert_eq!(d.interval, Some(Duration::from_secs(u64::MAX)));
    }
}
