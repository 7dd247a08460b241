//! The run loop and what it needs: capsules and their vcores, the
//! scheduler that puts vcores on harts, what each trap out of a capsule
//! means (`exits`) and the SBI calls it answers, the timers, the
//! messages between harts, and the console the capsules share.

pub mod capsule;
pub mod console;
pub mod emulate;
pub mod exits;
pub mod mailbox;
pub mod panic;
pub mod reflect;
pub mod sbi_host;
pub mod sbi_state;
pub mod sched;
pub mod sta;
pub mod timer;
pub mod vcore;
