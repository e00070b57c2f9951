//! The simulated server over real HTTP/1.1 on 127.0.0.1: a thread with its own tokio
//! runtime serving the synchronous request handling of `app`.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use http::StatusCode;

use crate::ServerConfig;
use crate::app::{App, MAX_REQUEST_BODY};
use crate::wire::{self, ConnInfo};

/// A running simulated authorization server. Dropping it (or calling
/// [`Server::shutdown`]) stops the server and joins its thread.
#[derive(Debug)]
pub struct Server {
    app: Arc<App>,
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds `127.0.0.1` on an ephemeral port and starts serving on a new
    /// thread.
    pub fn start(config: ServerConfig) -> io::Result<Server> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let app = Arc::new(App::new(config, format!("http://{addr}")));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<()>>();
        let router = Router::new().fallback(handle).with_state(Arc::clone(&app));
        let thread = std::thread::Builder::new()
            .name(format!("device-grant-sim-{}", addr.port()))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    let service = router.into_make_service_with_connect_info::<wire::ConnInfo>();
                    let serve = axum::serve(wire::SimListener(listener), service);
                    tokio::select! {
                        _ = serve => {}
                        _ = stop_rx => {}
                    }
                });
                // Dropping the runtime here cancels open connections and
                // stalled answers.
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Server {
                app,
                addr,
                stop: Some(stop_tx),
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(io::Error::other("the server thread ended during start-up"))
            }
        }
    }

    /// The socket address, `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.app.base_url
    }

    /// The issuer named in the discovery documents (the base URL).
    pub fn issuer(&self) -> &str {
        &self.app.base_url
    }

    crate::app::shared_actions!();

    /// The user approves the flow with this user code (case, spaces and
    /// dashes ignored), as the `/device` page does. `false` if no pending,
    /// undecided, unexpired flow has it.
    pub fn approve(&self, user_code: &str) -> bool {
        self.app.decide(user_code, true, Instant::now())
    }

    /// The user denies the flow with this user code; see [`Server::approve`].
    pub fn deny(&self, user_code: &str) -> bool {
        self.app.decide(user_code, false, Instant::now())
    }

    /// Stops the server and waits for its thread. Dropping does the same.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// An address on `127.0.0.1` where nothing listens, for "connection
/// refused" tests: an ephemeral port is bound and released at once. Another
/// process could take the port in between, which is unlikely.
pub fn closed_port() -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    listener.local_addr()
}

/// The axum fallback handler: every request comes here.
pub(crate) async fn handle(
    State(app): State<Arc<App>>,
    ConnectInfo(conn): ConnectInfo<ConnInfo>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_REQUEST_BODY).await else {
        return wire::simple(StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n");
    };
    let plan = app.plan(&parts, &bytes, Instant::now());
    wire::respond(plan, &conn).await
}
