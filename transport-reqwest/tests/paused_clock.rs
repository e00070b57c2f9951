//! A whole fifteen-minute flow on tokio's paused clock, against a real server on a real socket.

use std::time::Duration;

use device_grant_reqwest::device_grant::{Config, Event, Flow, FlowError};
use device_grant_reqwest::{ClientBuilder, Error, run};
use device_grant_sim::{Dialect, Script, Server, ServerConfig};

const INTERVAL: Duration = Duration::from_secs(5);
const EXPIRES_IN: Duration = Duration::from_secs(900);

#[tokio::test(start_paused = true)]
async fn an_unapproved_code_expires_after_fifteen_virtual_minutes() {
    // The server keeps the wall clock: it must neither expire the code nor call the polls,
    // which come microseconds apart in real time, early.
    let server = Server::start(
        ServerConfig::new(Dialect::Rfc8628)
            .interval(INTERVAL)
            .expires_in(EXPIRES_IN)
            .enforce_interval(false)
            .script(Script::never()),
    )
    .unwrap();
    let config = Config::builder(server.client_id())
        .device_endpoint(server.device_endpoint())
        .token_endpoint(server.token_endpoint())
        .build()
        .unwrap();
    // No timeouts and no idle-pool timer: the paused clock would jump to them while a request
    // waits on the socket.
    let client = ClientBuilder::from_reqwest(reqwest::Client::builder())
        .pool_idle_timeout(None)
        .build()
        .unwrap();

    let real_start = std::time::Instant::now();
    let virtual_start = tokio::time::Instant::now();
    let mut events = Vec::new();
    let flow = Flow::device(config, virtual_start.into_std());
    let result = run(flow, &client, |e| events.push(e.clone())).await;

    assert!(
        matches!(result, Err(Error::Flow(FlowError::Expired(None)))),
        "the client's own deadline ends it: {result:?}"
    );
    assert!(virtual_start.elapsed() >= EXPIRES_IN);
    assert!(
        real_start.elapsed() < Duration::from_secs(60),
        "no real waiting"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::UserCode(_)))
            .count(),
        1
    );
    assert!(
        events.len() == 1,
        "no slow_down or back-off on the way: {events:?}"
    );

    // One poll every five seconds, the first after five, none at the deadline itself: at most
    // 900 / 5 - 1 = 179. A few fewer if the clock moved while requests were out.
    let referee = server.referee();
    let flow = referee.last_flow().unwrap();
    let polls = referee.polls(flow.id).len() as u64;
    let most = EXPIRES_IN.as_secs() / INTERVAL.as_secs() - 1;
    assert!((most - 5..=most).contains(&polls), "{polls} polls");
}
