//! Kernel configuration fragments: parsing, merging onto a base `.config`,
//! and checking that what we asked for survived `make olddefconfig`.

use anyhow::{Result, bail};

/// One option's value: `CONFIG_X=<value>` or `# CONFIG_X is not set`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Set(String),
    Unset,
}

/// An ordered list of options, as a fragment or a whole `.config` holds them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    entries: Vec<(String, Value)>,
}

impl Config {
    /// Parses kconfig text. `name` is used in error messages.
    pub fn parse(name: &str, text: &str) -> Result<Config> {
        let mut config = Config::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("# CONFIG_") {
                if let Some(opt) = rest.strip_suffix(" is not set") {
                    config.set(&format!("CONFIG_{opt}"), Value::Unset);
                }
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match line.split_once('=') {
                Some((opt, value)) if opt.starts_with("CONFIG_") && is_symbol(opt) => {
                    config.set(opt, Value::Set(value.to_string()));
                }
                _ => bail!("{name}:{}: not a kconfig line: `{line}`", i + 1),
            }
        }
        Ok(config)
    }

    /// Sets `opt`, replacing an earlier value in place or appending.
    pub fn set(&mut self, opt: &str, value: Value) {
        match self.entries.iter_mut().find(|(o, _)| o == opt) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((opt.to_string(), value)),
        }
    }

    pub fn get(&self, opt: &str) -> Option<&Value> {
        self.entries.iter().find(|(o, _)| o == opt).map(|(_, v)| v)
    }

    /// Applies every entry of `other` on top of this one.
    pub fn merge(&mut self, other: &Config) {
        for (opt, value) in &other.entries {
            self.set(opt, value.clone());
        }
    }

    /// Kconfig text that `make olddefconfig` reads.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for (opt, value) in &self.entries {
            match value {
                Value::Set(v) => s.push_str(&format!("{opt}={v}\n")),
                Value::Unset => s.push_str(&format!("# {opt} is not set\n")),
            }
        }
        s
    }

    /// The options of `wanted` whose value in `self` (the final `.config`)
    /// differs: usually a dependency that kconfig would not satisfy.
    pub fn mismatches(&self, wanted: &Config) -> Vec<String> {
        wanted
            .entries
            .iter()
            .filter_map(|(opt, want)| {
                let got = self.get(opt).unwrap_or(&Value::Unset);
                (got != want).then(|| {
                    let show = |v: &Value| match v {
                        Value::Set(s) => s.clone(),
                        Value::Unset => "not set".into(),
                    };
                    format!("{opt}: wanted {}, got {}", show(want), show(got))
                })
            })
            .collect()
    }
}

fn is_symbol(opt: &str) -> bool {
    opt.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "\
# Automatically generated file; DO NOT EDIT.
CONFIG_64BIT=y
# CONFIG_SMP is not set
CONFIG_NR_CPUS=8
CONFIG_CMDLINE=\"\"
";

    #[test]
    fn later_fragments_win_and_order_is_kept() {
        let mut c = Config::parse("base", BASE).unwrap();
        let common = Config::parse("common", "CONFIG_SMP=y\nCONFIG_NR_CPUS=16\n# CONFIG_FPU is not set\n").unwrap();
        let arch = Config::parse("arch", "CONFIG_FPU=y\n").unwrap();
        c.merge(&common);
        c.merge(&arch);
        assert_eq!(
            c.render(),
            "CONFIG_64BIT=y\nCONFIG_SMP=y\nCONFIG_NR_CPUS=16\nCONFIG_CMDLINE=\"\"\nCONFIG_FPU=y\n"
        );
    }

    #[test]
    fn strings_keep_their_quotes_and_spaces() {
        let c = Config::parse("f", "CONFIG_CMDLINE=\"earlycon=sbi console=hvc0\"\n").unwrap();
        assert_eq!(c.get("CONFIG_CMDLINE"), Some(&Value::Set("\"earlycon=sbi console=hvc0\"".into())));
    }

    #[test]
    fn junk_lines_are_errors_with_their_place() {
        let err = Config::parse("boot/linux/x.config", "CONFIG_A=y\nCONFIG_B y\n").unwrap_err();
        assert_eq!(err.to_string(), "boot/linux/x.config:2: not a kconfig line: `CONFIG_B y`");
        assert!(Config::parse("f", "FOO=y\n").is_err());
        assert!(Config::parse("f", "CONFIG_A-B=y\n").is_err());
        assert!(Config::parse("f", "CONFIG_INCLUDE_SUSv2=y\n").is_ok(), "busybox uses mixed case");
    }

    #[test]
    fn mismatches_name_what_kconfig_dropped() {
        let wanted = Config::parse("w", "CONFIG_SMP=y\n# CONFIG_EFI is not set\nCONFIG_HVC_RISCV_SBI=y\n").unwrap();
        let got = Config::parse("got", "CONFIG_SMP=y\n# CONFIG_HVC_RISCV_SBI is not set\n").unwrap();
        assert_eq!(got.mismatches(&wanted), ["CONFIG_HVC_RISCV_SBI: wanted y, got not set"]);
    }
}
