import DiffusionPipeline
import DiffusionService
import Foundation
import Testing

/// `ResolvedRequest`: Docs/SPEC.md §2's defaults and ranges, every boundary just inside and just outside.
@Suite struct ValidationTests {
    @Test func sd15Defaults() throws {
        let environment = try TestEnvironment.shared()
        let resolved = try environment.resolve(body())
        #expect(resolved.model.id == "sd15" && resolved.model.family == .sd15)
        #expect(resolved.numSamples == 4)
        #expect(resolved.numInferenceSteps == 30)
        #expect(resolved.guidance == 7.5)
        #expect(resolved.doClassifierFreeGuidance)
        #expect(resolved.width == 512 && resolved.height == 512)
        #expect(resolved.ipAdapterScales == [0.9])
        #expect(resolved.ipAdapter.type == .style)
        #expect(resolved.ipAdapter.url.path.hasSuffix("models/ip-adapters/sd-1_5/style"))
        #expect(resolved.controlStart == 0 && resolved.controlEnd == 1)
        #expect(resolved.disableModalityDetection)
        #expect(resolved.scheduler == .pndm)
        #expect(resolved.negativePrompt == nil)
        #expect(!resolved.hideResults && !resolved.intermediateImages && !resolved.imageHide && resolved.imageParentId == nil)
        #expect(resolved.controlNets.map(\.modality) == [ControlNetModality(name: "canny", scale: 1)])
        #expect(resolved.controlNets[0].folder.path.hasSuffix("models/controlnets/sd-1_5/canny"))
        #expect(resolved.warnings.isEmpty)
        #expect(!resolved.model.forceZerosForEmptyPrompt)
    }

    @Test func sdxlDefaults() throws {
        let environment = try TestEnvironment.shared()
        let resolved = try environment.resolve(adding: "", model: "sdxl")
        #expect(resolved.model.family == .sdxl)
        #expect(resolved.guidance == 6)
        #expect(resolved.width == 512 && resolved.height == 512)
        #expect(resolved.scheduler == .eulerDiscrete)
        #expect(resolved.model.schedulerConfig.className == "EulerDiscreteScheduler")
        #expect(resolved.model.forceZerosForEmptyPrompt, "model_index.json omits it: diffusers' default is true")
        #expect(resolved.model.textEncoder2?.lastPathComponent == "text_encoder_2")
    }

    @Test func randomSeedWhenAbsent() throws {
        let environment = try TestEnvironment.shared()
        let seeds = try (0..<4).map { _ in try environment.resolve(body()).seed }
        // Four equal draws from 2^64 values would mean the seed is not random.
        #expect(Set(seeds).count > 1)
    }

    @Test func seedOfSampleWrapsAround() throws {
        let environment = try TestEnvironment.shared()
        let resolved = try environment.resolve(adding: #""seed": "18446744073709551615""#)
        #expect(resolved.seed == .max)
        #expect(resolved.seed(ofSample: 0) == .max)
        #expect(resolved.seed(ofSample: 1) == 0)
        #expect(resolved.seed(ofSample: 3) == 2)
    }

    @Test(arguments: [
        (#""42""#, UInt64(42)), ("42", 42), (#""0""#, 0), ("0", 0), (#""007""#, 7),
        (#""18446744073709551615""#, .max), ("18446744073709551615", .max),
    ])
    func seedAccepted(_ json: String, _ seed: UInt64) throws {
        #expect(try TestEnvironment.shared().resolve(adding: #""seed": \#(json)"#).seed == seed)
    }

    @Test(arguments: [#""18446744073709551616""#, #""-1""#, #""+1""#, #""""#, #""1.0""#, #""1e3""#, #"" 1""#, #""0x10""#])
    func seedRefused(_ json: String) throws {
        let failure = error { try TestEnvironment.shared().resolve(adding: #""seed": \#(json)"#) }
        #expect(failure?.status == 400 && failure?.field == "seed")
    }

    /// (JSON members, model, the field that must be refused or nil when they must pass).
    static let boundaries: [(String, String, String?)] = [
        (#""numSamples": 1"#, "sd15", nil), (#""numSamples": 128"#, "sd15", nil),
        (#""numSamples": 0"#, "sd15", "numSamples"), (#""numSamples": 129"#, "sd15", "numSamples"),
        (#""numSamples": 2.5"#, "sd15", "numSamples"),
        // The fixture's PNDM config runs PRK steps, which cannot make a schedule of 1 step: a 400 at validation.
        (#""numInferenceSteps": 1, "scheduler": "EulerDiscreteScheduler""#, "sd15", nil), (#""numInferenceSteps": 1"#, "sd15", "numInferenceSteps"), (#""numInferenceSteps": 150"#, "sd15", nil),
        (#""numInferenceSteps": 0"#, "sd15", "numInferenceSteps"), (#""numInferenceSteps": 151"#, "sd15", "numInferenceSteps"),
        (#""numInferenceSteps": 1.5"#, "sd15", "numInferenceSteps"),
        (#""guidance": 0"#, "sd15", nil), (#""guidance": 20"#, "sd15", nil),
        (#""guidance": -0.01"#, "sd15", "guidance"), (#""guidance": 20.01"#, "sd15", "guidance"),
        (#""guidance": 20.01"#, "sdxl", "guidance"),
        (#""width": 64"#, "sd15", nil), (#""width": 1024"#, "sd15", nil),
        (#""width": 56"#, "sd15", "width"), (#""width": 1032"#, "sd15", "width"), (#""width": 516"#, "sd15", "width"),
        (#""width": 512.5"#, "sd15", "width"),
        (#""height": 64"#, "sd15", nil), (#""height": 1024"#, "sd15", nil),
        (#""height": 56"#, "sd15", "height"), (#""height": 1032"#, "sd15", "height"), (#""height": 100"#, "sd15", "height"),
        (#""width": 512"#, "sdxl", nil), (#""width": 2048"#, "sdxl", nil),
        (#""width": 504"#, "sdxl", "width"), (#""width": 2056"#, "sdxl", "width"), (#""width": 1020"#, "sdxl", "width"),
        (#""height": 512"#, "sdxl", nil), (#""height": 2048"#, "sdxl", nil),
        (#""height": 504"#, "sdxl", "height"), (#""height": 2056"#, "sdxl", "height"),
        (#""height": 64"#, "sdxl", "height"),
        (#""ipAdapterScale": 0"#, "sd15", nil), (#""ipAdapterScale": 1"#, "sd15", nil),
        (#""ipAdapterScale": -0.01"#, "sd15", "ipAdapterScale"), (#""ipAdapterScale": 1.01"#, "sd15", "ipAdapterScale"),
        (#""ipAdapterScales": [0]"#, "sd15", nil), (#""ipAdapterScales": [1]"#, "sd15", nil),
        (#""ipAdapterScales": [-0.01]"#, "sd15", "ipAdapterScales"), (#""ipAdapterScales": [1.01]"#, "sd15", "ipAdapterScales"),
        (#""controlStart": 0"#, "sd15", nil), (#""controlStart": 0.9"#, "sd15", nil),
        (#""controlStart": -0.01"#, "sd15", "controlStart"), (#""controlStart": 0.91"#, "sd15", "controlStart"),
        (#""controlEnd": 0.1"#, "sd15", nil), (#""controlEnd": 1"#, "sd15", nil),
        (#""controlEnd": 0.09"#, "sd15", "controlEnd"), (#""controlEnd": 1.01"#, "sd15", "controlEnd"),
        (#""controlStart": 0.5, "controlEnd": 0.51"#, "sd15", nil),
        (#""controlStart": 0.5, "controlEnd": 0.5"#, "sd15", "controlEnd"),
        (#""controlStart": 0.9, "controlEnd": 0.3"#, "sd15", "controlEnd"),
        (#""ipAdapterType": "style""#, "sd15", nil), (#""ipAdapterType": "character""#, "sdxl", nil),
        (#""ipAdapterType": "face""#, "sd15", "ipAdapterType"), (#""ipAdapterType": "Style""#, "sd15", "ipAdapterType"),
        (#""scheduler": "FooScheduler""#, "sd15", "scheduler"),
        (#""scheduler": "eulerDiscreteScheduler""#, "sd15", "scheduler"),
        (#""concepts": []"#, "sd15", nil),
        (#""concepts": [{"modelId": "model_x", "scale": 2.01}]"#, "sd15", "concepts"),
    ]

    @Test(arguments: boundaries)
    func boundary(_ fields: String, _ model: String, _ refused: String?) throws {
        let environment = try TestEnvironment.shared()
        let failure = error { try environment.resolve(adding: fields, model: model) }
        if let refused {
            #expect(failure?.status == 400, "\(fields)")
            #expect(failure?.field == refused, "\(fields)")
        } else {
            #expect(failure == nil, "\(fields)")
        }
    }

    /// Values in range are kept exactly, never rounded or clamped.
    @Test func valuesAreKeptAsGiven() throws {
        let resolved = try TestEnvironment.shared().resolve(adding: #"""
            "numSamples": 3, "numInferenceSteps": 7, "guidance": 1.25, "width": 328, "height": 96,
            "controlStart": 0.25, "controlEnd": 0.75, "ipAdapterScale": 0.3, "ipAdapterType": "character",
            "disableModalityDetection": false, "hideResults": true, "intermediateImages": true,
            "negativePrompt": "blurry", "imageHide": true
            """#)
        #expect(resolved.numSamples == 3 && resolved.numInferenceSteps == 7 && resolved.guidance == 1.25)
        #expect(resolved.width == 328 && resolved.height == 96)
        #expect(resolved.controlStart == 0.25 && resolved.controlEnd == 0.75)
        #expect(resolved.ipAdapterScales == [0.3] && resolved.ipAdapter.type == .character)
        #expect(!resolved.disableModalityDetection && resolved.hideResults && resolved.intermediateImages)
        #expect(resolved.negativePrompt == "blurry" && resolved.imageHide)
    }

    @Test func everySchedulerOfTheEnumIsAccepted() throws {
        let environment = try TestEnvironment.shared()
        let names = [
            "DDIMScheduler", "DDPMScheduler", "DEISMultistepScheduler", "DPMSolverMultistepScheduler",
            "DPMSolverSinglestepScheduler", "EulerAncestralDiscreteScheduler", "EulerDiscreteScheduler",
            "HeunDiscreteScheduler", "KDPM2AncestralDiscreteScheduler", "KDPM2DiscreteScheduler", "LCMScheduler",
            "LMSDiscreteScheduler", "PNDMScheduler", "TCDScheduler", "UniPCMultistepScheduler",
        ]
        for name in names {
            #expect(try environment.resolve(adding: #""scheduler": "\#(name)""#).scheduler.rawValue == name)
        }
    }

    /// A concept names a LoRA file of the family's folder; the rest is ConceptsTests'.
    @Test func missingConceptIs404() throws {
        let failure = error { try TestEnvironment.shared().resolve(adding: #""concepts": [{"modelId": "model_x", "scale": 1}]"#) }
        #expect(failure?.status == 404 && failure?.field == "concepts")
        #expect(failure?.message.contains("loras/sd-1_5/model_x.safetensors") == true)
    }

    @Test func warningsListUnknownAndFluxOnlyFields() throws {
        let resolved = try TestEnvironment.shared().resolve(adding: #"""
            "negativePromptStrength": 2, "baseModelId": "flux", "modelEpoch": "000001", "foo": 1, "bar": "x"
            """#)
        #expect(resolved.warnings == [
            "unknown field 'bar' ignored",
            "unknown field 'foo' ignored",
            "negativePromptStrength applies to Flux models only and is ignored",
            "baseModelId applies to Flux models only and is ignored",
            "modelEpoch applies to Flux models only and is ignored",
        ])
    }

    /// Flux-only fields are ignored once within their schema range (RequestGrammarTests checks the range).
    @Test func fluxOnlyFieldsAreNotValidated() throws {
        let resolved = try TestEnvironment.shared().resolve(adding: #""negativePromptStrength": 10"#)
        #expect(resolved.warnings == ["negativePromptStrength applies to Flux models only and is ignored"])
    }

    @Test func negativePromptWithoutGuidanceIsWarned() throws {
        let resolved = try TestEnvironment.shared().resolve(adding: #""negativePrompt": "ugly", "guidance": 1"#)
        #expect(!resolved.doClassifierFreeGuidance)
        #expect(resolved.warnings == ["negativePrompt is ignored: guidance <= 1 turns classifier-free guidance off"])
    }

    @Test func messagesSayTheRule() throws {
        let environment = try TestEnvironment.shared()
        #expect(error { try environment.resolve(adding: #""width": 1020"#) }
            == .badRequest("width must be a multiple of 8 in [64, 1024] for sd-1_5 models, not 1020", field: "width"))
        #expect(error { try environment.resolve(adding: #""numSamples": 0"#) }
            == .badRequest("numSamples must be an integer in [1, 128], not 0", field: "numSamples"))
        #expect(error { try environment.resolve(adding: #""guidance": 20.5"#) }
            == .badRequest("guidance must be in [0, 20], not 20.5", field: "guidance"))
        #expect(error { try environment.resolve(adding: #""ipAdapterScales": [1.5]"#) }
            == .badRequest("ipAdapterScales[0] must be in [0, 1], not 1.5", field: "ipAdapterScales"))
    }

    @Test func modalityDetectionNeedsADetector() throws {
        let environment = try TestEnvironment.shared()
        #expect(error { try environment.resolve(adding: #""disableModalityDetection": false, "modality": "canny,illusion""#) } == nil)
        let failure = error { try environment.resolve(adding: #""disableModalityDetection": false, "modality": "canny,depth""#) }
        #expect(failure?.status == 400 && failure?.field == "disableModalityDetection")
        #expect(failure?.message.contains("'depth'") == true)
        #expect(error { try environment.resolve(adding: #""disableModalityDetection": true, "modality": "depth""#) } == nil)
    }

    @Test func imageParentIdMustExist() throws {
        let environment = try TestEnvironment.shared()
        let resolved = try environment.resolve(adding: #""imageParentId": "\#(environment.controlAsset)""#)
        #expect(resolved.imageParentId == environment.controlAsset)
        #expect(error { try environment.resolve(adding: #""imageParentId": "asset_missing""#) }?.status == 404)
        #expect(error { try environment.resolve(adding: #""imageParentId": "../x""#) }
            == .badRequest("'../x' is not an asset id (asset_ followed by letters, digits, '-' or '_')", field: "imageParentId"))
    }
}
