// expect: error\[E0133\]: call to unsafe function `.*new_unchecked` is unsafe
// Safe driver code cannot mark an arbitrary physical range as memory for hot-add (and so cannot
// reserve or add it): only the dax bus mints a HotplugRange, from a device its driver probes.
fn compile_fail() {
    use crate::kernel_ext::mm::memory_hotplug::{HotplugRange, Range, Reservation};
    let any = HotplugRange::new_unchecked(Range { start: 0, end: 0xfff });
    let _ = Reservation::request(&any, c"anything");
}
