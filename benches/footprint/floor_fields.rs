//! The fields the footprint floors read, out of any of the three answers, with the floor's
//! JSON extraction (`benches/src/json.rs`, included next to this module as `json`).

use crate::json::{self, Value};

/// Every field a device-flow client reads, from whichever answer it came.
#[derive(Default)]
pub struct Fields {
    pub device_code: Option<String>,
    pub user_code: Option<String>,
    pub verification_uri: Option<String>,
    pub expires_in: Option<u64>,
    pub interval: Option<u64>,
    pub access_token: Option<String>,
    pub token_type: Option<String>,
    pub error: Option<String>,
}

/// Reads `body`; a field of the wrong type is an error.
pub fn read(body: &[u8]) -> Result<Fields, &'static str> {
    let mut f = Fields::default();
    let mut bad = false;
    json::members(body, |name, value| {
        let slot = match name {
            "device_code" => &mut f.device_code,
            "user_code" => &mut f.user_code,
            "verification_uri" => &mut f.verification_uri,
            "access_token" => &mut f.access_token,
            "token_type" => &mut f.token_type,
            "error" => &mut f.error,
            "expires_in" | "interval" => {
                let n = match value {
                    Value::Num(n) => n.parse().ok(),
                    _ => None,
                };
                bad |= n.is_none();
                *(if name == "interval" { &mut f.interval } else { &mut f.expires_in }) = n;
                return;
            }
            _ => return,
        };
        match value {
            Value::Str(s) => *slot = Some(s.into_owned()),
            _ => bad = true,
        }
    })
    .map_err(|_| "not a JSON object")?;
    if bad { Err("a field of the wrong type") } else { Ok(f) }
}
