import DiffusionCore
import Testing

/// The per-kind profile counts each layer call once, with its FLOPs worked out by hand.
@Suite struct ProfileTests {
    @Test func countsCallsAndFlopsPerKind() {
        let conv = Conv2D(weight: Tensor(shape: [4, 3, 3, 3], repeating: 0.1), bias: nil, padding: 1)
        let linear = Linear(weight: Tensor(shape: [5, 4], repeating: 0.1), bias: nil)
        let norm = LayerNorm(epsilon: 1e-5, weight: Tensor(shape: [5], repeating: 1), bias: nil)
        let x = Tensor(shape: [2, 6, 6, 3], repeating: 1)
        let (_, profile) = Profile.measuring {
            let tokens = linear(conv(x).reshaped([2, 36, 4]))
            _ = Attention.scaledDotProduct(query: norm(tokens), key: tokens, value: tokens, heads: 1)
        }
        let totals = profile.totals
        // conv: 2 x 72 output pixels x 3 in x 4 out x 9 taps; linear: 2 x 72 rows x 4 x 5;
        // attention: 4 x 2 batches x 36 queries x 36 keys x 5 features.
        #expect(totals[.convolution]?.flops == Double(2 * 72 * 3 * 4 * 9) && totals[.convolution]?.calls == 1)
        #expect(totals[.linear]?.flops == Double(2 * 72 * 4 * 5) && totals[.linear]?.calls == 1)
        #expect(totals[.attention]?.flops == Double(4 * 2 * 36 * 36 * 5))
        #expect(totals[.normalization]?.calls == 1)
        // Outside `measuring` nothing is recorded.
        _ = conv(x)
        #expect(profile.totals[.convolution]?.calls == 1)
    }
}
