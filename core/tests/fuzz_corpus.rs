//! Replays the fuzz corpus on a stable toolchain: every committed corpus file and crash
//! reproducer under `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/` goes through the
//! same harness the fuzz targets run, with all its invariant checks, and so do the seeds built
//! from the provider fixtures.

#[path = "../../fuzz/src/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `<fuzz>/<kind>/<target>/`, sorted; none when the directory does not exist.
fn files(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = fuzz_dir().join(kind).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs one input, naming the file when a check fails.
fn replay(target: &str, path: &Path) {
    let data = std::fs::read(path).expect("a readable corpus file");
    let outcome = std::panic::catch_unwind(|| harness::run(target, &data));
    match outcome {
        Ok(known) => assert!(known, "no target named {target}"),
        Err(_) => panic!("{} fails (see the panic above)", path.display()),
    }
}

fn replay_target(target: &str) -> usize {
    let corpus = files("corpus", target);
    // The corpus is committed: an empty one means it went missing, not that all is well.
    assert!(
        corpus.len() >= 10,
        "only {} corpus files for {target}",
        corpus.len()
    );
    let regressions = files("regressions", target);
    for path in corpus.iter().chain(&regressions) {
        replay(target, path);
    }
    corpus.len() + regressions.len()
}

#[test]
fn device_response_corpus() {
    replay_target("device_response");
}

#[test]
fn token_response_corpus() {
    replay_target("token_response");
}

#[test]
fn error_response_corpus() {
    replay_target("error_response");
}

#[test]
fn flow_corpus() {
    replay_target("flow");
}

#[test]
fn every_corpus_directory_is_a_target() {
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind)) else {
            continue;
        };
        for entry in entries {
            let name = entry.expect("a readable entry").file_name();
            let name = name.to_string_lossy();
            assert!(
                harness::TARGETS.contains(&name.as_ref()),
                "{kind}/{name} is not a fuzz target, so nothing replays it"
            );
        }
    }
}

#[test]
fn fixture_seeds_pass() {
    let seeds = harness::seeds::all();
    for target in harness::TARGETS {
        assert!(
            seeds.iter().filter(|s| s.target == target).count() >= 5,
            "too few seeds for {target}"
        );
    }
    for seed in &seeds {
        let outcome = std::panic::catch_unwind(|| harness::run(seed.target, &seed.data));
        assert!(
            matches!(outcome, Ok(true)),
            "seed {} of {} fails",
            seed.name,
            seed.target
        );
    }
}

/// The checks can fail: a poll that comes before the interval has passed, as the harness
/// sees the clock, is reported.
#[test]
fn the_harness_notices_an_early_poll() {
    use harness::check::{Grant, Polled, Run, Which};
    use harness::input::Reply;

    let outcome = std::panic::catch_unwind(|| {
        let mut run = Run::new(Grant::Device, 0);
        assert!(matches!(run.drain(), Polled::Send(_)));
        let device = harness::fixtures::named("rfc-dc-01");
        run.respond(Which::Current, &Reply::json(200, device.body));
        let Polled::Wait(at) = run.drain() else {
            panic!("the flow should wait for the interval");
        };
        // The flow's clock moves behind the harness's back, so to the harness the next poll
        // comes too early.
        run.flow.handle_timeout(at).expect("the flow is running");
        run.drain();
    });
    let message = match outcome {
        Ok(()) => panic!("the harness accepted an early poll"),
        Err(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default(),
    };
    assert!(
        message.contains("before the interval"),
        "unexpected failure: {message}"
    );
}
