import DiffusionService
import Foundation
import Hummingbird

/// Responses with a JSON body, and errors as the endpoint writes them.
enum JSONResponse {
    /// `value` encoded as JSON with `status`.
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `{"error": {"status": ..., "message": ..., "field": ...}}` with the error's status: the
    /// body `diffuse generate` prints for the same error.
    static func error(_ error: GenerationError) -> Response {
        let status = HTTPResponse.Status(code: error.status)
        return (try? make(error, status: status)) ?? Response(status: status)
    }
}

/// Turns every error a route throws into the endpoint's error JSON: `GenerationError` keeps
/// its status, Hummingbird's HTTP errors (413 body too large, 404 no such route) theirs, and
/// anything else is a 500.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as GenerationError {
            return JSONResponse.error(error)
        } catch let error as any HTTPResponseError {
            let status = error.status
            let message = status == .contentTooLarge ? "the request body is larger than the server accepts" : status.reasonPhrase
            return JSONResponse.error(GenerationError(status: status.code, message: message))
        } catch {
            context.logger.error("\(request.method) \(request.uri.path): \(error)")
            return JSONResponse.error(.internalError(String(describing: error)))
        }
    }
}

/// HTTP Basic with an API key and its secret on every route but the open ones; without valid
/// credentials the answer is 401 and the route does not run. With no keys configured
/// (allowed on loopback only) every request passes.
struct AuthenticationMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: APIKeys
    /// Paths served without credentials (the health check, the API description).
    let openPaths: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if keys.isEmpty || openPaths.contains(request.uri.path) || keys.accepts(authorization: request.headers[.authorization]) {
            return try await next(request, context)
        }
        var response = JSONResponse.error(GenerationError(
            status: 401, message: "missing or invalid credentials: use HTTP Basic with an API key and its secret"))
        response.headers[.wwwAuthenticate] = "Basic realm=\"diffuse\""
        return response
    }
}
