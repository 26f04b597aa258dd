import Foundation

/// `GET /openapi.json`: the routes of this server in OpenAPI 3. The request body, the job and
/// the asset objects are those of the endpoint's own schemas, named here by their fields.
enum OpenAPIDocument {
    struct Document: Encodable {
        var openapi = "3.0.3"
        var info = ["title": "diffuse serve", "version": "1",
                    "description": "Stable Diffusion ControlNet + IP-Adapter generation as jobs, and the assets they use and make."]
        var security = [["basic": [String]()]]
        var components = ["securitySchemes": ["basic": ["type": "http", "scheme": "basic",
                                                         "description": "An API key as the user name, its secret as the password."]]]
        var paths: [String: [String: Operation]]
    }

    struct Operation: Encodable {
        var summary: String
        var parameters: [Parameter]?
        var requestBody: Body?
        var responses: [String: Response]
        var security: [[String: [String]]]?
    }

    struct Parameter: Encodable {
        var name: String
        var `in`: String
        var required: Bool
        var schema = ["type": "string"]
    }

    struct Body: Encodable {
        var required = true
        var content: [String: [String: [String: String]]]
    }

    struct Response: Encodable {
        var description: String
    }

    private static func path(_ name: String) -> Parameter { Parameter(name: name, in: "path", required: true) }
    private static func query(_ name: String) -> Parameter { Parameter(name: name, in: "query", required: false) }
    private static let json = Body(content: ["application/json": ["schema": ["type": "object"]]])
    private static let errors: [String: Response] = [
        "400": Response(description: "The request is malformed: {\"error\": {\"status\", \"message\", \"field\"}}"),
        "401": Response(description: "Missing or invalid credentials"),
        "404": Response(description: "No such job, asset or model"),
    ]

    private static func operation(
        _ summary: String, parameters: [Parameter]? = nil, body: Body? = nil, ok: String, open: Bool = false,
        extra: [String: Response] = [:]
    ) -> Operation {
        Operation(
            summary: summary, parameters: parameters, requestBody: body,
            responses: errors.merging(extra) { $1 }.merging(["200": Response(description: ok)]) { $1 },
            security: open ? [] : nil)
    }

    static let document = Document(paths: [
        "/generate/controlnet-ip-adapter": ["post": operation(
            "Queue a generation (the body of controlnet-ip-adapter.openapi.json)", body: json,
            ok: "{\"job\": {status: queued, progress: 0, ...}, \"inference\": {...}, \"warnings\": [...]}",
            extra: ["413": Response(description: "The body is over 50 MB"), "429": Response(description: "The queue is full")])],
        "/jobs/{jobId}": ["get": operation(
            "A job's status and progress; metadata.assetIds on success, error on failure", parameters: [path("jobId")],
            ok: "{\"job\": {jobId, status, progress, statusHistory, metadata: {assetIds, output: {intermediateImages}}, error}}")],
        "/jobs/{jobId}/cancel": ["post": operation(
            "Cancel a job: at once when queued, within one step when running; it stores nothing", parameters: [path("jobId")],
            ok: "{\"job\": {...}}")],
        "/assets": [
            "get": operation(
                "The visible assets, a page at a time", parameters: ["pageSize", "paginationToken", "sortDirection", "originalAssets"].map(query),
                ok: "{\"assets\": [...], \"nextPaginationToken\": \"...\"}"),
            "post": operation("Upload an image: {\"image\": data URL, \"name\", \"hide\", \"parentId\"}", body: json, ok: "{\"asset\": {...}}"),
            "delete": operation("Delete assets: {\"assetIds\": [...]}", body: json, ok: "{}"),
        ],
        "/assets/{assetId}": [
            "get": operation("An asset's details; url serves its image", parameters: [path("assetId"), query("originalAssets")],
                             ok: "{\"asset\": {...}}"),
            "put": operation("Rename an asset: {\"name\"}", parameters: [path("assetId")], body: json, ok: "{\"asset\": {...}}"),
        ],
        "/assets/{assetId}/image": ["get": operation("The image bytes, with their content type", parameters: [path("assetId")],
                                                     ok: "The image")],
        "/models": ["get": operation(
            "What a request may name: models (id, family, defaultScheduler) and per family the modalities and presets "
                + "(installed, detection), ipAdapterTypes, loras, minSize, maxSize, defaultGuidance; the schedulers",
            ok: "{\"models\": [...], \"families\": [...], \"schedulers\": [...]}")],
        "/detect": ["post": operation(
            "The map a modality's detector makes of a control image: {\"image\": data URL, or \"imageId\", \"modality\", \"width\", \"height\"}",
            body: json, ok: "The map as a PNG")],
        "/": ["get": operation("The web page (HTML; its page.css and page.js beside it)", ok: "The page", open: true)],
        "/health": ["get": operation("The server and its queue: {\"status\": \"ok\", \"jobs\": {status: count}}", ok: "Up", open: true)],
        "/openapi.json": ["get": operation("This document", ok: "OpenAPI 3", open: true)],
    ])
}
