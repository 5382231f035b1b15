// expect: error: lifetime may not live long enough|error\[E0521\]: borrowed data escapes
// An attribute of a driver whose data borrows the bound device cannot keep that borrow beyond
// the callback (before: its data was typed `Data<'static>`, so it could).
struct Borrowing;
#[kernel::prelude::pin_data]
struct Holds<'b> {
    dev: &'b kernel::device::Device<kernel::device::Bound>,
}

impl crate::kernel_ext::dax::Driver for Borrowing {
    type Data<'bound> = Holds<'bound>;
    const TYPE: crate::kernel_ext::dax::DriverType = crate::kernel_ext::dax::DriverType::Kmem;
    fn probe<'bound>(
        _dev: &'bound crate::kernel_ext::dax::Device<kernel::device::Core<'_>>,
    ) -> impl kernel::prelude::PinInit<Holds<'bound>, kernel::error::Error> + 'bound {
        kernel::prelude::try_pin_init!(Holds { dev: _dev.as_ref() })
    }
}
static KEPT: kernel::sync::SetOnce<&'static kernel::device::Device<kernel::device::Bound>> =
    kernel::sync::SetOnce::new();
struct Leak;
#[kernel::prelude::vtable]
impl crate::kernel_ext::device::attribute::AttributeOperations for Leak {
    type Data = crate::kernel_ext::dax::DataOf<Borrowing>;
    fn show(
        _dev: &kernel::device::Device<kernel::device::Bound>,
        data: &Holds<'_>,
        _f: &mut kernel::str::Formatter<'_>,
    ) -> kernel::error::Result {
        KEPT.populate(data.dev);
        Ok(())
    }
}
