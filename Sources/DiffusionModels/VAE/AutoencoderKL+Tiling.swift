// Follows AutoencoderKL.tiled_decode, blend_v and blend_h in diffusers' models/autoencoders/autoencoder_kl.py.
import DiffusionCore

extension AutoencoderKL {
    /// The image side one tile covers (`tile_sample_min_size`: the config's `sample_size`).
    public var tileSampleMinSize: Int {
        switch config.sampleSize {
        case .all(let size): return size
        case .each(let sizes): return sizes.first ?? 0
        }
    }

    /// The latent side one tile covers (`tile_latent_min_size`).
    public var tileLatentMinSize: Int { tileSampleMinSize / (1 << (config.blockOutChannels.count - 1)) }

    /// `decode` as diffusers' `enable_tiling()` runs it: latents larger than one tile are decoded in
    /// overlapping tiles (a quarter of a tile's overlap) blended linearly, so memory is bounded by
    /// the tile size. Smaller latents decode whole.
    public func decodeTiled(_ latents: Tensor) throws -> Tensor {
        let tile = tileLatentMinSize
        guard tile > 0, latents.rank == 4, latents.shape[1] > tile || latents.shape[2] > tile else {
            return try decode(latents)
        }
        let overlap = Int(Float(tile) * (1 - 0.25))
        let blendExtent = Int(Float(tileSampleMinSize) * 0.25)
        let rowLimit = tileSampleMinSize - blendExtent
        var rows: [[Tensor]] = try stride(from: 0, to: latents.shape[1], by: overlap).map { i in
            try stride(from: 0, to: latents.shape[2], by: overlap).map { j in
                let part = latents.slice(axis: 1, i..<min(i + tile, latents.shape[1]))
                    .slice(axis: 2, j..<min(j + tile, latents.shape[2]))
                return try decode(part)
            }
        }
        // Blending runs in place in diffusers, so each tile blends with already-blended neighbours.
        for i in rows.indices {
            for j in rows[i].indices {
                if i > 0 { rows[i][j] = blend(rows[i - 1][j], into: rows[i][j], axis: 1, extent: blendExtent) }
                if j > 0 { rows[i][j] = blend(rows[i][j - 1], into: rows[i][j], axis: 2, extent: blendExtent) }
            }
        }
        let stitched = rows.map { row in
            Tensor.concatenate(row.map { cropped($0, to: rowLimit) }, axis: 2)
        }
        return Tensor.concatenate(stitched, axis: 1)
    }

    /// The first `extent` rows (axis 1) or columns (axis 2) of `b` fade in from the last ones of `a`:
    /// `a[-extent + y] * (1 - y / extent) + b[y] * (y / extent)`.
    private func blend(_ a: Tensor, into b: Tensor, axis: Int, extent: Int) -> Tensor {
        let extent = min(a.shape[axis], b.shape[axis], extent)
        var result = b
        let (height, width, channels) = (b.shape[1], b.shape[2], b.shape[3])
        let (aHeight, aWidth) = (a.shape[1], a.shape[2])
        result.withUnsafeMutableBufferPointer { out in
            a.withUnsafeBufferPointer { source in
                for n in 0..<b.shape[0] {
                    for y in 0..<(axis == 1 ? extent : height) {
                        for x in 0..<(axis == 2 ? extent : width) {
                            let step = axis == 1 ? y : x
                            // Python's float weights, rounded to float32 as torch does for a float tensor.
                            let weight = Float(Double(step) / Double(extent)), keep = Float(1 - Double(step) / Double(extent))
                            let (ay, ax) = axis == 1 ? (aHeight - extent + y, x) : (y, aWidth - extent + x)
                            let o = ((n * height + y) * width + x) * channels
                            let s = ((n * aHeight + ay) * aWidth + ax) * channels
                            for c in 0..<channels { out[o + c] = source[s + c] * keep + out[o + c] * weight }
                        }
                    }
                }
            }
        }
        return result
    }

    /// The top-left `limit` x `limit` of a tile (smaller tiles at the edges stay whole).
    private func cropped(_ tile: Tensor, to limit: Int) -> Tensor {
        tile.slice(axis: 1, 0..<min(limit, tile.shape[1])).slice(axis: 2, 0..<min(limit, tile.shape[2]))
    }
}
