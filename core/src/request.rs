//! The requests the flow asks its driver to send: form POSTs (RFC 8628 §3.1 and §3.4,
//! RFC 6749 §6) with `Accept: application/json`, authenticated as configured.

use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Method, Request};
use url::form_urlencoded::Serializer;

use crate::config::{ClientAuth, Config};
use crate::secret::{DeviceCode, RefreshToken};

const FORM: &str = "application/x-www-form-urlencoded";
// GitHub answers in form encoding unless asked for JSON; everyone else ignores this.
const JSON: &str = "application/json";

/// A form body under construction.
struct Form(Serializer<'static, String>);

impl Form {
    fn new(config: &Config) -> Self {
        let mut form = Form(Serializer::new(String::with_capacity(256)));
        match &config.auth {
            ClientAuth::None => {
                form.0.append_pair("client_id", &config.client_id);
            }
            ClientAuth::Post(secret) => {
                form.0.append_pair("client_id", &config.client_id);
                form.0.append_pair("client_secret", secret.secret());
            }
            // RFC 6749 §2.3.1: credentials travel in one place only; here, the header.
            ClientAuth::Basic(_) => {}
        }
        form
    }

    fn pair(&mut self, name: &str, value: &str) -> &mut Self {
        self.0.append_pair(name, value);
        self
    }

    fn scope(&mut self, config: &Config) -> &mut Self {
        if !config.scopes.is_empty() {
            self.0.append_pair("scope", &config.scopes.join(" "));
        }
        self
    }

    fn extra(&mut self, params: &[(String, String)]) -> &mut Self {
        for (name, value) in params {
            self.0.append_pair(name, value);
        }
        self
    }

    fn finish(&mut self) -> Vec<u8> {
        self.0.finish().into_bytes()
    }
}

/// The device authorization request (RFC 8628 §3.1).
pub(crate) fn device_authorization(config: &Config, uri: &http::Uri) -> Request<Vec<u8>> {
    let mut form = Form::new(config);
    form.scope(config);
    if let Some(resource) = config.profile.resource() {
        form.pair("resource", resource);
    }
    if let Some(dpop) = config.dpop.as_ref().filter(|d| d.send_jkt) {
        form.pair("dpop_jkt", &dpop.thumbprint);
    }
    let body = form.extra(&config.device_params).finish();
    post(config, uri, body)
}

/// The body of every poll of one flow, built once (RFC 8628 §3.4).
pub(crate) fn poll_body(config: &Config, device_code: &DeviceCode) -> Vec<u8> {
    let (grant_type, code_param) = config.profile.device_grant();
    let mut form = Form::new(config);
    form.pair("grant_type", grant_type)
        .pair(code_param, device_code.secret());
    if let Some(resource) = config.profile.resource() {
        form.pair("resource", resource);
    }
    let mut body = form.extra(&config.token_params).finish();
    // Kept for the whole flow, while the form was built with room to spare.
    body.shrink_to_fit();
    body
}

/// The refresh-token grant (RFC 6749 §6).
pub(crate) fn refresh_body(config: &Config, refresh_token: &RefreshToken) -> Vec<u8> {
    let mut form = Form::new(config);
    form.pair("grant_type", "refresh_token")
        .pair("refresh_token", refresh_token.secret())
        .scope(config);
    if let Some(resource) = config.profile.resource() {
        form.pair("resource", resource);
    }
    form.extra(&config.token_params).finish()
}

/// A POST of a form body to `uri` with the configured client authentication.
pub(crate) fn post(config: &Config, uri: &http::Uri, body: Vec<u8>) -> Request<Vec<u8>> {
    let mut request = Request::new(body);
    *request.method_mut() = Method::POST;
    *request.uri_mut() = uri.clone();
    let headers = request.headers_mut();
    headers.insert(ACCEPT, HeaderValue::from_static(JSON));
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(FORM));
    if let Some(basic) = &config.basic_header {
        headers.insert(AUTHORIZATION, basic.clone());
    }
    request
}
