//! How an answer reads, whatever its status (DESIGN rule 8): a success body, an OAuth error
//! with its code, something to retry, or something unusable. The flow's transitions match on
//! what this module decides and never look at status codes or error strings themselves.

use std::borrow::Cow;
use std::time::Duration;

use http::{HeaderMap, StatusCode};

use crate::error::{Endpoint, ErrorResponse, InvalidResponse, Problem};
use crate::profile::{NameCase, Shape, snake};
use crate::wire::{self, Fields, Member};

/// The OAuth error codes the flow acts on (RFC 8628 §3.5, RFC 6749 §5.2 and the providers'
/// own spellings); every other code is [`ErrorCode::Other`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `authorization_pending`: nobody has approved yet; keep polling.
    AuthorizationPending,
    /// `slow_down`: poll 5 s less often, for good.
    SlowDown,
    /// `access_denied`: the user or a policy said no.
    AccessDenied,
    /// `authorization_declined`: Microsoft's spelling of a denial.
    AuthorizationDeclined,
    /// `expired_token`: the device code expired.
    ExpiredToken,
    /// `code_expired`: Azure AD v1's spelling of an expired device code.
    CodeExpired,
    /// `temporarily_unavailable`: the server is overloaded or down for maintenance.
    TemporarilyUnavailable,
    /// `other_dc`: Zoho's user approved in another data centre; polls go there from now on.
    OtherDataCentre,
    /// Any other code (`invalid_grant`, `invalid_client`, a rate limiter's own words, ...).
    Other,
}

impl ErrorCode {
    /// Reads an `error` value. Codes are compared exactly, as RFC 6749 defines them.
    #[must_use]
    pub fn parse(code: &str) -> ErrorCode {
        match code {
            "authorization_pending" => ErrorCode::AuthorizationPending,
            "slow_down" => ErrorCode::SlowDown,
            "access_denied" => ErrorCode::AccessDenied,
            "authorization_declined" => ErrorCode::AuthorizationDeclined,
            "expired_token" => ErrorCode::ExpiredToken,
            "code_expired" => ErrorCode::CodeExpired,
            "temporarily_unavailable" => ErrorCode::TemporarilyUnavailable,
            "other_dc" => ErrorCode::OtherDataCentre,
            _ => ErrorCode::Other,
        }
    }
}

/// A classified answer. Borrows the body and the headers: what the flow keeps is copied out
/// only when it keeps it, so that an `authorization_pending` costs no allocation beyond the
/// parse itself.
pub(crate) enum Answer<'a> {
    /// A body without an OAuth error at a 2xx status; status and content type are kept for
    /// the report should the body fail validation.
    Success {
        fields: Fields<'a>,
        status: u16,
        content_type: Option<&'a str>,
    },
    /// An OAuth error at any status, with its code and any `Retry-After`.
    Error {
        code: ErrorCode,
        error: OAuthError<'a>,
        retry_after: Option<Duration>,
    },
    /// 429, 502, 503 or 504 without an OAuth error: throttling or a gateway page.
    Retry {
        status: u16,
        retry_after: Option<Duration>,
        content_type: Option<&'a str>,
    },
    Invalid(InvalidResponse),
}

/// An OAuth error as read: the code and the rest of the members, still borrowed from the
/// body. It becomes an [`ErrorResponse`] only when the flow reports it.
pub(crate) struct OAuthError<'a> {
    pub(crate) endpoint: Endpoint,
    pub(crate) status: u16,
    /// The `error` value exactly as sent (before the profile's aliases).
    pub(crate) error: Cow<'a, str>,
    fields: Fields<'a>,
}

impl<'a> OAuthError<'a> {
    /// A member other than the error code.
    pub(crate) fn get(&self, name: &str) -> Option<&Member<'a>> {
        self.fields.get(name)
    }

    /// The error to report, with `error_description`, `error_uri` and every other member.
    pub(crate) fn into_response(self) -> ErrorResponse {
        let mut fields = self.fields;
        let description = wire::take_optional_string(&mut fields, "error_description");
        let uri = wire::take_optional_string(&mut fields, "error_uri");
        ErrorResponse {
            endpoint: self.endpoint,
            status: self.status,
            error: self.error.into_owned(),
            description,
            uri,
            extra: fields.into_map(),
        }
    }
}

/// Statuses that say "not now" rather than "no": they are retried while polling.
fn retryable(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// DESIGN rule 8: the body decides. An `error` member makes an OAuth error at any status
/// (GitHub sends them with 200, Google with 428 and 403, Auth0 with 403 and 429). The
/// profile's shape says how else the error member is spelt (Twitch's `message`), which of
/// the provider's own words mean an RFC code, and whether member names are camelCase (AWS).
pub(crate) fn classify<'a>(
    shape: &Shape,
    endpoint: Endpoint,
    status: StatusCode,
    headers: &'a HeaderMap,
    body: &'a [u8],
    limit: usize,
) -> Answer<'a> {
    let code = status.as_u16();
    let headers = wire::Headers::read(headers);
    // It picks the parser and goes into any report.
    let content_type = headers.content_type;
    let invalid = |problem| {
        Answer::Invalid(InvalidResponse {
            endpoint,
            status: code,
            content_type: content_type.map(str::to_owned),
            problem,
        })
    };
    if body.len() > limit {
        return invalid(Problem::BodyTooLarge { limit });
    }
    match wire::parse_body(content_type, body) {
        Ok(mut fields) => {
            if shape.names == NameCase::Camel {
                fields.rename(snake);
            }
            if let Some(error) = take_error_code(&mut fields, shape.error_member) {
                let meaning = shape
                    .error_aliases
                    .iter()
                    .find(|(word, _)| *word == error)
                    .map_or(&*error, |(_, code)| code);
                return Answer::Error {
                    code: ErrorCode::parse(meaning),
                    retry_after: headers.retry_after(),
                    error: OAuthError {
                        endpoint,
                        status: code,
                        error,
                        fields,
                    },
                };
            }
            if status.is_success() {
                Answer::Success {
                    fields,
                    status: code,
                    content_type,
                }
            } else if retryable(code) {
                Answer::Retry {
                    status: code,
                    retry_after: headers.retry_after(),
                    content_type,
                }
            } else {
                invalid(Problem::UnexpectedStatus)
            }
        }
        Err(_) if retryable(code) => Answer::Retry {
            status: code,
            retry_after: headers.retry_after(),
            content_type,
        },
        Err(problem) => invalid(problem),
    }
}

/// The `error` member, Google's quota answer `{"error_code": "rate_limit_exceeded"}`, or the
/// profile's own error member: the first of these names that holds a non-empty string.
fn take_error_code<'a>(fields: &mut Fields<'a>, own: &str) -> Option<Cow<'a, str>> {
    ["error", "error_code", own].into_iter().find_map(|name| {
        match fields.remove_if(name, |m| matches!(m, Member::Text(s) if !s.is_empty())) {
            Some(Member::Text(code)) => Some(code),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_exactly() {
        assert_eq!(
            ErrorCode::parse("authorization_pending"),
            ErrorCode::AuthorizationPending
        );
        assert_eq!(ErrorCode::parse("code_expired"), ErrorCode::CodeExpired);
        assert_eq!(ErrorCode::parse("Slow_Down"), ErrorCode::Other);
        assert_eq!(ErrorCode::parse("Too Many Requests"), ErrorCode::Other);
    }
}
