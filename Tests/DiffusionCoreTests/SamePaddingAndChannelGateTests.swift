import DiffusionCore
import Testing

/// `Tensor.padded`, `spatialMean` and `scalingChannels` on hand-computed NHWC tensors (the
/// "same" padding amounts are checked against geffnet in NormalBaeDetectorTests).
struct SamePaddingAndChannelGateTests {
    /// A 1x2x2x2 tensor padded by one row above, none below, none left and two columns right:
    /// the values keep their channels, the new pixels are zero.
    @Test func paddingPlacesTheImageAmongZeros() {
        let x = Tensor(shape: [1, 2, 2, 2], values: [1, 2, 3, 4, 5, 6, 7, 8])
        let y = x.padded(top: 1, bottom: 0, left: 0, right: 2)
        #expect(y.shape == [1, 3, 4, 2])
        #expect(y.scalars == [0, 0, 0, 0, 0, 0, 0, 0,
                              1, 2, 3, 4, 0, 0, 0, 0,
                              5, 6, 7, 8, 0, 0, 0, 0])
    }

    /// Two images of 2x1 pixels and 2 channels: each channel's mean over its image's pixels,
    /// then every pixel's channels times that image's gates.
    @Test func meansAndGatesArePerImageAndChannel() {
        let x = Tensor(shape: [2, 2, 1, 2], values: [1, 10, 3, 30, -2, 4, 6, 8])
        #expect(x.spatialMean().shape == [2, 2])
        #expect(x.spatialMean().scalars == [2, 20, 2, 6])
        let gates = Tensor(shape: [2, 2], values: [0.5, 2, 1, 0])
        #expect(x.scalingChannels(by: gates).scalars == [0.5, 20, 1.5, 60, -2, 0, 6, 0])
    }
}
