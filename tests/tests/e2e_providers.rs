//! The second round of providers (AWS IAM Identity Center, Twitch, Login with Amazon,
//! Salesforce, Yandex, Zoho) through both drivers over real sockets against the simulator's
//! dialects: approve after pending, slow_down, deny, expire, refresh, and each dialect's own
//! quirk. The core's presets give the dialect; only the endpoints point at the simulator.

mod support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use device_grant::{ConfigBuilder, Flow, FlowError, Preset};
use device_grant_sim::{Dialect, Script, Server, ServerConfig};
use support::drive::{self, TRANSPORTS, Transport};

const INTERVAL: Duration = Duration::from_millis(50);
const START_URL: &str = "https://my-sso-portal.awsapps.com/start";

/// A minimal HTTP/1.1 POST of JSON over a plain socket, for AWS's client registration
/// (the drivers run flows; registering is the caller's step).
fn post_json(url: &str, body: &str) -> (u16, serde_json::Value) {
    let rest = url.strip_prefix("http://").expect("a loopback URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let json = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(json).unwrap_or_default())
}

/// Registers a client the way the CLI does: `{clientName, clientType, scopes}`.
fn register(server: &Server) -> (String, String, u64) {
    let url = format!(
        "{}/client/register",
        server.verification_uri().trim_end_matches("/device")
    );
    let (status, body) = post_json(
        &url,
        r#"{"clientName":"device-grant-test","clientType":"public","scopes":["sso:account:access"]}"#,
    );
    assert_eq!(status, 200, "{body}");
    (
        body["clientId"].as_str().unwrap().to_owned(),
        body["clientSecret"].as_str().unwrap().to_owned(),
        body["clientSecretExpiresAt"].as_u64().unwrap(),
    )
}

fn preset(dialect: Dialect) -> &'static Preset {
    match dialect {
        Dialect::AwsSso => Preset::AWS_SSO,
        Dialect::Twitch => Preset::TWITCH,
        Dialect::Amazon => Preset::AMAZON,
        Dialect::Salesforce => Preset::SALESFORCE,
        Dialect::Yandex => Preset::YANDEX,
        Dialect::Zoho => Preset::ZOHO,
        other => panic!("not a provider of this suite: {other:?}"),
    }
}

/// The preset's configuration, pointed at the simulator.
fn config_for(server: &Server) -> ConfigBuilder {
    let dialect = server.dialect();
    let mut b = if dialect == Dialect::AwsSso {
        let (id, secret, _) = register(server);
        ConfigBuilder::preset(preset(dialect), None, id)
            .client_secret(secret)
            .param("startUrl", START_URL)
    } else {
        let mut b = ConfigBuilder::preset(preset(dialect), None, server.client_id());
        if let Some(secret) = server.client_secret() {
            b = b.client_secret(secret);
        }
        b
    };
    b = match dialect {
        Dialect::Twitch => b.scope("channel:read:subscriptions user:read:email"),
        Dialect::Amazon => b.scope("profile"),
        Dialect::Salesforce => b.scope("refresh_token web api"),
        Dialect::Zoho => b.scope("ZohoCRM.modules.ALL aaaserver.profile.READ"),
        _ => b,
    };
    b.device_endpoint(server.device_endpoint())
        .token_endpoint(server.token_endpoint())
}

fn start(dialect: Dialect, config: ServerConfig) -> Server {
    let _ = dialect;
    Server::start(config.interval(INTERVAL)).unwrap()
}

fn device_flow(server: &Server) -> Flow {
    Flow::device(config_for(server).build().unwrap(), Instant::now())
}

/// Runs `f` for both drivers and every dialect of this suite, on threads.
fn for_each_case(f: impl Fn(Transport, Dialect) + Send + Sync + 'static) {
    drive::for_each_case_of(Dialect::MORE, f);
}

/// The decoded parameters of a recorded request: its form or JSON body, or its query.
fn params(r: &device_grant_sim::RecordedRequest) -> Vec<(String, String)> {
    r.form.clone()
}

#[test]
fn approve_after_pending_polls() {
    for_each_case(|transport, dialect| {
        let server = start(
            dialect,
            ServerConfig::new(dialect).script(Script::approve_after_polls(2)),
        );
        let outcome = drive::run(transport, device_flow(&server), |_| {});
        let token = outcome.token();
        assert!(!token.access_token().secret().is_empty());
        assert!(token.token_type().eq_ignore_ascii_case("bearer"));
        let referee = server.referee();
        let flow = referee.last_flow().unwrap();
        assert_eq!(
            referee.polls(flow.id).len(),
            3,
            "two pending answers, then the token"
        );
        referee.assert_clean();
        if transport == Transport::Ureq {
            // The exact requests, for the record (cargo test -- --nocapture).
            for r in referee.requests() {
                println!("{dialect:?}: {} {} {:?}", r.method, r.target, params(&r));
            }
        }
    });
}

#[test]
fn slow_down_lengthens_the_interval() {
    for_each_case(|transport, dialect| {
        let server = start(
            dialect,
            ServerConfig::new(dialect).script(Script::approve_after_polls(2).slow_down_at(1, None)),
        );
        let outcome = drive::run(transport, device_flow(&server), |_| {});
        outcome.token();
        assert_eq!(
            outcome.slow_downs(),
            vec![INTERVAL + Duration::from_secs(5)]
        );
        server.referee().assert_clean();
    });
}

#[test]
fn denied_ends_the_flow() {
    for_each_case(|transport, dialect| {
        let server = start(
            dialect,
            ServerConfig::new(dialect).script(Script::deny_after_polls(1)),
        );
        let outcome = drive::run(transport, device_flow(&server), |_| {});
        let FlowError::Denied(e) = outcome.err() else {
            panic!("{:?}", outcome.err())
        };
        assert_eq!(e.error(), "access_denied");
        server.referee().assert_clean();
    });
}

#[test]
fn expired_in_each_providers_words() {
    for_each_case(|transport, dialect| {
        let server = start(
            dialect,
            ServerConfig::new(dialect).script(Script::expire_after_polls(1)),
        );
        let outcome = drive::run(transport, device_flow(&server), |_| {});
        let FlowError::Expired(Some(e)) = outcome.err() else {
            panic!("{:?}", outcome.err())
        };
        let word = match dialect {
            Dialect::Twitch => "invalid device code",
            Dialect::Zoho => "expired",
            _ => "expired_token",
        };
        assert_eq!(e.error(), word, "the provider's word is kept");
        server.referee().assert_clean();
    });
}

#[test]
fn refresh() {
    for_each_case(|transport, dialect| {
        let server = start(
            dialect,
            ServerConfig::new(dialect).script(Script::approve_after_polls(0)),
        );
        let config = config_for(&server).build().unwrap();
        let first = drive::run(
            transport,
            Flow::device(config.clone(), Instant::now()),
            |_| {},
        );
        let old = first
            .token()
            .refresh_token()
            .expect("a refresh token")
            .clone();
        let refreshed = drive::run(
            transport,
            Flow::refresh(config, old.clone(), Instant::now()),
            |_| {},
        );
        let token = refreshed.token();
        assert_ne!(token.access_token(), first.token().access_token());
        assert_ne!(token.refresh_token(), Some(&old), "rotated");
        let referee = server.referee();
        let last = referee.requests().last().unwrap().clone();
        // AWS's `grantType` reads as `grant_type` in the simulator.
        assert!(params(&last).contains(&("grant_type".to_owned(), "refresh_token".to_owned())));
        referee.assert_clean();
    });
}

#[test]
fn aws_json_camel_case_registration_expiry_and_region() {
    for transport in TRANSPORTS {
        // The requests are JSON with camelCase members, the registration's secret in each.
        let server = start(
            Dialect::AwsSso,
            ServerConfig::new(Dialect::AwsSso).script(Script::approve_after_polls(0)),
        );
        let outcome = drive::run(transport, device_flow(&server), |_| {});
        outcome.token();
        let referee = server.referee();
        for r in referee
            .requests()
            .iter()
            .filter(|r| r.target != "/client/register")
        {
            let ct = r.headers.iter().find(|(k, _)| k == "content-type").unwrap();
            assert_eq!(ct.1, "application/json");
            let names: Vec<&str> = r.form.iter().map(|(k, _)| k.as_str()).collect();
            assert!(
                names.contains(&"client_id") && names.contains(&"client_secret"),
                "{names:?}"
            );
        }
        let device = &referee.requests()[1];
        assert!(
            device
                .form
                .contains(&("start_url".to_owned(), START_URL.to_owned()))
        );
        assert!(
            !device.form.iter().any(|(k, _)| k == "scope"),
            "scopes belong to the registration"
        );
        referee.assert_clean();

        // A registration that expired: the device request is refused with invalid_client.
        let server = start(
            Dialect::AwsSso,
            ServerConfig::new(Dialect::AwsSso).registration_lifetime(Duration::from_secs(1)),
        );
        let (id, secret, expires_at) = register(&server);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(
            expires_at <= now + 1,
            "the registration says when it expires"
        );
        std::thread::sleep(Duration::from_millis(2100));
        let config = ConfigBuilder::preset(Preset::AWS_SSO, None, id)
            .client_secret(secret)
            .param("startUrl", START_URL)
            .device_endpoint(server.device_endpoint())
            .token_endpoint(server.token_endpoint())
            .build()
            .unwrap();
        let outcome = drive::run(transport, Flow::device(config, Instant::now()), |_| {});
        let FlowError::OAuth(e) = outcome.err() else {
            panic!("{:?}", outcome.err())
        };
        assert_eq!((e.error(), e.status()), ("invalid_client", 401));

        // The start URL lives in another region: the error names it.
        let server = start(
            Dialect::AwsSso,
            ServerConfig::new(Dialect::AwsSso).home_region("eu-west-1"),
        );
        let outcome = drive::run(transport, device_flow(&server), |_| {});
        let FlowError::WrongRegion { region, .. } = outcome.err() else {
            panic!("{:?}", outcome.err())
        };
        assert_eq!(region, "eu-west-1");
        let shown = outcome.err().to_string();
        assert!(shown.contains("region eu-west-1"), "{shown}");
    }
}

#[test]
fn twitch_message_errors_and_array_scopes() {
    for transport in TRANSPORTS {
        let server = start(
            Dialect::Twitch,
            ServerConfig::new(Dialect::Twitch).script(Script::approve_after_polls(1)),
        );
        let outcome = drive::run(transport, device_flow(&server), |_| {});
        // A pending answer without `error` was read as pending, not as an invalid response.
        let token = outcome.token();
        assert_eq!(
            token.scopes().unwrap(),
            ["channel:read:subscriptions", "user:read:email"],
            "the JSON array of scopes"
        );
        let referee = server.referee();
        let polls = referee.polls(referee.last_flow().unwrap().id);
        for p in &polls {
            assert!(
                p.form.iter().any(|(k, _)| k == "scopes"),
                "scopes sent again on polls"
            );
        }
        assert!(
            referee.requests()[0]
                .form
                .iter()
                .any(|(k, _)| k == "scopes")
        );
        referee.assert_clean();
    }
}

#[test]
fn amazon_echoes_the_user_code() {
    for transport in TRANSPORTS {
        let server = start(
            Dialect::Amazon,
            ServerConfig::new(Dialect::Amazon).script(Script::approve_after_polls(1)),
        );
        let outcome = drive::run(transport, device_flow(&server), |_| {});
        outcome.token();
        let user_code = outcome.prompt().user_code().to_owned();
        let referee = server.referee();
        assert!(
            referee.requests()[0]
                .form
                .contains(&("response_type".into(), "device_code".into()))
        );
        for p in referee.polls(referee.last_flow().unwrap().id) {
            assert!(p.form.contains(&("user_code".into(), user_code.clone())));
            assert!(
                p.form
                    .contains(&("grant_type".into(), "device_code".into()))
            );
        }
        referee.assert_clean();
    }
}

#[test]
fn salesforce_one_endpoint_and_its_grant_name() {
    for transport in TRANSPORTS {
        let server = start(
            Dialect::Salesforce,
            ServerConfig::new(Dialect::Salesforce).script(Script::approve_after_polls(1)),
        );
        assert_eq!(server.device_endpoint(), server.token_endpoint());
        let outcome = drive::run(transport, device_flow(&server), |_| {});
        let token = outcome.token();
        assert_eq!(
            token.extra()["instance_url"],
            "https://example.my.salesforce.com"
        );
        // No expires_in was sent: the client-side cap of ten minutes applies.
        assert_eq!(outcome.prompt().expires_in(), Duration::from_secs(600));
        let referee = server.referee();
        for p in referee.polls(referee.last_flow().unwrap().id) {
            assert!(p.form.contains(&("grant_type".into(), "device".into())));
            assert!(p.form.iter().any(|(k, _)| k == "code"));
        }
        referee.assert_clean();
    }
}

#[test]
fn zoho_query_parameters_and_other_dc() {
    for transport in TRANSPORTS {
        let server = start(
            Dialect::Zoho,
            ServerConfig::new(Dialect::Zoho)
                .user_location("eu")
                .script(Script::approve_after_polls(2)),
        );
        let outcome = drive::run(transport, device_flow(&server), |_| {});
        outcome.token();
        let referee = server.referee();
        let targets: Vec<String> = referee
            .requests()
            .iter()
            .map(|r| r.target.clone())
            .collect();
        let device = &referee.requests()[0];
        assert!(
            device.target.contains("grant_type=device_request"),
            "{}",
            device.target
        );
        assert!(
            device
                .target
                .contains("scope=ZohoCRM.modules.ALL%2Caaaserver.profile.READ")
        );
        assert!(device.target.contains("access_type=offline"));
        // The first poll met other_dc; the client asked the configured server's
        // /oauth/serverinfo, then polled the EU data centre it named; the host in the error
        // body was never used.
        assert!(
            targets[1].starts_with("/oauth/v3/device/token?"),
            "{targets:?}"
        );
        assert_eq!(targets[2], "/oauth/serverinfo");
        assert!(
            targets[3..]
                .iter()
                .all(|t| t.starts_with("/eu/oauth/v3/device/token?")),
            "{targets:?}"
        );
        assert!(!targets.iter().any(|t| t.contains("attacker")));
        referee.assert_clean();
    }
}
