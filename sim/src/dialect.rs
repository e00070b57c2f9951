//! Each provider's wire format: paths, bodies, statuses, headers.

use std::time::{Duration, SystemTime};

use http::StatusCode;
use serde_json::Value;

use crate::config::Dialect;
use crate::encoding::{JsonObject, form_encode, ms_timestamp, secs_json, secs_text, unix_secs};
use crate::referee::AuthProblem;
use crate::rng::{ALNUM, BASE20, HEX, Rng, UPPER_DIGITS, URL_SAFE};

/// The RFC 8628 grant type.
pub(crate) const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const GH_ERROR_URI: &str = "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow";

/// A response body with its framing, before any fault mangles it.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) content_type: &'static str,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) form_encoded: bool,
}

impl Reply {
    pub(crate) fn new(
        status: StatusCode,
        content_type: &'static str,
        body: impl Into<Vec<u8>>,
    ) -> Self {
        Reply {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
            form_encoded: false,
        }
    }

    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn is_json(&self) -> bool {
        self.content_type.starts_with("application/json")
    }
}

/// Which route a path is in a dialect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Device,
    Token,
    Page,
    Discovery,
    /// AWS's client registration.
    Register,
    /// Zoho's data centre list.
    ServerInfo,
    Unknown,
}

impl Dialect {
    pub(crate) fn device_path(self, tenant: &str) -> String {
        match self {
            Dialect::Rfc8628 => "/device_authorization".to_owned(),
            Dialect::AzureAdV1 => format!("/{tenant}/oauth2/devicecode"),
            Dialect::MicrosoftV2 => format!("/{tenant}/oauth2/v2.0/devicecode"),
            Dialect::Google => "/device/code".to_owned(),
            Dialect::GitHub => "/login/device/code".to_owned(),
            Dialect::Auth0 => "/oauth/device/code".to_owned(),
            Dialect::AwsSso => "/device_authorization".to_owned(),
            Dialect::Twitch => "/oauth2/device".to_owned(),
            Dialect::Amazon => "/auth/o2/create/codepair".to_owned(),
            Dialect::Salesforce => "/services/oauth2/token".to_owned(),
            Dialect::Yandex => "/device/code".to_owned(),
            Dialect::Zoho => "/oauth/v3/device/code".to_owned(),
        }
    }

    pub(crate) fn token_path(self, tenant: &str) -> String {
        match self {
            Dialect::Rfc8628 | Dialect::Google | Dialect::Yandex | Dialect::AwsSso => {
                "/token".to_owned()
            }
            Dialect::Twitch => "/oauth2/token".to_owned(),
            Dialect::Amazon => "/auth/o2/token".to_owned(),
            Dialect::Salesforce => "/services/oauth2/token".to_owned(),
            Dialect::Zoho => "/oauth/v3/device/token".to_owned(),
            Dialect::AzureAdV1 => format!("/{tenant}/oauth2/token"),
            Dialect::MicrosoftV2 => format!("/{tenant}/oauth2/v2.0/token"),
            Dialect::GitHub => "/login/oauth/access_token".to_owned(),
            Dialect::Auth0 => "/oauth/token".to_owned(),
        }
    }

    pub(crate) fn route(self, path: &str) -> Route {
        match path {
            "/device" => return Route::Page,
            "/.well-known/openid-configuration" | "/.well-known/oauth-authorization-server" => {
                return Route::Discovery;
            }
            _ => {}
        }
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let tenant_ok = segments.first().is_some_and(|t| !t.is_empty());
        match (self, segments.as_slice()) {
            (Dialect::Rfc8628, ["device_authorization"]) => Route::Device,
            (Dialect::Rfc8628 | Dialect::Google, ["token"]) => Route::Token,
            (Dialect::AzureAdV1, [_, "oauth2", "devicecode"]) if tenant_ok => Route::Device,
            (Dialect::AzureAdV1, [_, "oauth2", "token"]) if tenant_ok => Route::Token,
            (Dialect::MicrosoftV2, [_, "oauth2", "v2.0", "devicecode"]) if tenant_ok => {
                Route::Device
            }
            (Dialect::MicrosoftV2, [_, "oauth2", "v2.0", "token"]) if tenant_ok => Route::Token,
            (Dialect::Google, ["device", "code"]) => Route::Device,
            (Dialect::GitHub, ["login", "device", "code"]) => Route::Device,
            (Dialect::GitHub, ["login", "oauth", "access_token"]) => Route::Token,
            (Dialect::Auth0, ["oauth", "device", "code"]) => Route::Device,
            (Dialect::Auth0, ["oauth", "token"]) => Route::Token,
            (Dialect::AwsSso, ["device_authorization"]) => Route::Device,
            (Dialect::AwsSso | Dialect::Yandex, ["token"]) => Route::Token,
            (Dialect::AwsSso, ["client", "register"]) => Route::Register,
            (Dialect::Twitch, ["oauth2", "device"]) => Route::Device,
            (Dialect::Twitch, ["oauth2", "token"]) => Route::Token,
            (Dialect::Amazon, ["auth", "o2", "create", "codepair"]) => Route::Device,
            (Dialect::Amazon, ["auth", "o2", "token"]) => Route::Token,
            // Both steps at one endpoint: the request's `response_type` tells them apart.
            (Dialect::Salesforce, ["services", "oauth2", "token"]) => Route::Token,
            (Dialect::Yandex, ["device", "code"]) => Route::Device,
            (Dialect::Zoho, ["oauth", "v3", "device", "code"]) => Route::Device,
            (Dialect::Zoho, ["oauth", "v3", "device", "token"]) => Route::Token,
            (Dialect::Zoho, ["oauth", "serverinfo"]) => Route::ServerInfo,
            _ => Route::Unknown,
        }
    }

    fn is_microsoft(self) -> bool {
        matches!(self, Dialect::AzureAdV1 | Dialect::MicrosoftV2)
    }

    /// The `grant_type` value of a device-code poll.
    pub(crate) fn poll_grant(self) -> &'static str {
        match self {
            Dialect::AzureAdV1 | Dialect::Amazon | Dialect::Yandex => "device_code",
            Dialect::Salesforce => "device",
            Dialect::Zoho => "device_token",
            _ => DEVICE_GRANT,
        }
    }

    /// The form field carrying the device code in a poll.
    pub(crate) fn poll_code_field(self) -> &'static str {
        match self {
            Dialect::AzureAdV1 | Dialect::Salesforce | Dialect::Yandex | Dialect::Zoho => "code",
            _ => "device_code",
        }
    }

    /// Whether the device endpoint enforces the full client authentication.
    pub(crate) fn authenticates_device_request(self) -> bool {
        matches!(self, Dialect::Rfc8628 | Dialect::Auth0)
    }

    pub(crate) fn new_device_code(self, rng: &Rng) -> String {
        match self {
            Dialect::GitHub => rng.string(HEX, 40),
            Dialect::Google => format!("4/{}", rng.string(URL_SAFE, 43)),
            Dialect::AzureAdV1 | Dialect::MicrosoftV2 => {
                format!("CAQABAAEAAAB{}", rng.string(URL_SAFE, 120))
            }
            _ => rng.string(URL_SAFE, 43),
        }
    }

    pub(crate) fn new_user_code(self, rng: &Rng) -> String {
        match self {
            Dialect::AzureAdV1 => rng.string(UPPER_DIGITS, 9),
            Dialect::MicrosoftV2 => rng.string(UPPER_DIGITS, 8),
            _ => format!("{}-{}", rng.string(BASE20, 4), rng.string(BASE20, 4)),
        }
    }

    pub(crate) fn new_access_token(self, rng: &Rng) -> String {
        match self {
            Dialect::GitHub => format!("gho_{}", rng.string(ALNUM, 36)),
            Dialect::Google => format!("ya29.{}", rng.string(URL_SAFE, 60)),
            Dialect::AzureAdV1 | Dialect::MicrosoftV2 => rng.string(URL_SAFE, 96),
            _ => rng.string(URL_SAFE, 43),
        }
    }

    pub(crate) fn new_refresh_token(self, rng: &Rng) -> String {
        match self {
            Dialect::GitHub => format!("ghr_{}", rng.string(ALNUM, 76)),
            Dialect::Google => format!("1//{}", rng.string(URL_SAFE, 40)),
            Dialect::AzureAdV1 | Dialect::MicrosoftV2 => {
                format!("0.AAAA{}", rng.string(URL_SAFE, 120))
            }
            _ => rng.string(URL_SAFE, 48),
        }
    }
}

/// Per-request context for rendering.
pub(crate) struct Ctx<'a> {
    pub(crate) dialect: Dialect,
    /// GitHub: the request asked for JSON.
    pub(crate) wants_json: bool,
    pub(crate) rng: &'a Rng,
    pub(crate) tenant: &'a str,
    /// The answer goes to the device endpoint (Microsoft v2 sends errors
    /// there with 200).
    pub(crate) device_endpoint: bool,
    /// The request carried an `Authorization` header.
    pub(crate) used_basic: bool,
}

/// The grant-problem flavours of `invalid_grant`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GrantProblem {
    UnknownCode,
    CodeUsed,
    ExpiredAgain,
    WrongClient,
    BadRefresh,
}

/// The OAuth errors the server can answer.
#[derive(Clone, Debug)]
pub(crate) enum OAuthError {
    Pending,
    SlowDown {
        /// The interval the client was expected to keep.
        before: Duration,
        /// The interval the server expects from now on.
        after: Duration,
        /// The interval placed in the body, if any.
        carried: Option<Duration>,
    },
    Denied,
    Expired,
    InvalidGrant(GrantProblem),
    InvalidClient(AuthProblem),
    MissingParam(&'static str),
    UnsupportedGrant(String),
}

struct Spec {
    status: u16,
    error: &'static str,
    description: Option<String>,
    /// Microsoft: AADSTS number and text.
    aadsts: Option<(u32, String)>,
    uri: Option<&'static str>,
    interval: Option<Duration>,
}

fn spec(ctx: &Ctx<'_>, err: &OAuthError) -> Spec {
    use Dialect as D;
    use OAuthError as E;
    // The second round of providers answers in RFC words; their own are applied below.
    let d = if Dialect::MORE.contains(&ctx.dialect) {
        D::Rfc8628
    } else {
        ctx.dialect
    };
    let mut s = Spec {
        status: 400,
        error: "",
        description: None,
        aadsts: None,
        uri: None,
        interval: None,
    };
    let desc = |t: &str| Some(t.to_owned());
    match err {
        E::Pending => {
            s.error = "authorization_pending";
            match d {
                D::Rfc8628 | D::AwsSso | D::Twitch | D::Amazon | D::Salesforce | D::Yandex | D::Zoho => {}
                D::AzureAdV1 => s.aadsts = Some((70016, "Pending end-user authorization.".into())),
                D::MicrosoftV2 => {
                    s.aadsts = Some((
                        70016,
                        "The provided request has not yet been authorized by the user. The user must input their code.".into(),
                    ))
                }
                D::Google => (s.status, s.description) = (428, desc("Precondition Required")),
                D::GitHub => {
                    s.description = desc("The authorization request is still pending.");
                    s.uri = Some(GH_ERROR_URI);
                }
                D::Auth0 => {
                    (s.status, s.description) = (403, desc("User has yet to authorize device code."))
                }
            }
        }
        E::SlowDown {
            before,
            after,
            carried,
        } => {
            s.error = "slow_down";
            s.interval = *carried;
            match d {
                D::Rfc8628
                | D::AwsSso
                | D::Twitch
                | D::Amazon
                | D::Salesforce
                | D::Yandex
                | D::Zoho => {}
                D::AzureAdV1 | D::MicrosoftV2 => {
                    s.aadsts = Some((
                        0,
                        "synthesized fixture - polling too frequently, slow down.".into(),
                    ))
                }
                D::Google => (s.status, s.description) = (403, desc("Forbidden")),
                D::GitHub => {
                    s.description = desc("Too many requests have been made in the same timeframe.");
                    s.uri = Some("https://docs.github.com");
                    s.interval = Some(carried.unwrap_or(*after));
                }
                D::Auth0 => {
                    s.status = 429;
                    s.description = Some(format!(
                        "You are polling faster than the specified interval of {} seconds.",
                        secs_text(*before)
                    ));
                }
            }
        }
        E::Denied => {
            s.error = "access_denied";
            match d {
                D::Rfc8628
                | D::AwsSso
                | D::Twitch
                | D::Amazon
                | D::Salesforce
                | D::Yandex
                | D::Zoho => {}
                D::AzureAdV1 => s.aadsts = Some((0, "synthesized fixture - user declined.".into())),
                D::MicrosoftV2 => {
                    s.error = "authorization_declined";
                    s.aadsts = Some((0, "synthesized fixture - user declined.".into()));
                }
                D::Google => (s.status, s.description) = (403, desc("Forbidden")),
                D::GitHub => {
                    s.description = desc("The authorization request was denied.");
                    s.uri = Some(GH_ERROR_URI);
                }
                D::Auth0 => {
                    s.status = 403;
                    s.description =
                        desc("Failure: User cancelled the confirmation prompt or consent page.");
                }
            }
        }
        E::Expired => {
            s.error = "expired_token";
            match d {
                D::Rfc8628 | D::AwsSso | D::Twitch | D::Amazon | D::Salesforce | D::Yandex | D::Zoho => {}
                D::AzureAdV1 => {
                    s.error = "code_expired";
                    s.aadsts = Some((70019, "Verification code expired.".into()));
                }
                D::MicrosoftV2 => {
                    s.aadsts = Some((
                        70020,
                        "The provided value for the input parameter 'device_code' is not valid. This device code has expired.".into(),
                    ))
                }
                D::Google => s.description = desc("Bad Request"),
                D::GitHub => {
                    s.description = desc("This 'device_code' has expired.");
                    s.uri = Some(GH_ERROR_URI);
                }
                D::Auth0 => (s.status, s.description) = (403, desc("The device code has expired.")),
            }
        }
        E::InvalidGrant(p) => {
            s.error = "invalid_grant";
            let refresh = *p == GrantProblem::BadRefresh;
            match d {
                D::Rfc8628
                | D::AwsSso
                | D::Twitch
                | D::Amazon
                | D::Salesforce
                | D::Yandex
                | D::Zoho => {
                    s.description = desc(match p {
                        GrantProblem::UnknownCode | GrantProblem::ExpiredAgain => {
                            "Device code not valid"
                        }
                        GrantProblem::CodeUsed => "Device code already used",
                        GrantProblem::WrongClient => "Device code was issued to another client",
                        GrantProblem::BadRefresh => "Invalid refresh token",
                    })
                }
                D::AzureAdV1 | D::MicrosoftV2 => {
                    if *p == GrantProblem::UnknownCode {
                        s.error = "bad_verification_code";
                        s.aadsts = Some((
                            70018,
                            "The provided value for the input parameter 'device_code' is not valid.".into(),
                        ));
                    } else {
                        s.aadsts = Some((70000, "Provided grant is invalid or malformed.".into()));
                    }
                }
                D::Google => s.description = desc("Bad Request"),
                D::GitHub => {
                    if refresh {
                        s.error = "bad_refresh_token";
                        s.description = desc("The refresh token passed is incorrect or expired.");
                        s.uri = Some("https://docs.github.com");
                    } else {
                        s.error = "incorrect_device_code";
                        s.description = desc("The device_code provided is not valid.");
                        s.uri = Some(GH_ERROR_URI);
                    }
                }
                D::Auth0 => {
                    s.status = 403;
                    s.description = desc(if refresh {
                        "Unknown or invalid refresh token."
                    } else {
                        "Invalid or expired device code."
                    });
                }
            }
        }
        E::InvalidClient(problem) => {
            s.error = "invalid_client";
            s.status = 401;
            match d {
                D::Rfc8628 | D::Auth0 | D::AwsSso | D::Twitch | D::Amazon | D::Salesforce | D::Yandex | D::Zoho => {
                    s.description = Some(format!("Client authentication failed: {problem}."))
                }
                D::AzureAdV1 | D::MicrosoftV2 => {
                    s.aadsts = Some(match problem {
                        AuthProblem::UnknownClient(id) => (
                            700016,
                            format!(
                                "Application with identifier '{id}' was not found in the directory '{}'.",
                                ctx.tenant
                            ),
                        ),
                        AuthProblem::MissingClientId => (
                            900144,
                            "The request body must contain the following parameter: 'client_id'.".into(),
                        ),
                        AuthProblem::MissingSecret | AuthProblem::WrongMethod(_) => (
                            7000218,
                            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".into(),
                        ),
                        AuthProblem::WrongSecret => (7000215, "Invalid client secret provided.".into()),
                        AuthProblem::SecretFromPublicClient => (
                            700025,
                            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.".into(),
                        ),
                        other => (0, format!("synthesized fixture - {other}.")),
                    })
                }
                D::Google => s.description = desc("Unauthorized"),
                D::GitHub => {
                    s.error = "incorrect_client_credentials";
                    s.description = desc("The client_id and/or client_secret passed are incorrect.");
                    s.uri = Some("https://docs.github.com");
                }
            }
        }
        E::MissingParam(p) => {
            s.error = "invalid_request";
            match d {
                D::AzureAdV1 | D::MicrosoftV2 => {
                    s.aadsts = Some((
                        900144,
                        format!("The request body must contain the following parameter: '{p}'."),
                    ))
                }
                D::Google => s.description = desc("Bad Request"),
                _ => s.description = Some(format!("Missing parameter: {p}")),
            }
        }
        E::UnsupportedGrant(g) => {
            s.error = "unsupported_grant_type";
            match d {
                D::AzureAdV1 | D::MicrosoftV2 => {
                    s.aadsts = Some((
                        70003,
                        format!("The app requested an unsupported grant type '{g}'."),
                    ))
                }
                D::Google => s.description = desc("Bad Request"),
                D::Auth0 => {
                    s.status = 403;
                    s.description = Some(format!("Unsupported grant type: {g}"));
                }
                _ => s.description = Some(format!("Unsupported grant_type: {g}")),
            }
        }
    }
    match (ctx.dialect, err) {
        (D::Twitch, E::Expired) => s.error = "invalid device code",
        (D::Zoho, E::Expired) => s.error = "expired",
        _ => {}
    }
    if d == D::GitHub {
        s.status = 200;
    }
    if d == D::MicrosoftV2 && ctx.device_endpoint {
        s.status = 200;
    }
    s
}

fn json_reply(d: Dialect, status: StatusCode, body: String) -> Reply {
    match d {
        Dialect::Rfc8628 => {
            Reply::new(status, "application/json", body).header("cache-control", "no-store")
        }
        Dialect::AzureAdV1 | Dialect::MicrosoftV2 => {
            Reply::new(status, "application/json; charset=utf-8", body)
                .header("cache-control", "no-store, no-cache")
                .header("pragma", "no-cache")
        }
        _ => Reply::new(status, "application/json; charset=utf-8", body)
            .header("cache-control", "no-store"),
    }
}

fn form_reply(status: StatusCode, body: String) -> Reply {
    let mut r = Reply::new(
        status,
        "application/x-www-form-urlencoded; charset=utf-8",
        body,
    );
    r.form_encoded = true;
    r
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
}

/// The dialect's error answer.
pub(crate) fn error_reply(ctx: &Ctx<'_>, err: &OAuthError) -> Reply {
    let s = spec(ctx, err);
    let d = ctx.dialect;
    let mut reply = if d.is_microsoft() {
        let (code, text) = s.aadsts.unwrap_or((0, String::new()));
        let trace = ctx.rng.guid();
        let correlation = ctx.rng.guid();
        let ts = ms_timestamp(SystemTime::now());
        let description = format!(
            "AADSTS{code:05}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {ts}"
        );
        let mut o = JsonObject::new()
            .field("error", s.error)
            .field("error_description", description)
            .field("error_codes", Value::from(vec![code]))
            .field("timestamp", ts)
            .field("trace_id", trace)
            .field("correlation_id", correlation);
        if d == Dialect::MicrosoftV2 {
            o = o.field(
                "error_uri",
                format!("https://login.microsoftonline.com/error?code={code}"),
            );
        }
        let o = o.field_opt("interval", s.interval.map(secs_json));
        json_reply(d, status(s.status), o.finish())
    } else if d == Dialect::Twitch {
        // No `error` member: the code is the message.
        let o = JsonObject::new()
            .field("status", s.status)
            .field("message", s.error);
        json_reply(d, status(s.status), o.finish())
    } else if d == Dialect::GitHub && !ctx.wants_json {
        let mut pairs = vec![("error", s.error.to_owned())];
        pairs.extend(s.description.map(|v| ("error_description", v)));
        pairs.extend(s.uri.map(|v| ("error_uri", v.to_owned())));
        pairs.extend(s.interval.map(|v| ("interval", secs_text(v))));
        form_reply(status(s.status), form_encode(pairs))
    } else {
        let o = JsonObject::new()
            .field("error", s.error)
            .field_opt("error_description", s.description)
            .field_opt("error_uri", s.uri)
            .field_opt("interval", s.interval.map(secs_json));
        json_reply(d, status(s.status), o.finish())
    };
    if s.status == 401 && ctx.used_basic {
        reply = reply.header("www-authenticate", "Basic realm=\"device-grant-sim\"");
    }
    reply
}

/// What a device authorization response announces.
pub(crate) struct DeviceGrant<'a> {
    pub(crate) device_code: &'a str,
    pub(crate) user_code: &'a str,
    pub(crate) verification_uri: &'a str,
    pub(crate) expires_in: Duration,
    pub(crate) interval: Option<Duration>,
}

/// The dialect's successful device authorization response.
pub(crate) fn device_reply(ctx: &Ctx<'_>, g: &DeviceGrant<'_>) -> Reply {
    let d = ctx.dialect;
    let complete = format!(
        "{}?user_code={}",
        g.verification_uri,
        form_encode([("x", g.user_code.to_owned())]).trim_start_matches("x=")
    );
    let ok = StatusCode::OK;
    match d {
        Dialect::Rfc8628 | Dialect::Auth0 => {
            let o = JsonObject::new()
                .field("device_code", g.device_code)
                .field("user_code", g.user_code)
                .field("verification_uri", g.verification_uri)
                .field("verification_uri_complete", complete)
                .field("expires_in", secs_json(g.expires_in))
                .field_opt("interval", g.interval.map(secs_json));
            json_reply(d, ok, o.finish())
        }
        Dialect::AzureAdV1 | Dialect::MicrosoftV2 => {
            let message = format!(
                "To sign in, use a web browser to open the page {} and enter the code {} to authenticate.",
                g.verification_uri, g.user_code
            );
            let v1 = d == Dialect::AzureAdV1;
            let num = |v: Duration| {
                if v1 {
                    Value::from(secs_text(v))
                } else {
                    secs_json(v)
                }
            };
            let o = JsonObject::new()
                .field("user_code", g.user_code)
                .field("device_code", g.device_code)
                .field(
                    if v1 {
                        "verification_url"
                    } else {
                        "verification_uri"
                    },
                    g.verification_uri,
                )
                .field("expires_in", num(g.expires_in))
                .field_opt("interval", g.interval.map(num))
                .field("message", message);
            json_reply(d, ok, o.finish()).header("expires", "-1")
        }
        Dialect::GitHub if !ctx.wants_json => {
            let mut pairs = vec![
                ("device_code", g.device_code.to_owned()),
                ("expires_in", secs_text(g.expires_in)),
            ];
            pairs.extend(g.interval.map(|v| ("interval", secs_text(v))));
            pairs.push(("user_code", g.user_code.to_owned()));
            pairs.push(("verification_uri", g.verification_uri.to_owned()));
            form_reply(ok, form_encode(pairs))
        }
        Dialect::AwsSso => {
            let o = JsonObject::new()
                .field("deviceCode", g.device_code)
                .field("expiresIn", secs_json(g.expires_in))
                .field_opt("interval", g.interval.map(secs_json))
                .field("userCode", g.user_code)
                .field("verificationUri", g.verification_uri)
                .field("verificationUriComplete", complete);
            json_reply(d, ok, o.finish())
        }
        Dialect::Twitch => {
            let o = JsonObject::new()
                .field("device_code", g.device_code)
                .field("expires_in", secs_json(g.expires_in))
                .field_opt("interval", g.interval.map(secs_json))
                .field("user_code", g.user_code)
                .field(
                    "verification_uri",
                    format!("{}?device-code={}", g.verification_uri, g.user_code),
                );
            json_reply(d, ok, o.finish())
        }
        // GitHub when asked for JSON; its form answer is the guarded arm above.
        Dialect::GitHub | Dialect::Amazon => {
            let o = JsonObject::new()
                .field("device_code", g.device_code)
                .field("user_code", g.user_code)
                .field("verification_uri", g.verification_uri)
                .field("expires_in", secs_json(g.expires_in))
                .field_opt("interval", g.interval.map(secs_json));
            json_reply(d, ok, o.finish())
        }
        // The Salesforce CLI's type has no `expires_in`: none is sent.
        Dialect::Salesforce => {
            let o = JsonObject::new()
                .field("device_code", g.device_code)
                .field("user_code", g.user_code)
                .field("verification_uri", g.verification_uri)
                .field_opt("interval", g.interval.map(secs_json));
            json_reply(d, ok, o.finish())
        }
        Dialect::Google | Dialect::Yandex | Dialect::Zoho => {
            let o = JsonObject::new()
                .field("device_code", g.device_code)
                .field("user_code", g.user_code)
                .field("verification_url", g.verification_uri)
                .field("expires_in", secs_json(g.expires_in))
                .field_opt("interval", g.interval.map(secs_json));
            json_reply(d, ok, o.finish())
        }
    }
}

/// What a token response carries.
pub(crate) struct Tokens<'a> {
    pub(crate) access_token: &'a str,
    pub(crate) refresh_token: Option<&'a str>,
    pub(crate) scope: Option<&'a str>,
    pub(crate) resource: Option<&'a str>,
}

/// The dialect's successful token response.
pub(crate) fn token_reply(ctx: &Ctx<'_>, t: &Tokens<'_>) -> Reply {
    let d = ctx.dialect;
    let ok = StatusCode::OK;
    match d {
        Dialect::Rfc8628 => {
            let o = JsonObject::new()
                .field("access_token", t.access_token)
                .field("token_type", "Bearer")
                .field("expires_in", 3600)
                .field_opt("refresh_token", t.refresh_token)
                .field_opt("scope", t.scope);
            json_reply(d, ok, o.finish())
        }
        Dialect::AzureAdV1 => {
            let now = unix_secs(SystemTime::now());
            let o = JsonObject::new()
                .field("token_type", "Bearer")
                .field("scope", t.scope.unwrap_or("user_impersonation"))
                .field("expires_in", "3599")
                .field("ext_expires_in", "3599")
                .field("expires_on", (now + 3599).to_string())
                .field("not_before", now.to_string())
                .field("resource", t.resource.unwrap_or_default())
                .field("access_token", t.access_token)
                .field_opt("refresh_token", t.refresh_token);
            json_reply(d, ok, o.finish())
        }
        Dialect::MicrosoftV2 => {
            let o = JsonObject::new()
                .field("token_type", "Bearer")
                .field("scope", t.scope.unwrap_or("openid profile"))
                .field("expires_in", 3599)
                .field("ext_expires_in", 3599)
                .field("access_token", t.access_token)
                .field_opt("refresh_token", t.refresh_token);
            json_reply(d, ok, o.finish())
        }
        Dialect::Google => {
            let o = JsonObject::new()
                .field("access_token", t.access_token)
                .field("expires_in", 3599)
                .field_opt("scope", t.scope)
                .field("token_type", "Bearer")
                .field_opt("refresh_token", t.refresh_token);
            json_reply(d, ok, o.finish())
        }
        Dialect::GitHub => {
            let scope = t
                .scope
                .unwrap_or_default()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(",");
            if ctx.wants_json {
                let mut o = JsonObject::new()
                    .field("access_token", t.access_token)
                    .field("token_type", "bearer")
                    .field("scope", scope);
                if let Some(rt) = t.refresh_token {
                    o = o
                        .field("expires_in", 28800)
                        .field("refresh_token", rt)
                        .field("refresh_token_expires_in", 15_897_600);
                }
                json_reply(d, ok, o.finish())
            } else {
                let mut pairs = vec![
                    ("access_token", t.access_token.to_owned()),
                    ("token_type", "bearer".to_owned()),
                    ("scope", scope),
                ];
                if let Some(rt) = t.refresh_token {
                    pairs.push(("expires_in", "28800".to_owned()));
                    pairs.push(("refresh_token", rt.to_owned()));
                    pairs.push(("refresh_token_expires_in", "15897600".to_owned()));
                }
                form_reply(ok, form_encode(pairs))
            }
        }
        Dialect::Auth0 => {
            let o = JsonObject::new()
                .field("access_token", t.access_token)
                .field_opt("refresh_token", t.refresh_token)
                .field("token_type", "Bearer")
                .field("expires_in", 86400)
                .field_opt("scope", t.scope);
            json_reply(d, ok, o.finish())
        }
        Dialect::AwsSso => {
            let o = JsonObject::new()
                .field("accessToken", t.access_token)
                .field("tokenType", "Bearer")
                .field("expiresIn", 3600)
                .field_opt("refreshToken", t.refresh_token);
            json_reply(d, ok, o.finish())
        }
        Dialect::Twitch => {
            let scopes: Vec<&str> = t.scope.unwrap_or_default().split_whitespace().collect();
            let o = JsonObject::new()
                .field("access_token", t.access_token)
                .field("expires_in", 14124)
                .field_opt("refresh_token", t.refresh_token)
                .field("scope", scopes)
                .field("token_type", "bearer");
            json_reply(d, ok, o.finish())
        }
        Dialect::Salesforce => {
            let o = JsonObject::new()
                .field("access_token", t.access_token)
                .field_opt("refresh_token", t.refresh_token)
                .field("signature", "c2lnbmF0dXJl")
                .field_opt("scope", t.scope)
                .field("instance_url", "https://example.my.salesforce.com")
                .field(
                    "id",
                    "https://login.salesforce.com/id/00D000000000001/005000000000001",
                )
                .field("token_type", "Bearer")
                .field("issued_at", unix_secs(SystemTime::now()).to_string());
            json_reply(d, ok, o.finish())
        }
        Dialect::Amazon | Dialect::Yandex | Dialect::Zoho => {
            let mut o = JsonObject::new()
                .field("access_token", t.access_token)
                .field_opt("refresh_token", t.refresh_token)
                .field("token_type", "bearer")
                .field("expires_in", 3600);
            if d == Dialect::Zoho {
                o = o.field("api_domain", "https://www.zohoapis.com");
            }
            json_reply(d, ok, o.finish())
        }
    }
}
