// A C shim over libjpeg-turbo: libjpeg reports errors through longjmp, which must never cross
// Swift frames, so every libjpeg call happens inside this target's functions.
#pragma once

#include <stddef.h>
#include <stdint.h>
