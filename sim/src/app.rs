//! Request handling: routing, client authentication, flows, the referee's
//! bookkeeping. Everything here is synchronous under one lock; the async
//! part (sleeping, streaming faults) is in `wire`.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use http::request::Parts;
use http::{Method, StatusCode};

use crate::config::{Client, ClientAuthMethod, Dialect, ServerConfig};
use crate::dialect::{
    Ctx, DEVICE_GRANT, DeviceGrant, GrantProblem, OAuthError, Reply, Route, Tokens, device_reply,
    error_reply, token_reply,
};
use crate::dpop;
use crate::encoding::{JsonObject, form_decode, html_escape, normalize_user_code};
use crate::referee::{
    AuthProblem, Decision, Ending, Exposure, FlowId, RecordedRequest, RequestKind, Violation,
};
use crate::rng::Rng;
use crate::script::{Fault, PollEvent};
use crate::state::{Flow, Shared};

/// The largest request body the server reads.
pub(crate) const MAX_REQUEST_BODY: usize = 1 << 20;
/// The interval RFC 8628 §3.2 prescribes when none is sent.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// What `slow_down` adds to the interval (RFC 8628 §3.5).
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// The user actions and accessors the socket server and the in-memory peer share: both
/// hold their request handling in a field `app`.
macro_rules! shared_actions {
    () => {
        /// The dialect's device authorization endpoint.
        pub fn device_endpoint(&self) -> String {
            self.app.device_endpoint()
        }

        /// The dialect's token endpoint (polls and refreshes).
        pub fn token_endpoint(&self) -> String {
            self.app.token_endpoint()
        }

        /// The `/device` page a person uses to approve or deny.
        pub fn verification_uri(&self) -> String {
            self.app.verification_uri()
        }

        /// The dialect served.
        pub fn dialect(&self) -> crate::Dialect {
            self.app.config.dialect
        }

        /// The first registered client's id.
        pub fn client_id(&self) -> &str {
            self.app.client_id()
        }

        /// The first registered client's secret, if it has one.
        pub fn client_secret(&self) -> Option<&str> {
            self.app.client_secret()
        }

        /// Queues a script for the next new flow (after those already queued).
        pub fn queue_script(&self, script: crate::Script) {
            self.app.queue_script(script);
        }

        /// Answers the next request of that kind with `fault` (faults queue up, one per
        /// request). Token polls get faults from their [`Script`](crate::Script).
        pub fn inject_fault(&self, target: crate::FaultTarget, fault: crate::Fault) {
            self.app.inject_fault(target, fault);
        }

        /// The referee: recorded requests, flows and violations.
        pub fn referee(&self) -> crate::Referee {
            self.app.referee()
        }
    };
}
pub(crate) use shared_actions;

/// What to send for one request.
pub(crate) enum Plan {
    Reply(Reply),
    Fault {
        fault: Fault,
        /// The answer the fault mangles or delays.
        base: Reply,
        /// Where `Fault::Redirect` points.
        location: String,
    },
}

pub(crate) struct App {
    pub(crate) config: ServerConfig,
    pub(crate) base_url: String,
    pub(crate) shared: Arc<Mutex<Shared>>,
    pub(crate) rng: Rng,
    /// AWS: clients registered at `/client/register`, with when their secret expires.
    registered: Mutex<Vec<(Client, SystemTime)>>,
}

/// One parsed request.
struct Req<'a> {
    idx: usize,
    now: Instant,
    method: &'a Method,
    parts: &'a Parts,
    form: Vec<(String, String)>,
    /// The path with any `/redirected` prefix removed.
    path: String,
    /// Zoho: the request came to the other data centre (under `/{user_location}`).
    other_dc: bool,
}

impl Req<'_> {
    fn form(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.parts.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn parse_body(content_type: Option<&str>, body: &[u8]) -> Vec<(String, String)> {
    let media = content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/x-www-form-urlencoded" => url::form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        "application/json" => match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(map)) => map
                .into_iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => (k, s),
                    other => (k, other.to_string()),
                })
                .collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// `clientId` → `client_id`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn is_early(gap: Duration, interval: Duration) -> bool {
    let tolerance = (interval / 10).max(Duration::from_millis(20));
    gap + tolerance < interval
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("base_url", &self.base_url)
            .field("dialect", &self.config.dialect)
            .finish_non_exhaustive()
    }
}

impl App {
    /// The request handling for `config`, serving under `base_url` (no trailing slash).
    pub(crate) fn new(config: ServerConfig, base_url: String) -> App {
        let shared = Shared {
            scripts: config.queued.iter().cloned().collect(),
            ..Shared::default()
        };
        App {
            config,
            base_url,
            shared: Arc::new(Mutex::new(shared)),
            rng: Rng::new(),
            registered: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn dialect(&self) -> Dialect {
        self.config.dialect
    }

    pub(crate) fn verification_uri(&self) -> String {
        format!("{}/device", self.base_url)
    }

    pub(crate) fn device_endpoint(&self) -> String {
        let c = &self.config;
        format!("{}{}", self.base_url, c.dialect.device_path(&c.tenant))
    }

    pub(crate) fn token_endpoint(&self) -> String {
        let c = &self.config;
        format!("{}{}", self.base_url, c.dialect.token_path(&c.tenant))
    }

    pub(crate) fn client_id(&self) -> &str {
        self.config.clients.first().map_or("", |c| c.id())
    }

    pub(crate) fn client_secret(&self) -> Option<&str> {
        self.config.clients.first().and_then(|c| c.secret())
    }

    /// A person approves or denies at `now`, as the `/device` page does.
    pub(crate) fn decide(&self, user_code: &str, approve: bool, now: Instant) -> bool {
        self.lock()
            .decide_by_user_code(user_code, approve, now)
            .is_some()
    }

    pub(crate) fn queue_script(&self, script: crate::script::Script) {
        self.lock().scripts.push_back(script);
    }

    pub(crate) fn inject_fault(&self, target: crate::script::FaultTarget, fault: Fault) {
        let mut sh = self.lock();
        match target {
            crate::script::FaultTarget::DeviceAuthorization => sh.device_faults.push_back(fault),
            crate::script::FaultTarget::Refresh => sh.refresh_faults.push_back(fault),
        }
    }

    pub(crate) fn referee(&self) -> crate::referee::Referee {
        crate::referee::Referee {
            shared: Arc::clone(&self.shared),
        }
    }

    fn ctx<'a>(&'a self, req: &Req<'_>, device_endpoint: bool) -> Ctx<'a> {
        let wants_json = req
            .header("accept")
            .is_some_and(|a| a.to_ascii_lowercase().contains("application/json"));
        Ctx {
            dialect: self.dialect(),
            wants_json,
            rng: &self.rng,
            tenant: &self.config.tenant,
            device_endpoint,
            used_basic: req.header("authorization").is_some(),
        }
    }

    /// Records the request, decides the answer, runs the referee's checks.
    pub(crate) fn plan(&self, parts: &Parts, body: &[u8], now: Instant) -> Plan {
        let mut sh = self.lock();
        let sh = &mut *sh;
        let target = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| parts.uri.path().to_owned());
        let headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let content_type = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let mut form = parse_body(content_type, body);
        match self.dialect() {
            // Zoho's parameters travel in the query string.
            Dialect::Zoho => form.extend(
                url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned())),
            ),
            // AWS's camelCase members are read by their RFC names.
            Dialect::AwsSso => {
                for (name, _) in &mut form {
                    *name = snake_case(name);
                }
            }
            _ => {}
        }
        let (redirected, path) = match parts.uri.path().strip_prefix("/redirected") {
            Some(rest) if rest.starts_with('/') => (true, rest.to_owned()),
            _ => (false, parts.uri.path().to_owned()),
        };
        let dc_prefix = self.config.user_location.as_ref().map(|l| format!("/{l}/"));
        let (other_dc, path) = match dc_prefix.as_deref().and_then(|p| {
            path.strip_prefix(p.trim_end_matches('/'))
                .filter(|rest| rest.starts_with('/'))
        }) {
            Some(rest) => (true, rest.to_owned()),
            None => (false, path),
        };
        let idx = sh.requests.len();
        sh.requests.push(RecordedRequest {
            index: idx,
            at: now,
            method: parts.method.as_str().to_owned(),
            target: target.clone(),
            headers,
            form: form.clone(),
            kind: RequestKind::Unknown,
            redirected,
            flow: None,
            poll: None,
            status: None,
            fault: None,
        });
        if redirected {
            sh.violations.push(Violation::RedirectFollowed {
                request: idx,
                target,
            });
        }
        let req = Req {
            idx,
            now,
            method: &parts.method,
            parts,
            form,
            path,
            other_dc,
        };
        // RFC 7009 revocation is the same for every dialect here.
        let route = match req.path.as_str() {
            "/revoke" => None,
            path => Some(self.dialect().route(path)),
        };
        let plan = match route {
            None => self.revoke(sh, &req),
            Some(Route::Device) => {
                let plan = self.device(sh, &req);
                dpop::stamp(self.config.dpop, sh, plan)
            }
            Some(Route::Token) => {
                let plan = self.token(sh, &req);
                dpop::stamp(self.config.dpop, sh, plan)
            }
            Some(Route::Register) => self.register(&req),
            Some(Route::ServerInfo) => self.server_info(&req),
            Some(Route::Page) => self.page(sh, &req),
            Some(Route::Discovery) => self.discovery(sh, &req),
            Some(Route::Unknown) => Plan::Reply(text(StatusCode::NOT_FOUND, "not found\n")),
        };
        self.scan_exposure(sh, idx, body);
        let record = &mut sh.requests[idx];
        match &plan {
            Plan::Reply(r) => record.status = Some(r.status.as_u16()),
            Plan::Fault { fault, base, .. } => {
                record.status = crate::script::fault_status(fault, base).map(|s| s.as_u16());
                record.fault = Some(fault.clone());
            }
        }
        plan
    }

    /// Flags any device code outside a token endpoint form body.
    fn scan_exposure(&self, sh: &mut Shared, idx: usize, body: &[u8]) {
        let rec = &sh.requests[idx];
        let decoded_target = form_decode(&rec.target).unwrap_or_default();
        let body_allowed = matches!(
            rec.kind,
            RequestKind::DevicePoll | RequestKind::Refresh | RequestKind::OtherToken
        ) && !rec.redirected;
        // Zoho asks for the device code in the query string of its token requests.
        let url_allowed = body_allowed && self.dialect() == Dialect::Zoho;
        let mut found = Vec::new();
        for flow in &sh.flows {
            let code = flow.device_code.as_str();
            if !url_allowed && (rec.target.contains(code) || decoded_target.contains(code)) {
                found.push((flow.id, Exposure::Url));
            }
            for (name, value) in &rec.headers {
                if value.contains(code) {
                    found.push((flow.id, Exposure::Header(name.clone())));
                }
            }
            if !body_allowed
                && (contains(body, code.as_bytes())
                    || rec.form.iter().any(|(_, v)| v.contains(code)))
            {
                found.push((flow.id, Exposure::Body));
            }
        }
        for (flow, place) in found {
            sh.violations.push(Violation::DeviceCodeExposed {
                request: idx,
                flow,
                place,
            });
        }
    }

    fn find_client(&self, id: &str) -> Option<Client> {
        let now = SystemTime::now();
        self.config
            .clients
            .iter()
            .find(|c| c.id() == id)
            .cloned()
            .or_else(|| {
                let registered = self.registered.lock().unwrap_or_else(|e| e.into_inner());
                // An expired registration is no client at all: `invalid_client`.
                registered
                    .iter()
                    .find(|(c, expires)| c.id() == id && *expires > now)
                    .map(|(c, _)| c.clone())
            })
    }

    /// AWS `RegisterClient`: a public-type client gets an id and a secret that expires.
    fn register(&self, req: &Req<'_>) -> Plan {
        if *req.method != Method::POST {
            return Plan::Reply(method_not_allowed("POST"));
        }
        let ctx = self.ctx(req, false);
        if req.form("client_name").is_none() || req.form("client_type") != Some("public") {
            return Plan::Reply(error_reply(
                &ctx,
                &OAuthError::MissingParam("clientName, clientType"),
            ));
        }
        let id = format!("_yzk{}", self.rng.string(crate::rng::ALNUM, 24));
        let secret = self.rng.string(crate::rng::ALNUM, 64);
        let issued = SystemTime::now();
        let expires = issued + self.config.registration_lifetime;
        self.registered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((Client::post(id.clone(), secret.clone()), expires));
        let body = JsonObject::new()
            .field("clientId", id)
            .field("clientIdIssuedAt", crate::encoding::unix_secs(issued))
            .field("clientSecret", secret)
            .field("clientSecretExpiresAt", crate::encoding::unix_secs(expires))
            .finish();
        Plan::Reply(Reply::new(StatusCode::OK, "application/json", body))
    }

    /// Zoho's `/oauth/serverinfo`: each data centre's accounts server; the configured user
    /// location is served under this server's `/{location}`.
    fn server_info(&self, req: &Req<'_>) -> Plan {
        if *req.method != Method::GET {
            return Plan::Reply(method_not_allowed("GET"));
        }
        let mut locations = serde_json::Map::new();
        locations.insert("us".into(), self.base_url.clone().into());
        if let Some(l) = &self.config.user_location {
            locations.insert(l.clone(), format!("{}/{l}", self.base_url).into());
        }
        let body = JsonObject::new()
            .field("result", "success")
            .field("locations", serde_json::Value::Object(locations))
            .finish();
        Plan::Reply(Reply::new(StatusCode::OK, "application/json", body))
    }

    /// RFC 6749 §2.3.1 client authentication against the registered method.
    fn authenticate(&self, req: &Req<'_>) -> Result<Client, AuthProblem> {
        self.authenticate_with(req, false)
    }

    /// `form_secret_is_data`: Google wants `client_secret` in every poll
    /// form, even from clients registered as public, so there it is not
    /// taken as an authentication attempt by a public client.
    fn authenticate_with(
        &self,
        req: &Req<'_>,
        form_secret_is_data: bool,
    ) -> Result<Client, AuthProblem> {
        let basic = match req.parts.headers.get(http::header::AUTHORIZATION) {
            None => None,
            Some(v) => {
                let v = v.to_str().map_err(|_| AuthProblem::MalformedBasic)?;
                let (scheme, rest) = v.split_once(' ').unwrap_or((v, ""));
                if !scheme.eq_ignore_ascii_case("basic") {
                    return Err(AuthProblem::MalformedBasic);
                }
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(rest.trim())
                    .map_err(|_| AuthProblem::MalformedBasic)?;
                let text = String::from_utf8(raw).map_err(|_| AuthProblem::MalformedBasic)?;
                let (id, secret) = text.split_once(':').ok_or(AuthProblem::MalformedBasic)?;
                let id = form_decode(id).ok_or(AuthProblem::MalformedBasic)?;
                let secret = form_decode(secret).ok_or(AuthProblem::MalformedBasic)?;
                Some((id, secret))
            }
        };
        let form_id = req.form("client_id");
        let mut form_secret = req.form("client_secret");
        let id = match (&basic, form_id) {
            (Some((b, _)), Some(f)) if b != f => return Err(AuthProblem::ClientIdMismatch),
            (Some((b, _)), _) => b.clone(),
            (None, Some(f)) => f.to_owned(),
            (None, None) => return Err(AuthProblem::MissingClientId),
        };
        let client = self
            .find_client(&id)
            .ok_or(AuthProblem::UnknownClient(id))?;
        if form_secret_is_data && client.method() == ClientAuthMethod::None {
            form_secret = None;
        }
        if basic.is_some() && form_secret.is_some() {
            return Err(AuthProblem::MultipleMethods);
        }
        let secret = client.secret().unwrap_or_default();
        match client.method() {
            ClientAuthMethod::None => match (&basic, form_secret) {
                (Some((_, s)), _) if s.is_empty() => Err(AuthProblem::WrongMethod(
                    ClientAuthMethod::ClientSecretBasic,
                )),
                (Some(_), _) | (None, Some(_)) => Err(AuthProblem::SecretFromPublicClient),
                (None, None) => Ok(client),
            },
            ClientAuthMethod::ClientSecretBasic => match (&basic, form_secret) {
                (Some((_, s)), _) if s == secret => Ok(client),
                (Some(_), _) => Err(AuthProblem::WrongSecret),
                (None, Some(_)) => {
                    Err(AuthProblem::WrongMethod(ClientAuthMethod::ClientSecretPost))
                }
                (None, None) => Err(AuthProblem::MissingSecret),
            },
            ClientAuthMethod::ClientSecretPost => match (&basic, form_secret) {
                (Some(_), _) => Err(AuthProblem::WrongMethod(
                    ClientAuthMethod::ClientSecretBasic,
                )),
                (None, Some(s)) if s == secret => Ok(client),
                (None, Some(_)) => Err(AuthProblem::WrongSecret),
                (None, None) => Err(AuthProblem::MissingSecret),
            },
        }
    }

    /// Records the violation and answers `invalid_client`.
    fn auth_failure(
        &self,
        sh: &mut Shared,
        req: &Req<'_>,
        ctx: &Ctx<'_>,
        problem: AuthProblem,
    ) -> Plan {
        let expected = req
            .form("client_id")
            .and_then(|id| self.find_client(id))
            .or(match self.config.clients.as_slice() {
                [only] => Some(only.clone()),
                _ => None,
            })
            .map(|c| c.method());
        sh.violations.push(Violation::ClientAuth {
            request: req.idx,
            expected,
            problem: problem.clone(),
        });
        Plan::Reply(error_reply(ctx, &OAuthError::InvalidClient(problem)))
    }

    fn device(&self, sh: &mut Shared, req: &Req<'_>) -> Plan {
        sh.requests[req.idx].kind = RequestKind::DeviceAuthorization;
        if *req.method != Method::POST {
            return Plan::Reply(method_not_allowed("POST"));
        }
        let jkt = match dpop::check(
            self.config.dpop,
            sh,
            req.idx,
            req.parts,
            &self.device_endpoint(),
        ) {
            Ok(jkt) => jkt,
            Err(plan) => return plan,
        };
        let d = self.dialect();
        let ctx = self.ctx(req, true);
        let expires_in = self.config.expires_in;
        let interval = self.config.interval;
        if let Some(fault) = sh.device_faults.pop_front() {
            let device_code = d.new_device_code(&self.rng);
            let user_code = d.new_user_code(&self.rng);
            let uri = self.verification_uri();
            let base = device_reply(
                &ctx,
                &DeviceGrant {
                    device_code: &device_code,
                    user_code: &user_code,
                    verification_uri: &uri,
                    expires_in,
                    interval,
                },
            );
            return self.fault_plan(fault, base, req);
        }
        let client = if d.authenticates_device_request() {
            self.authenticate(req)
        } else {
            match req.form("client_id") {
                None => Err(AuthProblem::MissingClientId),
                Some(id) => self
                    .find_client(id)
                    .ok_or_else(|| AuthProblem::UnknownClient(id.to_owned())),
            }
        };
        let client = match client {
            Ok(c) => c,
            Err(problem) => return self.auth_failure(sh, req, &ctx, problem),
        };
        if let (Dialect::AwsSso, Some(region)) = (d, &self.config.home_region) {
            // AWS's InvalidRequestRegionException: the start URL lives in another region.
            let body = JsonObject::new()
                .field("error", "invalid_request")
                .field(
                    "error_description",
                    "Requested start URL is not in the same region as the client",
                )
                .field("endpoint", format!("https://oidc.{region}.amazonaws.com"))
                .field("region", region.as_str())
                .finish();
            return Plan::Reply(Reply::new(
                StatusCode::BAD_REQUEST,
                "application/json",
                body,
            ));
        }
        match d {
            Dialect::AzureAdV1 if req.form("resource").is_none() => {
                return Plan::Reply(error_reply(&ctx, &OAuthError::MissingParam("resource")));
            }
            Dialect::Amazon | Dialect::Salesforce
                if req.form("response_type") != Some("device_code") =>
            {
                return Plan::Reply(error_reply(
                    &ctx,
                    &OAuthError::MissingParam("response_type"),
                ));
            }
            Dialect::Zoho if req.form("grant_type") != Some("device_request") => {
                return Plan::Reply(error_reply(&ctx, &OAuthError::MissingParam("grant_type")));
            }
            Dialect::AwsSso if req.form("start_url").is_none() => {
                return Plan::Reply(error_reply(&ctx, &OAuthError::MissingParam("startUrl")));
            }
            Dialect::Twitch if req.form("scopes").is_none() => {
                return Plan::Reply(error_reply(&ctx, &OAuthError::MissingParam("scopes")));
            }
            Dialect::MicrosoftV2 if req.form("scope").is_none() => {
                return Plan::Reply(error_reply(&ctx, &OAuthError::MissingParam("scope")));
            }
            _ => {}
        }
        let script = sh
            .scripts
            .pop_front()
            .unwrap_or_else(|| self.config.script.clone());
        let device_code = loop {
            let c = d.new_device_code(&self.rng);
            if !sh.by_device_code.contains_key(&c) {
                break c;
            }
        };
        let user_code = loop {
            let c = d.new_user_code(&self.rng);
            let n = normalize_user_code(&c);
            if !sh
                .flows
                .iter()
                .any(|f| normalize_user_code(&f.user_code) == n)
            {
                break c;
            }
        };
        let id = FlowId(sh.flows.len() as u32 + 1);
        let far_future = req.now + Duration::from_secs(100 * 365 * 86_400);
        let flow = Flow {
            id,
            device_code: device_code.clone(),
            user_code: user_code.clone(),
            client_id: client.id().to_owned(),
            scope: req
                .form("scope")
                .or_else(|| req.form("scopes"))
                .map(|s| s.replace(',', " ")),
            resource: req.form("resource").map(str::to_owned),
            script,
            created: req.now,
            expires_at: req.now.checked_add(expires_in).unwrap_or(far_future),
            interval: interval.unwrap_or(DEFAULT_INTERVAL),
            polls: 0,
            last_poll: None,
            decision: Decision::Pending,
            ending: None,
            expired_answers: 0,
        };
        dpop::bind_device(sh, &device_code, jkt);
        sh.by_device_code
            .insert(device_code.clone(), sh.flows.len());
        sh.flows.push(flow);
        sh.requests[req.idx].flow = Some(id);
        let uri = if self.config.relative_verification_uri {
            "/device".to_owned()
        } else {
            self.verification_uri()
        };
        Plan::Reply(device_reply(
            &ctx,
            &DeviceGrant {
                device_code: &device_code,
                user_code: &user_code,
                verification_uri: &uri,
                expires_in,
                interval,
            },
        ))
    }

    fn fault_plan(&self, fault: Fault, base: Reply, req: &Req<'_>) -> Plan {
        let query = req
            .parts
            .uri
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        Plan::Fault {
            fault,
            base,
            location: format!("{}/redirected{}{}", self.base_url, req.path, query),
        }
    }

    fn token(&self, sh: &mut Shared, req: &Req<'_>) -> Plan {
        sh.requests[req.idx].kind = RequestKind::OtherToken;
        if *req.method != Method::POST {
            return Plan::Reply(method_not_allowed("POST"));
        }
        let d = self.dialect();
        if d == Dialect::Salesforce && req.form("response_type") == Some("device_code") {
            return self.device(sh, req);
        }
        let jkt = match dpop::check(
            self.config.dpop,
            sh,
            req.idx,
            req.parts,
            &self.token_endpoint(),
        ) {
            Ok(jkt) => jkt,
            Err(plan) => return plan,
        };
        let code = req.form(d.poll_code_field());
        if let Err(plan) = dpop::key_matches(sh, jkt.as_deref(), code, req.form("refresh_token")) {
            return plan;
        }
        match req.form("grant_type") {
            Some(g) if g == d.poll_grant() => {
                let plan = self.poll(sh, req);
                dpop::issue(sh, jkt, plan)
            }
            Some("refresh_token") => {
                let plan = self.refresh(sh, req);
                dpop::issue(sh, jkt, plan)
            }
            other => {
                let ctx = self.ctx(req, false);
                if let Err(problem) = self.authenticate(req) {
                    return self.auth_failure(sh, req, &ctx, problem);
                }
                let err = match other {
                    None => OAuthError::MissingParam("grant_type"),
                    Some(g) => OAuthError::UnsupportedGrant(g.to_owned()),
                };
                Plan::Reply(error_reply(&ctx, &err))
            }
        }
    }

    fn slow_down(flow: &mut Flow, carried: Option<Duration>, ctx: &Ctx<'_>) -> Plan {
        let before = flow.interval;
        let after = carried.unwrap_or_else(|| before.saturating_add(SLOW_DOWN_STEP));
        flow.interval = after;
        Plan::Reply(error_reply(
            ctx,
            &OAuthError::SlowDown {
                before,
                after,
                carried,
            },
        ))
    }

    fn poll(&self, sh: &mut Shared, req: &Req<'_>) -> Plan {
        let d = self.dialect();
        let ctx = self.ctx(req, false);
        sh.requests[req.idx].kind = RequestKind::DevicePoll;
        let code = req.form(d.poll_code_field());
        let flow_idx = code.and_then(|c| sh.by_device_code.get(c).copied());

        // Counting, interval and end-of-flow checks come first: they concern
        // every request that carries a known device code.
        let mut early = false;
        let mut poll_no = 0;
        if let Some(fi) = flow_idx {
            let flow = &mut sh.flows[fi];
            flow.polls += 1;
            poll_no = flow.polls;
            let gap = flow.last_poll.map(|p| req.now.saturating_duration_since(p));
            flow.last_poll = Some(req.now);
            sh.requests[req.idx].flow = Some(flow.id);
            sh.requests[req.idx].poll = Some(poll_no);
            if let Some(ending) = flow.ending {
                sh.violations.push(Violation::AfterEnd {
                    request: req.idx,
                    flow: flow.id,
                    ending,
                });
            } else if let Some(gap) = gap.filter(|g| is_early(*g, flow.interval)) {
                early = true;
                sh.violations.push(Violation::EarlyPoll {
                    request: req.idx,
                    flow: flow.id,
                    poll: poll_no,
                    gap,
                    interval: flow.interval,
                });
            }
            if flow.ending.is_none() {
                match flow.script.events.get(&poll_no).cloned() {
                    Some(PollEvent::SlowDown(carried)) => {
                        return Self::slow_down(flow, carried, &ctx);
                    }
                    Some(PollEvent::Fault(fault)) => {
                        let base = error_reply(&ctx, &OAuthError::Pending);
                        return self.fault_plan(fault, base, req);
                    }
                    None => {}
                }
            }
        }

        let google = d == Dialect::Google;
        if matches!(d, Dialect::Google | Dialect::Yandex | Dialect::Zoho)
            && req.form("client_secret").is_none()
        {
            return self.auth_failure(sh, req, &ctx, AuthProblem::MissingSecret);
        }
        let client = match self.authenticate_with(req, google) {
            Ok(c) => c,
            Err(problem) => return self.auth_failure(sh, req, &ctx, problem),
        };
        if d == Dialect::AzureAdV1 && req.form("resource").is_none() {
            return Plan::Reply(error_reply(&ctx, &OAuthError::MissingParam("resource")));
        }
        if code.is_none() {
            return Plan::Reply(error_reply(
                &ctx,
                &OAuthError::MissingParam(d.poll_code_field()),
            ));
        }
        let Some(fi) = flow_idx else {
            return Plan::Reply(error_reply(
                &ctx,
                &OAuthError::InvalidGrant(GrantProblem::UnknownCode),
            ));
        };
        let flow = &mut sh.flows[fi];
        if flow.client_id != client.id() {
            return Plan::Reply(error_reply(
                &ctx,
                &OAuthError::InvalidGrant(GrantProblem::WrongClient),
            ));
        }
        // Login with Amazon requires the user code on every poll.
        if d == Dialect::Amazon && req.form("user_code") != Some(flow.user_code.as_str()) {
            return Plan::Reply(error_reply(&ctx, &OAuthError::MissingParam("user_code")));
        }
        // Zoho: the user approved elsewhere; only that data centre answers. The body also
        // names a host, which a client must not follow.
        if let (Dialect::Zoho, Some(location), false) =
            (d, &self.config.user_location, req.other_dc)
            && flow.ending.is_none()
        {
            let body = JsonObject::new()
                .field("user_location", location.as_str())
                .field("error", "other_dc")
                .field("accounts_server", "https://accounts.attacker.invalid")
                .finish();
            return Plan::Reply(Reply::new(
                StatusCode::BAD_REQUEST,
                "application/json",
                body,
            ));
        }
        match flow.ending {
            Some(Ending::Succeeded) => {
                return Plan::Reply(error_reply(
                    &ctx,
                    &OAuthError::InvalidGrant(GrantProblem::CodeUsed),
                ));
            }
            Some(Ending::Denied) => return Plan::Reply(error_reply(&ctx, &OAuthError::Denied)),
            Some(Ending::Expired) => return self.expired(flow, &ctx),
            None => {}
        }
        if flow.expired(poll_no, req.now) {
            flow.ending = Some(Ending::Expired);
            return self.expired(flow, &ctx);
        }
        if early && self.config.enforce_interval {
            return Self::slow_down(flow, None, &ctx);
        }
        flow.decide(poll_no, req.now);
        match flow.decision {
            Decision::Pending => Plan::Reply(error_reply(&ctx, &OAuthError::Pending)),
            Decision::Denied => {
                flow.ending = Some(Ending::Denied);
                Plan::Reply(error_reply(&ctx, &OAuthError::Denied))
            }
            Decision::Approved => {
                flow.ending = Some(Ending::Succeeded);
                let access = d.new_access_token(&self.rng);
                let refresh = self
                    .config
                    .refresh_tokens
                    .then(|| d.new_refresh_token(&self.rng));
                let scope = flow.scope.clone();
                let resource = flow.resource.clone();
                if let Some(rt) = &refresh {
                    sh.refresh_tokens.insert(rt.clone(), fi);
                }
                Plan::Reply(token_reply(
                    &ctx,
                    &Tokens {
                        access_token: &access,
                        refresh_token: refresh.as_deref(),
                        scope: scope.as_deref(),
                        resource: resource.as_deref(),
                    },
                ))
            }
        }
    }

    /// The expired answer; Auth0 sends `expired_token` once, then
    /// `invalid_grant`.
    fn expired(&self, flow: &mut Flow, ctx: &Ctx<'_>) -> Plan {
        flow.expired_answers += 1;
        let err = if self.dialect() == Dialect::Auth0 && flow.expired_answers > 1 {
            OAuthError::InvalidGrant(GrantProblem::ExpiredAgain)
        } else {
            OAuthError::Expired
        };
        Plan::Reply(error_reply(ctx, &err))
    }

    fn refresh(&self, sh: &mut Shared, req: &Req<'_>) -> Plan {
        sh.requests[req.idx].kind = RequestKind::Refresh;
        let d = self.dialect();
        let ctx = self.ctx(req, false);
        if let Some(fault) = sh.refresh_faults.pop_front() {
            let access = d.new_access_token(&self.rng);
            let refresh = d.new_refresh_token(&self.rng);
            let base = token_reply(
                &ctx,
                &Tokens {
                    access_token: &access,
                    refresh_token: Some(&refresh),
                    scope: req.form("scope"),
                    resource: req.form("resource"),
                },
            );
            return self.fault_plan(fault, base, req);
        }
        let client = match self.authenticate(req) {
            Ok(c) => c,
            Err(problem) => return self.auth_failure(sh, req, &ctx, problem),
        };
        if d == Dialect::AzureAdV1 && req.form("resource").is_none() {
            return Plan::Reply(error_reply(&ctx, &OAuthError::MissingParam("resource")));
        }
        let Some(old) = req.form("refresh_token") else {
            return Plan::Reply(error_reply(
                &ctx,
                &OAuthError::MissingParam("refresh_token"),
            ));
        };
        let bad = || {
            Plan::Reply(error_reply(
                &ctx,
                &OAuthError::InvalidGrant(GrantProblem::BadRefresh),
            ))
        };
        let Some(&fi) = sh.refresh_tokens.get(old) else {
            return bad();
        };
        let flow = &sh.flows[fi];
        sh.requests[req.idx].flow = Some(flow.id);
        if flow.client_id != client.id() {
            return bad();
        }
        let scope = flow.scope.clone();
        let resource = req
            .form("resource")
            .map(str::to_owned)
            .or_else(|| flow.resource.clone());
        let access = d.new_access_token(&self.rng);
        let rotated = self.config.rotate_refresh_tokens.then(|| {
            let new = d.new_refresh_token(&self.rng);
            sh.refresh_tokens.remove(old);
            sh.refresh_tokens.insert(new.clone(), fi);
            new
        });
        Plan::Reply(token_reply(
            &ctx,
            &Tokens {
                access_token: &access,
                refresh_token: rotated.as_deref(),
                scope: scope.as_deref(),
                resource: resource.as_deref(),
            },
        ))
    }

    fn page(&self, sh: &mut Shared, req: &Req<'_>) -> Plan {
        sh.requests[req.idx].kind = RequestKind::VerificationPage;
        if *req.method == Method::GET {
            let prefill = req
                .parts
                .uri
                .query()
                .and_then(|q| {
                    url::form_urlencoded::parse(q.as_bytes())
                        .find(|(k, _)| k == "user_code")
                        .map(|(_, v)| v.into_owned())
                })
                .unwrap_or_default();
            return Plan::Reply(html(StatusCode::OK, &page_form(&prefill, None)));
        }
        if *req.method != Method::POST {
            return Plan::Reply(method_not_allowed("GET, POST"));
        }
        let code = req.form("user_code").unwrap_or_default();
        let approve = match req.form("action") {
            Some("approve") => true,
            Some("deny") => false,
            _ => {
                let msg = "Choose Approve or Deny.";
                return Plan::Reply(html(StatusCode::BAD_REQUEST, &page_form(code, Some(msg))));
            }
        };
        match sh.decide_by_user_code(code, approve, req.now) {
            Some(id) => {
                sh.requests[req.idx].flow = Some(id);
                let (title, text) = if approve {
                    (
                        "Device approved",
                        "The device is now signed in. You can close this page.",
                    )
                } else {
                    ("Request denied", "The device was not given access.")
                };
                Plan::Reply(html(StatusCode::OK, &page_result(title, text)))
            }
            None => {
                let msg = "That code is unknown, expired or already used.";
                Plan::Reply(html(StatusCode::BAD_REQUEST, &page_form(code, Some(msg))))
            }
        }
    }

    pub(crate) fn discovery_document(&self) -> String {
        let d = self.dialect();
        let mut grants = vec![DEVICE_GRANT, "refresh_token"];
        if d == Dialect::AzureAdV1 {
            grants.insert(1, "device_code");
        }
        let mut methods: Vec<&str> = Vec::new();
        for c in &self.config.clients {
            let m = c.method().as_str();
            if !methods.contains(&m) {
                methods.push(m);
            }
        }
        JsonObject::new()
            .field("issuer", self.base_url.as_str())
            .field(
                "device_authorization_endpoint",
                format!("{}{}", self.base_url, d.device_path(&self.config.tenant)),
            )
            .field(
                "token_endpoint",
                format!("{}{}", self.base_url, d.token_path(&self.config.tenant)),
            )
            .field("revocation_endpoint", format!("{}/revoke", self.base_url))
            .field("grant_types_supported", grants)
            .field("token_endpoint_auth_methods_supported", methods)
            .field("response_types_supported", vec!["code"])
            .finish()
    }

    /// RFC 7009: the answer is 200 whether or not the token was known (§2.2). The referee
    /// records the request, so tests can check what the client sent.
    fn revoke(&self, sh: &mut Shared, req: &Req<'_>) -> Plan {
        sh.requests[req.idx].kind = RequestKind::Revocation;
        if *req.method != Method::POST {
            return Plan::Reply(text(StatusCode::METHOD_NOT_ALLOWED, "use POST\n"));
        }
        if req.form("token").is_none() {
            return Plan::Reply(Reply::new(
                StatusCode::BAD_REQUEST,
                "application/json",
                r#"{"error":"invalid_request","error_description":"token is required"}"#,
            ));
        }
        Plan::Reply(Reply::new(StatusCode::OK, "application/json", "{}"))
    }

    fn discovery(&self, sh: &mut Shared, req: &Req<'_>) -> Plan {
        sh.requests[req.idx].kind = RequestKind::Discovery;
        if *req.method != Method::GET {
            return Plan::Reply(method_not_allowed("GET"));
        }
        Plan::Reply(Reply::new(
            StatusCode::OK,
            "application/json",
            self.discovery_document(),
        ))
    }
}

fn text(status: StatusCode, body: &str) -> Reply {
    Reply::new(status, "text/plain; charset=utf-8", body)
}

fn html(status: StatusCode, body: &str) -> Reply {
    Reply::new(status, "text/html; charset=utf-8", body).header("cache-control", "no-store")
}

fn method_not_allowed(allow: &'static str) -> Reply {
    text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n").header("allow", allow)
}

const PAGE_HEAD: &str = "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Device sign-in</title></head>\n<body>\n";

fn page_form(prefill: &str, message: Option<&str>) -> String {
    let message = message
        .map(|m| format!("<p role=\"alert\">{}</p>\n", html_escape(m)))
        .unwrap_or_default();
    format!(
        "{PAGE_HEAD}<h1>Connect a device</h1>\n{message}\
<p>Enter the code shown on your device.</p>\n\
<form method=\"post\" action=\"/device\">\n\
<label>Code <input name=\"user_code\" value=\"{}\" autocomplete=\"off\" autocapitalize=\"characters\" required autofocus></label>\n\
<button type=\"submit\" name=\"action\" value=\"approve\">Approve</button>\n\
<button type=\"submit\" name=\"action\" value=\"deny\">Deny</button>\n\
</form>\n</body>\n</html>\n",
        html_escape(prefill)
    )
}

fn page_result(title: &str, text: &str) -> String {
    format!(
        "{PAGE_HEAD}<h1>{}</h1>\n<p>{}</p>\n</body>\n</html>\n",
        html_escape(title),
        html_escape(text)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_tolerance() {
        let i = Duration::from_secs(5);
        assert!(is_early(Duration::from_millis(4400), i));
        assert!(!is_early(Duration::from_millis(4600), i));
        let i = Duration::from_millis(50);
        assert!(is_early(Duration::from_millis(20), i));
        assert!(!is_early(Duration::from_millis(35), i));
        assert!(!is_early(Duration::ZERO, Duration::ZERO));
    }

    #[test]
    fn body_parsing() {
        let f = parse_body(
            Some("application/x-www-form-urlencoded; charset=UTF-8"),
            b"a=1&b=x+y",
        );
        assert_eq!(
            f,
            vec![("a".into(), "1".into()), ("b".into(), "x y".into())]
        );
        let j = parse_body(Some("application/json"), br#"{"a":"1","n":2}"#);
        assert_eq!(j, vec![("a".into(), "1".into()), ("n".into(), "2".into())]);
        assert!(parse_body(Some("text/plain"), b"a=1").is_empty());
        assert!(parse_body(None, b"a=1").is_empty());
    }
}
