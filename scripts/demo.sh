#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make demo: install, build, boot a guest with a 1 GiB dax device, load the
# Rust kmem and show what the device does, step by step.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/setup.sh"
"$here/kernel.sh"
make -s -C "$here/.." modules >/dev/null
exec "$here/vm-run" --kmem=none "$here/tests/demo.sh"
