//! The futures can move between threads (a multi-threaded runtime, `tokio::spawn`).

use std::time::Instant;

use device_grant_reqwest::device_grant::{Config, Flow, RefreshToken};
use device_grant_reqwest::{authorize, client, refresh, run};

fn assert_send<T: Send>(_: &T) {}

#[test]
fn the_futures_are_send() {
    let config = Config::builder("client")
        .device_endpoint("https://as.example/device")
        .token_endpoint("https://as.example/token")
        .build()
        .unwrap();
    let client = client().unwrap();

    // Checked by the compiler; the futures are never polled.
    let run = run(
        Flow::device(config.clone(), Instant::now()),
        &client,
        |_| {},
    );
    assert_send(&run);
    let authorize = authorize(config.clone(), |_| {});
    assert_send(&authorize);
    let refresh = refresh(config, RefreshToken::new("unused"));
    assert_send(&refresh);
}
