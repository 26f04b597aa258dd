// A C shim over libjpeg-turbo: libjpeg reports errors through longjmp, which must never cross
// Swift frames, so every libjpeg call happens inside these functions. Each one sets its own
// setjmp point and returns a status (0 on success) with the message in `error`.
#pragma once

#include <stddef.h>
#include <stdint.h>

/// libjpeg's message for the last failure.
typedef struct {
    char message[200];
} cjpeg_error;

/// A decoder over a JPEG held in memory; the bytes must outlive it.
typedef struct cjpeg_decoder cjpeg_decoder;

/// Reads the markers up to the first scan (keeping the APP1 segments), so the caller
/// can check the size before any pixel memory exists. Returns NULL on failure.
cjpeg_decoder *_Nullable cjpeg_decoder_open(const uint8_t *_Nullable data, size_t size, cjpeg_error *_Nonnull error);

uint32_t cjpeg_decoder_width(const cjpeg_decoder *_Nonnull decoder);
uint32_t cjpeg_decoder_height(const cjpeg_decoder *_Nonnull decoder);

/// The number of color components in the frame: 1 (gray), 3 (YCbCr or RGB) or 4 (CMYK or YCCK).
int cjpeg_decoder_components(const cjpeg_decoder *_Nonnull decoder);

/// The payload of the APP1 segment number `index` (0-based, in file order; EXIF and XMP
/// live there), or NULL with `*size` 0 past the last one. Owned by the decoder and valid only
/// until `cjpeg_decoder_read`, after which libjpeg has released it.
const uint8_t *_Nullable cjpeg_decoder_app1(const cjpeg_decoder *_Nonnull decoder, int index, size_t *_Nonnull size);

/// Decodes every pixel into `pixels` (width * height * components bytes, rows unpadded) with
/// libjpeg's defaults (ISLOW IDCT, fancy upsampling), as Pillow does: gray as 1 byte, three
/// components as RGB, four as CMYK exactly as stored (Adobe files store it inverted). Fails
/// when the data ends before the last row; a missing end-of-image marker after it is
/// tolerated, as in Pillow.
int cjpeg_decoder_read(cjpeg_decoder *_Nonnull decoder, uint8_t *_Nonnull pixels, cjpeg_error *_Nonnull error);

void cjpeg_decoder_close(cjpeg_decoder *_Nullable decoder);
