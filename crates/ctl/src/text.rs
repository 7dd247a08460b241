//! The human side of the protocol, for the manager's commands: reading
//! a size as typed, and showing images, capsules, sizes and times.
//!
//! Sizes are typed in MiB: `128`, `128M`, `128MiB` and `128MB` all mean
//! 128 MiB, and `1G`, `1GiB`, `1GB` mean 1024 MiB (RAM comes in binary
//! units, so `MB` and `GB` are taken as those). Units may be in any case
//! and a space may come before them; a fraction is fine if the result is
//! whole (`1.5G`), and the result is at least 1 MiB.
//!
//! Tables have a header line, then one line per row, columns two spaces
//! apart: text to the left, numbers to the right. Widths count
//! characters, not bytes. Names from the other side have control
//! characters replaced with `?` so that they cannot steer the terminal.
//! Lines end with LF alone; the console's tty adds the CR.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::{CapsuleInfo, ImageInfo};

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// Why a typed size was not taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SizeError {
    Empty,
    /// Not digits with at most one point.
    NotANumber(String),
    /// A unit other than M or G.
    BadUnit(String),
    /// Not a whole number of MiB (`1.0001G`).
    NotWhole(String),
    Zero,
    /// More MiB than a `u32` holds.
    TooBig(String),
}

impl fmt::Display for SizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SizeError::Empty => f.write_str("No size was given; write one like 128, 128M or 1G."),
            SizeError::NotANumber(s) => write!(
                f,
                "The size \"{}\" is not a number; write one like 128, 128M or 1G.",
                clean(s)
            ),
            SizeError::BadUnit(u) => {
                write!(f, "Sizes are in M (MiB) or G (GiB), not \"{}\".", clean(u))
            }
            SizeError::NotWhole(s) => {
                write!(f, "The size \"{}\" is not a whole number of MiB.", clean(s))
            }
            SizeError::Zero => f.write_str("The size must be more than zero."),
            SizeError::TooBig(s) => write!(
                f,
                "The size \"{}\" is too big: the most is {} MiB.",
                clean(s),
                u32::MAX
            ),
        }
    }
}

impl core::error::Error for SizeError {}

/// A size as typed (see the module docs), in MiB.
pub fn parse_size_mib(typed: &str) -> Result<u32, SizeError> {
    let s = typed.trim();
    if s.is_empty() {
        return Err(SizeError::Empty);
    }
    let end = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(end);
    let unit = unit.trim_start();
    let per_unit: u128 = if ["", "m", "mb", "mib"]
        .iter()
        .any(|u| unit.eq_ignore_ascii_case(u))
    {
        1
    } else if ["g", "gb", "gib"]
        .iter()
        .any(|u| unit.eq_ignore_ascii_case(u))
    {
        1024
    } else if number.is_empty() {
        return Err(SizeError::NotANumber(s.into()));
    } else {
        return Err(SizeError::BadUnit(unit.into()));
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let fraction = fraction.trim_end_matches('0');
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !(fraction.is_empty() || digits(fraction)) {
        return Err(SizeError::NotANumber(s.into()));
    }
    // A fraction longer than 30 digits cannot make a whole MiB here, and
    // 10^30 times anything up to u32::MAX GiB still fits in a u128.
    if fraction.len() > 30 {
        return Err(SizeError::NotWhole(s.into()));
    }
    let too_big = || SizeError::TooBig(s.into());
    let scale = 10u128.pow(fraction.len() as u32);
    let mut scaled: u128 = 0;
    for b in whole.bytes().chain(fraction.bytes()) {
        scaled = scaled
            .checked_mul(10)
            .and_then(|v| v.checked_add(u128::from(b - b'0')))
            .filter(|&v| v / scale <= u128::from(u32::MAX))
            .ok_or_else(too_big)?;
    }
    let mib_scaled = scaled * per_unit;
    if !mib_scaled.is_multiple_of(scale) {
        return Err(SizeError::NotWhole(s.into()));
    }
    match u32::try_from(mib_scaled / scale) {
        Ok(0) => Err(SizeError::Zero),
        Ok(mib) => Ok(mib),
        Err(_) => Err(too_big()),
    }
}

/// Bytes in MiB, as error messages give them: `96 MiB` when whole,
/// else to a tenth rounded down (`95.9 MiB`, never more than there is),
/// and `<0.1 MiB` for a sliver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mib(pub u64);

impl fmt::Display for Mib {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, rest) = (self.0 / MIB, self.0 % MIB);
        let tenths = rest * 10 / MIB;
        match (whole, rest, tenths) {
            (_, 0, _) => write!(f, "{whole} MiB"),
            (0, _, 0) => f.write_str("<0.1 MiB"),
            _ => write!(f, "{whole}.{tenths} MiB"),
        }
    }
}

/// Bytes in the largest unit that leaves at least 1: `512 B`, `9 KiB`,
/// `12.5 MiB`, `1 GiB`; to a tenth rounded down when not whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size(pub u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        let Some((unit, name)) = [(GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")]
            .into_iter()
            .find(|&(unit, _)| b >= unit)
        else {
            return write!(f, "{b} B");
        };
        let (whole, rest) = (b / unit, b % unit);
        if rest == 0 {
            write!(f, "{whole} {name}")
        } else {
            write!(f, "{whole}.{} {name}", rest * 10 / unit)
        }
    }
}

/// A time in milliseconds, in its two largest units: `4.2s`, `12m05s`,
/// `3h07m`, `2d04h`, rounded down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed(pub u64);

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        let s = ms / 1000;
        match s {
            0..60 => write!(f, "{s}.{}s", ms % 1000 / 100),
            60..3600 => write!(f, "{}m{:02}s", s / 60, s % 60),
            3600..86_400 => write!(f, "{}h{:02}m", s / 3600, s % 3600 / 60),
            _ => write!(f, "{}d{:02}h", s / 86_400, s % 86_400 / 3600),
        }
    }
}

/// `s` with control characters (which would move the cursor, clear the
/// screen or start an escape sequence) shown as `?`.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
}

/// Lays out `rows` under `columns` as the module docs say. The last
/// column, if left-aligned, is not padded, so no line ends in spaces.
fn table(columns: &[(&str, Align)], rows: &[Vec<String>]) -> String {
    let header: Vec<String> = columns.iter().map(|(h, _)| h.to_string()).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in core::iter::once(&header).chain(rows) {
        for (i, ((cell, &(_, align)), &width)) in row.iter().zip(columns).zip(&widths).enumerate() {
            let pad = width - cell.chars().count();
            let last = i + 1 == columns.len();
            if i > 0 {
                out.push_str("  ");
            }
            match align {
                Align::Left => {
                    out.push_str(cell);
                    if !last {
                        out.extend(core::iter::repeat_n(' ', pad));
                    }
                }
                Align::Right => {
                    out.extend(core::iter::repeat_n(' ', pad));
                    out.push_str(cell);
                }
            }
        }
        out.push('\n');
    }
    out
}

/// The capsules as a table: id, name, state, vcores, RAM, uptime, CPU
/// time and restarts; or a line saying there are none.
pub fn format_capsules(capsules: &[CapsuleInfo]) -> String {
    if capsules.is_empty() {
        return "No capsules.\n".into();
    }
    use Align::{Left, Right};
    let columns = [
        ("ID", Right),
        ("NAME", Left),
        ("STATE", Left),
        ("VCORES", Right),
        ("RAM", Right),
        ("UPTIME", Right),
        ("CPU", Right),
        ("RESTARTS", Right),
    ];
    let rows: Vec<Vec<String>> = capsules
        .iter()
        .map(|c| {
            alloc::vec![
                c.id.to_string(),
                clean(&c.name),
                c.state.to_string(),
                c.vcores.to_string(),
                Size(c.ram_bytes).to_string(),
                Elapsed(c.uptime_ms).to_string(),
                Elapsed(c.cpu_ms).to_string(),
                c.restarts.to_string(),
            ]
        })
        .collect();
    table(&columns, &rows)
}

/// The images as a table: name, kind, size and origin; or a line saying
/// there are none.
pub fn format_images(images: &[ImageInfo]) -> String {
    if images.is_empty() {
        return "No images.\n".into();
    }
    use Align::{Left, Right};
    let columns = [
        ("NAME", Left),
        ("KIND", Left),
        ("SIZE", Right),
        ("ORIGIN", Left),
    ];
    let rows: Vec<Vec<String>> = images
        .iter()
        .map(|i| {
            alloc::vec![
                clean(&i.name),
                i.kind.to_string(),
                Size(i.size).to_string(),
                i.origin.to_string(),
            ]
        })
        .collect();
    table(&columns, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::capsule_info;
    use crate::{CapsuleState, ImageKind, Origin};
    use proptest::prelude::*;

    #[test]
    fn sizes_as_people_type_them() {
        let ok = [
            ("128", 128),
            ("128M", 128),
            ("128m", 128),
            (" 128 MiB ", 128),
            ("128MB", 128),
            ("1G", 1024),
            ("1gib", 1024),
            ("2 GB", 2048),
            ("1.5G", 1536),
            ("0.5g", 512),
            ("0.0009765625G", 1),
            ("64.000", 64),
            ("4294967295", u32::MAX),
            ("4194303G", 4_194_303 * 1024),
        ];
        for (typed, mib) in ok {
            assert_eq!(parse_size_mib(typed), Ok(mib), "{typed:?}");
        }
    }

    #[test]
    fn sizes_that_are_refused_say_why() {
        let bad = [
            ("", SizeError::Empty),
            ("  ", SizeError::Empty),
            ("lots", SizeError::NotANumber("lots".into())),
            ("M", SizeError::NotANumber("M".into())),
            ("1.2.3", SizeError::NotANumber("1.2.3".into())),
            (".5G", SizeError::NotANumber(".5G".into())),
            ("-1", SizeError::NotANumber("-1".into())),
            ("12K", SizeError::BadUnit("K".into())),
            ("1T", SizeError::BadUnit("T".into())),
            ("1.5", SizeError::NotWhole("1.5".into())),
            ("1.0001G", SizeError::NotWhole("1.0001G".into())),
            ("0", SizeError::Zero),
            ("0G", SizeError::Zero),
            ("4294967296", SizeError::TooBig("4294967296".into())),
            ("4194304G", SizeError::TooBig("4194304G".into())),
            (
                "99999999999999999999999999999999999999999",
                SizeError::TooBig("99999999999999999999999999999999999999999".into()),
            ),
        ];
        for (typed, err) in bad {
            assert_eq!(parse_size_mib(typed), Err(err.clone()), "{typed:?}");
            let s = err.to_string();
            assert!(s.starts_with(char::is_uppercase) && s.ends_with('.'), "{s}");
        }
    }

    #[test]
    fn sizes_and_times_read_short() {
        assert_eq!(Mib(96 * MIB).to_string(), "96 MiB");
        assert_eq!(Mib(96 * MIB - 1).to_string(), "95.9 MiB");
        assert_eq!(Mib(1000).to_string(), "<0.1 MiB");
        assert_eq!(Mib(0).to_string(), "0 MiB");
        assert_eq!(Size(512).to_string(), "512 B");
        assert_eq!(Size(9 * KIB).to_string(), "9 KiB");
        assert_eq!(Size(12 * MIB + MIB / 2).to_string(), "12.5 MiB");
        assert_eq!(Size(GIB).to_string(), "1 GiB");
        assert_eq!(Elapsed(4_250).to_string(), "4.2s");
        assert_eq!(Elapsed(725_000).to_string(), "12m05s");
        assert_eq!(Elapsed(3 * 3_600_000 + 7 * 60_000).to_string(), "3h07m");
        assert_eq!(Elapsed(2 * 86_400_000 + 4 * 3_600_000).to_string(), "2d04h");
    }

    #[test]
    fn the_capsule_table() {
        let linux = CapsuleInfo {
            id: 1,
            name: "linux".into(),
            state: CapsuleState::Running,
            vcores: 2,
            ram_bytes: 512 * MIB,
            uptime_ms: 725_000,
            cpu_ms: 61_300,
            restarts: 0,
        };
        let hello = CapsuleInfo {
            id: 12,
            name: "hello\x1b".into(),
            state: CapsuleState::Stopped,
            vcores: 1,
            ram_bytes: 64 * MIB,
            uptime_ms: 0,
            cpu_ms: 0,
            restarts: 3,
        };
        assert_eq!(
            format_capsules(&[linux, hello]),
            concat!(
                "ID  NAME    STATE    VCORES      RAM  UPTIME    CPU  RESTARTS\n",
                " 1  linux   running       2  512 MiB  12m05s  1m01s         0\n",
                "12  hello?  stopped       1   64 MiB    0.0s   0.0s         3\n",
            )
        );
        assert_eq!(format_capsules(&[]), "No capsules.\n");
    }

    #[test]
    fn the_image_table() {
        let images = [
            ImageInfo {
                name: "hello".into(),
                kind: ImageKind::Elf,
                size: 9 * KIB,
                origin: Origin::Bundled,
            },
            ImageInfo {
                name: "büildroot".into(),
                kind: ImageKind::Image,
                size: 20 * MIB,
                origin: Origin::Uploaded,
            },
        ];
        assert_eq!(
            format_images(&images),
            concat!(
                "NAME       KIND     SIZE  ORIGIN\n",
                "hello      ELF     9 KiB  bundled\n",
                "büildroot  Image  20 MiB  uploaded\n",
            )
        );
        assert_eq!(format_images(&[]), "No images.\n");
    }

    proptest! {
        #[test]
        fn whole_sizes_read_back(mib in 1u32..=u32::MAX) {
            prop_assert_eq!(parse_size_mib(&mib.to_string()), Ok(mib));
            prop_assert_eq!(parse_size_mib(&format!("{mib}M")), Ok(mib));
            if mib <= u32::MAX / 1024 {
                prop_assert_eq!(parse_size_mib(&format!("{mib}g")), Ok(mib * 1024));
            }
        }

        #[test]
        fn any_typed_size_is_safe(typed in "(?s).{0,20}|[0-9. gGmMiB]{0,20}") {
            if let Ok(mib) = parse_size_mib(&typed) {
                prop_assert!(mib >= 1);
            }
        }

        /// Every line of a capsule table is as wide as the header, with
        /// no control characters.
        #[test]
        fn capsule_tables_line_up(cs in proptest::collection::vec(capsule_info(), 1..8)) {
            let t = format_capsules(&cs);
            let widths: Vec<usize> = t.lines().map(|l| l.chars().count()).collect();
            prop_assert_eq!(widths.len(), cs.len() + 1);
            prop_assert!(widths.iter().all(|&w| w == widths[0]));
            prop_assert!(t.lines().all(|l| !l.contains(char::is_control)));
        }
    }
}
