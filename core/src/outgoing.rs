//! A request the flow lends instead of building an `http::Request`: its parts stay in the
//! flow (a poll's body is built once per flow, the headers once per configuration) and the
//! driver reads them in place. For HTTP clients that take a method, a URL, headers and a body
//! rather than an `http::Request`, and for in-memory transports, this saves building and
//! dropping a request value (a header map, a body copy) on every poll.

use std::fmt;

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Uri};

use crate::dpop::DPOP;
use crate::request::Prepared;
use crate::request_id::RequestId;

/// A request made ready by [`Flow::poll_output_lent`](crate::Flow::poll_output_lent), lent
/// by [`Flow::outgoing`](crate::Flow::outgoing) until its answer or failure is handed in.
///
/// Send it as it is: its method, target, every header and the body. Do not follow redirects
/// for it.
#[derive(Clone, Copy)]
pub struct Outgoing<'f> {
    pub(crate) id: RequestId,
    pub(crate) get: bool,
    pub(crate) uri: &'f Uri,
    pub(crate) headers: &'f HeaderMap,
    pub(crate) proof: Option<&'f HeaderValue>,
    pub(crate) body: &'f [u8],
}

impl<'f> Outgoing<'f> {
    /// Pass this back with the answer or the failure.
    #[must_use]
    pub fn id(&self) -> RequestId {
        self.id
    }

    /// `POST`, or `GET` for the one lookup a provider needs (Zoho's server info).
    #[must_use]
    pub fn method(&self) -> Method {
        if self.get { Method::GET } else { Method::POST }
    }

    /// Where the request goes.
    #[must_use]
    pub fn uri(&self) -> &'f Uri {
        self.uri
    }

    /// Every header to send: `Accept`, `Content-Type` for a POST, Basic credentials when
    /// configured, and the `DPoP` proof when proofs are sent.
    pub fn headers(&self) -> impl Iterator<Item = (&'f HeaderName, &'f HeaderValue)> + 'f {
        self.headers
            .iter()
            .chain(self.proof.map(|proof| (&DPOP, proof)))
    }

    /// The body: a form, a JSON object, or empty.
    #[must_use]
    pub fn body(&self) -> &'f [u8] {
        self.body
    }

    /// The same request as an `http::Request`, the body copied.
    #[must_use]
    pub fn to_request(&self) -> Request<Vec<u8>> {
        let mut request = Request::new(self.body.to_vec());
        *request.method_mut() = self.method();
        *request.uri_mut() = self.uri.clone();
        let headers = request.headers_mut();
        *headers = self.headers.clone();
        if let Some(proof) = self.proof {
            headers.insert(DPOP.clone(), proof.clone());
        }
        request
    }
}

impl fmt::Debug for Outgoing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The body holds the device code or a secret, and the headers may hold Basic
        // credentials or a proof: show only where the request goes.
        f.debug_struct("Outgoing")
            .field("id", &self.id)
            .field("method", &self.method())
            .field("uri", self.uri)
            .finish_non_exhaustive()
    }
}

/// What a lent request needs beyond what the flow's state already holds: a request sent once
/// (the device authorization, a refresh, a lookup) and a DPoP proof. Polls without DPoP need
/// none of it, so a lent poll allocates nothing.
#[derive(Default)]
pub(crate) struct Lent {
    /// A request sent once; `None` for a poll, whose request the polling state keeps.
    pub(crate) once: Option<Once>,
    pub(crate) proof: Option<HeaderValue>,
}

/// A request sent once.
pub(crate) enum Once {
    Post(Prepared),
    Get(Uri),
}

impl fmt::Debug for Lent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = match &self.once {
            Some(Once::Post(prepared)) => Some(&prepared.uri),
            Some(Once::Get(uri)) => Some(uri),
            None => None,
        };
        f.debug_struct("Lent")
            .field("once", &target)
            .field("proof", &self.proof.is_some())
            .finish()
    }
}
