// A C shim over libpng: libpng reports errors with longjmp, which must never cross
// Swift frames, so every libpng call happens inside these functions.
#pragma once
