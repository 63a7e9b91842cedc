#!/bin/sh
# check_prefetch_kept.sh - the compiler kept every prefetch of the hot paths.
#
# A prefetch has no effect a test can observe, and GCC deletes calls to a
# helper whose only effect is __builtin_prefetch (it finds the helper pure):
# the large book profile once ran 30% slower with most of engine/prefetch.c's
# prefetches silently gone. For each source below this check counts the
# textual prefetch call sites (pf_w(), pf_far(), __builtin_prefetch(), the
# two helpers' own definitions excepted) and the prefetch instructions in the
# object built from it: every call site leaves at least one instruction
# (inlined once or more), so fewer instructions than call sites means some
# were dropped.
#
# usage: check_prefetch_kept.sh SOURCE_DIR OBJECT...   (the library's objects;
# those built from the sources below are picked)
set -eu
srcdir=$1
shift
fail=0
for rel in engine/prefetch.c engine/orders.c risk/account.c risk/limits.c; do
    obj=
    for o in "$@"; do
        case $o in */"$rel".o) obj=$o ;; esac
    done
    if [ -z "$obj" ] || [ ! -f "$obj" ]; then
        echo "check_prefetch_kept: no object built from $rel among the arguments" >&2
        exit 2
    fi
    sites=$(grep -E '\b(pf_w|pf_far|__builtin_prefetch)\(' "$srcdir/$rel" |
            grep -cvE 'static inline void pf_(w|far)\(' || true)
    insns=$(objdump -d "$obj" | grep -cE '\bprefetch(t0|t1|t2|nta|w)\b' || true)
    echo "check_prefetch_kept: $rel: $insns prefetch instructions for $sites call sites"
    if [ "$sites" -eq 0 ]; then
        echo "check_prefetch_kept: FAIL: no prefetch call site found in $rel (update this check)" >&2
        fail=1
    elif [ "$insns" -lt "$sites" ]; then
        echo "check_prefetch_kept: FAIL: $rel: $((sites - insns)) or more prefetch call sites were compiled away" >&2
        fail=1
    fi
done
exit $fail
