//! Writes the seed corpora built from the provider fixtures:
//! `cargo run --no-default-features --example seed` (in the fuzz directory) fills
//! `corpus/<target>/seed-*`, replacing older seeds of the same name.

use std::path::Path;

use device_grant_fuzz::harness::{self, seeds};

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let seeds = seeds::all();
    for seed in &seeds {
        // A seed must pass before it is committed.
        assert!(
            harness::run(seed.target, &seed.data),
            "unknown target {}",
            seed.target
        );
        let dir = root.join(seed.target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(&seed.name), &seed.data)?;
    }
    println!("wrote {} seeds under {}", seeds.len(), root.display());
    Ok(())
}
