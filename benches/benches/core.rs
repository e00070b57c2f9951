//! Time benchmarks: parsing the three kinds of answer, one poll step, and complete flows
//! through device-grant, `oauth2` 5.x and the hand-written floor, all in memory.
//!
//! Each group holds every implementation of the same work, so the ratios come from one run.

#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use device_grant_benches::canned::{self, Canned};
use device_grant_benches::{core_flow, extractor, floor, oauth2_flow};

const DG: &str = "device-grant";
/// device-grant through `poll_output` and `handle_response`: `http` request and response values.
const DG_HTTP: &str = "device-grant-http";
const OAUTH2: &str = "oauth2";
const FLOOR: &str = "floor";
const EXTRACTOR: &str = "extractor";

fn parse(c: &mut Criterion) {
    let config = core_flow::config();
    let now = Instant::now();

    for (name, ct, body) in [
        (
            "device_authorization/json",
            canned::JSON,
            canned::DEVICE_JSON,
        ),
        (
            "device_authorization/form",
            canned::FORM,
            canned::DEVICE_FORM,
        ),
    ] {
        let mut g = c.benchmark_group(format!("parse/{name}"));
        g.bench_function(DG, |b| {
            b.iter_batched(
                || {
                    let (flow, id) = core_flow::awaiting_authorization(&config, now);
                    (flow, id, canned::response(200, ct, body))
                },
                |(mut flow, id, answer)| {
                    flow.handle_response(id, answer, now).unwrap();
                    flow
                },
                BatchSize::SmallInput,
            )
        });
        if ct == canned::JSON {
            g.bench_function(OAUTH2, |b| {
                b.iter_batched(
                    || canned::response(200, ct, body),
                    |answer| oauth2_flow::parse_device(&answer).unwrap(),
                    BatchSize::SmallInput,
                )
            });
            g.bench_function(EXTRACTOR, |b| {
                b.iter_batched(
                    || canned::response(200, ct, body),
                    |answer| extractor::device_json(answer.body()).unwrap(),
                    BatchSize::SmallInput,
                )
            });
        } else {
            g.bench_function(EXTRACTOR, |b| {
                b.iter_batched(
                    || canned::response(200, ct, body),
                    |answer| extractor::device_form(answer.body()).unwrap(),
                    BatchSize::SmallInput,
                )
            });
        }
        g.finish();
    }

    for (name, status, ct, body) in [
        ("token/json", 200, canned::JSON, canned::TOKEN_JSON),
        ("token/form", 200, canned::FORM, canned::TOKEN_FORM),
        ("pending/json", 400, canned::JSON, canned::PENDING_JSON),
        ("pending/form", 400, canned::FORM, canned::PENDING_FORM),
    ] {
        let token = status == 200;
        let json = ct == canned::JSON;
        let mut g = c.benchmark_group(format!("parse/{name}"));
        g.bench_function(DG, |b| {
            b.iter_batched(
                || {
                    let (flow, id, at) = core_flow::awaiting_poll(&config, now);
                    (flow, id, at, canned::response(status, ct, body))
                },
                |(mut flow, id, at, answer)| {
                    flow.handle_response(id, answer, at).unwrap();
                    flow
                },
                BatchSize::SmallInput,
            )
        });
        if json {
            g.bench_function(OAUTH2, |b| {
                b.iter_batched(
                    || canned::response(status, ct, body),
                    |answer| {
                        if token {
                            black_box(oauth2_flow::parse_token(&answer).unwrap());
                        } else {
                            black_box(oauth2_flow::parse_error(&answer).unwrap());
                        }
                    },
                    BatchSize::SmallInput,
                )
            });
        }
        g.bench_function(EXTRACTOR, |b| {
            b.iter_batched(
                || canned::response(status, ct, body),
                |answer| match (token, json) {
                    (true, true) => drop(black_box(extractor::token_json(answer.body()).unwrap())),
                    (true, false) => drop(black_box(extractor::token_form(answer.body()).unwrap())),
                    (false, true) => drop(black_box(extractor::error_json(answer.body()).unwrap())),
                    (false, false) => {
                        drop(black_box(extractor::error_form(answer.body()).unwrap()))
                    }
                },
                BatchSize::SmallInput,
            )
        });
        g.finish();
    }
}

fn poll_step(c: &mut Criterion) {
    let config = core_flow::config();
    let mut g = c.benchmark_group("poll_step");
    g.bench_function(DG, |b| {
        let server = Canned::new(u32::MAX);
        let (mut flow, _) =
            core_flow::waiting(&config, Instant::now(), core_flow::LONG_LIVED_DEVICE_JSON);
        b.iter_batched(
            || (http::StatusCode::BAD_REQUEST, canned::PENDING_JSON.to_vec()),
            |answer| core_flow::poll_step_lent(&mut flow, server.headers(), answer),
            BatchSize::SmallInput,
        );
        assert!(!flow.is_done(), "the flow must still be polling");
    });
    g.bench_function(DG_HTTP, |b| {
        let (mut flow, _) =
            core_flow::waiting(&config, Instant::now(), core_flow::LONG_LIVED_DEVICE_JSON);
        b.iter_batched(
            || canned::response(400, canned::JSON, canned::PENDING_JSON),
            |answer| core_flow::poll_step(&mut flow, answer),
            BatchSize::SmallInput,
        );
        assert!(!flow.is_done(), "the flow must still be polling");
    });
    g.bench_function(FLOOR, |b| {
        let ep = endpoints();
        let device = extractor::device_json(canned::DEVICE_JSON).unwrap();
        let body = floor::poll_body(&ep, &device);
        b.iter_batched(
            || Canned::new(u32::MAX).answer(true),
            |answer| {
                // The floor hands its poll body, built once per flow, to its HTTP client.
                black_box(body.as_slice());
                assert!(floor::is_pending(&answer));
            },
            BatchSize::SmallInput,
        );
    });
    g.finish();
}

fn endpoints() -> floor::Endpoints {
    floor::Endpoints {
        client_id: canned::CLIENT_ID.into(),
        scope: canned::SCOPES.join(" "),
        default_interval: Duration::from_secs(5),
    }
}

fn flow(c: &mut Criterion) {
    let config = core_flow::config();
    let client = oauth2_flow::client(canned::CLIENT_ID, canned::DEVICE_URL, canned::TOKEN_URL);
    let ep = endpoints();
    let start = Instant::now();
    for pending in [2, 10] {
        let server = Canned::new(pending);
        let mut g = c.benchmark_group(format!("flow/K={pending}"));
        g.bench_function(DG, |b| {
            b.iter(|| core_flow::run_lent(&config, &server, start))
        });
        g.bench_function(DG_HTTP, |b| {
            b.iter(|| core_flow::run(&config, &server, start))
        });
        g.bench_function(OAUTH2, |b| b.iter(|| oauth2_flow::run(&client, &server)));
        g.bench_function(FLOOR, |b| {
            b.iter(|| {
                floor::run(
                    &ep,
                    |to, _| Ok::<_, ()>(server.answer(to == floor::To::Token)),
                    |d| {
                        black_box(d);
                    },
                    |d| {
                        black_box(d);
                    },
                )
                .unwrap()
            })
        });
        g.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40)
}

criterion_group! { name = benches; config = config(); targets = parse, poll_step, flow }
criterion_main!(benches);
