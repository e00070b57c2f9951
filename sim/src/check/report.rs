//! Verdicts and how they are shown: a text table and a JSON document.

use std::fmt;

use serde_json::{Value, json};

use crate::Dialect;

/// The requirement level of a check, as RFC 2119 words it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    /// A MUST (or MUST NOT) of the RFC: a failure makes the run fail.
    Must,
    /// A SHOULD, a RECOMMENDED or robustness the RFCs take for granted.
    Should,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
        })
    }
}

/// The result of one check of one scenario.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Verdict {
    /// The scenario's name.
    pub scenario: &'static str,
    /// The check's name.
    pub check: &'static str,
    /// The RFC section checked, e.g. `RFC 8628 §3.5`.
    pub section: &'static str,
    /// The requirement level.
    pub level: Level,
    /// Whether the client met it.
    pub passed: bool,
    /// Why it failed, or a short note on what was seen when it passed.
    pub why: String,
    /// How long the scenario's client ran, in seconds.
    pub seconds: f64,
}

/// Every verdict of a run.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Report {
    /// The client command.
    pub command: Vec<String>,
    /// The dialect of the generic scenarios.
    pub dialect: Dialect,
    /// Whether whole-second intervals were used.
    pub whole_seconds: bool,
    /// The verdicts, in run order.
    pub verdicts: Vec<Verdict>,
}

impl Report {
    /// `(passed, total)` of the checks at `level`.
    pub fn count(&self, level: Level) -> (usize, usize) {
        let at: Vec<&Verdict> = self.verdicts.iter().filter(|v| v.level == level).collect();
        (at.iter().filter(|v| v.passed).count(), at.len())
    }

    /// Whether every MUST passed.
    pub fn musts_passed(&self) -> bool {
        self.verdicts
            .iter()
            .all(|v| v.passed || v.level != Level::Must)
    }

    /// The verdicts as a plain-text table with a summary line.
    pub fn table(&self) -> String {
        let header = ["scenario", "check", "section", "level", "result", "why"];
        let rows: Vec<[String; 6]> = self
            .verdicts
            .iter()
            .map(|v| {
                [
                    v.scenario.to_owned(),
                    v.check.to_owned(),
                    v.section.to_owned(),
                    v.level.to_string(),
                    if v.passed { "pass" } else { "FAIL" }.to_owned(),
                    v.why.clone(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut out = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    out.push_str(cell);
                } else {
                    let pad = widths[i].saturating_sub(cell.chars().count());
                    out.push_str(cell);
                    out.push_str(&" ".repeat(pad + 2));
                }
            }
            out.trim_end().to_owned() + "\n"
        };
        let mut out = line(&header.map(str::to_owned));
        for row in &rows {
            out.push_str(&line(row));
        }
        let (must_ok, must) = self.count(Level::Must);
        let (should_ok, should) = self.count(Level::Should);
        out.push_str(&format!(
            "\nMUST: {must_ok}/{must} passed, SHOULD: {should_ok}/{should} passed\n"
        ));
        out
    }

    /// The verdicts as JSON, for tables built from several runs.
    pub fn to_json(&self) -> Value {
        let (must_ok, must) = self.count(Level::Must);
        let (should_ok, should) = self.count(Level::Should);
        json!({
            "command": self.command,
            "dialect": self.dialect.name(),
            "whole_seconds": self.whole_seconds,
            "must": { "passed": must_ok, "total": must },
            "should": { "passed": should_ok, "total": should },
            "results": self.verdicts.iter().map(|v| json!({
                "scenario": v.scenario,
                "check": v.check,
                "section": v.section,
                "level": v.level.to_string(),
                "passed": v.passed,
                "why": v.why,
                "seconds": (v.seconds * 100.0).round() / 100.0,
            })).collect::<Vec<_>>(),
        })
    }
}
