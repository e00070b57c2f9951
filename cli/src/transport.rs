//! HTTP: the blocking driver's preset agent, used for the flows and for discovery, trusting
//! the operating system's certificate authorities and those of `--ca-file`.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use device_grant::http::{Request, header};
use device_grant::{Config, Driver, Event, Flow, RefreshToken, Step, TokenResponse};
use device_grant_ureq::{Error, Trust, ureq};

use crate::args::TlsArgs;
use crate::exit::{CliError, Grant};
use crate::{interrupt, tokens, verbose};

/// The TLS settings of every agent of the command, set once from the command line.
static TLS: OnceLock<ureq::tls::TlsConfig> = OnceLock::new();

/// Reads the certificate authorities to trust: the operating system's (the bundled Mozilla
/// roots where the system has none, as in a bare container) and the PEM file of
/// `--ca-file`, which must hold at least one certificate.
pub fn trust(args: &TlsArgs) -> Result<(), CliError> {
    let mut trust = Trust::os().unwrap_or_else(|_| Trust::bundled());
    if let Some(path) = &args.ca_file {
        let pem = std::fs::read(path).map_err(|e| {
            CliError::usage(format!("cannot read --ca-file {}: {e}", path.display()))
        })?;
        trust = trust
            .add_ca_pem(&pem)
            .map_err(|e| CliError::usage(format!("--ca-file {}: {e}", path.display())))?;
    }
    // Set once, before any agent is built.
    let _ = TLS.set(trust.tls_config());
    Ok(())
}

/// The largest discovery document read. Real ones are a few kilobytes.
const METADATA_LIMIT: usize = 256 * 1024;

/// The HTTP client of the whole command.
pub struct Http {
    agent: ureq::Agent,
}

/// An answer to a GET: the status and at most `METADATA_LIMIT + 1` bytes of the body.
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body, possibly cut after the limit.
    pub body: Vec<u8>,
}

impl Answer {
    /// Whether the body was cut because it was over the limit.
    pub fn too_large(&self) -> bool {
        self.body.len() > METADATA_LIMIT
    }
}

impl Http {
    /// The driver's preset agent (no redirects, error statuses as answers, timeouts) with
    /// the trust [`trust`] set up, or the operating system's.
    pub fn new() -> Self {
        let tls = TLS.get_or_init(|| {
            Trust::os()
                .unwrap_or_else(|_| Trust::bundled())
                .tls_config()
        });
        Self {
            agent: device_grant_ureq::agent_config()
                .tls_config(tls.clone())
                .build()
                .new_agent(),
        }
    }

    /// Runs a device flow to the end, reporting its events.
    pub fn device(
        &self,
        config: Config,
        on_event: impl FnMut(&Event),
    ) -> Result<TokenResponse, CliError> {
        let flow = Flow::device(Arc::new(config), Instant::now());
        run_flow(flow, &self.agent, on_event).map_err(|e| tokens::driver_error(&e, Grant::Device))
    }

    /// Runs the refresh-token grant.
    pub fn refresh(
        &self,
        config: Config,
        refresh_token: RefreshToken,
    ) -> Result<TokenResponse, CliError> {
        let flow = Flow::refresh(Arc::new(config), refresh_token, Instant::now());
        run_flow(flow, &self.agent, |_| {}).map_err(|e| tokens::driver_error(&e, Grant::Refresh))
    }

    /// Sends one request with the flows' agent (no redirects, timeouts), reading at most
    /// `body_limit` bytes of the answer.
    pub fn send(
        &self,
        request: Request<Vec<u8>>,
        body_limit: usize,
    ) -> Result<device_grant::http::Response<Vec<u8>>, ureq::Error> {
        device_grant_ureq::send(&self.agent, request, body_limit)
    }

    /// Runs a device flow to the end like [`Http::device`], returning the driver's error
    /// for callers that look into it.
    pub fn device_raw(
        &self,
        config: Config,
        on_event: impl FnMut(&Event),
    ) -> Result<TokenResponse, Error> {
        let flow = Flow::device(Arc::new(config), Instant::now());
        device_grant_ureq::run_with_cancel(flow, &self.agent, &interrupt::handle(), on_event)
    }

    /// GETs a JSON document the way the flows send their requests: no redirects, a timeout,
    /// a capped body.
    pub fn get_json(&self, url: &str) -> Result<Answer, ureq::Error> {
        let request = Request::get(url)
            .header(header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|e| ureq::Error::BadUri(e.to_string()))?;
        let response = verbose::send(&self.agent, request, METADATA_LIMIT)?;
        Ok(Answer {
            status: response.status().as_u16(),
            body: response.into_body(),
        })
    }
}

/// Drives `flow` to its end through `agent`, stopped by Ctrl-C: the blocking driver's own
/// loop, or with `--verbose` the same loop written out here so that each exchange can be
/// logged; like the driver's, it shortens a request's timeouts to the device code's deadline.
pub fn run_flow(
    flow: Flow,
    agent: &ureq::Agent,
    mut on_event: impl FnMut(&Event),
) -> Result<TokenResponse, Error> {
    let cancel = interrupt::handle();
    if !verbose::on() {
        return device_grant_ureq::run_with_cancel(flow, agent, &cancel, on_event);
    }
    let mut driver = Driver::new(flow);
    loop {
        if cancel.is_cancelled() {
            driver.cancel();
        }
        match driver.next(&mut on_event) {
            Step::Send(request) => {
                let time_left = driver.time_left(Instant::now());
                match verbose::send_within(agent, request, driver.flow().body_limit(), time_left) {
                    Ok(response) => driver.answered(response, Instant::now()),
                    Err(error) => {
                        let kind = device_grant_ureq::error_kind(&error);
                        driver.failed(error, kind, Instant::now());
                    }
                }
            }
            Step::SleepUntil(at) => {
                // In slices, so that Ctrl-C is seen within a tenth of a second.
                while !cancel.is_cancelled() {
                    let left = at.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    std::thread::sleep(left.min(std::time::Duration::from_millis(100)));
                }
                driver.woke(Instant::now());
            }
            Step::Done(result) => return result,
        }
    }
}
