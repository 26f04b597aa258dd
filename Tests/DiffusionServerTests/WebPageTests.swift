import DiffusionFormats
import DiffusionService
import Foundation
import Testing

/// The page at `GET /`, driven in headless Chromium against the server on a loopback port with
/// the default models (Weights/) and an API key: what a user does, and what the user then sees.
/// `DIFFUSE_SCREENSHOTS=Docs` also saves the screenshots of Docs/SERVER.md.
@Suite(.serialized, .enabled(if: HeadlessChromium.executable != nil, "chromium is not installed (apt-get install -y chromium); .ci/run installs it"))
struct WebPageTests {
    static let images = Fixtures.root.appendingPathComponent("Examples/images")

    /// Opens the page, answers its API-key prompt, and waits for the form to offer the models.
    private func openPage(_ server: TestServer) async throws -> HeadlessChromium {
        let browser = try HeadlessChromium()
        try await browser.navigate("http://127.0.0.1:\(server.client.port)/")
        try await browser.waitUntil("document.getElementById('key-dialog').open", "the page to ask for the API key")
        try await browser.evaluate("""
            document.getElementById('api-key').value = \(HeadlessChromium.quoted(Fixtures.key));
            document.getElementById('api-secret').value = \(HeadlessChromium.quoted(Fixtures.secret));
            document.getElementById('key-save').click();
            """)
        try await browser.waitUntil("document.querySelector('#modelId option[value=\"tiny-sd15\"]')", "the models of GET /models")
        return browser
    }

    /// Sets the inputs (by id) as typing would, with the events the page listens to.
    private func fill(_ browser: HeadlessChromium, _ values: [String: String]) async throws {
        for (id, value) in values {
            try await browser.evaluate("""
                (() => { const e = document.getElementById(\(HeadlessChromium.quoted(id)));
                  e.value = \(HeadlessChromium.quoted(value));
                  e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); })()
                """)
        }
    }

    private func saveScreenshot(_ browser: HeadlessChromium, _ name: String) async throws {
        guard let folder = ProcessInfo.processInfo.environment["DIFFUSE_SCREENSHOTS"] else { return }
        let url = URL(fileURLWithPath: folder, relativeTo: Fixtures.root).appendingPathComponent(name)
        try await browser.screenshot().write(to: url)
    }

    /// Fill the form, upload a control image and a reference, turn detection on (the detected
    /// map appears), submit, see the progress with the time left and the previews, and wait for
    /// the gallery: its images are the job's assets, with their seeds, and the uploaded control
    /// image is the one the job used, pixel for pixel.
    @Test func generatesFromTheFormIntoTheGallery() async throws {
        let folder = try TemporaryFolder()
        let server = try await TestServer(assets: folder.url)
        let browser = try await openPage(server)
        try await fill(browser, [
            "prompt": "a red house by a lake, oil painting", "negativePrompt": "blurry", "width": "64", "height": "64",
            "numInferenceSteps": "60", "numSamples": "2", "seed": "42", "scheduler": "PNDMScheduler",
        ])
        try await browser.evaluate("document.getElementById('intermediateImages').checked = true")
        try await browser.setFiles("#control-file", [Self.images.appendingPathComponent("control.png")])
        try await browser.waitUntil("!document.getElementById('control-preview').hidden", "the control image's preview")
        try await browser.evaluate("document.getElementById('detect').click()")
        try await browser.waitUntil(
            "!document.getElementById('detected-preview').hidden && document.querySelector('#detected-preview img').naturalWidth === 64",
            "the detected canny map (POST /detect, resized to 64x64)")
        try await browser.setFiles("#reference-files", [Self.images.appendingPathComponent("style.png")])
        try await browser.waitUntil("document.querySelectorAll('#references li').length === 1", "the reference image")

        try await browser.evaluate("document.getElementById('submit').click()")
        // 60 steps leave time to see the job run (the page polls 4 times a second): its previews, and the time left.
        try await browser.waitUntil(
            "document.querySelectorAll('#previews img').length === 2 && document.querySelector('#previews img').naturalWidth === 64",
            timeout: 120, "both samples' previews")
        try await browser.waitUntil(
            "/in-progress: step \\d+ of 60, \\d+ s left/.test(document.getElementById('progress-text').textContent)",
            "the step and the time left")
        try await browser.waitUntil(
            "[...document.querySelectorAll('#gallery img')].filter(i => i.complete && i.naturalWidth === 64).length === 2",
            timeout: 180, "two 64x64 images in the gallery")
        try await saveScreenshot(browser, "server-page.png")

        let cards = try #require(try await browser.evaluate("""
            [...document.querySelectorAll('#gallery .card')].map(c => [c.dataset.jobId, c.dataset.assetId, c.querySelector('.seed').textContent])
            """) as? [[String]])
        let jobId = try #require(cards.first?.first)
        let job = try #require(try await server.client.get("/jobs/\(jobId)").json["job"] as? [String: Any])
        #expect(job["status"] as? String == "success")
        let assetIds = try #require((job["metadata"] as? [String: Any])?["assetIds"] as? [String])
        // Newest first in the gallery: the job's outputs in reverse sample order, seeds 42 + i.
        #expect(cards.map { $0[1] } == assetIds.reversed())
        #expect(cards.map { $0[2] } == ["43", "42"])
        for assetId in assetIds {
            let asset = try #require(try await server.client.get("/assets/\(assetId)").json["asset"] as? [String: Any])
            let metadata = try #require(asset["metadata"] as? [String: Any])
            #expect(metadata["prompt"] as? String == "a red house by a lake, oil painting")
            #expect(metadata["numInferenceSteps"] as? Int == 60 && metadata["scheduler"] as? String == "PNDMScheduler")
            // The control image the page uploaded (as a data URL) is the job's, unchanged.
            let parent = try #require(metadata["parentId"] as? String)
            let stored = try PNG.decode(try await server.client.get("/assets/\(parent)/image").body)
            let original = try PNG.decode(Data(contentsOf: Self.images.appendingPathComponent("control.png")))
            #expect(stored.width == original.width && stored.height == original.height && stored.pixels == original.pixels)
        }
        try await checkAssetsView(browser, server, jobId: jobId)
        try await checkReuse(browser, server, assetId: assetIds[1])
        try await server.stop()
    }

    /// The assets view shows what `GET /assets` lists: the outputs and the uploaded inputs, not
    /// the hidden previews.
    private func checkAssetsView(_ browser: HeadlessChromium, _ server: TestServer, jobId: String) async throws {
        let listed = try #require(try await server.client.get("/assets?pageSize=100").json["assets"] as? [[String: Any]])
        let ids = Set(listed.compactMap { $0["id"] as? String })
        // (Compared with the previews' ids themselves: a random upload id may contain "-p".)
        let previews = (0..<2).map { AssetStore.jobAssetId(jobId: jobId, role: .preview, index: $0) }
        #expect(ids.count == 4 && ids.isDisjoint(with: previews), "\(ids.sorted())")
        try await browser.evaluate("document.getElementById('show-assets').click()")
        try await browser.waitUntil(
            "[...document.querySelectorAll('#assets .card img')].filter(i => i.complete && i.naturalWidth > 0).length === \(ids.count)",
            "the assets view's \(ids.count) images")
        let shown = try await browser.evaluate("[...document.querySelectorAll('#assets .card')].map(c => c.dataset.assetId)") as? [String]
        #expect(Set(shown ?? []) == ids)
        try await browser.evaluate("document.getElementById('show-generate').click()")
    }

    /// "Reuse" on the image of seed 43 fills the form with its request, that seed and one
    /// sample; generating again makes that image again, from the same control image. (Within
    /// 6 levels at any pixel and 0.5 on average: the end-to-end bar of GenerationRouteTests, as
    /// a batch of one may sum in another order than a batch of two.)
    private func checkReuse(_ browser: HeadlessChromium, _ server: TestServer, assetId: String) async throws {
        try await browser.evaluate("document.querySelector('#gallery .card[data-asset-id=\"\(assetId)\"] .reuse').click()")
        try await browser.waitUntil(
            "document.getElementById('seed').value === '43' && !document.getElementById('control-preview').hidden"
                + " && document.querySelectorAll('#references li').length === 1", "the form filled from the image")
        let form = try await browser.evaluate(
            "['prompt', 'negativePrompt', 'numSamples', 'numInferenceSteps', 'width'].map(id => document.getElementById(id).value)")
        #expect(form as? [String] == ["a red house by a lake, oil painting", "blurry", "1", "60", "64"])
        try await browser.evaluate("document.getElementById('submit').click()")
        try await browser.waitUntil(
            "[...document.querySelectorAll('#gallery img')].filter(i => i.complete && i.naturalWidth === 64).length === 3",
            timeout: 120, "the reused request's image in the gallery")
        let newest = try #require(try await browser.evaluate("document.querySelector('#gallery .card').dataset.assetId") as? String)
        let before = try #require(try await server.client.get("/assets/\(assetId)").json["asset"] as? [String: Any])
        let after = try #require(try await server.client.get("/assets/\(newest)").json["asset"] as? [String: Any])
        let (old, new) = (before["metadata"] as? [String: Any], after["metadata"] as? [String: Any])
        #expect(new?["seed"] as? String == "43" && new?["parentId"] as? String == old?["parentId"] as? String, "\(old ?? [:]) \(new ?? [:])")
        let first = try PNG.decode(try await server.client.get("/assets/\(assetId)/image").body)
        let again = try PNG.decode(try await server.client.get("/assets/\(newest)/image").body)
        let differences = zip(first.pixels, again.pixels).map { abs(Int($0) - Int($1)) }
        #expect(first.pixels.count == again.pixels.count && (differences.max() ?? 99) <= 6)
        #expect(Double(differences.reduce(0, +)) / Double(max(1, differences.count)) <= 0.5)
    }

    /// A width the server refuses: its message appears beside the width field, and no job is queued.
    @Test func showsTheErrorBesideItsField() async throws {
        let folder = try TemporaryFolder()
        let server = try await TestServer(assets: folder.url)
        let browser = try await openPage(server)
        try await fill(browser, ["prompt": "a red house", "width": "65", "height": "64", "numInferenceSteps": "4"])
        try await browser.setFiles("#control-file", [Self.images.appendingPathComponent("control.png")])
        try await browser.setFiles("#reference-files", [Self.images.appendingPathComponent("style.png")])
        try await browser.waitUntil("document.querySelectorAll('#references li').length === 1", "the reference image")
        try await browser.evaluate("document.getElementById('submit').click()")
        try await browser.waitUntil("document.querySelector('[data-error-for~=\"width\"] .error').textContent !== ''", "the width error")
        try await saveScreenshot(browser, "server-page-error.png")

        let shown = try await browser.evaluate("""
            [...document.querySelectorAll('.field.invalid')].map(f => [f.dataset.errorFor, f.querySelector('.error').textContent])
            """) as? [[String]]
        #expect(shown == [["width", "width must be a multiple of 8 in [64, 1024] for sd-1_5 models, not 65"]])
        #expect(try await browser.evaluate("document.getElementById('form-error').textContent") as? String == "")
        let jobs = try await server.client.get("/health").json["jobs"] as? [String: Int]
        #expect((jobs ?? [:]).values.reduce(0, +) == 0)
        #expect(folder.assetIds.isEmpty)
        try await server.stop()
    }
}
