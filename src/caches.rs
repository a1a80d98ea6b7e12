//! The data-cache sizes that blocking and tiling are derived from, read once from the
//! operating system (Linux: `/sys/devices/system/cpu/cpu0/cache`), with the sizes of the
//! machines convkit was first tuned on (AMD Zen 3) where they cannot be read.
//!
//! Tuning for the machine that runs: the same build ran on a Zen 3 (32 KiB L1d, 512 KiB L2)
//! and on a Sapphire Rapids class Xeon (48 KiB L1d, 2 MiB L2), and blocks sized for the first
//! left most of the second's L2 unused (bands of 2 output rows on vgg16_conv2_2).
#![forbid(unsafe_code)]

use std::sync::OnceLock;

/// Per-core data-cache sizes in bytes.
///
/// ```
/// let c = convkit::caches::cache_sizes();
/// assert!(c.l1d >= 16 * 1024 && c.l2 >= c.l1d && c.l3 >= c.l2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheSizes {
    /// L1 data cache of one core.
    pub l1d: usize,
    /// L2 of one core.
    pub l2: usize,
    /// The share of L3 that blocking may plan for: the L3 the system reports, at most
    /// [`CacheSizes::L3_CAP`] (a virtual machine with two cores reports its whole socket's L3,
    /// which the other tenants use too).
    pub l3: usize,
}

impl CacheSizes {
    /// Used where the sizes cannot be read: AMD Zen 3 (32 KiB L1d, 512 KiB L2, 32 MiB L3).
    pub const FALLBACK: CacheSizes = CacheSizes { l1d: 32 * 1024, l2: 512 * 1024, l3: 32 * 1024 * 1024 };
    /// Largest L3 that blocking plans for.
    pub const L3_CAP: usize = 32 * 1024 * 1024;

    /// Sizes from what the system reported (`None`: not reported), each clamped to a sane
    /// range (L1d 16 KiB ..= 256 KiB, L2 from L1d to 16 MiB, L3 from L2 to [`Self::L3_CAP`]).
    pub fn from_reported(l1d: Option<usize>, l2: Option<usize>, l3: Option<usize>) -> CacheSizes {
        let f = CacheSizes::FALLBACK;
        let l1d = l1d.unwrap_or(f.l1d).clamp(16 * 1024, 256 * 1024);
        let l2 = l2.unwrap_or(f.l2).clamp(l1d, 16 * 1024 * 1024);
        let l3 = l3.unwrap_or(f.l3).clamp(l2, CacheSizes::L3_CAP.max(l2));
        CacheSizes { l1d, l2, l3 }
    }
}

/// This machine's cache sizes, read on first use and cached.
pub fn cache_sizes() -> CacheSizes {
    static SIZES: OnceLock<CacheSizes> = OnceLock::new();
    *SIZES.get_or_init(detect)
}

fn detect() -> CacheSizes {
    if cfg!(miri) {
        return CacheSizes::FALLBACK;
    }
    let (mut l1d, mut l2, mut l3) = (None, None, None);
    for index in 0..8 {
        let dir = format!("/sys/devices/system/cpu/cpu0/cache/index{index}");
        let read = |name: &str| std::fs::read_to_string(format!("{dir}/{name}")).ok();
        let (Some(level), Some(kind), Some(size)) = (read("level"), read("type"), read("size")) else {
            continue;
        };
        let Some(bytes) = parse_size(&size) else { continue };
        match (level.trim(), kind.trim()) {
            ("1", "Data" | "Unified") => l1d = Some(bytes),
            ("2", "Data" | "Unified") => l2 = Some(bytes),
            ("3", "Data" | "Unified") => l3 = Some(bytes),
            _ => {}
        }
    }
    CacheSizes::from_reported(l1d, l2, l3)
}

/// Parses a sysfs cache size: `48K`, `2048K`, `300M`, or plain bytes.
fn parse_size(text: &str) -> Option<usize> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let n: usize = digits.parse().ok()?;
    let scale = match unit.trim() {
        "" => 1,
        "K" | "KB" | "KiB" => 1 << 10,
        "M" | "MB" | "MiB" => 1 << 20,
        "G" | "GB" | "GiB" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysfs_sizes_parse() {
        assert_eq!(parse_size("48K\n"), Some(48 * 1024));
        assert_eq!(parse_size("2048K"), Some(2 << 20));
        assert_eq!(parse_size("300M"), Some(300 << 20));
        assert_eq!(parse_size("65536"), Some(65536));
        assert_eq!(parse_size("12Q"), None);
        assert_eq!(parse_size(""), None);
        assert_eq!(parse_size("99999999999999999999G"), None);
    }

    #[test]
    fn reported_sizes_are_clamped() {
        assert_eq!(CacheSizes::from_reported(None, None, None), CacheSizes::FALLBACK);
        let c = CacheSizes::from_reported(Some(48 << 10), Some(2 << 20), Some(300 << 20));
        assert_eq!(c, CacheSizes { l1d: 48 << 10, l2: 2 << 20, l3: CacheSizes::L3_CAP });
        let tiny = CacheSizes::from_reported(Some(1), Some(2), Some(3));
        assert!(tiny.l1d == 16 << 10 && tiny.l2 == tiny.l1d && tiny.l3 == tiny.l2);
        let c = cache_sizes();
        assert!(c.l1d <= c.l2 && c.l2 <= c.l3 && c.l3 <= CacheSizes::L3_CAP.max(c.l2));
    }
}
