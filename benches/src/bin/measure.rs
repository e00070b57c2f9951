//! Runs one kind of work N times, for counting its instructions under callgrind (only
//! `measured_section` is counted, see `device_grant_benches::measured`) and its CPU time.
//!
//! ```text
//! measure flow  <device-grant|device-grant-http|oauth2|floor|floor-http> <pending polls> <n>
//! measure parse <device-grant|oauth2|extractor> <device|token|pending> <json|form> <n>
//! measure step  <device-grant|device-grant-http|floor> <n>
//! measure loopback <implementation> <pending polls> <n> <device URL> <token URL> <client id>
//! ```
//!
//! `loopback` runs against a `device-grant-sim serve` started with the same number of pending polls; the
//! implementations are listed in `device_grant_benches::loopback::IMPLS`.
//!
//! Prints one JSON object: what ran and the CPU time of the measured work.

use std::time::{Duration, Instant};

use device_grant_benches::canned::{self, Canned};
use device_grant_benches::measured::measured_section;
use device_grant_benches::{core_flow, cpu, extractor, floor, loopback, oauth2_flow};

fn usage() -> ! {
    eprintln!("usage: see the module documentation of this binary");
    std::process::exit(2)
}

fn number<T: std::str::FromStr>(s: Option<&String>) -> T {
    s.and_then(|s| s.parse().ok()).unwrap_or_else(|| usage())
}

fn endpoints() -> floor::Endpoints {
    floor::Endpoints {
        client_id: canned::CLIENT_ID.into(),
        scope: canned::SCOPES.join(" "),
        default_interval: Duration::from_secs(5),
    }
}

fn flows(imp: &str, pending: u32, n: u64) {
    let server = Canned::new(pending);
    match imp {
        "device-grant" => {
            let config = core_flow::config();
            let start = Instant::now();
            for _ in 0..n {
                measured_section(|| drop(core_flow::run_lent(&config, &server, start)));
            }
        }
        // The same flow through `poll_output` and `handle_response`: an `http::Request` out
        // and an `http::Response` in.
        "device-grant-http" => {
            let config = core_flow::config();
            let start = Instant::now();
            for _ in 0..n {
                measured_section(|| drop(core_flow::run(&config, &server, start)));
            }
        }
        "oauth2" => {
            let client =
                oauth2_flow::client(canned::CLIENT_ID, canned::DEVICE_URL, canned::TOKEN_URL);
            for _ in 0..n {
                measured_section(|| drop(oauth2_flow::run(&client, &server)));
            }
        }
        "floor" => floor_flows(n, |to, _| server.answer(to == floor::To::Token)),
        // The same floor, exchanging `http::Request`s and `http::Response`s with the same
        // in-memory server as device-grant does.
        "floor-http" => {
            let exchange = floor::HttpExchange::new(canned::DEVICE_URL, canned::TOKEN_URL);
            floor_flows(n, |to, body| {
                let request = exchange.request(to, body);
                let response = server.call(&request);
                drop(request);
                floor::HttpExchange::answer(response)
            });
        }
        _ => usage(),
    }
}

/// `n` complete flows of the floor, each exchange answered by `send`.
fn floor_flows(n: u64, mut send: impl FnMut(floor::To, &[u8]) -> floor::Answer) {
    let ep = endpoints();
    for _ in 0..n {
        measured_section(|| {
            drop(
                floor::run(
                    &ep,
                    |to, body| Ok::<_, ()>(send(to, body)),
                    |d| {
                        std::hint::black_box(d);
                    },
                    |d| {
                        std::hint::black_box(d);
                    },
                )
                .expect("a token"),
            )
        });
    }
}

fn parses(imp: &str, what: &str, format: &str, n: u64) {
    let (status, ct, body) = match (what, format) {
        ("device", "json") => (200, canned::JSON, canned::DEVICE_JSON),
        ("device", "form") => (200, canned::FORM, canned::DEVICE_FORM),
        ("token", "json") => (200, canned::JSON, canned::TOKEN_JSON),
        ("token", "form") => (200, canned::FORM, canned::TOKEN_FORM),
        ("pending", "json") => (400, canned::JSON, canned::PENDING_JSON),
        ("pending", "form") => (400, canned::FORM, canned::PENDING_FORM),
        _ => usage(),
    };
    let config = core_flow::config();
    let now = Instant::now();
    for _ in 0..n {
        let answer = canned::response(status, ct, body);
        match (imp, what, format) {
            ("device-grant", "device", _) => {
                let (mut flow, id) = core_flow::awaiting_authorization(&config, now);
                let flow = measured_section(move || {
                    flow.handle_response(id, answer, now).expect("awaited");
                    flow
                });
                assert!(flow.interval().is_some());
            }
            ("device-grant", _, _) => {
                let (mut flow, id, at) = core_flow::awaiting_poll(&config, now);
                let flow = measured_section(move || {
                    flow.handle_response(id, answer, at).expect("awaited");
                    flow
                });
                assert_eq!(flow.is_done(), what == "token");
            }
            ("oauth2", "device", "json") => {
                let r = measured_section(move || oauth2_flow::parse_device(&answer));
                assert!(r.is_some());
            }
            ("oauth2", "token", "json") => {
                let r = measured_section(move || oauth2_flow::parse_token(&answer));
                assert!(r.is_some());
            }
            ("oauth2", "pending", "json") => {
                let r = measured_section(move || oauth2_flow::parse_error(&answer));
                assert!(r.is_some());
            }
            ("extractor", "device", "json") => {
                let r = measured_section(move || extractor::device_json(answer.body()).ok());
                assert!(r.is_some());
            }
            ("extractor", "device", "form") => {
                let r = measured_section(move || extractor::device_form(answer.body()).ok());
                assert!(r.is_some());
            }
            ("extractor", "token", "json") => {
                let r = measured_section(move || extractor::token_json(answer.body()).ok());
                assert!(r.is_some());
            }
            ("extractor", "token", "form") => {
                let r = measured_section(move || extractor::token_form(answer.body()).ok());
                assert!(r.is_some());
            }
            ("extractor", "pending", "json") => {
                let r = measured_section(move || {
                    let r = extractor::error_json(answer.body());
                    std::hint::black_box(&r);
                    r.is_ok()
                });
                assert!(r);
            }
            ("extractor", "pending", "form") => {
                let r = measured_section(move || {
                    let r = extractor::error_form(answer.body());
                    std::hint::black_box(&r);
                    r.is_ok()
                });
                assert!(r);
            }
            _ => usage(),
        }
    }
}

fn steps(imp: &str, n: u64) {
    match imp {
        "device-grant" => {
            let config = core_flow::config();
            let server = Canned::new(u32::MAX);
            let (mut flow, _) =
                core_flow::waiting(&config, Instant::now(), core_flow::LONG_LIVED_DEVICE_JSON);
            for _ in 0..n {
                let answer = (http::StatusCode::BAD_REQUEST, canned::PENDING_JSON.to_vec());
                measured_section(|| core_flow::poll_step_lent(&mut flow, server.headers(), answer));
            }
            assert!(!flow.is_done());
        }
        "device-grant-http" => {
            let config = core_flow::config();
            let (mut flow, _) =
                core_flow::waiting(&config, Instant::now(), core_flow::LONG_LIVED_DEVICE_JSON);
            for _ in 0..n {
                let answer = canned::response(400, canned::JSON, canned::PENDING_JSON);
                measured_section(|| core_flow::poll_step(&mut flow, answer));
            }
            assert!(!flow.is_done());
        }
        "floor" => {
            let ep = endpoints();
            let device = extractor::device_json(canned::DEVICE_JSON).expect("valid");
            let body = floor::poll_body(&ep, &device);
            for _ in 0..n {
                let answer = Canned::new(u32::MAX).answer(true);
                measured_section(|| {
                    std::hint::black_box(body.as_slice());
                    assert!(floor::is_pending(&answer));
                });
            }
        }
        _ => usage(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cpu_before = cpu::process_cpu();
    let (what, imp, detail, n) = match args.first().map(String::as_str) {
        Some("flow") => {
            let (pending, n) = (number(args.get(2)), number(args.get(3)));
            flows(&args[1], pending, n);
            ("flow", args[1].clone(), format!("K={pending}"), n)
        }
        Some("parse") if args.len() == 5 => {
            let n = number(args.get(4));
            parses(&args[1], &args[2], &args[3], n);
            (
                "parse",
                args[1].clone(),
                format!("{}/{}", args[2], args[3]),
                n,
            )
        }
        Some("loopback") if args.len() == 7 => {
            let (pending, n): (u32, u64) = (number(args.get(2)), number(args.get(3)));
            let target = loopback::Target {
                device: args[4].clone(),
                token: args[5].clone(),
                client_id: args[6].clone(),
            };
            let (cpu, wall) = loopback::run(&args[1], &target, n);
            println!(
                "{}",
                serde_json::json!({
                    "what": "loopback", "impl": args[1], "detail": format!("K={pending}"), "n": n,
                    "cpu_ns": cpu.as_nanos() as u64, "wall_ns": wall.as_nanos() as u64,
                })
            );
            return;
        }
        Some("step") => {
            let n = number(args.get(2));
            steps(&args[1], n);
            ("step", args[1].clone(), String::new(), n)
        }
        _ => usage(),
    };
    let cpu = cpu::process_cpu().saturating_sub(cpu_before);
    println!(
        "{}",
        serde_json::json!({
            "what": what, "impl": imp, "detail": detail, "n": n,
            "cpu_ns": cpu.as_nanos() as u64,
        })
    );
}
