//! Small servers on 127.0.0.1 for answers the simulator does not give: a server that answers
//! each path with fixed text whatever the request (hostile text, bad URIs), over plain TCP or
//! any stream wrapped around it (TLS), and a listener that only counts who connects (a
//! proxy that must see nothing).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A fixed answer.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The body, sent as `application/json`.
    pub body: String,
}

impl Answer {
    /// A JSON answer.
    pub fn json(status: u16, body: serde_json::Value) -> Answer {
        Answer {
            status,
            body: body.to_string(),
        }
    }
}

/// A stream a connection is served over.
pub trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// Turns an accepted connection into the stream to serve (a TLS session, say), or `None` to
/// drop it.
pub type Wrap = Box<dyn Fn(TcpStream) -> Option<Box<dyn Stream>> + Send>;

/// A server answering each path with its fixed answer, one connection at a time, each closed
/// after one answer. Stops when dropped.
pub struct Canned {
    addr: SocketAddr,
    scheme: &'static str,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl Canned {
    /// Plain http.
    pub fn start(routes: Vec<(&str, Answer)>) -> Canned {
        Canned::start_with("http", routes, Box::new(|s| Some(Box::new(s))))
    }

    /// Over the streams `wrap` makes (`scheme` names them in URLs).
    pub fn start_with(scheme: &'static str, routes: Vec<(&str, Answer)>, wrap: Wrap) -> Canned {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let routes: Vec<(String, Answer)> =
            routes.into_iter().map(|(p, a)| (p.to_owned(), a)).collect();
        let thread = {
            let (stop, requests) = (stop.clone(), requests.clone());
            std::thread::spawn(move || {
                // Bounded: no test needs more connections than this.
                for conn in listener.incoming().take(1_000) {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                    let _ = conn.set_write_timeout(Some(Duration::from_secs(5)));
                    if let Some(stream) = wrap(conn) {
                        serve(stream, &routes, &requests);
                    }
                }
            })
        };
        Canned {
            addr,
            scheme,
            stop,
            requests,
            thread: Some(thread),
        }
    }

    /// `scheme://127.0.0.1:port` and `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.addr)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Each request's method and path, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("not poisoned").clone()
    }
}

impl Drop for Canned {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: Box<dyn Stream>, routes: &[(String, Answer)], log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("").to_owned();
    log.lock()
        .expect("not poisoned")
        .push(format!("{method} {path}"));
    let mut length = 0usize;
    for _ in 0..100 {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length.min(1 << 20)];
    let _ = reader.read_exact(&mut body);
    let answer = routes
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, a)| a.clone())
        .unwrap_or(Answer {
            status: 404,
            body: r#"{"error":"not_found"}"#.to_owned(),
        });
    let head = format!(
        "HTTP/1.1 {} Canned\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        answer.status,
        answer.body.len()
    );
    let stream = reader.get_mut();
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(answer.body.as_bytes());
    let _ = stream.flush();
}

/// A listener that counts connections and closes each at once: set as a proxy, it must see
/// nothing for loopback endpoints. Stops when dropped.
pub struct Tap {
    addr: SocketAddr,
    seen: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Tap {
    /// Listens on 127.0.0.1.
    pub fn start() -> Tap {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let seen = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (seen, stop) = (seen.clone(), stop.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming().take(1_000) {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if conn.is_ok() {
                        seen.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        };
        Tap {
            addr,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// `scheme://127.0.0.1:port`.
    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}", self.addr)
    }

    /// How many connections it has seen.
    pub fn seen(&self) -> usize {
        self.seen.load(Ordering::SeqCst)
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A certificate authority made at run time, and an https [`Canned`] server on 127.0.0.1
/// whose certificate (for `127.0.0.1` and `localhost`) it signed.
pub struct PrivateCa {
    /// The authority's certificate, PEM.
    pub ca_pem: String,
    /// The server.
    pub server: Canned,
}

impl PrivateCa {
    /// A new authority and a server answering `routes`.
    pub fn serving(routes: Vec<(&str, Answer)>) -> PrivateCa {
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "device-grant test CA");
        let key = rcgen::KeyPair::generate().expect("CA key");
        let ca = rcgen::CertifiedIssuer::self_signed(ca, key).expect("CA certificate");
        let leaf_key = rcgen::KeyPair::generate().expect("server key");
        let leaf =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .expect("server params")
                .signed_by(&leaf_key, &ca)
                .expect("server certificate");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("TLS versions")
                .with_no_client_auth()
                .with_single_cert(
                    vec![leaf.der().clone(), ca.der().clone()],
                    rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
                )
                .expect("TLS server settings"),
        );
        let server = Canned::start_with(
            "https",
            routes,
            Box::new(move |tcp| {
                let session = rustls::ServerConnection::new(tls.clone()).ok()?;
                Some(Box::new(rustls::StreamOwned::new(session, tcp)) as Box<dyn Stream>)
            }),
        );
        PrivateCa {
            ca_pem: ca.pem(),
            server,
        }
    }
}
