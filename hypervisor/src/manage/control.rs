//! The control channel: requests from the boot capsule's capsule manager
//! (its `/init`), arriving on its virtio console's `diosix.ctl` port in
//! `crates/ctl` frames, and the hypervisor's replies.
//!
//! Only the boot capsule's virtio console has the port, so only it can
//! ask (another capsule's console has port 0 alone; a driver that uses a
//! port beyond breaks its own device). Every request gets exactly one
//! reply, in order; anything wrong becomes a `CtlError`, whose Display is
//! the sentence the user reads. Nothing here trusts the request: names,
//! ids and sizes are checked before anything is done with them.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use ctl::{CapsuleInfo, CapsuleState, CtlError, Decoder, ImageInfo, ImageKind, Origin, Reply, Request};

use crate::run::capsule::{self, Capsule, CapsuleError, Ending, Spec};
use crate::run::console::{self, println};
use crate::built::storage::IMAGES;
use crate::manage::uploads::{self, Upload};
use memrange::Size;
use crate::{platform::clint, run::timer};

/// Most capsules alive at once, the boot capsule included.
const MAX_CAPSULES: usize = crate::built::settings::MAX_CAPSULES as usize;

/// One boot capsule's end of the channel: what it sent that does not yet
/// make a whole frame.
pub struct Channel {
    decoder: Decoder,
    /// An image being uploaded (`uploads.rs`).
    upload: Option<Upload>,
}

impl Channel {
    pub fn new() -> Self {
        Channel { decoder: Decoder::new(), upload: None }
    }

    /// The boot capsule closed the port: a session ended. A half-sent
    /// frame is dropped and an unfinished upload gives its RAM back.
    pub fn closed(&mut self) {
        self.decoder = Decoder::new();
        if let Some(u) = self.upload.take() {
            u.abandon();
            println!("[diosix] control channel: an upload was abandoned; its RAM is free again");
        }
    }

    /// Bytes the boot capsule `c` wrote to the port; returns the replies
    /// to send back, already framed.
    pub fn received(&mut self, c: &Arc<Capsule>, mut bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            let took = self.decoder.push(bytes);
            bytes = &bytes[took..];
            let frames: Vec<_> = self.decoder.by_ref().collect();
            for frame in frames {
                let (id, reply) = match frame {
                    Ok(f) => (f.id, match f.request() {
                        Ok(r) => self.answer(c, r),
                        Err(e) => Reply::Error(CtlError::BadRequest { why: e.to_string() }),
                    }),
                    // A frame whose header was sound gets its answer under
                    // its id; garbage gets none (there is nobody to answer).
                    Err(e) => match e.id() {
                        Some(id) => (id, refusal(&e)),
                        None => {
                            println!("[diosix] control channel: {e}; skipped");
                            continue;
                        }
                    },
                };
                match ctl::encode_reply(id, &reply) {
                    Ok(bytes) => out.extend_from_slice(&bytes),
                    Err(e) => println!("[diosix] control channel: cannot encode a reply: {e}"),
                }
            }
            if took == 0 {
                break;
            }
        }
        out
    }
}

/// The answer to a frame that was refused after its header checked out.
fn refusal(e: &ctl::DecodeError) -> Reply {
    match e {
        ctl::DecodeError::Version { theirs, .. } => {
            Reply::Error(CtlError::VersionMismatch { ours: ctl::VERSION, theirs: *theirs })
        }
        other => Reply::Error(CtlError::BadRequest { why: other.to_string() }),
    }
}

impl Channel {
    fn answer(&mut self, boot: &Arc<Capsule>, r: Request) -> Reply {
        match r {
            Request::UploadBegin { name, size } => {
                if let Some(old) = self.upload.take() {
                    old.abandon();
                }
                if !valid_name(&name) {
                    return bad_name(&name);
                }
                match Upload::begin(&name, size, |n| IMAGES.iter().any(|i| i.name == n) || uploads::find(n).is_some()) {
                    Ok(u) => {
                        self.upload = Some(u);
                        Reply::Done
                    }
                    Err(e) => Reply::Error(e),
                }
            }
            Request::UploadChunk { offset, data } => {
                let Some(u) = self.upload.as_mut() else {
                    return Reply::Error(CtlError::BadRequest { why: String::from("no upload is under way") });
                };
                match u.chunk(offset, &data) {
                    Ok(()) => Reply::Done,
                    Err(e) => {
                        if let Some(u) = self.upload.take() {
                            u.abandon();
                        }
                        Reply::Error(e)
                    }
                }
            }
            Request::UploadEnd => match self.upload.take().map(Upload::end) {
                Some(Ok(held)) => {
                    println!("[diosix] image {} ({}) uploaded by the boot capsule", held.name, Size(held.bytes().len() as u64));
                    Reply::Done
                }
                Some(Err(e)) => Reply::Error(e),
                None => Reply::Error(CtlError::BadRequest { why: String::from("no upload is under way") }),
            },
            other => answer(boot, other),
        }
    }
}

fn bad_name(name: &str) -> Reply {
    Reply::Error(CtlError::BadRequest {
        why: alloc::format!("a name is 1 to 32 letters, digits, '-', '_' or '.', not {name:?}"),
    })
}

fn answer(boot: &Arc<Capsule>, r: Request) -> Reply {
    match r {
        Request::Hello { version } if version != ctl::VERSION => {
            Reply::Error(CtlError::VersionMismatch { ours: ctl::VERSION, theirs: version })
        }
        Request::Hello { .. } => Reply::Welcome { version: ctl::VERSION, max_payload: ctl::MAX_PAYLOAD as u32 },
        Request::ListImages => Reply::Images(
            IMAGES
                .iter()
                .map(|i| image_info(i.name, i.bytes, Origin::Bundled))
                .chain(uploads::held().iter().map(|h| image_info(&h.name, h.bytes(), Origin::Uploaded)))
                .collect(),
        ),
        Request::Start { image, name, ram_mib, vcores } => start(&image, name.as_deref(), ram_mib, vcores),
        Request::ListCapsules => Reply::Capsules(capsule::all().iter().map(|c| capsule_info(c)).collect()),
        Request::Stop { id } => with_capsule(boot, id, |c| capsule::end(c, Ending::Shutdown { failure: false })),
        Request::Restart { id } => with_capsule(boot, id, |c| capsule::end(c, Ending::Reboot { failure: false })),
        Request::Focus { id } => match console::give_focus(id, boot.id) {
            true => Reply::Done,
            false => Reply::Error(CtlError::NoSuchCapsule { id }),
        },
        Request::Output { id, max } => match find(id) {
            Some(_) => {
                let mut bytes = console::recent(id);
                let max = (max as usize).min(ctl::MAX_CHUNK);
                if bytes.len() > max {
                    bytes.drain(..bytes.len() - max);
                }
                Reply::Output(bytes)
            }
            None => Reply::Error(CtlError::NoSuchCapsule { id }),
        },
        Request::RemoveImage { name } => remove_image(&name),
        // Served by the channel, which holds the upload.
        Request::UploadBegin { .. } | Request::UploadChunk { .. } | Request::UploadEnd => {
            Reply::Error(CtlError::BadRequest { why: String::from("an upload outside its channel") })
        }
    }
}

/// Forgets uploaded image `name`; its RAM is freed once no capsule started
/// from it is left (each keeps it to restart from).
fn remove_image(name: &str) -> Reply {
    if IMAGES.iter().any(|i| i.name == name) {
        return Reply::Error(CtlError::Refused {
            why: alloc::format!("{name} is bundled into the hypervisor; only uploaded images can be removed"),
        });
    }
    match uploads::remove(name) {
        Some(held) => {
            // The capsules started from it hold the other references; the
            // last one dropped gives its RAM back and says so.
            if Arc::strong_count(&held) > 1 {
                println!("[diosix] image {name} removed; its RAM goes back once the capsules started from it are gone");
            }
            Reply::Done
        }
        None => Reply::Error(CtlError::UnknownImage { name: name.into() }),
    }
}

fn find(id: u32) -> Option<Arc<Capsule>> {
    capsule::all().into_iter().find(|c| c.id == id && !c.is_dying())
}

/// Stops or restarts capsule `id` with `end`; never the boot capsule,
/// whose end is the machine's (its own prompt has poweroff and reboot).
fn with_capsule(boot: &Arc<Capsule>, id: u32, end: impl FnOnce(&Arc<Capsule>)) -> Reply {
    if id == boot.id {
        return Reply::Error(CtlError::Refused {
            why: String::from("the boot capsule is ended by its own poweroff or reboot, which end the machine"),
        });
    }
    match find(id) {
        Some(c) => {
            end(&c);
            Reply::Done
        }
        None => Reply::Error(CtlError::NoSuchCapsule { id }),
    }
}

fn image_info(name: &str, bytes: &[u8], origin: Origin) -> ImageInfo {
    let kind = if bytes.starts_with(b"\x7fELF") { ImageKind::Elf } else { ImageKind::Image };
    ImageInfo { name: name.into(), kind, size: bytes.len() as u64, origin }
}

fn capsule_info(c: &Capsule) -> CapsuleInfo {
    let now = clint::mtime();
    CapsuleInfo {
        id: c.id,
        name: c.name.clone(),
        state: if c.is_dying() { CapsuleState::Stopping } else { CapsuleState::Running },
        vcores: c.vcores.len() as u32,
        ram_bytes: c.ram.size(),
        uptime_ms: timer::ms(now.saturating_sub(c.created_at)),
        cpu_ms: timer::ms(c.vcores.iter().map(|v| v.ran.get()).sum()),
        restarts: c.restarts,
    }
}

/// A capsule name: what the console tags lines with.
fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// RAM and vcores for an uploaded image when the request names none.
const UPLOADED_RAM_MIB: u32 = 128;
const UPLOADED_VCORES: u32 = 1;

fn start(image: &str, name: Option<&str>, ram_mib: Option<u32>, vcores: Option<u32>) -> Reply {
    let bundled = IMAGES.iter().find(|i| i.name == image);
    let uploaded = uploads::find(image);
    let (bytes, default_ram, default_vcores, args, origin): (&[u8], u32, u32, &str, capsule::Origin) =
        match (bundled, &uploaded) {
            (Some(i), _) => (i.bytes, i.ram_mib, i.vcores, i.bootargs, capsule::Origin::Bundled(i)),
            (None, Some(h)) => (h.bytes(), UPLOADED_RAM_MIB, UPLOADED_VCORES, "", capsule::Origin::Uploaded(h.clone())),
            (None, None) => return Reply::Error(CtlError::UnknownImage { name: image.into() }),
        };
    let name = name.unwrap_or(image);
    if !valid_name(name) {
        return bad_name(name);
    }
    if capsule::all().len() >= MAX_CAPSULES {
        return Reply::Error(CtlError::TooManyCapsules { max: MAX_CAPSULES as u32 });
    }
    let bootargs = capsule::args_or_default(args);
    let spec = Spec {
        id: None,
        name,
        image: bytes,
        ram_bytes: u64::from(ram_mib.unwrap_or(default_ram)) << 20,
        vcores: vcores.unwrap_or(default_vcores) as usize,
        bootargs,
        boot: false,
        origin: Some(origin),
        restarts: 0,
    };
    match capsule::create(&spec) {
        Ok(c) => {
            capsule::report_started(&c);
            Reply::Started { id: c.id }
        }
        Err(CapsuleError::NoRoom { asked, largest }) => {
            Reply::Error(CtlError::NoRoom { asked, free: capsule::free_ram().0, largest })
        }
        Err(e) => Reply::Error(CtlError::Refused { why: e.to_string() }),
    }
}
