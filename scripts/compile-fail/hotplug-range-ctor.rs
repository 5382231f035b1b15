// expect: error\[E0423\]: cannot initialize a tuple struct which contains private fields
// Nor by building the token directly.
fn compile_fail() {
    use crate::kernel_ext::mm::memory_hotplug::{HotplugRange, Range};
    let _ = HotplugRange(Range { start: 0, end: 0xfff });
}
