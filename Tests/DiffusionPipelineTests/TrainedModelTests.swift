import DiffusionCore
import DiffusionDetectors
import DiffusionFormats
import DiffusionPipeline
import Foundation
import DiffusionTestSupport
import Testing

/// The trained tiny model of Weights/Training (the default models of Weights/) draws what it is asked: its images
/// follow the control image's edges, the prompt's colour and the reference's palette, and the runtime
/// computes diffusers' images for it. The random model of Tests/Fixtures/Weights fails the same three measures, which
/// shows they measure steering and not chance. Fixtures: Tests/Goldens/trained/generate.py.
@Suite(.serialized) struct TrainedModelTests {
    struct EdgeCase: Decodable { let seed: UInt64; let prompt, control: String }
    struct ColorCase: Decodable { let seed: UInt64; let prompt, color: String }
    struct ReferenceCase: Decodable { let seed: UInt64; let prompt, reference, color: String }
    struct Cases: Decodable {
        let steps: Int
        let guidance: Double
        let palette: [String: [Int]]
        let edges: [EdgeCase]
        let colors: [ColorCase]
        let references: [ReferenceCase]
    }
    struct Golden: Decodable {
        let prompt, control, reference: String
        let ipAdapterScale: Double
        let seed: UInt64
        let steps: Int
        let guidance: Double
        let numSamples: Int
    }

    /// A models directory in the layout of Docs/SPEC.md §1 and the pipeline folder inside it.
    struct Models: CustomTestStringConvertible {
        let directory: URL
        let pipeline: String
        var testDescription: String { "\(directory.lastPathComponent)/\(pipeline)" }
        var canny: URL { directory.appendingPathComponent("controlnets/sd-1_5/canny") }
        var style: URL { directory.appendingPathComponent("ip-adapters/sd-1_5/style") }
    }

    static let fixtures = GoldenImages.root.appendingPathComponent("Tests/Goldens/trained")
    static let trained = Models(directory: GoldenImages.root.appendingPathComponent("Weights"), pipeline: "shapes-sd15")
    static let random = Models(directory: GoldenImages.root.appendingPathComponent("Tests/Fixtures/Weights"), pipeline: "tiny-sd15")

    static func cases() throws -> Cases {
        let cases = try JSONDecoder().decode(Cases.self, from: Data(contentsOf: fixtures.appendingPathComponent("cases.json")))
        try #require(cases.palette.values.allSatisfy { $0.count == 3 }, "cases.json: every palette colour is [r, g, b]")
        return cases
    }

    static func image(_ path: String) throws -> RGBImage {
        try PNG.decode(Data(contentsOf: fixtures.appendingPathComponent(path)))
    }

    static func parameters(_ cases: Cases, prompt: String, seed: UInt64) -> GenerationParameters {
        GenerationParameters(prompt: prompt, width: 64, height: 64, steps: cases.steps, guidance: cases.guidance, seed: seed)
    }

    // MARK: the measures (generate.py computes the same on diffusers' images)

    /// The share of the output's canny edge pixels (100/200, as the ControlNet was trained) that lie within
    /// one pixel (the 3x3 neighbourhood) of a control edge: 1 when every edge drawn is an edge asked for.
    static func edgeOverlap(_ output: RGBImage, control: RGBImage) -> Double {
        let edges = CannyDetector(low: 100, high: 200).edgeMap(output)
        let w = control.width, h = control.height
        func isControlEdge(_ x: Int, _ y: Int) -> Bool {
            (max(0, y - 1)...min(h - 1, y + 1)).contains { yy in
                (max(0, x - 1)...min(w - 1, x + 1)).contains { xx in control.pixels[3 * (yy * w + xx)] > 0 }
            }
        }
        var drawn = 0, matched = 0
        for y in 0..<h { for x in 0..<w where edges[y * w + x] > 0 {
            drawn += 1
            if isControlEdge(x, y) { matched += 1 }
        } }
        return Double(matched) / Double(max(1, drawn))
    }

    /// The palette colour nearest (in RGB) to most of the saturated pixels (max - min channel > 60, so
    /// the neutral backgrounds do not vote), or nil when no pixel is saturated.
    static func dominantColor(_ image: RGBImage, palette: [String: [Int]]) -> String? {
        let entries = palette.sorted { $0.key < $1.key }.filter { $0.value.count == 3 }
        var votes = [Int](repeating: 0, count: entries.count)
        for i in stride(from: 0, to: image.pixels.count - 2, by: 3) {
            let r = Int(image.pixels[i]), g = Int(image.pixels[i + 1]), b = Int(image.pixels[i + 2])
            guard max(r, g, b) - min(r, g, b) > 60 else { continue }
            var nearest = 0, nearestDistance = Int.max
            for (k, entry) in entries.enumerated() {
                let c = entry.value
                let distance = (r - c[0]) * (r - c[0]) + (g - c[1]) * (g - c[1]) + (b - c[2]) * (b - c[2])
                if distance < nearestDistance { (nearest, nearestDistance) = (k, distance) }
            }
            votes[nearest] += 1
        }
        guard let best = votes.indices.max(by: { votes[$0] < votes[$1] }), votes[best] > 0 else { return nil }
        return entries[best].key
    }

    static func pipeline(_ models: Models) throws -> StableDiffusionPipeline {
        try StableDiffusionPipeline(folder: models.directory.appendingPathComponent(models.pipeline))
    }

    /// Mean edge overlap, over the edge cases' seeds, with each image's own control and with the next
    /// case's (a shuffled control).
    static func edgeOverlaps(_ models: Models) throws -> (own: Double, shuffled: Double) {
        let cases = try cases(), pipeline = try pipeline(models)
        let controls = try cases.edges.map { try image($0.control) }
        var own = 0.0, shuffled = 0.0
        for (i, c) in cases.edges.enumerated() {
            let output = try pipeline.generate(
                parameters(cases, prompt: c.prompt, seed: c.seed),
                controlNets: [ControlNetInput(folder: models.canny, image: controls[i])])[0]
            own += edgeOverlap(output, control: controls[i]) / Double(cases.edges.count)
            shuffled += edgeOverlap(output, control: controls[(i + 1) % controls.count]) / Double(cases.edges.count)
        }
        return (own, shuffled)
    }

    /// The share of seeds whose dominant colour is the prompt's ("a blue star", six colours in turn).
    static func promptColorRate(_ models: Models) throws -> Double {
        let cases = try cases(), pipeline = try pipeline(models)
        let hits = try cases.colors.filter { c in
            dominantColor(try pipeline.generate(parameters(cases, prompt: c.prompt, seed: c.seed))[0], palette: cases.palette) == c.color
        }
        return Double(hits.count) / Double(cases.colors.count)
    }

    /// The share of seeds whose dominant colour is the reference's, under a colourless prompt ("a star"),
    /// the reference's colour changing from seed to seed (six one-colour references in turn).
    static func referenceColorRate(_ models: Models) throws -> Double {
        let cases = try cases(), pipeline = try pipeline(models)
        let hits = try cases.references.filter { c in
            let output = try pipeline.generate(
                parameters(cases, prompt: c.prompt, seed: c.seed),
                ipAdapter: IPAdapterInput(folder: models.style, images: [try image(c.reference)]))[0]
            return dominantColor(output, palette: cases.palette) == c.color
        }
        return Double(hits.count) / Double(cases.references.count)
    }

    // MARK: the tests
    // Thresholds. Edges: the trained model reaches a mean overlap of 0.46 with its own control against
    // 0.18 with a shuffled one (2.5x); the random model 0.11 against 0.11. Colours: the issue's "most
    // seeds" (3 in 4) for the prompt and half the seeds for the reference, chance being 1 in 6; the
    // trained model reaches 21/24 and 14/24 (Weights/Training/README.md), the random one 4/24.

    @Test func trainedModelFollowsTheControlEdges() throws {
        let edges = try Self.edgeOverlaps(Self.trained)
        #expect(edges.own >= 0.35, "overlap with the own control \(edges.own)")
        #expect(edges.own >= 2 * edges.shuffled, "own \(edges.own) vs shuffled \(edges.shuffled)")
    }

    @Test func trainedModelDrawsThePromptColour() throws {
        let rate = try Self.promptColorRate(Self.trained)
        #expect(rate >= 0.75, "prompt colour dominant in \(rate) of the seeds")
    }

    @Test func trainedReferencePullsThePalette() throws {
        let rate = try Self.referenceColorRate(Self.trained)
        #expect(rate >= 0.5, "reference colour dominant in \(rate) of the seeds")
    }

    /// The random weights fail every measure: what the trained model passes is steering, not chance.
    @Test func randomModelFailsTheSameMeasures() throws {
        let edges = try Self.edgeOverlaps(Self.random)
        #expect(edges.own < 0.35 || edges.own < 2 * edges.shuffled, "edges: own \(edges.own) vs shuffled \(edges.shuffled)")
        let prompt = try Self.promptColorRate(Self.random), reference = try Self.referenceColorRate(Self.random)
        #expect(prompt < 0.75, "prompt colour dominant in \(prompt) of the seeds")
        #expect(reference < 0.5, "reference colour dominant in \(reference) of the seeds")
    }

    /// diffusers' StableDiffusionControlNetPipeline with the IP-Adapter on the trained weights
    /// (Tests/Goldens/trained/golden), within the end-to-end bar of GoldenImages.
    @Test func trainedModelMatchesDiffusers() throws {
        let g = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("golden/request.json")))
        let models = Self.trained
        let pipeline = try Self.pipeline(models)
        let images = try pipeline.generate(
            GenerationParameters(prompt: g.prompt, width: 64, height: 64, steps: g.steps, guidance: g.guidance, seed: g.seed,
                                 numSamples: g.numSamples),
            controlNets: [ControlNetInput(folder: models.canny, image: try Self.image(g.control))],
            ipAdapter: IPAdapterInput(folder: models.style, images: [try Self.image(g.reference)], scale: g.ipAdapterScale))
        #expect(images.count == g.numSamples)
        for (i, image) in images.enumerated() {
            GoldenImageBar.expectClose(image, try Self.image("golden/expected_\(i).png"), "trained sample \(i)")
        }
    }
}
