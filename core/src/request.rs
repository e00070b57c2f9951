//! The requests the flow asks its driver to send (RFC 8628 §3.1 and §3.4, RFC 6749 §6) with
//! `Accept: application/json`, authenticated as configured, in the profile's [`Shape`]: a
//! form, a JSON object or a query string, with its names, grant names and scope placement.

use std::borrow::Cow;

use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Request};
use serde_json::{Map, Value};

use crate::config::{ClientAuth, Config};
use crate::profile::{BodyEncoding, NameCase, ScopeJoin, Shape, camel};
use crate::secret::{DeviceCode, RefreshToken};

const FORM: &str = "application/x-www-form-urlencoded";
// GitHub answers in form encoding unless asked for JSON; everyone else ignores this.
const JSON: &str = "application/json";

/// A request's target and body, built once: a poll repeats it as it is.
#[derive(Clone)]
pub(crate) struct Prepared {
    pub(crate) uri: http::Uri,
    pub(crate) body: Vec<u8>,
}

/// A parameter's value: one string, or a list for array scopes.
enum Param<'a> {
    One(Cow<'a, str>),
    List(&'a [String]),
}

/// The parameters of one request, in order, with RFC names; the shape renames and encodes.
/// Names and values are borrowed from the configuration and the caller: they are encoded once
/// and dropped, so copying them first would only cost allocations.
struct Params<'a> {
    shape: &'static Shape,
    pairs: Vec<(&'a str, Param<'a>)>,
}

impl<'a> Params<'a> {
    fn new(config: &'a Config) -> Self {
        let mut params = Params {
            shape: config.profile.shape_ref(),
            pairs: Vec::with_capacity(8),
        };
        match &config.auth {
            ClientAuth::None => {
                params.pair("client_id", &config.client_id);
            }
            ClientAuth::Post(secret) => {
                params.pair("client_id", &config.client_id);
                params.pair("client_secret", secret.secret());
            }
            // RFC 6749 §2.3.1: credentials travel in one place only; here, the header.
            ClientAuth::Basic(_) => {}
        }
        params
    }

    fn pair(&mut self, name: &'a str, value: &'a str) -> &mut Self {
        self.pairs.push((name, Param::One(Cow::Borrowed(value))));
        self
    }

    fn scope(&mut self, config: &'a Config) -> &mut Self {
        let value = match (&config.scopes[..], self.shape.scope_join) {
            ([], _) => return self,
            // One scope is the joined list as it is.
            ([one], ScopeJoin::Space | ScopeJoin::Comma) => Param::One(Cow::Borrowed(one)),
            (scopes, ScopeJoin::Space) => Param::One(Cow::Owned(scopes.join(" "))),
            (scopes, ScopeJoin::Comma) => Param::One(Cow::Owned(scopes.join(","))),
            (scopes, ScopeJoin::Array) => Param::List(scopes),
        };
        self.pairs.push((self.shape.scope_param, value));
        self
    }

    fn resource(&mut self, config: &'a Config) -> &mut Self {
        if let Some(resource) = config.profile.resource() {
            self.pair("resource", resource);
        }
        self
    }

    fn extra(&mut self, params: &'a [(String, String)]) -> &mut Self {
        for (name, value) in params {
            self.pair(name, value);
        }
        self
    }

    fn name<'n>(&self, name: &'n str) -> Cow<'n, str> {
        match self.shape.names {
            NameCase::Snake => Cow::Borrowed(name),
            NameCase::Camel => Cow::Owned(camel(name)),
        }
    }

    /// The request's target and body for `uri`.
    fn finish(self, uri: &http::Uri) -> Prepared {
        match self.shape.encoding {
            BodyEncoding::Form => Prepared {
                uri: uri.clone(),
                body: self.form(),
            },
            BodyEncoding::Query => {
                // Only ASCII comes out of the encoder.
                let query = String::from_utf8_lossy(&self.form()).into_owned();
                let target = match uri.query() {
                    Some(q) if !q.is_empty() => format!("{}?{q}&{query}", uri.path()),
                    _ => format!("{}?{query}", uri.path()),
                };
                let mut parts = uri.clone().into_parts();
                parts.path_and_query = target.parse().ok();
                Prepared {
                    // The parameters are form-encoded, so the target always parses.
                    uri: http::Uri::from_parts(parts).unwrap_or_else(|_| uri.clone()),
                    body: Vec::new(),
                }
            }
            BodyEncoding::Json => {
                let mut map = Map::new();
                for (name, value) in &self.pairs {
                    let value = match value {
                        Param::One(s) => Value::String(s.clone().into_owned()),
                        Param::List(l) => Value::from(l.to_vec()),
                    };
                    map.insert(self.name(name).into_owned(), value);
                }
                Prepared {
                    uri: uri.clone(),
                    body: crate::json::text(&Value::Object(map)).into_bytes(),
                }
            }
        }
    }

    fn form(&self) -> Vec<u8> {
        // Room for every name and value as they are, their separators, and a few escapes:
        // most values need none.
        let plain: usize = self
            .pairs
            .iter()
            .map(|(name, value)| {
                name.len()
                    + 2
                    + match value {
                        Param::One(s) => s.len(),
                        Param::List(l) => l.iter().map(|s| s.len() + 1).sum(),
                    }
            })
            .sum();
        let mut form = Vec::with_capacity(plain + 32);
        for (name, value) in &self.pairs {
            if !form.is_empty() {
                form.push(b'&');
            }
            append_encoded(&mut form, &self.name(name));
            form.push(b'=');
            match value {
                Param::One(s) => append_encoded(&mut form, s),
                Param::List(l) => append_encoded(&mut form, &l.join(" ")),
            }
        }
        form
    }
}

/// Appends `text` in `application/x-www-form-urlencoded` form (the WHATWG URL standard's
/// urlencoded serializer): ASCII letters, digits and `*-._` as they are, space as `+`, every
/// other byte of the UTF-8 as `%XX`. Runs of bytes that stay as they are are copied whole:
/// request values (client ids, device codes, scopes) are mostly such runs.
fn append_encoded(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut rest = text.as_bytes();
    while let Some(at) = rest.iter().position(|&b| !KEPT[usize::from(b)]) {
        out.extend_from_slice(&rest[..at]);
        let byte = rest[at];
        if byte == b' ' {
            out.push(b'+');
        } else {
            out.extend_from_slice(&[
                b'%',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 15)],
            ]);
        }
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
}

/// The bytes a form value keeps as they are: a table, so that a run is found with one load
/// per byte.
const KEPT: [bool; 256] = {
    let mut kept = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        kept[byte] = b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_');
        byte += 1;
    }
    kept
};

/// The device authorization request (RFC 8628 §3.1).
pub(crate) fn device_authorization(config: &Config, uri: &http::Uri) -> Prepared {
    let shape = config.profile.shape();
    let mut params = Params::new(config);
    if let Some(response_type) = shape.device_response_type {
        params.pair("response_type", response_type);
    }
    if let Some(grant) = shape.device_grant_type {
        params.pair("grant_type", grant);
    }
    if shape.scope_in_device_request {
        params.scope(config);
    }
    for (name, value) in shape.device_extra {
        params.pair(name, value);
    }
    if let Some(dpop) = config.dpop.as_ref().filter(|d| d.send_jkt) {
        params.pair("dpop_jkt", &dpop.thumbprint);
    }
    params.resource(config).extra(&config.device_params);
    params.finish(uri)
}

/// Every poll of one flow, built once (RFC 8628 §3.4).
pub(crate) fn poll(config: &Config, device_code: &DeviceCode, user_code: &str) -> Prepared {
    let shape = config.profile.shape();
    let mut params = Params::new(config);
    params
        .pair("grant_type", shape.poll_grant_type)
        .pair(shape.device_code_param, device_code.secret());
    if shape.echo_user_code {
        params.pair("user_code", user_code);
    }
    if shape.scope_in_polls {
        params.scope(config);
    }
    params.resource(config).extra(&config.token_params);
    let mut prepared = params.finish(&config.token_endpoint.1);
    // Kept for the whole flow, while the body was built with room to spare.
    prepared.body.shrink_to_fit();
    prepared
}

/// The refresh-token grant (RFC 6749 §6).
pub(crate) fn refresh(config: &Config, refresh_token: &RefreshToken) -> Prepared {
    let mut params = Params::new(config);
    params
        .pair("grant_type", "refresh_token")
        .pair("refresh_token", refresh_token.secret())
        .scope(config)
        .resource(config)
        .extra(&config.token_params);
    params.finish(&config.token_endpoint.1)
}

/// A POST of a prepared request with the configured client authentication.
pub(crate) fn post(config: &Config, prepared: &Prepared) -> Request<Vec<u8>> {
    into_post(config, prepared.clone())
}

/// [`post`] of a request sent once: its body and target are moved, not copied.
pub(crate) fn into_post(config: &Config, prepared: Prepared) -> Request<Vec<u8>> {
    let mut request = Request::new(prepared.body);
    *request.method_mut() = Method::POST;
    *request.uri_mut() = prepared.uri;
    // A copy of a map built once costs less than hashing and inserting each header again.
    *request.headers_mut() = config.post_headers.clone();
    request
}

/// The headers of every POST of a configuration: the shape's body encoding decides the
/// `Content-Type` (a query-string shape sends an empty form).
pub(crate) fn post_headers(shape: &Shape, basic: Option<HeaderValue>) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(3);
    headers.insert(ACCEPT, HeaderValue::from_static(JSON));
    let content_type = if shape.encoding == BodyEncoding::Json {
        JSON
    } else {
        FORM
    };
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(basic) = basic {
        headers.insert(AUTHORIZATION, basic);
    }
    headers
}

/// The headers of a GET for JSON (Zoho's `/oauth/serverinfo`).
pub(crate) fn get_headers() -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(1);
    headers.insert(ACCEPT, HeaderValue::from_static(JSON));
    headers
}

/// A GET of `uri` for JSON.
pub(crate) fn get(config: &Config, uri: http::Uri) -> Request<Vec<u8>> {
    let mut request = Request::new(Vec::new());
    *request.uri_mut() = uri;
    *request.headers_mut() = config.get_headers.clone();
    request
}

#[cfg(test)]
mod tests {
    use super::append_encoded;
    use proptest::prelude::*;

    fn encoded(text: &str) -> String {
        let mut out = Vec::new();
        append_encoded(&mut out, text);
        String::from_utf8(out).expect("the encoder writes ASCII")
    }

    #[test]
    fn encodes_as_forms_are_encoded() {
        assert_eq!(
            encoded("urn:ietf:params:oauth:grant-type:device_code"),
            "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
        );
        assert_eq!(encoded("openid offline_access"), "openid+offline_access");
        assert_eq!(encoded("a+b&c=d/é~"), "a%2Bb%26c%3Dd%2F%C3%A9%7E");
        assert_eq!(encoded("*-._AZaz09"), "*-._AZaz09");
        assert_eq!(encoded(""), "");
    }

    proptest! {
        /// The same bytes as the `url` crate's serializer, for any text.
        #[test]
        fn matches_the_url_crates_serializer(text in any::<String>()) {
            let theirs: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
            prop_assert_eq!(encoded(&text), theirs);
        }
    }
}
