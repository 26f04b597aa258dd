#include "CPlatform.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

cplatform_cpuid_registers cplatform_cpuid(uint32_t leaf, uint32_t subleaf) {
    cplatform_cpuid_registers r = {0, 0, 0, 0};
    // Leaves above the highest one return another leaf's data, so check the range first.
    if (__get_cpuid_max(leaf & 0x80000000u, 0) < leaf) return r;
    __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
    return r;
}

uint64_t cplatform_xcr0(void) {
    // xgetbv faults unless the OS has set CR4.OSXSAVE, which cpuid leaf 1 reports in ecx bit 27.
    if ((cplatform_cpuid(1, 0).ecx & (1u << 27)) == 0) return 0;
    uint32_t low, high;
    __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
    return ((uint64_t)high << 32) | low;
}

#else

cplatform_cpuid_registers cplatform_cpuid(uint32_t leaf, uint32_t subleaf) {
    (void)leaf;
    (void)subleaf;
    cplatform_cpuid_registers r = {0, 0, 0, 0};
    return r;
}

uint64_t cplatform_xcr0(void) { return 0; }

#endif
