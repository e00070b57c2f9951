//! Zoho's data centres: an `other_dc` answer says the user approved in another data centre;
//! polls then go to that data centre's accounts server. Where it is comes from
//! `GET /oauth/serverinfo` of the accounts server the client is configured with (its
//! `locations` map), never from the error body, which anyone in the path could have
//! written. With Zoho's own endpoints only Zoho's accounts hosts are accepted.

use serde_json::Value;
use url::Url;

use crate::answer::Answer;
use crate::config::{Config, is_loopback};
use crate::error::{Endpoint, ErrorResponse, FlowError, InvalidResponse, Problem, UriProblem};
use crate::wire::Member;

/// Zoho's accounts servers (PROVIDERS §15).
const ZOHO_HOSTS: [&str; 10] = [
    "accounts.zoho.com",
    "accounts.zoho.eu",
    "accounts.zoho.in",
    "accounts.zoho.com.au",
    "accounts.zoho.jp",
    "accounts.zohocloud.ca",
    "accounts.zoho.sa",
    "accounts.zoho.uk",
    "accounts.zoho.com.cn",
    "accounts.zohoone.com",
];

/// A data centre to look up before the next poll.
pub(crate) struct Lookup {
    location: String,
    error: ErrorResponse,
}

impl std::fmt::Debug for Lookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lookup")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl Lookup {
    /// The lookup an `other_dc` answer asks for, or the answer itself when it names no
    /// `user_location`.
    pub(crate) fn new(_config: &Config, error: ErrorResponse) -> Result<Lookup, ErrorResponse> {
        match error.extra.get("user_location") {
            Some(Value::String(location)) if !location.is_empty() => Ok(Lookup {
                location: location.clone(),
                error,
            }),
            _ => Err(error),
        }
    }

    /// The target of `GET {configured accounts server}/oauth/serverinfo`.
    pub(crate) fn target(&self, config: &Config) -> http::Uri {
        let configured = &config.token_endpoint.0;
        let origin = configured.origin().ascii_serialization();
        http::Uri::try_from(format!("{origin}/oauth/serverinfo"))
            .unwrap_or_else(|_| config.token_endpoint.1.clone())
    }

    /// The poll target in the data centre the server info names.
    // Called once per flow at most; boxing the error would only add noise.
    #[allow(clippy::result_large_err)]
    pub(crate) fn answer(
        self,
        config: &Config,
        answer: Answer<'_>,
        current: &http::Uri,
    ) -> Result<http::Uri, FlowError> {
        let fields = match answer {
            Answer::Success { fields, .. } => fields,
            Answer::Error { error, .. } => return Err(FlowError::OAuth(error.into_response())),
            Answer::Retry {
                status,
                content_type,
                ..
            } => {
                return Err(invalid(status, content_type, Problem::UnexpectedStatus));
            }
            Answer::Invalid(i) => return Err(FlowError::InvalidResponse(i)),
        };
        let Some(Member::Json(Value::Object(locations))) = fields.get("locations") else {
            return Err(invalid(200, None, Problem::MissingField("locations")));
        };
        let Some(Value::String(base)) = locations.get(&self.location) else {
            // The server knows no such data centre: the original answer is the error.
            return Err(FlowError::OAuth(self.error));
        };
        let refuse = |reason| {
            invalid(
                200,
                None,
                Problem::UnsafeUri {
                    field: "locations",
                    reason,
                },
            )
        };
        let url = Url::parse(base).map_err(|_| refuse(UriProblem::NotAUrl))?;
        match url.scheme() {
            "https" => {}
            "http" if config.allow_insecure_http || is_loopback(&url) => {}
            "http" => return Err(refuse(UriProblem::InsecureHttp)),
            _ => return Err(refuse(UriProblem::Scheme)),
        }
        let Some(host) = url.host_str() else {
            return Err(refuse(UriProblem::NoHost));
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse(UriProblem::Credentials));
        }
        let configured = config.token_endpoint.0.host_str().unwrap_or_default();
        if ZOHO_HOSTS.contains(&configured) && !ZOHO_HOSTS.contains(&host) {
            return Err(refuse(UriProblem::UnknownHost));
        }
        let target = current
            .path_and_query()
            .map_or(current.path(), |p| p.as_str());
        let joined = format!("{}{target}", url.as_str().trim_end_matches('/'));
        http::Uri::try_from(joined).map_err(|_| refuse(UriProblem::NotAUrl))
    }
}

fn invalid(status: u16, content_type: Option<&str>, problem: Problem) -> FlowError {
    FlowError::InvalidResponse(InvalidResponse {
        endpoint: Endpoint::ServerInfo,
        status,
        content_type: content_type.map(str::to_owned),
        problem,
    })
}
