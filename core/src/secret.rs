//! Newtypes for the values that must never be displayed or logged.
//!
//! RFC 8628 §3.3 says the `device_code` should not be displayed, and tokens and client
//! secrets are bearer credentials. Each type here prints `[redacted]` in `Debug`, has no
//! `Display`, and gives its value only through an explicit `.secret()` call, so a stray
//! `{:?}` in a log line cannot leak it.

use std::fmt;

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The value itself. Every read of a secret goes through this call, which makes
            /// the places that handle it easy to find.
            pub fn secret(&self) -> &str {
                &self.0
            }

            /// Consumes the wrapper and returns the value.
            pub fn into_secret(self) -> String {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

secret_type!(
    /// The `device_code` the client polls with. Never shown to the user (RFC 8628 §3.3).
    DeviceCode
);
secret_type!(
    /// An OAuth access token.
    AccessToken
);
secret_type!(
    /// An OAuth refresh token.
    RefreshToken
);
secret_type!(
    /// An OpenID Connect ID token.
    IdToken
);
secret_type!(
    /// A client secret, for `client_secret_basic` or `client_secret_post`.
    ClientSecret
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = AccessToken::new("abc123");
        assert_eq!(format!("{s:?}"), "AccessToken([redacted])");
        assert_eq!(s.secret(), "abc123");
        let d = DeviceCode::from("dc-value");
        assert!(!format!("{d:?}").contains("dc-value"));
        assert_eq!(d.into_secret(), "dc-value");
    }
}
