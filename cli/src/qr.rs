//! A QR code of the verification link, drawn by the `qrcode` crate's Unicode renderer (two
//! modules per character cell with half blocks).
//!
//! The colours are set explicitly (black on white) so the code scans the same on dark and
//! light terminal themes; this is only drawn when stderr is a terminal that may be drawn on.

use qrcode::QrCode;
use qrcode::render::Renderer;
use qrcode::render::unicode::Dense1x2;

/// Light modules around the code; scanners need a margin, and two modules is enough on a
/// white background (the renderer's own quiet zone is four, which costs two more lines).
const QUIET_ZONE: u32 = 2;

const START: &str = "\x1b[30;107m";
const RESET: &str = "\x1b[0m";

/// The QR code of `data` as terminal lines, or `None` when it does not fit in a QR code.
pub fn render(data: &str) -> Option<String> {
    let code = QrCode::new(data.as_bytes()).ok()?;
    let colors = code.to_colors();
    let drawing = Renderer::<Dense1x2>::new(&colors, code.width(), QUIET_ZONE)
        .dark_color(Dense1x2::Dark)
        .light_color(Dense1x2::Light)
        .build();
    let mut out = String::with_capacity(drawing.len() + 16 * code.width());
    for line in drawing.lines() {
        out.push_str(START);
        out.push_str(line);
        out.push_str(RESET);
        out.push('\n');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrcode::Color;

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
        let quiet = QUIET_ZONE as usize;
        let side = width + 2 * quiet;
        // An odd side leaves one light half row at the bottom.
        assert_eq!(rows.len(), side + side % 2);
        for (y, row) in rows.iter().enumerate() {
            assert_eq!(row.len(), side);
            for (x, &cell) in row.iter().enumerate() {
                let want = x >= quiet
                    && y >= quiet
                    && x < quiet + width
                    && y < quiet + width
                    && colors[(y - quiet) * width + (x - quiet)] == Color::Dark;
                assert_eq!(cell, want, "module ({x}, {y})");
            }
        }
    }

    #[test]
    fn data_too_long_for_a_qr_code_is_not_drawn() {
        assert!(render(&"x".repeat(8000)).is_none());
    }
}
