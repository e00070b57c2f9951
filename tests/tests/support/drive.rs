//! Runs a flow through either driver, so every scenario is written once for both.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use device_grant::{Config, ConfigBuilder, Event, Flow, FlowError, Prompt, TokenResponse};
use device_grant_sim::{Dialect, Server};

/// The two drivers under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Ureq,
    Reqwest,
}

pub const TRANSPORTS: [Transport; 2] = [Transport::Ureq, Transport::Reqwest];

/// What a run produced: the flow's result, whether the driver kept the HTTP client's error,
/// and every event.
#[derive(Debug)]
pub struct Outcome {
    pub result: Result<TokenResponse, FlowError>,
    pub client_error: bool,
    pub events: Vec<Event>,
}

impl Outcome {
    pub fn token(&self) -> &TokenResponse {
        match &self.result {
            Ok(t) => t,
            Err(e) => panic!("the flow failed: {e}"),
        }
    }
    pub fn err(&self) -> &FlowError {
        self.result
            .as_ref()
            .expect_err("the flow should have failed")
    }
    pub fn prompt(&self) -> &Prompt {
        self.events
            .iter()
            .find_map(|e| match e {
                Event::UserCode(p) => Some(p),
                _ => None,
            })
            .expect("a user code was shown")
    }
    pub fn slow_downs(&self) -> Vec<Duration> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::SlowDown { interval } => Some(*interval),
                _ => None,
            })
            .collect()
    }
    pub fn back_offs(&self) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e, Event::BackOff { .. }))
            .count()
    }
}

/// The request timeout of the drivers in these suites: short, so a stalled server is a
/// time-out quickly.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs `flow` to its end through `transport`, calling `on_prompt` with the user code.
pub fn run(transport: Transport, flow: Flow, on_prompt: impl FnMut(&Prompt) + Send) -> Outcome {
    let mut on_prompt = on_prompt;
    run_with_events(transport, flow, move |e| {
        if let Event::UserCode(p) = e {
            on_prompt(p);
        }
    })
}

/// Runs `flow` to its end through `transport`, calling `on_event` with every event.
pub fn run_with_events(
    transport: Transport,
    flow: Flow,
    on_event: impl FnMut(&Event) + Send,
) -> Outcome {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let mut each = on_event;
    let on_event = move |e: &Event| {
        each(e);
        seen.lock().unwrap().push(e.clone());
    };
    let (result, client_error) = match transport {
        Transport::Ureq => {
            let agent = device_grant_ureq::agent_config()
                .timeout_global(Some(REQUEST_TIMEOUT))
                .build()
                .new_agent();
            match device_grant_ureq::run(flow, &agent, on_event) {
                Ok(t) => (Ok(t), false),
                Err(e) => (
                    Err(e
                        .flow_error()
                        .cloned()
                        .unwrap_or_else(|| panic!("no flow error in {e}"))),
                    e.client_error().is_some(),
                ),
            }
        }
        Transport::Reqwest => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let client = device_grant_reqwest::client_builder()
                .timeout(REQUEST_TIMEOUT)
                .build()
                .unwrap();
            match runtime.block_on(device_grant_reqwest::run(flow, &client, on_event)) {
                Ok(t) => (Ok(t), false),
                Err(e) => (
                    Err(e
                        .flow_error()
                        .cloned()
                        .unwrap_or_else(|| panic!("no flow error in {e}"))),
                    e.client_error().is_some(),
                ),
            }
        }
    };
    let events = std::mem::take(&mut *events.lock().unwrap());
    Outcome {
        result,
        client_error,
        events,
    }
}

/// A client configuration matching the simulated server: the provider preset of its dialect,
/// pointed at its endpoints.
pub fn config_for(server: &Server) -> ConfigBuilder {
    let id = server.client_id().to_owned();
    let builder = match server.dialect() {
        Dialect::Rfc8628 => Config::builder(id).scope("openid offline_access"),
        Dialect::AzureAdV1 => {
            Config::azure_ad_v1("common", id, "https://management.core.windows.net/")
        }
        Dialect::MicrosoftV2 => Config::microsoft("common", id).scope("User.Read offline_access"),
        Dialect::Google => Config::google(id, server.client_secret().expect("google has a secret"))
            .scope("openid email"),
        Dialect::GitHub => Config::github(id).scope("repo gist"),
        Dialect::Auth0 => Config::builder(id)
            .scope("openid offline_access")
            .param("audience", "https://api.example.com"),
        other => panic!("no preset for {other:?}"),
    };
    builder
        .device_endpoint(server.device_endpoint())
        .token_endpoint(server.token_endpoint())
}

pub fn device_flow(server: &Server) -> Flow {
    Flow::device(
        config_for(server).build().unwrap(),
        std::time::Instant::now(),
    )
}

/// Runs `f` for every transport and dialect at once, on threads, so that scenarios which wait
/// (a `slow_down` costs five seconds) overlap. Panics name the case that failed.
pub fn for_each_case(f: impl Fn(Transport, Dialect) + Send + Sync + 'static) {
    for_each_case_of(Dialect::ALL, f);
}

/// [`for_each_case`] over `dialects` instead of [`Dialect::ALL`].
pub fn for_each_case_of<const N: usize>(
    dialects: [Dialect; N],
    f: impl Fn(Transport, Dialect) + Send + Sync + 'static,
) {
    let f = Arc::new(f);
    let handles: Vec<_> = TRANSPORTS
        .into_iter()
        .flat_map(|t| dialects.into_iter().map(move |d| (t, d)))
        .map(|(t, d)| {
            let f = f.clone();
            (
                format!("{t:?} x {d:?}"),
                std::thread::spawn(move || f(t, d)),
            )
        })
        .collect();
    let failed: Vec<String> = handles
        .into_iter()
        .filter_map(|(name, h)| h.join().err().map(|_| name))
        .collect();
    assert!(
        failed.is_empty(),
        "failed cases (see the panics above): {failed:?}"
    );
}
