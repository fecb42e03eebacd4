#ifndef SPT_CPNGDECODE_H
#define SPT_CPNGDECODE_H
#include <stddef.h>
#include <stdint.h>

/// Decodes a PNG held in memory to 8-bit RGB exactly as Pillow's `Image.open(f).convert("RGB")`
/// does — the pixels timm's transforms and spt_torch see: samples of 1, 2 and 4 bits scaled to
/// 0…255 (×255, ×85, ×17); 16-bit colour samples keep their high byte; 16-bit gray is clipped to
/// 255 (Pillow's I;16 → L); alpha, tRNS and gAMA are ignored (never composited, never
/// gamma-corrected); palette indices beyond the palette are black. On success returns 0 and sets
/// *pixels (malloc'd, the caller frees; width × height × 3), the size and whether the file stored
/// gray. Errors (libpng's, a truncated file) return -1 with a message. Images whose
/// width × height × 3 exceed `max_bytes` are refused before any row is decoded (-2).
int spt_png_decode(const uint8_t *data, size_t size, size_t max_bytes, uint8_t **pixels,
                   int *width, int *height, int *gray, char *message, size_t message_size);

#endif
