//! The ratios as an SVG bar chart, written by hand: one horizontal bar per
//! row (workload and target), its length diosix/OpenSBI, with a line at
//! 1.0. Bars past the line (diosix slower or costlier) are red, the
//! others green; a row without a ratio gets "n/a" and no bar.

use std::fmt::Write as _;

use super::report::Row;

const LABEL_W: f64 = 260.0;
const PLOT_W: f64 = 520.0;
const BAR_H: f64 = 18.0;
const GAP: f64 = 6.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 36.0;

/// The chart for `rows`, titled `title`.
pub fn chart(title: &str, rows: &[Row]) -> String {
    let ratios: Vec<Option<f64>> = rows.iter().map(Row::ratio).collect();
    // The axis reaches the largest ratio (at least 1.25), in steps of 0.25.
    let top = ratios.iter().flatten().fold(1.25f64, |m, &r| m.max(r));
    let axis_max = (top / 0.25).ceil() * 0.25;
    let x = |r: f64| LABEL_W + r / axis_max * PLOT_W;
    let width = LABEL_W + PLOT_W + 90.0;
    let height = TOP + rows.len() as f64 * (BAR_H + GAP) + BOTTOM;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="10" y="20" font-size="14" font-weight="bold">{}</text>"#,
        escape(title)
    );
    let _ = writeln!(
        s,
        r##"<text x="10" y="38" fill="#555">diosix median / OpenSBI median, lower is better: right of 1.0 diosix is slower or costs more</text>"##
    );
    // Grid lines and their labels every 0.25.
    let bottom = height - BOTTOM;
    let steps = (axis_max / 0.25).round() as usize;
    for i in 0..=steps {
        let r = i as f64 * 0.25;
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{bottom}" stroke="#ddd"/><text x="{x:.1}" y="{ty}" text-anchor="middle" fill="#555">{r:.2}</text>"##,
            x = x(r),
            ty = bottom + 14.0
        );
    }
    for (i, (row, ratio)) in rows.iter().zip(&ratios).enumerate() {
        let y = TOP + GAP / 2.0 + i as f64 * (BAR_H + GAP);
        let label = format!("{} {}", row.target, row.workload);
        let _ = writeln!(
            s,
            r#"<text x="{lx}" y="{ty:.1}" text-anchor="end">{}</text>"#,
            escape(&label),
            lx = LABEL_W - 8.0,
            ty = y + BAR_H - 5.0
        );
        match ratio {
            Some(r) => {
                let fill = if *r > 1.0 { "#d9534f" } else { "#5cb85c" };
                let _ = writeln!(
                    s,
                    r#"<rect class="bar" x="{LABEL_W}" y="{y:.1}" width="{w:.1}" height="{BAR_H}" fill="{fill}"><title>{} {}: {r:.3}</title></rect><text x="{tx:.1}" y="{ty:.1}">{r:.3}</text>"#,
                    escape(&row.target),
                    escape(&row.workload),
                    w = x(*r) - LABEL_W,
                    tx = x(*r) + 4.0,
                    ty = y + BAR_H - 5.0
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    r##"<text x="{tx}" y="{ty:.1}" fill="#999">n/a</text>"##,
                    tx = LABEL_W + 4.0,
                    ty = y + BAR_H - 5.0
                );
            }
        }
    }
    let _ = writeln!(
        s,
        r#"<line class="one" x1="{x1:.1}" y1="{y1}" x2="{x1:.1}" y2="{bottom}" stroke="black" stroke-width="2"/>"#,
        x1 = x(1.0),
        y1 = TOP - 4.0
    );
    s.push_str("</svg>\n");
    s
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(workload: &str, d: &[f64], o: &[f64]) -> Row {
        Row {
            target: "riscv32imac".into(),
            workload: workload.into(),
            unit: "s".into(),
            diosix_kind: "diosix".into(),
            diosix: d.to_vec(),
            opensbi: o.to_vec(),
            failed: Vec::new(),
        }
    }

    #[test]
    fn one_bar_per_result_and_a_line_at_one() {
        let rows = [
            row("cpu", &[1.0], &[1.0]),
            row("timer <x>", &[3.0], &[1.0]),
            row("ipi", &[], &[1.0]),
            row("boot", &[0.5], &[1.0]),
        ];
        let svg = chart("diosix & OpenSBI", &rows);
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches(r#"class="bar""#).count(), 3, "{svg}");
        assert_eq!(svg.matches(r#"class="one""#).count(), 1);
        assert_eq!(svg.matches("n/a").count(), 1);
        assert!(svg.contains("diosix &amp; OpenSBI") && svg.contains("timer &lt;x&gt;"));
        assert!(!svg.contains("<x>"));
        // A ratio of 3 stretches the axis to 3.00; 1.0 sits a third of the way.
        assert!(svg.contains(">3.00</text>"), "{svg}");
        let one = svg.lines().find(|l| l.contains(r#"class="one""#)).unwrap();
        assert!(
            one.contains(&format!(r#"x1="{:.1}""#, LABEL_W + PLOT_W / 3.0)),
            "{one}"
        );
        // Slower is red, faster or equal green.
        assert_eq!(svg.matches("#d9534f").count(), 1);
        assert_eq!(svg.matches("#5cb85c").count(), 2);
        // Every bar's width is its ratio on that scale.
        assert!(
            svg.contains(&format!(r#"width="{:.1}""#, PLOT_W / 6.0)),
            "{svg}"
        );
    }

    #[test]
    fn an_empty_chart_is_still_valid() {
        let svg = chart("none", &[]);
        assert_eq!(svg.matches("<rect").count(), 1);
        assert!(svg.contains(r#"class="one""#));
    }
}
