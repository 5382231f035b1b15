// expect: error\[E0133\]: call to unsafe function `.*adopt_stranded` is unsafe
// Taking over a resource (whose name is later kfree()d) is not safe code's to decide.
fn compile_fail() {
    use crate::kernel_ext::mm::memory_hotplug::{AddedMemory, HotplugRange};
    fn any() -> HotplugRange {
        loop {}
    }
    let _ = AddedMemory::adopt_stranded(&any(), c"dax0.0", c"System RAM (kmem)");
}
