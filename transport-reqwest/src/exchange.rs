//! One request and its answer: sending the core's request through reqwest, reading at most
//! the body limit plus one byte of the answer, and naming what went wrong when there was none.

use device_grant::{TransportErrorKind, http};

use crate::client::Client;

/// Sends `request` and reads its answer, whatever the status. The body is read chunk by chunk
/// and reading stops after `body_limit + 1` bytes: the core rejects anything longer, so there
/// is no point in (and real harm from) buffering more. `client` follows no redirects.
///
/// This is what [`run`](crate::run) does for each request. Use it in a loop of your own (for
/// example to drive many flows from one task): pass the answer to
/// [`Flow::handle_response`](device_grant::Flow::handle_response), or the
/// [`error_kind`] of the error to
/// [`Flow::handle_transport_error`](device_grant::Flow::handle_transport_error), with
/// [`Flow::body_limit`](device_grant::Flow::body_limit) as `body_limit`.
///
/// The URL in a returned error has no query string.
pub async fn send(
    client: &Client,
    request: http::Request<Vec<u8>>,
    body_limit: usize,
) -> Result<http::Response<Vec<u8>>, reqwest::Error> {
    let request = reqwest::Request::try_from(request).map_err(scrub)?;
    execute(client, request, body_limit.saturating_add(1)).await
}

/// The endpoints of one flow, parsed once: a flow sends every poll to the same address, and
/// reqwest wants a `Url`, which is dearer to parse than the request is to build.
#[derive(Debug, Default)]
pub(crate) struct Urls {
    // A flow has two endpoints; a short list beats a map. An address parsed here keeps the
    // `Uri` it was parsed from; the configuration's are recognised by their text.
    parsed: Vec<(Option<http::Uri>, reqwest::Url)>,
}

impl Urls {
    /// Seeded with the endpoints the configuration already holds parsed (reqwest's `Url` is
    /// the `url` crate's, as the core's), so a flow to them parses no URL at all.
    pub(crate) fn of(config: &device_grant::Config) -> Urls {
        let mut parsed = Vec::with_capacity(2);
        for url in config
            .device_endpoint()
            .into_iter()
            .chain([config.token_endpoint()])
        {
            parsed.push((None, url.clone()));
        }
        Urls { parsed }
    }

    /// `request` as reqwest wants it, its address parsed at most once per flow.
    pub(crate) fn request(
        &mut self,
        request: http::Request<Vec<u8>>,
    ) -> Result<reqwest::Request, reqwest::Error> {
        let (parts, body) = request.into_parts();
        let known = self.parsed.iter().find(|(uri, url)| match uri {
            Some(uri) => *uri == parts.uri,
            None => same_target(&parts.uri, url),
        });
        let url = match known {
            Some((_, url)) => url.clone(),
            None => match reqwest::Url::parse(&parts.uri.to_string()) {
                Ok(url) => {
                    self.parsed.push((Some(parts.uri), url.clone()));
                    url
                }
                // reqwest says why in an error of its own.
                Err(_) => {
                    let request = http::Request::from_parts(parts, body);
                    return reqwest::Request::try_from(request).map_err(scrub);
                }
            },
        };
        let mut out = reqwest::Request::new(parts.method, url);
        *out.headers_mut() = parts.headers;
        *out.version_mut() = parts.version;
        *out.body_mut() = Some(body.into());
        Ok(out)
    }
}

/// Whether `uri` is written exactly as `url` is, fragment aside: the core's request targets
/// are its endpoints' text. Compared part by part as slices, which costs less than `Uri`'s
/// own comparison with text; a target written otherwise is parsed, never guessed.
fn same_target(uri: &http::Uri, url: &reqwest::Url) -> bool {
    use device_grant::url::Position;
    uri.path_and_query().map(http::uri::PathAndQuery::as_str)
        == Some(&url[Position::BeforePath..Position::AfterQuery])
        && uri.authority().map(http::uri::Authority::as_str)
            == Some(&url[Position::BeforeUsername..Position::AfterPort])
        && uri.scheme_str() == Some(url.scheme())
}

/// Sends `request` and reads at most `read_limit` bytes of the answer's body.
pub(crate) async fn execute(
    client: &Client,
    request: reqwest::Request,
    read_limit: usize,
) -> Result<http::Response<Vec<u8>>, reqwest::Error> {
    let mut response = client.execute(request).await.map_err(scrub)?;
    let mut head = http::Response::new(());
    *head.status_mut() = response.status();
    *head.version_mut() = response.version();
    // The body is read through the response, not its headers: move them rather than copy.
    *head.headers_mut() = std::mem::take(response.headers_mut());
    let body = read_capped(&mut response, read_limit)
        .await
        .map_err(scrub)?;
    Ok(head.map(|()| body))
}

/// Reads at most `cap` bytes of the body. Dropping the response afterwards closes the
/// connection when the body was cut short, so the rest is never read.
async fn read_capped(response: &mut reqwest::Response, cap: usize) -> reqwest::Result<Vec<u8>> {
    // (The headers were moved out already; reqwest keeps the length apart.)
    let mut body = Vec::with_capacity(device_grant::body_capacity(response.content_length(), cap));
    while body.len() < cap {
        let Some(chunk) = response.chunk().await? else {
            break;
        };
        let room = cap - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(body)
}

/// reqwest's errors carry the URL. Endpoints never hold a device code or a token (those travel
/// in form bodies), and the configuration refuses credentials in them, but a query string is
/// the one place a caller could have put something private: leave it out of messages.
fn scrub(mut error: reqwest::Error) -> reqwest::Error {
    if let Some(url) = error.url_mut() {
        url.set_query(None);
        url.set_fragment(None);
        let _ = url.set_username("");
        let _ = url.set_password(None);
    }
    error
}

/// The kind of transport failure a reqwest error is, as
/// [`Flow::handle_transport_error`](device_grant::Flow::handle_transport_error) wants it: a
/// time-out, a failure to connect (refused, DNS, TLS handshake), a connection that broke while
/// the answer was read, or something else. The flow backs off the same way for all of them and
/// names them in events and errors.
pub fn error_kind(error: &reqwest::Error) -> TransportErrorKind {
    if tls_failure(error) {
        // A failed handshake (an unknown certificate authority, a bad certificate) is not a
        // connection problem another try would mend.
        TransportErrorKind::Other
    } else if error.is_timeout() {
        TransportErrorKind::Timeout
    } else if error.is_connect() {
        TransportErrorKind::Connect
    } else if error.is_body() || error.is_decode() || caused_by_io(error) {
        TransportErrorKind::Io
    } else {
        TransportErrorKind::Other
    }
}

/// rustls reports a failed handshake as an I/O error of kind `InvalidData` somewhere down
/// the chain, possibly wrapped in another I/O error (whose `source` skips the wrapped one,
/// so `get_ref` is looked at too).
fn tls_failure(error: &reqwest::Error) -> bool {
    fn invalid_data(io: &std::io::Error) -> bool {
        io.kind() == std::io::ErrorKind::InvalidData
            || io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<std::io::Error>())
                .is_some_and(invalid_data)
    }
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        if e.downcast_ref::<std::io::Error>().is_some_and(invalid_data) {
            return true;
        }
        source = e.source();
    }
    false
}

/// A reset or a broken pipe while sending shows up as a request error with an I/O error
/// somewhere down its chain.
fn caused_by_io(error: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        if e.is::<std::io::Error>() {
            return true;
        }
        source = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(uri: &str) -> http::Request<Vec<u8>> {
        let mut request = http::Request::new(b"a=b".to_vec());
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = uri.parse().unwrap();
        request
    }

    #[test]
    fn the_configured_endpoints_are_not_parsed_again_and_others_once() {
        let config = device_grant::Config::builder("cid")
            .device_endpoint("https://as.example/device#top")
            .token_endpoint("https://as.example/token?tenant=t")
            .build()
            .unwrap();
        let mut urls = Urls::of(&config);
        for uri in [
            "https://as.example/device",
            "https://as.example/token?tenant=t",
        ] {
            let sent = urls.request(post(uri)).unwrap();
            assert_eq!(sent.url().path(), reqwest::Url::parse(uri).unwrap().path());
            assert_eq!(sent.method(), http::Method::POST);
        }
        assert_eq!(urls.parsed.len(), 2);
        for _ in 0..2 {
            let sent = urls
                .request(post("https://eu.as.example/token?tenant=t"))
                .unwrap();
            assert_eq!(sent.url().as_str(), "https://eu.as.example/token?tenant=t");
        }
        assert_eq!(urls.parsed.len(), 3);
    }
}
