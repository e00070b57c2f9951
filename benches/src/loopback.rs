//! Complete flows over real HTTP to the simulated server on 127.0.0.1, through
//! device-grant's drivers, through the floor and through `oauth2`.
//!
//! - device-grant: its drivers with their preset clients, `device_grant_ureq::agent()`
//!   (ureq 3) and `device_grant_reqwest::client()` (reqwest 0.13 on a current-thread tokio
//!   runtime), as its documentation shows. Whatever those presets cost is device-grant's.
//! - the floor: its own plain client of the same major version with no presets (ureq 3:
//!   `http_status_as_error(false)` and nothing else, so that a pending answer's body can be
//!   read; reqwest 0.13: `Client::new()`), its endpoint URLs parsed once, its own requests
//!   (`post(url).header(accept).header(content-type).send(body)`), status and body read back
//!   and nothing else.
//! - `oauth2` 5: its own integrations on the clients it supports, ureq 2 and reqwest 0.12,
//!   built with redirects off as its documentation asks.
//!
//! The server sends no `interval`; device-grant is configured with a default interval of
//! zero and the floor with the same, `oauth2` gets a sleep that returns at once. So every
//! flow is its requests back to back.

use std::sync::Arc;
use std::time::{Duration, Instant};

use device_grant::{Config, Flow};
use http::header::{ACCEPT, CONTENT_TYPE};

use crate::floor::{self, Answer, Endpoints, To};
use crate::measured::measured_section;
use crate::oauth2_flow;

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

/// The implementations, by the names the `measure` binary takes.
pub const IMPLS: [&str; 6] = [
    "device-grant-ureq",
    "floor-ureq",
    "oauth2-ureq",
    "device-grant-reqwest",
    "floor-reqwest",
    "oauth2-reqwest",
];

/// Where the simulated server is.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its device authorization endpoint.
    pub device: String,
    /// Its token endpoint.
    pub token: String,
    /// The client id it knows.
    pub client_id: String,
}

impl Target {
    /// device-grant's configuration for this server.
    pub fn dg_config(&self, default_interval: Duration) -> Arc<Config> {
        Arc::new(
            Config::builder(&self.client_id)
                .device_endpoint(&self.device)
                .token_endpoint(&self.token)
                .scope(&crate::canned::SCOPES.join(" "))
                .default_interval(default_interval)
                .build()
                .expect("a valid configuration"),
        )
    }

    /// The floor's description of the client; the URLs go to its `send`.
    pub fn endpoints(&self, default_interval: Duration) -> Endpoints {
        Endpoints {
            client_id: self.client_id.clone(),
            scope: crate::canned::SCOPES.join(" "),
            default_interval,
        }
    }
}

/// The floor's plain ureq 3 agent: no presets, only error statuses read as answers.
pub fn floor_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// The floor's URLs for ureq, parsed once.
pub fn floor_uris(target: &Target) -> (http::Uri, http::Uri) {
    (
        target.device.parse().expect("a valid URL"),
        target.token.parse().expect("a valid URL"),
    )
}

/// The floor's `send` over ureq 3.
pub fn floor_ureq_send<'a>(
    agent: &'a ureq::Agent,
    urls: &'a (http::Uri, http::Uri),
) -> impl FnMut(To, &[u8]) -> Result<Answer, ureq::Error> + 'a {
    move |to, body| {
        let url = if to == To::Device { &urls.0 } else { &urls.1 };
        let mut answer = agent
            .post(url.clone())
            .header(ACCEPT, JSON)
            .header(CONTENT_TYPE, FORM)
            .send(body)?;
        Ok(Answer {
            status: answer.status().as_u16(),
            body: answer.body_mut().read_to_vec()?,
        })
    }
}

/// The floor's plain reqwest 0.13 client: the rustls `ring` provider installed (as
/// device-grant-reqwest does) and nothing else.
pub fn floor_client() -> reqwest::Client {
    device_grant_reqwest::install_crypto_provider();
    reqwest::Client::new()
}

/// The floor's URLs for reqwest, parsed once.
pub fn floor_urls(target: &Target) -> (reqwest::Url, reqwest::Url) {
    (
        target.device.parse().expect("a valid URL"),
        target.token.parse().expect("a valid URL"),
    )
}

/// The floor's `send` over reqwest 0.13.
pub async fn floor_reqwest_send(
    client: &reqwest::Client,
    urls: &(reqwest::Url, reqwest::Url),
    to: To,
    body: &[u8],
) -> Result<Answer, reqwest::Error> {
    let url = if to == To::Device { &urls.0 } else { &urls.1 };
    let answer = client
        .post(url.clone())
        .header(ACCEPT, JSON)
        .header(CONTENT_TYPE, FORM)
        .body(body.to_vec())
        .send()
        .await?;
    let status = answer.status().as_u16();
    Ok(Answer {
        status,
        body: answer.bytes().await?.into(),
    })
}

/// A current-thread tokio runtime, as a command-line program would use.
pub fn reqwest_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Runs one warm-up flow (connecting, filling the pool) and then `n` measured flows with
/// `imp`. Returns the CPU time and wall time of the `n` flows.
pub fn run(imp: &str, target: &Target, n: u64) -> (Duration, Duration) {
    let measure = |flow: &mut dyn FnMut()| {
        flow();
        let (cpu, wall) = (crate::cpu::process_cpu(), Instant::now());
        for _ in 0..n {
            measured_section(&mut *flow);
        }
        (crate::cpu::process_cpu() - cpu, wall.elapsed())
    };
    match imp {
        "device-grant-ureq" => {
            let config = target.dg_config(Duration::ZERO);
            let agent = device_grant_ureq::agent();
            measure(&mut || {
                let flow = Flow::device(Arc::clone(&config), Instant::now());
                device_grant_ureq::run(flow, &agent, |_| {}).expect("a token");
            })
        }
        "floor-ureq" => {
            let ep = target.endpoints(Duration::ZERO);
            let agent = floor_agent();
            let urls = floor_uris(target);
            let mut send = floor_ureq_send(&agent, &urls);
            measure(&mut || {
                floor::run(&ep, &mut send, |_| {}, std::thread::sleep).expect("a token");
            })
        }
        "oauth2-ureq" => {
            let client = oauth2_flow::client(&target.client_id, &target.device, &target.token);
            // oauth2's documentation: its ureq 2 integration, redirects off.
            let http = oauth2::ureq::builder().redirects(0).build();
            measure(&mut || {
                let details: oauth2::StandardDeviceAuthorizationResponse = client
                    .exchange_device_code()
                    .add_scopes(oauth2_flow::scopes())
                    .request(&http)
                    .expect("device authorization");
                client
                    .exchange_device_access_token(&details)
                    .request(&http, |_| {}, None)
                    .expect("a token");
            })
        }
        "device-grant-reqwest" => {
            let config = target.dg_config(Duration::ZERO);
            let rt = reqwest_runtime();
            let client = rt
                .block_on(async { device_grant_reqwest::client() })
                .expect("a client");
            measure(&mut || {
                rt.block_on(async {
                    let flow =
                        Flow::device(Arc::clone(&config), tokio::time::Instant::now().into_std());
                    device_grant_reqwest::run(flow, &client, |_| {}).await
                })
                .expect("a token");
            })
        }
        "floor-reqwest" => {
            let ep = target.endpoints(Duration::ZERO);
            let rt = reqwest_runtime();
            let client = rt.block_on(async { floor_client() });
            let urls = floor_urls(target);
            measure(&mut || {
                rt.block_on(floor::run_async(
                    &ep,
                    async |to, body| floor_reqwest_send(&client, &urls, to, body).await,
                    |_| {},
                    async |d| tokio::time::sleep(d).await,
                ))
                .expect("a token");
            })
        }
        "oauth2-reqwest" => {
            let client = oauth2_flow::client(&target.client_id, &target.device, &target.token);
            let rt = reqwest_runtime();
            // oauth2's documentation: its reqwest 0.12 integration, redirects off.
            let http = rt
                .block_on(async {
                    oauth2::reqwest::ClientBuilder::new()
                        .redirect(oauth2::reqwest::redirect::Policy::none())
                        .build()
                })
                .expect("a client");
            measure(&mut || {
                rt.block_on(async {
                    let details: oauth2::StandardDeviceAuthorizationResponse = client
                        .exchange_device_code()
                        .add_scopes(oauth2_flow::scopes())
                        .request_async(&http)
                        .await
                        .expect("device authorization");
                    client
                        .exchange_device_access_token(&details)
                        .request_async(&http, |_| async {}, None)
                        .await
                        .expect("a token");
                })
            })
        }
        other => panic!("unknown implementation {other}"),
    }
}
