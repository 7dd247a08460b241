//! The results: one [`Row`] per workload and target, summarised, printed
//! as a table, and written as JSON and CSV.

use std::fmt::Write as _;

/// Every value here is lower-is-better (seconds, instructions), so a ratio
/// diosix/OpenSBI above 1 means diosix is slower or costs more.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The target's arch name, e.g. `riscv64gc`.
    pub target: String,
    /// e.g. `boot`, `cpu`, `timer (DIOSIX_SSTC=0)`, `sbi set_timer`.
    pub workload: String,
    /// `s` or `instructions`.
    pub unit: String,
    /// What the diosix column measured (`diosix`, or `diosix, DIOSIX_SSTC=0`).
    pub diosix_kind: String,
    pub diosix: Vec<f64>,
    pub opensbi: Vec<f64>,
    /// Runs that gave no value, and why (first reason of each kind).
    pub failed: Vec<String>,
}

/// Median, minimum, maximum and count of some values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Summary {
    /// `None` for no values.
    pub fn of(values: &[f64]) -> Option<Summary> {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = match n {
            0 => return None,
            _ if n % 2 == 1 => v[n / 2],
            _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        };
        Some(Summary {
            n,
            median,
            min: v[0],
            max: v[n - 1],
        })
    }
}

impl Row {
    pub fn diosix_summary(&self) -> Option<Summary> {
        Summary::of(&self.diosix)
    }

    pub fn opensbi_summary(&self) -> Option<Summary> {
        Summary::of(&self.opensbi)
    }

    /// diosix's median over OpenSBI's.
    pub fn ratio(&self) -> Option<f64> {
        let (d, o) = (self.diosix_summary()?, self.opensbi_summary()?);
        (o.median > 0.0).then(|| d.median / o.median)
    }

    /// For instruction counts: how many more (or fewer) diosix takes.
    pub fn verdict(&self) -> String {
        let (Some(d), Some(o), Some(r)) =
            (self.diosix_summary(), self.opensbi_summary(), self.ratio())
        else {
            return "no value to compare".into();
        };
        let pct = (r - 1.0) * 100.0;
        let diff = d.median - o.median;
        let amount = if self.unit == "s" {
            format!("{:.3} s", diff.abs())
        } else {
            format!("{:.0} {}", diff.abs(), self.unit)
        };
        if pct.abs() < 0.5 {
            "same".into()
        } else if diff > 0.0 {
            format!("diosix {amount} more (+{pct:.0}%)")
        } else {
            format!("diosix {amount} less ({pct:.0}%)")
        }
    }
}

/// Header facts for the table and the files.
#[derive(Clone, Debug, Default)]
pub struct Meta {
    pub date: String,
    /// `git describe --always --dirty` of the tree that was built.
    pub commit: String,
    pub qemu: Vec<String>,
    pub host_cpus: usize,
    pub smp: u32,
    pub memory_mib: u64,
    pub capsule_mib: u64,
    pub runs: u32,
    /// Per target: e.g. `riscv64gc: diosix Linux sees 250 MiB, OpenSBI 250 MiB; sstc: on harts 0-3`.
    pub notes: Vec<String>,
}

fn cell(s: Option<Summary>, unit: &str) -> String {
    let Some(s) = s else { return "-".into() };
    let f = |x: f64| {
        if unit == "s" {
            format!("{x:.3}")
        } else {
            format!("{x:.0}")
        }
    };
    if s.n == 1 || s.min == s.max {
        f(s.median)
    } else {
        format!("{} [{}-{}]", f(s.median), f(s.min), f(s.max))
    }
}

/// The terminal table, all targets.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    let head = [
        "target",
        "workload",
        "unit",
        "diosix median [min-max]",
        "OpenSBI median [min-max]",
        "ratio",
        "note",
    ];
    let mut lines: Vec<[String; 7]> = vec![head.map(String::from)];
    for r in rows {
        let ratio = r.ratio().map_or("-".into(), |x| format!("{x:.3}"));
        let mut note = if r.unit == "s" {
            String::new()
        } else {
            r.verdict()
        };
        if r.diosix_kind != "diosix" {
            note = [note, format!("diosix column: {}", r.diosix_kind)]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
        }
        if !r.failed.is_empty() {
            let failed = format!("failed: {}", r.failed.join("; "));
            note = if note.is_empty() {
                failed
            } else {
                format!("{note}; {failed}")
            };
        }
        lines.push([
            r.target.clone(),
            r.workload.clone(),
            r.unit.clone(),
            cell(r.diosix_summary(), &r.unit),
            cell(r.opensbi_summary(), &r.unit),
            ratio,
            note,
        ]);
    }
    let mut widths = [0usize; 7];
    for l in &lines {
        for (w, c) in widths.iter_mut().zip(l) {
            *w = (*w).max(c.chars().count());
        }
    }
    for l in &lines {
        let mut s = String::new();
        for (i, (c, w)) in l.iter().zip(widths).enumerate() {
            match i {
                6 => s.push_str(c),
                3..=5 => {
                    let _ = write!(s, "{c:>w$}  ");
                }
                _ => {
                    let _ = write!(s, "{c:<w$}  ");
                }
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    }
    out
}

/// The results as JSON.
pub fn json(meta: &Meta, rows: &[Row]) -> String {
    let summary = |s: Option<Summary>, values: &[f64]| match s {
        Some(s) => {
            serde_json::json!({"n": s.n, "median": s.median, "min": s.min, "max": s.max, "values": values})
        }
        None => serde_json::json!({"n": 0, "values": values}),
    };
    let rows: Vec<_> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "target": r.target,
                "workload": r.workload,
                "unit": r.unit,
                "lower_is_better": true,
                "diosix_kind": r.diosix_kind,
                "diosix": summary(r.diosix_summary(), &r.diosix),
                "opensbi": summary(r.opensbi_summary(), &r.opensbi),
                "ratio": r.ratio(),
                "failed": r.failed,
            })
        })
        .collect();
    let doc = serde_json::json!({
        "date": meta.date,
        "commit": meta.commit,
        "qemu": meta.qemu,
        "host_cpus": meta.host_cpus,
        "smp": meta.smp,
        "memory_mib": meta.memory_mib,
        "capsule_mib": meta.capsule_mib,
        "runs": meta.runs,
        "ratio": "diosix median / OpenSBI median; every unit is lower-is-better, so above 1 means diosix is slower",
        "notes": meta.notes,
        "results": rows,
    });
    serde_json::to_string_pretty(&doc).expect("JSON values serialise") + "\n"
}

/// The results as CSV, one line per row.
pub fn csv(rows: &[Row]) -> String {
    let mut out = String::from(
        "target,workload,unit,lower_is_better,diosix_kind,diosix_n,diosix_median,diosix_min,diosix_max,\
         opensbi_n,opensbi_median,opensbi_min,opensbi_max,ratio\n",
    );
    let num = |x: Option<f64>| x.map_or(String::new(), |x| format!("{x}"));
    for r in rows {
        let d = r.diosix_summary();
        let o = r.opensbi_summary();
        let fields = [
            field(&r.target),
            field(&r.workload),
            field(&r.unit),
            "true".into(),
            field(&r.diosix_kind),
            d.map_or(0, |s| s.n).to_string(),
            num(d.map(|s| s.median)),
            num(d.map(|s| s.min)),
            num(d.map(|s| s.max)),
            o.map_or(0, |s| s.n).to_string(),
            num(o.map(|s| s.median)),
            num(o.map(|s| s.min)),
            num(o.map(|s| s.max)),
            num(r.ratio()),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

/// A CSV field, quoted if it must be.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn row(workload: &str, unit: &str, d: &[f64], o: &[f64]) -> Row {
        Row {
            target: "riscv64gc".into(),
            workload: workload.into(),
            unit: unit.into(),
            diosix_kind: "diosix".into(),
            diosix: d.to_vec(),
            opensbi: o.to_vec(),
            failed: Vec::new(),
        }
    }

    #[test]
    fn summaries() {
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(
            Summary::of(&[3.0]),
            Some(Summary {
                n: 1,
                median: 3.0,
                min: 3.0,
                max: 3.0
            })
        );
        assert_eq!(
            Summary::of(&[5.0, 1.0, 3.0]),
            Some(Summary {
                n: 3,
                median: 3.0,
                min: 1.0,
                max: 5.0
            })
        );
        assert_eq!(Summary::of(&[4.0, 1.0, 3.0, 2.0]).unwrap().median, 2.5);
    }

    #[test]
    fn ratios_and_verdicts() {
        let r = row("sbi set_timer", "instructions", &[150.0], &[100.0]);
        assert_eq!(r.ratio(), Some(1.5));
        assert_eq!(r.verdict(), "diosix 50 instructions more (+50%)");
        let r = row("sbi send_ipi_self", "instructions", &[395.0], &[3244.0]);
        assert_eq!(r.verdict(), "diosix 2849 instructions less (-88%)");
        assert_eq!(
            row("x", "instructions", &[100.0], &[100.0]).verdict(),
            "same"
        );
        let r = row("cpu", "s", &[1.0, 3.0], &[]);
        assert_eq!(r.ratio(), None);
        assert_eq!(r.verdict(), "no value to compare");
        assert_eq!(row("cpu", "s", &[1.0], &[0.0]).ratio(), None);
    }

    #[test]
    fn the_table_has_a_line_per_row_and_says_where_diosix_costs_more() {
        let mut t = row("timer (DIOSIX_SSTC=0)", "s", &[2.0, 2.2, 2.1], &[2.0]);
        t.diosix_kind = "diosix, DIOSIX_SSTC=0".into();
        t.failed = vec!["run 2 diosix: timeout".into()];
        let rows = [
            row("cpu", "s", &[1.0, 1.2, 1.1], &[1.0, 1.0]),
            t,
            row("sbi set_timer", "instructions", &[150.0], &[100.0]),
        ];
        let text = table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].starts_with("target"), "{text}");
        assert!(
            lines[1].contains("1.100 [1.000-1.200]") && lines[1].contains("1.100"),
            "{text}"
        );
        assert!(
            lines[2]
                .contains("diosix column: diosix, DIOSIX_SSTC=0; failed: run 2 diosix: timeout"),
            "{text}"
        );
        assert!(
            lines[3].contains("1.500") && lines[3].ends_with("diosix 50 instructions more (+50%)"),
            "{text}"
        );
    }

    #[test]
    fn json_and_csv_carry_every_row() {
        let rows = [
            row("cpu", "s", &[1.0, 3.0], &[2.0]),
            row("a,\"b\"", "s", &[], &[1.0]),
        ];
        let meta = Meta {
            date: "2026-11-27".into(),
            runs: 2,
            ..Meta::default()
        };
        let v: serde_json::Value = serde_json::from_str(&json(&meta, &rows)).unwrap();
        assert_eq!(v["runs"], 2);
        assert_eq!(v["results"].as_array().unwrap().len(), 2);
        assert_eq!(v["results"][0]["diosix"]["median"], 2.0);
        assert_eq!(
            v["results"][0]["diosix"]["values"],
            serde_json::json!([1.0, 3.0])
        );
        assert_eq!(v["results"][0]["ratio"], 1.0);
        assert_eq!(v["results"][1]["ratio"], serde_json::Value::Null);
        assert_eq!(v["results"][1]["diosix"]["n"], 0);

        let text = csv(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        let columns = lines[0].split(',').count();
        assert_eq!(lines[1], "riscv64gc,cpu,s,true,diosix,2,2,1,3,1,2,2,2,1");
        assert_eq!(lines[1].split(',').count(), columns);
        assert_eq!(
            lines[2],
            "riscv64gc,\"a,\"\"b\"\"\",s,true,diosix,0,,,,1,1,1,1,"
        );
    }
}
