import DiffusionPipeline
import DiffusionService
import Foundation
import Testing

/// `GenerationRequest(json:)`: the schema's fields, types, unknown fields and `seed`.
@Suite struct RequestDecodingTests {
    /// Every field of the request schema, with the schema's own example values.
    static let fullBody = #"""
    {
      "modelId": "sd15", "prompt": "an illustration of phoenix in a fantasy world, flying over a mountain, 8k, bokeh effect",
      "modality": "canny:0.5,depth:0.5,lines:0.3", "negativePrompt": "((ugly face))",
      "numSamples": 2, "numInferenceSteps": 20, "guidance": 7, "width": 768, "height": 512,
      "scheduler": "EulerAncestralDiscreteScheduler", "seed": "42",
      "controlImage": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVQYV2NgYAAAAAMAAWgmWQ0AAAAASUVORK5CYII=",
      "controlImageId": "asset_GTrL3mq4SXWyMxkOHRxlpw", "image": "asset_GTrL3mq4SXWyMxkOHRxlpw",
      "imageId": "asset_GTrL3mq4SXWyMxkOHRxlpw", "imageParentId": "asset_GTrL3mq4SXWyMxkOHRxlpw", "imageHide": true,
      "controlStart": 0.1, "controlEnd": 0.5, "disableModalityDetection": false,
      "ipAdapterImages": ["data:image/png;base64,AAAA"], "ipAdapterImageIds": ["asset_a", "asset_b"],
      "ipAdapterImage": "data:image/png;base64,BBBB", "ipAdapterImageId": "asset_c",
      "ipAdapterScales": [0.5, 1], "ipAdapterScale": 0.25, "ipAdapterType": "character",
      "hideResults": true, "intermediateImages": true,
      "negativePromptStrength": 3, "baseModelId": "flux.1-dev", "modelEpoch": "000001",
      "concepts": [{"modelId": "model_eyVcnFJcR92BxBkz7N6g5w", "modelEpoch": "000001", "scale": 1.0}]
    }
    """#

    /// The 33 properties of the schema's request object.
    static let schemaFields = [
        "baseModelId", "concepts", "controlEnd", "controlImage", "controlImageId", "controlStart",
        "disableModalityDetection", "guidance", "height", "hideResults", "image", "imageHide", "imageId",
        "imageParentId", "intermediateImages", "ipAdapterImage", "ipAdapterImageId", "ipAdapterImageIds",
        "ipAdapterImages", "ipAdapterScale", "ipAdapterScales", "ipAdapterType", "modality", "modelEpoch", "modelId",
        "negativePrompt", "negativePromptStrength", "numInferenceSteps", "numSamples", "prompt", "scheduler", "seed",
        "width",
    ]

    @Test func decodesEveryFieldOfTheSchema() throws {
        let request = try GenerationRequest(json: Data(Self.fullBody.utf8))
        #expect(request.modelId == "sd15")
        #expect(request.modality == "canny:0.5,depth:0.5,lines:0.3")
        #expect(request.negativePrompt == "((ugly face))")
        #expect(request.numSamples == 2 && request.numInferenceSteps == 20 && request.guidance == 7)
        #expect(request.width == 768 && request.height == 512)
        #expect(request.scheduler == "EulerAncestralDiscreteScheduler" && request.seed == "42")
        #expect(request.controlImage?.hasPrefix("data:image/png;base64,iVBOR") == true)
        #expect(request.controlImageId == "asset_GTrL3mq4SXWyMxkOHRxlpw" && request.image == request.controlImageId)
        #expect(request.imageId == request.controlImageId && request.imageParentId == request.controlImageId)
        #expect(request.imageHide == true && request.disableModalityDetection == false)
        #expect(request.controlStart == 0.1 && request.controlEnd == 0.5)
        #expect(request.ipAdapterImages == ["data:image/png;base64,AAAA"])
        #expect(request.ipAdapterImageIds == ["asset_a", "asset_b"])
        #expect(request.ipAdapterImage == "data:image/png;base64,BBBB" && request.ipAdapterImageId == "asset_c")
        #expect(request.ipAdapterScales == [0.5, 1] && request.ipAdapterScale == 0.25)
        #expect(request.ipAdapterType == "character" && request.hideResults == true && request.intermediateImages == true)
        #expect(request.negativePromptStrength == 3 && request.baseModelId == "flux.1-dev" && request.modelEpoch == "000001")
        #expect(request.concepts == [.init(modelId: "model_eyVcnFJcR92BxBkz7N6g5w", modelEpoch: "000001", scale: 1)])
        #expect(request.unknownFields.isEmpty)
    }

    @Test func encodesExactlyTheSchemaFields() throws {
        let request = try GenerationRequest(json: Data(Self.fullBody.utf8))
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(request)) as? [String: Any])
        #expect(object.keys.sorted() == Self.schemaFields)
    }

    @Test func roundTripsThroughJSON() throws {
        let request = try GenerationRequest(json: Data(Self.fullBody.utf8))
        #expect(try GenerationRequest(json: JSONEncoder().encode(request)) == request)
    }

    @Test func decodesTheSchemaExampleModalities() throws {
        for modality in ["canny", "depth:0.5,pose:1.0", "canny:0.5,depth:0.5,lines:0.3", "landscape", "character:0.5", "illusion:1"] {
            let request = try GenerationRequest(json: Data(body(adding: #""modality": "\#(modality)""#).utf8))
            #expect(request.modality == modality)
        }
    }

    @Test func listsUnknownFieldsSorted() throws {
        let request = try GenerationRequest(json: Data(body(adding: #""zeta": 1, "alpha": {"x": [1]}, "Width": 5"#).utf8))
        #expect(request.unknownFields == ["Width", "alpha", "zeta"])
        #expect(request.width == nil)
    }

    @Test func nullIsAbsent() throws {
        let request = try GenerationRequest(json: Data(body(adding: #""width": null, "seed": null, "concepts": null"#).utf8))
        #expect(request.width == nil && request.seed == nil && request.concepts == nil)
    }

    @Test(arguments: ["modelId", "prompt", "modality"])
    func missingRequiredFieldNamesIt(_ field: String) {
        let failure = error { try GenerationRequest(json: Data(body(adding: #""\#(field)": null"#).utf8)) }
        #expect(failure == .badRequest("\(field) is required", field: field))
    }

    /// A wrong JSON type for each kind of field: 400 naming the field.
    @Test(arguments: [
        (#""modelId": 5"#, "modelId"), (#""prompt": ["a"]"#, "prompt"), (#""modality": {"canny": 1}"#, "modality"),
        (#""width": "512""#, "width"), (#""numSamples": true"#, "numSamples"), (#""guidance": "7.5""#, "guidance"),
        (#""hideResults": "yes""#, "hideResults"), (#""imageHide": 1"#, "imageHide"),
        (#""ipAdapterImages": "data:image/png;base64,AAAA""#, "ipAdapterImages"),
        (#""ipAdapterImageIds": [1, 2]"#, "ipAdapterImageIds"), (#""ipAdapterScales": [0.5, "a"]"#, "ipAdapterScales"),
        (#""ipAdapterScale": [0.5]"#, "ipAdapterScale"), (#""concepts": [{"scale": 1}]"#, "concepts"),
        (#""concepts": {"modelId": "m", "scale": 1}"#, "concepts"), (#""scheduler": 3"#, "scheduler"),
        (#""disableModalityDetection": "false""#, "disableModalityDetection"), (#""controlEnd": [1]"#, "controlEnd"),
        (#""negativePromptStrength": "high""#, "negativePromptStrength"), (#""seed": true"#, "seed"),
        (#""seed": 1.5"#, "seed"), (#""seed": -1"#, "seed"), (#""seed": [1]"#, "seed"),
    ])
    func wrongTypeNamesTheField(_ member: String, _ field: String) {
        let failure = error { try GenerationRequest(json: Data(body(adding: member).utf8)) }
        #expect(failure?.status == 400)
        #expect(failure?.field == field)
    }

    /// Numbers the decoder cannot hold lose their path in Foundation's errors; the field is
    /// still named.
    @Test func hugeNumbersNameTheField() {
        let width = error { try GenerationRequest(json: Data(#"{"modelId": "m", "prompt": "", "modality": "canny", "width": 1e400}"#.utf8)) }
        #expect(width?.field == "width")
        let seed = error { try GenerationRequest(json: Data(#"{"modelId": "m", "prompt": "", "modality": "canny", "seed": 18446744073709551616}"#.utf8)) }
        #expect(seed?.status == 400 && seed?.field == "seed")
    }

    @Test func seedIsAStringOrANumber() throws {
        let decode = { (seed: String) in try GenerationRequest(json: Data(#"{"modelId": "m", "prompt": "", "modality": "canny", "seed": \#(seed)}"#.utf8)).seed }
        #expect(try decode(#""42""#) == "42")
        #expect(try decode("42") == "42")
        #expect(try decode("0") == "0")
        #expect(try decode("18446744073709551615") == "18446744073709551615")
        // Out-of-range strings are kept as sent; validation refuses them (ValidationTests).
        #expect(try decode(#""18446744073709551616""#) == "18446744073709551616")
    }

    @Test func bodyThatIsNoJSONObjectIsRefused() {
        #expect(error { try GenerationRequest(json: Data("{".utf8)) } == .badRequest("the request body is not valid JSON"))
        #expect(error { try GenerationRequest(json: Data("".utf8)) } == .badRequest("the request body is not valid JSON"))
        #expect(error { try GenerationRequest(json: Data("[1]".utf8)) } == .badRequest("the request body must be a JSON object"))
        #expect(error { try GenerationRequest(json: Data("\"x\"".utf8)) } == .badRequest("the request body must be a JSON object"))
    }
}
