//! The three targets diosix builds for, and how QEMU emulates each.

use std::fmt;
use std::str::FromStr;

use anyhow::bail;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    Riscv64gc,
    Riscv64imac,
    Riscv32imac,
}

/// CPU properties that remove every floating-point extension from QEMU's
/// generic CPU, so an imac build really runs on a hart without F or D.
const NO_FPU: &str = "f=false,d=false,v=false,zfa=false,zfh=false,zfhmin=false,zcf=false,zcd=false";

impl Target {
    pub const ALL: [Target; 3] = [Target::Riscv64gc, Target::Riscv64imac, Target::Riscv32imac];

    /// The Rust target triple.
    pub fn triple(self) -> &'static str {
        match self {
            Target::Riscv64gc => "riscv64gc-unknown-none-elf",
            Target::Riscv64imac => "riscv64imac-unknown-none-elf",
            Target::Riscv32imac => "riscv32imac-unknown-none-elf",
        }
    }

    /// The architecture name used in `boot/binaries/<arch>/`.
    pub fn arch(self) -> &'static str {
        match self {
            Target::Riscv64gc => "riscv64gc",
            Target::Riscv64imac => "riscv64imac",
            Target::Riscv32imac => "riscv32imac",
        }
    }

    pub fn is_64bit(self) -> bool {
        self != Target::Riscv32imac
    }

    pub fn has_fpu(self) -> bool {
        self == Target::Riscv64gc
    }

    pub fn qemu_binary(self) -> &'static str {
        if self.is_64bit() { "qemu-system-riscv64" } else { "qemu-system-riscv32" }
    }

    /// The `-cpu` argument: QEMU's generic CPU, without an FPU for imac.
    pub fn qemu_cpu(self) -> String {
        let base = if self.is_64bit() { "rv64" } else { "rv32" };
        if self.has_fpu() { base.to_string() } else { format!("{base},{NO_FPU}") }
    }

    fn from_name(s: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.triple() == s || t.arch() == s)
    }
}

impl FromStr for Target {
    type Err = anyhow::Error;

    /// Accepts a triple (`riscv32imac-unknown-none-elf`) or an arch name (`riscv32imac`).
    fn from_str(s: &str) -> anyhow::Result<Target> {
        match Target::from_name(s) {
            Some(t) => Ok(t),
            None => bail!(
                "unknown target `{s}`; choose one of: {}",
                Target::ALL.map(|t| t.triple()).join(", ")
            ),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.triple())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_triples_parse() {
        assert_eq!("riscv64gc".parse::<Target>().unwrap(), Target::Riscv64gc);
        assert_eq!(
            "riscv32imac-unknown-none-elf".parse::<Target>().unwrap(),
            Target::Riscv32imac
        );
        let err = "riscv64gcc".parse::<Target>().unwrap_err().to_string();
        assert!(err.contains("unknown target `riscv64gcc`"), "{err}");
        assert!(err.contains("riscv64imac-unknown-none-elf"), "{err}");
    }

    #[test]
    fn imac_cpus_have_no_fpu() {
        assert_eq!(Target::Riscv64gc.qemu_cpu(), "rv64");
        for t in [Target::Riscv64imac, Target::Riscv32imac] {
            let cpu = t.qemu_cpu();
            assert!(cpu.contains("f=false") && cpu.contains("d=false"), "{cpu}");
        }
        assert_eq!(Target::Riscv32imac.qemu_binary(), "qemu-system-riscv32");
    }
}
