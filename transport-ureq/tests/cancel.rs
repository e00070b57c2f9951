//! Stopping a run: from another thread while it sleeps, before it starts, from its callback.

mod common;

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::{config, server};
use device_grant_sim::{Dialect, Fault, Script, Server, ServerConfig};
use device_grant_ureq::device_grant::{Event, Flow, FlowError};
use device_grant_ureq::{Cancel, Error, agent, run_with_cancel};

/// Longer than any test may take: a run that ends must have been stopped.
const BOUND: Duration = Duration::from_secs(30);

#[test]
fn cancel_from_another_thread_ends_a_long_wait_promptly() {
    // Ten minutes between polls: only the cancel can end this run within the bound.
    let server = Server::start(
        ServerConfig::new(Dialect::Rfc8628)
            .interval(Duration::from_secs(600))
            .script(Script::never()),
    )
    .unwrap();
    let flow = Flow::device(config(&server).build().unwrap(), Instant::now());
    let cancel = Cancel::new();
    let (prompted, on_prompt) = mpsc::channel();
    let (finished, on_finish) = mpsc::channel();
    {
        let cancel = cancel.clone();
        thread::spawn(move || {
            let result = run_with_cancel(flow, &agent(), &cancel, |e| {
                if let Event::UserCode(_) = e {
                    let _ = prompted.send(());
                }
            });
            let _ = finished.send(result);
        });
    }
    on_prompt
        .recv_timeout(BOUND)
        .expect("the user code was shown");
    // The flow waits one interval before its first poll: give the driver a moment to fall
    // asleep in it, so that the cancel has to wake it.
    thread::sleep(Duration::from_millis(300));
    cancel.cancel();
    // Bounded, so a driver that ignores the cancel fails here instead of hanging the suite.
    let result = on_finish
        .recv_timeout(BOUND)
        .expect("the driver returned after the cancel");

    assert!(
        matches!(result, Err(Error::Flow(FlowError::Cancelled))),
        "{result:?}"
    );
    assert!(cancel.is_cancelled());
    assert_eq!(server.referee().requests().len(), 1, "no poll was sent");
    server.referee().assert_clean();
}

#[test]
fn a_cancelled_handle_stops_the_flow_before_it_sends_anything() {
    let server = server(Script::approve_after_polls(0));
    let cancel = Cancel::new();
    cancel.cancel();
    let flow = Flow::device(config(&server).build().unwrap(), Instant::now());

    let mut events = Vec::new();
    let result = run_with_cancel(flow, &agent(), &cancel, |e| events.push(e.clone()));

    assert!(
        matches!(result, Err(Error::Flow(FlowError::Cancelled))),
        "{result:?}"
    );
    assert!(events.is_empty());
    assert!(server.referee().requests().is_empty());
}

#[test]
fn on_event_can_stop_the_run() {
    let server = server(Script::approve_after_polls(0));
    let cancel = Cancel::new();
    let flow = Flow::device(config(&server).build().unwrap(), Instant::now());

    let result = run_with_cancel(flow, &agent(), &cancel.clone(), |e| {
        if let Event::UserCode(_) = e {
            cancel.cancel();
        }
    });

    assert!(
        matches!(result, Err(Error::Flow(FlowError::Cancelled))),
        "{result:?}"
    );
    // The device authorization only: the poll that would have had the token was not sent.
    assert_eq!(server.referee().requests().len(), 1);
}

#[test]
fn a_cancel_after_a_failed_poll_is_still_a_cancel() {
    let server = server(Script::approve_after_polls(1).fault_at(1, Fault::Reset));
    let cancel = Cancel::new();
    let flow = Flow::device(config(&server).build().unwrap(), Instant::now());

    let result = run_with_cancel(flow, &agent(), &cancel.clone(), |e| {
        if let Event::BackOff { .. } = e {
            cancel.cancel();
        }
    });

    // Not `Error::Transport`: the run ended because it was asked to, not for want of an
    // answer.
    assert!(
        matches!(result, Err(Error::Flow(FlowError::Cancelled))),
        "{result:?}"
    );
    let flow = server.referee().last_flow().unwrap();
    assert_eq!(server.referee().polls(flow.id).len(), 1);
}
