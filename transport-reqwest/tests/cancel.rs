//! Cancelling by dropping the future: nothing keeps running and the server hears no more.

mod common;

use std::time::{Duration, Instant};

use common::{FAST, config, now};
use device_grant_reqwest::device_grant::{Event, Flow};
use device_grant_reqwest::{client, run};
use device_grant_sim::{Dialect, Fault, Referee, Script, Server, ServerConfig};

fn polls(referee: &Referee) -> usize {
    referee.last_flow().map_or(0, |f| referee.polls(f.id).len())
}

/// Waits (boundedly) until the runtime runs no task at all: reqwest's connection tasks end
/// once the client is gone, and this crate spawns none of its own.
async fn until_no_task_is_alive() -> usize {
    let metrics = tokio::runtime::Handle::current().metrics();
    for _ in 0..100 {
        if metrics.num_alive_tasks() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    metrics.num_alive_tasks()
}

#[tokio::test]
async fn dropping_the_future_between_polls_stops_polling() {
    let server = common::server(Script::never());
    let client = client().unwrap();
    let flow = Flow::device(config(&server).build().unwrap(), now());

    let outcome =
        tokio::time::timeout(Duration::from_millis(500), run(flow, &client, |_| {})).await;
    assert!(
        outcome.is_err(),
        "the flow cannot end on its own: {outcome:?}"
    );

    let referee = server.referee();
    let seen = polls(&referee);
    assert!(seen >= 2, "the flow was polling ({seen} polls)");
    // Ten intervals later, still nothing new.
    tokio::time::sleep(FAST * 10).await;
    assert_eq!(polls(&referee), seen);

    drop(client);
    assert_eq!(until_no_task_is_alive().await, 0);
    referee.assert_clean();
}

#[tokio::test]
async fn dropping_the_future_during_a_request_abandons_it() {
    // The first poll gets no answer for a minute.
    let server = common::server(Script::never().fault_at(1, Fault::Stall(Duration::from_secs(60))));
    let client = client().unwrap();
    let flow = Flow::device(config(&server).build().unwrap(), now());
    let started = Instant::now();

    let outcome =
        tokio::time::timeout(Duration::from_millis(500), run(flow, &client, |_| {})).await;
    assert!(outcome.is_err(), "{outcome:?}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "cancelled at once"
    );

    let referee = server.referee();
    assert_eq!(polls(&referee), 1);
    tokio::time::sleep(FAST * 10).await;
    assert_eq!(polls(&referee), 1);

    drop(client);
    assert_eq!(until_no_task_is_alive().await, 0);
}

#[tokio::test]
async fn select_cancels_a_flow_asleep_in_a_long_interval() {
    let server = Server::start(
        ServerConfig::new(Dialect::Rfc8628)
            .interval(Duration::from_secs(60))
            .script(Script::never()),
    )
    .unwrap();
    let client = client().unwrap();
    let flow = Flow::device(config(&server).build().unwrap(), now());
    let (shown_tx, shown_rx) = tokio::sync::oneshot::channel();
    let mut shown_tx = Some(shown_tx);
    let started = Instant::now();

    // Stands for "the user pressed Ctrl-C once the code was on screen".
    tokio::select! {
        result = run(flow, &client, |e| {
            if let (Event::UserCode(_), Some(tx)) = (e, shown_tx.take()) {
                let _ = tx.send(());
            }
        }) => panic!("the flow cannot end within a minute: {result:?}"),
        _ = shown_rx => {}
    }

    assert!(
        started.elapsed() < Duration::from_secs(30),
        "did not wait for the interval"
    );
    assert_eq!(polls(&server.referee()), 0);
    drop(client);
    assert_eq!(until_no_task_is_alive().await, 0);
}
