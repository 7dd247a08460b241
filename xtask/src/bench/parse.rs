//! What the guests print, read back: /init's `bench` lines and the test
//! guest's `cost` lines.

/// One line of /init's `bench` command.
#[derive(Clone, Debug, PartialEq)]
pub enum BenchLine {
    /// `bench <name> <seconds> s (<what>)`.
    Time {
        workload: String,
        secs: f64,
        what: String,
    },
    /// `bench <name> failed: <why>`.
    Failed { workload: String, why: String },
}

/// Every `bench` result line in `transcript`, in order. Other lines (the
/// typed command's echo, kernel messages, `bench done`) are skipped.
pub fn bench_lines(transcript: &str) -> Vec<BenchLine> {
    transcript
        .lines()
        .filter_map(|l| bench_line(l.trim_end_matches('\r')))
        .collect()
}

fn bench_line(line: &str) -> Option<BenchLine> {
    // With other capsules beside it the boot capsule's lines are tagged.
    let line = line.strip_prefix("[boot] ").unwrap_or(line);
    let rest = line.strip_prefix("bench ")?;
    let (workload, rest) = rest.split_once(' ')?;
    if workload.is_empty() || !workload.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    if let Some(why) = rest.strip_prefix("failed: ") {
        return Some(BenchLine::Failed {
            workload: workload.into(),
            why: why.into(),
        });
    }
    let (secs, rest) = rest.split_once(' ')?;
    let secs: f64 = secs
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s >= 0.0)?;
    let rest = rest.strip_prefix('s')?;
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    let what = rest
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .to_string();
    Some(BenchLine::Time {
        workload: workload.into(),
        secs,
        what,
    })
}

/// Every `testguest: cost <call>: <n> instructions` line: (call, n).
pub fn cost_lines(transcript: &str) -> Vec<(String, u64)> {
    transcript
        .lines()
        .filter_map(|l| {
            let rest = l.trim_end_matches('\r').split_once("testguest: cost ")?.1;
            let (call, n) = rest.split_once(": ")?;
            let n = n.strip_suffix(" instructions")?.trim().parse().ok()?;
            (!call.is_empty() && !call.contains(' ')).then(|| (call.to_string(), n))
        })
        .collect()
}

/// The hypervisor's boot report line about Sstc (`sstc: ...`), if any.
pub fn sstc_line(transcript: &str) -> Option<String> {
    transcript
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .find_map(|l| {
            l.trim_start_matches("[diosix] ")
                .strip_prefix("sstc: ")
                .map(str::to_string)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_lines_are_read_and_the_rest_skipped() {
        let t = "diosix> bench\r\n\
                 bench cpu 1.234567 s (400 rounds of FNV-1a over 64 KiB, hash 1234abcd)\r\n\
                 [   12.3] random: crng init done\n\
                 bench ipi failed: needs 2 online cpus\n\
                 bench timer 0.5 s\n\
                 bench mem 2 ms (no)\n\
                 bench Mem 2 s\n\
                 bench fence -1 s\n\
                 bench done\n\
                 bench: unknown workload disk; choose from: cpu\n";
        assert_eq!(
            bench_lines(t),
            [
                BenchLine::Time {
                    workload: "cpu".into(),
                    secs: 1.234567,
                    what: "400 rounds of FNV-1a over 64 KiB, hash 1234abcd".into()
                },
                BenchLine::Failed {
                    workload: "ipi".into(),
                    why: "needs 2 online cpus".into()
                },
                BenchLine::Time {
                    workload: "timer".into(),
                    secs: 0.5,
                    what: String::new()
                },
            ]
        );
    }

    #[test]
    fn tagged_bench_lines_are_the_boot_capsules() {
        let t = "[boot] bench cpu 1.5 s (x)\n[web] bench cpu 9 s (not ours)\n";
        assert_eq!(
            bench_lines(t),
            [BenchLine::Time { workload: "cpu".into(), secs: 1.5, what: "x".into() }]
        );
    }

    #[test]
    fn cost_lines_give_call_and_instructions() {
        let t = "testguest: scenario cost\n\
                 testguest: cost base_get_spec_version: 97 instructions\r\n\
                 ....\n\
                 testguest: cost console_write_byte: 1402 instructions\n\
                 testguest: cost: one hart only, no IPI to another\n\
                 testguest: cost set_timer: many instructions\n";
        assert_eq!(
            cost_lines(t),
            [
                ("base_get_spec_version".to_string(), 97),
                ("console_write_byte".to_string(), 1402)
            ]
        );
    }

    #[test]
    fn the_sstc_report_line() {
        assert_eq!(
            sstc_line("x\n[diosix] sstc: offered on harts 0-3\r\n").as_deref(),
            Some("offered on harts 0-3")
        );
        assert_eq!(
            sstc_line("sstc: not offered (built with DIOSIX_SSTC=0)\n").as_deref(),
            Some("not offered (built with DIOSIX_SSTC=0)")
        );
        assert_eq!(sstc_line("nothing\n"), None);
    }
}
