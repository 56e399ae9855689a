import Foundation
import Hummingbird

/// A 200 response with a body already encoded (JSON unless `type` says otherwise).
public func json<Body: Sequence<UInt8>>(_ body: Body, type: String = "application/json") -> Response {
    Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: body)))
}

/// An RFC 9457 problem-details response, as every service answers errors.
public func problem(_ status: HTTPResponse.Status, _ title: String, _ detail: String, retryAfterSeconds: Int? = nil) -> Response {
    let body = try! JSONSerialization.data(
        withJSONObject: ["type": "about:blank", "title": title, "status": status.code, "detail": detail],
        options: [.sortedKeys])
    var response = Response(status: status, headers: [.contentType: "application/problem+json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    if let retryAfterSeconds { response.headers[.retryAfter] = String(retryAfterSeconds) }
    return response
}

/// Answers every error a handler or the router throws (an unknown path, a wrong method, a body too large)
/// as problem details too, instead of the framework's plain-text responses.
struct ProblemDetailsMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPResponseError {
            let detail = (error as? HTTPError)?.body ?? "\(request.method) \(request.uri.path): \(error.status.reasonPhrase.lowercased())"
            var response = problem(error.status, error.status.reasonPhrase, detail)
            for field in (error as? HTTPError)?.headers ?? [:] where field.name != .contentType && field.name != .contentLength {
                response.headers.append(field)
            }
            return response
        } catch {
            context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return problem(.internalServerError, "Internal Server Error", "The request failed; the service log has the reason.")
        }
    }
}
