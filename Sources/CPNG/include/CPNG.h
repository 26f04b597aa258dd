// A C shim over libpng: libpng reports errors with longjmp, which must never cross
// Swift frames, so every libpng call happens inside these functions. Each one sets its
// own setjmp point and returns a status (0 on success) with the message in `error`.
#pragma once

#include <stddef.h>
#include <stdint.h>

/// libpng's message for the last failure.
typedef struct {
    char message[200];
} cpng_error;

/// A decoder over a PNG held in memory; the bytes must outlive it.
typedef struct cpng_decoder cpng_decoder;

/// Reads the signature and the chunks up to the first IDAT, so the caller can check the
/// size before any pixel memory exists. Returns NULL on failure.
cpng_decoder *_Nullable cpng_decoder_open(const uint8_t *_Nullable data, size_t size, cpng_error *_Nonnull error);

uint32_t cpng_decoder_width(const cpng_decoder *_Nonnull decoder);
uint32_t cpng_decoder_height(const cpng_decoder *_Nonnull decoder);

/// Decodes every pixel as 8-bit RGB into `rgb` (width * height * 3 bytes, rows unpadded),
/// then reads the chunks after the image data so a truncated or corrupt tail fails too.
int cpng_decoder_read_rgb(cpng_decoder *_Nonnull decoder, uint8_t *_Nonnull rgb, cpng_error *_Nonnull error);

void cpng_decoder_close(cpng_decoder *_Nullable decoder);

/// Encodes 8-bit RGB (rows unpadded) as a non-interlaced PNG. On success `*png` holds
/// `*png_size` bytes allocated with malloc, for the caller to release with `cpng_free`.
int cpng_encode_rgb(const uint8_t *_Nonnull rgb, uint32_t width, uint32_t height,
                    uint8_t *_Nullable *_Nonnull png, size_t *_Nonnull png_size, cpng_error *_Nonnull error);

void cpng_free(void *_Nullable pointer);
