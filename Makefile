# SPDX-License-Identifier: GPL-2.0
#
# kmem-rs: the Rust dax kmem driver, built out of tree.
#
#   make                 build kmem.ko (and kunit/kmem_kunit.ko) against the project's
#                        cached Linux 7.3 build, installing/building it first if needed
#   make KDIR=<dir>      build against another configured and built 7.3 tree
#   make CLIPPY=1        the same, with clippy
#   make check           install, build, run every test (KUnit + guest); ends "N passed, N failed"
#   make demo            boot a guest and show the device's life, step by step
#   make check-debug     every guest suite on the debug kernel (KASAN, kmemleak, ...)
#   make check-distro    every Debian stock kernel run (make check runs a subset): the toolchain
#                        twin, the rust/ products, the module built for 7.3.4+deb13-amd64, and the
#                        suites on Debian's own vmlinuz and modules, Rust vs Debian's C kmem.ko
#   make check-cxl       every CXL guest run (make check runs a subset): regions, data, tiers and
#                        demotion, teardown, interleave, policy, Rust vs the C kmem.ko
#   make check-intree    the upstream series built in tree (=m, =y, MEMORY_HOTREMOVE=n NUMA=n), parity,
#                        and kunit.py run on the patched tree
#   make series          the upstream patch series (series/*.patch, the source of every
#                        intermediate state) to post, in build/series (git format-patch)
#   make series-verify   the tip of series/ is this tree (a make check gate)
#   make series-absorb   fold a change of src/ into the patches that last touched its lines
#                        (ABSORB_INTO=PATCH: into that one); Documentation/kmem-rust-series.rst
#   make series-edit     the stack as a git repository in build/stack (rebase -i, amend, ...);
#   make series-save     ... then write it back into series/
#   make series-bisect   build the series after every patch (in tree, =m, CLIPPY=1)
#   make series-kunit    the KUnit suites the canonical way: kunit.py run on the patched tree
#   make bench           Rust vs C under instruction counting (~15 min); Documentation/bench/
#   make install         install kmem.ko under /lib/modules/<release>/updates (INSTALL_MOD_PATH
#                        and KDIR honoured) with a depmod override, and run depmod
#   make setup | kernel  only install the toolchain / only build the kernel
#   make rustfmt | rustfmtcheck | clean

SHELL := /bin/bash
SCRIPTS := $(CURDIR)/scripts

ifeq ($(KDIR),)
KDIR_DEP := kernel
KDIR = $(shell $(SCRIPTS)/kernel.sh --print-dir)
endif

# The kernel's own toolchain.  The project's kernels are LLVM builds with Debian's rustc-web
# (/usr/bin/rustc on bookworm) and the project's bindgen.  A GCC-built kernel (a distribution's,
# prepared by scripts/distro.sh or by hand, see README.md) is built on with the C compiler its
# .config names and the rustc and bindgen on PATH, which must be the ones it was built with.
KCONFIG_CC = $(shell sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*/\1/p' $(KDIR)/.config)
KTOOLCHAIN = $(if $(shell grep -sx 'CONFIG_CC_IS_GCC=y' $(KDIR)/.config),CC=$(KCONFIG_CC), \
	LLVM=1 RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTFMT=/usr/bin/rustfmt \
	CLIPPY_DRIVER=/usr/bin/clippy-driver HOSTRUSTC=/usr/bin/rustc \
	BINDGEN=$(shell . $(SCRIPTS)/lib.sh; echo $$BINDGEN))
KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) $(KTOOLCHAIN) $(if $(CLIPPY),CLIPPY=1)

export PATH := /usr/lib/llvm-19/bin:$(PATH)

.PHONY: all modules modules-debug modules-cxltest ndctl-patched install setup kernel kernel-debug check check-debug check-distro check-cxl check-ndctl \
	check-intree demo bench \
	series series-verify series-absorb series-edit series-save series-bisect series-kunit \
	rustfmt rustfmtcheck clean

# The same sources built against the debug kernel (KASAN, kmemleak, ...), in a
# copy under build/debug so that both builds can coexist.
DEBUG_KDIR = $(shell $(SCRIPTS)/kernel.sh --variant=debug --print-dir)
DEBUG_MDIR := $(CURDIR)/build/debug

all: modules

modules: $(KDIR_DEP)
	$(KMAKE) W=1 modules

KRELEASE = $(shell cat $(KDIR)/include/config/kernel.release)
MODDIR = $(INSTALL_MOD_PATH)/lib/modules/$(KRELEASE)

# Only kmem.ko: the KUnit and test-helper modules are never installed.
install: modules
	install -D -m 644 kmem.ko $(MODDIR)/updates/kmem.ko
	install -D -m 644 scripts/install/kmem-rs.conf $(INSTALL_MOD_PATH)/etc/depmod.d/kmem-rs.conf
	@if [ -f $(MODDIR)/modules.order ]; then \
		depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KRELEASE); \
	else \
		echo "note: $(MODDIR) has no module tree; run depmod $(KRELEASE) where it is installed"; \
	fi

setup:
	$(SCRIPTS)/setup.sh

kernel: setup
	$(SCRIPTS)/kernel.sh

kernel-debug: setup
	$(SCRIPTS)/kernel.sh --variant=debug

modules-debug: kernel-debug
	mkdir -p $(DEBUG_MDIR)
	tar -c --exclude bindings_generated.rs --exclude '*.o' --exclude '*.ko' --exclude '*.mod*' \
		--exclude '.*.cmd' --exclude '*.d' Kbuild src kunit | tar -x -C $(DEBUG_MDIR)
	$(subst M=$(CURDIR),M=$(DEBUG_MDIR),$(subst -C $(KDIR),-C $(DEBUG_KDIR),$(KMAKE))) modules

# The same sources built against the cxltest kernel (the CXL core as modules, with the kernel's
# cxl_test mock modules: scripts/cxltest.sh), under build/cxltest.
CXLTEST_KDIR = $(shell $(SCRIPTS)/kernel.sh --variant=cxltest --print-dir)
CXLTEST_MDIR := $(CURDIR)/build/cxltest

modules-cxltest: setup
	$(SCRIPTS)/cxltest.sh
	mkdir -p $(CXLTEST_MDIR)
	tar -c --exclude bindings_generated.rs --exclude '*.o' --exclude '*.ko' --exclude '*.mod*' \
		--exclude '.*.cmd' --exclude '*.d' Kbuild src kunit | tar -x -C $(CXLTEST_MDIR)
	$(subst M=$(CURDIR),M=$(CXLTEST_MDIR),$(subst -C $(KDIR),-C $(CXLTEST_KDIR),$(KMAKE))) modules

check-debug:
	KMEM_DEBUG=1 $(SCRIPTS)/check.sh

check:
	$(SCRIPTS)/check.sh

check-distro:
	KMEM_DISTRO=full $(SCRIPTS)/check.sh

check-cxl:
	KMEM_CXL=full $(SCRIPTS)/check.sh

check-ndctl:
	KMEM_NDCTL=full $(SCRIPTS)/check.sh

# The in-tree builds as a module and built in (a kernel build each, about 5-7 min cold, and the
# parity suite on each), and the MEMORY_HOTREMOVE=n compile check.
check-intree:
	$(SCRIPTS)/intree.sh
	$(SCRIPTS)/intree.sh --builtin
	$(SCRIPTS)/intree.sh --no-hotremove
	$(SCRIPTS)/series-kunit.sh --check

# The upstream series: series/*.patch applied to the pristine 7.3 files (scripts/stack.py).
STACK = python3 $(SCRIPTS)/stack.py
STACK_KSRC = $(shell . $(SCRIPTS)/lib.sh; echo $$KSRC)
series: setup
	$(STACK) emit $(STACK_KSRC) $(CURDIR)/build/series

series-verify: setup
	$(STACK) verify $(STACK_KSRC)

series-absorb: setup
	$(STACK) absorb $(STACK_KSRC) $(if $(ABSORB_INTO),--into $(ABSORB_INTO))

series-edit: setup
	$(STACK) apply $(STACK_KSRC)

series-save:
	$(STACK) save $(STACK_KSRC)

series-bisect:
	$(SCRIPTS)/series-bisect.sh

series-kunit:
	$(SCRIPTS)/series-kunit.sh

# The guests' daxctl, cxl and ndctl (scripts/mkinitramfs): ndctl 81 with contrib/ndctl's series,
# built in the trixie twin (root: debootstrap, chroot).
ndctl-patched:
	$(SCRIPTS)/distro.sh ndctl-patched $(CURDIR)/build/ndctl-patched

demo: ndctl-patched
	$(SCRIPTS)/demo.sh

bench: ndctl-patched
	$(SCRIPTS)/bench.sh

RUST_SOURCES = $(shell find src -name '*.rs' ! -name bindings_generated.rs | sort)

rustfmt:
	rustfmt --edition 2021 --config-path $(CURDIR)/.rustfmt.toml $(RUST_SOURCES)

rustfmtcheck:
	rustfmt --check --edition 2021 --config-path $(CURDIR)/.rustfmt.toml $(RUST_SOURCES)

clean:
	@if [ -d "$(KDIR)" ]; then $(KMAKE) clean; fi
	rm -f src/bindings_generated.rs
