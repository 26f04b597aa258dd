import Foundation

extension GenerationResponse {
    /// The response's `inference`: the resolved parameters (defaults filled in, the seed and
    /// scheduler used), named as in the response schema. Inputs are reported as assets: the
    /// `*Id` fields hold asset ids, the others the assets' file URLs (the API's "signed URL").
    public struct Inference: Codable, Equatable, Sendable {
        /// The asset ids of a generation's input images.
        public struct InputAssets: Equatable, Sendable {
            public var controlImage: String
            /// One per IP-Adapter image, in request order.
            public var ipAdapterImages: [String]

            public init(controlImage: String, ipAdapterImages: [String]) {
                self.controlImage = controlImage
                self.ipAdapterImages = ipAdapterImages
            }

            /// The inputs of a job that stored nothing: the asset ids the request gave, and an
            /// empty id for each image sent as a data URL.
            public static func given(_ request: ResolvedRequest) -> InputAssets {
                InputAssets(
                    controlImage: request.controlImage.assetId ?? "",
                    ipAdapterImages: request.ipAdapterImages.map { $0.assetId ?? "" })
            }
        }

        /// Always `controlnet_ip_adapter`.
        public var type: String
        public var prompt: String
        public var negativePrompt: String?
        /// The first ControlNet's modality name: the schema's enum holds bare names only, so the
        /// full `name:scale` list (presets expanded) is in each image's sidecar (Docs/REQUEST.md).
        public var modality: String
        /// The seed of sample 0, as a decimal string.
        public var seed: String
        public var scheduler: String
        public var guidance: Double
        public var numInferenceSteps: Int
        public var numSamples: Int
        public var width: Int
        public var height: Int
        public var controlStart: Double
        public var controlEnd: Double
        public var disableModalityDetection: Bool
        public var image: String
        public var imageId: String
        public var ipAdapterType: String
        /// The single image's URL and id, when there is one image.
        public var ipAdapterImage: String?
        public var ipAdapterImageId: String?
        public var ipAdapterImages: [String]
        public var ipAdapterImageIds: [String]
        /// The scale shared by every image, when there is one image.
        public var ipAdapterScale: Double?
        public var ipAdapterScales: [Double]
        public var hideResults: Bool
        public var intermediateImages: Bool

        public init(_ request: ResolvedRequest, inputAssets: InputAssets, assets: AssetStore) {
            let url = { (id: String) in id.isEmpty ? "" : assets.imageURL(id).absoluteString }
            let single = inputAssets.ipAdapterImages.count == 1
            type = "controlnet_ip_adapter"
            prompt = request.prompt
            negativePrompt = request.negativePrompt
            modality = request.controlNets.first?.modality.name ?? ""
            seed = String(request.seed)
            scheduler = request.scheduler.rawValue
            guidance = request.guidance
            numInferenceSteps = request.numInferenceSteps
            numSamples = request.numSamples
            width = request.width
            height = request.height
            controlStart = request.controlStart
            controlEnd = request.controlEnd
            disableModalityDetection = request.disableModalityDetection
            image = url(inputAssets.controlImage)
            imageId = inputAssets.controlImage
            ipAdapterType = request.ipAdapter.type.rawValue
            ipAdapterImage = single ? url(inputAssets.ipAdapterImages[0]) : nil
            ipAdapterImageId = single ? inputAssets.ipAdapterImages[0] : nil
            ipAdapterImages = inputAssets.ipAdapterImages.map(url)
            ipAdapterImageIds = inputAssets.ipAdapterImages
            ipAdapterScale = single ? request.ipAdapterScales.first : nil
            ipAdapterScales = request.ipAdapterScales
            hideResults = request.hideResults
            intermediateImages = request.intermediateImages
        }
    }
}
