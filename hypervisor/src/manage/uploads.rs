//! Images the boot capsule's manager sends over the control channel: an
//! image file that exists only in its filesystem, copied into RAM taken
//! from the capsules' pool, checked as a bundled image is, and then
//! listed and started by name like one.
//!
//! An upload is `UploadBegin { name, size }`, chunks at increasing
//! offsets, `UploadEnd`. RAM for the whole image is taken at the start,
//! so a too-big image is refused before any byte is sent; each chunk is
//! checked against the declared size; at the end the image is parsed as
//! a kernel (`payload::Kernel`), and refused, its RAM zeroed and given
//! back, if it is not one for this hypervisor's width. At most
//! [`MAX_HELD`] uploaded images are listed at once. One keeps its RAM
//! until it is removed ([`remove`]) and no capsule started from it (which
//! keeps it, to restart from) is left; then the RAM is zeroed and goes
//! back to the pool.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use ctl::CtlError;
use memrange::{Range, Size};
use payload::Kernel;

use crate::run::capsule::{self, CapsuleError};
use crate::run::console::println;
use crate::arch::phys::Phys;
use crate::arch::XLEN;

/// Most uploaded images held at once.
pub const MAX_HELD: usize = 8;

/// An uploaded, checked image.
pub struct Held {
    pub name: String,
    ram: Range,
    len: u64,
}

impl Held {
    /// The image's bytes.
    pub fn bytes(&self) -> &[u8] {
        let at = Phys::new(self.ram.start()).expect("held RAM was checked reachable when taken");
        // SAFETY: `ram` came from the pool for this image alone and goes
        // back only when the `Held` is dropped, which this borrow of it
        // outlives; `len` bytes of it were written before the `Held` was
        // made (by `Upload::chunk`, which no longer runs on it), and
        // nothing writes them after.
        unsafe { core::slice::from_raw_parts(at.ptr::<u8>(), self.len as usize) }
    }
}

impl AsRef<[u8]> for Held {
    fn as_ref(&self) -> &[u8] {
        self.bytes()
    }
}

impl Drop for Held {
    /// Nothing lists it and no capsule keeps it (or it was refused): its
    /// RAM is zeroed and goes back to the pool.
    fn drop(&mut self) {
        capsule::give_ram(self.ram);
        println!("[diosix] image {}'s RAM ({}) is free again", self.name, Size(self.ram.size()));
    }
}

static HELD: spin::Mutex<Vec<Arc<Held>>> = spin::Mutex::new(Vec::new());

/// Every uploaded image.
pub fn held() -> Vec<Arc<Held>> {
    HELD.lock().clone()
}

/// The uploaded image called `name`.
pub fn find(name: &str) -> Option<Arc<Held>> {
    HELD.lock().iter().find(|h| h.name == name).cloned()
}

/// Takes uploaded image `name` off the list, so that it can no longer be
/// started; its RAM goes back once the returned reference and those of
/// the capsules started from it are dropped. `None` if there is no such
/// image.
pub fn remove(name: &str) -> Option<Arc<Held>> {
    let mut held = HELD.lock();
    let at = held.iter().position(|h| h.name == name)?;
    // Dropped by the caller, after the lock: its RAM may go back then.
    Some(held.remove(at))
}

/// An upload under way.
pub struct Upload {
    name: String,
    ram: Range,
    size: u64,
    received: u64,
}

impl Upload {
    /// Starts an upload of `size` bytes called `name` (which no image may
    /// have already).
    pub fn begin(name: &str, size: u64, taken: impl Fn(&str) -> bool) -> Result<Upload, CtlError> {
        if taken(name) {
            return Err(CtlError::BadRequest { why: alloc::format!("an image called {name:?} exists already") });
        }
        if HELD.lock().len() >= MAX_HELD {
            return Err(CtlError::Refused { why: alloc::format!("{MAX_HELD} uploaded images are held already") });
        }
        let (free, largest) = capsule::free_ram();
        if size == 0 || size > largest {
            return Err(CtlError::UploadTooBig { size, max: largest.min(free) });
        }
        let ram = capsule::take_ram(size).map_err(|e| match e {
            CapsuleError::NoRoom { asked, largest } => CtlError::NoRoom { asked, free, largest },
            e => CtlError::Refused { why: e.to_string() },
        })?;
        if Phys::new(ram.end()).is_none() {
            capsule::give_ram(ram);
            return Err(CtlError::Refused { why: String::from("the free RAM lies beyond this hypervisor's reach") });
        }
        Ok(Upload { name: name.into(), ram, size, received: 0 })
    }

    /// The next chunk, which must start where the last ended.
    pub fn chunk(&mut self, offset: u64, data: &[u8]) -> Result<(), CtlError> {
        let end = offset.checked_add(data.len() as u64);
        if offset != self.received || end.is_none_or(|e| e > self.size) {
            return Err(CtlError::BadRequest {
                why: alloc::format!(
                    "a chunk of {} bytes at {offset} does not follow the {} bytes received of {}",
                    data.len(),
                    self.received,
                    self.size
                ),
            });
        }
        let at = Phys::new(self.ram.start() + offset).expect("checked reachable at begin");
        // SAFETY: offset + len <= size <= the RAM taken for this upload
        // alone (checked above); no capsule can reach it.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), at.ptr::<u8>(), data.len()) };
        self.received += data.len() as u64;
        Ok(())
    }

    /// Ends the upload: a complete, valid kernel is held under its name.
    /// A refused image's RAM goes back as its `Held` is dropped.
    pub fn end(self) -> Result<Arc<Held>, CtlError> {
        let held = Held { name: self.name.clone(), ram: self.ram, len: self.received };
        if self.received != self.size {
            return Err(CtlError::BadRequest { why: alloc::format!("{} of {} bytes arrived", self.received, self.size) });
        }
        if let Err(e) = Kernel::parse(held.bytes(), XLEN) {
            return Err(CtlError::BadImage { name: self.name, why: e.to_string() });
        }
        let held = Arc::new(held);
        HELD.lock().push(held.clone());
        Ok(held)
    }

    /// Abandons the upload (a new one began, or the channel reset).
    pub fn abandon(self) {
        capsule::give_ram(self.ram);
    }
}
