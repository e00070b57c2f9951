//! Response bodies as providers send them, for the seed corpora and for the `flow` target,
//! which picks them by index so that the fuzzer spends its time on sequences rather than on
//! rediscovering JSON.
//!
//! Sources: the provider notes (Azure AD v1 with string numbers, Microsoft identity platform
//! v2, Google's 428/403 answers, GitHub's form bodies with 200, Auth0, Keycloak, RFC 8628
//! examples) plus gateway pages.

/// What a body is, which decides the status and content type it usually comes with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// One fixture.
pub struct Fixture {
    /// A short name, used for seed file names.
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

const JSON: Option<&str> = Some("application/json");
const JSON_UTF8: Option<&str> = Some("application/json; charset=utf-8");
const FORM: Option<&str> = Some("application/x-www-form-urlencoded; charset=utf-8");
const HTML: Option<&str> = Some("text/html; charset=utf-8");

macro_rules! fixtures {
    ($($name:literal, $kind:ident, $status:literal, $ct:expr, $body:expr;)*) => {
        /// Every fixture.
        pub const FIXTURES: &[Fixture] = &[$(Fixture {
            name: $name,
            kind: Kind::$kind,
            status: $status,
            content_type: $ct,
            body: $body,
        }),*];
    };
}

fixtures! {
    "msv1-dc-01", Device, 200, JSON_UTF8, r#"{"user_code":"C45FGVYJR","device_code":"CAQABAAEAAABeAFzDwllzTYGDLh_qYbH8uzh0ivGv5BFX8U1R8ZLSWjQSbuB9JQzKSMsSoO7p7fqNKvOeSH1aAXuKCKRcE92cmDSDY2xuOM6qI-uK2fht3XX6buJBIgTFgZQ3cQVz_gjqsiGIZiHdwt__bJnynjI2ktruQsVIQVUYO9TNh3ATrxoHSQrwwkg0Ozurb32lZMIgAA","verification_url":"https://microsoft.com/devicelogin","expires_in":"900","interval":"5","message":"To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code C45FGVYJR to authenticate."}"#;
    "msv1-dc-02", Device, 200, JSON, r#"{"user_code":"EZ2KYPAW4","device_code":"EAAABAAEAiL9Kn2Z27Uubv","verification_url":"https://aka.ms/devicelogin","expires_in":"900","interval":"5","message":"To sign in, use a web browser to open the page https://aka.ms/devicelogin. Enter the code EZ2KYPAW4 to authenticate."}"#;
    "msv2-dc-01", Device, 200, JSON_UTF8, r#"{"user_code":"YZMYLD4K","device_code":"HAQABAAEAAAD--DLA3VO7QrddgJg7Wevr0WV9SxplIjUaZuAytY5xuFmkKNvO1AmBDEPZC-14Pkp2_-TB6vrzmhhe_HLVA_96FQsQaykuxGXBf9F06u44gDTMXjw90rNb4z7jBfvSNTW7-WcLEz15DzL1cDd-WRu3ZKc3yyCH-r4_0JlbzMR1j5WyPIWs_ViNwYUFv3LBi6NFxM9dQum599XdPyTXaIT8PzNzSubzs-DC01agnoT_cWef2Bo7ttF8SV-Idtj1zaRE6lCefIXiaQS1_Ds5RdAPeFOxe2vBvczbI4XAQKE83Z608ZWl-Dy6l6bkoWwXnGBOAja_GiEtm3auJ8rvX0XUw85HxojlCRCsAd5YKXrD3iGuiM0QThl_5yQS0eB4vOc7xhJaHZmv2yWUAxU7miwNIAA","verification_uri":"https://www.microsoft.com/link","expires_in":900,"interval":5,"message":"To sign in, use a web browser to open the page https://www.microsoft.com/link and enter the code YZMYLD4K to authenticate."}"#;
    "goog-dc-01", Device, 200, JSON_UTF8, "{\n  \"device_code\": \"4/4-GMMhmHCXhWEzkobqIHGG_EnNYYsAkukHspeYUk9E8\",\n  \"user_code\": \"GQVQ-JKEC\",\n  \"verification_url\": \"https://www.google.com/device\",\n  \"expires_in\": 1800,\n  \"interval\": 5\n}";
    "gh-dc-01", Device, 200, FORM, "device_code=3584d83530557fdd1f46af8289938c8ef79f9dc5&expires_in=900&interval=5&user_code=WDJB-MJHT&verification_uri=https%3A%2F%2Fgithub.com%2Flogin%2Fdevice";
    "gh-dc-02", Device, 200, JSON_UTF8, "{\n  \"device_code\": \"3584d83530557fdd1f46af8289938c8ef79f9dc5\",\n  \"user_code\": \"WDJB-MJHT\",\n  \"verification_uri\": \"https://github.com/login/device\",\n  \"expires_in\": 900,\n  \"interval\": 5\n}";
    "rfc-dc-01", Device, 200, JSON, r#"{"device_code":"GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS","user_code":"WDJB-MJHT","verification_uri":"https://example.com/device","verification_uri_complete":"https://example.com/device?user_code=WDJB-MJHT","expires_in":1800,"interval":5}"#;
    "auth0-dc", Device, 200, JSON, r#"{"device_code":"Ag_EE...ko1p","user_code":"QTZL-MCBW","verification_uri":"https://accounts.acmetest.org/activate","verification_uri_complete":"https://accounts.acmetest.org/activate?user_code=QTZL-MCBW","expires_in":900,"interval":5}"#;
    "lab-dc-fast", Device, 200, JSON, r#"{"device_code":"lab-device-code-0123456789","user_code":"LAB-CODE","verification_uri":"http://127.0.0.1:8080/device","expires_in":2,"interval":0.05}"#;
    "lab-dc-no-interval", Device, 200, JSON, r#"{"device_code":"lab-device-code-abcdefghij","user_code":"X","verification_uri":"https://as.example/device","expires_in":"30","interval":"0"}"#;
    "msv2-dcerr-01", Error, 200, JSON_UTF8, "{\n    \"error\": \"invalid_request\",\n    \"error_description\": \"AADSTS900144: The request body must contain the following parameter: 'scope'.\\r\\nTrace ID: 1f382fa3-d9ad-496f-be4e-74d3617d1d00\\r\\nCorrelation ID: 23818c0a-e340-4d76-a6a7-6ece6cbd26d9\\r\\nTimestamp: 2020-08-16 07:49:03Z\",\n    \"error_codes\": [\n        900144\n    ],\n    \"timestamp\": \"2020-08-16 07:49:03Z\",\n    \"trace_id\": \"1f382fa3-d9ad-496f-be4e-74d3617d1d00\",\n    \"correlation_id\": \"23818c0a-e340-4d76-a6a7-6ece6cbd26d9\",\n    \"error_uri\": \"https://login.microsoftonline.com/error?code=900144\"\n}";
    "goog-quota-01", Error, 403, JSON, "{\n  \"error_code\": \"rate_limit_exceeded\"\n}";
    "gh-disabled-01", Error, 400, FORM, "error=device_flow_disabled";
    "msv1-pend-01", Error, 400, JSON_UTF8, r#"{"error":"authorization_pending","error_description":"AADSTS70016: Pending end-user authorization.\r\nTrace ID: cd417f24-8d41-4d02-89bf-f8fc974e887f\r\nCorrelation ID: 02c9684c-b36c-423a-a78d-68ff007b0dbd\r\nTimestamp: 2016-10-19 16:29:47Z","error_codes":[70016],"timestamp":"2016-10-19 16:29:47Z","trace_id":"cd417f24-8d41-4d02-89bf-f8fc974e887f","correlation_id":"02c9684c-b36c-423a-a78d-68ff007b0dbd"}"#;
    "msv2-pend-01", Error, 400, JSON_UTF8, r#"{"error":"authorization_pending","error_description":"AADSTS70016: The provided request has not yet been authorized by the user. The user must input their code.\r\nTrace ID: 21a7ca08-5c6d-4238-a06f-d7808ff27900\r\nCorrelation ID: 55137716-1f7e-42e1-b0fa-4d07b8d4896c\r\nTimestamp: 2022-08-25 09:34:07Z","error_codes":[70016],"timestamp":"2022-08-25 09:34:07Z","trace_id":"21a7ca08-5c6d-4238-a06f-d7808ff27900","correlation_id":"55137716-1f7e-42e1-b0fa-4d07b8d4896c","error_uri":"https://login.microsoftonline.com/error?code=70016"}"#;
    "goog-pend-01", Error, 428, JSON_UTF8, "{\n  \"error\": \"authorization_pending\",\n  \"error_description\": \"Precondition Required\"\n}";
    "gh-pend-01", Error, 200, FORM, "error=authorization_pending";
    "gh-pend-02", Error, 200, JSON_UTF8, r#"{"error":"authorization_pending","error_description":"The authorization request is still pending.","error_uri":"https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow"}"#;
    "auth0-pend", Error, 403, JSON, r#"{"error": "authorization_pending", "error_description": "User has yet to authorize device code."}"#;
    "rfc-pend-01", Error, 400, JSON, r#"{"error":"authorization_pending"}"#;
    "msv1-slow-01", Error, 400, JSON, r#"{ "error": "slow_down" }"#;
    "goog-slow-01", Error, 403, JSON_UTF8, "{\n  \"error\": \"slow_down\",\n  \"error_description\": \"Forbidden\"\n}";
    "gh-slow-01", Error, 200, FORM, "error=slow_down&error_description=Too+many+requests+have+been+made+in+the+same+timeframe.&error_uri=https%3A%2F%2Fdocs.github.com&interval=22";
    "gh-slow-02", Error, 200, JSON_UTF8, r#"{"error":"slow_down","error_description":"Too many requests have been made in the same timeframe.","error_uri":"https://docs.github.com","interval":10}"#;
    "auth0-slow", Error, 429, JSON, r#"{"error": "slow_down", "error_description": "You are polling faster than the specified interval of 5 seconds."}"#;
    "msv1-deny-01", Error, 400, JSON, r#"{ "error": "access_denied" }"#;
    "msv2-decl-01", Error, 400, JSON_UTF8, r#"{"error":"authorization_declined","error_description":"AADSTS00000: synthesized fixture - user declined.\r\nTrace ID: 00000000-0000-0000-0000-000000000000\r\nCorrelation ID: 00000000-0000-0000-0000-000000000000\r\nTimestamp: 2022-08-25 09:34:07Z","error_codes":[0],"timestamp":"2022-08-25 09:34:07Z","trace_id":"00000000-0000-0000-0000-000000000000","correlation_id":"00000000-0000-0000-0000-000000000000","error_uri":"https://login.microsoftonline.com/error?code=0"}"#;
    "goog-deny-01", Error, 403, JSON_UTF8, "{\n  \"error\": \"access_denied\",\n  \"error_description\": \"Forbidden\"\n}";
    "gh-deny-01", Error, 200, JSON_UTF8, r#"{"error":"access_denied","error_description":"The authorization request was denied.","error_uri":"https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow"}"#;
    "msv1-exp-01", Error, 400, JSON, r#"{ "error": "code_expired" }"#;
    "msv1-exp-02", Error, 400, JSON_UTF8, r#"{"error":"code_expired","error_description":"AADSTS70019: Verification code expired.\r\nTrace ID: 00000000-0000-0000-0000-000000000000\r\nCorrelation ID: 00000000-0000-0000-0000-000000000000\r\nTimestamp: 2017-06-21 00:00:00Z","error_codes":[70019],"timestamp":"2017-06-21 00:00:00Z","trace_id":"00000000-0000-0000-0000-000000000000","correlation_id":"00000000-0000-0000-0000-000000000000"}"#;
    "msv2-exp-01", Error, 400, JSON_UTF8, r#"{"error":"expired_token","error_description":"AADSTS70020: The provided value for the input parameter 'device_code' is not valid. This device code has expired.\r\nTrace ID: 00000000-0000-0000-0000-000000000000\r\nCorrelation ID: 00000000-0000-0000-0000-000000000000\r\nTimestamp: 2022-11-07 00:00:00Z","error_codes":[70020],"timestamp":"2022-11-07 00:00:00Z","trace_id":"00000000-0000-0000-0000-000000000000","correlation_id":"00000000-0000-0000-0000-000000000000","error_uri":"https://login.microsoftonline.com/error?code=70020"}"#;
    "goog-exp-01", Error, 400, JSON, "{\n  \"error\": \"expired_token\",\n  \"error_description\": \"Bad Request\"\n}";
    "gh-exp-01", Error, 200, JSON_UTF8, r#"{"error":"expired_token","error_description":"This 'device_code' has expired.","error_uri":"https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow"}"#;
    "msv2-client-01", Error, 401, JSON_UTF8, "{\n    \"error\": \"invalid_client\",\n    \"error_description\": \"AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.\\r\\nTrace ID: 0de65102-2fc2-4862-a02e-4c5b6b0f0400\\r\\nCorrelation ID: 8dfeaa3f-40b7-47d7-98b1-88b8458bbfff\\r\\nTimestamp: 2019-05-23 11:50:14Z\",\n    \"error_codes\": [\n        7000218\n    ],\n    \"timestamp\": \"2019-05-23 11:50:14Z\",\n    \"trace_id\": \"0de65102-2fc2-4862-a02e-4c5b6b0f0400\",\n    \"correlation_id\": \"8dfeaa3f-40b7-47d7-98b1-88b8458bbfff\"\n}";
    "keycloak-invalid-grant", Error, 400, JSON, r#"{"error":"invalid_grant","error_description":"Device code not valid"}"#;
    "temp-unavailable", Error, 503, JSON, r#"{"error":"temporarily_unavailable","error_description":"try again later"}"#;
    "msv1-tok-01", Token, 200, JSON, r#"{"token_type":"Bearer","scope":"user_impersonation","expires_in":"3600","expires_on":"1460690464","not_before":"1460686564","resource":"4e725760-015b-4168-8adf-e8329e863974","access_token":"Q29uZ3JhdHVsYXRpb25zLCB5b3UgaGF2ZSBzdWNjZXNzZnVsbHkgZGVjb2RlZCBhIGZha2UgYWNjZXNzIHRva2VuLg==","refresh_token":"Tm93IHlvdSBzdWNjZXNzZnVsbHkgZGVjb2RlZCBhIGZha2UgcmVmcmVzaCB0b2tlbi4=","id_token":"SSBub3RpY2UgeW91J3JlIHN0aWxsIGRlY29kaW5nIGZha2UgdG9rZW5zLiAgVGhpcyBvbmUncyBmb3IgaWRfdG9rZW4u"}"#;
    "msv1-tok-02", Token, 200, JSON, "{\n\t\"access_token\": \"accessToken\",\n\t\"refresh_token\": \"refreshToken\",\n\t\"expires_in\": \"1000\",\n\t\"expires_on\": \"2000\",\n\t\"not_before\": \"3000\",\n\t\"resource\": \"resource\",\n\t\"token_type\": \"type\"\n}";
    "msv2-tok-01", Token, 200, JSON_UTF8, "{\n    \"token_type\": \"Bearer\",\n    \"scope\": \"User.Read profile openid email\",\n    \"expires_in\": 3599,\n    \"access_token\": \"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsIng1dCI6Ik5HVEZ2ZEstZnl0aEV1Q...\",\n    \"refresh_token\": \"AwABAAAAvPM1KaPlrEqdFSBzjqfTGAMxZGUTdM0t4B4...\",\n    \"id_token\": \"eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJhdWQiOiIyZDRkMTFhMi1mODE0LTQ2YTctOD...\"\n}";
    "goog-tok-01", Token, 200, JSON_UTF8, "{\n  \"access_token\": \"1/fFAGRNJru1FTz70BzhT3Zg\",\n  \"expires_in\": 3920,\n  \"scope\": \"openid https://www.googleapis.com/auth/userinfo.profile https://www.googleapis.com/auth/userinfo.email\",\n  \"token_type\": \"Bearer\",\n  \"refresh_token\": \"1/xEoDL4iW3cxlI7yDbSRFYNG01kVKM2C-259HOF2aQbI\"\n}";
    "gh-tok-01", Token, 200, FORM, "access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&token_type=bearer&scope=repo%2Cgist";
    "gh-tok-02", Token, 200, JSON, "{\n \"access_token\": \"gho_16C7e42F292c6912E7710c838347Ae178B4a\",\n  \"token_type\": \"bearer\",\n  \"scope\": \"repo,gist\"\n}";
    "tok-huge-expiry", Token, 200, JSON, r#"{"access_token":"at","token_type":"Bearer","expires_in":18446744073709551615,"scope":["a","b"]}"#;
    "html-502", Other, 502, HTML, "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    "html-503-json-label", Other, 503, JSON, "<!DOCTYPE html><html><body><h1>Service Unavailable</h1></body></html>";
    "text-429", Other, 429, Some("text/plain"), "Too Many Requests";
    "empty-504", Other, 504, None, "";
    "json-array", Other, 200, JSON, "[1,2,3]";
}

/// The fixtures of one kind.
pub fn of(kind: Kind) -> impl Iterator<Item = &'static Fixture> {
    FIXTURES.iter().filter(move |f| f.kind == kind)
}

/// A fixture by name.
pub fn named(name: &str) -> &'static Fixture {
    FIXTURES
        .iter()
        .find(|f| f.name == name)
        .expect("a fixture with this name")
}
