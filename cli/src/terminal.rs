//! Whether stderr may be drawn on (colours, cursor movement, QR half blocks) or gets plain
//! lines, and how wide it is.
//!
//! The conventions: `NO_COLOR` set to anything but the empty string (no-color.org), and
//! `TERM=dumb`, ask for plain output even on a terminal; so does a stderr that is a file or
//! a pipe.

use std::io::{self, IsTerminal};

/// How stderr is written to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// A terminal that may be drawn on: a QR code, colours, a countdown redrawn in place.
    Rich,
    /// Plain lines: no escape sequence, no carriage return, no block characters.
    Plain,
}

impl Style {
    /// The style for this process's stderr and environment.
    pub fn of_stderr() -> Style {
        Style::decide(
            io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
            std::env::var_os("TERM").as_deref(),
        )
    }

    fn decide(
        terminal: bool,
        no_color: Option<&std::ffi::OsStr>,
        term: Option<&std::ffi::OsStr>,
    ) -> Style {
        let no_color = no_color.is_some_and(|v| !v.is_empty());
        let dumb = term.is_some_and(|t| t == "dumb");
        if terminal && !no_color && !dumb {
            Style::Rich
        } else {
            Style::Plain
        }
    }

    /// Whether this is [`Style::Rich`].
    pub fn is_rich(self) -> bool {
        self == Style::Rich
    }
}

/// The width of the terminal on stderr in columns: asked of the terminal, else `COLUMNS`,
/// else 80.
pub fn width() -> usize {
    if let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size_of(io::stderr())
        && w > 0
    {
        return usize::from(w);
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
        .unwrap_or(80)
}

/// `text` cut to at most `columns` characters, ending in `…` when it was cut. Characters
/// are counted as one column each: the line is the CLI's own text (and a cleaned server
/// note), not East Asian wide text.
pub fn fit(text: &str, columns: usize) -> String {
    if text.chars().count() <= columns {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(columns.saturating_sub(1)).collect();
    if columns > 0 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn plain_unless_a_terminal_that_allows_it() {
        let os = |s| Some(OsStr::new(s));
        assert_eq!(Style::decide(true, None, os("xterm")), Style::Rich);
        assert_eq!(Style::decide(true, os(""), os("xterm")), Style::Rich);
        assert_eq!(Style::decide(true, os("1"), os("xterm")), Style::Plain);
        assert_eq!(Style::decide(true, None, os("dumb")), Style::Plain);
        assert_eq!(Style::decide(false, None, os("xterm")), Style::Plain);
    }

    #[test]
    fn lines_are_cut_to_the_width() {
        assert_eq!(fit("Waiting", 20), "Waiting");
        assert_eq!(fit("Waiting for approval", 8), "Waiting…");
        assert_eq!(fit("Waiting", 7).chars().count(), 7);
        assert_eq!(fit("abc", 0), "");
    }
}
