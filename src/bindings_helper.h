/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Input of the module-local bindgen step (see Kbuild): the private dax bus
 * API and the memory-block, memory-group and memory-tier API that
 * rust/bindings does not cover.  Everything not allowlisted in Kbuild
 * resolves to kernel::bindings (see src/kernel/bindings.rs).
 */
#include <linux/mm.h>
#include <linux/memory_hotplug.h>
#include <linux/memory.h>
#include <linux/memory-tiers.h>
#include <linux/ioport.h>
#include <linux/string_helpers.h>
#include "dax-private.h"	/* found via -I$(srctree)/drivers/dax */
#include "bus.h"
#include "glue.h"

/* Macros bindgen cannot evaluate, materialised as typed constants. */
const mhp_t RUST_CONST_HELPER_MHP_NID_IS_MGID = MHP_NID_IS_MGID;
const mhp_t RUST_CONST_HELPER_MHP_MEMMAP_ON_MEMORY = MHP_MEMMAP_ON_MEMORY;
