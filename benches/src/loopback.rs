//! Complete flows over real HTTP to the simulated server on 127.0.0.1, through
//! device-grant's drivers, through the floor and through `oauth2`, each on the same HTTP
//! client: ureq 3 (blocking) or reqwest 0.13 (async, on a current-thread tokio runtime).
//!
//! Every implementation gets the same client: device-grant-ureq's preset `agent()` (no
//! redirects, error statuses as answers, timeouts) or device-grant-reqwest's preset
//! `client()`; the floor and `oauth2` send through it directly.
//!
//! The server sends no `interval`; device-grant is configured with a default interval of
//! zero and the floor with the same, `oauth2` gets a sleep that returns at once. So every
//! flow is its requests back to back.

use std::sync::Arc;
use std::time::{Duration, Instant};

use device_grant::{Config, Flow};
use http::{Response, Uri};
use oauth2::{HttpRequest, HttpResponse};

use crate::floor::{self, Endpoints};
use crate::measured::measured_section;
use crate::oauth2_flow;

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
    fn config(&self) -> Arc<Config> {
        Arc::new(
            Config::builder(&self.client_id)
                .device_endpoint(&self.device)
                .token_endpoint(&self.token)
                .scope(&crate::canned::SCOPES.join(" "))
                .default_interval(Duration::ZERO)
                .build()
                .expect("a valid configuration"),
        )
    }

    fn endpoints(&self) -> Endpoints {
        Endpoints {
            device: self.device.parse::<Uri>().expect("a valid URI"),
            token: self.token.parse::<Uri>().expect("a valid URI"),
            client_id: self.client_id.clone(),
            scope: crate::canned::SCOPES.join(" "),
            default_interval: Duration::ZERO,
        }
    }
}

fn ureq_send(
    agent: &ureq::Agent,
    request: http::Request<Vec<u8>>,
) -> Result<Response<Vec<u8>>, ureq::Error> {
    let (parts, mut body) = agent.run(request)?.into_parts();
    let bytes = body.read_to_vec()?;
    Ok(Response::from_parts(parts, bytes))
}

async fn reqwest_send(
    client: &reqwest::Client,
    request: http::Request<Vec<u8>>,
) -> Result<Response<Vec<u8>>, reqwest::Error> {
    let response = client.execute(reqwest::Request::try_from(request)?).await?;
    let mut out = Response::new(Vec::new());
    *out.status_mut() = response.status();
    *out.body_mut() = response.bytes().await?.into();
    Ok(out)
}

fn reqwest_runtime() -> tokio::runtime::Runtime {
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
            let config = target.config();
            let agent = device_grant_ureq::agent();
            measure(&mut || {
                let flow = Flow::device(Arc::clone(&config), Instant::now());
                device_grant_ureq::run(flow, &agent, |_| {}).expect("a token");
            })
        }
        "floor-ureq" => {
            let ep = target.endpoints();
            let agent = device_grant_ureq::agent();
            measure(&mut || {
                floor::run(&ep, |r| ureq_send(&agent, r), std::thread::sleep).expect("a token");
            })
        }
        "oauth2-ureq" => {
            let client = oauth2_flow::client(&target.client_id, &target.device, &target.token);
            let agent = device_grant_ureq::agent();
            let http =
                |r: HttpRequest| -> Result<HttpResponse, ureq::Error> { ureq_send(&agent, r) };
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
            let config = target.config();
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
            let ep = target.endpoints();
            let rt = reqwest_runtime();
            let client = rt
                .block_on(async { device_grant_reqwest::client() })
                .expect("a client");
            measure(&mut || {
                rt.block_on(floor::run_async(
                    &ep,
                    async |r| reqwest_send(&client, r).await,
                    async |d| tokio::time::sleep(d).await,
                ))
                .expect("a token");
            })
        }
        "oauth2-reqwest" => {
            let client = oauth2_flow::client(&target.client_id, &target.device, &target.token);
            let rt = reqwest_runtime();
            let http_client = rt
                .block_on(async { device_grant_reqwest::client() })
                .expect("a client");
            let http = |r: HttpRequest| reqwest_send(&http_client, r);
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
