//! Prints the tables of BENCHMARKS.md from the results `run.sh` leaves behind.
//!
//! `report <results dir> <criterion dir>`

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// A criterion benchmark: the median time per iteration and the range over its samples, ns.
struct Timing {
    median: f64,
    min: f64,
    max: f64,
}

fn timing(criterion: &Path, group: &str, function: &str) -> Option<Timing> {
    let path: PathBuf = criterion
        .join(group.replace('/', "_"))
        .join(function)
        .join("new/sample.json");
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let iters = sample["iters"].as_array()?;
    let times = sample["times"].as_array()?;
    let mut per: Vec<f64> = iters
        .iter()
        .zip(times)
        .filter_map(|(i, t)| Some(t.as_f64()? / i.as_f64()?))
        .collect();
    per.sort_by(f64::total_cmp);
    Some(Timing {
        median: median(&per)?,
        min: *per.first()?,
        max: *per.last()?,
    })
}

fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

fn ns(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2} µs", v / 1000.0)
    } else {
        format!("{v:.0} ns")
    }
}

fn thousands(v: u64) -> String {
    if v >= 10_000 {
        format!("{:.1}k", v as f64 / 1000.0)
    } else {
        format!("{:.2}k", v as f64 / 1000.0)
    }
}

fn ratio(a: f64, b: f64) -> String {
    format!("{:.2}×", a / b)
}

/// Instructions per operation, by (kind, implementation, detail).
fn callgrind(out: &Path) -> BTreeMap<(String, String, String), u64> {
    let text = std::fs::read_to_string(out.join("callgrind.tsv")).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let n = f.get(3)?.parse().ok()?;
            Some(((f[0].into(), f[1].into(), f[2].into()), n))
        })
        .collect()
}

struct Report<'a> {
    criterion: &'a Path,
    instr: BTreeMap<(String, String, String), u64>,
    out: String,
}

impl Report<'_> {
    fn cell(&self, kind: &str, imp: &str, detail: &str, group: &str, function: &str) -> String {
        let i = self.instr.get(&(kind.into(), imp.into(), detail.into()));
        let t = timing(self.criterion, group, function);
        match (i, t) {
            (Some(i), Some(t)) => format!(
                "{} instr · {} ({}–{})",
                thousands(*i),
                ns(t.median),
                ns(t.min),
                ns(t.max)
            ),
            (Some(i), None) => format!("{} instr", thousands(*i)),
            (None, Some(t)) => format!("{} ({}–{})", ns(t.median), ns(t.min), ns(t.max)),
            (None, None) => "–".into(),
        }
    }

    fn instr(&self, kind: &str, imp: &str, detail: &str) -> Option<f64> {
        self.instr
            .get(&(kind.into(), imp.into(), detail.into()))
            .map(|&n| n as f64)
    }

    fn in_memory(&mut self) {
        let mut s = String::new();
        s.push_str("### In memory: device-grant's core against oauth2 5.0.0 and the hand-written floor\n\n");
        s.push_str(
            "Instructions per operation (callgrind) · criterion median time (range over samples). ",
        );
        s.push_str("Ratios are of instructions, from the same run.\n\n");
        s.push_str(
            "| Work | device-grant | oauth2 | floor / extractor | dg ÷ floor | oauth2 ÷ dg |\n",
        );
        s.push_str("|---|---|---|---|---|---|\n");
        let rows: [(&str, &str, &str, &str, &str); 9] = [
            (
                "parse device authorization (JSON)",
                "parse",
                "device/json",
                "parse/device_authorization/json",
                "extractor",
            ),
            (
                "parse device authorization (form)",
                "parse",
                "device/form",
                "parse/device_authorization/form",
                "extractor",
            ),
            (
                "parse token (JSON)",
                "parse",
                "token/json",
                "parse/token/json",
                "extractor",
            ),
            (
                "parse token (form)",
                "parse",
                "token/form",
                "parse/token/form",
                "extractor",
            ),
            (
                "parse pending error (JSON)",
                "parse",
                "pending/json",
                "parse/pending/json",
                "extractor",
            ),
            (
                "parse pending error (form)",
                "parse",
                "pending/form",
                "parse/pending/form",
                "extractor",
            ),
            ("one poll step", "step", "", "poll_step", "floor"),
            (
                "complete flow, K=2 pending",
                "flow",
                "K=2",
                "flow/K=2",
                "floor",
            ),
            (
                "complete flow, K=10 pending",
                "flow",
                "K=10",
                "flow/K=10",
                "floor",
            ),
        ];
        for (label, kind, detail, group, base) in rows {
            let dg = self.instr(kind, "device-grant", detail);
            let o2 = self.instr(kind, "oauth2", detail);
            let fl = self.instr(kind, base, detail);
            let _ = writeln!(
                s,
                "| {label} | {} | {} | {} | {} | {} |",
                self.cell(kind, "device-grant", detail, group, "device-grant"),
                self.cell(kind, "oauth2", detail, group, "oauth2"),
                self.cell(kind, base, detail, group, base),
                dg.zip(fl).map_or("–".into(), |(a, b)| ratio(a, b)),
                o2.zip(dg).map_or("–".into(), |(a, b)| ratio(a, b)),
            );
        }
        s.push('\n');
        s.push_str(
            "device-grant above runs the way the core offers for transports that take and give \
             parts (`Flow::poll_output_lent`, `Flow::outgoing`, `Flow::handle_answer`: no \
             request or response value, the poll's body lent in place, the canned server's \
             `Content-Type` header built once and lent), as the floor hands its HTTP client a \
             body and gets a status and a body back. The core's other way is an \
             `http::Request` out and an `http::Response` in (`poll_output`, \
             `handle_response`), what ureq 3 and hyper take and give, and what both drivers \
             use; the same floor exchanging those values with the same in-memory server \
             (`measure flow floor-http`: the URI parsed and the headers built once, cloned per \
             request) is its fair comparison:\n\n",
        );
        s.push_str("| Work | device-grant in `http` types | floor in `http` types | ÷ floor in `http` types | floor in `http` types ÷ floor |\n");
        s.push_str("|---|---|---|---|---|\n");
        for (label, kind, detail) in [
            ("one poll step", "step", ""),
            ("complete flow, K=2 pending", "flow", "K=2"),
            ("complete flow, K=10 pending", "flow", "K=10"),
        ] {
            let dg = self.instr(kind, "device-grant-http", detail);
            let fh = self.instr(kind, "floor-http", detail);
            let fl = self.instr(kind, "floor", detail);
            let count = |v: Option<f64>| {
                v.map_or("–".into(), |v| format!("{} instr", thousands(v as u64)))
            };
            let _ = writeln!(
                s,
                "| {label} | {} | {} | {} | {} |",
                count(dg),
                count(fh),
                dg.zip(fh).map_or("–".into(), |(a, b)| ratio(a, b)),
                fh.zip(fl).map_or("–".into(), |(a, b)| ratio(a, b)),
            );
        }
        s.push('\n');
        self.out.push_str(&s);
    }

    fn loopback(&mut self, results: &Path) {
        let text = std::fs::read_to_string(results.join("loopback.jsonl")).unwrap_or_default();
        // CPU ns per flow by implementation, one entry per round in the order they ran.
        let mut cpu: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut detail = String::new();
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let (Some(imp), Some(c), Some(n)) =
                (v["impl"].as_str(), v["cpu_ns"].as_f64(), v["n"].as_f64())
            else {
                continue;
            };
            detail = v["detail"].as_str().unwrap_or("").to_owned();
            cpu.entry(imp.into()).or_default().push(c / n);
        }
        let rounds = cpu.values().map(Vec::len).max().unwrap_or(0);
        let mut s = String::new();
        let _ = writeln!(
            s,
            "### Loopback: complete flows over HTTP to the simulated server ({detail}, interval 0)\n"
        );
        let _ = writeln!(
            s,
            "Instructions per flow of the whole client process (callgrind; the headline) · CPU seconds per 1,000 flows, median (range over {rounds} rounds) · CPU ratio to the floor: median of the ratios taken within each round (range), as every round runs all implementations one after the other.\n"
        );
        s.push_str("| HTTP client | implementation | instructions / flow | ÷ floor (instr) | CPU s / 1,000 flows | ÷ floor (CPU, same round) |\n");
        s.push_str("|---|---|---|---|---|---|\n");
        for client in ["ureq", "reqwest"] {
            let floor_name = format!("floor-{client}");
            let floor_i = self.instr("loopback", &floor_name, &detail);
            for imp in ["device-grant", "floor", "oauth2"] {
                let name = format!("{imp}-{client}");
                let i = self.instr("loopback", &name, &detail);
                let c = cpu.get(&name).map(|v| sorted(v));
                let cm = c.as_deref().and_then(median);
                let ratios = cpu
                    .get(&name)
                    .zip(cpu.get(&floor_name))
                    .map(|(a, f)| sorted(&a.iter().zip(f).map(|(a, f)| a / f).collect::<Vec<_>>()));
                let _ = writeln!(
                    s,
                    "| {client} | {imp} | {} | {} | {} | {} |",
                    i.map_or("–".into(), |i| thousands(i as u64)),
                    i.zip(floor_i).map_or("–".into(), |(a, b)| ratio(a, b)),
                    c.as_deref().zip(cm).map_or("–".into(), |(c, m)| format!(
                        "{:.3} ({:.3}–{:.3})",
                        m / 1e6,
                        c[0] / 1e6,
                        c[c.len() - 1] / 1e6
                    )),
                    ratios
                        .filter(|r| !r.is_empty())
                        .map_or("–".into(), |r| format!(
                            "{:.2}× ({:.2}–{:.2})",
                            median(&r).unwrap_or(0.0),
                            r[0],
                            r[r.len() - 1]
                        )),
                );
            }
        }
        s.push('\n');
        self.out.push_str(&s);
    }

    fn pending(&mut self, results: &Path) {
        let text = std::fs::read_to_string(results.join("pending.jsonl")).unwrap_or_default();
        let rows: Vec<Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if rows.is_empty() {
            return;
        }
        let mut s = String::new();
        s.push_str(
            "### Heap per pending flow through the drivers (loopback, counting allocator)\n\n",
        );
        s.push_str("Flows started one after the other, each parked in its wait before its first poll, having shown its code. reqwest: one task per flow on a current-thread runtime (the task holds the future inline); ureq: one thread per flow (its stack is not heap). The client, its pooled connection and one parked flow are set up before counting.\n\n");
        s.push_str("| HTTP client | implementation | flows | heap B / flow | blocks / flow | − floor | `size_of` run future (task future) |\n");
        s.push_str("|---|---|---|---|---|---|---|\n");
        for client in ["reqwest", "ureq"] {
            let find = |imp: &str| {
                rows.iter()
                    .find(|v| v["client"] == client && v["impl"] == imp)
            };
            let floor = find("floor").and_then(|v| v["heap_per_flow"].as_f64());
            for imp in ["device-grant", "floor"] {
                let Some(v) = find(imp) else { continue };
                let heap = v["heap_per_flow"].as_f64().unwrap_or(0.0);
                let size = match v["run_future_size"].as_u64() {
                    Some(0) | None => "–".to_owned(),
                    Some(n) => format!("{n} B ({} B)", v["task_future_size"]),
                };
                let _ = writeln!(
                    s,
                    "| {client} | {imp} | {} | {heap:.0} | {:.1} | {} | {size} |",
                    v["n"],
                    v["blocks_per_flow"].as_f64().unwrap_or(0.0),
                    floor.map_or("–".into(), |f| format!("{:+.0} B", heap - f)),
                );
            }
        }
        s.push('\n');
        self.out.push_str(&s);
    }

    fn memory(&mut self, results: &Path) {
        let Some(m) = std::fs::read_to_string(results.join("memory.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        else {
            return;
        };
        let mut s = String::new();
        let _ = writeln!(
            s,
            "### Memory: {} pending flows held in one thread (counting allocator)\n",
            m["flows"]
        );
        s.push_str("| implementation | inline bytes | heap bytes / flow | heap blocks / flow | total bytes / flow |\n");
        s.push_str("|---|---|---|---|---|\n");
        for (imp, what) in [
            ("device-grant", "`Flow`"),
            (
                "oauth2",
                "device authorization response + boxed polling future",
            ),
        ] {
            let v = &m[imp];
            let (inline, heap) = (
                v["inline"].as_f64().unwrap_or(0.0),
                v["heap"].as_f64().unwrap_or(0.0),
            );
            let _ = writeln!(
                s,
                "| {imp} ({what}) | {inline:.0} | {heap:.0} | {:.1} | {:.0} |",
                v["blocks"].as_f64().unwrap_or(0.0),
                inline + heap
            );
        }
        if let Some(clients) = m["clients"].as_object() {
            s.push_str("\nThe HTTP clients' own memory, not in the figures above (device-grant's preset client, heap):\n\n");
            s.push_str("| HTTP client | client | + one kept-alive connection |\n|---|---|---|\n");
            for (name, v) in clients {
                let _ = writeln!(
                    s,
                    "| {name} | {:.1} KB | {:.1} KB |",
                    v["client"].as_f64().unwrap_or(0.0) / 1e3,
                    v["connection"].as_f64().unwrap_or(0.0) / 1e3
                );
            }
        }
        if let Some(sizes) = m["size_of"].as_object() {
            let list: Vec<String> = sizes.iter().map(|(k, v)| format!("`{k}` {v} B")).collect();
            let _ = writeln!(s, "\nsize_of: {}.", list.join(", "));
        }
        s.push('\n');
        self.out.push_str(&s);
    }

    fn footprint(&mut self, results: &Path) {
        let Ok(text) = std::fs::read_to_string(results.join("footprint.tsv")) else {
            return;
        };
        let mut rows: BTreeMap<String, (u64, Vec<Build>)> = BTreeMap::new();
        for l in text.lines() {
            let f: Vec<&str> = l.split('\t').collect();
            let parsed = (|| {
                Some((
                    f.first()?.to_string(),
                    f.get(1)?.parse().ok()?,
                    (
                        f.get(2)?.parse().ok()?,
                        f.get(3)?.parse().ok()?,
                        f.get(4)?.parse().ok()?,
                    ),
                ))
            })();
            if let Some((name, crates, build)) = parsed {
                let row = rows.entry(name).or_insert((crates, Vec::new()));
                row.1.push(build);
            }
        }
        let mid = |v: &[Build], pick: fn(&Build) -> f64| {
            let xs = sorted(&v.iter().map(pick).collect::<Vec<_>>());
            (median(&xs).unwrap_or(0.0), xs[0], xs[xs.len() - 1])
        };
        let builds = rows.values().map(|r| r.1.len()).max().unwrap_or(0);
        let mut s = String::new();
        s.push_str("### Footprint: a minimal program that gets a token\n\n");
        let _ = writeln!(
            s,
            "Unique crates in `cargo tree -e normal` (the program itself not counted) · clean release build with `-j2`, one at a time, {builds} builds each: wall seconds and CPU seconds (user + system), median (range) · stripped binary. Build ratios are of medians: wall seconds (what a person waits for; the performance issue's own build figures match wall times) and CPU seconds (which the load of a shared machine disturbs less).\n"
        );
        s.push_str("| HTTP client | program | crates | build wall s | build CPU s | stripped MB | crates − floor | build ÷ floor (wall) | build ÷ floor (CPU) | size ÷ floor |\n");
        s.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
        for client in ["ureq", "reqwest"] {
            let floor = rows.get(&format!("floor-{client}"));
            let floor_wall = floor.map(|f| mid(&f.1, |b| b.0).0);
            let floor_cpu = floor.map(|f| mid(&f.1, |b| b.1).0);
            let floor_size = floor.map(|f| f.1[0].2 as f64);
            for imp in [
                "device-grant",
                "device-grant-idna-unicode",
                "device-grant-idna-none",
                "floor",
                "oauth2",
            ] {
                let name = match imp.strip_prefix("device-grant-") {
                    Some(idna) => format!("device-grant-{client}-{idna}"),
                    None => format!("{imp}-{client}"),
                };
                let Some((crates, b)) = rows.get(&name) else {
                    continue;
                };
                let (w, wl, wh) = mid(b, |b| b.0);
                let (c, cl, ch) = mid(b, |b| b.1);
                let size = b[0].2 as f64;
                let _ = writeln!(
                    s,
                    "| {client} | {imp} | {crates} | {w:.1} ({wl:.1}–{wh:.1}) | {c:.1} ({cl:.1}–{ch:.1}) | {:.2} | {} | {} | {} | {} |",
                    size / 1e6,
                    floor.map_or("–".into(), |f| format!(
                        "{:+}",
                        *crates as i64 - f.0 as i64
                    )),
                    floor_wall.map_or("–".into(), |f| ratio(w, f)),
                    floor_cpu.map_or("–".into(), |f| ratio(c, f)),
                    floor_size.map_or("–".into(), |f| ratio(size, f)),
                );
            }
        }
        s.push('\n');
        self.out.push_str(&s);
    }
}

/// One clean build: wall seconds, CPU seconds, stripped bytes.
type Build = (f64, f64, u64);

fn sorted(v: &[f64]) -> Vec<f64> {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [results, criterion] = &args[..] else {
        eprintln!("usage: report <results dir> <criterion dir>");
        std::process::exit(2);
    };
    let results = Path::new(results);
    let mut report = Report {
        criterion: Path::new(criterion),
        instr: callgrind(results),
        out: String::new(),
    };
    report.in_memory();
    report.loopback(results);
    report.pending(results);
    report.memory(results);
    report.footprint(results);
    if let Ok(machine) = std::fs::read_to_string(results.join("machine.txt")) {
        report.out.push_str("### Machine\n\n```text\n");
        report.out.push_str(&machine);
        report.out.push_str("```\n");
    }
    print!("{}", report.out);
}
