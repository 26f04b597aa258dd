extension AssetMetadata {
    /// The metadata of sample `index` of a generation, or of its preview after `step`
    /// (`intermediateImages`): the resolved parameters and the sample's own seed. `type` is
    /// the API's asset type for this endpoint; `parentId` is typically the control image's asset.
    public init(request: ResolvedRequest, sample index: Int, step: Int? = nil, parentId: String? = nil) {
        self.init(type: "inference-controlnet-ip-adapter", parentId: parentId)
        modelId = request.model.id
        seed = String(request.seed(ofSample: index))
        prompt = request.prompt
        negativePrompt = request.negativePrompt
        modality = request.modality
        guidance = request.guidance
        numInferenceSteps = request.numInferenceSteps
        scheduler = request.scheduler.rawValue
        width = request.width
        height = request.height
        controlStart = request.controlStart
        controlEnd = request.controlEnd
        ipAdapterType = request.ipAdapter.type.rawValue
        ipAdapterScales = request.ipAdapterScales
        self.step = step
    }
}
