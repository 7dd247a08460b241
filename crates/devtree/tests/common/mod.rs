//! A small description of a platform, turned into a device tree with
//! `vm-fdt`, so tests can put any number where firmware would.
#![allow(dead_code)]

use vm_fdt::{FdtReserveEntry, FdtWriter};

/// The cpu-intc phandle of hart `i`.
pub fn intc(i: u32) -> u32 {
    0x100 + i
}

/// How a CLINT lists its harts in `interrupts-extended`.
#[derive(Clone, Debug)]
pub enum Harts {
    /// Pairs (intc, 3) and (intc, 7) for each hart, in this order.
    Listed(Vec<u32>),
    /// No `interrupts-extended` at all.
    Unlisted,
    /// These raw cells.
    Raw(Vec<u32>),
}

#[derive(Clone, Debug)]
pub struct Spec {
    /// `device_type = "memory"` nodes, one range each.
    pub ram: Vec<(u64, u64)>,
    pub harts: u32,
    /// CLINTs: base and the harts they serve.
    pub clints: Vec<(u64, Harts)>,
    /// ACLINTs: (mswi base, mtimer mtime, mtimer mtimecmp, harts).
    pub aclints: Vec<(u64, u64, u64, Vec<u32>)>,
    /// `syscon-poweroff`: the syscon's base and the offset.
    pub poweroff: Option<(u64, u32)>,
    pub reboot: Option<(u64, u32)>,
    /// Memory reservation block entries, written as given (even if they wrap).
    pub rsv_block: Vec<(u64, u64)>,
    /// `/reserved-memory` children, one range each.
    pub reserved_nodes: Vec<(u64, u64)>,
    /// `#address-cells` of `/reserved-memory`.
    pub reserved_cells: u32,
    /// `riscv,isa`, `riscv,isa-base` and `riscv,isa-extensions` of every hart.
    pub isa: Option<String>,
    pub isa_base: Option<String>,
    pub isa_extensions: Option<Vec<String>>,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            ram: vec![(0x8000_0000, 0x1000_0000)],
            harts: 2,
            clints: vec![(0x200_0000, Harts::Listed(vec![0, 1]))],
            aclints: vec![],
            poweroff: None,
            reboot: None,
            rsv_block: vec![],
            reserved_nodes: vec![],
            reserved_cells: 2,
            isa: Some("rv64imafdc_zicsr_zifencei".into()),
            isa_base: None,
            isa_extensions: None,
        }
    }
}

/// `/cpus` with one hart, id 0, Sv39, and `riscv,isa` if given.
pub fn write_one_hart(w: &mut FdtWriter, isa: Option<&str>) {
    let cpus = w.begin_node("cpus").unwrap();
    w.property_u32("#address-cells", 1).unwrap();
    w.property_u32("#size-cells", 0).unwrap();
    let cpu = w.begin_node("cpu@0").unwrap();
    w.property_string("device_type", "cpu").unwrap();
    w.property_u32("reg", 0).unwrap();
    if let Some(isa) = isa {
        w.property_string("riscv,isa", isa).unwrap();
    }
    w.property_string("mmu-type", "riscv,sv39").unwrap();
    w.end_node(cpu).unwrap();
    w.end_node(cpus).unwrap();
}

fn pairs(harts: &[u32], irq: u32) -> Vec<u32> {
    harts.iter().flat_map(|&h| [intc(h), irq]).collect()
}

impl Spec {
    pub fn build(&self) -> &'static [u8] {
        // vm-fdt refuses entries that wrap or overlap, so write placeholders
        // and patch the real numbers in afterwards.
        let placeholders: Vec<FdtReserveEntry> = (0..self.rsv_block.len() as u64)
            .map(|i| FdtReserveEntry::new(0x1000 * (i + 1), 0x10).unwrap())
            .collect();
        let mut w = FdtWriter::new_with_mem_reserv(&placeholders).unwrap();
        let root = w.begin_node("").unwrap();
        w.property_u32("#address-cells", 2).unwrap();
        w.property_u32("#size-cells", 2).unwrap();
        for (i, &(base, size)) in self.ram.iter().enumerate() {
            let mem = w.begin_node(&format!("memory@{i:x}")).unwrap();
            w.property_string("device_type", "memory").unwrap();
            w.property_array_u64("reg", &[base, size]).unwrap();
            w.end_node(mem).unwrap();
        }
        if !self.reserved_nodes.is_empty() {
            let rm = w.begin_node("reserved-memory").unwrap();
            w.property_u32("#address-cells", self.reserved_cells).unwrap();
            w.property_u32("#size-cells", 2).unwrap();
            w.property_null("ranges").unwrap();
            for (i, &(base, size)) in self.reserved_nodes.iter().enumerate() {
                let n = w.begin_node(&format!("fw{i}@{base:x}")).unwrap();
                // Leading zero cells when the parent's #address-cells is above 2.
                let mut cells = vec![0; self.reserved_cells.saturating_sub(2) as usize];
                cells.extend([(base >> 32) as u32, base as u32, (size >> 32) as u32, size as u32]);
                w.property_array_u32("reg", &cells).unwrap();
                w.end_node(n).unwrap();
            }
            w.end_node(rm).unwrap();
        }
        let cpus = w.begin_node("cpus").unwrap();
        w.property_u32("#address-cells", 1).unwrap();
        w.property_u32("#size-cells", 0).unwrap();
        w.property_u32("timebase-frequency", 10_000_000).unwrap();
        for i in 0..self.harts {
            let cpu = w.begin_node(&format!("cpu@{i:x}")).unwrap();
            w.property_string("device_type", "cpu").unwrap();
            w.property_u32("reg", i).unwrap();
            w.property_string("mmu-type", "riscv,sv39").unwrap();
            if let Some(isa) = &self.isa {
                w.property_string("riscv,isa", isa).unwrap();
            }
            if let Some(base) = &self.isa_base {
                w.property_string("riscv,isa-base", base).unwrap();
            }
            if let Some(exts) = &self.isa_extensions {
                w.property_string_list("riscv,isa-extensions", exts.clone()).unwrap();
            }
            let ic = w.begin_node("interrupt-controller").unwrap();
            w.property_u32("#interrupt-cells", 1).unwrap();
            w.property_null("interrupt-controller").unwrap();
            w.property_string("compatible", "riscv,cpu-intc").unwrap();
            w.property_phandle(intc(i)).unwrap();
            w.end_node(ic).unwrap();
            w.end_node(cpu).unwrap();
        }
        w.end_node(cpus).unwrap();
        let soc = w.begin_node("soc").unwrap();
        w.property_u32("#address-cells", 2).unwrap();
        w.property_u32("#size-cells", 2).unwrap();
        for (i, (base, harts)) in self.clints.iter().enumerate() {
            let c = w.begin_node(&format!("clint{i}@{base:x}")).unwrap();
            w.property_string_list("compatible", vec!["sifive,clint0".into(), "riscv,clint0".into()]).unwrap();
            w.property_array_u64("reg", &[*base, 0x1_0000]).unwrap();
            match harts {
                Harts::Listed(h) => {
                    let cells: Vec<u32> = h.iter().flat_map(|&h| [intc(h), 3, intc(h), 7]).collect();
                    w.property_array_u32("interrupts-extended", &cells).unwrap();
                }
                Harts::Raw(cells) => w.property_array_u32("interrupts-extended", cells).unwrap(),
                Harts::Unlisted => {}
            }
            w.end_node(c).unwrap();
        }
        for (i, (mswi, mtime, mtimecmp, harts)) in self.aclints.iter().enumerate() {
            let t = w.begin_node(&format!("mtimer{i}@{mtimecmp:x}")).unwrap();
            w.property_string("compatible", "riscv,aclint-mtimer").unwrap();
            w.property_array_u64("reg", &[*mtime, 8, *mtimecmp, 0x7ff8]).unwrap();
            w.property_array_u32("interrupts-extended", &pairs(harts, 7)).unwrap();
            w.end_node(t).unwrap();
            let s = w.begin_node(&format!("mswi{i}@{mswi:x}")).unwrap();
            w.property_string("compatible", "riscv,aclint-mswi").unwrap();
            w.property_array_u64("reg", &[*mswi, 0x4000]).unwrap();
            w.property_array_u32("interrupts-extended", &pairs(harts, 3)).unwrap();
            w.end_node(s).unwrap();
        }
        let syscon = w.begin_node("syscon").unwrap();
        w.property_string("compatible", "syscon").unwrap();
        w.property_phandle(0x50).unwrap();
        w.property_array_u64("reg", &[self.poweroff.map_or(0x10_0000, |p| p.0), 0x1000]).unwrap();
        w.end_node(syscon).unwrap();
        let syscon2 = w.begin_node("syscon2").unwrap();
        w.property_string("compatible", "syscon").unwrap();
        w.property_phandle(0x51).unwrap();
        w.property_array_u64("reg", &[self.reboot.map_or(0x10_0000, |p| p.0), 0x1000]).unwrap();
        w.end_node(syscon2).unwrap();
        w.end_node(soc).unwrap();
        if let Some((_, offset)) = self.poweroff {
            let n = w.begin_node("poweroff").unwrap();
            w.property_string("compatible", "syscon-poweroff").unwrap();
            w.property_u32("regmap", 0x50).unwrap();
            w.property_u32("offset", offset).unwrap();
            w.property_u32("value", 0x5555).unwrap();
            w.end_node(n).unwrap();
        }
        if let Some((_, offset)) = self.reboot {
            let n = w.begin_node("reboot").unwrap();
            w.property_string("compatible", "syscon-reboot").unwrap();
            w.property_u32("regmap", 0x51).unwrap();
            w.property_u32("offset", offset).unwrap();
            w.property_u32("value", 0x7777).unwrap();
            w.end_node(n).unwrap();
        }
        w.end_node(root).unwrap();
        let mut blob = w.finish().unwrap();
        let rsvmap = u32::from_be_bytes(blob[16..20].try_into().unwrap()) as usize;
        for (i, &(base, size)) in self.rsv_block.iter().enumerate() {
            let at = rsvmap + 16 * i;
            blob[at..at + 8].copy_from_slice(&base.to_be_bytes());
            blob[at + 8..at + 16].copy_from_slice(&size.to_be_bytes());
        }
        Box::leak(blob.into_boxed_slice())
    }

    pub fn platform(&self) -> Result<devtree::Platform, devtree::PlatformError> {
        let fdt = devtree::Fdt::parse(self.build()).map_err(devtree::PlatformError::Tree)?;
        devtree::Platform::from_fdt(&fdt)
    }
}
