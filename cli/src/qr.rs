//! A QR code drawn with Unicode half blocks, two modules per character cell.
//!
//! The colours are set explicitly (black on white) so the code scans the same on dark and
//! light terminal themes; this is only drawn when stderr is a terminal.

use qrcode::{Color, QrCode};

/// Light modules around the code; scanners need a margin, and two modules is enough on a
/// white background.
const QUIET_ZONE: usize = 2;

const START: &str = "\x1b[30;107m";
const RESET: &str = "\x1b[0m";

/// The QR code of `data` as terminal lines, or `None` when it does not fit in a QR code.
pub fn render(data: &str) -> Option<String> {
    let code = QrCode::new(data.as_bytes()).ok()?;
    Some(draw(code.width(), &code.to_colors()))
}

fn draw(width: usize, modules: &[Color]) -> String {
    let side = width + 2 * QUIET_ZONE;
    let dark = |x: usize, y: usize| -> bool {
        let inside = (QUIET_ZONE..QUIET_ZONE + width).contains(&x)
            && (QUIET_ZONE..QUIET_ZONE + width).contains(&y);
        inside && modules[(y - QUIET_ZONE) * width + (x - QUIET_ZONE)] == Color::Dark
    };
    let mut out = String::with_capacity(side * side * 2);
    for y in (0..side).step_by(2) {
        out.push_str(START);
        for x in 0..side {
            out.push(match (dark(x, y), dark(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push_str(RESET);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the drawing back into modules, quiet zone included.
    fn decode(drawing: &str) -> Vec<Vec<bool>> {
        let mut rows = Vec::new();
        for line in drawing.lines() {
            let cells = line
                .strip_prefix(START)
                .and_then(|l| l.strip_suffix(RESET))
                .expect("every line is coloured and reset");
            let (top, bottom): (Vec<bool>, Vec<bool>) = cells
                .chars()
                .map(|c| match c {
                    '█' => (true, true),
                    '▀' => (true, false),
                    '▄' => (false, true),
                    ' ' => (false, false),
                    other => panic!("unexpected character {other:?}"),
                })
                .unzip();
            rows.push(top);
            rows.push(bottom);
        }
        rows
    }

    #[test]
    fn the_drawing_holds_every_module() {
        let data = "https://example.com/device?user_code=WDJB-MJHT";
        let code = QrCode::new(data).unwrap();
        let width = code.width();
        let colors = code.to_colors();
        let rows = decode(&render(data).unwrap());
        let side = width + 2 * QUIET_ZONE;
        // An odd side leaves one light half row at the bottom.
        assert_eq!(rows.len(), side + side % 2);
        for (y, row) in rows.iter().enumerate() {
            assert_eq!(row.len(), side);
            for (x, &cell) in row.iter().enumerate() {
                let want = x >= QUIET_ZONE
                    && y >= QUIET_ZONE
                    && x < QUIET_ZONE + width
                    && y < QUIET_ZONE + width
                    && colors[(y - QUIET_ZONE) * width + (x - QUIET_ZONE)] == Color::Dark;
                assert_eq!(cell, want, "module ({x}, {y})");
            }
        }
    }

    #[test]
    fn data_too_long_for_a_qr_code_is_not_drawn() {
        assert!(render(&"x".repeat(8000)).is_none());
    }
}
