//! Tests of the simulated server, driven over real sockets with a tiny
//! std-only HTTP/1.1 client.

mod auth;
mod dialects;
mod faults;
mod page;
mod referee;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::{Dialect, Server, ServerConfig};

/// A parsed response.
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Resp {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("UTF-8 body")
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub(crate) fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// A field from a JSON or form body, as text.
    pub(crate) fn field(&self, name: &str) -> Option<String> {
        if self
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
        {
            self.form()
                .into_iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v)
        } else {
            match self.json().get(name)? {
                serde_json::Value::String(s) => Some(s.clone()),
                other => Some(other.to_string()),
            }
        }
    }
}

/// Sends bytes, reads until EOF, an error or the timeout. Returns what was
/// read and how reading ended.
pub(crate) fn raw_exchange(
    addr: SocketAddr,
    request: &[u8],
    timeout: Duration,
) -> (Vec<u8>, io::Result<()>) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(timeout)).unwrap();
    stream.write_all(request).expect("write request");
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (out, Ok(())),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (out, Err(e)),
        }
    }
}

pub(crate) fn split_head(raw: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..end]).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    (status, headers, raw[end + 4..].to_vec())
}

/// Decodes a complete chunked body; `None` if it is cut short.
pub(crate) fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return data.starts_with(b"\r\n").then_some(out);
        }
        if data.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// One complete HTTP/1.1 exchange with `Connection: close`.
pub(crate) fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if method == "POST" || !body.is_empty() {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    let (raw, end) = raw_exchange(addr, &bytes, Duration::from_secs(10));
    end.expect("clean end of response");
    let (status, headers, rest) = split_head(&raw);
    let resp = Resp {
        status,
        headers,
        body: Vec::new(),
    };
    let body = if resp
        .header("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        dechunk(&rest).expect("complete chunked body")
    } else {
        if let Some(len) = resp.header("content-length") {
            assert_eq!(len.parse::<usize>().unwrap(), rest.len(), "Content-Length");
        }
        rest
    };
    Resp { body, ..resp }
}

fn target_of(url: &str) -> &str {
    let rest = url.strip_prefix("http://").expect("http URL");
    &rest[rest.find('/').unwrap_or(rest.len())..]
}

pub(crate) fn encode(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// A form POST to a full URL of `server`.
pub(crate) fn post_form(
    server: &Server,
    url: &str,
    headers: &[(&str, &str)],
    pairs: &[(&str, &str)],
) -> Resp {
    let mut h = vec![("Content-Type", "application/x-www-form-urlencoded")];
    h.extend_from_slice(headers);
    send(
        server.addr(),
        "POST",
        target_of(url),
        &h,
        encode(pairs).as_bytes(),
    )
}

pub(crate) fn get(server: &Server, target: &str) -> Resp {
    send(server.addr(), "GET", target, &[], b"")
}

/// The device authorization form each dialect expects from the default
/// client.
pub(crate) fn device_form(dialect: Dialect) -> Vec<(&'static str, &'static str)> {
    let mut form = vec![("client_id", crate::DEFAULT_CLIENT_ID)];
    match dialect {
        Dialect::AzureAdV1 => form.push(("resource", "https://management.core.windows.net/")),
        Dialect::Auth0 => {
            form.push(("scope", "openid offline_access"));
            form.push(("audience", "https://api.example"));
        }
        _ => form.push(("scope", "openid profile")),
    }
    form
}

/// Starts a device flow for the default client; returns the response.
pub(crate) fn start_flow(server: &Server, headers: &[(&str, &str)]) -> Resp {
    let form = device_form(server.dialect());
    post_form(server, &server.device_endpoint(), headers, &form)
}

/// The poll form each dialect expects from the default client.
pub(crate) fn poll_form(dialect: Dialect, device_code: &str) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = match dialect {
        Dialect::AzureAdV1 => vec![
            ("grant_type".into(), "device_code".into()),
            ("code".into(), device_code.into()),
            (
                "resource".into(),
                "https://management.core.windows.net/".into(),
            ),
        ],
        _ => vec![
            (
                "grant_type".into(),
                "urn:ietf:params:oauth:grant-type:device_code".into(),
            ),
            ("device_code".into(), device_code.into()),
        ],
    };
    form.push(("client_id".into(), crate::DEFAULT_CLIENT_ID.into()));
    if dialect == Dialect::Google {
        form.push(("client_secret".into(), crate::DEFAULT_CLIENT_SECRET.into()));
    }
    form
}

pub(crate) fn poll(server: &Server, device_code: &str, headers: &[(&str, &str)]) -> Resp {
    let form = poll_form(server.dialect(), device_code);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    post_form(server, &server.token_endpoint(), headers, &pairs)
}

/// A server with a 5 s interval whose early polls are not answered with
/// `slow_down`, so body-shape tests can poll back to back.
pub(crate) fn relaxed(dialect: Dialect) -> ServerConfig {
    ServerConfig::new(dialect).enforce_interval(false)
}

#[test]
fn starts_and_stops() {
    let server = Server::start(ServerConfig::new(Dialect::Rfc8628)).unwrap();
    let addr = server.addr();
    assert_eq!(server.base_url(), format!("http://{addr}"));
    assert_eq!(server.verification_uri(), format!("http://{addr}/device"));
    let resp = get(&server, "/nothing-here");
    assert_eq!(resp.status, 404);
    server.shutdown();
    let err = TcpStream::connect(addr).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
}

#[test]
fn closed_port_refuses() {
    let addr = crate::closed_port().unwrap();
    assert!(addr.ip().is_loopback());
    let err = TcpStream::connect(addr).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn works_inside_a_tokio_runtime() {
    let server = Server::start(relaxed(Dialect::Rfc8628)).unwrap();
    let addr = server.addr();
    let target = Dialect::Rfc8628.device_path("common");
    let status = tokio::task::spawn_blocking(move || {
        send(
            addr,
            "POST",
            &target,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            b"client_id=device-grant-test-client",
        )
        .status
    })
    .await
    .unwrap();
    assert_eq!(status, 200);
    drop(server);
}

#[test]
fn discovery_documents() {
    for dialect in Dialect::ALL {
        let server = Server::start(ServerConfig::new(dialect)).unwrap();
        for path in [
            "/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server",
        ] {
            let resp = get(&server, path);
            assert_eq!(resp.status, 200, "{dialect:?} {path}");
            assert_eq!(resp.header("content-type"), Some("application/json"));
            let doc = resp.json();
            assert_eq!(doc["issuer"], server.issuer());
            assert_eq!(
                doc["device_authorization_endpoint"],
                server.device_endpoint()
            );
            assert_eq!(doc["token_endpoint"], server.token_endpoint());
            let grants = doc["grant_types_supported"].as_array().unwrap();
            assert!(grants.contains(&"urn:ietf:params:oauth:grant-type:device_code".into()));
            assert!(grants.contains(&"refresh_token".into()));
            let methods = &doc["token_endpoint_auth_methods_supported"];
            let expected = if dialect == Dialect::Google {
                "client_secret_post"
            } else {
                "none"
            };
            assert_eq!(methods, &serde_json::json!([expected]));
        }
        assert_eq!(
            server.referee().requests()[0].kind,
            crate::RequestKind::Discovery
        );
    }
}

#[test]
fn handles_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Server>();
    check::<crate::Referee>();
    check::<ServerConfig>();
    check::<crate::Script>();
}
