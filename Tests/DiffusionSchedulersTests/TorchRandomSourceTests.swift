import DiffusionSchedulers
import Foundation
import Testing

private struct RandomFixture: Decodable {
    struct Draw: Decodable {
        let count: Int
        let values: [Float]?
        let head: [Float]?
        let tail: [Float]?
        let fnv1a64: String?
    }
    struct Case: Decodable {
        let seed: String
        let draws: [Draw]
    }
    let cases: [Case]
}

/// Every value must equal torch's bit for bit: the pipeline's promise is that image i of a
/// request is the image diffusers makes with `torch.Generator("cpu").manual_seed(seed + i)`.
@Test func torchRandnMatchesTorchBitForBit() throws {
    let fixture = try Fixtures.load(RandomFixture.self, "random.json")
    #expect(fixture.cases.count >= 20)
    for testCase in fixture.cases {
        var random = TorchRandomSource(seed: try #require(UInt64(testCase.seed)))
        for (index, draw) in testCase.draws.enumerated() {
            let values = random.randn(draw.count)
            let label = "seed \(testCase.seed), draw \(index) of \(draw.count)"
            #expect(values.count == draw.count, "\(label)")
            if let expected = draw.values {
                #expect(values.map(\.bitPattern) == expected.map(\.bitPattern), "\(label)")
            } else {
                #expect(Array(values.prefix(16)) == draw.head, "\(label): head")
                #expect(Array(values.suffix(16)) == draw.tail, "\(label): tail")
                #expect(fnv1a64(values) == draw.fnv1a64, "\(label): digest of all values")
            }
        }
    }
}

@Test func seedsDifferingBy2To32GiveOneStream() {
    var low = TorchRandomSource(seed: 5), high = TorchRandomSource(seed: (1 << 32) + 5)
    #expect(low.randn(40) == high.randn(40))
}
