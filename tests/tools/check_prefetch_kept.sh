#!/bin/sh
# check_prefetch_kept.sh - the compiler kept every prefetch of engine/prefetch.c.
#
# A prefetch has no effect a test can observe, and GCC deletes calls to a
# helper whose only effect is __builtin_prefetch (it finds the helper pure):
# the large profile once ran 30% slower with most of its prefetches silently
# gone. This check counts the prefetch instructions in the compiled object
# and the textual call sites of pf_w()/pf_far() in the source: every call site
# leaves at least one instruction (inlined once or more), so fewer
# instructions than call sites means some were dropped.
#
# usage: check_prefetch_kept.sh SOURCE OBJECT...   (the object list may hold
# other objects of the library: the one built from prefetch.c is picked)
set -eu
src=$1
shift
obj=
for o in "$@"; do
    case $o in */prefetch.c.o) obj=$o ;; esac
done
if [ -z "$obj" ] || [ ! -f "$obj" ]; then
    echo "check_prefetch_kept: no object built from prefetch.c among: $*" >&2
    exit 2
fi
sites=$(grep -E '\bpf_(w|far)\(' "$src" | grep -cvE 'static inline void pf_(w|far)\(')
insns=$(objdump -d "$obj" | grep -cE '\bprefetch(t0|t1|t2|nta|w)\b')
echo "check_prefetch_kept: $obj: $insns prefetch instructions for $sites call sites in $src"
if [ "$insns" -lt "$sites" ]; then
    echo "check_prefetch_kept: FAIL: $((sites - insns)) or more prefetch call sites were compiled away" >&2
    exit 1
fi
