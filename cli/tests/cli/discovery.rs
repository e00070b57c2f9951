//! `login --issuer`: endpoints from the server's metadata.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use device_grant_sim::{Dialect, Ending, RequestKind};

use crate::harness::{bin, run, start};

#[test]
fn openid_configuration_is_read_first() {
    let server = start(Dialect::Rfc8628);
    run(bin().args([
        "login",
        "--issuer",
        server.issuer(),
        "--client-id",
        server.client_id(),
    ]))
    .expect(0);
    let requests = server.referee().requests();
    assert_eq!(requests[0].kind, RequestKind::Discovery);
    assert_eq!(requests[0].path(), "/.well-known/openid-configuration");
    // One document was enough.
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.kind == RequestKind::Discovery)
            .count(),
        1
    );
    assert_eq!(
        server.referee().last_flow().and_then(|f| f.ending),
        Some(Ending::Succeeded)
    );
}

#[test]
fn falls_back_to_rfc8414_metadata() {
    let server = start(Dialect::Rfc8628);
    let device = server.device_endpoint();
    let token = server.token_endpoint();
    let meta = MetadataServer::start(2, move |base, path| match path {
        "/.well-known/oauth-authorization-server" => (
            200,
            format!(
                r#"{{"issuer":"{base}","device_authorization_endpoint":"{device}","token_endpoint":"{token}"}}"#
            ),
        ),
        _ => (404, "{}".to_owned()),
    });
    run(bin().args([
        "login",
        "--issuer",
        &meta.base,
        "--client-id",
        server.client_id(),
    ]))
    .expect(0);
    assert_eq!(
        meta.finish(),
        [
            "/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server"
        ]
    );
    assert_eq!(
        server.referee().last_flow().and_then(|f| f.ending),
        Some(Ending::Succeeded)
    );
}

#[test]
fn metadata_for_another_issuer_is_refused() {
    let meta = MetadataServer::start(1, |_, _| {
        (
            200,
            r#"{"issuer":"https://elsewhere.example","device_authorization_endpoint":"https://elsewhere.example/d","token_endpoint":"https://elsewhere.example/t"}"#.to_owned(),
        )
    });
    let out = run(bin().args(["login", "--issuer", &meta.base, "--client-id", "c"])).expect(5);
    assert!(out.stderr.contains("names the issuer"), "{}", out.stderr);
    assert_eq!(meta.finish().len(), 1);
}

#[test]
fn no_metadata_names_both_locations() {
    let meta = MetadataServer::start(2, |_, _| (404, "{}".to_owned()));
    let out = run(bin().args(["login", "--issuer", &meta.base, "--client-id", "c"])).expect(5);
    assert!(
        out.stderr.contains("openid-configuration"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("oauth-authorization-server"));
    assert!(out.stderr.contains("--device-endpoint"));
    meta.finish();
}

#[test]
fn a_server_without_the_device_flow_is_explained() {
    let meta = MetadataServer::start(1, |base, _| {
        (
            200,
            format!(r#"{{"issuer":"{base}","token_endpoint":"{base}/token"}}"#),
        )
    });
    let out = run(bin().args(["login", "--issuer", &meta.base, "--client-id", "c"])).expect(2);
    assert!(
        out.stderr.contains("no device_authorization_endpoint"),
        "{}",
        out.stderr
    );
    meta.finish();
}

/// A metadata server that answers `count` GET requests with `answer(base, path)` and records
/// the paths. Needed because the simulated server serves both documents.
struct MetadataServer {
    base: String,
    paths: Arc<Mutex<Vec<String>>>,
    thread: JoinHandle<()>,
}

impl MetadataServer {
    fn start(count: usize, answer: impl Fn(&str, &str) -> (u16, String) + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        listener.set_nonblocking(true).expect("nonblocking");
        let paths = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&paths);
        let own = base.clone();
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(30);
            let mut served = 0;
            while served < count && Instant::now() < deadline {
                let Ok((mut stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                stream.set_nonblocking(false).expect("blocking");
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .expect("timeout");
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head);
                let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
                let (status, body) = answer(&own, &path);
                seen.lock().expect("lock").push(path);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                served += 1;
            }
        });
        Self {
            base,
            paths,
            thread,
        }
    }

    /// Waits for the server thread and returns the paths requested, in order.
    fn finish(self) -> Vec<String> {
        self.thread.join().expect("metadata server thread");
        self.paths.lock().expect("lock").clone()
    }
}
