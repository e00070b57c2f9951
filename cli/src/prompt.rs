//! What the user sees on stderr while a sign-in runs: where to go, the code to enter, a QR
//! code, and a countdown to the code's expiry.
//!
//! On a terminal that may be drawn on ([`Style::Rich`]) the countdown is one line redrawn
//! every second by a small thread, cut to the terminal's width; anywhere else (a file, a
//! pipe, `NO_COLOR`, `TERM=dumb`) every message is a plain line with no escape codes, so
//! logs stay readable. With `--json-events` the events go out as JSON lines instead.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use std::time::SystemTime;

use device_grant::{BackOffCause, Event, Prompt};

use crate::terminal::{self, Style};
use crate::{browser, events, qr};

/// Shows a flow's events on stderr.
pub struct Reporter {
    terminal: bool,
    qr: bool,
    open: bool,
    countdown: Option<Countdown>,
}

impl Reporter {
    /// `style`: how stderr may be written to. `qr`: whether to draw a QR code there.
    /// `open`: whether to open the verification page in the browser.
    pub fn new(style: Style, qr: bool, open: bool) -> Self {
        Self {
            terminal: style.is_rich(),
            qr,
            open,
            countdown: None,
        }
    }

    /// Shows one event of the flow.
    pub fn on_event(&mut self, event: &Event) {
        if events::on() {
            match *event {
                Event::UserCode(ref prompt) => {
                    events::emit(&events::user_code(prompt, SystemTime::now()));
                    self.open_browser(prompt);
                }
                Event::SlowDown { interval } => events::emit(&events::slow_down(interval)),
                Event::BackOff { delay, cause } => {
                    events::emit(&events::back_off(delay, &cause_text(cause)));
                }
                _ => {}
            }
            return;
        }
        match *event {
            Event::UserCode(ref prompt) => self.show_prompt(prompt),
            Event::SlowDown { interval } => self.note(format!(
                "the server asked to slow down; polling every {}",
                describe(interval)
            )),
            Event::BackOff { delay, cause } => self.note(format!(
                "{}; retrying in {}",
                cause_text(cause),
                describe(delay)
            )),
            _ => {}
        }
    }

    /// Stops the countdown and clears its line.
    pub fn finish(&mut self) {
        if let Some(countdown) = self.countdown.take() {
            countdown.stop();
        }
    }

    fn show_prompt(&mut self, prompt: &Prompt) {
        // Server text: escape sequences and invisible characters cannot reach the terminal.
        let complete = prompt
            .verification_uri_complete()
            .map(device_grant::display_safe);
        let mut text = instructions(
            &device_grant::display_safe(prompt.user_code()),
            &device_grant::display_safe(prompt.verification_uri()),
            complete.as_deref(),
        );
        let target = prompt
            .verification_uri_complete()
            .unwrap_or(prompt.verification_uri());
        // Only a link that is safe to open becomes a QR code: a phone opens it without
        // showing much of it first.
        if self.terminal
            && self.qr
            && page_host(target).is_some()
            && let Some(code) = qr::render(&clean(target))
        {
            text.push_str("Or scan this code:\n\n");
            text.push_str(&code);
            text.push('\n');
        }
        if !self.terminal {
            let _ = writeln!(
                text,
                "Waiting for approval; the code expires in {}.",
                describe(prompt.expires_in())
            );
        }
        write_stderr(&text);
        self.open_browser(prompt);
        if self.terminal {
            self.countdown = Some(Countdown::start(prompt.expires_at()));
        }
    }

    /// `--open`: the complete link when there is one, since it saves typing the code.
    fn open_browser(&self, prompt: &Prompt) {
        if !self.open {
            return;
        }
        let target = prompt
            .verification_uri_complete()
            .filter(|uri| page_host(uri).is_some())
            .unwrap_or(prompt.verification_uri());
        let (opened, message) = match browser::open(target) {
            Ok(message) => (true, message),
            Err(message) => (false, message),
        };
        if events::on() {
            events::emit(&events::browser(opened, &message));
        } else {
            write_stderr(&format!("{}\n", capitalize(&message)));
        }
    }

    fn note(&mut self, note: String) {
        match &self.countdown {
            Some(countdown) => countdown.set_note(note),
            None => write_stderr(&format!("{}.\n", capitalize(&note))),
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The sign-in instructions, RFC 8628 §3.3: the verification URI and the user code, always;
/// the complete URI in addition when there is one (§3.3.1), never the device code.
pub fn instructions(user_code: &str, uri: &str, complete: Option<&str>) -> String {
    // The code is shown exactly as sent (Google's are case-sensitive); only characters that
    // could drive the terminal are removed.
    let code = clean(user_code);
    let mut text = format!(
        "To sign in, open this page in a browser:\n\n    {}\n\nand enter the code:\n\n    {code}\n\n",
        clean(uri)
    );
    if let Some(complete) = complete {
        let _ = write!(
            text,
            "Or open this link, which fills in the code (check that the page shows {code}):\n\n    {}\n\n",
            clean(complete)
        );
    }
    // RFC 8628 §5.4 (remote phishing): a code someone else started can be sent to you. Name
    // the site on a line of its own and say when not to go on.
    if let Some(host) = page_host(uri) {
        let _ = write!(
            text,
            "The page is on {host}. Only continue if you started this sign-in yourself.\n\n"
        );
    }
    text
}

/// The host of a verification page a browser may be sent to: an absolute `https` URL, or
/// `http` on a loopback address (local test servers). `None` for anything else.
pub fn page_host(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    let host = url.host()?;
    let loopback = match &host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    let safe = url.username().is_empty()
        && url.password().is_none()
        && (url.scheme() == "https" || (url.scheme() == "http" && loopback));
    safe.then(|| clean(&host.to_string()))
}

/// Removes control characters from text a server chose, so it cannot move the cursor,
/// rewrite earlier lines or change the terminal's title.
pub fn clean(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// A duration for people: `45 s`, `2 min`, `14 min 30 s`, `8 h`; fractions of a second are
/// shown for sub-second intervals of test servers.
pub fn describe(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return format!("{:.2} s", d.as_secs_f64());
    }
    match (secs / 3600, secs / 60 % 60, secs % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, 0, _) => format!("{h} h"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

/// `mm:ss`, or `h:mm:ss` from an hour on.
pub fn clock(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn cause_text(cause: BackOffCause) -> String {
    match cause {
        BackOffCause::Transport(kind) => format!("no answer from the token endpoint ({kind})"),
        BackOffCause::Status(status) => format!("the server is busy (HTTP {status})"),
        BackOffCause::TemporarilyUnavailable => "the server is temporarily unavailable".into(),
        _ => "the poll failed".into(),
    }
}

fn write_stderr(text: &str) {
    // Nothing useful can be done when stderr is gone; the flow goes on.
    let mut err = io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// The live countdown line on a terminal.
struct Countdown {
    line: Arc<Mutex<Line>>,
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

struct Line {
    expires_at: Instant,
    note: Option<String>,
}

impl Line {
    fn draw(&self) {
        let left = self.expires_at.saturating_duration_since(Instant::now());
        let mut text = if left.is_zero() {
            "The code has expired.".to_owned()
        } else {
            format!("Waiting for approval… the code expires in {}", clock(left))
        };
        if let Some(note) = &self.note {
            let _ = write!(text, " ({note})");
        }
        // One column short of the width: a line that fills the last column wraps on some
        // terminals, and a wrapped line cannot be redrawn in place. Asked at every redraw,
        // so a resized window is followed.
        let width = terminal::width().saturating_sub(1).max(1);
        write_stderr(&format!("\r\x1b[2K{}", terminal::fit(&text, width)));
    }
}

impl Countdown {
    fn start(expires_at: Instant) -> Self {
        let line = Arc::new(Mutex::new(Line {
            expires_at,
            note: None,
        }));
        let (stop, stopped) = mpsc::channel::<()>();
        let shared = Arc::clone(&line);
        let thread = std::thread::spawn(move || {
            loop {
                lock(&shared).draw();
                match stopped.recv_timeout(Duration::from_secs(1)) {
                    Err(RecvTimeoutError::Timeout) => {}
                    // A message or a dropped sender: the flow is over.
                    _ => break,
                }
            }
        });
        Self { line, stop, thread }
    }

    fn set_note(&self, note: String) {
        let mut line = lock(&self.line);
        line.note = Some(note);
        line.draw();
    }

    fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
        write_stderr("\r\x1b[2K");
    }
}

fn lock(line: &Mutex<Line>) -> std::sync::MutexGuard<'_, Line> {
    // The line holds no invariant a panic could break.
    line.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_show_the_uri_and_the_code() {
        let text = instructions("WDJB-MJHT", "https://example.com/device", None);
        assert!(text.contains("https://example.com/device"));
        assert!(text.contains("WDJB-MJHT"));
        assert!(!text.contains("fills in the code"));
        let text = instructions(
            "WDJB-MJHT",
            "https://example.com/device",
            Some("https://example.com/device?user_code=WDJB-MJHT"),
        );
        // The code is still shown next to the complete link (RFC 8628 §3.3.1).
        assert!(text.contains("https://example.com/device?user_code=WDJB-MJHT"));
        assert!(text.contains("shows WDJB-MJHT"));
        assert!(text.contains("\n    WDJB-MJHT\n"));
    }

    #[test]
    fn server_text_cannot_drive_the_terminal() {
        let text = instructions(
            "ab\x1b]0;pwned\x07cd",
            "https://e.example/\x1b[2J",
            Some("\r\nx"),
        );
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
        assert!(text.contains("ab]0;pwnedcd"));
        // The code is otherwise untouched: no recasing, no dash removal.
        assert_eq!(clean("aBc-12"), "aBc-12");
    }

    #[test]
    fn the_page_host_is_named_and_unsafe_links_are_not() {
        let text = instructions("WDJB-MJHT", "https://login.example.com/device", None);
        assert!(text.contains("The page is on login.example.com. Only continue if you started"));
        assert_eq!(
            page_host("http://127.0.0.1:8080/device").as_deref(),
            Some("127.0.0.1")
        );
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "http://login.example.com/device",
            "https://user@login.example.com/device",
            "/device",
        ] {
            assert_eq!(page_host(bad), None, "{bad}");
            assert!(
                !instructions("C", bad, None).contains("The page is on"),
                "{bad}"
            );
        }
    }

    #[test]
    fn durations_for_people() {
        assert_eq!(describe(Duration::from_secs(900)), "15 min");
        assert_eq!(describe(Duration::from_secs(870)), "14 min 30 s");
        assert_eq!(describe(Duration::from_secs(45)), "45 s");
        assert_eq!(describe(Duration::from_millis(50)), "0.05 s");
        assert_eq!(describe(Duration::from_secs(7200)), "2 h");
        assert_eq!(describe(Duration::from_secs(28_830)), "8 h");
        assert_eq!(describe(Duration::from_secs(5400)), "1 h 30 min");
        assert_eq!(clock(Duration::from_secs(899)), "14:59");
        assert_eq!(clock(Duration::from_secs(3725)), "1:02:05");
    }
}
