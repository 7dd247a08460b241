//! SBI steal-time accounting (STA): each time a vcore runs again after
//! waiting on the run queue, how long it waited goes into the shared
//! memory its kernel registered, so Linux accounts it as steal time (the
//! `steal` column of /proc/stat).

use crate::run::capsule::VcoreRef;
use crate::run::sbi_host::VcoreHost;

/// Publishes that vcore `v`, about to run on `hart`, waited `waited`
/// timer ticks for it.
pub fn publish(hart: usize, v: &VcoreRef, waited: u64) {
    if waited == 0 || !v.sbi.lock().sta.enabled() {
        return;
    }
    let ns = (waited as u128 * 1_000_000_000 / crate::run::timer::hz() as u128) as u64;
    sbi::sta::publish(&mut VcoreHost { hart, vcore: v }, ns);
}
