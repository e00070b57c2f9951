//! Response bodies as providers send them, in one table: the wire facts of PROVIDERS.md
//! (Azure AD v1 with string numbers, Microsoft identity platform v2, Google's 428 and 403
//! answers, GitHub's form bodies with 200, Auth0, Keycloak, the RFC 8628 examples) plus the
//! gateway pages and odd bodies found in front of them.
//!
//! The core's tests, the fuzz seeds and the `flow` fuzz target (which picks from [`FIXTURES`]
//! by index, so the order is part of the committed corpus: append, never reorder) and the
//! benchmarks all read them from here.

/// What a body is, which decides the status and content type it usually comes with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// A device authorization response.
    Device,
    /// A token response.
    Token,
    /// An OAuth error.
    Error,
    /// Not OAuth at all: gateway pages, empty bodies.
    Other,
}

/// One provider answer: its body and the status and content type it came with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fixture {
    /// A short name (`<provider>-<what>-<n>`), used for seed file names.
    pub name: &'static str,
    /// What it is.
    pub kind: Kind,
    /// The status it came with.
    pub status: u16,
    /// The content type it came with.
    pub content_type: Option<&'static str>,
    /// The body.
    pub body: &'static str,
}

impl Fixture {
    /// The fixture as an HTTP response: its status, its `Content-Type` (if any), its body.
    pub fn response(&self) -> http::Response<Vec<u8>> {
        let mut response = http::Response::new(self.body.as_bytes().to_vec());
        *response.status_mut() =
            http::StatusCode::from_u16(self.status).unwrap_or(http::StatusCode::OK);
        if let Some(ct) = self
            .content_type
            .and_then(|c| http::HeaderValue::from_str(c).ok())
        {
            response
                .headers_mut()
                .insert(http::header::CONTENT_TYPE, ct);
        }
        response
    }
}

const JSON: Option<&str> = Some("application/json");
const JSON_UTF8: Option<&str> = Some("application/json; charset=utf-8");
const FORM: Option<&str> = Some("application/x-www-form-urlencoded; charset=utf-8");
const HTML: Option<&str> = Some("text/html; charset=utf-8");

/// One constant per fixture, and the table `$table` of them all in order.
macro_rules! fixtures {
    ($(#[doc = $table_doc:expr])* $table:ident;
     $($(#[doc = $doc:expr])* $ident:ident = $name:literal, $kind:ident, $status:literal, $ct:expr, $body:expr;)*) => {
        $(
            $(#[doc = $doc])*
            pub const $ident: Fixture = Fixture {
                name: $name,
                kind: Kind::$kind,
                status: $status,
                content_type: $ct,
                body: $body,
            };
        )*
        $(#[doc = $table_doc])*
        pub const $table: &[Fixture] = &[$($ident),*];
    };
}

fixtures! {
    /// Every fixture of the table, in a fixed order.
    FIXTURES;
    /// Azure AD v1 (`login.microsoftonline.com/{tenant}/oauth2/devicecode`), numbers as strings: device authorization response (`msv1-dc-01`), HTTP 200.
    MSV1_DC_01 = "msv1-dc-01", Device, 200, JSON_UTF8, r#"{"user_code":"C45FGVYJR","device_code":"CAQABAAEAAABeAFzDwllzTYGDLh_qYbH8uzh0ivGv5BFX8U1R8ZLSWjQSbuB9JQzKSMsSoO7p7fqNKvOeSH1aAXuKCKRcE92cmDSDY2xuOM6qI-uK2fht3XX6buJBIgTFgZQ3cQVz_gjqsiGIZiHdwt__bJnynjI2ktruQsVIQVUYO9TNh3ATrxoHSQrwwkg0Ozurb32lZMIgAA","verification_url":"https://microsoft.com/devicelogin","expires_in":"900","interval":"5","message":"To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code C45FGVYJR to authenticate."}"#;
    /// Azure AD v1 (`login.microsoftonline.com/{tenant}/oauth2/devicecode`), numbers as strings: device authorization response (`msv1-dc-02`), HTTP 200.
    MSV1_DC_02 = "msv1-dc-02", Device, 200, JSON, r#"{"user_code":"EZ2KYPAW4","device_code":"EAAABAAEAiL9Kn2Z27Uubv","verification_url":"https://aka.ms/devicelogin","expires_in":"900","interval":"5","message":"To sign in, use a web browser to open the page https://aka.ms/devicelogin. Enter the code EZ2KYPAW4 to authenticate."}"#;
    /// Microsoft identity platform v2: device authorization response (`msv2-dc-01`), HTTP 200.
    MSV2_DC_01 = "msv2-dc-01", Device, 200, JSON_UTF8, r#"{"user_code":"YZMYLD4K","device_code":"HAQABAAEAAAD--DLA3VO7QrddgJg7Wevr0WV9SxplIjUaZuAytY5xuFmkKNvO1AmBDEPZC-14Pkp2_-TB6vrzmhhe_HLVA_96FQsQaykuxGXBf9F06u44gDTMXjw90rNb4z7jBfvSNTW7-WcLEz15DzL1cDd-WRu3ZKc3yyCH-r4_0JlbzMR1j5WyPIWs_ViNwYUFv3LBi6NFxM9dQum599XdPyTXaIT8PzNzSubzs-DC01agnoT_cWef2Bo7ttF8SV-Idtj1zaRE6lCefIXiaQS1_Ds5RdAPeFOxe2vBvczbI4XAQKE83Z608ZWl-Dy6l6bkoWwXnGBOAja_GiEtm3auJ8rvX0XUw85HxojlCRCsAd5YKXrD3iGuiM0QThl_5yQS0eB4vOc7xhJaHZmv2yWUAxU7miwNIAA","verification_uri":"https://www.microsoft.com/link","expires_in":900,"interval":5,"message":"To sign in, use a web browser to open the page https://www.microsoft.com/link and enter the code YZMYLD4K to authenticate."}"#;
    /// Google (`oauth2.googleapis.com/device/code`): device authorization response (`goog-dc-01`), HTTP 200.
    GOOG_DC_01 = "goog-dc-01", Device, 200, JSON_UTF8, "{\n  \"device_code\": \"4/4-GMMhmHCXhWEzkobqIHGG_EnNYYsAkukHspeYUk9E8\",\n  \"user_code\": \"GQVQ-JKEC\",\n  \"verification_url\": \"https://www.google.com/device\",\n  \"expires_in\": 1800,\n  \"interval\": 5\n}";
    /// GitHub (`github.com/login/device/code`): device authorization response (`gh-dc-01`), HTTP 200.
    GH_DC_01 = "gh-dc-01", Device, 200, FORM, "device_code=3584d83530557fdd1f46af8289938c8ef79f9dc5&expires_in=900&interval=5&user_code=WDJB-MJHT&verification_uri=https%3A%2F%2Fgithub.com%2Flogin%2Fdevice";
    /// GitHub (`github.com/login/device/code`): device authorization response (`gh-dc-02`), HTTP 200.
    GH_DC_02 = "gh-dc-02", Device, 200, JSON_UTF8, "{\n  \"device_code\": \"3584d83530557fdd1f46af8289938c8ef79f9dc5\",\n  \"user_code\": \"WDJB-MJHT\",\n  \"verification_uri\": \"https://github.com/login/device\",\n  \"expires_in\": 900,\n  \"interval\": 5\n}";
    /// RFC 8628: device authorization response (`rfc-dc-01`), HTTP 200.
    RFC_DC_01 = "rfc-dc-01", Device, 200, JSON, r#"{"device_code":"GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS","user_code":"WDJB-MJHT","verification_uri":"https://example.com/device","verification_uri_complete":"https://example.com/device?user_code=WDJB-MJHT","expires_in":1800,"interval":5}"#;
    /// Auth0: device authorization response (`auth0-dc`), HTTP 200.
    AUTH0_DC = "auth0-dc", Device, 200, JSON, r#"{"device_code":"Ag_EE...ko1p","user_code":"QTZL-MCBW","verification_uri":"https://accounts.acmetest.org/activate","verification_uri_complete":"https://accounts.acmetest.org/activate?user_code=QTZL-MCBW","expires_in":900,"interval":5}"#;
    /// a local lab server: device authorization response (`lab-dc-fast`), HTTP 200.
    LAB_DC_FAST = "lab-dc-fast", Device, 200, JSON, r#"{"device_code":"lab-device-code-0123456789","user_code":"LAB-CODE","verification_uri":"http://127.0.0.1:8080/device","expires_in":2,"interval":0.05}"#;
    /// a local lab server: device authorization response (`lab-dc-no-interval`), HTTP 200.
    LAB_DC_NO_INTERVAL = "lab-dc-no-interval", Device, 200, JSON, r#"{"device_code":"lab-device-code-abcdefghij","user_code":"X","verification_uri":"https://as.example/device","expires_in":"30","interval":"0"}"#;
    /// Microsoft identity platform v2: device authorization error (`msv2-dcerr-01`), HTTP 200.
    MSV2_DCERR_01 = "msv2-dcerr-01", Error, 200, JSON_UTF8, "{\n    \"error\": \"invalid_request\",\n    \"error_description\": \"AADSTS900144: The request body must contain the following parameter: 'scope'.\\r\\nTrace ID: 1f382fa3-d9ad-496f-be4e-74d3617d1d00\\r\\nCorrelation ID: 23818c0a-e340-4d76-a6a7-6ece6cbd26d9\\r\\nTimestamp: 2020-08-16 07:49:03Z\",\n    \"error_codes\": [\n        900144\n    ],\n    \"timestamp\": \"2020-08-16 07:49:03Z\",\n    \"trace_id\": \"1f382fa3-d9ad-496f-be4e-74d3617d1d00\",\n    \"correlation_id\": \"23818c0a-e340-4d76-a6a7-6ece6cbd26d9\",\n    \"error_uri\": \"https://login.microsoftonline.com/error?code=900144\"\n}";
    /// Google (`oauth2.googleapis.com/device/code`): quota error (`error_code`) (`goog-quota-01`), HTTP 403.
    GOOG_QUOTA_01 = "goog-quota-01", Error, 403, JSON, "{\n  \"error_code\": \"rate_limit_exceeded\"\n}";
    /// GitHub (`github.com/login/device/code`): `device_flow_disabled` (`gh-disabled-01`), HTTP 400.
    GH_DISABLED_01 = "gh-disabled-01", Error, 400, FORM, "error=device_flow_disabled";
    /// Azure AD v1 (`login.microsoftonline.com/{tenant}/oauth2/devicecode`), numbers as strings: `authorization_pending` (`msv1-pend-01`), HTTP 400.
    MSV1_PEND_01 = "msv1-pend-01", Error, 400, JSON_UTF8, r#"{"error":"authorization_pending","error_description":"AADSTS70016: Pending end-user authorization.\r\nTrace ID: cd417f24-8d41-4d02-89bf-f8fc974e887f\r\nCorrelation ID: 02c9684c-b36c-423a-a78d-68ff007b0dbd\r\nTimestamp: 2016-10-19 16:29:47Z","error_codes":[70016],"timestamp":"2016-10-19 16:29:47Z","trace_id":"cd417f24-8d41-4d02-89bf-f8fc974e887f","correlation_id":"02c9684c-b36c-423a-a78d-68ff007b0dbd"}"#;
    /// Microsoft identity platform v2: `authorization_pending` (`msv2-pend-01`), HTTP 400.
    MSV2_PEND_01 = "msv2-pend-01", Error, 400, JSON_UTF8, r#"{"error":"authorization_pending","error_description":"AADSTS70016: The provided request has not yet been authorized by the user. The user must input their code.\r\nTrace ID: 21a7ca08-5c6d-4238-a06f-d7808ff27900\r\nCorrelation ID: 55137716-1f7e-42e1-b0fa-4d07b8d4896c\r\nTimestamp: 2022-08-25 09:34:07Z","error_codes":[70016],"timestamp":"2022-08-25 09:34:07Z","trace_id":"21a7ca08-5c6d-4238-a06f-d7808ff27900","correlation_id":"55137716-1f7e-42e1-b0fa-4d07b8d4896c","error_uri":"https://login.microsoftonline.com/error?code=70016"}"#;
    /// Google (`oauth2.googleapis.com/device/code`): `authorization_pending` (`goog-pend-01`), HTTP 428.
    GOOG_PEND_01 = "goog-pend-01", Error, 428, JSON_UTF8, "{\n  \"error\": \"authorization_pending\",\n  \"error_description\": \"Precondition Required\"\n}";
    /// GitHub (`github.com/login/device/code`): `authorization_pending` (`gh-pend-01`), HTTP 200.
    GH_PEND_01 = "gh-pend-01", Error, 200, FORM, "error=authorization_pending";
    /// GitHub (`github.com/login/device/code`): `authorization_pending` (`gh-pend-02`), HTTP 200.
    GH_PEND_02 = "gh-pend-02", Error, 200, JSON_UTF8, r#"{"error":"authorization_pending","error_description":"The authorization request is still pending.","error_uri":"https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow"}"#;
    /// Auth0: `authorization_pending` (`auth0-pend`), HTTP 403.
    AUTH0_PEND = "auth0-pend", Error, 403, JSON, r#"{"error": "authorization_pending", "error_description": "User has yet to authorize device code."}"#;
    /// RFC 8628: `authorization_pending` (`rfc-pend-01`), HTTP 400.
    RFC_PEND_01 = "rfc-pend-01", Error, 400, JSON, r#"{"error":"authorization_pending"}"#;
    /// Azure AD v1 (`login.microsoftonline.com/{tenant}/oauth2/devicecode`), numbers as strings: `slow_down` (`msv1-slow-01`), HTTP 400.
    MSV1_SLOW_01 = "msv1-slow-01", Error, 400, JSON, r#"{ "error": "slow_down" }"#;
    /// Google (`oauth2.googleapis.com/device/code`): `slow_down` (`goog-slow-01`), HTTP 403.
    GOOG_SLOW_01 = "goog-slow-01", Error, 403, JSON_UTF8, "{\n  \"error\": \"slow_down\",\n  \"error_description\": \"Forbidden\"\n}";
    /// GitHub (`github.com/login/device/code`): `slow_down` (`gh-slow-01`), HTTP 200.
    GH_SLOW_01 = "gh-slow-01", Error, 200, FORM, "error=slow_down&error_description=Too+many+requests+have+been+made+in+the+same+timeframe.&error_uri=https%3A%2F%2Fdocs.github.com&interval=22";
    /// GitHub (`github.com/login/device/code`): `slow_down` (`gh-slow-02`), HTTP 200.
    GH_SLOW_02 = "gh-slow-02", Error, 200, JSON_UTF8, r#"{"error":"slow_down","error_description":"Too many requests have been made in the same timeframe.","error_uri":"https://docs.github.com","interval":10}"#;
    /// Auth0: `slow_down` (`auth0-slow`), HTTP 429.
    AUTH0_SLOW = "auth0-slow", Error, 429, JSON, r#"{"error": "slow_down", "error_description": "You are polling faster than the specified interval of 5 seconds."}"#;
    /// Azure AD v1 (`login.microsoftonline.com/{tenant}/oauth2/devicecode`), numbers as strings: `access_denied` (`msv1-deny-01`), HTTP 400.
    MSV1_DENY_01 = "msv1-deny-01", Error, 400, JSON, r#"{ "error": "access_denied" }"#;
    /// Microsoft identity platform v2: `authorization_declined` (`msv2-decl-01`), HTTP 400.
    MSV2_DECL_01 = "msv2-decl-01", Error, 400, JSON_UTF8, r#"{"error":"authorization_declined","error_description":"AADSTS00000: synthesized fixture - user declined.\r\nTrace ID: 00000000-0000-0000-0000-000000000000\r\nCorrelation ID: 00000000-0000-0000-0000-000000000000\r\nTimestamp: 2022-08-25 09:34:07Z","error_codes":[0],"timestamp":"2022-08-25 09:34:07Z","trace_id":"00000000-0000-0000-0000-000000000000","correlation_id":"00000000-0000-0000-0000-000000000000","error_uri":"https://login.microsoftonline.com/error?code=0"}"#;
    /// Google (`oauth2.googleapis.com/device/code`): `access_denied` (`goog-deny-01`), HTTP 403.
    GOOG_DENY_01 = "goog-deny-01", Error, 403, JSON_UTF8, "{\n  \"error\": \"access_denied\",\n  \"error_description\": \"Forbidden\"\n}";
    /// GitHub (`github.com/login/device/code`): `access_denied` (`gh-deny-01`), HTTP 200.
    GH_DENY_01 = "gh-deny-01", Error, 200, JSON_UTF8, r#"{"error":"access_denied","error_description":"The authorization request was denied.","error_uri":"https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow"}"#;
    /// Azure AD v1 (`login.microsoftonline.com/{tenant}/oauth2/devicecode`), numbers as strings: expired device code (`msv1-exp-01`), HTTP 400.
    MSV1_EXP_01 = "msv1-exp-01", Error, 400, JSON, r#"{ "error": "code_expired" }"#;
    /// Azure AD v1 (`login.microsoftonline.com/{tenant}/oauth2/devicecode`), numbers as strings: expired device code (`msv1-exp-02`), HTTP 400.
    MSV1_EXP_02 = "msv1-exp-02", Error, 400, JSON_UTF8, r#"{"error":"code_expired","error_description":"AADSTS70019: Verification code expired.\r\nTrace ID: 00000000-0000-0000-0000-000000000000\r\nCorrelation ID: 00000000-0000-0000-0000-000000000000\r\nTimestamp: 2017-06-21 00:00:00Z","error_codes":[70019],"timestamp":"2017-06-21 00:00:00Z","trace_id":"00000000-0000-0000-0000-000000000000","correlation_id":"00000000-0000-0000-0000-000000000000"}"#;
    /// Microsoft identity platform v2: expired device code (`msv2-exp-01`), HTTP 400.
    MSV2_EXP_01 = "msv2-exp-01", Error, 400, JSON_UTF8, r#"{"error":"expired_token","error_description":"AADSTS70020: The provided value for the input parameter 'device_code' is not valid. This device code has expired.\r\nTrace ID: 00000000-0000-0000-0000-000000000000\r\nCorrelation ID: 00000000-0000-0000-0000-000000000000\r\nTimestamp: 2022-11-07 00:00:00Z","error_codes":[70020],"timestamp":"2022-11-07 00:00:00Z","trace_id":"00000000-0000-0000-0000-000000000000","correlation_id":"00000000-0000-0000-0000-000000000000","error_uri":"https://login.microsoftonline.com/error?code=70020"}"#;
    /// Google (`oauth2.googleapis.com/device/code`): expired device code (`goog-exp-01`), HTTP 400.
    GOOG_EXP_01 = "goog-exp-01", Error, 400, JSON, "{\n  \"error\": \"expired_token\",\n  \"error_description\": \"Bad Request\"\n}";
    /// GitHub (`github.com/login/device/code`): expired device code (`gh-exp-01`), HTTP 200.
    GH_EXP_01 = "gh-exp-01", Error, 200, JSON_UTF8, r#"{"error":"expired_token","error_description":"This 'device_code' has expired.","error_uri":"https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow"}"#;
    /// Microsoft identity platform v2: `invalid_client` (`msv2-client-01`), HTTP 401.
    MSV2_CLIENT_01 = "msv2-client-01", Error, 401, JSON_UTF8, "{\n    \"error\": \"invalid_client\",\n    \"error_description\": \"AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.\\r\\nTrace ID: 0de65102-2fc2-4862-a02e-4c5b6b0f0400\\r\\nCorrelation ID: 8dfeaa3f-40b7-47d7-98b1-88b8458bbfff\\r\\nTimestamp: 2019-05-23 11:50:14Z\",\n    \"error_codes\": [\n        7000218\n    ],\n    \"timestamp\": \"2019-05-23 11:50:14Z\",\n    \"trace_id\": \"0de65102-2fc2-4862-a02e-4c5b6b0f0400\",\n    \"correlation_id\": \"8dfeaa3f-40b7-47d7-98b1-88b8458bbfff\"\n}";
    /// Keycloak: keycloak-invalid-grant (`keycloak-invalid-grant`), HTTP 400.
    KEYCLOAK_INVALID_GRANT = "keycloak-invalid-grant", Error, 400, JSON, r#"{"error":"invalid_grant","error_description":"Device code not valid"}"#;
    /// any server (RFC 6749 §5.2 `temporarily_unavailable`): temp-unavailable (`temp-unavailable`), HTTP 503.
    TEMP_UNAVAILABLE = "temp-unavailable", Error, 503, JSON, r#"{"error":"temporarily_unavailable","error_description":"try again later"}"#;
    /// Azure AD v1 (`login.microsoftonline.com/{tenant}/oauth2/devicecode`), numbers as strings: token response (`msv1-tok-01`), HTTP 200.
    MSV1_TOK_01 = "msv1-tok-01", Token, 200, JSON, r#"{"token_type":"Bearer","scope":"user_impersonation","expires_in":"3600","expires_on":"1460690464","not_before":"1460686564","resource":"4e725760-015b-4168-8adf-e8329e863974","access_token":"Q29uZ3JhdHVsYXRpb25zLCB5b3UgaGF2ZSBzdWNjZXNzZnVsbHkgZGVjb2RlZCBhIGZha2UgYWNjZXNzIHRva2VuLg==","refresh_token":"Tm93IHlvdSBzdWNjZXNzZnVsbHkgZGVjb2RlZCBhIGZha2UgcmVmcmVzaCB0b2tlbi4=","id_token":"SSBub3RpY2UgeW91J3JlIHN0aWxsIGRlY29kaW5nIGZha2UgdG9rZW5zLiAgVGhpcyBvbmUncyBmb3IgaWRfdG9rZW4u"}"#;
    /// Azure AD v1 (`login.microsoftonline.com/{tenant}/oauth2/devicecode`), numbers as strings: token response (`msv1-tok-02`), HTTP 200.
    MSV1_TOK_02 = "msv1-tok-02", Token, 200, JSON, "{\n\t\"access_token\": \"accessToken\",\n\t\"refresh_token\": \"refreshToken\",\n\t\"expires_in\": \"1000\",\n\t\"expires_on\": \"2000\",\n\t\"not_before\": \"3000\",\n\t\"resource\": \"resource\",\n\t\"token_type\": \"type\"\n}";
    /// Microsoft identity platform v2: token response (`msv2-tok-01`), HTTP 200.
    MSV2_TOK_01 = "msv2-tok-01", Token, 200, JSON_UTF8, "{\n    \"token_type\": \"Bearer\",\n    \"scope\": \"User.Read profile openid email\",\n    \"expires_in\": 3599,\n    \"access_token\": \"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsIng1dCI6Ik5HVEZ2ZEstZnl0aEV1Q...\",\n    \"refresh_token\": \"AwABAAAAvPM1KaPlrEqdFSBzjqfTGAMxZGUTdM0t4B4...\",\n    \"id_token\": \"eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJhdWQiOiIyZDRkMTFhMi1mODE0LTQ2YTctOD...\"\n}";
    /// Google (`oauth2.googleapis.com/device/code`): token response (`goog-tok-01`), HTTP 200.
    GOOG_TOK_01 = "goog-tok-01", Token, 200, JSON_UTF8, "{\n  \"access_token\": \"1/fFAGRNJru1FTz70BzhT3Zg\",\n  \"expires_in\": 3920,\n  \"scope\": \"openid https://www.googleapis.com/auth/userinfo.profile https://www.googleapis.com/auth/userinfo.email\",\n  \"token_type\": \"Bearer\",\n  \"refresh_token\": \"1/xEoDL4iW3cxlI7yDbSRFYNG01kVKM2C-259HOF2aQbI\"\n}";
    /// GitHub (`github.com/login/device/code`): token response (`gh-tok-01`), HTTP 200.
    GH_TOK_01 = "gh-tok-01", Token, 200, FORM, "access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&token_type=bearer&scope=repo%2Cgist";
    /// GitHub (`github.com/login/device/code`): token response (`gh-tok-02`), HTTP 200.
    GH_TOK_02 = "gh-tok-02", Token, 200, JSON, "{\n \"access_token\": \"gho_16C7e42F292c6912E7710c838347Ae178B4a\",\n  \"token_type\": \"bearer\",\n  \"scope\": \"repo,gist\"\n}";
    /// a server with a nonsensical `expires_in`: tok-huge-expiry (`tok-huge-expiry`), HTTP 200.
    TOK_HUGE_EXPIRY = "tok-huge-expiry", Token, 200, JSON, r#"{"access_token":"at","token_type":"Bearer","expires_in":18446744073709551615,"scope":["a","b"]}"#;
    /// a gateway in front of the server: html-502 (`html-502`), HTTP 502.
    HTML_502 = "html-502", Other, 502, HTML, "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    /// a gateway in front of the server: html-503-json-label (`html-503-json-label`), HTTP 503.
    HTML_503_JSON_LABEL = "html-503-json-label", Other, 503, JSON, "<!DOCTYPE html><html><body><h1>Service Unavailable</h1></body></html>";
    /// a rate limiter in front of the server: text-429 (`text-429`), HTTP 429.
    TEXT_429 = "text-429", Other, 429, Some("text/plain"), "Too Many Requests";
    /// a gateway in front of the server: empty-504 (`empty-504`), HTTP 504.
    EMPTY_504 = "empty-504", Other, 504, None, "";
    /// a server that answers with a JSON array: json-array (`json-array`), HTTP 200.
    JSON_ARRAY = "json-array", Other, 200, JSON, "[1,2,3]";
}

/// RFC 6749 §5.1's example token response, with a scope added (`rfc-tok-01`). Not in
/// [`FIXTURES`], whose order the fuzz corpus depends on.
pub const RFC_TOK_01: Fixture = Fixture {
    name: "rfc-tok-01",
    kind: Kind::Token,
    status: 200,
    content_type: JSON,
    body: r#"{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"Bearer","expires_in":3600,"refresh_token":"tGzv3JOkF0XG5Qx2TlKWIA","scope":"openid offline_access"}"#,
};

/// The fixtures of one kind.
pub fn of(kind: Kind) -> impl Iterator<Item = &'static Fixture> {
    FIXTURES.iter().filter(move |f| f.kind == kind)
}

/// A fixture by name, `None` when there is none.
pub fn find(name: &str) -> Option<&'static Fixture> {
    FIXTURES
        .iter()
        .chain([&RFC_TOK_01])
        .find(|f| f.name == name)
}

/// A fixture by name.
///
/// # Panics
///
/// When there is no fixture with this name: a typo in a test.
pub fn named(name: &str) -> &'static Fixture {
    find(name).unwrap_or_else(|| panic!("no fixture named {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_bodies_parse_as_declared() {
        for (i, f) in FIXTURES.iter().enumerate() {
            assert!(FIXTURES[..i].iter().all(|g| g.name != f.name), "{}", f.name);
            if f.kind != Kind::Other && f.content_type.is_some_and(|c| c.contains("json")) {
                assert!(
                    serde_json::from_str::<serde_json::Value>(f.body).is_ok(),
                    "{}",
                    f.name
                );
            }
        }
        assert_eq!(FIXTURES.len(), 49, "the fuzz corpus depends on the table");
        assert_eq!(named("rfc-tok-01").response().status(), 200);
    }
}

fixtures! {
    /// The second round of providers (PROVIDERS §11 to §15), in their own table: they need
    /// their profiles to read, and [`FIXTURES`]' order is part of the fuzz corpus.
    PROVIDER_FIXTURES;
    /// AWS `RegisterClient` response (`aws-reg-02`, DOC), HTTP 200.
    AWS_REG_02 = "aws-reg-02", Other, 200, JSON, r#"{"clientId":"_yzkThXVzLWVhc3QtMQEXAMPLECLIENTID","clientIdIssuedAt":1579725929,"clientSecret":"VERYLONGSECRETeyJraWQiOiJrZXktMTU2NDAyODA5OSIsImFsZyI6IkhTMzg0In0","clientSecretExpiresAt":1587584729}"#;
    /// AWS `StartDeviceAuthorization` response (`aws-sda-01`, VERBATIM), HTTP 200.
    AWS_SDA_01 = "aws-sda-01", Device, 200, JSON, r#"{"deviceCode":"xYPXpeHNWybL2yivg0oomUZ0hKqbAt9zUYNy1K1HTSJT0Oqo7T266etaIa9n9ajmzvzwa5qeyYx5BPoiVsdsbA","expiresIn":600,"interval":1,"userCode":"PMPJ-VZCJ","verificationUri":"https://device.sso.us-west-2.amazonaws.com/","verificationUriComplete":"https://device.sso.us-west-2.amazonaws.com/?user_code=PMPJ-VZCJ"}"#;
    /// AWS pending (`aws-pend-01`, VERBATIM), HTTP 400.
    AWS_PEND_01 = "aws-pend-01", Error, 400, JSON, r#"{"error":"authorization_pending","error_description":"Authorization is still pending"}"#;
    /// AWS refresh rejected (`aws-rterr-01`, VERBATIM), HTTP 400.
    AWS_RTERR_01 = "aws-rterr-01", Error, 400, JSON, r#"{"error":"invalid_grant","error_description":"Invalid refresh token provided"}"#;
    /// AWS token (`aws-tok-01`, SYNTH), HTTP 200.
    AWS_TOK_01 = "aws-tok-01", Token, 200, JSON, r#"{"accessToken":"aoaEXAMPLE","tokenType":"Bearer","expiresIn":3600,"refreshToken":"aorEXAMPLE"}"#;
    /// Twitch pending (`tw-pend-01`, OBSERVED-2ND), HTTP 400.
    TW_PEND_01 = "tw-pend-01", Error, 400, JSON, r#"{"status":400,"message":"authorization_pending"}"#;
    /// Twitch slow_down (`tw-slow-01`, OBSERVED-2ND), HTTP 400.
    TW_SLOW_01 = "tw-slow-01", Error, 400, JSON, r#"{"status":400,"message":"slow_down"}"#;
    /// Twitch expired code (`tw-exp-01`, OBSERVED-2ND), HTTP 400.
    TW_EXP_01 = "tw-exp-01", Error, 400, JSON, r#"{"status":400,"message":"invalid device code"}"#;
    /// Twitch token with array scopes (`tw-tok-01`, LIB-FIXTURE), HTTP 200.
    TW_TOK_01 = "tw-tok-01", Token, 200, JSON, r#"{"access_token":"rfx2uswqe8l4g1mkagrvg5tv0ks3","expires_in":14124,"refresh_token":"5b93chm6hdve3mycz05zfzatkfdenfspp1h1ar2xxdalen01","scope":["channel:read:subscriptions"],"token_type":"bearer"}"#;
    /// Login with Amazon device response (`lwa-dc-01`, DOC: `http://` and a numeric user code), HTTP 200.
    LWA_DC_01 = "lwa-dc-01", Device, 200, JSON, r#"{"device_code":"74tq5miHKB","user_code":"94238","verification_uri":"http://www.example.com/device","expires_in":600,"interval":30}"#;
    /// Zoho other data centre (`zoho-dc-01`, DOC with the missing quote fixed), HTTP 400 (status undocumented).
    ZOHO_DC_01 = "zoho-dc-01", Error, 400, JSON, r#"{"user_location":"eu","error":"other_dc"}"#;
}
